//! Replaying a trace against another disk: [`replay`], [`replay_with`],
//! [`replay_with_control`], their options and report, and the bureau tokens re-signed for the
//! replaying disk.

use super::compare::{Comparer, Decoded, Difference, Keys, Side, compare_raw};
use super::format::Trace;
use super::redact;
use crate::control::Control;
use crate::tokens::TokenSource;
use crate::transport::{Transport, TransportError};
use std::fmt;
use std::time::{Duration, Instant};
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::frame::{
    FrameType, Header, MAX_ENCODED, MAX_FRAME, decode_frame, decode_response, encode_request,
};
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{CommandId, Request, sign};

/// How a replay runs.
pub struct ReplayOptions<'a> {
    /// Re-signs bureau tokens for the replaying disk's serial.
    pub tokens: Option<&'a dyn TokenSource>,
    /// Wait for each answer.
    pub timeout: Duration,
    /// Sends of each request before calling it unanswered.
    pub attempts: u32,
}

impl fmt::Debug for ReplayOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayOptions")
            .field("tokens", &self.tokens.is_some())
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl Default for ReplayOptions<'_> {
    fn default() -> Self {
        ReplayOptions {
            tokens: None,
            timeout: Duration::from_millis(u64::from(taxdisk_protocol::usb::TIMEOUT_MS)),
            attempts: 3,
        }
    }
}

/// What a replay found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Requests sent.
    pub exchanges: usize,
    /// Answers compared (recorded and replayed both present).
    pub compared: usize,
    /// Differences found.
    pub differences: Vec<Difference>,
    /// Remarks (e.g. signatures that could not be verified for lack of a key).
    pub notes: Vec<String>,
    /// Why the replay stopped early, if it did (no disk there).
    pub aborted: Option<String>,
}

impl ReplayReport {
    /// Whether the replaying disk answered like the recorded one.
    pub fn is_same(&self) -> bool {
        self.differences.is_empty() && self.aborted.is_none()
    }
}

impl ReplayReport {
    /// The report for a person in the process's language (the `Display` is English): the
    /// summary, each difference, the notes and why it stopped early.
    pub fn text(&self) -> String {
        use crate::l10n::known::reason;
        use taxdisk_i18n::t;
        let value = |v: &str| {
            if v == "absent" {
                t!("replay-absent")
            } else {
                v.to_owned()
            }
        };
        let mut s = t!(
            "replay-summary",
            requests = self.exchanges,
            compared = self.compared,
            differences = self.differences.len()
        );
        s.push('\n');
        for d in &self.differences {
            let command = match d.command.strip_prefix("command ") {
                Some(id) => t!("replay-command", id = id),
                None => taxdisk_i18n::command_name(&d.command),
            };
            let why = match d.why.as_str() {
                "equal" => t!("replay-why-equal"),
                "decodes" => t!("replay-why-decodes"),
                other => other.to_owned(),
            };
            let line = t!(
                "replay-difference",
                index = d.index,
                command = command,
                path = d.path,
                recorded = value(&d.recorded),
                replayed = value(&d.replayed),
                why = why
            );
            s.push_str(&format!("  {line}\n"));
        }
        for n in &self.notes {
            s.push_str(&format!("  {}\n", t!("replay-note", note = reason(n))));
        }
        if let Some(a) = &self.aborted {
            s.push_str(&format!("  {}\n", t!("replay-aborted", reason = reason(a))));
        }
        s
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} requests replayed, {} answers compared, {} differences",
            self.exchanges,
            self.compared,
            self.differences.len()
        )?;
        for d in &self.differences {
            writeln!(f, "  {d}")?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        if let Some(a) = &self.aborted {
            writeln!(f, "  aborted: {a}")?;
        }
        Ok(())
    }
}

/// Replays `trace` on `transport` with default options (no token re-signing).
pub fn replay(trace: &Trace, transport: &mut dyn Transport) -> ReplayReport {
    replay_with(trace, transport, &ReplayOptions::default())
}

