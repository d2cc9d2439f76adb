//! # taxdisk-host
//!
//! The invoicing software's client workflow as a library (the FAQ in `shared/seeds` is its
//! manual).
//!
//! - [`invoice`]: the invoice model, tax math in `rust_decimal`, the H7 composition rules and
//!   the content digest the disk signs.
//! - [`store`]: the SQLite store (settings, company, users, customers, products, invoices, red
//!   forms, oil, audit) with migrations.
//! - [`transport`]: how frames reach a disk: in-process, TCP, USB.
//! - [`disk`]: `DiskClient`, one typed method per disk command, with safe retries.
//! - [`bureau_client`]: the tax bureau's HTTP API.
//! - [`export`]: the month spreadsheet (H16) and printed invoices and sales lists as PDF (H18).
//! - [`control`]: a simulator's control channel ([`control::Control`], over TCP or a closure);
//!   [`tokens`]: who signs the bureau's tokens for a bench ([`tokens::TokenSource`]). Both are
//!   used by [`conformance`] (the suite) and [`trace`] (record and replay).
#![forbid(unsafe_code)]

pub mod bureau_client;
pub mod conformance;
pub mod control;
pub mod disk;
pub mod export;
pub mod invoice;
pub mod l10n;
pub mod store;
pub mod tokens;
pub mod trace;
pub mod transport;
pub mod workflow;
