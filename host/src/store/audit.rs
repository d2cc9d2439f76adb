//! The audit log: who did what, when. Store methods that change data write their entry in the
//! same transaction; the workflow adds its own events with [`Store::record`].

use super::{Store, StoreError, UserId, now_secs};
use rusqlite::{Connection, params};

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Sequence.
    pub id: i64,
    /// Host time, seconds since the Unix epoch.
    pub at: i64,
    /// Who (none before initialization or for system actions).
    pub user: Option<UserId>,
    /// What, as a short stable word (`user.add`, `invoice.void`, ...).
    pub action: String,
    /// Details.
    pub detail: String,
}

/// Writes one entry on `conn` (normally inside the caller's transaction).
pub(crate) fn write(
    conn: &Connection,
    user: Option<UserId>,
    action: &str,
    detail: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO audit (at, user_id, action, detail) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![now_secs(), user.map(|u| u.0), action, detail])?;
    Ok(())
}

impl Store {
    /// Records a workflow event (issue, upload, copy-tax...) in the audit log.
    pub fn record(
        &mut self,
        user: Option<UserId>,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        write(&self.conn, user, action, detail)
    }

    /// The newest `limit` audit entries, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at, user_id, action, detail FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                user: r.get::<_, Option<i64>>(2)?.map(UserId),
                action: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
