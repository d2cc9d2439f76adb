//! The frame boundary of the firmware (frame.rs answers), the simulator's control channel and
//! frame faults, and determinism (same seed + same clock script = same bytes).
// Money is written yuan_fen (100_00 = 100.00 yuan).
#![allow(clippy::inconsistent_digit_grouping)]
// Helpers outside #[test] fns stop the test with the failed step.
#![allow(clippy::unwrap_used)]
mod firmware_support;
use firmware_support::*;
use taxdisk_device_sim::sim::{DEFAULT_FLASH_BYTES, SimConfig, SimDisk};
use taxdisk_protocol::control::{ControlRequest, ControlResponse, FrameFaultAction};
use taxdisk_protocol::frame::{
    FrameType, Header, MAX_ENCODED, MAX_FRAME, decode_frame, decode_response, encode_raw,
    encode_request,
};
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{CommandId, DecodeError, FrameHandler, Request, Response, WireError};

fn answer(disk: &mut SimDisk, frame: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 2 * MAX_ENCODED];
    let n = disk.handle_frame(frame, &mut out);
    out.truncate(n);
    out
}

fn refusal(bytes: &[u8]) -> WireError {
    let mut scratch = [0u8; MAX_FRAME];
    let (h, p) = decode_frame(bytes, &mut scratch).unwrap();
    decode_response(&h, p).unwrap().unwrap_err().error
}

#[test]
fn frames_garbage_and_bad_crc_get_no_answer() {
    let mut d = Disk::provisioned();
    assert!(answer(&mut d.disk, &[1, 2, 3, 0]).is_empty());
    assert!(answer(&mut d.disk, &[]).is_empty());
    let mut f = [0u8; MAX_ENCODED];
    let n = encode_request(1, S, &Request::Ping(9), &mut f).unwrap();
    let mut bad = f[..n].to_vec();
    bad[n / 2] ^= 0x40;
    if bad[n / 2] == 0 {
        bad[n / 2] = 0x41;
    }
    assert!(answer(&mut d.disk, &bad).is_empty());
    // The good frame still works after garbage.
    let a = answer(&mut d.disk, &f[..n]);
    let mut scratch = [0u8; MAX_FRAME];
    let (h, p) = decode_frame(&a, &mut scratch).unwrap();
    assert_eq!(h.seq, 1);
    assert_eq!(decode_response(&h, p).unwrap(), Ok(Response::Ping(9)));
}

#[test]
fn frames_unknown_command_and_malformed_payload_are_answered() {
    let mut d = Disk::provisioned();
    let mut f = [0u8; MAX_ENCODED];
    let mut h = Header::request(CommandId::Ping, 3, S);
    h.command = 999;
    let n = encode_raw(&h, &[], &mut f).unwrap();
    let a = answer(&mut d.disk, &f[..n]);
    // An unknown id cannot be decoded as a response body; read the status from the header.
    let mut scratch = [0u8; MAX_FRAME];
    let (rh, _) = decode_frame(&a, &mut scratch).unwrap();
    assert_eq!(rh.status, WireError::UnknownCommand.code());
    assert_eq!(rh.seq, 3);
    let h = Header::request(CommandId::Login, 4, S);
    let n = encode_raw(&h, &[0xFF, 0xFF, 0xFF], &mut f).unwrap();
    assert_eq!(refusal(&answer(&mut d.disk, &f[..n])), WireError::Malformed);
    // Trailing bytes after a valid payload.
    let n = encode_raw(&Header::request(CommandId::Ping, 5, S), &[1, 0], &mut f).unwrap();
    assert_eq!(refusal(&answer(&mut d.disk, &f[..n])), WireError::Malformed);
}

#[test]
fn frames_control_requests_are_not_disk_requests() {
    let mut d = Disk::provisioned();
    let mut h = Header::request(CommandId::Ping, 1, S);
    h.frame_type = FrameType::ControlRequest;
    h.command = 0;
    let body = postcard::to_allocvec(&ControlRequest::GetClock).unwrap();
    let mut f = [0u8; MAX_ENCODED];
    let n = encode_raw(&h, &body, &mut f).unwrap();
    assert!(
        answer(&mut d.disk, &f[..n]).is_empty(),
        "disk port ignores control"
    );
    let mut out = vec![0u8; MAX_ENCODED];
    let m = d.disk.handle_control_frame(&f[..n], &mut out);
    let mut scratch = [0u8; MAX_FRAME];
    let (rh, p) = decode_frame(&out[..m], &mut scratch).unwrap();
    assert_eq!(rh.frame_type, FrameType::ControlResponse);
    let resp: ControlResponse = postcard::from_bytes(p).unwrap();
    assert_eq!(resp, ControlResponse::Clock(start()));
}

