//! Red (negative) drafts from a blue invoice (H10 composition side, FAQ 7.7, 7.11, 7.18).
//!
//! [`Invoice::full_reversal`] builds the red draft that reverses a whole blue invoice: every
//! goods line negated, with its discount merged into it (a red invoice takes no discount lines,
//! FAQ 7.7), quantities negative and unit prices positive (FAQ 7.11), no sales list (FAQ 7.8).
//! A used-car invoice may only be reversed in full (FAQ 7.18): [`check_full_reversal`].

use super::error::InvoiceError;
use super::math::round_price;
use super::model::{Draft, Invoice, Line, LineKind};
use taxdisk_protocol::types::{InvoiceKind, RedRef};

fn merged_negation(goods: &Line, discount: Option<&Line>) -> Line {
    let (da, dt) = discount.map_or((Default::default(), Default::default()), |d| {
        (d.amount, d.tax)
    });
    let amount = -(goods.amount + da);
    let tax = -(goods.tax + dt);
    let quantity = goods.quantity.map(|q| -q);
    let unit_price = match (quantity, discount) {
        // A discount changes the effective price: amount / quantity.
        (Some(q), Some(_)) if !q.is_zero() => Some(round_price((amount / q).abs())),
        _ => goods.unit_price,
    };
    Line {
        kind: LineKind::Goods,
        amount,
        tax,
        quantity,
        unit_price,
        ..goods.clone()
    }
}

impl Invoice {
    /// The red draft reversing this whole (blue) invoice, naming `red` as what it reverses.
    /// Validate it like any draft.
    pub fn full_reversal(&self, red: RedRef) -> Result<Draft, InvoiceError> {
        if self.is_red() {
            return Err(InvoiceError::RedRef {
                problem: "a red invoice cannot be reversed again",
            });
        }
        let mut d = self.draft().clone();
        let mut lines = Vec::with_capacity(d.lines.len());
        let mut i = 0;
        while i < d.lines.len() {
            let goods = &d.lines[i];
            let discount = d.lines.get(i + 1).filter(|l| l.kind == LineKind::Discount);
            lines.push(merged_negation(goods, discount));
            i += if discount.is_some() { 2 } else { 1 };
        }
        d.lines = lines;
        d.red = Some(red);
        d.sales_list = false;
        Ok(d)
    }
}

/// H10 (FAQ 7.18): a red used-car invoice reverses its original in full, nothing changed but
/// the signs: its lines must equal [`Invoice::full_reversal`] of the original, and every other
/// field must match.
pub fn check_full_reversal(original: &Invoice, red: &Draft) -> Result<(), InvoiceError> {
    if original.kind() != InvoiceKind::UsedCar {
        return Ok(());
    }
    let Some(r) = red.red.clone() else {
        return Err(InvoiceError::RedRef {
            problem: "a red invoice names what it reverses",
        });
    };
    let full = original.full_reversal(r)?;
    if full != *red {
        return Err(InvoiceError::RedRef {
            problem: "a used-car invoice is reversed in full only; its content cannot change (FAQ 7.18)",
        });
    }
    Ok(())
}
