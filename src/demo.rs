//! `taxdisk demo`: a whole month of a company's invoicing against the embedded simulator and
//! bureau, nothing to start by hand. The tax office provisions the disk (初始发行) and grants
//! oil dealing; the company initializes the software, adds invoicers, products and customers,
//! reads rolls, and issues a realistic mix of every kind day by day (discounts, sales lists,
//! purchase and export variants, oil, reds, voids, a blank void); mid-month the network goes
//! down and the disk's offline limit stops issuing until it comes back and uploads; the next
//! month begins, the first login reports the period, the declaration is made and the card is
//! cleared. At the end: a summary table and the files written.
//!
//! Everything runs on a virtual clock (disk and bureau), so a month takes seconds, and the same
//! `--seed` gives the same invoices.

use crate::tables::kind_name;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use taxdisk_device_sim::bureau::http::lock;
use taxdisk_device_sim::bureau::rolls::ROLL_SIZE;
use taxdisk_device_sim::bureau::{Bureau, BureauServer, spawn};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::disk::DiskClient;
use taxdisk_host::export::{ListLayout, Margins};
use taxdisk_host::invoice::model::{
    KindFields, MotorVehicleFields, Party, UsedCarFields, UsedCarIssuer,
};
use taxdisk_host::invoice::{Discount, Draft, LineInput, apply_discount};
use taxdisk_host::store::{
    Action, BankAccount, Durability, Initialization, InvoiceId, InvoiceState, MonthQuery,
    NewCustomer, NewProduct, Store,
};
use taxdisk_host::transport::Transport;
use taxdisk_host::transport::inproc::{InProcess, Shared};
use taxdisk_host::workflow::{Workflow, WorkflowError};
use taxdisk_i18n::width::{left, right, width};
use taxdisk_i18n::{Localize, t};
use taxdisk_protocol::bureau_api::{RegisterTaxpayer, UpdateRequest};
use taxdisk_protocol::time::{CivilTime, Period, Timestamp};
use taxdisk_protocol::types::*;

/// Demo settings.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// About how many invoices to issue in the month.
    pub invoices: usize,
    /// Seed of every random choice (and of the disk's and bureau's keys).
    pub seed: u64,
    /// Output folder (emptied of the demo's own files first).
    pub out: PathBuf,
    /// When the month starts (the disk's and the bureau's clock): the month run is this
    /// time's period, from this day and time to its last day ([`demo_start`]).
    pub start: Timestamp,
    /// Draw a progress bar.
    pub progress: bool,
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A workflow step failed where the demo did not expect it.
    #[error("{step}: {source}")]
    Workflow {
        /// What the demo was doing.
        step: String,
        /// The error.
        source: WorkflowError,
    },
    /// Setting up the simulator, bureau, store or files failed.
    #[error("setup: {0}")]
    Setup(String),
}

trait Step<T> {
    fn step(self, what: &str) -> Result<T, DemoError>;
}

impl<T, E: Into<WorkflowError>> Step<T> for Result<T, E> {
    fn step(self, what: &str) -> Result<T, DemoError> {
        self.map_err(|e| DemoError::Workflow {
            step: what.to_owned(),
            source: e.into(),
        })
    }
}

fn setup<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> Result<T, DemoError> {
    r.map_err(|e| DemoError::Setup(format!("{what}: {e}")))
}

/// The disk's serial: the one the CLI manufactures its in-process disk with, so the demo's
/// output folder is a data folder every `taxdisk --data` command opens (the firmware derives
/// the PIN check from the serial, which the simulator is given, not the image).
const SERIAL: &str = crate::wiring::DEFAULT_SERIAL;
const TAXPAYER: &str = "91350200MA2XY1234B";
const COMPANY: &str = "厦门鹭岛科技贸易有限公司";
const ADMIN: &str = "陈主管";
const ADMIN_PW: &str = "demo-admin-2026";
const CLERK: &str = "李会计";
const CLERK_PW: &str = "demo-clerk-2026";
const CASHIER: &str = "王出纳";
const CASHIER_PW: &str = "demo-cashier-2026";

/// The kinds in the demo's mix, with weights in percent.
const MIX: [(InvoiceKind, u32); 6] = [
    (InvoiceKind::Electronic, 36),
    (InvoiceKind::Normal, 24),
    (InvoiceKind::Special, 20),
    (InvoiceKind::Roll, 10),
    (InvoiceKind::MotorVehicle, 5),
    (InvoiceKind::UsedCar, 5),
];

struct Product {
    name: &'static str,
    class: &'static str,
    rate: u16,
    unit: &'static str,
    spec: &'static str,
    price: &'static str,
}

