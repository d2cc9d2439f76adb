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
#![forbid(unsafe_code)]

mod commit;
mod issue;
mod journal;
mod oil;
mod period;
pub mod persist;
mod replay;
mod report;
mod rolls;
mod session;
pub mod store;
mod tokens;
mod void;

use core::fmt;
use embedded_storage::nor_flash::NorFlash;
use heapless::{Deque, Vec};
use persist::{Pending, Persist};
use rand_core::CryptoRng;
use sm3::{Digest as _, Sm3};
use store::{MAX_STATE_PAYLOAD, Record, RecordType, Store, StoreError};
use taxdisk_protocol::frame::{
    FrameType, MAX_ENCODED, MAX_FRAME, VERSION, crc32_of, decode_frame_any_version, decode_request,
    encode_response,
};
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::types::*;
use taxdisk_protocol::{CommandId, Refusal, Request, Response, Timestamp, WireError};

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
    bureau: Option<sign::VerifyingKey>,
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
    use super::persist::{Identity, RollState};
    use super::store::MAX_RECORD_PAYLOAD;
    use super::*;
    use taxdisk_protocol::Period;
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
