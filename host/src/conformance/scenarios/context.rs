//! The context the scenarios share: the disk client, the token source, the control channel
//! and what the run learned (serial, public key, token sequence numbers, the rolls it loaded),
//! with the checks and helpers every scenario uses.

use crate::conformance::findings as f;
use crate::conformance::frames::FrameLog;
use crate::control::{Control, ControlError};
use crate::disk::{DiskClient, DiskError, new_request_id};
use crate::tokens::{TokenError, TokenSource};
use crate::transport::{Transport, TransportError};
use std::time::Instant;
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::frame::{
    FrameType, Header, MAX_ENCODED, decode_response, encode_raw, encode_request,
};
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Period, Refusal, Request, Response, Timestamp, WireError, sign};

/// How a scenario stopped early.
#[derive(Debug)]
pub enum Stop {
    /// A check failed.
    Fail(String),
    /// The disk or the link answered an error where the scenario needed an answer: the
    /// error's English text, and the same error rendered in the process's language when it
    /// was met (the table shows that; JUnit keeps the English).
    Error {
        /// The error's `Display`.
        text: String,
        /// The error through the catalogue ([`crate::l10n::Localize`]).
        local: String,
    },
    /// The scenario cannot run here.
    Skip(String),
}

impl From<DiskError> for Stop {
    fn from(e: DiskError) -> Stop {
        use crate::l10n::Localize;
        Stop::Error {
            text: e.to_string(),
            local: e.localized(),
        }
    }
}

impl From<TokenError> for Stop {
    fn from(e: TokenError) -> Stop {
        use crate::l10n::Localize;
        Stop::Error {
            text: format!("token source: {e}"),
            local: taxdisk_i18n::tr("suite-fail-tokens", &[("a", e.localized())]),
        }
    }
}

impl From<ControlError> for Stop {
    fn from(e: ControlError) -> Stop {
        Stop::Error {
            text: format!("control channel: {e}"),
            local: taxdisk_i18n::tr(
                "suite-fail-control",
                &[("a", crate::l10n::control_error(&e))],
            ),
        }
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

pub(super) use check;

pub(super) fn fail<T>(msg: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::Fail(msg.into()))
}

/// The PIN a factory disk ships with (D2).
pub(super) fn factory_pin() -> Pin {
    // Pin::FACTORY is eight digits, a valid PIN (invariant of the protocol crate).
    Pin::new(Pin::FACTORY).unwrap_or_else(|_| unreachable!("the factory PIN is valid"))
}

pub(super) fn pin(s: &'static str) -> Pin {
    // Only called with literals of 6-16 printable ASCII characters.
    Pin::new(s).unwrap_or_else(|_| unreachable!("literal PIN {s} is valid"))
}

/// Kinds the suite provisions (authorized); Roll and UsedCar stay unauthorized (D5 refusal),
/// MotorVehicle gets no roll (NoBlankNumber).
pub(super) const AUTHORIZED: [InvoiceKind; 4] = [
    InvoiceKind::Special,
    InvoiceKind::Normal,
    InvoiceKind::MotorVehicle,
    InvoiceKind::Electronic,
];

/// More journal events than one run of the suite makes: a disk reporting a larger counter is
/// wrong, and the suite does not read that many back.
pub(super) const MAX_SUITE_EVENTS: u64 = 10_000;

/// Single-invoice limit the suite provisions: 1,000,000 yuan.
const SINGLE_LIMIT: Fen = Fen(100_000_000);

/// The longest time the suite keeps an invoice not uploaded while it still expects to issue:
/// D8 acknowledges everything, issues the invoice D9's deadline scenario needs, then moves
/// from wherever the run's clock stands in a month to the 3rd of the next month at 10:00
/// ([`next_month_day3`]: at most 31 days + 2 days 10 hours later), then past a one-day lock
/// time (one day and a minute), and D9's deadline scenario adds two minutes. Any start date
/// gives a move no longer than this.
pub(super) const LONGEST_OFFLINE_SECS: u64 = (31 + 2) * 86_400 + 10 * 3600 + (86_400 + 60) + 120;

/// Offline hours the suite provisions (D9): above [`LONGEST_OFFLINE_SECS`] by a day, so that
/// no scenario but D9's own crosses it, whatever date the run starts on. D9's scenarios set
/// their own small limits to cross.
const SUITE_OFFLINE_HOURS: u32 = (LONGEST_OFFLINE_SECS / 3600) as u32 + 24;

const _: () = assert!(SUITE_OFFLINE_HOURS as u64 * 3600 > LONGEST_OFFLINE_SECS + 3600);

pub(super) fn limits(kind: InvoiceKind) -> KindLimits {
    KindLimits {
        kind,
        single_limit: SINGLE_LIMIT,
        offline_hours: SUITE_OFFLINE_HOURS,
        offline_amount: Fen(100_000_000_000),
    }
}

/// The 3rd of the month after `p`, 10:00 China time: the day D8 moves the clock to (a new
/// month begun, its report not yet made).
pub(super) fn next_month_day3(p: Period) -> Timestamp {
    p.next().start().plus_secs(2 * 86_400 + 10 * 3600)
}

/// Token sequence numbers used so far, per token type.
#[derive(Debug, Default)]
pub(super) struct Seqs {
    roll: u32,
    pub(super) clear: u32,
    update: u32,
    pub(super) clock: u32,
    pub(super) oil: u32,
    pub(super) unblock: u32,
}

type Client = DiskClient<FrameLog<Box<dyn Transport + Send>>>;

/// What the scenarios share.
pub struct Ctx<'a> {
    pub(super) c: Client,
    pub(super) tokens: Option<&'a dyn TokenSource>,
    pub(super) control: Option<&'a mut dyn Control>,
    pub(super) serial: Option<DeviceSerial>,
    pub(super) taxpayer: Option<TaxpayerId>,
    pub(super) pk: Option<PublicKey>,
    pub(super) factory: bool,
    pub(super) ours: bool,
    pub(super) seq: Seqs,
    batch: u32,
    raw_seq: u32,
    pub(super) acked: u64,
}

