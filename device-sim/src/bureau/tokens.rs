//! B1 provisioning and key registration, B8 updates, B10 clock tokens and D2 unblock tokens:
//! the bureau-signed tokens bound to one serial, each with its per-disk sequence number.

use super::db::{self, DiskRow, args, names};
use super::{Bureau, BureauError, period, unknown_taxpayer};
use taxdisk_protocol::bureau_api::{
    ClockRequest, ProvisionRequest, RegisterKey, UnblockRequest, UpdateRequest,
};
use taxdisk_protocol::message::ProvisionProof;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::{
    ClockToken, CompanyName, DeviceSerial, Fen, InvoiceKind, KindLimits, OilRole, ProvisionToken,
    Signed, UnblockToken, UpdateChange, UpdateToken, UsedCarRole,
};
use taxdisk_protocol::validate;

/// The limits a kind gets when an update authorizes it without naming limits (our choice):
/// 100,000.00 yuan per invoice, 72 offline hours, 1,000,000.00 yuan offline.
pub fn default_limits(kind: InvoiceKind) -> KindLimits {
    KindLimits {
        kind,
        single_limit: Fen(10_000_000),
        offline_hours: 72,
        offline_amount: Fen(100_000_000),
    }
}

/// Most changes one update token carries (the protocol's `Vec<UpdateChange, 8>`).
pub const MAX_CHANGES: usize = 8;

impl Bureau {
    /// `POST /disks/provision` (B1, D1): binds a factory disk to a registered taxpayer and
    /// answers its provisioning token with the first lock time and upload deadline
    /// ([`period::deadlines`]). Asking again before the disk registered its key answers a fresh
    /// token; after that the disk is `already_provisioned`.
    pub fn provision(
        &mut self,
        r: ProvisionRequest,
    ) -> Result<Signed<ProvisionToken>, BureauError> {
        validate::machine_number(r.machine)
            .map_err(|e| BureauError::bad("bad_machine", "F6", e.to_string()))?;
        let now = self.now();
        let (lock_time, upload_deadline) = period::deadlines(now.period());
        let key = &self.key;
        self.db.tx(|tx| {
            let tp = tx
                .query_opt(
                    "SELECT company_name, kinds FROM taxpayers WHERE taxpayer_id = ?1",
                    &args![r.taxpayer_id.as_str()],
                )?
                .ok_or_else(|| unknown_taxpayer(&r.taxpayer_id))?;
            let (name, kinds) = (tp.text(0)?, tp.text(1)?);
            let company_name =
                CompanyName::new(&name).map_err(|e| BureauError::Corrupt(e.to_string()))?;
            let kinds: Vec<KindLimits> = db::from_json(&kinds)?;
            if db::load_disk(tx, &r.serial)?.is_some_and(|old| old.public_key.is_some()) {
                return Err(BureauError::conflict(
                    "already_provisioned",
                    "B1, D1",
                    format!("disk {} is already provisioned and registered", r.serial),
                ));
            }
            let taken = tx.query_opt(
                "SELECT serial FROM disks WHERE taxpayer_id = ?1 AND machine = ?2 AND serial <> ?3",
                &args![r.taxpayer_id.as_str(), r.machine, r.serial.as_str()],
            )?;
            if let Some(other) = taken {
                let other = other.text(0)?;
                return Err(BureauError::conflict(
                    "machine_taken",
                    "B1, F6",
                    format!(
                        "machine number {} of taxpayer {} is disk {other}",
                        r.machine, r.taxpayer_id
                    ),
                ));
            }
            let row = DiskRow {
                serial: r.serial.clone(),
                taxpayer_id: r.taxpayer_id.clone(),
                machine: r.machine,
                public_key: None,
                through_counter: 0,
                last_reported: None,
                last_cleared: None,
                kinds: kinds.clone(),
                oil_role: OilRole::None,
                oil_valid_until: None,
                used_car_role: UsedCarRole::None,
            };
            db::save_disk(tx, &row)?;
            let body = ProvisionToken {
                serial: r.serial.clone(),
                taxpayer_id: r.taxpayer_id.clone(),
                company_name,
                machine: r.machine,
                kinds: heapless::Vec::from_slice(&kinds)
                    .map_err(|_| BureauError::Corrupt("more than 6 kinds stored".into()))?,
                lock_time,
                upload_deadline,
                issued_at: now,
            };
            super::sign_token(key, body)
        })
    }

