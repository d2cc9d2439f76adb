//! Deliberately broken disks fail the right scenario, with the frames: a wrapper around the
//! simulator's `SimDisk` that answers a wrong error code for one D5 refusal, and one that drops
//! Issue idempotency by giving the firmware a fresh request id every time.
#![allow(clippy::unwrap_used)]

use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::conformance::{
    BureauKeyTokens, Direction, FnControl, Outcome, Report, TokenSource, run_suite,
};
use taxdisk_host::transport::InProcess;
use taxdisk_host::transport::inproc::Shared;
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::frame::{
    FrameType, MAX_ENCODED, MAX_FRAME, decode_frame, decode_request, encode_raw, encode_request,
};
use taxdisk_protocol::sign;
use taxdisk_protocol::time::CivilTime;
use taxdisk_protocol::types::DeviceSerial;
use taxdisk_protocol::{FrameHandler, Request, Timestamp, WireError};

const BUREAU_SECRET: [u8; 32] = [7; 32];

fn sim() -> SimDisk {
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
        DeviceSerial::new("661234567890").unwrap(),
        sign::public_key(&key),
        start,
    );
    cfg.flash_bytes = 1 << 20;
    SimDisk::new(cfg).unwrap()
}

/// Answers OverSingleLimit where the firmware refuses with ZeroTotal.
struct WrongZeroTotalCode(Shared<SimDisk>);

impl FrameHandler for WrongZeroTotalCode {
    fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
        let n = self.0.handle_frame(frame, out);
        let mut scratch = [0u8; MAX_FRAME];
        let Ok((h, p)) = decode_frame(&out[..n], &mut scratch) else {
            return n;
        };
        if h.frame_type != FrameType::Response || h.status != WireError::ZeroTotal.code() {
            return n;
        }
        let h = taxdisk_protocol::Header {
            status: WireError::OverSingleLimit.code(),
            ..h
        };
        let p = p.to_vec();
        encode_raw(&h, &p, out).unwrap()
    }
}

/// Gives the firmware a fresh request id with every Issue, so a retry makes a new invoice.
struct NoIdempotency(Shared<SimDisk>, u8);

impl FrameHandler for NoIdempotency {
    fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
        let mut scratch = [0u8; MAX_FRAME];
        if let Ok((h, p)) = decode_frame(frame, &mut scratch)
            && let Ok(Request::Issue(mut q)) = decode_request(&h, p)
        {
            self.1 = self.1.wrapping_add(1);
            q.request_id[15] ^= self.1;
            let mut f = [0u8; MAX_ENCODED];
            let n = encode_request(h.seq, h.session, &Request::Issue(q), &mut f).unwrap();
            return self.0.handle_frame(&f[..n], out);
        }
        self.0.handle_frame(frame, out)
    }
}

fn run(make: impl FnOnce(Shared<SimDisk>) -> Box<dyn FrameHandler + Send>) -> Report {
    let (shared, handle) = Shared::new(sim());
    let handler = make(shared);
    let mut control = FnControl(move |r: ControlRequest| handle.lock().unwrap().control(r));
    let tokens = BureauKeyTokens::from_secret(&BUREAU_SECRET).unwrap();
    let report = run_suite(
        Box::new(InProcess::boxed(handler)),
        Some(&tokens as &dyn TokenSource),
        Some(&mut control),
    );
    report.print_table();
    report
}

fn failure<'a>(report: &'a Report, name: &str) -> &'a str {
    match &report.row(name).unwrap().outcome {
        Outcome::Fail(m) => m,
        o => panic!("{name} should fail, was {o:?}\n{}", report.table()),
    }
}

#[test]
fn conformance_broken_d5_error_code_fails_d05_refusals_with_frames() {
    let report = run(|s| Box::new(WrongZeroTotalCode(s)));
    let m = failure(&report, "d05_issue_refusals");
    assert!(
        m.contains("ZeroTotal") && m.contains("OverSingleLimit"),
        "{m}"
    );
    let row = report.row("d05_issue_refusals").unwrap();
    assert_eq!(row.rule, "D5");
    assert!(
        row.frames
            .iter()
            .any(|f| f.direction == Direction::Sent && f.command == "Issue")
    );
    assert!(
        row.frames
            .iter()
            .any(|f| f.direction == Direction::Received && f.command == "Issue")
    );
    // The frame with the wrong code is there, in hex: status 0x0501 little-endian at offset 12
    // of the decoded frame; check by decoding the logged frames.
    let wrong = row.frames.iter().any(|f| {
        let bytes = hex::decode(&f.hex).unwrap_or_default();
        let mut s = [0u8; MAX_FRAME];
        decode_frame(&bytes, &mut s)
            .is_ok_and(|(h, _)| h.status == WireError::OverSingleLimit.code())
    });
    assert!(
        wrong,
        "the frames of the failed row do not show the wrong answer"
    );
    // Only that rule is affected; the JUnit failure carries the frames.
    assert_eq!(report.failed(), 1, "{}", report.table());
    let xml = report.junit();
    assert!(
        xml.contains("<failure message=") && xml.contains("-&gt; Issue"),
        "{xml}"
    );
    assert!(
        report
            .row("d04_roll_grants_once_bound_to_serial")
            .unwrap()
            .frames
            .is_empty()
    );
}

