//! The disk's firmware core: no std, no allocation, `#![forbid(unsafe_code)]`.
//!
//! [`Firmware`] is generic over the flash ([`NorFlash`]) and the random source
//! ([`rand_core::CryptoRng`], used only to generate the key pair at provisioning). Time is passed
//! in with every call (`now`), never read: the same flash, seed and clock script give the same
//! bytes (SM2 signatures are deterministic, RFC 6979 style).
//!
//! - [`Firmware::handle`] runs one command: the D14 session gate, the D2 login gate, then the
//!   command's own rules; a refusal is the [`WireError`] naming the rule.
//! - [`Firmware::handle_frame`] does the same from an encoded frame (garbage or a bad CRC gets
//!   no answer; an unknown command `UnknownCommand`; a bad payload `Malformed`).
//! - The life cycle is one enum, [`FwState`], changed only by `set_state`, which logs each
//!   transition ([`Firmware::transitions`]).
//! - Storage ([`store`]): a state log for rare changes and a journal of one page per event; an
//!   issue costs one page program, checks no more than a RAM index, and is durable before the
//!   answer (D13).
//!
//! Choices where RULES.md leaves a detail open (documented here, tested in
//! `tests/firmware_*.rs`):
//! - D5 refusal order as listed in RULES.md; the D6 sign checks come right after the zero-total
//!   check, the oil authorization with the oil stock check, and the red-original lookup (a
//!   journal scan) last, before storage.
//! - Idempotency: the RAM index covers the last [`IDEM_WINDOW`] journal events (invoices,
//!   voids and blank voids, rebuilt at boot from the record tags); a host retries within
//!   seconds, so older request ids are not looked up. A void's request id is kept in its
//!   journal record after the signed event (`firmware/void.rs`), so a resend after a power cut
//!   answers the stored event.
//! - D6: a red invoice of a non-special kind must find its original on the disk unless the
//!   journal has already reclaimed old records; reds reversing one original may not exceed it;
//!   used-car reds reverse in full.
//! - D7: voiding reverses the oil movement of the voided invoice; blank voids are refused when
//!   locked, as are voids.
//! - D14: while one session is logged in, every other session gets `Busy` for everything but
//!   Ping, GetInfo and GetPublicKey.
//! - D3: the clock offset set by a clock token is durable; a clock earlier than the newest
//!   journal entry refuses every journal event (issue, void, blank void), so journal times never
//!   go backwards.
//! - D5 "the report" of a month is the copy-tax of the month before; periods are copied in
//!   order from the provisioning period on, and a disk in its first period has nothing to report.
//! - D4 (FAQ 4.21(4)): a roll return waits for more than the copy: the bureau's receipt of the
//!   last month's summary read into the disk (ApplyReportReceipt), or a clear-card token of
//!   that month, which the bureau gives only for a reported period (`firmware/report.rs`).
//! - D9: the amount limit refuses an invoice that would take the not-uploaded positive sum past
//!   it; a limit of 0 (hours or amount) allows issuing only while no invoice of the kind is
//!   pending.
//! - D13: the issue path never scans the journal (RAM totals, a RAM idempotency index, one page
//!   program). Rare commands that look an invoice up by code and number (Void, ReadInvoice, a red
//!   invoice's original, LastIssued) walk the journal newest first; ReadEvent, ListPending and
//!   AckUpload find counters by binary search.
//! - After a flash failure the firmware is in [`FwState::Fault`] and answers only Ping until it
//!   is powered again.
//!
//! RAM: the idempotency index (16 KiB), the state snapshot (~2 KiB) and per-kind totals; stack
//! peaks at a few KiB of frame and page buffers.

pub mod persist;
mod report;
pub mod store;
mod void;

use core::fmt;
use embedded_storage::nor_flash::NorFlash;
use heapless::{Deque, Vec};
use persist::{Identity, KeptPinChange, KeptReceipt, KeptReturn, Pending, Persist, RollState};
use rand_core::CryptoRng;
use sm3::{Digest as _, Sm3};
use store::{MAX_RECORD_PAYLOAD, MAX_STATE_PAYLOAD, Record, RecordType, Store, StoreError};
use taxdisk_protocol::command::*;
use taxdisk_protocol::frame::{
    FrameType, MAX_ENCODED, MAX_FRAME, VERSION, crc32_of, decode_frame_any_version, decode_request,
    encode_response,
};
use taxdisk_protocol::message::{MAX_MESSAGE, ProvisionProof, SignedMessage};
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::types::*;
use taxdisk_protocol::{CommandId, Period, Refusal, Request, Response, Timestamp, WireError};

/// PIN tries before the disk blocks (D2).
pub const PIN_TRIES: u8 = 10;
/// Firmware version reported by GetInfo.
pub const FIRMWARE_VERSION: (u8, u8, u8) = (1, 0, 0);
/// Journal events whose request ids the RAM idempotency index remembers (D5, D7).
pub const IDEM_WINDOW: usize = 1024;
/// State transitions kept in the RAM log.
pub const TRANSITION_LOG: usize = 16;

/// What the disk is given at manufacture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirmwareConfig {
    /// The device serial (F6), fixed at manufacture.
    pub serial: DeviceSerial,
    /// The bureau's public key, which verifies every token (D1, D4, D8, D10).
    pub bureau_key: PublicKey,
}

/// The life-cycle state of the firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FwState {
    /// Not provisioned: only Provision (and Ping, GetInfo) (D1).
    Factory,
    /// Provisioned and usable.
    Ready,
    /// Past the lock time without a clear card (D8).
    Locked,
    /// PIN tries exhausted; needs an unblock token (D2).
    Blocked,
    /// The flash failed or holds inconsistent data (D13): only Ping answers, and ReadEvent
    /// where the journal is intact.
    Fault,
}

impl fmt::Display for FwState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FwState::Factory => "factory",
            FwState::Ready => "ready",
            FwState::Locked => "locked",
            FwState::Blocked => "blocked",
            FwState::Fault => "fault",
        })
    }
}

/// One logged state transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// Disk time of the change.
    pub at: Timestamp,
    /// State before.
    pub from: FwState,
    /// State after.
    pub to: FwState,
}

/// The firmware core.
pub struct Firmware<F, R> {
    cfg: FirmwareConfig,
    flash: F,
    rng: R,
    store: Store,
    p: Persist,
    /// The signing key, derived from the stored secret on first use after boot (deriving it
    /// costs a scalar multiplication, which boot should not pay).
    key: Option<Sm2SigningKey>,
    bureau: Option<sm2::dsa::VerifyingKey>,
    state: FwState,
    transitions: Deque<Transition, TRANSITION_LOG>,
    transition_count: u64,
    session: Option<u32>,
    /// Newest committed journal counter.
    counter: u64,
    /// Newest journal time (D3).
    last_time: Timestamp,
    /// Not-uploaded totals per kind index (D9, D12).
    pending: [Pending; 6],
    /// Ring of request id fingerprints of the newest invoices (D5 idempotency), apart from
    /// their counters so that the scan of every issue reads 4 KiB of fingerprints, not 16 KiB
    /// of pairs.
    idem_fp: [u32; IDEM_WINDOW],
    /// The journal counter of the invoice at the same index of `idem_fp` (0: empty slot).
    idem_counter: [u64; IDEM_WINDOW],
    idem_next: usize,
    /// The last answer (RAM, lost at power cycle, DESIGN "The firmware core"): a resent frame
    /// (same session, sequence number and bytes, after a lost answer) gets it again instead of
    /// running the command twice. Voids and issues are also kept by request id in the journal
    /// (`idem_find`), which survives a power cut.
    last_answer: Option<LastAnswer>,
}

/// The last answered frame: who asked, with which sequence number and bytes, and the answer.
#[derive(Debug)]
struct LastAnswer {
    session: u32,
    seq: u32,
    request_crc: u32,
    answer: Vec<u8, MAX_ENCODED>,
}

impl<F, R> fmt::Debug for Firmware<F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Firmware")
            .field("serial", &self.cfg.serial)
            .field("state", &self.state)
            .field("session", &self.session)
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

type Res<T> = Result<T, Refusal>;

fn refuse<T>(e: WireError) -> Res<T> {
    Err(Refusal::from(e))
}

