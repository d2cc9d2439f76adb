//! Helpers every rule uses: token verification, state snapshots (saved durable before RAM
//! takes them, D13), the signing key, and the journal commit of a signed event.

use super::persist::{Identity, Persist};
use super::store::{MAX_RECORD_PAYLOAD, MAX_STATE_PAYLOAD, Record, RecordType};
use super::{Firmware, Res, decode_event, refuse, store};
use embedded_storage::nor_flash::NorFlash;
use rand_core::CryptoRng;
use taxdisk_protocol::message::{MAX_MESSAGE, SignedMessage};
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Refusal, Timestamp, WireError};

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    /// Verifies a bureau token: signature (forged), then serial (another disk).
    pub(super) fn verify<T: SignedMessage>(&self, t: &Signed<T>, serial: &DeviceSerial) -> Res<()> {
        let vk = self.bureau.as_ref().ok_or(WireError::BadSignature)?;
        t.verify(vk).map_err(|_| WireError::BadSignature)?;
        if serial != &self.cfg.serial {
            return refuse(WireError::WrongDevice);
        }
        Ok(())
    }

    /// Writes a new state snapshot; RAM takes it only once it is durable (D13).
    pub(super) fn save(&mut self, now: Timestamp, mut next: Persist) -> Res<()> {
        next.counter_at_write = self.counter;
        next.last_event_time = self.last_time;
        // Exhausted rolls can no longer change: drop them so the table has room.
        next.rolls.retain(|r| r.left() > 0);
        let mut buf = [0u8; MAX_STATE_PAYLOAD];
        let n = next.encode(&mut buf).map_err(|_| WireError::BadArgument)?;
        if let Err(e) = self.store.write_state(&mut self.flash, &buf[..n]) {
            return Err(self.fault(now, e));
        }
        self.p = next;
        self.refresh_state(now);
        Ok(())
    }

    /// The signing key, derived from the stored secret when first needed.
    pub(super) fn key(&mut self) -> Res<&Sm2SigningKey> {
        if self.key.is_none() {
            let secret = self.identity()?.secret;
            let k = sign::signing_key(&secret).map_err(|_| WireError::StorageFault)?;
            self.key = Some(k);
        }
        self.key
            .as_ref()
            .ok_or(Refusal::from(WireError::NotProvisioned))
    }

    pub(super) fn sign_body<T: SignedMessage>(&mut self, body: T) -> Res<Signed<T>> {
        let key = self.key()?;
        Signed::sign(body, key).map_err(|_| Refusal::from(WireError::BadArgument))
    }

    /// Signs a journal event once and commits it with one page program (D13); the answer is
    /// made only after the program completed. `extra` follows the signed event in the record
    /// (a void's request id), outside what is signed and uploaded.
    pub(super) fn commit<T: SignedMessage + Clone>(
        &mut self,
        now: Timestamp,
        ty: RecordType,
        counter: u64,
        tag: u32,
        body: T,
        extra: &[u8],
    ) -> Res<Signed<T>> {
        let key = self.key()?;
        let mut msg = [0u8; MAX_MESSAGE];
        let m = body
            .message_into(&mut msg)
            .map_err(|_| WireError::BadArgument)?;
        let signature = sign::sign_bytes(key, m);
        // postcard(Signed<T>) = postcard(body) || r || s: reuse the signed bytes.
        let body_bytes = &m[T::DOMAIN.len()..];
        let signed_len = body_bytes.len() + 64;
        let len = signed_len + extra.len();
        if len > MAX_RECORD_PAYLOAD {
            return refuse(WireError::BadArgument);
        }
        let mut payload = [0u8; MAX_RECORD_PAYLOAD];
        payload[..body_bytes.len()].copy_from_slice(body_bytes);
        payload[body_bytes.len()..signed_len].copy_from_slice(&signature.to_bytes());
        payload[signed_len..len].copy_from_slice(extra);
        let mut page = [0u8; store::RECORD_SIZE];
        Record::build(ty, counter, tag, &payload[..len], &mut page)
            .ok_or(WireError::BadArgument)?;
        let acked = self.p.acked_through;
        let cleared = self.p.last_cleared;
        // D13: reclaim only records acknowledged and of a cleared period.
        let reclaimable = |r: Option<&Record>| match r {
            None => true,
            Some(r) => {
                r.counter <= acked
                    && decode_event(r)
                        .is_some_and(|e| cleared.is_some_and(|c| e.time().period() <= c))
            }
        };
        if let Err(e) = self
            .store
            .append(&mut self.flash, &page, counter, reclaimable)
        {
            return Err(self.fault(now, e));
        }
        Ok(Signed { body, signature })
    }

    /// After a commit: RAM follows the journal.
    pub(super) fn committed(&mut self, now: Timestamp, counter: u64, e: &JournalEvent) -> Res<()> {
        self.counter = counter;
        if let Err(err) = self.apply_event(e) {
            return Err(self.fault(now, err));
        }
        self.add_pending(e);
        Ok(())
    }

    pub(super) fn identity(&self) -> Res<&Identity> {
        self.p
            .identity
            .as_ref()
            .ok_or(Refusal::from(WireError::NotProvisioned))
    }

    pub(super) fn locked(&self, now: Timestamp) -> bool {
        now >= self.p.lock_time
    }

    /// D4/D5: a new month began and the last period is not reported (copied) yet.
    pub(super) fn period_unreported(&self, now: Timestamp) -> bool {
        let Some(id) = &self.p.identity else {
            return false;
        };
        let cur = now.period();
        cur > id.first_period && self.p.last_copied < Some(cur.prev())
    }

    pub(super) fn oldest_roll(&self, kind: InvoiceKind) -> Option<usize> {
        self.p
            .rolls
            .iter()
            .position(|r| r.kind == kind && r.left() > 0)
    }
}
