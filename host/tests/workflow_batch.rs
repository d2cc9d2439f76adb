//! H8 for a batch (`Workflow::issue_batch`): the pending rows of a batch recorded together, the
//! disk signing each in order, the signed records stored together, one upload. Each draft keeps
//! its own outcome: an invalid draft or a refusal stops only itself; the offline limits (D9)
//! reached mid-batch are released by an upload and the batch goes on; a lost answer leaves
//! only that invoice pending for repair (H11).
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::store::{InvoiceState, MonthQuery};
use taxdisk_host::workflow::WorkflowError;
use taxdisk_protocol::WireError;
use taxdisk_protocol::control::{ControlRequest, FrameFaultAction};
use taxdisk_protocol::types::*;
use workflow_support::*;

fn month_states(env: &Env) -> Vec<InvoiceState> {
    env.wf
        .store()
        .month(&MonthQuery::period(period(2026, 11)))
        .unwrap()
        .into_iter()
        .map(|r| r.state)
        .collect()
}

#[test]
fn h08_batch_issues_the_valid_drafts_and_refuses_an_invalid_one_alone() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let mut drafts: Vec<_> = (0..6).map(|_| normal(&mut env.wf)).collect();
    drafts[2].currency = "USD".into();
    let results = env.wf.issue_batch(drafts).unwrap();
    assert_eq!(results.len(), 6);
    let e = results[2].as_ref().unwrap_err();
    assert!(matches!(e, WorkflowError::Invoice(_)), "{e}");
    says(e, "H7");
    let issued: Vec<_> = results
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, r)| r.as_ref().unwrap())
        .collect();
    // Signed in the order of the drafts, one number each, all uploaded by the one upload.
    let numbers: Vec<u32> = issued.iter().map(|i| i.number.get()).collect();
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
    assert!(
        issued.iter().all(|i| i.uploaded),
        "{:?}",
        issued[0].upload_note
    );
    for i in &issued {
        let row = env.wf.store().invoice(i.id).unwrap();
        assert_eq!(row.state, InvoiceState::Uploaded);
        assert_eq!(row.disk.unwrap().number, i.number);
    }
    // The invalid draft was never recorded.
    assert_eq!(month_states(&env).len(), 5);
    let st = env.wf.status().unwrap();
    assert_eq!(st.kind(InvoiceKind::Normal).unwrap().status.blank_left, 5);
    assert_eq!(
        st.kind(InvoiceKind::Normal).unwrap().status.pending_count,
        0
    );
}

#[test]
fn d04_batch_refusal_abandons_only_the_refused_rows() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 3);
    let drafts: Vec<_> = (0..5).map(|_| normal(&mut env.wf)).collect();
    let results = env.wf.issue_batch(drafts).unwrap();
    assert!(results[..3].iter().all(|r| r.is_ok()));
    for r in &results[3..] {
        let e = r.as_ref().unwrap_err();
        assert_eq!(e.wire_error(), Some(WireError::NoBlankNumber));
        says(e, "D4");
    }
    let mut states = month_states(&env);
    states.sort_by_key(|s| s.as_str());
    assert_eq!(
        states,
        vec![
            InvoiceState::Abandoned,
            InvoiceState::Abandoned,
            InvoiceState::Uploaded,
            InvoiceState::Uploaded,
            InvoiceState::Uploaded
        ]
    );
}

#[test]
fn d09_batch_reaching_the_offline_amount_uploads_and_goes_on() {
    // 500.00 may wait offline; each invoice is 200.00; the bureau is reachable, but within a
    // batch nothing is uploaded until the disk refuses (D9).
    let mut l = all_limits();
    l[InvoiceKind::Normal.index()].offline_amount = Fen(50_000);
    let mut env = Env::with_kinds(&l);
    env.wf.buy_rolls(InvoiceKind::Normal, 10).unwrap();
    let drafts: Vec<_> = (0..5).map(|_| normal(&mut env.wf)).collect();
    let results = env.wf.issue_batch(drafts).unwrap();
    let numbers: Vec<u32> = results
        .iter()
        .map(|r| r.as_ref().unwrap().number.get())
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "five numbers, none doubled: {numbers:?}");
    assert!(results.iter().all(|r| r.as_ref().unwrap().uploaded));
    let st = env.wf.status().unwrap();
    let k = st.kind(InvoiceKind::Normal).unwrap();
    assert_eq!((k.status.blank_left, k.status.pending_count), (5, 0));
    assert_eq!(month_states(&env), vec![InvoiceState::Uploaded; 5]);
}

