//! Fuzzes the firmware's command dispatcher with power cuts, against a model oracle.
//!
//! The input bytes decode into up to [`MAX_OPS`] operations run on one [`Firmware`] booted from
//! a provisioned flash image (an emulated W25Q chip of 256 KiB behind the real SPI NOR
//! driver): issue (normal, special or electronic, with a request id drawn from a small pool so
//! retries and conflicts happen), void of an answered invoice, blank void, copy tax, login and
//! logout from two host sessions, clock advance (seconds or to the next month), load roll from a
//! grant signed with the fixed test bureau key (`signing_key(&[7; 32])`), ack upload from a
//! signed receipt, a power cut at the Nth flash program/erase from now (torn after an
//! input-chosen byte), a clean reboot, and a raw garbage frame.
//!
//! Checked after every operation and at every reboot:
//! - every answered invoice is present and intact after reboot: `ReadEvent` at its counter and
//!   `ReadInvoice` by code and number give back the very signed record, with the voided flag
//!   the model expects;
//! - no number is used twice: each fresh issue and blank void takes exactly the numbers the
//!   model predicts (the next of the oldest roll of the kind, D4), never one taken before;
//! - counters are monotonic: every answered event gets the next counter, the disk's counter
//!   never goes back, and a power cut leaves at most the one in-flight event, which must be
//!   exactly the operation that was cut (D13);
//! - refusals agree with the model for the rules it tracks: D2 (login needed, lost at power
//!   cycle), D14 (a second session is `Busy`), D4/D5 (no blank number; fresh issues with stock
//!   succeed), D5 idempotency (same request id and content: the stored answer; other content:
//!   `RequestIdConflict`), D5/D8 (a new month refuses issuing until the last period is copied;
//!   copy tax only of the next finished period; repeat answers the same summary), D7 (void
//!   only of the current, uncopied period, paper kinds, once; blank void count within the
//!   oldest roll), D12 (a receipt beyond the counter is `UnknownEvents`), D4 roll table full.
//!   Not modelled (so any answer is accepted): offline limits and the lock time (set far away
//!   so they never trigger), red invoices, oil, returns, PIN errors, storage full.
//! - raw garbage frames never change the disk's state (and nothing panics).
//!
//! One file of about 900 lines, on purpose: cargo-fuzz builds every `fuzz_targets/*.rs` as a
//! target of its own (and `.ci/run` fuzzes each), and the operations, the model and the checks
//! after each one are a single oracle that reads best in one place.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::collections::HashMap;
use std::sync::OnceLock;
use taxdisk_device_sim::firmware::persist::MAX_ROLLS;
use taxdisk_device_sim::firmware::{Firmware, FirmwareConfig};
use taxdisk_device_sim::flash::SpiNor;
use taxdisk_device_sim::flash::chip::EmulatedChip;
use taxdisk_protocol::command::{InvoiceRef, IssueRequest, VoidBlank, VoidRequest};
use taxdisk_protocol::frame::MAX_ENCODED;
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::time::{CivilTime, Period, Timestamp};
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response, WireError};

/// Operations per input at most.
const MAX_OPS: usize = 48;
/// Flash size.
const FLASH: usize = 256 << 10;
/// The two host sessions.
const SESSIONS: [u32; 2] = [1, 2];
const KINDS: [InvoiceKind; 3] = [
    InvoiceKind::Normal,
    InvoiceKind::Special,
    InvoiceKind::Electronic,
];

type Fw = Firmware<SpiNor<EmulatedChip>, ChaCha20Rng>;

fn bureau() -> &'static Sm2SigningKey {
    static K: OnceLock<Sm2SigningKey> = OnceLock::new();
    K.get_or_init(|| sign::signing_key(&[7; 32]).expect("fixed test key"))
}

fn serial() -> DeviceSerial {
    DeviceSerial::new("661234567890").expect("serial")
}

fn at(year: u16, month: u8, day: u8, hour: u8) -> Timestamp {
    Timestamp::from_civil(CivilTime {
        year,
        month,
        day,
        hour,
        minute: 0,
        second: 0,
    })
}

