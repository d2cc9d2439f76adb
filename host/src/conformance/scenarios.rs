//! The scenarios, in run order, and the context they share: the disk client, the token
//! source, the control channel and what the run learned (serial, public key, token sequence
//! numbers, the rolls it loaded).
//!
//! Each scenario is a function returning `Ok(())` (pass), [`Stop::Fail`] with what the rule
//! expects and what the disk did, or [`Stop::Skip`] with the reason it could not run.

use super::frames::FrameLog;
use crate::control::{Control, ControlError};
use crate::disk::{DiskClient, DiskError, IssueDraft, new_request_id};
use crate::tokens::{TokenError, TokenSource};
use crate::transport::{Transport, TransportError};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Instant;
use taxdisk_protocol::command::InvoiceRef;
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::frame::{
    FrameType, Header, MAX_ENCODED, decode_response, encode_raw, encode_request,
};
use taxdisk_protocol::message::{ProvisionProof, SignedMessage};
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{CommandId, Period, Refusal, Request, Response, Timestamp, WireError};

/// How a scenario stopped early.
#[derive(Debug)]
pub enum Stop {
    /// A check failed.
    Fail(String),
    /// The scenario cannot run here.
    Skip(String),
}

impl From<DiskError> for Stop {
    fn from(e: DiskError) -> Stop {
        Stop::Fail(e.to_string())
    }
}

impl From<TokenError> for Stop {
    fn from(e: TokenError) -> Stop {
        Stop::Fail(format!("token source: {e}"))
    }
}

impl From<ControlError> for Stop {
    fn from(e: ControlError) -> Stop {
        Stop::Fail(format!("control channel: {e}"))
    }
}

/// A scenario's result.
pub type Step = Result<(), Stop>;

macro_rules! check {
    ($cond:expr, $($fmt:tt)*) => {
        if !$cond {
            return Err(Stop::Fail(format!($($fmt)*)));
        }
    };
}

fn fail<T>(msg: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::Fail(msg.into()))
}

/// The PIN a factory disk ships with (D2).
fn factory_pin() -> Pin {
    // Pin::FACTORY is eight digits, a valid PIN (invariant of the protocol crate).
    Pin::new(Pin::FACTORY).unwrap_or_else(|_| unreachable!("the factory PIN is valid"))
}

fn pin(s: &'static str) -> Pin {
    // Only called with literals of 6-16 printable ASCII characters.
    Pin::new(s).unwrap_or_else(|_| unreachable!("literal PIN {s} is valid"))
}

/// Kinds the suite provisions (authorized); Roll and UsedCar stay unauthorized (D5 refusal),
/// MotorVehicle gets no roll (NoBlankNumber).
const AUTHORIZED: [InvoiceKind; 4] = [
    InvoiceKind::Special,
    InvoiceKind::Normal,
    InvoiceKind::MotorVehicle,
    InvoiceKind::Electronic,
];

/// More journal events than one run of the suite makes: a disk reporting a larger counter is
/// wrong, and the suite does not read that many back.
const MAX_SUITE_EVENTS: u64 = 10_000;

/// Single-invoice limit the suite provisions: 1,000,000 yuan.
const SINGLE_LIMIT: Fen = Fen(100_000_000);

/// The longest time the suite keeps an invoice not uploaded while it still expects to issue:
/// D8 acknowledges everything, issues the invoice D9's deadline scenario needs, then moves
/// from wherever the run's clock stands in a month to the 3rd of the next month at 10:00
/// ([`next_month_day3`]: at most 31 days + 2 days 10 hours later), then past a one-day lock
/// time (one day and a minute), and D9's deadline scenario adds two minutes. Any start date
/// gives a move no longer than this.
const LONGEST_OFFLINE_SECS: u64 = (31 + 2) * 86_400 + 10 * 3600 + (86_400 + 60) + 120;

/// Offline hours the suite provisions (D9): above [`LONGEST_OFFLINE_SECS`] by a day, so that
/// no scenario but D9's own crosses it, whatever date the run starts on. D9's scenarios set
/// their own small limits to cross.
const SUITE_OFFLINE_HOURS: u32 = (LONGEST_OFFLINE_SECS / 3600) as u32 + 24;

const _: () = assert!(SUITE_OFFLINE_HOURS as u64 * 3600 > LONGEST_OFFLINE_SECS + 3600);

fn limits(kind: InvoiceKind) -> KindLimits {
    KindLimits {
        kind,
        single_limit: SINGLE_LIMIT,
        offline_hours: SUITE_OFFLINE_HOURS,
        offline_amount: Fen(100_000_000_000),
    }
}

/// The 3rd of the month after `p`, 10:00 China time: the day D8 moves the clock to (a new
/// month begun, its report not yet made).
fn next_month_day3(p: Period) -> Timestamp {
    p.next().start().plus_secs(2 * 86_400 + 10 * 3600)
}

/// Token sequence numbers used so far, per token type.
#[derive(Debug, Default)]
struct Seqs {
    roll: u32,
    clear: u32,
    update: u32,
    clock: u32,
    oil: u32,
    unblock: u32,
}

type Client = DiskClient<FrameLog<Box<dyn Transport + Send>>>;

/// What the scenarios share.
pub struct Ctx<'a> {
    c: Client,
    tokens: Option<&'a dyn TokenSource>,
    control: Option<&'a mut dyn Control>,
    serial: Option<DeviceSerial>,
    taxpayer: Option<TaxpayerId>,
    pk: Option<PublicKey>,
    factory: bool,
    ours: bool,
    seq: Seqs,
    batch: u32,
    raw_seq: u32,
    acked: u64,
}

