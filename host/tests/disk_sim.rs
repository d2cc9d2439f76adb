//! DiskClient against the real firmware: the simulator's `SimDisk` in-process, provisioned with
//! tokens signed by a test bureau key. Typed commands, D2 PIN lockout and unblock, D14 sessions,
//! and 1,000 issues with dropped and corrupted answers injected by the simulator itself: no
//! doubled and no lost invoice, checked against the disk's journal read on a separate session.
#![allow(clippy::unwrap_used)]

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::HashSet;
use std::time::Duration;
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::disk::{ClientConfig, DiskClient, DiskError, new_request_id};
use taxdisk_host::transport::fault::{FaultRates, FaultyHandler};
use taxdisk_host::transport::inproc::Shared;
use taxdisk_host::transport::{InProcess, Transport};
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::command::{EVENTS_PER_PAGE, InvoiceRef, ListPending};
use taxdisk_protocol::control::{ControlRequest, ControlResponse, FrameFaultAction};
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::time::CivilTime;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response, Timestamp, WireError};

const SERIAL: &str = "661234567890";
const TAXPAYER: &str = "91350100M000100Y43";
const CODE: &str = "031001600104";

fn bureau_key() -> Sm2SigningKey {
    sign::signing_key(&[7; 32]).unwrap()
}

fn at(day: u8, hour: u8) -> Timestamp {
    Timestamp::from_civil(CivilTime {
        year: 2026,
        month: 11,
        day,
        hour,
        minute: 0,
        second: 0,
    })
}

fn serial() -> DeviceSerial {
    DeviceSerial::new(SERIAL).unwrap()
}

fn sim() -> SimDisk {
    let cfg = SimConfig::new(serial(), sign::public_key(&bureau_key()), at(10, 10));
    SimDisk::new(cfg).unwrap()
}

fn limits() -> KindLimits {
    KindLimits {
        kind: InvoiceKind::Normal,
        single_limit: Fen(100_000_000),
        offline_hours: 24 * 30,
        offline_amount: Fen(1_000_000_000_000),
    }
}

fn provision_token() -> Signed<ProvisionToken> {
    let body = ProvisionToken {
        serial: serial(),
        taxpayer_id: TaxpayerId::new(TAXPAYER).unwrap(),
        company_name: CompanyName::new("测试有限公司").unwrap(),
        machine: 0,
        kinds: [limits()].into_iter().collect(),
        lock_time: at(10, 10).plus_secs(60 * 86_400),
        upload_deadline: at(10, 10).plus_secs(60 * 86_400),
        issued_at: at(10, 10),
    };
    Signed::sign(body, &bureau_key()).unwrap()
}

fn grant(seq: u32, first: u32, count: u32) -> Signed<RollGrant> {
    let body = RollGrant {
        serial: serial(),
        seq,
        kind: InvoiceKind::Normal,
        code: InvoiceCode::new(CODE).unwrap(),
        first: InvoiceNumber::new(first).unwrap(),
        count,
        issued_at: at(10, 10),
    };
    Signed::sign(body, &bureau_key()).unwrap()
}

fn config() -> ClientConfig {
    ClientConfig {
        attempts: 6,
        timeout: Duration::from_millis(50),
        reconnect_pause: Duration::ZERO,
        session: None,
    }
}

fn factory_pin() -> Pin {
    Pin::new(Pin::FACTORY).unwrap()
}

/// Provisions, logs in and loads rolls of `numbers` numbers (in rolls of at most 1,000).
fn ready<T: Transport>(c: &mut DiskClient<T>, numbers: u32) -> ProvisionResult {
    let r = c.provision(provision_token()).unwrap();
    c.login(&factory_pin()).unwrap();
    let mut first = 1;
    let mut seq = 1;
    while first <= numbers {
        let count = (numbers + 1 - first).min(1000);
        c.load_roll(grant(seq, first, count)).unwrap();
        first += count;
        seq += 1;
    }
    r
}

