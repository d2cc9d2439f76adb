//! `taxdisk bench`: issue N invoices end to end as fast as the disk allows and compare with the
//! raw SM2 signing rate measured in the same run (DESIGN "Targets").
//!
//! One issue here is what the software does for an invoice, through its own
//! `Workflow::issue_batch`: check the permission (H3), compose and validate the draft (H7),
//! record it pending (H8), have the disk check, sign and journal it on flash (D5, D13), store
//! the signed record. Under the default `--durability normal` the store records both in its
//! issuing journal and folds them into SQLite behind the signing (`Store::defers_issuing`);
//! under `full` each is a SQLite commit. `--batch K` drafts go per call (pending rows in
//! one commit, requests pipelined on TCP, records in one commit); `--batch 1` is one invoice
//! per call, as at the keyboard. The drafts are the bench's input, made before each call's
//! clock starts. Uploading is left out of the issuing (automatic upload off);
//! served disks upload once their issuing ends (below). `--jobs J` runs J disks, each with its own store, on J
//! threads, after a one-disk baseline, and reports the scaling.
//!
//! Disks: `sim` makes fresh in-memory simulated disks provisioned by an in-process bureau,
//! each answering on its own thread ([`Threaded`](taxdisk_host::transport::inproc::Threaded))
//! in batches, on the caller's thread one invoice per call;
//! `tcp:ADDR` uses a `taxdisk-sim serve` disk, provisioned (if in factory state) through the
//! bureau at `--bureau URL` it was manufactured for. Several served disks (`--farm`) are a
//! farm: the first issues alone (the baseline), then all of them at once, one host thread
//! each, every disk its own machine number of the bench company. After its issuing, each
//! served disk's job uploads its events with the disk's own credential: the report gives the
//! upload lag per disk and the bureau's rate of verifying and storing them.

use crate::rig::{self, BureauClock, DiskLink, Office, Rig, RigBuilder, RigError};
use crate::wiring::{BadDiskSpec, DiskSpec};
use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::disk::{DiskClient, DiskError};
use taxdisk_host::invoice::model::{KindFields, Party};
use taxdisk_host::invoice::{Draft, LineInput};
use taxdisk_host::store::{BankAccount, Durability, Initialization, Store, UserId};
use taxdisk_host::transport::inproc::THREADED_DEPTH;
use taxdisk_host::transport::tcp::TcpTransport;
use taxdisk_host::transport::{DiskWork, Transport as _};
use taxdisk_host::workflow::Workflow;
use taxdisk_i18n::t;
use taxdisk_i18n::width::left;
use taxdisk_protocol::bureau_api::{KeyRegistered, RegisterTaxpayer};
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;

/// What the bench runs against.
#[derive(Clone, Debug)]
pub enum BenchDisk {
    /// Fresh in-memory simulators.
    Sim,
    /// Served disks (`taxdisk-sim serve`, one per server, on this machine or others) and the
    /// bureau they trust. The first is the one-disk baseline; with more than one, all of them
    /// then issue at once, one host thread each (a farm).
    Tcp {
        /// Disk addresses.
        addrs: Vec<String>,
        /// Bureau URL.
        bureau: String,
        /// Its administrator token: the bench provisions the served disk as the tax office.
        admin_token: Option<String>,
    },
}

/// Bench settings.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// The disk.
    pub disk: BenchDisk,
    /// Invoices per job.
    pub invoices: usize,
    /// Drafts per `Workflow::issue_batch` call (1: one invoice per call).
    pub batch: usize,
    /// Parallel jobs (simulated disks).
    pub jobs: usize,
    /// Where the SQLite stores go.
    pub dir: PathBuf,
    /// Draw progress bars.
    pub progress: bool,
    /// SQLite durability of the stores.
    pub durability: Durability,
    /// The simulated disks' clock (it stands still while they issue, so a run never crosses
    /// into a month whose report is not made).
    pub start: taxdisk_protocol::Timestamp,
}