impl Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("serial", &self.serial)
            .field("ours", &self.ours)
            .finish_non_exhaustive()
    }
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        c: Client,
        tokens: Option<&'a dyn TokenSource>,
        control: Option<&'a mut dyn Control>,
    ) -> Self {
        Ctx {
            c,
            tokens,
            control,
            serial: None,
            taxpayer: None,
            pk: None,
            factory: false,
            ours: false,
            seq: Seqs::default(),
            batch: 0,
            raw_seq: 0xC0DE_0000,
            acked: 0,
        }
    }

    fn tokens(&self) -> Result<&'a dyn TokenSource, Stop> {
        self.tokens
            .ok_or_else(|| Stop::Skip("needs bureau tokens: no token source was given".into()))
    }

    fn control(&mut self, req: ControlRequest) -> Result<ControlResponse, Stop> {
        let Some(c) = self.control.as_mut() else {
            return Err(Stop::Skip(
                "needs the simulator's control channel (clock, power): none was given".into(),
            ));
        };
        match c.control(req.clone())? {
            ControlResponse::Error(e) => fail(format!("control {req:?} answered error: {e}")),
            r => Ok(r),
        }
    }

    fn need_control(&self) -> Step {
        if self.control.is_none() {
            return Err(Stop::Skip(
                "needs the simulator's control channel (clock, power): none was given".into(),
            ));
        }
        Ok(())
    }

    /// Skips unless this run provisioned the disk (so its PIN, token sequence numbers and
    /// journal are known).
    fn need_ours(&self) -> Step {
        if self.ours {
            Ok(())
        } else {
            Err(Stop::Skip(
                "needs a disk this run provisioned (a factory-state disk and a token source)"
                    .into(),
            ))
        }
    }

    fn serial(&self) -> Result<DeviceSerial, Stop> {
        self.serial
            .clone()
            .ok_or_else(|| Stop::Fail("the disk's serial is not known".into()))
    }

    fn other_serial(&self) -> Result<DeviceSerial, Stop> {
        let s = self.serial()?;
        let mut b = s.as_str().as_bytes().to_vec();
        if let Some(last) = b.last_mut() {
            *last = if *last == b'9' { b'0' } else { *last + 1 };
        }
        let text = String::from_utf8(b).map_err(|_| Stop::Fail("serial is not text".into()))?;
        DeviceSerial::new(&text).map_err(|e| Stop::Fail(format!("other serial: {e}")))
    }

    fn login(&mut self) -> Step {
        self.c.login(&factory_pin())?;
        Ok(())
    }

    fn now(&mut self) -> Result<Timestamp, Stop> {
        Ok(self.c.info()?.time)
    }

    fn verify<T: SignedMessage>(&self, s: &Signed<T>, what: &str) -> Step {
        let pk = self
            .pk
            .ok_or_else(|| Stop::Fail("the disk's public key is not known".into()))?;
        let vk = sign::verifying_key(&pk)
            .map_err(|e| Stop::Fail(format!("the disk's public key: {e}")))?;
        s.verify(&vk).map_err(|e| {
            Stop::Fail(format!(
                "{what}: signature does not verify with the disk's public key: {e}"
            ))
        })
    }

    fn code(&mut self, kind: InvoiceKind) -> Result<InvoiceCode, Stop> {
        self.batch += 1;
        let b = self.batch;
        // The code's year digits (F2) are the disk clock's year, not the host's.
        let year = self.now()?.civil().year % 100;
        let s = match taxdisk_protocol::validate::code_kind_suffix(kind) {
            None => format!("3300{year:02}{}130", b % 10),
            Some(suffix) => format!("03300{year:02}{:03}{suffix}", b % 1000),
        };
        InvoiceCode::new(&s).map_err(|e| Stop::Fail(format!("roll code {s}: {e}")))
    }

    fn grant_body(
        &mut self,
        kind: InvoiceKind,
        code: InvoiceCode,
        first: u32,
        count: u32,
    ) -> Result<RollGrant, Stop> {
        self.seq.roll += 1;
        Ok(RollGrant {
            serial: self.serial()?,
            seq: self.seq.roll,
            kind,
            code,
            first: InvoiceNumber::new(first).map_err(|e| Stop::Fail(e.to_string()))?,
            count,
            issued_at: self.now()?,
        })
    }

    fn load_roll(&mut self, kind: InvoiceKind, count: u32) -> Result<Roll, Stop> {
        let code = self.code(kind)?;
        let body = self.grant_body(kind, code, 1, count)?;
        let g = self.tokens()?.roll_grant(body)?;
        Ok(self.c.load_roll(g)?)
    }

    /// Makes sure `kind` has at least `n` blank numbers (loading a roll of 50 if not).
    fn ensure_blank(&mut self, kind: InvoiceKind, n: u32) -> Step {
        if self.c.status(kind)?.blank_left < n {
            if self.tokens.is_none() {
                return Err(Stop::Skip(format!(
                    "needs blank {kind} numbers and no token source can grant a roll"
                )));
            }
            self.load_roll(kind, 50)?;
        }
        Ok(())
    }

    /// The next number `kind` would be issued from (oldest roll with numbers left).
    fn next_number(&mut self, kind: InvoiceKind) -> Result<(InvoiceCode, u32), Stop> {
        let rolls = self.c.list_rolls(Some(kind))?;
        let r = rolls
            .iter()
            .find(|r| r.left() > 0)
            .ok_or_else(|| Stop::Fail(format!("no {kind} roll with numbers left")))?;
        Ok((r.code.clone(), r.first.get().saturating_add(r.used)))
    }

    fn draft(&self, kind: InvoiceKind, amount: i64) -> IssueDraft {
        let mut digest = [0u8; 32];
        digest[..8].copy_from_slice(&amount.to_be_bytes());
        digest[8..16].copy_from_slice(&new_request_id()[..8]);
        IssueDraft {
            kind,
            variant: Variant::Standard,
            buyer: self.taxpayer.clone(),
            amount: Fen(amount),
            tax: Fen(amount.saturating_mul(13) / 100),
            content_digest: digest,
            red: None,
            oil: None,
        }
    }

    fn issue(&mut self, kind: InvoiceKind, amount: i64) -> Result<Signed<IssuedInvoice>, Stop> {
        let d = self.draft(kind, amount);
        Ok(self.c.issue(d)?)
    }

    fn red_of(&self, o: &IssuedInvoice, amount: i64) -> IssueDraft {
        let mut d = self.draft(o.kind, -amount);
        d.buyer = o.buyer.clone();
        d.red = Some(RedRef::Original {
            code: o.code.clone(),
            number: o.number,
        });
        d
    }

    fn update(&mut self, changes: &[UpdateChange]) -> Result<Signed<UpdateToken>, Stop> {
        self.seq.update += 1;
        let body = UpdateToken {
            serial: self.serial()?,
            seq: self.seq.update,
            changes: changes.iter().cloned().collect(),
            issued_at: self.now()?,
        };
        Ok(self.tokens()?.update(body)?)
    }

    fn receipt(&mut self, through: u64) -> Result<Signed<UploadReceipt>, Stop> {
        let body = UploadReceipt {
            serial: self.serial()?,
            through_counter: through,
            issued_at: self.now()?,
        };
        Ok(self.tokens()?.upload_receipt(body)?)
    }

    /// Moves the disk clock forward by `secs` through the control channel. A move that
    /// crosses into a new month (the run started near a month's end) closes each month it
    /// left as the software would at its first login of the new month: copy tax, then a
    /// clear-card token (D8). The scenario then goes on testing its own rule instead of
    /// meeting D5's "report the last period first" on whatever date the suite runs. D8's own
    /// move into the next month uses the control channel directly: it tests that refusal.
    fn advance(&mut self, secs: u64) -> Step {
        let before = self.c.info()?.period;
        self.control(ControlRequest::Advance(secs))?;
        let after = self.c.info()?.period;
        if let (Some(mut p), Some(now)) = (before, after) {
            while p < now {
                self.close_period(p)?;
                p = p.next();
            }
        }
        Ok(())
    }

    /// Copy tax of `p` and a clear card for it, with the next lock time and upload deadline
    /// 60 days away (D8).
    fn close_period(&mut self, p: Period) -> Step {
        self.c.copy_tax(p)?;
        let now = self.now()?;
        let later = now.plus_secs(60 * 86_400);
        let t = clear_token(self, p, later, later)?;
        self.c.clear_card(t)?;
        Ok(())
    }

    /// Acknowledges every event so far.
    fn ack_all(&mut self) -> Step {
        let c = self.c.info()?.counter;
        let r = self.receipt(c)?;
        self.c.ack_upload(r)?;
        self.acked = self.acked.max(c);
        Ok(())
    }

    /// Sends one request frame with any session id and raw command id and payload, and waits
    /// for the answer echoing its sequence number.
    fn raw(&mut self, session: u32, command: u16, payload: &[u8]) -> Result<Header, Stop> {
        let (h, _) = self.raw_frame(session, command, payload)?;
        Ok(h)
    }

    fn raw_frame(
        &mut self,
        session: u32,
        command: u16,
        payload: &[u8],
    ) -> Result<(Header, Vec<u8>), Stop> {
        self.raw_seq = self.raw_seq.wrapping_add(1);
        let seq = self.raw_seq;
        let header = Header {
            frame_type: FrameType::Request,
            command,
            seq,
            session,
            status: 0,
            detail: 0,
        };
        let mut out = vec![0u8; MAX_ENCODED];
        let n = encode_raw(&header, payload, &mut out)
            .map_err(|e| Stop::Fail(format!("encoding a raw frame: {e}")))?;
        self.exchange(&out[..n], seq, session)
    }

    fn exchange(
        &mut self,
        frame: &[u8],
        seq: u32,
        session: u32,
    ) -> Result<(Header, Vec<u8>), Stop> {
        let timeout = self.c.config().timeout;
        let attempts = self.c.config().attempts.max(1);
        for _ in 0..attempts {
            let t = self.c.transport_mut();
            if let Err(e) = t.send(frame) {
                if !e.is_transient() {
                    return fail(format!("sending: {e}"));
                }
                let _ = t.reconnect();
                continue;
            }
            let deadline = Instant::now() + timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match t.recv(left) {
                    Ok(f)
                        if f.header.frame_type == FrameType::Response
                            && f.header.seq == seq
                            && f.header.session == session =>
                    {
                        return Ok((f.header, f.payload));
                    }
                    Ok(_) => continue,
                    Err(TransportError::Timeout(_)) | Err(TransportError::BadFrame(_)) => break,
                    Err(e) if e.is_transient() => {
                        let _ = t.reconnect();
                        break;
                    }
                    Err(e) => return fail(format!("receiving: {e}")),
                }
            }
        }
        fail(format!(
            "no answer after {attempts} attempt(s) of {} ms",
            timeout.as_millis()
        ))
    }

    /// Sends a typed request as another host session.
    fn as_session(
        &mut self,
        session: u32,
        req: &Request,
    ) -> Result<Result<Response, Refusal>, Stop> {
        self.raw_seq = self.raw_seq.wrapping_add(1);
        let seq = self.raw_seq;
        let mut out = vec![0u8; MAX_ENCODED];
        let n = encode_request(seq, session, req, &mut out)
            .map_err(|e| Stop::Fail(format!("encoding: {e}")))?;
        let (h, p) = self.exchange(&out[..n], seq, session)?;
        decode_response(&h, &p).map_err(|e| Stop::Fail(format!("answer does not decode: {e}")))
    }

    /// The disk's events 1..=counter, read back one by one (the oracle of D8 and D12).
    fn all_events(&mut self) -> Result<Vec<EventView>, Stop> {
        let n = self.c.info()?.counter;
        check!(
            n <= MAX_SUITE_EVENTS,
            "the disk reports counter {n}; this run made far fewer events"
        );
        let mut out = Vec::new();
        for c in 1..=n {
            out.push(self.c.read_event(c)?);
        }
        Ok(out)
    }
}

/// Expects a refusal with `want`; returns its detail.
fn refused<T: Debug>(r: Result<T, DiskError>, want: WireError, what: &str) -> Result<u32, Stop> {
    match r {
        Err(DiskError::Refused { error, detail, .. }) if error == want => Ok(detail),
        Err(DiskError::Busy { .. }) if want == WireError::Busy => Ok(0),
        Err(e) => fail(format!(
            "{what}: expected refusal {} (0x{:04X}), got {}: {e}",
            want.name(),
            want.code(),
            e.wire_error().map_or("no refusal", |w| w.name())
        )),
        Ok(v) => fail(format!(
            "{what}: expected refusal {} (0x{:04X}), the disk answered {v:?}",
            want.name(),
            want.code()
        )),
    }
}

/// Expects a raw answer refused with `want`.
fn raw_refused(r: Result<Response, Refusal>, want: WireError, what: &str) -> Step {
    match r {
        Err(x) if x.error == want => Ok(()),
        Err(x) => fail(format!(
            "{what}: expected {}, got refusal {}",
            want.name(),
            x.error.name()
        )),
        Ok(v) => fail(format!(
            "{what}: expected {}, the disk answered {v:?}",
            want.name()
        )),
    }
}

/// A token whose signature no longer covers its body (forged).
fn forge<T: Clone>(s: &Signed<T>) -> Signed<T> {
    let mut f = s.clone();
    f.signature.r[31] ^= 0x01;
    f
}

