//! Rolls (发票领用管理, H13, FAQ 4.4-4.8, 4.20, 4.21): bought at the bureau and read into the
//! disk online, or read from a medium file the tax office wrote; returned (the unused rest,
//! with the disk's signed receipt handed to the bureau).

use super::errors::WorkflowError;
use super::period::read_medium;
use super::{SETTING_BUREAU_KEY, SETTING_GRANT_SEQ, Workflow};
use crate::store::IntentOp;
use std::path::Path;
use taxdisk_i18n::t;
use taxdisk_protocol::WireError;
use taxdisk_protocol::bureau_api::BuyRolls;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::{
    InvoiceCode, InvoiceKind, InvoiceNumber, PublicKey, RequestId, Roll, RollGrant,
    RollReturnReceipt, Signed,
};

/// A returned roll: the disk's signed receipt and whether the bureau took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollReturn {
    /// The disk-signed receipt (to take to the tax office when not handed in online).
    pub receipt: Signed<RollReturnReceipt>,
    /// Whether the bureau received it.
    pub handed_in: bool,
    /// Why not, when not.
    pub note: Option<String>,
}

impl RollReturn {
    /// The return in words, in the process's language (D4, FAQ 4.20): the numbers returned
    /// with the disk's receipt, then what became of the receipt at the bureau. The one
    /// wording of a roll return, for `rolls return` and for a return finished at login.
    pub fn lines(&self) -> [String; 2] {
        let b = &self.receipt.body;
        let last = b.first.get().saturating_add(b.count.saturating_sub(1));
        let returned = t!(
            "out-roll-returned",
            kind = crate::l10n::kind_name(b.kind),
            code = b.code,
            first = format!("{:08}", b.first.get()),
            last = format!("{last:08}"),
            count = b.count,
            time = b.time,
            serial = b.serial
        );
        let receipt = match (self.handed_in, &self.note) {
            (true, _) => t!("out-receipt-accepted"),
            (false, Some(why)) => t!("out-receipt-not-received-why", why = why),
            (false, None) => t!("out-receipt-not-received"),
        };
        [returned, receipt]
    }
}

impl Workflow {
    /// H13: buys `count` numbers of `kind` at the bureau (B2) and reads the grants into the
    /// disk at once (读入新购发票, online), with any bought earlier and not read yet. Answers
    /// every roll loaded.
    pub fn buy_rolls(&mut self, kind: InvoiceKind, count: u32) -> Result<Vec<Roll>, WorkflowError> {
        self.require_user("buying rolls")?;
        let bureau = self.require_bureau("buying rolls")?.clone();
        let serial = self.serial()?;
        let after = self.seq_setting(SETTING_GRANT_SEQ)?;
        let bought = bureau.buy_rolls(&BuyRolls {
            serial: serial.clone(),
            kind,
            count,
        })?;
        // Grants bought earlier at the window and not read yet come first: the disk takes
        // grants in sequence order only (D4).
        let grants = match bureau.grants(&serial, after) {
            Ok(all) if bought.iter().all(|b| all.contains(b)) => all,
            _ => bought,
        };
        self.load_grants(grants)
    }

    /// H13 (FAQ 4.4, 4.8): reads every roll granted at the bureau and not yet loaded.
    pub fn read_rolls_online(&mut self) -> Result<Vec<Roll>, WorkflowError> {
        self.require_user("reading rolls")?;
        let bureau = self.require_bureau("reading rolls online")?.clone();
        let serial = self.serial()?;
        let after = self.seq_setting(SETTING_GRANT_SEQ)?;
        let grants = bureau.grants(&serial, after)?;
        self.load_grants(grants)
    }

