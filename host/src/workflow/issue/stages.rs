//! The stages of one draft on its way to an issued invoice (H8), one type per stage:
//!
//! ```text
//! Prepared --record--> Recorded --answered--> Signed --store--> Stored
//!     |                   |   \                  |
//!     v                   v    `-> Unanswered    v
//!   Failed             Failed      (refused by   Failed
//!  (H3, H7, H10)   (refused, lost)  D9: again)  (store refused)
//! ```
//!
//! Each value is one draft with what is known of it so far; a stage is reached only through
//! the transition before it, so the order H8 asks for is in the types: only a [`Recorded`]
//! (its pending row committed, [`record`]) gives a request to send, only a [`Signed`] (the
//! disk's answer checked against the request) is stored, only a [`Stored`] becomes an
//! [`Issued`]. Every stage keeps the draft's place in the batch ([`Prepared::at`]) for the
//! answer's order. Between two parts of a batch, `store` and `record` share one commit
//! ([`store_and_record`]).

use super::{Issued, disk_record};
use crate::disk::DiskError;
use crate::invoice::{Invoice, Party};
use crate::store::{DiskRecord, InvoiceId, PendingInsert, RedFormId, Store, StoreError, UserId};
use crate::workflow::errors::WorkflowError;
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::types::{IssuedInvoice, Signed as DiskSigned};
use taxdisk_protocol::{CommandId, Period, WireError};

/// A draft's end without a stored invoice: its place in the batch and why.
pub(super) struct Failed {
    /// The draft's place in the batch.
    pub at: usize,
    /// Why.
    pub error: WorkflowError,
}

/// Checked (H3, H10) and validated (H7), its request composed under a fresh request id; not
/// in the store yet, so never sent.
pub(super) struct Prepared {
    at: usize,
    invoice: Invoice,
    form: Option<RedFormId>,
    request: IssueRequest,
}

impl Prepared {
    /// The draft at place `at` of the batch, validated into `invoice`, using red info form
    /// `form`; `request` is `invoice.issue_request(..)` (the content digest computed once: the
    /// pending row and the disk get the same).
    pub fn new(
        at: usize,
        invoice: Invoice,
        form: Option<RedFormId>,
        request: IssueRequest,
    ) -> Prepared {
        Prepared {
            at,
            invoice,
            form,
            request,
        }
    }

    /// The draft's place in the batch.
    pub fn at(&self) -> usize {
        self.at
    }

    /// The red info form it uses (H10), if any.
    pub fn form(&self) -> Option<RedFormId> {
        self.form
    }

    fn pending(&self) -> PendingInsert<'_> {
        PendingInsert {
            invoice: &self.invoice,
            request_id: self.request.request_id,
            digest: self.request.content_digest,
            red_form: self.form,
        }
    }
}

/// H8: records `part` pending under their request ids, in one transaction (one commit): the
/// only way to a [`Recorded`]. When the store fails nothing of `part` is recorded and it
/// comes back with the error.
pub(super) fn record(
    store: &mut Store,
    issuer: UserId,
    period: Period,
    part: Vec<Prepared>,
) -> Result<Vec<Recorded>, (Vec<Prepared>, StoreError)> {
    let items: Vec<PendingInsert<'_>> = part.iter().map(Prepared::pending).collect();
    let ids = store.insert_pending_batch(issuer, period, &items);
    match ids {
        Ok(ids) if ids.len() == part.len() => Ok(recorded(part, ids)),
        Ok(ids) => {
            let e = StoreError::Corrupt(format!(
                "{} ids for {} pending invoices",
                ids.len(),
                part.len()
            ));
            Err((part, e))
        }
        Err(e) => Err((part, e)),
    }
}

/// The [`Recorded`] of `part`, given the row ids the store answered for it (one each, in
/// order: the caller checked the count).
fn recorded(part: Vec<Prepared>, ids: Vec<InvoiceId>) -> Vec<Recorded> {
    part.into_iter()
        .zip(ids)
        .map(|(prepared, id)| Recorded {
            id,
            prepared: Box::new(prepared),
        })
        .collect()
}