/// What a scenario is, for listings and coverage checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScenarioInfo {
    /// The rule it checks (`D1`..`D14` or `wire`).
    pub rule: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The commands it exercises.
    pub commands: &'static [CommandId],
}

pub(crate) struct Scenario {
    pub(crate) rule: &'static str,
    pub(crate) name: &'static str,
    pub(crate) commands: &'static [CommandId],
    pub(crate) run: fn(&mut Ctx<'_>) -> Step,
}

/// Every scenario, in run order.
pub fn scenario_list() -> Vec<ScenarioInfo> {
    SCENARIOS
        .iter()
        .map(|s| ScenarioInfo {
            rule: s.rule,
            name: s.name,
            commands: s.commands,
        })
        .collect()
}

use CommandId as C;

pub(crate) const SCENARIOS: &[Scenario] = &[
    Scenario {
        rule: "wire",
        name: "wire_ping_echoes",
        commands: &[C::Ping],
        run: wire_ping,
    },
    Scenario {
        rule: "wire",
        name: "wire_unknown_command_and_malformed_payload",
        commands: &[C::Ping, C::GetInfo],
        run: wire_errors,
    },
    Scenario {
        rule: "D1",
        name: "d01_factory_state_refuses_all_but_provision",
        commands: &[C::GetInfo, C::Login, C::GetPublicKey, C::GetStatus],
        run: d01_factory,
    },
    Scenario {
        rule: "D1",
        name: "d01_provision_token_bound_to_serial",
        commands: &[C::Provision, C::GetPublicKey, C::GetInfo],
        run: d01_provision,
    },
    Scenario {
        rule: "D2",
        name: "d02_pin_login_logout_change",
        commands: &[C::Login, C::Logout, C::ChangePin, C::GetStatus, C::GetInfo],
        run: d02_pin,
    },
    Scenario {
        rule: "D2",
        name: "d02_pin_blocks_at_zero_until_unblock_token",
        commands: &[C::Login, C::Unblock, C::GetInfo],
        run: d02_block,
    },
    Scenario {
        rule: "D2",
        name: "d02_power_cycle_logs_out",
        commands: &[C::Login, C::GetInfo, C::GetStatus],
        run: d02_power,
    },
    Scenario {
        rule: "D14",
        name: "d14_second_session_is_busy",
        commands: &[C::Login, C::Logout, C::GetStatus, C::Ping, C::GetInfo],
        run: d14_busy,
    },
    Scenario {
        rule: "D4",
        name: "d04_roll_grants_once_bound_to_serial",
        commands: &[C::LoadRolls, C::ListRolls, C::GetStatus],
        run: d04_grants,
    },
    Scenario {
        rule: "D5",
        name: "d05_issue_signed_numbered_counted",
        commands: &[
            C::Issue,
            C::ReadInvoice,
            C::LastIssued,
            C::GetInfo,
            C::ListRolls,
        ],
        run: d05_issue,
    },
    Scenario {
        rule: "D5",
        name: "d05_issue_retry_is_idempotent",
        commands: &[C::Issue, C::GetInfo],
        run: d05_idempotent,
    },
    Scenario {
        rule: "D5",
        name: "d05_issue_refusals",
        commands: &[C::Issue, C::GetStatus, C::Logout],
        run: d05_refusals,
    },
    Scenario {
        rule: "D6",
        name: "d06_red_invoices",
        commands: &[C::Issue, C::Void],
        run: d06_red,
    },
    Scenario {
        rule: "D7",
        name: "d07_void_and_blank_void",
        commands: &[C::Void, C::VoidBlank, C::ReadInvoice, C::Issue],
        run: d07_void,
    },
    Scenario {
        rule: "D3",
        name: "d03_clock_only_by_token_and_clock_error",
        commands: &[C::SetClock, C::GetInfo, C::Issue, C::Void],
        run: d03_clock,
    },
    Scenario {
        rule: "D12",
        name: "d12_pending_in_order_and_receipts",
        commands: &[C::ListPending, C::ReadEvent, C::AckUpload, C::GetStatus],
        run: d12_upload,
    },
    Scenario {
        rule: "D9",
        name: "d09_offline_amount_and_zero_limits",
        commands: &[C::ApplyUpdate, C::Issue, C::AckUpload, C::GetStatus],
        run: d09_amount,
    },
    Scenario {
        rule: "D9",
        name: "d09_offline_hours",
        commands: &[C::ApplyUpdate, C::Issue, C::AckUpload],
        run: d09_hours,
    },
    Scenario {
        rule: "D10",
        name: "d10_update_tokens",
        commands: &[C::ApplyUpdate, C::GetInfo, C::GetStatus, C::Issue],
        run: d10_update,
    },
    Scenario {
        rule: "D11",
        name: "d11_refined_oil_stock",
        commands: &[
            C::LoadOilStock,
            C::OilStock,
            C::ReturnOilStock,
            C::Issue,
            C::ApplyUpdate,
        ],
        run: d11_oil,
    },
    Scenario {
        rule: "D4",
        name: "d04_return_roll_with_signed_receipt",
        commands: &[C::ReturnRoll, C::ListRolls, C::LoadRolls],
        run: d04_return,
    },
    Scenario {
        rule: "D8",
        name: "d08_copy_tax_clear_card_and_lock",
        commands: &[
            C::CopyTax,
            C::ClearCard,
            C::Issue,
            C::Void,
            C::VoidBlank,
            C::ReturnRoll,
            C::ApplyReportReceipt,
            C::LoadRolls,
            C::ReadEvent,
            C::GetInfo,
        ],
        run: d08_period,
    },
    Scenario {
        rule: "D9",
        name: "d09_upload_deadline",
        commands: &[C::ClearCard, C::Issue, C::AckUpload, C::ReadEvent],
        run: d09_upload_deadline,
    },
    Scenario {
        rule: "D13",
        name: "d13_answered_state_survives_power_loss",
        commands: &[C::Issue, C::LastIssued, C::GetInfo, C::Login],
        run: d13_durable,
    },
];

// ---- wire ---------------------------------------------------------------------------------

fn wire_ping(x: &mut Ctx<'_>) -> Step {
    for nonce in [0u32, 1, 0xDEAD_BEEF, u32::MAX, rand::random()] {
        let got = x.c.ping(nonce)?;
        check!(got == nonce, "Ping({nonce}) answered {got}");
    }
    Ok(())
}

fn wire_errors(x: &mut Ctx<'_>) -> Step {
    let s = x.c.session();
    let h = x.raw(s, 0x7FFF, &[])?;
    check!(
        h.status == WireError::UnknownCommand.code(),
        "command 0x7FFF: expected UnknownCommand (0x0002), status 0x{:04X}",
        h.status
    );
    // A u32 varint may not run past 5 bytes.
    let h = x.raw(s, CommandId::Ping as u16, &[0xFF; 6])?;
    check!(
        h.status == WireError::Malformed.code(),
        "Ping with an overlong varint: expected Malformed (0x0001), status 0x{:04X}",
        h.status
    );
    // GetInfo's body is empty: a trailing byte is malformed.
    let h = x.raw(s, CommandId::GetInfo as u16, &[1])?;
    check!(
        h.status == WireError::Malformed.code(),
        "GetInfo with a trailing byte: expected Malformed (0x0001), status 0x{:04X}",
        h.status
    );
    // And a good frame still works after the bad ones.
    check!(x.c.ping(7)? == 7, "Ping after bad frames");
    Ok(())
}

// ---- D1 -----------------------------------------------------------------------------------

fn d01_factory(x: &mut Ctx<'_>) -> Step {
    let info = x.c.info()?;
    x.serial = Some(info.serial.clone());
    if info.state != DiskState::Factory {
        return Err(Stop::Skip(format!(
            "the disk is {} already: D1 needs a factory-state disk",
            info.state
        )));
    }
    x.factory = true;
    check!(
        info.taxpayer_id.is_none(),
        "a factory disk reports a taxpayer id"
    );
    check!(
        info.lock_time.is_none(),
        "a factory disk reports a lock time"
    );
    refused(
        x.c.login(&factory_pin()),
        WireError::NotProvisioned,
        "Login on a factory disk",
    )?;
    refused(
        x.c.public_key(),
        WireError::NotProvisioned,
        "GetPublicKey on a factory disk",
    )?;
    refused(
        x.c.status(InvoiceKind::Normal),
        WireError::NotProvisioned,
        "GetStatus on a factory disk",
    )?;
    Ok(())
}

fn d01_provision(x: &mut Ctx<'_>) -> Step {
    if !x.factory {
        return Err(Stop::Skip("needs a factory-state disk".into()));
    }
    let tokens = x.tokens()?;
    let serial = x.serial()?;
    let now = x.now()?;
    let taxpayer = TaxpayerId::new("91350100M000100Y43").map_err(|e| Stop::Fail(e.to_string()))?;
    let name = CompanyName::new("一致性测试有限公司").map_err(|e| Stop::Fail(e.to_string()))?;
    let body = ProvisionToken {
        serial: serial.clone(),
        taxpayer_id: taxpayer.clone(),
        company_name: name.clone(),
        machine: 0,
        kinds: AUTHORIZED.iter().map(|k| limits(*k)).collect(),
        lock_time: now.plus_secs(90 * 86_400),
        upload_deadline: now.plus_secs(90 * 86_400),
        issued_at: now,
    };
    let good = tokens.provision(body.clone())?;
    refused(
        x.c.provision(forge(&good)),
        WireError::BadSignature,
        "Provision with a forged token",
    )?;
    let mut other = body.clone();
    other.serial = x.other_serial()?;
    let other = tokens.provision(other)?;
    refused(
        x.c.provision(other),
        WireError::WrongDevice,
        "Provision with another disk's token",
    )?;
    check!(
        x.c.info()?.state == DiskState::Factory,
        "refused tokens changed the factory state"
    );
    let r = x.c.provision(good.clone())?;
    x.pk = Some(r.public_key);
    x.ours = true;
    x.taxpayer = Some(taxpayer.clone());
    let vk = sign::verifying_key(&r.public_key)
        .map_err(|e| Stop::Fail(format!("provisioned public key: {e}")))?;
    let proof = Signed {
        body: ProvisionProof {
            serial: serial.clone(),
            public_key: r.public_key,
        },
        signature: r.proof,
    };
    check!(
        proof.verify(&vk).is_ok(),
        "the proof of possession does not verify with the new key"
    );
    check!(
        x.c.public_key()? == r.public_key,
        "GetPublicKey differs from the provisioned key"
    );
    let info = x.c.info()?;
    check!(
        info.state == DiskState::Ready,
        "after provisioning the disk is {}",
        info.state
    );
    check!(
        info.taxpayer_id.as_ref() == Some(&taxpayer),
        "taxpayer id {:?}",
        info.taxpayer_id
    );
    check!(
        info.company_name.as_ref() == Some(&name),
        "company name {:?}",
        info.company_name
    );
    check!(info.machine == 0, "machine number {}", info.machine);
    check!(
        info.lock_time == Some(body.lock_time),
        "lock time {:?}",
        info.lock_time
    );
    // The same token again (its answer lost, the disk's power cut): the same key, nothing
    // changed. A token for another identity: refused.
    let again = x.c.provision(good)?;
    check!(
        again.public_key == r.public_key,
        "Provision sent again answered another key"
    );
    let mut moved = body.clone();
    moved.machine = 1;
    let moved = tokens.provision(moved)?;
    refused(
        x.c.provision(moved),
        WireError::AlreadyProvisioned,
        "Provision of a provisioned disk for another machine number",
    )?;
    Ok(())
}

// ---- D2, D14 ------------------------------------------------------------------------------

fn d02_pin(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let before = x.c.info()?.pin_tries_left;
    let d = refused(
        x.c.login(&pin("00000000")),
        WireError::WrongPin,
        "Login with a wrong PIN",
    )?;
    check!(
        d.saturating_add(1) == before as u32,
        "WrongPin detail {d}, tries before {before}"
    );
    check!(
        x.c.info()?.pin_tries_left as u32 == d,
        "GetInfo tries left differs from the detail {d}"
    );
    x.login()?;
    let info = x.c.info()?;
    check!(
        info.pin_tries_left == 10,
        "a right PIN leaves {} tries, not 10",
        info.pin_tries_left
    );
    check!(info.logged_in, "GetInfo says not logged in after Login");
    x.c.logout()?;
    refused(
        x.c.status(InvoiceKind::Normal),
        WireError::NotLoggedIn,
        "GetStatus after Logout",
    )?;
    x.login()?;
    refused(
        x.c.change_pin(&pin("00000000"), &pin("12345678")),
        WireError::WrongPin,
        "ChangePin with a wrong old PIN",
    )?;
    x.c.change_pin(&factory_pin(), &pin("12345678"))?;
    x.c.logout()?;
    refused(
        x.c.login(&factory_pin()),
        WireError::WrongPin,
        "Login with the old PIN after ChangePin",
    )?;
    x.c.login(&pin("12345678"))?;
    x.c.change_pin(&pin("12345678"), &factory_pin())?;
    x.login()
}

fn d02_block(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let tokens = x.tokens()?;
    x.c.logout()?;
    let start = x.c.info()?.pin_tries_left as u32;
    for left in (0..start).rev() {
        let d = refused(
            x.c.login(&pin("00000000")),
            WireError::WrongPin,
            "Login with a wrong PIN",
        )?;
        check!(d == left, "WrongPin detail {d}, expected {left} tries left");
    }
    refused(
        x.c.login(&factory_pin()),
        WireError::PinBlocked,
        "Login with the right PIN while blocked",
    )?;
    check!(
        x.c.info()?.state == DiskState::Blocked,
        "GetInfo state is not blocked"
    );
    x.seq.unblock += 1;
    let body = UnblockToken {
        serial: x.serial()?,
        seq: x.seq.unblock,
        new_pin: factory_pin(),
        issued_at: x.now()?,
    };
    let good = tokens.unblock(body.clone())?;
    refused(
        x.c.unblock(forge(&good)),
        WireError::BadSignature,
        "Unblock with a forged token",
    )?;
    let mut other = body;
    other.serial = x.other_serial()?;
    refused(
        x.c.unblock(tokens.unblock(other)?),
        WireError::WrongDevice,
        "Unblock with another disk's token",
    )?;
    x.c.unblock(good.clone())?;
    refused(
        x.c.unblock(good),
        WireError::Replayed,
        "Unblock token used twice",
    )?;
    x.login()?;
    let info = x.c.info()?;
    check!(
        info.state == DiskState::Ready && info.pin_tries_left == 10,
        "after unblock: {} with {} tries",
        info.state,
        info.pin_tries_left
    );
    Ok(())
}

fn d02_power(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.need_control()?;
    x.login()?;
    x.control(ControlRequest::PowerCycle)?;
    check!(
        !x.c.info()?.logged_in,
        "still logged in after a power cycle"
    );
    refused(
        x.c.status(InvoiceKind::Normal),
        WireError::NotLoggedIn,
        "GetStatus after a power cycle",
    )?;
    x.login()
}

fn d14_busy(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    let mine = x.c.session();
    let other = match mine ^ 0x5A5A_0F0F {
        0 => 0x5A5A_0F0E,
        o => o,
    };
    let r = d14_checks(x, other);
    // Whatever happened, the second session lets go and the first logs in again, so the
    // next scenarios are not stuck behind it.
    let _ = x.as_session(other, &Request::Logout(()));
    r?;
    x.login()
}

fn d14_checks(x: &mut Ctx<'_>, other: u32) -> Step {
    raw_refused(
        x.as_session(other, &Request::Login(factory_pin()))?,
        WireError::Busy,
        "Login of a second session",
    )?;
    raw_refused(
        x.as_session(other, &Request::GetStatus(InvoiceKind::Normal))?,
        WireError::Busy,
        "GetStatus of a second session",
    )?;
    match x.as_session(other, &Request::Ping(77))? {
        Ok(Response::Ping(77)) => {}
        r => return fail(format!("Ping of a second session: {r:?}")),
    }
    match x.as_session(other, &Request::GetInfo(()))? {
        Ok(Response::GetInfo(_)) => {}
        r => return fail(format!("GetInfo of a second session: {r:?}")),
    }
    x.c.logout()?;
    match x.as_session(other, &Request::Login(factory_pin()))? {
        Ok(Response::Login(())) => {}
        r => {
            return fail(format!(
                "Login of the second session after the first logged out: {r:?}"
            ));
        }
    }
    refused(
        x.c.status(InvoiceKind::Normal),
        WireError::Busy,
        "GetStatus of the first session while the second holds the disk",
    )?;
    refused(
        x.c.login(&factory_pin()),
        WireError::Busy,
        "Login of the first session while the second holds the disk",
    )?;
    Ok(())
}

// ---- D4 -----------------------------------------------------------------------------------

fn d04_grants(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let tokens = x.tokens()?;
    x.login()?;
    let before = x.c.status(InvoiceKind::Normal)?.blank_left;
    let code = x.code(InvoiceKind::Normal)?;
    let body = x.grant_body(InvoiceKind::Normal, code.clone(), 1, 50)?;
    let g = tokens.roll_grant(body.clone())?;
    refused(
        x.c.load_roll(forge(&g)),
        WireError::BadSignature,
        "LoadRolls with a forged grant",
    )?;
    let mut other = body.clone();
    other.serial = x.other_serial()?;
    refused(
        x.c.load_roll(tokens.roll_grant(other)?),
        WireError::WrongDevice,
        "LoadRolls with another disk's grant",
    )?;
    let roll = x.c.load_roll(g.clone())?;
    check!(
        roll.kind == InvoiceKind::Normal
            && roll.code == code
            && roll.first.get() == 1
            && roll.count == 50
            && roll.used == 0,
        "loaded roll {roll:?}"
    );
    refused(
        x.c.load_roll(g),
        WireError::Replayed,
        "the same grant twice",
    )?;
    let overlap = x.grant_body(InvoiceKind::Normal, code, 40, 20)?;
    refused(
        x.c.load_roll(tokens.roll_grant(overlap)?),
        WireError::RollOverlap,
        "a grant overlapping a loaded roll",
    )?;
    let bad_code = x.code(InvoiceKind::Normal)?;
    let bad = x.grant_body(InvoiceKind::Special, bad_code, 1, 10)?;
    refused(
        x.c.load_roll(tokens.roll_grant(bad)?),
        WireError::BadRollCode,
        "a special grant with a normal code",
    )?;
    let listed = x.c.list_rolls(Some(InvoiceKind::Normal))?;
    check!(
        listed.contains(&roll),
        "ListRolls does not list the loaded roll: {listed:?}"
    );
    let after = x.c.status(InvoiceKind::Normal)?.blank_left;
    check!(
        after == before.saturating_add(50),
        "blank numbers left {after}, expected {before} + 50"
    );
    for k in [InvoiceKind::Special, InvoiceKind::Electronic] {
        x.load_roll(k, 50)?;
    }
    Ok(())
}

// ---- D5 -----------------------------------------------------------------------------------

fn d05_issue(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 2)?;
    let (code, number) = x.next_number(InvoiceKind::Normal)?;
    let info = x.c.info()?;
    let d = x.draft(InvoiceKind::Normal, 123_456);
    let a = x.c.issue(d.clone())?;
    let t_after = x.now()?;
    let b = &a.body;
    x.verify(&a, "Issue")?;
    check!(
        Some(&b.serial) == x.serial.as_ref(),
        "invoice serial {}",
        b.serial
    );
    check!(
        b.code == code && b.number.get() == number,
        "invoice {} {} , expected {code} {number:08}",
        b.code,
        b.number
    );
    check!(
        b.counter == info.counter.saturating_add(1),
        "counter {} after {}",
        b.counter,
        info.counter
    );
    check!(
        b.time >= info.time && b.time <= t_after,
        "invoice time {} outside the disk clock {}..{}",
        b.time,
        info.time,
        t_after
    );
    check!(
        b.amount == d.amount
            && b.tax == d.tax
            && b.content_digest == d.content_digest
            && b.buyer == d.buyer
            && b.kind == d.kind,
        "the invoice does not carry the request's fields: {b:?}"
    );
    let a2 = x.issue(InvoiceKind::Normal, 1000)?;
    x.verify(&a2, "Issue")?;
    check!(
        a2.body.number.get() == number.saturating_add(1)
            && a2.body.counter == b.counter.saturating_add(1),
        "second invoice {} counter {}",
        a2.body.number,
        a2.body.counter
    );
    let r = InvoiceRef {
        kind: b.kind,
        code: b.code.clone(),
        number: b.number,
    };
    let view = x.c.read_invoice(&r)?;
    check!(
        view.invoice == a && !view.voided && !view.uploaded,
        "ReadInvoice: {view:?}"
    );
    let last = x.c.last_issued(Some(InvoiceKind::Normal))?;
    check!(
        last.as_ref().map(|v| &v.invoice) == Some(&a2),
        "LastIssued(normal): {last:?}"
    );
    let last = x.c.last_issued(None)?;
    check!(
        last.as_ref().map(|v| &v.invoice) == Some(&a2),
        "LastIssued(any): {last:?}"
    );
    Ok(())
}

