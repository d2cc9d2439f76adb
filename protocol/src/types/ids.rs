//! Kinds and identifiers: invoice kinds (F1) and variants, the validated strings (invoice
//! codes F2, taxpayer ids F3, red info form numbers F4, check codes F5, device serials F6, tax
//! classification codes F7, PINs, company names), invoice numbers, request ids, digests,
//! signatures and public keys.

use crate::kind::InvoiceKind;
use crate::validate::{self, FormatError};
use core::fmt;
use core::str::FromStr;
use heapless::String;
use serde::{Deserialize, Serialize};

/// Variants of the normal paper invoice that use normal stock (F1, FAQ 4.2, 4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Variant {
    /// An ordinary invoice.
    #[default]
    Standard,
    /// 收购发票: the issuer buys from individuals; printed "收购".
    Purchase,
    /// 出口发票: export, in CNY only.
    Export,
}

macro_rules! checked_string {
    ($(#[$m:meta])* $name:ident, $cap:literal, $raw:literal, $field:literal, $check:path) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = $raw, into = $raw)]
        pub struct $name(String<$cap>);

        impl $name {
            /// Checks `s` and wraps it.
            pub fn new(s: &str) -> Result<Self, FormatError> {
                $check(s)?;
                let mut inner = String::new();
                inner.push_str(s).map_err(|_| FormatError::Length {
                    field: $field,
                    expected: stringify!($cap),
                    found: s.len(),
                })?;
                Ok(Self(inner))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl TryFrom<String<$cap>> for $name {
            type Error = FormatError;
            fn try_from(s: String<$cap>) -> Result<Self, FormatError> {
                $check(s.as_str())?;
                Ok(Self(s))
            }
        }

        impl From<$name> for String<$cap> {
            fn from(v: $name) -> String<$cap> {
                v.0
            }
        }

        impl FromStr for $name {
            type Err = FormatError;
            fn from_str(s: &str) -> Result<Self, FormatError> {
                Self::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    };
}

checked_string!(
    /// An invoice code (发票代码, F2): 10 digits (special) or 12 digits (other kinds). Which of the
    /// two a kind needs is checked with [`InvoiceCode::check_kind`].
    InvoiceCode, 12, "String<12>", "invoice code (F2)", validate::invoice_code_any
);
checked_string!(
    /// A taxpayer id (纳税人识别号, F3), with the GB 32100 check for 18-character ids.
    TaxpayerId, 20, "String<20>", "taxpayer id (F3)", validate::taxpayer_id
);
checked_string!(
    /// A red info form number (信息表编号, F4): 16 digits with a check digit.
    InfoFormNumber, 16, "String<16>", "red info form number (F4)", validate::info_form_number
);
checked_string!(
    /// A device serial (金税盘编号, F6): 12 digits.
    DeviceSerial, 12, "String<12>", "device serial (F6)", validate::device_serial
);
checked_string!(
    /// A tax classification code (税收分类编码, F7): 19 digits.
    TaxClassCode, 19, "String<19>", "tax classification code (F7)", validate::tax_class_code
);
checked_string!(
    /// A check code (校验码, F5): 20 digits, derived from the disk's signature.
    CheckCode, 20, "String<20>", "check code (F5)", validate::check_code
);

impl InvoiceCode {
    /// F2: whether this code fits `kind` (length, structure and kind digits).
    pub fn check_kind(&self, kind: InvoiceKind) -> Result<(), FormatError> {
        validate::invoice_code(kind, self.as_str())
    }
}

fn pin_check(s: &str) -> Result<(), FormatError> {
    const F: &str = "device PIN";
    if !(6..=16).contains(&s.len()) {
        return Err(FormatError::Length {
            field: F,
            expected: "6 to 16",
            found: s.len(),
        });
    }
    match s.bytes().position(|b| !b.is_ascii_graphic()) {
        Some(index) => Err(FormatError::Character { field: F, index }),
        None => Ok(()),
    }
}

checked_string!(
    /// The device password (口令): 6 to 16 printable ASCII characters. A factory disk's PIN is
    /// [`Pin::FACTORY`] (`88888888`, as the real disks ship).
    Pin, 16, "String<16>", "device PIN", pin_check
);

impl Pin {
    /// The PIN of a factory-state disk.
    pub const FACTORY: &'static str = "88888888";
}

fn company_name_check(s: &str) -> Result<(), FormatError> {
    const F: &str = "company name";
    if s.is_empty() || s.len() > 120 {
        return Err(FormatError::Length {
            field: F,
            expected: "1 to 120 bytes",
            found: s.len(),
        });
    }
    match s.chars().position(|c| c.is_control()) {
        Some(index) => Err(FormatError::Character { field: F, index }),
        None => Ok(()),
    }
}

checked_string!(
    /// A company name (纳税人名称): 1 to 120 bytes of UTF-8 (40 Chinese characters), no control
    /// characters.
    CompanyName, 120, "String<120>", "company name", company_name_check
);

/// An invoice number (发票号码, F2): 8 digits, 1..=99_999_999, shown zero-padded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct InvoiceNumber(u32);

impl InvoiceNumber {
    /// Checks the range and wraps it.
    pub fn new(n: u32) -> Result<Self, FormatError> {
        validate::invoice_number(n)?;
        Ok(InvoiceNumber(n))
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for InvoiceNumber {
    type Error = FormatError;
    fn try_from(n: u32) -> Result<Self, FormatError> {
        InvoiceNumber::new(n)
    }
}

impl From<InvoiceNumber> for u32 {
    fn from(n: InvoiceNumber) -> u32 {
        n.0
    }
}

impl fmt::Display for InvoiceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08}", self.0)
    }
}

/// A 16-byte idempotency key chosen by the host for an Issue (DESIGN "The wire").
pub type RequestId = [u8; 16];

/// An SM3 digest of the host's canonical invoice content, which the disk signs.
pub type Digest = [u8; 32];

/// An SM2 signature `(r, s)`, each 32 bytes big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature {
    /// r, big-endian.
    pub r: [u8; 32],
    /// s, big-endian.
    pub s: [u8; 32],
}

impl Signature {
    /// `r || s`, 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.r);
        out[32..].copy_from_slice(&self.s);
        out
    }

    /// From `r || s`.
    pub fn from_bytes(b: &[u8; 64]) -> Self {
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        r.copy_from_slice(&b[..32]);
        s.copy_from_slice(&b[32..]);
        Signature { r, s }
    }
}

/// An SM2 public key: the affine point `(x, y)`, each 32 bytes big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PublicKey {
    /// x, big-endian.
    pub x: [u8; 32],
    /// y, big-endian.
    pub y: [u8; 32],
}

impl PublicKey {
    /// SEC1 uncompressed encoding: `04 || x || y`.
    pub fn to_sec1(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 4;
        out[1..33].copy_from_slice(&self.x);
        out[33..].copy_from_slice(&self.y);
        out
    }

    /// From SEC1 uncompressed encoding; `None` if it is not 65 bytes starting with `04`.
    pub fn from_sec1(b: &[u8]) -> Option<Self> {
        if b.len() != 65 || b[0] != 4 {
            return None;
        }
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x.copy_from_slice(&b[1..33]);
        y.copy_from_slice(&b[33..]);
        Some(PublicKey { x, y })
    }
}