const GOODS: [Product; 8] = [
    Product {
        name: "打印纸",
        class: "1060106010000000000",
        rate: 1300,
        unit: "箱",
        spec: "A4 70g",
        price: "120",
    },
    Product {
        name: "签字笔",
        class: "1060302010000000000",
        rate: 1300,
        unit: "盒",
        spec: "0.5mm",
        price: "25",
    },
    Product {
        name: "笔记本电脑",
        class: "1090511010000000000",
        rate: 1300,
        unit: "台",
        spec: "14英寸",
        price: "5200",
    },
    Product {
        name: "显示器",
        class: "1090512010000000000",
        rate: 1300,
        unit: "台",
        spec: "27英寸",
        price: "1299",
    },
    Product {
        name: "技术服务费",
        class: "3040201000000000000",
        rate: 600,
        unit: "次",
        spec: "",
        price: "3000",
    },
    Product {
        name: "软件维护费",
        class: "3040203000000000000",
        rate: 600,
        unit: "年",
        spec: "",
        price: "12000",
    },
    Product {
        name: "运输服务",
        class: "3010101020000000000",
        rate: 900,
        unit: "次",
        spec: "",
        price: "800",
    },
    Product {
        name: "网络设备",
        class: "1090513010000000000",
        rate: 1300,
        unit: "台",
        spec: "24口",
        price: "2680",
    },
];
const RICE: Product = Product {
    name: "大米",
    class: "1010101010000000000",
    rate: 0,
    unit: "吨",
    spec: "",
    price: "3800",
};
const EXPORT: Product = Product {
    name: "出口机电产品",
    class: "1090201010000000000",
    rate: 0,
    unit: "台",
    spec: "",
    price: "8600",
};
const GASOLINE: Product = Product {
    name: "汽油",
    class: "1070101010100000000",
    rate: 1300,
    unit: "升",
    spec: "92号",
    price: "7.5",
};
const CAR: Product = Product {
    name: "小型轿车",
    class: "1090305010000000000",
    rate: 1300,
    unit: "辆",
    spec: "",
    price: "150000",
};
const USED_CAR: Product = Product {
    name: "二手轿车",
    class: "1090305020000000000",
    rate: 300,
    unit: "辆",
    spec: "",
    price: "68000",
};
/// Oil category of gasoline on the disk (D11).
const GASOLINE_CATEGORY: OilCategory = 1;

const BUYERS: [(&str, &str); 6] = [
    ("福州闽江贸易有限公司", "91350100MA34ABCD13"),
    ("泉州海丝物流有限公司", "91350500717890123E"),
    ("漳州九龙江食品有限公司", "110108123456789"),
    ("莆田木兰溪建材有限公司", "11010812345678901"),
    ("南平武夷山茶业有限公司", "11010812345678901234"),
    ("宁德三都澳海产有限公司", "91350800MA2Y6NQ4TW"),
];

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or(Decimal::ZERO)
}

fn at(p: Period, day: u8, hour: u8, minute: u8) -> Timestamp {
    Timestamp::from_civil(CivilTime {
        year: p.year,
        month: p.month,
        day,
        hour,
        minute,
        second: 0,
    })
}

/// The demo's default month when neither is given: fixed, so a plain `taxdisk demo` gives the
/// same output on every date.
pub const DEFAULT_MONTH: Period = match Period::new(2026, 11) {
    Some(p) => p,
    None => panic!("202611 is a period"),
};

/// `--start-time` and `--month` that do not agree.
#[derive(Debug, thiserror::Error)]
#[error("--start-time {start} falls in period {}, not in --month {month}", start.period())]
pub struct StartOutsideMonth {
    start: Timestamp,
    month: Period,
}

/// When the demo's month starts: `start` when given (it must fall in `month` when both are
/// given), else 08:30 China time on the first day of `month` (default [`DEFAULT_MONTH`]).
pub fn demo_start(
    month: Option<Period>,
    start: Option<Timestamp>,
) -> Result<Timestamp, StartOutsideMonth> {
    match (month, start) {
        (Some(month), Some(start)) if start.period() != month => {
            Err(StartOutsideMonth { start, month })
        }
        (_, Some(start)) => Ok(start),
        (m, None) => Ok(at(m.unwrap_or(DEFAULT_MONTH), 1, 8, 30)),
    }
}

/// Minutes after midnight of the working day's first and last invoice: 09:00 to 18:00, or on
/// the first day of a run that starts later, from a minute after the start to at least an
/// hour later (23:59 at the latest).
fn working_minutes(day: u8, start: CivilTime) -> (u32, u32) {
    const OPEN: u32 = 9 * 60;
    const CLOSE: u32 = 18 * 60;
    const LAST: u32 = 23 * 60 + 59;
    if day != start.day {
        return (OPEN, CLOSE);
    }
    let begin = (start.hour as u32 * 60 + start.minute as u32 + 1).clamp(OPEN, LAST);
    (begin, CLOSE.max(begin + 60).min(LAST))
}

fn days_in(p: Period) -> u8 {
    ((p.end().0 - p.start().0) / 86_400) as u8
}

/// Everything the demo measured and met.
#[derive(Debug, Default)]
pub struct DemoReport {
    /// The month run.
    pub month: Option<Period>,
    /// Per kind: (count, amount, tax) by state, from the store after the month.
    pub by_kind: BTreeMap<String, KindTally>,
    /// Refusals met, by message, with counts.
    pub refusals: BTreeMap<String, usize>,
    /// Issues and their time inside `Workflow::issue` (validation, SQLite, disk signing,
    /// automatic upload).
    pub issue_count: usize,
    /// Time inside issue calls.
    pub issue_time: Duration,
    /// Notable steps, in order.
    pub steps: Vec<String>,
    /// Files written.
    pub files: Vec<(String, PathBuf)>,
    /// Wall time.
    pub wall: Duration,
}

/// Counts and sums of one kind.
#[derive(Debug, Default, Clone)]
pub struct KindTally {
    /// Issued and acknowledged by the bureau.
    pub uploaded: usize,
    /// Issued, not yet uploaded.
    pub issued: usize,
    /// Voided.
    pub voided: usize,
    /// Red invoices among them.
    pub red: usize,
    /// Tax-excluded sum of the not voided ones.
    pub amount: Fen,
    /// Tax sum of the not voided ones.
    pub tax: Fen,
}

impl DemoReport {
    fn step(&mut self, s: String) {
        self.steps.push(s);
    }

