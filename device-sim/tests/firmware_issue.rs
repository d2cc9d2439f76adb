//! D4 rolls, D5 issue, D6 red invoices, driven through encoded frames of a SimDisk.
// Money is written yuan_fen (100_00 = 100.00 yuan).
#![allow(clippy::inconsistent_digit_grouping)]
// Helpers outside #[test] fns stop the test with the failed step.
#![allow(clippy::unwrap_used)]
mod firmware_support;
use firmware_support::*;
use taxdisk_protocol::command::*;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response, WireError};

fn rolls(d: &mut Disk, kind: Option<InvoiceKind>) -> Vec<Roll> {
    match d.ok(S, Request::ListRolls(ListRolls { kind, skip: 0 })) {
        Response::ListRolls(v) => v.into_iter().collect(),
        r => panic!("{r:?}"),
    }
}

fn info_form() -> InfoFormNumber {
    let first15 = b"330100261100001";
    let check = taxdisk_protocol::validate::info_form_check_digit(first15);
    let mut s = String::from_utf8(first15.to_vec()).unwrap();
    s.push(check as char);
    InfoFormNumber::new(&s).unwrap()
}

// ---- D4 ---------------------------------------------------------------------------------

#[test]
fn d04_roll_grants_are_verified_bound_and_used_once() {
    let mut d = Disk::ready();
    let g = d.grant(InvoiceKind::Normal, 1, 10);
    let forged = Signed::sign(g.body.clone(), &foreign_bureau()).unwrap();
    assert_eq!(
        d.err(S, Request::LoadRolls(forged)),
        WireError::BadSignature
    );
    let mut b = g.body.clone();
    b.serial = other_serial();
    assert_eq!(
        d.err(S, Request::LoadRolls(signed(b))),
        WireError::WrongDevice
    );
    d.ok(S, Request::LoadRolls(g.clone()));
    assert_eq!(d.err(S, Request::LoadRolls(g.clone())), WireError::Replayed);
    // A newer grant overlapping the loaded range.
    let mut o = g.body.clone();
    o.seq = d.next_seq();
    o.first = InvoiceNumber::new(5).unwrap();
    assert_eq!(
        d.err(S, Request::LoadRolls(signed(o))),
        WireError::RollOverlap
    );
    // A code that does not fit the kind (F2).
    let mut w = g.body.clone();
    w.seq = d.next_seq();
    w.kind = InvoiceKind::Electronic;
    assert_eq!(
        d.err(S, Request::LoadRolls(signed(w))),
        WireError::BadRollCode
    );
    assert_eq!(rolls(&mut d, None).len(), 1);
}

#[test]
fn d04_roll_table_is_bounded() {
    let mut d = Disk::ready();
    for i in 0..16 {
        d.load_roll(InvoiceKind::Normal, 1 + i * 10, 10);
    }
    let g = d.grant(InvoiceKind::Normal, 1000, 10);
    assert_eq!(d.err(S, Request::LoadRolls(g)), WireError::TooManyRolls);
}

#[test]
fn d04_issue_takes_the_oldest_roll_first() {
    let mut d = Disk::ready();
    let a = d.load_roll(InvoiceKind::Normal, 101, 2);
    let b = d.load_roll(InvoiceKind::Normal, 1, 5);
    let i1 = d.issue(InvoiceKind::Normal, 100);
    let i2 = d.issue(InvoiceKind::Normal, 100);
    let i3 = d.issue(InvoiceKind::Normal, 100);
    assert_eq!((&i1.body.code, i1.body.number.get()), (&a.code, 101));
    assert_eq!((&i2.body.code, i2.body.number.get()), (&a.code, 102));
    assert_eq!((&i3.body.code, i3.body.number.get()), (&b.code, 1));
    let list = rolls(&mut d, Some(InvoiceKind::Normal));
    assert_eq!(list.iter().map(|r| r.left()).sum::<u32>(), 4);
}