    /// `POST /disks/register-key` (B1): stores the disk's public key after checking its proof of
    /// possession (a signature by that key over [`ProvisionProof`]). The same key again is
    /// accepted; another key for a registered disk is refused.
    pub fn register_key(&mut self, r: RegisterKey) -> Result<(), BureauError> {
        let vk = sign::verifying_key(&r.result.public_key).map_err(|_| {
            BureauError::bad(
                "bad_public_key",
                "B1, D1",
                "the public key is not a point of the SM2 curve",
            )
        })?;
        let proof = ProvisionProof {
            serial: r.serial.clone(),
            public_key: r.result.public_key,
        };
        sign::verify(&vk, &proof, &r.result.proof).map_err(|_| {
            BureauError::bad(
                "bad_proof",
                "B1, D1",
                format!(
                    "the proof of possession does not verify for disk {}",
                    r.serial
                ),
            )
        })?;
        self.db.tx(|tx| {
            let mut d =
                db::load_disk(tx, &r.serial)?.ok_or_else(|| super::unknown_disk(&r.serial))?;
            match d.public_key {
                Some(pk) if pk == r.result.public_key => return Ok(()),
                Some(_) => {
                    return Err(BureauError::conflict(
                        "key_registered",
                        "B1, D1",
                        format!("disk {} already registered another key", r.serial),
                    ));
                }
                None => {}
            }
            d.public_key = Some(r.result.public_key);
            db::save_disk(tx, &d)
        })
    }

    /// `POST /clock` (B10, D3): a clock token for one disk.
    pub fn clock_token(&mut self, r: ClockRequest) -> Result<Signed<ClockToken>, BureauError> {
        let now = self.now();
        let key = &self.key;
        self.db.tx(|tx| {
            super::disk_in(tx, &r.serial)?;
            let seq = db::next_seq(tx, &r.serial, names::CLOCK)?;
            let signed = super::sign_token(
                key,
                ClockToken {
                    serial: r.serial.clone(),
                    seq,
                    time: r.time,
                    issued_at: now,
                },
            )?;
            db::store_token(tx, &r.serial, names::CLOCK, seq, &signed)?;
            Ok(signed)
        })
    }

    /// `POST /unblock` (D2): an unblock token setting a new PIN.
    pub fn unblock_token(
        &mut self,
        r: UnblockRequest,
    ) -> Result<Signed<UnblockToken>, BureauError> {
        let now = self.now();
        let key = &self.key;
        self.db.tx(|tx| {
            super::disk_in(tx, &r.serial)?;
            let seq = db::next_seq(tx, &r.serial, names::UNBLOCK)?;
            let pin_digest = hex::encode(super::access::digest(r.new_pin.as_str()));
            let signed = super::sign_token(
                key,
                UnblockToken {
                    serial: r.serial.clone(),
                    seq,
                    new_pin: r.new_pin.clone(),
                    issued_at: now,
                },
            )?;
            // The new PIN is the disk's secret: the record keeps its SM3 digest, never the PIN
            // (the signed token goes to the caller only).
            db::store_token(
                tx,
                &r.serial,
                names::UNBLOCK,
                seq,
                &serde_json::json!({
                    "serial": r.serial.as_str(),
                    "seq": seq,
                    "issued_at": now,
                    "new_pin_sm3": pin_digest,
                }),
            )?;
            Ok(signed)
        })
    }