fn d05_idempotent(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 2)?;
    let id = new_request_id();
    let d = x.draft(InvoiceKind::Normal, 50_000);
    let before = x.c.info()?.counter;
    let first = x.c.issue_with_id(id, d.clone())?;
    let again = x.c.issue_with_id(id, d.clone())?;
    check!(
        again == first,
        "a retry with the same request id answered another invoice: {:?} then {:?}",
        first.body,
        again.body
    );
    let after = x.c.info()?.counter;
    check!(
        after == before.saturating_add(1),
        "two sends with one request id moved the counter {before} -> {after}"
    );
    let mut changed = d;
    changed.amount = Fen(60_000);
    changed.tax = Fen(7_800);
    refused(
        x.c.issue_with_id(id, changed),
        WireError::RequestIdConflict,
        "the same request id for another invoice",
    )?;
    Ok(())
}

fn d05_refusals(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 1)?;
    let before = x.c.info()?.counter;
    let mut d = x.draft(InvoiceKind::Normal, 10_000);
    d.tax = Fen(-10_000);
    refused(x.c.issue(d), WireError::ZeroTotal, "amount plus tax zero")?;
    let limit = x.c.status(InvoiceKind::Normal)?.limits.single_limit;
    let d = x.draft(InvoiceKind::Normal, limit.0.saturating_add(1));
    refused(
        x.c.issue(d),
        WireError::OverSingleLimit,
        "amount over the single-invoice limit",
    )?;
    let d = x.draft(InvoiceKind::Roll, 10_000);
    refused(
        x.c.issue(d),
        WireError::KindNotAuthorized,
        "a kind not authorized",
    )?;
    check!(
        x.c.status(InvoiceKind::MotorVehicle)?.blank_left == 0,
        "motor-vehicle stock is not empty"
    );
    let d = x.draft(InvoiceKind::MotorVehicle, 10_000);
    refused(
        x.c.issue(d),
        WireError::NoBlankNumber,
        "an authorized kind without blank numbers",
    )?;
    let mut d = x.draft(InvoiceKind::Normal, -10_000);
    d.tax = Fen(-1_300);
    refused(
        x.c.issue(d),
        WireError::SignMismatch,
        "a negative blue invoice",
    )?;
    x.c.logout()?;
    let d = x.draft(InvoiceKind::Normal, 10_000);
    let r = refused(
        x.c.issue(d),
        WireError::NotLoggedIn,
        "Issue without a login",
    );
    x.login()?;
    r?;
    let after = x.c.info()?.counter;
    check!(
        after == before,
        "refused issues moved the counter {before} -> {after}"
    );
    Ok(())
}