fn start() -> Timestamp {
    at(2026, 11, 10, 10)
}

fn signed<T: SignedMessage>(body: T) -> Signed<T> {
    Signed::sign(body, bureau()).expect("sign")
}

fn config() -> FirmwareConfig {
    FirmwareConfig {
        serial: serial(),
        bureau_key: sign::public_key(bureau()),
    }
}

/// Rolls of the base image: one per kind, grant seqs and batches 1..=3.
const BASE_ROLLS: u32 = 3;

/// The flash image of a disk provisioned for the three kinds with limits that never trigger,
/// holding one roll of 4 numbers of each kind, and the disk's derived signing key (handed to each boot to spare the derivation).
fn base() -> &'static (Vec<u8>, Sm2SigningKey) {
    static B: OnceLock<(Vec<u8>, Sm2SigningKey)> = OnceLock::new();
    B.get_or_init(|| {
        let chip = EmulatedChip::new(FLASH).expect("chip");
        let nor = SpiNor::new(chip).expect("nor");
        let mut fw = Firmware::boot(config(), nor, ChaCha20Rng::seed_from_u64(42));
        let token = signed(ProvisionToken {
            serial: serial(),
            taxpayer_id: TaxpayerId::new("91350100M000100Y43").expect("id"),
            company_name: CompanyName::new("测试有限公司").expect("name"),
            machine: 0,
            kinds: KINDS
                .iter()
                .map(|k| KindLimits {
                    kind: *k,
                    single_limit: Fen(1_000_000_000),
                    offline_hours: 1_000_000,
                    offline_amount: Fen(i64::MAX / 4),
                })
                .collect(),
            lock_time: at(2036, 1, 1, 0),
            upload_deadline: at(2036, 1, 1, 0),
            issued_at: start(),
        });
        let r = fw.handle(start(), 1, Request::Provision(token));
        assert!(matches!(r, Ok(Response::Provision(_))), "provision: {r:?}");
        // One roll of 4 numbers of each kind, so short inputs already issue.
        let pin = Pin::new(Pin::FACTORY).expect("pin");
        assert!(fw.handle(start(), 1, Request::Login(pin)).is_ok(), "login");
        for (i, kind) in KINDS.iter().enumerate() {
            let batch = i as u32 + 1;
            let g = signed(RollGrant {
                serial: serial(),
                seq: batch,
                kind: *kind,
                code: code_for(*kind, batch),
                first: InvoiceNumber::new(1).expect("1"),
                count: 4,
                issued_at: start(),
            });
            let r = fw.handle(start(), 1, Request::LoadRolls(g));
            assert!(matches!(r, Ok(Response::LoadRolls(_))), "load roll: {r:?}");
        }
        let key = fw
            .derived_key()
            .cloned()
            .expect("key derived at provisioning");
        let (nor, _) = fw.into_parts();
        (nor.spi().memory().to_vec(), key)
    })
}

fn boot(nor: SpiNor<EmulatedChip>, rng: ChaCha20Rng) -> Fw {
    let mut fw = Firmware::boot(config(), nor, rng);
    fw.preload_key(base().1.clone());
    fw
}

/// Input bytes as a stream of small numbers.
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let s = self.pos.min(self.data.len());
        let e = (s + n).min(self.data.len());
        self.pos = e;
        &self.data[s..e]
    }
}

#[derive(Clone, Debug)]
struct ModelRoll {
    kind: InvoiceKind,
    code: InvoiceCode,
    first: u32,
    count: u32,
    used: u32,
}

#[derive(Clone, Debug)]
struct Answered {
    signed: Signed<IssuedInvoice>,
    voided: bool,
}

