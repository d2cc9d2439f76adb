//! Provisioning and the PIN (D1, D2): GetInfo, Provision, Login, ChangePin, Unblock.

use super::persist::{Identity, KeptPinChange};
use super::{FIRMWARE_VERSION, Firmware, PIN_TRIES, Res, pin_hash, refuse};
use embedded_storage::nor_flash::NorFlash;
use rand_core::CryptoRng;
use taxdisk_protocol::command::*;
use taxdisk_protocol::message::ProvisionProof;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Refusal, Timestamp, WireError};

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    pub(super) fn info(&self, now: Timestamp) -> DiskInfo {
        let id = self.p.identity.as_ref();
        DiskInfo {
            serial: self.cfg.serial.clone(),
            firmware: FIRMWARE_VERSION,
            state: self.wire_state(),
            time: now,
            taxpayer_id: id.map(|i| i.taxpayer_id.clone()),
            company_name: id.map(|i| i.company_name.clone()),
            machine: id.map_or(0, |i| i.machine),
            period: id.map(|_| now.period()),
            last_copied: self.p.last_copied,
            last_reported: self.p.last_reported,
            last_cleared: self.p.last_cleared,
            lock_time: id.map(|_| self.p.lock_time),
            upload_deadline: id.map(|_| self.p.upload_deadline),
            counter: self.counter,
            logged_in: self.session.is_some(),
            pin_tries_left: self.p.pin_tries,
            oil_role: self.p.oil_role,
            oil_valid_until: self.p.oil_valid_until,
            used_car_role: self.p.used_car_role,
            journal_free: self.store.journal_free(),
        }
    }

    pub(super) fn provision(
        &mut self,
        now: Timestamp,
        t: &Signed<ProvisionToken>,
    ) -> Res<ProvisionResult> {
        // D1: factory state only, a bureau token bound to this serial. A token for the identity
        // the disk already holds (the one that provisioned it, sent again after its answer was
        // lost to a power cut, or the bureau's next one for the same company and machine)
        // answers the key it holds and changes nothing; any other is refused.
        if let Some(id) = &self.p.identity {
            let b = &t.body;
            let same = b.taxpayer_id == id.taxpayer_id
                && b.company_name == id.company_name
                && b.machine == id.machine;
            let public_key = id.public_key;
            if !same {
                return refuse(WireError::AlreadyProvisioned);
            }
            self.verify(t, &t.body.serial)?;
            return self.provision_answer(public_key);
        }
        self.verify(t, &t.body.serial)?;
        let b = &t.body;
        if taxdisk_protocol::validate::machine_number(b.machine).is_err() {
            return refuse(WireError::BadArgument);
        }
        // D1: the key pair is generated inside; retry the ~2^-128 invalid scalars.
        let key = loop {
            let mut secret = [0u8; 32];
            self.rng.fill_bytes(&mut secret);
            if let Ok(k) = sign::signing_key(&secret) {
                break k;
            }
        };
        let public_key = sign::public_key(&key);
        let mut next = self.p.clone();
        next.identity = Some(Identity {
            taxpayer_id: b.taxpayer_id.clone(),
            company_name: b.company_name.clone(),
            machine: b.machine,
            secret: sign::secret_bytes(&key),
            public_key,
            first_period: now.period(),
        });
        for l in &b.kinds {
            next.limits[l.kind.index()] = *l;
            next.set_authorized(l.kind, true);
        }
        next.lock_time = b.lock_time;
        next.upload_deadline = b.upload_deadline;
        self.save(now, next)?;
        self.key = Some(key);
        self.provision_answer(public_key)
    }

    /// The answer to a provisioning: the public key and the proof of possession of its
    /// private key, signed with the key the disk holds.
    fn provision_answer(&mut self, public_key: PublicKey) -> Res<ProvisionResult> {
        let serial = self.cfg.serial.clone();
        let key = self.key()?;
        let proof = sign::sign(key, &ProvisionProof { serial, public_key })
            .map_err(|_| WireError::BadArgument)?;
        Ok(ProvisionResult { public_key, proof })
    }

    /// D2: checks a PIN, counting a wrong one durably.
    fn check_pin(&mut self, now: Timestamp, pin: &Pin) -> Res<()> {
        if self.p.pin_tries == 0 {
            return refuse(WireError::PinBlocked);
        }
        if pin_hash(&self.cfg.serial, pin.as_str()) == self.p.pin_hash {
            if self.p.pin_tries != PIN_TRIES {
                let mut next = self.p.clone();
                next.pin_tries = PIN_TRIES;
                self.save(now, next)?;
            }
            return Ok(());
        }
        let mut next = self.p.clone();
        next.pin_tries -= 1;
        let left = next.pin_tries;
        // The counter is durable before the answer: a power cycle cannot reset it.
        self.save(now, next)?;
        if left == 0 {
            self.session = None;
        }
        Err(Refusal {
            error: WireError::WrongPin,
            detail: left as u32,
        })
    }

    pub(super) fn login(&mut self, now: Timestamp, session: u32, pin: &Pin) -> Res<()> {
        self.check_pin(now, pin)?;
        // D14: the first session to log in holds the disk.
        self.session = Some(session);
        Ok(())
    }

    pub(super) fn change_pin(&mut self, now: Timestamp, c: &ChangePin) -> Res<()> {
        let old_hash = pin_hash(&self.cfg.serial, c.old.as_str());
        let new_hash = pin_hash(&self.cfg.serial, c.new.as_str());
        // A resend of the change that took: same id, the PIN it replaced, the PIN it set.
        // Anything else goes through the PIN check and counts as a try.
        if self.p.pin_tries != 0
            && self.p.pin_hash == new_hash
            && self
                .p
                .last_pin_change
                .as_ref()
                .is_some_and(|k| k.request_id == c.request_id && k.old_hash == old_hash)
        {
            return Ok(());
        }
        self.check_pin(now, &c.old)?;
        let mut next = self.p.clone();
        next.pin_hash = new_hash;
        next.last_pin_change = Some(KeptPinChange {
            request_id: c.request_id,
            old_hash,
        });
        self.save(now, next)
    }

    pub(super) fn unblock(&mut self, now: Timestamp, t: &Signed<UnblockToken>) -> Res<()> {
        self.verify(t, &t.body.serial)?;
        if t.body.seq <= self.p.seqs.unblock {
            return refuse(WireError::Replayed);
        }
        let mut next = self.p.clone();
        next.seqs.unblock = t.body.seq;
        next.pin_hash = pin_hash(&self.cfg.serial, t.body.new_pin.as_str());
        next.pin_tries = PIN_TRIES;
        self.save(now, next)
    }
}
