//! Invoices in the store: life cycle, void rights (H9), red forms (H10), oil mirror, and month
//! queries over 20,000 invoices through the index.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

#[path = "invoice_support/mod.rs"]
mod common;
#[path = "store_support/mod.rs"]
mod store_common;

use common::*;
use store_common::*;
use taxdisk_host::invoice::{Invoice, KindFields};
use taxdisk_host::store::*;
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::{
    CheckCode, InvoiceCode, InvoiceKind, InvoiceNumber, OilStockEntry, OilUnit, RedRef, Signature,
    Variant,
};

fn blue(kind: KindFields) -> Invoice {
    let mut dr = draft(kind);
    dr.add_line(&goods("商品", "2", "10.5")).unwrap();
    dr.validate().unwrap()
}

fn rid(n: u64) -> [u8; 16] {
    let mut r = [0u8; 16];
    r[..8].copy_from_slice(&n.to_be_bytes());
    r
}

fn period(y: u16, m: u8) -> Period {
    Period::new(y, m).unwrap()
}

fn record(code: &str, number: u32, counter: u64, time: Timestamp) -> DiskRecord {
    DiskRecord {
        code: InvoiceCode::new(code).unwrap(),
        number: InvoiceNumber::new(number).unwrap(),
        counter,
        time,
        signature: Signature {
            r: [1; 32],
            s: [2; 32],
        },
        check_code: Some(CheckCode::new("12345678901234567890").unwrap()),
    }
}

#[test]
fn h08_invoice_life_cycle() {
    let (mut s, admin) = store();
    let inv = blue(KindFields::Normal(Variant::Standard));
    let id = s
        .insert_pending(admin, &inv, rid(1), period(2026, 11), None)
        .unwrap();
    let got = s.invoice(id).unwrap();
    assert_eq!(got.state, InvoiceState::Pending);
    assert_eq!(got.invoice, inv);
    assert_eq!(got.disk, None);
    assert_eq!(s.pending_invoices().unwrap().len(), 1);
    assert_eq!(s.invoice_by_request(&rid(1)).unwrap().unwrap().id, id);
    // The same request id cannot be recorded twice (the disk's idempotency key).
    assert!(
        s.insert_pending(admin, &inv, rid(1), period(2026, 11), None)
            .is_err()
    );

    // Issued: the disk's time decides the period (here December).
    let t = Timestamp::from_civil(taxdisk_protocol::time::CivilTime {
        year: 2026,
        month: 12,
        day: 1,
        hour: 9,
        minute: 0,
        second: 0,
    });
    let rec = record("031001600104", 1, 5, t);
    s.mark_issued(id, &rec).unwrap();
    let got = s.invoice(id).unwrap();
    assert_eq!(got.state, InvoiceState::Issued);
    assert_eq!(got.disk, Some(rec.clone()));
    assert_eq!(got.period, period(2026, 12));
    assert!(s.pending_invoices().unwrap().is_empty());
    assert_eq!(
        s.invoice_by_number(&rec.code, rec.number)
            .unwrap()
            .unwrap()
            .id,
        id
    );
    let e = s.mark_issued(id, &rec).unwrap_err();
    assert!(matches!(e, StoreError::State { rule: "H8", .. }));

    assert_eq!(s.mark_uploaded_through(4).unwrap(), 0);
    assert_eq!(s.mark_uploaded_through(5).unwrap(), 1);
    assert_eq!(s.invoice(id).unwrap().state, InvoiceState::Uploaded);
    assert!(s.invoice(id).unwrap().uploaded_at.is_some());

    s.mark_voided(admin, id).unwrap();
    assert_eq!(s.invoice(id).unwrap().state, InvoiceState::Voided);
    assert!(
        s.mark_voided(admin, id).is_err(),
        "a void cannot be repeated"
    );
}

#[test]
fn h08_refused_request_is_abandoned() {
    let (mut s, admin) = store();
    let inv = blue(KindFields::Electronic);
    let id = s
        .insert_pending(admin, &inv, rid(2), period(2026, 11), None)
        .unwrap();
    s.mark_abandoned(admin, id, "D5 no blank numbers").unwrap();
    assert_eq!(s.invoice(id).unwrap().state, InvoiceState::Abandoned);
    let rec = record("031001600111", 1, 1, Timestamp(1_790_000_000));
    assert!(s.mark_issued(id, &rec).is_err());
    assert!(s.mark_voided(admin, id).is_err());
    assert!(s.mark_uploaded(id).is_err());
}