#[test]
fn d09_batch_offline_stops_at_the_limit_and_refuses_the_rest() {
    let mut l = all_limits();
    l[InvoiceKind::Normal.index()].offline_amount = Fen(50_000);
    let mut env = Env::with_kinds(&l);
    env.wf.buy_rolls(InvoiceKind::Normal, 10).unwrap();
    env.go_offline();
    let drafts: Vec<_> = (0..4).map(|_| normal(&mut env.wf)).collect();
    let results = env.wf.issue_batch(drafts).unwrap();
    for r in &results[..2] {
        let i = r.as_ref().unwrap();
        assert!(!i.uploaded);
        assert!(i.upload_note.as_deref().unwrap().contains("unreachable"));
    }
    for r in &results[2..] {
        let e = r.as_ref().unwrap_err();
        assert_eq!(e.wire_error(), Some(WireError::OfflineAmountExceeded));
        says(e, "D9");
    }
}

#[test]
fn h11_batch_lost_answer_leaves_one_pending_and_repair_finds_it() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    // The second Issue's answer and its two resends are lost (frames 2, 3, 4 from now).
    {
        let mut s = env.sim.lock().unwrap();
        for nth in 2..=4 {
            s.control(ControlRequest::FrameFault {
                nth,
                action: FrameFaultAction::DropAnswer,
            });
        }
    }
    let drafts: Vec<_> = (0..4).map(|_| normal(&mut env.wf)).collect();
    let results = env.wf.issue_batch(drafts).unwrap();
    let WorkflowError::IssueUnknown { id, .. } = results[1].as_ref().unwrap_err() else {
        panic!("expected IssueUnknown, got {:?}", results[1]);
    };
    let id = *id;
    assert!(results[0].is_ok() && results[2].is_ok() && results[3].is_ok());
    assert_eq!(
        env.wf.store().invoice(id).unwrap().state,
        InvoiceState::Pending
    );
    let r = env.wf.repair().unwrap();
    assert_eq!(r.issued, vec![id]);
    let row = env.wf.store().invoice(id).unwrap();
    assert!(row.disk.is_some());
    // Four numbers used, four invoices: none lost, none doubled.
    let st = env.wf.status().unwrap();
    assert_eq!(st.kind(InvoiceKind::Normal).unwrap().status.blank_left, 6);
    assert_eq!(
        month_states(&env)
            .iter()
            .filter(|s| **s != InvoiceState::Pending)
            .count(),
        4
    );
}

#[test]
fn h02_batch_needs_a_logged_in_user() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 5);
    let d = normal(&mut env.wf);
    env.wf.logout().unwrap();
    let e = env.wf.issue_batch(vec![d]).unwrap_err();
    assert!(matches!(e, WorkflowError::NotLoggedIn { .. }));
    assert!(env.wf.issue_batch(Vec::new()).is_err());
}

#[test]
fn h08_empty_batch_issues_nothing() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 5);
    assert!(env.wf.issue_batch(Vec::new()).unwrap().is_empty());
    assert!(month_states(&env).is_empty());
}

#[test]
fn h08_batch_on_a_threaded_disk_overlaps_store_and_signing_in_parts() {
    let mut env = Env::with_rolls_over(&[InvoiceKind::Normal], 50, threaded_client);
    assert!(env.wf.disk().pipeline_depth() > 1);
    let drafts: Vec<_> = (0..45).map(|_| normal(&mut env.wf)).collect();
    let results = env.wf.issue_batch(drafts).unwrap();
    // Signed in the order of the drafts (parts of 2, 2, 4, 8, 16, 13), stored and uploaded.
    let numbers: Vec<u32> = results
        .iter()
        .map(|r| r.as_ref().unwrap().number.get())
        .collect();
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
    for r in &results {
        let i = r.as_ref().unwrap();
        assert!(i.uploaded, "{:?}", i.upload_note);
        let row = env.wf.store().invoice(i.id).unwrap();
        assert_eq!(row.state, InvoiceState::Uploaded);
        assert_eq!(row.disk.unwrap().number, i.number);
    }
    let k = env.wf.status().unwrap();
    let k = k.kind(InvoiceKind::Normal).unwrap();
    assert_eq!((k.status.blank_left, k.status.pending_count), (5, 0));
}