    /// Counts a refusal by its message in the process's language.
    fn refused(&mut self, e: &WorkflowError) {
        *self.refusals.entry(e.localized()).or_default() += 1;
    }

    /// Prints the summary table.
    pub fn print(&self) {
        let month = self.month.map(|m| m.to_string()).unwrap_or_default();
        println!();
        println!("{}", t!("demo-title", month = month, company = COMPANY));
        for s in &self.steps {
            println!("  - {s}");
        }
        println!();
        // Columns at least as wide as the English layout, wider for a wider Chinese name.
        let head = [
            t!("col-kind"),
            t!("demo-col-uploaded"),
            t!("demo-col-pending"),
            t!("demo-col-voided"),
            t!("demo-col-red"),
            t!("demo-col-amount"),
            t!("demo-col-tax"),
        ];
        let first = self
            .by_kind
            .keys()
            .map(|k| width(&kind_text(k)))
            .chain([16, width(&head[0])])
            .max()
            .unwrap_or(16);
        let cols = [first, 9, 9, 7, 6, 16, 14];
        let line = |cells: [String; 7]| {
            let mut out = left(&cells[0], cols[0]);
            for (cell, c) in cells.iter().zip(cols).skip(1) {
                out.push(' ');
                out.push_str(&right(cell, c.max(width(cell))));
            }
            out
        };
        println!("{}", line(head.clone()));
        let mut total = KindTally::default();
        for (k, t) in &self.by_kind {
            println!(
                "{}",
                line([
                    kind_text(k),
                    t.uploaded.to_string(),
                    t.issued.to_string(),
                    t.voided.to_string(),
                    t.red.to_string(),
                    t.amount.to_string(),
                    t.tax.to_string(),
                ])
            );
            total.uploaded += t.uploaded;
            total.issued += t.issued;
            total.voided += t.voided;
            total.red += t.red;
            total.amount = total.amount.saturating_add(t.amount);
            total.tax = total.tax.saturating_add(t.tax);
        }
        println!(
            "{}",
            line([
                t!("demo-total"),
                total.uploaded.to_string(),
                total.issued.to_string(),
                total.voided.to_string(),
                total.red.to_string(),
                total.amount.to_string(),
                total.tax.to_string(),
            ])
        );
        println!();
        let rate = self.issue_count as f64 / self.issue_time.as_secs_f64().max(1e-9);
        // One invoice per call with an upload to the bureau after each (as a company online
        // works): not a signing-speed figure. `taxdisk bench` measures that against the raw
        // signer, interleaved in the same run.
        println!(
            "{}",
            t!(
                "demo-issuing",
                n = self.issue_count,
                rate = format!("{rate:.0}")
            )
        );
        println!();
        println!("{}", t!("demo-refusals"));
        if self.refusals.is_empty() {
            println!("  {}", t!("demo-none"));
        }
        for (msg, n) in &self.refusals {
            println!("  {n:>5} x {msg}");
        }
        println!();
        println!("{}", t!("demo-files"));
        let what_col = self
            .files
            .iter()
            .map(|(w, _)| width(w))
            .fold(22, usize::max);
        for (what, p) in &self.files {
            println!("  {} {}", left(what, what_col), p.display());
        }
        println!();
        println!(
            "{}",
            t!(
                "demo-done",
                secs = format!("{:.1}", self.wall.as_secs_f64())
            )
        );
    }
}

/// The running world.
struct World {
    wf: Workflow,
    sim: Arc<Mutex<SimDisk>>,
    server: BureauServer,
    online: BureauClient,
    rng: ChaCha8Rng,
    seller: Party,
    buyers: Vec<Party>,
    report: DemoReport,
    /// Issued this month: (id, kind, has oil, has discount).
    issued: Vec<(InvoiceId, InvoiceKind, bool, bool)>,
    /// First invoice of each kind, to print.
    first: BTreeMap<InvoiceKind, InvoiceId>,
    /// What the issued drafts carried: discount, sales list, purchase, export, oil.
    mix: [usize; 5],
    /// Blank numbers left per kind, as bought and used (the disk holds at most 16 rolls, D4,
    /// so a large month buys as it goes, as a company does).
    blank: BTreeMap<InvoiceKind, u32>,
    /// Whether the bureau answers (rolls are bought online).
    online_now: bool,
    /// Rolls bought during the month, beyond the first purchase.
    restocks: usize,
}

impl World {
    fn set_time(&mut self, t: Timestamp) -> Result<(), DemoError> {
        if let Ok(mut s) = self.sim.lock() {
            s.set_time(t);
        }
        setup(lock(&self.server.bureau()).set_time(t), "bureau clock")
    }

    fn buyer(&mut self) -> Party {
        let i = self.rng.random_range(0..self.buyers.len());
        self.buyers[i].clone()
    }

