//! D7 void and blank void, D8 copy-tax / clear card / lock, D9 offline limits, D11 oil and
//! D12 upload, driven through encoded frames of a SimDisk.
// Money is written yuan_fen (100_00 = 100.00 yuan).
#![allow(clippy::inconsistent_digit_grouping)]
// Helpers outside #[test] fns stop the test with the failed step.
#![allow(clippy::unwrap_used)]
mod firmware_support;
use firmware_support::*;
use taxdisk_protocol::command::*;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response, WireError};

fn iref(s: &Signed<IssuedInvoice>) -> InvoiceRef {
    InvoiceRef {
        kind: s.body.kind,
        code: s.body.code.clone(),
        number: s.body.number,
    }
}

fn void(d: &mut Disk, s: &Signed<IssuedInvoice>) -> Result<Signed<VoidEvent>, WireError> {
    let req = d.void_req(iref(s));
    match d.disk.request(S, req) {
        Ok(Response::Void(v)) => Ok(v),
        Ok(r) => panic!("{r:?}"),
        Err(e) => Err(e.error),
    }
}

fn set_limits(d: &mut Disk, kind: InvoiceKind, hours: u32, amount: i64) {
    let mut l = limits(kind);
    l.offline_hours = hours;
    l.offline_amount = Fen(amount);
    let t = d.update(&[UpdateChange::Limits(l)]);
    d.ok(S, Request::ApplyUpdate(t));
}

// ---- D7 ---------------------------------------------------------------------------------

#[test]
fn d07_void_once_and_for_good() {
    let mut d = Disk::stocked();
    let inv = d.issue(InvoiceKind::Normal, 100_00);
    let v = void(&mut d, &inv).unwrap();
    d.verify(&v);
    assert_eq!(v.body.invoice_counter, inv.body.counter);
    assert_eq!(v.body.counter, inv.body.counter + 1);
    assert_eq!(void(&mut d, &inv), Err(WireError::AlreadyVoided));
    let Response::ReadInvoice(view) = d.ok(S, Request::ReadInvoice(iref(&inv))) else {
        panic!()
    };
    assert!(view.voided);
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(void(&mut d, &inv), Err(WireError::AlreadyVoided));
}

#[test]
fn d07_red_invoices_can_be_voided_too() {
    let mut d = Disk::stocked();
    let blue = d.issue(InvoiceKind::Normal, 100_00);
    let q = d.red_of(&blue.body, 100_00);
    let red = d.issue_with(q);
    void(&mut d, &red).unwrap();
}

#[test]
fn d07_electronic_invoices_cannot_be_voided() {
    let mut d = Disk::stocked();
    let inv = d.issue(InvoiceKind::Electronic, 100_00);
    assert_eq!(void(&mut d, &inv), Err(WireError::VoidNotAllowed));
}

#[test]
fn d07_oil_special_invoices_cannot_be_voided() {
    let mut d = Disk::stocked();
    let t = d.update(&[UpdateChange::Oil(OilRole::Producer, None)]);
    d.ok(S, Request::ApplyUpdate(t));
    let mut q = d.req(InvoiceKind::Special, 100_00);
    q.oil = Some(OilUse {
        category: 1,
        milli_quantity: 1000,
    });
    let inv = d.issue_with(q);
    assert_eq!(void(&mut d, &inv), Err(WireError::OilSpecialNoVoid));
}

#[test]
fn d07_void_unknown_invoice() {
    let mut d = Disk::stocked();
    let inv = d.issue(InvoiceKind::Normal, 100_00);
    let mut ghost = inv.clone();
    ghost.body.number = InvoiceNumber::new(40).unwrap();
    assert_eq!(void(&mut d, &ghost), Err(WireError::InvoiceNotFound));
    ghost = inv.clone();
    ghost.body.kind = InvoiceKind::Roll;
    assert_eq!(void(&mut d, &ghost), Err(WireError::InvoiceNotFound));
}

