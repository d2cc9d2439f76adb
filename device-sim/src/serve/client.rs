//! [`ControlClient`]: a small blocking client of a simulator's control port, for tests, benches
//! and `taxdisk-sim control`. It is the protocol crate's (`taxdisk_protocol::control::client`),
//! the same client the host's conformance suite uses: it speaks only the channel's wire and
//! codec, so it drives any simulator that offers the channel.

pub use taxdisk_protocol::control::client::{ControlClient, ControlClientError, DEFAULT_TIMEOUT};
