//! Deferred issuing records (`Durability::Normal` on a file, H8): the pending record and the
//! signed result go to a journal of the process's own and are folded into the database behind
//! the caller; what the process then reads includes them at once, other connections see them
//! once folded in, and a journal left by a process that died is folded in by the next open.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

#[path = "invoice_support/mod.rs"]
mod common;
#[path = "store_support/mod.rs"]
mod store_common;

use common::*;
use std::path::{Path, PathBuf};
use taxdisk_host::invoice::{Invoice, KindFields};
use taxdisk_host::store::*;
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::{CheckCode, InvoiceCode, InvoiceNumber, RedRef, Signature, Variant};

fn blue(i: usize) -> Invoice {
    let mut dr = draft(KindFields::Normal(Variant::Standard));
    dr.add_line(&goods("商品", &format!("{}", 1 + i % 5), "10.5"))
        .unwrap();
    dr.validate().unwrap()
}

fn rid(n: u64) -> [u8; 16] {
    let mut r = [0u8; 16];
    r[..8].copy_from_slice(&n.to_be_bytes());
    r[15] = 0xde;
    r
}

fn record(number: u32) -> DiskRecord {
    DiskRecord {
        code: InvoiceCode::new("031001600104").unwrap(),
        number: InvoiceNumber::new(number).unwrap(),
        counter: u64::from(number),
        time: Timestamp(1_795_000_000),
        signature: Signature {
            r: [1; 32],
            s: [2; 32],
        },
        check_code: Some(CheckCode::new("12345678901234567890").unwrap()),
    }
}

fn period() -> Period {
    Period::new(2026, 11).unwrap()
}

/// The issuing journals beside `db`.
fn journals(db: &Path) -> Vec<PathBuf> {
    let name = db.file_name().unwrap().to_str().unwrap().to_owned();
    std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.starts_with(&format!("{name}-issuing-")) && n.ends_with(".journal")
        })
        .collect()
}

/// An initialized store at `db` under `Durability::Normal`.
fn normal_store(db: &Path) -> (Store, UserId) {
    let mut s = Store::open(db).unwrap();
    let admin = if s.is_initialized().unwrap() {
        s.users().unwrap()[0].id
    } else {
        s.initialize(&store_common::init()).unwrap()
    };
    s.set_durability(Durability::Normal).unwrap();
    (s, admin)
}

/// Records `n` invoices pending (request ids from `first`) and stores the signed records of
/// the first `signed` of them; answers their ids.
fn issue(s: &mut Store, admin: UserId, first: u64, n: usize, signed: usize) -> Vec<InvoiceId> {
    let invoices: Vec<Invoice> = (0..n).map(blue).collect();
    let items: Vec<PendingInsert<'_>> = invoices
        .iter()
        .enumerate()
        .map(|(i, inv)| PendingInsert {
            invoice: inv,
            request_id: rid(first + i as u64),
            digest: inv.content_digest(),
            red_form: None,
        })
        .collect();
    let ids = s.insert_pending_batch(admin, period(), &items).unwrap();
    let records: Vec<(InvoiceId, DiskRecord)> = ids
        .iter()
        .take(signed)
        .zip(first as u32..)
        .map(|(id, n)| (*id, record(n)))
        .collect();
    for o in s.mark_issued_batch(&records).unwrap() {
        o.unwrap();
    }
    ids
}

/// The state of row `id` as another connection (another process) reads it.
fn state_elsewhere(db: &Path, id: InvoiceId) -> Option<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT state FROM invoices WHERE id = ?1", [id.0], |r| {
        r.get(0)
    })
    .ok()
}