#[test]
fn f02_a_signed_record_with_a_code_of_another_kind_is_refused_and_changes_nothing() {
    let (mut s, admin) = store();
    let inv = blue(KindFields::Normal(Variant::Standard));
    let t = Timestamp(1_795_000_000);
    let ids = s
        .insert_pending_batch(
            admin,
            t.period(),
            &[1u64, 2, 3].map(|n| PendingInsert {
                invoice: &inv,
                request_id: rid(n),
                digest: inv.content_digest(),
                red_form: None,
            }),
        )
        .unwrap();
    // For a paper normal invoice (code suffix 04): an electronic invoice's code (suffix 11),
    // a special invoice's 10-digit code, and a right one.
    let results = s
        .mark_issued_batch(&[
            (ids[0], record("031001600111", 1, 1, t)),
            (ids[1], record("3100153130", 2, 2, t)),
            (ids[2], record("031001600104", 3, 3, t)),
        ])
        .unwrap();
    for r in &results[..2] {
        let e = r.as_ref().unwrap_err();
        assert_eq!(e.rule(), Some("F2"), "{e}");
    }
    assert!(results[2].is_ok());
    for id in &ids[..2] {
        let got = s.invoice(*id).unwrap();
        assert_eq!(got.state, InvoiceState::Pending);
        assert_eq!(got.disk, None);
    }
    assert_eq!(s.invoice(ids[2]).unwrap().state, InvoiceState::Issued);
}

/// Records go to the store many per statement: each one still gets its own outcome, a wrong
/// one is refused alone, two records for one invoice store the first, and a record whose disk
/// time moved the invoice to another period still moves it.
#[test]
fn h08_records_stored_many_at_a_time_keep_each_outcome() {
    let (mut s, admin) = store();
    let inv = blue(KindFields::Normal(Variant::Standard));
    let t = Timestamp(1_795_000_000);
    let pending: Vec<PendingInsert<'_>> = (0..36u64)
        .map(|n| PendingInsert {
            invoice: &inv,
            request_id: rid(n + 1),
            digest: inv.content_digest(),
            red_form: None,
        })
        .collect();
    let ids = s.insert_pending_batch(admin, t.period(), &pending).unwrap();
    assert_eq!(ids.len(), 36);
    let next_month = Timestamp(t.0 + 40 * 86_400);
    let mut items: Vec<_> = (0..36u32)
        .map(|k| {
            (
                ids[k as usize],
                record("031001600104", k + 1, u64::from(k) + 1, t),
            )
        })
        .collect();
    // In the first 16: a code of another kind.
    items[3].1 = record("031001600111", 4, 4, t);
    // In the next 16: a second record for invoice 18.
    items[20] = (ids[18], record("031001600104", 99, 99, t));
    // In the tail: the disk's time is in the next month.
    items[34].1 = record("031001600104", 35, 35, next_month);
    let results = s.mark_issued_batch(&items).unwrap();
    for (k, r) in results.iter().enumerate() {
        match k {
            3 => assert_eq!(r.as_ref().unwrap_err().rule(), Some("F2")),
            20 => assert!(
                matches!(r, Err(StoreError::State { rule: "H8", .. })),
                "{r:?}"
            ),
            _ => assert!(r.is_ok(), "item {k}: {r:?}"),
        }
    }
    for (k, id) in ids.iter().enumerate() {
        let got = s.invoice(*id).unwrap();
        match k {
            3 | 20 => assert_eq!(got.state, InvoiceState::Pending, "invoice {k}"),
            _ => {
                assert_eq!(got.state, InvoiceState::Issued, "invoice {k}");
                assert_eq!(got.disk.unwrap().number.get(), k as u32 + 1, "invoice {k}");
            }
        }
    }
    assert_eq!(s.invoice(ids[34]).unwrap().period, next_month.period());
    assert_eq!(s.invoice(ids[33]).unwrap().period, t.period());
}

