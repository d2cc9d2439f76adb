//! What leaves the software as files: the monthly spreadsheet export (H16), printed invoices
//! and sales lists as PDF (H18), and the uppercase amount both use.

pub mod amount_words;
pub mod pdf;
pub mod print;
pub mod xlsx;

pub use amount_words::amount_in_words;
pub use print::{ListLayout, Margins, PrintError, PrintMeta, render};
pub use xlsx::{ExportRow, ExportSummary, MonthWriter, export_month};
