//! B3 uploads (D12): each journal event's SM2 signature is verified with the disk's key (验签,
//! FAQ 4.22; in parallel, [`verify_events`]), counters must follow each other without a gap,
//! invoice numbers must be sold to that disk and not used, an identical re-upload is
//! acknowledged again and a conflicting one refused. The answer carries a receipt through the
//! highest counter received without a gap and the rejections with their reasons.

use super::db::{self, DiskRow, Tx, args};
use super::{Bureau, BureauError, red, rolls};
use taxdisk_protocol::bureau_api::{Rejection, Upload, UploadResult};
use taxdisk_protocol::checkcode;
use taxdisk_protocol::sign::VerifyingKey;
use taxdisk_protocol::types::{
    BlankVoidEvent, DeviceSerial, IssuedInvoice, JournalEvent, PublicKey, RedRef, Signed,
    UploadReceipt, VoidEvent,
};

/// Batches at least this long are verified on several threads.
const PARALLEL_MIN: usize = 16;

/// Whether each event's signature verifies with `vk`, using up to `threads` threads
/// (`std::thread::scope`, contiguous chunks). SM2 verification dominates an upload's cost.
pub fn verify_events(vk: &VerifyingKey, events: &[JournalEvent], threads: usize) -> Vec<bool> {
    fn one(vk: &VerifyingKey, e: &JournalEvent) -> bool {
        match e {
            JournalEvent::Invoice(s) => s.verify(vk).is_ok(),
            JournalEvent::Void(s) => s.verify(vk).is_ok(),
            JournalEvent::BlankVoid(s) => s.verify(vk).is_ok(),
        }
    }
    let threads = threads.max(1);
    if threads == 1 || events.len() < 2 {
        return events.iter().map(|e| one(vk, e)).collect();
    }
    let chunk = events.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = events
            .chunks(chunk)
            .map(|part| {
                let h = s.spawn(move || part.iter().map(|e| one(vk, e)).collect::<Vec<bool>>());
                (part.len(), h)
            })
            .collect();
        handles
            .into_iter()
            // A verifying thread only panics if sm2 itself panics; its events count as failed,
            // so the answer still has one entry per event.
            .flat_map(|(n, h)| h.join().unwrap_or_else(|_| vec![false; n]))
            .collect()
    })
}

/// The threads an upload verifies with: the machine's parallelism, at most 8.
fn upload_threads(n: usize) -> usize {
    if n < PARALLEL_MIN {
        1
    } else {
        std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(1)
            .min(8)
    }
}