    /// A realistic draft of `kind`; answers the draft, whether it carries oil and a discount.
    fn draft(&mut self, kind: InvoiceKind, oil_ok: bool) -> Result<(Draft, bool, bool), DemoError> {
        let buyer = self.buyer();
        let mut oil = false;
        let mut discount = false;
        let fields = match kind {
            InvoiceKind::Special => KindFields::Special,
            InvoiceKind::Normal => {
                let r = self.rng.random_range(0..100);
                KindFields::Normal(if r < 4 {
                    Variant::Purchase
                } else if r < 8 {
                    Variant::Export
                } else {
                    Variant::Standard
                })
            }
            InvoiceKind::Electronic => KindFields::Electronic,
            InvoiceKind::Roll => KindFields::Roll,
            InvoiceKind::MotorVehicle => KindFields::MotorVehicle(Box::new(MotorVehicleFields {
                buyer_id_number: "350203199001011234".into(),
                vehicle_type: "轿车".into(),
                brand_model: "吉利 MR7152".into(),
                origin: "宁波".into(),
                certificate_number: format!("WAB{:09}", self.rng.random_range(0..1_000_000_000u32)),
                engine_number: format!("E{:07}", self.rng.random_range(0..10_000_000u32)),
                vin: format!("LB37624S{:09}", self.rng.random_range(0..1_000_000_000u32)),
                passengers: Some(5),
                tax_office: "国家税务总局厦门市思明区税务局 13502030000".into(),
                ..MotorVehicleFields::default()
            })),
            InvoiceKind::UsedCar => KindFields::UsedCar(Box::new(UsedCarFields {
                issuer_role: UsedCarIssuer::Market,
                car_seller: Party::named("张三"),
                plate: format!("闽D{:05}", self.rng.random_range(0..100_000u32)),
                registration_number: format!("3502{:08}", self.rng.random_range(0..100_000_000u32)),
                vin: format!("LSVAA4182E{:07}", self.rng.random_range(0..10_000_000u32)),
                vehicle_type: "轿车".into(),
                brand_model: "大众 SVW7182".into(),
                transfer_office: "厦门市车管所".into(),
                market: Some(self.seller.clone()),
                ..UsedCarFields::default()
            })),
        };
        let variant = fields.variant();
        let mut d = Draft::new(fields, self.seller.clone(), buyer);
        d.issuer = CLERK.into();
        d.payee = CASHIER.into();
        d.reviewer = ADMIN.into();
        match kind {
            InvoiceKind::MotorVehicle => {
                let li = line(&CAR, 1)?;
                d.add_line(&li).step("compose")?;
            }
            InvoiceKind::UsedCar => {
                let li = line(&USED_CAR, 1)?;
                d.add_line(&li).step("compose")?;
            }
            _ if variant == Variant::Purchase => {
                let li = line(&RICE, self.rng.random_range(1..6))?;
                d.add_line(&li).step("compose")?;
            }
            _ if variant == Variant::Export => {
                let li = line(&EXPORT, self.rng.random_range(1..20))?;
                d.add_line(&li).step("compose")?;
            }
            InvoiceKind::Special | InvoiceKind::Normal
                if oil_ok && self.rng.random_range(0..100) < 6 =>
            {
                let litres = self.rng.random_range(200..2000u32);
                let li = line(&GASOLINE, litres)?;
                d.add_line(&li).step("compose")?;
                d.oil = Some(OilUse {
                    category: GASOLINE_CATEGORY,
                    milli_quantity: i64::from(litres) * 1000,
                });
                oil = true;
            }
            InvoiceKind::Roll => {
                // Roll invoices are small retail sales (the roll kind's single limit is low).
                for _ in 0..self.rng.random_range(1..4) {
                    let p = &GOODS[self.rng.random_range(0..2)];
                    let li = line(p, self.rng.random_range(1..5))?;
                    d.add_line(&li).step("compose")?;
                }
            }
            _ => {
                let list = self.rng.random_range(0..100) < 5;
                let n = if list {
                    self.rng.random_range(9..25)
                } else {
                    self.rng.random_range(1..5)
                };
                for _ in 0..n {
                    let p = &GOODS[self.rng.random_range(0..GOODS.len())];
                    let li = line(p, self.rng.random_range(1..6))?;
                    d.add_line(&li).step("compose")?;
                }
                d.sales_list = list;
                if !list && self.rng.random_range(0..100) < 10 {
                    let pct = Decimal::from(self.rng.random_range(2..15u32));
                    apply_discount(&mut d, 1, 1, Discount::Rate(pct)).step("discount")?;
                    discount = true;
                }
            }
        }
        Ok((d, oil, discount))
    }

    fn issue(&mut self, d: Draft) -> Result<taxdisk_host::workflow::Issued, WorkflowError> {
        let kind = d.kind();
        self.restock(kind, 1)?;
        let t0 = Instant::now();
        let r = self.wf.issue(d);
        self.report.issue_time += t0.elapsed();
        if r.is_ok() {
            self.report.issue_count += 1;
            self.used(kind, 1);
        }
        r
    }

    /// Buys a roll of `kind` when fewer than a working day's worth is left (online only:
    /// offline, issuing goes on until the numbers run out, FAQ 4.8).
    fn restock(&mut self, kind: InvoiceKind, need: u32) -> Result<(), WorkflowError> {
        const LOW: u32 = 60;
        let left = self.blank.get(&kind).copied().unwrap_or(0);
        if left >= LOW.max(need) || !self.online_now {
            return Ok(());
        }
        let rolls = self.wf.buy_rolls(kind, ROLL_SIZE)?;
        let got: u32 = rolls
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.left())
            .sum();
        self.blank.insert(kind, got);
        self.restocks += 1;
        Ok(())
    }

    fn used(&mut self, kind: InvoiceKind, n: u32) {
        if let Some(left) = self.blank.get_mut(&kind) {
            *left = left.saturating_sub(n);
        }
    }
}

fn line(p: &Product, qty: u32) -> Result<LineInput, DemoError> {
    let code = setup(TaxClassCode::new(p.class), "class code")?;
    let mut li = LineInput::new(p.name, code, TaxRate(p.rate))
        .qty_price(Decimal::from(qty), dec(p.price))
        .spec_unit(p.spec, p.unit);
    if p.rate == 0 {
        li = li.zero_flag(if p.name == EXPORT.name {
            ZeroRateFlag::ExportRefund
        } else {
            ZeroRateFlag::TaxFree
        });
    }
    Ok(li)
}