// ---- D6, D7 -------------------------------------------------------------------------------

fn info_form(p: Period) -> Result<InfoFormNumber, Stop> {
    let mut s = format!("330100{:02}{:02}00001", p.year % 100, p.month);
    let check = taxdisk_protocol::validate::info_form_check_digit(s.as_bytes());
    s.push(check as char);
    InfoFormNumber::new(&s).map_err(|e| Stop::Fail(format!("info form number {s}: {e}")))
}

fn d06_red(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 6)?;
    x.ensure_blank(InvoiceKind::Special, 2)?;
    let o = x.issue(InvoiceKind::Normal, 100_000)?.body;
    let mut d = x.red_of(&o, 10_000);
    d.amount = Fen(10_000);
    d.tax = Fen(1_300);
    refused(
        x.c.issue(d),
        WireError::SignMismatch,
        "a red invoice with positive amounts",
    )?;
    let mut d = x.red_of(&o, 10_000);
    d.red = Some(RedRef::Original {
        code: o.code.clone(),
        number: InvoiceNumber::new(99_999_999).map_err(|e| Stop::Fail(e.to_string()))?,
    });
    refused(
        x.c.issue(d),
        WireError::OriginalNotFound,
        "a red invoice of an unknown original",
    )?;
    refused(
        x.c.issue(x.red_of(&o, 100_001)),
        WireError::ReversalNotAllowed,
        "a red invoice larger than its original",
    )?;
    let red = x.c.issue(x.red_of(&o, 40_000))?;
    x.verify(&red, "red Issue")?;
    check!(
        red.body.amount == Fen(-40_000) && red.body.red == x.red_of(&o, 1).red,
        "red invoice {:?}",
        red.body
    );
    refused(
        x.c.issue(x.red_of(&o, 60_001)),
        WireError::ReversalNotAllowed,
        "reds reversing more than the original in total",
    )?;
    let period =
        x.c.info()?
            .period
            .ok_or_else(|| Stop::Fail("GetInfo has no period".into()))?;
    let mut d = x.draft(InvoiceKind::Special, -20_000);
    d.red = Some(RedRef::InfoForm(info_form(period)?));
    let sred = x.c.issue(d)?;
    x.verify(&sred, "special red Issue")?;
    let mut d = x.draft(InvoiceKind::Special, -20_000);
    d.red = Some(RedRef::Original {
        code: o.code.clone(),
        number: o.number,
    });
    refused(
        x.c.issue(d),
        WireError::ReversalNotAllowed,
        "a special red naming an original instead of a form",
    )?;
    let v = x.issue(InvoiceKind::Normal, 30_000)?.body;
    x.c.void(&InvoiceRef {
        kind: v.kind,
        code: v.code.clone(),
        number: v.number,
    })?;
    refused(
        x.c.issue(x.red_of(&v, 30_000)),
        WireError::OriginalVoided,
        "a red invoice of a voided original",
    )?;
    Ok(())
}

fn d07_void(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 6)?;
    x.ensure_blank(InvoiceKind::Electronic, 1)?;
    let inv = x.issue(InvoiceKind::Normal, 20_000)?.body;
    let r = InvoiceRef {
        kind: inv.kind,
        code: inv.code.clone(),
        number: inv.number,
    };
    let v = x.c.void(&r)?;
    x.verify(&v, "Void")?;
    check!(
        v.body.code == inv.code
            && v.body.number == inv.number
            && v.body.invoice_counter == inv.counter
            && v.body.counter == inv.counter.saturating_add(1),
        "void event {:?}",
        v.body
    );
    check!(
        x.c.read_invoice(&r)?.voided,
        "ReadInvoice does not show the void"
    );
    refused(x.c.void(&r), WireError::AlreadyVoided, "voiding twice")?;
    let unknown = InvoiceRef {
        kind: inv.kind,
        code: inv.code.clone(),
        number: InvoiceNumber::new(99_999_998).map_err(|e| Stop::Fail(e.to_string()))?,
    };
    refused(
        x.c.void(&unknown),
        WireError::InvoiceNotFound,
        "voiding an unknown invoice",
    )?;
    let e = x.issue(InvoiceKind::Electronic, 20_000)?.body;
    refused(
        x.c.void(&InvoiceRef {
            kind: e.kind,
            code: e.code.clone(),
            number: e.number,
        }),
        WireError::VoidNotAllowed,
        "voiding an electronic invoice",
    )?;
    let (code, next) = x.next_number(InvoiceKind::Normal)?;
    let bv = x.c.void_blank(InvoiceKind::Normal, 2)?;
    x.verify(&bv, "VoidBlank")?;
    check!(
        bv.body.code == code && bv.body.first.get() == next && bv.body.count == 2,
        "blank void {:?}, expected {code} from {next:08}",
        bv.body
    );
    refused(
        x.c.void_blank(InvoiceKind::Normal, 0),
        WireError::BadArgument,
        "a blank void of 0 numbers",
    )?;
    x.ensure_blank(InvoiceKind::Normal, 1)?;
    let after = x.issue(InvoiceKind::Normal, 20_000)?.body;
    check!(
        after.code != code || after.number.get() == next.saturating_add(2),
        "the next invoice is {} {}, expected number {:08} after the blank void",
        after.code,
        after.number,
        next + 2
    );
    Ok(())
}