/// A refusal of one event.
struct Rej(&'static str, String);

type Step = Result<Result<(), Rej>, BureauError>;

/// The key an upload is verified with: the disk's registered public key as stored, and as a
/// verifier ([`Bureau::upload_key`]).
#[derive(Clone, Debug)]
pub struct UploadKey {
    public: PublicKey,
    verifier: VerifyingKey,
}

/// An upload whose signatures were verified (on all cores, [`verify_events`]) and whose events
/// were serialized before the bureau is entered ([`VerifiedUpload::new`]): the HTTP server
/// does this outside the bureau's lock, so the lock is held for the database work only
/// ([`Bureau::upload_verified`]).
#[derive(Debug)]
pub struct VerifiedUpload {
    upload: Upload,
    key: PublicKey,
    sig_ok: Vec<bool>,
    jsons: Vec<String>,
}

impl VerifiedUpload {
    /// Verifies every event of `u` with `key` and serializes the events.
    pub fn new(u: Upload, key: &UploadKey) -> Result<VerifiedUpload, BureauError> {
        let sig_ok = verify_events(&key.verifier, &u.events, upload_threads(u.events.len()));
        let jsons = u
            .events
            .iter()
            .map(db::to_json)
            .collect::<Result<Vec<String>, BureauError>>()?;
        Ok(VerifiedUpload {
            upload: u,
            key: key.public,
            sig_ok,
            jsons,
        })
    }

    /// The disk the upload is from.
    pub fn serial(&self) -> &DeviceSerial {
        &self.upload.serial
    }
}

impl Bureau {
    /// `POST /upload` (B3, D12). The whole request is refused only when the disk is unknown or
    /// has no key; single events are refused in `rejected` with codes `foreign_event`,
    /// `bad_signature`, `bad_counter`, `counter_gap`, `conflict`, `bad_code`, `wrong_machine`,
    /// `bad_amount`, `not_sold`, `number_used`, `unknown_invoice`, `already_voided`,
    /// `not_voidable`, `period_reported`, `bad_red_ref`, `original_voided`, and the red form
    /// codes `unknown_form`, `form_not_approved`, `form_used`, `form_foreign`, `form_mismatch`.
    ///
    /// [`Bureau::upload_key`], [`VerifiedUpload::new`] and [`Bureau::upload_verified`] in one:
    /// signatures are verified before the transaction (the disk's key never changes once
    /// registered); the disk row and everything the checks read are read in it, so two
    /// workers receiving the same events at once store them once and both answer a receipt.
    pub fn upload(&mut self, u: Upload) -> Result<UploadResult, BureauError> {
        let key = self.upload_key(&u.serial)?;
        self.upload_verified(VerifiedUpload::new(u, &key)?)
    }

    /// The key uploads of disk `serial` are verified with (`unknown_disk`, `no_key`).
    pub fn upload_key(&self, serial: &DeviceSerial) -> Result<UploadKey, BureauError> {
        let (d, verifier) = self.keyed_disk(serial)?;
        let public = d.public_key.ok_or_else(|| {
            BureauError::Corrupt(format!("disk {serial}: a keyed disk without its key"))
        })?;
        Ok(UploadKey { public, verifier })
    }

    /// [`Bureau::upload`] for an upload verified beforehand. Should the disk's key in the
    /// transaction not be the key it was verified with (a key never changes once registered,
    /// so this does not happen), its events are verified again with the stored key.
    pub fn upload_verified(&mut self, v: VerifiedUpload) -> Result<UploadResult, BureauError> {
        let VerifiedUpload {
            upload: u,
            key: verified_with,
            sig_ok,
            jsons,
        } = v;
        let now = self.now();
        let key = &self.key;
        self.db.tx(|tx| {
            let (mut d, vk) = super::keyed_disk_in(tx, &u.serial)?;
            let sig_ok = if d.public_key == Some(verified_with) {
                std::borrow::Cow::Borrowed(&sig_ok)
            } else {
                std::borrow::Cow::Owned(verify_events(
                    &vk,
                    &u.events,
                    upload_threads(u.events.len()),
                ))
            };
            let mut accepted = 0u32;
            let mut rejected = Vec::new();
            for ((ev, ok), json) in u.events.iter().zip(sig_ok.iter()).zip(&jsons) {
                match one_event(tx, &mut d, ev, *ok, json)? {
                    Ok(()) => accepted += 1,
                    Err(Rej(code, message)) => rejected.push(Rejection {
                        counter: ev.counter(),
                        code: code.to_owned(),
                        message,
                    }),
                }
            }
            db::save_disk(tx, &d)?;
            let receipt = if d.through_counter > 0 {
                Some(super::sign_token(
                    key,
                    UploadReceipt {
                        serial: u.serial.clone(),
                        through_counter: d.through_counter,
                        issued_at: now,
                    },
                )?)
            } else {
                None
            };
            Ok(UploadResult {
                receipt,
                accepted,
                rejected,
            })
        })
    }
}

fn event_serial(ev: &JournalEvent) -> &DeviceSerial {
    match ev {
        JournalEvent::Invoice(s) => &s.body.serial,
        JournalEvent::Void(s) => &s.body.serial,
        JournalEvent::BlankVoid(s) => &s.body.serial,
    }
}

fn one_event(
    tx: &mut Tx<'_>,
    d: &mut DiskRow,
    ev: &JournalEvent,
    sig_ok: bool,
    json: &str,
) -> Step {
    let c = ev.counter();
    if event_serial(ev) != &d.serial {
        return Ok(Err(Rej(
            "foreign_event",
            format!(
                "event signed by disk {}, uploaded for disk {}",
                event_serial(ev),
                d.serial
            ),
        )));
    }
    if !sig_ok {
        return Ok(Err(Rej(
            "bad_signature",
            format!("counter {c}: the signature does not verify with the disk's key (验签失败)"),
        )));
    }
    if c == 0 {
        return Ok(Err(Rej(
            "bad_counter",
            "journal counters start at 1".into(),
        )));
    }
    if c <= d.through_counter {
        let stored = tx
            .query_opt(
                "SELECT event FROM events WHERE serial = ?1 AND counter = ?2",
                &args![d.serial.as_str(), c as i64],
            )?
            .map(|r| r.text(0))
            .transpose()?;
        return Ok(if stored.as_deref() == Some(json) {
            Ok(())
        } else {
            Err(Rej(
                "conflict",
                format!("counter {c} was received before with different content"),
            ))
        });
    }
    if c != d.through_counter + 1 {
        return Ok(Err(Rej(
            "counter_gap",
            format!("expected counter {}, got {c}", d.through_counter + 1),
        )));
    }
    let step = match ev {
        JournalEvent::Invoice(s) => invoice(tx, d, s)?,
        JournalEvent::Void(s) => void(tx, d, &s.body)?,
        JournalEvent::BlankVoid(s) => blank_void(tx, d, &s.body)?,
    };
    if step.is_err() {
        return Ok(step);
    }
    let event_type = match ev {
        JournalEvent::Invoice(_) => "invoice",
        JournalEvent::Void(_) => "void",
        JournalEvent::BlankVoid(_) => "blank_void",
    };
    tx.execute(
        "INSERT INTO events (serial, counter, kind, event_type, period, event)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &args![
            d.serial.as_str(),
            c as i64,
            ev.kind().number(),
            event_type,
            db::period_col(ev.time().period()),
            json
        ],
    )?;
    d.through_counter = c;
    Ok(Ok(()))
}

