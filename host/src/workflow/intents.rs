//! Exactly once across processes (D4, D7, D11): a blank void, a roll or an oil return is written to the
//! store with its request id before it is sent ([`crate::store::intents`]). When its answer is
//! lost (the link cut, the disk's power cut, the process killed), the next login sends it again
//! under the same id: the disk answers what it did the first time, or does it now, and says so
//! in one line. Running the command again by hand would have voided or returned twice.

use super::Workflow;
use super::errors::WorkflowError;
use super::session::LoginReport;
use crate::disk::{DiskError, new_request_id};
use crate::l10n::{Localize, kind_name};
use crate::store::IntentOp;
use taxdisk_i18n::t;
use taxdisk_protocol::WireError;
use taxdisk_protocol::types::RequestId;

/// Whether the change may have been carried out although no answer says so: the send may
/// have reached the disk (no answer, corrupted answers, a cut link), or a resend was refused
/// for a reason a power cut explains (the session it ran in is gone).
pub fn outcome_unknown(e: &WorkflowError) -> bool {
    match e {
        WorkflowError::Disk(d) => match d {
            DiskError::Refused { error, .. } => *error == WireError::NotLoggedIn,
            DiskError::Busy { .. } => false,
            _ => true,
        },
        _ => false,
    }
}

impl Workflow {
    /// Runs `send` under a fresh request id written down as `op` first; the record goes once
    /// the outcome is known (done, or refused), and stays for the next login when it is not.
    pub(crate) fn run_intent<T>(
        &mut self,
        op: IntentOp,
        send: impl FnOnce(&mut Workflow, RequestId) -> Result<T, WorkflowError>,
    ) -> Result<T, WorkflowError> {
        let user = self.require_user("a disk change")?;
        let id = new_request_id();
        self.store.add_intent(user.id, id, &op)?;
        let r = send(self, id);
        match r {
            Err(e) if outcome_unknown(&e) => Err(WorkflowError::rule(
                describe(&op),
                t!("intent-answer-lost", error = e.localized()),
                "D7, D13",
            )),
            r => {
                self.store.drop_intent(&id)?;
                r
            }
        }
    }

    /// At login: sends again every change whose answer was lost, under its own id, and says
    /// what came of each in the login report. Stops at the first whose outcome is still not
    /// known (the link is still bad): it is tried again at the next login.
    pub(crate) fn finish_intents(&mut self, report: &mut LoginReport) -> Result<(), WorkflowError> {
        for it in self.store.intents()? {
            let what = describe(&it.op);
            let r = match &it.op {
                IntentOp::BlankVoid { kind, count } => {
                    self.send_blank_void(it.request_id, *kind, *count).map(|b| {
                        let last = b.first.get().saturating_add(b.count.saturating_sub(1));
                        t!(
                            "intent-blank-voided",
                            first = format!("{:08}", b.first.get()),
                            last = format!("{last:08}"),
                            code = b.code
                        )
                    })
                }
                IntentOp::ReturnRoll { kind, code, first } => self
                    .return_roll_with_id(it.request_id, *kind, code, *first)
                    .map(|r| r.lines().join("; ")),
                IntentOp::ReturnOil { stock } => self
                    .oil_return_with_id(it.request_id, *stock)
                    .map(|()| t!("intent-oil-returned")),
            };
            match r {
                Ok(done) => {
                    self.store.drop_intent(&it.request_id)?;
                    report
                        .notes
                        .push(t!("note-intent-done", what = what, done = done));
                }
                Err(e) if outcome_unknown(&e) => {
                    report.notes.push(t!(
                        "note-intent-unknown",
                        what = what,
                        error = e.localized()
                    ));
                    break;
                }
                Err(e) => {
                    self.store.drop_intent(&it.request_id)?;
                    report.notes.push(t!(
                        "note-intent-not-done",
                        what = what,
                        error = e.localized()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The change in words, in the process's language, for the login's lines and the error of a
/// change whose answer was lost.
fn describe(op: &IntentOp) -> String {
    match op {
        IntentOp::BlankVoid { kind, count } => {
            t!("intent-blank-void", count = count, kind = kind_name(*kind))
        }
        IntentOp::ReturnRoll { kind, code, first } => t!(
            "intent-return-roll",
            kind = kind_name(*kind),
            code = code,
            first = format!("{:08}", first.get())
        ),
        IntentOp::ReturnOil { stock } => t!(
            "intent-return-oil",
            quantity = stock.milli_quantity,
            category = stock.category
        ),
    }
}