/// A request for an ordinary normal invoice of `amount` fen, under a fresh request id.
fn draft(amount: i64) -> IssueRequest {
    IssueRequest {
        request_id: new_request_id(),
        kind: InvoiceKind::Normal,
        variant: Variant::Standard,
        buyer: None,
        amount: Fen(amount),
        tax: Fen(amount * 13 / 100),
        content_digest: [amount as u8; 32],
        red: None,
        oil: None,
    }
}

/// The disk's journal, read directly from the simulator on a fresh session (not through the
/// client under test): every pending event's invoice number, in counter order, each checked
/// again with ReadEvent.
fn journal_numbers(disk: &mut SimDisk) -> Vec<u32> {
    let s = 0x5EED_0001;
    disk.control(ControlRequest::ClearFaults);
    disk.control(ControlRequest::PowerCycle);
    assert!(matches!(
        disk.request(s, Request::Login(factory_pin())),
        Ok(Response::Login(()))
    ));
    let mut numbers = Vec::new();
    let mut after = 0;
    loop {
        let page = match disk.request(
            s,
            Request::ListPending(ListPending {
                after_counter: after,
                max: EVENTS_PER_PAGE as u8,
            }),
        ) {
            Ok(Response::ListPending(p)) => p,
            other => panic!("ListPending: {other:?}"),
        };
        for e in &page {
            after = e.counter();
            let JournalEvent::Invoice(i) = e else {
                panic!("unexpected event {e:?}")
            };
            match disk.request(s, Request::ReadEvent(after)) {
                Ok(Response::ReadEvent(v)) => assert_eq!(&v.event, e),
                other => panic!("ReadEvent: {other:?}"),
            }
            numbers.push(i.body.number.get());
        }
        if page.len() < EVENTS_PER_PAGE {
            return numbers;
        }
    }
}

#[test]
fn provisioned_sim_disk_answers_the_typed_commands() {
    let mut c = DiskClient::with_config(InProcess::new(sim()), config());
    assert_eq!(c.ping(42).unwrap(), 42);
    let info = c.info().unwrap();
    assert_eq!(info.state, DiskState::Factory);
    assert_eq!(info.serial, serial());
    let r = ready(&mut c, 1500);
    let vk = sign::verifying_key(&r.public_key).unwrap();
    assert_eq!(c.public_key().unwrap(), r.public_key);
    assert_eq!(c.info().unwrap().state, DiskState::Ready);
    let st = c.status(InvoiceKind::Normal).unwrap();
    assert!(st.authorized);
    assert_eq!(st.blank_left, 1500);
    let rolls = c.list_rolls(Some(InvoiceKind::Normal)).unwrap();
    assert_eq!(rolls.iter().map(|r| r.count).sum::<u32>(), 1500);
    let inv = c.issue(draft(10_000)).unwrap();
    assert_eq!(inv.verify(&vk), Ok(()), "signed by the disk's key");
    assert_eq!(inv.body.number.get(), 1);
    let r#ref = InvoiceRef {
        kind: InvoiceKind::Normal,
        code: inv.body.code.clone(),
        number: inv.body.number,
    };
    assert_eq!(c.read_invoice(&r#ref).unwrap().invoice, inv);
    assert_eq!(c.last_issued(None).unwrap().unwrap().invoice, inv);
    let void = c.void(&r#ref).unwrap();
    assert_eq!(void.body.number, inv.body.number);
    let again = c.void(&r#ref).unwrap_err();
    assert_eq!(again.wire_error(), Some(WireError::AlreadyVoided));
    assert!(again.to_string().contains("D7"), "{again}");
    let blank = c.void_blank(InvoiceKind::Normal, 2).unwrap();
    assert_eq!(blank.body.count, 2);
    let pending = c.list_pending().unwrap();
    assert_eq!(pending.len(), 3, "invoice, void, blank void");
    assert_eq!(
        c.read_event(pending[1].counter()).unwrap().event,
        pending[1]
    );
    let refused = c.copy_tax(at(10, 10).period()).unwrap_err();
    assert_eq!(refused.wire_error(), Some(WireError::PeriodNotFinished));
    c.change_pin(&factory_pin(), &Pin::new("24681357").unwrap())
        .unwrap();
    c.logout().unwrap();
    let e = c.issue(draft(1)).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::NotLoggedIn));
    c.login(&Pin::new("24681357").unwrap()).unwrap();
    assert_eq!(c.issue(draft(5)).unwrap().body.number.get(), 4);
}

#[test]
fn d02_wrong_pins_count_down_block_and_an_unblock_token_restores() {
    let mut c = DiskClient::with_config(InProcess::new(sim()), config());
    ready(&mut c, 10);
    c.logout().unwrap();
    let wrong = Pin::new("00000000").unwrap();
    let mut last = None;
    for _ in 0..10 {
        last = Some(c.login(&wrong).unwrap_err());
    }
    let e = c.login(&wrong).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::PinBlocked), "{e}");
    assert!(matches!(
        last,
        Some(DiskError::Refused {
            error: WireError::WrongPin | WireError::PinBlocked,
            ..
        })
    ));
    let token = UnblockToken {
        serial: serial(),
        seq: 1,
        new_pin: Pin::new("13572468").unwrap(),
        issued_at: at(10, 10),
    };
    c.unblock(Signed::sign(token, &bureau_key()).unwrap())
        .unwrap();
    c.login(&Pin::new("13572468").unwrap()).unwrap();
}

