//! Two `taxdisk-sim bureau` processes on one PostgreSQL database are one bureau: several disks
//! buy rolls, take tokens and upload through both at once (every batch of events through
//! both), and afterwards every invoice is stored once, every disk's counters and sequence
//! numbers run without a gap, no range of numbers was sold twice, and a red info form named by
//! two red invoices sent at once through the two workers serves one of them (FAQ 7.4).
//! Needs `TAXDISK_TEST_POSTGRES` (skipped without it, failing under `CI=true`).
#![allow(clippy::unwrap_used)]

mod bureau_support;

use bureau_support::backends::{self, Backend};
use bureau_support::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Barrier;
use taxdisk_device_sim::bureau::db::Store;
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::types::*;

/// Disks of the test taxpayer, machines 0..DISKS.
const DISKS: u16 = 4;
/// Purchases of ten numbers each disk makes (half through each worker, all at once).
const PURCHASES: u32 = 4;
/// Events each disk uploads, in batches of [`BATCH`], every batch through both workers.
const EVENTS: u64 = 30;
const BATCH: u64 = 6;

/// One `taxdisk-sim bureau` process and a JSON client for it.
struct Worker {
    child: Child,
    url: String,
    key: String,
    token: String,
    agent: ureq::Agent,
}

impl Worker {
    /// Starts a worker on the database `db` with the administrator token in `token_file`.
    fn start(db: &str, token_file: &std::path::Path, seed: u64) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_taxdisk-sim"))
            .args([
                "bureau",
                "--listen",
                "127.0.0.1:0",
                "--print-ports",
                "--db",
                db,
            ])
            .args(["--seed", &seed.to_string(), "--admin-token-file"])
            .arg(token_file)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start taxdisk-sim bureau");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("ports line {line:?}: {e}"));
        Worker {
            child,
            url: v["bureau"].as_str().unwrap().to_owned(),
            key: v["bureau_key"].as_str().unwrap().to_owned(),
            token: std::fs::read_to_string(token_file)
                .unwrap()
                .trim()
                .to_owned(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_idle_connections(0)
                .build()
                .into(),
        }
    }