    /// `POST /updates` (B8, D10): records changes for a disk, applies them to the bureau's own
    /// records (disk limits and roles, the taxpayer's name, the disk's taxpayer id) and answers
    /// the signed token, which the host fetches again with [`Bureau::updates`].
    pub fn update(&mut self, r: UpdateRequest) -> Result<Signed<UpdateToken>, BureauError> {
        if r.changes.is_empty() {
            return Err(BureauError::bad(
                "empty_update",
                "B8",
                "an update needs at least one change",
            ));
        }
        let changes: heapless::Vec<UpdateChange, MAX_CHANGES> =
            heapless::Vec::from_slice(&r.changes).map_err(|_| {
                BureauError::bad(
                    "too_many_changes",
                    "B8",
                    format!(
                        "at most {MAX_CHANGES} changes per update, got {}",
                        r.changes.len()
                    ),
                )
            })?;
        let now = self.now();
        let key = &self.key;
        self.db.tx(|tx| {
            let mut d = super::disk_in(tx, &r.serial)?;
            for c in &r.changes {
                match c {
                    UpdateChange::Limits(l) => {
                        super::check_kinds(std::slice::from_ref(l))?;
                        match d.kinds.iter_mut().find(|k| k.kind == l.kind) {
                            Some(k) => *k = *l,
                            None => {
                                return Err(BureauError::bad(
                                    "not_authorized",
                                    "B8, D10",
                                    format!(
                                        "kind {} is not authorized; authorize it first",
                                        l.kind
                                    ),
                                ));
                            }
                        }
                    }
                    UpdateChange::Authorize(kind, true) => {
                        if !d.kinds.iter().any(|k| k.kind == *kind) {
                            d.kinds.push(default_limits(*kind));
                        }
                    }
                    UpdateChange::Authorize(kind, false) => d.kinds.retain(|k| k.kind != *kind),
                    UpdateChange::Oil(role, until) => {
                        d.oil_role = *role;
                        d.oil_valid_until = *until;
                    }
                    UpdateChange::UsedCar(role) => d.used_car_role = *role,
                    UpdateChange::CompanyName(name) => {
                        tx.execute(
                            "UPDATE taxpayers SET company_name = ?1 WHERE taxpayer_id = ?2",
                            &args![name.as_str(), d.taxpayer_id.as_str()],
                        )?;
                    }
                    UpdateChange::TaxpayerId(new_id) => {
                        tx.execute(
                            "INSERT INTO taxpayers (taxpayer_id, company_name, kinds)
                             SELECT ?1, company_name, kinds FROM taxpayers WHERE taxpayer_id = ?2
                             ON CONFLICT (taxpayer_id) DO NOTHING",
                            &args![new_id.as_str(), d.taxpayer_id.as_str()],
                        )?;
                        d.taxpayer_id = new_id.clone();
                    }
                }
            }
            db::save_disk(tx, &d)?;
            let seq = db::next_seq(tx, &r.serial, names::UPDATE)?;
            let signed = super::sign_token(
                key,
                UpdateToken {
                    serial: r.serial.clone(),
                    seq,
                    changes: changes.clone(),
                    issued_at: now,
                },
            )?;
            db::store_token(tx, &r.serial, names::UPDATE, seq, &signed)?;
            Ok(signed)
        })
    }

    /// `GET /disks/{serial}/updates?after_seq=N` (B8, H17): update tokens with a greater seq.
    pub fn updates(
        &self,
        serial: &DeviceSerial,
        after_seq: u32,
    ) -> Result<Vec<Signed<UpdateToken>>, BureauError> {
        self.tokens_after(serial, names::UPDATE, after_seq)
    }

    /// Stored tokens of one type with seq > `after_seq`, ascending (`unknown_disk` for a disk
    /// the bureau never provisioned).
    pub(crate) fn tokens_after<T: serde::de::DeserializeOwned>(
        &self,
        serial: &DeviceSerial,
        token: &str,
        after_seq: u32,
    ) -> Result<Vec<T>, BureauError> {
        let rows = self.db.tx(|tx| {
            super::disk_in(tx, serial)?;
            tx.query(
                "SELECT signed FROM tokens WHERE serial = ?1 AND token = ?2 AND seq > ?3
                 ORDER BY seq",
                &args![serial.as_str(), token, after_seq],
            )
        })?;
        rows.iter().map(|r| db::from_json(&r.text(0)?)).collect()
    }
}