#[test]
fn d02_wrong_pin_answers_tries_left_in_one_line() {
    let mut c = DiskClient::with_config(InProcess::new(sim()), config());
    ready(&mut c, 10);
    c.logout().unwrap();
    let e = c.login(&Pin::new("00000000").unwrap()).unwrap_err();
    let line = e.to_string();
    assert!(
        line.contains("wrong PIN") && line.contains("D2") && line.contains("9 tries left"),
        "{line}"
    );
    assert!(!line.contains('\n'));
}

#[test]
fn d14_a_second_client_is_busy_while_the_first_is_logged_in() {
    let (h, _disk) = Shared::new(sim());
    let mut a = DiskClient::with_config(InProcess::new(h.clone()), config());
    let mut b = DiskClient::with_config(InProcess::new(h), config());
    ready(&mut a, 10);
    let e = b.login(&factory_pin()).unwrap_err();
    assert!(matches!(e, DiskError::Busy { .. }), "{e:?}");
    a.logout().unwrap();
    b.login(&factory_pin()).unwrap();
    b.issue(draft(100)).unwrap();
}

/// Reliability (DESIGN "Reliability"): faults armed through the simulator's own control
/// channel on the Issue frames (and sometimes on the resend too).
#[test]
fn thousand_issues_with_dropped_and_corrupted_answers_no_lost_no_doubled_invoice() {
    let mut c = DiskClient::with_config(InProcess::new(sim()), config());
    ready(&mut c, 1000);
    let mut rng = StdRng::seed_from_u64(2026);
    let actions = [
        FrameFaultAction::DropAnswer,
        FrameFaultAction::CorruptAnswer,
        FrameFaultAction::DropRequest,
        FrameFaultAction::DuplicateAnswer,
    ];
    let mut got = Vec::new();
    let mut armed = 0;
    for i in 0..1000i64 {
        if rng.random_range(0..100) < 40 {
            let action = actions[rng.random_range(0..actions.len())];
            let disk = c.transport_mut().handler_mut();
            assert_eq!(
                disk.control(ControlRequest::FrameFault { nth: 1, action }),
                ControlResponse::Ok
            );
            if rng.random_range(0..4) == 0 {
                disk.control(ControlRequest::FrameFault {
                    nth: 2,
                    action: FrameFaultAction::CorruptAnswer,
                });
            }
            armed += 1;
        }
        let inv = c.issue(draft(1000 + i)).unwrap();
        assert_eq!(inv.body.amount.0, 1000 + i, "the answer is this request's");
        got.push(inv.body.number.get());
    }
    assert!(armed > 300);
    let s = c.stats();
    assert!(
        s.retries > 200 && s.bad_frames > 50 && s.stale > 20,
        "{s:?}"
    );
    assert_eq!(
        got.iter().collect::<HashSet<_>>().len(),
        1000,
        "no doubled number"
    );
    let journal = journal_numbers(c.transport_mut().handler_mut());
    assert_eq!(journal, got, "no lost invoice, none extra, same order");
}