/// Why the bench stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The disk refused or the link failed.
    #[error("disk: {0}")]
    Disk(#[from] DiskError),
    /// The bureau refused.
    #[error("bureau: {0}")]
    Bureau(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] taxdisk_host::store::StoreError),
    /// Composition failed (a bug in the bench's invoices).
    #[error("invoice: {0}")]
    Invoice(#[from] taxdisk_host::invoice::InvoiceError),
    /// The invoicing software refused.
    #[error("{0}")]
    Workflow(#[from] taxdisk_host::workflow::WorkflowError),
    /// Setup failed.
    #[error("{0}")]
    Setup(String),
}

/// A bench farm file that cannot be read or has a line that is not a served disk.
#[derive(Debug, thiserror::Error)]
pub enum FarmFileError {
    /// The file cannot be read.
    #[error("{}", t!("cli-bench-farm-file", path = path.display(), error = source))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a disk.
    #[error("{}", t!("cli-bench-farm-line", path = path.display(), line = line, error = source))]
    Line {
        /// The file.
        path: PathBuf,
        /// The line's number, from 1.
        line: usize,
        /// Why.
        source: BadDiskSpec,
    },
}

/// The served disks of a bench farm file: one `tcp:HOST:PORT` a line; blank lines and what
/// follows `#` are left out. A line that is not one names its number.
pub fn read_farm_file(path: &Path) -> Result<Vec<DiskSpec>, FarmFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| FarmFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let spec: DiskSpec = line.parse().map_err(|source| FarmFileError::Line {
            path: path.to_owned(),
            line: i + 1,
            source,
        })?;
        out.push(spec);
    }
    Ok(out)
}

/// One job's measurements.
#[derive(Clone, Debug)]
pub struct JobResult {
    /// The disk's serial.
    pub disk: String,
    /// Invoices issued.
    pub issued: usize,
    /// Time spent issuing (roll top-ups left out).
    pub elapsed: Duration,
    /// Per-invoice latencies (the wall time of the call that issued it), sorted.
    pub latencies: Vec<Duration>,
    /// Raw SM2 signatures made between the calls (one-disk run), and their time.
    pub raw: (u64, Duration),
    /// With a bureau to upload to (served disks): what was uploaded once issuing ended.
    pub upload: Option<UploadTiming>,
    /// The disk's own work during the issuing calls, where the disk runs in this process
    /// ([`Transport::disk_work`](taxdisk_host::transport::Transport::disk_work)): how much of
    /// the issuing time it was busy, and for how long per invoice.
    pub disk_work: Option<DiskWork>,
}

/// The upload that follows a job's issuing (served disks): every pending event sent to the
/// bureau, which verifies each signature and stores it, and the disk told of its receipt.
#[derive(Clone, Copy, Debug)]
pub struct UploadTiming {
    /// Events the bureau accepted.
    pub events: u32,
    /// When the upload began (issuing had just ended).
    pub started: Instant,
    /// How long until the last receipt was back: the upload lag of the job's last invoice.
    pub took: Duration,
}

impl UploadTiming {
    /// Events per second through the bureau.
    pub fn rate(&self) -> f64 {
        f64::from(self.events) / self.took.as_secs_f64().max(1e-9)
    }
}

impl JobResult {
    /// Invoices per second.
    pub fn rate(&self) -> f64 {
        self.issued as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0..=1) in milliseconds, as a person reads it.
    pub fn quantile_ms(&self, q: f64) -> String {
        format!("{:.2} ms", self.quantile(q).as_secs_f64() * 1000.0)
    }

    /// The latency at quantile `q` (0..=1).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[i]
    }
}

/// The whole report.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// Raw SM2 signatures per second on one core, measured in this run between the issuing
    /// calls of the one-disk run (so machine load hits both alike).
    pub raw_sign_rate: f64,
    /// The one-job run.
    pub single: JobResult,
    /// The J-job run (when jobs > 1): per-job results and the wall time of the whole farm.
    pub farm: Option<(Vec<JobResult>, Duration)>,
}

