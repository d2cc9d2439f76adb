//! The control port of `taxdisk-sim serve`, driven with [`ControlClient`] and the CLI's
//! `control` subcommand while a host talks to the disk port: clock, power, frame faults,
//! plugging, snapshots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod serve_support;

use serve_support::*;
use std::time::{Duration, Instant};
use taxdisk_device_sim::serve::ControlClient;
use taxdisk_protocol::command::InvoiceRef;
use taxdisk_protocol::control::{ControlRequest, ControlResponse, FrameFaultAction};
use taxdisk_protocol::types::{DiskState, InvoiceKind};
use taxdisk_protocol::{Request, Response, Timestamp, WireError};

const SESSION: u32 = 77;

fn control(sim: &Sim) -> ControlClient {
    ControlClient::connect(sim.ports.control).unwrap()
}

fn disk_time(conn: &mut DiskConn) -> Timestamp {
    match conn.call(SESSION, Request::GetInfo(())) {
        Ok(Response::GetInfo(info)) => info.time,
        other => panic!("get info: {other:?}"),
    }
}

fn state(conn: &mut DiskConn) -> DiskState {
    match conn.call(SESSION, Request::GetInfo(())) {
        Ok(Response::GetInfo(info)) => info.state,
        other => panic!("get info: {other:?}"),
    }
}

#[test]
fn clock_is_read_set_and_advanced_and_the_disk_sees_it() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut conn = sim.disk();
    let t0 = start_time();
    assert_eq!(
        ctl.send(ControlRequest::GetClock).unwrap(),
        ControlResponse::Clock(t0)
    );
    assert_eq!(disk_time(&mut conn), t0);
    assert_eq!(
        ctl.send(ControlRequest::Advance(3600)).unwrap(),
        ControlResponse::Ok
    );
    assert_eq!(
        ctl.send(ControlRequest::GetClock).unwrap(),
        ControlResponse::Clock(t0.plus_secs(3600))
    );
    assert_eq!(disk_time(&mut conn), t0.plus_secs(3600));
    let later = t0.plus_secs(10 * 86_400);
    assert_eq!(
        ctl.send(ControlRequest::SetClock(later)).unwrap(),
        ControlResponse::Ok
    );
    assert_eq!(disk_time(&mut conn), later);
    // A manual clock stands still.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(disk_time(&mut conn), later);
}

