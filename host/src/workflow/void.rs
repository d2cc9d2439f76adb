//! Voids (作废, H9, FAQ 5.1-5.8): several issued invoices at once, only by their issuer or the
//! administrator, only of the current unreported period and paper kinds (D7, checked by the
//! disk, with clear messages first from the host); blank voids of the next N numbers (FAQ 5.2,
//! 5.3). Void events are uploaded like invoices (FAQ 5.6).

use super::Workflow;
use super::errors::WorkflowError;
use crate::store::{Action, IntentOp, InvoiceId, InvoiceState, Role, StoredInvoice};
use taxdisk_protocol::WireError;
use taxdisk_protocol::command::InvoiceRef;
use taxdisk_protocol::types::{InvoiceCode, InvoiceKind, InvoiceNumber, RequestId};

/// A voided invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voided {
    /// The store's row.
    pub id: InvoiceId,
    /// Code.
    pub code: InvoiceCode,
    /// Number.
    pub number: InvoiceNumber,
    /// The void event's journal counter (0 when the disk had voided it already).
    pub counter: u64,
}

/// A blank void.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlankVoided {
    /// Kind of stock.
    pub kind: InvoiceKind,
    /// Roll code.
    pub code: InvoiceCode,
    /// First voided number.
    pub first: InvoiceNumber,
    /// How many.
    pub count: u32,
    /// The event's journal counter.
    pub counter: u64,
}

impl Workflow {
    /// H9: voids the invoices `ids`, in order. Every invoice is checked first (issuer or
    /// administrator, H9; the void permission for its kind, H3; issued, paper kind, current
    /// unreported period, D7), so a refusal found by the host changes nothing. A refusal of
    /// the disk midway is a [`WorkflowError::Batch`] naming the invoices voided before it.
    /// The voids are uploaded when the bureau is reachable (FAQ 5.6).
    pub fn void(&mut self, ids: &[InvoiceId]) -> Result<Vec<Voided>, WorkflowError> {
        let user = self.require_user("void")?;
        let info = self.refresh_info()?;
        let current = info.period.unwrap_or_else(|| info.time.period());
        let mut rows: Vec<StoredInvoice> = Vec::with_capacity(ids.len());
        for &id in ids {
            let row = self.store.invoice(id)?;
            if row.issuer != user.id && user.role != Role::Admin {
                return Err(WorkflowError::VoidNotPermitted { id });
            }
            self.store
                .require(user.id, row.invoice.kind(), Action::Void)?;
            let what = format!("void of invoice {}", id.0);
            if !matches!(row.state, InvoiceState::Issued | InvoiceState::Uploaded) {
                return Err(WorkflowError::rule(
                    what,
                    format!(
                        "the invoice is {}; only issued invoices can be voided",
                        row.state.as_str()
                    ),
                    "D7, FAQ 5.7",
                ));
            }
            if !row.invoice.kind().is_paper() {
                return Err(WorkflowError::rule(
                    what,
                    "electronic invoices cannot be voided: issue a red one",
                    "D7",
                ));
            }
            if row.invoice.kind() == InvoiceKind::Special && row.invoice.draft().oil.is_some() {
                return Err(WorkflowError::rule(
                    what,
                    "refined-oil special invoices cannot be voided: reverse with a red info form",
                    "D7, FAQ 8.6",
                ));
            }
            if row.period != current || info.last_copied.is_some_and(|c| row.period <= c) {
                return Err(WorkflowError::rule(
                    what,
                    taxdisk_i18n::t!("void-not-current", current = current, period = row.period),
                    "D7, FAQ 5.1, 5.8",
                ));
            }
            if rows.iter().any(|r| r.id == id) {
                continue;
            }
            rows.push(row);
        }
        let mut done: Vec<Voided> = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(rec) = &row.disk else {
                continue; // Issued rows always carry the disk record.
            };
            let r = InvoiceRef {
                kind: row.invoice.kind(),
                code: rec.code.clone(),
                number: rec.number,
            };
            let counter = match self.disk.void(&r) {
                Ok(ev) => ev.body.counter,
                // A void whose answer was lost and resent: the disk did it (D7).
                Err(e) if e.wire_error() == Some(WireError::AlreadyVoided) => 0,
                Err(e) => {
                    return Err(WorkflowError::Batch {
                        done: done.iter().map(|v| v.id).collect(),
                        at: row.id,
                        source: Box::new(e.into()),
                    });
                }
            };
            self.store.mark_voided(user.id, row.id)?;
            done.push(Voided {
                id: row.id,
                code: rec.code.clone(),
                number: rec.number,
                counter,
            });
        }
        let mut note = None;
        if self.bureau.is_some() {
            // A failed upload leaves the events pending on the disk for the next upload.
            let _ = self.auto_upload(&mut note);
        }
        Ok(done)
    }

    /// H9 (FAQ 5.2, 5.3): voids the next `count` blank numbers of the oldest roll of `kind`
    /// (spoiled paper). Needs the void permission for the kind (H3).
    pub fn void_blank(
        &mut self,
        kind: InvoiceKind,
        count: u32,
    ) -> Result<BlankVoided, WorkflowError> {
        // Written down before it is sent: a lost answer is sent again at the next login under
        // the same id (`intents`), so the numbers are voided once.
        self.run_intent(IntentOp::BlankVoid { kind, count }, |wf, id| {
            wf.void_blank_with_id(id, kind, count)
        })
    }

    /// [`void_blank`](Self::void_blank) with a request id chosen by the caller. When the answer
    /// was lost (a timeout, a power cut of the disk), sending again with the same id is safe:
    /// the disk answers the numbers it voided the first time, or voids them now (D7).
    pub fn void_blank_with_id(
        &mut self,
        request_id: RequestId,
        kind: InvoiceKind,
        count: u32,
    ) -> Result<BlankVoided, WorkflowError> {
        let user = self.require_user("blank void")?;
        self.store.require(user.id, kind, Action::Void)?;
        if count == 0 {
            return Err(WorkflowError::rule(
                "blank void",
                "void at least one number",
                "H9, FAQ 5.3",
            ));
        }
        self.send_blank_void(request_id, kind, count)
    }

    /// Sends a blank void (checked by the caller) and uploads it when the bureau is reachable.
    pub(crate) fn send_blank_void(
        &mut self,
        request_id: RequestId,
        kind: InvoiceKind,
        count: u32,
    ) -> Result<BlankVoided, WorkflowError> {
        let ev = self.disk.void_blank_with_id(request_id, kind, count)?;
        let b = ev.body;
        let mut note = None;
        if self.bureau.is_some() {
            // A failed upload leaves the events pending on the disk for the next upload.
            let _ = self.auto_upload(&mut note);
        }
        Ok(BlankVoided {
            kind: b.kind,
            code: b.code,
            first: b.first,
            count: b.count,
            counter: b.counter,
        })
    }
}
