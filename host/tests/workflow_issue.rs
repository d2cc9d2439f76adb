//! H8 issuing through the workflow against the simulated disk and the bureau over HTTP: every
//! kind, discounts, sales lists, purchase and export variants, automatic upload (H11),
//! permissions (H3), refusals with their rule, and a crash after the disk signed.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::invoice::*;
use taxdisk_host::store::{Action, InvoiceState};
use taxdisk_host::workflow::WorkflowError;
use taxdisk_protocol::WireError;
use taxdisk_protocol::control::{ControlRequest, FrameFaultAction};
use taxdisk_protocol::types::*;
use workflow_support::*;

#[test]
fn h08_issue_every_kind_signed_stored_and_uploaded() {
    let mut env = Env::with_rolls(&InvoiceKind::ALL, 10);
    let cases = [
        KindFields::Special,
        KindFields::Normal(Variant::Standard),
        KindFields::Electronic,
        KindFields::Roll,
        KindFields::MotorVehicle(Box::new(vehicle())),
        KindFields::UsedCar(Box::new(used_car())),
    ];
    let mut counters = Vec::new();
    for fields in cases {
        let kind = fields.kind();
        let d = draft_of(&mut env.wf, fields, "1", "1000");
        let issued = env.wf.issue(d).unwrap();
        assert_eq!(issued.kind, kind);
        assert!(issued.uploaded, "{kind}: {:?}", issued.upload_note);
        assert_eq!(issued.check_code.is_none(), kind == InvoiceKind::Special);
        let row = env.wf.store().invoice(issued.id).unwrap();
        assert_eq!(row.state, InvoiceState::Uploaded);
        let rec = row.disk.unwrap();
        assert_eq!((rec.code, rec.number), (issued.code.clone(), issued.number));
        assert_eq!(issued.signed.body.amount, Fen(100_000));
        assert_eq!(issued.signed.body.tax, Fen(13_000));
        counters.push(issued.counter);
    }
    assert!(counters.windows(2).all(|w| w[0] < w[1]));
    // The bureau holds them all (B9 check of the special one by amount).
    let rec = env
        .bureau_client()
        .disk(&DeviceSerial::new(SERIAL).unwrap())
        .unwrap();
    assert_eq!(rec.through_counter, *counters.last().unwrap());
}

#[test]
fn h08_discount_list_purchase_and_export_variants() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 20);
    // Discount of 10 % on the first line (FAQ 4.7).
    let mut d = normal(&mut env.wf);
    d.add_line(&goods("另一商品", "1", "50")).unwrap();
    apply_discount(&mut d, 1, 1, Discount::Rate(dec("10"))).unwrap();
    let issued = env.wf.issue(d).unwrap();
    let row = env.wf.store().invoice(issued.id).unwrap();
    assert_eq!(row.invoice.lines().len(), 3);
    assert_eq!(row.invoice.lines()[1].kind, LineKind::Discount);
    assert_eq!(issued.signed.body.amount, Fen(18_000 + 5_000));
    // A sales list of 12 lines (FAQ 4.11).
    let mut d = normal(&mut env.wf);
    for i in 0..11 {
        d.add_line(&goods(&format!("商品{i}"), "1", "1")).unwrap();
    }
    d.sales_list = true;
    let issued = env.wf.issue(d).unwrap();
    let row = env.wf.store().invoice(issued.id).unwrap();
    assert_eq!(row.invoice.printed_lines()[0].0, SALES_LIST_TEXT);
    // Purchase (FAQ 4.3) and export (FAQ 4.2) use normal stock.
    for v in [Variant::Purchase, Variant::Export] {
        let d = draft_of(&mut env.wf, KindFields::Normal(v), "3", "10");
        let issued = env.wf.issue(d).unwrap();
        assert_eq!(issued.signed.body.variant, v);
        assert_eq!(issued.kind, InvoiceKind::Normal);
    }
    let st = env.wf.status().unwrap();
    assert_eq!(st.kind(InvoiceKind::Normal).unwrap().status.blank_left, 16);
}

