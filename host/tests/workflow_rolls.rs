//! H13 rolls through the workflow: bought and read online, read from a medium file (each grant
//! once), returned with the disk's receipt handed to the bureau, and refused when locked (D4);
//! H14 the status screen per kind.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::workflow::WorkflowError;
use taxdisk_protocol::WireError;
use taxdisk_protocol::bureau_api::BuyRolls;
use taxdisk_protocol::types::*;
use workflow_support::*;

fn serial() -> DeviceSerial {
    DeviceSerial::new(SERIAL).unwrap()
}

#[test]
fn h13_buy_and_read_rolls_online() {
    let mut env = Env::new();
    let rolls = env.wf.buy_rolls(InvoiceKind::Normal, 25).unwrap();
    assert_eq!(rolls.iter().map(|r| r.count).sum::<u32>(), 25);
    // Bought at the tax office window, not yet read (FAQ 4.8).
    env.bureau_client()
        .buy_rolls(&BuyRolls {
            serial: serial(),
            kind: InvoiceKind::Special,
            count: 10,
        })
        .unwrap();
    let read = env.wf.read_rolls_online().unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!((read[0].kind, read[0].count), (InvoiceKind::Special, 10));
    assert!(
        env.wf.read_rolls_online().unwrap().is_empty(),
        "each grant once"
    );
    let st = env.wf.status().unwrap();
    assert_eq!(st.kind(InvoiceKind::Special).unwrap().status.blank_left, 10);
    assert_eq!(st.kind(InvoiceKind::Normal).unwrap().status.blank_left, 25);
}

#[test]
fn h13_read_rolls_from_a_medium_file() {
    let mut env = Env::new();
    let grants = env
        .bureau_client()
        .buy_rolls(&BuyRolls {
            serial: serial(),
            kind: InvoiceKind::Roll,
            count: 5,
        })
        .unwrap();
    let path = env.dir.path().join("grants.json");
    std::fs::write(&path, serde_json::to_vec(&grants).unwrap()).unwrap();
    let rolls = env.wf.read_rolls_from_file(&path).unwrap();
    assert_eq!(rolls.len(), 1);
    assert_eq!(rolls[0].kind, InvoiceKind::Roll);
    // Read twice: the disk holds it already (D4), nothing new.
    assert!(env.wf.read_rolls_from_file(&path).unwrap().is_empty());
    // A single grant (not a list) reads too; a tampered one is refused by the disk.
    let more = env
        .bureau_client()
        .buy_rolls(&BuyRolls {
            serial: serial(),
            kind: InvoiceKind::Roll,
            count: 5,
        })
        .unwrap();
    let mut forged = more[0].clone();
    forged.body.count = 5000;
    // A file with a good grant and a forged one loads nothing.
    let both = vec![more[0].clone(), forged];
    std::fs::write(&path, serde_json::to_vec(&both).unwrap()).unwrap();
    let e = env.wf.read_rolls_from_file(&path).unwrap_err();
    says(&e, "not signed by the tax bureau");
    says(&e, "D4");
    let st = env.wf.status().unwrap();
    assert_eq!(st.kind(InvoiceKind::Roll).unwrap().status.blank_left, 5);
    std::fs::write(&path, serde_json::to_vec(&more[0]).unwrap()).unwrap();
    assert_eq!(env.wf.read_rolls_from_file(&path).unwrap().len(), 1);
    // Another disk's grant and garbage are refused with a message.
    let mut other = more[0].clone();
    other.body.serial = DeviceSerial::new("669999999999").unwrap();
    std::fs::write(&path, serde_json::to_vec(&other).unwrap()).unwrap();
    let e = env.wf.read_rolls_from_file(&path).unwrap_err();
    says(&e, "D4");
    for junk in [&b""[..], b"[]", b"{\"body\": 1}", &[0xff, 0xfe, 0x00][..]] {
        std::fs::write(&path, junk).unwrap();
        let e = env.wf.read_rolls_from_file(&path).unwrap_err();
        assert!(matches!(e, WorkflowError::Medium { .. }), "{e}");
        says(&e, "H13");
    }
}

#[test]
fn h13_return_a_roll() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    let roll = env.wf.rolls(Some(InvoiceKind::Normal)).unwrap().remove(0);
    let r = env
        .wf
        .return_roll(InvoiceKind::Normal, &roll.code, roll.first)
        .unwrap();
    assert!(r.handed_in, "{:?}", r.note);
    assert_eq!(r.receipt.body.count, 9);
    assert_eq!(r.receipt.body.first.get(), roll.first.get() + 1);
    let st = env.wf.status().unwrap();
    assert_eq!(st.kind(InvoiceKind::Normal).unwrap().status.blank_left, 0);
    // Nothing left to return.
    let e = env
        .wf
        .return_roll(InvoiceKind::Normal, &roll.code, roll.first)
        .unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::RollNotFound));
}

#[test]
fn d04_return_refused_when_locked() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let roll = env.wf.rolls(None).unwrap().remove(0);
    env.wf.logout().unwrap();
    env.set_time(at(2026, 12, 20, 9));
    env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    let e = env
        .wf
        .return_roll(InvoiceKind::Normal, &roll.code, roll.first)
        .unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::Locked));
    says(&e, "D8");
}

/// A normal roll of 10 with one invoice issued in November, then 2 December with the bureau
/// unreachable: the login copies November (issuing goes on) but cannot report it.
fn copied_offline() -> (Env, Roll) {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    let roll = env.wf.rolls(None).unwrap().remove(0);
    env.wf.logout().unwrap();
    env.set_time(at(2026, 12, 2, 9));
    env.go_offline();
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert_eq!(r.copied, vec![period(2026, 11)]);
    assert!(r.reported.is_empty() && r.receipts.is_empty(), "{r:?}");
    (env, roll)
}

