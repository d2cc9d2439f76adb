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
use crate::invoice::{Draft, Invoice, LineKind, Party, PriceMode};
use crate::store::{
    Action, DiskRecord, InvoiceId, InvoiceState, PendingInsert, RedFormId, RedFormState, Store,
    StoreError, User,
};
use rust_decimal::Decimal;
use std::cell::RefCell;
use taxdisk_protocol::WireError;
use taxdisk_protocol::checkcode::check_code;
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::{
    CheckCode, InvoiceCode, InvoiceKind, InvoiceNumber, IssuedInvoice, RedRef, RequestId, Signed,
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

/// A draft on its way to the disk: checked, validated, with its request.
struct Prepared {
    invoice: Invoice,
    kind: InvoiceKind,
    form: Option<RedFormId>,
    request_id: RequestId,
    sent: IssueDraft,
}

/// Invoices per part of a batch when the store's work overlaps the disk's signing (see
/// `Workflow::issue_prepared`): a part's commit takes about as long as the disk signs the
/// requests in flight.
const OVERLAP_PART: usize = 16;

/// Invoices in the first part of a batch over a pipelining link: few, so the disk has work
/// soon after the call begins.
const FIRST_PART: usize = 4;

/// Where the part beginning at request `k` ends, when `k` begins one: parts of `part`
/// requests after a first one of `first`, the last one shorter.
fn part_end(k: usize, part: usize, first: usize, n: usize) -> Option<usize> {
    let starts = k == 0 || (k >= first && (k - first).is_multiple_of(part));
    starts.then(|| if k == 0 { first } else { k + part }.min(n))
}

/// Whether the disk signed what was asked (H8): request id, content digest, totals, kind.
fn signed_as_asked(p: &Prepared, s: &Signed<IssuedInvoice>) -> bool {
    let b = &s.body;
    b.request_id == p.request_id
        && b.content_digest == p.sent.content_digest
        && b.amount == p.sent.amount
        && b.tax == p.sent.tax
        && b.kind == p.kind
}

/// Signed records waiting to be stored together, with each one's place in the batch.
#[derive(Default)]
struct Gathered {
    at: Vec<usize>,
    records: Vec<(InvoiceId, DiskRecord)>,
}

/// Stores the gathered signed records in one transaction; each one's outcome goes to
/// `stored` and its record to `kept` at its place in the batch. A database failure comes
/// back (the records stay pending: repair stores them from the journal).
fn store_records(
    store: &mut Store,
    gathered: &mut Gathered,
    stored: &mut [Option<Result<(), StoreError>>],
    kept: &mut [Option<DiskRecord>],
) -> Result<(), StoreError> {
    if gathered.at.is_empty() {
        return Ok(());
    }
    let outcomes = store.mark_issued_batch(&gathered.records)?;
    for ((k, o), (_, rec)) in gathered
        .at
        .drain(..)
        .zip(outcomes)
        .zip(gathered.records.drain(..))
    {
        stored[k] = Some(o);
        kept[k] = Some(rec);
    }
    Ok(())
}

/// The offline limits (D9): a refusal an upload may release.
fn offline_limit(e: &DiskError) -> bool {
    matches!(
        e.wire_error(),
        Some(
            WireError::OfflineHoursExceeded
                | WireError::OfflineAmountExceeded
                | WireError::UploadDeadlinePassed
        )
    )
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

    /// H8 for many drafts at once (批量开具: a list imported or generated in one go), with the
    /// checks and outcomes of [`Workflow::issue`] for each, answered in the order of `drafts`.
    ///
    /// What a batch shares: the pending rows of the valid drafts are recorded in one
    /// transaction before the disk signs any of them (H8 holds for each; over a link that
    /// pipelines, in parts (4, then 16 each), each committed before its first request leaves); the
    /// requests travel pipelined where the link allows ([`DiskClient::issue_pipelined`]); the
    /// signed records are stored together (per part over a pipelined link); distinct buyers
    /// are saved once (H5); one automatic upload follows (H11). A draft that fails its checks
    /// is not recorded and does not stop the others; a refusal of the disk abandons that
    /// draft's row only; when the disk refuses for its offline limits (D9) while the bureau is
    /// reachable, the waiting events are uploaded and the refused requests are sent again, as
    /// for one invoice. A crash at any point leaves rows pending under their request ids for
    /// repair (H11).
    ///
    /// The outer error stops the whole batch: not logged in, the disk's period unreadable, or
    /// the store failing (then no further request is sent, and invoices the disk signed
    /// before stay pending until repair stores them from the journal, H11).
    ///
    /// [`DiskClient::issue_pipelined`]: crate::disk::DiskClient::issue_pipelined
    pub fn issue_batch(
        &mut self,
        drafts: Vec<Draft>,
    ) -> Result<Vec<Result<Issued, WorkflowError>>, WorkflowError> {
        let user = self.require_user("issue")?;
        let company = self.store.company()?;
        let seller = Seller {
            party: self.seller_of(&company)?,
            banks: (0..company.bank_accounts.len())
                .filter_map(|i| company.bank_account_text(i))
                .collect(),
        };
        let mut results: Vec<Option<Result<Issued, WorkflowError>>> =
            drafts.iter().map(|_| None).collect();
        let mut ready: Vec<(usize, Prepared)> = Vec::with_capacity(drafts.len());
        // H3 answers the same for every draft of a kind: asked once per (kind, action).
        let mut allowed: Vec<(InvoiceKind, Action)> = Vec::new();
        let mut forms_taken: Vec<RedFormId> = Vec::new();
        for (i, draft) in drafts.into_iter().enumerate() {
            match self.prepare_issue(&user, &seller, draft, &forms_taken, &mut allowed) {
                Ok(p) => {
                    forms_taken.extend(p.form);
                    ready.push((i, p));
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if !ready.is_empty() {
            self.issue_prepared(&user, ready, &mut results)?;
        }
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(WorkflowError::rule("issue", "draft not issued", "H8")))
            })
            .collect())
    }

    /// H3, H10, H7 for one draft of a batch: permission, red form (not one another draft of
    /// the batch uses: one form, one red invoice, FAQ 7.4), used-car reversal, validation; then
    /// its request id and request.
    fn prepare_issue(
        &mut self,
        user: &User,
        seller: &Seller,
        mut draft: Draft,
        forms_taken: &[RedFormId],
        allowed: &mut Vec<(InvoiceKind, Action)>,
    ) -> Result<Prepared, WorkflowError> {
        seller.take_over(&mut draft, user)?;
        let kind = draft.kind();
        let action = if draft.is_red() {
            Action::Red
        } else {
            Action::Issue
        };
        if !allowed.contains(&(kind, action)) {
            self.store.require(user.id, kind, action)?;
            allowed.push((kind, action));
        }
        let form = self.red_form_for(&draft)?;
        if let Some(f) = form
            && forms_taken.contains(&f)
        {
            return Err(WorkflowError::rule(
                "red special invoice",
                "another invoice of this batch uses the same info form; one form gives one red invoice",
                "H10, FAQ 7.4",
            ));
        }
        if kind == InvoiceKind::UsedCar
            && let Some(RedRef::Original { code, number }) = &draft.red
        {
            self.check_used_car_full_reversal(&draft, code, *number)?;
        }
        let invoice = draft.validate()?;
        let request_id = new_request_id();
        // The content digest is computed once here: the pending row and the disk get the same.
        let sent = IssueDraft::from(invoice.issue_request(request_id));
        Ok(Prepared {
            invoice,
            kind,
            form,
            request_id,
            sent,
        })
    }

    /// Records `ready` pending, has the disk sign them, stores what was signed and uploads;
    /// fills `results` at each draft's index.
    ///
    /// On a link that keeps several requests in flight (the disk is elsewhere: TCP, or an
    /// in-process disk on its own thread), the batch goes in a first part of [`FIRST_PART`]
    /// and then parts of [`OVERLAP_PART`]: a part's pending rows are committed when its
    /// first request is about to leave (H8: before the disk signs any of them) and the signed
    /// records are stored as the answers come, so the store's work overlaps the disk's
    /// signing of the requests in flight. One request at a time (in-process on the caller's
    /// thread, USB) it is one
    /// part: one commit before, one after.
    fn issue_prepared(
        &mut self,
        user: &User,
        ready: Vec<(usize, Prepared)>,
        results: &mut [Option<Result<Issued, WorkflowError>>],
    ) -> Result<(), WorkflowError> {
        let period = self.current_period()?;
        let n = ready.len();
        let depth = self.disk.pipeline_depth();
        let part = if depth > 1 {
            OVERLAP_PART.max(depth)
        } else {
            n.max(1)
        };
        // The first part is short: the disk starts signing sooner, and signs it while the
        // next part is committed.
        let first = if depth > 1 {
            FIRST_PART.min(part)
        } else {
            part
        };
        let items: Vec<PendingInsert<'_>> = ready
            .iter()
            .map(|(_, p)| PendingInsert {
                invoice: &p.invoice,
                request_id: p.request_id,
                digest: p.sent.content_digest,
                red_form: p.form,
            })
            .collect();
        let mut ids: Vec<Option<InvoiceId>> = vec![None; n];
        let mut answers: Vec<Option<Result<Signed<IssuedInvoice>, DiskError>>> =
            (0..n).map(|_| None).collect();
        // Records stored while answers came (the overlap), by index.
        let mut stored: Vec<Option<Result<(), StoreError>>> = (0..n).map(|_| None).collect();
        // Their records, kept for the answers.
        let mut kept: Vec<Option<DiskRecord>> = vec![None; n];
        let mut not_recorded: Option<(usize, StoreError)> = None;
        let mut db_error: Option<StoreError> = None;
        {
            let store = RefCell::new(&mut self.store);
            let ids_cell = RefCell::new(&mut ids);
            let mut to_store = Gathered::default();
            let requests = (0..n).map_while(|k| {
                if let Some(end) = part_end(k, part, first, n) {
                    match store
                        .borrow_mut()
                        .insert_pending_batch(user.id, period, &items[k..end])
                    {
                        Ok(new) => {
                            for (j, id) in new.into_iter().enumerate() {
                                ids_cell.borrow_mut()[k + j] = Some(id);
                            }
                        }
                        Err(e) => {
                            // This part and the rest are not recorded: none of them is sent.
                            not_recorded = Some((k, e));
                            return None;
                        }
                    }
                }
                Some((ready[k].1.request_id, ready[k].1.sent.clone()))
            });
            self.disk.issue_pipelined(requests, depth, |k, answer| {
                let id = ids_cell.borrow()[k];
                if let (Ok(signed), Some(id)) = (&answer, id)
                    && signed_as_asked(&ready[k].1, signed)
                {
                    to_store.at.push(k);
                    to_store.records.push((id, disk_record(signed)));
                    if part < n
                        && to_store.at.len() >= part
                        && let Err(e) = store_records(
                            &mut store.borrow_mut(),
                            &mut to_store,
                            &mut stored,
                            &mut kept,
                        )
                    {
                        // The store fails: send no more (what is in flight still answers).
                        db_error.get_or_insert(e);
                    }
                }
                answers[k] = Some(answer);
                db_error.is_none()
            });
            if db_error.is_none()
                && let Err(e) = store_records(
                    &mut store.borrow_mut(),
                    &mut to_store,
                    &mut stored,
                    &mut kept,
                )
            {
                db_error = Some(e);
            }
        }
        if let Some(e) = db_error {
            // Signed records may be unstored: they stay pending for repair (H11).
            return Err(e.into());
        }

        // D9: the offline limits were reached while the bureau is back: the upload releases
        // them; the disk signed none of the refused, so the same request ids go again.
        loop {
            let refused: Vec<usize> = (0..n)
                .filter(|&k| matches!(&answers[k], Some(Err(e)) if offline_limit(e)))
                .collect();
            if refused.is_empty()
                || !self.auto_upload
                || self.bureau.is_none()
                || !self.upload().is_ok_and(|r| r.acknowledged > 0)
            {
                break;
            }
            let requests = refused
                .iter()
                .map(|&k| (ready[k].1.request_id, ready[k].1.sent.clone()));
            self.disk.issue_pipelined(requests, depth, |j, answer| {
                answers[refused[j]] = Some(answer);
                true
            });
        }

        let mut signed_items = Vec::new();
        let mut late = Gathered::default();
        for (k, ((i, p), answer)) in ready.into_iter().zip(answers).enumerate() {
            let Some(id) = ids[k] else {
                results[i] = Some(Err(match not_recorded.take() {
                    Some((_, e)) => e.into(),
                    None => WorkflowError::rule(
                        "issue",
                        "not recorded pending (an earlier part of the batch failed to record), not sent",
                        "H8",
                    ),
                }));
                continue;
            };
            let answer = answer.unwrap_or_else(|| {
                Err(DiskError::Protocol {
                    command: taxdisk_protocol::CommandId::Issue,
                    what: "no answer reported for a request of the batch".into(),
                })
            });
            let signed = match answer {
                Ok(s) => s,
                // A lost answer, or a refusal of a resend (the first send may have been signed
                // before the disk rebooted): only the journal knows (H11 repair).
                Err(e)
                    if e.outcome_unknown()
                        || matches!(e, DiskError::Refused { retried: true, .. }) =>
                {
                    results[i] = Some(Err(WorkflowError::IssueUnknown { id, source: e }));
                    continue;
                }
                Err(e) => {
                    if e.wire_error().is_some_and(|w| {
                        matches!(w, WireError::PeriodNotReported | WireError::Locked)
                    }) {
                        // The disk's period moved on: read it afresh for the next attempt.
                        self.info = None;
                    }
                    results[i] = Some(Err(
                        match self.store.mark_abandoned(user.id, id, &e.to_string()) {
                            Ok(()) => e.into(),
                            Err(s) => s.into(),
                        },
                    ));
                    continue;
                }
            };
            if !signed_as_asked(&p, &signed) {
                // Not what was asked: keep the row pending so repair decides from the journal.
                results[i] = Some(Err(WorkflowError::Disk(DiskError::Protocol {
                    command: taxdisk_protocol::CommandId::Issue,
                    what: "the signed invoice does not match the request (H8)".into(),
                })));
                continue;
            }
            if stored[k].is_none() {
                // Signed on a resend after an upload (D9): stored below, with the others.
                late.at.push(k);
                late.records.push((id, disk_record(&signed)));
            }
            signed_items.push((k, i, id, p, signed));
        }
        store_records(&mut self.store, &mut late, &mut stored, &mut kept)?;
        if signed_items.is_empty() {
            return Ok(());
        }
        if signed_items.iter().any(|(.., s)| s.body.oil.is_some()) {
            // The mirror is for display (H15); the invoices are issued and stored either way,
            // so a failed refresh is not the issue's failure (the next status refreshes it).
            if let Ok(stock) = self.disk.oil_stock() {
                let _ = self.store.set_oil_stock(&stock);
            }
        }
        // H5 (FAQ 3.2): each distinct buyer saved once; a buyer that does not save (no name,
        // ...) never fails the issue.
        let mut buyers: Vec<(&crate::invoice::model::Party, bool)> = Vec::new();
        for (_, _, _, p, _) in &signed_items {
            let buyer = &p.invoice.draft().buyer;
            if !buyers.iter().any(|(b, _)| *b == buyer) {
                let saved = matches!(
                    self.store.save_buyer_automatically(user.id, buyer),
                    Ok(Some(_))
                );
                buyers.push((buyer, saved));
            }
        }
        let saved: Vec<bool> = signed_items
            .iter()
            .map(|(_, _, _, p, _)| {
                let buyer = &p.invoice.draft().buyer;
                buyers.iter().any(|(b, s)| *s && *b == buyer)
            })
            .collect();
        let mut note = None;
        let through = self.auto_upload(&mut note);
        for ((k, i, id, p, signed), buyer_saved) in signed_items.into_iter().zip(saved) {
            results[i] = Some(match (stored[k].take(), kept[k].take()) {
                (Some(Ok(())), Some(rec)) => Ok(Issued {
                    id,
                    kind: p.kind,
                    code: rec.code,
                    number: rec.number,
                    counter: rec.counter,
                    time: rec.time,
                    check_code: rec.check_code,
                    uploaded: through.is_some_and(|t| t >= rec.counter),
                    upload_note: note.clone(),
                    buyer_saved,
                    signed,
                }),
                (Some(Err(e)), _) => Err(e.into()),
                _ => Err(StoreError::Corrupt(format!(
                    "invoice {}: its signed record was not stored",
                    id.0
                ))
                .into()),
            });
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::part_end;

    /// The parts' bounds for `n` requests.
    fn parts(part: usize, first: usize, n: usize) -> Vec<(usize, usize)> {
        (0..n)
            .filter_map(|k| part_end(k, part, first, n).map(|e| (k, e)))
            .collect()
    }

    #[test]
    fn parts_cover_every_request_once_after_a_short_first_one() {
        assert_eq!(parts(16, 4, 40), [(0, 4), (4, 20), (20, 36), (36, 40)]);
        assert_eq!(parts(16, 4, 3), [(0, 3)]);
        assert_eq!(parts(64, 64, 64), [(0, 64)]);
        assert_eq!(parts(5, 5, 12), [(0, 5), (5, 10), (10, 12)]);
    }
}
