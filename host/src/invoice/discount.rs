//! Discounts (H7, FAQ 4.7): by rate or by amount, on one goods line or a run of consecutive goods
//! lines. Each discounted line gets a negative discount line right after it, with the same name,
//! class code, rate and zero-rate flag.
//!
//! - By rate `r` %: each line's discount is `round(amount x r / 100)`.
//! - By amount `D`: split over the run in proportion to the line amounts,
//!   `round(D x amount_i / sum)`, with the rounding remainder on the last line of the run.
//! - The discount's tax is `round(discount x rate)`.
//! - A line whose share rounds to 0.00 gets no discount line (a zero line would print nothing).
//! - 100 % (or the whole amount) is refused: the invoice would total zero (FAQ 4.10).
//! - Discounts apply to tax-excluded amounts, whatever the price mode of the line.

use super::error::InvoiceError;
use super::math::{self, round2};
use super::model::{Draft, Line, LineKind};
use rust_decimal::Decimal;

/// How much to discount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discount {
    /// A percentage of each line, strictly between 0 and 100 (10 means 10 %).
    Rate(Decimal),
    /// An amount in yuan (tax excluded), split over the run; more than 0, less than the run.
    Amount(Decimal),
}

fn req(problem: impl Into<String>) -> InvoiceError {
    InvoiceError::DiscountRequest {
        problem: problem.into(),
    }
}

/// Discounts the `count` consecutive goods lines starting at line number `first` (1-based, as
/// shown) of `draft`, inserting a discount line after each. The run must be goods lines without
/// a discount yet, and the draft must not be red (FAQ 7.7).
pub fn apply_discount(
    draft: &mut Draft,
    first: usize,
    count: usize,
    discount: Discount,
) -> Result<(), InvoiceError> {
    if draft.is_red() {
        return Err(InvoiceError::DiscountOnRed { line: first });
    }
    if count == 0 || first == 0 || first + count - 1 > draft.lines.len() {
        return Err(req(format!(
            "lines {first} to {} are not on the invoice",
            first + count.saturating_sub(1)
        )));
    }
    let start = first - 1;
    let run = &draft.lines[start..start + count];
    for (i, l) in run.iter().enumerate() {
        if l.kind == LineKind::Discount {
            return Err(req(format!("line {} is a discount line", first + i)));
        }
        if i + 1 < count && run[i + 1].kind == LineKind::Discount {
            return Err(req(format!("line {} already has a discount", first + i)));
        }
    }
    if draft
        .lines
        .get(start + count)
        .is_some_and(|l| l.kind == LineKind::Discount)
    {
        return Err(req(format!(
            "line {} already has a discount",
            first + count - 1
        )));
    }
    let total = math::checked_sum("discounted lines", run.iter().map(|l| l.amount))?;
    let shares: Vec<Decimal> = match discount {
        Discount::Rate(r) => {
            if r <= Decimal::ZERO || r >= Decimal::ONE_HUNDRED {
                return Err(req(
                    "the discount rate must be more than 0 and less than 100 % (FAQ 4.10)",
                ));
            }
            run.iter()
                .map(|l| round2(l.amount * (r / Decimal::ONE_HUNDRED)))
                .collect()
        }
        Discount::Amount(d) => {
            if !math::is_whole_fen(d) {
                return Err(InvoiceError::Precision {
                    field: "discount amount",
                    line: 0,
                });
            }
            if d <= Decimal::ZERO || d >= total {
                return Err(req(format!(
                    "the discount amount must be more than 0 and less than the lines' {total} (FAQ 4.10)"
                )));
            }
            let mut shares: Vec<Decimal> =
                run.iter().map(|l| round2(d * (l.amount / total))).collect();
            let assigned: Decimal = shares[..count - 1].iter().sum();
            shares[count - 1] = d - assigned;
            shares
        }
    };
    let mut out = Vec::with_capacity(draft.lines.len() + count);
    out.extend_from_slice(&draft.lines[..start]);
    for (l, share) in run.iter().zip(shares) {
        if share >= l.amount {
            return Err(InvoiceError::DiscountAmount {
                line: out.len() + 2,
                problem: "the discount is not less than the line's amount (FAQ 4.10)",
            });
        }
        out.push(l.clone());
        if !share.is_zero() {
            out.push(discount_line(l, share));
        }
    }
    out.extend_from_slice(&draft.lines[start + count..]);
    draft.lines = out;
    Ok(())
}

/// The discount line of `line` for a discount of `share` yuan (positive).
pub fn discount_line(line: &Line, share: Decimal) -> Line {
    let amount = -share;
    Line {
        kind: LineKind::Discount,
        name: line.name.clone(),
        class_code: line.class_code.clone(),
        spec: String::new(),
        unit: String::new(),
        quantity: None,
        unit_price: None,
        amount,
        rate: line.rate,
        tax: math::tax_of(amount, line.rate),
        zero_flag: line.zero_flag,
        price_mode: line.price_mode,
    }
}