    /// H13 (FAQ 4.4): reads rolls from a medium file: the JSON of one `Signed<RollGrant>` or a
    /// list of them, as the tax office writes it. Untrusted input: a bad file is an error and
    /// loads nothing (every grant is checked against the bureau key kept at initialization
    /// first); the disk checks every grant's signature and serial again (D4).
    pub fn read_rolls_from_file(&mut self, path: &Path) -> Result<Vec<Roll>, WorkflowError> {
        self.require_user("reading rolls")?;
        let bytes = read_medium(path)?;
        let grants: Vec<Signed<RollGrant>> = match serde_json::from_slice(&bytes) {
            Ok(list) => list,
            Err(_) => match serde_json::from_slice::<Signed<RollGrant>>(&bytes) {
                Ok(one) => vec![one],
                Err(e) => {
                    return Err(WorkflowError::Medium {
                        path: path.to_path_buf(),
                        problem: format!("not a roll grant (Signed<RollGrant> JSON): {e}"),
                        rule: "H13, FAQ 4.4",
                    });
                }
            },
        };
        if grants.is_empty() {
            return Err(WorkflowError::Medium {
                path: path.to_path_buf(),
                problem: "holds no roll grant".into(),
                rule: "H13, FAQ 4.4",
            });
        }
        // With the bureau's key known (H1), every grant is checked before any reaches the
        // disk, so a file with one forged grant loads nothing.
        if let Some(vk) = self
            .store
            .setting(SETTING_BUREAU_KEY)?
            .and_then(|h| hex::decode(h.trim()).ok())
            .and_then(|b| PublicKey::from_sec1(&b))
            .and_then(|pk| sign::verifying_key(&pk).ok())
            && let Some(g) = grants.iter().find(|g| g.verify(&vk).is_err())
        {
            return Err(WorkflowError::Medium {
                path: path.to_path_buf(),
                problem: format!(
                    "the grant of roll {} {} is not signed by the tax bureau; nothing was read",
                    g.body.code, g.body.first
                ),
                rule: "D4, FAQ 4.4",
            });
        }
        let serial = self.serial()?;
        if let Some(g) = grants.iter().find(|g| g.body.serial != serial) {
            return Err(WorkflowError::Medium {
                path: path.to_path_buf(),
                problem: format!(
                    "the grant of roll {} is for disk {}, this is disk {serial}",
                    g.body.code, g.body.serial
                ),
                rule: "D4, FAQ 4.4",
            });
        }
        self.load_grants(grants)
    }

    /// Loads grants in sequence order; grants the disk already holds (replayed) are skipped.
    fn load_grants(
        &mut self,
        mut grants: Vec<Signed<RollGrant>>,
    ) -> Result<Vec<Roll>, WorkflowError> {
        let user = self.require_user("reading rolls")?;
        grants.sort_by_key(|g| g.body.seq);
        let mut loaded = Vec::with_capacity(grants.len());
        let mut newest = self.seq_setting(SETTING_GRANT_SEQ)?;
        for g in grants {
            let seq = g.body.seq;
            match self.disk.load_roll(g) {
                Ok(r) => loaded.push(r),
                Err(e) if e.wire_error() == Some(WireError::Replayed) => {}
                Err(e) => {
                    self.store
                        .set_setting(user.id, SETTING_GRANT_SEQ, &newest.to_string())?;
                    return Err(e.into());
                }
            }
            newest = newest.max(seq);
        }
        self.store
            .set_setting(user.id, SETTING_GRANT_SEQ, &newest.to_string())?;
        Ok(loaded)
    }

    /// H13 (FAQ 4.5, 4.20, 4.21): returns the unused rest of a roll. The disk refuses when
    /// locked and from the first day of a month until the bureau's receipt of the last
    /// month's summary is on it (D4: [`WorkflowError::ReturnBeforeReport`]); the disk's signed
    /// receipt is handed to the bureau when reachable, else kept for the tax office.
    pub fn return_roll(
        &mut self,
        kind: InvoiceKind,
        code: &InvoiceCode,
        first: InvoiceNumber,
    ) -> Result<RollReturn, WorkflowError> {
        self.require_user("returning a roll")?;
        // Written down before it is sent: a lost answer is sent again at the next login under
        // the same id (`intents`), which answers the receipt of the one return.
        let op = IntentOp::ReturnRoll {
            kind,
            code: code.clone(),
            first,
        };
        self.run_intent(op, |wf, id| wf.return_roll_with_id(id, kind, code, first))
    }

    /// [`return_roll`](Self::return_roll) under a request id chosen by the caller: sent again
    /// with the same id after its answer was lost (a power cut of the disk included), it
    /// answers the same receipt and returns nothing more (D4).
    pub fn return_roll_with_id(
        &mut self,
        request_id: RequestId,
        kind: InvoiceKind,
        code: &InvoiceCode,
        first: InvoiceNumber,
    ) -> Result<RollReturn, WorkflowError> {
        self.require_user("returning a roll")?;
        let receipt = match self.disk.return_roll_with_id(request_id, kind, code, first) {
            Ok(r) => r,
            Err(e) if e.wire_error() == Some(WireError::ReturnBeforeReport) => {
                let period = self.refresh_info()?.time.period().prev();
                return Err(WorkflowError::ReturnBeforeReport { period });
            }
            Err(e) => return Err(e.into()),
        };
        let (handed_in, note) = match &self.bureau {
            None => (
                false,
                Some("no bureau address: take the receipt to the tax office".into()),
            ),
            Some(b) => match b.return_roll(&receipt) {
                Ok(()) => (true, None),
                Err(e) => (false, Some(e.to_string())),
            },
        };
        Ok(RollReturn {
            receipt,
            handed_in,
            note,
        })
    }

    /// H13 (FAQ 4.6): the rolls on the disk (of `kind`, or all), oldest first.
    pub fn rolls(&mut self, kind: Option<InvoiceKind>) -> Result<Vec<Roll>, WorkflowError> {
        Ok(self.disk.list_rolls(kind)?)
    }
}