fn pick_kind(rng: &mut ChaCha8Rng) -> InvoiceKind {
    let mut r = rng.random_range(0..100);
    for (k, w) in MIX {
        if r < w {
            return k;
        }
        r -= w;
    }
    InvoiceKind::Electronic
}

/// Runs the demo.
pub fn run(cfg: &DemoConfig) -> Result<DemoReport, DemoError> {
    let started = Instant::now();
    let out = &cfg.out;
    setup(std::fs::create_dir_all(out.join("print")), "output folder")?;
    for f in [
        "taxdisk.db",
        "taxdisk.db-wal",
        "taxdisk.db-shm",
        "disk.img",
        "bureau.db",
        "bureau.db-wal",
        "bureau.db-shm",
    ] {
        let _ = std::fs::remove_file(out.join(f));
    }
    let t_start = cfg.start;
    let month = t_start.period();

    // The tax office: the embedded bureau over HTTP on 127.0.0.1 port 0, state in SQLite.
    let mut bureau = setup(
        Bureau::open(Some(&out.join("bureau.db")), Some(cfg.seed)),
        "bureau",
    )?;
    setup(bureau.set_time(t_start), "bureau clock")?;
    let bureau_key = bureau.public_key();
    let addr: SocketAddr = setup("127.0.0.1:0".parse(), "address")?;
    let server = setup(spawn(bureau, addr), "bureau server")?;
    // The demo's company and its tax office are one process: the client holds the server's
    // administrator token for registration, declaration and the month's online change.
    let online = setup(BureauClient::new(&server.url()), "bureau client")?
        .with_admin_token(Some(server.admin_token().to_owned()));

    // The disk: the simulator in-process with its flash image in the output folder.
    let serial = setup(DeviceSerial::new(SERIAL), "serial")?;
    let mut sc = SimConfig::new(serial.clone(), bureau_key, t_start);
    sc.seed = cfg.seed;
    sc.image = Some(out.join("disk.img"));
    sc.flash_bytes = (cfg.invoices * 2 * 256).max(8 << 20);
    let sim = Arc::new(Mutex::new(setup(SimDisk::new(sc), "simulated disk")?));
    let t: Box<dyn Transport + Send> = Box::new(InProcess::new(Shared(sim.clone())));
    let disk = DiskClient::new(t);

    // The software's database.
    let mut store = setup(Store::open(out.join("taxdisk.db")), "store")?;
    setup(store.set_durability(Durability::Normal), "store durability")?;
    let wf = Workflow::new(store, disk, Some(online.clone()));

    let mut w = World {
        wf,
        sim,
        server,
        online,
        rng: ChaCha8Rng::seed_from_u64(cfg.seed),
        seller: Party::default(),
        buyers: Vec::new(),
        report: DemoReport {
            month: Some(month),
            ..DemoReport::default()
        },
        issued: Vec::new(),
        first: BTreeMap::new(),
        mix: [0; 5],
        blank: BTreeMap::new(),
        online_now: true,
        restocks: 0,
    };

    // H1: initialization with the connection test.
    let admin =
        w.wf.initialize(&Initialization {
            supervisor_name: ADMIN.into(),
            supervisor_password: ADMIN_PW.into(),
            address: "厦门市思明区软件园二期观日路 8 号".into(),
            phone: "0592-5551234".into(),
            bank_accounts: vec![
                BankAccount {
                    bank: "中国工商银行厦门软件园支行".into(),
                    account: "4100021209200123456".into(),
                },
                BankAccount {
                    bank: "中国建设银行厦门分行".into(),
                    account: "35101560001052512345".into(),
                },
            ],
            bureau_server: w.server.url(),
        })
        .step("initialize (H1)")?;

    // D1/B1: the tax office provisions the disk for all six kinds.
    let limit = |kind, single: i64| KindLimits {
        kind,
        single_limit: Fen(single),
        offline_hours: 72,
        offline_amount: Fen(200_000_000),
    };
    let reg = RegisterTaxpayer {
        taxpayer_id: setup(TaxpayerId::new(TAXPAYER), "taxpayer id")?,
        company_name: setup(CompanyName::new(COMPANY), "company name")?,
        kinds: vec![
            limit(InvoiceKind::Special, 100_000_000),
            limit(InvoiceKind::Normal, 100_000_000),
            limit(InvoiceKind::Electronic, 100_000_000),
            limit(InvoiceKind::Roll, 1_000_000),
            limit(InvoiceKind::MotorVehicle, 100_000_000),
            limit(InvoiceKind::UsedCar, 100_000_000),
        ],
    };
    let info = w.wf.provision_disk(&reg, 0).step("provision (D1)")?;
    w.report.step(t!(
        "demo-provisioned",
        serial = info.serial,
        company = COMPANY,
        tin = TAXPAYER
    ));

    // H2/H3: invoicers with per-kind permissions.
    let clerk = setup(
        w.wf.store_mut().add_invoicer(admin, CLERK, CLERK_PW),
        "add invoicer",
    )?;
    let cashier = setup(
        w.wf.store_mut().add_invoicer(admin, CASHIER, CASHIER_PW),
        "add invoicer",
    )?;
    for k in InvoiceKind::ALL {
        for a in Action::ALL {
            setup(w.wf.store_mut().grant(admin, clerk, k, a), "grant")?;
        }
    }
    for k in [InvoiceKind::Electronic, InvoiceKind::Roll] {
        for a in [Action::Issue, Action::Query] {
            setup(w.wf.store_mut().grant(admin, cashier, k, a), "grant")?;
        }
    }
    // H5/H6: products and customers.
    for (i, p) in GOODS
        .iter()
        .chain([&RICE, &EXPORT, &GASOLINE, &CAR, &USED_CAR])
        .enumerate()
    {
        let np = NewProduct {
            code: format!("P{:03}", i + 1),
            name: p.name.into(),
            class_code: setup(TaxClassCode::new(p.class), "class code")?,
            rate: TaxRate(p.rate),
            unit: p.unit.into(),
            spec: p.spec.into(),
            price: Some(dec(p.price)),
            price_includes_tax: false,
            preferential: None,
            zero_flag: (p.rate == 0).then_some(ZeroRateFlag::TaxFree),
            rare_earth: false,
        };
        setup(w.wf.store_mut().add_product(admin, &np), "add product")?;
    }
    for (i, (name, tin)) in BUYERS.iter().enumerate() {
        let party = Party {
            name: (*name).into(),
            taxpayer_id: Some(setup(TaxpayerId::new(tin), "buyer id")?),
            address_phone: format!("福建省{name}路 {} 号 0591-8800{:04}", i + 1, i),
            bank_account: format!("中国银行福建省分行 40770{:010}", i),
        };
        setup(
            w.wf.store_mut().add_customer(
                admin,
                &NewCustomer {
                    code: format!("C{:03}", i + 1),
                    party: party.clone(),
                    category: None,
                },
            ),
            "add customer",
        )?;
        w.buyers.push(party);
    }
    w.report.step(t!(
        "demo-initialized",
        admin = ADMIN,
        clerk = CLERK,
        cashier = CASHIER,
        products = GOODS.len() + 5,
        customers = BUYERS.len()
    ));

    // H17/B8, D11: the tax office authorizes oil dealing; the software applies it and
    // downloads gasoline stock.
    setup(
        w.online.request_update(&UpdateRequest {
            serial: serial.clone(),
            changes: vec![
                UpdateChange::Oil(OilRole::Dealer, Some(month.next().next().end())),
                // FAQ 10.6: used-car invoices need a used-car authorization type.
                UpdateChange::UsedCar(UsedCarRole::Market),
            ],
        }),
        "oil authorization",
    )?;
    let login =
        w.wf.login(ADMIN, ADMIN_PW, &setup(Pin::new(Pin::FACTORY), "pin")?)
            .step("login (admin)")?;
    let changes = login.updates.len() + w.wf.apply_updates().step("apply updates (H17)")?.len();
    let litres = (cfg.invoices as i64 / 8).max(50) * 1200;
    w.wf.oil_download(GASOLINE_CATEGORY, OilUnit::Litre, litres * 1000)
        .step("oil download (H15)")?;
    w.report
        .step(t!("demo-updates", changes = changes, litres = litres));
    w.seller = w.wf.seller_party().step("seller")?;
    w.wf.logout().step("logout")?;

    // The clerk logs in and reads rolls online (H13).
    w.wf.login(CLERK, CLERK_PW, &setup(Pin::new(Pin::FACTORY), "pin")?)
        .step("login (clerk)")?;
    // Up to two rolls a kind at first; more are bought as kinds run short (the disk holds 16).
    for (k, weight) in MIX {
        let want = (cfg.invoices as u32 * weight / 100) * 12 / 10 + 20;
        w.wf.buy_rolls(k, want.min(2 * ROLL_SIZE))
            .step("read rolls (H13)")?;
    }
    let status = w.wf.status().step("status")?;
    for k in &status.kinds {
        w.blank.insert(k.kind, k.status.blank_left);
    }
    w.report.step(t!(
        "demo-rolls",
        blank = status
            .kinds
            .iter()
            .map(|k| k.status.blank_left)
            .sum::<u32>()
    ));

    let bar = if cfg.progress {
        ProgressBar::new(cfg.invoices as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} invoices  {per_sec}")
    {
        bar.set_style(style.progress_chars("=> "));
    }

    // The month, day by day, from the start day: the network goes down on the 12th of a
    // month run from its 1st (that share of the days of a later start), and two roll
    // invoices are voided blank on the 20th (likewise).
    let first_day = t_start.civil().day;
    let last_day = days_in(month);
    let days = last_day - first_day + 1;
    let on_share = |share: u8| first_day + (share as u32 * days as u32 / last_day as u32) as u8;
    let offline_from = on_share(11);
    let blank_void_day = on_share(19);
    let per_day = cfg.invoices.div_ceil(days as usize).max(1);
    let mut offline = false;
    let mut back_online = false;
    let mut blocked: Vec<InvoiceKind> = Vec::new();
    for day in first_day..=last_day {
        bar.set_message(format!("{month} day {day:02}"));
        if day == offline_from {
            offline = true;
            w.online_now = false;
            // The network goes down: the bureau address points at a closed port.
            let dead = setup(std::net::TcpListener::bind("127.0.0.1:0"), "closed port")?;
            let port = setup(dead.local_addr(), "closed port")?.port();
            drop(dead);
            w.wf.set_bureau(Some(setup(
                BureauClient::with_timeout(
                    &format!("http://127.0.0.1:{port}"),
                    Duration::from_millis(200),
                ),
                "offline client",
            )?));
            w.report.step(t!("demo-offline", day = day));
        }
        if back_online {
            back_online = false;
            offline = false;
            w.online_now = true;
            w.set_time(at(month, day, 8, 45))?;
            w.wf.set_bureau(Some(w.online.clone()));
            let up = w.wf.upload().step("upload (H11)")?;
            blocked.clear();
            w.report.step(t!(
                "demo-back-online",
                day = day,
                sent = up.sent,
                through = up.through_counter.unwrap_or(0)
            ));
        }
        for i in 0..per_day {
            if w.report.issue_count >= cfg.invoices {
                break;
            }
            let (open, close) = working_minutes(day, t_start.civil());
            let minute = open + (i * (close - open) as usize / per_day) as u32;
            w.set_time(at(month, day, (minute / 60) as u8, (minute % 60) as u8))?;
            let kind = pick_kind(&mut w.rng);
            if blocked.contains(&kind) {
                continue;
            }
            let (d, oil, discount) = w.draft(kind, true)?;
            let flags = [
                discount,
                d.sales_list,
                d.fields.variant() == Variant::Purchase,
                d.fields.variant() == Variant::Export,
                oil,
            ];
            match w.issue(d) {
                Ok(issued) => {
                    for (m, f) in w.mix.iter_mut().zip(flags) {
                        *m += usize::from(f);
                    }
                    w.first.entry(kind).or_insert(issued.id);
                    w.issued.push((issued.id, kind, oil, discount));
                    bar.inc(1);
                }
                Err(e) if offline && e.wire_error().is_some() => {
                    // D9: an offline limit is reached; the network comes back tomorrow.
                    if blocked.is_empty() {
                        w.report
                            .step(t!("demo-offline-refused", day = day, error = e.localized()));
                    }
                    w.report.refused(&e);
                    blocked.push(kind);
                    back_online = true;
                }
                Err(e) if e.wire_error() == Some(taxdisk_protocol::WireError::OilStockShort) => {
                    w.report.refused(&e)
                }
                Err(e) => {
                    return Err(DemoError::Workflow {
                        step: format!("issue on day {day}"),
                        source: e,
                    });
                }
            }
            // Now and then: a void of a paper invoice of this month (H9), a red invoice (H10).
            let roll = w.rng.random_range(0..1000);
            if roll < 15 {
                void_one(&mut w)?;
            } else if roll < 35 && !offline {
                red_one(&mut w)?;
            }
        }
        if day == blank_void_day {
            w.restock(InvoiceKind::Roll, 2).step("read rolls (H13)")?;
            let b =
                w.wf.void_blank(InvoiceKind::Roll, 2)
                    .step("blank void (H9)")?;
            w.used(InvoiceKind::Roll, 2);
            w.report
                .step(t!("demo-blank-void", day = day, first = b.first));
        }
    }
    bar.finish_and_clear();
    if offline {
        // A run that started late in the month went offline on its last day: the network
        // comes back before the month ends.
        w.online_now = true;
        w.wf.set_bureau(Some(w.online.clone()));
        let up = w.wf.upload().step("upload (H11)")?;
        w.report.step(t!(
            "demo-evening-upload",
            day = last_day,
            sent = up.sent,
            through = up.through_counter.unwrap_or(0)
        ));
    }
    if w.restocks > 0 {
        w.report
            .step(t!("demo-restocks", n = w.restocks, size = ROLL_SIZE));
    }
    w.report.step(t!(
        "demo-mix",
        discount = w.mix[0],
        list = w.mix[1],
        purchase = w.mix[2],
        export = w.mix[3],
        oil = w.mix[4]
    ));

    // H9: the cashier may not void the clerk's invoice.
    w.wf.logout().step("logout")?;
    w.wf.login(CASHIER, CASHIER_PW, &setup(Pin::new(Pin::FACTORY), "pin")?)
        .step("login (cashier)")?;
    let roll = w
        .issued
        .iter()
        .find(|(_, k, _, _)| *k == InvoiceKind::Roll)
        .map(|x| x.0);
    if let Some(Err(e)) = roll.map(|id| w.wf.void(&[id])) {
        w.report.refused(&e);
    }
    w.wf.logout().step("logout")?;

    // The next month: the first login reports the last period (H12), the clear card needs
    // the declaration first (FAQ 9.10), then it goes through.
    let next = month.next();
    w.set_time(at(next, 1, 9, 0))?;
    let login =
        w.wf.login(CLERK, CLERK_PW, &setup(Pin::new(Pin::FACTORY), "pin")?)
            .step("login next month")?;
    w.report.step(t!(
        "demo-next-login",
        next = next,
        copied = format!(
            "{:?}",
            login
                .copied
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
        ),
        reported = format!(
            "{:?}",
            login
                .reported
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
        )
    ));
    if let Err(e) = w.wf.clear_card(month) {
        w.report.refused(&e);
    }
    w.set_time(at(next, 10, 10, 0))?;
    w.wf.declare(month).step("declare (B5)")?;
    w.wf.clear_card(month).step("clear card (H12)")?;
    let info = w.wf.refresh_info().step("disk info")?;
    w.report.step(t!(
        "demo-cleared",
        next = next,
        month = month,
        lock = info.lock_time.map(|t| t.to_string()).unwrap_or_default()
    ));

    // Files: the month's spreadsheet, printed invoices, the counter report medium.
    let xlsx = out.join(format!("invoices-{month}.xlsx"));
    let ex = w.wf.export_month(month, &xlsx).step("export (H16)")?;
    w.report
        .files
        .push((t!("demo-file-xlsx", n = ex.invoices), xlsx));
    let firsts: Vec<(InvoiceKind, InvoiceId)> = w.first.iter().map(|(k, id)| (*k, *id)).collect();
    for (k, id) in firsts {
        let pdf =
            w.wf.print(id, Margins::default(), ListLayout::default())
                .step("print (H18)")?;
        let path = out.join("print").join(format!("{}-{}.pdf", k.name(), id.0));
        setup(std::fs::write(&path, pdf), "write pdf")?;
        w.report
            .files
            .push((t!("demo-file-pdf", kind = kind_name(k)), path));
    }
    if let Some((id, _, _, _)) = w.issued.iter().find(|(id, k, _, _)| {
        *k == InvoiceKind::Normal
            && w.wf
                .store()
                .invoice(*id)
                .map(|s| s.invoice.draft().sales_list)
                .unwrap_or(false)
    }) {
        let pdf =
            w.wf.print(
                *id,
                Margins {
                    right_mm: 2,
                    down_mm: -1,
                },
                ListLayout::default(),
            )
            .step("print list (H18)")?;
        let path = out
            .join("print")
            .join(format!("normal-with-sales-list-{}.pdf", id.0));
        setup(std::fs::write(&path, pdf), "write pdf")?;
        w.report.files.push((t!("demo-file-pdf-list"), path));
    }
    let medium = out.join(format!("counter-report-{month}.json"));
    w.wf.counter_report(month, &medium)
        .step("counter report (H12)")?;
    w.report.files.push((t!("demo-file-counter"), medium));
    w.report
        .files
        .push((t!("demo-file-db"), out.join("taxdisk.db")));
    w.report
        .files
        .push((t!("demo-file-image"), out.join("disk.img")));
    w.report
        .files
        .push((t!("demo-file-bureau"), out.join("bureau.db")));

    tally(&mut w, month)?;
    w.report.wall = started.elapsed();
    Ok(w.report)
}

fn void_one(w: &mut World) -> Result<(), DemoError> {
    // A paper invoice of this month, not oil (FAQ 8.6) and not yet voided.
    let candidates: Vec<usize> = w
        .issued
        .iter()
        .enumerate()
        .filter(|(_, (_, k, oil, _))| k.is_paper() && !oil)
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        return Ok(());
    }
    let i = candidates[w.rng.random_range(0..candidates.len())];
    let (id, ..) = w.issued.remove(i);
    match w.wf.void(&[id]) {
        Ok(_) => Ok(()),
        Err(e) => {
            w.report.refused(&e);
            Ok(())
        }
    }
}

