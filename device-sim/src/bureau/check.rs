//! B9 invoice check (查验): an invoice is found by code, number and issue date, together with
//! its tax-excluded amount (required for special invoices, which print no check code) or the
//! last 6 digits of its check code (derived from the disk's signature, F5).

use super::db::{self, args};
use super::{Bureau, BureauError};
use taxdisk_protocol::bureau_api::{CheckRequest, CheckResult};
use taxdisk_protocol::types::{IssuedInvoice, Signed};

impl Bureau {
    /// `POST /check` (B9). A request without amount and check code, or a special invoice
    /// checked without its amount, is refused (`missing_field`); an invoice that does not
    /// match everything given answers `found: false`.
    pub fn check(&self, r: CheckRequest) -> Result<CheckResult, BureauError> {
        if r.amount.is_none() && r.check_code_last6.is_none() {
            return Err(BureauError::bad(
                "missing_field",
                "B9",
                "give the amount (special invoices) or the last 6 digits of the check code",
            ));
        }
        if let Some(c) = &r.check_code_last6
            && (c.len() != 6 || !c.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(BureauError::bad(
                "bad_check_code",
                "B9, F5",
                "the check code part is its last 6 digits",
            ));
        }
        let not_found = CheckResult {
            found: false,
            invoice: None,
            voided: false,
            reversed: false,
        };
        let row = self.db.tx(|tx| {
            tx.query_opt(
                "SELECT date, amount, check_code, voided, reversed, invoice FROM invoices
                 WHERE code = ?1 AND number = ?2",
                &args![r.code.as_str(), r.number.get()],
            )
        })?;
        let Some(row) = row else {
            return Ok(not_found);
        };
        let (date, amount, check_code): (u32, i64, String) =
            (row.num(0)?, row.int(1)?, row.text(2)?);
        let (voided, reversed, inv) = (row.flag(3)?, row.flag(4)?, row.text(5)?);
        let inv: Signed<IssuedInvoice> = db::from_json(&inv)?;
        if inv.body.kind == taxdisk_protocol::types::InvoiceKind::Special && r.amount.is_none() {
            return Err(BureauError::bad(
                "missing_field",
                "B9, F5",
                "a special invoice is checked with its amount (it has no check code)",
            ));
        }
        let matches = date == r.date
            && r.amount.is_none_or(|a| a.0 == amount)
            && r.check_code_last6
                .as_deref()
                .is_none_or(|c| check_code.ends_with(c));
        if !matches {
            return Ok(not_found);
        }
        Ok(CheckResult {
            found: true,
            invoice: Some(inv.body),
            voided,
            reversed,
        })
    }
}
