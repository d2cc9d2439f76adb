//! Invoices (H7, F1-F8): the model of every kind, line composition with tax math in
//! `rust_decimal`, discounts, validation with typed errors naming the rule, full-width input
//! normalization, and the content digest plus the `IssueRequest` the disk signs.
//!
//! ```text
//! LineInput --compute--> Line --+--> Draft --validate--> Invoice --+--> content_digest()
//!            apply_discount ----+                                  +--> issue_request(id)
//!                                                                  +--> full_reversal(ref)
//! ```
//!
//! Typed input goes through [`text`] (full-width normalization, FAQ 4.18). Every refusal is an
//! [`InvoiceError`] whose `rule()` is the RULES.md id and whose `line()` is the 1-based line.

pub mod compose;
pub mod digest;
pub mod discount;
pub mod error;
pub mod math;
pub mod model;
pub mod red;
pub mod text;
pub mod validate;

pub use compose::LineInput;
pub use digest::{DIGEST_VERSION, canonical_bytes, content_digest};
pub use discount::{Discount, apply_discount};
pub use error::InvoiceError;
pub use model::{
    Draft, Invoice, KindFields, Line, LineKind, MotorVehicleFields, PAPER_LINES, Party, PriceMode,
    SALES_LIST_TEXT, Totals, UsedCarFields, UsedCarIssuer, ZERO_RATE_TEXT,
};
pub use red::check_full_reversal;