#[test]
fn frames_control_clock_power_snapshot_stats() {
    let mut d = Disk::stocked();
    assert_eq!(
        d.disk.control(ControlRequest::Advance(60)),
        ControlResponse::Ok
    );
    assert_eq!(
        d.disk.control(ControlRequest::GetClock),
        ControlResponse::Clock(start().plus_secs(60))
    );
    let snap = heapless::String::try_from("before").unwrap();
    d.disk.control(ControlRequest::Snapshot(snap.clone()));
    let inv = d.issue(InvoiceKind::Normal, 100_00);
    let ControlResponse::Stats(s) = d.disk.control(ControlRequest::Stats) else {
        panic!()
    };
    assert!(s.flash_programs > 0 && s.frames > 0);
    assert_eq!(
        d.disk.control(ControlRequest::Restore(snap)),
        ControlResponse::Ok
    );
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(
        d.info().counter,
        inv.body.counter - 1,
        "restored to before the issue"
    );
    let missing = heapless::String::try_from("nope").unwrap();
    assert!(matches!(
        d.disk.control(ControlRequest::Restore(missing)),
        ControlResponse::Error(_)
    ));
    // Unplugged: no answer; plugged back: powered up from flash (logged out).
    d.disk.control(ControlRequest::Plug(false));
    assert!(d.disk.try_request(S, &Request::Ping(1)).is_none());
    d.disk.control(ControlRequest::Plug(true));
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100),
        WireError::NotLoggedIn
    );
    d.disk.control(ControlRequest::PowerCycle);
    let ControlResponse::Stats(s) = d.disk.control(ControlRequest::Stats) else {
        panic!()
    };
    assert!(s.power_cycles >= 3);
}

#[test]
fn frames_dropped_answer_then_retry_gets_the_same_invoice() {
    let mut d = Disk::stocked();
    let q = d.req(InvoiceKind::Normal, 100_00);
    d.disk.control(ControlRequest::FrameFault {
        nth: 1,
        action: FrameFaultAction::DropAnswer,
    });
    assert!(d.disk.try_request(S, &Request::Issue(q.clone())).is_none());
    let inv = d.issue_with(q);
    assert_eq!(d.info().counter, inv.body.counter, "one invoice, not two");
}

#[test]
fn frames_dropped_request_changes_nothing() {
    let mut d = Disk::stocked();
    let before = d.info().counter;
    d.disk.control(ControlRequest::FrameFault {
        nth: 1,
        action: FrameFaultAction::DropRequest,
    });
    let q = d.req(InvoiceKind::Normal, 100_00);
    assert!(d.disk.try_request(S, &Request::Issue(q)).is_none());
    assert_eq!(d.info().counter, before);
}

#[test]
fn frames_corrupted_duplicated_and_delayed_answers() {
    let mut d = Disk::stocked();
    let mut f = [0u8; MAX_ENCODED];
    let n = encode_request(77, S, &Request::Ping(4), &mut f).unwrap();
    d.disk.control(ControlRequest::FrameFault {
        nth: 1,
        action: FrameFaultAction::CorruptAnswer,
    });
    let a = answer(&mut d.disk, &f[..n]);
    let mut scratch = [0u8; MAX_FRAME];
    let e = decode_frame(&a, &mut scratch).err();
    assert!(
        matches!(e, Some(DecodeError::Crc | DecodeError::Cobs)),
        "{e:?}"
    );
    d.disk.control(ControlRequest::FrameFault {
        nth: 2,
        action: FrameFaultAction::DuplicateAnswer,
    });
    let _ = answer(&mut d.disk, &f[..n]);
    let a = answer(&mut d.disk, &f[..n]);
    let frames: Vec<&[u8]> = a.split_inclusive(|b| *b == 0).collect();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0], frames[1]);
    d.disk.control(ControlRequest::FrameFault {
        nth: 1,
        action: FrameFaultAction::DelayAnswer(30),
    });
    let t = std::time::Instant::now();
    assert!(!answer(&mut d.disk, &f[..n]).is_empty());
    assert!(t.elapsed() >= std::time::Duration::from_millis(30));
    d.disk.control(ControlRequest::FrameFault {
        nth: 1,
        action: FrameFaultAction::DropAnswer,
    });
    d.disk.control(ControlRequest::ClearFaults);
    assert!(!answer(&mut d.disk, &f[..n]).is_empty());
}

#[test]
fn frames_latency_model_delays_answers() {
    let mut d = Disk::stocked();
    d.disk.control(ControlRequest::Latency(true));
    let t = std::time::Instant::now();
    d.issue(InvoiceKind::Normal, 100_00);
    assert!(t.elapsed() >= std::time::Duration::from_millis(120));
}

/// Same seed and same clock script: the same answers and the same flash image, byte for byte.
#[test]
fn sim_same_seed_same_clock_script_same_bytes() {
    let run = || {
        let mut d = Disk::stocked();
        let mut answers = Vec::new();
        for i in 0..5 {
            d.disk.advance(37 * i);
            answers.push(d.issue(InvoiceKind::Normal, 100_00 + i as i64));
        }
        (answers, d.disk.chip().memory().to_vec())
    };
    let (a1, m1) = run();
    let (a2, m2) = run();
    assert_eq!(a1, a2);
    assert!(m1 == m2, "flash images differ");
}

