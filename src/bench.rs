//! `taxdisk bench`: issue N invoices end to end as fast as the disk allows and compare with the
//! raw SM2 signing rate measured in the same run (DESIGN "Targets").
//!
//! One issue here is what the software does for an invoice: compose and validate the draft
//! (H7), record it pending in SQLite (H8), have the disk check, sign and journal it on flash
//! (D5, D13), store the signed record in SQLite. Uploading is left out (it is the bureau's
//! cost, measured by the bureau bench). `--jobs J` runs J disks, each with its own store, on J
//! threads, after a one-disk baseline, and reports the scaling.
//!
//! Disks: `sim` makes fresh in-memory simulated disks provisioned by an in-process bureau;
//! `tcp:ADDR` uses a `taxdisk-sim serve` disk, provisioned (if in factory state) through the
//! bureau at `--bureau URL` it was manufactured for.

use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use taxdisk_device_sim::bureau::Bureau;
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::disk::{DiskClient, DiskError, IssueDraft};
use taxdisk_host::invoice::model::{KindFields, Party};
use taxdisk_host::invoice::{Draft, LineInput};
use taxdisk_host::store::{BankAccount, DiskRecord, Durability, Initialization, Store, UserId};
use taxdisk_host::transport::Transport;
use taxdisk_host::transport::inproc::InProcess;
use taxdisk_host::transport::tcp::TcpTransport;
use taxdisk_protocol::WireError;
use taxdisk_protocol::bureau_api::{BuyRolls, ProvisionRequest, RegisterKey, RegisterTaxpayer};
use taxdisk_protocol::checkcode::check_code;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;

/// What the bench runs against.
#[derive(Clone, Debug)]
pub enum BenchDisk {
    /// Fresh in-memory simulators.
    Sim,
    /// A served disk and the bureau it trusts.
    Tcp {
        /// Disk address.
        addr: String,
        /// Bureau URL.
        bureau: String,
    },
}

/// Bench settings.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// The disk.
    pub disk: BenchDisk,
    /// Invoices per job.
    pub invoices: usize,
    /// Parallel jobs (simulated disks).
    pub jobs: usize,
    /// Where the SQLite stores go.
    pub dir: PathBuf,
    /// Draw progress bars.
    pub progress: bool,
    /// SQLite durability of the stores.
    pub durability: Durability,
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
    /// Setup failed.
    #[error("{0}")]
    Setup(String),
}

/// One job's measurements.
#[derive(Clone, Debug)]
pub struct JobResult {
    /// Invoices issued.
    pub issued: usize,
    /// Wall time of the issue loop.
    pub elapsed: Duration,
    /// Per-invoice latencies, sorted.
    pub latencies: Vec<Duration>,
}

impl JobResult {
    /// Invoices per second.
    pub fn rate(&self) -> f64 {
        self.issued as f64 / self.elapsed.as_secs_f64().max(1e-9)
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
    /// Raw SM2 signatures per second on one core, measured in this run.
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
            Durability::Full => "synchronous=FULL: one fsync per commit",
            Durability::Normal => "synchronous=NORMAL: WAL, durable across process crashes",
        };
        println!("store durability:             {mode}");
        println!(
            "raw SM2 signing (one core):   {:>10.0} signatures/s",
            self.raw_sign_rate
        );
        println!(
            "end-to-end issue, 1 disk:     {:>10.0} invoices/s  ({:.1} % of raw signing)  p50 {:?}  p99 {:?}  [{} invoices]",
            s.rate(),
            100.0 * s.rate() / self.raw_sign_rate,
            s.quantile(0.5),
            s.quantile(0.99),
            s.issued
        );
        if let Some((jobs, wall)) = &self.farm {
            let total: usize = jobs.iter().map(|j| j.issued).sum();
            let rate = total as f64 / wall.as_secs_f64().max(1e-9);
            println!(
                "end-to-end issue, {} disks:    {:>10.0} invoices/s  (scaling x{:.2} over 1 disk, {} cores here)",
                cfg.jobs,
                rate,
                rate / s.rate(),
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            );
        }
    }
}

