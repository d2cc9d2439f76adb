//! Tax math (F8, H7): everything in [`rust_decimal::Decimal`], rounded half-up to 2 places, and
//! converted to integer fen ([`Fen`]) only at the edge (the disk and the wire).
//!
//! "Half-up" is applied symmetrically (half away from zero), so a red line is exactly the negation
//! of the blue line it reverses: `round(-x) == -round(x)`.

use super::error::InvoiceError;
use rust_decimal::{Decimal, RoundingStrategy};
use taxdisk_protocol::types::{Fen, TaxRate};

/// H7: the largest allowed `|quantity x unit price - amount|` of a line, in yuan.
pub const QTY_PRICE_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);
/// H7: the largest allowed `|amount x rate - tax|` of a line, in yuan.
pub const LINE_TAX_TOLERANCE: Decimal = Decimal::from_parts(6, 0, 0, false, 2);
/// H7: the largest allowed `|sum of line taxes - sum of amount x rate|` of an invoice, in yuan.
pub const TOTAL_TAX_TOLERANCE: Decimal = Decimal::from_parts(127, 0, 0, false, 2);
/// The largest magnitude accepted for a quantity or unit price (10^16): far above any real
/// invoice, and small enough that products and tax-inclusive prices never overflow `Decimal`.
pub const MAX_QTY_PRICE: Decimal = Decimal::from_parts(0x6FC1_0000, 0x0023_86F2, 0, false, 0);
/// Decimal places kept for unit prices and quantities (the real software shows up to 8).
pub const PRICE_PLACES: u32 = 8;

/// F8: rounds to 2 places, half away from zero, and always shows 2 places (`21` becomes
/// `21.00`), so stored and printed money has one form.
pub fn round2(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// Rounds a unit price or quantity to [`PRICE_PLACES`] places, half away from zero, and drops
/// trailing zeros.
pub fn round_price(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(PRICE_PLACES, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// F7: a rate given in percent (`13`, `1.5`, `0`) as the disk's hundredths of a percent, or
/// `None` when it is not one (negative, more than two decimal places, too large). Whether the
/// rate is in force is the validator's question, not this one's.
pub fn rate_from_percent(percent: Decimal) -> Option<TaxRate> {
    let bp = percent.checked_mul(Decimal::ONE_HUNDRED)?;
    if bp.fract() != Decimal::ZERO {
        return None;
    }
    u16::try_from(bp).ok().map(TaxRate)
}

/// The rate as a fraction (`TaxRate(1300)` is `0.13`).
pub fn rate_fraction(rate: TaxRate) -> Decimal {
    Decimal::new(i64::from(rate.0), 4)
}

/// The exact (unrounded) tax of `amount` at `rate`.
pub fn exact_tax(amount: Decimal, rate: TaxRate) -> Decimal {
    amount * rate_fraction(rate)
}

/// H7: the tax of a tax-excluded `amount` at `rate`, rounded half-up to 2 places.
pub fn tax_of(amount: Decimal, rate: TaxRate) -> Decimal {
    round2(exact_tax(amount, rate))
}

/// H7: splits a tax-inclusive `gross` into `(amount, tax)`:
/// `amount = round(gross / (1 + rate))`, `tax = gross - amount`. `gross` must be in whole fen.
pub fn split_gross(gross: Decimal, rate: TaxRate) -> (Decimal, Decimal) {
    let amount = round2(gross / (Decimal::ONE + rate_fraction(rate)));
    (amount, gross - amount)
}

/// `a x b`, or an overflow error naming `field`.
pub fn checked_mul(field: &'static str, a: Decimal, b: Decimal) -> Result<Decimal, InvoiceError> {
    a.checked_mul(b).ok_or(InvoiceError::Overflow { field })
}

/// The sum of `items`, or an overflow error naming `field`.
pub fn checked_sum(
    field: &'static str,
    items: impl IntoIterator<Item = Decimal>,
) -> Result<Decimal, InvoiceError> {
    items
        .into_iter()
        .try_fold(Decimal::ZERO, |acc, x| acc.checked_add(x))
        .ok_or(InvoiceError::Overflow { field })
}

/// Refuses a quantity or unit price beyond [`MAX_QTY_PRICE`].
pub fn check_qty_price(field: &'static str, d: Decimal) -> Result<(), InvoiceError> {
    if d.abs() > MAX_QTY_PRICE {
        return Err(InvoiceError::Overflow { field });
    }
    Ok(())
}

/// Whether `d` has at most 2 decimal places (a whole number of fen).
pub fn is_whole_fen(d: Decimal) -> bool {
    d.normalize().scale() <= 2
}

/// F8: converts yuan to fen. `d` must be a whole number of fen and fit an `i64` of fen.
pub fn to_fen(field: &'static str, d: Decimal) -> Result<Fen, InvoiceError> {
    if !is_whole_fen(d) {
        return Err(InvoiceError::Precision { field, line: 0 });
    }
    let fen = d
        .checked_mul(Decimal::ONE_HUNDRED)
        .ok_or(InvoiceError::Overflow { field })?;
    i64::try_from(fen)
        .map(Fen)
        .map_err(|_| InvoiceError::Overflow { field })
}

/// F8: converts fen to yuan with 2 decimal places.
pub fn from_fen(f: Fen) -> Decimal {
    Decimal::new(f.0, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn f07_rates_in_percent_are_exact_or_refused() {
        assert_eq!(rate_from_percent(d("13")), Some(TaxRate(1300)));
        assert_eq!(rate_from_percent(d("1.5")), Some(TaxRate(150)));
        assert_eq!(rate_from_percent(d("0.00")), Some(TaxRate(0)));
        // Never rounded into a rate the user did not give.
        assert_eq!(rate_from_percent(d("13.004")), None);
        assert_eq!(rate_from_percent(d("-3")), None);
        assert_eq!(rate_from_percent(d("700")), None);
        assert_eq!(rate_from_percent(Decimal::MAX), None);
    }

    #[test]
    fn f08_round2_is_symmetric_half_up() {
        assert_eq!(round2(d("0.125")), d("0.13"));
        assert_eq!(round2(d("-0.125")), d("-0.13"));
        assert_eq!(round2(d("0.124999")), d("0.12"));
    }

    #[test]
    fn max_qty_price_is_ten_to_the_sixteenth() {
        assert_eq!(MAX_QTY_PRICE, d("10000000000000000"));
    }

    #[test]
    fn f08_fen_conversion() {
        assert_eq!(to_fen("amount", d("12.34")).unwrap(), Fen(1234));
        assert_eq!(to_fen("amount", d("-0.05")).unwrap(), Fen(-5));
        assert!(to_fen("amount", d("0.001")).is_err());
        assert_eq!(from_fen(Fen(-1234)), d("-12.34"));
    }
}