#[test]
fn d07_void_only_in_the_current_unreported_period() {
    let mut d = Disk::stocked();
    let inv = d.issue(InvoiceKind::Normal, 100_00);
    d.disk.set_time(at(2026, 12, 2, 9));
    assert_eq!(void(&mut d, &inv), Err(WireError::NotCurrentPeriod));
    d.copy_tax(period(2026, 11));
    assert_eq!(void(&mut d, &inv), Err(WireError::AlreadyReported));
}

#[test]
fn d07_void_refused_when_locked() {
    let mut d = Disk::stocked();
    let inv = d.issue(InvoiceKind::Normal, 100_00);
    // Past the provisioning token's lock time (2026-12-16).
    d.disk.set_time(at(2026, 12, 16, 9));
    assert_eq!(void(&mut d, &inv), Err(WireError::Locked));
}

#[test]
fn d07_blank_void_takes_the_next_numbers() {
    let mut d = Disk::stocked();
    let a = d.issue(InvoiceKind::Normal, 100_00);
    let bad = VoidBlank {
        request_id: [0x41; 16],
        kind: InvoiceKind::Normal,
        count: 0,
    };
    assert_eq!(d.err(S, Request::VoidBlank(bad)), WireError::BadArgument);
    let too_many = VoidBlank {
        request_id: [0x42; 16],
        kind: InvoiceKind::Normal,
        count: 50,
    };
    assert_eq!(
        d.err(S, Request::VoidBlank(too_many)),
        WireError::BadArgument
    );
    let Response::VoidBlank(bv) = d.ok(
        S,
        Request::VoidBlank(VoidBlank {
            request_id: [0x43; 16],
            kind: InvoiceKind::Normal,
            count: 3,
        }),
    ) else {
        panic!()
    };
    d.verify(&bv);
    assert_eq!(bv.body.first.get(), a.body.number.get() + 1);
    assert_eq!(bv.body.count, 3);
    let b = d.issue(InvoiceKind::Normal, 100_00);
    assert_eq!(b.body.number.get(), a.body.number.get() + 4);
    assert_eq!(d.status(InvoiceKind::Normal).blank_left, 50 - 5);
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.status(InvoiceKind::Normal).blank_left, 50 - 5);
}

#[test]
fn d07_a_void_sent_again_after_a_power_cut_answers_its_event() {
    let mut d = Disk::stocked();
    let inv = d.issue(InvoiceKind::Normal, 100_00);
    let req = d.void_req(iref(&inv));
    let Response::Void(first) = d.ok(S, req.clone()) else {
        panic!()
    };
    // The answer was lost and the disk lost its power (and its RAM) before the host resent.
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    let Response::Void(again) = d.ok(S, req.clone()) else {
        panic!()
    };
    assert_eq!(
        again, first,
        "the stored event, not a refusal or a second void"
    );
    // The same id naming another invoice is a conflict, not a void.
    let other = d.issue(InvoiceKind::Normal, 200_00);
    let Request::Void(mut q) = req else { panic!() };
    q.invoice = iref(&other);
    assert_eq!(d.err(S, Request::Void(q)), WireError::RequestIdConflict);
    // A new id for the first invoice: it is voided already (FAQ 5.7).
    assert_eq!(void(&mut d, &inv), Err(WireError::AlreadyVoided));
    let voids = d
        .all_pending()
        .into_iter()
        .filter(|e| matches!(e, JournalEvent::Void(_)))
        .count();
    assert_eq!(voids, 1);
}