#[test]
fn d04_return_roll_with_device_signed_receipt() {
    let mut d = Disk::ready();
    let r = d.load_roll(InvoiceKind::Normal, 1, 50);
    d.issue(InvoiceKind::Normal, 100);
    d.issue(InvoiceKind::Normal, 100);
    let ret = ReturnRoll {
        request_id: [0x61; 16],
        kind: InvoiceKind::Normal,
        code: r.code.clone(),
        first: r.first,
    };
    let Response::ReturnRoll(receipt) = d.ok(S, Request::ReturnRoll(ret.clone())) else {
        panic!()
    };
    assert_eq!(receipt.body.first.get(), 3);
    assert_eq!(receipt.body.count, 48);
    assert_eq!(receipt.body.serial, serial());
    d.verify(&receipt);
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100),
        WireError::NoBlankNumber
    );
    // Issue 17: the same request again, even after a power cut, answers the same receipt (it
    // used to be RollNotFound, and the receipt the bureau needs was lost with the answer).
    assert_eq!(
        d.ok(S, Request::ReturnRoll(ret.clone())),
        Response::ReturnRoll(receipt.clone())
    );
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.status(InvoiceKind::Normal).blank_left, 0);
    assert_eq!(
        d.ok(S, Request::ReturnRoll(ret.clone())),
        Response::ReturnRoll(receipt)
    );
    // A new request for the returned roll finds nothing to return.
    let again = ReturnRoll {
        request_id: [0x6F; 16],
        ..ret
    };
    assert_eq!(
        d.err(S, Request::ReturnRoll(again)),
        WireError::RollNotFound
    );
}

#[test]
fn d04_return_refused_when_locked() {
    let mut d = Disk::ready();
    let r = d.load_roll(InvoiceKind::Normal, 1, 50);
    d.disk.set_time(at(2026, 12, 20, 9)); // past the lock time 2026-12-16
    let ret = ReturnRoll {
        request_id: [0x62; 16],
        kind: InvoiceKind::Normal,
        code: r.code,
        first: r.first,
    };
    assert_eq!(d.err(S, Request::ReturnRoll(ret)), WireError::Locked);
}

#[test]
fn d04_return_refused_from_day_one_until_the_report() {
    let mut d = Disk::ready();
    let r = d.load_roll(InvoiceKind::Normal, 1, 50);
    d.disk.set_time(at(2026, 12, 1, 9));
    let ret = ReturnRoll {
        request_id: [0x63; 16],
        kind: InvoiceKind::Normal,
        code: r.code,
        first: r.first,
    };
    assert_eq!(
        d.err(S, Request::ReturnRoll(ret.clone())),
        WireError::ReturnBeforeReport
    );
    d.copy_tax(period(2026, 11));
    // FAQ 4.21(4): copied is not reported; the bureau's receipt is.
    assert_eq!(
        d.err(S, Request::ReturnRoll(ret.clone())),
        WireError::ReturnBeforeReport
    );
    let receipt = d.report_receipt(period(2026, 11));
    d.ok(S, Request::ApplyReportReceipt(receipt));
    d.ok(S, Request::ReturnRoll(ret));
}

// ---- D5 ---------------------------------------------------------------------------------

#[test]
fn d05_issue_refused_when_not_logged_in() {
    let mut d = Disk::stocked();
    d.ok(S, Request::Logout(()));
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100),
        WireError::NotLoggedIn
    );
}

#[test]
fn d05_issue_refused_kind_not_authorized() {
    let mut d = Disk::stocked();
    let t = d.update(&[UpdateChange::Authorize(InvoiceKind::Special, false)]);
    d.ok(S, Request::ApplyUpdate(t));
    assert_eq!(
        d.issue_err(InvoiceKind::Special, 100),
        WireError::KindNotAuthorized
    );
}

#[test]
fn d05_issue_refused_no_blank_number() {
    let mut d = Disk::ready();
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100),
        WireError::NoBlankNumber
    );
    d.load_roll(InvoiceKind::Normal, 1, 1);
    d.issue(InvoiceKind::Normal, 100);
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100),
        WireError::NoBlankNumber
    );
}

#[test]
fn d05_issue_refused_over_single_limit() {
    let mut d = Disk::stocked();
    let lim = limits(InvoiceKind::Normal).single_limit.0;
    d.issue(InvoiceKind::Normal, lim);
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, lim + 1),
        WireError::OverSingleLimit
    );
}

#[test]
fn d05_issue_refused_zero_total() {
    let mut d = Disk::stocked();
    let mut q = d.req(InvoiceKind::Normal, 0);
    q.tax = Fen(0);
    assert_eq!(d.err(S, Request::Issue(q)), WireError::ZeroTotal);
}