/// Decodes an answer frame: the header and the response or refusal (or why it does not
/// decode).
fn decode_answer(bytes: &[u8]) -> Option<Decoded> {
    let mut scratch = vec![0u8; MAX_FRAME];
    let (h, p) = decode_frame(bytes, &mut scratch).ok()?;
    Some((h, decode_response(&h, p).map_err(|e| e.to_string())))
}

/// Replays `trace` on `transport`: sends each recorded request (re-signing tokens when
/// `options.tokens` is given) and compares the answers as the module documentation says.
pub fn replay_with(
    trace: &Trace,
    transport: &mut dyn Transport,
    options: &ReplayOptions<'_>,
) -> ReplayReport {
    replay_inner(trace, transport, options, None)
}

/// [`replay_with`], applying the trace's control requests (clock, power, faults) to the
/// replaying simulator through `control` before the requests they came before.
pub fn replay_with_control(
    trace: &Trace,
    transport: &mut dyn Transport,
    options: &ReplayOptions<'_>,
    control: &mut dyn Control,
) -> ReplayReport {
    replay_inner(trace, transport, options, Some(control))
}

fn replay_inner(
    trace: &Trace,
    transport: &mut dyn Transport,
    options: &ReplayOptions<'_>,
    mut control: Option<&mut dyn Control>,
) -> ReplayReport {
    let started = Instant::now();
    let exchanges = trace.exchanges();
    let mut report = ReplayReport::default();
    let mut keys = Keys::default();
    // The recorded disk's serial and key, from the recorded answers and requests.
    for e in &exchanges {
        if let Some((_, Ok(Ok(r)))) = e.answer.as_deref().and_then(decode_answer) {
            keys.learn(Side::Recorded, &r);
        }
        let mut scratch = vec![0u8; MAX_FRAME];
        if let Ok((h, p)) = decode_frame(&e.request, &mut scratch)
            && let Ok(Request::Provision(t)) = taxdisk_protocol::frame::decode_request(&h, p)
            && keys.serial[0].is_none()
        {
            keys.serial[0] = Some(t.body.serial);
        }
    }
    if options.tokens.is_some() {
        let session = exchanges.first().map_or(1, |e| e.header.session);
        match ask(transport, options, session, &Request::GetInfo(())) {
            Ok(Some((_, Ok(Ok(r))))) => keys.learn(Side::Replayed, &r),
            Ok(_) => report
                .notes
                .push("the replaying disk did not tell its serial; tokens not re-signed".into()),
            Err(e) => {
                report.aborted = Some(e);
                return report;
            }
        }
    }
    let mut pairs: Vec<Pair> = Vec::new();
    let mut skipped_controls = 0usize;
    for (i, e) in exchanges.iter().enumerate() {
        let mut clock_set = false;
        for c in &e.controls {
            clock_set |= matches!(c, ControlRequest::SetClock(_) | ControlRequest::Restore(_));
            match control.as_deref_mut() {
                Some(ctl) => match ctl.control(c.clone()) {
                    Ok(ControlResponse::Error(m)) => report
                        .notes
                        .push(format!("before request #{i}: control {c:?} answered {m}")),
                    Ok(_) => {}
                    Err(err) => {
                        report.aborted = Some(format!("control channel: {err}"));
                        return report;
                    }
                },
                None => skipped_controls += 1,
            }
        }
        // Unknown command ids are replayed too; they are compared by status.
        let Some(command) = CommandId::from_u16(e.header.command) else {
            let sent = send_raw(transport, options, &e.request, &e.header);
            report.exchanges += 1;
            match sent {
                Ok(got) => compare_raw(
                    &mut report.compared,
                    &mut report.differences,
                    i,
                    e,
                    got.as_deref(),
                ),
                Err(err) => {
                    report.aborted = Some(err);
                    return report;
                }
            }
            continue;
        };
        let plain = redact::unredact(&e.request);
        let request = plain.as_deref().unwrap_or(&e.request);
        let frame =
            rewrite(request, &e.header, &keys, options.tokens).unwrap_or_else(|| request.to_vec());
        report.exchanges += 1;
        let got = match send_raw(transport, options, &frame, &e.header) {
            Ok(g) => g,
            Err(err) => {
                report.aborted = Some(err);
                return report;
            }
        };
        let recorded = e.answer.as_deref().and_then(decode_answer);
        let replayed = got.as_deref().and_then(decode_answer);
        if let Some((_, Ok(Ok(r)))) = &replayed {
            keys.learn(Side::Replayed, r);
        }
        pairs.push(Pair {
            index: i,
            command,
            recorded,
            replayed,
            clock_set,
        });
    }
    if keys.key[1].is_none() && keys.key[0].is_some() {
        let session = exchanges.first().map_or(1, |e| e.header.session);
        if let Ok(Some((_, Ok(Ok(r))))) =
            ask(transport, options, session, &Request::GetPublicKey(()))
        {
            keys.learn(Side::Replayed, &r);
        }
    }
    if skipped_controls > 0 {
        report.notes.push(format!(
            "{skipped_controls} control request(s) of the trace not applied: no control channel"
        ));
    }
    if keys.key[0].is_none() {
        report
            .notes
            .push("the trace holds no public key: recorded signatures not verified".into());
    }
    let tolerance = (trace.duration_us() / 1_000_000)
        .saturating_add(started.elapsed().as_secs())
        .saturating_add(2);
    let mut cmp = Comparer {
        keys: &keys,
        offset: None,
        tolerance,
        last_clock: None,
        compared: &mut report.compared,
        differences: &mut report.differences,
    };
    for p in pairs {
        if p.clock_set {
            // The bench set both clocks: the offset starts anew and the clock may go back.
            cmp.offset = None;
            cmp.last_clock = None;
        }
        cmp.pair(p.index, p.command, p.recorded, p.replayed);
    }
    report
}

