//! The conformance suite against the reference simulator: in-process (`SimDisk` with its
//! control channel as a closure) and over TCP (`taxdisk-sim serve`'s server started in this
//! process on port 0, with its control port). Every scenario must pass; the JUnit output is
//! parsed back with quick-xml and must agree with the report.
#![allow(clippy::unwrap_used)]

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use std::sync::{Arc, Mutex};
use taxdisk_device_sim::serve::{BureauSetup, ServeConfig, Server};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::conformance::{
    BureauKeyTokens, Control, FnControl, Outcome, Report, TcpControl, TokenSource, run_suite,
    scenario_list,
};
use taxdisk_host::trace::{Recorder, Trace, TraceDir};
use taxdisk_host::transport::inproc::Shared;
use taxdisk_host::transport::{InProcess, TcpTransport};
use taxdisk_protocol::CommandId;
use taxdisk_protocol::Timestamp;
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::frame::{decode_frame, decode_request, decode_response};
use taxdisk_protocol::sign;
use taxdisk_protocol::time::CivilTime;
use taxdisk_protocol::types::DeviceSerial;

const BUREAU_SECRET: [u8; 32] = [7; 32];

fn start() -> Timestamp {
    Timestamp::from_civil(CivilTime {
        year: 2026,
        month: 11,
        day: 10,
        hour: 10,
        minute: 0,
        second: 0,
    })
}

fn sim_config() -> SimConfig {
    sim_config_at(start())
}

fn sim_config_at(t: Timestamp) -> SimConfig {
    let key = sign::signing_key(&BUREAU_SECRET).unwrap();
    let mut cfg = SimConfig::new(
        DeviceSerial::new("661234567890").unwrap(),
        sign::public_key(&key),
        t,
    );
    cfg.flash_bytes = 1 << 20;
    cfg.seed = 11;
    cfg
}

fn assert_all_pass(report: &Report) {
    report.print_table();
    for r in &report.rows {
        assert_eq!(
            r.outcome,
            Outcome::Pass,
            "{} failed or skipped:\n{}",
            r.name,
            report.table()
        );
    }
}

