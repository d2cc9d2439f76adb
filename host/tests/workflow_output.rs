//! H4 backup and restore, H16 the monthly export and H18 printing through the workflow, with
//! the logged-in user as the actor.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use calamine::{Reader, Xlsx, open_workbook};
use taxdisk_host::export::print::{ListLayout, Margins};
use taxdisk_host::store::{Action, InvoiceState};
use taxdisk_protocol::types::*;
use workflow_support::*;

#[test]
fn h04_backup_by_anyone_restore_by_the_administrator() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let folder = env.dir.path().join("backups");
    env.wf.set_backup_folder(&folder).unwrap();
    let d = normal(&mut env.wf);
    let first = env.wf.issue(d).unwrap();
    let b = env.wf.backup().unwrap();
    assert!(b.size > 0);
    let d = normal(&mut env.wf);
    let second = env.wf.issue(d).unwrap();
    // An invoicer may back up (FAQ 2.8) but not restore (FAQ 2.9).
    env.invoicer("开票员甲", &[InvoiceKind::Normal], &[Action::Issue]);
    env.login_as("开票员甲", "pw-12345678");
    env.wf.backup().unwrap();
    let e = env.wf.restore(&b.name).unwrap_err();
    says(&e, "H4");
    env.login_as(ADMIN, ADMIN_PW);
    assert_eq!(env.wf.list_backups().unwrap().len(), 2);
    env.wf.restore(&b.name).unwrap();
    assert!(env.wf.store().invoice(first.id).is_ok());
    assert!(
        env.wf.store().invoice(second.id).is_err(),
        "after the backup"
    );
    // Repair finds the invoice signed after the backup in the journal; its content lived only
    // in the lost database, so it is reported, not invented.
    let r = env.wf.repair().unwrap();
    assert_eq!(
        r.unknown_on_disk,
        vec![(second.code.clone(), second.number)]
    );
    // Only listed backups restore (a name, never a path).
    let e = env.wf.restore("../taxdisk.db").unwrap_err();
    says(&e, "not found");
}

#[test]
fn h16_month_export_leaves_voided_out() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let mut issued = Vec::new();
    for _ in 0..3 {
        let d = normal(&mut env.wf);
        issued.push(env.wf.issue(d).unwrap());
    }
    env.wf.void(&[issued[1].id]).unwrap();
    let path = env.dir.path().join("202611.xlsx");
    let s = env.wf.export_month(period(2026, 11), &path).unwrap();
    assert_eq!((s.invoices, s.voided_skipped), (2, 1));
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    let sheet = wb.worksheet_range("发票202611").unwrap();
    let numbers: Vec<String> = sheet.rows().skip(1).map(|r| r[2].to_string()).collect();
    assert_eq!(
        numbers,
        vec![
            format!("{:08}", issued[0].number.get()),
            format!("{:08}", issued[2].number.get())
        ]
    );
}

#[test]
fn h18_print_and_reprint_with_margins() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal, InvoiceKind::Special], 10);
    let d = normal(&mut env.wf);
    let i = env.wf.issue(d).unwrap();
    let pdf = env
        .wf
        .print(i.id, Margins::default(), ListLayout::default())
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let again = env
        .wf
        .print(i.id, Margins::default(), ListLayout::default())
        .unwrap();
    assert_eq!(pdf, again, "reprint without limit, same output (FAQ 6.1)");
    let shifted = env
        .wf
        .print(
            i.id,
            Margins {
                right_mm: -1,
                down_mm: 2,
            },
            ListLayout::default(),
        )
        .unwrap();
    assert_ne!(pdf, shifted);
    let e = env
        .wf
        .print(
            i.id,
            Margins {
                right_mm: 40,
                down_mm: 0,
            },
            ListLayout::default(),
        )
        .unwrap_err();
    says(&e, "H18");
    // The query permission is needed (H3).
    env.invoicer("开票员乙", &[InvoiceKind::Normal], &[Action::Issue]);
    env.login_as("开票员乙", "pw-12345678");
    let e = env
        .wf
        .print(i.id, Margins::default(), ListLayout::default())
        .unwrap_err();
    says(&e, "H3");
    // A voided invoice still prints (marked 作废).
    env.login_as(ADMIN, ADMIN_PW);
    env.wf.void(&[i.id]).unwrap();
    assert_eq!(
        env.wf.store().invoice(i.id).unwrap().state,
        InvoiceState::Voided
    );
    let voided = env
        .wf
        .print(i.id, Margins::default(), ListLayout::default())
        .unwrap();
    assert_ne!(voided, pdf);
}