#[test]
fn h03_issue_needs_the_kind_permission() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal, InvoiceKind::Special], 5);
    env.invoicer("开票员甲", &[InvoiceKind::Normal], &[Action::Issue]);
    env.login_as("开票员甲", "pw-12345678");
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    let d = draft_of(&mut env.wf, KindFields::Special, "1", "10");
    let e = env.wf.issue(d).unwrap_err();
    says(&e, "H3");
    // Nothing was recorded for the refused one.
    let n = env
        .wf
        .store()
        .month_count(&taxdisk_host::store::MonthQuery::period(period(2026, 11)))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn h07_invalid_draft_is_refused_before_the_disk() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 5);
    let mut d = normal(&mut env.wf);
    d.currency = "USD".into();
    let e = env.wf.issue(d).unwrap_err();
    assert!(matches!(e, WorkflowError::Invoice(_)));
    says(&e, "H7");
    let st = env.wf.status().unwrap();
    assert_eq!(st.kind(InvoiceKind::Normal).unwrap().status.blank_left, 5);
}

#[test]
fn d05_disk_refusal_abandons_the_pending_row_with_its_rule() {
    // No rolls bought: the disk has no blank number (FAQ 4.8).
    let mut env = Env::new();
    let d = normal(&mut env.wf);
    let e = env.wf.issue(d).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::NoBlankNumber));
    says(&e, "D4");
    let rows = env
        .wf
        .store()
        .month(&taxdisk_host::store::MonthQuery::period(period(2026, 11)))
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, InvoiceState::Abandoned);
}

#[test]
fn h08_issue_survives_crash_after_sign() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 5);
    // Every answer to the next Issue is lost: the disk signs, the host never hears it.
    {
        let mut s = env.sim.lock().unwrap();
        for nth in 1..=3 {
            s.control(ControlRequest::FrameFault {
                nth,
                action: FrameFaultAction::DropAnswer,
            });
        }
    }
    let d = normal(&mut env.wf);
    let e = env.wf.issue(d).unwrap_err();
    let WorkflowError::IssueUnknown { id, .. } = e else {
        panic!("expected IssueUnknown, got {e}");
    };
    says(&e, "H11");
    assert_eq!(
        env.wf.store().invoice(id).unwrap().state,
        InvoiceState::Pending
    );
    // The host "crashes": a new workflow over the same store file and disk.
    let (store, _disk, bureau) = std::mem::replace(
        &mut env.wf,
        taxdisk_host::workflow::Workflow::new(
            taxdisk_host::store::Store::open_in_memory().unwrap(),
            client(&env.sim),
            None,
        ),
    )
    .into_parts();
    drop(store);
    let store = taxdisk_host::store::Store::open(env.dir.path().join("taxdisk.db")).unwrap();
    env.sim.lock().unwrap().power_cycle();
    env.wf = taxdisk_host::workflow::Workflow::new(store, client(&env.sim), bureau);
    env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    let r = env.wf.repair().unwrap();
    assert_eq!(r.issued, vec![id]);
    assert!(r.abandoned.is_empty());
    let row = env.wf.store().invoice(id).unwrap();
    assert!(row.disk.is_some());
    assert_eq!(row.state, InvoiceState::Uploaded, "{r:?}");
    // Exactly one number was used: no doubled invoice.
    let st = env.wf.status().unwrap();
    assert_eq!(st.kind(InvoiceKind::Normal).unwrap().status.blank_left, 4);
    // And the next issue works normally.
    let d = normal(&mut env.wf);
    let next = env.wf.issue(d).unwrap();
    assert_eq!(next.number.get(), row.disk.unwrap().number.get() + 1);
}

#[test]
fn h08_not_logged_in_is_refused() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 5);
    let d = normal(&mut env.wf);
    env.wf.logout().unwrap();
    let e = env.wf.issue(d).unwrap_err();
    assert!(matches!(e, WorkflowError::NotLoggedIn { .. }));
    says(&e, "H2");
}

#[test]
fn h05_buyer_saved_automatically_when_set() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 5);
    let d = normal(&mut env.wf);
    assert!(!env.wf.issue(d).unwrap().buyer_saved);
    env.save_buyers_automatically();
    let d = normal(&mut env.wf);
    assert!(env.wf.issue(d).unwrap().buyer_saved);
    let customers = env.wf.store().customers(None).unwrap();
    assert_eq!(customers.len(), 1);
    assert_eq!(customers[0].party.name, buyer().name);
}
