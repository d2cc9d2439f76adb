//! Typed input (H7, FAQ 4.18): numbers and codes typed with a full-width input method (`１２．５`)
//! are normalized to half-width; any other character is refused with a message that tells the user
//! to switch to half-width input, naming the character and its position.

use super::error::InvoiceError;
use rust_decimal::Decimal;
use std::str::FromStr;
use taxdisk_protocol::types::{InvoiceCode, TaxClassCode, TaxpayerId};

/// Maps full-width digits `０`-`９`, `．`, `－`, `＋` and full-width Latin letters to half-width;
/// other characters are returned unchanged.
pub fn to_half_width(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '．' | '－' | '＋' => {
            // Full-width forms U+FF01..U+FF5E map to U+0021..U+007E.
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn normalize(
    field: &'static str,
    s: &str,
    ok: impl Fn(char) -> bool,
) -> Result<String, InvoiceError> {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.trim().chars().enumerate() {
        let h = to_half_width(c);
        if !ok(h) {
            return Err(InvoiceError::Text {
                field,
                position: i + 1,
                found: c,
            });
        }
        out.push(h);
    }
    Ok(out)
}

/// Parses a decimal number (quantity, price, amount) typed by a user: full-width digits and
/// `．` are normalized; anything but digits, one point and a leading sign is refused (FAQ 4.18).
pub fn parse_decimal(field: &'static str, s: &str) -> Result<Decimal, InvoiceError> {
    let t = normalize(field, s, |c| {
        c.is_ascii_digit() || c == '.' || c == '-' || c == '+'
    })?;
    let bad = |position: usize, found: char| InvoiceError::Text {
        field,
        position,
        found,
    };
    if t.is_empty() {
        return Err(InvoiceError::Missing { field });
    }
    // Signs only first, at most one point, at least one digit.
    for (i, c) in t.chars().enumerate() {
        if (c == '-' || c == '+') && i > 0 {
            return Err(bad(i + 1, c));
        }
    }
    if let Some((i, _)) = t.match_indices('.').nth(1) {
        return Err(bad(i + 1, '.'));
    }
    if !t.chars().any(|c| c.is_ascii_digit()) {
        return Err(bad(1, t.chars().next().unwrap_or(' ')));
    }
    Decimal::from_str(&t).map_err(|_| InvoiceError::Overflow { field })
}

/// Normalizes a code of digits (tax classification code, invoice code, number).
pub fn normalize_digits(field: &'static str, s: &str) -> Result<String, InvoiceError> {
    normalize(field, s, |c| c.is_ascii_digit())
}

/// Normalizes and checks a tax classification code (F7, 19 digits).
pub fn parse_class_code(s: &str) -> Result<TaxClassCode, InvoiceError> {
    let t = normalize_digits("tax classification code", s)?;
    Ok(TaxClassCode::new(&t)?)
}

/// Normalizes and checks an invoice code (F2).
pub fn parse_invoice_code(s: &str) -> Result<InvoiceCode, InvoiceError> {
    let t = normalize_digits("invoice code", s)?;
    Ok(InvoiceCode::new(&t)?)
}

/// Normalizes and checks a taxpayer id (F3): full-width digits and letters become half-width,
/// lower-case letters are upper-cased (the real software does the same).
pub fn parse_taxpayer_id(s: &str) -> Result<TaxpayerId, InvoiceError> {
    let t = normalize("taxpayer id", s, |c| c.is_ascii_alphanumeric())?;
    Ok(TaxpayerId::new(&t.to_ascii_uppercase())?)
}
