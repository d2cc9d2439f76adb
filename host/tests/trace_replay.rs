//! Record and replay: the conformance suite's session recorded against one `SimDisk` replays
//! against a second one with another serial and seed with no difference (tokens re-signed for
//! the second serial, signatures verified with each disk's key, serials and keys compared by
//! shape); a tampered recorded answer is reported with its command, field path and both
//! values; broken trace files are refused with their line number.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::conformance::{BureauKeyTokens, TokenSource, run_suite};
use taxdisk_host::trace::{
    Recorder, ReplayOptions, Trace, TraceDir, TraceError, replay, replay_with,
};
use taxdisk_host::transport::InProcess;
use taxdisk_protocol::frame::{
    FrameType, MAX_ENCODED, MAX_FRAME, decode_frame, decode_response, encode_response,
};
use taxdisk_protocol::sign;
use taxdisk_protocol::time::CivilTime;
use taxdisk_protocol::types::{DeviceSerial, Fen};
use taxdisk_protocol::{CommandId, Response, Timestamp};

const BUREAU_SECRET: [u8; 32] = [7; 32];

fn sim(serial: &str, seed: u64) -> SimDisk {
    sim_with_flash(serial, seed, 1 << 20)
}

fn sim_with_flash(serial: &str, seed: u64, flash: usize) -> SimDisk {
    let key = sign::signing_key(&BUREAU_SECRET).unwrap();
    let start = Timestamp::from_civil(CivilTime {
        year: 2026,
        month: 11,
        day: 10,
        hour: 10,
        minute: 0,
        second: 0,
    });
    let mut cfg = SimConfig::new(
        DeviceSerial::new(serial).unwrap(),
        sign::public_key(&key),
        start,
    );
    cfg.flash_bytes = flash;
    cfg.seed = seed;
    SimDisk::new(cfg).unwrap()
}

/// A writer the test can read back after the recorder is gone.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the conformance suite (tokens, no control) on disk A through a recorder.
fn recorded_suite() -> Trace {
    let buf = Buf::default();
    let rec = Recorder::new(
        InProcess::new(sim("661234567890", 1)),
        Box::new(buf.clone()),
    )
    .unwrap();
    let tokens = BureauKeyTokens::from_secret(&BUREAU_SECRET).unwrap();
    let report = run_suite(Box::new(rec), Some(&tokens as &dyn TokenSource), None);
    assert!(report.ok(), "{}", report.table());
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    Trace::parse(&text).unwrap()
}

#[test]
fn trace_recorded_suite_replays_on_another_disk_without_difference() {
    let trace = recorded_suite();
    assert!(trace.exchanges().len() > 200, "{}", trace.exchanges().len());
    let tokens = BureauKeyTokens::from_secret(&BUREAU_SECRET).unwrap();
    // Another serial, seed and flash size (so GetInfo's free journal slots differ too).
    let mut b = InProcess::new(sim_with_flash("661234567899", 99, 2 << 20));
    let opts = ReplayOptions {
        tokens: Some(&tokens),
        ..ReplayOptions::default()
    };
    let r = replay_with(&trace, &mut b, &opts);
    println!("{r}");
    assert!(r.is_same(), "{r}");
    assert!(r.notes.is_empty(), "{r}");
    assert_eq!(r.exchanges, trace.exchanges().len());
    assert_eq!(r.compared, r.exchanges);
    // The second disk really did the work under its own serial.
    let disk = b.into_inner();
    assert!(
        disk.transitions()
            .iter()
            .any(|t| t.to.to_string() == "ready")
    );
}