#[test]
fn d05_issue_refused_when_locked() {
    let mut d = Disk::stocked();
    d.disk.set_time(at(2026, 12, 16, 1));
    assert_eq!(d.issue_err(InvoiceKind::Normal, 100), WireError::Locked);
    assert_eq!(d.info().state, DiskState::Locked);
}

#[test]
fn d05_issue_refused_new_month_not_reported() {
    let mut d = Disk::stocked();
    d.disk.set_time(at(2026, 12, 2, 9));
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100),
        WireError::PeriodNotReported
    );
    d.copy_tax(period(2026, 11));
    d.issue(InvoiceKind::Normal, 100);
}

#[test]
fn d05_refusals_come_in_rules_order() {
    let mut d = Disk::stocked();
    // Locked and over the limit: the limit is checked first.
    d.disk.set_time(at(2026, 12, 20, 9));
    let lim = limits(InvoiceKind::Normal).single_limit.0;
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, lim + 1),
        WireError::OverSingleLimit
    );
    // Locked and zero: zero first.
    let mut q = d.req(InvoiceKind::Normal, 0);
    q.tax = Fen(0);
    assert_eq!(d.err(S, Request::Issue(q)), WireError::ZeroTotal);
    // Locked and not reported: locked first.
    assert_eq!(d.issue_err(InvoiceKind::Normal, 100), WireError::Locked);
}

#[test]
fn d05_issue_success_is_signed_stamped_and_durable() {
    let mut d = Disk::stocked();
    d.disk.advance(3600);
    let before = d.info().counter;
    let q = d.req(InvoiceKind::Special, 1000_00);
    let inv = d.issue_with(q.clone());
    d.verify(&inv);
    let b = &inv.body;
    assert_eq!(b.serial, serial());
    assert_eq!(b.counter, before + 1);
    assert_eq!(b.time, start().plus_secs(3600));
    assert_eq!(
        (b.amount, b.tax, b.request_id),
        (q.amount, q.tax, q.request_id)
    );
    assert_eq!(b.content_digest, q.content_digest);
    b.code.check_kind(InvoiceKind::Special).unwrap();
    // Durable before the answer: a power cycle right after keeps it.
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    let r = InvoiceRef {
        kind: b.kind,
        code: b.code.clone(),
        number: b.number,
    };
    let Response::ReadInvoice(v) = d.ok(S, Request::ReadInvoice(r)) else {
        panic!()
    };
    assert_eq!(v.invoice, inv);
    assert!(!v.voided && !v.uploaded);
    let Response::LastIssued(Some(last)) = d.ok(S, Request::LastIssued(None)) else {
        panic!()
    };
    assert_eq!(last.invoice, inv);
}

#[test]
fn d05_retry_with_same_request_id_gets_the_stored_answer() {
    let mut d = Disk::stocked();
    let q = d.req(InvoiceKind::Normal, 100_00);
    let a = d.issue_with(q.clone());
    d.disk.advance(10);
    let b = d.issue_with(q.clone());
    assert_eq!(a, b);
    assert_eq!(d.info().counter, a.body.counter);
    // Also after a power cycle.
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.issue_with(q.clone()), a);
    // Same id, other content.
    let mut other = q;
    other.amount = Fen(200_00);
    assert_eq!(
        d.err(S, Request::Issue(other)),
        WireError::RequestIdConflict
    );
    assert_eq!(d.info().counter, a.body.counter);
}

#[test]
fn d05_a_retry_of_any_recent_request_gets_its_own_answer() {
    let mut d = Disk::stocked();
    let issued: Vec<_> = (0..40)
        .map(|i| {
            let q = d.req(InvoiceKind::Normal, 100_00 + i);
            let a = d.issue_with(q.clone());
            (q, a)
        })
        .collect();
    let counter = d.info().counter;
    // The first, one in the second group of the index and the newest.
    for k in [0, 17, 39] {
        let (q, a) = &issued[k];
        assert_eq!(&d.issue_with(q.clone()), a, "request {k}");
    }
    assert_eq!(d.info().counter, counter, "nothing issued again");
}