impl BenchReport {
    /// Prints the report.
    pub fn print(&self, cfg: &BenchConfig) {
        let s = &self.single;
        let mode = match cfg.durability {
            Durability::Full => t!("bench-durability-full"),
            Durability::Normal => t!("bench-durability-normal"),
        };
        // A label column of 30 display columns, then the figure.
        let row = |label: String, value: String| println!("{}{value}", left(&label, 30));
        row(t!("bench-label-durability"), mode);
        row(
            t!("bench-label-signer"),
            // The crate names stay; the words around them are the catalogue's (phrase-*).
            taxdisk_i18n::phrase(taxdisk_protocol::sign::IMPLEMENTATION),
        );
        row(
            t!("bench-label-raw"),
            t!(
                "bench-raw",
                rate = format!("{:>10.0}", self.raw_sign_rate),
                n = s.raw.0
            ),
        );
        row(
            t!("bench-label-one-disk"),
            t!(
                "bench-one-disk",
                rate = format!("{:>10.0}", s.rate()),
                percent = format!("{:.1}", 100.0 * s.rate() / self.raw_sign_rate),
                n = s.issued,
                batch = cfg.batch
            ),
        );
        row(
            t!("bench-label-latency"),
            t!(
                "bench-latency",
                p50 = s.quantile_ms(0.5),
                p99 = s.quantile_ms(0.99)
            ),
        );
        if let Some(w) = s
            .disk_work
            .filter(|_| s.issued > 0 && self.raw_sign_rate > 0.0)
        {
            let per = w.busy.as_secs_f64() * 1e6 / s.issued as f64;
            row(
                t!("bench-label-disk"),
                t!(
                    "bench-disk",
                    per = format!("{per:.1}"),
                    raw = format!("{:.1}", 1e6 / self.raw_sign_rate),
                    percent = format!(
                        "{:.1}",
                        100.0 * w.busy.as_secs_f64() / s.elapsed.as_secs_f64().max(1e-9)
                    )
                ),
            );
        }
        if let Some(u) = &s.upload {
            row(
                t!("bench-label-upload"),
                t!(
                    "bench-upload",
                    events = u.events,
                    secs = format!("{:.2}", u.took.as_secs_f64()),
                    rate = format!("{:.0}", u.rate())
                ),
            );
        }
        if let Some((jobs, _wall)) = &self.farm {
            // The jobs issue at the same time; each one's issuing time leaves out its setup
            // and top-ups, so the farm's rate is all its invoices over the longest of them.
            let total: usize = jobs.iter().map(|j| j.issued).sum();
            let longest = jobs.iter().map(|j| j.elapsed).max().unwrap_or_default();
            let rate = total as f64 / longest.as_secs_f64().max(1e-9);
            row(
                t!("bench-label-farm", jobs = jobs.len()),
                t!(
                    "bench-farm",
                    rate = format!("{rate:>10.0}"),
                    scaling = format!("{:.2}", rate / s.rate()),
                    cores = std::thread::available_parallelism()
                        .map(|n| n.get())
                        .unwrap_or(1)
                ),
            );
            // The farm's uploads overlap: the bureau's rate is all their events over the time
            // from the first upload's start to the last one's end.
            let uploads: Vec<&UploadTiming> =
                jobs.iter().filter_map(|j| j.upload.as_ref()).collect();
            if let (Some(first), Some(last)) = (
                uploads.iter().map(|u| u.started).min(),
                uploads.iter().map(|u| u.started + u.took).max(),
            ) {
                let events: u32 = uploads.iter().map(|u| u.events).sum();
                let secs = last.duration_since(first).as_secs_f64().max(1e-9);
                row(
                    t!("bench-label-farm-upload"),
                    t!(
                        "bench-upload",
                        events = events,
                        secs = format!("{secs:.2}"),
                        rate = format!("{:.0}", f64::from(events) / secs)
                    ),
                );
            }
            for j in jobs {
                let lag = j
                    .upload
                    .map(|u| {
                        t!(
                            "bench-farm-disk-lag",
                            lag = format!("{:.2} s", u.took.as_secs_f64())
                        )
                    })
                    .unwrap_or_default();
                row(
                    t!("bench-label-farm-disk", disk = j.disk.as_str()),
                    t!(
                        "bench-farm-disk",
                        rate = format!("{:>10.0}", j.rate()),
                        n = j.issued,
                        p50 = j.quantile_ms(0.5),
                        p99 = j.quantile_ms(0.99)
                    ) + &lag,
                );
            }
        }
    }
}

