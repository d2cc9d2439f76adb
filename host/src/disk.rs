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
use taxdisk_protocol::frame::{FrameType, MAX_ENCODED, decode_response, encode_request};
use taxdisk_protocol::types::*;
use taxdisk_protocol::usb::TIMEOUT_MS;
use taxdisk_protocol::{CommandId, DecodeError, Period, Request, Response, WireError};

mod issue;
pub use issue::IssuePipeline;

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

/// Most answers kept for later requests in flight while an earlier one is awaited.
const MAX_EARLY: usize = 64;

/// Whether `got` names a request sent after `awaited` and no later than `newest` (sequence
/// numbers wrap).
fn in_flight_after(awaited: u32, newest: u32, got: u32) -> bool {
    let d = got.wrapping_sub(awaited);
    d != 0 && d <= newest.wrapping_sub(awaited)
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

/// A fresh request id (idempotency key) for an Issue, laid out like a UUIDv7: the first six
/// bytes are the Unix time in milliseconds (big-endian), the other ten are random. Unique like
/// a random id (80 random bits per millisecond), and ids made one after the other sort
/// together, so the store's unique index on them grows at its end instead of touching a random
/// page of a large index for every invoice (one 4 KiB WAL page per invoice at a million).
pub fn new_request_id() -> RequestId {
    let mut id: RequestId = rand::random();
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    id[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    id
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

/// Generates the typed methods: each sends one request and unpacks its response variant.
macro_rules! commands {
    ($(
        $(#[$doc:meta])*
        fn $method:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty => $variant:ident ( $body:expr );
    )*) => {
        impl<T: Transport> DiskClient<T> {
            $(
                $(#[$doc])*
                pub fn $method(&mut self, $($arg: $ty),*) -> Result<$ret, DiskError> {
                    match self.request(&Request::$variant($body))? {
                        Response::$variant(v) => Ok(v),
                        other => Err(unexpected(CommandId::$variant, &other)),
                    }
                }
            )*
        }
    };
}

fn unexpected(command: CommandId, got: &Response) -> DiskError {
    DiskError::Protocol {
        command,
        what: format!("answered as {}", got.id().name()),
    }
}

commands! {
    /// Ping: the disk echoes `nonce`. Needs no login.
    fn ping(nonce: u32) -> u32 => Ping(nonce);
    /// Identity, clock and period state (H14).
    fn info() -> DiskInfo => GetInfo(());
    /// Opens this client's session with the device PIN (D2, D14). A wrong PIN is
    /// `Refused { error: WrongPin, detail: tries left }`.
    fn login(pin: &Pin) -> () => Login(pin.clone());
    /// Closes the session (D14).
    fn logout() -> () => Logout(());
    /// Initial provisioning from a bureau token (D1).
    fn provision(token: Signed<ProvisionToken>) -> ProvisionResult => Provision(token);
    /// Limits, authorization and offline state of one kind (D9, H14).
    fn status(kind: InvoiceKind) -> KindStatus => GetStatus(kind);
    /// The disk's SM2 public key (D1).
    fn public_key() -> PublicKey => GetPublicKey(());
    /// Applies a bureau update token (D10).
    fn apply_update(token: Signed<UpdateToken>) -> () => ApplyUpdate(token);
    /// Sets the disk clock from a bureau clock token (D3).
    fn set_clock(token: Signed<ClockToken>) -> () => SetClock(token);
    /// Loads a roll from a bureau grant (D4).
    fn load_roll(grant: Signed<RollGrant>) -> Roll => LoadRolls(grant);
    /// Returns the unused rest of a roll; answers the device-signed receipt (D4). A fresh
    /// request id: a resend of the call's frame answers the same receipt.
    fn return_roll(kind: InvoiceKind, code: &InvoiceCode, first: InvoiceNumber) -> Signed<RollReturnReceipt>
        => ReturnRoll(ReturnRoll { request_id: new_request_id(), kind, code: code.clone(), first });
    /// Reads an issued invoice with its void and upload status.
    fn read_invoice(invoice: &InvoiceRef) -> InvoiceView => ReadInvoice(invoice.clone());
    /// The newest issued invoice, of one kind or of any (H11 repair).
    fn last_issued(kind: Option<InvoiceKind>) -> Option<InvoiceView> => LastIssued(kind);
    /// Marks events uploaded from a bureau receipt; answers how many were newly marked (D12).
    fn ack_upload(receipt: Signed<UploadReceipt>) -> u32 => AckUpload(receipt);
    /// Copy-tax of a finished period: the signed summary (D8).
    fn copy_tax(period: Period) -> Signed<PeriodSummary> => CopyTax(period);
    /// Clear card from a bureau token (D8).
    fn clear_card(token: Signed<ClearCardToken>) -> () => ClearCard(token);
    /// Adds oil stock from a bureau grant (D11).
    fn load_oil_stock(grant: Signed<OilGrant>) -> OilStockEntry => LoadOilStock(grant);
    /// Unblocks a PIN-blocked disk from a bureau token (D2).
    fn unblock(token: Signed<UnblockToken>) -> () => Unblock(token);
    /// Reads one journal event by counter, with its upload status (H11 repair).
    fn read_event(counter: u64) -> EventView => ReadEvent(counter);
    /// Reads the bureau's receipt of a period's summary into the disk; a roll return waits
    /// for the last month's (D4, FAQ 4.21(4)).
    fn apply_report_receipt(receipt: Signed<ReportReceipt>) -> () => ApplyReportReceipt(receipt);
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

    /// Voids the next `count` blank numbers of the oldest roll of `kind` with a fresh random
    /// request id (D7). Retries reuse the id, so a lost answer never voids more numbers.
    pub fn void_blank(
        &mut self,
        kind: InvoiceKind,
        count: u32,
    ) -> Result<Signed<BlankVoidEvent>, DiskError> {
        self.void_blank_with_id(new_request_id(), kind, count)
    }

    /// Voids blank numbers with a request id chosen by the caller: the same id always gets the
    /// same event back, also after a power cut of the disk or a restart of the host (D7).
    pub fn void_blank_with_id(
        &mut self,
        request_id: RequestId,
        kind: InvoiceKind,
        count: u32,
    ) -> Result<Signed<BlankVoidEvent>, DiskError> {
        let req = Request::VoidBlank(VoidBlank {
            request_id,
            kind,
            count,
        });
        match self.request(&req)? {
            Response::VoidBlank(v) => Ok(v),
            other => Err(unexpected(CommandId::VoidBlank, &other)),
        }
    }

    /// Voids an issued invoice of the current, unreported period with a fresh random request
    /// id (D7). Retries reuse the id.
    pub fn void(&mut self, invoice: &InvoiceRef) -> Result<Signed<VoidEvent>, DiskError> {
        self.void_with_id(new_request_id(), invoice)
    }

    /// Voids an invoice with a request id chosen by the caller: the same id always gets the
    /// same event back, also after a power cut of the disk (D7).
    pub fn void_with_id(
        &mut self,
        request_id: RequestId,
        invoice: &InvoiceRef,
    ) -> Result<Signed<VoidEvent>, DiskError> {
        let req = Request::Void(VoidRequest {
            request_id,
            invoice: invoice.clone(),
        });
        match self.request(&req)? {
            Response::Void(v) => Ok(v),
            other => Err(unexpected(CommandId::Void, &other)),
        }
    }

    /// Returns the unused rest of a roll from `first` under a request id chosen by the caller:
    /// the same id sent again (the answer lost, the disk's power cut) answers the same receipt
    /// and returns nothing more (D4).
    pub fn return_roll_with_id(
        &mut self,
        request_id: RequestId,
        kind: InvoiceKind,
        code: &InvoiceCode,
        first: InvoiceNumber,
    ) -> Result<Signed<RollReturnReceipt>, DiskError> {
        let req = Request::ReturnRoll(ReturnRoll {
            request_id,
            kind,
            code: code.clone(),
            first,
        });
        match self.request(&req)? {
            Response::ReturnRoll(r) => Ok(r),
            other => Err(unexpected(CommandId::ReturnRoll, &other)),
        }
    }

    /// Returns oil stock; answers the device-signed receipt (D11). A fresh request id: a
    /// resend of the call's frame returns nothing more and answers the same receipt.
    pub fn return_oil_stock(
        &mut self,
        stock: OilStockEntry,
    ) -> Result<Signed<OilReturnReceipt>, DiskError> {
        self.return_oil_stock_with_id(new_request_id(), stock)
    }

    /// [`return_oil_stock`](Self::return_oil_stock) under a request id chosen by the caller:
    /// the same id sent again (the answer lost, the disk's power cut) answers the same receipt
    /// and returns no more oil (D11).
    pub fn return_oil_stock_with_id(
        &mut self,
        request_id: RequestId,
        stock: OilStockEntry,
    ) -> Result<Signed<OilReturnReceipt>, DiskError> {
        match self.request(&Request::ReturnOilStock(ReturnOil { request_id, stock }))? {
            Response::ReturnOilStock(r) => Ok(r),
            other => Err(unexpected(CommandId::ReturnOilStock, &other)),
        }
    }

    /// Changes the PIN; needs the old one (D2).
    pub fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), DiskError> {
        self.change_pin_with_id(new_request_id(), old, new)
    }

    /// Changes the PIN with a request id chosen by the caller: sent again with the same id
    /// after the change took (its answer lost, the disk's power cut), it answers done instead
    /// of counting the old PIN as a wrong one (D2).
    pub fn change_pin_with_id(
        &mut self,
        request_id: RequestId,
        old: &Pin,
        new: &Pin,
    ) -> Result<(), DiskError> {
        let req = Request::ChangePin(ChangePin {
            request_id,
            old: old.clone(),
            new: new.clone(),
        });
        match self.request(&req)? {
            Response::ChangePin(()) => Ok(()),
            other => Err(unexpected(CommandId::ChangePin, &other)),
        }
    }

    /// Every loaded roll (of `kind`, or all), oldest first, over all pages (D4, H13).
    pub fn list_rolls(&mut self, kind: Option<InvoiceKind>) -> Result<Vec<Roll>, DiskError> {
        let mut all = Vec::new();
        loop {
            let Ok(skip) = u8::try_from(all.len()) else {
                return Err(DiskError::Protocol {
                    command: CommandId::ListRolls,
                    what: "more than 255 rolls listed".into(),
                });
            };
            let page = match self.request(&Request::ListRolls(ListRolls { kind, skip }))? {
                Response::ListRolls(p) => p,
                other => return Err(unexpected(CommandId::ListRolls, &other)),
            };
            let full = page.len() >= ROLLS_PER_PAGE;
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }

    /// One page of journal events not yet acknowledged with a counter above `after_counter`,
    /// at most `max` (capped at [`EVENTS_PER_PAGE`] by the disk).
    pub fn list_pending_page(
        &mut self,
        after_counter: u64,
        max: u8,
    ) -> Result<Vec<JournalEvent>, DiskError> {
        match self.request(&Request::ListPending(ListPending { after_counter, max }))? {
            Response::ListPending(p) => Ok(p.into_iter().collect()),
            other => Err(unexpected(CommandId::ListPending, &other)),
        }
    }

    /// Every journal event not yet acknowledged, in counter order, over all pages (D12).
    pub fn list_pending(&mut self) -> Result<Vec<JournalEvent>, DiskError> {
        self.list_pending_after(0)
    }

    /// Every journal event not yet acknowledged with a counter above `after_counter`.
    pub fn list_pending_after(
        &mut self,
        after_counter: u64,
    ) -> Result<Vec<JournalEvent>, DiskError> {
        let mut all = Vec::new();
        let mut after = after_counter;
        // EVENTS_PER_PAGE is a small protocol constant (4), well inside u8.
        let max = EVENTS_PER_PAGE as u8;
        loop {
            let page = self.list_pending_page(after, max)?;
            let full = page.len() >= EVENTS_PER_PAGE;
            for e in page {
                if e.counter() <= after {
                    return Err(DiskError::Protocol {
                        command: CommandId::ListPending,
                        what: format!("event {} listed after counter {after}", e.counter()),
                    });
                }
                after = e.counter();
                all.push(e);
            }
            if all.len() > MAX_PENDING_EVENTS {
                return Err(DiskError::Protocol {
                    command: CommandId::ListPending,
                    what: format!("more than {MAX_PENDING_EVENTS} pending events"),
                });
            }
            if !full {
                return Ok(all);
            }
        }
    }

    /// Oil stock per category (D11).
    pub fn oil_stock(&mut self) -> Result<Vec<OilStockEntry>, DiskError> {
        match self.request(&Request::OilStock(()))? {
            Response::OilStock(v) => Ok(v.into_iter().collect()),
            other => Err(unexpected(CommandId::OilStock, &other)),
        }
    }

    /// Sends any request and waits for its answer, with the retries described in the module
    /// documentation. The typed methods all go through here; conformance suites may use it
    /// directly.
    pub fn request(&mut self, req: &Request) -> Result<Response, DiskError> {
        let (seq, frame) = self.encode(req)?;
        self.exchange(req.id(), seq, &frame, 1, None)
    }

    /// Gives `req` the next sequence number and encodes it.
    fn encode(&mut self, req: &Request) -> Result<(u32, Vec<u8>), DiskError> {
        let command = req.id();
        self.seq = self.seq.wrapping_add(1);
        let n = encode_request(self.seq, self.session, req, &mut self.buf)
            .map_err(|error| DiskError::Encode { command, error })?;
        self.stats.requests += 1;
        Ok((self.seq, self.buf[..n].to_vec()))
    }

    /// Sends `frame` (request `seq`) and waits for its answer, resending on a lost, late or
    /// corrupted answer; `first_attempt` > 1 continues the attempts of a frame already sent
    /// once (pipelining), whose failure was `last`.
    fn exchange(
        &mut self,
        command: CommandId,
        seq: u32,
        frame: &[u8],
        first_attempt: u32,
        mut last: Option<DiskError>,
    ) -> Result<Response, DiskError> {
        let attempts = self.config.attempts.max(1);
        for attempt in first_attempt..=attempts {
            if attempt > 1 {
                self.stats.retries += 1;
                tracing::debug!(command = command.name(), seq, attempt, "resending");
            }
            self.stats.sends += 1;
            if let Err(e) = self.transport.send(frame) {
                last = Some(self.link_failed(e)?);
                continue;
            }
            match self.await_answer(command, seq, attempt > 1) {
                Ok(answer) => return answer,
                Err(e) => last = Some(e),
            }
        }
        Err(self.gave_up(command, last))
    }

    /// The error after the last attempt failed with `last`.
    fn gave_up(&self, command: CommandId, last: Option<DiskError>) -> DiskError {
        let attempts = self.config.attempts.max(1);
        match last {
            Some(DiskError::Timeout { .. })
            | Some(DiskError::Transport(TransportError::Timeout(_)))
            | None => DiskError::Timeout {
                command,
                attempts,
                timeout: self.config.timeout,
                link: self.transport.describe(),
            },
            Some(DiskError::Corrupted { last, .. }) => DiskError::Corrupted {
                command,
                attempts,
                last,
            },
            Some(e) => e,
        }
    }

    /// How many requests this client keeps in flight in [`issue_pipelined`](Self::issue_pipelined)
    /// by default: the transport's [`pipeline_depth`](Transport::pipeline_depth).
    pub fn pipeline_depth(&self) -> usize {
        self.transport.pipeline_depth().max(1)
    }

    /// Handles a transport error on send or receive: returns the error to remember when the
    /// next attempt may fix it, or fails at once when it cannot.
    fn link_failed(&mut self, e: TransportError) -> Result<DiskError, DiskError> {
        if !e.is_transient() {
            return Err(e.into());
        }
        if matches!(
            e,
            TransportError::Disconnected(_) | TransportError::Io { .. }
        ) {
            tracing::debug!(error = %e, "link broken; reconnecting");
            std::thread::sleep(self.config.reconnect_pause);
            self.stats.reconnects += 1;
            if let Err(r) = self.transport.reconnect() {
                tracing::debug!(error = %r, "reconnect failed");
            }
        }
        Ok(e.into())
    }

    /// Waits for the answer to (`command`, `seq`). `Ok` is final (a result or a refusal);
    /// `Err` means resend.
    fn await_answer(
        &mut self,
        command: CommandId,
        seq: u32,
        retried: bool,
    ) -> Result<Result<Response, DiskError>, DiskError> {
        let timeout = self.config.timeout;
        let deadline = Instant::now() + timeout;
        // Answers to requests older than this one are stale now.
        let newest = self.seq;
        self.early
            .retain(|f| in_flight_after(seq, newest, f.header.seq) || f.header.seq == seq);
        loop {
            let early = self.early.iter().position(|f| f.header.seq == seq);
            let frame = if let Some(k) = early {
                self.early.remove(k)
            } else {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.transport.recv(left) {
                    Ok(f) => f,
                    Err(TransportError::Timeout(_)) => {
                        self.stats.timeouts += 1;
                        return Err(DiskError::Timeout {
                            command,
                            attempts: 1,
                            timeout,
                            link: String::new(),
                        });
                    }
                    Err(TransportError::BadFrame(last)) => {
                        // An answer arrived but cannot be read: resend now rather than wait.
                        self.stats.bad_frames += 1;
                        return Err(DiskError::Corrupted {
                            command,
                            attempts: 1,
                            last,
                        });
                    }
                    Err(e) => {
                        return match self.link_failed(e) {
                            Ok(retry) => Err(retry),
                            Err(fatal) => Ok(Err(fatal)),
                        };
                    }
                }
            };
            let h = frame.header;
            if h.frame_type == FrameType::Response
                && h.session == self.session
                && in_flight_after(seq, newest, h.seq)
                && self.early.len() < MAX_EARLY
            {
                // The answer to a later request in flight (pipelining): keep it for its turn.
                self.early.push(frame);
                continue;
            }
            if h.frame_type != FrameType::Response
                || h.seq != seq
                || h.session != self.session
                || h.command != command as u16
            {
                self.stats.stale += 1;
                tracing::trace!(seq = h.seq, want = seq, "discarding a stale frame");
                continue;
            }
            return Ok(match decode_response(&h, &frame.payload) {
                Ok(Ok(resp)) => Ok(resp),
                Ok(Err(r)) if r.error == WireError::Busy => Err(DiskError::Busy { command }),
                Ok(Err(r)) => Err(DiskError::Refused {
                    command,
                    error: r.error,
                    detail: r.detail,
                    retried,
                }),
                // The CRC matched but the body does not decode: the disk speaks another
                // version of the table. Resending would not change it.
                Err(error) => Err(DiskError::Protocol {
                    command,
                    what: format!("answer does not decode: {error}"),
                }),
            });
        }
    }
}
