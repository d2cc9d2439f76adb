//! The `taxdisk` package as a library: what the `taxdisk` binary runs beyond single workflow
//! commands, for tests, benches and programs that want it without the command line.
//!
//! - [`wiring`]: a data folder's disk (in-process, TCP or USB), its bureau (embedded or remote),
//!   store and clock, set up once for every command.
//! - [`demo`]: a month of a company's invoicing (`taxdisk demo`).
//! - [`faults`]: the fault campaign (`taxdisk faults`): frame faults, late answers and power
//!   cuts against the workflow, with the invariants it checks.
//! - [`bench`](mod@bench): the issuing bench driver (`taxdisk bench`), raw signing interleaved.
//! - [`suite`]: the conformance suite and trace replay as the binary runs them.
//! - [`keys`]: the disk's public key and invoice signatures as files OpenSSL verifies.
//! - [`tables`]: the words and columns the binary prints invoices and states with.
//!
//! The binary (`src/main.rs`) parses arguments, calls these and prints.
#![forbid(unsafe_code)]

pub mod bench;
pub mod demo;
pub mod faults;
pub mod keys;
pub mod rig;
pub mod suite;
pub mod tables;
pub mod wiring;
