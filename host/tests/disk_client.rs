//! DiskClient over the in-process transport, against a small fake disk: typed commands,
//! refusals, D14 sessions, and retries under dropped, corrupted, duplicated and delayed frames.
#![allow(clippy::unwrap_used)]

#[path = "disk_fake.rs"]
mod fake;

use fake::{FakeDisk, PIN, draft};
use std::collections::HashSet;
use std::time::Duration;
use taxdisk_host::disk::{ClientConfig, DiskClient, DiskError};
use taxdisk_host::transport::InProcess;
use taxdisk_host::transport::fault::{FaultRates, FaultyHandler};
use taxdisk_host::transport::inproc::Shared;
use taxdisk_protocol::control::FrameFaultAction;
use taxdisk_protocol::types::{JournalEvent, Pin};
use taxdisk_protocol::{CommandId, FrameHandler, WireError};

type Client = DiskClient<InProcess<FaultyHandler<FakeDisk>>>;

fn config() -> ClientConfig {
    ClientConfig {
        attempts: 5,
        timeout: Duration::from_millis(20),
        reconnect_pause: Duration::ZERO,
        session: None,
    }
}

fn client(disk: FakeDisk) -> Client {
    DiskClient::with_config(InProcess::new(FaultyHandler::scripted(disk)), config())
}

fn logged_in(disk: FakeDisk) -> Client {
    let mut c = client(disk);
    c.login(&Pin::new(PIN).unwrap()).unwrap();
    c
}

fn faults(c: &mut Client) -> &mut FaultyHandler<FakeDisk> {
    c.transport_mut().handler_mut()
}

fn disk(c: &mut Client) -> &mut FakeDisk {
    c.transport_mut().handler_mut().inner_mut()
}

#[test]
fn ping_echoes_and_session_is_nonzero() {
    let mut c = client(FakeDisk::new());
    assert_ne!(c.session(), 0);
    assert_eq!(c.ping(0xDEAD_BEEF).unwrap(), 0xDEAD_BEEF);
    assert_eq!(c.ping(7).unwrap(), 7);
    assert_eq!(c.stats().sends, 2);
    let other = client(FakeDisk::new());
    assert_ne!(c.session(), other.session(), "random session ids");
}

#[test]
fn d02_wrong_pin_is_refused_with_tries_left_and_not_retried() {
    let mut c = client(FakeDisk::new());
    let err = c.login(&Pin::new("00000000").unwrap()).unwrap_err();
    match &err {
        DiskError::Refused {
            command,
            error,
            detail,
            retried,
        } => {
            assert!(!retried);
            assert_eq!(*command, CommandId::Login);
            assert_eq!(*error, WireError::WrongPin);
            assert_eq!(*detail, 9);
        }
        e => panic!("expected a refusal, got {e:?}"),
    }
    let line = err.to_string();
    assert!(
        line.contains("D2") && line.contains("9 tries left"),
        "{line}"
    );
    assert!(!line.contains('\n'));
    assert_eq!(c.stats().sends, 1, "a refusal is not retried");
    assert_eq!(err.wire_error(), Some(WireError::WrongPin));
    assert!(!err.outcome_unknown());
}

#[test]
fn d05_issue_refused_when_not_logged_in() {
    let mut c = client(FakeDisk::new().with_rolls(1));
    let err = c.issue(draft(100)).unwrap_err();
    assert_eq!(err.wire_error(), Some(WireError::NotLoggedIn));
    assert!(err.to_string().contains("Issue refused"), "{err}");
}

#[test]
fn d14_second_session_is_busy() {
    let (a, shared) = Shared::new(FakeDisk::new().with_rolls(1));
    let mut first = DiskClient::with_config(InProcess::new(a.clone()), config());
    let mut second = DiskClient::with_config(InProcess::new(a), config());
    first.login(&Pin::new(PIN).unwrap()).unwrap();
    let err = second.login(&Pin::new(PIN).unwrap()).unwrap_err();
    assert!(matches!(err, DiskError::Busy { .. }), "{err:?}");
    assert!(err.to_string().contains("D14"));
    assert_eq!(second.stats().sends, 1, "Busy is not retried");
    first.issue(draft(100)).unwrap();
    first.logout().unwrap();
    second.login(&Pin::new(PIN).unwrap()).unwrap();
    assert_eq!(shared.lock().unwrap().journal.len(), 1);
}

#[test]
fn issue_retry_after_dropped_answer_returns_the_same_invoice() {
    let mut c = logged_in(FakeDisk::new().with_rolls(1));
    faults(&mut c).arm(1, FrameFaultAction::DropAnswer);
    let inv = c.issue(draft(10_000)).unwrap();
    assert_eq!(c.stats().retries, 1);
    let d = disk(&mut c);
    assert_eq!(d.journal.len(), 1, "one invoice, not two");
    assert_eq!(d.journal[0].number, inv.body.number);
    let next = c.issue(draft(10_000)).unwrap();
    assert_eq!(next.body.number.get(), inv.body.number.get() + 1);
}

#[test]
fn dropped_request_and_corrupted_answer_are_retried() {
    let mut c = logged_in(FakeDisk::new().with_rolls(1));
    faults(&mut c).arm(1, FrameFaultAction::DropRequest);
    faults(&mut c).arm(3, FrameFaultAction::CorruptAnswer);
    let a = c.issue(draft(1)).unwrap();
    let b = c.issue(draft(2)).unwrap();
    assert_ne!(a.body.number, b.body.number);
    let s = c.stats();
    assert_eq!((s.retries, s.bad_frames, s.timeouts), (2, 1, 1));
    assert_eq!(disk(&mut c).journal.len(), 2);
}

