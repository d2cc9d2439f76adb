//! H11 upload and repair through the workflow: automatic upload, offline issuing until the
//! disk's D9 limits refuse, manual upload, and repair reconciling the store with the disk
//! journal after lost answers and power cuts, re-sending what the bureau lacks.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::disk::new_request_id;
use taxdisk_host::store::InvoiceState;
use taxdisk_host::workflow::WorkflowError;
use taxdisk_protocol::WireError;
use taxdisk_protocol::command::InvoiceRef;
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::types::*;
use workflow_support::*;

fn offline_limits(hours: u32, amount: i64) -> Vec<KindLimits> {
    let mut l = all_limits();
    l[InvoiceKind::Normal.index()].offline_hours = hours;
    l[InvoiceKind::Normal.index()].offline_amount = Fen(amount);
    l
}

#[test]
fn h11_offline_issuing_until_the_d9_amount_limit() {
    // 500.00 offline; each invoice is 200.00.
    let mut env = Env::with_kinds(&offline_limits(72, 50_000));
    env.wf.buy_rolls(InvoiceKind::Normal, 10).unwrap();
    env.go_offline();
    for _ in 0..2 {
        let d = normal(&mut env.wf);
        let i = env.wf.issue(d).unwrap();
        assert!(!i.uploaded);
        assert!(i.upload_note.as_deref().unwrap().contains("unreachable"));
    }
    let d = normal(&mut env.wf);
    let e = env.wf.issue(d).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::OfflineAmountExceeded));
    says(&e, "D9");
    let st = env.wf.status().unwrap();
    let k = st.kind(InvoiceKind::Normal).unwrap();
    assert_eq!(k.status.pending_count, 2);
    assert_eq!(k.status.pending_amount, Fen(40_000));
    // Back online: the manual upload releases the limit (FAQ 4.9).
    env.go_online();
    let r = env.wf.upload().unwrap();
    assert_eq!((r.sent, r.acknowledged, r.marked), (2, 2, 2));
    assert!(r.rejected.is_empty());
    let d = normal(&mut env.wf);
    assert!(env.wf.issue(d).unwrap().uploaded);
}

#[test]
fn h11_offline_hours_limit_refuses_then_upload_releases() {
    let mut env = Env::with_kinds(&offline_limits(1, 100_000_000));
    env.wf.buy_rolls(InvoiceKind::Normal, 10).unwrap();
    env.go_offline();
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    env.sim.lock().unwrap().advance(2 * 3600);
    let d = normal(&mut env.wf);
    let e = env.wf.issue(d).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::OfflineHoursExceeded));
    env.go_online();
    env.wf.upload().unwrap();
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
}

#[test]
fn h11_manual_upload_needs_a_bureau_address() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 5);
    env.wf.set_bureau(None);
    let d = normal(&mut env.wf);
    let i = env.wf.issue(d).unwrap();
    assert!(!i.uploaded);
    let e = env.wf.upload().unwrap_err();
    assert!(matches!(e, WorkflowError::NoBureau { .. }));
    says(&e, "H1");
    env.go_online();
    let r = env.wf.upload().unwrap();
    assert_eq!(r.marked, 1);
    assert_eq!(
        env.wf.store().invoice(i.id).unwrap().state,
        InvoiceState::Uploaded
    );
}

#[test]
fn h11_repair_reconciles_pending_with_journal() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let admin = env.admin;
    let p = period(2026, 11);
    // (a) recorded and signed, but the store never heard the answer.
    let signed_inv = normal(&mut env.wf).validate().unwrap();
    let rid_a = new_request_id();
    let a = env
        .wf
        .store_mut()
        .insert_pending(admin, &signed_inv, rid_a, p, None)
        .unwrap();
    let req = signed_inv.issue_request(rid_a);
    let s = env.wf.disk().issue(req).unwrap();
    // (b) recorded, never sent to the disk.
    let b = env
        .wf
        .store_mut()
        .insert_pending(admin, &signed_inv, new_request_id(), p, None)
        .unwrap();
    // (c) an issued invoice voided on the disk only.
    let d = normal(&mut env.wf);
    let c = env.wf.issue(d).unwrap();
    env.wf
        .disk()
        .void(&InvoiceRef {
            kind: InvoiceKind::Normal,
            code: c.code.clone(),
            number: c.number,
        })
        .unwrap();
    let r = env.wf.repair().unwrap();
    assert_eq!(r.issued, vec![a]);
    assert_eq!(r.abandoned, vec![b]);
    assert_eq!(r.voided, vec![c.id]);
    assert!(r.unknown_on_disk.is_empty());
    let up = r.upload.unwrap();
    assert!(up.rejected.is_empty());
    let row = env.wf.store().invoice(a).unwrap();
    assert_eq!(row.state, InvoiceState::Uploaded);
    assert_eq!(row.disk.unwrap().number, s.body.number);
    assert_eq!(
        env.wf.store().invoice(b).unwrap().state,
        InvoiceState::Abandoned
    );
    assert_eq!(
        env.wf.store().invoice(c.id).unwrap().state,
        InvoiceState::Voided
    );
    assert!(env.wf.disk().list_pending().unwrap().is_empty());
    // A second repair finds nothing to do.
    let again = env.wf.repair().unwrap();
    assert!(again.issued.is_empty() && again.abandoned.is_empty() && again.voided.is_empty());
}

