//! B2 roll sales (发票领购): invoice codes in the real formats (F2), number ranges that never
//! overlap across disks and kinds, grants signed with a per-disk sequence number, and returns
//! of unused numbers with a device-signed receipt (D4, FAQ 4.5, 4.20).

use super::db::names;
use super::db::{self, Tx, args};
use super::{Bureau, BureauError};
use taxdisk_protocol::bureau_api::BuyRolls;
use taxdisk_protocol::types::{
    DeviceSerial, InvoiceCode, InvoiceKind, InvoiceNumber, RollGrant, RollReturnReceipt, Signed,
    TaxpayerId,
};
use taxdisk_protocol::validate;

/// The most numbers one grant (roll) holds. Our choice: large enough that a disk's roll table
/// stays small in long benches.
pub const ROLL_SIZE: u32 = 1000;
/// The most numbers one purchase may ask for.
pub const MAX_BUY: u32 = 100_000;
/// The highest invoice number of a code (F2: 8 digits).
const LAST_NUMBER: u32 = 99_999_999;

/// The 4-digit region of a taxpayer's invoice codes: digits 3-6 of an 18-character id (its
/// administrative division), digits 1-4 of a numeric-led 15/17/20-character id, else `1100`.
pub fn region_of(t: &TaxpayerId) -> String {
    region6_of(t)[..4].to_owned()
}

/// The 6-digit region (administrative division) of a taxpayer, `110000` when unknown.
pub fn region6_of(t: &TaxpayerId) -> String {
    let s = t.as_str();
    let cand = if s.len() == 18 { &s[2..8] } else { &s[..6] };
    if cand.bytes().all(|b| b.is_ascii_digit()) && !cand.starts_with('0') {
        cand.to_owned()
    } else {
        "110000".to_owned()
    }
}

/// The code of batch `batch` of a (region, year, kind), in the F2 format of the kind.
/// Special (10 digits): region, year, batch digit, `1`, copies `3` or `6`, edition digit —
/// 200 batches. Others (12 digits): `0`, region, year, 3 batch digits, kind suffix.
pub fn code_for(region: &str, year: u16, kind: InvoiceKind, batch: u32) -> Option<String> {
    let yy = year % 100;
    match validate::code_kind_suffix(kind) {
        None if batch < 200 => Some(format!(
            "{region}{yy:02}{}1{}{}",
            batch % 10,
            if (batch / 10).is_multiple_of(2) {
                '3'
            } else {
                '6'
            },
            batch / 20
        )),
        None => None,
        Some(suffix) if batch < 1000 => Some(format!("0{region}{yy:02}{batch:03}{suffix}")),
        Some(_) => None,
    }
}

/// Reserves `count` numbers of the open batch of (region, year, kind), opening a new batch when
/// the open one is exhausted: answers (code, first, count taken).
fn take_numbers(
    tx: &mut Tx<'_>,
    region: &str,
    year: u16,
    kind: InvoiceKind,
    want: u32,
) -> Result<(String, u32, u32), BureauError> {
    let open: Option<(u32, String, u32)> = tx
        .query_opt(
            "SELECT batch, code, next_number FROM code_batches
             WHERE region = ?1 AND year = ?2 AND kind = ?3 ORDER BY batch DESC LIMIT 1",
            &args![region, year, kind.number()],
        )?
        .map(|r| Ok::<_, BureauError>((r.num(0)?, r.text(1)?, r.num(2)?)))
        .transpose()?;
    let (batch, code, next) = match open {
        Some((b, c, n)) if n <= LAST_NUMBER => (b, c, n),
        other => {
            let b = other.map(|(b, _, _)| b + 1).unwrap_or(0);
            let code = code_for(region, year, kind, b).ok_or_else(|| {
                BureauError::conflict(
                    "codes_exhausted",
                    "B2",
                    format!("no invoice code left for kind {kind} in region {region} {year}"),
                )
            })?;
            tx.execute(
                "INSERT INTO code_batches (region, year, kind, batch, code, next_number)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1)",
                &args![region, year, kind.number(), b, &code],
            )?;
            (b, code, 1)
        }
    };
    let n = want.min(LAST_NUMBER - next + 1);
    tx.execute(
        "UPDATE code_batches SET next_number = ?1
         WHERE region = ?2 AND year = ?3 AND kind = ?4 AND batch = ?5",
        &args![next + n, region, year, kind.number(), batch],
    )?;
    Ok((code, next, n))
}