#[test]
fn h08_normal_durability_defers_records_and_the_process_reads_them_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let (mut s, admin) = normal_store(&db);
    assert!(s.defers_issuing());
    assert_eq!(journals(&db).len(), 1, "one journal of this store's own");
    let ids = issue(&mut s, admin, 1, 40, 30);
    assert_eq!(ids.len(), 40);
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 40, "every invoice its own id");
    // This process reads what it recorded and stored, as if committed at once.
    for (i, id) in ids.iter().enumerate() {
        let got = s.invoice(*id).unwrap();
        let want = if i < 30 {
            InvoiceState::Issued
        } else {
            InvoiceState::Pending
        };
        assert_eq!(got.state, want, "invoice {i}");
        assert_eq!(got.invoice, blue(i), "the content recorded");
    }
    // Another connection sees them once folded in.
    s.settle();
    assert_eq!(state_elsewhere(&db, ids[0]).as_deref(), Some("issued"));
    assert_eq!(state_elsewhere(&db, ids[39]).as_deref(), Some("pending"));
    // A refusal the direct way (abandon) of a deferred pending row.
    s.mark_abandoned(admin, ids[39], "refused").unwrap();
    assert_eq!(s.invoice(ids[39]).unwrap().state, InvoiceState::Abandoned);
    // A second batch after reads: the signed records of rows of the first batch still
    // pending, and new rows, in one call.
    let late = vec![(ids[30], record(1000))];
    let fresh = blue(7);
    let items = [PendingInsert {
        invoice: &fresh,
        request_id: rid(500),
        digest: fresh.content_digest(),
        red_form: None,
    }];
    let (outcomes, new_ids) = s
        .mark_issued_and_insert_pending(&late, admin, period(), &items)
        .unwrap();
    assert!(outcomes.iter().all(|o| o.is_ok()));
    assert!(new_ids[0] > ids[39]);
    assert_eq!(s.invoice(ids[30]).unwrap().state, InvoiceState::Issued);
    assert_eq!(s.invoice(new_ids[0]).unwrap().state, InvoiceState::Pending);
    drop(s);
    // Closing folds everything in and removes the journal.
    assert!(journals(&db).is_empty(), "the journal is removed");
    assert_eq!(state_elsewhere(&db, ids[30]).as_deref(), Some("issued"));
    assert_eq!(state_elsewhere(&db, new_ids[0]).as_deref(), Some("pending"));
}

#[test]
fn h08_a_code_of_another_kind_is_refused_at_once_and_the_row_stays_pending() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let (mut s, admin) = normal_store(&db);
    let ids = issue(&mut s, admin, 1, 1, 0);
    let mut wrong = record(1);
    // A code for electronic invoices (its kind digit) on a normal invoice (F2).
    wrong.code = InvoiceCode::new("031001600111").unwrap();
    let mut outcomes = s.mark_issued_batch(&[(ids[0], wrong.clone())]).unwrap();
    let direct = {
        let dir2 = tempfile::tempdir().unwrap();
        let mut full = Store::open(dir2.path().join("f.db")).unwrap();
        let a = full.initialize(&store_common::init()).unwrap();
        let id = issue(&mut full, a, 1, 1, 0)[0];
        full.mark_issued_batch(&[(id, wrong)])
            .unwrap()
            .pop()
            .unwrap()
    };
    let deferred = outcomes.pop().unwrap();
    assert_eq!(
        deferred.as_ref().map_err(|e| e.to_string()),
        direct.as_ref().map_err(|e| e.to_string()),
        "the same answer as the direct way"
    );
    assert!(deferred.is_err());
    assert_eq!(s.invoice(ids[0]).unwrap().state, InvoiceState::Pending);
}

#[test]
fn h08_full_durability_and_memory_write_directly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut s = Store::open(&db).unwrap();
    let admin = s.initialize(&store_common::init()).unwrap();
    assert!(!s.defers_issuing());
    let ids = issue(&mut s, admin, 1, 3, 3);
    assert!(journals(&db).is_empty());
    assert_eq!(state_elsewhere(&db, ids[2]).as_deref(), Some("issued"));
    // Normal, then Full again: what was deferred is folded in, the journal removed.
    s.set_durability(Durability::Normal).unwrap();
    let more = issue(&mut s, admin, 10, 2, 1);
    assert!(more[0] > ids[2]);
    s.set_durability(Durability::Full).unwrap();
    assert!(!s.defers_issuing());
    assert!(journals(&db).is_empty());
    assert_eq!(state_elsewhere(&db, more[0]).as_deref(), Some("issued"));
    assert_eq!(state_elsewhere(&db, more[1]).as_deref(), Some("pending"));
    let mut m = Store::open_in_memory().unwrap();
    m.set_durability(Durability::Normal).unwrap();
    assert!(!m.defers_issuing());
}