#[test]
fn h09_void_only_by_issuer_or_admin() {
    let (mut s, admin) = store();
    let a = s.add_invoicer(admin, "开票员甲", "pw").unwrap();
    let b = s.add_invoicer(admin, "开票员乙", "pw").unwrap();
    let inv = blue(KindFields::Normal(Variant::Standard));
    let mut ids = Vec::new();
    for n in 1..=2u32 {
        let id = s
            .insert_pending(a, &inv, rid(u64::from(n)), period(2026, 11), None)
            .unwrap();
        s.mark_issued(
            id,
            &record("031001600104", n, u64::from(n), Timestamp(1_795_000_000)),
        )
        .unwrap();
        ids.push(id);
    }
    let e = s.mark_voided(b, ids[0]).unwrap_err();
    assert!(matches!(e, StoreError::Permission { rule: "H9", .. }));
    s.mark_voided(a, ids[0]).unwrap();
    s.mark_voided(admin, ids[1]).unwrap();
    let log = s.audit_log(2).unwrap();
    assert_eq!(log[0].user, Some(admin));
    assert_eq!(log[1].user, Some(a));
    assert!(log.iter().all(|e| e.action == "invoice.void"));
}

#[test]
fn h10_red_form_states_and_edit_rules() {
    let (mut s, admin) = store();
    let id = s.add_red_form(admin, &red_body()).unwrap();
    assert_eq!(s.red_form(id).unwrap().state, RedFormState::NotUploaded);
    // Not uploaded: edit and delete allowed.
    let mut body = red_body();
    body.reason = "质量问题".into();
    s.update_red_form(admin, id, &body).unwrap();
    assert_eq!(s.red_form(id).unwrap().body.reason, "质量问题");
    // Under review: delete only.
    s.mark_red_form_submitted(admin, id).unwrap();
    let e = s.update_red_form(admin, id, &body).unwrap_err();
    assert!(matches!(e, StoreError::State { rule: "H10", .. }));
    // Approved: neither.
    s.mark_red_form_reviewed(admin, id, Some(&form_number()))
        .unwrap();
    let f = s.red_form(id).unwrap();
    assert_eq!(f.state, RedFormState::Approved);
    assert_eq!(f.number, Some(form_number()));
    assert!(s.update_red_form(admin, id, &body).is_err());
    assert!(s.delete_red_form(admin, id).is_err());
    assert_eq!(
        s.red_form_by_number(&form_number()).unwrap().unwrap().id,
        id
    );
    // Under review can be deleted.
    let id2 = s.add_red_form(admin, &red_body()).unwrap();
    s.mark_red_form_submitted(admin, id2).unwrap();
    s.delete_red_form(admin, id2).unwrap();
    assert!(s.red_form(id2).is_err());
    // Rejected forms can be edited again (back to not uploaded).
    let id3 = s.add_red_form(admin, &red_body()).unwrap();
    s.mark_red_form_submitted(admin, id3).unwrap();
    s.mark_red_form_reviewed(admin, id3, None).unwrap();
    assert_eq!(s.red_form(id3).unwrap().state, RedFormState::Rejected);
    s.update_red_form(admin, id3, &body).unwrap();
    assert_eq!(s.red_form(id3).unwrap().state, RedFormState::NotUploaded);
}

#[test]
fn h10_red_form_content_rules() {
    let (mut s, admin) = store();
    let mut b = red_body();
    b.deducted = true; // deducted but names the original
    assert_eq!(s.add_red_form(admin, &b).unwrap_err().rule(), Some("H10"));
    b.original = None; // FAQ 7.9
    s.add_red_form(admin, &b).unwrap();
    let mut pos = red_body();
    pos.lines[0].amount = -pos.lines[0].amount;
    assert_eq!(s.add_red_form(admin, &pos).unwrap_err().rule(), Some("H10"));
    let mut disc = red_body();
    disc.lines[0].kind = taxdisk_host::invoice::LineKind::Discount;
    assert_eq!(
        s.add_red_form(admin, &disc).unwrap_err().rule(),
        Some("H10")
    );
}