#[test]
fn d07_a_blank_void_sent_again_after_a_power_cut_voids_nothing_more() {
    let mut d = Disk::stocked();
    let before = d.status(InvoiceKind::Normal).blank_left;
    let req = d.void_blank_req(InvoiceKind::Normal, 2);
    let Response::VoidBlank(first) = d.ok(S, req.clone()) else {
        panic!()
    };
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    let Response::VoidBlank(again) = d.ok(S, req.clone()) else {
        panic!()
    };
    assert_eq!(
        again, first,
        "the numbers voided the first time, not the next two"
    );
    assert_eq!(d.status(InvoiceKind::Normal).blank_left, before - 2);
    // The same id asking for another count is a conflict.
    let Request::VoidBlank(mut q) = req else {
        panic!()
    };
    q.count = 3;
    assert_eq!(
        d.err(S, Request::VoidBlank(q)),
        WireError::RequestIdConflict
    );
    // A new request is a new blank void: the next numbers.
    let next = d.void_blank_req(InvoiceKind::Normal, 1);
    let Response::VoidBlank(b) = d.ok(S, next) else {
        panic!()
    };
    assert_eq!(b.body.first.get(), first.body.first.get() + 2);
    assert_eq!(d.status(InvoiceKind::Normal).blank_left, before - 3);
}

#[test]
fn d07_voids_are_uploaded_events() {
    let mut d = Disk::stocked();
    let inv = d.issue(InvoiceKind::Normal, 100_00);
    void(&mut d, &inv).unwrap();
    d.ok(
        S,
        Request::VoidBlank(VoidBlank {
            request_id: [0x44; 16],
            kind: InvoiceKind::Normal,
            count: 1,
        }),
    );
    let p = d.all_pending();
    assert!(matches!(p[0], JournalEvent::Invoice(_)));
    assert!(matches!(p[1], JournalEvent::Void(_)));
    assert!(matches!(p[2], JournalEvent::BlankVoid(_)));
}

// ---- D8 ---------------------------------------------------------------------------------

#[test]
fn d08_copy_tax_summarizes_a_finished_period() {
    let mut d = Disk::stocked();
    let b1 = d.issue(InvoiceKind::Normal, 100_00);
    let b2 = d.issue(InvoiceKind::Normal, 300_00);
    let q = d.red_of(&b1.body, 40_00);
    let red = d.issue_with(q);
    void(&mut d, &b2).unwrap();
    d.ok(
        S,
        Request::VoidBlank(VoidBlank {
            request_id: [0x45; 16],
            kind: InvoiceKind::Normal,
            count: 2,
        }),
    );
    let sp = d.issue(InvoiceKind::Special, 1000_00);
    assert_eq!(
        d.err(S, Request::CopyTax(period(2026, 11))),
        WireError::PeriodNotFinished
    );
    d.disk.set_time(at(2026, 12, 3, 9));
    assert_eq!(
        d.err(S, Request::CopyTax(period(2026, 10))),
        WireError::PeriodNotCopyable
    );
    let s = d.copy_tax(period(2026, 11));
    d.verify(&s);
    let b = &s.body;
    assert_eq!(b.period, period(2026, 11));
    assert_eq!(b.taxpayer_id, taxpayer());
    assert_eq!(b.first_counter, b1.body.counter);
    assert_eq!(b.last_counter, sp.body.counter);
    let normal = &b
        .kinds
        .iter()
        .find(|(k, _)| *k == InvoiceKind::Normal)
        .unwrap()
        .1;
    assert_eq!(normal.positive_count, 2, "voided invoices are counted");
    assert_eq!(normal.positive_amount, Fen(100_00), "but not their amounts");
    assert_eq!(normal.positive_tax, b1.body.tax);
    assert_eq!(normal.negative_count, 1);
    assert_eq!(normal.negative_amount, red.body.amount);
    assert_eq!(normal.void_count, 1);
    assert_eq!(normal.blank_void_count, 2);
    let special = &b
        .kinds
        .iter()
        .find(|(k, _)| *k == InvoiceKind::Special)
        .unwrap()
        .1;
    assert_eq!(special.positive_amount, Fen(1000_00));
    assert_eq!(b.kinds.len(), 2);
    // Repeating answers the same summary, even later.
    d.disk.advance(3600);
    assert_eq!(d.copy_tax(period(2026, 11)), s);
    assert_eq!(d.info().last_copied, Some(period(2026, 11)));
}

