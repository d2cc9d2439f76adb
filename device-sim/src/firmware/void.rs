//! Voids (D7): an issued invoice, or the next blank numbers of a roll, each exactly once.
//!
//! Both commands carry a request id chosen by the host. The id is kept in the void's journal
//! record, after the signed event (outside what is signed and uploaded), and its fingerprint is
//! the record's tag, so the RAM idempotency index finds it again after a power cut (boot
//! rebuilds the index from the tags). A resend of a void that was done answers the stored
//! event, whatever happened since (a lock, a report): the RAM last-answer cache covers only the
//! frame just answered, and it is gone after a power cut. The same id with another invoice,
//! kind or count is `RequestIdConflict`.
//!
//! Records written before request ids were kept (tag 0, no id after the event) are never the
//! answer to a resend.

use super::store::{Record, RecordType};
use super::{Firmware, Res, fingerprint, refuse};
use embedded_storage::nor_flash::NorFlash;
use rand_core::CryptoRng;
use taxdisk_protocol::command::{VoidBlank, VoidRequest};
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::types::{
    BlankVoidEvent, InvoiceKind, InvoiceNumber, JournalEvent, RequestId, Signed, VoidEvent,
};
use taxdisk_protocol::{Timestamp, WireError};

/// The event of a void record and the request id kept after it; `None` for an invoice record,
/// a record without an id, or one that does not decode.
fn void_with_id(r: &Record) -> Option<(JournalEvent, RequestId)> {
    let p = r.payload();
    let (event, rest) = match r.ty {
        RecordType::Void => {
            let (s, rest) = postcard::take_from_bytes(p).ok()?;
            (JournalEvent::Void(s), rest)
        }
        RecordType::BlankVoid => {
            let (s, rest) = postcard::take_from_bytes(p).ok()?;
            (JournalEvent::BlankVoid(s), rest)
        }
        RecordType::Invoice => return None,
    };
    Some((event, rest.try_into().ok()?))
}

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    /// The stored event of the void with `request_id`, if the disk did it (`as_kind` picks
    /// the command's event); `RequestIdConflict` when the id was used for another void, or
    /// when `same` says the stored one is not what the request asks.
    fn void_done<T>(
        &mut self,
        now: Timestamp,
        request_id: &RequestId,
        as_kind: impl Fn(JournalEvent) -> Option<Signed<T>>,
        same: impl Fn(&T) -> bool,
    ) -> Res<Option<Signed<T>>> {
        let found = self.idem_find(now, fingerprint(request_id), |rec| {
            let (event, id) = void_with_id(rec)?;
            if &id != request_id {
                return None;
            }
            Some(match as_kind(event) {
                Some(s) if same(&s.body) => Ok(s),
                _ => refuse(WireError::RequestIdConflict),
            })
        })?;
        found.transpose()
    }

    /// D7 (FAQ 9.1), D3: no void of either sort while locked, nor with the clock before the
    /// newest journal entry.
    fn void_allowed(&self, now: Timestamp) -> Res<()> {
        if self.locked(now) {
            return refuse(WireError::Locked);
        }
        if now < self.last_time {
            return refuse(WireError::ClockError);
        }
        Ok(())
    }

    /// Commits a void's event at `counter` with its request id kept after it (record tag: the
    /// id's fingerprint) and indexes it for resends.
    fn commit_void<T: SignedMessage + Clone>(
        &mut self,
        now: Timestamp,
        ty: RecordType,
        counter: u64,
        request_id: &RequestId,
        body: T,
        event: fn(Signed<T>) -> JournalEvent,
    ) -> Res<Signed<T>> {
        let fp = fingerprint(request_id);
        let signed = self.commit(now, ty, counter, fp, body, request_id)?;
        self.committed(now, counter, &event(signed.clone()))?;
        self.idem_insert(fp, counter);
        Ok(signed)
    }

    pub(super) fn void(&mut self, now: Timestamp, q: &VoidRequest) -> Res<Signed<VoidEvent>> {
        let r = &q.invoice;
        // D7 once: a resend of a void that was done answers its event.
        let as_void = |e| match e {
            JournalEvent::Void(v) => Some(v),
            _ => None,
        };
        let same = |b: &VoidEvent| b.kind == r.kind && b.code == r.code && b.number == r.number;
        if let Some(v) = self.void_done(now, &q.request_id, as_void, same)? {
            return Ok(v);
        }
        self.void_allowed(now)?;
        let found = match self.find_invoice(&r.code, r.number) {
            Ok(f) => f,
            Err(e) => return Err(self.fault(now, e)),
        };
        let Some(f) = found.filter(|f| f.invoice.body.kind == r.kind) else {
            return refuse(WireError::InvoiceNotFound);
        };
        let b = &f.invoice.body;
        // D7 (FAQ 5.1, 5.4, 5.8): current period, not reported.
        if self.p.last_copied.is_some_and(|c| b.period() <= c) {
            return refuse(WireError::AlreadyReported);
        }
        if b.period() != now.period() {
            return refuse(WireError::NotCurrentPeriod);
        }
        // D7: paper kinds only; oil special invoices never (FAQ 8.6).
        if !b.kind.is_paper() {
            return refuse(WireError::VoidNotAllowed);
        }
        if b.kind == InvoiceKind::Special && b.oil.is_some() {
            return refuse(WireError::OilSpecialNoVoid);
        }
        // D7 (FAQ 5.7): a void cannot be undone or repeated.
        if f.voided {
            return refuse(WireError::AlreadyVoided);
        }
        let counter = self.counter + 1;
        let body = VoidEvent {
            serial: self.cfg.serial.clone(),
            counter,
            time: now,
            kind: b.kind,
            code: b.code.clone(),
            number: b.number,
            invoice_counter: b.counter,
        };
        self.commit_void(
            now,
            RecordType::Void,
            counter,
            &q.request_id,
            body,
            JournalEvent::Void,
        )
    }

    pub(super) fn void_blank(
        &mut self,
        now: Timestamp,
        v: VoidBlank,
    ) -> Res<Signed<BlankVoidEvent>> {
        // D7 once: a resend answers the numbers voided the first time, not the next ones.
        let as_blank = |e| match e {
            JournalEvent::BlankVoid(b) => Some(b),
            _ => None,
        };
        let same = |b: &BlankVoidEvent| b.kind == v.kind && b.count == v.count;
        if let Some(b) = self.void_done(now, &v.request_id, as_blank, same)? {
            return Ok(b);
        }
        self.void_allowed(now)?;
        // D7 (FAQ 5.2, 5.3): the next N blank numbers of the oldest roll.
        let Some(ri) = self.oldest_roll(v.kind) else {
            return refuse(WireError::NoBlankNumber);
        };
        let roll = &self.p.rolls[ri];
        if v.count == 0 || v.count > roll.left() {
            return refuse(WireError::BadArgument);
        }
        let counter = self.counter + 1;
        let body = BlankVoidEvent {
            serial: self.cfg.serial.clone(),
            counter,
            time: now,
            kind: v.kind,
            code: roll.code.clone(),
            first: InvoiceNumber::new(roll.first + roll.used)
                .map_err(|_| WireError::BadArgument)?,
            count: v.count,
        };
        self.commit_void(
            now,
            RecordType::BlankVoid,
            counter,
            &v.request_id,
            body,
            JournalEvent::BlankVoid,
        )
    }
}