// ---- D6 ---------------------------------------------------------------------------------

#[test]
fn d06_red_amounts_must_be_negative_and_blue_positive() {
    let mut d = Disk::stocked();
    let blue = d.issue(InvoiceKind::Normal, 100_00);
    let mut red = d.red_of(&blue.body, 50_00);
    red.amount = Fen(50_00);
    red.tax = Fen(0);
    assert_eq!(d.err(S, Request::Issue(red)), WireError::SignMismatch);
    let mut neg = d.req(InvoiceKind::Normal, -100);
    neg.tax = Fen(-13);
    assert_eq!(d.err(S, Request::Issue(neg)), WireError::SignMismatch);
}

#[test]
fn d06_red_reverses_an_existing_original() {
    let mut d = Disk::stocked();
    let blue = d.issue(InvoiceKind::Normal, 100_00);
    let red = d.red_of(&blue.body, 40_00);
    let r = d.issue_with(red);
    assert!(r.body.is_red());
    assert_eq!(r.body.amount, Fen(-40_00));
    // The rest can be reversed, not more.
    let over = d.red_of(&blue.body, 60_01);
    assert_eq!(
        d.err(S, Request::Issue(over)),
        WireError::ReversalNotAllowed
    );
    let rest = d.red_of(&blue.body, 60_00);
    d.issue_with(rest);
    // A red of a red.
    let rr = d.red_of(&r.body, 1);
    assert_eq!(d.err(S, Request::Issue(rr)), WireError::ReversalNotAllowed);
}

#[test]
fn d06_red_original_missing_or_voided() {
    let mut d = Disk::stocked();
    let blue = d.issue(InvoiceKind::Normal, 100_00);
    let mut ghost = blue.body.clone();
    ghost.number = InvoiceNumber::new(49).unwrap();
    let q = d.red_of(&ghost, 10);
    assert_eq!(d.err(S, Request::Issue(q)), WireError::OriginalNotFound);
    let r = InvoiceRef {
        kind: blue.body.kind,
        code: blue.body.code.clone(),
        number: blue.body.number,
    };
    let void = d.void_req(r);
    d.ok(S, void);
    let q = d.red_of(&blue.body, 10);
    assert_eq!(d.err(S, Request::Issue(q)), WireError::OriginalVoided);
}

#[test]
fn d06_red_special_names_an_info_form() {
    let mut d = Disk::stocked();
    let blue = d.issue(InvoiceKind::Special, 100_00);
    // A special red may not name the original.
    let q = d.red_of(&blue.body, 10_00);
    assert_eq!(d.err(S, Request::Issue(q)), WireError::ReversalNotAllowed);
    let mut q = d.req(InvoiceKind::Special, -10_00);
    q.red = Some(RedRef::InfoForm(info_form()));
    let red = d.issue_with(q);
    assert_eq!(red.body.red, Some(RedRef::InfoForm(info_form())));
    // Other kinds may not use an info form.
    let mut q = d.req(InvoiceKind::Normal, -10_00);
    q.red = Some(RedRef::InfoForm(info_form()));
    assert_eq!(d.err(S, Request::Issue(q)), WireError::ReversalNotAllowed);
}

#[test]
fn d06_red_must_match_the_original_kind_and_used_car_reverses_in_full() {
    let mut d = Disk::stocked();
    let normal = d.issue(InvoiceKind::Normal, 100_00);
    let mut q = d.red_of(&normal.body, 10_00);
    q.kind = InvoiceKind::Electronic;
    assert_eq!(d.err(S, Request::Issue(q)), WireError::ReversalNotAllowed);
    // FAQ 10.6: no used-car authorization type, no used-car invoice.
    assert_eq!(
        d.issue_err(InvoiceKind::UsedCar, 100_00),
        WireError::KindNotAuthorized
    );
    let t = d.update(&[UpdateChange::UsedCar(UsedCarRole::Market)]);
    d.ok(S, Request::ApplyUpdate(t));
    let car = d.issue(InvoiceKind::UsedCar, 100_00);
    let part = d.red_of(&car.body, 50_00);
    assert_eq!(
        d.err(S, Request::Issue(part)),
        WireError::ReversalNotAllowed
    );
    let full = d.red_of(&car.body, 100_00);
    d.issue_with(full);
}