/// Parses the JUnit XML and returns (tests attr, failures attr, skipped attr, testcases,
/// failure elements, skipped elements).
fn parse_junit(xml: &str) -> (usize, usize, usize, Vec<String>, usize, usize) {
    let mut reader = Reader::from_str(xml);
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    let mut cases = Vec::new();
    let (mut n_fail, mut n_skip) = (0, 0);
    let mut depth = 0i32;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "testsuite" => {
                for a in e.attributes() {
                    let a = a.unwrap();
                    let v: usize = a
                        .normalized_value(XmlVersion::Explicit1_0)
                        .unwrap()
                        .parse()
                        .unwrap_or(usize::MAX);
                    match a.key.as_ref() {
                        "tests" => tests = v,
                        "failures" => failures = v,
                        "skipped" => skipped = v,
                        _ => {}
                    }
                }
                depth += 1;
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "testcase" => {
                let name = e.try_get_attribute("name").unwrap().unwrap();
                cases.push(
                    name.normalized_value(XmlVersion::Explicit1_0)
                        .unwrap()
                        .into_owned(),
                );
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "failure" => n_fail += 1,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "skipped" => n_skip += 1,
            Event::End(e) if e.name().as_ref() == "testsuite" => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "testsuite not closed");
    (tests, failures, skipped, cases, n_fail, n_skip)
}

#[test]
fn conformance_suite_covers_every_rule_and_command() {
    let list = scenario_list();
    for d in 1..=14 {
        let rule = format!("D{d}");
        assert!(
            list.iter().any(|s| s.rule == rule),
            "no scenario for {rule}"
        );
    }
    for c in CommandId::ALL {
        assert!(
            list.iter().any(|s| s.commands.contains(c)),
            "no scenario uses {}",
            c.name()
        );
    }
}

#[test]
fn conformance_in_process_sim_passes_everything() {
    let (shared, handle) = Shared::new(SimDisk::new(sim_config()).unwrap());
    let h2: Arc<Mutex<SimDisk>> = handle.clone();
    let mut control = FnControl(move |r: ControlRequest| h2.lock().unwrap().control(r));
    let tokens = BureauKeyTokens::from_secret(&BUREAU_SECRET).unwrap();
    let report = run_suite(
        Box::new(InProcess::new(shared)),
        Some(&tokens as &dyn TokenSource),
        Some(&mut control as &mut dyn Control),
    );
    assert_all_pass(&report);
    assert_eq!(report.rows.len(), scenario_list().len());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    report.write_junit(&path).unwrap();
    let xml = std::fs::read_to_string(&path).unwrap();
    let (tests, failures, skipped, cases, n_fail, n_skip) = parse_junit(&xml);
    assert_eq!(
        (tests, failures, skipped, n_fail, n_skip),
        (report.rows.len(), 0, 0, 0, 0)
    );
    let names: Vec<String> = report.rows.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(cases, names);
}

#[test]
fn conformance_without_tokens_or_control_skips_with_reasons() {
    let (shared, _handle) = Shared::new(SimDisk::new(sim_config()).unwrap());
    let report = run_suite(Box::new(InProcess::new(shared)), None, None);
    assert_eq!(report.failed(), 0, "{}", report.table());
    assert_eq!(
        report.row("wire_ping_echoes").unwrap().outcome,
        Outcome::Pass
    );
    assert_eq!(
        report
            .row("d01_factory_state_refuses_all_but_provision")
            .unwrap()
            .outcome,
        Outcome::Pass
    );
    match &report
        .row("d01_provision_token_bound_to_serial")
        .unwrap()
        .outcome
    {
        Outcome::Skip(m) => assert!(m.contains("token source"), "{m}"),
        o => panic!("{o:?}"),
    }
    assert!(
        report.skipped() >= scenario_list().len() - 3,
        "{}",
        report.table()
    );
    // The JUnit file marks the skips with their reasons.
    let (tests, failures, skipped, _, n_fail, n_skip) = parse_junit(&report.junit());
    assert_eq!((tests, failures, n_fail), (report.rows.len(), 0, 0));
    assert_eq!((skipped, n_skip), (report.skipped(), report.skipped()));
}

#[test]
fn conformance_tcp_server_with_control_port_passes_everything() {
    let key = sign::signing_key(&BUREAU_SECRET).unwrap();
    let server = Server::start(ServeConfig {
        sim: sim_config(),
        run_free: false,
        disk_addr: "127.0.0.1:0".parse().unwrap(),
        control_addr: "127.0.0.1:0".parse().unwrap(),
        bureau: BureauSetup::Key(sign::public_key(&key)),
        usbip: None,
    })
    .unwrap();
    let transport = TcpTransport::connect(&server.disk_addr().to_string()).unwrap();
    let mut control = TcpControl::connect(server.control_addr().to_string()).unwrap();
    let tokens = BureauKeyTokens::new(key);
    let report = run_suite(
        Box::new(transport),
        Some(&tokens as &dyn TokenSource),
        Some(&mut control as &mut dyn Control),
    );
    assert_all_pass(&report);
    let (tests, failures, ..) = parse_junit(&report.junit());
    assert_eq!((tests, failures), (report.rows.len(), 0));
    server.shutdown().unwrap();
}

#[test]
fn conformance_junit_escapes_markup_quotes_and_control_characters() {
    use std::time::Duration;
    use taxdisk_host::conformance::{Direction, LoggedFrame, Row};
    let nasty = "expected <Busy> & \"quotes\" 'too'\nline two\u{1}end";
    let report = Report {
        link: "tcp <127.0.0.1>&".into(),
        rows: vec![
            Row {
                rule: "D14",
                commands: vec!["Login"],
                name: "d14_<odd>&name",
                outcome: Outcome::Fail(nasty.into()),
                local: None,
                frames: vec![LoggedFrame {
                    direction: Direction::Sent,
                    command: "Login".into(),
                    hex: "0a0b00".into(),
                }],
                duration: Duration::from_millis(5),
            },
            Row {
                rule: "D2",
                commands: vec!["Login"],
                name: "d02_skip",
                outcome: Outcome::Skip("no <control> & \"co\"".into()),
                local: None,
                frames: Vec::new(),
                duration: Duration::ZERO,
            },
        ],
    };
    let xml = report.junit();
    let (tests, failures, skipped, cases, n_fail, n_skip) = parse_junit(&xml);
    assert_eq!((tests, failures, skipped, n_fail, n_skip), (2, 1, 1, 1, 1));
    assert_eq!(cases, ["d14_<odd>&name", "d02_skip"]);
    // The failure's message and text come back as written, the control character as '?'.
    let mut reader = Reader::from_str(&xml);
    let (mut message, mut text, mut in_failure) = (String::new(), String::new(), false);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.name().as_ref() == "failure" => {
                in_failure = true;
                let a = e.try_get_attribute("message").unwrap().unwrap();
                message = a
                    .normalized_value(XmlVersion::Explicit1_0)
                    .unwrap()
                    .into_owned();
            }
            Event::Text(t) if in_failure => text.push_str(AsRef::<str>::as_ref(&t)),
            Event::GeneralRef(r) if in_failure => {
                let name = std::borrow::Cow::Borrowed(AsRef::<str>::as_ref(&r));
                text.push_str(match name.as_ref() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    "#10" => "\n",
                    other => panic!("unexpected entity {other}"),
                });
            }
            Event::End(e) if e.name().as_ref() == "failure" => in_failure = false,
            Event::Eof => break,
            _ => {}
        }
    }
    let want = nasty.replace('\u{1}', "?");
    assert_eq!(message, want);
    assert!(text.starts_with(&want), "{text:?}");
    assert!(text.contains("-> Login 0a0b00"), "{text:?}");
}