#[test]
fn conformance_broken_idempotency_fails_d05_retry() {
    let report = run(|s| Box::new(NoIdempotency(s, 0)));
    let m = failure(&report, "d05_issue_retry_is_idempotent");
    assert!(m.contains("another invoice"), "{m}");
    let row = report.row("d05_issue_retry_is_idempotent").unwrap();
    let issues = row
        .frames
        .iter()
        .filter(|f| f.command == "Issue" && f.direction == Direction::Sent)
        .count();
    assert!(issues >= 2, "{:?}", row.frames);
    // Rules that do not retry an Issue still pass.
    for name in [
        "d01_provision_token_bound_to_serial",
        "d02_pin_blocks_at_zero_until_unblock_token",
        "d04_roll_grants_once_bound_to_serial",
        "d07_void_and_blank_void",
        "d12_pending_in_order_and_receipts",
    ] {
        assert_eq!(
            report.row(name).unwrap().outcome,
            Outcome::Pass,
            "{name}\n{}",
            report.table()
        );
    }
}

/// A disk that never answers.
struct Silent;

impl FrameHandler for Silent {
    fn handle_frame(&mut self, _: &[u8], _: &mut [u8]) -> usize {
        0
    }
}

/// The suite against [`Silent`], with tokens and no control channel.
fn silent_report() -> Report {
    let tokens = BureauKeyTokens::from_secret(&BUREAU_SECRET).unwrap();
    run_suite(
        Box::new(InProcess::new(Silent)),
        Some(&tokens as &dyn TokenSource),
        None,
    )
}

#[test]
fn conformance_silent_disk_fails_fast_with_the_timeout_and_skips_the_rest() {
    let report = silent_report();
    let m = failure(&report, "wire_ping_echoes");
    assert!(m.contains("no answer"), "{m}");
    let row = report.row("wire_ping_echoes").unwrap();
    assert!(
        row.frames
            .iter()
            .any(|f| f.direction == Direction::Sent && f.command == "Ping")
    );
    assert!(failure(&report, "d01_factory_state_refuses_all_but_provision").contains("no answer"));
    // Nothing after D1 can run on a disk this run did not provision.
    for r in &report.rows[4..] {
        assert!(
            matches!(r.outcome, Outcome::Skip(_)),
            "{}: {:?}",
            r.name,
            r.outcome
        );
    }
}

#[test]
fn conformance_table_words_a_disk_error_in_the_process_language() {
    // The language is the process's: this test binary's other tests check outcomes, which stay
    // English whatever it is, so switching it here cannot disturb them.
    taxdisk_i18n::set(taxdisk_i18n::Lang::ZhCn);
    let report = silent_report();
    // JUnit and the outcome keep the disk error's English ...
    let m = failure(&report, "wire_ping_echoes");
    assert!(m.contains("no answer from the disk"), "{m}");
    assert!(report.junit().contains("no answer from the disk"));
    // ... the table words the same error from the catalogue, in Chinese.
    let row = report.row("wire_ping_echoes").unwrap();
    let local = row.local.as_deref().unwrap();
    assert!(
        local.contains("没有回答") && local.contains("毫秒"),
        "{local}"
    );
    let table = report.table();
    let line = table
        .lines()
        .find(|l| l.contains("wire_ping_echoes"))
        .unwrap();
    assert!(
        line.contains(local) && !line.contains("no answer"),
        "{line}"
    );
}

#[test]
fn conformance_table_words_a_wrong_refusal_in_the_process_language() {
    taxdisk_i18n::set(taxdisk_i18n::Lang::ZhCn);
    let report = run(|s| Box::new(WrongZeroTotalCode(s)));
    let m = failure(&report, "d05_issue_refusals");
    assert!(m.contains("expected refusal ZeroTotal"), "{m}");
    let local = report
        .row("d05_issue_refusals")
        .unwrap()
        .local
        .clone()
        .unwrap();
    // The check's words and the disk's refusal both from the catalogue: no English left.
    assert!(local.contains("应拒绝为"), "{local}");
    assert!(
        !local.contains("expected") && !local.contains("refused by the disk"),
        "{local}"
    );
}
