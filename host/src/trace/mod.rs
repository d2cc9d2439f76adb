//! Record and replay of disk sessions (GitHub issue 7), so a vendor's firmware can be diffed
//! against the simulator.
//!
//! - [`Recorder`] wraps any [`Transport`] and writes every frame of the session to a trace
//!   file.
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
//! With a [`TokenSource`] ([`ReplayOptions::tokens`]) the bureau tokens of the requests are
//! re-signed for the replaying disk's serial (a forged token stays forged, a token for another
//! disk stays for another disk), so a session recorded against one disk replays against
//! another.

mod redact;

use crate::control::{Control, ControlError};
use crate::tokens::TokenSource;
use crate::transport::{Frame, Transport, TransportError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::frame::{
    FrameType, Header, MAX_ENCODED, MAX_FRAME, decode_frame, decode_response, encode_request,
};
use taxdisk_protocol::message::{ProvisionProof, SignedMessage};
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{CommandId, Refusal, Request, Response};

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

/// Where the lines of one trace go: shared by the [`Recorder`] and its [`RecordingControl`]s,
/// so control requests land between the frames they came between.
struct Sink {
    out: BufWriter<Box<dyn Write + Send>>,
    start: Instant,
    error: Option<std::io::Error>,
}

type SharedSink = Arc<Mutex<Sink>>;

fn write_line(sink: &SharedSink, line: impl FnOnce(u64) -> TraceLine) {
    let mut s = sink.lock().unwrap_or_else(|p| p.into_inner());
    if s.error.is_some() {
        return;
    }
    let t_us = u64::try_from(s.start.elapsed().as_micros()).unwrap_or(u64::MAX);
    // A TraceLine is plain strings, numbers and protocol data: serializing it cannot fail.
    let text = serde_json::to_string(&line(t_us)).unwrap_or_default();
    if let Err(e) = writeln!(s.out, "{text}") {
        s.error = Some(e);
    }
}

fn flush_sink(sink: &SharedSink) -> Result<(), TraceError> {
    let mut s = sink.lock().unwrap_or_else(|p| p.into_inner());
    let r = s.out.flush();
    match (s.error.take(), r) {
        (Some(source), _) | (None, Err(source)) => Err(TraceError::Io {
            path: "-".into(),
            source,
        }),
        (None, Ok(())) => Ok(()),
    }
}

/// A transport wrapper that writes every frame of the session to a trace.
pub struct Recorder<T> {
    inner: T,
    sink: SharedSink,
    redactor: redact::Redactor,
}

impl<T> fmt::Debug for Recorder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl<T: Transport> Recorder<T> {
    /// Records the session over `inner` into the file at `path` (created or truncated).
    pub fn create(inner: T, path: impl AsRef<Path>) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let f = std::fs::File::create(path).map_err(|source| TraceError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::new(inner, Box::new(f))
    }

    /// Records the session over `inner` into `out`; writes the header line at once.
    pub fn new(inner: T, out: Box<dyn Write + Send>) -> Result<Self, TraceError> {
        let started_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let sink = Arc::new(Mutex::new(Sink {
            out: BufWriter::new(out),
            start: Instant::now(),
            error: None,
        }));
        let link = inner.describe();
        write_line(&sink, |_| TraceLine::Header {
            format: TRACE_FORMAT.into(),
            started_unix_ms,
            link,
        });
        flush_sink(&sink)?;
        Ok(Recorder {
            inner,
            sink,
            redactor: redact::Redactor::default(),
        })
    }

    /// Wraps a simulator's control channel so that its requests are written to this trace
    /// too, between the frames they came between; [`replay_with_control`] applies them to the
    /// replaying simulator.
    pub fn control<C: Control>(&self, inner: C) -> RecordingControl<C> {
        RecordingControl {
            inner,
            sink: self.sink.clone(),
        }
    }

    /// Flushes the trace; the first write error of the session, if any, is returned here (a
    /// failing trace never fails the disk session itself).
    pub fn flush(&mut self) -> Result<(), TraceError> {
        flush_sink(&self.sink)
    }

    /// Flushes the trace and gives the transport back.
    pub fn finish(mut self) -> Result<T, TraceError> {
        self.flush()?;
        Ok(self.inner)
    }
}

// `pipeline_depth` stays 1 while recording (the default): a trace pairs each request with the
// answer that follows it, which is what a replay compares.
impl<T: Transport> Transport for Recorder<T> {
    fn send(&mut self, frame: &[u8]) -> Result<(), TransportError> {
        let redacted = self.redactor.redact(frame);
        write_line(&self.sink, |t_us| TraceLine::Frame {
            dir: TraceDir::Out,
            t_us,
            hex: hex::encode(redacted.as_deref().unwrap_or(frame)),
        });
        self.inner.send(frame)
    }

    fn recv(&mut self, timeout: Duration) -> Result<Frame, TransportError> {
        let r = self.inner.recv(timeout);
        write_line(&self.sink, |t_us| match &r {
            Ok(f) => TraceLine::Frame {
                dir: TraceDir::In,
                t_us,
                hex: f.encoded_hex(),
            },
            Err(e) => TraceLine::RecvError {
                t_us,
                error: e.to_string(),
            },
        });
        r
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.inner.reconnect()
    }

    fn describe(&self) -> String {
        format!("recorded {}", self.inner.describe())
    }
}

/// A control channel whose requests are written to a [`Recorder`]'s trace
/// ([`Recorder::control`]).
pub struct RecordingControl<C> {
    inner: C,
    sink: SharedSink,
}

impl<C> fmt::Debug for RecordingControl<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingControl").finish_non_exhaustive()
    }
}

