//! Boot: the RAM state (rolls, oil stock, newest time, pending totals, idempotency index)
//! rebuilt from the journal, and the changes each journal event makes to it.

use super::persist::Pending;
use super::store::StoreError;
use super::{Firmware, IDEM_WINDOW, decode_event};
use embedded_storage::nor_flash::NorFlash;
use heapless::Vec;
use rand_core::CryptoRng;
use taxdisk_protocol::types::*;

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    /// Rebuilds the RAM state from the journal: records newer than the snapshot change rolls,
    /// oil and the counter; records not yet acknowledged make the pending totals; the newest
    /// invoices fill the idempotency index.
    pub(super) fn replay(&mut self) -> Result<(), StoreError> {
        let journal_last = self.store.journal().last_counter;
        if journal_last < self.p.counter_at_write {
            // The snapshot names events the journal does not hold.
            return Err(StoreError::Flash);
        }
        let from = self.p.acked_through.min(self.p.counter_at_write);
        let mut cur = self.store.cursor_after(&mut self.flash, from)?;
        while let Some(r) = self.store.next(&mut self.flash, &mut cur)? {
            let c = r.counter;
            if c <= from {
                continue;
            }
            let Some(e) = decode_event(&r) else { continue };
            if c > self.p.counter_at_write {
                self.apply_event(&e)?;
                self.counter = c;
            }
            if c > self.p.acked_through {
                self.add_pending(&e);
            }
        }
        self.counter = self.counter.max(journal_last);
        // Idempotency index: the newest events (invoices, voids, blank voids).
        let mut newest: Vec<(u32, u64), IDEM_WINDOW> = Vec::new();
        self.store.scan_back(&mut self.flash, |r| {
            let _ = newest.push((r.tag, r.counter));
            !newest.is_full()
        })?;
        for (fp, c) in newest.iter().rev() {
            self.idem_insert(*fp, *c);
        }
        Ok(())
    }

    pub(super) fn idem_insert(&mut self, fp: u32, counter: u64) {
        self.idem_fp[self.idem_next] = fp;
        self.idem_counter[self.idem_next] = counter;
        self.idem_next = (self.idem_next + 1) % IDEM_WINDOW;
    }

    /// The changes an event makes to rolls, oil stock and the newest time (issue, replay).
    pub(super) fn apply_event(&mut self, e: &JournalEvent) -> Result<(), StoreError> {
        match e {
            JournalEvent::Invoice(s) => {
                let b = &s.body;
                let n = b.number.get();
                if let Some(r) = self.p.rolls.iter_mut().find(|r| r.contains(&b.code, n)) {
                    r.used = r.used.max(n - r.first + 1);
                }
                if let Some(oil) = b.oil {
                    let sign = if b.is_red() { 1 } else { -1 };
                    self.move_oil(oil, sign);
                }
            }
            JournalEvent::Void(s) => {
                let invoice = self.store.find(&mut self.flash, s.body.invoice_counter)?;
                if let Some(JournalEvent::Invoice(inv)) = invoice.as_ref().and_then(decode_event)
                    && let Some(oil) = inv.body.oil
                {
                    // The void undoes the invoice's movement.
                    let sign = if inv.body.is_red() { -1 } else { 1 };
                    self.move_oil(oil, sign);
                }
            }
            JournalEvent::BlankVoid(s) => {
                let b = &s.body;
                let n = b.first.get();
                if let Some(r) = self.p.rolls.iter_mut().find(|r| r.contains(&b.code, n)) {
                    r.used = r.used.max(n - r.first + b.count);
                }
            }
        }
        let t = e.time();
        if t > self.last_time {
            self.last_time = t;
        }
        Ok(())
    }

    /// D11: a dealer's stock moves with its invoices; a producer's does not.
    fn move_oil(&mut self, oil: OilUse, sign: i64) {
        if self.p.oil_role != OilRole::Dealer {
            return;
        }
        if let Some(e) = self.p.oil.iter_mut().find(|e| e.category == oil.category) {
            e.milli_quantity = e
                .milli_quantity
                .saturating_add(sign.saturating_mul(oil.milli_quantity));
        }
    }

    pub(super) fn add_pending(&mut self, e: &JournalEvent) {
        let p = &mut self.pending[e.kind().index()];
        p.events += 1;
        if let JournalEvent::Invoice(s) = e {
            p.invoices += 1;
            if p.oldest.is_none() {
                p.oldest = Some(s.body.time);
            }
            if s.body.amount.0 > 0 {
                p.amount = p.amount.saturating_add(s.body.amount.0);
            }
        }
    }

    pub(super) fn recompute_pending(&mut self) -> Result<(), StoreError> {
        self.pending = [Pending::default(); 6];
        let after = self.p.acked_through;
        let mut cur = self.store.cursor_after(&mut self.flash, after)?;
        while let Some(r) = self.store.next(&mut self.flash, &mut cur)? {
            if r.counter > after
                && let Some(e) = decode_event(&r)
            {
                self.add_pending(&e);
            }
        }
        Ok(())
    }
}
