//! Changes sent to the disk whose answer may have been lost (D4, D7, D11): a blank void, a roll
//! or an oil return is written here with its request id before the first send, and removed once its
//! outcome is known. One whose link was cut, whose disk lost its power or whose process was
//! killed stays, and the next session sends it again under the same id: the disk answers what
//! it did the first time, or does it now, never twice (`host::workflow::intents`).

use super::audit;
use super::{Store, StoreError, UserId, now_secs};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use taxdisk_protocol::types::{InvoiceCode, InvoiceKind, InvoiceNumber, OilStockEntry, RequestId};

/// What was asked of the disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntentOp {
    /// Void the next `count` blank numbers of `kind` (FAQ 5.2, D7).
    BlankVoid {
        /// The stock's kind.
        kind: InvoiceKind,
        /// How many numbers.
        count: u32,
    },
    /// Return the unused rest of a roll from `first` (FAQ 4.20, D4).
    ReturnRoll {
        /// The roll's kind.
        kind: InvoiceKind,
        /// The roll's code.
        code: InvoiceCode,
        /// The first number returned.
        first: InvoiceNumber,
    },
    /// Return refined-oil stock to the bureau (FAQ 8.5(1), D11).
    ReturnOil {
        /// Category, unit and quantity returned.
        stock: OilStockEntry,
    },
}

/// One change whose outcome is not known yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    /// The request id the disk answers to.
    pub request_id: RequestId,
    /// What was asked.
    pub op: IntentOp,
    /// Host time it was first sent (seconds).
    pub created_at: i64,
}

impl Store {
    /// Writes `op` under `request_id` before it is sent.
    pub fn add_intent(
        &mut self,
        actor: UserId,
        request_id: RequestId,
        op: &IntentOp,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(op).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO intents (request_id, op, created_at, created_by) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![request_id.as_slice(), text, now_secs(), actor.0])?;
        audit::write(&tx, Some(actor), "intent", &text)?;
        tx.commit()?;
        Ok(())
    }

    /// The changes whose outcome is not known, oldest first.
    pub fn intents(&self) -> Result<Vec<Intent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT request_id, op, created_at FROM intents ORDER BY created_at")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, op, created_at) = row?;
            let bad = |what: &str| StoreError::Corrupt(format!("intent: {what}"));
            out.push(Intent {
                request_id: id.as_slice().try_into().map_err(|_| bad("request id"))?,
                op: serde_json::from_str(&op).map_err(|e| bad(&e.to_string()))?,
                created_at,
            });
        }
        Ok(out)
    }

    /// Removes the change sent under `request_id`: its outcome is known.
    pub fn drop_intent(&mut self, request_id: &RequestId) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM intents WHERE request_id = ?1")?
            .execute([request_id.as_slice()])?;
        Ok(())
    }
}
