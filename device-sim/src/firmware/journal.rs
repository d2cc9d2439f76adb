//! Reading the journal (H11, D12): ReadInvoice, LastIssued, ReadEvent, ListPending and
//! AckUpload.

use super::store::RecordType;
use super::{Firmware, Res, decode_event, refuse};
use embedded_storage::nor_flash::NorFlash;
use heapless::Vec;
use rand_core::CryptoRng;
use taxdisk_protocol::command::*;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Timestamp, WireError};

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    pub(super) fn read_invoice(&mut self, now: Timestamp, r: &InvoiceRef) -> Res<InvoiceView> {
        let found = match self.find_invoice(&r.code, r.number) {
            Ok(f) => f,
            Err(e) => return Err(self.fault(now, e)),
        };
        let Some(f) = found.filter(|f| f.invoice.body.kind == r.kind) else {
            return refuse(WireError::InvoiceNotFound);
        };
        let uploaded = f.invoice.body.counter <= self.p.acked_through;
        Ok(InvoiceView {
            invoice: f.invoice,
            voided: f.voided,
            uploaded,
        })
    }

    pub(super) fn last_issued(
        &mut self,
        now: Timestamp,
        kind: Option<InvoiceKind>,
    ) -> Res<Option<InvoiceView>> {
        let mut found: Option<Signed<IssuedInvoice>> = None;
        let scan = self.store.scan_back(&mut self.flash, |r| {
            if r.ty == RecordType::Invoice
                && let Some(JournalEvent::Invoice(s)) = decode_event(r)
                && kind.is_none_or(|k| k == s.body.kind)
            {
                found = Some(s);
                return false;
            }
            true
        });
        if let Err(e) = scan {
            return Err(self.fault(now, e));
        }
        let Some(inv) = found else { return Ok(None) };
        let c = inv.body.counter;
        let mut voided = false;
        let scan = self.store.scan_from(&mut self.flash, c, |r| {
            if let Some(JournalEvent::Void(v)) = decode_event(r)
                && v.body.invoice_counter == c
            {
                voided = true;
                return false;
            }
            true
        });
        if let Err(e) = scan {
            return Err(self.fault(now, e));
        }
        Ok(Some(InvoiceView {
            uploaded: c <= self.p.acked_through,
            invoice: inv,
            voided,
        }))
    }

    pub(super) fn read_event(&mut self, now: Timestamp, c: u64) -> Res<EventView> {
        if c == 0 || c > self.counter {
            return refuse(WireError::BadArgument);
        }
        let rec = match self.store.find(&mut self.flash, c) {
            Ok(r) => r,
            Err(e) => return Err(self.fault(now, e)),
        };
        let Some(event) = rec.as_ref().and_then(decode_event) else {
            return refuse(WireError::InvoiceNotFound);
        };
        Ok(EventView {
            event,
            uploaded: c <= self.p.acked_through,
        })
    }

    pub(super) fn list_pending(
        &mut self,
        now: Timestamp,
        l: ListPending,
    ) -> Res<Vec<JournalEvent, EVENTS_PER_PAGE>> {
        // D12: events not yet acknowledged, in counter order.
        let max = (l.max as usize).min(EVENTS_PER_PAGE);
        let mut out: Vec<JournalEvent, EVENTS_PER_PAGE> = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        let after = l.after_counter.max(self.p.acked_through);
        let scan = self.store.scan_from(&mut self.flash, after, |r| {
            if let Some(e) = decode_event(r) {
                let _ = out.push(e);
            }
            out.len() < max
        });
        if let Err(e) = scan {
            return Err(self.fault(now, e));
        }
        Ok(out)
    }

    pub(super) fn ack_upload(&mut self, now: Timestamp, r: &Signed<UploadReceipt>) -> Res<u32> {
        // D12: a bureau-signed receipt for this disk, naming only events it holds.
        self.verify(r, &r.body.serial)?;
        let through = r.body.through_counter;
        if through > self.counter {
            return refuse(WireError::UnknownEvents);
        }
        if through <= self.p.acked_through {
            return Ok(0);
        }
        let newly = through - self.p.acked_through;
        let mut next = self.p.clone();
        next.acked_through = through;
        self.save(now, next)?;
        if let Err(e) = self.recompute_pending() {
            return Err(self.fault(now, e));
        }
        Ok(newly.min(u32::MAX as u64) as u32)
    }
}