fn fingerprint(id: &RequestId) -> u32 {
    // FNV-1a: request ids may be sequential, so hash all 16 bytes.
    let mut h: u32 = 0x811c_9dc5;
    for b in id {
        h ^= *b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn pin_hash(serial: &DeviceSerial, pin: &str) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(b"taxdisk/pin/v1\0");
    h.update(serial.as_str().as_bytes());
    h.update([0u8]);
    h.update(pin.as_bytes());
    h.finalize().into()
}

/// Decodes a journal record's event.
pub fn decode_event(r: &Record) -> Option<JournalEvent> {
    let p = r.payload();
    Some(match r.ty {
        RecordType::Invoice => JournalEvent::Invoice(postcard::from_bytes(p).ok()?),
        RecordType::Void => JournalEvent::Void(postcard::from_bytes(p).ok()?),
        RecordType::BlankVoid => JournalEvent::BlankVoid(postcard::from_bytes(p).ok()?),
    })
}

fn store_err(e: StoreError) -> WireError {
    match e {
        StoreError::Full => WireError::StorageFull,
        StoreError::TooLarge => WireError::BadArgument,
        StoreError::Flash | StoreError::TooSmall => WireError::StorageFault,
    }
}

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    /// Powers on: mounts the flash, loads the newest state snapshot and replays the newer
    /// journal records. A flash that cannot be read puts the firmware in [`FwState::Fault`].
    pub fn boot(cfg: FirmwareConfig, mut flash: F, rng: R) -> Self {
        let bureau = sign::verifying_key(&cfg.bureau_key).ok();
        let factory = Persist::factory(pin_hash(&cfg.serial, Pin::FACTORY));
        let mut buf = [0u8; MAX_STATE_PAYLOAD];
        let mounted = Store::mount(&mut flash, &mut buf);
        let (store, ok, p) = match mounted {
            Ok((store, Some(n))) => match Persist::decode(&buf[..n]) {
                Ok(p) => (store, true, p),
                Err(_) => (store, false, factory),
            },
            // D13: a used disk whose state log is damaged is not a new disk.
            Ok((store, None)) if store.state_lost() => (store, false, factory),
            Ok((store, None)) => (store, true, factory),
            Err(_) => {
                // Unmountable flash: an empty store over nothing; every command but Ping
                // answers StorageFault.
                let store = Store::unmounted();
                (store, false, factory)
            }
        };
        let key = None;
        let mut fw = Firmware {
            cfg,
            flash,
            rng,
            store,
            counter: p.counter_at_write,
            last_time: p.last_event_time,
            p,
            key,
            bureau,
            state: FwState::Factory,
            transitions: Deque::new(),
            transition_count: 0,
            session: None,
            pending: [Pending::default(); 6],
            idem_fp: [0; IDEM_WINDOW],
            idem_counter: [0; IDEM_WINDOW],
            idem_next: 0,
            last_answer: None,
        };
        if !ok || fw.replay().is_err() {
            // The journal's events stay readable (ReadEvent) where it mounted.
            fw.counter = fw.counter.max(fw.store.journal().last_counter);
            fw.set_state(Timestamp(0), FwState::Fault);
        } else {
            fw.refresh_state(Timestamp(0));
        }
        fw
    }

    /// Rebuilds the RAM state from the journal: records newer than the snapshot change rolls,
    /// oil and the counter; records not yet acknowledged make the pending totals; the newest
    /// invoices fill the idempotency index.
    fn replay(&mut self) -> Result<(), StoreError> {
        let journal_last = self.store.journal().last_counter;
        if journal_last < self.p.counter_at_write {
            // The snapshot names events the journal does not hold.
            return Err(StoreError::Flash);
        }
        let from = self.p.acked_through.min(self.p.counter_at_write);
        let mut cur = self.store.cursor_after(&mut self.flash, from)?;
        while let Some(r) = self.store.next(&mut self.flash, &mut cur)? {
            let c = r.counter;
            if c <= from {
                continue;
            }
            let Some(e) = decode_event(&r) else { continue };
            if c > self.p.counter_at_write {
                self.apply_event(&e)?;
                self.counter = c;
            }
            if c > self.p.acked_through {
                self.add_pending(&e);
            }
        }
        self.counter = self.counter.max(journal_last);
        // Idempotency index: the newest events (invoices, voids, blank voids).
        let mut newest: Vec<(u32, u64), IDEM_WINDOW> = Vec::new();
        self.store.scan_back(&mut self.flash, |r| {
            let _ = newest.push((r.tag, r.counter));
            !newest.is_full()
        })?;
        for (fp, c) in newest.iter().rev() {
            self.idem_insert(*fp, *c);
        }
        Ok(())
    }

    fn idem_insert(&mut self, fp: u32, counter: u64) {
        self.idem_fp[self.idem_next] = fp;
        self.idem_counter[self.idem_next] = counter;
        self.idem_next = (self.idem_next + 1) % IDEM_WINDOW;
    }

    /// The changes an event makes to rolls, oil stock and the newest time (issue, replay).
    fn apply_event(&mut self, e: &JournalEvent) -> Result<(), StoreError> {
        match e {
            JournalEvent::Invoice(s) => {
                let b = &s.body;
                let n = b.number.get();
                if let Some(r) = self.p.rolls.iter_mut().find(|r| r.contains(&b.code, n)) {
                    r.used = r.used.max(n - r.first + 1);
                }
                if let Some(oil) = b.oil {
                    let sign = if b.is_red() { 1 } else { -1 };
                    self.move_oil(oil, sign);
                }
            }
            JournalEvent::Void(s) => {
                let invoice = self.store.find(&mut self.flash, s.body.invoice_counter)?;
                if let Some(JournalEvent::Invoice(inv)) = invoice.as_ref().and_then(decode_event)
                    && let Some(oil) = inv.body.oil
                {
                    // The void undoes the invoice's movement.
                    let sign = if inv.body.is_red() { -1 } else { 1 };
                    self.move_oil(oil, sign);
                }
            }
            JournalEvent::BlankVoid(s) => {
                let b = &s.body;
                let n = b.first.get();
                if let Some(r) = self.p.rolls.iter_mut().find(|r| r.contains(&b.code, n)) {
                    r.used = r.used.max(n - r.first + b.count);
                }
            }
        }
        let t = e.time();
        if t > self.last_time {
            self.last_time = t;
        }
        Ok(())
    }

    /// D11: a dealer's stock moves with its invoices; a producer's does not.
    fn move_oil(&mut self, oil: OilUse, sign: i64) {
        if self.p.oil_role != OilRole::Dealer {
            return;
        }
        if let Some(e) = self.p.oil.iter_mut().find(|e| e.category == oil.category) {
            e.milli_quantity = e
                .milli_quantity
                .saturating_add(sign.saturating_mul(oil.milli_quantity));
        }
    }

    fn add_pending(&mut self, e: &JournalEvent) {
        let p = &mut self.pending[e.kind().index()];
        p.events += 1;
        if let JournalEvent::Invoice(s) = e {
            p.invoices += 1;
            if p.oldest.is_none() {
                p.oldest = Some(s.body.time);
            }
            if s.body.amount.0 > 0 {
                p.amount = p.amount.saturating_add(s.body.amount.0);
            }
        }
    }

    fn recompute_pending(&mut self) -> Result<(), StoreError> {
        self.pending = [Pending::default(); 6];
        let after = self.p.acked_through;
        let mut cur = self.store.cursor_after(&mut self.flash, after)?;
        while let Some(r) = self.store.next(&mut self.flash, &mut cur)? {
            if r.counter > after
                && let Some(e) = decode_event(&r)
            {
                self.add_pending(&e);
            }
        }
        Ok(())
    }

    // ---- state machine -------------------------------------------------------------------

    /// The life-cycle state.
    pub fn state(&self) -> FwState {
        self.state
    }

    /// The newest state transitions, oldest first.
    pub fn transitions(&self) -> impl Iterator<Item = &Transition> {
        self.transitions.iter()
    }

    /// Transitions since boot (the log keeps the newest [`TRANSITION_LOG`]).
    pub fn transition_count(&self) -> u64 {
        self.transition_count
    }

    /// The newest committed journal counter.
    pub fn counter(&self) -> u64 {
        self.counter
    }

    /// The session holding the disk (D14), if any.
    pub fn session(&self) -> Option<u32> {
        self.session
    }

    /// The flash.
    pub fn flash(&self) -> &F {
        &self.flash
    }

    /// The flash, mutably (the simulator arms power cuts through it).
    pub fn flash_mut(&mut self) -> &mut F {
        &mut self.flash
    }

    /// Powers off: gives back the flash and the random source (RAM state is lost).
    pub fn into_parts(self) -> (F, R) {
        (self.flash, self.rng)
    }

    /// The signing key if it was derived since boot (a simulator may hand it to the next boot
    /// with [`Firmware::preload_key`] to spare the scalar multiplication).
    pub fn derived_key(&self) -> Option<&Sm2SigningKey> {
        self.key.as_ref()
    }

    /// Offers a signing key derived earlier; taken only if it is the key of the stored secret,
    /// so it changes nothing the disk does, only how soon its first signature comes.
    pub fn preload_key(&mut self, key: Sm2SigningKey) {
        if let Some(id) = &self.p.identity
            && sign::secret_bytes(&key) == id.secret
        {
            self.key = Some(key);
        }
    }

    /// The disk's own time for the time the firmware was given: `now` plus the offset set by
    /// clock tokens (D3).
    pub fn disk_time(&self, now: Timestamp) -> Timestamp {
        Timestamp(now.0.saturating_add_signed(self.p.clock_offset))
    }

    /// The one place the state changes; logs the transition.
    fn set_state(&mut self, at: Timestamp, to: FwState) {
        if self.state == to {
            return;
        }
        if self.transitions.is_full() {
            self.transitions.pop_front();
        }
        let _ = self.transitions.push_back(Transition {
            at,
            from: self.state,
            to,
        });
        self.state = to;
        self.transition_count += 1;
    }

    /// Derives the state from the persistent state and the time.
    fn refresh_state(&mut self, now: Timestamp) {
        let to = match self.state {
            // D13: a storage fault is sticky until power cycle.
            FwState::Fault => FwState::Fault,
            // D1: no identity, factory state.
            _ if self.p.identity.is_none() => FwState::Factory,
            // D2: tries exhausted until an unblock token.
            _ if self.p.pin_tries == 0 => FwState::Blocked,
            // D8: past the lock time without a clear card.
            _ if now >= self.p.lock_time => FwState::Locked,
            _ => FwState::Ready,
        };
        self.set_state(now, to);
    }

    fn fault(&mut self, now: Timestamp, e: StoreError) -> Refusal {
        let w = store_err(e);
        if w == WireError::StorageFault {
            // D13: a flash failure stops the disk until power cycle.
            self.set_state(now, FwState::Fault);
            self.session = None;
        }
        Refusal::from(w)
    }

    fn wire_state(&self) -> DiskState {
        match self.state {
            FwState::Factory => DiskState::Factory,
            FwState::Ready | FwState::Fault => DiskState::Ready,
            FwState::Locked => DiskState::Locked,
            FwState::Blocked => DiskState::Blocked,
        }
    }

    // ---- entry points --------------------------------------------------------------------

    /// Handles one encoded request frame and writes the encoded answer into `out` (at least
    /// [`taxdisk_protocol::frame::MAX_ENCODED`] bytes). Returns the answer's length; 0 = no
    /// answer (garbage, bad CRC, not a request frame).
    pub fn handle_frame(&mut self, now: Timestamp, frame: &[u8], out: &mut [u8]) -> usize {
        self.answer_frame(now, frame, out).len
    }

    /// As [`Firmware::handle_frame`], and says which command the answer was for, from the one
    /// decode of the frame (a simulator's latency model needs it).
    pub fn answer_frame(&mut self, now: Timestamp, frame: &[u8], out: &mut [u8]) -> Answered {
        let mut scratch = [0u8; MAX_FRAME];
        let (version, header, payload) = match decode_frame_any_version(frame, &mut scratch) {
            Ok(x) => x,
            // Garbage, a bad CRC, a truncated frame: no answer.
            Err(_) => return Answered::NONE,
        };
        if header.frame_type != FrameType::Request {
            return Answered::NONE;
        }
        if version != VERSION {
            // A sound request (CRC checked) of another protocol version: say so. Its command
            // id is of another table, so none is reported.
            let r = Err(Refusal::from(WireError::UnsupportedVersion));
            return Answered {
                len: encode_response(&header, &r, out).unwrap_or(0),
                command: None,
            };
        }
        let command = CommandId::from_u16(header.command);
        // Command and payload (session and sequence are compared apart). Not a CRC over the
        // whole frame: that includes the frame's own CRC, whose residue is the same for all.
        let request_crc = crc32_of(&[&header.command.to_le_bytes(), payload]);
        if let Some(last) = &self.last_answer
            && last.session == header.session
            && last.seq == header.seq
            && last.request_crc == request_crc
            && out.len() >= last.answer.len()
        {
            // A resend of the frame just answered: the same answer, nothing done again.
            out[..last.answer.len()].copy_from_slice(&last.answer);
            return Answered {
                len: last.answer.len(),
                command,
            };
        }
        let result = match decode_request(&header, payload) {
            Ok(req) => self.handle(now, header.session, req),
            Err(e) => Err(Refusal::from(e)),
        };
        let n = encode_response(&header, &result, out).unwrap_or(0);
        self.last_answer = Vec::from_slice(&out[..n]).ok().map(|answer| LastAnswer {
            session: header.session,
            seq: header.seq,
            request_crc,
            answer,
        });
        Answered { len: n, command }
    }

    /// Handles one request of `session` at time `now` (the time the firmware is given; the
    /// disk adds its clock offset).
    pub fn handle(&mut self, now: Timestamp, session: u32, req: Request) -> Res<Response> {
        let raw_now = now;
        let now = self.disk_time(now);
        self.refresh_state(now);
        let id = req.id();
        // D14: the session holding the disk excludes every other one.
        if let Some(owner) = self.session
            && owner != session
            && !matches!(
                id,
                CommandId::Ping | CommandId::GetInfo | CommandId::GetPublicKey
            )
        {
            return refuse(WireError::Busy);
        }
        match self.state {
            // D13: after a flash failure only Ping, and reading the journal where it is intact
            // (for repair: the PIN cannot be checked, its counter was in the lost state). Every
            // refusal names the newest journal event still readable.
            FwState::Fault if id == CommandId::ReadEvent => {
                if let Request::ReadEvent(c) = req {
                    return self.read_event(now, c).map(Response::ReadEvent);
                }
            }
            FwState::Fault if id != CommandId::Ping => {
                return Err(Refusal {
                    error: WireError::StorageFault,
                    detail: u32::try_from(self.store.journal().last_counter).unwrap_or(u32::MAX),
                });
            }
            // D1: a factory disk knows only provisioning.
            FwState::Factory
                if !matches!(
                    id,
                    CommandId::Ping | CommandId::GetInfo | CommandId::Provision
                ) =>
            {
                return refuse(WireError::NotProvisioned);
            }
            _ => {}
        }
        // D2: commands that need the PIN.
        if id.needs_login() && self.session != Some(session) {
            return refuse(WireError::NotLoggedIn);
        }
        match req {
            Request::Ping(n) => Ok(Response::Ping(n)),
            Request::GetInfo(()) => Ok(Response::GetInfo(self.info(now))),
            Request::Login(pin) => self.login(now, session, &pin).map(Response::Login),
            Request::ChangePin(c) => self.change_pin(now, &c).map(Response::ChangePin),
            Request::Logout(()) => {
                self.session = None;
                Ok(Response::Logout(()))
            }
            Request::Provision(t) => self.provision(now, &t).map(Response::Provision),
            Request::GetStatus(k) => Ok(Response::GetStatus(self.status(k))),
            Request::GetPublicKey(()) => match &self.p.identity {
                Some(i) => Ok(Response::GetPublicKey(i.public_key)),
                None => refuse(WireError::NotProvisioned),
            },
            Request::ApplyUpdate(t) => self.apply_update(now, &t).map(Response::ApplyUpdate),
            Request::SetClock(t) => self.set_clock(raw_now, now, &t).map(Response::SetClock),
            Request::ListRolls(l) => Ok(Response::ListRolls(self.list_rolls(l))),
            Request::LoadRolls(g) => self.load_roll(now, &g).map(Response::LoadRolls),
            Request::ReturnRoll(r) => self.return_roll(now, &r).map(Response::ReturnRoll),
            Request::VoidBlank(v) => self.void_blank(now, v).map(Response::VoidBlank),
            Request::Issue(i) => self.issue(now, &i).map(Response::Issue),
            Request::Void(r) => self.void(now, &r).map(Response::Void),
            Request::ReadInvoice(r) => self.read_invoice(now, &r).map(Response::ReadInvoice),
            Request::LastIssued(k) => self.last_issued(now, k).map(Response::LastIssued),
            Request::ListPending(l) => self.list_pending(now, l).map(Response::ListPending),
            Request::AckUpload(r) => self.ack_upload(now, &r).map(Response::AckUpload),
            Request::CopyTax(p) => self.copy_tax(now, p).map(Response::CopyTax),
            Request::ClearCard(t) => self.clear_card(now, &t).map(Response::ClearCard),
            Request::OilStock(()) => Ok(Response::OilStock(self.p.oil.clone())),
            Request::LoadOilStock(g) => self.load_oil(now, &g).map(Response::LoadOilStock),
            Request::ReturnOilStock(e) => self.return_oil(now, e).map(Response::ReturnOilStock),
            Request::Unblock(t) => self.unblock(now, &t).map(Response::Unblock),
            Request::ReadEvent(c) => self.read_event(now, c).map(Response::ReadEvent),
            Request::ApplyReportReceipt(r) => self
                .apply_report_receipt(now, &r)
                .map(Response::ApplyReportReceipt),
        }
    }

    // ---- helpers -------------------------------------------------------------------------

    /// Verifies a bureau token: signature (forged), then serial (another disk).
    fn verify<T: SignedMessage>(&self, t: &Signed<T>, serial: &DeviceSerial) -> Res<()> {
        let vk = self.bureau.as_ref().ok_or(WireError::BadSignature)?;
        t.verify(vk).map_err(|_| WireError::BadSignature)?;
        if serial != &self.cfg.serial {
            return refuse(WireError::WrongDevice);
        }
        Ok(())
    }

    /// Writes a new state snapshot; RAM takes it only once it is durable (D13).
    fn save(&mut self, now: Timestamp, mut next: Persist) -> Res<()> {
        next.counter_at_write = self.counter;
        next.last_event_time = self.last_time;
        // Exhausted rolls can no longer change: drop them so the table has room.
        next.rolls.retain(|r| r.left() > 0);
        let mut buf = [0u8; MAX_STATE_PAYLOAD];
        let n = next.encode(&mut buf).map_err(|_| WireError::BadArgument)?;
        if let Err(e) = self.store.write_state(&mut self.flash, &buf[..n]) {
            return Err(self.fault(now, e));
        }
        self.p = next;
        self.refresh_state(now);
        Ok(())
    }

    /// The signing key, derived from the stored secret when first needed.
    fn key(&mut self) -> Res<&Sm2SigningKey> {
        if self.key.is_none() {
            let secret = self.identity()?.secret;
            let k = sign::signing_key(&secret).map_err(|_| WireError::StorageFault)?;
            self.key = Some(k);
        }
        self.key
            .as_ref()
            .ok_or(Refusal::from(WireError::NotProvisioned))
    }

    fn sign_body<T: SignedMessage>(&mut self, body: T) -> Res<Signed<T>> {
        let key = self.key()?;
        Signed::sign(body, key).map_err(|_| Refusal::from(WireError::BadArgument))
    }

    /// Signs a journal event once and commits it with one page program (D13); the answer is
    /// made only after the program completed. `extra` follows the signed event in the record
    /// (a void's request id), outside what is signed and uploaded.
    fn commit<T: SignedMessage + Clone>(
        &mut self,
        now: Timestamp,
        ty: RecordType,
        counter: u64,
        tag: u32,
        body: T,
        extra: &[u8],
    ) -> Res<Signed<T>> {
        let key = self.key()?;
        let mut msg = [0u8; MAX_MESSAGE];
        let m = body
            .message_into(&mut msg)
            .map_err(|_| WireError::BadArgument)?;
        let signature = sign::sign_bytes(key, m);
        // postcard(Signed<T>) = postcard(body) || r || s: reuse the signed bytes.
        let body_bytes = &m[T::DOMAIN.len()..];
        let signed_len = body_bytes.len() + 64;
        let len = signed_len + extra.len();
        if len > MAX_RECORD_PAYLOAD {
            return refuse(WireError::BadArgument);
        }
        let mut payload = [0u8; MAX_RECORD_PAYLOAD];
        payload[..body_bytes.len()].copy_from_slice(body_bytes);
        payload[body_bytes.len()..signed_len].copy_from_slice(&signature.to_bytes());
        payload[signed_len..len].copy_from_slice(extra);
        let mut page = [0u8; store::RECORD_SIZE];
        Record::build(ty, counter, tag, &payload[..len], &mut page)
            .ok_or(WireError::BadArgument)?;
        let acked = self.p.acked_through;
        let cleared = self.p.last_cleared;
        // D13: reclaim only records acknowledged and of a cleared period.
        let reclaimable = |r: Option<&Record>| match r {
            None => true,
            Some(r) => {
                r.counter <= acked
                    && decode_event(r)
                        .is_some_and(|e| cleared.is_some_and(|c| e.time().period() <= c))
            }
        };
        if let Err(e) = self
            .store
            .append(&mut self.flash, &page, counter, reclaimable)
        {
            return Err(self.fault(now, e));
        }
        Ok(Signed { body, signature })
    }

    /// After a commit: RAM follows the journal.
    fn committed(&mut self, now: Timestamp, counter: u64, e: &JournalEvent) -> Res<()> {
        self.counter = counter;
        if let Err(err) = self.apply_event(e) {
            return Err(self.fault(now, err));
        }
        self.add_pending(e);
        Ok(())
    }

    fn identity(&self) -> Res<&Identity> {
        self.p
            .identity
            .as_ref()
            .ok_or(Refusal::from(WireError::NotProvisioned))
    }

    fn locked(&self, now: Timestamp) -> bool {
        now >= self.p.lock_time
    }

    /// D4/D5: a new month began and the last period is not reported (copied) yet.
    fn period_unreported(&self, now: Timestamp) -> bool {
        let Some(id) = &self.p.identity else {
            return false;
        };
        let cur = now.period();
        cur > id.first_period && self.p.last_copied < Some(cur.prev())
    }

    fn oldest_roll(&self, kind: InvoiceKind) -> Option<usize> {
        self.p
            .rolls
            .iter()
            .position(|r| r.kind == kind && r.left() > 0)
    }

    // ---- D1, D2 --------------------------------------------------------------------------

    fn info(&self, now: Timestamp) -> DiskInfo {
        let id = self.p.identity.as_ref();
        DiskInfo {
            serial: self.cfg.serial.clone(),
            firmware: FIRMWARE_VERSION,
            state: self.wire_state(),
            time: now,
            taxpayer_id: id.map(|i| i.taxpayer_id.clone()),
            company_name: id.map(|i| i.company_name.clone()),
            machine: id.map_or(0, |i| i.machine),
            period: id.map(|_| now.period()),
            last_copied: self.p.last_copied,
            last_reported: self.p.last_reported,
            last_cleared: self.p.last_cleared,
            lock_time: id.map(|_| self.p.lock_time),
            upload_deadline: id.map(|_| self.p.upload_deadline),
            counter: self.counter,
            logged_in: self.session.is_some(),
            pin_tries_left: self.p.pin_tries,
            oil_role: self.p.oil_role,
            oil_valid_until: self.p.oil_valid_until,
            used_car_role: self.p.used_car_role,
            journal_free: self.store.journal_free(),
        }
    }

    fn provision(&mut self, now: Timestamp, t: &Signed<ProvisionToken>) -> Res<ProvisionResult> {
        // D1: factory state only, a bureau token bound to this serial. A token for the identity
        // the disk already holds (the one that provisioned it, sent again after its answer was
        // lost to a power cut, or the bureau's next one for the same company and machine)
        // answers the key it holds and changes nothing; any other is refused.
        if let Some(id) = &self.p.identity {
            let b = &t.body;
            let same = b.taxpayer_id == id.taxpayer_id
                && b.company_name == id.company_name
                && b.machine == id.machine;
            let public_key = id.public_key;
            if !same {
                return refuse(WireError::AlreadyProvisioned);
            }
            self.verify(t, &t.body.serial)?;
            return self.provision_answer(public_key);
        }
        self.verify(t, &t.body.serial)?;
        let b = &t.body;
        if taxdisk_protocol::validate::machine_number(b.machine).is_err() {
            return refuse(WireError::BadArgument);
        }
        // D1: the key pair is generated inside; retry the ~2^-128 invalid scalars.
        let key = loop {
            let mut secret = [0u8; 32];
            self.rng.fill_bytes(&mut secret);
            if let Ok(k) = sign::signing_key(&secret) {
                break k;
            }
        };
        let public_key = sign::public_key(&key);
        let mut next = self.p.clone();
        next.identity = Some(Identity {
            taxpayer_id: b.taxpayer_id.clone(),
            company_name: b.company_name.clone(),
            machine: b.machine,
            secret: sign::secret_bytes(&key),
            public_key,
            first_period: now.period(),
        });
        for l in &b.kinds {
            next.limits[l.kind.index()] = *l;
            next.set_authorized(l.kind, true);
        }
        next.lock_time = b.lock_time;
        next.upload_deadline = b.upload_deadline;
        self.save(now, next)?;
        self.key = Some(key);
        self.provision_answer(public_key)
    }

    /// The answer to a provisioning: the public key and the proof of possession of its
    /// private key, signed with the key the disk holds.
    fn provision_answer(&mut self, public_key: PublicKey) -> Res<ProvisionResult> {
        let serial = self.cfg.serial.clone();
        let key = self.key()?;
        let proof = sign::sign(key, &ProvisionProof { serial, public_key })
            .map_err(|_| WireError::BadArgument)?;
        Ok(ProvisionResult { public_key, proof })
    }

    /// D2: checks a PIN, counting a wrong one durably.
    fn check_pin(&mut self, now: Timestamp, pin: &Pin) -> Res<()> {
        if self.p.pin_tries == 0 {
            return refuse(WireError::PinBlocked);
        }
        if pin_hash(&self.cfg.serial, pin.as_str()) == self.p.pin_hash {
            if self.p.pin_tries != PIN_TRIES {
                let mut next = self.p.clone();
                next.pin_tries = PIN_TRIES;
                self.save(now, next)?;
            }
            return Ok(());
        }
        let mut next = self.p.clone();
        next.pin_tries -= 1;
        let left = next.pin_tries;
        // The counter is durable before the answer: a power cycle cannot reset it.
        self.save(now, next)?;
        if left == 0 {
            self.session = None;
        }
        Err(Refusal {
            error: WireError::WrongPin,
            detail: left as u32,
        })
    }

    fn login(&mut self, now: Timestamp, session: u32, pin: &Pin) -> Res<()> {
        self.check_pin(now, pin)?;
        // D14: the first session to log in holds the disk.
        self.session = Some(session);
        Ok(())
    }

    fn change_pin(&mut self, now: Timestamp, c: &ChangePin) -> Res<()> {
        let old_hash = pin_hash(&self.cfg.serial, c.old.as_str());
        let new_hash = pin_hash(&self.cfg.serial, c.new.as_str());
        // A resend of the change that took: same id, the PIN it replaced, the PIN it set.
        // Anything else goes through the PIN check and counts as a try.
        if self.p.pin_tries != 0
            && self.p.pin_hash == new_hash
            && self
                .p
                .last_pin_change
                .as_ref()
                .is_some_and(|k| k.request_id == c.request_id && k.old_hash == old_hash)
        {
            return Ok(());
        }
        self.check_pin(now, &c.old)?;
        let mut next = self.p.clone();
        next.pin_hash = new_hash;
        next.last_pin_change = Some(KeptPinChange {
            request_id: c.request_id,
            old_hash,
        });
        self.save(now, next)
    }

    fn unblock(&mut self, now: Timestamp, t: &Signed<UnblockToken>) -> Res<()> {
        self.verify(t, &t.body.serial)?;
        if t.body.seq <= self.p.seqs.unblock {
            return refuse(WireError::Replayed);
        }
        let mut next = self.p.clone();
        next.seqs.unblock = t.body.seq;
        next.pin_hash = pin_hash(&self.cfg.serial, t.body.new_pin.as_str());
        next.pin_tries = PIN_TRIES;
        self.save(now, next)
    }

    // ---- D3, D10 -------------------------------------------------------------------------

    fn set_clock(&mut self, raw_now: Timestamp, now: Timestamp, t: &Signed<ClockToken>) -> Res<()> {
        self.verify(t, &t.body.serial)?;
        if t.body.seq <= self.p.seqs.clock {
            return refuse(WireError::Replayed);
        }
        let mut next = self.p.clone();
        next.seqs.clock = t.body.seq;
        // D3: the token moves the disk's own clock; it then runs from there.
        let offset = (t.body.time.0 as i128 - raw_now.0 as i128)
            .clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        next.clock_offset = offset;
        self.save(now, next)?;
        let new_now = self.disk_time(raw_now);
        self.refresh_state(new_now);
        Ok(())
    }

    fn apply_update(&mut self, now: Timestamp, t: &Signed<UpdateToken>) -> Res<()> {
        self.verify(t, &t.body.serial)?;
        if t.body.seq <= self.p.seqs.update {
            return refuse(WireError::Replayed);
        }
        let mut next = self.p.clone();
        next.seqs.update = t.body.seq;
        for c in &t.body.changes {
            match c {
                UpdateChange::Limits(l) => next.limits[l.kind.index()] = *l,
                UpdateChange::Authorize(k, on) => next.set_authorized(*k, *on),
                UpdateChange::Oil(role, until) => {
                    next.oil_role = *role;
                    next.oil_valid_until = *until;
                }
                UpdateChange::UsedCar(role) => next.used_car_role = *role,
                UpdateChange::CompanyName(n) => {
                    if let Some(i) = next.identity.as_mut() {
                        i.company_name = n.clone();
                    }
                }
                UpdateChange::TaxpayerId(id) => {
                    if let Some(i) = next.identity.as_mut() {
                        i.taxpayer_id = id.clone();
                    }
                }
            }
        }
        self.save(now, next)
    }

    // ---- D4 ------------------------------------------------------------------------------

    fn status(&self, kind: InvoiceKind) -> KindStatus {
        let p = self.pending[kind.index()];
        KindStatus {
            limits: self.p.limits[kind.index()],
            authorized: self.p.is_authorized(kind),
            blank_left: self
                .p
                .rolls
                .iter()
                .filter(|r| r.kind == kind)
                .map(|r| r.left())
                .sum(),
            pending_count: p.events,
            oldest_pending: p.oldest,
            pending_amount: Fen(p.amount),
        }
    }

    fn list_rolls(&self, l: ListRolls) -> Vec<Roll, ROLLS_PER_PAGE> {
        self.p
            .rolls
            .iter()
            .filter(|r| l.kind.is_none_or(|k| k == r.kind))
            .skip(l.skip as usize)
            .filter_map(RollState::to_wire)
            .take(ROLLS_PER_PAGE)
            .collect()
    }

    fn load_roll(&mut self, now: Timestamp, g: &Signed<RollGrant>) -> Res<Roll> {
        // D4: bureau-signed, bound to this serial, each grant once (sequence numbers).
        self.verify(g, &g.body.serial)?;
        let b = &g.body;
        if b.seq <= self.p.seqs.roll {
            return refuse(WireError::Replayed);
        }
        if b.code.check_kind(b.kind).is_err() {
            return refuse(WireError::BadRollCode);
        }
        let first = b.first.get();
        if b.count == 0 || first as u64 + b.count as u64 - 1 > 99_999_999 {
            return refuse(WireError::BadArgument);
        }
        let end = first + b.count;
        if self
            .p
            .rolls
            .iter()
            .any(|r| r.code == b.code && first < r.first + r.count && r.first < end)
        {
            return refuse(WireError::RollOverlap);
        }
        let mut next = self.p.clone();
        next.rolls.retain(|r| r.left() > 0);
        let roll = RollState {
            kind: b.kind,
            code: b.code.clone(),
            first,
            count: b.count,
            used: 0,
        };
        if next.rolls.push(roll.clone()).is_err() {
            return refuse(WireError::TooManyRolls);
        }
        next.seqs.roll = b.seq;
        self.save(now, next)?;
        roll.to_wire().ok_or(Refusal::from(WireError::BadArgument))
    }

    fn return_roll(&mut self, now: Timestamp, r: &ReturnRoll) -> Res<Signed<RollReturnReceipt>> {
        // D4 once: a resend of the last return answers its receipt.
        if let Some(k) = &self.p.last_return
            && k.request_id == r.request_id
        {
            return match &k.receipt {
                KeptReceipt::Roll(s) if s.body.kind == r.kind && s.body.code == r.code => {
                    Ok(s.clone())
                }
                _ => refuse(WireError::RequestIdConflict),
            };
        }
        // D4: refused when locked (FAQ 4.21(3)) and before the month's report (FAQ 4.21(4)):
        // the last month copied, and its report receipt read in.
        if self.locked(now) {
            return refuse(WireError::Locked);
        }
        if self.period_unreported(now) || !self.last_month_reported(now) {
            return refuse(WireError::ReturnBeforeReport);
        }
        let Some(i) = self.p.rolls.iter().position(|x| {
            x.kind == r.kind && x.code == r.code && x.first == r.first.get() && x.left() > 0
        }) else {
            return refuse(WireError::RollNotFound);
        };
        let roll = self.p.rolls[i].clone();
        let receipt = RollReturnReceipt {
            serial: self.cfg.serial.clone(),
            kind: roll.kind,
            code: roll.code.clone(),
            first: InvoiceNumber::new(roll.first + roll.used)
                .map_err(|_| WireError::BadArgument)?,
            count: roll.left(),
            time: now,
        };
        let signed = self.sign_body(receipt)?;
        let mut next = self.p.clone();
        next.rolls[i].used = next.rolls[i].count;
        next.last_return = Some(KeptReturn {
            request_id: r.request_id,
            receipt: KeptReceipt::Roll(signed.clone()),
        });
        self.save(now, next)?;
        Ok(signed)
    }

    // ---- D5, D6, D9, D11 -----------------------------------------------------------------

    fn issue(&mut self, now: Timestamp, q: &IssueRequest) -> Res<Signed<IssuedInvoice>> {
        // D5: a retry with the same request id gets the stored answer.
        if let Some(stored) = self.idempotent(now, q)? {
            return Ok(stored);
        }
        let k = q.kind;
        let lim = self.p.limits[k.index()];
        // D5 (FAQ 3.5, 7.13): kind authorized.
        if !self.p.is_authorized(k) {
            return refuse(WireError::KindNotAuthorized);
        }
        // D5, D10 (FAQ 10.6): a used-car invoice needs the used-car authorization type
        // (market, auction or dealer) besides the kind.
        if k == InvoiceKind::UsedCar && self.p.used_car_role == UsedCarRole::None {
            return refuse(WireError::KindNotAuthorized);
        }
        // D5 (FAQ 4.8): a blank number of the oldest roll.
        let Some(ri) = self.oldest_roll(k) else {
            return refuse(WireError::NoBlankNumber);
        };
        // D5: single-invoice limit on the tax-excluded amount (red: its magnitude).
        if q.amount.0.unsigned_abs() > lim.single_limit.0.max(0) as u64 {
            return refuse(WireError::OverSingleLimit);
        }
        // D5 (FAQ 4.10): amount plus tax is zero.
        if q.amount.0.saturating_add(q.tax.0) == 0 {
            return refuse(WireError::ZeroTotal);
        }
        // D6: blue positive, red negative and naming what it reverses.
        match &q.red {
            None if q.amount.0 < 0 || q.tax.0 < 0 => return refuse(WireError::SignMismatch),
            Some(_) if q.amount.0 > 0 || q.tax.0 > 0 => return refuse(WireError::SignMismatch),
            Some(RedRef::InfoForm(_)) if k != InvoiceKind::Special => {
                return refuse(WireError::ReversalNotAllowed);
            }
            Some(RedRef::Original { .. }) if k == InvoiceKind::Special => {
                return refuse(WireError::ReversalNotAllowed);
            }
            _ => {}
        }
        if q.variant != Variant::Standard && k != InvoiceKind::Normal {
            return refuse(WireError::BadArgument);
        }
        // D5/D8 (FAQ 9.1): locked.
        if self.locked(now) {
            return refuse(WireError::Locked);
        }
        // D5 (FAQ 9.1): a new month began and the last period is not reported.
        if self.period_unreported(now) {
            return refuse(WireError::PeriodNotReported);
        }
        // D9: offline limits.
        self.check_offline(now, q)?;
        // D11: oil.
        if let Some(oil) = q.oil {
            if self.p.oil_role == OilRole::None || self.p.oil_valid_until.is_some_and(|t| now > t) {
                return refuse(WireError::OilNotAuthorized);
            }
            if oil.milli_quantity <= 0 {
                return refuse(WireError::BadArgument);
            }
            if self.p.oil_role == OilRole::Dealer && q.red.is_none() {
                let have = self
                    .p
                    .oil
                    .iter()
                    .find(|e| e.category == oil.category)
                    .map_or(0, |e| e.milli_quantity);
                if have < oil.milli_quantity {
                    return refuse(WireError::OilStockShort);
                }
            }
        }
        // D3: the clock may not be earlier than the newest journal entry.
        if now < self.last_time {
            return refuse(WireError::ClockError);
        }
        // D6: the original of a red invoice (a journal scan, so last).
        if let Some(RedRef::Original { code, number }) = &q.red {
            self.check_original(now, q, code, *number)?;
        }
        let roll = &self.p.rolls[ri];
        let number =
            InvoiceNumber::new(roll.first + roll.used).map_err(|_| WireError::BadArgument)?;
        let id = self.identity()?;
        let counter = self.counter + 1;
        let body = IssuedInvoice {
            serial: self.cfg.serial.clone(),
            machine: id.machine,
            kind: k,
            variant: q.variant,
            code: roll.code.clone(),
            number,
            counter,
            time: now,
            request_id: q.request_id,
            content_digest: q.content_digest,
            buyer: q.buyer.clone(),
            amount: q.amount,
            tax: q.tax,
            red: q.red.clone(),
            oil: q.oil,
        };
        let signed = self.commit(
            now,
            RecordType::Invoice,
            counter,
            fingerprint(&q.request_id),
            body,
            &[],
        )?;
        let ev = JournalEvent::Invoice(signed);
        self.committed(now, counter, &ev)?;
        self.idem_insert(fingerprint(&q.request_id), counter);
        match ev {
            JournalEvent::Invoice(s) => Ok(s),
            // The event was built as an invoice two lines above.
            _ => refuse(WireError::StorageFault),
        }
    }

    fn idempotent(
        &mut self,
        now: Timestamp,
        q: &IssueRequest,
    ) -> Res<Option<Signed<IssuedInvoice>>> {
        let found = self.idem_find(now, fingerprint(&q.request_id), |rec| {
            let Some(JournalEvent::Invoice(s)) = decode_event(rec) else {
                return None;
            };
            if s.body.request_id != q.request_id {
                return None;
            }
            let b = &s.body;
            let same = b.kind == q.kind
                && b.variant == q.variant
                && b.buyer == q.buyer
                && b.amount == q.amount
                && b.tax == q.tax
                && b.content_digest == q.content_digest
                && b.red == q.red
                && b.oil == q.oil;
            Some(if same {
                Ok(s)
            } else {
                refuse(WireError::RequestIdConflict)
            })
        })?;
        found.transpose()
    }

    /// The first answer `pick` makes of a journal record whose request id fingerprint is `fp`,
    /// newest index slots in no particular order (D5, D7 idempotency). `pick` answers `None`
    /// for a record that is not the request's (another id with the same fingerprint).
    fn idem_find<T>(
        &mut self,
        now: Timestamp,
        fp: u32,
        mut pick: impl FnMut(&Record) -> Option<T>,
    ) -> Res<Option<T>> {
        // Every issue scans the whole window, nearly always for nothing: a group of slots is
        // compared without an early exit (vector compares), and only a group that holds the
        // fingerprint is looked into.
        const GROUP: usize = 16;
        // The groups tile the window (a compile-time check: the slices below stay in bounds).
        const _: () = assert!(IDEM_WINDOW.is_multiple_of(GROUP));
        for group in (0..IDEM_WINDOW).step_by(GROUP).map(|at| at..at + GROUP) {
            let held = self.idem_fp[group.clone()]
                .iter()
                .fold(false, |hit, f| hit | (*f == fp));
            if !held {
                continue;
            }
            for i in group {
                let c = self.idem_counter[i];
                if self.idem_fp[i] != fp || c == 0 {
                    continue;
                }
                let rec = match self.store.find(&mut self.flash, c) {
                    Ok(r) => r,
                    Err(e) => return Err(self.fault(now, e)),
                };
                if let Some(found) = rec.as_ref().and_then(&mut pick) {
                    return Ok(Some(found));
                }
            }
        }
        Ok(None)
    }

    fn check_offline(&self, now: Timestamp, q: &IssueRequest) -> Res<()> {
        let k = q.kind;
        let lim = self.p.limits[k.index()];
        let p = self.pending[k.index()];
        // D9: invoices of an earlier period still not uploaded after the upload deadline.
        let oldest_any = self.pending.iter().filter_map(|p| p.oldest).min();
        if now > self.p.upload_deadline && oldest_any.is_some_and(|t| t.period() < now.period()) {
            return refuse(WireError::UploadDeadlinePassed);
        }
        // D9: limits of 0 allow one not-uploaded invoice at a time.
        if lim.offline_hours == 0 && p.invoices > 0 {
            return refuse(WireError::OfflineHoursExceeded);
        }
        if lim.offline_amount.0 <= 0 && p.invoices > 0 {
            return refuse(WireError::OfflineAmountExceeded);
        }
        if lim.offline_hours > 0
            && let Some(t) = p.oldest
            && now.0.saturating_sub(t.0) >= lim.offline_hours as u64 * 3600
        {
            return refuse(WireError::OfflineHoursExceeded);
        }
        if lim.offline_amount.0 > 0
            && q.amount.0 > 0
            && p.amount.saturating_add(q.amount.0) > lim.offline_amount.0
        {
            return refuse(WireError::OfflineAmountExceeded);
        }
        Ok(())
    }

    /// D6: the original must exist (unless old records were reclaimed), not be voided, be of
    /// the same kind and blue, and not be reversed beyond its amount.
    fn check_original(
        &mut self,
        now: Timestamp,
        q: &IssueRequest,
        code: &InvoiceCode,
        number: InvoiceNumber,
    ) -> Res<()> {
        let found = match self.find_invoice(code, number) {
            Ok(f) => f,
            Err(e) => return Err(self.fault(now, e)),
        };
        let Some(f) = found else {
            if self.journal_reclaimed()? {
                return Ok(());
            }
            return refuse(WireError::OriginalNotFound);
        };
        let o = &f.invoice.body;
        if f.voided {
            return refuse(WireError::OriginalVoided);
        }
        if o.kind != q.kind || o.is_red() {
            return refuse(WireError::ReversalNotAllowed);
        }
        if o.kind == InvoiceKind::UsedCar && q.amount.0 != o.amount.0.saturating_neg() {
            return refuse(WireError::ReversalNotAllowed);
        }
        if f.reversed.saturating_add(q.amount.0.saturating_neg()) > o.amount.0 {
            return refuse(WireError::ReversalNotAllowed);
        }
        Ok(())
    }

    fn journal_reclaimed(&mut self) -> Res<bool> {
        let first = self.store.find(&mut self.flash, 1).map_err(store_err)?;
        Ok(self.counter > 0 && first.is_none())
    }

    /// Finds an invoice by code and number, newest records first, with whether it was voided
    /// and how much red invoices already reversed of it.
    fn find_invoice(
        &mut self,
        code: &InvoiceCode,
        number: InvoiceNumber,
    ) -> Result<Option<Found>, StoreError> {
        let mut voided_reds: Vec<u64, 32> = Vec::new();
        let mut voided = false;
        let mut reversed: i64 = 0;
        let mut found: Option<Signed<IssuedInvoice>> = None;
        self.store.scan_back(&mut self.flash, |r| {
            match decode_event(r) {
                Some(JournalEvent::Void(v)) => {
                    if &v.body.code == code && v.body.number == number {
                        voided = true;
                    } else {
                        let _ = voided_reds.push(v.body.invoice_counter);
                    }
                }
                Some(JournalEvent::Invoice(s)) => {
                    if &s.body.code == code && s.body.number == number {
                        found = Some(s);
                        return false;
                    }
                    if let Some(RedRef::Original { code: c, number: n }) = &s.body.red
                        && c == code
                        && *n == number
                        && !voided_reds.contains(&s.body.counter)
                    {
                        reversed = reversed.saturating_add(s.body.amount.0.saturating_neg());
                    }
                }
                _ => {}
            }
            true
        })?;
        Ok(found.map(|invoice| Found {
            invoice,
            voided,
            reversed,
        }))
    }

    // ---- D7 ------------------------------------------------------------------------------

    // ---- reading the journal (H11, D12) --------------------------------------------------

    fn read_invoice(&mut self, now: Timestamp, r: &InvoiceRef) -> Res<InvoiceView> {
        let found = match self.find_invoice(&r.code, r.number) {
            Ok(f) => f,
            Err(e) => return Err(self.fault(now, e)),
        };
        let Some(f) = found.filter(|f| f.invoice.body.kind == r.kind) else {
            return refuse(WireError::InvoiceNotFound);
        };
        let uploaded = f.invoice.body.counter <= self.p.acked_through;
        Ok(InvoiceView {
            invoice: f.invoice,
            voided: f.voided,
            uploaded,
        })
    }

    fn last_issued(
        &mut self,
        now: Timestamp,
        kind: Option<InvoiceKind>,
    ) -> Res<Option<InvoiceView>> {
        let mut found: Option<Signed<IssuedInvoice>> = None;
        let scan = self.store.scan_back(&mut self.flash, |r| {
            if r.ty == RecordType::Invoice
                && let Some(JournalEvent::Invoice(s)) = decode_event(r)
                && kind.is_none_or(|k| k == s.body.kind)
            {
                found = Some(s);
                return false;
            }
            true
        });
        if let Err(e) = scan {
            return Err(self.fault(now, e));
        }
        let Some(inv) = found else { return Ok(None) };
        let c = inv.body.counter;
        let mut voided = false;
        let scan = self.store.scan_from(&mut self.flash, c, |r| {
            if let Some(JournalEvent::Void(v)) = decode_event(r)
                && v.body.invoice_counter == c
            {
                voided = true;
                return false;
            }
            true
        });
        if let Err(e) = scan {
            return Err(self.fault(now, e));
        }
        Ok(Some(InvoiceView {
            uploaded: c <= self.p.acked_through,
            invoice: inv,
            voided,
        }))
    }

    fn read_event(&mut self, now: Timestamp, c: u64) -> Res<EventView> {
        if c == 0 || c > self.counter {
            return refuse(WireError::BadArgument);
        }
        let rec = match self.store.find(&mut self.flash, c) {
            Ok(r) => r,
            Err(e) => return Err(self.fault(now, e)),
        };
        let Some(event) = rec.as_ref().and_then(decode_event) else {
            return refuse(WireError::InvoiceNotFound);
        };
        Ok(EventView {
            event,
            uploaded: c <= self.p.acked_through,
        })
    }

    fn list_pending(
        &mut self,
        now: Timestamp,
        l: ListPending,
    ) -> Res<Vec<JournalEvent, EVENTS_PER_PAGE>> {
        // D12: events not yet acknowledged, in counter order.
        let max = (l.max as usize).min(EVENTS_PER_PAGE);
        let mut out: Vec<JournalEvent, EVENTS_PER_PAGE> = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        let after = l.after_counter.max(self.p.acked_through);
        let scan = self.store.scan_from(&mut self.flash, after, |r| {
            if let Some(e) = decode_event(r) {
                let _ = out.push(e);
            }
            out.len() < max
        });
        if let Err(e) = scan {
            return Err(self.fault(now, e));
        }
        Ok(out)
    }

    fn ack_upload(&mut self, now: Timestamp, r: &Signed<UploadReceipt>) -> Res<u32> {
        // D12: a bureau-signed receipt for this disk, naming only events it holds.
        self.verify(r, &r.body.serial)?;
        let through = r.body.through_counter;
        if through > self.counter {
            return refuse(WireError::UnknownEvents);
        }
        if through <= self.p.acked_through {
            return Ok(0);
        }
        let newly = through - self.p.acked_through;
        let mut next = self.p.clone();
        next.acked_through = through;
        self.save(now, next)?;
        if let Err(e) = self.recompute_pending() {
            return Err(self.fault(now, e));
        }
        Ok(newly.min(u32::MAX as u64) as u32)
    }

    // ---- D8 ------------------------------------------------------------------------------

    fn copy_tax(&mut self, now: Timestamp, period: Period) -> Res<Signed<PeriodSummary>> {
        let id = self.identity()?.clone();
        // D8: only a finished period.
        if period >= now.period() {
            return refuse(WireError::PeriodNotFinished);
        }
        // D8: repeating the last copy answers the same summary.
        if self.p.last_copied == Some(period)
            && let Some(s) = &self.p.summary
            && s.body.period == period
        {
            return Ok(s.clone());
        }
        // D8: periods are copied in order, from the provisioning period on.
        let expected = self.p.last_copied.map_or(id.first_period, Period::next);
        if period != expected {
            return refuse(WireError::PeriodNotCopyable);
        }
        let summary = match self.summarize(&id, period, now) {
            Ok(s) => s,
            Err(e) => return Err(self.fault(now, e)),
        };
        let signed = self.sign_body(summary)?;
        let mut next = self.p.clone();
        next.last_copied = Some(period);
        next.summary = Some(signed.clone());
        self.save(now, next)?;
        Ok(signed)
    }

    fn summarize(
        &mut self,
        id: &Identity,
        period: Period,
        now: Timestamp,
    ) -> Result<PeriodSummary, StoreError> {
        let mut kinds: [KindSummary; 6] = Default::default();
        let mut active = [false; 6];
        let (mut first, mut last) = (0u64, 0u64);
        let start = period.start();
        // Newest first; stop at the first event before the period. A void is met before the
        // invoice it voids (same period, D7): its amounts are taken out there, and the invoice
        // adds them back when met, so voided invoices count but their amounts do not.
        let mut cur = self.store.cursor_end();
        while let Some(r) = self.store.prev(&mut self.flash, &mut cur)? {
            let Some(e) = decode_event(&r) else { continue };
            let t = e.time();
            if t < start {
                break;
            }
            if !period.contains(t) {
                continue;
            }
            let c = r.counter;
            if last == 0 {
                last = c;
            }
            first = c;
            let i = e.kind().index();
            active[i] = true;
            match &e {
                JournalEvent::Invoice(inv) => {
                    let b = &inv.body;
                    let s = &mut kinds[i];
                    if b.is_red() {
                        s.negative_count += 1;
                        s.negative_amount = s.negative_amount.saturating_add(b.amount);
                        s.negative_tax = s.negative_tax.saturating_add(b.tax);
                    } else {
                        s.positive_count += 1;
                        s.positive_amount = s.positive_amount.saturating_add(b.amount);
                        s.positive_tax = s.positive_tax.saturating_add(b.tax);
                    }
                }
                JournalEvent::Void(v) => {
                    kinds[i].void_count += 1;
                    let inv = self.store.find(&mut self.flash, v.body.invoice_counter)?;
                    if let Some(JournalEvent::Invoice(inv)) = inv.as_ref().and_then(decode_event) {
                        let b = &inv.body;
                        let s = &mut kinds[b.kind.index()];
                        let (amount, tax) = (
                            Fen(b.amount.0.saturating_neg()),
                            Fen(b.tax.0.saturating_neg()),
                        );
                        if b.is_red() {
                            s.negative_amount = s.negative_amount.saturating_add(amount);
                            s.negative_tax = s.negative_tax.saturating_add(tax);
                        } else {
                            s.positive_amount = s.positive_amount.saturating_add(amount);
                            s.positive_tax = s.positive_tax.saturating_add(tax);
                        }
                    }
                }
                JournalEvent::BlankVoid(b) => {
                    kinds[i].blank_void_count += b.body.count;
                }
            }
        }
        let mut out: Vec<(InvoiceKind, KindSummary), 6> = Vec::new();
        for k in InvoiceKind::ALL {
            if active[k.index()] {
                let _ = out.push((k, kinds[k.index()].clone()));
            }
        }
        Ok(PeriodSummary {
            serial: self.cfg.serial.clone(),
            taxpayer_id: id.taxpayer_id.clone(),
            period,
            kinds: out,
            first_counter: first,
            last_counter: last,
            time: now,
        })
    }

    fn clear_card(&mut self, now: Timestamp, t: &Signed<ClearCardToken>) -> Res<()> {
        self.verify(t, &t.body.serial)?;
        let b = &t.body;
        if b.seq <= self.p.seqs.clear {
            return refuse(WireError::Replayed);
        }
        // D8: clear only a copied period.
        if self.p.last_copied.is_none_or(|c| b.period > c) {
            return refuse(WireError::NotCopied);
        }
        let mut next = self.p.clone();
        next.seqs.clear = b.seq;
        next.lock_time = b.next_lock_time;
        next.upload_deadline = b.upload_deadline;
        for l in &b.limits {
            next.limits[l.kind.index()] = *l;
        }
        if next.last_cleared.is_none_or(|c| b.period > c) {
            next.last_cleared = Some(b.period);
        }
        // D4: the bureau clears only a reported period, so the token proves the report too.
        if next.last_reported.is_none_or(|r| b.period > r) {
            next.last_reported = Some(b.period);
        }
        self.save(now, next)
    }

    // ---- D11 -----------------------------------------------------------------------------

    fn load_oil(&mut self, now: Timestamp, g: &Signed<OilGrant>) -> Res<OilStockEntry> {
        self.verify(g, &g.body.serial)?;
        let b = &g.body;
        if b.seq <= self.p.seqs.oil_grant {
            return refuse(WireError::Replayed);
        }
        if b.stock.milli_quantity <= 0 {
            return refuse(WireError::BadArgument);
        }
        let mut next = self.p.clone();
        next.seqs.oil_grant = b.seq;
        let entry = match next.oil.iter_mut().find(|e| e.category == b.stock.category) {
            Some(e) if e.unit != b.stock.unit => return refuse(WireError::BadArgument),
            Some(e) => {
                e.milli_quantity = e.milli_quantity.saturating_add(b.stock.milli_quantity);
                *e
            }
            None => {
                next.oil.push(b.stock).map_err(|_| WireError::BadArgument)?;
                b.stock
            }
        };
        self.save(now, next)?;
        Ok(entry)
    }

    fn return_oil(&mut self, now: Timestamp, q: ReturnOil) -> Res<Signed<OilReturnReceipt>> {
        let e = q.stock;
        // D11 once: a resend of the last return answers its receipt and returns nothing more.
        if let Some(k) = &self.p.last_return
            && k.request_id == q.request_id
        {
            return match &k.receipt {
                KeptReceipt::Oil(s) if s.body.stock == e => Ok(s.clone()),
                _ => refuse(WireError::RequestIdConflict),
            };
        }
        if e.milli_quantity <= 0 {
            return refuse(WireError::BadArgument);
        }
        let mut next = self.p.clone();
        let Some(have) = next
            .oil
            .iter_mut()
            .find(|h| h.category == e.category && h.unit == e.unit)
        else {
            return refuse(WireError::OilStockShort);
        };
        if have.milli_quantity < e.milli_quantity {
            return refuse(WireError::OilStockShort);
        }
        have.milli_quantity -= e.milli_quantity;
        next.seqs.oil_return += 1;
        let receipt = OilReturnReceipt {
            serial: self.cfg.serial.clone(),
            seq: next.seqs.oil_return,
            stock: e,
            time: now,
        };
        let signed = self.sign_body(receipt)?;
        next.last_return = Some(KeptReturn {
            request_id: q.request_id,
            receipt: KeptReceipt::Oil(signed.clone()),
        });
        self.save(now, next)?;
        Ok(signed)
    }
}

