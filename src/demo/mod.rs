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

use crate::rig::{BureauAt, OfficeRig, RigBuilder, open_store};
use crate::tables::kind_name;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use taxdisk_device_sim::bureau::BureauServer;
use taxdisk_device_sim::bureau::http::lock;
use taxdisk_device_sim::bureau::rolls::ROLL_SIZE;
use taxdisk_device_sim::sim::SimDisk;
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::export::{ListLayout, Margins};
use taxdisk_host::invoice::model::{
    KindFields, MotorVehicleFields, Party, UsedCarFields, UsedCarIssuer,
};
use taxdisk_host::invoice::{Discount, Draft, LineInput, apply_discount};
use taxdisk_host::store::{
    Action, BankAccount, Durability, Initialization, InvoiceId, InvoiceState, MonthQuery,
    NewCustomer, NewProduct,
};
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

mod catalog;
mod month;
mod report;
mod setup;

use catalog::*;
pub use report::{DemoReport, KindTally};

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

/// The running world.
struct World {
    /// When the demo started (its wall time).
    started: Instant,
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
    let mut w = setup::company(cfg)?;
    month::days(&mut w, cfg)?;
    month::close(&mut w, cfg)?;
    report::tally(&mut w, cfg.start.period())?;
    w.report.wall = w.started.elapsed();
    Ok(w.report)
}