// ---- D3 -----------------------------------------------------------------------------------

fn d03_clock(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let tokens = x.tokens()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 2)?;
    let inv = x.issue(InvoiceKind::Normal, 10_000)?.body;
    let t0 = x.now()?;
    let wall = Instant::now();
    if x.control.is_some() {
        x.advance(60)?;
        let t1 = x.now()?;
        check!(
            t1.0 >= t0.0.saturating_add(60),
            "the clock read {t0} then {t1} after 60 s"
        );
    } else {
        let t1 = x.now()?;
        check!(t1 >= t0, "the clock went back from {t0} to {t1}");
    }
    let serial = x.serial()?;
    let body = |x: &mut Ctx<'_>, time: Timestamp| -> ClockToken {
        x.seq.clock += 1;
        ClockToken {
            serial: serial.clone(),
            seq: x.seq.clock,
            time,
            issued_at: t0,
        }
    };
    let back = Timestamp(inv.time.0.saturating_sub(3600));
    let b = body(x, back);
    let good = tokens.clock(b.clone())?;
    refused(
        x.c.set_clock(forge(&good)),
        WireError::BadSignature,
        "SetClock with a forged token",
    )?;
    let mut other = b;
    other.serial = x.other_serial()?;
    refused(
        x.c.set_clock(tokens.clock(other)?),
        WireError::WrongDevice,
        "SetClock with another disk's token",
    )?;
    x.c.set_clock(good.clone())?;
    let now = x.now()?;
    check!(
        now.0 >= back.0 && now.0 <= back.0.saturating_add(60),
        "after a clock token to {back} the disk reads {now}"
    );
    let d = x.draft(InvoiceKind::Normal, 10_000);
    let r1 = refused(
        x.c.issue(d),
        WireError::ClockError,
        "Issue with the clock before the newest invoice",
    );
    let r2 = refused(
        x.c.void(&InvoiceRef {
            kind: inv.kind,
            code: inv.code.clone(),
            number: inv.number,
        }),
        WireError::ClockError,
        "Void with the clock before the newest invoice",
    );
    let r3 = refused(
        x.c.set_clock(good),
        WireError::Replayed,
        "a clock token twice",
    );
    let forward = t0.plus_secs(60 + wall.elapsed().as_secs() + 1);
    let f = body(x, forward);
    x.c.set_clock(tokens.clock(f)?)?;
    r1?;
    r2?;
    r3?;
    x.issue(InvoiceKind::Normal, 10_000)?;
    Ok(())
}

// ---- D12 ----------------------------------------------------------------------------------

fn d12_upload(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.login()?;
    let counter = x.c.info()?.counter;
    check!(counter > x.acked, "nothing to upload (counter {counter})");
    check!(
        counter <= MAX_SUITE_EVENTS,
        "the disk reports counter {counter}; this run made far fewer events"
    );
    let pending = x.c.list_pending()?;
    let counters: Vec<u64> = pending.iter().map(JournalEvent::counter).collect();
    let want: Vec<u64> = (x.acked + 1..=counter).collect();
    check!(
        counters == want,
        "pending counters {counters:?}, expected {want:?}"
    );
    for e in &pending {
        match e {
            JournalEvent::Invoice(s) => x.verify(s, "pending invoice")?,
            JournalEvent::Void(s) => x.verify(s, "pending void")?,
            JournalEvent::BlankVoid(s) => x.verify(s, "pending blank void")?,
        }
        let v = x.c.read_event(e.counter())?;
        check!(
            &v.event == e && !v.uploaded,
            "ReadEvent({}) differs from ListPending: {v:?}",
            e.counter()
        );
    }
    let r = x.receipt(counter.saturating_add(1))?;
    refused(
        x.c.ack_upload(r),
        WireError::UnknownEvents,
        "a receipt beyond the newest event",
    )?;
    let r = x.receipt(counter)?;
    refused(
        x.c.ack_upload(forge(&r)),
        WireError::BadSignature,
        "a forged receipt",
    )?;
    let n = x.c.ack_upload(r.clone())?;
    check!(
        n as u64 == counter - x.acked,
        "AckUpload marked {n}, expected {}",
        counter - x.acked
    );
    x.acked = counter;
    check!(
        x.c.list_pending()?.is_empty(),
        "events still pending after the receipt"
    );
    for k in AUTHORIZED {
        let s = x.c.status(k)?;
        check!(
            s.pending_count == 0 && s.oldest_pending.is_none() && s.pending_amount == Fen(0),
            "{k} status after upload: {s:?}"
        );
    }
    check!(
        x.c.read_event(counter)?.uploaded,
        "ReadEvent does not show the upload"
    );
    check!(
        x.c.ack_upload(r)? == 0,
        "a repeated receipt marked events again"
    );
    Ok(())
}

// ---- D9 -----------------------------------------------------------------------------------

fn set_limits(x: &mut Ctx<'_>, l: KindLimits) -> Step {
    let t = x.update(&[UpdateChange::Limits(l)])?;
    x.c.apply_update(t)?;
    Ok(())
}

fn d09_amount(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 6)?;
    x.ack_all()?;
    let k = InvoiceKind::Normal;
    set_limits(
        x,
        KindLimits {
            offline_amount: Fen(150_000),
            ..limits(k)
        },
    )?;
    let r = (|| -> Step {
        x.issue(k, 100_000)?;
        let s = x.c.status(k)?;
        check!(
            s.pending_amount == Fen(100_000) && s.pending_count == 1,
            "status after one offline invoice: {s:?}"
        );
        let d = x.draft(k, 60_000);
        refused(
            x.c.issue(d),
            WireError::OfflineAmountExceeded,
            "past the offline amount",
        )?;
        x.ack_all()?;
        x.issue(k, 60_000)?;
        x.ack_all()?;
        set_limits(
            x,
            KindLimits {
                offline_hours: 0,
                offline_amount: Fen(0),
                ..limits(k)
            },
        )?;
        x.issue(k, 10_000)?;
        let d = x.draft(k, 10_000);
        match x.c.issue(d) {
            Err(DiskError::Refused {
                error: WireError::OfflineHoursExceeded | WireError::OfflineAmountExceeded,
                ..
            }) => {}
            other => {
                return fail(format!(
                    "limits of 0 with one invoice offline: expected an offline refusal, got {other:?}"
                ));
            }
        }
        x.ack_all()?;
        x.issue(k, 10_000)?;
        Ok(())
    })();
    set_limits(x, limits(k))?;
    x.ack_all()?;
    r
}

fn d09_hours(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.need_control()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 3)?;
    x.ack_all()?;
    let k = InvoiceKind::Normal;
    set_limits(
        x,
        KindLimits {
            offline_hours: 1,
            ..limits(k)
        },
    )?;
    let r = (|| -> Step {
        x.issue(k, 10_000)?;
        // Past the hour, not on it: "past" the limit is what RULES.md D9 refuses.
        x.advance(3600 + 60)?;
        let d = x.draft(k, 10_000);
        refused(
            x.c.issue(d),
            WireError::OfflineHoursExceeded,
            "an invoice offline for the limit's hours",
        )?;
        x.ack_all()?;
        x.issue(k, 10_000)?;
        Ok(())
    })();
    set_limits(x, limits(k))?;
    x.ack_all()?;
    r
}

// ---- D10 ----------------------------------------------------------------------------------

fn d10_update(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let tokens = x.tokens()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 1)?;
    let old =
        x.c.info()?
            .company_name
            .ok_or_else(|| Stop::Fail("no company name".into()))?;
    let new = CompanyName::new("变更后测试有限公司").map_err(|e| Stop::Fail(e.to_string()))?;
    let t = x.update(&[UpdateChange::CompanyName(new.clone())])?;
    refused(
        x.c.apply_update(forge(&t)),
        WireError::BadSignature,
        "a forged update token",
    )?;
    let mut other = t.body.clone();
    other.serial = x.other_serial()?;
    other.seq += 1000;
    refused(
        x.c.apply_update(tokens.update(other)?),
        WireError::WrongDevice,
        "another disk's update token",
    )?;
    x.c.apply_update(t.clone())?;
    check!(
        x.c.info()?.company_name.as_ref() == Some(&new),
        "the company name did not change"
    );
    refused(
        x.c.apply_update(t),
        WireError::Replayed,
        "an update token twice",
    )?;
    let t = x.update(&[
        UpdateChange::Authorize(InvoiceKind::Normal, false),
        UpdateChange::CompanyName(old),
    ])?;
    x.c.apply_update(t)?;
    let r = (|| -> Step {
        check!(
            !x.c.status(InvoiceKind::Normal)?.authorized,
            "the kind is still authorized"
        );
        let d = x.draft(InvoiceKind::Normal, 10_000);
        refused(
            x.c.issue(d),
            WireError::KindNotAuthorized,
            "a kind withdrawn by an update",
        )
        .map(|_| ())
    })();
    let t = x.update(&[UpdateChange::Authorize(InvoiceKind::Normal, true)])?;
    x.c.apply_update(t)?;
    r?;
    x.issue(InvoiceKind::Normal, 10_000)?;
    Ok(())
}

