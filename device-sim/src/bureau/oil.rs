//! B7 refined-oil stock (成品油, D11, FAQ 8.x): signed grants to dealer disks, and returns with a
//! device-signed receipt whose per-disk seq refuses replays. The bureau keeps each disk's
//! granted-minus-returned stock per category; a return may not exceed it less the oil that
//! received invoices sold.

use super::db::names;
use super::db::{self, args};
use super::{Bureau, BureauError};
use taxdisk_protocol::bureau_api::OilGrantRequest;
use taxdisk_protocol::types::{OilGrant, OilReturnReceipt, OilRole, OilUnit, Signed};

impl Bureau {
    /// `POST /oil/grant` (B7): grants stock of one category to a dealer disk whose oil
    /// authorization is valid. Refusals: `not_oil_dealer`, `bad_quantity`, `unit_mismatch`.
    pub fn oil_grant(&mut self, r: OilGrantRequest) -> Result<Signed<OilGrant>, BureauError> {
        if r.stock.milli_quantity <= 0 {
            return Err(BureauError::bad(
                "bad_quantity",
                "B7",
                "an oil grant is a positive quantity",
            ));
        }
        let now = self.now();
        let key = &self.key;
        self.db.tx(|tx| {
            let d = super::disk_in(tx, &r.serial)?;
            if d.oil_role != OilRole::Dealer || d.oil_valid_until.is_some_and(|t| t < now) {
                return Err(BureauError::bad(
                    "not_oil_dealer",
                    "B7, D11, FAQ 8.1",
                    format!(
                        "disk {} is not an oil dealer with a valid authorization",
                        r.serial
                    ),
                ));
            }
            let unit = tx.query_opt(
                "SELECT unit FROM oil_stock WHERE serial = ?1 AND category = ?2",
                &args![r.serial.as_str(), r.stock.category],
            )?;
            if let Some(u) = unit {
                let u: OilUnit = db::from_json(&u.text(0)?)?;
                if u != r.stock.unit {
                    return Err(BureauError::bad(
                        "unit_mismatch",
                        "B7, FAQ 8.2",
                        format!("category {} is counted in {u:?}", r.stock.category),
                    ));
                }
            }
            tx.execute(
                "INSERT INTO oil_stock (serial, category, unit, milli_quantity)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (serial, category) DO UPDATE
                 SET milli_quantity = oil_stock.milli_quantity + excluded.milli_quantity",
                &args![
                    r.serial.as_str(),
                    r.stock.category,
                    db::to_json(&r.stock.unit)?,
                    r.stock.milli_quantity
                ],
            )?;
            let seq = db::next_seq(tx, &r.serial, names::OIL_GRANT)?;
            let signed = super::sign_token(
                key,
                OilGrant {
                    serial: r.serial.clone(),
                    seq,
                    stock: r.stock,
                    issued_at: now,
                },
            )?;
            tx.execute(
                "INSERT INTO oil_moves (serial, direction, seq, signed)
                 VALUES (?1, 'grant', ?2, ?3)",
                &args![r.serial.as_str(), seq, db::to_json(&signed)?],
            )?;
            Ok(signed)
        })
    }

    /// `POST /oil/return` (B7, D11): takes back stock named by a device-signed receipt.
    /// Refusals: `bad_signature`, `replay` (seq not above the last return's), `bad_quantity`,
    /// `unit_mismatch`, `oil_short` (more than granted, not returned and not sold by invoices).
    pub fn oil_return(&mut self, r: Signed<OilReturnReceipt>) -> Result<(), BureauError> {
        let (d, vk) = self.keyed_disk(&r.body.serial)?;
        r.verify(&vk).map_err(|_| {
            BureauError::bad(
                "bad_signature",
                "B7",
                "the oil return receipt does not verify with the disk's key",
            )
        })?;
        let b = &r.body;
        if b.stock.milli_quantity <= 0 {
            return Err(BureauError::bad(
                "bad_quantity",
                "B7",
                "a return is a positive quantity",
            ));
        }
        let receipt = db::to_json(&r)?;
        self.db.tx(|tx| {
            let last: Option<u32> = tx
                .query_one(
                    "SELECT MAX(seq) FROM oil_moves WHERE serial = ?1 AND direction = 'return'",
                    &args![d.serial.as_str()],
                )?
                .opt_int(0)?
                .map(|v| {
                    u32::try_from(v)
                        .map_err(|_| BureauError::Corrupt(format!("oil return seq {v}")))
                })
                .transpose()?;
            if last.is_some_and(|l| b.seq <= l) {
                return Err(BureauError::conflict(
                    "replay",
                    "B7, D11",
                    format!(
                        "oil return seq {} of disk {} is not above the last one ({})",
                        b.seq,
                        d.serial,
                        last.unwrap_or(0)
                    ),
                ));
            }
            let stock = tx.query_opt(
                "SELECT unit, milli_quantity FROM oil_stock WHERE serial = ?1 AND category = ?2",
                &args![d.serial.as_str(), b.stock.category],
            )?;
            let (unit, granted) = match stock {
                Some(row) => (db::from_json::<OilUnit>(&row.text(0)?)?, row.int(1)?),
                None => (b.stock.unit, 0),
            };
            if unit != b.stock.unit {
                return Err(BureauError::bad(
                    "unit_mismatch",
                    "B7, FAQ 8.2",
                    format!("category {} is counted in {unit:?}", b.stock.category),
                ));
            }
            // Oil sold by received invoices left the disk's stock (blue consume, red restore;
            // voided invoices sold nothing).
            let sold = tx
                .query_one(
                    "SELECT CAST(COALESCE(SUM(CASE WHEN red <> 0 THEN -oil_milli
                         ELSE oil_milli END), 0) AS BIGINT)
                     FROM invoices WHERE serial = ?1 AND oil_category = ?2 AND voided = 0",
                    &args![d.serial.as_str(), b.stock.category],
                )?
                .int(0)?;
            let held = granted - sold;
            if b.stock.milli_quantity > held {
                return Err(BureauError::conflict(
                    "oil_short",
                    "B7, D11",
                    format!(
                        "return of {} thousandths of category {}, the disk holds {held} \
                         (granted and not returned, less what received invoices sold)",
                        b.stock.milli_quantity, b.stock.category
                    ),
                ));
            }
            tx.execute(
                "UPDATE oil_stock SET milli_quantity = milli_quantity - ?1
                 WHERE serial = ?2 AND category = ?3",
                &args![b.stock.milli_quantity, d.serial.as_str(), b.stock.category],
            )?;
            tx.execute(
                "INSERT INTO oil_moves (serial, direction, seq, signed)
                 VALUES (?1, 'return', ?2, ?3)",
                &args![d.serial.as_str(), b.seq, &receipt],
            )?;
            Ok(())
        })
    }
}