#[test]
fn conformance_tcp_control_to_nothing_is_an_error() {
    // Bind then drop a listener to get a port with nothing behind it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(TcpControl::connect(port.to_string()).is_err());
    assert!(TcpControl::connect("not an address").is_err());
}

#[test]
fn conformance_bureau_secret_from_hex() {
    let t =
        BureauKeyTokens::from_secret_hex(&format!(" {} \n", hex::encode(BUREAU_SECRET))).unwrap();
    let want = sign::public_key(&sign::signing_key(&BUREAU_SECRET).unwrap());
    assert_eq!(t.bureau_key(), want);
    for bad in ["", "zz", "0707", &"00".repeat(32), &"07".repeat(33)] {
        assert!(BureauKeyTokens::from_secret_hex(bad).is_err(), "{bad}");
    }
}

/// The whole suite against a fresh reference simulator whose clock starts at `t`, every frame
/// recorded; the report and the trace.
fn suite_at(t: Timestamp) -> (Report, Trace) {
    let (shared, handle) = Shared::new(SimDisk::new(sim_config_at(t)).unwrap());
    let mut control = FnControl(move |r: ControlRequest| handle.lock().unwrap().control(r));
    let tokens = BureauKeyTokens::from_secret(&BUREAU_SECRET).unwrap();
    let (out, text) = SharedBuf::new();
    let rec = Recorder::new(InProcess::new(shared), Box::new(out)).unwrap();
    let report = run_suite(
        Box::new(rec),
        Some(&tokens as &dyn TokenSource),
        Some(&mut control as &mut dyn Control),
    );
    let trace = Trace::parse(&String::from_utf8(text.lock().unwrap().clone()).unwrap()).unwrap();
    (report, trace)
}

/// A `Write` whose bytes the test reads back.
#[derive(Clone)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    fn new() -> (SharedBuf, Arc<Mutex<Vec<u8>>>) {
        let b = Arc::new(Mutex::new(Vec::new()));
        (SharedBuf(b.clone()), b)
    }
}

