//! DiskClient over TCP against the real `taxdisk-sim serve` server (started in-process on
//! port 0): 1,000 issues with dropped, corrupted, duplicated and late answers armed through the
//! server's control channel, checked against the disk's journal; the server going away ends in
//! one clear line.
#![allow(clippy::unwrap_used)]

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::HashSet;
use std::time::Duration;
use taxdisk_device_sim::serve::{BureauSetup, ServeConfig, Server};
use taxdisk_device_sim::sim::SimConfig;
use taxdisk_host::disk::{ClientConfig, DiskClient, DiskError, new_request_id};
use taxdisk_host::transport::{TcpTransport, TransportError};
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::control::{ControlRequest, ControlResponse, FrameFaultAction};
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::time::CivilTime;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Timestamp, WireError};

const SERIAL: &str = "661234567890";

fn bureau_key() -> Sm2SigningKey {
    sign::signing_key(&[7; 32]).unwrap()
}

fn nov10() -> Timestamp {
    Timestamp::from_civil(CivilTime {
        year: 2026,
        month: 11,
        day: 10,
        hour: 10,
        minute: 0,
        second: 0,
    })
}

fn serial() -> DeviceSerial {
    DeviceSerial::new(SERIAL).unwrap()
}

fn server() -> Server {
    let pk = sign::public_key(&bureau_key());
    Server::start(ServeConfig {
        sim: SimConfig::new(serial(), pk, nov10()),
        run_free: false,
        disk_addr: "127.0.0.1:0".parse().unwrap(),
        control_addr: "127.0.0.1:0".parse().unwrap(),
        bureau: BureauSetup::Key(pk),
        usbip: None,
    })
    .unwrap()
}

fn ready(c: &mut DiskClient<TcpTransport>, numbers: u32) {
    let kinds = [KindLimits {
        kind: InvoiceKind::Normal,
        single_limit: Fen(100_000_000),
        offline_hours: 24 * 30,
        offline_amount: Fen(1_000_000_000_000),
    }];
    let token = ProvisionToken {
        serial: serial(),
        taxpayer_id: TaxpayerId::new("91350100M000100Y43").unwrap(),
        company_name: CompanyName::new("测试有限公司").unwrap(),
        machine: 0,
        kinds: kinds.into_iter().collect(),
        lock_time: nov10().plus_secs(60 * 86_400),
        upload_deadline: nov10().plus_secs(60 * 86_400),
        issued_at: nov10(),
    };
    c.provision(Signed::sign(token, &bureau_key()).unwrap())
        .unwrap();
    c.login(&Pin::new(Pin::FACTORY).unwrap()).unwrap();
    let mut first = 1;
    let mut seq = 1;
    while first <= numbers {
        let count = (numbers + 1 - first).min(1000);
        let g = RollGrant {
            serial: serial(),
            seq,
            kind: InvoiceKind::Normal,
            code: InvoiceCode::new("031001600104").unwrap(),
            first: InvoiceNumber::new(first).unwrap(),
            count,
            issued_at: nov10(),
        };
        c.load_roll(Signed::sign(g, &bureau_key()).unwrap())
            .unwrap();
        first += count;
        seq += 1;
    }
}

/// A request for an ordinary normal invoice of `amount` fen, under a fresh request id.
fn draft(amount: i64) -> IssueRequest {
    IssueRequest {
        request_id: new_request_id(),
        kind: InvoiceKind::Normal,
        variant: Variant::Standard,
        buyer: None,
        amount: Fen(amount),
        tax: Fen(amount * 9 / 100),
        content_digest: [3; 32],
        red: None,
        oil: None,
    }
}

/// The frame faults armed on the server: lost, corrupted, dropped requests, duplicated, and
/// answers later than the client waits (the resend's answer and the late one both arrive).
const FAULTS: [FrameFaultAction; 5] = [
    FrameFaultAction::DropAnswer,
    FrameFaultAction::CorruptAnswer,
    FrameFaultAction::DropRequest,
    FrameFaultAction::DuplicateAnswer,
    FrameFaultAction::DelayAnswer(90),
];