#[test]
fn h10_one_form_one_red_invoice_and_void_releases_it() {
    let (mut s, admin) = store();
    let form = s
        .add_approved_red_form(admin, &form_number(), &red_body())
        .unwrap();
    let mut dr = draft(KindFields::Special);
    dr.add_line(&goods("商品", "-2", "10.5")).unwrap();
    dr.red = Some(RedRef::InfoForm(form_number()));
    let red = dr.validate().unwrap();
    let t = Timestamp(1_795_000_000);
    let id = s
        .insert_pending(admin, &red, rid(1), period(2026, 11), Some(form))
        .unwrap();
    let mut rec = record("3100153130", 8, 9, t);
    rec.check_code = None; // special invoices carry none
    s.mark_issued(id, &rec).unwrap();
    assert_eq!(s.red_form(form).unwrap().state, RedFormState::Used);
    assert_eq!(s.invoice(id).unwrap().red_form, Some(form));
    // A second red invoice on the same form is refused at issue, atomically.
    let id2 = s
        .insert_pending(admin, &red, rid(2), period(2026, 11), Some(form))
        .unwrap();
    let e = s
        .mark_issued(id2, &record("3100153130", 9, 10, t))
        .unwrap_err();
    assert_eq!(e.rule(), Some("H10"));
    assert_eq!(s.invoice(id2).unwrap().state, InvoiceState::Pending);
    // Voiding the wrong red invoice frees the form for a corrected one (FAQ 7.5).
    s.mark_voided(admin, id).unwrap();
    assert_eq!(s.red_form(form).unwrap().state, RedFormState::Approved);
    s.mark_issued(id2, &record("3100153130", 9, 10, t)).unwrap();
    assert_eq!(s.red_form(form).unwrap().state, RedFormState::Used);
}

#[test]
fn d11_oil_stock_mirror() {
    let (mut s, _) = store();
    assert!(s.oil_stock().unwrap().is_empty());
    let stock = vec![
        OilStockEntry {
            category: 1,
            unit: OilUnit::Litre,
            milli_quantity: 5_000_000,
        },
        OilStockEntry {
            category: 2,
            unit: OilUnit::Tonne,
            milli_quantity: 12_500,
        },
    ];
    s.set_oil_stock(&stock).unwrap();
    assert_eq!(s.oil_stock().unwrap(), stock);
    s.set_oil_stock(&stock[1..]).unwrap();
    assert_eq!(s.oil_stock().unwrap(), stock[1..]);
}

#[test]
fn store_month_query_over_20000_invoices_uses_the_index() {
    let (mut s, admin) = store();
    let kinds = [
        (blue(KindFields::Normal(Variant::Standard)), "031001600104"),
        (blue(KindFields::Special), "3100153130"),
        (blue(KindFields::Electronic), "031001600111"),
    ];
    let mut expected = std::collections::HashMap::new();
    let n = 20_000u32;
    for i in 0..n {
        let (inv, code) = &kinds[(i % 3) as usize];
        let month = (i % 12) as u8 + 1;
        let p = period(2026, month);
        let id = s
            .insert_pending(admin, inv, rid(u64::from(i)), p, None)
            .unwrap();
        // Every seventh stays pending; the rest are issued in their month.
        let state = if i % 7 == 0 {
            InvoiceState::Pending
        } else {
            s.mark_issued(
                id,
                &record(code, i + 1, u64::from(i) + 1, p.start().plus_secs(3600)),
            )
            .unwrap();
            InvoiceState::Issued
        };
        *expected.entry((month, inv.kind(), state)).or_insert(0u64) += 1;
    }
    // Every month, kind and state combination answers exactly what was written.
    for month in 1..=12u8 {
        let q = MonthQuery::period(period(2026, month));
        let rows = s.month(&q).unwrap();
        let total: u64 = expected
            .iter()
            .filter(|((m, _, _), _)| *m == month)
            .map(|(_, c)| c)
            .sum();
        assert_eq!(rows.len() as u64, total);
        assert_eq!(s.month_count(&q).unwrap(), total);
        assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
        assert!(rows.iter().all(|r| r.period == period(2026, month)));
        for kind in [
            InvoiceKind::Normal,
            InvoiceKind::Special,
            InvoiceKind::Electronic,
        ] {
            for state in [InvoiceState::Pending, InvoiceState::Issued] {
                let q = MonthQuery {
                    period: period(2026, month),
                    kind: Some(kind),
                    state: Some(state),
                };
                let want = expected.get(&(month, kind, state)).copied().unwrap_or(0);
                let rows = s.month(&q).unwrap();
                assert_eq!(rows.len() as u64, want, "{month} {kind} {state:?}");
                assert!(rows.iter().all(|r| r.kind == kind && r.state == state));
            }
        }
    }
    // Streaming the full content of a month matches the listing.
    let q = MonthQuery {
        period: period(2026, 3),
        kind: Some(InvoiceKind::Special),
        state: None,
    };
    let mut streamed = 0u64;
    s.for_each_in_month(&q, |inv| {
        assert_eq!(inv.invoice.kind(), InvoiceKind::Special);
        streamed += 1;
        Ok::<_, StoreError>(())
    })
    .unwrap();
    assert_eq!(streamed, s.month_count(&q).unwrap());

    // The plans use the period indexes, never a full scan.
    for q in [
        MonthQuery::period(period(2026, 5)),
        MonthQuery {
            period: period(2026, 5),
            kind: Some(InvoiceKind::Normal),
            state: None,
        },
        MonthQuery {
            period: period(2026, 5),
            kind: None,
            state: Some(InvoiceState::Issued),
        },
        MonthQuery {
            period: period(2026, 5),
            kind: Some(InvoiceKind::Normal),
            state: Some(InvoiceState::Issued),
        },
    ] {
        let plan = s.explain_month(&q).unwrap().join("\n");
        assert!(
            plan.contains("USING INDEX invoices_period"),
            "{q:?}: {plan}"
        );
        assert!(!plan.contains("SCAN invoices"), "{q:?}: {plan}");
    }
}

