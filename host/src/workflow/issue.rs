//! Issuing (H8): permission (H3), validation (H7), a pending row recorded before the disk signs,
//! the disk's signature, the stored result, then the automatic upload when the bureau is
//! reachable (H11); offline the disk's D9 limits decide how long issuing goes on.
//!
//! When the disk refuses for its offline limits (D9) while the bureau is reachable again, the
//! waiting events are uploaded and the same request is sent once more (FAQ 4.9, done for the
//! user).
//!
//! A crash or a lost answer at any step leaves the row pending under its request id; repair
//! ([`Workflow::repair`]) finds it in the disk journal, so an invoice is never lost or doubled.
//!
//! Red invoices of the kinds other than special name the original code and number, entered
//! twice (FAQ 7.16, 7.17): [`Workflow::red_draft_from_original`]. Red special invoices name an
//! approved info form ([`Workflow::red_draft_from_form`] in [`super::red`]).

use super::Workflow;
use super::errors::WorkflowError;
use crate::disk::{DiskError, IssueDraft, new_request_id};
use crate::invoice::{Draft, LineKind, PriceMode};
use crate::store::{Action, DiskRecord, InvoiceId, InvoiceState, RedFormId, RedFormState};
use rust_decimal::Decimal;
use taxdisk_protocol::WireError;
use taxdisk_protocol::checkcode::check_code;
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::{
    CheckCode, InvoiceCode, InvoiceKind, InvoiceNumber, IssuedInvoice, RedRef, Signed,
};

/// An issued invoice as the user sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The store's row id.
    pub id: InvoiceId,
    /// Kind.
    pub kind: InvoiceKind,
    /// Code.
    pub code: InvoiceCode,
    /// Number.
    pub number: InvoiceNumber,
    /// The disk's journal counter.
    pub counter: u64,
    /// The disk's time.
    pub time: Timestamp,
    /// The check code (none on special invoices, F5).
    pub check_code: Option<CheckCode>,
    /// Whether the bureau acknowledged it already (automatic upload, H11).
    pub uploaded: bool,
    /// Why it was not uploaded, when the automatic upload was tried and failed (offline).
    pub upload_note: Option<String>,
    /// Whether the buyer was saved to the customers (automatic saving on, H5, FAQ 3.2).
    pub buyer_saved: bool,
    /// The disk's signed record.
    pub signed: Signed<IssuedInvoice>,
}

/// The disk record the store keeps for a signed invoice.
pub(crate) fn disk_record(s: &Signed<IssuedInvoice>) -> DiskRecord {
    DiskRecord {
        code: s.body.code.clone(),
        number: s.body.number,
        counter: s.body.counter,
        time: s.body.time,
        signature: s.signature,
        check_code: (s.body.kind != InvoiceKind::Special).then(|| check_code(&s.signature)),
    }
}

impl Workflow {
    /// H8: issues `draft`. Checks the user's permission for the kind (H3; red invoices need the
    /// red permission), validates (H7), records the invoice as pending, has the disk sign it,
    /// stores the signed result and uploads it when the bureau is reachable (H11). A refusal
    /// of the disk abandons the pending row and comes back with the disk's rule; a lost answer
    /// leaves it pending for repair ([`WorkflowError::IssueUnknown`]). A draft without an
    /// issuer (开票人) gets the logged-in user's name.
    pub fn issue(&mut self, mut draft: Draft) -> Result<Issued, WorkflowError> {
        let user = self.require_user("issue")?;
        if draft.issuer.trim().is_empty() {
            // 开票人 is the logged-in user unless the draft names one.
            draft.issuer = user.name.clone();
        }
        let kind = draft.kind();
        let action = if draft.is_red() {
            Action::Red
        } else {
            Action::Issue
        };
        self.store.require(user.id, kind, action)?;
        let form = self.red_form_for(&draft)?;
        if kind == InvoiceKind::UsedCar
            && let Some(RedRef::Original { code, number }) = &draft.red
        {
            self.check_used_car_full_reversal(&draft, code, *number)?;
        }
        let invoice = draft.validate()?;
        let period = self.current_period()?;
        let request_id = new_request_id();
        let id = self
            .store
            .insert_pending(user.id, &invoice, request_id, period, form)?;
        let sent = IssueDraft::from(invoice.issue_request(request_id));
        let mut answer = self.disk.issue_with_id(request_id, sent.clone());
        if let Err(e) = &answer
            && matches!(
                e.wire_error(),
                Some(
                    WireError::OfflineHoursExceeded
                        | WireError::OfflineAmountExceeded
                        | WireError::UploadDeadlinePassed
                )
            )
            && self.auto_upload
            && self.bureau.is_some()
            && self.upload().is_ok_and(|r| r.acknowledged > 0)
        {
            // D9: the offline limits were reached while the bureau is back: the upload
            // released them; the disk signed nothing, so the same request id is sent again.
            answer = self.disk.issue_with_id(request_id, sent.clone());
        }
        let signed = match answer {
            Ok(s) => s,
            // A lost answer, or a refusal of a resend (the first send may have been signed
            // before the disk rebooted): only the journal knows (H11 repair).
            Err(e)
                if e.outcome_unknown() || matches!(e, DiskError::Refused { retried: true, .. }) =>
            {
                return Err(WorkflowError::IssueUnknown { id, source: e });
            }
            Err(e) => {
                self.store.mark_abandoned(user.id, id, &e.to_string())?;
                if e.wire_error()
                    .is_some_and(|w| matches!(w, WireError::PeriodNotReported | WireError::Locked))
                {
                    // The disk's period moved on: read it afresh for the next attempt.
                    self.info = None;
                }
                return Err(e.into());
            }
        };
        let b = &signed.body;
        if b.request_id != request_id
            || b.content_digest != sent.content_digest
            || b.amount != sent.amount
            || b.tax != sent.tax
            || b.kind != kind
        {
            // Not what was asked: keep the row pending so repair decides from the journal.
            return Err(WorkflowError::Disk(DiskError::Protocol {
                command: taxdisk_protocol::CommandId::Issue,
                what: "the signed invoice does not match the request (H8)".into(),
            }));
        }
        let rec = disk_record(&signed);
        self.store.mark_issued(id, &rec)?;
        if b.oil.is_some() {
            // The mirror is for display (H15); the invoice is issued and stored either way, so
            // a failed refresh is not the issue's failure (the next status refreshes it).
            if let Ok(stock) = self.disk.oil_stock() {
                let _ = self.store.set_oil_stock(&stock);
            }
        }
        let mut issued = Issued {
            id,
            kind,
            code: rec.code,
            number: rec.number,
            counter: rec.counter,
            time: rec.time,
            check_code: rec.check_code,
            uploaded: false,
            upload_note: None,
            // H5 (FAQ 3.2): a buyer that does not save (no name, ...) never fails the issue.
            buyer_saved: matches!(
                self.store
                    .save_buyer_automatically(user.id, &invoice.draft().buyer),
                Ok(Some(_))
            ),
            signed,
        };
        let through = self.auto_upload(&mut issued.upload_note);
        issued.uploaded = through.is_some_and(|t| t >= issued.counter);
        Ok(issued)
    }

