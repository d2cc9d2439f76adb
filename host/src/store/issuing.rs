//! What every issuing call reads before it records anything (H8): the company data (the
//! seller, H1), the issuer's permissions (H3) and whether buyers are saved automatically
//! (H5), read in one read transaction.
//!
//! Read as separate auto-commit statements these were five transactions per call, each
//! taking and dropping the WAL's read lock (about four `fcntl` each); one invoice per call
//! waited on them (BENCHMARKS.md "2026-12-06 (f)" and "2026-12-07 (i)"). In one read
//! transaction they still took about 16 µs of a call of one invoice ("2026-12-07 (m)"): what
//! was read is now kept with the configuration version (schema v6: triggers move it on every
//! change of the company, bank accounts, users, permissions or settings, by any connection or
//! process), and a call whose version has not moved reads that one row. A change made between
//! two calls, by this connection or by another process, is seen by the next call as before.

use super::tx::Tx;
use super::users::{Action, Role, permission_denied};
use super::{Company, Store, StoreError, UserId};
use taxdisk_protocol::types::InvoiceKind;

/// The statement reading a user's permissions (its plan is checked by the store's tests:
/// the permissions table's primary key, never a scan).
pub const USER_PERMISSIONS_SQL: &str = "SELECT kind, action FROM permissions WHERE user_id = ?1";

/// A user's permissions (H3) as read at the start of an issuing call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    admin: bool,
    granted: Vec<(u8, String)>,
}

impl Permissions {
    /// H3: whether the user may do `action` on `kind` (the administrator may do everything);
    /// the same answer as [`Store::can`] when read.
    pub fn allows(&self, kind: InvoiceKind, action: Action) -> bool {
        self.admin
            || self
                .granted
                .iter()
                .any(|(k, a)| *k == kind.number() && a == action.as_str())
    }

    /// H3: like [`Permissions::allows`], but the refusal of [`Store::require`].
    pub fn require(&self, kind: InvoiceKind, action: Action) -> Result<(), StoreError> {
        if self.allows(kind, action) {
            Ok(())
        } else {
            Err(permission_denied(kind, action))
        }
    }
}

/// What an issuing call reads of the store before it records anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuingContext {
    /// The company data (H1).
    pub company: Company,
    /// The issuer's permissions (H3).
    pub permissions: Permissions,
    /// Whether buyers are saved to the customers automatically (H5,
    /// [`Store::auto_save_buyers`]).
    pub auto_save_buyers: bool,
}

impl Store {
    /// H1, H3, H5: the company data, `user`'s permissions and the automatic buyer saving, read
    /// from one snapshot in one read transaction.
    pub fn issuing_context(&self, user: UserId) -> Result<IssuingContext, StoreError> {
        // Configuration, not invoices: no wait for deferred issuing records.
        let version = config_version(self.conn.raw())?;
        if let Some((v, u, c)) = &*self.context.borrow()
            && *v == version
            && *u == user
        {
            return Ok(c.clone());
        }
        let tx = Tx::read(self.conn.raw())?;
        let version = config_version(&tx)?;
        let company = self.company()?;
        let admin = self.user(user)?.role == Role::Admin;
        let granted = if admin {
            Vec::new()
        } else {
            tx.prepare_cached(USER_PERMISSIONS_SQL)?
                .query_map([user.0], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        let auto_save_buyers = self.auto_save_buyers()?;
        tx.commit()?;
        let context = IssuingContext {
            company,
            permissions: Permissions { admin, granted },
            auto_save_buyers,
        };
        *self.context.borrow_mut() = Some((version, user, context.clone()));
        Ok(context)
    }
}

/// The configuration version (schema v6): it moves on every change of what
/// [`Store::issuing_context`] reads.
fn config_version(conn: &rusqlite::Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT version FROM config_version WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}