/// The key of [`raw_sign`]: a fixed one (the rate does not depend on it; 32 bytes of 0x42 is a
/// valid scalar), made once, as the disk makes its key once, so no key setup is timed.
pub fn raw_sign_key() -> Result<sign::Sm2SigningKey, BenchError> {
    sign::signing_key(&[0x42; 32]).map_err(|e| BenchError::Setup(e.to_string()))
}

/// Raw SM2 signing: `n` signatures of invoice-sized messages (as the disk signs: one
/// `IssuedInvoice`'s canonical bytes are about 130 bytes) with `key`, by the signer the disk
/// uses ([`sign::IMPLEMENTATION`]); answers the time. Each message is a distinct one
/// ([`sign_distinct`]), as no two invoices are alike.
pub fn raw_sign(key: &sign::Sm2SigningKey, n: u64) -> Duration {
    let mut msg = [0x5au8; 130];
    sign_distinct(key, &mut msg, n)
}

/// `n` SM2 signatures with `key` of `msg` stamped each time with the next number of a
/// process-wide count (its first 8 bytes), so no message is signed twice in a process;
/// answers the time. Signing one message over and over is not what a disk does, and it is
/// faster than signing distinct ones: with RFC 6979 the nonce, so `k·G`'s walk through the
/// base-point table, is the same every time and stays in the cache (11-12 % faster on this
/// project's machine, BENCHMARKS.md "2026-12-07 (n)").
pub fn sign_distinct(key: &sign::Sm2SigningKey, msg: &mut [u8], n: u64) -> Duration {
    static SIGNED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let first = SIGNED.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    let start = Instant::now();
    for i in first..first + n {
        stamp(msg, i);
        std::hint::black_box(sign::sign_bytes(key, std::hint::black_box(msg)));
    }
    start.elapsed()
}

/// Makes `msg` the `n`th distinct message: `n` in its first 8 bytes (little-endian), or as
/// many as it has. Every signing bench stamps its messages so ([`sign_distinct`]).
pub fn stamp(msg: &mut [u8], n: u64) {
    let len = msg.len().min(8);
    msg[..len].copy_from_slice(&n.to_le_bytes()[..len]);
}

/// The taxpayer id of the bench company, the seller of the bench invoices.
pub const BENCH_TIN: &str = "91350100M000100Y43";

fn limits() -> KindLimits {
    KindLimits {
        kind: InvoiceKind::Electronic,
        single_limit: Fen(10_000_000_000),
        offline_hours: 24 * 365,
        // The most a bureau grants: a 200,000-invoice run stays far below it.
        offline_amount: taxdisk_device_sim::bureau::MAX_OFFLINE_AMOUNT,
    }
}

impl From<RigError> for BenchError {
    fn from(e: RigError) -> BenchError {
        match e {
            RigError::Disk(d) => BenchError::Disk(d),
            RigError::Store(s) => BenchError::Store(s),
            RigError::Bureau(b) => BenchError::Bureau(b),
            other => BenchError::Setup(other.to_string()),
        }
    }
}

type Disk = crate::rig::Disk;