/// Who holds `code number` in `used_numbers`, if anyone.
fn used_by(
    tx: &mut Tx<'_>,
    code: &str,
    first: u32,
    count: u32,
) -> Result<Option<u32>, BureauError> {
    tx.query_opt(
        "SELECT number FROM used_numbers WHERE code = ?1 AND number >= ?2 AND number < ?3
         LIMIT 1",
        &args![code, first, i64::from(first) + i64::from(count)],
    )?
    .map(|r| r.num(0))
    .transpose()
}

fn invoice(tx: &mut Tx<'_>, d: &DiskRow, s: &Signed<IssuedInvoice>) -> Step {
    let b = &s.body;
    let c = b.counter;
    let code = b.code.as_str();
    if let Err(e) = b.code.check_kind(b.kind) {
        return Ok(Err(Rej("bad_code", format!("counter {c}: {e}"))));
    }
    if b.machine != d.machine {
        return Ok(Err(Rej(
            "wrong_machine",
            format!(
                "counter {c}: machine {} but the disk is machine {}",
                b.machine, d.machine
            ),
        )));
    }
    let red = b.is_red();
    let signs_ok = if red {
        b.amount.0 <= 0 && b.tax.0 <= 0
    } else {
        b.amount.0 >= 0 && b.tax.0 >= 0
    };
    if !signs_ok || b.amount.0.saturating_add(b.tax.0) == 0 {
        return Ok(Err(Rej(
            "bad_amount",
            format!(
                "counter {c}: amount {} tax {} do not fit a {} invoice",
                b.amount,
                b.tax,
                if red { "red" } else { "blue" }
            ),
        )));
    }
    if !rolls::is_sold_to(tx, d.serial.as_str(), b.kind, code, b.number.get(), 1)? {
        return Ok(Err(Rej(
            "not_sold",
            format!(
                "{code} {} was not sold to disk {} as {}",
                b.number, d.serial, b.kind
            ),
        )));
    }
    if used_by(tx, code, b.number.get(), 1)?.is_some() {
        return Ok(Err(Rej(
            "number_used",
            format!("{code} {} is already used by another event", b.number),
        )));
    }
    let mut form = None;
    match &b.red {
        Some(RedRef::InfoForm(n)) => {
            if b.kind != taxdisk_protocol::types::InvoiceKind::Special {
                return Ok(Err(Rej(
                    "bad_red_ref",
                    format!("counter {c}: only special invoices name a red info form"),
                )));
            }
            if let Err((code, msg)) = red::check_form_use(tx, n, &d.taxpayer_id, b.amount, b.tax)? {
                return Ok(Err(Rej(code, format!("counter {c}: {msg}"))));
            }
            form = Some(n.clone());
        }
        Some(RedRef::Original {
            code: oc,
            number: on,
        }) => {
            let orig = tx
                .query_opt(
                    "SELECT voided, red FROM invoices WHERE code = ?1 AND number = ?2",
                    &args![oc.as_str(), on.get()],
                )?
                .map(|r| Ok::<_, BureauError>((r.flag(0)?, r.flag(1)?)))
                .transpose()?;
            match orig {
                Some((true, _)) => {
                    return Ok(Err(Rej(
                        "original_voided",
                        format!("counter {c}: the original {oc} {on} is voided"),
                    )));
                }
                Some((_, true)) => {
                    return Ok(Err(Rej(
                        "bad_red_ref",
                        format!("counter {c}: the original {oc} {on} is itself red"),
                    )));
                }
                _ => {}
            }
            tx.execute(
                "UPDATE invoices SET reversed = 1 WHERE code = ?1 AND number = ?2",
                &args![oc.as_str(), on.get()],
            )?;
        }
        None => {}
    }
    if let Some(n) = &form {
        red::mark_used(tx, n, &b.code, b.number)?;
    }
    let civil = b.time.civil();
    let date = u32::from(civil.year) * 10_000 + u32::from(civil.month) * 100 + u32::from(civil.day);
    tx.execute(
        "INSERT INTO invoices (code, number, serial, counter, kind, period, date, amount, tax, red,
             check_code, red_form, oil_category, oil_milli, invoice)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        &args![
            code,
            b.number.get(),
            d.serial.as_str(),
            c as i64,
            b.kind.number(),
            db::period_col(b.time.period()),
            date,
            b.amount.0,
            b.tax.0,
            red,
            checkcode::check_code(&s.signature).as_str(),
            form.as_ref().map(|f| f.as_str().to_owned()),
            b.oil.map(|o| o.category),
            b.oil.map(|o| o.milli_quantity),
            db::to_json(s)?
        ],
    )?;
    tx.execute(
        "INSERT INTO used_numbers (code, number, serial, counter) VALUES (?1, ?2, ?3, ?4)",
        &args![code, b.number.get(), d.serial.as_str(), c as i64],
    )?;
    Ok(Ok(()))
}

