//! Money and rates (F7, F8): amounts in fen, tax rates and zero-rate flags.

use crate::validate::FormatError;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Money in fen (分), the smallest unit of the yuan (F8). Red amounts are negative.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Fen(pub i64);

impl Fen {
    /// Zero yuan.
    pub const ZERO: Fen = Fen(0);

    /// Sum, saturating at the i64 bounds (amounts that large are refused elsewhere).
    pub const fn saturating_add(self, o: Fen) -> Fen {
        Fen(self.0.saturating_add(o.0))
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// A tax rate in hundredths of a percent (1300 = 13 %, 150 = 1.5 %), F7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TaxRate(pub u16);

impl TaxRate {
    /// Rates in force: 13, 9, 6, 5, 3, 1.5, 1 and 0 %.
    pub const CURRENT: [TaxRate; 8] = [
        TaxRate(1300),
        TaxRate(900),
        TaxRate(600),
        TaxRate(500),
        TaxRate(300),
        TaxRate(150),
        TaxRate(100),
        TaxRate(0),
    ];
    /// Rates no longer in force, still accepted on red invoices of old blue ones: 17, 16, 11, 10 %.
    pub const HISTORICAL: [TaxRate; 4] =
        [TaxRate(1700), TaxRate(1600), TaxRate(1100), TaxRate(1000)];

    /// Whether the rate is in force now.
    pub fn is_current(self) -> bool {
        TaxRate::CURRENT.contains(&self)
    }

    /// Whether the rate is a historical one (accepted for red invoices only).
    pub fn is_historical(self) -> bool {
        TaxRate::HISTORICAL.contains(&self)
    }

    /// Checks the rate: in force, or historical when `red` is set.
    pub fn check(self, red: bool) -> Result<(), FormatError> {
        if self.is_current() || (red && self.is_historical()) {
            Ok(())
        } else {
            Err(FormatError::Rate)
        }
    }
}

impl fmt::Display for TaxRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(100) {
            write!(f, "{}%", self.0 / 100)
        } else {
            write!(f, "{}.{}%", self.0 / 100, (self.0 % 100) / 10)
        }
    }
}

/// Why a line is at a zero rate (F7); the invoice prints `***` for the tax (FAQ 4.15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ZeroRateFlag {
    /// 出口退税: export with refund.
    ExportRefund,
    /// 免税: tax-free.
    TaxFree,
    /// 不征税: not taxable.
    NotTaxable,
    /// 普通零税率: ordinary zero rate.
    Ordinary,
}
