//! # taxdisk-protocol
//!
//! The command set of the simulated VAT tax-control disk (金税盘): wire types, error codes,
//! framing, signed messages and USB constants. `#![no_std]` unless the `std` feature is on, no
//! allocation, so disk firmware can link it as it is.
//!
//! ```text
//!  host (taxdisk-host)                                  disk (firmware / taxdisk-device-sim)
//!  ───────────────────                                  ───────────────────────────────────
//!  Request ──encode_request──► COBS(header│postcard│CRC-32) 0x00 ──► FrameDecoder / decode_frame
//!                                    USB bulk │ TCP │ in-process          │ decode_request
//!                                                                        ▼
//!                                                              dispatcher → Result<Response, Refusal>
//!  decode_response ◄── COBS(header│postcard or status│CRC-32) 0x00 ◄── encode_response
//!
//!  bureau ── Signed<token> (SM2 over DOMAIN│postcard(body)) ──► disk verifies with the bureau key
//!  disk ──── Signed<IssuedInvoice | VoidEvent | PeriodSummary | receipt> ──► bureau verifies
//! ```
//!
//! - [`command`]: THE command table ([`command::CommandId`], [`command::Request`],
//!   [`command::Response`]).
//! - [`types`]: plain data with the format rules of RULES.md F1-F8; [`validate`]: the checks.
//! - [`error`]: [`WireError`] (fixed `u16` codes) and the local [`DecodeError`].
//! - [`frame`]: header, CRC, COBS and the streaming [`frame::FrameDecoder`].
//! - [`message`]: the canonical signed messages; [`sign`] (feature `sign`): SM2 helpers.
//! - [`checkcode`]: the check code and cipher area derived from a signature (F5).
//! - [`time`]: timestamps and periods in China Standard Time.
//! - [`control`]: the simulator's control channel; [`usb`]: USB identity; [`handler`]: the
//!   "answers frames" trait.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// Tests link std whatever the features: the unit tests also run as the firmware builds them
// (`--no-default-features`, .ci/run), using std only for their own strings and vectors.
#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(feature = "std")]
pub mod bureau_api;
pub mod checkcode;
pub mod command;
pub mod control;
pub mod error;
#[cfg(feature = "std")]
pub mod fault;
pub mod frame;
pub mod handler;
pub mod kind;
pub mod message;
#[cfg(feature = "sign")]
pub mod sign;
pub mod time;
pub mod types;
pub mod usb;
pub mod validate;

pub use command::{CommandId, Request, Response};
pub use error::{DecodeError, WireError};
pub use frame::{FrameDecoder, Header, Refusal};
pub use handler::FrameHandler;
pub use time::{Period, Timestamp};
