//! [`DiskClient`]: one typed method per command of the protocol's command table, over any
//! [`Transport`], with retries that are safe.
//!
//! - Every client has a random nonzero host session id (D14: the disk binds the login to it;
//!   a second session gets [`DiskError::Busy`]).
//! - Every request gets the next sequence number. An answer whose sequence number, session,
//!   frame type or command does not match the request in flight is a stale duplicate or a late
//!   answer to an earlier attempt, and is discarded.
//! - A lost, late or corrupted answer is retried, up to [`ClientConfig::attempts`] sends, with
//!   the *same* frame: same sequence number (a disk that keeps its last answer can replay it)
//!   and, for Issue, the same request id (the idempotency key stored in the journal, D5), so a
//!   retried Issue never makes a second invoice. Reads are naturally safe to resend. Other
//!   changes (Void, tokens, ...) are carried out at most once by the disk's own rules; a resend
//!   after a lost answer may be refused as already done, which [`DiskError::Refused`] flags
//!   with `retried` so the caller can reconcile from the journal.
//! - A refusal of the disk ([`WireError`]) is never retried: it is [`DiskError::Refused`] with
//!   the error and its detail (PIN tries left, ...), or [`DiskError::Busy`] for D14.

use crate::transport::{Frame, Transport, TransportError};
use std::fmt;
use std::time::{Duration, Instant};
use taxdisk_protocol::command::{
    ChangePin, EVENTS_PER_PAGE, InvoiceRef, ListPending, ListRolls, ROLLS_PER_PAGE, ReturnOil,
    ReturnRoll, VoidBlank, VoidRequest,
};
use taxdisk_protocol::command::{Command, cmd};
use taxdisk_protocol::frame::{FrameType, MAX_ENCODED, decode_response, encode_request};
use taxdisk_protocol::types::*;
use taxdisk_protocol::usb::TIMEOUT_MS;
use taxdisk_protocol::{CommandId, DecodeError, Period, Request, Response, WireError};

mod commands;
mod exchange;
pub(crate) use exchange::MAX_EARLY;
mod issue;

pub use issue::{IssuePipeline, new_request_id};

/// Most events [`DiskClient::list_pending`] collects before calling the disk's answers
/// unreasonable (a real journal holds a few hundred thousand): a broken or hostile disk cannot
/// make the host page forever.
pub const MAX_PENDING_EVENTS: usize = 1_000_000;

/// How the client waits and retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Sends of one request before giving up (at least 1; 1 means no retry).
    pub attempts: u32,
    /// How long to wait for the answer to each send.
    pub timeout: Duration,
    /// Pause before resending after the link broke (lets a replugged disk or a restarted
    /// server come back). Timeouts already waited, so they resend at once.
    pub reconnect_pause: Duration,
    /// The host session id; `None` picks a random nonzero one.
    pub session: Option<u32>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            attempts: 4,
            timeout: Duration::from_millis(u64::from(TIMEOUT_MS)),
            reconnect_pause: Duration::from_millis(200),
            session: None,
        }
    }
}

/// What happened on the link so far (to see that faults were met and survived).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests made.
    pub requests: u64,
    /// Frames sent (requests plus resends).
    pub sends: u64,
    /// Resends after a lost, late or corrupted answer or a broken link.
    pub retries: u64,
    /// Waits that ended without the answer.
    pub timeouts: u64,
    /// Frames that arrived corrupted.
    pub bad_frames: u64,
    /// Valid frames discarded because they did not answer the request in flight.
    pub stale: u64,
    /// Reconnects after a broken link.
    pub reconnects: u64,
}

/// Why a disk command failed.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// The disk refused the command. Displays as one line with the rule id.
    #[error("{} refused by the disk: {error}{}", .command.name(), detail_text(*.error, *.detail))]
    Refused {
        /// The command refused.
        command: CommandId,
        /// Why (its Display names the rule).
        error: WireError,
        /// The refusal's detail, e.g. PIN tries left with `WrongPin`.
        detail: u32,
        /// The refusal answered a resend: an earlier send whose answer was lost may have been
        /// carried out (a retried Void answering `AlreadyVoided`, a retried token `Replayed`).
        /// Issue is immune (request id); other changes are reconciled by reading the journal.
        retried: bool,
    },
    /// Another host session holds the disk (D14).
    #[error(
        "{} refused: the disk is in use by another session (0x0004, D14); close the other \
         program or wait",
        .command.name()
    )]
    Busy {
        /// The command refused.
        command: CommandId,
    },
    /// No answer after every attempt.
    #[error(
        "no answer from the disk ({link}) to {} after {attempts} attempt(s) of {} ms",
        .command.name(),
        .timeout.as_millis()
    )]
    Timeout {
        /// The command.
        command: CommandId,
        /// Sends made.
        attempts: u32,
        /// Wait per send.
        timeout: Duration,
        /// The transport's description.
        link: String,
    },
    /// Every answer that arrived was corrupted.
    #[error("the disk's answers to {} were corrupted {attempts} time(s): {last}", .command.name())]
    Corrupted {
        /// The command.
        command: CommandId,
        /// Sends made.
        attempts: u32,
        /// The last decode error.
        last: DecodeError,
    },
    /// The transport failed in a way resending does not fix (no disk, USB setup), or kept
    /// failing.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The request did not encode (a value too large for a frame).
    #[error("{} could not be encoded: {error}", .command.name())]
    Encode {
        /// The command.
        command: CommandId,
        /// Why.
        error: DecodeError,
    },
    /// The disk answered something the protocol does not allow (a wrong answer type, a page
    /// that does not advance).
    #[error("the disk answered {} against the protocol: {what}", .command.name())]
    Protocol {
        /// The command.
        command: CommandId,
        /// What was wrong.
        what: String,
    },
}

