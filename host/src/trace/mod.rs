//! Record and replay of disk sessions (GitHub issue 7), so a vendor's firmware can be diffed
//! against the simulator.
//!
//! - [`Recorder`] wraps any [`Transport`](crate::transport::Transport) and writes every frame
//!   of the session to a trace file.
//! - [`Trace::read`] / [`Trace::parse`] read one back (untrusted input: every bad line is an
//!   error with its line number, never a panic).
//! - [`replay`] / [`replay_with`] send the recorded requests to another disk and compare its
//!   answers with the recorded ones field by field after decoding ([`ReplayReport`]).
//!
//! # Trace format (JSON lines, UTF-8)
//!
//! The first line is the header, every further line one event:
//!
//! ```text
//! {"type":"header","format":"taxdisk-trace/1","started_unix_ms":1795668730000,"link":"tcp 127.0.0.1:7461"}
//! {"type":"frame","dir":"out","t_us":12,"hex":"0a01..00"}      a frame the host sent
//! {"type":"frame","dir":"in","t_us":80,"hex":"0a01..00"}       a frame the disk answered
//! {"type":"recv_error","t_us":2000100,"error":"no answer from the disk within 2000 ms"}
//! ```
//!
//! A Login or ChangePin frame is written with its PINs replaced by pseudonyms (`<pin-1>`, ...;
//! the public factory PIN stays), and a replay puts a PIN of its own in place of each
//! (`trace/redact.rs`): a trace holds no device PIN.
//!
//! `t_us` is microseconds since the session started; `hex` is the whole COBS-encoded frame with
//! its `0x00` delimiter, lower-case hex (a received frame is re-encoded from its checked header
//! and payload, which gives the bytes on the wire). A simulator's control channel travels on
//! another link; wrapped with [`Recorder::control`], its requests are written to the trace too,
//! between the frames they came between, as
//! `{"type":"control","t_us":..,"request":{"Advance":60}}` (the JSON form of
//! `taxdisk_protocol::control::ControlRequest`), and [`replay_with_control`] applies them to the
//! replaying simulator.
//!
//! # How answers are compared
//!
//! Requests are paired with the first answer echoing their sequence number, session and
//! command; resends of the same frame are sent once. Both answers are decoded, then:
//! - status and detail (the refusal and e.g. PIN tries left) must be equal;
//! - signatures (`signature`, `proof`) are verified, the recorded one with the recorded disk's
//!   public key and the replayed one with the replaying disk's key (both learned from
//!   Provision or GetPublicKey answers; the replaying disk is asked if needed);
//! - times (`time`, `oldest_pending`) must differ from the recorded ones by one constant offset
//!   (the two clocks' difference, fixed by the first time compared), within the tolerance of the
//!   trace's and the replay's durations plus 2 s, and GetInfo's clock must not go back (a
//!   SetClock token, D3, moves both clocks and starts the offset anew);
//! - the disk's serial and public key are compared by shape (a well-formed serial, a point on
//!   the curve); its firmware version and free journal slots (GetInfo `firmware`,
//!   `journal_free`) are properties of the device and only need to decode;
//! - every other field must be equal.
//!
//! With a [`TokenSource`](crate::tokens::TokenSource) ([`ReplayOptions::tokens`]) the bureau
//! tokens of the requests are re-signed for the replaying disk's serial (a forged token stays
//! forged, a token for another disk stays for another disk), so a session recorded against one
//! disk replays against another.

mod compare;
mod format;
mod record;
mod redact;
mod replay;

pub use compare::Difference;
pub use format::{Exchange, Trace, TraceControl, TraceFrame};
pub use record::{Recorder, RecordingControl};
pub use replay::{ReplayOptions, ReplayReport, replay, replay_with, replay_with_control};
use serde::{Deserialize, Serialize};
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::frame::MAX_ENCODED;

/// The `format` of the header line.
pub const TRACE_FORMAT: &str = "taxdisk-trace/1";

/// Longest line a trace may hold (a frame is at most `MAX_ENCODED` bytes, twice that in hex).
pub const MAX_LINE: usize = 4 * MAX_ENCODED + 256;

/// Why a trace could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// Reading or writing the file failed.
    #[error("trace {path}: {source}")]
    Io {
        /// The file (or `-` for a writer).
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a trace line.
    #[error("trace line {line}: {what}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// The first line is not a header of a known format.
    #[error("not a {TRACE_FORMAT} trace: {0}")]
    Format(String),
}

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceDir {
    /// Host to disk.
    Out,
    /// Disk to host.
    In,
}

/// One line of a trace file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum TraceLine {
    /// The first line.
    Header {
        /// [`TRACE_FORMAT`].
        format: String,
        /// Wall-clock start of the session, milliseconds since the Unix epoch.
        started_unix_ms: u64,
        /// The transport's description.
        link: String,
    },
    /// A frame.
    Frame {
        /// Which way.
        dir: TraceDir,
        /// Microseconds since the start.
        t_us: u64,
        /// The encoded frame, hex.
        hex: String,
    },
    /// A request on the simulator's control channel (clock, power, faults).
    Control {
        /// Microseconds since the start.
        t_us: u64,
        /// The request.
        request: ControlRequest,
    },
    /// A receive that got no frame (timeout, bad frame, broken link).
    RecvError {
        /// Microseconds since the start.
        t_us: u64,
        /// The error.
        error: String,
    },
}