impl<C: Control> Control for RecordingControl<C> {
    fn control(&mut self, req: ControlRequest) -> Result<ControlResponse, ControlError> {
        write_line(&self.sink, |t_us| TraceLine::Control {
            t_us,
            request: req.clone(),
        });
        self.inner.control(req)
    }
}

/// One frame of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceFrame {
    /// Which way.
    pub dir: TraceDir,
    /// Microseconds since the start.
    pub t_us: u64,
    /// The encoded frame.
    pub bytes: Vec<u8>,
}

/// A trace read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The link it was recorded on.
    pub link: String,
    /// Wall-clock start, ms since the Unix epoch.
    pub started_unix_ms: u64,
    /// The frames, in order.
    pub frames: Vec<TraceFrame>,
    /// The control requests, each with the number of frames before it.
    pub controls: Vec<TraceControl>,
}

/// A control request of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceControl {
    /// How many frames of [`Trace::frames`] came before it.
    pub after_frames: usize,
    /// Microseconds since the start.
    pub t_us: u64,
    /// The request.
    pub request: ControlRequest,
}

impl Trace {
    /// Reads a trace file.
    pub fn read(path: impl AsRef<Path>) -> Result<Trace, TraceError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TraceError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Trace::parse(&text)
    }

    /// Parses a trace's text.
    pub fn parse(text: &str) -> Result<Trace, TraceError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, first)) = lines.next() else {
            return Err(TraceError::Format("the file is empty".into()));
        };
        let (link, started_unix_ms) = match serde_json::from_str::<TraceLine>(first) {
            Ok(TraceLine::Header {
                format,
                started_unix_ms,
                link,
            }) if format == TRACE_FORMAT => (link, started_unix_ms),
            Ok(TraceLine::Header { format, .. }) => {
                return Err(TraceError::Format(format!("format {format:?}")));
            }
            _ => return Err(TraceError::Format("the first line is not a header".into())),
        };
        let mut frames = Vec::new();
        let mut controls = Vec::new();
        for (i, l) in lines {
            let line = i + 1;
            if l.len() > MAX_LINE {
                return Err(TraceError::Line {
                    line,
                    what: format!("longer than {MAX_LINE} bytes"),
                });
            }
            match serde_json::from_str::<TraceLine>(l) {
                Ok(TraceLine::Frame { dir, t_us, hex }) => {
                    let bytes = hex::decode(hex.trim()).map_err(|e| TraceError::Line {
                        line,
                        what: format!("hex: {e}"),
                    })?;
                    if bytes.len() > MAX_ENCODED {
                        return Err(TraceError::Line {
                            line,
                            what: format!("a frame of {} bytes", bytes.len()),
                        });
                    }
                    frames.push(TraceFrame { dir, t_us, bytes });
                }
                Ok(TraceLine::RecvError { .. }) => {}
                Ok(TraceLine::Control { t_us, request }) => controls.push(TraceControl {
                    after_frames: frames.len(),
                    t_us,
                    request,
                }),
                Ok(TraceLine::Header { .. }) => {
                    return Err(TraceError::Line {
                        line,
                        what: "a second header".into(),
                    });
                }
                Err(e) => {
                    return Err(TraceError::Line {
                        line,
                        what: e.to_string(),
                    });
                }
            }
        }
        Ok(Trace {
            link,
            started_unix_ms,
            frames,
            controls,
        })
    }

    /// The trace's text (header and frame lines), as [`Recorder`] writes it.
    pub fn to_text(&self) -> String {
        let mut lines = vec![TraceLine::Header {
            format: TRACE_FORMAT.into(),
            started_unix_ms: self.started_unix_ms,
            link: self.link.clone(),
        }];
        let mut controls = self.controls.iter().peekable();
        for (i, f) in self.frames.iter().enumerate() {
            while let Some(c) = controls.next_if(|c| c.after_frames <= i) {
                lines.push(TraceLine::Control {
                    t_us: c.t_us,
                    request: c.request.clone(),
                });
            }
            lines.push(TraceLine::Frame {
                dir: f.dir,
                t_us: f.t_us,
                hex: hex::encode(&f.bytes),
            });
        }
        lines.extend(controls.map(|c| TraceLine::Control {
            t_us: c.t_us,
            request: c.request.clone(),
        }));
        let mut s = String::new();
        for l in lines {
            s.push_str(&serde_json::to_string(&l).unwrap_or_default());
            s.push('\n');
        }
        s
    }

    /// The session's length in microseconds (the last frame's time).
    pub fn duration_us(&self) -> u64 {
        self.frames.last().map_or(0, |f| f.t_us)
    }

    /// The recorded requests paired with their recorded answers, resends dropped.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let mut scratch = vec![0u8; MAX_FRAME];
        // Answers by (seq, session, command), in trace order: one pass, so a long trace costs
        // n log n, not n².
        let mut answers: HashMap<(u32, u32, u16), Vec<usize>> = HashMap::new();
        for (i, f) in self.frames.iter().enumerate() {
            if f.dir == TraceDir::In
                && let Ok((h, _)) = decode_frame(&f.bytes, &mut scratch)
                && h.frame_type == FrameType::Response
            {
                answers
                    .entry((h.seq, h.session, h.command))
                    .or_default()
                    .push(i);
            }
        }
        let mut out: Vec<Exchange> = Vec::new();
        let mut seen: HashSet<&[u8]> = HashSet::new();
        let mut controls = self.controls.iter().peekable();
        for (i, f) in self.frames.iter().enumerate() {
            if f.dir != TraceDir::Out {
                continue;
            }
            let Ok((h, _)) = decode_frame(&f.bytes, &mut scratch) else {
                continue;
            };
            if h.frame_type != FrameType::Request || !seen.insert(&f.bytes) {
                continue;
            }
            let answer = answers.get(&(h.seq, h.session, h.command)).and_then(|v| {
                let k = v.partition_point(|&a| a <= i);
                v.get(k).map(|&a| self.frames[a].bytes.clone())
            });
            let before: Vec<ControlRequest> =
                std::iter::from_fn(|| controls.next_if(|c| c.after_frames <= i))
                    .map(|c| c.request.clone())
                    .collect();
            out.push(Exchange {
                header: h,
                request: f.bytes.clone(),
                answer,
                controls: before,
            });
        }
        out
    }
}