impl std::io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Green on any date (issue 12): the same verdict from every start the calendar can give,
/// month ends, the turn of the year, 28/29 February, the bureau's lock day (00:00 on the 16th,
/// `deadlines`) and the day after it, and times near midnight in China time while the host
/// runs in UTC.
#[test]
fn conformance_passes_from_every_kind_of_date() {
    let dates = [
        Timestamp::cst(2026, 11, 26, 10, 0),
        Timestamp::cst(2026, 12, 3, 10, 0),
        Timestamp::cst(2026, 12, 31, 23, 30),
        Timestamp::cst(2027, 1, 1, 0, 10),
        Timestamp::cst(2027, 2, 28, 12, 0),
        Timestamp::cst(2028, 2, 29, 12, 0),
        Timestamp::cst(2026, 12, 16, 0, 0),
        Timestamp::cst(2026, 12, 17, 9, 0),
        Timestamp::cst(2026, 11, 30, 23, 59),
        Timestamp::cst(2027, 1, 31, 23, 59),
        Timestamp::cst(2026, 12, 1, 0, 0),
    ];
    let mut failed = Vec::new();
    for t in dates {
        let (report, _) = suite_at(t);
        for r in &report.rows {
            if r.outcome != Outcome::Pass {
                failed.push(format!("started at {t} (CST): {}: {:?}", r.name, r.outcome));
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// Every time, period and invoice code in a recorded run belongs to the simulated clock, not
/// the host's: the suite started in 2031 must never say 2026 (or today).
#[test]
fn conformance_reads_no_wall_clock() {
    let start = Timestamp::cst(2031, 6, 30, 23, 50);
    let (report, trace) = suite_at(start);
    assert_all_pass(&report);
    // The suite's own moves stay within a few months of the start.
    let lo = start.0 - 2 * 86_400;
    let hi = start.0 + 200 * 86_400;
    let mut seen = (0usize, 0usize, 0usize);
    for f in &trace.frames {
        let mut scratch = vec![0u8; taxdisk_protocol::frame::MAX_FRAME];
        let (header, payload) = decode_frame(&f.bytes, &mut scratch).unwrap();
        let value = match f.dir {
            TraceDir::Out => match decode_request(&header, payload) {
                Ok(r) => serde_json::to_value(&r).unwrap(),
                // The suite's deliberately malformed frames carry no time.
                Err(_) => continue,
            },
            TraceDir::In => match decode_response(&header, payload) {
                Ok(Ok(r)) => serde_json::to_value(&r).unwrap(),
                _ => continue,
            },
        };
        check_times(&value, "", lo, hi, &mut seen);
    }
    let (times, periods, codes) = seen;
    assert!(
        times > 100 && periods > 10 && codes > 10,
        "the trace had {times} times, {periods} periods, {codes} codes"
    );
}

fn check_times(
    v: &serde_json::Value,
    key: &str,
    lo: u64,
    hi: u64,
    seen: &mut (usize, usize, usize),
) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                check_times(v, k, lo, hi, seen);
            }
        }
        Value::Array(a) => {
            for v in a {
                check_times(v, key, lo, hi, seen);
            }
        }
        Value::Number(n) => {
            let Some(n) = n.as_u64() else { return };
            let is_time = key == "time"
                || key.ends_with("_time")
                || key.ends_with("_at")
                || key.ends_with("deadline")
                || key.ends_with("until")
                || key == "oldest_pending";
            let is_period =
                key == "period" || key.starts_with("last_") && n > 200_000 && n < 1_000_000;
            if is_time && n != 0 {
                seen.0 += 1;
                assert!(
                    (lo..=hi).contains(&n),
                    "{key} = {} ({n}) is not on the simulated clock",
                    Timestamp(n)
                );
            } else if is_period {
                seen.1 += 1;
                assert!(
                    (203_106..=203_201).contains(&n),
                    "{key} = {n} is not a period of the simulated clock"
                );
            }
        }
        Value::String(s) if key == "code" && s.chars().all(|c| c.is_ascii_digit()) => {
            // F2: the year is digits 5-6 of a 10-digit code, 6-7 of a 12-digit one.
            let year = match s.len() {
                10 => &s[4..6],
                12 => &s[5..7],
                _ => return,
            };
            seen.2 += 1;
            assert!(
                year == "31" || year == "32",
                "invoice code {s} has year {year}, not the simulated clock's"
            );
        }
        _ => {}
    }
}
