//! Periods (D8): the copy-tax summary of a finished month and the clear-card token.

use super::persist::Identity;
use super::store::StoreError;
use super::{Firmware, Res, decode_event, refuse};
use embedded_storage::nor_flash::NorFlash;
use heapless::Vec;
use rand_core::CryptoRng;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Period, Timestamp, WireError};

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    pub(super) fn copy_tax(
        &mut self,
        now: Timestamp,
        period: Period,
    ) -> Res<Signed<PeriodSummary>> {
        let id = self.identity()?.clone();
        // D8: only a finished period.
        if period >= now.period() {
            return refuse(WireError::PeriodNotFinished);
        }
        // D8: repeating the last copy answers the same summary.
        if self.p.last_copied == Some(period)
            && let Some(s) = &self.p.summary
            && s.body.period == period
        {
            return Ok(s.clone());
        }
        // D8: periods are copied in order, from the provisioning period on.
        let expected = self.p.last_copied.map_or(id.first_period, Period::next);
        if period != expected {
            return refuse(WireError::PeriodNotCopyable);
        }
        let summary = match self.summarize(&id, period, now) {
            Ok(s) => s,
            Err(e) => return Err(self.fault(now, e)),
        };
        let signed = self.sign_body(summary)?;
        let mut next = self.p.clone();
        next.last_copied = Some(period);
        next.summary = Some(signed.clone());
        self.save(now, next)?;
        Ok(signed)
    }

    fn summarize(
        &mut self,
        id: &Identity,
        period: Period,
        now: Timestamp,
    ) -> Result<PeriodSummary, StoreError> {
        let mut kinds: [KindSummary; 6] = Default::default();
        let mut active = [false; 6];
        let (mut first, mut last) = (0u64, 0u64);
        let start = period.start();
        // Newest first; stop at the first event before the period. A void is met before the
        // invoice it voids (same period, D7): its amounts are taken out there, and the invoice
        // adds them back when met, so voided invoices count but their amounts do not.
        let mut cur = self.store.cursor_end();
        while let Some(r) = self.store.prev(&mut self.flash, &mut cur)? {
            let Some(e) = decode_event(&r) else { continue };
            let t = e.time();
            if t < start {
                break;
            }
            if !period.contains(t) {
                continue;
            }
            let c = r.counter;
            if last == 0 {
                last = c;
            }
            first = c;
            let i = e.kind().index();
            active[i] = true;
            match &e {
                JournalEvent::Invoice(inv) => {
                    let b = &inv.body;
                    let s = &mut kinds[i];
                    if b.is_red() {
                        s.negative_count += 1;
                        s.negative_amount = s.negative_amount.saturating_add(b.amount);
                        s.negative_tax = s.negative_tax.saturating_add(b.tax);
                    } else {
                        s.positive_count += 1;
                        s.positive_amount = s.positive_amount.saturating_add(b.amount);
                        s.positive_tax = s.positive_tax.saturating_add(b.tax);
                    }
                }
                JournalEvent::Void(v) => {
                    kinds[i].void_count += 1;
                    let inv = self.store.find(&mut self.flash, v.body.invoice_counter)?;
                    if let Some(JournalEvent::Invoice(inv)) = inv.as_ref().and_then(decode_event) {
                        let b = &inv.body;
                        let s = &mut kinds[b.kind.index()];
                        let (amount, tax) = (
                            Fen(b.amount.0.saturating_neg()),
                            Fen(b.tax.0.saturating_neg()),
                        );
                        if b.is_red() {
                            s.negative_amount = s.negative_amount.saturating_add(amount);
                            s.negative_tax = s.negative_tax.saturating_add(tax);
                        } else {
                            s.positive_amount = s.positive_amount.saturating_add(amount);
                            s.positive_tax = s.positive_tax.saturating_add(tax);
                        }
                    }
                }
                JournalEvent::BlankVoid(b) => {
                    kinds[i].blank_void_count += b.body.count;
                }
            }
        }
        let mut out: Vec<(InvoiceKind, KindSummary), 6> = Vec::new();
        for k in InvoiceKind::ALL {
            if active[k.index()] {
                let _ = out.push((k, kinds[k.index()].clone()));
            }
        }
        Ok(PeriodSummary {
            serial: self.cfg.serial.clone(),
            taxpayer_id: id.taxpayer_id.clone(),
            period,
            kinds: out,
            first_counter: first,
            last_counter: last,
            time: now,
        })
    }

    pub(super) fn clear_card(&mut self, now: Timestamp, t: &Signed<ClearCardToken>) -> Res<()> {
        self.verify(t, &t.body.serial)?;
        let b = &t.body;
        if b.seq <= self.p.seqs.clear {
            return refuse(WireError::Replayed);
        }
        // D8: clear only a copied period.
        if self.p.last_copied.is_none_or(|c| b.period > c) {
            return refuse(WireError::NotCopied);
        }
        let mut next = self.p.clone();
        next.seqs.clear = b.seq;
        next.lock_time = b.next_lock_time;
        next.upload_deadline = b.upload_deadline;
        for l in &b.limits {
            next.limits[l.kind.index()] = *l;
        }
        if next.last_cleared.is_none_or(|c| b.period > c) {
            next.last_cleared = Some(b.period);
        }
        // D4: the bureau clears only a reported period, so the token proves the report too.
        if next.last_reported.is_none_or(|r| b.period > r) {
            next.last_reported = Some(b.period);
        }
        self.save(now, next)
    }
}