    fn post<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B) -> Result<R, ApiError> {
        let mut resp = self
            .agent
            .post(&format!("{}{PREFIX}{path}", self.url))
            .header("authorization", format!("Bearer {}", self.token))
            .send_json(body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap();
        if status == 200 {
            Ok(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}")))
        } else {
            Err(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}")))
        }
    }

    fn get<R: DeserializeOwned>(&self, path: &str) -> R {
        let mut resp = self
            .agent
            .get(&format!("{}{PREFIX}{path}", self.url))
            .header("authorization", format!("Bearer {}", self.token))
            .call()
            .unwrap();
        let text = resp.body_mut().read_to_string().unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: {e}: {text}"))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn disk(m: u16) -> String {
    format!("6612345600{m:02}")
}

/// Event `counter` of the disk on machine `m`: the invoice numbered by its place in `grants`.
fn event(grants: &[RollGrant], m: u16, counter: u64) -> JournalEvent {
    let mut left = (counter - 1) as u32;
    let g = grants
        .iter()
        .find(|g| {
            let hit = left < g.count;
            if !hit {
                left -= g.count;
            }
            hit
        })
        .unwrap();
    let mut b = invoice_body(g, left, counter, nov10(), 10_000 + counter as i64);
    b.machine = m;
    signed(b)
}

/// A red special invoice of the disk on machine `m` naming `form` (the amounts of
/// bureau_red_oil's form draft).
fn red(g: &RollGrant, m: u16, counter: u64, form: &InfoFormNumber) -> JournalEvent {
    let mut b = invoice_body(g, 1, counter, nov10(), -50_000);
    b.machine = m;
    b.tax = Fen(-7_300);
    b.red = Some(RedRef::InfoForm(form.clone()));
    signed(b)
}

fn form_draft(g: &RollGrant) -> RedFormDraft {
    RedFormDraft {
        applicant: RedApplicant::Seller,
        serial: serial(&disk(0)),
        seller: tp(TAXPAYER),
        buyer: tp(OTHER_TAXPAYER),
        original: Some((g.code.clone(), g.first)),
        lines: vec![RedFormLine {
            name: "钢材".into(),
            class_code: TaxClassCode::new("1080101010000000000").unwrap(),
            quantity: "-2".into(),
            amount: Fen(-50_000),
            rate: TaxRate(1300),
            tax: Fen(-7_300),
        }],
        amount: Fen(-50_000),
        tax: Fen(-7_300),
        reason: "销货退回".into(),
    }
}

/// Runs `f(i)` for `i` in `0..n` on `n` threads released together.
fn at_once<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let start = Barrier::new(n);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let (f, start) = (&f, &start);
                s.spawn(move || {
                    start.wait();
                    f(i)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn b02_b03_b06_two_bureau_workers_on_one_postgres_are_one_bureau() {
    backends::run(Backend::Postgres, "two_bureau_workers", || {
        let Store::Postgres(url) = backends::fresh_pg_store() else {
            unreachable!("fresh_pg_store answers a PostgreSQL store")
        };
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("admin.token");
        // Both start on an empty database at once: one makes the tables and the key.
        let ws = at_once(2, |i| Worker::start(&url, &token_file, 1 + i as u64));
        let (a, b) = (&ws[0], &ws[1]);
        assert_eq!(a.key, b.key, "the first worker's key is the bureau's");
        assert_eq!(a.token, b.token);
        let w = |i: usize| &ws[i % 2];

        // The virtual time set through one worker is the other's too.
        let _: serde_json::Value = a.post("/admin/time", &nov10()).unwrap();
        assert_eq!(b.get::<Health>("/health").time, nov10());
        let _: serde_json::Value = a
            .post(
                "/taxpayers",
                &RegisterTaxpayer {
                    taxpayer_id: tp(TAXPAYER),
                    company_name: CompanyName::new("测试有限公司").unwrap(),
                    kinds: vec![limits(InvoiceKind::Normal), limits(InvoiceKind::Special)],
                },
            )
            .unwrap();
        for m in 0..DISKS {
            let s = serial(&disk(m));
            let t: Signed<ProvisionToken> = w(m as usize)
                .post(
                    "/disks/provision",
                    &ProvisionRequest {
                        serial: s.clone(),
                        taxpayer_id: tp(TAXPAYER),
                        machine: m,
                    },
                )
                .unwrap();
            assert_eq!(t.body.issued_at, nov10(), "worker {}'s clock", m % 2);
            let pk = taxdisk_protocol::sign::public_key(&disk_key());
            let proof = taxdisk_protocol::sign::sign(
                &disk_key(),
                &taxdisk_protocol::message::ProvisionProof {
                    serial: s.clone(),
                    public_key: pk,
                },
            )
            .unwrap();
            let _: KeyRegistered = w(m as usize + 1)
                .post(
                    "/disks/register-key",
                    &RegisterKey {
                        serial: s,
                        result: ProvisionResult {
                            public_key: pk,
                            proof,
                        },
                    },
                )
                .unwrap();
        }

        // B2: every disk buys through both workers at once; no range is sold twice and each
        // disk's grant sequence numbers run 1, 2, ... without a gap.
        let n = (DISKS as u32 * PURCHASES) as usize;
        let bought = at_once(n, |i| {
            let m = (i as u32 % DISKS as u32) as u16;
            let g: Vec<Signed<RollGrant>> = w(i / DISKS as usize)
                .post(
                    "/rolls/buy",
                    &BuyRolls {
                        serial: serial(&disk(m)),
                        kind: InvoiceKind::Normal,
                        count: 10,
                    },
                )
                .unwrap();
            (m, g)
        });
        let mut grants: BTreeMap<u16, Vec<RollGrant>> = BTreeMap::new();
        for (m, g) in bought {
            grants
                .entry(m)
                .or_default()
                .extend(g.into_iter().map(|s| s.body));
        }
        let mut ranges: Vec<(String, u32, u32)> = Vec::new();
        for (m, gs) in &mut grants {
            gs.sort_by_key(|g| g.seq);
            let seqs: Vec<u32> = gs.iter().map(|g| g.seq).collect();
            assert_eq!(seqs, (1..=PURCHASES).collect::<Vec<_>>(), "disk {m}");
            ranges.extend(
                gs.iter()
                    .map(|g| (g.code.as_str().to_owned(), g.first.get(), g.count)),
            );
        }
        ranges.sort();
        for p in ranges.windows(2) {
            let ((c1, f1, n1), (c2, f2, _)) = (&p[0], &p[1]);
            assert!(c1 != c2 || f1 + n1 <= *f2, "ranges overlap: {p:?}");
        }

        // B10: clock tokens for one disk through both workers at once: seqs 1..=10.
        let mut seqs: Vec<u32> = at_once(10, |i| {
            let t: Signed<ClockToken> = w(i)
                .post(
                    "/clock",
                    &ClockRequest {
                        serial: serial(&disk(0)),
                        time: nov10(),
                    },
                )
                .unwrap();
            t.body.seq
        });
        seqs.sort();
        assert_eq!(seqs, (1..=10).collect::<Vec<_>>());

        // B3: each disk sends every batch through both workers at once, in order; every
        // batch is accepted whole (new or an identical re-upload) and answered a receipt.
        let threads = DISKS as usize * 2;
        at_once(threads, |i| {
            let m = (i / 2) as u16;
            let gs = &grants[&m];
            for first in (1..=EVENTS).step_by(BATCH as usize) {
                let events = (first..first + BATCH).map(|c| event(gs, m, c)).collect();
                let r: UploadResult = w(i)
                    .post(
                        "/upload",
                        &Upload {
                            serial: serial(&disk(m)),
                            events,
                        },
                    )
                    .unwrap();
                assert_eq!(r.rejected.len(), 0, "disk {m}: {:?}", r.rejected);
                assert_eq!(r.accepted, BATCH as u32);
                assert!(r.receipt.unwrap().body.through_counter >= first + BATCH - 1);
            }
        });

        // B6: one form, two red invoices naming it sent at once by two disks of its seller
        // through the two workers: one is stored, the other refused `form_used`.
        let special: Vec<RollGrant> = (0..2)
            .map(|m| {
                let g: Vec<Signed<RollGrant>> = w(m)
                    .post(
                        "/rolls/buy",
                        &BuyRolls {
                            serial: serial(&disk(m as u16)),
                            kind: InvoiceKind::Special,
                            count: 5,
                        },
                    )
                    .unwrap();
                let g = g[0].body.clone();
                let mut blue = invoice_body(&g, 0, EVENTS + 1, nov10(), 50_000);
                blue.machine = m as u16;
                let r: UploadResult = w(m)
                    .post(
                        "/upload",
                        &Upload {
                            serial: serial(&disk(m as u16)),
                            events: vec![signed(blue)],
                        },
                    )
                    .unwrap();
                assert_eq!(r.accepted, 1, "{:?}", r.rejected);
                g
            })
            .collect();
        let form: RedForm = a.post("/red-forms", &form_draft(&special[0])).unwrap();
        let results = at_once(2, |m| {
            let r: UploadResult = w(m)
                .post(
                    "/upload",
                    &Upload {
                        serial: serial(&disk(m as u16)),
                        events: vec![red(&special[m], m as u16, EVENTS + 2, &form.number)],
                    },
                )
                .unwrap();
            r
        });
        let accepted: u32 = results.iter().map(|r| r.accepted).sum();
        let refused: Vec<&str> = results
            .iter()
            .flat_map(|r| r.rejected.iter().map(|x| x.code.as_str()))
            .collect();
        assert_eq!((accepted, refused), (1, vec!["form_used"]));

        // What the database holds: each disk's events 1..=last once, one invoice per event.
        let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        for m in 0..DISKS {
            let s = disk(m);
            // Disks 0 and 1 added a blue special invoice and, if theirs was the one taken,
            // the red one.
            let last = match m {
                0 | 1 => EVENTS + 1 + u64::from(results[m as usize].accepted),
                _ => EVENTS,
            };
            let d: DiskRecord = w(m as usize).get(&format!("/disks/{s}"));
            assert_eq!(d.through_counter, last, "disk {s}");
            let counters: Vec<i64> = db
                .query(
                    "SELECT counter FROM events WHERE serial = $1 ORDER BY counter",
                    &[&s],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            assert_eq!(counters, (1..=last as i64).collect::<Vec<_>>(), "disk {s}");
            let inv: i64 = db
                .query_one("SELECT COUNT(*) FROM invoices WHERE serial = $1", &[&s])
                .unwrap()
                .get(0);
            assert_eq!(inv as u64, last, "disk {s}: one invoice per event");
        }
        let used: i64 = db
            .query_one(
                "SELECT COUNT(*) FROM invoices WHERE red_form = $1",
                &[&form.number.as_str()],
            )
            .unwrap()
            .get(0);
        assert_eq!(used, 1, "one form, one red invoice");
        let overlaps: i64 = db
            .query_one(
                "SELECT COUNT(*) FROM grants g JOIN grants h ON g.code = h.code
                 AND (g.serial, g.seq) <> (h.serial, h.seq)
                 AND g.first < h.first + h.count AND h.first < g.first + g.count",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(overlaps, 0, "no range sold twice");
    });
}