#[test]
fn power_cycle_logs_the_host_out_and_keeps_the_flash() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut conn = sim.disk();
    provision_and_load(&mut conn, SESSION);
    let inv = issue(&mut conn, SESSION, 1);
    assert!(matches!(
        conn.call(SESSION, Request::GetStatus(InvoiceKind::Normal)),
        Ok(Response::GetStatus(_))
    ));
    let before = match ctl.send(ControlRequest::Stats).unwrap() {
        ControlResponse::Stats(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        ctl.send(ControlRequest::PowerCycle).unwrap(),
        ControlResponse::Ok
    );
    assert_eq!(
        conn.call(SESSION, Request::GetStatus(InvoiceKind::Normal)),
        Err(WireError::NotLoggedIn.into())
    );
    let after = match ctl.send(ControlRequest::Stats).unwrap() {
        ControlResponse::Stats(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(after.power_cycles, before.power_cycles + 1);
    // The flash kept the invoice.
    login(&mut conn, SESSION);
    let read = conn.call(
        SESSION,
        Request::ReadInvoice(InvoiceRef {
            kind: inv.body.kind,
            code: inv.body.code.clone(),
            number: inv.body.number,
        }),
    );
    match read {
        Ok(Response::ReadInvoice(view)) => assert_eq!(view.invoice, inv),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_dropped_answer_does_not_arrive_but_the_request_was_handled() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut conn = sim.disk();
    provision_and_load(&mut conn, SESSION);
    assert_eq!(
        ctl.send(ControlRequest::FrameFault {
            nth: 1,
            action: FrameFaultAction::DropAnswer,
        })
        .unwrap(),
        ControlResponse::Ok
    );
    let seq = conn.send(SESSION, &Request::Issue(issue_request(5)));
    assert_eq!(
        conn.recv(seq, Duration::from_millis(700)),
        None,
        "answer dropped"
    );
    // The disk issued it: the host's retry with the same request id gets that invoice, and
    // the next frame is answered normally.
    let retried = issue(&mut conn, SESSION, 5);
    assert_eq!(retried.body.number.get(), 1);
    match conn.call(SESSION, Request::LastIssued(None)) {
        Ok(Response::LastIssued(Some(v))) => assert_eq!(v.invoice, retried),
        other => panic!("{other:?}"),
    }
    // The fault hit the frame it was armed for only.
    assert_eq!(conn.call(SESSION, Request::Ping(9)), Ok(Response::Ping(9)));
}

#[test]
fn a_dropped_request_is_never_handled_and_a_delayed_answer_comes_late() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut conn = sim.disk();
    provision_and_load(&mut conn, SESSION);
    ctl.send(ControlRequest::FrameFault {
        nth: 1,
        action: FrameFaultAction::DropRequest,
    })
    .unwrap();
    ctl.send(ControlRequest::FrameFault {
        nth: 2,
        action: FrameFaultAction::DelayAnswer(400),
    })
    .unwrap();
    let seq = conn.send(SESSION, &Request::Issue(issue_request(1)));
    assert_eq!(conn.recv(seq, Duration::from_millis(500)), None);
    // Frame 2: nothing was issued, and the answer comes late.
    let started = Instant::now();
    match conn.call(SESSION, Request::LastIssued(None)) {
        Ok(Response::LastIssued(None)) => {}
        other => panic!("nothing issued expected: {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(400));
    // Frame 3 is prompt.
    let started = Instant::now();
    assert_eq!(conn.call(SESSION, Request::Ping(1)), Ok(Response::Ping(1)));
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[test]
fn delay_answer_holds_the_answer_back() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut conn = sim.disk();
    ctl.send(ControlRequest::FrameFault {
        nth: 1,
        action: FrameFaultAction::DelayAnswer(400),
    })
    .unwrap();
    let started = Instant::now();
    assert_eq!(conn.call(SESSION, Request::Ping(3)), Ok(Response::Ping(3)));
    assert!(started.elapsed() >= Duration::from_millis(400));
}

/// Issue 17: `fault 1 delay:MS` slept with the disk locked, so every other connection and
/// the control port froze for the delay. The delay is now waited out by the delayed link
/// only: another connection is answered at once, and SIGTERM stops the server mid-delay.
#[test]
fn a_delayed_answer_holds_up_only_its_own_link() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut slow = sim.disk();
    let mut other = sim.disk();
    ctl.send(ControlRequest::FrameFault {
        nth: 1,
        action: FrameFaultAction::DelayAnswer(3_000),
    })
    .unwrap();
    let started = Instant::now();
    let seq = slow.send(SESSION, &Request::Ping(1));
    // Let the delayed frame reach the disk first.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        other.call(SESSION + 1, Request::Ping(2)),
        Ok(Response::Ping(2))
    );
    assert!(ctl.send(ControlRequest::Stats).is_ok());
    let answered_others = started.elapsed();
    assert!(
        answered_others < Duration::from_millis(2_500),
        "the other link and the control port waited {answered_others:?}"
    );
    assert_eq!(
        slow.recv(seq, Duration::from_secs(10)),
        Some(Ok(Response::Ping(1)))
    );
    assert!(started.elapsed() >= Duration::from_millis(3_000));
    // A delay in progress does not keep the server from stopping.
    ctl.send(ControlRequest::FrameFault {
        nth: 1,
        action: FrameFaultAction::DelayAnswer(30_000),
    })
    .unwrap();
    slow.send(SESSION, &Request::Ping(3));
    std::thread::sleep(Duration::from_millis(200));
    let stopping = Instant::now();
    assert!(sim.terminate().success());
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "SIGTERM took {:?} with a 30 s delay pending",
        stopping.elapsed()
    );
}

#[test]
fn an_unplugged_disk_answers_nothing_until_plugged_in() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut conn = sim.disk();
    assert_eq!(
        ctl.send(ControlRequest::Plug(false)).unwrap(),
        ControlResponse::Ok
    );
    let seq = conn.send(SESSION, &Request::Ping(1));
    assert_eq!(conn.recv(seq, Duration::from_millis(500)), None);
    assert_eq!(
        ctl.send(ControlRequest::Plug(true)).unwrap(),
        ControlResponse::Ok
    );
    assert_eq!(conn.call(SESSION, Request::Ping(2)), Ok(Response::Ping(2)));
}

