//! Format validators for the identifiers of the real system (RULES.md F2-F7). Each is a `no_std`
//! function returning a typed [`FormatError`]; the newtypes of [`crate::types`] call them when
//! constructed and when decoded, so a value that exists has passed its check.

use crate::kind::InvoiceKind;
use core::fmt;

/// What is wrong with an identifier. `Display` names the rule and the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The value has the wrong number of characters (`expected` lists the allowed lengths).
    Length {
        /// Which field.
        field: &'static str,
        /// Allowed lengths, as text (e.g. `"15, 17, 18 or 20"`).
        expected: &'static str,
        /// Length found.
        found: usize,
    },
    /// A character that is not allowed at this position (0-based index).
    Character {
        /// Which field.
        field: &'static str,
        /// Position of the first bad character.
        index: usize,
    },
    /// The check character or check digit does not match.
    Checksum {
        /// Which field.
        field: &'static str,
    },
    /// A month that is not 01-12.
    Month {
        /// Which field.
        field: &'static str,
    },
    /// A structural part of the value contradicts the invoice kind (F2).
    KindMismatch {
        /// Which field.
        field: &'static str,
    },
    /// A number out of its range.
    Range {
        /// Which field.
        field: &'static str,
    },
    /// A tax rate that is not in force (F7).
    Rate,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Length {
                field,
                expected,
                found,
            } => {
                write!(f, "{field}: {found} characters, expected {expected}")
            }
            FormatError::Character { field, index } => {
                write!(f, "{field}: character {} is not allowed", index + 1)
            }
            FormatError::Checksum { field } => write!(f, "{field}: check character does not match"),
            FormatError::Month { field } => write!(f, "{field}: month must be 01-12"),
            FormatError::KindMismatch { field } => {
                write!(f, "{field}: does not match the invoice kind")
            }
            FormatError::Range { field } => write!(f, "{field}: out of range"),
            FormatError::Rate => f.write_str("tax rate not in force (F7)"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FormatError {}

fn all_digits(field: &'static str, s: &str) -> Result<(), FormatError> {
    match s.bytes().position(|b| !b.is_ascii_digit()) {
        Some(index) => Err(FormatError::Character { field, index }),
        None => Ok(()),
    }
}

fn exact_len(
    field: &'static str,
    s: &str,
    n: usize,
    expected: &'static str,
) -> Result<(), FormatError> {
    if s.len() == n {
        Ok(())
    } else {
        Err(FormatError::Length {
            field,
            expected,
            found: s.len(),
        })
    }
}

/// The two-digit kind suffix (digits 11-12) of a 12-digit invoice code (F2). RULES.md fixes
/// 04 normal, 06 roll and 11 electronic; for motor-vehicle and used-car codes no source decides,
/// and we chose 17 and 18.
pub const fn code_kind_suffix(kind: InvoiceKind) -> Option<&'static str> {
    match kind {
        InvoiceKind::Special => None,
        InvoiceKind::Normal => Some("04"),
        InvoiceKind::Roll => Some("06"),
        InvoiceKind::Electronic => Some("11"),
        InvoiceKind::MotorVehicle => Some("17"),
        InvoiceKind::UsedCar => Some("18"),
    }
}

/// F2: an invoice code of `kind`. Special invoices have 10 digits (1-4 region, 5-6 year, 7 batch,
/// 8 kind = `1`, 9 copies = `3` or `6`, 10 edition); all others 12 (leading `0`, 2-5 region, 6-7
/// year, 8-10 batch, 11-12 kind suffix, see [`code_kind_suffix`]).
pub fn invoice_code(kind: InvoiceKind, s: &str) -> Result<(), FormatError> {
    const F: &str = "invoice code (F2)";
    match code_kind_suffix(kind) {
        None => {
            exact_len(F, s, 10, "10")?;
            all_digits(F, s)?;
            let b = s.as_bytes();
            if b[7] != b'1' || !(b[8] == b'3' || b[8] == b'6') {
                return Err(FormatError::KindMismatch { field: F });
            }
        }
        Some(suffix) => {
            exact_len(F, s, 12, "12")?;
            all_digits(F, s)?;
            if !s.starts_with('0') || &s[10..] != suffix {
                return Err(FormatError::KindMismatch { field: F });
            }
        }
    }
    Ok(())
}