#[test]
fn d08_locked_past_lock_time_until_clear_card() {
    let mut d = Disk::stocked();
    d.issue(InvoiceKind::Normal, 100_00);
    d.disk.set_time(at(2026, 12, 16, 9));
    assert_eq!(d.info().state, DiskState::Locked);
    assert_eq!(d.issue_err(InvoiceKind::Normal, 100), WireError::Locked);
    let early = d.clear_token(period(2026, 11), at(2027, 1, 16, 0));
    assert_eq!(d.err(S, Request::ClearCard(early)), WireError::NotCopied);
    d.copy_tax(period(2026, 11));
    let mut t = d.clear_token(period(2026, 11), at(2027, 1, 16, 0));
    let mut l = limits(InvoiceKind::Normal);
    l.single_limit = Fen(777);
    t = signed({
        let mut b = t.body;
        b.limits.push(l).unwrap();
        b
    });
    let forged = Signed::sign(t.body.clone(), &foreign_bureau()).unwrap();
    assert_eq!(
        d.err(S, Request::ClearCard(forged)),
        WireError::BadSignature
    );
    d.ok(S, Request::ClearCard(t.clone()));
    assert_eq!(d.err(S, Request::ClearCard(t)), WireError::Replayed);
    let info = d.info();
    assert_eq!(info.state, DiskState::Ready);
    assert_eq!(info.last_cleared, Some(period(2026, 11)));
    assert_eq!(info.lock_time, Some(at(2027, 1, 16, 0)));
    assert_eq!(d.status(InvoiceKind::Normal).limits.single_limit, Fen(777));
    // Clearing may be repeated with a new token.
    let again = d.clear_token(period(2026, 11), at(2027, 1, 20, 0));
    d.ok(S, Request::ClearCard(again));
    let c = d.info().counter;
    d.ack(c);
    d.issue(InvoiceKind::Normal, 700);
}

// ---- D9 ---------------------------------------------------------------------------------

#[test]
fn d09_offline_hours_limit() {
    let mut d = Disk::stocked();
    set_limits(&mut d, InvoiceKind::Normal, 2, 1_000_000_00);
    let a = d.issue(InvoiceKind::Normal, 100_00);
    d.disk.advance(3600);
    d.issue(InvoiceKind::Normal, 100_00);
    d.disk.advance(3600);
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100_00),
        WireError::OfflineHoursExceeded
    );
    // Other kinds have their own limits.
    d.issue(InvoiceKind::Special, 100_00);
    d.ack(a.body.counter + 1);
    d.issue(InvoiceKind::Normal, 100_00);
}

#[test]
fn d09_offline_amount_limit() {
    let mut d = Disk::stocked();
    set_limits(&mut d, InvoiceKind::Normal, 1000, 1000_00);
    d.issue(InvoiceKind::Normal, 600_00);
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 401_00),
        WireError::OfflineAmountExceeded
    );
    d.issue(InvoiceKind::Normal, 400_00);
    assert_eq!(d.status(InvoiceKind::Normal).pending_amount, Fen(1000_00));
    let c = d.info().counter;
    d.ack(c);
    assert_eq!(d.status(InvoiceKind::Normal).pending_amount, Fen(0));
    d.issue(InvoiceKind::Normal, 900_00);
}

#[test]
fn d09_zero_limits_allow_one_pending_invoice() {
    let mut d = Disk::stocked();
    set_limits(&mut d, InvoiceKind::Normal, 0, 1000_00);
    d.issue(InvoiceKind::Normal, 100_00);
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100_00),
        WireError::OfflineHoursExceeded
    );
    let c = d.info().counter;
    d.ack(c);
    d.issue(InvoiceKind::Normal, 100_00);
    set_limits(&mut d, InvoiceKind::Roll, 100, 0);
    d.issue(InvoiceKind::Roll, 100_00);
    assert_eq!(
        d.issue_err(InvoiceKind::Roll, 1_00),
        WireError::OfflineAmountExceeded
    );
}