#[test]
fn restore_puts_a_snapshot_back_and_power_cycles() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut conn = sim.disk();
    let name = |s: &str| heapless::String::<32>::try_from(s).unwrap();
    assert_eq!(
        ctl.send(ControlRequest::Snapshot(name("factory"))).unwrap(),
        ControlResponse::Ok
    );
    provision_and_load(&mut conn, SESSION);
    issue(&mut conn, SESSION, 1);
    assert_eq!(
        ctl.send(ControlRequest::Snapshot(name("one-invoice")))
            .unwrap(),
        ControlResponse::Ok
    );
    issue(&mut conn, SESSION, 2);
    assert_eq!(state(&mut conn), DiskState::Ready);

    // Back to one invoice: the second is gone, the host is logged out.
    assert_eq!(
        ctl.send(ControlRequest::Restore(name("one-invoice")))
            .unwrap(),
        ControlResponse::Ok
    );
    assert_eq!(
        conn.call(SESSION, Request::LastIssued(None)),
        Err(WireError::NotLoggedIn.into())
    );
    login(&mut conn, SESSION);
    match conn.call(SESSION, Request::LastIssued(None)) {
        Ok(Response::LastIssued(Some(v))) => assert_eq!(v.invoice.body.number.get(), 1),
        other => panic!("{other:?}"),
    }

    // Back to the factory.
    assert_eq!(
        ctl.send(ControlRequest::Restore(name("factory"))).unwrap(),
        ControlResponse::Ok
    );
    assert_eq!(state(&mut conn), DiskState::Factory);
    assert!(matches!(
        ctl.send(ControlRequest::Restore(name("no-such"))).unwrap(),
        ControlResponse::Error(_)
    ));
}

