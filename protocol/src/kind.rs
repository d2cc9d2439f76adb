//! Invoice kinds (F1): the one type the format checks of [`crate::validate`] and the wire
//! types of [`crate::types`] both need, so it stands apart from both (re-exported as
//! `types::InvoiceKind`).

use core::fmt;
use serde::{Deserialize, Serialize};

/// The kinds of invoice a disk issues (F1), with the real type code (发票类型代码, fplxdm) and the
/// Aisino kind number. On the wire a kind is its Aisino number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
#[repr(u8)]
pub enum InvoiceKind {
    /// 增值税专用发票, type code `004`, kind 0.
    Special = 0,
    /// 增值税普通发票 on paper, type code `007`, kind 2 (also its purchase and export variants).
    Normal = 2,
    /// 机动车销售统一发票, type code `005`, kind 12.
    MotorVehicle = 12,
    /// 普通发票（卷票）, type code `025`, kind 41.
    Roll = 41,
    /// 二手车销售统一发票, type code `006`, kind 42.
    UsedCar = 42,
    /// 增值税电子普通发票, type code `026`, kind 51.
    Electronic = 51,
}

impl InvoiceKind {
    /// Every kind, in Aisino number order.
    pub const ALL: [InvoiceKind; 6] = [
        InvoiceKind::Special,
        InvoiceKind::Normal,
        InvoiceKind::MotorVehicle,
        InvoiceKind::Roll,
        InvoiceKind::UsedCar,
        InvoiceKind::Electronic,
    ];

    /// The real type code (fplxdm), e.g. `"004"`.
    pub const fn type_code(self) -> &'static str {
        match self {
            InvoiceKind::Special => "004",
            InvoiceKind::Normal => "007",
            InvoiceKind::MotorVehicle => "005",
            InvoiceKind::Roll => "025",
            InvoiceKind::UsedCar => "006",
            InvoiceKind::Electronic => "026",
        }
    }

    /// The Aisino kind number (0, 2, 12, 41, 42, 51).
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// Index 0..6 for per-kind tables.
    pub const fn index(self) -> usize {
        match self {
            InvoiceKind::Special => 0,
            InvoiceKind::Normal => 1,
            InvoiceKind::MotorVehicle => 2,
            InvoiceKind::Roll => 3,
            InvoiceKind::UsedCar => 4,
            InvoiceKind::Electronic => 5,
        }
    }

    /// Whether the invoice is printed on pre-numbered paper stock (everything but electronic).
    /// Only paper kinds can be voided (D7).
    pub const fn is_paper(self) -> bool {
        !matches!(self, InvoiceKind::Electronic)
    }

    /// The kind from its type code (`"004"`) or Aisino number (`"0"`), or a short English name.
    pub fn parse(s: &str) -> Option<InvoiceKind> {
        InvoiceKind::ALL.into_iter().find(|k| {
            k.type_code() == s
                || k.name() == s
                || s.parse::<u8>().ok() == Some(k.number()) && s.len() <= 2
        })
    }

    /// A short English name (`special`, `normal`, `motor-vehicle`, `roll`, `used-car`, `electronic`).
    pub const fn name(self) -> &'static str {
        match self {
            InvoiceKind::Special => "special",
            InvoiceKind::Normal => "normal",
            InvoiceKind::MotorVehicle => "motor-vehicle",
            InvoiceKind::Roll => "roll",
            InvoiceKind::UsedCar => "used-car",
            InvoiceKind::Electronic => "electronic",
        }
    }

    /// The Chinese name as the software shows it.
    pub const fn chinese_name(self) -> &'static str {
        match self {
            InvoiceKind::Special => "增值税专用发票",
            InvoiceKind::Normal => "增值税普通发票",
            InvoiceKind::MotorVehicle => "机动车销售统一发票",
            InvoiceKind::Roll => "增值税普通发票（卷票）",
            InvoiceKind::UsedCar => "二手车销售统一发票",
            InvoiceKind::Electronic => "增值税电子普通发票",
        }
    }
}

impl From<InvoiceKind> for u8 {
    fn from(k: InvoiceKind) -> u8 {
        k as u8
    }
}

/// A byte that is not an Aisino kind number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub u8);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown invoice kind number {}", self.0)
    }
}

impl TryFrom<u8> for InvoiceKind {
    type Error = UnknownKind;
    fn try_from(v: u8) -> Result<Self, UnknownKind> {
        InvoiceKind::ALL
            .into_iter()
            .find(|k| *k as u8 == v)
            .ok_or(UnknownKind(v))
    }
}

impl fmt::Display for InvoiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
