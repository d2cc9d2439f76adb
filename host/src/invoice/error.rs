//! The one error type of invoice composition and validation. Every variant names the rule it
//! enforces ([`InvoiceError::rule`], RULES.md ids) and, where a line is at fault, the line number
//! (1-based, as the user sees it; 0 when no line is concerned).

use taxdisk_protocol::validate::FormatError;

/// Why a draft cannot become an invoice.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    /// H7: an invoice needs at least one goods line.
    #[error("H7: the invoice has no lines")]
    NoLines,
    /// H7 (FAQ 4.11): more than 8 lines on a paper kind need a sales list.
    #[error(
        "H7: {lines} lines do not fit the paper form (at most {max}); use a sales list (清单, FAQ 4.11)"
    )]
    NeedsSalesList {
        /// Lines on the draft, discount lines included.
        lines: usize,
        /// The paper form's capacity.
        max: usize,
    },
    /// H7 / H10: this invoice cannot carry a sales list.
    #[error("{rule}: a sales list is not allowed here: {reason}")]
    ListNotAllowed {
        /// Rule id.
        rule: &'static str,
        /// Why (oil, rare earth, red, vehicle kind).
        reason: &'static str,
    },
    /// H7: motor-vehicle and used-car invoices carry exactly one line, the vehicle.
    #[error("H7: a {kind} invoice has exactly one line (the vehicle), found {found}")]
    VehicleLineCount {
        /// Kind name.
        kind: &'static str,
        /// Lines found.
        found: usize,
    },
    /// H7: `|quantity x unit price - amount| > 0.01`.
    #[error(
        "H7: line {line}: quantity x unit price = {product} differs from amount {amount} by more than 0.01"
    )]
    QuantityPrice {
        /// Line number.
        line: usize,
        /// Quantity x price.
        product: String,
        /// Amount.
        amount: String,
    },
    /// H7: `|amount x rate - tax| > 0.06`.
    #[error("H7: line {line}: tax {tax} differs from amount x rate = {expected} by more than 0.06")]
    LineTax {
        /// Line number.
        line: usize,
        /// Amount x rate, unrounded.
        expected: String,
        /// The line's tax.
        tax: String,
    },
    /// H7: the invoice's tax differs from the sum of amount x rate by more than 1.27.
    #[error("H7: total tax differs from the sum of amount x rate by {deviation}, more than 1.27")]
    TotalTax {
        /// The deviation.
        deviation: String,
    },
    /// H7: quantity and unit price go together, and a price needs a quantity.
    #[error("H7: line {line}: {problem}")]
    QuantityPriceMissing {
        /// Line number.
        line: usize,
        /// What is missing.
        problem: &'static str,
    },
    /// F8: money has at most 2 decimal places.
    #[error("F8: line {line}: {field} has more than 2 decimal places")]
    Precision {
        /// Which field.
        field: &'static str,
        /// Line number.
        line: usize,
    },
    /// F8: an amount too large for the wire.
    #[error("F8: {field} is too large")]
    Overflow {
        /// Which field.
        field: &'static str,
    },
    /// F7: the rate is not in force (historical rates only on red invoices).
    #[error("F7: line {line}: tax rate {rate} is not in force{hint}")]
    Rate {
        /// Line number.
        line: usize,
        /// The rate, as printed.
        rate: String,
        /// Extra hint (historical rates are for red invoices only).
        hint: &'static str,
    },
    /// H7 (FAQ 4.15): special invoices cannot be zero-rated.
    #[error("H7: line {line}: a special invoice cannot be zero-rated")]
    ZeroRateOnSpecial {
        /// Line number.
        line: usize,
    },
    /// F7: a zero rate needs its flag and a flag needs a zero rate.
    #[error("F7: line {line}: {problem}")]
    ZeroRateFlag {
        /// Line number.
        line: usize,
        /// What is inconsistent.
        problem: &'static str,
    },
    /// H7 (FAQ 4.7): a discount line never comes first.
    #[error("H7: line {line}: a discount line cannot come first")]
    DiscountFirst {
        /// Line number.
        line: usize,
    },
    /// H7 (FAQ 4.7): a discount line never follows another discount line.
    #[error("H7: line {line}: a discount line cannot follow another discount line")]
    DiscountAfterDiscount {
        /// Line number.
        line: usize,
    },
    /// H7 (FAQ 4.7): a discount line has the name, class code and rate of the line before it.
    #[error("H7: line {line}: the discount line's {field} differs from the discounted line's")]
    DiscountMismatch {
        /// Line number.
        line: usize,
        /// Which field differs.
        field: &'static str,
    },
    /// H7 (FAQ 4.7, 4.10): a discount is negative, less than its line, and not 100 %.
    #[error("H7: line {line}: {problem}")]
    DiscountAmount {
        /// Line number.
        line: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// H7 (FAQ 4.7): the discount request itself is wrong (range, rate, amount).
    #[error("H7: discount: {problem}")]
    DiscountRequest {
        /// What is wrong.
        problem: String,
    },
    /// H10 (FAQ 7.7): red invoices carry no discount lines.
    #[error("H10: line {line}: a red invoice carries no discount lines (FAQ 7.7)")]
    DiscountOnRed {
        /// Line number.
        line: usize,
    },
    /// H7 / H10 (FAQ 7.11): blue lines are positive, red lines negative.
    #[error("{rule}: line {line}: {field} must be {expected}")]
    Sign {
        /// Rule id.
        rule: &'static str,
        /// Line number.
        line: usize,
        /// Which field.
        field: &'static str,
        /// "positive" or "negative".
        expected: &'static str,
    },
    /// D5 (FAQ 4.10): amount plus tax may not be zero.
    #[error("D5: the total amount including tax cannot be zero (FAQ 4.10)")]
    ZeroTotal,
    /// H7: a field the kind requires is empty.
    #[error("H7: {field} is required")]
    Missing {
        /// Which field.
        field: &'static str,
    },
    /// H7: a text field is too long.
    #[error("H7: {field} is longer than {max} bytes")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// H7: a control character (line break, tab, escape, ...) in a text field.
    #[error(
        "H7: {field}: character {position} is a control character (U+{code:04X}); an invoice takes printable text only"
    )]
    Control {
        /// Which field.
        field: &'static str,
        /// 1-based character position.
        position: usize,
        /// The character's code point.
        code: u32,
    },
    /// H7 (FAQ 4.2): invoices are in CNY only.
    #[error("H7: invoices are issued in CNY only (FAQ 4.2); convert {found} amounts to CNY")]
    Currency {
        /// The currency given.
        found: String,
    },
    /// H7 (FAQ 4.18): a character that is neither a digit nor a full-width digit.
    #[error(
        "H7: {field}: character {found:?} at position {position} is not allowed; switch the input method to half-width (FAQ 4.18)"
    )]
    Text {
        /// Which field.
        field: &'static str,
        /// 1-based character position.
        position: usize,
        /// The character.
        found: char,
    },
    /// F2-F7: a code or id of the wrong format.
    #[error("{0}")]
    Format(#[from] FormatError),
    /// H7: the kind-specific fields do not match the kind, or a variant is given on a kind that
    /// has none.
    #[error("H7: {problem}")]
    KindFields {
        /// What is wrong.
        problem: &'static str,
    },
    /// H10 / D6: a red invoice names what it reverses; a blue one names nothing.
    #[error("H10: {problem}")]
    RedRef {
        /// What is wrong.
        problem: &'static str,
    },
}