fn void(tx: &mut Tx<'_>, d: &DiskRow, b: &VoidEvent) -> Step {
    let c = b.counter;
    let inv: Option<(i64, u8, bool, i64, Option<String>)> = tx
        .query_opt(
            "SELECT counter, kind, voided, period, red_form FROM invoices
             WHERE code = ?1 AND number = ?2 AND serial = ?3",
            &args![b.code.as_str(), b.number.get(), d.serial.as_str()],
        )?
        .map(|r| {
            Ok::<_, BureauError>((r.int(0)?, r.num(1)?, r.flag(2)?, r.int(3)?, r.opt_text(4)?))
        })
        .transpose()?;
    let Some((ic, kind, voided, period, form)) = inv else {
        return Ok(Err(Rej(
            "unknown_invoice",
            format!(
                "counter {c}: {} {} was not received from this disk",
                b.code, b.number
            ),
        )));
    };
    if ic as u64 != b.invoice_counter || kind != b.kind.number() {
        return Ok(Err(Rej(
            "unknown_invoice",
            format!(
                "counter {c}: {} {} is counter {ic} of kind {kind}, the void names counter {} of kind {}",
                b.code, b.number, b.invoice_counter, b.kind
            ),
        )));
    }
    if voided {
        return Ok(Err(Rej(
            "already_voided",
            format!(
                "counter {c}: {} {} is already voided (FAQ 5.7)",
                b.code, b.number
            ),
        )));
    }
    if !b.kind.is_paper() {
        return Ok(Err(Rej(
            "not_voidable",
            format!("counter {c}: electronic invoices are reversed with red, not voided (D7)"),
        )));
    }
    let period = db::period_from(period)?;
    if d.last_reported.is_some_and(|r| period <= r) {
        return Ok(Err(Rej(
            "period_reported",
            format!("counter {c}: period {period} is reported, its invoices cannot be voided"),
        )));
    }
    tx.execute(
        "UPDATE invoices SET voided = 1 WHERE code = ?1 AND number = ?2",
        &args![b.code.as_str(), b.number.get()],
    )?;
    if let Some(f) = form {
        // FAQ 7.5: a voided red invoice frees its form for the corrected one.
        red::release(tx, &f)?;
    }
    Ok(Ok(()))
}

fn blank_void(tx: &mut Tx<'_>, d: &DiskRow, b: &BlankVoidEvent) -> Step {
    let c = b.counter;
    let code = b.code.as_str();
    if let Err(e) = b.code.check_kind(b.kind) {
        return Ok(Err(Rej("bad_code", format!("counter {c}: {e}"))));
    }
    if b.count == 0 {
        return Ok(Err(Rej(
            "bad_count",
            format!("counter {c}: blank void of 0 numbers"),
        )));
    }
    if !rolls::is_sold_to(tx, d.serial.as_str(), b.kind, code, b.first.get(), b.count)? {
        return Ok(Err(Rej(
            "not_sold",
            format!(
                "{code} {}+{} was not sold to disk {}",
                b.first, b.count, d.serial
            ),
        )));
    }
    if let Some(n) = used_by(tx, code, b.first.get(), b.count)? {
        return Ok(Err(Rej(
            "number_used",
            format!("{code} {n:08} is already used by another event"),
        )));
    }
    for n in b.first.get()..b.first.get() + b.count {
        tx.execute(
            "INSERT INTO used_numbers (code, number, serial, counter) VALUES (?1, ?2, ?3, ?4)",
            &args![code, n, d.serial.as_str(), c as i64],
        )?;
    }
    Ok(Ok(()))
}
