//! `FrameLog`: a transport wrapper that keeps every frame of the run in memory, so a failed
//! scenario's report row can show the frames it exchanged.

use crate::transport::{Frame, Transport, TransportError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use taxdisk_protocol::frame::FrameType;

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Host to disk.
    Sent,
    /// Disk to host.
    Received,
}

/// One frame exchanged during a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedFrame {
    /// Which way.
    pub direction: Direction,
    /// The command the header names (its name, or the raw id).
    pub command: String,
    /// The encoded frame, lower-case hex (a received frame re-encoded from its checked header
    /// and payload; a receive error is its message instead).
    pub hex: String,
}

impl std::fmt::Display for LoggedFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let arrow = match self.direction {
            Direction::Sent => "->",
            Direction::Received => "<-",
        };
        write!(f, "{arrow} {} {}", self.command, self.hex)
    }
}

/// Shared list of logged frames.
pub(crate) type Log = Arc<Mutex<Vec<LoggedFrame>>>;

/// Most frames kept; older ones are dropped (a long run must not grow without bound).
pub const MAX_LOGGED: usize = 4096;

/// A transport that logs every frame into a shared list.
pub(crate) struct FrameLog<T> {
    inner: T,
    log: Log,
}

impl<T> FrameLog<T> {
    pub(crate) fn new(inner: T) -> (Self, Log) {
        let log: Log = Arc::default();
        (
            FrameLog {
                inner,
                log: log.clone(),
            },
            log,
        )
    }

    fn push(&self, f: LoggedFrame) {
        let mut l = taxdisk_protocol::fault::locked(&self.log);
        if l.len() >= MAX_LOGGED {
            l.remove(0);
        }
        l.push(f);
    }
}

/// The command name of a raw command id.
pub(crate) fn command_name(frame_type: FrameType, id: u16) -> String {
    match frame_type {
        FrameType::ControlRequest | FrameType::ControlResponse => "control".into(),
        _ => taxdisk_protocol::CommandId::from_u16(id)
            .map_or_else(|| format!("command {id}"), |c| c.name().to_string()),
    }
}

impl<T: Transport> Transport for FrameLog<T> {
    fn send(&mut self, frame: &[u8]) -> Result<(), TransportError> {
        let mut scratch = vec![0u8; taxdisk_protocol::frame::MAX_FRAME];
        let command = match taxdisk_protocol::frame::decode_frame(frame, &mut scratch) {
            Ok((h, _)) => command_name(h.frame_type, h.command),
            Err(e) => format!("<{e}>"),
        };
        self.push(LoggedFrame {
            direction: Direction::Sent,
            command,
            hex: hex::encode(frame),
        });
        self.inner.send(frame)
    }

    fn recv(&mut self, timeout: Duration) -> Result<Frame, TransportError> {
        let r = self.inner.recv(timeout);
        self.push(match &r {
            Ok(f) => LoggedFrame {
                direction: Direction::Received,
                command: command_name(f.header.frame_type, f.header.command),
                hex: f.encoded_hex(),
            },
            Err(e) => LoggedFrame {
                direction: Direction::Received,
                command: "-".into(),
                hex: format!("<{e}>"),
            },
        });
        r
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.inner.reconnect()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