#[test]
fn stale_duplicate_answers_are_discarded() {
    let mut c = logged_in(FakeDisk::new().with_rolls(1));
    faults(&mut c).arm(1, FrameFaultAction::DuplicateAnswer);
    let a = c.issue(draft(1)).unwrap();
    // The duplicate of the first answer is still queued: the next request must skip it.
    let b = c.issue(draft(2)).unwrap();
    assert_eq!(b.body.number.get(), a.body.number.get() + 1);
    assert_eq!(b.body.amount.0, 2);
    assert_eq!(c.stats().stale, 1);
}

#[test]
fn late_answer_is_used_once_and_its_twin_discarded() {
    let mut c = logged_in(FakeDisk::new().with_rolls(1));
    faults(&mut c).arm(1, FrameFaultAction::LateAnswer);
    let a = c.issue(draft(1)).unwrap();
    assert_eq!(c.stats().timeouts, 1, "the first wait timed out");
    let b = c.issue(draft(2)).unwrap();
    assert_eq!(b.body.amount.0, 2);
    assert!(c.stats().stale >= 1);
    let d = disk(&mut c);
    assert_eq!(d.journal.len(), 2);
    assert_eq!(d.journal[0].number, a.body.number);
}

struct Silent;
impl FrameHandler for Silent {
    fn handle_frame(&mut self, _: &[u8], _: &mut [u8]) -> usize {
        0
    }
}

#[test]
fn no_answer_ends_in_timeout_after_the_configured_attempts() {
    let mut c = DiskClient::with_config(
        InProcess::new(Silent),
        ClientConfig {
            attempts: 3,
            ..config()
        },
    );
    let err = c.ping(1).unwrap_err();
    assert!(
        matches!(err, DiskError::Timeout { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(err.outcome_unknown());
    assert!(err.to_string().contains("Ping"), "{err}");
    assert_eq!(c.stats().sends, 3);
}

#[test]
fn list_rolls_reads_every_page() {
    let mut c = logged_in(FakeDisk::new().with_rolls(19));
    let rolls = c.list_rolls(None).unwrap();
    assert_eq!(rolls.len(), 19);
    let firsts: HashSet<u32> = rolls.iter().map(|r| r.first.get()).collect();
    assert_eq!(firsts.len(), 19);
    // 8 + 8 + 3: three pages.
    assert_eq!(c.stats().requests, 2 + 3 - 1);
}

#[test]
fn list_pending_reads_every_page_and_refuses_a_stuck_disk() {
    let mut c = logged_in(FakeDisk::new().with_rolls(1));
    for i in 0..10 {
        c.issue(draft(100 + i)).unwrap();
    }
    let events = c.list_pending().unwrap();
    let counters: Vec<u64> = events.iter().map(JournalEvent::counter).collect();
    assert_eq!(counters, (1..=10).collect::<Vec<_>>());
    disk(&mut c).stuck_paging = true;
    let err = c.list_pending().unwrap_err();
    assert!(matches!(err, DiskError::Protocol { .. }), "{err:?}");
}

/// Reliability: 1,000 issues with random dropped requests, dropped, corrupted, duplicated and
/// delayed answers; every number the client got is in the journal once, and the journal holds
/// nothing else.
#[test]
fn thousand_issues_under_random_faults_no_lost_no_doubled_invoice() {
    let disk = FakeDisk::new().with_rolls(2);
    let rates = FaultRates {
        drop_request: 30_000,
        drop_answer: 40_000,
        corrupt_answer: 40_000,
        duplicate_answer: 30_000,
        late_answer: 30_000,
    };
    let mut c = DiskClient::with_config(
        InProcess::new(FaultyHandler::new(disk, rates, 42)),
        ClientConfig {
            attempts: 8,
            timeout: Duration::from_millis(1),
            ..config()
        },
    );
    while c.login(&Pin::new(PIN).unwrap()).is_err() {}
    let mut got = Vec::new();
    for i in 0..1000 {
        let inv = c.issue(draft(100 + i)).unwrap();
        assert_eq!(inv.body.amount.0, 100 + i, "answer belongs to this request");
        got.push(inv.body.number.get());
    }
    let unique: HashSet<u32> = got.iter().copied().collect();
    assert_eq!(unique.len(), 1000, "no number given twice");
    let f = c.transport_mut().handler_mut().stats();
    assert!(
        f.dropped_requests > 10 && f.dropped_answers > 10 && f.corrupted > 10,
        "{f:?}"
    );
    assert!(f.duplicated > 10 && f.late > 10, "{f:?}");
    let s = c.stats();
    assert!(s.retries > 50 && s.stale > 10, "{s:?}");
    // The disk's own view, read through the client (with faults still on).
    let events = c.list_pending().unwrap();
    let journal: Vec<u32> = events
        .iter()
        .map(|e| match e {
            JournalEvent::Invoice(i) => i.body.number.get(),
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(
        journal, got,
        "the journal is exactly what the client got, in order"
    );
    for (k, n) in got.iter().enumerate() {
        let v = c.read_event(k as u64 + 1).unwrap();
        match v.event {
            JournalEvent::Invoice(i) => assert_eq!(i.body.number.get(), *n),
            other => panic!("unexpected event {other:?}"),
        }
    }
    let d = c.transport_mut().handler_mut().inner();
    assert_eq!(d.issued, 1000);
    assert!(d.replayed + d.cache_hits > 0, "retries reached the disk");
}