/// What the disk should be, as far as the model tracks it.
struct Model {
    now: Timestamp,
    session: Option<u32>,
    rolls: Vec<ModelRoll>,
    /// Answered (or recovered after a cut) invoices by counter.
    invoices: Vec<Answered>,
    /// Request id -> index in `invoices`.
    by_request: HashMap<RequestId, usize>,
    /// Numbers used by invoices and blank voids: (code, number) -> counter.
    used: HashMap<(InvoiceCode, u32), u64>,
    counter: u64,
    last_copied: Option<Period>,
    first_period: Period,
    next_grant_seq: u32,
    next_batch: u32,
    next_receipt: u64,
}

impl Model {
    fn oldest(&self, kind: InvoiceKind) -> Option<usize> {
        self.rolls
            .iter()
            .position(|r| r.kind == kind && r.used < r.count)
    }
    fn period_unreported(&self) -> bool {
        let cur = self.now.period();
        cur > self.first_period && self.last_copied < Some(cur.prev())
    }
    fn take(&mut self, code: &InvoiceCode, n: u32, counter: u64) {
        let prev = self.used.insert((code.clone(), n), counter);
        assert!(
            prev.is_none(),
            "number {code} {n} used twice (counters {prev:?} and {counter})"
        );
    }
    fn new_event(&mut self, counter: u64) {
        assert_eq!(counter, self.counter + 1, "event counters are consecutive");
        self.counter = counter;
    }
}

/// The operation in flight, for reconciling after a power cut.
#[derive(Clone, Debug)]
enum InFlight {
    None,
    Issue(IssueRequest),
    Void(usize),
    Blank(InvoiceKind, u32),
}

struct World {
    fw: Option<Fw>,
    m: Model,
    /// Voids sent so far: each gets its own request id (0xEE... then the count).
    voids_sent: u64,
}

impl World {
    /// A request id for the next void, never one an issue uses (those start with their byte).
    fn void_id(&mut self) -> [u8; 16] {
        self.voids_sent += 1;
        let mut id = [0xEE; 16];
        id[8..].copy_from_slice(&self.voids_sent.to_be_bytes());
        id
    }
}

/// A code of `kind` unique per batch (below 1000): batches never share a code, so loaded rolls
/// never overlap.
fn code_for(kind: InvoiceKind, batch: u32) -> InvoiceCode {
    let s = match kind {
        InvoiceKind::Special => format!("{:04}26{}130", 3300 + batch / 10 % 100, batch % 10),
        InvoiceKind::Electronic => format!("0330026{:03}11", batch % 1000),
        _ => format!("0330026{:03}04", batch % 1000),
    };
    InvoiceCode::new(&s).expect("code")
}

impl World {
    fn fw(&mut self) -> &mut Fw {
        self.fw.as_mut().expect("firmware present")
    }

    /// One request at the model's clock, as the firmware answers it.
    fn call(&mut self, session: u32, req: Request) -> Result<Response, taxdisk_protocol::Refusal> {
        let now = self.m.now;
        self.fw().handle(now, session, req)
    }

    /// One request at the model's clock. `None` when the power was cut during it (the disk
    /// then reboots and the model is reconciled by the caller).
    fn send(&mut self, session: u32, req: Request) -> Option<Result<Response, WireError>> {
        let now = self.m.now;
        let r = self.fw().handle(now, session, req);
        if !self.fw().flash().spi().powered() {
            self.reboot();
            return None;
        }
        Some(r.map_err(|e| e.error))
    }

    fn reboot(&mut self) {
        let (mut nor, rng) = self.fw.take().expect("firmware present").into_parts();
        nor.spi_mut().disarm();
        nor.spi_mut().power_on();
        self.fw = Some(boot(nor, rng));
        // D2: the login is RAM state.
        self.m.session = None;
    }

    fn info(&mut self) -> DiskInfo {
        match self.call(0, Request::GetInfo(())) {
            Ok(Response::GetInfo(i)) => i,
            r => panic!("GetInfo: {r:?}"),
        }
    }