/// The host-side fault injector around the real firmware: random drops, corruptions,
/// duplicates and late answers.
#[test]
fn random_host_side_faults_around_the_firmware_lose_and_double_nothing() {
    let rates = FaultRates {
        drop_request: 50_000,
        drop_answer: 50_000,
        corrupt_answer: 50_000,
        duplicate_answer: 50_000,
        late_answer: 50_000,
    };
    let mut c = DiskClient::with_config(
        InProcess::new(FaultyHandler::new(sim(), rates, 99)),
        ClientConfig {
            attempts: 10,
            ..config()
        },
    );
    // Provisioning is a change too: retried until it answers (a resend of the token answers
    // the key the disk generated the first time).
    let key = c.provision(provision_token()).unwrap().public_key;
    assert_eq!(c.public_key().unwrap(), key);
    c.login(&factory_pin()).unwrap();
    let mut seq = 1;
    let mut loaded = 0;
    while loaded < 2 {
        match c.load_roll(grant(seq, 1 + loaded * 1000, 1000)) {
            Ok(_) => loaded += 1,
            Err(DiskError::Refused {
                error: WireError::Replayed | WireError::RollOverlap,
                retried: true,
                ..
            }) => loaded += 1,
            Err(e) => panic!("{e}"),
        }
        seq += 1;
    }
    let mut got = Vec::new();
    for i in 0..400 {
        got.push(c.issue(draft(50 + i)).unwrap().body.number.get());
    }
    let f = c.transport_mut().handler_mut().stats();
    assert!(
        f.late > 5 && f.corrupted > 5 && f.dropped_answers > 5,
        "{f:?}"
    );
    let journal = journal_numbers(c.transport_mut().handler_mut().inner_mut());
    assert_eq!(journal, got);
}

/// D5, D13, H11 through the client: a power cut at the first flash operations of an Issue,
/// torn at several byte offsets. The client reports an unknown outcome or a refusal of its
/// resend (the rebooted disk logged out); after a new login, issuing again with the same
/// request id gives one invoice, never two, and the journal holds exactly one for that id.
#[test]
fn d13_power_cut_during_issue_then_same_request_id_gives_exactly_one_invoice() {
    let (mut cuts, mut clean) = (0, 0);
    for nth in 1..=3u64 {
        for byte in [0usize, 1, 8, 32, 64, 100, 128, 200, 255] {
            let mut cfg = SimConfig::new(serial(), sign::public_key(&bureau_key()), at(10, 10));
            cfg.flash_bytes = 1 << 20;
            let mut c =
                DiskClient::with_config(InProcess::new(SimDisk::new(cfg).unwrap()), config());
            ready(&mut c, 10);
            c.issue(draft(1)).unwrap();
            let id = [byte as u8 ^ nth as u8; 16];
            c.transport_mut().handler_mut().cut_power_at(nth, byte);
            let cut_seen = match c.issue(IssueRequest {
                request_id: id,
                ..draft(777)
            }) {
                Ok(_) => false,
                Err(e) => {
                    assert!(
                        e.outcome_unknown()
                            || matches!(
                                e,
                                DiskError::Refused {
                                    error: WireError::NotLoggedIn,
                                    retried: true,
                                    ..
                                }
                            ),
                        "cut {nth}/{byte}: {e:?}"
                    );
                    true
                }
            };
            c.transport_mut()
                .handler_mut()
                .control(ControlRequest::ClearFaults);
            if cut_seen {
                cuts += 1;
                c.login(&factory_pin()).unwrap();
            } else {
                clean += 1;
            }
            let a = c
                .issue(IssueRequest {
                    request_id: id,
                    ..draft(777)
                })
                .unwrap();
            let b = c
                .issue(IssueRequest {
                    request_id: id,
                    ..draft(777)
                })
                .unwrap();
            assert_eq!(
                a, b,
                "cut {nth}/{byte}: the same id answers the same invoice"
            );
            let numbers = journal_numbers(c.transport_mut().handler_mut());
            assert_eq!(
                numbers,
                vec![1, 2],
                "cut {nth}/{byte}: one invoice for the id"
            );
        }
    }
    assert!(cuts >= 9 && clean >= 1, "cuts {cuts}, clean {clean}");
}