#[test]
fn h11_batch_on_a_threaded_disk_loses_answers_and_repair_stores_every_invoice() {
    let mut env = Env::with_rolls_over(&[InvoiceKind::Normal], 30, threaded_client);
    {
        let mut s = env.sim.lock().unwrap();
        for nth in [2, 3, 4, 9, 17] {
            s.control(ControlRequest::FrameFault {
                nth,
                action: FrameFaultAction::DropAnswer,
            });
        }
    }
    let drafts: Vec<_> = (0..24).map(|_| normal(&mut env.wf)).collect();
    let results = env.wf.issue_batch(drafts).unwrap();
    let mut unknown = Vec::new();
    for r in &results {
        match r {
            Ok(_) => {}
            Err(WorkflowError::IssueUnknown { id, .. }) => unknown.push(*id),
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    let rep = env.wf.repair().unwrap();
    unknown.sort_unstable();
    let mut repaired = rep.issued.clone();
    repaired.sort_unstable();
    assert_eq!(repaired, unknown, "{rep:?}");
    // Twenty-four numbers used, twenty-four invoices stored signed: none lost, none doubled.
    let st = env.wf.status().unwrap();
    let k = st.kind(InvoiceKind::Normal).unwrap();
    assert_eq!((k.status.blank_left, k.status.pending_count), (6, 0));
    let states = month_states(&env);
    assert_eq!(states.len(), 24);
    assert!(
        states.iter().all(|s| *s != InvoiceState::Pending),
        "{states:?}"
    );
}

#[test]
fn h08_a_part_that_cannot_be_recorded_leaves_what_was_signed_stored_and_sends_nothing_more() {
    let mut env = Env::with_rolls_over(&[InvoiceKind::Normal], 110, threaded_client);
    // The store takes 64 pending rows, then refuses more: the first six parts (2, 2, 4, 8,
    // 16, 32) are recorded; the seventh's commit would also store the sixth part's signed
    // records, and fails.
    let side = rusqlite::Connection::open(env.dir.path().join("taxdisk.db")).unwrap();
    side.execute_batch(
        "CREATE TRIGGER no_room BEFORE INSERT ON invoices
         WHEN (SELECT COUNT(*) FROM invoices) >= 64
         BEGIN SELECT RAISE(ABORT, 'no room left'); END;",
    )
    .unwrap();
    let drafts: Vec<_> = (0..100).map(|_| normal(&mut env.wf)).collect();
    let results = env.wf.issue_batch(drafts).unwrap();
    for (i, r) in results.iter().enumerate() {
        match (i, r) {
            (0..64, Ok(issued)) => assert!(issued.uploaded, "{i}: {:?}", issued.upload_note),
            (64, Err(e)) => says(e, "no room left"),
            (65.., Err(e)) => says(e, "H8"),
            (_, r) => panic!("draft {i}: {:?}", r.as_ref().map(|i| i.number)),
        }
    }
    // Every invoice the disk signed is stored (none left pending for repair), and the disk
    // signed nothing beyond the recorded ones.
    let states = month_states(&env);
    assert_eq!(states.len(), 64);
    assert!(
        states.iter().all(|s| *s == InvoiceState::Uploaded),
        "{states:?}"
    );
    let st = env.wf.status().unwrap();
    let k = st.kind(InvoiceKind::Normal).unwrap();
    assert_eq!((k.status.blank_left, k.status.pending_count), (46, 0));
}

#[test]
fn h05_batch_saves_each_distinct_buyer_once_and_says_so_on_every_invoice_of_it() {
    let mut env = Env::with_rolls_over(&[InvoiceKind::Normal], 50, threaded_client);
    let names = ["甲公司", "乙公司", "丙公司"];
    let drafts_for = |env: &mut Env, n: usize| -> Vec<_> {
        (0..n)
            .map(|i| {
                let mut d = normal(&mut env.wf);
                d.buyer.name = names[i % names.len()].into();
                d.buyer.taxpayer_id = None;
                d
            })
            .collect()
    };
    // Saving off: no buyer saved, none said to be.
    let drafts = drafts_for(&mut env, 7);
    for r in env.wf.issue_batch(drafts).unwrap() {
        assert!(!r.unwrap().buyer_saved);
    }
    assert!(env.wf.store().customers(None).unwrap().is_empty());
    env.save_buyers_automatically();
    // Saving on, over several parts of a pipelined batch: each of the three saved once, and
    // every invoice of each says its buyer was saved.
    let drafts = drafts_for(&mut env, 40);
    let results = env.wf.issue_batch(drafts).unwrap();
    assert_eq!(results.len(), 40);
    for r in &results {
        let i = r.as_ref().unwrap();
        assert!(i.buyer_saved, "{}", i.number.get());
        assert!(i.uploaded, "{:?}", i.upload_note);
    }
    let mut saved: Vec<String> = env
        .wf
        .store()
        .customers(None)
        .unwrap()
        .into_iter()
        .map(|c| c.party.name)
        .collect();
    saved.sort();
    let mut want: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    want.sort();
    assert_eq!(saved, want);
}