    /// Logs in for a check (no flash write: the PIN tries are full), runs `f`, logs out.
    fn as_checker<T>(&mut self, f: impl FnOnce(&mut World) -> T) -> T {
        assert!(self.m.session.is_none(), "checker runs with no session");
        let pin = Pin::new(Pin::FACTORY).expect("pin");
        let r = self.call(1, Request::Login(pin));
        assert_eq!(r, Ok(Response::Login(())), "checker login");
        let out = f(self);
        let r = self.call(1, Request::Logout(()));
        assert_eq!(r, Ok(Response::Logout(())), "checker logout");
        out
    }

    /// The disk's roll table, all pages (needs a login).
    fn disk_rolls(&mut self) -> Vec<Roll> {
        let mut all: Vec<Roll> = Vec::new();
        loop {
            let skip = u8::try_from(all.len()).expect("few rolls");
            let r = self.call(
                1,
                Request::ListRolls(taxdisk_protocol::command::ListRolls { kind: None, skip }),
            );
            let Ok(Response::ListRolls(page)) = r else {
                panic!("ListRolls: {r:?}")
            };
            let full = page.len() == taxdisk_protocol::command::ROLLS_PER_PAGE;
            all.extend(page);
            if !full {
                return all;
            }
        }
    }

    /// After a reboot: the disk holds every answered event, at most the one in flight more,
    /// which must be exactly that operation; the rolls are the old or the new ones.
    fn reconcile(&mut self, inflight: InFlight) {
        let info = self.info();
        assert!(
            info.counter == self.m.counter || info.counter == self.m.counter + 1,
            "after a cut the disk counter {} must be {} or one more ({inflight:?})",
            info.counter,
            self.m.counter
        );
        if info.counter == self.m.counter + 1 {
            let c = info.counter;
            let ev = self.as_checker(|w| w.call(1, Request::ReadEvent(c)));
            let Ok(Response::ReadEvent(view)) = ev else {
                panic!("new event {c} unreadable: {ev:?}")
            };
            match (view.event, inflight) {
                (JournalEvent::Invoice(s), InFlight::Issue(q)) => {
                    self.issued(&q, s);
                }
                (JournalEvent::Void(v), InFlight::Void(i)) => {
                    assert_eq!(
                        v.body.invoice_counter,
                        self.m.invoices[i].signed.body.counter
                    );
                    self.m.new_event(v.body.counter);
                    self.m.invoices[i].voided = true;
                }
                (JournalEvent::BlankVoid(b), InFlight::Blank(kind, count)) => {
                    self.blank_voided(kind, count, &b.body);
                }
                (e, f) => {
                    panic!("event {c} after a cut is not the operation in flight: {e:?} vs {f:?}")
                }
            }
        }
        // Rolls: a roll answered loaded is durable; a load cut in flight is old or new, so
        // the disk's table (all pages) becomes the model's after checking the known rolls.
        let disk_rolls = self.as_checker(|w| w.disk_rolls());
        for m in self.m.rolls.iter().filter(|m| m.used < m.count) {
            let on_disk = disk_rolls
                .iter()
                .find(|r| r.code == m.code && r.first.get() == m.first);
            let r = on_disk.unwrap_or_else(|| panic!("roll {} lost in a power cut", m.code));
            assert_eq!(
                (r.count, r.used),
                (m.count, m.used),
                "roll {} after reboot",
                m.code
            );
        }
        self.m.rolls = disk_rolls
            .into_iter()
            .map(|r| ModelRoll {
                kind: r.kind,
                code: r.code,
                first: r.first.get(),
                count: r.count,
                used: r.used,
            })
            .collect();
        // Copy tax: the old state or the next period copied.
        let copied = self.info().last_copied;
        let next = self.m.last_copied.map_or(self.m.first_period, Period::next);
        assert!(
            copied == self.m.last_copied || copied == Some(next),
            "copy state after a cut: {copied:?} vs {:?}",
            self.m.last_copied
        );
        self.m.last_copied = copied;
        self.check_all();
    }