/// Provisions a factory disk (if it is one) as machine `machine` of the bench company (each
/// disk of a farm on one bureau its own, F6), logs in and makes sure `want` blank numbers of
/// electronic stock are loaded (the disk holds 16 rolls, so at most that many at once).
/// Answers the disk's bureau credential if it was provisioned now and `office` gave one
/// ([`rig::provision`]).
pub fn prepare(
    disk: &mut Disk,
    office: &mut dyn Office,
    serial: &DeviceSerial,
    machine: u16,
    want: u32,
) -> Result<Option<KeyRegistered>, BenchError> {
    let company = RegisterTaxpayer {
        taxpayer_id: TaxpayerId::new(BENCH_TIN).map_err(|e| BenchError::Setup(e.to_string()))?,
        company_name: CompanyName::new("基准测试有限公司")
            .map_err(|e| BenchError::Setup(e.to_string()))?,
        kinds: vec![limits()],
    };
    let credential = rig::provision(disk, office, serial, company, machine)?;
    rig::login(disk)?;
    top_up(disk, office, serial, want)?;
    Ok(credential)
}

/// Makes sure `want` blank numbers of electronic stock are loaded (at most 10,000 bought at
/// once).
pub fn top_up(
    disk: &mut Disk,
    office: &mut dyn Office,
    serial: &DeviceSerial,
    want: u32,
) -> Result<(), BenchError> {
    Ok(rig::top_up(
        disk,
        office,
        serial,
        InvoiceKind::Electronic,
        want,
    )?)
}

/// The supervisor of a bench store ([`new_store`]): the issuer (开票人) of invoices stored
/// without the workflow, which otherwise writes the logged-in user's name.
pub const BENCH_SUPERVISOR: &str = "bench";

/// A fresh store at `path` (replacing one there) with `durability`, initialized with the
/// bench supervisor (`bench` / `bench-password`); answers its id too.
pub fn new_store(path: &Path, durability: Durability) -> Result<(Store, UserId), BenchError> {
    Ok(rig::initialized_store(
        Some(path),
        durability,
        &Initialization {
            supervisor_name: BENCH_SUPERVISOR.into(),
            supervisor_password: "bench-password".into(),
            address: "厦门市思明区示例路1号".into(),
            phone: "0592-1234567".into(),
            bank_accounts: vec![BankAccount {
                bank: "示例银行".into(),
                account: "4100021234567890123".into(),
            }],
            bureau_server: "http://127.0.0.1".into(),
        },
    )?)
}

/// The `i`th bench draft, sold to `buyer`: 1 to 3 service lines at 6 %, quantities and prices
/// varying with `i`.
pub fn draft(i: usize, buyer: &TaxpayerId) -> Result<Draft, BenchError> {
    let seller = Party {
        taxpayer_id: TaxpayerId::new(BENCH_TIN).ok(),
        ..Party::named("基准测试有限公司")
    };
    let buyer = Party {
        taxpayer_id: Some(buyer.clone()),
        ..Party::named("买方有限公司")
    };
    let mut d = Draft::new(KindFields::Electronic, seller, buyer);
    let code =
        TaxClassCode::new("1090101010000000000").map_err(|e| BenchError::Setup(e.to_string()))?;
    for l in 0..(1 + i % 3) {
        d.add_line(
            &LineInput::new(&format!("服务费{l}"), code.clone(), TaxRate(600)).qty_price(
                Decimal::from(1 + (i % 7) as i64),
                Decimal::new(12_345 + l as i64, 2),
            ),
        )?;
    }
    Ok(d)
}