#[test]
fn the_control_subcommand_drives_a_running_server() {
    let sim = Sim::start_default();
    let addr = sim.ports.control.to_string();
    let run = |args: &[&str]| {
        let mut argv = vec!["control", "--addr", addr.as_str()];
        argv.extend_from_slice(args);
        std::process::Command::new(env!("CARGO_BIN_EXE_taxdisk-sim"))
            .env("LC_ALL", "C") // English: the test reads English text
            .args(&argv)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&["advance", "2h"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "\"Ok\"");
    let out = run(&["clock"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Clock"], serde_json::json!(start_time().0 + 7200));
    // A refusal is an error exit with the simulator's message.
    let out = run(&["restore", "nothing-saved"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("snapshot"));
    // Nobody listening: a clear error, not a hang.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap().to_string();
    drop(dead);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taxdisk-sim"))
        .env("LC_ALL", "C") // English: the test reads English text
        .args(["control", "--addr", &dead_addr, "stats"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("control channel"));
}

#[test]
fn free_running_clock_moves_with_real_time() {
    let mut args = base_args();
    let i = args.iter().position(|a| a == "manual").unwrap();
    args[i] = "free".into();
    let sim = Sim::start(&args);
    let mut ctl = control(&sim);
    std::thread::sleep(Duration::from_millis(2100));
    match ctl.send(ControlRequest::GetClock).unwrap() {
        ControlResponse::Clock(t) => assert!(t.0 >= start_time().0 + 2, "{t:?}"),
        other => panic!("{other:?}"),
    }
    // RunFree(false) stops it.
    ctl.send(ControlRequest::RunFree(false)).unwrap();
    let a = ctl.send(ControlRequest::GetClock).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(ctl.send(ControlRequest::GetClock).unwrap(), a);
}

#[test]
fn a_power_cut_loses_only_the_request_in_flight() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut conn = sim.disk();
    provision_and_load(&mut conn, SESSION);
    let first = issue(&mut conn, SESSION, 1);
    assert_eq!(
        ctl.send(ControlRequest::PowerCutAfter(1)).unwrap(),
        ControlResponse::Ok
    );
    let seq = conn.send(SESSION, &Request::Issue(issue_request(2)));
    assert_eq!(
        conn.recv(seq, Duration::from_millis(700)),
        None,
        "no answer after a cut"
    );
    // The disk rebooted from its flash: logged out, the answered invoice intact, and the torn
    // one absent (its retry gets the next number, once).
    assert_eq!(
        conn.call(SESSION, Request::LastIssued(None)),
        Err(WireError::NotLoggedIn.into())
    );
    login(&mut conn, SESSION);
    match conn.call(SESSION, Request::LastIssued(None)) {
        Ok(Response::LastIssued(Some(v))) => assert_eq!(v.invoice, first),
        other => panic!("{other:?}"),
    }
    let retry = issue(&mut conn, SESSION, 2);
    assert_eq!(retry.body.number.get(), first.body.number.get() + 1);
    assert_eq!(issue(&mut conn, SESSION, 2), retry);
}

#[test]
fn two_connections_share_one_disk_and_d14_keeps_the_second_session_out() {
    let sim = Sim::start_default();
    let mut a = sim.disk();
    let mut b = sim.disk();
    provision_and_load(&mut a, SESSION);
    // Another host session on another connection: Busy while SESSION holds the disk; Ping and
    // GetInfo still answer it.
    assert_eq!(
        b.call(SESSION + 1, Request::GetStatus(InvoiceKind::Normal)),
        Err(WireError::Busy.into())
    );
    assert_eq!(b.call(SESSION + 1, Request::Ping(4)), Ok(Response::Ping(4)));
    // Once SESSION logs out, the other may log in.
    assert_eq!(
        a.call(SESSION, Request::Logout(())),
        Ok(Response::Logout(()))
    );
    login(&mut b, SESSION + 1);
    assert!(matches!(
        b.call(SESSION + 1, Request::GetStatus(InvoiceKind::Normal)),
        Ok(Response::GetStatus(_))
    ));
    // Interleaved frames from both connections are each answered on their own connection.
    let sa = a.send(SESSION, &Request::Ping(10));
    let sb = b.send(SESSION + 1, &Request::Ping(20));
    assert_eq!(b.recv(sb, ANSWER_TIMEOUT), Some(Ok(Response::Ping(20))));
    assert_eq!(a.recv(sa, ANSWER_TIMEOUT), Some(Ok(Response::Ping(10))));
}

#[test]
fn the_latency_flag_gives_real_disk_answer_times() {
    let mut args = base_args();
    args.push("--latency".into());
    let sim = Sim::start(&args);
    let mut conn = sim.disk();
    let started = Instant::now();
    match conn.call(SESSION, Request::Provision(provision_token())) {
        Ok(Response::Provision(_)) => {}
        other => panic!("{other:?}"),
    }
    let provision = started.elapsed();
    assert!(provision >= Duration::from_millis(800), "{provision:?}");
    let started = Instant::now();
    login(&mut conn, SESSION);
    assert!(started.elapsed() >= Duration::from_millis(50));
}

/// Reads raw frames from the disk connection for `window`: (sequence numbers of good frames,
/// count of bad frames).
fn raw_frames(conn: &mut DiskConn, window: Duration) -> (Vec<u32>, usize) {
    use std::io::Read;
    let end = Instant::now() + window;
    let mut dec = taxdisk_protocol::FrameDecoder::<{ taxdisk_protocol::frame::MAX_ENCODED }>::new();
    let (mut good, mut bad) = (Vec::new(), 0);
    let mut buf = [0u8; 4096];
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        conn.stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match conn.stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => dec.feed(&buf[..n], |f| match f {
                Ok((h, _)) => good.push(h.seq),
                Err(_) => bad += 1,
            }),
        }
    }
    (good, bad)
}

#[test]
fn corrupted_and_duplicated_answers_arrive_as_such() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut conn = sim.disk();
    ctl.send(ControlRequest::FrameFault {
        nth: 1,
        action: FrameFaultAction::CorruptAnswer,
    })
    .unwrap();
    ctl.send(ControlRequest::FrameFault {
        nth: 2,
        action: FrameFaultAction::DuplicateAnswer,
    })
    .unwrap();
    let s1 = conn.send(SESSION, &Request::Ping(1));
    assert_eq!(
        raw_frames(&mut conn, Duration::from_millis(500)),
        (vec![], 1),
        "frame {s1}"
    );
    let s2 = conn.send(SESSION, &Request::Ping(2));
    assert_eq!(
        raw_frames(&mut conn, Duration::from_millis(500)),
        (vec![s2, s2], 0)
    );
    let s3 = conn.send(SESSION, &Request::Ping(3));
    assert_eq!(
        raw_frames(&mut conn, Duration::from_millis(500)),
        (vec![s3], 0)
    );
}

/// Control requests out of range are refused and change nothing (issue 17): a clock past
/// year 9998 (the disk answered GetInfo with a period the host cannot decode), a delay that
/// would hold the disk for days, a ninth snapshot of 64 MiB (until one is dropped).
#[test]
fn control_requests_out_of_range_are_refused_and_change_nothing() {
    let sim = Sim::start_default();
    let mut ctl = control(&sim);
    let mut conn = sim.disk();
    let t0 = disk_time(&mut conn);
    for req in [
        ControlRequest::Advance(u64::MAX),
        ControlRequest::SetClock(Timestamp(u64::MAX)),
        ControlRequest::FrameFault {
            nth: 1,
            action: FrameFaultAction::DelayAnswer(u32::MAX),
        },
    ] {
        match ctl.send(req.clone()).unwrap() {
            ControlResponse::Error(e) => assert!(!e.is_empty(), "{req:?}"),
            other => panic!("{req:?} answered {other:?}"),
        }
    }
    // The disk still answers, at its old time, with no delay armed.
    let started = Instant::now();
    assert_eq!(disk_time(&mut conn), t0);
    assert!(started.elapsed() < Duration::from_secs(5));
    for i in 0..8 {
        let name = heapless::String::try_from(format!("s{i}").as_str()).unwrap();
        assert_eq!(
            ctl.send(ControlRequest::Snapshot(name)).unwrap(),
            ControlResponse::Ok
        );
    }
    let ninth = heapless::String::try_from("s8").unwrap();
    assert!(matches!(
        ctl.send(ControlRequest::Snapshot(ninth)).unwrap(),
        ControlResponse::Error(_)
    ));
    // A name already kept is replaced.
    let again = heapless::String::try_from("s0").unwrap();
    assert_eq!(
        ctl.send(ControlRequest::Snapshot(again)).unwrap(),
        ControlResponse::Ok
    );
    // A dropped snapshot frees its place; one never kept cannot be dropped or restored.
    let s3 = heapless::String::try_from("s3").unwrap();
    assert_eq!(
        ctl.send(ControlRequest::DropSnapshot(s3.clone())).unwrap(),
        ControlResponse::Ok
    );
    for req in [
        ControlRequest::DropSnapshot(s3.clone()),
        ControlRequest::Restore(s3),
    ] {
        assert!(matches!(ctl.send(req).unwrap(), ControlResponse::Error(_)));
    }
    let ninth = heapless::String::try_from("s8").unwrap();
    assert_eq!(
        ctl.send(ControlRequest::Snapshot(ninth)).unwrap(),
        ControlResponse::Ok
    );
}