    /// Every answered invoice is there, intact, with the expected voided flag.
    fn check_all(&mut self) {
        let invoices = self.m.invoices.clone();
        let counter = self.m.counter;
        self.as_checker(|w| {
            let info = w.info();
            assert_eq!(info.counter, counter, "disk counter vs model");
            for a in &invoices {
                let b = &a.signed.body;
                let r = w.call(1, Request::ReadEvent(b.counter));
                match r {
                    Ok(Response::ReadEvent(v)) => {
                        assert_eq!(
                            v.event,
                            JournalEvent::Invoice(a.signed.clone()),
                            "event {}",
                            b.counter
                        )
                    }
                    other => panic!("answered invoice at {} lost: {other:?}", b.counter),
                }
                let r = w.call(
                    1,
                    Request::ReadInvoice(InvoiceRef {
                        kind: b.kind,
                        code: b.code.clone(),
                        number: b.number,
                    }),
                );
                match r {
                    Ok(Response::ReadInvoice(v)) => {
                        assert_eq!(v.invoice, a.signed, "invoice {} {}", b.code, b.number);
                        assert_eq!(v.voided, a.voided, "voided flag of {} {}", b.code, b.number);
                    }
                    other => panic!(
                        "answered invoice {} {} not found: {other:?}",
                        b.code, b.number
                    ),
                }
            }
        });
    }

    fn issued(&mut self, q: &IssueRequest, s: Signed<IssuedInvoice>) {
        let b = &s.body;
        assert_eq!(b.request_id, q.request_id);
        assert_eq!(
            (b.kind, b.amount, b.tax, b.content_digest),
            (q.kind, q.amount, q.tax, q.content_digest)
        );
        let ri = self
            .m
            .oldest(q.kind)
            .expect("an issue succeeded without stock in the model");
        let roll = &self.m.rolls[ri];
        assert_eq!(
            (&b.code, b.number.get()),
            (&roll.code, roll.first + roll.used),
            "D4: the next number of the oldest roll"
        );
        self.m.rolls[ri].used += 1;
        self.m.new_event(b.counter);
        self.m.take(&b.code, b.number.get(), b.counter);
        assert!(b.time == self.m.now, "stamped with the disk's time");
        self.m
            .by_request
            .insert(q.request_id, self.m.invoices.len());
        self.m.invoices.push(Answered {
            signed: s,
            voided: false,
        });
    }

    fn blank_voided(&mut self, kind: InvoiceKind, count: u32, b: &BlankVoidEvent) {
        let ri = self
            .m
            .oldest(kind)
            .expect("blank void without stock in the model");
        let roll = self.m.rolls[ri].clone();
        assert_eq!(
            (&b.code, b.first.get(), b.count),
            (&roll.code, roll.first + roll.used, count)
        );
        self.m.new_event(b.counter);
        for i in 0..count {
            self.m.take(&b.code, b.first.get() + i, b.counter);
        }
        self.m.rolls[ri].used += count;
    }

    /// The refusal every command needing a login gets from `session` now, if any (D2, D14).
    fn gate(&self, session: u32) -> Option<WireError> {
        match self.m.session {
            Some(s) if s != session => Some(WireError::Busy),
            Some(_) => None,
            None => Some(WireError::NotLoggedIn),
        }
    }

    fn expect(&self, what: &str, got: &Result<Response, WireError>, want: Result<(), WireError>) {
        match (got, want) {
            (Ok(_), Ok(())) => {}
            (Err(e), Err(w)) if *e == w => {}
            (g, w) => panic!("{what}: got {g:?}, the model expects {w:?}"),
        }
    }