/// What [`Firmware::answer_frame`] did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answered {
    /// Length of the answer written to `out`; 0 = no answer.
    pub len: usize,
    /// The command the answer is for; `None` with no answer, for an unknown command id or a
    /// frame of another protocol version.
    pub command: Option<CommandId>,
}

impl Answered {
    /// No answer.
    pub const NONE: Answered = Answered {
        len: 0,
        command: None,
    };
}

/// An invoice found in the journal.
#[derive(Debug)]
struct Found {
    invoice: Signed<IssuedInvoice>,
    voided: bool,
    reversed: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use taxdisk_protocol::time::Timestamp;

    fn worst_invoice() -> Signed<IssuedInvoice> {
        Signed {
            body: IssuedInvoice {
                serial: DeviceSerial::new("661234567890").unwrap(),
                machine: u16::MAX,
                kind: InvoiceKind::Normal,
                variant: Variant::Purchase,
                code: InvoiceCode::new("033002610004").unwrap(),
                number: InvoiceNumber::new(99_999_999).unwrap(),
                counter: store::MAX_COUNTER,
                time: Timestamp(u64::MAX),
                request_id: [0xFF; 16],
                content_digest: [0xFF; 32],
                // 20 characters, the longest taxpayer id (F3).
                buyer: Some(TaxpayerId::new("440301999999999ABCDE").unwrap()),
                amount: Fen(i64::MIN),
                tax: Fen(i64::MIN),
                red: Some(RedRef::Original {
                    code: InvoiceCode::new("033002610004").unwrap(),
                    number: InvoiceNumber::new(99_999_999).unwrap(),
                }),
                oil: Some(OilUse {
                    category: u8::MAX,
                    milli_quantity: i64::MIN,
                }),
            },
            signature: Signature {
                r: [0xFF; 32],
                s: [0xFF; 32],
            },
        }
    }