/// Issues `n` invoices end to end on `disk` through the invoicing software's own path
/// ([`Workflow::issue_batch`], automatic upload off), `batch` drafts per call, recording them
/// in a store at `db`. Each call's wall time is the latency of its invoices.
#[allow(clippy::too_many_arguments)]
fn issue_loop(
    disk: Disk,
    office: &mut dyn Office,
    upload_to: Option<BureauClient>,
    serial: &DeviceSerial,
    db: &Path,
    n: usize,
    batch: usize,
    durability: Durability,
    interleave_raw: bool,
    bar: &ProgressBar,
) -> Result<JobResult, BenchError> {
    let (store, _) = new_store(db, durability)?;
    let uploads = upload_to.is_some();
    let mut wf = Workflow::new(store, disk, upload_to);
    wf.set_auto_upload(false);
    let pin = Pin::new(Pin::FACTORY).map_err(|e| BenchError::Setup(e.to_string()))?;
    wf.login("bench", "bench-password", &pin)?;
    let buyer = TaxpayerId::new("110108123456789").map_err(|e| BenchError::Setup(e.to_string()))?;
    let batch = batch.max(1);
    let mut latencies = Vec::with_capacity(n);
    let mut left = wf.disk().status(InvoiceKind::Electronic)?.blank_left as usize;
    let mut timed = Duration::ZERO;
    let mut raw = (0u64, Duration::ZERO);
    let mut disk_work: Option<DiskWork> = None;
    let raw_key = raw_sign_key()?;
    let mut issued = 0;
    while issued < n {
        let k = batch.min(n - issued);
        if left < k {
            // Topping up is the bureau's and the roll loading's time, not issuing.
            top_up(wf.disk(), office, serial, (n - issued) as u32)?;
            left = wf.disk().status(InvoiceKind::Electronic)?.blank_left as usize;
        }
        // The drafts are the bench's input, made before the clock starts: a call's latency is
        // the toolkit's issuing, not the bench composing its test data (about 3 µs a draft).
        let drafts = (issued..issued + k)
            .map(|i| draft(i, &buyer))
            .collect::<Result<Vec<_>, _>>()?;
        let work_before = wf.disk().transport().disk_work();
        let t0 = Instant::now();
        for r in wf.issue_batch(drafts)? {
            r?;
        }
        let took = t0.elapsed();
        timed += took;
        if let (Some(before), Some(after)) = (work_before, wf.disk().transport().disk_work()) {
            disk_work = Some(disk_work.unwrap_or_default().plus(after.since(before)));
        }
        latencies.extend(std::iter::repeat_n(took, k));
        if interleave_raw {
            // Raw signing between the calls, a quarter as many as were issued: measured under
            // the same machine load as the issuing around it.
            let m = (k as u64).div_ceil(4);
            raw.0 += m;
            raw.1 += raw_sign(&raw_key, m);
        }
        issued += k;
        left -= k;
        bar.inc(k as u64);
    }
    latencies.sort_unstable();
    let upload = if uploads {
        let started = Instant::now();
        let r = wf.upload()?;
        Some(UploadTiming {
            events: r.accepted,
            started,
            took: started.elapsed(),
        })
    } else {
        None
    };
    // A served disk keeps a login until logout (D14): the next job on it starts clean.
    wf.logout()?;
    Ok(JobResult {
        disk: serial.to_string(),
        issued,
        elapsed: timed,
        latencies,
        raw,
        upload,
        disk_work,
    })
}

fn sim_job(i: usize, bench: &BenchConfig, bar: &ProgressBar) -> Result<JobResult, BenchError> {
    let n = bench.invoices;
    // In batches the disk answers on its own thread, as a real disk is a processor of its
    // own: the host composes and stores while it signs. One invoice per call has nothing to
    // overlap (the call waits for its one answer), so the disk answers on the caller's
    // thread, as the CLI's own commands reach it: the hop to a disk thread and back cost
    // about 4.5 futex calls and two wake-ups per invoice (BENCHMARKS.md "2026-12-07 (i)").
    // Room for the journal: 256-byte records, with slack, at least 16 MiB.
    let link = if bench.batch <= 1 {
        DiskLink::Owned
    } else {
        DiskLink::Threaded(THREADED_DEPTH)
    };
    let Rig {
        mut bureau,
        serial,
        mut disk,
        ..
    } = RigBuilder::new(&format!("6699{:08}", i))
        .seed(i as u64)
        .bureau_seed(1000 + i as u64)
        .start(bench.start)
        .bureau_clock(BureauClock::RunningFromStart)
        .flash_bytes((n * 512).max(16 << 20))
        .link(link)
        .build()?;
    prepare(&mut disk, &mut bureau, &serial, 0, n.min(10_000) as u32)?;
    issue_loop(
        disk,
        &mut bureau,
        None,
        &serial,
        &bench.dir.join(format!("bench-{i}.db")),
        n,
        bench.batch,
        bench.durability,
        i == 0,
        bar,
    )
}

