//! Upload and repair (H11, FAQ 4.9, 4.14, 4.22).
//!
//! - Upload: every journal event the disk has not had acknowledged, in counter order and in
//!   batches, to the bureau; its signed receipt goes back to the disk (D12, releasing the
//!   offline limits) and the store marks the invoices uploaded.
//! - Repair (发票修复): reconciles the store with the disk journal. The journal is read back
//!   from the newest event until every pending row is decided: a pending row whose request id
//!   is in the journal becomes issued with the disk's record; one that is not was never signed
//!   and becomes abandoned. Voids the disk made that the store missed are recorded. Then
//!   everything the bureau lacks is sent again, acknowledged events included (FAQ 4.22(2)).
//!
//! Stopping point of the scan: the host issues one invoice at a time, so an invoice signed for
//! a pending row has a counter above every invoice the store knew as signed when that row was
//! recorded; the scan stops at the first journal invoice the store holds as signed whose row is
//! older than the oldest pending row (or at [`MAX_REPAIR_SCAN`] events). From there it reads on
//! through the current period (voids are only possible there, D7), at most
//! [`VOID_SCAN_WINDOW`] events, for voids the store missed.
//!
//! A bad link does not stop a repair: each journal read that gets no answer is asked again, up
//! to [`REPAIR_READ_ROUNDS`] rounds of the client's resends, since reading changes nothing.
//!
//! What the disk signed is the truth (FAQ 4.22(1)): every stored invoice the scan meets is
//! compared with the disk's signed record. Amount, tax and the buyer's taxpayer id (the
//! columns `list` and the month queries show) are put back to the signed values; content whose
//! digest no longer matches the signed one (lines, names) cannot be rebuilt from the disk and is
//! reported as not matching. Each mismatch is in [`RepairReport::mismatched`] and the audit log.

use super::Workflow;
use super::errors::WorkflowError;
use super::issue::disk_record;
use crate::disk::DiskError;
use crate::store::{InvoiceId, InvoiceState, Role};
use std::collections::HashMap;
use taxdisk_protocol::bureau_api::{Rejection, Upload};
use taxdisk_protocol::types::{EventView, InvoiceCode, InvoiceNumber, JournalEvent, RequestId};

/// Rounds of the disk client's attempts a repair gives one journal read before it stops: a
/// read changes nothing on the disk, so on a bad link it is simply asked again (the client
/// already resends each request `attempts` times per round).
pub const REPAIR_READ_ROUNDS: u32 = 10;

/// Events sent in one upload request.
pub const UPLOAD_BATCH: usize = 500;
/// Most journal events one repair reads back.
pub const MAX_REPAIR_SCAN: u64 = 100_000;
/// Most events of the current period read back for missed voids after the pending rows are
/// decided.
pub const VOID_SCAN_WINDOW: u64 = 2_000;

/// What an upload did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadReport {
    /// Events sent.
    pub sent: u32,
    /// Events the bureau accepted.
    pub accepted: u32,
    /// Events the disk newly marked uploaded.
    pub acknowledged: u32,
    /// Invoices the store newly marked uploaded.
    pub marked: u32,
    /// The bureau's receipt covers the journal up to this counter.
    pub through_counter: Option<u64>,
    /// Events refused, with the bureau's reasons (B3).
    pub rejected: Vec<Rejection>,
}

/// What a repair did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// Journal events read back.
    pub scanned: u64,
    /// Pending rows the disk had signed: now issued.
    pub issued: Vec<InvoiceId>,
    /// Pending rows the disk never signed: now abandoned.
    pub abandoned: Vec<InvoiceId>,
    /// Pending rows left undecided (the scan limit was reached).
    pub undecided: Vec<InvoiceId>,
    /// Voids on the disk the store had missed: now voided.
    pub voided: Vec<InvoiceId>,
    /// Invoices in the journal this store has no record of (issued by another installation).
    pub unknown_on_disk: Vec<(InvoiceCode, InvoiceNumber)>,
    /// Stored invoices that differed from what the disk signed.
    pub mismatched: Vec<Mismatch>,
    /// The upload of what the bureau lacked, when a bureau is set and reachable.
    pub upload: Option<UploadReport>,
    /// Why the upload did not happen, if it did not.
    pub upload_note: Option<String>,
}

/// A stored invoice that said something else than the disk signed (H11, FAQ 4.22(1)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The row.
    pub id: InvoiceId,
    /// Its code.
    pub code: InvoiceCode,
    /// Its number.
    pub number: InvoiceNumber,
    /// What differed, one phrase each (`amount 999.00, signed 100.00`).
    pub differences: Vec<String>,
    /// Whether amount, tax and buyer were put back to the signed values.
    pub restored: bool,
    /// Whether the content (lines, names) differs from what the disk signed: it cannot be
    /// rebuilt from the disk; print and export of this row do not show what was signed.
    pub content_differs: bool,
}

