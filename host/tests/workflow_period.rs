//! H12 the monthly cycle through the workflow: report (上报汇总), declaration, clear card with
//! each FAQ 9.10 reason as its own message, the lock after the lock time (D8), and the counter
//! report (办税厅抄报) written to a medium file.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::workflow::period::read_counter_report;
use taxdisk_host::workflow::{ClearCardFailure, WorkflowError};
use taxdisk_protocol::WireError;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;
use workflow_support::*;

fn failure(e: &WorkflowError) -> &ClearCardFailure {
    match e {
        WorkflowError::ClearCard(c) => c,
        other => panic!("expected a clear-card failure, got {other}"),
    }
}

#[test]
fn h12_clear_card_reasons_each_their_own_message() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let nov = period(2026, 11);
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    // The period has not ended.
    let e = env.wf.clear_card(nov).unwrap_err();
    assert!(matches!(failure(&e), ClearCardFailure::NotFinished { .. }));
    says(&e, "H12");
    // December, logged in offline: copied, not reported.
    env.wf.logout().unwrap();
    env.set_time(at(2026, 12, 3, 9));
    env.go_offline();
    env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    // FAQ 9.10(2): the network.
    let e = env.wf.clear_card(nov).unwrap_err();
    assert!(matches!(failure(&e), ClearCardFailure::Network(_)));
    assert!(e.is_offline());
    says(&e, "FAQ 9.10(2)");
    // FAQ 9.10(1): no server address.
    env.wf.set_bureau(None);
    let e = env.wf.clear_card(nov).unwrap_err();
    assert!(matches!(failure(&e), ClearCardFailure::NoServer));
    says(&e, "FAQ 9.10(1)");
    // Online: not reported yet.
    env.go_online();
    let e = env.wf.clear_card(nov).unwrap_err();
    assert!(matches!(failure(&e), ClearCardFailure::NotReported { .. }));
    says(&e, "上报汇总");
    // Reported by hand; FAQ 9.10(3): not declared.
    let summary = env.wf.report_period(nov).unwrap();
    assert_eq!(summary.body.period, nov);
    let k = summary
        .body
        .kinds
        .iter()
        .find(|(k, _)| *k == InvoiceKind::Normal)
        .unwrap();
    assert_eq!(k.1.positive_count, 1);
    let e = env.wf.clear_card(nov).unwrap_err();
    assert!(matches!(failure(&e), ClearCardFailure::NotDeclared { .. }));
    says(&e, "FAQ 9.10(3)");
    assert_eq!(e.api_error(), None);
    // Declared: cleared; the lock time moves to the next filing period.
    env.wf.declare(nov).unwrap();
    let before = env.wf.status().unwrap().info.lock_time.unwrap();
    env.wf.clear_card(nov).unwrap();
    let info = env.wf.status().unwrap().info;
    assert_eq!(info.last_cleared, Some(nov));
    assert!(info.lock_time.unwrap() > before);
    // Clearing may be repeated (D8).
    env.wf.clear_card(nov).unwrap();
}

#[test]
fn d08_past_the_lock_time_issuing_is_refused_until_cleared() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let nov = period(2026, 11);
    env.wf.logout().unwrap();
    // Past 2026-12-16 00:00 CST without a clear card: locked.
    env.set_time(at(2026, 12, 17, 9));
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert_eq!(r.reported, vec![nov], "{:?}", r.notes);
    assert!(r.cleared.is_empty());
    let d = normal(&mut env.wf);
    let e = env.wf.issue(d).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::Locked));
    says(&e, "D8");
    env.wf.declare(nov).unwrap();
    env.wf.clear_card(nov).unwrap();
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
}

#[test]
fn h12_counter_report_writes_signed_summary_and_details() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let nov = period(2026, 11);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let d = normal(&mut env.wf);
        ids.push(env.wf.issue(d).unwrap().id);
    }
    env.wf.void(&ids[..1]).unwrap();
    env.wf.void_blank(InvoiceKind::Normal, 2).unwrap();
    env.wf.logout().unwrap();
    env.set_time(at(2026, 12, 1, 9));
    env.wf.set_bureau(None); // no network: the counter report is the way (FAQ 9.4(1))
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert_eq!(r.copied, vec![nov]);
    let medium = env.dir.path().join("medium.json");
    env.wf.counter_report(nov, &medium).unwrap();
    let report = read_counter_report(&medium).unwrap();
    assert_eq!(report.summary.body.period, nov);
    assert_eq!(report.events.len(), 5, "3 invoices, 1 void, 1 blank void");
    let pk = env.wf.disk().public_key().unwrap();
    let vk = sign::verifying_key(&pk).unwrap();
    assert_eq!(report.summary.verify(&vk), Ok(()));
    for ev in &report.events {
        let ok = match ev {
            JournalEvent::Invoice(s) => s.verify(&vk),
            JournalEvent::Void(s) => s.verify(&vk),
            JournalEvent::BlankVoid(s) => s.verify(&vk),
        };
        assert_eq!(ok, Ok(()));
    }
    let k = &report.summary.body.kinds[0].1;
    assert_eq!(
        (k.positive_count, k.void_count, k.blank_void_count),
        (3, 1, 2)
    );
    // A damaged medium is refused with a message, never a panic.
    std::fs::write(&medium, b"{\"format\": 1}").unwrap();
    let e = read_counter_report(&medium).unwrap_err();
    says(&e, "H12");
}

#[test]
fn h12_report_needs_a_bureau() {
    let mut env = Env::new();
    env.wf.set_bureau(None);
    let e = env.wf.report_period(period(2026, 10)).unwrap_err();
    assert!(matches!(e, WorkflowError::NoBureau { .. }));
    env.go_online();
    let e = env.wf.report_period(period(2026, 11)).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::PeriodNotFinished));
    says(&e, "D8");
}