/// A recorded request and the answer recorded for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The request's header.
    pub header: Header,
    /// The request frame.
    pub request: Vec<u8>,
    /// The answer frame, if one was recorded.
    pub answer: Option<Vec<u8>>,
    /// Control requests made before this request (since the previous one).
    pub controls: Vec<ControlRequest>,
}

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

/// One difference between a recorded answer and the replayed one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Index of the exchange in the trace (0-based).
    pub index: usize,
    /// The command.
    pub command: String,
    /// The field path (`body.amount`, `status`, `signature`, ...).
    pub path: String,
    /// The recorded value.
    pub recorded: String,
    /// The replayed value.
    pub replayed: String,
    /// Which comparison rule found it.
    pub why: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} {}: recorded {} / replayed {} ({})",
            self.index, self.command, self.path, self.recorded, self.replayed, self.why
        )
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

/// Decoded answer: the header and the response or refusal (or why it does not decode).
type Decoded = (Header, Result<Result<Response, Refusal>, String>);

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
                Ok(got) => compare_raw(&mut report, i, e, got.as_deref()),
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
        report: &mut report,
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

#[derive(Clone, Copy)]
enum Side {
    Recorded = 0,
    Replayed = 1,
}

/// Serials and public keys of the recorded (0) and replaying (1) disks.
#[derive(Default)]
struct Keys {
    serial: [Option<DeviceSerial>; 2],
    key: [Option<PublicKey>; 2],
}