/// F2: any well-formed invoice code (10 or 12 digits), whatever its kind.
pub fn invoice_code_any(s: &str) -> Result<(), FormatError> {
    const F: &str = "invoice code (F2)";
    if s.len() != 10 && s.len() != 12 {
        return Err(FormatError::Length {
            field: F,
            expected: "10 or 12",
            found: s.len(),
        });
    }
    all_digits(F, s)
}

/// F2: an invoice number is 8 digits, 00000001..=99999999.
pub fn invoice_number(n: u32) -> Result<(), FormatError> {
    if (1..=99_999_999).contains(&n) {
        Ok(())
    } else {
        Err(FormatError::Range {
            field: "invoice number (F2)",
        })
    }
}

/// Characters of the GB 32100 unified social credit code, in value order (no I, O, Z, S, V).
pub const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The GB 32100 check character for the first 17 characters of a unified social credit code.
pub fn uscc_check_char(first17: &[u8]) -> Result<u8, FormatError> {
    const F: &str = "taxpayer id (F3)";
    if first17.len() != 17 {
        return Err(FormatError::Length {
            field: F,
            expected: "17",
            found: first17.len(),
        });
    }
    let mut sum = 0u32;
    for (i, c) in first17.iter().enumerate() {
        let v = USCC_ALPHABET
            .iter()
            .position(|a| a == c)
            .ok_or(FormatError::Character { field: F, index: i })?;
        sum += v as u32 * USCC_WEIGHTS[i];
    }
    let check = (31 - sum % 31) % 31;
    Ok(USCC_ALPHABET[check as usize])
}

/// F3: a taxpayer id has 15, 17, 18 or 20 characters, digits and upper-case letters; an
/// 18-character id is a unified social credit code (GB 32100): its alphabet excludes I, O, Z, S
/// and V and its last character is the mod-31 check character.
pub fn taxpayer_id(s: &str) -> Result<(), FormatError> {
    const F: &str = "taxpayer id (F3)";
    match s.len() {
        18 => {
            let b = s.as_bytes();
            if let Some(index) = b.iter().position(|c| !USCC_ALPHABET.contains(c)) {
                return Err(FormatError::Character { field: F, index });
            }
            if uscc_check_char(&b[..17])? != b[17] {
                return Err(FormatError::Checksum { field: F });
            }
            Ok(())
        }
        15 | 17 | 20 => match s
            .bytes()
            .position(|c| !(c.is_ascii_digit() || c.is_ascii_uppercase()))
        {
            Some(index) => Err(FormatError::Character { field: F, index }),
            None => Ok(()),
        },
        found => Err(FormatError::Length {
            field: F,
            expected: "15, 17, 18 or 20",
            found,
        }),
    }
}

/// The check digit (digit 16) of a red info form number: the sum of digits 1-15 mod 10.
pub fn info_form_check_digit(first15: &[u8]) -> u8 {
    let sum: u32 = first15.iter().map(|d| (d - b'0') as u32).sum();
    b'0' + (sum % 10) as u8
}

/// F4: a red info form number has 16 digits; digits 7-8 are the year, 9-10 the month (01-12),
/// and digit 16 is the sum of digits 1-15 mod 10.
pub fn info_form_number(s: &str) -> Result<(), FormatError> {
    const F: &str = "red info form number (F4)";
    exact_len(F, s, 16, "16")?;
    all_digits(F, s)?;
    let b = s.as_bytes();
    let month = (b[8] - b'0') * 10 + (b[9] - b'0');
    if !(1..=12).contains(&month) {
        return Err(FormatError::Month { field: F });
    }
    if info_form_check_digit(&b[..15]) != b[15] {
        return Err(FormatError::Checksum { field: F });
    }
    Ok(())
}

/// F5: a check code (校验码) has 20 digits.
pub fn check_code(s: &str) -> Result<(), FormatError> {
    const F: &str = "check code (F5)";
    exact_len(F, s, 20, "20")?;
    all_digits(F, s)
}

/// F6: a device serial (金税盘编号) has 12 digits.
pub fn device_serial(s: &str) -> Result<(), FormatError> {
    const F: &str = "device serial (F6)";
    exact_len(F, s, 12, "12")?;
    all_digits(F, s)
}

/// F6: the highest machine number we accept (0 is the main machine, the others are branch
/// machines; no source gives a bound, we chose 999).
pub const MAX_MACHINE_NUMBER: u16 = 999;