/// An unplugged disk answers nothing: the client gives up with a timeout naming the command
/// and the link; plugged in again (a power-up: logged out), the same client carries on.
#[test]
fn unplugged_disk_times_out_then_works_again_after_replug() {
    let mut c = DiskClient::with_config(
        InProcess::new(sim()),
        ClientConfig {
            attempts: 2,
            ..config()
        },
    );
    ready(&mut c, 10);
    c.issue(draft(1)).unwrap();
    c.transport_mut()
        .handler_mut()
        .control(ControlRequest::Plug(false));
    let e = c.issue(draft(2)).unwrap_err();
    assert!(matches!(e, DiskError::Timeout { attempts: 2, .. }), "{e:?}");
    assert!(e.outcome_unknown());
    let line = e.to_string();
    assert!(
        line.contains("Issue") && line.contains("in-process"),
        "{line}"
    );
    c.transport_mut()
        .handler_mut()
        .control(ControlRequest::Plug(true));
    let e = c.issue(draft(2)).unwrap_err();
    assert_eq!(
        e.wire_error(),
        Some(WireError::NotLoggedIn),
        "power-up logs out"
    );
    c.login(&factory_pin()).unwrap();
    assert_eq!(c.issue(draft(2)).unwrap().body.number.get(), 2);
}

/// A transport that lets `depth` requests travel and counts how many were out at most.
struct Windowed<T> {
    inner: T,
    depth: usize,
    out: usize,
    max_out: usize,
}