/// Whether a range of a code overlaps any grant already made (to any disk).
fn overlaps_grant(
    tx: &mut Tx<'_>,
    code: &str,
    first: u32,
    count: u32,
) -> Result<bool, BureauError> {
    let hit = tx.query_opt(
        "SELECT 1 FROM grants WHERE code = ?1 AND first < ?2 AND first + count > ?3 LIMIT 1",
        &args![code, i64::from(first) + i64::from(count), first],
    )?;
    Ok(hit.is_some())
}

/// Whether `number` of `code` was sold to `serial` as `kind` and not returned since.
pub(crate) fn is_sold_to(
    tx: &mut Tx<'_>,
    serial: &str,
    kind: InvoiceKind,
    code: &str,
    number: u32,
    count: u32,
) -> Result<bool, BureauError> {
    let end = i64::from(number) + i64::from(count);
    let granted = tx.query_opt(
        "SELECT 1 FROM grants WHERE serial = ?1 AND kind = ?2 AND code = ?3
         AND first <= ?4 AND first + count >= ?5 LIMIT 1",
        &args![serial, kind.number(), code, number, end],
    )?;
    if granted.is_none() {
        return Ok(false);
    }
    let returned = tx.query_opt(
        "SELECT 1 FROM roll_returns WHERE code = ?1 AND first < ?2 AND first + count > ?3
         LIMIT 1",
        &args![code, end, number],
    )?;
    Ok(returned.is_none())
}

