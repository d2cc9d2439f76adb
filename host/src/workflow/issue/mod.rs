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

mod batch;
mod stages;

use super::Workflow;
use super::errors::WorkflowError;
use crate::invoice::{Draft, LineKind, Party, PriceMode};
use crate::store::{DiskRecord, InvoiceId, InvoiceState, RedFormId, RedFormState, User};
use rust_decimal::Decimal;
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

/// Who issues: the disk's company (name and taxpayer id as the disk holds them, address,
/// phone and bank accounts from the company data) and the logged-in user. A draft (a file of
/// drafts is untrusted input) may leave these out; naming anyone else is refused.
struct Seller {
    party: Party,
    banks: Vec<String>,
}

impl Seller {
    /// Writes the seller and the issuer into `draft`, or says which one it names wrongly.
    fn take_over(&self, draft: &mut Draft, user: &User) -> Result<(), WorkflowError> {
        let issuer = draft.issuer.trim();
        if !issuer.is_empty() && issuer != user.name {
            return Err(WorkflowError::rule(
                "issue",
                format!(
                    "the draft names {issuer:?} as issuer (开票人); the issuer is the logged-in user {:?}",
                    user.name
                ),
                "H3",
            ));
        }
        draft.issuer = user.name.clone();
        let d = &draft.seller;
        let other_name = !d.name.trim().is_empty() && d.name.trim() != self.party.name;
        let other_id = d.taxpayer_id.is_some() && d.taxpayer_id != self.party.taxpayer_id;
        if other_name || other_id {
            return Err(WorkflowError::rule(
                "issue",
                format!(
                    "the draft names seller {:?} ({}); the seller is always this disk's company {:?} ({})",
                    d.name,
                    d.taxpayer_id
                        .as_ref()
                        .map(|t| t.as_str())
                        .unwrap_or("no taxpayer id"),
                    self.party.name,
                    self.party
                        .taxpayer_id
                        .as_ref()
                        .map(|t| t.as_str())
                        .unwrap_or("no taxpayer id")
                ),
                "H3, D1",
            ));
        }
        // FAQ 4.16: the seller chooses among its own bank accounts, nothing else.
        let bank = d.bank_account.trim();
        let bank_account = if bank.is_empty() {
            self.party.bank_account.clone()
        } else if self.banks.iter().any(|b| b == bank) {
            bank.to_owned()
        } else {
            return Err(WorkflowError::rule(
                "issue",
                format!(
                    "the seller's bank and account {bank:?} is not one of the company's accounts (H1); add it with the company data first"
                ),
                "H1, FAQ 4.16",
            ));
        };
        draft.seller = Party {
            bank_account,
            ..self.party.clone()
        };
        Ok(())
    }
}

impl Workflow {
    /// H8: issues `draft`. Checks the user's permission for the kind (H3; red invoices need the
    /// red permission), validates (H7), records the invoice as pending, has the disk sign it,
    /// stores the signed result and uploads it when the bureau is reachable (H11). A refusal
    /// of the disk abandons the pending row and comes back with the disk's rule; a lost answer
    /// leaves it pending for repair ([`WorkflowError::IssueUnknown`]). A draft without an
    /// issuer (开票人) gets the logged-in user's name.
    ///
    /// This is [`Workflow::issue_batch`] with one draft.
    pub fn issue(&mut self, draft: Draft) -> Result<Issued, WorkflowError> {
        self.issue_batch(vec![draft])?
            .pop()
            .unwrap_or_else(|| Err(WorkflowError::rule("issue", "no draft issued", "H8")))
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
        let parse_number = |text: &str| -> Result<InvoiceNumber, WorkflowError> {
            let n = normalize_digits("invoice number", text)?;
            Some(n.trim())
                .filter(|n| (1..=8).contains(&n.len()))
                .and_then(|n| n.parse::<u32>().ok())
                .and_then(|n| InvoiceNumber::new(n).ok())
                .ok_or_else(|| {
                    WorkflowError::rule(
                        "red invoice",
                        format!("{text:?} is not an invoice number (up to 8 digits)"),
                        "F2",
                    )
                })
        };
        // Numbers compare as numbers (`1` is `00000001`), codes as codes.
        let (n1, n2) = (parse_number(number)?, parse_number(number_again)?);
        if c1.trim() != c2.trim() || n1 != n2 {
            return Err(WorkflowError::rule(
                "red invoice",
                "the original code and number entered twice do not match",
                "H10, FAQ 7.17",
            ));
        }
        let code = crate::invoice::text::parse_invoice_code(c1.trim())?;
        let number = n1;
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
        // Issued by this disk's company as it is now (a renamed company, FAQ 10.1, issues
        // under its new name) and by the logged-in user: the issuing path fills both.
        d.seller = Party::default();
        d.issuer = String::new();
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