fn red_one(w: &mut World) -> Result<(), DemoError> {
    let candidates: Vec<usize> = w
        .issued
        .iter()
        .enumerate()
        .filter(|(_, (_, k, oil, discount))| {
            matches!(
                k,
                InvoiceKind::Special | InvoiceKind::Normal | InvoiceKind::Electronic
            ) && !oil
                && !discount
        })
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        return Ok(());
    }
    let i = candidates[w.rng.random_range(0..candidates.len())];
    let (id, kind, ..) = w.issued.remove(i);
    let orig = setup(w.wf.store().invoice(id), "read original")?;
    let Some(rec) = orig.disk.clone() else {
        return Ok(());
    };
    if orig.invoice.draft().sales_list {
        // FAQ 7.8: a red invoice takes no sales list; the company reverses this one another
        // way (merged lines on a form of its own), not in the demo.
        return Ok(());
    }
    let draft = if kind == InvoiceKind::Special {
        // H10: the seller fills a red info form naming the original; the bureau approves it
        // at once (automatic review); the red invoice is issued from the approved form.
        let body =
            w.wf.seller_form_for(id, "销货退回")
                .step("red form (H10)")?;
        let form = w.wf.red_form_fill(&body).step("red form fill (H10)")?;
        let uploaded = w.wf.red_form_upload(form).step("red form upload (H10)")?;
        let Some(number) = uploaded.number else {
            return Ok(());
        };
        w.wf.red_draft_from_form(&number)
            .step("red draft from form (H10)")?
    } else {
        let (c, n) = (rec.code.to_string(), rec.number.to_string());
        w.wf.red_draft_from_original(&c, &n, &c, &n)
            .step("red draft (H10)")?
    };
    match w.issue(draft) {
        Ok(_) => Ok(()),
        Err(e) if e.wire_error().is_some() => {
            w.report.refused(&e);
            Ok(())
        }
        Err(e) => Err(DemoError::Workflow {
            step: "red issue".into(),
            source: e,
        }),
    }
}

fn tally(w: &mut World, month: Period) -> Result<(), DemoError> {
    let rows = setup(
        w.wf.store().month(&MonthQuery::period(month)),
        "month query",
    )?;
    for r in rows {
        let t = w
            .report
            .by_kind
            .entry(r.kind.name().to_owned())
            .or_default();
        match r.state {
            InvoiceState::Uploaded => t.uploaded += 1,
            InvoiceState::Issued => t.issued += 1,
            InvoiceState::Voided => t.voided += 1,
            InvoiceState::Pending | InvoiceState::Abandoned => continue,
        }
        if r.is_red {
            t.red += 1;
        }
        if r.state != InvoiceState::Voided {
            t.amount = t.amount.saturating_add(r.amount);
            t.tax = t.tax.saturating_add(r.tax);
        }
    }
    Ok(())
}

/// A kind's name (kept as the English name in the report) in the process's language.
fn kind_text(name: &str) -> String {
    InvoiceKind::parse(name).map_or_else(|| name.to_owned(), kind_name)
}