/// Raw SM2 signing rate over invoice-sized messages for about `budget`.
pub fn raw_sign_rate(budget: Duration) -> f64 {
    // A fixed key: the rate does not depend on it. 32 bytes of 0x42 is a valid scalar.
    let Ok(key) = sign::signing_key(&[0x42; 32]) else {
        return 0.0;
    };
    let msg = [0x5au8; 220];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..50 {
            std::hint::black_box(sign::sign_bytes(&key, std::hint::black_box(&msg)));
        }
        n += 50;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

const BENCH_TIN: &str = "91350100M000100Y43";

fn limits() -> KindLimits {
    KindLimits {
        kind: InvoiceKind::Electronic,
        single_limit: Fen(10_000_000_000),
        offline_hours: 24 * 365,
        offline_amount: Fen(i64::MAX / 4),
    }
}

/// Provisioning through either an in-process bureau or the HTTP client.
trait Office {
    fn register(&mut self, r: RegisterTaxpayer) -> Result<(), BenchError>;
    fn provision(&mut self, r: ProvisionRequest) -> Result<Signed<ProvisionToken>, BenchError>;
    fn register_key(&mut self, r: RegisterKey) -> Result<(), BenchError>;
    fn buy(&mut self, r: BuyRolls) -> Result<Vec<Signed<RollGrant>>, BenchError>;
}

impl Office for Bureau {
    fn register(&mut self, r: RegisterTaxpayer) -> Result<(), BenchError> {
        self.register_taxpayer(r)
            .map_err(|e| BenchError::Bureau(e.to_string()))
    }
    fn provision(&mut self, r: ProvisionRequest) -> Result<Signed<ProvisionToken>, BenchError> {
        Bureau::provision(self, r).map_err(|e| BenchError::Bureau(e.to_string()))
    }
    fn register_key(&mut self, r: RegisterKey) -> Result<(), BenchError> {
        Bureau::register_key(self, r).map_err(|e| BenchError::Bureau(e.to_string()))
    }
    fn buy(&mut self, r: BuyRolls) -> Result<Vec<Signed<RollGrant>>, BenchError> {
        self.buy_rolls(r)
            .map_err(|e| BenchError::Bureau(e.to_string()))
    }
}

impl Office for BureauClient {
    fn register(&mut self, r: RegisterTaxpayer) -> Result<(), BenchError> {
        self.register_taxpayer(&r)
            .map_err(|e| BenchError::Bureau(e.to_string()))
    }
    fn provision(&mut self, r: ProvisionRequest) -> Result<Signed<ProvisionToken>, BenchError> {
        BureauClient::provision(self, &r).map_err(|e| BenchError::Bureau(e.to_string()))
    }
    fn register_key(&mut self, r: RegisterKey) -> Result<(), BenchError> {
        BureauClient::register_key(self, &r).map_err(|e| BenchError::Bureau(e.to_string()))
    }
    fn buy(&mut self, r: BuyRolls) -> Result<Vec<Signed<RollGrant>>, BenchError> {
        self.buy_rolls(&r)
            .map_err(|e| BenchError::Bureau(e.to_string()))
    }
}

type Disk = DiskClient<Box<dyn Transport + Send>>;

/// Provisions a factory disk (if it is one), logs in and makes sure `want` blank numbers of
/// electronic stock are loaded (the disk holds 16 rolls, so at most that many at once).
fn prepare(
    disk: &mut Disk,
    office: &mut dyn Office,
    serial: &DeviceSerial,
    want: u32,
) -> Result<(), BenchError> {
    let info = disk.info()?;
    if info.state == DiskState::Factory {
        let tin = TaxpayerId::new(BENCH_TIN).map_err(|e| BenchError::Setup(e.to_string()))?;
        office.register(RegisterTaxpayer {
            taxpayer_id: tin.clone(),
            company_name: CompanyName::new("基准测试有限公司")
                .map_err(|e| BenchError::Setup(e.to_string()))?,
            kinds: vec![limits()],
        })?;
        let token = office.provision(ProvisionRequest {
            serial: serial.clone(),
            taxpayer_id: tin,
            machine: 0,
        })?;
        let result = disk.provision(token)?;
        office.register_key(RegisterKey {
            serial: serial.clone(),
            result,
        })?;
    }
    let pin = Pin::new(Pin::FACTORY).map_err(|e| BenchError::Setup(e.to_string()))?;
    disk.login(&pin)?;
    top_up(disk, office, serial, want)
}

fn top_up(
    disk: &mut Disk,
    office: &mut dyn Office,
    serial: &DeviceSerial,
    want: u32,
) -> Result<(), BenchError> {
    let left = disk.status(InvoiceKind::Electronic)?.blank_left;
    if left >= want {
        return Ok(());
    }
    let count = (want - left).min(10_000);
    for g in office.buy(BuyRolls {
        serial: serial.clone(),
        kind: InvoiceKind::Electronic,
        count,
    })? {
        disk.load_roll(g)?;
    }
    Ok(())
}

fn draft(i: usize, buyer: &TaxpayerId) -> Result<Draft, BenchError> {
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
    d.issuer = "bench".into();
    Ok(d)
}

/// Issues `n` invoices end to end on `disk`, recording them in a store at `db`.
fn issue_loop(
    disk: &mut Disk,
    office: &mut dyn Office,
    serial: &DeviceSerial,
    db: &Path,
    n: usize,
    durability: Durability,
    bar: &ProgressBar,
) -> Result<JobResult, BenchError> {
    let _ = std::fs::remove_file(db);
    let mut store = Store::open(db)?;
    store.set_durability(durability)?;
    let user: UserId = store.initialize(&Initialization {
        supervisor_name: "bench".into(),
        supervisor_password: "bench-password".into(),
        address: "厦门市思明区示例路1号".into(),
        phone: "0592-1234567".into(),
        bank_accounts: vec![BankAccount {
            bank: "示例银行".into(),
            account: "4100021234567890123".into(),
        }],
        bureau_server: "http://127.0.0.1".into(),
    })?;
    let buyer = TaxpayerId::new("110108123456789").map_err(|e| BenchError::Setup(e.to_string()))?;
    let mut latencies = Vec::with_capacity(n);
    let start = Instant::now();
    let mut issued = 0;
    while issued < n {
        let t0 = Instant::now();
        let inv = draft(issued, &buyer)?.validate()?;
        let request_id = taxdisk_host::disk::new_request_id();
        let period = crate::wiring::system_now().period();
        let id = store.insert_pending(user, &inv, request_id, period, None)?;
        let draft = IssueDraft::from(inv.issue_request(request_id));
        let signed = match disk.issue_with_id(request_id, draft.clone()) {
            Err(e) if e.wire_error() == Some(WireError::NoBlankNumber) => {
                top_up(disk, office, serial, (n - issued) as u32)?;
                disk.issue_with_id(request_id, draft)?
            }
            other => other?,
        };
        let b = &signed.body;
        let check = (b.kind != InvoiceKind::Special).then(|| check_code(&signed.signature));
        store.mark_issued(
            id,
            &DiskRecord {
                code: b.code.clone(),
                number: b.number,
                counter: b.counter,
                time: b.time,
                signature: signed.signature,
                check_code: check,
            },
        )?;
        latencies.push(t0.elapsed());
        issued += 1;
        bar.inc(1);
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Ok(JobResult {
        issued,
        elapsed,
        latencies,
    })
}

fn sim_job(
    i: usize,
    n: usize,
    dir: &Path,
    durability: Durability,
    bar: &ProgressBar,
) -> Result<JobResult, BenchError> {
    let mut bureau =
        Bureau::open(None, Some(1000 + i as u64)).map_err(|e| BenchError::Bureau(e.to_string()))?;
    let serial = DeviceSerial::new(&format!("6699{:08}", i))
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    let mut cfg = SimConfig::new(
        serial.clone(),
        bureau.public_key(),
        crate::wiring::system_now(),
    );
    cfg.seed = i as u64;
    // Room for the journal: 256-byte records, with slack, at least 16 MiB.
    cfg.flash_bytes = (n * 512).max(16 << 20);
    let sim = SimDisk::new(cfg).map_err(|e| BenchError::Setup(e.to_string()))?;
    let mut disk: Disk = DiskClient::new(Box::new(InProcess::new(sim)));
    prepare(&mut disk, &mut bureau, &serial, n.min(10_000) as u32)?;
    issue_loop(
        &mut disk,
        &mut bureau,
        &serial,
        &dir.join(format!("bench-{i}.db")),
        n,
        durability,
        bar,
    )
}

fn tcp_job(
    addr: &str,
    url: &str,
    n: usize,
    dir: &Path,
    durability: Durability,
    bar: &ProgressBar,
) -> Result<JobResult, BenchError> {
    let t = TcpTransport::connect(addr).map_err(|e| BenchError::Setup(e.to_string()))?;
    let mut disk: Disk = DiskClient::new(Box::new(t));
    let mut office = BureauClient::new(url).map_err(|e| BenchError::Bureau(e.to_string()))?;
    let serial = disk.info()?.serial;
    prepare(&mut disk, &mut office, &serial, n.min(10_000) as u32)?;
    issue_loop(
        &mut disk,
        &mut office,
        &serial,
        &dir.join("bench-tcp.db"),
        n,
        durability,
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
    let raw_sign_rate = raw_sign_rate(Duration::from_millis(1500));
    let b = bar(cfg, cfg.invoices, "1 disk");
    let single = match &cfg.disk {
        BenchDisk::Sim => sim_job(0, cfg.invoices, &cfg.dir, cfg.durability, &b)?,
        BenchDisk::Tcp { addr, bureau } => {
            tcp_job(addr, bureau, cfg.invoices, &cfg.dir, cfg.durability, &b)?
        }
    };
    b.finish_and_clear();
    let farm = if cfg.jobs > 1 && matches!(cfg.disk, BenchDisk::Sim) {
        let b = bar(cfg, cfg.invoices * cfg.jobs, &format!("{} disks", cfg.jobs));
        let start = Instant::now();
        let results: Vec<Result<JobResult, BenchError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..cfg.jobs)
                .map(|i| {
                    let b = b.clone();
                    s.spawn(move || sim_job(i + 1, cfg.invoices, &cfg.dir, cfg.durability, &b))
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
    Ok(BenchReport {
        raw_sign_rate,
        single,
        farm,
    })
}