impl DiskError {
    /// The wire error of a refusal (`Busy` included), if this is one.
    pub fn wire_error(&self) -> Option<WireError> {
        match self {
            DiskError::Refused { error, .. } => Some(*error),
            DiskError::Busy { .. } => Some(WireError::Busy),
            _ => None,
        }
    }

    /// Whether the outcome at the disk is unknown: the request may or may not have been
    /// carried out (timeouts, corrupted answers, a broken link). After an Issue, repair (H11)
    /// finds out by request id.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            DiskError::Timeout { .. } | DiskError::Corrupted { .. } | DiskError::Transport(_)
        )
    }
}

fn detail_text(error: WireError, detail: u32) -> String {
    match (error, detail) {
        (WireError::WrongPin, n) => format!("; {n} tries left"),
        // D13: the firmware names the newest journal event it can still read (ReadEvent
        // answers in this state, for repair).
        (WireError::StorageFault, n) => {
            format!("; the disk stopped: its journal is still readable through event {n}")
        }
        (_, 0) => String::new(),
        (_, n) => format!(" (detail {n})"),
    }
}

/// The disk client: typed commands with sequence numbers, a session id and safe retries.
pub struct DiskClient<T: Transport> {
    transport: T,
    config: ClientConfig,
    session: u32,
    seq: u32,
    stats: ClientStats,
    buf: Vec<u8>,
    /// Answers that arrived for a later request still in flight (pipelining) while an earlier
    /// one was awaited; consulted before the transport.
    early: Vec<Frame>,
}

impl<T: Transport> fmt::Debug for DiskClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskClient")
            .field("link", &self.transport.describe())
            .field("session", &self.session)
            .field("seq", &self.seq)
            .finish()
    }
}

fn unexpected(command: CommandId, got: &Response) -> DiskError {
    DiskError::Protocol {
        command,
        what: format!("answered as {}", got.id().name()),
    }
}

impl<T: Transport> DiskClient<T> {
    /// A client over `transport` with the default configuration.
    pub fn new(transport: T) -> Self {
        Self::with_config(transport, ClientConfig::default())
    }

    /// A client over `transport` with `config`.
    pub fn with_config(transport: T, config: ClientConfig) -> Self {
        let session = match config.session {
            Some(s) => s,
            None => loop {
                let s: u32 = rand::random();
                if s != 0 {
                    break s;
                }
            },
        };
        DiskClient {
            transport,
            config,
            session,
            seq: 0,
            stats: ClientStats::default(),
            buf: vec![0; MAX_ENCODED],
            early: Vec::new(),
        }
    }

    /// This client's host session id.
    pub fn session(&self) -> u32 {
        self.session
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Changes the configuration. A session id given in it (nonzero) becomes this client's
    /// from the next request on, so that a program whose commands run as separate processes
    /// keeps one host session on a served disk (D14); `None` keeps the current one.
    pub fn set_config(&mut self, config: ClientConfig) {
        if let Some(s) = config.session.filter(|s| *s != 0) {
            self.session = s;
        }
        self.config = config;
    }

    /// What happened on the link so far.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably (e.g. to reach an in-process simulator's control channel).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Sends any request and waits for its answer, with the retries described in the module
    /// documentation. The typed methods all go through here; conformance suites may use it
    /// directly.
    pub fn request(&mut self, req: &Request) -> Result<Response, DiskError> {
        let (seq, frame) = self.encode(req)?;
        self.exchange(req.id(), seq, &frame, 1, None)
    }

    /// Sends command `C` with `body` and answers its reply: the command table ties each request
    /// to its reply type ([`Command`]), so an answer of another command is one
    /// [`DiskError::Protocol`] here, not an arm per method.
    pub fn call<C: Command>(&mut self, body: C::Body) -> Result<C::Reply, DiskError> {
        C::reply(self.request(&C::request(body))?).map_err(|other| unexpected(C::ID, &other))
    }
}
