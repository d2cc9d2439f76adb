//! Upload load on `taxdisk-sim bureau` workers: the bureau figures of BENCHMARKS.md (uploads/s
//! and events verified/s, SQLite against PostgreSQL, one worker against two).
//!
//! Starts `--workers` bureau processes on one store (a SQLite file, or a PostgreSQL URL that
//! several workers may share), provisions `--disks` disks through the first, signs `--events`
//! invoices per disk beforehand, then uploads them in batches of `--batch`: one thread per disk,
//! disk i through worker i mod N, and reports the wall time.
//!
//! ```sh
//! cargo build --release -p taxdisk-device-sim --bin taxdisk-sim --example bureau_load
//! target/release/examples/bureau_load --sim target/release/taxdisk-sim --db /tmp/b.db
//! target/release/examples/bureau_load --sim target/release/taxdisk-sim \
//!     --db postgres://USER:PASS@127.0.0.1:5432/DB --workers 2
//! ```
//! The database is used as it is: give an empty one (a new file, a new database or schema).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::message::ProvisionProof;
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::*;

/// Upload load on taxdisk-sim bureau workers.
#[derive(Debug, Parser)]
struct Args {
    /// The taxdisk-sim binary.
    #[arg(long)]
    sim: PathBuf,
    /// The store: a new SQLite file, or a postgres:// URL of an empty database.
    #[arg(long)]
    db: String,
    /// Bureau processes (more than one needs PostgreSQL).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Disks uploading at once (one thread each).
    #[arg(long, default_value_t = 4)]
    disks: u16,
    /// Invoices per disk.
    #[arg(long, default_value_t = 2000)]
    events: u32,
    /// Events per upload.
    #[arg(long, default_value_t = 100)]
    batch: u32,
}

/// 2026-11-10 10:00 CST.
const NOW: Timestamp = Timestamp(1_794_276_000);
const TAXPAYER: &str = "91350100M000100Y43";

struct Worker {
    child: Child,
    url: String,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn post<B: serde::Serialize, R: serde::de::DeserializeOwned>(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
    path: &str,
    body: &B,
) -> R {
    let mut resp = agent
        .post(format!("{url}{PREFIX}{path}"))
        .header("authorization", format!("Bearer {token}"))
        .send_json(body)
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let text = resp.body_mut().read_to_string().unwrap();
    assert!(resp.status().is_success(), "POST {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn serial(m: u16) -> DeviceSerial {
    DeviceSerial::new(&format!("6612345600{m:02}")).unwrap()
}

fn main() {
    let a = Args::parse();
    if a.workers > 1 && !a.db.starts_with("postgres") {
        eprintln!("bureau_load: a SQLite file belongs to one bureau process: --workers 1");
        std::process::exit(2);
    }
    let dir = std::env::temp_dir().join(format!("bureau_load_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("admin.token");
    let workers: Vec<Worker> = (0..a.workers)
        .map(|_| {
            let mut child = Command::new(&a.sim)
                .args(["bureau", "--listen", "127.0.0.1:0", "--print-ports", "--db"])
                .arg(&a.db)
                .arg("--admin-token-file")
                .arg(&token_file)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .spawn()
                .expect("start taxdisk-sim bureau");
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
            Worker {
                child,
                url: v["bureau"].as_str().unwrap().to_owned(),
            }
        })
        .collect();
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    let ag = agent();
    let w0 = &workers[0].url;
    let _: serde_json::Value = post(&ag, w0, &token, "/admin/time", &NOW);
    let taxpayer = TaxpayerId::new(TAXPAYER).unwrap();
    let _: serde_json::Value = post(
        &ag,
        w0,
        &token,
        "/taxpayers",
        &RegisterTaxpayer {
            taxpayer_id: taxpayer.clone(),
            company_name: CompanyName::new("测试有限公司").unwrap(),
            kinds: vec![KindLimits {
                kind: InvoiceKind::Normal,
                single_limit: Fen(10_000_000),
                offline_hours: 72,
                offline_amount: Fen(100_000_000),
            }],
        },
    );
    let key: Sm2SigningKey = sign::signing_key(&[9; 32]).unwrap();
    let public_key = sign::public_key(&key);
    let mut uploads: Vec<Vec<Vec<JournalEvent>>> = Vec::new();
    for m in 0..a.disks {
        let _: Signed<ProvisionToken> = post(
            &ag,
            w0,
            &token,
            "/disks/provision",
            &ProvisionRequest {
                serial: serial(m),
                taxpayer_id: taxpayer.clone(),
                machine: m,
            },
        );
        let proof = sign::sign(
            &key,
            &ProvisionProof {
                serial: serial(m),
                public_key,
            },
        )
        .unwrap();
        let _: KeyRegistered = post(
            &ag,
            w0,
            &token,
            "/disks/register-key",
            &RegisterKey {
                serial: serial(m),
                result: ProvisionResult { public_key, proof },
            },
        );
        let grants: Vec<Signed<RollGrant>> = post(
            &ag,
            w0,
            &token,
            "/rolls/buy",
            &BuyRolls {
                serial: serial(m),
                kind: InvoiceKind::Normal,
                count: a.events,
            },
        );
        let mut events = Vec::new();
        for g in &grants {
            for i in 0..g.body.count {
                let counter = events.len() as u64 + 1;
                let body = IssuedInvoice {
                    serial: serial(m),
                    machine: m,
                    kind: InvoiceKind::Normal,
                    variant: Variant::Standard,
                    code: g.body.code.clone(),
                    number: InvoiceNumber::new(g.body.first.get() + i).unwrap(),
                    counter,
                    time: NOW,
                    request_id: [(counter % 251) as u8; 16],
                    content_digest: [1; 32],
                    buyer: None,
                    amount: Fen(10_000),
                    tax: Fen(1_300),
                    red: None,
                    oil: None,
                };
                events.push(JournalEvent::Invoice(Signed::sign(body, &key).unwrap()));
            }
        }
        uploads.push(
            events
                .chunks(a.batch as usize)
                .map(<[JournalEvent]>::to_vec)
                .collect(),
        );
    }
    let start = Instant::now();
    std::thread::scope(|s| {
        for (m, batches) in uploads.iter().enumerate() {
            let url = &workers[m % workers.len()].url;
            let token = &token;
            s.spawn(move || {
                let ag = agent();
                for b in batches {
                    let r: UploadResult = post(
                        &ag,
                        url,
                        token,
                        "/upload",
                        &Upload {
                            serial: serial(m as u16),
                            events: b.clone(),
                        },
                    );
                    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let n_uploads: usize = uploads.iter().map(Vec::len).sum();
    let n_events = u64::from(a.disks) * u64::from(a.events);
    let store = if a.db.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "{store}, {} worker(s), {} disks x {} events in uploads of {}: {:.1} s, {:.1} uploads/s, \
         {:.0} events verified and stored/s",
        a.workers,
        a.disks,
        a.events,
        a.batch,
        secs,
        n_uploads as f64 / secs,
        n_events as f64 / secs
    );
    drop(workers);
    let _ = std::fs::remove_dir_all(&dir);
}