/// F6: a machine number is 0 (main machine) to [`MAX_MACHINE_NUMBER`].
pub fn machine_number(n: u16) -> Result<(), FormatError> {
    if n <= MAX_MACHINE_NUMBER {
        Ok(())
    } else {
        Err(FormatError::Range {
            field: "machine number (F6)",
        })
    }
}

/// F7: a tax classification code (税收分类编码) has 19 digits.
pub fn tax_class_code(s: &str) -> Result<(), FormatError> {
    const F: &str = "tax classification code (F7)";
    exact_len(F, s, 19, "19")?;
    all_digits(F, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f2_special_and_other_codes() {
        assert!(invoice_code(InvoiceKind::Special, "3100153130").is_ok());
        assert!(
            invoice_code(InvoiceKind::Special, "3100153230").is_err(),
            "digit 8 must be 1"
        );
        assert!(invoice_code(InvoiceKind::Special, "310015313").is_err());
        assert!(invoice_code(InvoiceKind::Normal, "031001600104").is_ok());
        assert!(invoice_code(InvoiceKind::Electronic, "031001600111").is_ok());
        assert!(invoice_code(InvoiceKind::Roll, "031001600106").is_ok());
        assert!(
            invoice_code(InvoiceKind::Normal, "031001600106").is_err(),
            "roll suffix on normal"
        );
        assert!(
            invoice_code(InvoiceKind::Normal, "131001600104").is_err(),
            "leading 0"
        );
        assert!(invoice_code(InvoiceKind::Normal, "03100160010A").is_err());
        assert!(invoice_number(1).is_ok() && invoice_number(99_999_999).is_ok());
        assert!(invoice_number(0).is_err() && invoice_number(100_000_000).is_err());
    }

    #[test]
    fn f3_unified_social_credit_code() {
        // The example code of GB 32100 publicity material.
        assert_eq!(taxpayer_id("91350100M000100Y43"), Ok(()));
        assert_eq!(
            taxpayer_id("91350100M000100Y44"),
            Err(FormatError::Checksum {
                field: "taxpayer id (F3)"
            })
        );
        // I, O, Z, S, V are excluded.
        assert!(matches!(
            taxpayer_id("91350100M0001O0Y43"),
            Err(FormatError::Character { index: 13, .. })
        ));
        assert!(
            taxpayer_id("110108123456789").is_ok(),
            "15-character old id"
        );
        assert!(taxpayer_id("11010812345678901").is_ok(), "17 characters");
        assert!(taxpayer_id("11010812345678901234").is_ok(), "20 characters");
        assert!(matches!(
            taxpayer_id("1101081234567890"),
            Err(FormatError::Length { found: 16, .. })
        ));
        assert!(
            taxpayer_id("11010812345678a").is_err(),
            "lower case refused"
        );
    }

    #[test]
    fn f4_info_form_number() {
        // 440301 region, 26 year, 11 month, 00001 serial, check = sum mod 10.
        let mut n = *b"4403012611000010";
        n[15] = info_form_check_digit(&n[..15]);
        let s = core::str::from_utf8(&n).unwrap();
        assert_eq!(info_form_number(s), Ok(()));
        let mut bad = n;
        bad[15] = if n[15] == b'9' { b'0' } else { n[15] + 1 };
        assert!(matches!(
            info_form_number(core::str::from_utf8(&bad).unwrap()),
            Err(FormatError::Checksum { .. })
        ));
        let mut m13 = n;
        m13[8] = b'1';
        m13[9] = b'3';
        m13[15] = info_form_check_digit(&m13[..15]);
        assert!(matches!(
            info_form_number(core::str::from_utf8(&m13).unwrap()),
            Err(FormatError::Month { .. })
        ));
        assert!(info_form_number("440301261100001").is_err());
    }

    #[test]
    fn f5_f6_f7_lengths() {
        assert!(check_code("12345678901234567890").is_ok());
        assert!(check_code("1234567890123456789").is_err());
        assert!(device_serial("661234567890").is_ok());
        assert!(device_serial("66123456789X").is_err());
        assert!(machine_number(0).is_ok() && machine_number(1000).is_err());
        assert!(tax_class_code("1090101010000000000").is_ok());
        assert!(tax_class_code("109010101000000000").is_err());
    }
}