/// What [`store_and_record`] makes: each signed record stored or failed, and the part
/// recorded.
pub(super) type StoredAndRecorded = (Vec<Result<Stored, Failed>>, Vec<Recorded>);

/// What [`store_and_record`] gives back when the store failed: nothing was stored or
/// recorded.
pub(super) type NotWritten = (Vec<Signed>, Vec<Prepared>, StoreError);

/// H8 between two parts of a batch: stores `signed` (as [`store`]) and records `part` pending
/// (as [`record`]) in one transaction, one commit for both; the part's rows are durable
/// before any of its requests leaves. When the store fails nothing is written and both come
/// back with the error.
pub(super) fn store_and_record(
    store: &mut Store,
    signed: Vec<Signed>,
    issuer: UserId,
    period: Period,
    part: Vec<Prepared>,
) -> Result<StoredAndRecorded, Box<NotWritten>> {
    let issued: Vec<(InvoiceId, DiskRecord)> = signed.iter().map(Signed::issued_item).collect();
    let pending: Vec<PendingInsert<'_>> = part.iter().map(Prepared::pending).collect();
    let written = store.mark_issued_and_insert_pending(&issued, issuer, period, &pending);
    match written {
        // One outcome per record and one id per invoice, in order: the store checked the
        // counts before its commit.
        Ok((outcomes, ids)) => Ok((stored(signed, outcomes), recorded(part, ids))),
        Err(e) => Err(Box::new((signed, part, e))),
    }
}

/// Recorded pending under its request id (H8): its request may be sent, as often as needed
/// (the request id makes a resend safe, and repair finds it in the journal, H11).
pub(super) struct Recorded {
    id: InvoiceId,
    /// Boxed: a stage moves through queues and the pipeline by value, a pointer copies
    /// cheaper than the invoice.
    prepared: Box<Prepared>,
}

/// What the disk's answer made of a [`Recorded`].
pub(super) enum Answered {
    /// Signed as asked.
    Signed(Signed),
    /// Refused for the offline limits (D9): an upload may release them, then the same
    /// request goes again.
    OfflineLimit(Recorded, DiskError),
    /// Refused otherwise: the row is to be abandoned ([`Recorded::abandon`]).
    Refused(Recorded, DiskError),
    /// The outcome is unknown or not what was asked: the row stays pending for repair (H11).
    Unknown(Failed),
}

impl AsRef<IssueRequest> for Recorded {
    /// The request to send, as it was recorded.
    fn as_ref(&self) -> &IssueRequest {
        &self.prepared.request
    }
}

impl Recorded {
    /// The draft's place in the batch.
    pub fn at(&self) -> usize {
        self.prepared.at
    }

    /// Takes the disk's answer to this request.
    pub fn answered(self, answer: Result<DiskSigned<IssuedInvoice>, DiskError>) -> Answered {
        let signed = match answer {
            Ok(s) => s,
            // A lost answer, or a refusal of a resend (the first send may have been signed
            // before the disk rebooted): only the journal knows (H11 repair).
            Err(e)
                if e.outcome_unknown() || matches!(e, DiskError::Refused { retried: true, .. }) =>
            {
                return Answered::Unknown(Failed {
                    at: self.at(),
                    error: WorkflowError::IssueUnknown {
                        id: self.id,
                        source: e,
                    },
                });
            }
            Err(e) if offline_limit(&e) => return Answered::OfflineLimit(self, e),
            Err(e) => return Answered::Refused(self, e),
        };
        if !self.signed_as_asked(&signed) {
            // Not what was asked: keep the row pending so repair decides from the journal.
            return Answered::Unknown(Failed {
                at: self.at(),
                error: WorkflowError::Disk(DiskError::Protocol {
                    command: CommandId::Issue,
                    what: "the signed invoice does not match the request (H8)".into(),
                }),
            });
        }
        let record = disk_record(&signed);
        Answered::Signed(Signed {
            recorded: self,
            signed: Box::new(signed),
            record,
        })
    }