/// A recorded and a replayed answer to compare.
struct Pair {
    index: usize,
    command: CommandId,
    recorded: Option<Decoded>,
    replayed: Option<Decoded>,
    clock_set: bool,
}

/// Sends a request as the recorded session and waits for its answer. `Err` only when no disk
/// is there at all.
fn ask(
    t: &mut dyn Transport,
    o: &ReplayOptions<'_>,
    session: u32,
    req: &Request,
) -> Result<Option<Decoded>, String> {
    let mut buf = vec![0u8; MAX_ENCODED];
    let seq = 0xFFFF_FF00;
    let Ok(n) = encode_request(seq, session, req, &mut buf) else {
        return Ok(None);
    };
    let h = Header::request(req.id(), seq, session);
    Ok(send_raw(t, o, &buf[..n], &h)?
        .as_deref()
        .and_then(decode_answer))
}

/// Sends `frame` and returns the answer frame (re-encoded), `None` if none came.
fn send_raw(
    t: &mut dyn Transport,
    o: &ReplayOptions<'_>,
    frame: &[u8],
    h: &Header,
) -> Result<Option<Vec<u8>>, String> {
    for _ in 0..o.attempts.max(1) {
        if let Err(e) = t.send(frame) {
            if !e.is_transient() {
                return Err(e.to_string());
            }
            let _ = t.reconnect();
            continue;
        }
        let deadline = Instant::now() + o.timeout;
        loop {
            match t.recv(deadline.saturating_duration_since(Instant::now())) {
                Ok(f)
                    if f.header.frame_type == FrameType::Response
                        && f.header.seq == h.seq
                        && f.header.session == h.session
                        && f.header.command == h.command =>
                {
                    return Ok(Some(f.encoded()));
                }
                Ok(_) => continue,
                Err(e) if !e.is_transient() => return Err(e.to_string()),
                Err(TransportError::Disconnected(_)) | Err(TransportError::Io { .. }) => {
                    let _ = t.reconnect();
                    break;
                }
                Err(_) => break,
            }
        }
    }
    Ok(None)
}