/// The child of [`h08_a_journal_left_by_a_killed_process_is_folded_in_by_the_next_open`]:
/// records and stores, then dies without closing anything.
fn crashing_child(db: &Path) -> ! {
    let (mut s, admin) = normal_store(db);
    // Rows folded in pending before their records come: the journal holds the pending entry
    // and the record when it is folded in again, and the row is in the database already.
    let mut ids = issue(&mut s, admin, 1, 25, 0);
    s.settle();
    // Rows recorded and signed after the last fold: both entries only in the journal.
    ids.extend(issue(&mut s, admin, 26, 25, 20));
    let early: Vec<(InvoiceId, DiskRecord)> = ids[..20]
        .iter()
        .zip(51..)
        .map(|(id, n)| (*id, record(n)))
        .collect();
    for o in s.mark_issued_batch(&early).unwrap() {
        o.unwrap();
    }
    // The ids, for the parent to check.
    let list: Vec<String> = ids.iter().map(|i| i.0.to_string()).collect();
    std::fs::write(db.with_extension("ids"), list.join(",")).unwrap();
    // No fold in and no cleanup: as if killed.
    std::process::abort();
}

#[test]
fn h08_a_journal_left_by_a_killed_process_is_folded_in_by_the_next_open() {
    if let Some(db) = std::env::var_os("TAXDISK_DEFERRED_CHILD_DB") {
        crashing_child(Path::new(&db));
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    {
        let mut s = Store::open(&db).unwrap();
        s.initialize(&store_common::init()).unwrap();
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "h08_a_journal_left_by_a_killed_process_is_folded_in_by_the_next_open",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("TAXDISK_DEFERRED_CHILD_DB", &db)
        .status()
        .unwrap();
    assert!(!status.success(), "the child dies");
    let ids: Vec<InvoiceId> = std::fs::read_to_string(db.with_extension("ids"))
        .unwrap()
        .split(',')
        .map(|t| InvoiceId(t.parse().unwrap()))
        .collect();
    assert_eq!(ids.len(), 50);
    assert_eq!(journals(&db).len(), 1, "the dead process's journal is left");
    // A torn frame at the end, as a write cut by the kill leaves it.
    let journal = journals(&db).pop().unwrap();
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
    std::fs::write(&journal, &bytes).unwrap();
    let s = Store::open(&db).unwrap();
    assert!(journals(&db).is_empty(), "folded in and removed");
    for (i, id) in ids.iter().enumerate() {
        let got = s.invoice(*id).unwrap();
        // The first 20 of each 25 were signed.
        let (want, number) = if i % 25 < 20 {
            let number = if i < 25 { 51 + i } else { i + 1 };
            (InvoiceState::Issued, Some(number as u32))
        } else {
            (InvoiceState::Pending, None)
        };
        assert_eq!(got.state, want, "invoice {i}");
        assert_eq!(got.disk.map(|d| d.number.get()), number, "invoice {i}");
        assert_eq!(got.invoice, blue(i % 25));
    }
    // The ids the dead process reserved and did not use are never given again.
    drop(s);
    let (mut s, admin) = normal_store(&db);
    let next = issue(&mut s, admin, 100, 1, 0);
    assert!(next[0] > *ids.iter().max().unwrap());
    // Folding the same journal in again changes nothing.
    drop(s);
    std::fs::write(&journal, &bytes).unwrap();
    let s = Store::open(&db).unwrap();
    assert!(journals(&db).is_empty());
    assert_eq!(s.invoice(ids[0]).unwrap().state, InvoiceState::Issued);
    assert_eq!(s.invoice(ids[49]).unwrap().state, InvoiceState::Pending);
}

#[test]
fn h08_a_journal_held_by_a_live_process_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let (mut a, admin) = normal_store(&db);
    let ids = issue(&mut a, admin, 1, 5, 5);
    // A second store on the same file (another process would be the same): it does not fold
    // in a journal a live writer holds.
    let b = Store::open(&db).unwrap();
    assert_eq!(journals(&db).len(), 1);
    a.settle();
    assert_eq!(b.invoice(ids[4]).unwrap().state, InvoiceState::Issued);
    drop(a);
    assert!(journals(&db).is_empty());
}

#[test]
fn h08_the_journal_files_stay_small_however_long_issuing_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let (mut s, admin) = normal_store(&db);
    let mut all = Vec::new();
    // About 940 bytes of journal per invoice: 8,000 invoices write 7.5 MB of entries. A
    // journal is set aside past 4 MiB, and removed once folded in.
    for call in 0..125u64 {
        all.extend(issue(&mut s, admin, 1 + call * 64, 64, 64));
        if call % 10 == 9 {
            // However slow this machine folds: at most ten calls behind.
            s.settle();
        }
        let bytes: u64 = journals(&db)
            .iter()
            .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum();
        assert!(
            bytes < 5 << 20,
            "{bytes} bytes of journal after {} invoices",
            all.len()
        );
        assert!(journals(&db).len() <= 2, "{:?}", journals(&db));
    }
    assert_eq!(all.len(), 8000);
    s.settle();
    assert_eq!(state_elsewhere(&db, all[7999]).as_deref(), Some("issued"));
    drop(s);
    assert!(journals(&db).is_empty());
}