#[test]
fn h11_repair_after_power_cut_no_lost_or_doubled_invoice() {
    let mut unknown = 0;
    for cut in 1..=4u32 {
        let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
        let d = normal(&mut env.wf);
        env.wf.issue(d).unwrap();
        env.sim
            .lock()
            .unwrap()
            .control(ControlRequest::PowerCutAfter(cut));
        let d = normal(&mut env.wf);
        let outcome = env.wf.issue(d);
        if let Err(e) = &outcome {
            assert!(
                matches!(e, WorkflowError::IssueUnknown { .. }),
                "cut {cut}: {e}"
            );
            unknown += 1;
        }
        // The disk rebooted: log in again (RAM login state is lost, D2).
        env.wf.logout().ok();
        env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
        let r = env.wf.repair().unwrap();
        let issued_rows = env
            .wf
            .store()
            .month(&taxdisk_host::store::MonthQuery::period(period(2026, 11)))
            .unwrap()
            .into_iter()
            .filter(|r| matches!(r.state, InvoiceState::Issued | InvoiceState::Uploaded))
            .count();
        let st = env.wf.status().unwrap();
        let left = st.kind(InvoiceKind::Normal).unwrap().status.blank_left as usize;
        assert_eq!(
            issued_rows + left,
            10,
            "cut {cut}: {outcome:?} {r:?}: every used number is a stored invoice"
        );
        assert!(env.wf.store().pending_invoices().unwrap().is_empty());
        assert_eq!(st.info.counter as usize, issued_rows, "cut {cut}");
    }
    assert!(unknown > 0, "at least one cut lost the answer");
}

#[test]
fn h11_repair_finds_a_missed_void_behind_newer_invoices() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let d = normal(&mut env.wf);
    let a = env.wf.issue(d).unwrap();
    // Voided on the disk, the store never heard of it; then more invoices.
    env.wf
        .disk()
        .void(&InvoiceRef {
            kind: InvoiceKind::Normal,
            code: a.code.clone(),
            number: a.number,
        })
        .unwrap();
    for _ in 0..3 {
        let d = normal(&mut env.wf);
        env.wf.issue(d).unwrap();
    }
    let r = env.wf.repair().unwrap();
    assert_eq!(r.voided, vec![a.id]);
    assert_eq!(
        env.wf.store().invoice(a.id).unwrap().state,
        InvoiceState::Voided
    );
}

#[test]
fn h11_automatic_upload_can_be_turned_off() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    env.wf.set_auto_upload(false);
    let d = normal(&mut env.wf);
    let i = env.wf.issue(d).unwrap();
    assert!(!i.uploaded);
    assert!(i.upload_note.unwrap().contains("off"));
    env.wf.set_auto_upload(true);
    let d = normal(&mut env.wf);
    let j = env.wf.issue(d).unwrap();
    assert!(
        j.uploaded,
        "the automatic upload takes the earlier one along"
    );
    assert_eq!(
        env.wf.store().invoice(i.id).unwrap().state,
        InvoiceState::Uploaded
    );
}

#[test]
fn h11_zero_offline_limits_allow_one_invoice_at_a_time() {
    // FAQ 9.13: limits of 0 mean no offline issuing beyond one invoice (D9).
    let mut env = Env::with_kinds(&offline_limits(0, 0));
    env.wf.buy_rolls(InvoiceKind::Normal, 10).unwrap();
    env.go_offline();
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    let d = normal(&mut env.wf);
    let e = env.wf.issue(d).unwrap_err();
    assert!(matches!(
        e.wire_error(),
        Some(WireError::OfflineHoursExceeded | WireError::OfflineAmountExceeded)
    ));
    says(&e, "D9");
    // Back online: the refused issue uploads what waits and goes through (FAQ 4.9 done for
    // the user), under the same pending row.
    env.go_online();
    let d = normal(&mut env.wf);
    let i = env.wf.issue(d).unwrap();
    assert!(i.uploaded);
    let rows = env
        .wf
        .store()
        .month(&taxdisk_host::store::MonthQuery::period(period(2026, 11)))
        .unwrap();
    let abandoned = rows
        .iter()
        .filter(|r| r.state == InvoiceState::Abandoned)
        .count();
    assert_eq!(abandoned, 1, "only the offline refusal was abandoned");
}