impl Keys {
    fn learn(&mut self, side: Side, r: &Response) {
        let i = side as usize;
        match r {
            Response::GetInfo(info) => {
                self.serial[i].get_or_insert_with(|| info.serial.clone());
            }
            Response::Provision(p) => {
                self.key[i].get_or_insert(p.public_key);
            }
            Response::GetPublicKey(k) => {
                self.key[i].get_or_insert(*k);
            }
            _ => {}
        }
    }
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

/// Compares the answers to a request whose command id is not in the table, by header.
fn compare_raw(report: &mut ReplayReport, i: usize, e: &Exchange, got: Option<&[u8]>) {
    let mut s1 = vec![0u8; MAX_FRAME];
    let mut s2 = vec![0u8; MAX_FRAME];
    let rec = e
        .answer
        .as_deref()
        .and_then(|a| decode_frame(a, &mut s1).ok());
    let rep = got.and_then(|a| decode_frame(a, &mut s2).ok());
    let command = format!("command {}", e.header.command);
    match (rec, rep) {
        (None, _) => {}
        (Some(_), None) => report.differences.push(Difference {
            index: i,
            command,
            path: "answer".into(),
            recorded: "an answer".into(),
            replayed: "no answer".into(),
            why: "equal".into(),
        }),
        (Some((a, pa)), Some((b, pb))) => {
            report.compared += 1;
            if (a.status, a.detail, pa) != (b.status, b.detail, pb) {
                report.differences.push(Difference {
                    index: i,
                    command,
                    path: "status".into(),
                    recorded: format!("0x{:04X}/{}", a.status, a.detail),
                    replayed: format!("0x{:04X}/{}", b.status, b.detail),
                    why: "equal".into(),
                });
            }
        }
    }
}

struct Comparer<'a> {
    keys: &'a Keys,
    offset: Option<i128>,
    tolerance: u64,
    last_clock: Option<u64>,
    report: &'a mut ReplayReport,
}

fn status_text(r: &Result<Response, Refusal>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(x) => format!("{} (0x{:04X})", x.error.name(), x.error.code()),
    }
}