/// Issue 17: a trace holds no device PIN. The suite logs in with a wrong PIN and changes the
/// PIN (D2); in the trace every PIN but the public factory one is a pseudonym, and the replay
/// above still gets the same answers (its own PIN for each pseudonym).
#[test]
fn trace_holds_no_device_pin_but_the_factory_one() {
    let trace = recorded_suite();
    let mut pins = Vec::new();
    for e in trace.exchanges() {
        let mut scratch = vec![0u8; taxdisk_protocol::frame::MAX_FRAME];
        let (h, p) = taxdisk_protocol::frame::decode_frame(&e.request, &mut scratch).unwrap();
        match taxdisk_protocol::frame::decode_request(&h, p) {
            Ok(taxdisk_protocol::Request::Login(pin)) => pins.push(pin),
            Ok(taxdisk_protocol::Request::ChangePin(c)) => pins.extend([c.old, c.new]),
            _ => {}
        }
    }
    assert!(
        pins.len() >= 3,
        "the suite logs in and changes the PIN: {pins:?}"
    );
    assert!(
        pins.iter().any(|p| p.as_str().starts_with("<pin-")),
        "{pins:?}"
    );
    for p in &pins {
        assert!(
            p.as_str() == taxdisk_protocol::types::Pin::FACTORY || p.as_str().starts_with("<pin-"),
            "a PIN in the trace: {p:?}"
        );
    }
}

#[test]
fn trace_replay_without_token_resigning_shows_wrong_device() {
    let trace = recorded_suite();
    let mut b = InProcess::new(sim("661234567899", 99));
    let r = replay(&trace, &mut b);
    assert!(!r.is_same());
    let first = &r.differences[0];
    assert_eq!(first.command, "Provision");
    assert_eq!(first.path, "status");
    assert!(first.replayed.contains("WrongDevice"), "{first}");
}

/// Changes the amount in the first recorded Issue answer (re-encoded with a valid CRC).
fn tamper(trace: &mut Trace) -> usize {
    let mut scratch = [0u8; MAX_FRAME];
    for (i, f) in trace.frames.iter_mut().enumerate() {
        if f.dir != TraceDir::In {
            continue;
        }
        let Ok((h, p)) = decode_frame(&f.bytes, &mut scratch) else {
            continue;
        };
        if h.frame_type != FrameType::Response || h.command != CommandId::Issue as u16 {
            continue;
        }
        let Ok(Ok(Response::Issue(mut inv))) = decode_response(&h, p) else {
            continue;
        };
        inv.body.amount = Fen(inv.body.amount.0 + 1);
        let mut out = [0u8; MAX_ENCODED];
        let n = encode_response(&h, &Ok(Response::Issue(inv)), &mut out).unwrap();
        f.bytes = out[..n].to_vec();
        return i;
    }
    panic!("no Issue answer in the trace");
}

#[test]
fn trace_tampered_answer_is_a_difference_with_path_and_values() {
    let mut trace = recorded_suite();
    tamper(&mut trace);
    // Through the file format and back.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.jsonl");
    std::fs::write(&path, trace.to_text()).unwrap();
    let trace = Trace::read(&path).unwrap();
    let tokens = BureauKeyTokens::from_secret(&BUREAU_SECRET).unwrap();
    let mut b = InProcess::new(sim("661234567899", 99));
    let opts = ReplayOptions {
        tokens: Some(&tokens),
        ..ReplayOptions::default()
    };
    let r = replay_with(&trace, &mut b, &opts);
    println!("{r}");
    let amount = r
        .differences
        .iter()
        .find(|d| d.path == "body.amount")
        .unwrap_or_else(|| panic!("no amount difference:\n{r}"));
    assert_eq!(amount.command, "Issue");
    assert_eq!(
        amount.recorded.parse::<i64>().unwrap(),
        amount.replayed.parse::<i64>().unwrap() + 1
    );
    assert!(
        r.differences.iter().any(|d| d.command == "Issue"
            && d.path == "signature"
            && d.recorded.contains("invalid")),
        "{r}"
    );
    assert_eq!(r.differences.len(), 2, "{r}");
}