#[test]
fn f02_disk_code_must_fit_the_kind() {
    let (mut s, admin) = store();
    let inv = blue(KindFields::Normal(Variant::Standard));
    let id = s
        .insert_pending(admin, &inv, rid(1), period(2026, 11), None)
        .unwrap();
    // An electronic code (suffix 11) for a normal invoice.
    let e = s
        .mark_issued(id, &record("031001600111", 1, 1, Timestamp(1_795_000_000)))
        .unwrap_err();
    assert_eq!(e.rule(), Some("F2"));
    assert_eq!(s.invoice(id).unwrap().state, InvoiceState::Pending);
}

#[test]
fn store_tampered_invoice_refused_on_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.db");
    let mut s = Store::open(&path).unwrap();
    let admin = s.initialize(&init()).unwrap();
    let inv = blue(KindFields::Normal(Variant::Standard));
    let id = s
        .insert_pending(admin, &inv, rid(1), period(2026, 11), None)
        .unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let n = raw
        .execute(
            "UPDATE invoice_bodies SET body = replace(body, '\"tax\":\"2.73\"', '\"tax\":\"9.73\"')",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(raw);
    let e = s.invoice(id).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt(_)), "{e}");
}

#[test]
fn h04_restore_keeps_invoices_lines_and_permissions() {
    let (_dir, mut s, admin) = store_with_backup_folder();
    let a = s.add_invoicer(admin, "开票员甲", "pw").unwrap();
    s.grant(
        admin,
        a,
        InvoiceKind::Normal,
        taxdisk_host::store::Action::Issue,
    )
    .unwrap();
    let mut dr = draft(KindFields::Normal(Variant::Standard));
    for i in 0..3 {
        dr.add_line(&goods(&format!("商品{i}"), "1", "10")).unwrap();
    }
    let inv = dr.validate().unwrap();
    let id = s
        .insert_pending(a, &inv, rid(1), period(2026, 11), None)
        .unwrap();
    s.mark_issued(id, &record("031001600104", 1, 1, Timestamp(1_795_000_000)))
        .unwrap();
    let backup = s.backup(admin).unwrap();
    // Change everything after the backup.
    s.revoke(
        admin,
        a,
        InvoiceKind::Normal,
        taxdisk_host::store::Action::Issue,
    )
    .unwrap();
    s.mark_voided(admin, id).unwrap();
    s.insert_pending(a, &inv, rid(2), period(2026, 11), None)
        .unwrap();

    s.restore(admin, &backup.name).unwrap();
    assert!(
        s.can(a, InvoiceKind::Normal, taxdisk_host::store::Action::Issue)
            .unwrap()
    );
    let got = s.invoice(id).unwrap();
    assert_eq!(got.state, InvoiceState::Issued);
    assert_eq!(got.invoice, inv);
    assert!(s.invoice_by_request(&rid(2)).unwrap().is_none());
    let lines: i64 = backup_lines(&backup.path);
    assert_eq!(lines, 3);
    assert_eq!(
        s.month_count(&MonthQuery::period(period(2026, 11)))
            .unwrap(),
        1
    );
    // The lines are back in the live database too: export the month through the stream.
    let mut seen = 0;
    s.for_each_in_month(&MonthQuery::period(period(2026, 11)), |i| {
        seen += i.invoice.lines().len();
        Ok::<_, StoreError>(())
    })
    .unwrap();
    assert_eq!(seen, 3);
    assert_eq!(s.invoice(id).unwrap().invoice.lines().len(), 3);
}