#[test]
fn d09_upload_deadline_of_the_last_period() {
    let mut d = Disk::stocked();
    d.issue(InvoiceKind::Normal, 100_00);
    d.disk.set_time(at(2026, 12, 2, 9));
    d.copy_tax(period(2026, 11));
    let seq = d.next_seq();
    let t = signed(ClearCardToken {
        serial: serial(),
        seq,
        period: period(2026, 11),
        next_lock_time: at(2027, 1, 16, 0),
        upload_deadline: at(2026, 12, 10, 0),
        limits: heapless::Vec::new(),
        issued_at: d.disk.now(),
    });
    d.ok(S, Request::ClearCard(t));
    d.issue(InvoiceKind::Normal, 100_00);
    d.disk.set_time(at(2026, 12, 11, 9));
    assert_eq!(
        d.issue_err(InvoiceKind::Special, 100_00),
        WireError::UploadDeadlinePassed
    );
    d.ack(1);
    d.issue(InvoiceKind::Special, 100_00);
}

// ---- D11 --------------------------------------------------------------------------------

fn oil_grant(d: &mut Disk, category: u8, milli: i64) -> Signed<OilGrant> {
    let seq = d.next_seq();
    signed(OilGrant {
        serial: serial(),
        seq,
        stock: OilStockEntry {
            category,
            unit: OilUnit::Litre,
            milli_quantity: milli,
        },
        issued_at: d.disk.now(),
    })
}

fn oil_stock(d: &mut Disk) -> Vec<OilStockEntry> {
    match d.ok(S, Request::OilStock(())) {
        Response::OilStock(v) => v.into_iter().collect(),
        r => panic!("{r:?}"),
    }
}

fn oil_req(d: &mut Disk, kind: InvoiceKind, amount: i64, milli: i64) -> IssueRequest {
    let mut q = d.req(kind, amount);
    q.oil = Some(OilUse {
        category: 3,
        milli_quantity: milli,
    });
    q
}

#[test]
fn d11_oil_needs_authorization() {
    let mut d = Disk::stocked();
    let q = oil_req(&mut d, InvoiceKind::Normal, 100_00, 1000);
    assert_eq!(d.err(S, Request::Issue(q)), WireError::OilNotAuthorized);
    let t = d.update(&[UpdateChange::Oil(
        OilRole::Dealer,
        Some(at(2026, 11, 11, 0)),
    )]);
    d.ok(S, Request::ApplyUpdate(t));
    d.disk.set_time(at(2026, 11, 12, 0));
    let q = oil_req(&mut d, InvoiceKind::Normal, 100_00, 1000);
    assert_eq!(
        d.err(S, Request::Issue(q)),
        WireError::OilNotAuthorized,
        "expired"
    );
}