#[test]
fn trace_recorder_file_round_trip_and_bad_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let rec = Recorder::create(InProcess::new(sim("661234567890", 1)), &path).unwrap();
    let mut c = taxdisk_host::disk::DiskClient::new(rec);
    assert_eq!(c.ping(42).unwrap(), 42);
    let info = c.info().unwrap();
    c.into_transport().finish().unwrap();
    let trace = Trace::read(&path).unwrap();
    assert_eq!(trace.frames.len(), 4);
    let ex = trace.exchanges();
    assert_eq!(ex.len(), 2);
    assert!(ex.iter().all(|e| e.answer.is_some()));
    let mut same = InProcess::new(sim("661234567890", 1));
    let r = replay(&trace, &mut same);
    assert!(r.is_same(), "{r}");
    assert_eq!(info.serial.as_str(), "661234567890");

    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    for (bad, want_line) in [
        (
            r#"{"type":"frame","dir":"out","t_us":1,"hex":"zz"}"#,
            Some(2),
        ),
        (
            r#"{"type":"frame","dir":"sideways","t_us":1,"hex":"00"}"#,
            Some(2),
        ),
        ("not json", Some(2)),
        (
            r#"{"type":"header","format":"taxdisk-trace/1","started_unix_ms":0,"link":"x"}"#,
            Some(2),
        ),
    ] {
        lines.insert(1, bad);
        match Trace::parse(&lines.join("\n")) {
            Err(TraceError::Line { line, .. }) => assert_eq!(Some(line), want_line, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
        lines.remove(1);
    }
    let huge = format!(
        r#"{{"type":"frame","dir":"in","t_us":1,"hex":"{}"}}"#,
        "01".repeat(MAX_ENCODED + 1)
    );
    lines.insert(1, &huge);
    assert!(matches!(
        Trace::parse(&lines.join("\n")),
        Err(TraceError::Line { line: 2, .. })
    ));
    assert!(matches!(Trace::parse(""), Err(TraceError::Format(_))));
    assert!(matches!(
        Trace::parse(&lines[1..].join("\n")),
        Err(TraceError::Format(_))
    ));
    // Garbage frames in a trace are skipped, never a panic.
    let t = Trace::parse(&format!(
        "{}\n{}\n",
        lines[0], r#"{"type":"frame","dir":"out","t_us":1,"hex":"0102030400"}"#
    ))
    .unwrap();
    assert!(t.exchanges().is_empty());
    let mut d = InProcess::new(sim("661234567890", 1));
    assert!(replay(&t, &mut d).is_same());
}

#[test]
fn trace_suite_with_control_replays_with_the_control_requests() {
    use taxdisk_host::conformance::{Control, FnControl};
    use taxdisk_host::trace::replay_with_control;
    use taxdisk_host::transport::inproc::Shared;
    use taxdisk_protocol::control::ControlRequest;

    // Record the whole suite, clock and power moves included.
    let buf = Buf::default();
    let (shared_a, handle_a) = Shared::new(sim("661234567890", 1));
    let rec = Recorder::new(InProcess::new(shared_a), Box::new(buf.clone())).unwrap();
    let mut ctl = rec.control(FnControl(move |r: ControlRequest| {
        handle_a.lock().unwrap().control(r)
    }));
    let tokens = BureauKeyTokens::from_secret(&BUREAU_SECRET).unwrap();
    let report = run_suite(
        Box::new(rec),
        Some(&tokens as &dyn TokenSource),
        Some(&mut ctl as &mut dyn Control),
    );
    assert!(report.ok() && report.skipped() == 0, "{}", report.table());
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains(r#""type":"control""#));
    let trace = Trace::parse(&text).unwrap();
    assert!(
        trace
            .controls
            .iter()
            .any(|c| c.request == ControlRequest::PowerCycle)
    );
    // Through the text form and back, the controls keep their places.
    assert_eq!(Trace::parse(&trace.to_text()).unwrap(), trace);

    // Replayed on another serial and seed, with its own control channel: no difference.
    let (shared_b, handle_b) = Shared::new(sim("661234567899", 99));
    let mut b = InProcess::new(shared_b);
    let mut ctl_b = FnControl(move |r: ControlRequest| handle_b.lock().unwrap().control(r));
    let opts = ReplayOptions {
        tokens: Some(&tokens),
        ..ReplayOptions::default()
    };
    let r = replay_with_control(&trace, &mut b, &opts, &mut ctl_b);
    println!("{r}");
    assert!(r.is_same() && r.notes.is_empty(), "{r}");

    // Without the control channel the moves are missing, and it shows.
    let mut c = InProcess::new(sim("661234567899", 99));
    let r = replay_with(&trace, &mut c, &opts);
    assert!(!r.is_same(), "{r}");
    assert!(r.notes.iter().any(|n| n.contains("not applied")), "{r}");
}

#[test]
fn trace_long_trace_pairs_in_one_pass() {
    use taxdisk_host::trace::TraceFrame;
    use taxdisk_protocol::Request;
    use taxdisk_protocol::frame::{Header, encode_request};
    // 40,000 pings and their answers, answers in reverse order of a block of 100.
    let mut frames = Vec::new();
    for block in 0..200u32 {
        let mut answers = Vec::new();
        for k in 0..100u32 {
            let seq = block * 100 + k + 1;
            let mut out = [0u8; MAX_ENCODED];
            let n = encode_request(seq, 7, &Request::Ping(seq), &mut out).unwrap();
            frames.push(TraceFrame {
                dir: TraceDir::Out,
                t_us: u64::from(seq),
                bytes: out[..n].to_vec(),
            });
            let h = Header::request(CommandId::Ping, seq, 7);
            let n = encode_response(&h, &Ok(Response::Ping(seq)), &mut out).unwrap();
            answers.push(out[..n].to_vec());
        }
        for a in answers.into_iter().rev() {
            frames.push(TraceFrame {
                dir: TraceDir::In,
                t_us: 0,
                bytes: a,
            });
        }
    }
    let trace = Trace {
        link: "test".into(),
        started_unix_ms: 0,
        frames,
        controls: Vec::new(),
    };
    let t = std::time::Instant::now();
    let ex = trace.exchanges();
    assert_eq!(ex.len(), 20_000);
    assert!(ex.iter().all(|e| e.answer.is_some()));
    assert!(
        t.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        t.elapsed()
    );
    let mut scratch = [0u8; MAX_FRAME];
    let (h, p) = decode_frame(ex[150].answer.as_ref().unwrap(), &mut scratch).unwrap();
    assert_eq!(decode_response(&h, p).unwrap(), Ok(Response::Ping(151)));
}

/// A writer that fails after `ok` bytes.
struct Failing(usize);

impl Write for Failing {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.0 < b.len() {
            return Err(std::io::Error::other("disk full"));
        }
        self.0 -= b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn trace_write_errors_surface_at_finish_and_never_fail_the_session() {
    let rec = Recorder::new(
        InProcess::new(sim("661234567890", 1)),
        Box::new(Failing(200)),
    )
    .unwrap();
    let mut c = taxdisk_host::disk::DiskClient::new(rec);
    // Enough frames to overflow the writer's buffer several times.
    for n in 0..200 {
        assert_eq!(c.ping(n).unwrap(), n);
    }
    match c.into_transport().finish() {
        Err(TraceError::Io { source, .. }) => assert_eq!(source.to_string(), "disk full"),
        other => panic!("{other:?}"),
    }
}

/// A transport with no disk behind it.
struct Nothing;

impl taxdisk_host::transport::Transport for Nothing {
    fn send(&mut self, _: &[u8]) -> Result<(), taxdisk_host::transport::TransportError> {
        Err(taxdisk_host::transport::TransportError::NoDevice(
            "no tax disk here".into(),
        ))
    }
    fn recv(
        &mut self,
        t: std::time::Duration,
    ) -> Result<taxdisk_host::transport::Frame, taxdisk_host::transport::TransportError> {
        Err(taxdisk_host::transport::TransportError::Timeout(t))
    }
    fn reconnect(&mut self) -> Result<(), taxdisk_host::transport::TransportError> {
        Ok(())
    }
    fn describe(&self) -> String {
        "nothing".into()
    }
}

#[test]
fn trace_replay_to_no_disk_is_aborted_with_the_reason() {
    let trace = recorded_suite();
    // As the CLI holds a transport: boxed, from `transport::open`.
    let mut t: Box<dyn taxdisk_host::transport::Transport + Send> = Box::new(Nothing);
    let r = replay(&trace, &mut *t);
    assert!(!r.is_same());
    assert!(
        r.aborted
            .as_deref()
            .is_some_and(|a| a.contains("no tax disk here")),
        "{r}"
    );
    assert_eq!(r.exchanges, 1);
}