    /// H11: uploads what is pending when a bureau is set and automatic upload is on; failures
    /// become a note (offline issuing goes on within the disk's limits, D9). Answers the
    /// counter the bureau's receipt covers, if any.
    pub(crate) fn auto_upload(&mut self, note: &mut Option<String>) -> Option<u64> {
        if !self.auto_upload {
            *note = Some("automatic upload is off: upload by hand (H11)".into());
            return None;
        }
        if self.bureau.is_none() {
            *note = Some("no bureau address: not uploaded (H11)".into());
            return None;
        }
        match self.upload() {
            Ok(r) => {
                if !r.rejected.is_empty() {
                    *note = Some(format!(
                        "the bureau refused {} event(s): {}",
                        r.rejected.len(),
                        r.rejected
                            .iter()
                            .map(|x| format!("{} {} {}", x.counter, x.code, x.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
                r.through_counter
            }
            Err(e) => {
                *note = Some(e.to_string());
                None
            }
        }
    }

    /// H10: the stored info form a red special draft uses, which must be approved (FAQ 7.3,
    /// 7.4) and carry the draft's totals; downloaded from the bureau when not yet in the store.
    fn red_form_for(&mut self, draft: &Draft) -> Result<Option<RedFormId>, WorkflowError> {
        let Some(RedRef::InfoForm(number)) = &draft.red else {
            return Ok(None);
        };
        let form = match self.store.red_form_by_number(number)? {
            Some(f) => f,
            None => {
                self.download_red_forms()?;
                self.store.red_form_by_number(number)?.ok_or_else(|| {
                    WorkflowError::rule(
                        "red special invoice",
                        format!("info form {number} is unknown here and at the bureau"),
                        "H10, FAQ 7.3",
                    )
                })?
            }
        };
        match form.state {
            RedFormState::Approved => {
                let sum = |lines: &[crate::invoice::Line]| {
                    lines
                        .iter()
                        .fold((Decimal::ZERO, Decimal::ZERO), |(a, t), l| {
                            (a + l.amount, t + l.tax)
                        })
                };
                if sum(&form.body.lines) != sum(&draft.lines) {
                    return Err(WorkflowError::rule(
                        "red special invoice",
                        format!(
                            "its amount and tax must be those of info form {number}; start \
                             from the form's draft"
                        ),
                        "H10, FAQ 7.3",
                    ));
                }
                Ok(Some(form.id))
            }
            RedFormState::Used => Err(WorkflowError::rule(
                "red special invoice",
                format!(
                    "info form {number} was used by a red invoice already; one form gives one \
                     red invoice"
                ),
                "H10, FAQ 7.4",
            )),
            s => Err(WorkflowError::rule(
                "red special invoice",
                format!("info form {number} is {}, not approved", s.as_str()),
                "H10, FAQ 7.3",
            )),
        }
    }

    /// H10 (FAQ 7.18): a used-car invoice is reversed in full only.
    fn check_used_car_full_reversal(
        &self,
        draft: &Draft,
        code: &InvoiceCode,
        number: InvoiceNumber,
    ) -> Result<(), WorkflowError> {
        let Some(orig) = self.store.invoice_by_number(code, number)? else {
            return Ok(()); // Not in this store: the disk checks the original (D6).
        };
        let o = orig.invoice.draft();
        let full = o.lines.len() == draft.lines.len()
            && o.lines
                .iter()
                .zip(&draft.lines)
                .all(|(a, b)| a.amount == -b.amount && a.tax == -b.tax);
        if !full {
            return Err(WorkflowError::rule(
                "red used-car invoice",
                "a used-car invoice is reversed in full only; reverse it whole and issue a new \
                 one",
                "H10, FAQ 7.18",
            ));
        }
        Ok(())
    }

    /// H10 (FAQ 7.16, 7.17): the red draft reversing an invoice of a kind other than special,
    /// from its code and number entered twice (they must match). The draft reverses the
    /// original in full, discounts merged into their lines (FAQ 7.7); edit its lines for a
    /// partial reversal (not for used cars, FAQ 7.18) and issue it with [`Workflow::issue`].
    pub fn red_draft_from_original(
        &mut self,
        code: &str,
        number: &str,
        code_again: &str,
        number_again: &str,
    ) -> Result<Draft, WorkflowError> {
        use crate::invoice::text::normalize_digits;
        // Full-width digits count as their half-width selves (FAQ 4.18).
        let (c1, c2) = (
            normalize_digits("invoice code", code)?,
            normalize_digits("invoice code", code_again)?,
        );
        let (n1, n2) = (
            normalize_digits("invoice number", number)?,
            normalize_digits("invoice number", number_again)?,
        );
        if c1 != c2 || n1 != n2 {
            return Err(WorkflowError::rule(
                "red invoice",
                "the original code and number entered twice do not match",
                "H10, FAQ 7.17",
            ));
        }
        let code = crate::invoice::text::parse_invoice_code(&c1)?;
        let number = Some(n1.as_str())
            .filter(|n| n.len() == 8)
            .and_then(|n| n.parse::<u32>().ok())
            .and_then(|n| InvoiceNumber::new(n).ok())
            .ok_or_else(|| {
                WorkflowError::rule(
                    "red invoice",
                    format!("{number:?} is not an 8-digit invoice number"),
                    "F2",
                )
            })?;
        let orig = self
            .store
            .invoice_by_number(&code, number)?
            .ok_or_else(|| {
                WorkflowError::rule(
                    "red invoice",
                    format!("invoice {code} {number} is not in this software's records"),
                    "H10, FAQ 7.16",
                )
            })?;
        if orig.invoice.kind() == InvoiceKind::Special {
            return Err(WorkflowError::rule(
                "red invoice",
                "a special invoice is reversed with a red info form",
                "H10, FAQ 7.3",
            ));
        }
        if orig.invoice.is_red() {
            return Err(WorkflowError::rule(
                "red invoice",
                format!("{code} {number} is a red invoice itself"),
                "D6",
            ));
        }
        if orig.state == InvoiceState::Voided {
            return Err(WorkflowError::rule(
                "red invoice",
                format!("{code} {number} is voided"),
                "D6",
            ));
        }
        let mut d = orig.invoice.into_draft();
        d.lines = reversed_lines(&d.lines);
        d.sales_list = false;
        d.red = Some(RedRef::Original { code, number });
        Ok(d)
    }
}

/// The negated lines of a blue invoice with each discount merged into the line before it
/// (FAQ 7.7): amounts, taxes and quantities negative, prices kept.
pub(crate) fn reversed_lines(lines: &[crate::invoice::Line]) -> Vec<crate::invoice::Line> {
    let mut out: Vec<crate::invoice::Line> = Vec::new();
    for l in lines {
        match (l.kind, out.last_mut()) {
            (LineKind::Discount, Some(prev)) => {
                prev.amount -= l.amount;
                prev.tax -= l.tax;
                if let (Some(q), true) = (prev.quantity, !prev.amount.is_zero()) {
                    prev.unit_price =
                        Some(crate::invoice::math::round_price((prev.amount / q).abs()));
                }
            }
            _ => {
                let mut r = l.clone();
                r.kind = LineKind::Goods;
                r.amount = -l.amount;
                r.tax = -l.tax;
                r.quantity = l.quantity.map(|q| -q);
                r.price_mode = PriceMode::WithoutTax;
                out.push(r);
            }
        }
    }
    // Quantities stay consistent with the merged amounts: drop a price that no longer fits.
    for l in &mut out {
        if let (Some(q), Some(p)) = (l.quantity, l.unit_price)
            && (q * p - l.amount).abs() > Decimal::new(1, 2)
        {
            l.unit_price = Some(crate::invoice::math::round_price((l.amount / q).abs()));
        }
    }
    out
}