#[test]
fn d04_return_waits_for_the_report_and_report_reads_the_receipt_in() {
    let (mut env, roll) = copied_offline();
    let e = env
        .wf
        .return_roll(InvoiceKind::Normal, &roll.code, roll.first)
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::ReturnBeforeReport { period: p } if p == period(2026, 11)),
        "{e}"
    );
    assert_eq!(e.wire_error(), Some(WireError::ReturnBeforeReport));
    says(&e, "has not received the summary");
    says(&e, "FAQ 4.21(4)");
    // The explicit report (上报汇总) hands the bureau's receipt to the disk.
    env.go_online();
    env.wf.report_period(period(2026, 11)).unwrap();
    assert_eq!(
        env.wf.refresh_info().unwrap().last_reported,
        Some(period(2026, 11))
    );
    let r = env
        .wf
        .return_roll(InvoiceKind::Normal, &roll.code, roll.first)
        .unwrap();
    assert_eq!(r.receipt.body.count, 9);
    // Reporting again fetches a receipt again; the disk has it already, which is fine.
    env.wf.report_period(period(2026, 11)).unwrap();
}

#[test]
fn d04_a_login_fetches_a_lost_receipt_again() {
    let (mut env, roll) = copied_offline();
    // The bureau received the summary, but its answer never reached the disk.
    env.go_online();
    env.wf.upload().unwrap();
    let summary = env.wf.disk().copy_tax(period(2026, 11)).unwrap();
    env.bureau_client().summary(&summary).unwrap();
    assert_eq!(env.wf.refresh_info().unwrap().last_reported, None);
    let e = env
        .wf
        .return_roll(InvoiceKind::Normal, &roll.code, roll.first)
        .unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::ReturnBeforeReport));
    // The next login sends the summary again for the receipt (not a new report).
    env.wf.logout().unwrap();
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert!(r.reported.is_empty(), "{r:?}");
    assert_eq!(r.receipts, vec![period(2026, 11)]);
    assert_eq!(r.info.last_reported, Some(period(2026, 11)));
    env.wf
        .return_roll(InvoiceKind::Normal, &roll.code, roll.first)
        .unwrap();
}

#[test]
fn h14_status_per_kind_limits_offline_lock_and_authorizations() {
    let mut special = limits(InvoiceKind::Special);
    special.single_limit = Fen(1_000_000);
    special.offline_hours = 48;
    let mut env = Env::with_kinds(&[special, limits(InvoiceKind::Normal)]);
    env.wf.buy_rolls(InvoiceKind::Special, 5).unwrap();
    env.go_offline();
    let d = draft_of(
        &mut env.wf,
        taxdisk_host::invoice::KindFields::Special,
        "1",
        "300",
    );
    env.wf.issue(d).unwrap();
    let st = env.wf.status().unwrap();
    let s = st.kind(InvoiceKind::Special).unwrap();
    assert!(s.status.authorized);
    assert_eq!(s.status.limits.single_limit, Fen(1_000_000));
    assert_eq!(s.status.limits.offline_hours, 48);
    assert_eq!(s.status.pending_count, 1);
    assert_eq!(s.status.pending_amount, Fen(30_000));
    assert_eq!(s.status.oldest_pending, Some(nov10()));
    assert_eq!(s.status.blank_left, 4);
    assert_eq!(s.rolls.len(), 1);
    assert!(st.kind(InvoiceKind::Normal).unwrap().status.authorized);
    for k in [
        InvoiceKind::Roll,
        InvoiceKind::Electronic,
        InvoiceKind::UsedCar,
    ] {
        assert!(!st.kind(k).unwrap().status.authorized, "{k}");
    }
    // Lock time: 00:00 CST on the 16th of the next month.
    assert_eq!(st.info.lock_time, Some(at(2026, 12, 16, 0)));
    assert_eq!(st.info.taxpayer_id, Some(tp(TAXPAYER)));
    assert!(st.oil.is_none(), "no oil authorization, no oil (H15)");
    // Over the single-invoice limit (D5).
    env.go_online();
    let d = draft_of(
        &mut env.wf,
        taxdisk_host::invoice::KindFields::Special,
        "1",
        "20000",
    );
    let e = env.wf.issue(d).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::OverSingleLimit));
}

#[test]
fn h06_coding_disabled_with_only_vehicle_authorization() {
    let mut env = Env::with_kinds(&[limits(InvoiceKind::MotorVehicle)]);
    let e = env.wf.coding_allowed().unwrap_err();
    says(&e, "H6");
    let mut env = Env::with_kinds(&[
        limits(InvoiceKind::MotorVehicle),
        limits(InvoiceKind::Normal),
    ]);
    env.wf.coding_allowed().unwrap();
}

#[test]
fn h13_buying_also_reads_earlier_unread_grants_in_order() {
    let mut env = Env::new();
    // Bought at the window, not read; then bought through the software.
    env.bureau_client()
        .buy_rolls(&BuyRolls {
            serial: serial(),
            kind: InvoiceKind::Special,
            count: 3,
        })
        .unwrap();
    let rolls = env.wf.buy_rolls(InvoiceKind::Normal, 4).unwrap();
    let kinds: Vec<_> = rolls.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec![InvoiceKind::Special, InvoiceKind::Normal]);
    assert!(env.wf.read_rolls_online().unwrap().is_empty());
}