impl Workflow {
    /// H11 (FAQ 4.22(1)): compares a stored invoice with the disk's signed record, puts the
    /// signed amount, tax and buyer back where the row says otherwise, and reports it.
    fn check_against_signed(
        &mut self,
        actor: crate::store::UserId,
        id: InvoiceId,
        signed: &taxdisk_protocol::types::Signed<taxdisk_protocol::types::IssuedInvoice>,
        report: &mut RepairReport,
    ) -> Result<(), WorkflowError> {
        let b = &signed.body;
        let (amount, tax, buyer) = self.store.listed_totals(id)?;
        let signed_buyer = b.buyer.as_ref().map(|t| t.as_str().to_owned());
        let mut differences = Vec::new();
        if amount != b.amount {
            differences.push(format!("amount {amount}, signed {}", b.amount));
        }
        if tax != b.tax {
            differences.push(format!("tax {tax}, signed {}", b.tax));
        }
        if buyer != signed_buyer {
            differences.push(format!(
                "buyer's taxpayer id {}, signed {}",
                buyer.as_deref().unwrap_or("none"),
                signed_buyer.as_deref().unwrap_or("none")
            ));
        }
        let restored = !differences.is_empty();
        if restored {
            self.store.restore_signed_totals(
                actor,
                id,
                (b.amount, b.tax, signed_buyer.as_deref()),
            )?;
        }
        let stored = self.store.invoice(id)?;
        let content_differs =
            crate::invoice::digest::content_digest(&stored.invoice) != b.content_digest;
        if content_differs {
            differences.push("lines or names differ from the signed content".into());
            self.store.record(
                Some(actor),
                "repair",
                &format!(
                    "invoice {}: its content differs from what the disk signed ({} {})",
                    id.0, b.code, b.number
                ),
            )?;
        }
        if !differences.is_empty() {
            report.mismatched.push(Mismatch {
                id,
                code: b.code.clone(),
                number: b.number,
                differences,
                restored,
                content_differs,
            });
        }
        Ok(())
    }

    /// H11: uploads every event not yet acknowledged (manual upload, FAQ 4.9, 4.14).
    pub fn upload(&mut self) -> Result<UploadReport, WorkflowError> {
        self.require_bureau("upload")?;
        let events = self.disk.list_pending()?;
        self.send_events(events)
    }