// ---- D11 ----------------------------------------------------------------------------------

fn d11_oil(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let tokens = x.tokens()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 4)?;
    let stock = OilStockEntry {
        category: 1,
        unit: OilUnit::Litre,
        milli_quantity: 10_000_000,
    };
    x.seq.oil += 1;
    let g = tokens.oil_grant(OilGrant {
        serial: x.serial()?,
        seq: x.seq.oil,
        stock,
        issued_at: x.now()?,
    })?;
    refused(
        x.c.load_oil_stock(forge(&g)),
        WireError::BadSignature,
        "a forged oil grant",
    )?;
    let e = x.c.load_oil_stock(g.clone())?;
    check!(e == stock, "LoadOilStock answered {e:?}");
    refused(
        x.c.load_oil_stock(g),
        WireError::Replayed,
        "an oil grant twice",
    )?;
    check!(
        x.c.oil_stock()?.contains(&stock),
        "OilStock does not list the grant"
    );
    let oil = |q| {
        Some(OilUse {
            category: 1,
            milli_quantity: q,
        })
    };
    let mut d = x.draft(InvoiceKind::Normal, 10_000);
    d.oil = oil(1_000_000);
    refused(
        x.c.issue(d.clone()),
        WireError::OilNotAuthorized,
        "an oil invoice without oil authorization",
    )?;
    let t = x.update(&[UpdateChange::Oil(OilRole::Dealer, None)])?;
    x.c.apply_update(t)?;
    let mut big = x.draft(InvoiceKind::Normal, 10_000);
    big.oil = oil(10_000_001);
    refused(
        x.c.issue(big),
        WireError::OilStockShort,
        "an oil invoice over the stock",
    )?;
    let inv = x.c.issue(d)?;
    let left = |x: &mut Ctx<'_>| -> Result<i64, Stop> {
        Ok(x.c
            .oil_stock()?
            .iter()
            .find(|e| e.category == 1)
            .map_or(0, |e| e.milli_quantity))
    };
    check!(
        left(x)? == 9_000_000,
        "stock after an oil invoice of 1,000 L: {}",
        left(x)?
    );
    let mut red = x.red_of(&inv.body, 10_000);
    red.oil = oil(1_000_000);
    x.c.issue(red)?;
    check!(
        left(x)? == 10_000_000,
        "stock after its red invoice: {}",
        left(x)?
    );
    let ret = OilStockEntry {
        milli_quantity: 2_000_000,
        ..stock
    };
    let rc = x.c.return_oil_stock(ret)?;
    x.verify(&rc, "ReturnOilStock")?;
    check!(
        rc.body.stock == ret && Some(&rc.body.serial) == x.serial.as_ref(),
        "oil return receipt {:?}",
        rc.body
    );
    check!(
        left(x)? == 8_000_000,
        "stock after returning 2,000 L: {}",
        left(x)?
    );
    refused(
        x.c.return_oil_stock(OilStockEntry {
            milli_quantity: 8_000_001,
            ..stock
        }),
        WireError::OilStockShort,
        "returning more oil than held",
    )?;
    Ok(())
}

// ---- D4 return ----------------------------------------------------------------------------

fn d04_return(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 1)?;
    let old =
        x.c.list_rolls(Some(InvoiceKind::Normal))?
            .into_iter()
            .find(|r| r.left() > 0)
            .ok_or_else(|| Stop::Fail("no normal roll to return".into()))?;
    let fresh = x.load_roll(InvoiceKind::Normal, 50)?;
    let rc = x.c.return_roll(old.kind, &old.code, old.first)?;
    x.verify(&rc, "ReturnRoll")?;
    let b = &rc.body;
    check!(
        b.kind == old.kind
            && b.code == old.code
            && b.first.get() == old.first.get().saturating_add(old.used)
            && b.count == old.left(),
        "return receipt {b:?} for roll {old:?}"
    );
    let rolls = x.c.list_rolls(Some(InvoiceKind::Normal))?;
    check!(
        !rolls.iter().any(|r| r.code == old.code && r.left() > 0),
        "the returned roll still has numbers: {rolls:?}"
    );
    refused(
        x.c.return_roll(old.kind, &old.code, old.first),
        WireError::RollNotFound,
        "returning a roll twice",
    )?;
    let inv = x.issue(InvoiceKind::Normal, 10_000)?.body;
    check!(
        inv.code == fresh.code && inv.number == fresh.first,
        "after the return the invoice is {} {}",
        inv.code,
        inv.number
    );
    Ok(())
}

// ---- D8 -----------------------------------------------------------------------------------

fn neg(f: Fen) -> Fen {
    Fen(f.0.saturating_neg())
}

/// The summary the disk should sign for `period`, from its events read back.
fn oracle(events: &[EventView], period: Period) -> (BTreeMap<InvoiceKind, KindSummary>, u64, u64) {
    let mut kinds: BTreeMap<InvoiceKind, KindSummary> = BTreeMap::new();
    let invoices: BTreeMap<u64, &IssuedInvoice> = events
        .iter()
        .filter_map(|e| match &e.event {
            JournalEvent::Invoice(s) => Some((s.body.counter, &s.body)),
            _ => None,
        })
        .collect();
    let (mut first, mut last) = (0, 0);
    for e in events.iter().filter(|e| period.contains(e.event.time())) {
        let c = e.event.counter();
        if first == 0 {
            first = c;
        }
        last = c;
        let s = kinds.entry(e.event.kind()).or_default();
        match &e.event {
            JournalEvent::Invoice(i) => {
                let b = &i.body;
                if b.is_red() {
                    s.negative_count = s.negative_count.saturating_add(1);
                    s.negative_amount = s.negative_amount.saturating_add(b.amount);
                    s.negative_tax = s.negative_tax.saturating_add(b.tax);
                } else {
                    s.positive_count = s.positive_count.saturating_add(1);
                    s.positive_amount = s.positive_amount.saturating_add(b.amount);
                    s.positive_tax = s.positive_tax.saturating_add(b.tax);
                }
            }
            JournalEvent::Void(v) => {
                s.void_count = s.void_count.saturating_add(1);
                if let Some(b) = invoices.get(&v.body.invoice_counter) {
                    let s = kinds.entry(b.kind).or_default();
                    if b.is_red() {
                        s.negative_amount = s.negative_amount.saturating_add(neg(b.amount));
                        s.negative_tax = s.negative_tax.saturating_add(neg(b.tax));
                    } else {
                        s.positive_amount = s.positive_amount.saturating_add(neg(b.amount));
                        s.positive_tax = s.positive_tax.saturating_add(neg(b.tax));
                    }
                }
            }
            JournalEvent::BlankVoid(b) => {
                s.blank_void_count = s.blank_void_count.saturating_add(b.body.count)
            }
        }
    }
    (kinds, first, last)
}

fn clear_token(
    x: &mut Ctx<'_>,
    period: Period,
    lock: Timestamp,
    deadline: Timestamp,
) -> Result<Signed<ClearCardToken>, Stop> {
    x.seq.clear += 1;
    let body = ClearCardToken {
        serial: x.serial()?,
        seq: x.seq.clear,
        period,
        next_lock_time: lock,
        upload_deadline: deadline,
        limits: Default::default(),
        issued_at: x.now()?,
    };
    Ok(x.tokens()?.clear_card(body)?)
}

/// The bureau's receipt of `period`'s summary for `serial` (D4, FAQ 4.21(4)).
fn report_receipt(
    x: &mut Ctx<'_>,
    period: Period,
    serial: DeviceSerial,
) -> Result<Signed<ReportReceipt>, Stop> {
    let body = ReportReceipt {
        serial,
        period,
        issued_at: x.now()?,
    };
    Ok(x.tokens()?.report_receipt(body)?)
}

