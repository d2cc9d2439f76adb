//! Issuing (D5, D6, D9, D11): the issue path, its idempotency by request id, the offline
//! limits, a red invoice's original, and looking an invoice up in the journal.

use super::store::{Record, RecordType, StoreError};
use super::{Firmware, Found, IDEM_WINDOW, Res, decode_event, fingerprint, refuse, store_err};
use embedded_storage::nor_flash::NorFlash;
use heapless::Vec;
use rand_core::CryptoRng;
use taxdisk_protocol::command::*;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Timestamp, WireError};

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    pub(super) fn issue(&mut self, now: Timestamp, q: &IssueRequest) -> Res<Signed<IssuedInvoice>> {
        // D5: a retry with the same request id gets the stored answer.
        if let Some(stored) = self.idempotent(now, q)? {
            return Ok(stored);
        }
        let k = q.kind;
        let lim = self.p.limits[k.index()];
        // D5 (FAQ 3.5, 7.13): kind authorized.
        if !self.p.is_authorized(k) {
            return refuse(WireError::KindNotAuthorized);
        }
        // D5, D10 (FAQ 10.6): a used-car invoice needs the used-car authorization type
        // (market, auction or dealer) besides the kind.
        if k == InvoiceKind::UsedCar && self.p.used_car_role == UsedCarRole::None {
            return refuse(WireError::KindNotAuthorized);
        }
        // D5 (FAQ 4.8): a blank number of the oldest roll.
        let Some(ri) = self.oldest_roll(k) else {
            return refuse(WireError::NoBlankNumber);
        };
        // D5: single-invoice limit on the tax-excluded amount (red: its magnitude).
        if q.amount.0.unsigned_abs() > lim.single_limit.0.max(0) as u64 {
            return refuse(WireError::OverSingleLimit);
        }
        // D5 (FAQ 4.10): amount plus tax is zero.
        if q.amount.0.saturating_add(q.tax.0) == 0 {
            return refuse(WireError::ZeroTotal);
        }
        // D6: blue positive, red negative and naming what it reverses.
        match &q.red {
            None if q.amount.0 < 0 || q.tax.0 < 0 => return refuse(WireError::SignMismatch),
            Some(_) if q.amount.0 > 0 || q.tax.0 > 0 => return refuse(WireError::SignMismatch),
            Some(RedRef::InfoForm(_)) if k != InvoiceKind::Special => {
                return refuse(WireError::ReversalNotAllowed);
            }
            Some(RedRef::Original { .. }) if k == InvoiceKind::Special => {
                return refuse(WireError::ReversalNotAllowed);
            }
            _ => {}
        }
        if q.variant != Variant::Standard && k != InvoiceKind::Normal {
            return refuse(WireError::BadArgument);
        }
        // D5/D8 (FAQ 9.1): locked.
        if self.locked(now) {
            return refuse(WireError::Locked);
        }
        // D5 (FAQ 9.1): a new month began and the last period is not reported.
        if self.period_unreported(now) {
            return refuse(WireError::PeriodNotReported);
        }
        // D9: offline limits.
        self.check_offline(now, q)?;
        // D11: oil.
        if let Some(oil) = q.oil {
            if self.p.oil_role == OilRole::None || self.p.oil_valid_until.is_some_and(|t| now > t) {
                return refuse(WireError::OilNotAuthorized);
            }
            if oil.milli_quantity <= 0 {
                return refuse(WireError::BadArgument);
            }
            if self.p.oil_role == OilRole::Dealer && q.red.is_none() {
                let have = self
                    .p
                    .oil
                    .iter()
                    .find(|e| e.category == oil.category)
                    .map_or(0, |e| e.milli_quantity);
                if have < oil.milli_quantity {
                    return refuse(WireError::OilStockShort);
                }
            }
        }
        // D3: the clock may not be earlier than the newest journal entry.
        if now < self.last_time {
            return refuse(WireError::ClockError);
        }
        // D6: the original of a red invoice (a journal scan, so last).
        if let Some(RedRef::Original { code, number }) = &q.red {
            self.check_original(now, q, code, *number)?;
        }
        let roll = &self.p.rolls[ri];
        let number =
            InvoiceNumber::new(roll.first + roll.used).map_err(|_| WireError::BadArgument)?;
        let id = self.identity()?;
        let counter = self.counter + 1;
        let body = IssuedInvoice {
            serial: self.cfg.serial.clone(),
            machine: id.machine,
            kind: k,
            variant: q.variant,
            code: roll.code.clone(),
            number,
            counter,
            time: now,
            request_id: q.request_id,
            content_digest: q.content_digest,
            buyer: q.buyer.clone(),
            amount: q.amount,
            tax: q.tax,
            red: q.red.clone(),
            oil: q.oil,
        };
        let signed = self.commit(
            now,
            RecordType::Invoice,
            counter,
            fingerprint(&q.request_id),
            body,
            &[],
        )?;
        let ev = JournalEvent::Invoice(signed);
        self.committed(now, counter, &ev)?;
        self.idem_insert(fingerprint(&q.request_id), counter);
        match ev {
            JournalEvent::Invoice(s) => Ok(s),
            // The event was built as an invoice two lines above.
            _ => refuse(WireError::StorageFault),
        }
    }

    fn idempotent(
        &mut self,
        now: Timestamp,
        q: &IssueRequest,
    ) -> Res<Option<Signed<IssuedInvoice>>> {
        let found = self.idem_find(now, fingerprint(&q.request_id), |rec| {
            let Some(JournalEvent::Invoice(s)) = decode_event(rec) else {
                return None;
            };
            if s.body.request_id != q.request_id {
                return None;
            }
            let b = &s.body;
            let same = b.kind == q.kind
                && b.variant == q.variant
                && b.buyer == q.buyer
                && b.amount == q.amount
                && b.tax == q.tax
                && b.content_digest == q.content_digest
                && b.red == q.red
                && b.oil == q.oil;
            Some(if same {
                Ok(s)
            } else {
                refuse(WireError::RequestIdConflict)
            })
        })?;
        found.transpose()
    }

    /// The first answer `pick` makes of a journal record whose request id fingerprint is `fp`,
    /// newest index slots in no particular order (D5, D7 idempotency). `pick` answers `None`
    /// for a record that is not the request's (another id with the same fingerprint).
    pub(super) fn idem_find<T>(
        &mut self,
        now: Timestamp,
        fp: u32,
        mut pick: impl FnMut(&Record) -> Option<T>,
    ) -> Res<Option<T>> {
        // Every issue scans the whole window, nearly always for nothing: a group of slots is
        // compared without an early exit (vector compares), and only a group that holds the
        // fingerprint is looked into.
        const GROUP: usize = 16;
        // The groups tile the window (a compile-time check: the slices below stay in bounds).
        const _: () = assert!(IDEM_WINDOW.is_multiple_of(GROUP));
        for group in (0..IDEM_WINDOW).step_by(GROUP).map(|at| at..at + GROUP) {
            let held = self.idem_fp[group.clone()]
                .iter()
                .fold(false, |hit, f| hit | (*f == fp));
            if !held {
                continue;
            }
            for i in group {
                let c = self.idem_counter[i];
                if self.idem_fp[i] != fp || c == 0 {
                    continue;
                }
                let rec = match self.store.find(&mut self.flash, c) {
                    Ok(r) => r,
                    Err(e) => return Err(self.fault(now, e)),
                };
                if let Some(found) = rec.as_ref().and_then(&mut pick) {
                    return Ok(Some(found));
                }
            }
        }
        Ok(None)
    }

    fn check_offline(&self, now: Timestamp, q: &IssueRequest) -> Res<()> {
        let k = q.kind;
        let lim = self.p.limits[k.index()];
        let p = self.pending[k.index()];
        // D9: invoices of an earlier period still not uploaded after the upload deadline.
        let oldest_any = self.pending.iter().filter_map(|p| p.oldest).min();
        if now > self.p.upload_deadline && oldest_any.is_some_and(|t| t.period() < now.period()) {
            return refuse(WireError::UploadDeadlinePassed);
        }
        // D9: limits of 0 allow one not-uploaded invoice at a time.
        if lim.offline_hours == 0 && p.invoices > 0 {
            return refuse(WireError::OfflineHoursExceeded);
        }
        if lim.offline_amount.0 <= 0 && p.invoices > 0 {
            return refuse(WireError::OfflineAmountExceeded);
        }
        if lim.offline_hours > 0
            && let Some(t) = p.oldest
            && now.0.saturating_sub(t.0) >= lim.offline_hours as u64 * 3600
        {
            return refuse(WireError::OfflineHoursExceeded);
        }
        if lim.offline_amount.0 > 0
            && q.amount.0 > 0
            && p.amount.saturating_add(q.amount.0) > lim.offline_amount.0
        {
            return refuse(WireError::OfflineAmountExceeded);
        }
        Ok(())
    }

    /// D6: the original must exist (unless old records were reclaimed), not be voided, be of
    /// the same kind and blue, and not be reversed beyond its amount.
    fn check_original(
        &mut self,
        now: Timestamp,
        q: &IssueRequest,
        code: &InvoiceCode,
        number: InvoiceNumber,
    ) -> Res<()> {
        let found = match self.find_invoice(code, number) {
            Ok(f) => f,
            Err(e) => return Err(self.fault(now, e)),
        };
        let Some(f) = found else {
            if self.journal_reclaimed()? {
                return Ok(());
            }
            return refuse(WireError::OriginalNotFound);
        };
        let o = &f.invoice.body;
        if f.voided {
            return refuse(WireError::OriginalVoided);
        }
        if o.kind != q.kind || o.is_red() {
            return refuse(WireError::ReversalNotAllowed);
        }
        if o.kind == InvoiceKind::UsedCar && q.amount.0 != o.amount.0.saturating_neg() {
            return refuse(WireError::ReversalNotAllowed);
        }
        if f.reversed.saturating_add(q.amount.0.saturating_neg()) > o.amount.0 {
            return refuse(WireError::ReversalNotAllowed);
        }
        Ok(())
    }

    fn journal_reclaimed(&mut self) -> Res<bool> {
        let first = self.store.find(&mut self.flash, 1).map_err(store_err)?;
        Ok(self.counter > 0 && first.is_none())
    }

    /// Finds an invoice by code and number, newest records first, with whether it was voided
    /// and how much red invoices already reversed of it.
    pub(super) fn find_invoice(
        &mut self,
        code: &InvoiceCode,
        number: InvoiceNumber,
    ) -> Result<Option<Found>, StoreError> {
        let mut voided_reds: Vec<u64, 32> = Vec::new();
        let mut voided = false;
        let mut reversed: i64 = 0;
        let mut found: Option<Signed<IssuedInvoice>> = None;
        self.store.scan_back(&mut self.flash, |r| {
            match decode_event(r) {
                Some(JournalEvent::Void(v)) => {
                    if &v.body.code == code && v.body.number == number {
                        voided = true;
                    } else {
                        let _ = voided_reds.push(v.body.invoice_counter);
                    }
                }
                Some(JournalEvent::Invoice(s)) => {
                    if &s.body.code == code && s.body.number == number {
                        found = Some(s);
                        return false;
                    }
                    if let Some(RedRef::Original { code: c, number: n }) = &s.body.red
                        && c == code
                        && *n == number
                        && !voided_reds.contains(&s.body.counter)
                    {
                        reversed = reversed.saturating_add(s.body.amount.0.saturating_neg());
                    }
                }
                _ => {}
            }
            true
        })?;
        Ok(found.map(|invoice| Found {
            invoice,
            voided,
            reversed,
        }))
    }
}