    fn op(&mut self, b: &mut Bytes<'_>) {
        let session = SESSIONS[usize::from(b.u8() & 1)];
        match b.u8() % 13 {
            0 | 1 | 2 => {
                // Issue.
                let kind = KINDS[usize::from(b.u8()) % KINDS.len()];
                let rid = b.u8() % 24;
                let amount = i64::from(b.u16() % 5000) + 1;
                let mut request_id = [0u8; 16];
                request_id[0] = rid;
                let q = IssueRequest {
                    request_id,
                    kind,
                    variant: Variant::Standard,
                    buyer: None,
                    amount: Fen(amount),
                    tax: Fen(amount * 13 / 100),
                    content_digest: [rid ^ (amount as u8); 32],
                    red: None,
                    oil: None,
                };
                let want = if let Some(e) = self.gate(session) {
                    Some(Err(e))
                } else if let Some(&i) = self.m.by_request.get(&request_id) {
                    let s = &self.m.invoices[i].signed.body;
                    let same = s.kind == q.kind
                        && s.amount == q.amount
                        && s.content_digest == q.content_digest;
                    if !same {
                        Some(Err(WireError::RequestIdConflict))
                    } else {
                        None // checked below: the stored answer
                    }
                } else if self.m.oldest(kind).is_none() {
                    Some(Err(WireError::NoBlankNumber))
                } else if self.m.period_unreported() {
                    Some(Err(WireError::PeriodNotReported))
                } else {
                    Some(Ok(()))
                };
                let Some(got) = self.send(session, Request::Issue(q.clone())) else {
                    return self.reconcile(InFlight::Issue(q));
                };
                match (&got, self.m.by_request.get(&request_id).copied()) {
                    (Ok(Response::Issue(s)), Some(i)) if want.is_none() => {
                        assert_eq!(
                            s, &self.m.invoices[i].signed,
                            "D5: a retry gets the stored answer"
                        );
                    }
                    (Ok(Response::Issue(s)), None) => {
                        self.expect("issue", &got, want.unwrap_or(Ok(())));
                        self.issued(&q, s.clone());
                    }
                    _ => self.expect("issue", &got, want.unwrap_or(Ok(()))),
                }
            }
            3 => {
                // Void an answered invoice (or a number nobody issued).
                let pick = usize::from(b.u8());
                let target = if self.m.invoices.is_empty() {
                    None
                } else {
                    Some(pick % self.m.invoices.len())
                };
                let r = match target {
                    Some(i) => {
                        let s = &self.m.invoices[i].signed.body;
                        InvoiceRef {
                            kind: s.kind,
                            code: s.code.clone(),
                            number: s.number,
                        }
                    }
                    None => InvoiceRef {
                        kind: InvoiceKind::Normal,
                        code: code_for(InvoiceKind::Normal, 999),
                        number: InvoiceNumber::new(1).expect("1"),
                    },
                };
                let want = if let Some(e) = self.gate(session) {
                    Err(e)
                } else {
                    match target {
                        None => Err(WireError::InvoiceNotFound),
                        Some(i) => {
                            let a = &self.m.invoices[i];
                            let p = a.signed.body.period();
                            if self.m.last_copied.is_some_and(|c| p <= c) {
                                Err(WireError::AlreadyReported)
                            } else if p != self.m.now.period() {
                                Err(WireError::NotCurrentPeriod)
                            } else if !a.signed.body.kind.is_paper() {
                                Err(WireError::VoidNotAllowed)
                            } else if a.voided {
                                Err(WireError::AlreadyVoided)
                            } else {
                                Ok(())
                            }
                        }
                    }
                };
                let request_id = self.void_id();
                let void = Request::Void(VoidRequest {
                    request_id,
                    invoice: r,
                });
                let Some(got) = self.send(session, void) else {
                    return self.reconcile(target.map_or(InFlight::None, InFlight::Void));
                };
                self.expect("void", &got, want);
                if let (Ok(Response::Void(v)), Some(i)) = (&got, target) {
                    assert_eq!(
                        v.body.invoice_counter,
                        self.m.invoices[i].signed.body.counter
                    );
                    self.m.new_event(v.body.counter);
                    self.m.invoices[i].voided = true;
                }
            }
            4 => {
                // Blank void.
                let kind = KINDS[usize::from(b.u8()) % KINDS.len()];
                let count = u32::from(b.u8() % 4);
                let want = if let Some(e) = self.gate(session) {
                    Err(e)
                } else {
                    match self.m.oldest(kind) {
                        None => Err(WireError::NoBlankNumber),
                        Some(ri) => {
                            let r = &self.m.rolls[ri];
                            if count == 0 || count > r.count - r.used {
                                Err(WireError::BadArgument)
                            } else {
                                Ok(())
                            }
                        }
                    }
                };
                let request_id = self.void_id();
                let blank = Request::VoidBlank(VoidBlank {
                    request_id,
                    kind,
                    count,
                });
                let Some(got) = self.send(session, blank) else {
                    return self.reconcile(InFlight::Blank(kind, count));
                };
                self.expect("blank void", &got, want);
                if let Ok(Response::VoidBlank(e)) = &got {
                    self.blank_voided(kind, count, &e.body);
                }
            }
            5 => {
                // Copy tax of the period before now, or of an input-chosen one back.
                let back = b.u8() % 3;
                let mut p = self.m.now.period();
                for _ in 0..=back {
                    p = p.prev();
                }
                let expected = self.m.last_copied.map_or(self.m.first_period, Period::next);
                let want = if let Some(e) = self.gate(session) {
                    Err(e)
                } else if self.m.last_copied == Some(p) {
                    Ok(())
                } else if p != expected {
                    Err(WireError::PeriodNotCopyable)
                } else {
                    Ok(())
                };
                let Some(got) = self.send(session, Request::CopyTax(p)) else {
                    return self.reconcile(InFlight::None);
                };
                self.expect("copy tax", &got, want);
                if let Ok(Response::CopyTax(s)) = &got {
                    assert_eq!(s.body.period, p);
                    self.m.last_copied = Some(p);
                }
            }
            6 => {
                let pin = Pin::new(Pin::FACTORY).expect("pin");
                let want = match self.m.session {
                    Some(s) if s != session => Err(WireError::Busy),
                    _ => Ok(()),
                };
                let Some(got) = self.send(session, Request::Login(pin)) else {
                    return self.reconcile(InFlight::None);
                };
                self.expect("login", &got, want);
                if got.is_ok() {
                    self.m.session = Some(session);
                }
            }
            7 => {
                let want = self.gate(session).map_or(Ok(()), Err);
                let Some(got) = self.send(session, Request::Logout(())) else {
                    return self.reconcile(InFlight::None);
                };
                self.expect("logout", &got, want);
                if got.is_ok() {
                    self.m.session = None;
                }
            }
            8 => {
                // Clock: seconds to days, or the start of the next month.
                let v = b.u16();
                if v % 8 == 0 {
                    let next = self.m.now.period().next();
                    if next < Period::new(2035, 1).expect("period") {
                        self.m.now = next.start().plus_secs(3600);
                    }
                } else {
                    self.m.now = self.m.now.plus_secs(u64::from(v) * 7);
                }
            }
            9 => {
                // Load a roll from a valid grant.
                let kind = KINDS[usize::from(b.u8()) % KINDS.len()];
                let count = u32::from(b.u8() % 6) + 1;
                self.m.next_batch += 1;
                self.m.next_grant_seq += 1;
                let code = code_for(kind, self.m.next_batch);
                let g = signed(RollGrant {
                    serial: serial(),
                    seq: self.m.next_grant_seq,
                    kind,
                    code: code.clone(),
                    first: InvoiceNumber::new(1).expect("1"),
                    count,
                    issued_at: self.m.now,
                });
                let live = self.m.rolls.iter().filter(|r| r.used < r.count).count();
                let overlap = self
                    .m
                    .rolls
                    .iter()
                    .any(|r| r.code == code && r.used < r.count);
                let want = if let Some(e) = self.gate(session) {
                    Some(Err(e))
                } else if overlap {
                    None // a reused batch code may overlap an old roll: not modelled
                } else if live >= MAX_ROLLS {
                    Some(Err(WireError::TooManyRolls))
                } else {
                    Some(Ok(()))
                };
                let Some(got) = self.send(session, Request::LoadRolls(g)) else {
                    return self.reconcile(InFlight::None);
                };
                if let Some(w) = want {
                    self.expect("load roll", &got, w);
                }
                if let Ok(Response::LoadRolls(r)) = &got {
                    self.m.rolls.retain(|r| r.used < r.count);
                    self.m.rolls.push(ModelRoll {
                        kind,
                        code,
                        first: r.first.get(),
                        count,
                        used: 0,
                    });
                }
            }
            10 => {
                // Ack upload through a counter at most one past the disk's.
                let through = u64::from(b.u8()) % (self.m.counter + 2);
                self.m.next_receipt += 1;
                let r = signed(UploadReceipt {
                    serial: serial(),
                    through_counter: through,
                    issued_at: Timestamp(self.m.now.0 + self.m.next_receipt),
                });
                let want = if let Some(e) = self.gate(session) {
                    Err(e)
                } else if through > self.m.counter {
                    Err(WireError::UnknownEvents)
                } else {
                    Ok(())
                };
                let Some(got) = self.send(session, Request::AckUpload(r)) else {
                    return self.reconcile(InFlight::None);
                };
                self.expect("ack upload", &got, want);
            }
            11 => {
                // Power cut at the Nth program/erase from now, torn after `byte` bytes.
                let nth = u64::from(b.u8() % 6) + 1;
                let byte = usize::from(b.u16() % 4097);
                self.fw().flash_mut().spi_mut().cut_power_at(nth, byte);
            }
            _ => {
                if b.u8() & 1 == 0 {
                    // Clean power cycle.
                    self.reboot();
                    self.check_all();
                } else {
                    // Raw garbage frame: never a panic, never a change.
                    let n = usize::from(b.u8());
                    let frame = b.take(n).to_vec();
                    let before = self.info().counter;
                    let mut out = vec![0u8; 2 * MAX_ENCODED];
                    let now = self.m.now;
                    let len = self.fw().handle_frame(now, &frame, &mut out);
                    assert!(len <= out.len());
                    if !self.fw().flash().spi().powered() {
                        self.reboot();
                        return self.reconcile(InFlight::None);
                    }
                    assert_eq!(
                        self.info().counter,
                        before,
                        "a garbage frame changed the journal"
                    );
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (image, _) = base();
    let mut chip = EmulatedChip::new(FLASH).expect("chip");
    chip.load(image).expect("image");
    let nor = SpiNor::new(chip).expect("nor");
    let fw = boot(nor, ChaCha20Rng::seed_from_u64(42));
    let mut w = World {
        fw: Some(fw),
        voids_sent: 0,
        m: Model {
            now: start(),
            session: None,
            rolls: Vec::new(),
            invoices: Vec::new(),
            by_request: HashMap::new(),
            used: HashMap::new(),
            counter: 0,
            last_copied: None,
            first_period: start().period(),
            next_grant_seq: BASE_ROLLS,
            next_batch: BASE_ROLLS,
            next_receipt: 0,
        },
    };
    let rolls = w.as_checker(|w| w.disk_rolls());
    w.m.rolls = rolls
        .into_iter()
        .map(|r| ModelRoll {
            kind: r.kind,
            code: r.code,
            first: r.first.get(),
            count: r.count,
            used: r.used,
        })
        .collect();
    // Every input starts logged in as session 1 (login is RAM state, D2).
    let pin = Pin::new(Pin::FACTORY).expect("pin");
    assert!(w.call(1, Request::Login(pin)).is_ok(), "login");
    w.m.session = Some(1);
    let mut b = Bytes { data, pos: 0 };
    let mut ops = 0;
    while !b.done() && ops < MAX_OPS {
        w.op(&mut b);
        ops += 1;
        let c = w.info().counter;
        assert!(
            c >= w.m.counter,
            "the disk's counter went back: {c} < {}",
            w.m.counter
        );
    }
    // The end: power cycle, everything answered must still be there.
    w.fw().flash_mut().spi_mut().disarm();
    w.reboot();
    w.check_all();
});
