//! End-to-end invoice issuing against raw SM2 signing, measured in the same run (DESIGN
//! "Targets": in-process >= 90 % of raw signing, TCP loopback >= 80 %), with the stages apart so
//! a shortfall can be attributed:
//!
//! - `issue/raw_sm2_sign`: `sign::sign_bytes` over an `IssuedInvoice`'s canonical message,
//!   stamped distinct for each signature as no two invoices are alike;
//! - `issue/compose`: draft -> `validate` -> `content_digest` (host composition, H7);
//! - `issue/content_digest`: the digest alone (computed once per issue);
//! - `issue/store_pending_issued`: `insert_pending` + `mark_issued` alone (`Durability::Normal`:
//!   two journal entries, folded into SQLite by the store's background thread; each timed
//!   block ends when they are in), with pre-validated invoices and a synthetic disk record;
//!   `issue/store_pending_issued_batch`: the same with the batch calls, 64 per call;
//! - `issue/disk_inproc`, `issue/disk_tcp`: `DiskClient::issue` alone with pre-built
//!   requests (frame codec, transport, firmware checks, SM2 signature, flash journal);
//! - `issue/end_to_end_inproc`, `issue/end_to_end_tcp`: one invoice at a time: compose + store
//!   pending + disk + store issued, over `InProcess<SimDisk>` and over `TcpTransport` to a
//!   `SimDisk` served on 127.0.0.1 port 0 by `taxdisk_device_sim::serve` in this process;
//! - `issue/end_to_end_batch_inproc`, `issue/end_to_end_batch_tcp`: batches of 64 through the
//!   store's batch calls and the pipelined client directly;
//! - `issue/workflow_batch_inproc`, `issue/workflow_batch_tcp`: `Workflow::issue_batch` of 64,
//!   the software's own path and `taxdisk bench`'s (src/bench.rs).
//!
//! The store uses `Durability::Normal` (WAL, `synchronous = NORMAL`, issuing records journaled
//! and folded in behind the caller: `host/src/store/deferred/`). With the default
//! `Durability::Full` every commit is an fsync and issuing is fsync-bound (see
//! `store/insert_issue_empty_full` in benches/store.rs).
//!
//! After criterion's report, the bench prints interleaved ratios of each path: 25 blocks of 256
//! raw signatures and 256 issues alternate, so machine load hits both alike; the median block
//! ratio is the figure to compare with the targets, its quartiles the spread. Then `issue/phases` (the wall time of each phase of
//! 5,000 one-at-a-time issues with p50/p99/max, blocking I/O included, which a CPU profile
//! misses) and `issue/batch_phases` (the same per invoice for 20,000 issues in batches).
//!
//! `cargo bench --bench issue`
// Benches may unwrap: a failed setup is a broken bench, and a panic says where.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use criterion::{Criterion, Throughput, criterion_group};
use std::hint::black_box;
use std::time::{Duration, Instant};
use taxdisk_host::disk::new_request_id;
use taxdisk_host::invoice::Invoice;
use taxdisk_host::store::{DiskRecord, Durability, PendingInsert};
use taxdisk_protocol::Timestamp;
use taxdisk_protocol::checkcode::check_code;
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::types::{InvoiceCode, InvoiceNumber, Signature};

/// The disk's record of invoice `n` as the store-only benches store it (a fixed signature).
fn synthetic_record(n: u32) -> DiskRecord {
    let sig = Signature {
        r: [7; 32],
        s: [9; 32],
    };
    DiskRecord {
        code: InvoiceCode::new("035002600111").unwrap(),
        number: InvoiceNumber::new(n).unwrap(),
        counter: u64::from(n),
        time: Timestamp::now(),
        signature: sig,
        check_code: Some(check_code(&sig)),
    }
}

fn invoices() -> Vec<Invoice> {
    (0..3).map(|i| draft(i).validate().unwrap()).collect()
}