    /// Whether the disk signed what was asked (H8): request id, content digest, totals, kind.
    fn signed_as_asked(&self, s: &DiskSigned<IssuedInvoice>) -> bool {
        let (b, r) = (&s.body, &self.prepared.request);
        b.request_id == r.request_id
            && b.content_digest == r.content_digest
            && b.amount == r.amount
            && b.tax == r.tax
            && b.kind == r.kind
    }

    /// H8: the disk refused with `e`: the pending row becomes abandoned, the draft fails with
    /// the disk's rule (or the store's error, when abandoning fails).
    pub fn abandon(self, store: &mut Store, actor: UserId, e: DiskError) -> Failed {
        Failed {
            at: self.at(),
            error: match store.mark_abandoned(actor, self.id, &e.to_string()) {
                Ok(()) => e.into(),
                Err(s) => s.into(),
            },
        }
    }
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

/// Signed by the disk as asked; its record is to be stored.
pub(super) struct Signed {
    recorded: Recorded,
    /// Boxed for the same reason as [`Recorded`]'s draft.
    signed: Box<DiskSigned<IssuedInvoice>>,
    record: DiskRecord,
}

impl Signed {
    /// What the store writes for it: its row and the disk's record.
    fn issued_item(&self) -> (InvoiceId, DiskRecord) {
        (self.recorded.id, self.record.clone())
    }

    /// Whether it moved oil (D11: the stock mirror is refreshed).
    pub fn moved_oil(&self) -> bool {
        self.signed.body.oil.is_some()
    }
}

/// H8: stores the records of `signed` in one transaction (one commit): each one becomes
/// [`Stored`], or [`Failed`] when the store refuses it (its row stays as it was). The outer
/// error is a database failure: nothing is stored, the invoices stay pending until repair
/// stores them from the journal (H11).
pub(super) fn store(
    store: &mut Store,
    signed: Vec<Signed>,
) -> Result<Vec<Result<Stored, Failed>>, StoreError> {
    if signed.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<(InvoiceId, DiskRecord)> = signed.iter().map(Signed::issued_item).collect();
    let outcomes = store.mark_issued_batch(&items)?;
    if outcomes.len() != signed.len() {
        return Err(StoreError::Corrupt(format!(
            "{} outcomes for {} signed records",
            outcomes.len(),
            signed.len()
        )));
    }
    Ok(stored(signed, outcomes))
}

/// Each of `signed` [`Stored`] or [`Failed`], given the store's outcome for each (one each,
/// in order: the caller checked the count).
fn stored(
    signed: Vec<Signed>,
    outcomes: Vec<Result<(), StoreError>>,
) -> Vec<Result<Stored, Failed>> {
    signed
        .into_iter()
        .zip(outcomes)
        .map(|(s, o)| match o {
            Ok(()) => Ok(Stored { signed: s }),
            Err(e) => Err(Failed {
                at: s.recorded.at(),
                error: e.into(),
            }),
        })
        .collect()
}

/// Stored issued: H8 done for this draft.
pub(super) struct Stored {
    signed: Signed,
}

impl Stored {
    /// The draft's place in the batch.
    pub fn at(&self) -> usize {
        self.signed.recorded.at()
    }

    /// Its buyer (H5: saved automatically).
    pub fn buyer(&self) -> &Party {
        &self.signed.recorded.prepared.invoice.draft().buyer
    }

    /// The invoice as the user sees it, not uploaded, no upload note, its buyer not saved:
    /// the batch sets those once it knows them ([`Issued::uploaded`] and the others). The
    /// rest of what was carried for it (the invoice, its request, the pending row's record)
    /// is dropped here, when it is stored.
    pub fn into_issued(self) -> Issued {
        let Signed {
            recorded,
            signed,
            record: rec,
        } = self.signed;
        Issued {
            id: recorded.id,
            kind: recorded.prepared.request.kind,
            code: rec.code,
            number: rec.number,
            counter: rec.counter,
            time: rec.time,
            check_code: rec.check_code,
            uploaded: false,
            upload_note: None,
            buyer_saved: false,
            signed: *signed,
        }
    }
}