/// `$body` with `$line` bound to the line number of a line-level error (by reference, shared
/// or mutable as `$e` is), `$other` for the rest: the one list of the variants that carry one.
macro_rules! line_field {
    ($e:expr, $line:ident => $body:expr, $other:expr) => {
        match $e {
            InvoiceError::QuantityPrice { $line, .. }
            | InvoiceError::LineTax { $line, .. }
            | InvoiceError::QuantityPriceMissing { $line, .. }
            | InvoiceError::Precision { $line, .. }
            | InvoiceError::Rate { $line, .. }
            | InvoiceError::ZeroRateOnSpecial { $line }
            | InvoiceError::ZeroRateFlag { $line, .. }
            | InvoiceError::DiscountFirst { $line }
            | InvoiceError::DiscountAfterDiscount { $line }
            | InvoiceError::DiscountMismatch { $line, .. }
            | InvoiceError::DiscountAmount { $line, .. }
            | InvoiceError::DiscountOnRed { $line }
            | InvoiceError::Sign { $line, .. } => $body,
            _ => $other,
        }
    };
}

impl InvoiceError {
    /// The RULES.md id of the rule this error enforces (`"H7"`, `"F7"`, ...).
    pub fn rule(&self) -> &'static str {
        match self {
            InvoiceError::ListNotAllowed { rule, .. } | InvoiceError::Sign { rule, .. } => rule,
            InvoiceError::Precision { .. } | InvoiceError::Overflow { .. } => "F8",
            InvoiceError::Rate { .. } | InvoiceError::ZeroRateFlag { .. } => "F7",
            InvoiceError::DiscountOnRed { .. } | InvoiceError::RedRef { .. } => "H10",
            InvoiceError::ZeroTotal => "D5",
            InvoiceError::Format(f) => format_rule(f),
            _ => "H7",
        }
    }

    /// The 1-based line number at fault, if a line is.
    pub fn line(&self) -> Option<usize> {
        line_field!(self, line => Some(*line).filter(|&l| l > 0), None)
    }

    /// Sets the line number of a line-level error raised before the line's position was known.
    pub(crate) fn at_line(mut self, n: usize) -> Self {
        line_field!(&mut self, line => *line = n, ());
        self
    }
}

fn format_rule(f: &FormatError) -> &'static str {
    let field = match f {
        FormatError::Length { field, .. }
        | FormatError::Character { field, .. }
        | FormatError::Checksum { field }
        | FormatError::Month { field }
        | FormatError::KindMismatch { field }
        | FormatError::Range { field } => field,
        FormatError::Rate => return "F7",
    };
    for id in ["F2", "F3", "F4", "F5", "F6", "F7"] {
        if field.contains(id) {
            return id;
        }
    }
    "H7"
}