    /// Sends `events` in batches, hands each receipt to the disk and marks the store.
    fn send_events(&mut self, events: Vec<JournalEvent>) -> Result<UploadReport, WorkflowError> {
        let bureau = self.require_bureau("upload")?.clone();
        let serial = self.serial()?;
        let mut report = UploadReport::default();
        let mut rest = events;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(UPLOAD_BATCH));
            let batch = std::mem::replace(&mut rest, tail);
            report.sent += u32::try_from(batch.len()).unwrap_or(u32::MAX);
            let result = bureau.upload(&Upload {
                serial: serial.clone(),
                events: batch,
            })?;
            report.accepted += result.accepted;
            let refused = !result.rejected.is_empty();
            report.rejected.extend(result.rejected);
            if let Some(receipt) = result.receipt {
                let through = receipt.body.through_counter;
                if report.through_counter.is_none_or(|t| t < through) {
                    report.acknowledged += self.disk.ack_upload(receipt)?;
                    let n = self.store.mark_uploaded_through(through)?;
                    report.marked += u32::try_from(n).unwrap_or(u32::MAX);
                    report.through_counter = Some(through);
                }
            }
            if refused {
                // Later events would leave a counter gap: stop and report.
                break;
            }
        }
        Ok(report)
    }

    /// H11 (FAQ 4.22): repair. See the module docs.
    pub fn repair(&mut self) -> Result<RepairReport, WorkflowError> {
        let user = self.require_user("repair")?;
        let info = self.refresh_info()?;
        let mut report = RepairReport::default();
        let pending = self.store.pending_invoices()?;
        let mut open: HashMap<RequestId, InvoiceId> =
            pending.iter().map(|p| (p.request_id, p.id)).collect();
        let oldest_pending = pending.iter().map(|p| p.id).min();
        let current = info.period.unwrap_or_else(|| info.time.period());
        let mut counter = info.counter;
        let floor = info.counter.saturating_sub(MAX_REPAIR_SCAN);
        // Once every pending row is decided, voids are still looked for: only invoices of the
        // current period can be voided (D7), so the scan goes on through the current period's
        // events, at most VOID_SCAN_WINDOW more.
        let mut extra: Option<u64> = None;
        while counter > floor {
            let view = match self.read_event_patiently(counter) {
                Ok(v) => v,
                Err(e) if e.wire_error().is_some() => {
                    // Reclaimed (D13) or never written: nothing older to learn.
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(n) = extra {
                if view.event.time().period() != current || n >= VOID_SCAN_WINDOW {
                    break;
                }
                extra = Some(n + 1);
            }
            report.scanned += 1;
            counter -= 1;
            match view.event {
                JournalEvent::Invoice(s) => {
                    let b = &s.body;
                    if let Some(id) = open.remove(&b.request_id) {
                        self.store.mark_issued(id, &disk_record(&s))?;
                        if view.uploaded {
                            self.store.mark_uploaded(id)?;
                        }
                        report.issued.push(id);
                        self.check_against_signed(user.id, id, &s, &mut report)?;
                        continue;
                    }
                    match self.store.invoice_by_number(&b.code, b.number)? {
                        None => report.unknown_on_disk.push((b.code.clone(), b.number)),
                        Some(row) => {
                            self.check_against_signed(user.id, row.id, &s, &mut report)?;
                            if row.state == InvoiceState::Issued && view.uploaded {
                                self.store.mark_uploaded(row.id)?;
                            }
                            if extra.is_none()
                                && (open.is_empty() || oldest_pending.is_some_and(|p| row.id < p))
                            {
                                extra = Some(0);
                            }
                        }
                    }
                }
                JournalEvent::Void(v) => {
                    let b = &v.body;
                    if let Some(row) = self.store.invoice_by_number(&b.code, b.number)?
                        && matches!(row.state, InvoiceState::Issued | InvoiceState::Uploaded)
                    {
                        // The disk voided it (D7 cannot be undone): record it under the
                        // issuer's name unless the administrator repairs.
                        let actor = if user.role == Role::Admin {
                            user.id
                        } else {
                            row.issuer
                        };
                        self.store.mark_voided(actor, row.id)?;
                        report.voided.push(row.id);
                    }
                }
                JournalEvent::BlankVoid(_) => {}
            }
        }
        let mut left: Vec<InvoiceId> = open.into_values().collect();
        left.sort();
        let truncated = extra.is_none() && counter <= floor && floor > 0;
        for id in left {
            if truncated {
                report.undecided.push(id);
            } else {
                self.store
                    .mark_abandoned(user.id, id, "repair: not in the disk journal (H11)")?;
                report.abandoned.push(id);
            }
        }
        if self.bureau.is_some() {
            match self.resend_missing() {
                Ok(u) => report.upload = Some(u),
                Err(e) => report.upload_note = Some(e.to_string()),
            }
        }
        self.info = None;
        Ok(report)
    }

    /// Reads journal event `counter`, asking again while the link loses the answer (up to
    /// [`REPAIR_READ_ROUNDS`] rounds): a read has no effect on the disk, so repair makes
    /// progress on a link that drops many frames instead of giving up at the first read whose
    /// resends all failed.
    fn read_event_patiently(&mut self, counter: u64) -> Result<EventView, DiskError> {
        let mut round = 1;
        loop {
            match self.disk.read_event(counter) {
                Err(e) if e.outcome_unknown() && round < REPAIR_READ_ROUNDS => {
                    tracing::debug!(counter, round, error = %e, "journal read lost; asking again");
                    round += 1;
                }
                other => return other,
            }
        }
    }

    /// H11: sends every journal event after the bureau's gapless counter, acknowledged ones
    /// included, then whatever is still pending.
    fn resend_missing(&mut self) -> Result<UploadReport, WorkflowError> {
        let bureau = self.require_bureau("repair upload")?.clone();
        let serial = self.serial()?;
        let through = bureau.disk(&serial)?.through_counter;
        let newest = self.refresh_info()?.counter;
        let mut events = Vec::new();
        let mut c = through + 1;
        while c <= newest {
            match self.read_event_patiently(c) {
                Ok(v) => events.push(v.event),
                Err(e) if e.wire_error().is_some() => {}
                Err(e) => return Err(e.into()),
            }
            c += 1;
        }
        let mut report = self.send_events(events)?;
        let more = self.disk.list_pending()?;
        if !more.is_empty() {
            let r = self.send_events(more)?;
            report.sent += r.sent;
            report.accepted += r.accepted;
            report.acknowledged += r.acknowledged;
            report.marked += r.marked;
            report.through_counter = r.through_counter.or(report.through_counter);
            report.rejected.extend(r.rejected);
        }
        Ok(report)
    }
}