#[test]
fn d11_dealer_needs_stock_and_red_restores_it() {
    let mut d = Disk::stocked();
    let t = d.update(&[UpdateChange::Oil(OilRole::Dealer, None)]);
    d.ok(S, Request::ApplyUpdate(t));
    let q = oil_req(&mut d, InvoiceKind::Normal, 100_00, 1000);
    assert_eq!(d.err(S, Request::Issue(q)), WireError::OilStockShort);
    let g = oil_grant(&mut d, 3, 5000);
    d.ok(S, Request::LoadOilStock(g.clone()));
    assert_eq!(d.err(S, Request::LoadOilStock(g)), WireError::Replayed);
    let q = oil_req(&mut d, InvoiceKind::Normal, 100_00, 4000);
    let blue = d.issue_with(q);
    assert_eq!(oil_stock(&mut d)[0].milli_quantity, 1000);
    let q = oil_req(&mut d, InvoiceKind::Normal, 100_00, 1001);
    assert_eq!(d.err(S, Request::Issue(q)), WireError::OilStockShort);
    let mut red = d.red_of(&blue.body, 50_00);
    red.oil = Some(OilUse {
        category: 3,
        milli_quantity: 2000,
    });
    d.issue_with(red);
    assert_eq!(oil_stock(&mut d)[0].milli_quantity, 3000);
    // Derived from the journal after a power cycle.
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(oil_stock(&mut d)[0].milli_quantity, 3000);
    // Returns: device-signed, never more than held.
    let e = OilStockEntry {
        category: 3,
        unit: OilUnit::Litre,
        milli_quantity: 500,
    };
    let ret = Request::ReturnOilStock(ReturnOil {
        request_id: d.request_id(),
        stock: e,
    });
    let Response::ReturnOilStock(r) = d.ok(S, ret.clone()) else {
        panic!()
    };
    d.verify(&r);
    assert_eq!(r.body.seq, 1);
    assert_eq!(oil_stock(&mut d)[0].milli_quantity, 2500);
    // Issue 17: sent again after a power cut, the return answers its receipt and returns
    // nothing more (it used to return the oil twice).
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.ok(S, ret), Response::ReturnOilStock(r));
    assert_eq!(oil_stock(&mut d)[0].milli_quantity, 2500);
    let too_much = ReturnOil {
        request_id: d.request_id(),
        stock: OilStockEntry {
            milli_quantity: 2501,
            ..e
        },
    };
    assert_eq!(
        d.err(S, Request::ReturnOilStock(too_much)),
        WireError::OilStockShort
    );
}

#[test]
fn d11_producer_needs_no_stock() {
    let mut d = Disk::stocked();
    let t = d.update(&[UpdateChange::Oil(OilRole::Producer, None)]);
    d.ok(S, Request::ApplyUpdate(t));
    let q = oil_req(&mut d, InvoiceKind::Normal, 100_00, 1000);
    d.issue_with(q);
    assert!(oil_stock(&mut d).is_empty());
}

// ---- D12 --------------------------------------------------------------------------------

#[test]
fn d12_pending_list_in_counter_order_and_ack() {
    let mut d = Disk::stocked();
    let mut counters = Vec::new();
    for i in 0..10 {
        counters.push(d.issue(InvoiceKind::Normal, 100_00 + i).body.counter);
    }
    let p = d.pending(0);
    assert_eq!(p.len(), EVENTS_PER_PAGE);
    let all = d.all_pending();
    assert_eq!(
        all.iter().map(|e| e.counter()).collect::<Vec<_>>(),
        counters
    );
    assert_eq!(d.status(InvoiceKind::Normal).pending_count, 10);
    // Receipts: forged, foreign, beyond the journal.
    let r = d.receipt(counters[5]);
    let forged = Signed::sign(r.body.clone(), &foreign_bureau()).unwrap();
    assert_eq!(
        d.err(S, Request::AckUpload(forged)),
        WireError::BadSignature
    );
    let mut b = r.body.clone();
    b.serial = other_serial();
    assert_eq!(
        d.err(S, Request::AckUpload(signed(b))),
        WireError::WrongDevice
    );
    let beyond = d.receipt(counters[9] + 1);
    assert_eq!(
        d.err(S, Request::AckUpload(beyond)),
        WireError::UnknownEvents
    );
    assert_eq!(d.ack(counters[5]), 6);
    assert_eq!(
        d.ack(counters[5]),
        0,
        "a repeated receipt marks nothing new"
    );
    assert_eq!(d.all_pending().len(), 4);
    assert_eq!(d.status(InvoiceKind::Normal).pending_count, 4);
    let Response::ReadEvent(v) = d.ok(S, Request::ReadEvent(counters[5])) else {
        panic!()
    };
    assert!(v.uploaded);
    let Response::ReadEvent(v) = d.ok(S, Request::ReadEvent(counters[6])) else {
        panic!()
    };
    assert!(!v.uploaded);
    assert_eq!(d.err(S, Request::ReadEvent(99)), WireError::BadArgument);
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.all_pending().len(), 4);
}
