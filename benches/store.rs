//! The host store at scale (DESIGN "Targets": 1,000,000 invoices; a month query and an export
//! of 100,000 invoices stay interactive):
//!
//! - `store/month_count`, `store/month`, `store/month_kind_state`: one month of 100,000 invoices
//!   out of 1,000,000 (10 months of 100,000), through `Store::month_count` / `Store::month`;
//! - `store/load_month`: `Store::for_each_in_month` of those 100,000 with their content (JSON
//!   decoded and re-validated), as `Workflow::export_month` collects them (`export_rows`);
//! - `store/export_xlsx`: `export::xlsx::export_month` of those 100,000 (constant-memory
//!   rust_xlsxwriter) into a temp file; an export is `load_month` + `export_xlsx`;
//! - `store/insert_issue_at_1m`: `insert_pending` + `mark_issued` into the 1M database,
//!   `Durability::Normal`: two journal entries each, folded into SQLite by the store's
//!   background thread (the timed block ends when they are in, `Store::settle`);
//! - `store/insert_issue_empty_normal` and `store/insert_issue_empty_full`: the same into a
//!   fresh database, with `Durability::Normal` and with the default `Durability::Full`, where
//!   each is a commit and every commit an fsync.
//!
//! The 1M database takes minutes to build, so it is built once, through the public Store API
//! with `Durability::Normal`, into `target/bench-data/store-1m-v<schema>.db` and reused while
//! its schema version and contents match (`store-1m-v<schema>.ok` records them). Delete the
//! file to rebuild. `store/insert_issue_at_1m` adds its invoices to that file, in a month of
//! its own (December 2025), so the 10 measured months stay at 100,000 each.
//!
//! `cargo bench --bench store` (the first run builds the database: about
//! 1,000,000 / the `insert_issue_empty_normal` rate).
//! Under `cargo test --benches` (criterion's test mode) a database of 10 x 200 invoices is built
//! in a temp dir instead.
// Benches may unwrap: a failed setup is a broken bench, and a panic says where.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use criterion::{Criterion, Throughput, criterion_group};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use taxdisk_host::disk::new_request_id;
use taxdisk_host::invoice::Invoice;
use taxdisk_host::store::migrate;
use taxdisk_host::store::{
    DiskRecord, Durability, InvoiceState, MonthQuery, Store, StoredInvoice, UserId,
};
use taxdisk_host::workflow::output::{export_rows, export_stored};
use taxdisk_protocol::Period;
use taxdisk_protocol::checkcode::check_code;
use taxdisk_protocol::types::{InvoiceCode, InvoiceKind, InvoiceNumber, Signature};

/// Months of the big database, each with `per_month` invoices.
const MONTHS: u8 = 10;
/// Invoices per month in the real run.
const PER_MONTH: u32 = 100_000;
/// The month measured (the middle of the ten).
const MEASURED: u8 = 5;
/// The month `insert_issue_at_1m` adds to.
const INSERT_MONTH: u8 = 12;

fn period(m: u8) -> Period {
    Period::new(2025, m).unwrap()
}

/// One electronic-invoice code per month (F2: 0 + region + year + batch + kind suffix 11).
fn code(m: u8) -> InvoiceCode {
    InvoiceCode::new(&format!("0350025{m:03}11")).unwrap()
}

fn sig() -> Signature {
    Signature {
        r: [7; 32],
        s: [9; 32],
    }
}

/// The disk record of the `i`th invoice (0-based) of month `m`.
fn record(m: u8, i: u32) -> DiskRecord {
    let s = sig();
    DiskRecord {
        code: code(m),
        number: InvoiceNumber::new(i + 1).unwrap(),
        counter: u64::from(m) * 10_000_000 + u64::from(i) + 1,
        // 20 s apart: 100,000 invoices fill 23 days of the month.
        time: period(m).start().plus_secs(60 + 20 * u64::from(i)),
        signature: s,
        check_code: Some(check_code(&s)),
    }
}

fn invoices() -> Vec<Invoice> {
    (0..6).map(|i| draft(i).validate().unwrap()).collect()
}

/// Records and issues one invoice: the two commits of an issue.
fn insert_issue(store: &mut Store, user: UserId, inv: &Invoice, m: u8, i: u32) {
    let id = store
        .insert_pending(user, inv, new_request_id(), period(m), None)
        .unwrap();
    store.mark_issued(id, &record(m, i)).unwrap();
}

/// `target/` of this build: the bench runs as `target/<profile>/deps/store-<hash>`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Builds `MONTHS` x `per_month` issued invoices at `path`; answers the user and the rate.
fn build(path: &Path, per_month: u32) -> UserId {
    let (mut store, user) = new_store(path, Durability::Normal);
    let invs = invoices();
    let t = Instant::now();
    let mut n = 0u64;
    for m in 1..=MONTHS {
        for i in 0..per_month {
            insert_issue(&mut store, user, &invs[i as usize % invs.len()], m, i);
            n += 1;
        }
        eprintln!(
            "store: building: {n} invoices, {:.0}/s, RSS {} KiB",
            n as f64 / t.elapsed().as_secs_f64(),
            rss_kib()
        );
    }
    user
}

fn marker_text(per_month: u32, user: UserId) -> String {
    format!(
        "schema={} months={MONTHS} per_month={per_month} user={}\n",
        migrate::latest(),
        user.0
    )
}