impl std::fmt::Debug for Ctx<'_> {
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

    pub(super) fn tokens(&self) -> Result<&'a dyn TokenSource, Stop> {
        self.tokens
            .ok_or_else(|| Stop::Skip("needs bureau tokens: no token source was given".into()))
    }

    pub(super) fn control(&mut self, req: ControlRequest) -> Result<ControlResponse, Stop> {
        let Some(c) = self.control.as_mut() else {
            return Err(Stop::Skip(
                "needs the simulator's control channel (clock, power): none was given".into(),
            ));
        };
        match c.control(req.clone())? {
            ControlResponse::Error(e) => fail(f::CONTROL_ERROR.say(&[&req, &e])),
            r => Ok(r),
        }
    }

    pub(super) fn need_control(&self) -> Step {
        if self.control.is_none() {
            return Err(Stop::Skip(
                "needs the simulator's control channel (clock, power): none was given".into(),
            ));
        }
        Ok(())
    }

    /// Skips unless this run provisioned the disk (so its PIN, token sequence numbers and
    /// journal are known).
    pub(super) fn need_ours(&self) -> Step {
        if self.ours {
            Ok(())
        } else {
            Err(Stop::Skip(
                "needs a disk this run provisioned (a factory-state disk and a token source)"
                    .into(),
            ))
        }
    }

    pub(super) fn serial(&self) -> Result<DeviceSerial, Stop> {
        self.serial
            .clone()
            .ok_or_else(|| Stop::Fail("the disk's serial is not known".into()))
    }

    pub(super) fn other_serial(&self) -> Result<DeviceSerial, Stop> {
        let s = self.serial()?;
        let mut b = s.as_str().as_bytes().to_vec();
        if let Some(last) = b.last_mut() {
            *last = if *last == b'9' { b'0' } else { *last + 1 };
        }
        let text = String::from_utf8(b).map_err(|_| Stop::Fail("serial is not text".into()))?;
        DeviceSerial::new(&text).map_err(|e| Stop::Fail(format!("other serial: {e}")))
    }

    pub(super) fn login(&mut self) -> Step {
        self.c.login(&factory_pin())?;
        Ok(())
    }

    pub(super) fn now(&mut self) -> Result<Timestamp, Stop> {
        Ok(self.c.info()?.time)
    }

    pub(super) fn verify<T: SignedMessage>(&self, s: &Signed<T>, what: &str) -> Step {
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

    pub(super) fn code(&mut self, kind: InvoiceKind) -> Result<InvoiceCode, Stop> {
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

    pub(super) fn grant_body(
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

    pub(super) fn load_roll(&mut self, kind: InvoiceKind, count: u32) -> Result<Roll, Stop> {
        let code = self.code(kind)?;
        let body = self.grant_body(kind, code, 1, count)?;
        let g = self.tokens()?.roll_grant(body)?;
        Ok(self.c.load_roll(g)?)
    }

    /// Makes sure `kind` has at least `n` blank numbers (loading a roll of 50 if not).
    pub(super) fn ensure_blank(&mut self, kind: InvoiceKind, n: u32) -> Step {
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
    pub(super) fn next_number(&mut self, kind: InvoiceKind) -> Result<(InvoiceCode, u32), Stop> {
        let rolls = self.c.list_rolls(Some(kind))?;
        let r = rolls
            .iter()
            .find(|r| r.left() > 0)
            .ok_or_else(|| Stop::Fail(format!("no {kind} roll with numbers left")))?;
        Ok((r.code.clone(), r.first.get().saturating_add(r.used)))
    }

    pub(super) fn draft(&self, kind: InvoiceKind, amount: i64) -> IssueRequest {
        let mut digest = [0u8; 32];
        digest[..8].copy_from_slice(&amount.to_be_bytes());
        digest[8..16].copy_from_slice(&new_request_id()[..8]);
        IssueRequest {
            request_id: new_request_id(),
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

    pub(super) fn issue(
        &mut self,
        kind: InvoiceKind,
        amount: i64,
    ) -> Result<Signed<IssuedInvoice>, Stop> {
        let d = self.draft(kind, amount);
        Ok(self.c.issue(d)?)
    }

    pub(super) fn red_of(&self, o: &IssuedInvoice, amount: i64) -> IssueRequest {
        let mut d = self.draft(o.kind, -amount);
        d.buyer = o.buyer.clone();
        d.red = Some(RedRef::Original {
            code: o.code.clone(),
            number: o.number,
        });
        d
    }

    pub(super) fn update(&mut self, changes: &[UpdateChange]) -> Result<Signed<UpdateToken>, Stop> {
        self.seq.update += 1;
        let body = UpdateToken {
            serial: self.serial()?,
            seq: self.seq.update,
            changes: changes.iter().cloned().collect(),
            issued_at: self.now()?,
        };
        Ok(self.tokens()?.update(body)?)
    }

    pub(super) fn receipt(&mut self, through: u64) -> Result<Signed<UploadReceipt>, Stop> {
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
    pub(super) fn advance(&mut self, secs: u64) -> Step {
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
        let t = self.clear_token(p, later, later)?;
        self.c.clear_card(t)?;
        Ok(())
    }

    /// A clear-card token for `period` (D8) with the next lock time `lock` and the upload
    /// deadline `deadline`, signed by the bureau's key.
    pub(super) fn clear_token(
        &mut self,
        period: Period,
        lock: Timestamp,
        deadline: Timestamp,
    ) -> Result<Signed<ClearCardToken>, Stop> {
        self.seq.clear += 1;
        let body = ClearCardToken {
            serial: self.serial()?,
            seq: self.seq.clear,
            period,
            next_lock_time: lock,
            upload_deadline: deadline,
            limits: Default::default(),
            issued_at: self.now()?,
        };
        Ok(self.tokens()?.clear_card(body)?)
    }

    /// Acknowledges every event so far.
    pub(super) fn ack_all(&mut self) -> Step {
        let c = self.c.info()?.counter;
        let r = self.receipt(c)?;
        self.c.ack_upload(r)?;
        self.acked = self.acked.max(c);
        Ok(())
    }

    /// Sends one request frame with any session id and raw command id and payload, and waits
    /// for the answer echoing its sequence number.
    pub(super) fn raw(
        &mut self,
        session: u32,
        command: u16,
        payload: &[u8],
    ) -> Result<Header, Stop> {
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
    pub(super) fn as_session(
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
    pub(super) fn all_events(&mut self) -> Result<Vec<EventView>, Stop> {
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
pub(super) fn refused<T>(
    r: Result<T, DiskError>,
    want: WireError,
    what: &str,
) -> Result<u32, Stop> {
    match r {
        Err(DiskError::Refused { error, detail, .. }) if error == want => Ok(detail),
        Err(DiskError::Busy { .. }) if want == WireError::Busy => Ok(0),
        Err(e) => {
            use crate::l10n::{Localize, known::part};
            let code = format!("0x{:04X}", want.code());
            let got = e.wire_error().map_or("no refusal", |w| w.name());
            Err(Stop::Error {
                text: format!(
                    "{what}: expected refusal {} ({code}), got {got}: {e}",
                    want.name()
                ),
                local: taxdisk_i18n::tr(
                    "suite-fail-refusal",
                    &[
                        ("a", part(what)),
                        ("b", part(want.name())),
                        ("c", code.clone()),
                        ("d", part(got)),
                        ("e", e.localized()),
                    ],
                ),
            })
        }
        Ok(_) => {
            fail(f::NOT_REFUSED.say(&[&what, &want.name(), &format_args!("0x{:04X}", want.code())]))
        }
    }
}

/// Expects a raw answer refused with `want`.
pub(super) fn raw_refused(r: Result<Response, Refusal>, want: WireError, what: &str) -> Step {
    match r {
        Err(x) if x.error == want => Ok(()),
        Err(x) => fail(format!(
            "{what}: expected {}, got refusal {}",
            want.name(),
            x.error.name()
        )),
        Ok(v) => fail(format!(
            "{what}: expected {}, the disk answered {}",
            want.name(),
            v.id().name()
        )),
    }
}

/// A token whose signature no longer covers its body (forged).
pub(super) fn forge<T: Clone>(s: &Signed<T>) -> Signed<T> {
    let mut f = s.clone();
    f.signature.r[31] ^= 0x01;
    f
}

/// `r` under a fresh request id: a new invoice, never the answer to an earlier send.
pub(super) fn fresh(r: IssueRequest) -> IssueRequest {
    with_id(new_request_id(), r)
}

/// `r` under request id `id` (a resend of the same invoice).
pub(super) fn with_id(id: RequestId, r: IssueRequest) -> IssueRequest {
    IssueRequest {
        request_id: id,
        ..r
    }
}