#[test]
fn b09_issued_invoices_check_at_the_bureau() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal, InvoiceKind::Special], 10);
    let d = normal(&mut env.wf);
    let n = env.wf.issue(d).unwrap();
    let d = draft_of(
        &mut env.wf,
        taxdisk_host::invoice::KindFields::Special,
        "1",
        "80",
    );
    let s = env.wf.issue(d).unwrap();
    for i in [&n, &s] {
        let r = env.wf.check_invoice(i.id).unwrap();
        assert!(r.found, "{:?}", i.kind);
        assert!(!r.voided);
        assert_eq!(r.invoice.unwrap().number, i.number);
    }
    env.wf.void(&[n.id]).unwrap();
    assert!(env.wf.check_invoice(n.id).unwrap().voided);
}

#[test]
fn h03_query_shows_the_kinds_the_user_may_query() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal, InvoiceKind::Special], 10);
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    let d = draft_of(
        &mut env.wf,
        taxdisk_host::invoice::KindFields::Special,
        "1",
        "80",
    );
    env.wf.issue(d).unwrap();
    let q = taxdisk_host::store::MonthQuery::period(period(2026, 11));
    let listed = |wf: &mut taxdisk_host::workflow::Workflow| {
        let mut kinds = Vec::new();
        wf.for_each_listed(&q, false, |s, c| {
            assert!(c.may_show(), "as the disk signed it");
            kinds.push(s.invoice.kind());
        })
        .unwrap();
        kinds
    };
    assert_eq!(listed(&mut env.wf).len(), 2);
    env.invoicer("开票员甲", &[InvoiceKind::Normal], &[Action::Query]);
    env.login_as("开票员甲", "pw-12345678");
    assert_eq!(listed(&mut env.wf), vec![InvoiceKind::Normal]);
}

#[test]
fn h16_month_export_streams_past_a_batch_and_leaves_out_what_differs() {
    use taxdisk_host::workflow::output::EXPORT_BATCH;
    let n = EXPORT_BATCH + 40;
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], n as u32);
    let mut issued = Vec::new();
    while issued.len() < n {
        let drafts: Vec<_> = (0..64.min(n - issued.len()))
            .map(|_| normal(&mut env.wf))
            .collect();
        for r in env.wf.issue_batch(drafts).unwrap() {
            issued.push(r.unwrap());
        }
    }
    // One invoice of each batch the export reads is changed behind the software's back.
    let changed = [issued[1].id, issued[EXPORT_BATCH + 7].id];
    let db = rusqlite::Connection::open(env.dir.path().join("taxdisk.db")).unwrap();
    for id in changed {
        db.execute(
            "UPDATE invoice_bodies SET body = replace(body, '商品', '黄金') WHERE invoice_id = ?1",
            [id.0],
        )
        .unwrap();
    }
    let path = env.dir.path().join("202611.xlsx");
    let s = env.wf.export_month(period(2026, 11), &path).unwrap();
    assert_eq!((s.invoices, s.not_as_signed), (n - 2, 2));
    assert_eq!(s.lines, n - 2, "one line each");
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    let sheet = wb.worksheet_range("发票202611").unwrap();
    let numbers: Vec<String> = sheet.rows().skip(1).map(|r| r[2].to_string()).collect();
    let expected: Vec<String> = issued
        .iter()
        .filter(|i| !changed.contains(&i.id))
        .map(|i| format!("{:08}", i.number.get()))
        .collect();
    assert_eq!(numbers, expected, "in order, the changed ones left out");
    let lines = wb.worksheet_range("明细").unwrap();
    let line_numbers: Vec<String> = lines.rows().skip(1).map(|r| r[1].to_string()).collect();
    assert_eq!(line_numbers, expected, "each invoice's line follows it");
}