impl<T: Transport> Transport for Windowed<T> {
    fn send(&mut self, frame: &[u8]) -> Result<(), taxdisk_host::transport::TransportError> {
        self.out += 1;
        self.max_out = self.max_out.max(self.out);
        self.inner.send(frame)
    }
    fn recv(
        &mut self,
        timeout: Duration,
    ) -> Result<taxdisk_host::transport::Frame, taxdisk_host::transport::TransportError> {
        let f = self.inner.recv(timeout);
        if f.is_ok() {
            self.out = self.out.saturating_sub(1);
        }
        f
    }
    fn reconnect(&mut self) -> Result<(), taxdisk_host::transport::TransportError> {
        self.out = 0;
        self.inner.reconnect()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn pipeline_depth(&self) -> usize {
        self.depth
    }
}

fn windowed<H: taxdisk_protocol::FrameHandler>(h: H, depth: usize) -> Windowed<InProcess<H>> {
    Windowed {
        inner: InProcess::new(h),
        depth,
        out: 0,
        max_out: 0,
    }
}

#[test]
fn pipelined_issues_keep_the_window_full_and_answer_in_order() {
    let mut c = DiskClient::with_config(windowed(sim(), 4), config());
    ready(&mut c, 100);
    assert_eq!(c.pipeline_depth(), 4);
    c.transport_mut().max_out = 0;
    let items = (0..40i64).map(|i| draft(300 + i));
    let mut got = Vec::new();
    let sent = c.issue_pipelined(items, c.pipeline_depth(), |i, r| {
        let inv = r.unwrap();
        assert_eq!(inv.body.amount.0, 300 + i as i64, "answers come in order");
        got.push(inv.body.number.get());
        true
    });
    assert_eq!(sent, 40);
    assert_eq!(c.transport().max_out, 4, "four requests travelled at once");
    let s = c.stats();
    assert_eq!((s.requests, s.retries), (40 + 1 + 1 + 1, 0), "{s:?}");
    assert!(got.windows(2).all(|w| w[1] == w[0] + 1), "{got:?}");
    let journal = journal_numbers(c.transport_mut().inner.handler_mut());
    assert_eq!(journal, got);
}

#[test]
fn pipelined_refusals_come_per_item_and_a_stop_sends_no_more() {
    let mut c = DiskClient::with_config(windowed(sim(), 4), config());
    ready(&mut c, 3);
    let items = (0..6i64).map(|i| draft(10 + i));
    let mut outcomes = Vec::new();
    c.issue_pipelined(items, 4, |_, r| {
        outcomes.push(r.map_err(|e| e.wire_error()));
        true
    });
    assert!(outcomes[..3].iter().all(|r| r.is_ok()));
    assert!(
        outcomes[3..]
            .iter()
            .all(|r| matches!(r, Err(Some(WireError::NoBlankNumber)))),
        "{outcomes:?}"
    );
    // A caller that stops after the first answer gets the ones in flight, and no more is sent.
    let mut c = DiskClient::with_config(windowed(sim(), 4), config());
    ready(&mut c, 20);
    let items = (0..10i64).map(|i| draft(10 + i));
    let mut answered = Vec::new();
    let sent = c.issue_pipelined(items, 4, |i, r| {
        r.unwrap();
        answered.push(i);
        false
    });
    assert_eq!(sent, 4);
    assert_eq!(answered, vec![0, 1, 2, 3]);
    assert_eq!(
        journal_numbers(c.transport_mut().inner.handler_mut()).len(),
        4
    );
}

/// Pipelining under the host-side fault injector: a lost or corrupted answer is resent with its
/// own frame after later requests were handled; the request id keeps every resend safe.
#[test]
fn pipelined_issues_with_random_faults_lose_and_double_nothing() {
    let rates = FaultRates {
        drop_request: 40_000,
        drop_answer: 40_000,
        corrupt_answer: 40_000,
        duplicate_answer: 40_000,
        late_answer: 40_000,
    };
    let mut c = DiskClient::with_config(
        windowed(sim(), 1),
        ClientConfig {
            attempts: 10,
            ..config()
        },
    );
    ready(&mut c, 1000);
    // Faults from here on only (provisioning above ran clean); the same session goes on.
    let session = c.session();
    let sim = c.into_transport().inner.into_inner();
    let mut c = DiskClient::with_config(
        windowed(FaultyHandler::new(sim, rates, 7), 4),
        ClientConfig {
            attempts: 10,
            session: Some(session),
            ..config()
        },
    );
    let items = (0..400i64).map(|i| draft(2000 + i));
    let mut got = Vec::new();
    c.issue_pipelined(items, 4, |i, r| {
        let inv = r.unwrap_or_else(|e| panic!("item {i}: {e}"));
        assert_eq!(inv.body.amount.0, 2000 + i as i64);
        got.push(inv.body.number.get());
        true
    });
    assert_eq!(got.len(), 400);
    let f = c.transport_mut().inner.handler_mut().stats();
    assert!(
        f.late > 5 && f.corrupted > 5 && f.dropped_answers > 5,
        "{f:?}"
    );
    assert!(c.stats().retries > 20, "{:?}", c.stats());
    let mut journal = journal_numbers(c.transport_mut().inner.handler_mut().inner_mut());
    assert_eq!(
        journal.iter().collect::<HashSet<_>>().len(),
        400,
        "no doubled number"
    );
    journal.sort_unstable();
    got.sort_unstable();
    assert_eq!(journal, got, "no lost invoice, none extra");
}