fn bench(c: &mut Criterion) {
    let (key, msg) = raw_sign_setup();
    let mut g = c.benchmark_group("issue");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(700));
    g.measurement_time(Duration::from_secs(3));

    g.bench_function("raw_sm2_sign", |b| {
        b.iter_custom(|n| raw_sign_many(&key, &msg, n))
    });

    let mut i = 0usize;
    g.bench_function("compose", |b| {
        b.iter(|| {
            let inv = draft(i).validate().unwrap();
            i += 1;
            black_box(inv.content_digest())
        })
    });

    // The content digest alone (canonical bytes + SM3): `insert_pending` and `issue_request`
    // each compute it, so an issue pays it twice.
    let inv = draft(1).validate().unwrap();
    g.bench_function("content_digest", |b| {
        b.iter(|| black_box(black_box(&inv).content_digest()))
    });

    // SQLite alone: the two commits of an issue, with synthetic disk records.
    {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, user) = new_store(&dir.path().join("stage.db"), Durability::Normal);
        let invs = invoices();
        let period = host_period();
        let mut n = 0u32;
        g.bench_function("store_pending_issued", |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    n += 1;
                    let inv = &invs[n as usize % invs.len()];
                    let id = store
                        .insert_pending(user, inv, new_request_id(), period, None)
                        .unwrap();
                    store.mark_issued(id, &synthetic_record(n)).unwrap();
                }
                // The records are folded into SQLite behind the caller: the time includes
                // folding them in.
                store.settle();
                t.elapsed()
            })
        });
    }

    // SQLite alone for a batch: one transaction for the pending rows, one for the records.
    {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, user) = new_store(&dir.path().join("stage-batch.db"), Durability::Normal);
        let invs = invoices();
        let digests: Vec<_> = invs.iter().map(|i| i.content_digest()).collect();
        let period = host_period();
        let mut n = 0u32;
        g.bench_function("store_pending_issued_batch", |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                let mut done = 0;
                while done < iters {
                    let k = (iters - done).min(BATCH as u64) as usize;
                    let items: Vec<PendingInsert<'_>> = (0..k)
                        .map(|j| PendingInsert {
                            invoice: &invs[j % invs.len()],
                            request_id: new_request_id(),
                            digest: digests[j % invs.len()],
                            red_form: None,
                        })
                        .collect();
                    let ids = store.insert_pending_batch(user, period, &items).unwrap();
                    let recs: Vec<_> = ids
                        .into_iter()
                        .map(|id| {
                            n += 1;
                            (id, synthetic_record(n))
                        })
                        .collect();
                    for r in store.mark_issued_batch(&recs).unwrap() {
                        r.unwrap();
                    }
                    done += k as u64;
                }
                store.settle();
                t.elapsed()
            })
        });
    }

    let drafts: Vec<IssueRequest> = invoices()
        .iter()
        .map(|inv| inv.issue_request([0; 16]))
        .collect();

    let mut rig = inproc_rig(1, Durability::Normal);
    g.bench_function("disk_inproc", |b| {
        b.iter_custom(|n| rig.disk_only_many(&drafts, n))
    });
    g.bench_function("end_to_end_inproc", |b| {
        b.iter_custom(|n| rig.issue_many(n))
    });
    drop(rig);

    let mut rig = tcp_rig(2, Durability::Normal);
    g.bench_function("disk_tcp", |b| {
        b.iter_custom(|n| rig.disk_only_many(&drafts, n))
    });
    g.bench_function("end_to_end_tcp", |b| b.iter_custom(|n| rig.issue_many(n)));
    drop(rig);

    // Batches: one commit for the pending rows, one for the signed records, requests
    // pipelined on TCP.
    let mut rig = inproc_rig(6, Durability::Normal);
    g.bench_function("end_to_end_batch_inproc", |b| {
        b.iter_custom(|n| rig.issue_many_batched(n, BATCH))
    });
    drop(rig);
    let mut rig = tcp_rig(7, Durability::Normal);
    g.bench_function("end_to_end_batch_tcp", |b| {
        b.iter_custom(|n| rig.issue_many_batched(n, BATCH))
    });
    drop(rig);
    let mut rig = workflow_rig(8, false, Durability::Normal);
    g.bench_function("workflow_batch_inproc", |b| {
        b.iter_custom(|n| rig.issue_many(n, BATCH))
    });
    drop(rig);
    let mut rig = workflow_rig(9, true, Durability::Normal);
    g.bench_function("workflow_batch_tcp", |b| {
        b.iter_custom(|n| rig.issue_many(n, BATCH))
    });
    drop(rig);
    g.finish();
}

/// Invoices per batch in the batch benches (`taxdisk bench`'s default `--batch`).
const BATCH: usize = 64;