impl Comparer<'_> {
    fn diff(&mut self, i: usize, c: CommandId, path: &str, rec: String, rep: String, why: &str) {
        self.report.differences.push(Difference {
            index: i,
            command: c.name().into(),
            path: path.into(),
            recorded: rec,
            replayed: rep,
            why: why.into(),
        });
    }

    fn pair(&mut self, i: usize, c: CommandId, rec: Option<Decoded>, rep: Option<Decoded>) {
        let Some((_, rec)) = rec else {
            // Nothing recorded (the answer was lost then): nothing to compare.
            return;
        };
        let Some((_, rep)) = rep else {
            self.diff(
                i,
                c,
                "answer",
                "an answer".into(),
                "no answer".into(),
                "equal",
            );
            return;
        };
        let (rec, rep) = match (rec, rep) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => {
                if a != b {
                    let show = |x: &Result<Result<Response, Refusal>, String>| match x {
                        Ok(r) => status_text(r),
                        Err(e) => format!("undecodable: {e}"),
                    };
                    self.diff(i, c, "answer", show(&a), show(&b), "decodes");
                }
                return;
            }
        };
        self.report.compared += 1;
        match (&rec, &rep) {
            (Err(a), Err(b)) => {
                if a.error != b.error {
                    self.diff(
                        i,
                        c,
                        "status",
                        status_text(&rec),
                        status_text(&rep),
                        "equal",
                    );
                } else if a.detail != b.detail {
                    self.diff(
                        i,
                        c,
                        "detail",
                        a.detail.to_string(),
                        b.detail.to_string(),
                        "equal",
                    );
                }
            }
            (Ok(a), Ok(b)) => {
                self.fields(i, c, a, b);
                if c == CommandId::SetClock {
                    // D3: a clock token moves both clocks to the token's time: the clock may
                    // go back here, and the offset between the two disks starts anew.
                    self.last_clock = None;
                    self.offset = None;
                }
            }
            _ => self.diff(
                i,
                c,
                "status",
                status_text(&rec),
                status_text(&rep),
                "equal",
            ),
        }
    }

    fn fields(&mut self, i: usize, c: CommandId, a: &Response, b: &Response) {
        // Signatures: each verified with its own disk's key.
        let sa = signatures(a, self.keys.serial[0].as_ref(), self.keys.key[0].as_ref());
        let sb = signatures(b, self.keys.serial[1].as_ref(), self.keys.key[1].as_ref());
        for (path, ok) in &sa {
            if *ok == Some(false) {
                self.diff(
                    i,
                    c,
                    path,
                    "invalid with the recorded disk's key".into(),
                    "-".into(),
                    "signature verifies",
                );
            }
        }
        for (path, ok) in &sb {
            if *ok == Some(false) {
                self.diff(
                    i,
                    c,
                    path,
                    "-".into(),
                    "invalid with the replaying disk's key".into(),
                    "signature verifies",
                );
            }
        }
        let (va, vb) = (to_json(a), to_json(b));
        self.walk(i, c, "", &va, &vb);
        if c == CommandId::GetInfo
            && let Value::Object(m) = &vb
            && let Some(t) = m.get("time").and_then(Value::as_u64)
        {
            if let Some(last) = self.last_clock
                && t < last
            {
                self.diff(
                    i,
                    c,
                    "time",
                    last.to_string(),
                    t.to_string(),
                    "the disk clock does not go back",
                );
            }
            self.last_clock = Some(t);
        }
    }

    fn walk(&mut self, i: usize, c: CommandId, path: &str, a: &Value, b: &Value) {
        let key = path.rsplit('.').next().unwrap_or("");
        match key {
            "signature" | "proof" => return,
            // Properties of the device, not of the session: a vendor's disk has its own
            // firmware version and flash size (both decoded, so well formed).
            "firmware" | "journal_free" => return,
            "serial" => {
                let ok = |v: &Value| v.as_str().is_some_and(|s| DeviceSerial::new(s).is_ok());
                if !ok(b) {
                    self.diff(
                        i,
                        c,
                        path,
                        a.to_string(),
                        b.to_string(),
                        "a well-formed serial",
                    );
                }
                return;
            }
            "public_key" => {
                let pk = serde_json::from_value::<PublicKey>(b.clone()).ok();
                if pk.is_none_or(|k| sign::verifying_key(&k).is_err()) {
                    self.diff(
                        i,
                        c,
                        path,
                        "a point".into(),
                        b.to_string(),
                        "a point on the curve",
                    );
                }
                return;
            }
            "time" | "oldest_pending" => {
                if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
                    let d = i128::from(y) - i128::from(x);
                    let off = *self.offset.get_or_insert(d);
                    if (d - off).unsigned_abs() > u128::from(self.tolerance) {
                        self.diff(
                            i,
                            c,
                            path,
                            x.to_string(),
                            y.to_string(),
                            "times differ by one clock offset",
                        );
                    }
                    return;
                }
            }
            _ => {}
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (k, va) in x {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match y.get(k) {
                        Some(vb) => self.walk(i, c, &p, va, vb),
                        None => self.diff(i, c, &p, va.to_string(), "absent".into(), "equal"),
                    }
                }
                for (k, vb) in y {
                    if !x.contains_key(k) {
                        let p = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        self.diff(i, c, &p, "absent".into(), vb.to_string(), "equal");
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (n, (va, vb)) in x.iter().zip(y).enumerate() {
                    self.walk(i, c, &format!("{path}[{n}]"), va, vb);
                }
            }
            _ if a != b => {
                let p = if path.is_empty() { "body" } else { path };
                self.diff(i, c, p, a.to_string(), b.to_string(), "equal");
            }
            _ => {}
        }
    }
}