/// One host issuing on the served disk at `addr`, machine `machine` of the bench company: job
/// `i` (0, the baseline, measures raw signing between its calls), its store `bench-tcp-{i}.db`.
fn tcp_job(
    i: usize,
    machine: u16,
    addr: &str,
    url: &str,
    admin_token: Option<&str>,
    cfg: &BenchConfig,
    bar: &ProgressBar,
) -> Result<JobResult, BenchError> {
    let n = cfg.invoices;
    let t = TcpTransport::connect(addr).map_err(|e| BenchError::Setup(e.to_string()))?;
    let mut disk: Disk = DiskClient::new(Box::new(t));
    let mut office = BureauClient::new(url)
        .map_err(|e| BenchError::Bureau(e.to_string()))?
        .with_admin_token(admin_token.map(str::to_owned));
    let serial = disk.info()?.serial;
    let provisioned = prepare(
        &mut disk,
        &mut office,
        &serial,
        machine,
        n.min(10_000) as u32,
    )?;
    // The disk's own credential for its uploads: the one its provisioning just answered, or
    // for a disk provisioned before (by a data folder, say) a new one from the tax office, as
    // the bench holds no other (that folder's credential then stops working).
    let credential = match provisioned {
        Some(k) => k.credential,
        None => {
            office
                .new_credential(&serial)
                .map_err(|e| BenchError::Bureau(e.to_string()))?
                .credential
        }
    };
    let uploader = BureauClient::new(url)
        .map_err(|e| BenchError::Bureau(e.to_string()))?
        .with_credential(Some(credential));
    issue_loop(
        disk,
        &mut office,
        Some(uploader),
        &serial,
        &cfg.dir.join(format!("bench-tcp-{i}.db")),
        n,
        cfg.batch,
        cfg.durability,
        i == 0,
        bar,
    )
}