    #[test]
    fn d13_worst_case_invoice_fits_one_page() {
        let mut buf = [0u8; 512];
        let n = postcard::to_slice(&worst_invoice(), &mut buf)
            .unwrap()
            .len();
        assert!(n <= MAX_RECORD_PAYLOAD, "{n} > {MAX_RECORD_PAYLOAD}");
    }

    #[test]
    fn d13_worst_case_state_fits_one_slot() {
        let mut p = Persist::factory([0xFF; 32]);
        p.identity = Some(Identity {
            taxpayer_id: TaxpayerId::new("91350100M000100Y43").unwrap(),
            company_name: CompanyName::new(&"测".repeat(40)).unwrap(),
            machine: u16::MAX,
            secret: [0xFF; 32],
            public_key: PublicKey {
                x: [0xFF; 32],
                y: [0xFF; 32],
            },
            first_period: Period::new(9999, 12).unwrap(),
        });
        p.clock_offset = i64::MIN;
        p.oil_valid_until = Some(Timestamp(u64::MAX));
        p.lock_time = Timestamp(u64::MAX);
        p.upload_deadline = Timestamp(u64::MAX);
        p.last_copied = Period::new(9999, 12);
        p.last_cleared = Period::new(9999, 12);
        p.last_reported = Period::new(9999, 12);
        p.acked_through = u64::MAX;
        p.counter_at_write = u64::MAX;
        p.last_event_time = Timestamp(u64::MAX);
        for l in p.limits.iter_mut() {
            l.single_limit = Fen(i64::MIN);
            l.offline_hours = u32::MAX;
            l.offline_amount = Fen(i64::MIN);
        }
        while p
            .rolls
            .push(RollState {
                kind: InvoiceKind::Normal,
                code: InvoiceCode::new("033002610004").unwrap(),
                first: u32::MAX,
                count: u32::MAX,
                used: u32::MAX,
            })
            .is_ok()
        {}
        while p
            .oil
            .push(OilStockEntry {
                category: u8::MAX,
                unit: OilUnit::Tonne,
                milli_quantity: i64::MIN,
            })
            .is_ok()
        {}
        let kinds = InvoiceKind::ALL
            .iter()
            .map(|k| {
                (
                    *k,
                    KindSummary {
                        positive_count: u32::MAX,
                        positive_amount: Fen(i64::MIN),
                        positive_tax: Fen(i64::MIN),
                        negative_count: u32::MAX,
                        negative_amount: Fen(i64::MIN),
                        negative_tax: Fen(i64::MIN),
                        void_count: u32::MAX,
                        blank_void_count: u32::MAX,
                    },
                )
            })
            .collect();
        p.summary = Some(Signed {
            body: PeriodSummary {
                serial: DeviceSerial::new("661234567890").unwrap(),
                taxpayer_id: TaxpayerId::new("91350100M000100Y43").unwrap(),
                period: Period::new(9999, 12).unwrap(),
                kinds,
                first_counter: u64::MAX,
                last_counter: u64::MAX,
                time: Timestamp(u64::MAX),
            },
            signature: Signature {
                r: [0xFF; 32],
                s: [0xFF; 32],
            },
        });
        let mut buf = [0u8; 4096];
        let n = p.encode(&mut buf).unwrap();
        assert!(n <= MAX_STATE_PAYLOAD, "{n} > {MAX_STATE_PAYLOAD}");
        assert_eq!(Persist::decode(&buf[..n]), Ok(p));
    }

    #[test]
    fn pin_hash_depends_on_serial_and_pin() {
        let a = DeviceSerial::new("661234567890").unwrap();
        let b = DeviceSerial::new("661234567891").unwrap();
        assert_ne!(pin_hash(&a, "88888888"), pin_hash(&b, "88888888"));
        assert_ne!(pin_hash(&a, "88888888"), pin_hash(&a, "88888889"));
    }
}