impl Bureau {
    /// `POST /rolls/buy` (B2): sells `count` numbers of a kind the disk is authorized for, in
    /// grants of at most [`ROLL_SIZE`], each signed with the disk's next roll-grant seq.
    pub fn buy_rolls(&mut self, r: BuyRolls) -> Result<Vec<Signed<RollGrant>>, BureauError> {
        if r.count == 0 || r.count > MAX_BUY {
            return Err(BureauError::bad(
                "bad_count",
                "B2",
                format!("a purchase is 1 to {MAX_BUY} numbers, not {}", r.count),
            ));
        }
        let now = self.now();
        let year = now.civil().year;
        let key = &self.key;
        self.db.tx(|tx| {
            let d = super::disk_in(tx, &r.serial)?;
            if !d.kinds.iter().any(|k| k.kind == r.kind) {
                return Err(BureauError::bad(
                    "not_authorized",
                    "B2, FAQ 3.5",
                    format!(
                        "disk {} is not authorized for {} invoices",
                        r.serial, r.kind
                    ),
                ));
            }
            let region = region_of(&d.taxpayer_id);
            let mut out = Vec::new();
            let mut left = r.count;
            while left > 0 {
                let (code, first, n) =
                    take_numbers(tx, &region, year, r.kind, left.min(ROLL_SIZE))?;
                if n == 0 {
                    continue;
                }
                if overlaps_grant(tx, &code, first, n)? {
                    // The batch table is the only allocator, so this means the database was edited.
                    return Err(BureauError::Corrupt(format!(
                        "range {code} {first}+{n} already sold"
                    )));
                }
                let invoice_code =
                    InvoiceCode::new(&code).map_err(|e| BureauError::Corrupt(e.to_string()))?;
                invoice_code
                    .check_kind(r.kind)
                    .map_err(|e| BureauError::Corrupt(e.to_string()))?;
                let seq = db::next_seq(tx, &r.serial, names::ROLL_GRANT)?;
                let signed = super::sign_token(
                    key,
                    RollGrant {
                        serial: r.serial.clone(),
                        seq,
                        kind: r.kind,
                        code: invoice_code,
                        first: InvoiceNumber::new(first)
                            .map_err(|e| BureauError::Corrupt(e.to_string()))?,
                        count: n,
                        issued_at: now,
                    },
                )?;
                tx.execute(
                    "INSERT INTO grants (serial, seq, kind, code, first, count, signed)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    &args![
                        r.serial.as_str(),
                        seq,
                        r.kind.number(),
                        &code,
                        first,
                        n,
                        db::to_json(&signed)?
                    ],
                )?;
                out.push(signed);
                left -= n;
            }
            Ok(out)
        })
    }

    /// `GET /disks/{serial}/grants?after_seq=N` (B2, H13): the disk's grants with a greater seq.
    pub fn grants(
        &self,
        serial: &DeviceSerial,
        after_seq: u32,
    ) -> Result<Vec<Signed<RollGrant>>, BureauError> {
        let rows = self.db.tx(|tx| {
            super::disk_in(tx, serial)?;
            tx.query(
                "SELECT signed FROM grants WHERE serial = ?1 AND seq > ?2 ORDER BY seq",
                &args![serial.as_str(), after_seq],
            )
        })?;
        rows.iter().map(|r| db::from_json(&r.text(0)?)).collect()
    }

    /// `POST /rolls/return` (B2, D4, FAQ 4.5, 4.20): takes back unused numbers named by a
    /// device-signed receipt. Refusals: `bad_signature`, `not_sold` (not a range sold to this
    /// disk, or returned already: a replay), `number_used` (an invoice or blank void the
    /// bureau received uses one of them), `bad_count`.
    pub fn return_roll(&mut self, r: Signed<RollReturnReceipt>) -> Result<(), BureauError> {
        let (d, vk) = self.keyed_disk(&r.body.serial)?;
        r.verify(&vk).map_err(|_| {
            BureauError::bad(
                "bad_signature",
                "B2, D4",
                "the return receipt's signature does not verify with the disk's key",
            )
        })?;
        let b = &r.body;
        if b.count == 0 {
            return Err(BureauError::bad("bad_count", "B2", "a return of 0 numbers"));
        }
        let receipt = db::to_json(&r)?;
        self.db.tx(|tx| {
            if !is_sold_to(
                tx,
                d.serial.as_str(),
                b.kind,
                b.code.as_str(),
                b.first.get(),
                b.count,
            )? {
                return Err(BureauError::conflict(
                    "not_sold",
                    "B2, D4",
                    format!(
                        "{} {}+{} is not a range sold to disk {} and still held (or it was returned)",
                        b.code, b.first, b.count, d.serial
                    ),
                ));
            }
            let used: Option<u32> = tx
                .query_opt(
                    "SELECT number FROM used_numbers WHERE code = ?1 AND number >= ?2 AND number < ?3
                     LIMIT 1",
                    &args![
                        b.code.as_str(),
                        b.first.get(),
                        i64::from(b.first.get()) + i64::from(b.count)
                    ],
                )?
                .map(|row| row.num(0))
                .transpose()?;
            if let Some(n) = used {
                return Err(BureauError::conflict(
                    "number_used",
                    "B2, D4",
                    format!("{} {n:08} is used by an uploaded event", b.code),
                ));
            }
            tx.execute(
                "INSERT INTO roll_returns (serial, code, first, count, signed) VALUES (?1, ?2, ?3, ?4, ?5)",
                &args![d.serial.as_str(), b.code.as_str(), b.first.get(), b.count, &receipt],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn b02_every_batch_code_has_its_kinds_f2_format_and_is_unique() {
        let mut seen = HashSet::new();
        for kind in InvoiceKind::ALL {
            let batches = if kind == InvoiceKind::Special {
                200
            } else {
                1000
            };
            for b in 0..batches {
                let c = code_for("3501", 2026, kind, b).unwrap();
                let code = InvoiceCode::new(&c).unwrap();
                assert_eq!(code.check_kind(kind), Ok(()), "{kind} batch {b}: {c}");
                for other in InvoiceKind::ALL.into_iter().filter(|k| *k != kind) {
                    assert!(code.check_kind(other).is_err(), "{c} also fits {other}");
                }
                assert!(seen.insert(c), "code reused");
            }
            assert_eq!(code_for("3501", 2026, kind, batches), None);
        }
    }

    #[test]
    fn b02_region_comes_from_the_taxpayer_id() {
        assert_eq!(
            region_of(&TaxpayerId::new("91350100M000100Y43").unwrap()),
            "3501"
        );
        assert_eq!(
            region_of(&TaxpayerId::new("110108123456789").unwrap()),
            "1101"
        );
        assert_eq!(
            region6_of(&TaxpayerId::new("A10108123456789").unwrap()),
            "110000"
        );
    }
}