#[test]
fn d13_default_flash_holds_200k_invoices() {
    let cfg = SimConfig::new(serial(), sign::public_key(&bureau()), start());
    assert_eq!(cfg.flash_bytes, DEFAULT_FLASH_BYTES);
    let mut disk = SimDisk::new(cfg).unwrap();
    let Ok(Response::GetInfo(info)) = disk.request(S, Request::GetInfo(())) else {
        panic!()
    };
    assert!(info.journal_free >= 200_000, "{}", info.journal_free);
}

#[test]
fn frames_other_protocol_version_is_answered_unsupported() {
    let mut d = Disk::provisioned();
    // Build a version-2 frame by hand: header, payload, CRC, COBS.
    let mut raw = vec![2u8, 0];
    raw.extend_from_slice(&(CommandId::Ping as u16).to_le_bytes());
    raw.extend_from_slice(&8u32.to_le_bytes());
    raw.extend_from_slice(&S.to_le_bytes());
    raw.extend_from_slice(&[0; 6]);
    raw.push(7);
    let crc = taxdisk_protocol::frame::crc32(&raw);
    raw.extend_from_slice(&crc.to_le_bytes());
    let mut enc = vec![0u8; raw.len() + 8];
    let n = cobs::encode(&raw, &mut enc);
    enc.truncate(n);
    enc.push(0);
    let a = answer(&mut d.disk, &enc);
    let mut scratch = [0u8; MAX_FRAME];
    let (h, _) = decode_frame(&a, &mut scratch).unwrap();
    assert_eq!(h.status, WireError::UnsupportedVersion.code());
    assert_eq!(h.seq, 8);
}

#[test]
fn sim_clock_runs_free_when_told() {
    let mut d = Disk::provisioned();
    d.disk.control(ControlRequest::RunFree(true));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let ControlResponse::Clock(t) = d.disk.control(ControlRequest::GetClock) else {
        panic!()
    };
    assert!(t.0 > start().0, "the clock follows real time");
    d.disk.control(ControlRequest::RunFree(false));
    let ControlResponse::Clock(a) = d.disk.control(ControlRequest::GetClock) else {
        panic!()
    };
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let ControlResponse::Clock(b) = d.disk.control(ControlRequest::GetClock) else {
        panic!()
    };
    assert_eq!(a, b, "stopped again");
}

#[test]
fn sim_disk_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<SimDisk>();
}

/// DESIGN: the last answer is RAM state. A resent frame (same session, sequence and bytes) gets
/// the same answer without the command running again; another request with the same sequence
/// number is handled as new; a power cycle forgets the answer.
#[test]
fn d07_resent_frame_gets_the_last_answer_and_runs_once() {
    use taxdisk_protocol::command::VoidBlank;
    use taxdisk_protocol::frame::{Header, MAX_ENCODED, encode_raw, encode_request};
    let mut d = Disk::stocked();
    let left = |d: &mut Disk| match d.disk.request(S, Request::GetStatus(InvoiceKind::Normal)) {
        Ok(taxdisk_protocol::Response::GetStatus(s)) => s.blank_left,
        other => panic!("{other:?}"),
    };
    let before = left(&mut d);
    let mut f = [0u8; MAX_ENCODED];
    let req = Request::VoidBlank(VoidBlank {
        request_id: [0x41; 16],
        kind: InvoiceKind::Normal,
        count: 1,
    });
    let n = encode_request(7_000, S, &req, &mut f).unwrap();
    let mut a = vec![0u8; 2 * MAX_ENCODED];
    let mut b = vec![0u8; 2 * MAX_ENCODED];
    let na = d.disk.handle_frame(&f[..n], &mut a);
    let nb = d.disk.handle_frame(&f[..n], &mut b);
    assert!(na > 0);
    assert_eq!(a[..na], b[..nb], "the resend gets the same answer");
    assert_eq!(left(&mut d), before - 1, "voided once");
    // Same sequence number, other bytes: a new request (the Malformed answer of this Login
    // must not be replayed to it).
    let m = encode_raw(
        &Header::request(taxdisk_protocol::CommandId::Login, 7_001, S),
        &[1],
        &mut f,
    )
    .unwrap();
    assert!(d.disk.handle_frame(&f[..m], &mut a) > 0);
    let p = encode_request(7_001, S, &Request::Ping(5), &mut f).unwrap();
    let np = d.disk.handle_frame(&f[..p], &mut a);
    let mut scratch = [0u8; taxdisk_protocol::frame::MAX_FRAME];
    let (h, pl) = taxdisk_protocol::frame::decode_frame(&a[..np], &mut scratch).unwrap();
    assert_eq!(
        taxdisk_protocol::frame::decode_response(&h, pl),
        Ok(Ok(taxdisk_protocol::Response::Ping(5)))
    );
}
