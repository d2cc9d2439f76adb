//! H9 voids through the workflow: several at once, issuer or administrator only, D7 period and
//! kind rules with their messages, blank voids, and voids uploaded to the bureau (FAQ 5.6).
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::store::{Action, InvoiceState};
use taxdisk_host::workflow::WorkflowError;
use taxdisk_protocol::types::*;
use workflow_support::*;

#[test]
fn h09_several_at_once_and_uploaded() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let d = normal(&mut env.wf);
        ids.push(env.wf.issue(d).unwrap().id);
    }
    let voided = env.wf.void(&ids[..2]).unwrap();
    assert_eq!(voided.len(), 2);
    assert!(voided.iter().all(|v| v.counter > 0));
    for id in &ids[..2] {
        assert_eq!(
            env.wf.store().invoice(*id).unwrap().state,
            InvoiceState::Voided
        );
    }
    assert_eq!(
        env.wf.store().invoice(ids[2]).unwrap().state,
        InvoiceState::Uploaded
    );
    // The voids reached the bureau: nothing pending on the disk.
    assert!(env.wf.disk().list_pending().unwrap().is_empty());
    // A void cannot be undone or repeated (FAQ 5.7).
    let e = env.wf.void(&ids[..1]).unwrap_err();
    says(&e, "D7");
}

#[test]
fn h09_only_issuer_or_admin_voids() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let acts = [Action::Issue, Action::Void];
    env.invoicer("开票员甲", &[InvoiceKind::Normal], &acts);
    env.invoicer("开票员乙", &[InvoiceKind::Normal], &acts);
    env.login_as("开票员甲", "pw-12345678");
    let d = normal(&mut env.wf);
    let a1 = env.wf.issue(d).unwrap().id;
    let d = normal(&mut env.wf);
    let a2 = env.wf.issue(d).unwrap().id;
    env.login_as("开票员乙", "pw-12345678");
    let d = normal(&mut env.wf);
    let b1 = env.wf.issue(d).unwrap().id;
    // 乙 may not void 甲's invoice; the batch is refused before anything is voided.
    let e = env.wf.void(&[b1, a1]).unwrap_err();
    assert!(matches!(e, WorkflowError::VoidNotPermitted { id } if id == a1));
    says(&e, "only the issuer or the administrator may void");
    says(&e, "H9");
    assert_eq!(
        env.wf.store().invoice(b1).unwrap().state,
        InvoiceState::Uploaded
    );
    env.wf.void(&[b1]).unwrap();
    // The issuer may, and so may the administrator.
    env.login_as("开票员甲", "pw-12345678");
    env.wf.void(&[a1]).unwrap();
    env.login_as(ADMIN, ADMIN_PW);
    env.wf.void(&[a2]).unwrap();
}

#[test]
fn h09_void_needs_permission_for_the_kind() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    env.invoicer("开票员丙", &[InvoiceKind::Normal], &[Action::Issue]);
    env.login_as("开票员丙", "pw-12345678");
    let d = normal(&mut env.wf);
    let id = env.wf.issue(d).unwrap().id;
    let e = env.wf.void(&[id]).unwrap_err();
    says(&e, "H3");
}

#[test]
fn d07_electronic_and_last_period_cannot_be_voided() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal, InvoiceKind::Electronic], 10);
    let d = draft_of(
        &mut env.wf,
        taxdisk_host::invoice::KindFields::Electronic,
        "1",
        "5",
    );
    let e_id = env.wf.issue(d).unwrap().id;
    let e = env.wf.void(&[e_id]).unwrap_err();
    says(&e, "electronic");
    says(&e, "D7");
    let d = normal(&mut env.wf);
    let old = env.wf.issue(d).unwrap().id;
    env.wf.logout().unwrap();
    env.set_time(at(2026, 12, 1, 9));
    env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    let e = env.wf.void(&[old]).unwrap_err();
    says(&e, "current period");
    says(&e, "FAQ 5.1");
}

#[test]
fn d07_void_already_done_on_disk_is_recorded() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let d = normal(&mut env.wf);
    let a = env.wf.issue(d).unwrap();
    let d = normal(&mut env.wf);
    let b = env.wf.issue(d).unwrap();
    // b was voided on the disk but the store missed it (a lost answer): the disk answers
    // AlreadyVoided, which the workflow records as done.
    let r = taxdisk_protocol::command::InvoiceRef {
        kind: InvoiceKind::Normal,
        code: b.code.clone(),
        number: b.number,
    };
    env.wf.disk().void(&r).unwrap();
    let done = env.wf.void(&[a.id, b.id]).unwrap();
    assert_eq!(done.len(), 2);
    assert_eq!(done[1].counter, 0);
    assert_eq!(
        env.wf.store().invoice(b.id).unwrap().state,
        InvoiceState::Voided
    );
}

#[test]
fn h09_blank_void_of_n() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let bv = env.wf.void_blank(InvoiceKind::Normal, 3).unwrap();
    assert_eq!(bv.count, 3);
    let st = env.wf.status().unwrap();
    assert_eq!(st.kind(InvoiceKind::Normal).unwrap().status.blank_left, 7);
    assert!(env.wf.disk().list_pending().unwrap().is_empty(), "uploaded");
    // The next invoice takes the number after the voided ones.
    let d = normal(&mut env.wf);
    let i = env.wf.issue(d).unwrap();
    assert_eq!(i.number.get(), bv.first.get() + 3);
    let e = env.wf.void_blank(InvoiceKind::Normal, 0).unwrap_err();
    says(&e, "H9");
    let e = env.wf.void_blank(InvoiceKind::Normal, 100).unwrap_err();
    assert!(e.wire_error().is_some(), "{e}");
}

#[test]
fn h09_batch_failure_midway_names_what_was_voided() {
    use taxdisk_protocol::control::{ControlRequest, FrameFaultAction};
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let d = normal(&mut env.wf);
    let a = env.wf.issue(d).unwrap().id;
    let d = normal(&mut env.wf);
    let b = env.wf.issue(d).unwrap().id;
    // The void batch reads the disk info (frame 1) and voids a (frame 2); every send of b's
    // void is lost.
    {
        let mut s = env.sim.lock().unwrap();
        for nth in 3..=5 {
            s.control(ControlRequest::FrameFault {
                nth,
                action: FrameFaultAction::DropRequest,
            });
        }
    }
    let e = env.wf.void(&[a, b]).unwrap_err();
    match &e {
        WorkflowError::Batch { done, at, .. } => {
            assert_eq!(done, &vec![a]);
            assert_eq!(*at, b);
        }
        other => panic!("expected a batch failure, got {other}"),
    }
    says(&e, &format!("invoices done before it: {}", a.0));
    assert_eq!(
        env.wf.store().invoice(a).unwrap().state,
        InvoiceState::Voided
    );
    assert_eq!(
        env.wf.store().invoice(b).unwrap().state,
        InvoiceState::Uploaded
    );
    // b was never voided on the disk: voiding it again works.
    env.wf.void(&[b]).unwrap();
}
