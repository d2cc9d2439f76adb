//! Composing lines (H7): a [`LineInput`] is what the user typed for one goods line (quantity,
//! unit price, amount, with or without tax); [`LineInput::compute`] fills in what follows from it
//! with the tax math of [`super::math`]:
//!
//! - without tax: `amount = round(quantity x price)` unless the amount is given; a missing price
//!   is `amount / quantity` (8 places); `tax = round(amount x rate)` unless the tax is given.
//! - with tax: the gross is the given amount or `round(quantity x price)`;
//!   `amount = round(gross / (1 + rate))`, `tax = gross - amount`; the stored price is the
//!   tax-excluded `amount / quantity`.
//!
//! The result is checked later by [`Draft::validate`](super::Draft::validate); computing never
//! skips a check.

use super::error::InvoiceError;
use super::math::{self, round_price, round2};
use super::model::{Draft, Line, LineKind, PriceMode};
use rust_decimal::Decimal;
use taxdisk_protocol::types::{TaxClassCode, TaxRate, ZeroRateFlag};

/// What the user entered for one goods line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineInput {
    /// Name.
    pub name: String,
    /// Tax classification code.
    pub class_code: TaxClassCode,
    /// Specification.
    pub spec: String,
    /// Unit.
    pub unit: String,
    /// Quantity.
    pub quantity: Option<Decimal>,
    /// Unit price (with or without tax per `price_mode`).
    pub unit_price: Option<Decimal>,
    /// Amount (with or without tax per `price_mode`).
    pub amount: Option<Decimal>,
    /// Tax, when the user overrides the computed one (without-tax mode only).
    pub tax: Option<Decimal>,
    /// Rate.
    pub rate: TaxRate,
    /// Zero-rate flag.
    pub zero_flag: Option<ZeroRateFlag>,
    /// With or without tax.
    pub price_mode: PriceMode,
}

impl LineInput {
    /// A line with name, code and rate; set the rest with the builder methods.
    pub fn new(name: &str, class_code: TaxClassCode, rate: TaxRate) -> LineInput {
        LineInput {
            name: name.to_owned(),
            class_code,
            spec: String::new(),
            unit: String::new(),
            quantity: None,
            unit_price: None,
            amount: None,
            tax: None,
            rate,
            zero_flag: None,
            price_mode: PriceMode::WithoutTax,
        }
    }

    /// Sets quantity and unit price.
    pub fn qty_price(mut self, quantity: Decimal, unit_price: Decimal) -> LineInput {
        self.quantity = Some(quantity);
        self.unit_price = Some(unit_price);
        self
    }

    /// Sets the quantity alone (the price follows from the amount).
    pub fn quantity(mut self, quantity: Decimal) -> LineInput {
        self.quantity = Some(quantity);
        self
    }

    /// Sets the amount.
    pub fn amount(mut self, amount: Decimal) -> LineInput {
        self.amount = Some(amount);
        self
    }

    /// Overrides the computed tax (checked against the 0.06 tolerance).
    pub fn tax(mut self, tax: Decimal) -> LineInput {
        self.tax = Some(tax);
        self
    }

    /// Prices and amount include tax (含税).
    pub fn with_tax(mut self) -> LineInput {
        self.price_mode = PriceMode::WithTax;
        self
    }

    /// Sets spec and unit.
    pub fn spec_unit(mut self, spec: &str, unit: &str) -> LineInput {
        self.spec = spec.to_owned();
        self.unit = unit.to_owned();
        self
    }

    /// Sets the zero-rate flag.
    pub fn zero_flag(mut self, flag: ZeroRateFlag) -> LineInput {
        self.zero_flag = Some(flag);
        self
    }

    /// Computes the line (see the module docs). Errors carry line number 0; [`Draft::add_line`]
    /// sets the real one.
    pub fn compute(&self) -> Result<Line, InvoiceError> {
        let missing = |problem| InvoiceError::QuantityPriceMissing { line: 0, problem };
        for (field, v) in [("quantity", self.quantity), ("unit price", self.unit_price)] {
            if let Some(v) = v {
                math::check_qty_price(field, v)?;
            }
        }
        let given = match (self.quantity, self.unit_price, self.amount) {
            (_, _, Some(a)) => {
                if !math::is_whole_fen(a) {
                    return Err(InvoiceError::Precision {
                        field: "amount",
                        line: 0,
                    });
                }
                round2(a)
            }
            (Some(q), Some(p), None) => round2(math::checked_mul("amount", q, p)?),
            (None, Some(_), None) => return Err(missing("a unit price needs a quantity")),
            (Some(_), None, None) => {
                return Err(missing("a quantity needs a unit price or an amount"));
            }
            (None, None, None) => {
                return Err(missing("enter an amount or a quantity and unit price"));
            }
        };
        if self.tax.is_some_and(|t| !math::is_whole_fen(t)) {
            return Err(InvoiceError::Precision {
                field: "tax",
                line: 0,
            });
        }
        let (amount, tax) = match self.price_mode {
            PriceMode::WithoutTax => (
                given,
                self.tax
                    .map_or_else(|| math::tax_of(given, self.rate), round2),
            ),
            PriceMode::WithTax => math::split_gross(given, self.rate),
        };
        // Bounded here so that every computed line converts to fen (F8).
        math::to_fen("amount", amount)?;
        math::to_fen("tax", tax)?;
        let unit_price = match (self.quantity, self.unit_price, self.price_mode) {
            (Some(_), Some(p), PriceMode::WithoutTax) => Some(p),
            (Some(q), _, _) if !q.is_zero() => Some(round_price((amount / q).abs())),
            (Some(_), _, _) => return Err(missing("the quantity cannot be zero")),
            (None, _, _) => None,
        };
        Ok(Line {
            kind: LineKind::Goods,
            name: self.name.clone(),
            class_code: self.class_code.clone(),
            spec: self.spec.clone(),
            unit: self.unit.clone(),
            quantity: self.quantity.map(|q| q.normalize()),
            unit_price: unit_price.map(|p| p.normalize()),
            amount,
            rate: self.rate,
            tax,
            zero_flag: self.zero_flag,
            price_mode: self.price_mode,
        })
    }
}

impl Draft {
    /// Computes `input` and appends it as a goods line; an error names the line it would have
    /// been.
    pub fn add_line(&mut self, input: &LineInput) -> Result<&mut Draft, InvoiceError> {
        let n = self.lines.len() + 1;
        let line = input.compute().map_err(|e| e.at_line(n))?;
        self.lines.push(line);
        Ok(self)
    }
}