/// Re-signs the bureau token of a request for the replaying disk. `None`: send as recorded.
fn rewrite(
    frame: &[u8],
    h: &Header,
    keys: &Keys,
    tokens: Option<&dyn TokenSource>,
) -> Option<Vec<u8>> {
    let tokens = tokens?;
    let from = keys.serial[0].as_ref()?;
    let to = keys.serial[1].as_ref()?;
    if from == to {
        return None;
    }
    let mut scratch = vec![0u8; MAX_FRAME];
    let (_, p) = decode_frame(frame, &mut scratch).ok()?;
    let req = taxdisk_protocol::frame::decode_request(h, p).ok()?;
    let bureau = tokens.bureau_key();
    // Maps the serial: the recorded disk's becomes the replaying disk's; a token that named the
    // replaying disk's serial (another disk, when recorded) names the recorded one instead.
    let map = |s: &DeviceSerial| {
        if s == from {
            to.clone()
        } else if s == to {
            from.clone()
        } else {
            s.clone()
        }
    };
    fn redo<T: SignedMessage + Clone>(
        t: &Signed<T>,
        bureau: &PublicKey,
        set: impl FnOnce(&mut T),
        resign: impl FnOnce(T) -> Option<Signed<T>>,
    ) -> Option<Signed<T>> {
        let valid = sign::verifying_key(bureau).is_ok_and(|vk| t.verify(&vk).is_ok());
        let mut body = t.body.clone();
        set(&mut body);
        if valid {
            resign(body)
        } else {
            // A forged token stays forged.
            Some(Signed {
                body,
                signature: t.signature,
            })
        }
    }
    let new = match req {
        Request::Provision(t) => Request::Provision(redo(
            &t,
            &bureau,
            |b| b.serial = map(&b.serial),
            |b| tokens.provision(b).ok(),
        )?),
        Request::ApplyUpdate(t) => Request::ApplyUpdate(redo(
            &t,
            &bureau,
            |b| b.serial = map(&b.serial),
            |b| tokens.update(b).ok(),
        )?),
        Request::SetClock(t) => Request::SetClock(redo(
            &t,
            &bureau,
            |b| b.serial = map(&b.serial),
            |b| tokens.clock(b).ok(),
        )?),
        Request::LoadRolls(t) => Request::LoadRolls(redo(
            &t,
            &bureau,
            |b| b.serial = map(&b.serial),
            |b| tokens.roll_grant(b).ok(),
        )?),
        Request::AckUpload(t) => Request::AckUpload(redo(
            &t,
            &bureau,
            |b| b.serial = map(&b.serial),
            |b| tokens.upload_receipt(b).ok(),
        )?),
        Request::ClearCard(t) => Request::ClearCard(redo(
            &t,
            &bureau,
            |b| b.serial = map(&b.serial),
            |b| tokens.clear_card(b).ok(),
        )?),
        Request::LoadOilStock(t) => Request::LoadOilStock(redo(
            &t,
            &bureau,
            |b| b.serial = map(&b.serial),
            |b| tokens.oil_grant(b).ok(),
        )?),
        Request::Unblock(t) => Request::Unblock(redo(
            &t,
            &bureau,
            |b| b.serial = map(&b.serial),
            |b| tokens.unblock(b).ok(),
        )?),
        Request::ApplyReportReceipt(t) => Request::ApplyReportReceipt(redo(
            &t,
            &bureau,
            |b| b.serial = map(&b.serial),
            |b| tokens.report_receipt(b).ok(),
        )?),
        _ => return None,
    };
    let mut buf = vec![0u8; MAX_ENCODED];
    let n = encode_request(h.seq, h.session, &new, &mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}