fn bar(cfg: &BenchConfig, len: usize, label: &str) -> ProgressBar {
    if !cfg.progress {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
    {
        b.set_style(style.progress_chars("=> "));
    }
    b.set_message(label.to_owned());
    b
}

/// Runs the bench.
pub fn run(cfg: &BenchConfig) -> Result<BenchReport, BenchError> {
    std::fs::create_dir_all(&cfg.dir)
        .map_err(|e| BenchError::Setup(format!("{}: {e}", cfg.dir.display())))?;
    let b = bar(cfg, cfg.invoices, "1 disk");
    let single = match &cfg.disk {
        BenchDisk::Sim => sim_job(0, cfg, &b)?,
        BenchDisk::Tcp {
            addrs,
            bureau,
            admin_token,
        } => {
            let first = addrs
                .first()
                .ok_or_else(|| BenchError::Setup("no disk address".into()))?;
            tcp_job(0, 0, first, bureau, admin_token.as_deref(), cfg, &b)?
        }
    };
    b.finish_and_clear();
    let farm_size = match &cfg.disk {
        BenchDisk::Sim => cfg.jobs,
        BenchDisk::Tcp { addrs, .. } => addrs.len(),
    };
    let farm = if farm_size > 1 {
        let b = bar(cfg, cfg.invoices * farm_size, &format!("{farm_size} disks"));
        let start = Instant::now();
        let results: Vec<Result<JobResult, BenchError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..farm_size)
                .map(|i| {
                    let b = b.clone();
                    s.spawn(move || match &cfg.disk {
                        BenchDisk::Sim => sim_job(i + 1, cfg, &b),
                        BenchDisk::Tcp {
                            addrs,
                            bureau,
                            admin_token,
                        } => {
                            // The range was checked by the caller: at most 64 disks.
                            let machine = u16::try_from(i).unwrap_or(u16::MAX);
                            tcp_job(
                                i + 1,
                                machine,
                                &addrs[i],
                                bureau,
                                admin_token.as_deref(),
                                cfg,
                                &b,
                            )
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(BenchError::Setup("a bench job panicked".into())))
                })
                .collect()
        });
        let wall = start.elapsed();
        b.finish_and_clear();
        Some((results.into_iter().collect::<Result<Vec<_>, _>>()?, wall))
    } else {
        None
    };
    let raw_sign_rate = single.raw.0 as f64 / single.raw.1.as_secs_f64().max(1e-9);
    Ok(BenchReport {
        raw_sign_rate,
        single,
        farm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_signing_never_signs_one_message_twice_in_a_process() {
        let key = raw_sign_key().unwrap();
        let mut msg = [0u8; 16];
        let stamped = |m: &[u8; 16]| u64::from_le_bytes(m[..8].try_into().unwrap());
        sign_distinct(&key, &mut msg, 3);
        let first = stamped(&msg);
        sign_distinct(&key, &mut msg, 2);
        // The count goes on from call to call: the second call's messages are new ones.
        assert!(
            stamped(&msg) >= first + 2,
            "{} then {}",
            first,
            stamped(&msg)
        );
        assert_eq!(&msg[8..], &[0u8; 8], "only the stamp changes");
        // A message shorter than the stamp is stamped as far as it goes.
        let mut short = [0u8; 3];
        sign_distinct(&key, &mut short, 1);
    }

    #[test]
    fn a_disk_the_bench_provisions_keeps_the_credential_it_was_given() {
        let mut o = crate::rig::RigBuilder::new("669900000077")
            .build()
            .unwrap()
            .into_office(Store::open_in_memory().unwrap())
            .unwrap();
        let k = prepare(o.wf.disk(), &mut o.office, &o.serial, 0, 1)
            .unwrap()
            .expect("a fresh disk's credential, answered at its provisioning");
        // The credential is the disk's: the bureau sells it rolls on that alone (no other was
        // asked for, so the one it was given still works).
        let url = o.bureau.url();
        let as_disk = |credential: &str| {
            BureauClient::new(&url)
                .unwrap()
                .with_credential(Some(credential.to_owned()))
        };
        let blank = |o: &mut crate::rig::OfficeRig| {
            o.wf.disk()
                .status(InvoiceKind::Electronic)
                .unwrap()
                .blank_left
        };
        let before = blank(&mut o);
        top_up(
            o.wf.disk(),
            &mut as_disk(&k.credential),
            &o.serial,
            before + 1,
        )
        .unwrap();
        let after = blank(&mut o);
        assert!(after > before, "{before} then {after}");
        let refused = top_up(
            o.wf.disk(),
            &mut as_disk(&"0".repeat(64)),
            &o.serial,
            after + 1,
        )
        .unwrap_err()
        .to_string();
        assert!(refused.contains("bad_credential"), "{refused}");
        // Provisioned already: no credential to answer (the farm asks the tax office for one).
        assert!(
            prepare(o.wf.disk(), &mut o.office, &o.serial, 0, 1)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_farm_file_lists_its_disks_and_names_a_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("farm");
        std::fs::write(
            &path,
            "# the farm\ntcp:127.0.0.1:7461\n\n  tcp:127.0.0.1:7462  # the second\n",
        )
        .unwrap();
        assert_eq!(
            read_farm_file(&path).unwrap(),
            vec![
                DiskSpec::Tcp("127.0.0.1:7461".into()),
                DiskSpec::Tcp("127.0.0.1:7462".into())
            ]
        );
        std::fs::write(&path, "tcp:127.0.0.1:7461\nfloppy:a\n").unwrap();
        match read_farm_file(&path).unwrap_err() {
            FarmFileError::Line { line, .. } => assert_eq!(line, 2),
            other => panic!("{other}"),
        }
        assert!(matches!(
            read_farm_file(&dir.path().join("missing")).unwrap_err(),
            FarmFileError::Read { .. }
        ));
    }
}