fn verify_one<T: SignedMessage>(s: &Signed<T>, key: Option<&PublicKey>) -> Option<bool> {
    let vk = sign::verifying_key(key?).ok()?;
    Some(s.verify(&vk).is_ok())
}

fn event_sig(e: &JournalEvent, key: Option<&PublicKey>) -> Option<bool> {
    match e {
        JournalEvent::Invoice(s) => verify_one(s, key),
        JournalEvent::Void(s) => verify_one(s, key),
        JournalEvent::BlankVoid(s) => verify_one(s, key),
    }
}

/// Every disk signature in an answer with whether it verifies with `key` (`None`: no key).
fn signatures(
    r: &Response,
    serial: Option<&DeviceSerial>,
    key: Option<&PublicKey>,
) -> Vec<(String, Option<bool>)> {
    let one = |p: &str, v: Option<bool>| vec![(p.to_string(), v)];
    match r {
        Response::Issue(s) => one("signature", verify_one(s, key)),
        Response::Void(s) => one("signature", verify_one(s, key)),
        Response::VoidBlank(s) => one("signature", verify_one(s, key)),
        Response::ReturnRoll(s) => one("signature", verify_one(s, key)),
        Response::ReturnOilStock(s) => one("signature", verify_one(s, key)),
        Response::CopyTax(s) => one("signature", verify_one(s, key)),
        Response::ReadInvoice(v) => one("invoice.signature", verify_one(&v.invoice, key)),
        Response::LastIssued(Some(v)) => one("invoice.signature", verify_one(&v.invoice, key)),
        Response::ReadEvent(v) => one("event.signature", event_sig(&v.event, key)),
        Response::ListPending(evs) => evs
            .iter()
            .enumerate()
            .map(|(n, e)| (format!("[{n}].signature"), event_sig(e, key)))
            .collect(),
        Response::Provision(p) => {
            let v = serial.map(|s| Signed {
                body: ProvisionProof {
                    serial: s.clone(),
                    public_key: p.public_key,
                },
                signature: p.proof,
            });
            let ok = v.and_then(|v| {
                sign::verifying_key(&p.public_key)
                    .ok()
                    .map(|vk| v.verify(&vk).is_ok())
            });
            one("proof", ok)
        }
        _ => Vec::new(),
    }
}

fn json<T: Serialize>(v: &T) -> Value {
    // Plain protocol data (numbers, strings, sequences) always serializes to JSON.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The body of an answer as JSON, for the field-by-field walk.
fn to_json(r: &Response) -> Value {
    match r {
        Response::Ping(v) => json(v),
        Response::GetInfo(v) => json(v),
        Response::Login(v) => json(v),
        Response::ChangePin(v) => json(v),
        Response::Logout(v) => json(v),
        Response::Provision(v) => json(v),
        Response::GetStatus(v) => json(v),
        Response::GetPublicKey(v) => json(&serde_json::json!({ "public_key": json(v) })),
        Response::ApplyUpdate(v) => json(v),
        Response::SetClock(v) => json(v),
        Response::ListRolls(v) => json(v),
        Response::LoadRolls(v) => json(v),
        Response::ReturnRoll(v) => json(v),
        Response::VoidBlank(v) => json(v),
        Response::Issue(v) => json(v),
        Response::Void(v) => json(v),
        Response::ReadInvoice(v) => json(v),
        Response::LastIssued(v) => json(v),
        Response::ListPending(v) => json(v),
        Response::AckUpload(v) => json(v),
        Response::CopyTax(v) => json(v),
        Response::ClearCard(v) => json(v),
        Response::OilStock(v) => json(v),
        Response::LoadOilStock(v) => json(v),
        Response::ReturnOilStock(v) => json(v),
        Response::Unblock(v) => json(v),
        Response::ReadEvent(v) => json(v),
        Response::ApplyReportReceipt(v) => json(v),
    }
}