fn config() -> ClientConfig {
    ClientConfig {
        attempts: 6,
        timeout: Duration::from_millis(60),
        reconnect_pause: Duration::from_millis(5),
        session: None,
    }
}

#[test]
fn thousand_issues_over_tcp_with_faults_no_lost_no_doubled_invoice() {
    let srv = server();
    let addr = srv.disk_addr().to_string();
    let mut c = DiskClient::with_config(TcpTransport::connect(&addr).unwrap(), config());
    ready(&mut c, 1000);
    let mut rng = StdRng::seed_from_u64(7);
    let actions = FAULTS;
    let mut got = Vec::new();
    for i in 0..1000i64 {
        if rng.random_range(0..100) < 25 {
            let action = actions[rng.random_range(0..actions.len())];
            let r = srv.control(ControlRequest::FrameFault { nth: 1, action });
            assert_eq!(r, Some(ControlResponse::Ok));
        }
        let inv = c.issue(draft(500 + i)).unwrap();
        assert_eq!(inv.body.amount.0, 500 + i);
        got.push(inv.body.number.get());
    }
    let s = c.stats();
    assert!(
        s.retries > 100 && s.bad_frames > 10 && s.stale > 10,
        "{s:?}"
    );
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 1000);
    // The journal as the disk holds it, read on a fresh client and connection.
    srv.control(ControlRequest::ClearFaults);
    c.logout().unwrap();
    let mut reader = DiskClient::with_config(TcpTransport::connect(&addr).unwrap(), config());
    reader.login(&Pin::new(Pin::FACTORY).unwrap()).unwrap();
    let events = reader.list_pending().unwrap();
    let journal: Vec<u32> = events
        .iter()
        .map(|e| match e {
            JournalEvent::Invoice(i) => i.body.number.get(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(journal, got);
    for e in events.iter().step_by(97) {
        assert_eq!(&reader.read_event(e.counter()).unwrap().event, e);
    }
}

#[test]
fn refusals_and_sessions_over_tcp() {
    let srv = server();
    let addr = srv.disk_addr().to_string();
    let mut a = DiskClient::with_config(TcpTransport::connect(&addr).unwrap(), config());
    let mut b = DiskClient::with_config(TcpTransport::connect(&addr).unwrap(), config());
    ready(&mut a, 5);
    let e = b.login(&Pin::new(Pin::FACTORY).unwrap()).unwrap_err();
    assert!(matches!(e, DiskError::Busy { .. }), "{e:?}");
    a.logout().unwrap();
    let e = b.login(&Pin::new("11111111").unwrap()).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::WrongPin));
    assert!(e.to_string().contains("9 tries left"), "{e}");
}

#[test]
fn a_stopped_server_ends_in_one_clear_line() {
    let srv = server();
    let addr = srv.disk_addr().to_string();
    let mut c = DiskClient::with_config(TcpTransport::connect(&addr).unwrap(), config());
    assert_eq!(c.ping(1).unwrap(), 1);
    srv.shutdown().unwrap();
    let e = c.ping(2).unwrap_err();
    assert!(
        matches!(e, DiskError::Transport(TransportError::NoDevice(_))),
        "{e:?}"
    );
    let line = e.to_string();
    assert!(line.contains(&addr) && !line.contains('\n'), "{line}");
}

#[test]
fn a_client_opened_from_a_spec_string_reaches_the_server() {
    let srv = server();
    let spec: taxdisk_host::transport::TransportSpec =
        format!("tcp:{}", srv.disk_addr()).parse().unwrap();
    let mut c = DiskClient::new(taxdisk_host::transport::open(&spec).unwrap());
    assert_eq!(c.ping(9).unwrap(), 9);
    assert_eq!(c.info().unwrap().serial, serial());
    assert!(
        c.transport()
            .describe()
            .contains(&srv.disk_addr().to_string())
    );
}

