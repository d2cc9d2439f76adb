//! [`InvoiceError`]: composition and validation (H7, H10, F2-F8, D5).

use crate::invoice::InvoiceError;
use taxdisk_i18n::{Localize, phrase, t};

impl Localize for InvoiceError {
    fn localized(&self) -> String {
        use InvoiceError as E;
        match self {
            E::NoLines => t!("inv-no-lines"),
            E::NeedsSalesList { lines, max } => t!("inv-needs-list", lines = lines, max = max),
            E::ListNotAllowed { rule, reason } => {
                t!("inv-list-not-allowed", rule = rule, reason = phrase(reason))
            }
            E::VehicleLineCount { kind, found } => {
                t!("inv-vehicle-lines", kind = phrase(kind), found = found)
            }
            E::QuantityPrice {
                line,
                product,
                amount,
            } => t!(
                "inv-quantity-price",
                line = line,
                product = product,
                amount = amount
            ),
            E::LineTax {
                line,
                expected,
                tax,
            } => t!("inv-line-tax", line = line, expected = expected, tax = tax),
            E::TotalTax { deviation } => t!("inv-total-tax", deviation = deviation),
            E::QuantityPriceMissing { line, problem } => {
                t!(
                    "inv-line-problem",
                    rule = "H7",
                    line = line,
                    problem = phrase(problem)
                )
            }
            E::Precision { field, line } => {
                t!("inv-precision", field = phrase(field), line = line)
            }
            E::Overflow { field } => t!("inv-overflow", field = phrase(field)),
            E::Rate { line, rate, hint } => {
                t!("inv-rate", line = line, rate = rate, hint = phrase(hint))
            }
            E::ZeroRateOnSpecial { line } => t!("inv-zero-rate-special", line = line),
            E::ZeroRateFlag { line, problem } => {
                t!(
                    "inv-line-problem",
                    rule = "F7",
                    line = line,
                    problem = phrase(problem)
                )
            }
            E::DiscountFirst { line } => t!("inv-discount-first", line = line),
            E::DiscountAfterDiscount { line } => t!("inv-discount-after", line = line),
            E::DiscountMismatch { line, field } => {
                t!("inv-discount-mismatch", line = line, field = phrase(field))
            }
            E::DiscountAmount { line, problem } => {
                t!(
                    "inv-line-problem",
                    rule = "H7",
                    line = line,
                    problem = phrase(problem)
                )
            }
            E::DiscountRequest { problem } => t!("inv-discount-request", problem = problem),
            E::DiscountOnRed { line } => t!("inv-discount-on-red", line = line),
            E::Sign {
                rule,
                line,
                field,
                expected,
            } => t!(
                "inv-sign",
                rule = rule,
                line = line,
                field = phrase(field),
                expected = phrase(expected)
            ),
            E::ZeroTotal => t!("inv-zero-total"),
            E::Missing { field } => t!("inv-missing", field = phrase(field)),
            E::TooLong { field, max } => t!("inv-too-long", field = phrase(field), max = max),
            E::Control {
                field,
                position,
                code,
            } => t!(
                "inv-control",
                field = phrase(field),
                position = position,
                code = format!("{code:04X}")
            ),
            E::Currency { found } => t!("inv-currency", found = found),
            E::Text {
                field,
                position,
                found,
            } => t!(
                "inv-text",
                field = phrase(field),
                position = position,
                found = format!("{found:?}")
            ),
            E::Format(f) => t!("inv-format", error = f.localized()),
            E::KindFields { problem } => t!("inv-kind-fields", problem = phrase(problem)),
            E::RedRef { problem } => t!("inv-red-ref", problem = phrase(problem)),
        }
    }
}