/// Lines of every invoice in the backup file, read from the stored JSON.
fn backup_lines(path: &std::path::Path) -> i64 {
    let raw = rusqlite::Connection::open(path).unwrap();
    let mut stmt = raw.prepare("SELECT body FROM invoice_bodies").unwrap();
    let bodies = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    bodies
        .map(|b| {
            let v: serde_json::Value = serde_json::from_str(&b.unwrap()).unwrap();
            v["lines"].as_array().unwrap().len() as i64
        })
        .sum()
}

/// H4 across upgrades: a backup written by an earlier schema (v2: line rows, month indexes
/// with the state, the content inline) restores into this one; it is migrated on a copy and
/// stays as it was.
#[test]
fn h04_a_backup_of_the_previous_schema_restores_after_an_upgrade() {
    let (dir, mut s, admin) = store_with_backup_folder();
    let inv = blue(KindFields::Normal(Variant::Standard));
    let id = s
        .insert_pending(admin, &inv, rid(1), period(2026, 11), None)
        .unwrap();
    s.mark_issued(id, &record("031001600104", 1, 1, Timestamp(1_795_000_000)))
        .unwrap();
    let backup = s.backup(admin).unwrap();
    // Turn the backup into what version 2 wrote.
    {
        let raw = rusqlite::Connection::open(&backup.path).unwrap();
        // Version 6's sequence, configuration version and its triggers.
        let triggers: Vec<String> = raw
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for t in triggers {
            raw.execute_batch(&format!("DROP TRIGGER \"{t}\"")).unwrap();
        }
        raw.execute_batch(
            "DROP TABLE sequences;
             DROP TABLE config_version;
             DELETE FROM schema_version WHERE version = 6;",
        )
        .unwrap();
        raw.execute_batch(
            "DROP INDEX invoices_period_kind;
             CREATE INDEX invoices_period_kind_state ON invoices (period, kind, state);
             CREATE INDEX invoices_period_state ON invoices (period, state);
             CREATE TABLE invoice_lines (invoice_id INTEGER NOT NULL, position INTEGER NOT NULL,
                 PRIMARY KEY (invoice_id, position)) WITHOUT ROWID;
             INSERT INTO invoice_lines VALUES (1, 1);
             ALTER TABLE invoices ADD COLUMN body TEXT NOT NULL DEFAULT '';
             UPDATE invoices SET body =
                 (SELECT body FROM invoice_bodies WHERE invoice_id = invoices.id);
             DROP TABLE invoice_bodies;
             DROP TABLE intents;
             DELETE FROM schema_version WHERE version IN (3, 4, 5);",
        )
        .unwrap();
    }
    s.mark_voided(admin, id).unwrap();
    s.restore(admin, &backup.name).unwrap();
    let got = s.invoice(id).unwrap();
    assert_eq!(got.state, InvoiceState::Issued);
    assert_eq!(got.invoice, inv, "the content moved to its table intact");
    // The backup file is untouched (still version 2) and no copy is left behind.
    let raw = rusqlite::Connection::open(&backup.path).unwrap();
    let v: u32 = raw
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 2);
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 1, "only the backup itself");
}