/// Pipelined issues over TCP (the transport's depth in flight) with dropped, corrupted, duplicated, late answers
/// and dropped requests armed through the server's control channel: every item answered with
/// its own invoice, none lost, none doubled.
#[test]
fn pipelined_issues_over_tcp_with_faults_no_lost_no_doubled_invoice() {
    let srv = server();
    let addr = srv.disk_addr().to_string();
    let mut c = DiskClient::with_config(TcpTransport::connect(&addr).unwrap(), config());
    ready(&mut c, 1000);
    assert_eq!(
        c.pipeline_depth(),
        taxdisk_host::transport::tcp::PIPELINE_DEPTH
    );
    let mut rng = StdRng::seed_from_u64(11);
    let actions = FAULTS;
    let mut got = Vec::new();
    for chunk in 0..50i64 {
        for _ in 0..rng.random_range(0..3) {
            let action = actions[rng.random_range(0..actions.len())];
            let nth = rng.random_range(1..=20);
            let r = srv.control(ControlRequest::FrameFault { nth, action });
            assert_eq!(r, Some(ControlResponse::Ok));
        }
        let base = 5000 + chunk * 20;
        let items = (0..20i64).map(|i| draft(base + i));
        c.issue_pipelined(items, c.pipeline_depth(), |i, r| {
            let inv = r.unwrap_or_else(|e| panic!("item {i}: {e}"));
            assert_eq!(inv.body.amount.0, base + i as i64);
            got.push(inv.body.number.get());
            true
        });
    }
    assert_eq!(got.len(), 1000);
    assert!(c.stats().retries > 10, "{:?}", c.stats());
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 1000);
    srv.control(ControlRequest::ClearFaults);
    c.logout().unwrap();
    let mut reader = DiskClient::with_config(TcpTransport::connect(&addr).unwrap(), config());
    reader.login(&Pin::new(Pin::FACTORY).unwrap()).unwrap();
    let mut journal: Vec<u32> = reader
        .list_pending()
        .unwrap()
        .iter()
        .map(|e| match e {
            JournalEvent::Invoice(i) => i.body.number.get(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    journal.sort_unstable();
    got.sort_unstable();
    assert_eq!(journal, got);
}

/// More requests than the pipeline's depth, with a dropped answer and a dropped request early
/// in each chunk: the answers after the lost one (up to the depth) are kept for their turn,
/// the lost one is resent, and every item gets its own invoice, in order, no number twice or
/// skipped.
#[test]
fn pipelined_issues_beyond_the_depth_over_tcp_answer_in_order() {
    let srv = server();
    let addr = srv.disk_addr().to_string();
    let mut c = DiskClient::with_config(TcpTransport::connect(&addr).unwrap(), config());
    ready(&mut c, 1000);
    let depth = c.pipeline_depth();
    assert!(depth > 4, "{depth}");
    let mut got = Vec::new();
    for (chunk, action) in [FrameFaultAction::DropAnswer, FrameFaultAction::DropRequest]
        .into_iter()
        .enumerate()
    {
        let r = srv.control(ControlRequest::FrameFault { nth: 3, action });
        assert_eq!(r, Some(ControlResponse::Ok));
        let base = 9000 + 1000 * chunk as i64;
        let n = 3 * depth;
        let mut order = Vec::new();
        let sent = c.issue_pipelined((0..n as i64).map(|i| draft(base + i)), depth, |i, r| {
            let inv = r.unwrap_or_else(|e| panic!("item {i}: {e}"));
            assert_eq!(inv.body.amount.0, base + i as i64);
            order.push(i);
            got.push(inv.body.number.get());
            true
        });
        assert_eq!(sent, n);
        assert_eq!(order, (0..n).collect::<Vec<_>>());
    }
    assert!(c.stats().retries >= 2, "{:?}", c.stats());
    // A dropped request is signed when it is resent, after the ones behind it: the numbers
    // are each used once, with no gap, not necessarily in the order of the items.
    got.sort_unstable();
    assert!(got.windows(2).all(|w| w[1] == w[0] + 1), "{got:?}");
}