fn d08_period(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.need_control()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 6)?;
    // Nothing older than `kept` stays pending: the moves below are bounded by
    // LONGEST_OFFLINE_SECS from here, inside the provisioned offline hours (D9).
    x.ack_all()?;
    let info = x.c.info()?;
    let p = info
        .period
        .ok_or_else(|| Stop::Fail("GetInfo has no period".into()))?;
    let kept = x.issue(InvoiceKind::Normal, 10_000)?.body;
    let kept_ref = InvoiceRef {
        kind: kept.kind,
        code: kept.code.clone(),
        number: kept.number,
    };
    refused(
        x.c.copy_tax(p),
        WireError::PeriodNotFinished,
        "CopyTax of the running period",
    )?;
    let now = x.now()?;
    let t = clear_token(x, p, now.plus_secs(86_400), now.plus_secs(86_400))?;
    refused(
        x.c.clear_card(t),
        WireError::NotCopied,
        "ClearCard of a period not copied",
    )?;
    // Into the next month, day 3 at 10:00.
    let target = next_month_day3(p);
    let now = x.now()?;
    check!(
        target.0.saturating_sub(kept.time.0) + (86_400 + 60) + 120 <= LONGEST_OFFLINE_SECS,
        "the suite's clock moves from {} to {target} would cross its own offline limit",
        kept.time
    );
    x.control(ControlRequest::Advance(target.0.saturating_sub(now.0)))?;
    let info = x.c.info()?;
    check!(
        info.period == Some(p.next()),
        "after moving the clock the disk is in period {:?}",
        info.period
    );
    let d = x.draft(InvoiceKind::Normal, 10_000);
    refused(
        x.c.issue(d),
        WireError::PeriodNotReported,
        "Issue in a new month before the report",
    )?;
    let roll =
        x.c.list_rolls(Some(InvoiceKind::Normal))?
            .into_iter()
            .find(|r| r.left() > 0)
            .ok_or_else(|| Stop::Fail("no normal roll".into()))?;
    refused(
        x.c.return_roll(roll.kind, &roll.code, roll.first),
        WireError::ReturnBeforeReport,
        "ReturnRoll in a new month before the report",
    )?;
    refused(
        x.c.copy_tax(p.next()),
        WireError::PeriodNotFinished,
        "CopyTax of the new running period",
    )?;
    let s = x.c.copy_tax(p)?;
    x.verify(&s, "CopyTax")?;
    let b = &s.body;
    check!(
        Some(&b.serial) == x.serial.as_ref()
            && b.period == p
            && Some(&b.taxpayer_id) == x.taxpayer.as_ref(),
        "summary header {:?} {} {}",
        b.serial,
        b.period,
        b.taxpayer_id
    );
    let events = x.all_events()?;
    let (want, first, last) = oracle(&events, p);
    let got: BTreeMap<InvoiceKind, KindSummary> = b.kinds.iter().cloned().collect();
    check!(
        got == want,
        "summary totals {got:?}, the journal gives {want:?}"
    );
    check!(
        b.first_counter == first && b.last_counter == last,
        "summary counters {}..{}, the journal gives {first}..{last}",
        b.first_counter,
        b.last_counter
    );
    check!(
        x.c.copy_tax(p)? == s,
        "a repeated CopyTax answered another summary"
    );
    check!(
        x.c.info()?.last_copied == Some(p),
        "GetInfo last_copied is not {p}"
    );
    // D4 (FAQ 4.21(4)): copied is not reported; the return waits for the bureau's receipt.
    refused(
        x.c.return_roll(roll.kind, &roll.code, roll.first),
        WireError::ReturnBeforeReport,
        "ReturnRoll after CopyTax, before the report receipt",
    )?;
    let serial = x.serial()?;
    let receipt = report_receipt(x, p, serial)?;
    refused(
        x.c.apply_report_receipt(forge(&receipt)),
        WireError::BadSignature,
        "a forged report receipt",
    )?;
    let other = x.other_serial()?;
    let foreign = report_receipt(x, p, other)?;
    refused(
        x.c.apply_report_receipt(foreign),
        WireError::WrongDevice,
        "a report receipt for another disk",
    )?;
    refused(
        x.c.return_roll(roll.kind, &roll.code, roll.first),
        WireError::ReturnBeforeReport,
        "ReturnRoll after refused report receipts",
    )?;
    x.c.apply_report_receipt(receipt.clone())?;
    check!(
        x.c.info()?.last_reported == Some(p),
        "after ApplyReportReceipt GetInfo last_reported is not {p}"
    );
    refused(
        x.c.apply_report_receipt(receipt),
        WireError::Replayed,
        "a report receipt twice",
    )?;
    let spare = x.load_roll(InvoiceKind::Normal, 3)?;
    let rc = x.c.return_roll(spare.kind, &spare.code, spare.first)?;
    x.verify(&rc, "ReturnRoll")?;
    check!(
        rc.body.count == 3,
        "ReturnRoll after the report receipt returned {} numbers, not 3",
        rc.body.count
    );
    refused(
        x.c.void(&kept_ref),
        WireError::AlreadyReported,
        "voiding an invoice of a reported period",
    )?;
    x.issue(InvoiceKind::Normal, 10_000)?;
    let now = x.now()?;
    let lock = now.plus_secs(86_400);
    let t = clear_token(x, p, lock, now.plus_secs(20 * 86_400))?;
    x.c.clear_card(t.clone())?;
    let info = x.c.info()?;
    check!(
        info.last_cleared == Some(p) && info.lock_time == Some(lock),
        "after ClearCard: cleared {:?}, lock {:?}",
        info.last_cleared,
        info.lock_time
    );
    refused(
        x.c.clear_card(t),
        WireError::Replayed,
        "a clear-card token twice",
    )?;
    // Past the lock time.
    let fresh = x.issue(InvoiceKind::Normal, 10_000)?.body;
    x.advance(86_400 + 60)?;
    let r = (|| -> Step {
        check!(
            x.c.info()?.state == DiskState::Locked,
            "past the lock time the disk is not locked"
        );
        let d = x.draft(InvoiceKind::Normal, 10_000);
        refused(x.c.issue(d), WireError::Locked, "Issue when locked")?;
        refused(
            x.c.void(&InvoiceRef {
                kind: fresh.kind,
                code: fresh.code.clone(),
                number: fresh.number,
            }),
            WireError::Locked,
            "Void when locked",
        )?;
        refused(
            x.c.void_blank(InvoiceKind::Normal, 1),
            WireError::Locked,
            "VoidBlank when locked",
        )?;
        refused(
            x.c.return_roll(roll.kind, &roll.code, roll.first),
            WireError::Locked,
            "ReturnRoll when locked",
        )?;
        Ok(())
    })();
    let now = x.now()?;
    let t = clear_token(x, p, now.plus_secs(60 * 86_400), now.plus_secs(60 * 86_400))?;
    x.c.clear_card(t)?;
    r?;
    check!(
        x.c.info()?.state == DiskState::Ready,
        "a repeated clear card did not unlock the disk"
    );
    x.issue(InvoiceKind::Normal, 10_000)?;
    Ok(())
}

/// D9: invoices of the last period still not uploaded after the upload deadline refuse
/// issuing until they are uploaded. Runs after D8, in a month after the provisioning one.
fn d09_upload_deadline(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.need_control()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 2)?;
    let info = x.c.info()?;
    let (Some(cur), Some(copied)) = (info.period, info.last_copied) else {
        return Err(Stop::Skip("needs a copied period (the D8 scenario)".into()));
    };
    check!(
        copied < cur,
        "the last copied period {copied} is not before {cur}"
    );
    // An invoice of the copied period that is not uploaded yet: read one back.
    let events = x.all_events()?;
    let old_pending = events
        .iter()
        .any(|e| !e.uploaded && e.event.time().period() <= copied);
    if !old_pending {
        return Err(Stop::Skip(
            "needs an invoice of the last period not uploaded (the D8 scenario leaves one)".into(),
        ));
    }
    let now = x.now()?;
    let lock = now.plus_secs(60 * 86_400);
    let t = clear_token(x, copied, lock, now.plus_secs(60))?;
    x.c.clear_card(t)?;
    x.advance(120)?;
    let d = x.draft(InvoiceKind::Normal, 10_000);
    let r = refused(
        x.c.issue(d),
        WireError::UploadDeadlinePassed,
        "Issue with last period's invoices not uploaded after the deadline",
    );
    x.ack_all()?;
    let now = x.now()?;
    let t = clear_token(x, copied, lock, now.plus_secs(60 * 86_400))?;
    x.c.clear_card(t)?;
    r?;
    x.issue(InvoiceKind::Normal, 10_000)?;
    Ok(())
}

// ---- D13 ----------------------------------------------------------------------------------

fn d13_durable(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.need_control()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 3)?;
    let inv = x.issue(InvoiceKind::Normal, 10_000)?;
    x.control(ControlRequest::PowerCycle)?;
    x.login()?;
    let last = x.c.last_issued(None)?;
    check!(
        last.as_ref().map(|v| &v.invoice) == Some(&inv),
        "after a power cycle the newest invoice is {last:?}"
    );
    let before = x.c.info()?.counter;
    check!(
        before == inv.body.counter,
        "after a power cycle the counter is {before}, expected {}",
        inv.body.counter
    );
    // Cut the power at the next flash write, in the middle of an Issue.
    let id = new_request_id();
    let d = x.draft(InvoiceKind::Normal, 10_000);
    x.control(ControlRequest::PowerCutAfter(1))?;
    let cut = x.c.issue_with_id(id, d.clone());
    x.control(ControlRequest::ClearFaults)?;
    if let Err(e) = &cut
        && !e.outcome_unknown()
        && e.wire_error() != Some(WireError::NotLoggedIn)
    {
        return fail(format!("Issue cut by a power loss answered {e}"));
    }
    x.login()?;
    let mid = x.c.info()?.counter;
    check!(
        mid == before || mid == before.saturating_add(1),
        "after a cut issue the counter is {mid} (was {before})"
    );
    let again = x.c.issue_with_id(id, d)?;
    x.verify(&again, "Issue after a power cut")?;
    let after = x.c.info()?.counter;
    check!(
        after == before.saturating_add(1) && again.body.counter == after,
        "the cut issue and its retry made counter {before} -> {after}"
    );
    if let Ok(first) = cut {
        check!(
            first == again,
            "the retry after the cut answered another invoice"
        );
    }
    let last = x.c.last_issued(None)?;
    check!(
        last.as_ref().map(|v| &v.invoice) == Some(&again),
        "LastIssued after the retry: {last:?}"
    );
    Ok(())
}