/// Opens the cached database if its schema and contents match, else builds it.
fn big_store(per_month: u32, dir: &Path) -> (Store, UserId, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let base = format!("store-{}x{per_month}-v{}", MONTHS, migrate::latest());
    let db = dir.join(format!("{base}.db"));
    let ok = dir.join(format!("{base}.ok"));
    if let Ok(text) = std::fs::read_to_string(&ok)
        && let Some(user) = text
            .trim()
            .rsplit_once("user=")
            .and_then(|(_, u)| u.parse().ok())
            .map(UserId)
        && text == marker_text(per_month, user)
        && db.exists()
    {
        let mut store = Store::open(&db).unwrap();
        store.set_durability(Durability::Normal).unwrap();
        let full = [1, MEASURED, MONTHS].iter().all(|m| {
            store.month_count(&MonthQuery::period(period(*m))).unwrap() == u64::from(per_month)
        });
        if store.schema_version().unwrap() == migrate::latest() && full {
            eprintln!("store: reusing {}", db.display());
            return (store, user, db);
        }
        drop(store);
    }
    eprintln!(
        "store: building {} ({} invoices, once; reused by later runs)",
        db.display(),
        u64::from(MONTHS) * u64::from(per_month)
    );
    let _ = std::fs::remove_file(&ok);
    let building = dir.join(format!("{base}.building.db"));
    let t = Instant::now();
    let user = build(&building, per_month);
    // Closing checkpoints the WAL into the file, which can then be renamed.
    std::fs::rename(&building, &db).unwrap();
    std::fs::write(&ok, marker_text(per_month, user)).unwrap();
    eprintln!("store: built in {:.0} s", t.elapsed().as_secs_f64());
    let mut store = Store::open(&db).unwrap();
    store.set_durability(Durability::Normal).unwrap();
    (store, user, db)
}

/// The rows `Workflow::export_month` loads for the month.
fn load_month(store: &Store, p: Period) -> Vec<StoredInvoice> {
    export_rows(store, p).unwrap()
}

/// The export `Workflow::export_month` writes for these rows.
fn export(rows: &[StoredInvoice], p: Period, path: &Path) -> usize {
    export_stored(rows, p, path).unwrap().invoices
}

fn bench(c: &mut Criterion) {
    // criterion's test mode (`cargo test --benches`) runs every bench once: keep it small.
    let real = std::env::args().any(|a| a == "--bench");
    let per_month = if real { PER_MONTH } else { 200 };
    let scratch = tempfile::tempdir().unwrap();
    let data = if real {
        target_dir().join("bench-data")
    } else {
        scratch.path().to_path_buf()
    };
    let (mut big, user, db) = big_store(per_month, &data);
    let p = period(MEASURED);
    let q = MonthQuery::period(p);
    let n = big.month_count(&q).unwrap();
    let total: u64 = (1..=12)
        .map(|m| big.month_count(&MonthQuery::period(period(m))).unwrap())
        .sum();
    eprintln!(
        "store: {} holds {total} invoices; measured month {p}: {n}; file {} MiB",
        db.display(),
        std::fs::metadata(&db).map(|m| m.len() >> 20).unwrap_or(0)
    );

    let mut g = c.benchmark_group("store");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(2));

    g.throughput(Throughput::Elements(1));
    g.bench_function("month_count", |b| {
        b.iter(|| assert_eq!(big.month_count(black_box(&q)).unwrap(), n))
    });
    g.throughput(Throughput::Elements(n));
    g.bench_function("month", |b| {
        b.iter(|| assert_eq!(big.month(black_box(&q)).unwrap().len() as u64, n))
    });
    let qks = MonthQuery {
        period: p,
        kind: Some(InvoiceKind::Electronic),
        state: Some(InvoiceState::Issued),
    };
    g.bench_function("month_kind_state", |b| {
        b.iter(|| assert_eq!(big.month(black_box(&qks)).unwrap().len() as u64, n))
    });
    g.bench_function("load_month", |b| {
        b.iter(|| assert_eq!(load_month(&big, p).len() as u64, n))
    });
    let rows = load_month(&big, p);
    let xlsx = scratch.path().join("export.xlsx");
    g.bench_function("export_xlsx", |b| {
        b.iter(|| assert_eq!(export(&rows, p, &xlsx) as u64, n))
    });
    drop(rows);
    eprintln!(
        "store: export of {n} invoices: {} KiB xlsx; RSS {} KiB",
        std::fs::metadata(&xlsx).map(|m| m.len() >> 10).unwrap_or(0),
        rss_kib()
    );

    let invs = invoices();
    g.throughput(Throughput::Elements(1));
    let mut next = big
        .month_count(&MonthQuery::period(period(INSERT_MONTH)))
        .unwrap() as u32;
    g.bench_function("insert_issue_at_1m", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                insert_issue(&mut big, user, &invs[next as usize % 6], INSERT_MONTH, next);
                next += 1;
            }
            // Under `Durability::Normal` the records are folded into SQLite behind the caller:
            // the time includes folding them in.
            big.settle();
            t.elapsed()
        })
    });
    drop(big);

    for (name, d) in [
        ("insert_issue_empty_normal", Durability::Normal),
        ("insert_issue_empty_full", Durability::Full),
    ] {
        // On the disk the store lives on (target/), not a tmpfs.
        let dir = tempfile::tempdir_in(&data).unwrap();
        let (mut store, user) = new_store(&dir.path().join("fresh.db"), d);
        let mut i = 0u32;
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    insert_issue(&mut store, user, &invs[i as usize % 6], 1, i);
                    i += 1;
                }
                store.settle();
                t.elapsed()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