/// Interleaved blocks of raw signing and end-to-end issuing, in-process and over TCP.
fn interleaved_ratios() {
    // 25 blocks of 256: four batches of 64 per block, none partial.
    const BLOCKS: usize = 25;
    const BLOCK: u64 = 256;
    let rss0 = rss_kib();
    let mut rig = inproc_rig(3, Durability::Normal);
    let t = Instant::now();
    let one = interleaved(BLOCKS, BLOCK, |n| rig.issue_many(n));
    let rss1 = rss_kib();
    // Memory while issuing: as many invoices again on the same rig.
    rig.issue_many(BLOCKS as u64 * BLOCK);
    let rss2 = rss_kib();
    println!(
        "issue/interleaved in-process: {one} (target >= 90 %; {BLOCKS} blocks of {BLOCK}, {:.1} s); \
         RSS {rss0} -> {rss1} -> {rss2} KiB",
        t.elapsed().as_secs_f64(),
    );
    drop(rig);
    let mut rig = tcp_rig(4, Durability::Normal);
    let one = interleaved(BLOCKS, BLOCK, |n| rig.issue_many(n));
    println!("issue/interleaved tcp loopback: {one} (target >= 80 %)");
    drop(rig);
    let line = |what: &str, target: u32, measured: Interleaved| {
        println!("issue/interleaved {what}: {measured} (target >= {target} %)")
    };
    let mut rig = inproc_rig(10, Durability::Normal);
    line(
        &format!("batch of {BATCH} in-process"),
        90,
        interleaved(BLOCKS, BLOCK, |n| rig.issue_many_batched(n, BATCH)),
    );
    drop(rig);
    let mut rig = tcp_rig(11, Durability::Normal);
    line(
        &format!("batch of {BATCH} tcp loopback"),
        80,
        interleaved(BLOCKS, BLOCK, |n| rig.issue_many_batched(n, BATCH)),
    );
    drop(rig);
    for (seed, tcp) in [(12, false), (13, true)] {
        let mut rig = workflow_rig(seed, tcp, Durability::Normal);
        let (what, target) = if tcp {
            ("tcp loopback", 80)
        } else {
            ("in-process", 90)
        };
        line(
            &format!("Workflow::issue_batch of {BATCH} {what}"),
            target,
            interleaved(BLOCKS, BLOCK, |n| rig.issue_many(n, BATCH)),
        );
    }
}

/// Wall time of each phase of `n` end-to-end issues (in-process), with their tails: where the
/// time goes, blocking I/O (fsync of WAL checkpoints) included, which CPU profiles miss.
fn phase_profile(n: usize) {
    let mut rig = inproc_rig(5, Durability::Normal);
    let mut phases: [Vec<Duration>; 5] = Default::default();
    let mut done = 0;
    while done < n {
        let chunk = (n - done).min(TOP_UP as usize);
        rig.top_up(chunk as u32);
        for _ in 0..chunk {
            rig.issue_one_timed(&mut phases);
        }
        done += chunk;
    }
    let total: Duration = phases.iter().flatten().sum();
    let names = [
        "compose+validate",
        "insert_pending",
        "issue_request",
        "disk issue",
        "mark_issued",
    ];
    println!("issue/phases ({n} in-process issues, wall time):");
    for (name, v) in names.iter().zip(phases.iter_mut()) {
        v.sort_unstable();
        let sum: Duration = v.iter().sum();
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        println!(
            "  {name:<17} mean {:>8.1} us  p50 {:>8.1} us  p99 {:>8.1} us  max {:>9.1} us  share {:>5.1} %",
            sum.as_secs_f64() * 1e6 / v.len() as f64,
            q(0.5).as_secs_f64() * 1e6,
            q(0.99).as_secs_f64() * 1e6,
            q(1.0).as_secs_f64() * 1e6,
            100.0 * sum.as_secs_f64() / total.as_secs_f64()
        );
    }
    println!(
        "  total             mean {:>8.1} us/invoice",
        total.as_secs_f64() * 1e6 / n as f64
    );
}

/// Wall time of each phase of `n` in-process issues in batches of [`BATCH`], per invoice, next
/// to raw signing measured right after.
fn batch_phase_profile(n: usize) {
    let mut rig = inproc_rig(14, Durability::Normal);
    let mut phases = [Duration::ZERO; 4];
    let mut done = 0;
    while done < n {
        let chunk = (n - done).min(TOP_UP as usize);
        rig.top_up(chunk as u32);
        let mut d = 0;
        while d < chunk {
            let k = BATCH.min(chunk - d);
            rig.issue_batch_timed(k, Some(&mut phases));
            d += k;
        }
        done += chunk;
    }
    let (key, msg) = raw_sign_setup();
    let raw = raw_sign_many(&key, &msg, 2_000).as_secs_f64() * 1e6 / 2_000.0;
    let total: Duration = phases.iter().sum();
    println!(
        "issue/batch_phases ({n} in-process issues in batches of {BATCH}, wall time per invoice):"
    );
    for (name, d) in [
        "compose+validate+request",
        "insert_pending_batch",
        "disk (issue_pipelined)",
        "mark_issued_batch",
    ]
    .iter()
    .zip(phases)
    {
        println!(
            "  {name:<26} {:>8.1} us  share {:>5.1} %",
            d.as_secs_f64() * 1e6 / n as f64,
            100.0 * d.as_secs_f64() / total.as_secs_f64()
        );
    }
    println!(
        "  total                      {:>8.1} us/invoice; raw SM2 signature {raw:.1} us",
        total.as_secs_f64() * 1e6 / n as f64
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // criterion's test mode (`cargo test --benches`) runs each bench once; skip the extra run.
    // Nor under `--profile-time` (profiling one bench with perf).
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--profile-time") {
        interleaved_ratios();
        phase_profile(5_000);
        batch_phase_profile(20_000);
    }
}