#[test]
fn h08_a_record_the_database_refuses_holds_nothing_else_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let (mut s, admin) = normal_store(&db);
    let ids = issue(&mut s, admin, 1, 3, 0);
    // Two rows signed with one code and number (a disk that signs a number twice): the
    // journal takes both, the database only the first.
    let records = vec![
        (ids[0], record(7)),
        (ids[1], record(7)),
        (ids[2], record(8)),
    ];
    for o in s.mark_issued_batch(&records).unwrap() {
        o.unwrap();
    }
    let later = issue(&mut s, admin, 10, 2, 2);
    s.settle();
    assert_eq!(state_elsewhere(&db, ids[0]).as_deref(), Some("issued"));
    assert_eq!(
        state_elsewhere(&db, ids[1]).as_deref(),
        Some("pending"),
        "left for repair"
    );
    assert_eq!(state_elsewhere(&db, ids[2]).as_deref(), Some("issued"));
    assert_eq!(state_elsewhere(&db, later[1]).as_deref(), Some("issued"));
    drop(s);
    assert!(journals(&db).is_empty());
}

#[test]
fn h08_rows_written_the_direct_way_keep_their_place_in_the_order_of_issuing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let (mut s, admin) = normal_store(&db);
    let first = issue(&mut s, admin, 1, 3, 3);
    // A red special invoice with an info form (H10) is recorded the direct way.
    let form = s.add_red_form(admin, &red_body()).unwrap();
    let mut dr = draft(KindFields::Special);
    dr.add_line(&goods("商品", "-2", "10.5")).unwrap();
    dr.red = Some(RedRef::InfoForm(form_number()));
    let red = dr.validate().unwrap();
    let direct = s
        .insert_pending(admin, &red, rid(100), period(), Some(form))
        .unwrap();
    let after = issue(&mut s, admin, 200, 2, 2);
    assert_eq!(
        [first[2].0 + 1, first[2].0 + 2, first[2].0 + 3],
        [direct.0, after[0].0, after[1].0],
        "ids in the order the invoices were recorded"
    );
    assert_eq!(s.invoice(direct).unwrap().state, InvoiceState::Pending);
    drop(s);
    // The ids reserved and not used are given back: the next writer goes on from there.
    let mut full = Store::open(&db).unwrap();
    let next = issue(&mut full, admin, 300, 1, 0);
    assert_eq!(next[0].0, after[1].0 + 1);
}
