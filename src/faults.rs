//! `taxdisk faults`: the fault campaign of issue 7 (DESIGN.md "Reliability").
//!
//! A seeded, mixed workload runs through the host [`Workflow`] against an in-process
//! [`SimDisk`] and the embedded bureau served over HTTP on 127.0.0.1 port 0, while faults are
//! injected through the simulator's control channel:
//!
//! - **power cuts** ([`ControlRequest::PowerCutAfter`]): `power_cuts` cuts, each armed before a
//!   seeded operation at a seeded flash program/erase (1 to [`MAX_CUT_OFFSET`] operations
//!   ahead); a new cut is armed only once the previous one happened, so every armed cut is
//!   either counted as happened or reported as left over;
//! - **frame faults** (the one injector, [`taxdisk_protocol::fault`], in front of the disk):
//!   every disk frame of the workload is hit with probability `frame_fault_rate` by one of
//!   `DropRequest`, `DropAnswer`, `CorruptAnswer`, `DuplicateAnswer` or `LateAnswer`
//!   (evenly): a late answer is held back past the host's wait, so the host gives up on the
//!   frame and the answer arrives in front of the answer to the host's next frame, stale.
//!
//! The workload: blue invoices of four kinds (special, normal, electronic, roll), red
//! invoices reversing earlier ones (D6, FAQ 7.16), voids (D7), blank voids (FAQ 5.2), manual
//! uploads (H11), and one month boundary in the middle: the first login of the new month copies
//! tax and reports (H12), then the period is declared and the card cleared (D8, B5).
//!
//! Recovery is what the software does: a refusal or a lost answer is followed by reading the
//! disk's state; a disk that lost its login in a power cut is logged in again (D2), and pending
//! rows (an [`WorkflowError::IssueUnknown`], a crash between sign and store) are reconciled
//! with [`Workflow::repair`] (H11). A workload step is not retried blindly: an issue whose
//! outcome was unknown is decided by repair, never sent again with a new request id.
//!
//! At the end every fault is disarmed, the disk is power-cycled, the software logs in,
//! repairs and uploads, and the invariants are checked on the whole disk journal, the store
//! and the bureau ([`CampaignReport::invariants`]):
//! 1. no lost invoice: every invoice the workflow answered (or repair found signed) is in the
//!    journal at its counter with the same code, number, request id and signature, and in the
//!    store with that disk record;
//! 2. no doubled invoice: no invoice number used twice in the journal (invoices and blank
//!    voids), no request id twice, no number on two store rows;
//! 3. counters monotonic: journal counters are exactly 1..=N with non-decreasing times, and the
//!    disk's counter, sampled after every step (power cuts included), never went back;
//! 4. journal intact after reboot: every event decodes and its signature verifies with the
//!    disk's public key;
//! 5. store and disk agree after repair: no pending row, every journal invoice is a store row
//!    with the same disk record and vice versa, voided on the disk exactly when voided in the
//!    store, and every row uploaded;
//! 6. blank voids exactly once: a blank void whose answer was lost is sent again with its
//!    request id until answered (D7), and the journal's blank-void events are exactly the
//!    ones answered, each once;
//! 7. the bureau received exactly the disk's events: its gapless counter equals the disk's,
//!    and re-sending the whole journal is accepted event by event (the bureau compares each
//!    counter with what it stored and refuses any difference as a `conflict`);
//! 8. refusals explained: every error the workflow met is a lost answer, a login lost in a
//!    power cut, a resend refused as already done, or stock running out; nothing else (no
//!    bureau rejection, no rule refusal of a well-formed request).
//!
//! Determinism: the workload, the clock and the faults come from the seed; request ids and the
//! client's session id are random (as in the software), so counters and numbers are the same
//! from run to run but signatures are not.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use taxdisk_device_sim::bureau::http::lock;
use taxdisk_device_sim::bureau::{Bureau, BureauServer, spawn};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::disk::{ClientConfig, DiskClient, DiskError, new_request_id};
use taxdisk_host::invoice::LineInput;
use taxdisk_host::invoice::model::{Draft, KindFields, Party};
use taxdisk_host::store::{
    BankAccount, Initialization, InvoiceId, InvoiceState, MonthQuery, Store,
};
use taxdisk_host::transport::Transport;
use taxdisk_host::transport::inproc::{InProcess, Shared};
use taxdisk_host::workflow::{ClearCardFailure, Workflow, WorkflowError};
use taxdisk_i18n::width::{left, width};
use taxdisk_i18n::{t, tr};
use taxdisk_protocol::bureau_api::{RegisterTaxpayer, Upload};
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::fault::{FaultPlan, FaultRates, FaultStats, FaultyHandler, SharedPlan};
use taxdisk_protocol::time::{CivilTime, Period, Timestamp};
use taxdisk_protocol::types::{
    CompanyName, DeviceSerial, Fen, InvoiceCode, InvoiceKind, InvoiceNumber, JournalEvent,
    KindLimits, Pin, PublicKey, RequestId, Signature, TaxClassCode, TaxRate, TaxpayerId, Variant,
};
use taxdisk_protocol::{Request, Response, WireError, sign};

/// The serial of the campaign's disk.
pub const SERIAL: &str = "661100000007";
/// The campaign company's taxpayer id.
pub const TAXPAYER: &str = "91350100M000100Y43";
/// The buyer's taxpayer id on every invoice.
pub const BUYER_ID: &str = "110108123456789";
/// Flash of the campaign's disk: 4 MiB (16,368 journal records), so each reboot after a cut
/// mounts quickly.
pub const FLASH_BYTES: usize = 4 << 20;
/// A power cut is armed this many flash program/erase operations ahead at most.
pub const MAX_CUT_OFFSET: u32 = 4;
/// Numbers of each kind bought at the start, and again whenever a kind runs out.
pub const ROLL_BUY: u32 = 500;
/// Tries of one step (a workload operation, a recovery, a month-boundary step) before the
/// campaign gives up as stuck.
pub const MAX_TRIES: u32 = 25;
/// Host session id of the campaign's observer, which reads the disk's counter between steps
/// (GetInfo is answered to any session, D14).
const OBSERVER_SESSION: u32 = 0x0B5E_4E00;
const ADMIN: &str = "主管";
const ADMIN_PW: &str = "faults-campaign-1";

/// What the campaign runs.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignConfig {
    /// Power cuts to inject (each at a seeded flash program or erase).
    pub power_cuts: u32,
    /// Probability in 0..=1 that a disk frame of the workload is hit by a frame fault.
    pub frame_fault_rate: f64,
    /// Seed of the workload, the clock and the faults (also of the disk's and bureau's keys).
    pub seed: u64,
    /// Invoices to issue (blue and red; the campaign ends when this many were answered).
    pub invoices: u32,
}

impl Default for CampaignConfig {
    /// 200 invoices, 20 power cuts, 5 % frame faults, seed 7.
    fn default() -> Self {
        CampaignConfig {
            power_cuts: 20,
            frame_fault_rate: 0.05,
            seed: 7,
            invoices: 200,
        }
    }
}

/// Why the campaign could not run to its checks. A failed invariant is not an error: it is in
/// the report.
#[derive(Debug, thiserror::Error)]
pub enum FaultsError {
    /// A configuration value is out of range.
    #[error("faults: {0}")]
    Config(String),
    /// Building the world (bureau, disk, store, provisioning) failed.
    #[error("faults: setting up ({step}) failed: {message}")]
    Setup {
        /// The step.
        step: &'static str,
        /// What failed.
        message: String,
    },
    /// A step kept failing after recovery; the software would be stuck too.
    #[error("faults: {step} still fails after {tries} tries with recovery: {last}")]
    Stuck {
        /// The step.
        step: String,
        /// Tries made.
        tries: u32,
        /// The last error.
        last: String,
    },
}

fn setup<T, E: fmt::Display>(r: Result<T, E>, step: &'static str) -> Result<T, FaultsError> {
    r.map_err(|e| FaultsError::Setup {
        step,
        message: e.to_string(),
    })
}

/// One invariant with its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantResult {
    /// What is checked.
    pub name: &'static str,
    /// Whether it held.
    pub passed: bool,
    /// What was compared, or the first violations.
    pub detail: String,
}

/// What the campaign did and found.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignReport {
    /// The configuration run.
    pub config: CampaignConfig,
    /// Invoices answered to the workflow (blue and red), repair-found ones included.
    pub invoices_issued: u64,
    /// Of those, red invoices.
    pub red_invoices: u64,
    /// Of those, invoices whose answer was lost and that repair found signed on the disk.
    pub found_by_repair: u64,
    /// Issues whose answer was lost and that repair found never signed (abandoned rows).
    pub abandoned: u64,
    /// Invoices voided (D7).
    pub voids: u64,
    /// Blank voids answered (FAQ 5.2).
    pub blank_voids: u64,
    /// Manual uploads answered.
    pub uploads: u64,
    /// Periods cleared at the month boundary.
    pub periods_cleared: Vec<Period>,
    /// Power cuts armed.
    pub power_cuts_armed: u64,
    /// Power cuts that happened (counted by the emulated chip).
    pub power_cuts: u64,
    /// Frame faults injected, by action.
    pub frame_faults: FaultStats,
    /// Disk frames of the workload.
    pub frames: u64,
    /// Logins made again after the disk lost its login.
    pub relogins: u64,
    /// Repairs run.
    pub repairs: u64,
    /// Errors the workflow met, by class (explained ones).
    pub errors: BTreeMap<&'static str, u64>,
    /// Journal events on the disk at the end.
    pub journal_events: u64,
    /// The invariants, in the order of the module documentation.
    pub invariants: Vec<InvariantResult>,
    /// Wall-clock time of the campaign.
    pub elapsed: Duration,
}

impl CampaignReport {
    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.invariants.iter().all(|i| i.passed)
    }

    /// Prints the report to standard output.
    pub fn print(&self) {
        print!("{self}");
    }
}

/// The catalogue key of an invariant's name (`faults-inv-no-lost-invoice`).
pub fn invariant_key(name: &str) -> String {
    format!("faults-inv-{}", name.replace([' ', '\''], "-"))
}

/// The catalogue key of a class of explained errors (`faults-error-answer-lost`).
pub fn error_key(class: &str) -> String {
    format!("faults-error-{}", class.replace([' ', '\''], "-"))
}

/// The report's row labels whose width sets the label column (error classes are shorter).
const LABELS: [&str; 16] = [
    "faults-invoices-issued",
    "faults-voids",
    "faults-blank-voids",
    "faults-uploads",
    "faults-cleared",
    "faults-journal-events",
    "faults-frames",
    "faults-power-cuts",
    "faults-drop-request",
    "faults-drop-answer",
    "faults-corrupt-answer",
    "faults-duplicate-answer",
    "faults-late-answer",
    "faults-frame-total",
    "faults-relogins",
    "faults-repairs",
];

impl fmt::Display for CampaignReport {
    /// The report in the process's language: labels, error classes and invariant names from
    /// the catalogue (`faults-*`); an invariant's detail line stays English.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "{}",
            t!(
                "faults-head",
                seed = c.seed,
                invoices = c.invoices,
                cuts = c.power_cuts,
                rate = format!("{:.1}", c.frame_fault_rate * 100.0)
            )
        )?;
        // The label column as wide as its widest label (at least 20), by display width.
        let col = LABELS
            .iter()
            .map(|k| width(&tr(k, &[])))
            .max()
            .unwrap_or(0)
            .max(20);
        let row = |f: &mut fmt::Formatter<'_>, key: &str, n: &dyn fmt::Display, more: String| {
            writeln!(f, "  {}{n:>7}{more}", left(&tr(key, &[]), col))
        };
        writeln!(f, "{}", t!("faults-workload"))?;
        row(
            f,
            "faults-invoices-issued",
            &self.invoices_issued,
            t!(
                "faults-invoices-issued-more",
                red = self.red_invoices,
                found = self.found_by_repair,
                abandoned = self.abandoned
            ),
        )?;
        row(f, "faults-voids", &self.voids, String::new())?;
        row(f, "faults-blank-voids", &self.blank_voids, String::new())?;
        row(f, "faults-uploads", &self.uploads, String::new())?;
        let cleared: Vec<String> = self.periods_cleared.iter().map(|p| p.to_string()).collect();
        row(f, "faults-cleared", &cleared.join(", "), String::new())?;
        row(
            f,
            "faults-journal-events",
            &self.journal_events,
            String::new(),
        )?;
        row(f, "faults-frames", &self.frames, String::new())?;
        writeln!(f, "{}", t!("faults-injected"))?;
        row(
            f,
            "faults-power-cuts",
            &self.power_cuts,
            t!("faults-power-cuts-armed", armed = self.power_cuts_armed),
        )?;
        let ff = &self.frame_faults;
        row(
            f,
            "faults-drop-request",
            &ff.dropped_requests,
            String::new(),
        )?;
        row(f, "faults-drop-answer", &ff.dropped_answers, String::new())?;
        row(f, "faults-corrupt-answer", &ff.corrupted, String::new())?;
        row(f, "faults-duplicate-answer", &ff.duplicated, String::new())?;
        row(f, "faults-late-answer", &ff.late, String::new())?;
        row(f, "faults-frame-total", &ff.total(), String::new())?;
        writeln!(f, "{}", t!("faults-recovery"))?;
        row(f, "faults-relogins", &self.relogins, String::new())?;
        row(f, "faults-repairs", &self.repairs, String::new())?;
        for (class, n) in &self.errors {
            row(f, &error_key(class), n, String::new())?;
        }
        writeln!(f, "{}", t!("faults-invariants"))?;
        for i in &self.invariants {
            let mark = if i.passed { "PASS" } else { "FAIL" };
            let name = tr(&invariant_key(i.name), &[]);
            writeln!(f, "  [{mark}] {name}: {}", i.detail)?;
        }
        let secs = format!("{:.1}", self.elapsed.as_secs_f64());
        if self.passed() {
            writeln!(f, "{}", t!("faults-all-hold", secs = secs))
        } else {
            writeln!(f, "{}", t!("faults-violated", secs = secs))
        }
    }
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere poisons the lock; the state behind it is still usable for counting.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An invoice the workflow answered (or repair found signed).
#[derive(Clone, Debug)]
struct Answered {
    id: InvoiceId,
    kind: InvoiceKind,
    red: bool,
    code: InvoiceCode,
    number: InvoiceNumber,
    counter: u64,
    request_id: RequestId,
    signature: Signature,
    period: Period,
}

/// The campaign's world and bookkeeping.
struct Campaign {
    cfg: CampaignConfig,
    rng: ChaCha8Rng,
    wf: Workflow,
    sim: Arc<Mutex<SimDisk>>,
    faults: SharedPlan,
    server: BureauServer,
    bureau: BureauClient,
    serial: DeviceSerial,
    pin: Pin,
    answered: Vec<Answered>,
    answered_ids: HashSet<InvoiceId>,
    /// Blue invoices reversed by a red one (or possibly, when the red's answer was lost).
    reversed: HashSet<InvoiceId>,
    /// Issues whose outcome was unknown, decided by the next repair.
    unknown: Vec<InvoiceId>,
    /// The journal counters of the blank voids answered to the software.
    blank_voids_answered: BTreeSet<u64>,
    max_counter_seen: u64,
    counter_went_back: Vec<String>,
    unexplained: Vec<String>,
    cuts_armed: u64,
    report: CampaignReport,
}

/// Runs the campaign: builds the world, runs the workload with faults, recovers, and checks
/// the invariants. `Err` only when the world cannot be built or the software got stuck; a
/// violated invariant is a report that does not [`pass`](CampaignReport::passed).
pub fn run(cfg: &CampaignConfig) -> Result<CampaignReport, FaultsError> {
    if !(0.0..=1.0).contains(&cfg.frame_fault_rate) {
        return Err(FaultsError::Config(format!(
            "--frame-faults {} is not a probability between 0 and 1",
            cfg.frame_fault_rate
        )));
    }
    if cfg.invoices == 0 {
        return Err(FaultsError::Config("--invoices must be at least 1".into()));
    }
    let started = Instant::now();
    let mut c = Campaign::build(cfg)?;
    c.workload()?;
    c.finish()?;
    c.report.elapsed = started.elapsed();
    Ok(c.report)
}

/// A CST instant.
fn at(year: u16, month: u8, day: u8, hour: u8) -> Timestamp {
    Timestamp::from_civil(CivilTime {
        year,
        month,
        day,
        hour,
        minute: 0,
        second: 0,
    })
}

/// The four kinds the workload issues.
const KINDS: [InvoiceKind; 4] = [
    InvoiceKind::Special,
    InvoiceKind::Normal,
    InvoiceKind::Electronic,
    InvoiceKind::Roll,
];

fn kind_fields(kind: InvoiceKind) -> KindFields {
    match kind {
        InvoiceKind::Special => KindFields::Special,
        InvoiceKind::Electronic => KindFields::Electronic,
        InvoiceKind::Roll => KindFields::Roll,
        _ => KindFields::Normal(Variant::Standard),
    }
}

/// How an error of the workflow is explained by the faults, or `None`.
fn explain(e: &WorkflowError) -> Option<&'static str> {
    match e {
        WorkflowError::IssueUnknown { .. } => Some("issue outcome unknown"),
        WorkflowError::Disk(d) => explain_disk(d),
        WorkflowError::Batch { source, .. } => explain(source),
        WorkflowError::ClearCard(c) => match c.as_ref() {
            ClearCardFailure::Disk(d) => explain_disk(d),
            _ => None,
        },
        _ => None,
    }
}

fn explain_disk(d: &DiskError) -> Option<&'static str> {
    if d.outcome_unknown() {
        return Some("answer lost");
    }
    match d {
        // A resend after a lost answer, refused as already done (a void, a token), or
        // refused because the disk rebooted in between and lost the login.
        DiskError::Refused { retried: true, .. } => Some("resend refused"),
        DiskError::Refused {
            error: WireError::NotLoggedIn,
            ..
        } => Some("login lost"),
        DiskError::Refused {
            error: WireError::NoBlankNumber,
            ..
        } => Some("stock ran out"),
        _ => None,
    }
}

impl Campaign {
    fn build(cfg: &CampaignConfig) -> Result<Campaign, FaultsError> {
        let start = at(2026, 11, 10, 10);
        let mut b = setup(Bureau::open(None, Some(cfg.seed)), "bureau")?;
        setup(b.set_time(start), "bureau clock")?;
        let key: PublicKey = b.public_key();
        let addr: SocketAddr = setup("127.0.0.1:0".parse(), "loopback address")?;
        let server = setup(spawn(b, addr), "bureau server")?;
        let serial = setup(DeviceSerial::new(SERIAL), "serial")?;
        let mut sc = SimConfig::new(serial.clone(), key, start);
        sc.seed = cfg.seed;
        sc.flash_bytes = FLASH_BYTES;
        let sim = Arc::new(Mutex::new(setup(SimDisk::new(sc), "simulated disk")?));
        // The one injector (taxdisk_protocol::fault) in front of the shared simulator: each
        // frame is hit with the campaign's probability by one of five faults, evenly; paused
        // while the campaign sets up and checks.
        // The range was checked by `run`; the product is at most 1e6.
        let rate_ppm = (cfg.frame_fault_rate * 1_000_000.0).round() as u32;
        let mut plan = FaultPlan::new(FaultRates::even(rate_ppm), cfg.seed ^ 0x6672_616d_6573);
        plan.set_active(false);
        let faults: SharedPlan = Arc::new(Mutex::new(plan));
        let link = FaultyHandler::with_plan(Shared(sim.clone()), faults.clone());
        let t: Box<dyn Transport + Send> = Box::new(InProcess::new(link));
        let disk = DiskClient::with_config(
            t,
            ClientConfig {
                attempts: 3,
                timeout: Duration::from_millis(50),
                reconnect_pause: Duration::ZERO,
                session: None,
            },
        );
        let store = setup(Store::open_in_memory(), "store")?;
        // This process is the tax office too (it provisions the disk): the client holds the
        // server's administrator token, and initialization keeps it.
        let office = setup(BureauClient::new(&server.url()), "bureau client")?
            .with_admin_token(Some(server.admin_token().to_owned()));
        let mut wf = Workflow::new(store, disk, Some(office.clone()));
        setup(
            wf.initialize(&Initialization {
                supervisor_name: ADMIN.into(),
                supervisor_password: ADMIN_PW.into(),
                address: "福州市鼓楼区五四路 1 号".into(),
                phone: "0591-12345678".into(),
                bank_accounts: vec![BankAccount {
                    bank: "工商银行福州分行".into(),
                    account: "1402020309000123456".into(),
                }],
                bureau_server: server.url(),
            }),
            "initialization (H1)",
        )?;
        let limits: Vec<KindLimits> = KINDS
            .into_iter()
            .map(|kind| KindLimits {
                kind,
                single_limit: Fen(1_000_000_000),
                offline_hours: 72,
                offline_amount: Fen(10_000_000_000),
            })
            .collect();
        let reg = RegisterTaxpayer {
            taxpayer_id: setup(TaxpayerId::new(TAXPAYER), "taxpayer id")?,
            company_name: setup(CompanyName::new("福州故障测试有限公司"), "company name")?,
            kinds: limits,
        };
        setup(wf.provision_disk(&reg, 0), "provisioning (D1)")?;
        let pin = setup(Pin::new(Pin::FACTORY), "pin")?;
        setup(wf.login(ADMIN, ADMIN_PW, &pin), "login")?;
        for k in KINDS {
            setup(wf.buy_rolls(k, ROLL_BUY), "buying rolls")?;
        }
        let bureau = office;
        Ok(Campaign {
            cfg: cfg.clone(),
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            wf,
            sim,
            faults,
            server,
            bureau,
            serial,
            pin,
            answered: Vec::new(),
            answered_ids: HashSet::new(),
            reversed: HashSet::new(),
            unknown: Vec::new(),
            blank_voids_answered: BTreeSet::new(),
            max_counter_seen: 0,
            counter_went_back: Vec::new(),
            unexplained: Vec::new(),
            cuts_armed: 0,
            report: CampaignReport {
                config: cfg.clone(),
                invoices_issued: 0,
                red_invoices: 0,
                found_by_repair: 0,
                abandoned: 0,
                voids: 0,
                blank_voids: 0,
                uploads: 0,
                periods_cleared: Vec::new(),
                power_cuts_armed: 0,
                power_cuts: 0,
                frame_faults: FaultStats::default(),
                frames: 0,
                relogins: 0,
                repairs: 0,
                errors: BTreeMap::new(),
                journal_events: 0,
                invariants: Vec::new(),
                elapsed: Duration::ZERO,
            },
        })
    }

    fn sim(&self) -> MutexGuard<'_, SimDisk> {
        locked(&self.sim)
    }

    fn set_faults(&self, on: bool) {
        locked(&self.faults).set_active(on);
    }

    /// Moves disk and bureau clocks to `t`.
    fn set_time(&mut self, t: Timestamp) -> Result<(), FaultsError> {
        self.sim().set_time(t);
        setup(lock(&self.server.bureau()).set_time(t), "bureau clock")
    }

    fn now(&self) -> Timestamp {
        self.sim().now()
    }

    fn cuts_happened(&self) -> u64 {
        self.sim().chip_stats().cuts
    }

    /// Reads the disk's counter as an observer session and checks it never goes back.
    fn observe(&mut self, after: &str) {
        let r = self.sim().request(OBSERVER_SESSION, Request::GetInfo(()));
        if let Ok(Response::GetInfo(info)) = r {
            if info.counter < self.max_counter_seen {
                self.counter_went_back.push(format!(
                    "after {after}: counter {} < {} seen before",
                    info.counter, self.max_counter_seen
                ));
            }
            self.max_counter_seen = self.max_counter_seen.max(info.counter);
        }
    }

    /// Records an error of the workflow: counted by class when the faults explain it, listed
    /// as unexplained otherwise.
    fn note_error(&mut self, what: &str, e: &WorkflowError) {
        match explain(e) {
            Some(class) => *self.report.errors.entry(class).or_insert(0) += 1,
            None => self.flag(format!("{what}: {e}")),
        }
    }

    /// Records something the faults do not explain (shown in the "refusals explained"
    /// invariant, the first 20 in full).
    fn flag(&mut self, what: String) {
        *self.report.errors.entry("unexplained").or_insert(0) += 1;
        if self.unexplained.len() < 20 {
            self.unexplained.push(what);
        }
    }

    /// Notes of the workflow (automatic upload, monthly report) that name a bureau refusal.
    fn note_text(&mut self, what: &str, note: &str) {
        if note.contains("refused") && !note.contains("disk") {
            self.flag(format!("{what}: {note}"));
        }
    }

    /// Recovery as the software does it: a disk that lost its login (power cut) gets it
    /// again, and pending rows are reconciled by repair (H11).
    fn recover(&mut self) -> Result<(), FaultsError> {
        let mut last = String::new();
        for _ in 0..MAX_TRIES {
            match self.try_recover() {
                Ok(()) => return Ok(()),
                Err(e) => {
                    self.note_error("recovery", &e);
                    last = e.to_string();
                }
            }
        }
        Err(FaultsError::Stuck {
            step: "recovery (login, repair)".into(),
            tries: MAX_TRIES,
            last,
        })
    }

    fn try_recover(&mut self) -> Result<(), WorkflowError> {
        let info = self.wf.refresh_info()?;
        if !info.logged_in {
            let login = self.wf.login(ADMIN, ADMIN_PW, &self.pin)?;
            self.report.relogins += 1;
            for n in &login.notes {
                self.note_text("login", n);
            }
        }
        if !self.wf.store().pending_invoices()?.is_empty() || !self.unknown.is_empty() {
            let r = self.wf.repair()?;
            self.report.repairs += 1;
            if let Some(n) = &r.upload_note {
                self.note_text("repair upload", n);
            }
            if let Some(u) = &r.upload {
                for rej in &u.rejected {
                    self.flag(format!(
                        "repair upload: bureau rejected {}: {}",
                        rej.counter, rej.code
                    ));
                }
            }
            self.report.abandoned += r.abandoned.len() as u64;
            for id in r.issued {
                self.record_stored(id, true)?;
            }
            if !r.undecided.is_empty() {
                return Err(WorkflowError::rule(
                    "repair",
                    format!("{} pending rows left undecided", r.undecided.len()),
                    "H11",
                ));
            }
            self.unknown.clear();
        }
        Ok(())
    }

    /// Records an invoice signed for store row `id` as answered (repair found it, or the
    /// issue answered).
    fn record_stored(&mut self, id: InvoiceId, by_repair: bool) -> Result<(), WorkflowError> {
        if !self.answered_ids.insert(id) {
            return Ok(());
        }
        let row = self.wf.store().invoice(id)?;
        let Some(rec) = row.disk else {
            self.flag(format!("store row {} issued without a disk record", id.0));
            return Ok(());
        };
        let red = row.invoice.is_red();
        self.report.invoices_issued += 1;
        if red {
            self.report.red_invoices += 1;
        }
        if by_repair {
            self.report.found_by_repair += 1;
        }
        self.answered.push(Answered {
            id,
            kind: row.invoice.kind(),
            red,
            code: rec.code,
            number: rec.number,
            counter: rec.counter,
            request_id: row.request_id,
            signature: rec.signature,
            period: rec.time.period(),
        });
        Ok(())
    }

    /// Arms the next power cut when one is due (seeded) and none is pending.
    fn maybe_arm_cut(&mut self, ops_left: u64) {
        let done = self.cuts_happened();
        let want = u64::from(self.cfg.power_cuts);
        if done >= want || self.sim().chip().cut_armed() {
            return;
        }
        let left = want - done;
        // Arm with twice the even share of the operations left, and at least 20 %, so the
        // cuts are spread over the workload and all happen before it ends.
        let share = (left * 2_000_000 / ops_left.max(1)).clamp(200_000, 1_000_000);
        // Clamped to at most 1,000,000 above.
        let p = share as u32;
        if self.rng.random_range(0..1_000_000u32) < p {
            let nth = self.rng.random_range(1..=MAX_CUT_OFFSET);
            if self.sim().control(ControlRequest::PowerCutAfter(nth)) == ControlResponse::Ok {
                self.cuts_armed += 1;
            }
        }
    }

    fn draft(&mut self, kind: InvoiceKind) -> Result<Draft, WorkflowError> {
        let seller = self.wf.seller_party()?;
        let buyer = Party {
            name: "购买方公司".into(),
            taxpayer_id: TaxpayerId::new(BUYER_ID).ok(),
            address_phone: "北京市海淀区 010-87654321".into(),
            bank_account: "建设银行 9876543210".into(),
        };
        let mut d = Draft::new(kind_fields(kind), seller, buyer);
        d.issuer = ADMIN.into();
        let class = TaxClassCode::new("1090101010000000000")
            .map_err(|e| WorkflowError::rule("campaign draft", e.to_string(), "F7"))?;
        let qty = Decimal::from(self.rng.random_range(1..=5u32));
        let price = Decimal::new(i64::from(self.rng.random_range(1_000..=50_000u32)), 2);
        d.add_line(&LineInput::new("测试商品", class, TaxRate(1300)).qty_price(qty, price))?;
        Ok(d)
    }

    /// One issue (blue of `kind`, or red reversing `original`).
    fn issue(&mut self, kind: InvoiceKind, original: Option<InvoiceId>) -> Result<(), FaultsError> {
        let draft = match original {
            None => self.draft(kind),
            Some(id) => self.red_draft(id),
        };
        let draft = match draft {
            Ok(d) => d,
            Err(e) => {
                self.note_error("composing", &e);
                return self.recover();
            }
        };
        if let Some(id) = original {
            // Whatever happens now, do not reverse it again: a lost answer may have signed.
            self.reversed.insert(id);
        }
        match self.wf.issue(draft) {
            Ok(i) => {
                if let Some(n) = &i.upload_note {
                    self.note_text("automatic upload", n);
                }
                if let Err(e) = self.record_stored(i.id, false) {
                    self.note_error("store", &e);
                }
                Ok(())
            }
            Err(e) => {
                self.note_error("issue", &e);
                if let WorkflowError::IssueUnknown { id, .. } = &e {
                    self.unknown.push(*id);
                }
                if e.wire_error() == Some(WireError::NoBlankNumber) {
                    self.recover()?;
                    return self.step("buying rolls", |c| c.wf.buy_rolls(kind, ROLL_BUY).map(drop));
                }
                self.recover()
            }
        }
    }

    fn red_draft(&mut self, id: InvoiceId) -> Result<Draft, WorkflowError> {
        let row = self.wf.store().invoice(id)?;
        let Some(rec) = row.disk else {
            return Err(WorkflowError::rule("red", "no disk record", "H10"));
        };
        let (code, number) = (rec.code.to_string(), rec.number.to_string());
        self.wf
            .red_draft_from_original(&code, &number, &code, &number)
    }

    /// Answered blue invoices of `kinds` of the current period still issued or uploaded and
    /// never reversed, newest last (at most the 64 newest are considered).
    fn candidates(&mut self, kinds: &[InvoiceKind]) -> Vec<InvoiceId> {
        let period = self.now().period();
        let picks: Vec<InvoiceId> = self
            .answered
            .iter()
            .rev()
            .filter(|a| !a.red && kinds.contains(&a.kind) && a.period == period)
            .filter(|a| !self.reversed.contains(&a.id))
            .take(64)
            .map(|a| a.id)
            .collect();
        picks
            .into_iter()
            .filter(|id| {
                self.wf
                    .store()
                    .invoice(*id)
                    .is_ok_and(|r| matches!(r.state, InvoiceState::Issued | InvoiceState::Uploaded))
            })
            .collect()
    }

    /// A blank void as the software does it (D7): one request id, sent again with the same id
    /// after each failure whose outcome is unknown (a lost answer, a login lost in a power
    /// cut), so that it is done exactly once. A refusal of the first send ends it undone.
    fn blank_void(&mut self, kind: InvoiceKind, count: u32) -> Result<(), FaultsError> {
        let id = new_request_id();
        let mut last = String::new();
        for _ in 0..MAX_TRIES {
            match self.wf.void_blank_with_id(id, kind, count) {
                Ok(b) => {
                    self.report.blank_voids += 1;
                    self.blank_voids_answered.insert(b.counter);
                    return Ok(());
                }
                Err(e) => {
                    let maybe_done = match &e {
                        WorkflowError::Disk(d) => {
                            d.outcome_unknown()
                                || matches!(d, DiskError::Refused { retried: true, .. })
                        }
                        _ => false,
                    };
                    self.note_error("blank void", &e);
                    last = e.to_string();
                    self.recover()?;
                    if !maybe_done {
                        return Ok(());
                    }
                }
            }
        }
        Err(FaultsError::Stuck {
            step: "blank void".into(),
            tries: MAX_TRIES,
            last,
        })
    }

    /// Runs `f` until it succeeds, recovering after each failure.
    fn step<T>(
        &mut self,
        what: &str,
        mut f: impl FnMut(&mut Campaign) -> Result<T, WorkflowError>,
    ) -> Result<T, FaultsError> {
        let mut last = String::new();
        for _ in 0..MAX_TRIES {
            match f(self) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    self.note_error(what, &e);
                    last = e.to_string();
                    self.recover()?;
                }
            }
        }
        Err(FaultsError::Stuck {
            step: what.to_owned(),
            tries: MAX_TRIES,
            last,
        })
    }

    fn workload(&mut self) -> Result<(), FaultsError> {
        self.set_faults(true);
        let target = u64::from(self.cfg.invoices);
        let half = target / 2;
        let mut month_changed = false;
        let mut ops: u64 = 0;
        // A generous bound: the workload ends by invoices answered, not by operations.
        let max_ops = target * 4 + 200;
        while self.report.invoices_issued < target {
            if ops >= max_ops {
                return Err(FaultsError::Stuck {
                    step: "workload".into(),
                    tries: u32::try_from(ops).unwrap_or(u32::MAX),
                    last: format!(
                        "only {} of {target} invoices answered",
                        self.report.invoices_issued
                    ),
                });
            }
            if !month_changed && self.report.invoices_issued >= half.max(1) {
                self.month_change()?;
                month_changed = true;
            }
            ops += 1;
            let ops_left = (target - self.report.invoices_issued) * 3 / 2 + 1;
            self.maybe_arm_cut(ops_left);
            let secs = self.rng.random_range(5..=30u64);
            self.sim().advance(secs);
            let now = self.now();
            setup(lock(&self.server.bureau()).set_time(now), "bureau clock")?;
            let roll = self.rng.random_range(0..100u32);
            let what = match roll {
                0..60 => {
                    let kind = KINDS[self.rng.random_range(0..KINDS.len())];
                    self.issue(kind, None)?;
                    "issue"
                }
                60..70 => {
                    let c = self.candidates(&[
                        InvoiceKind::Normal,
                        InvoiceKind::Electronic,
                        InvoiceKind::Roll,
                    ]);
                    if let Some(&id) = c.get(self.rng.random_range(0..c.len().max(1))) {
                        let kind = self.wf.store().invoice(id).map(|r| r.invoice.kind());
                        self.issue(kind.unwrap_or(InvoiceKind::Normal), Some(id))?;
                    } else {
                        self.issue(InvoiceKind::Normal, None)?;
                    }
                    "red issue"
                }
                70..80 => {
                    let c = self.candidates(&[
                        InvoiceKind::Special,
                        InvoiceKind::Normal,
                        InvoiceKind::Roll,
                    ]);
                    if let Some(&id) = c.get(self.rng.random_range(0..c.len().max(1))) {
                        // A voided invoice is not reversed later.
                        self.reversed.insert(id);
                        match self.wf.void(&[id]) {
                            Ok(v) => self.report.voids += v.len() as u64,
                            Err(e) => {
                                self.note_error("void", &e);
                                self.recover()?;
                            }
                        }
                    }
                    "void"
                }
                80..86 => {
                    let kind = [InvoiceKind::Normal, InvoiceKind::Special, InvoiceKind::Roll]
                        [self.rng.random_range(0..3)];
                    let count = self.rng.random_range(1..=2u32);
                    // As the software shows the roll's next number: at most what is left of
                    // the roll the disk voids from (its oldest with numbers left, FAQ 5.2).
                    let rolls = self.step("roll list", |c| c.wf.rolls(Some(kind)))?;
                    let left = rolls.iter().map(|r| r.left()).find(|&l| l > 0).unwrap_or(0);
                    if left > 0 {
                        self.blank_void(kind, count.min(left))?;
                    }
                    "blank void"
                }
                86..94 => {
                    match self.wf.upload() {
                        Ok(u) => {
                            self.report.uploads += 1;
                            for rej in &u.rejected {
                                self.flag(format!(
                                    "upload: bureau rejected {}: {} {}",
                                    rej.counter, rej.code, rej.message
                                ));
                            }
                        }
                        Err(e) => {
                            self.note_error("upload", &e);
                            self.recover()?;
                        }
                    }
                    "upload"
                }
                _ => {
                    self.issue(InvoiceKind::Normal, None)?;
                    "issue"
                }
            };
            self.observe(what);
        }
        Ok(())
    }

    /// The month boundary: the first login of December reports November (H12), then the
    /// declaration and the clear card (B5, D8), each step recovered like the rest.
    fn month_change(&mut self) -> Result<(), FaultsError> {
        let last = self.now().period();
        let next = last.next();
        self.set_time(next.start().plus_secs(9 * 3600))?;
        // The software is restarted on the first day of the month: log out and in again.
        if let Err(e) = self.wf.logout() {
            self.note_error("logout", &e);
        }
        let report = self.step("first login of the month (H12)", |c| {
            let pin = c.pin.clone();
            c.wf.login(ADMIN, ADMIN_PW, &pin)
        })?;
        for n in &report.notes {
            // Not declared yet: the clear card at login is expected to fail (FAQ 9.10).
            if !n.contains("declar") {
                self.note_text("month login", n);
            }
        }
        let serial = self.serial.clone();
        let reported = self
            .bureau
            .disk(&serial)
            .ok()
            .and_then(|d| d.last_reported)
            .is_some_and(|p| p >= last);
        if !reported {
            self.step("report (上报汇总)", |c| {
                c.wf.report_period(last).map(drop)
            })?;
        }
        self.set_time(next.start().plus_secs(9 * 86_400 + 9 * 3600))?;
        self.step("declaration (B5)", |c| c.wf.declare(last))?;
        self.step("clear card (D8)", |c| {
            let info = c.wf.refresh_info()?;
            if info.last_cleared.is_some_and(|p| p >= last) {
                return Ok(());
            }
            c.wf.clear_card(last)
        })?;
        self.report.periods_cleared.push(last);
        self.observe("month boundary");
        Ok(())
    }

    /// Disarms everything, reboots the disk, logs in, repairs, uploads, and checks.
    fn finish(&mut self) -> Result<(), FaultsError> {
        self.set_faults(false);
        {
            let mut sim = self.sim();
            sim.control(ControlRequest::ClearFaults);
            sim.power_cycle();
        }
        self.observe("final reboot");
        self.recover()?;
        let repaired = self.step("final repair", |c| c.wf.repair())?;
        self.report.repairs += 1;
        for id in repaired.issued {
            if let Err(e) = self.record_stored(id, true) {
                self.note_error("store", &e);
            }
        }
        let up = self.step("final upload", |c| c.wf.upload())?;
        for rej in &up.rejected {
            self.flag(format!(
                "final upload: bureau rejected {}: {} {}",
                rej.counter, rej.code, rej.message
            ));
        }
        {
            let st = locked(&self.faults).stats();
            self.report.frame_faults = st;
            self.report.frames = st.frames;
        }
        self.report.power_cuts = self.cuts_happened();
        self.report.power_cuts_armed = self.cuts_armed;
        let journal = self.read_journal()?;
        self.report.journal_events = journal.len() as u64;
        self.check(&journal)
    }

    fn read_journal(&mut self) -> Result<Vec<(u64, Option<JournalEvent>, bool)>, FaultsError> {
        let counter = self.step("disk info", |c| c.wf.refresh_info())?.counter;
        let mut out = Vec::new();
        for n in 1..=counter {
            match self.wf.disk().read_event(n) {
                Ok(v) => out.push((n, Some(v.event), v.uploaded)),
                Err(e) if e.wire_error().is_some() => out.push((n, None, false)),
                Err(e) => {
                    return Err(FaultsError::Stuck {
                        step: format!("reading journal event {n}"),
                        tries: 1,
                        last: e.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }

    fn check(&mut self, journal: &[(u64, Option<JournalEvent>, bool)]) -> Result<(), FaultsError> {
        let mut inv = Vec::new();
        let by_counter: HashMap<u64, &JournalEvent> = journal
            .iter()
            .filter_map(|(c, e, _)| e.as_ref().map(|e| (*c, e)))
            .collect();

        // 1. No lost invoice.
        let mut lost = Vec::new();
        for a in &self.answered {
            let on_disk = match by_counter.get(&a.counter) {
                Some(JournalEvent::Invoice(s)) => {
                    s.body.code == a.code
                        && s.body.number == a.number
                        && s.body.request_id == a.request_id
                        && s.signature == a.signature
                }
                _ => false,
            };
            let in_store = self.wf.store().invoice(a.id).is_ok_and(|r| {
                matches!(
                    r.state,
                    InvoiceState::Issued | InvoiceState::Uploaded | InvoiceState::Voided
                ) && r.disk.as_ref().is_some_and(|d| {
                    d.counter == a.counter && d.number == a.number && d.signature == a.signature
                })
            });
            if !on_disk || !in_store {
                lost.push(format!(
                    "{} {} (counter {}, row {}): on disk {on_disk}, in store {in_store}",
                    a.code, a.number, a.counter, a.id.0
                ));
            }
        }
        inv.push(result(
            "no lost invoice",
            &lost,
            format!(
                "{} answered invoices all in the journal and the store",
                self.answered.len()
            ),
        ));

        // 2. No doubled invoice.
        let mut doubled = Vec::new();
        let mut numbers: HashMap<(String, u32), u64> = HashMap::new();
        let mut requests: HashMap<RequestId, u64> = HashMap::new();
        let mut take = |code: &InvoiceCode, n: u32, c: u64, doubled: &mut Vec<String>| {
            if let Some(prev) = numbers.insert((code.to_string(), n), c) {
                doubled.push(format!("{code} {n:08} used at counters {prev} and {c}"));
            }
        };
        for (c, e, _) in journal {
            match e {
                Some(JournalEvent::Invoice(s)) => {
                    take(&s.body.code, s.body.number.get(), *c, &mut doubled);
                    if let Some(prev) = requests.insert(s.body.request_id, *c) {
                        doubled.push(format!("request id at counters {prev} and {c}"));
                    }
                }
                Some(JournalEvent::BlankVoid(b)) => {
                    for i in 0..b.body.count {
                        take(&b.body.code, b.body.first.get() + i, *c, &mut doubled);
                    }
                }
                _ => {}
            }
        }
        let rows = self.store_rows()?;
        let mut row_numbers: HashMap<(String, u32), InvoiceId> = HashMap::new();
        for r in &rows {
            if let (Some(code), Some(n)) = (&r.code, r.number)
                && let Some(prev) = row_numbers.insert((code.clone(), n), r.id)
            {
                doubled.push(format!(
                    "{code} {n:08} on store rows {} and {}",
                    prev.0, r.id.0
                ));
            }
        }
        inv.push(result(
            "no doubled invoice",
            &doubled,
            format!(
                "{} numbers used once each, {} request ids once each",
                numbers.len(),
                requests.len()
            ),
        ));

        // 3. Counters monotonic.
        let mut mono = self.counter_went_back.clone();
        let mut last_time = None;
        for (i, (c, e, _)) in journal.iter().enumerate() {
            let Some(e) = e else { continue };
            if e.counter() != *c || *c != i as u64 + 1 {
                mono.push(format!("event at {c} carries counter {}", e.counter()));
            }
            if last_time.is_some_and(|t| e.time() < t) {
                mono.push(format!("event {c} is older than the one before"));
            }
            last_time = Some(e.time());
        }
        inv.push(result(
            "counters monotonic",
            &mono,
            format!(
                "journal counters 1..={} in order, disk counter never went back",
                journal.len()
            ),
        ));

        // 4. Journal intact after reboot.
        let pk = self.step("public key", |c| {
            c.wf.disk().public_key().map_err(Into::into)
        })?;
        let mut broken = Vec::new();
        match sign::verifying_key(&pk) {
            Err(e) => broken.push(format!("disk public key: {e}")),
            Ok(vk) => {
                for (c, e, _) in journal {
                    let ok = match e {
                        None => false,
                        Some(JournalEvent::Invoice(s)) => s.verify(&vk).is_ok(),
                        Some(JournalEvent::Void(s)) => s.verify(&vk).is_ok(),
                        Some(JournalEvent::BlankVoid(s)) => s.verify(&vk).is_ok(),
                    };
                    if !ok && broken.len() < 20 {
                        broken.push(format!("event {c} missing or its signature fails"));
                    }
                }
            }
        }
        inv.push(result(
            "journal intact after reboot",
            &broken,
            format!("{} events decode and verify", journal.len()),
        ));

        // 5. Store and disk agree after repair.
        let mut disagree = Vec::new();
        let pending = self.wf.store().pending_invoices().map_or(0, |p| p.len());
        if pending > 0 {
            disagree.push(format!("{pending} rows still pending"));
        }
        let voided_on_disk: HashSet<u64> = journal
            .iter()
            .filter_map(|(_, e, _)| match e {
                Some(JournalEvent::Void(v)) => Some(v.body.invoice_counter),
                _ => None,
            })
            .collect();
        let mut store_counters: HashSet<u64> = HashSet::new();
        for r in &rows {
            if !matches!(
                r.state,
                InvoiceState::Issued | InvoiceState::Uploaded | InvoiceState::Voided
            ) {
                continue;
            }
            let row = match self.wf.store().invoice(r.id) {
                Ok(row) => row,
                Err(e) => {
                    disagree.push(format!("row {}: {e}", r.id.0));
                    continue;
                }
            };
            let Some(d) = row.disk else {
                disagree.push(format!("row {} has no disk record", r.id.0));
                continue;
            };
            store_counters.insert(d.counter);
            let same = matches!(by_counter.get(&d.counter), Some(JournalEvent::Invoice(s))
                if s.body.request_id == row.request_id && s.body.number == d.number
                    && s.body.code == d.code && s.signature == d.signature);
            if !same {
                disagree.push(format!(
                    "row {} is not the journal's counter {}",
                    r.id.0, d.counter
                ));
            }
            let voided = voided_on_disk.contains(&d.counter);
            if voided != (r.state == InvoiceState::Voided) {
                disagree.push(format!(
                    "row {}: voided on disk {voided}, store state {}",
                    r.id.0,
                    r.state.as_str()
                ));
            }
            if r.state == InvoiceState::Issued {
                disagree.push(format!(
                    "row {} not marked uploaded after the upload",
                    r.id.0
                ));
            }
        }
        for (c, e, _) in journal {
            if matches!(e, Some(JournalEvent::Invoice(_))) && !store_counters.contains(c) {
                disagree.push(format!(
                    "journal invoice at counter {c} is not in the store"
                ));
            }
        }
        if let Some((c, _, _)) = journal.iter().find(|(_, _, up)| !up) {
            disagree.push(format!(
                "journal event {c} not acknowledged after the upload"
            ));
        }
        disagree.truncate(20);
        inv.push(result(
            "store and disk agree after repair",
            &disagree,
            format!(
                "{} store rows, {} journal invoices, {} voids agree",
                rows.len(),
                store_counters.len(),
                voided_on_disk.len()
            ),
        ));

        // 6. Blank voids exactly once: each asked one answered once, with the event the
        // journal holds, and no blank-void event nobody was answered for.
        let blank_events: BTreeSet<u64> = journal
            .iter()
            .filter(|(_, e, _)| matches!(e, Some(JournalEvent::BlankVoid(_))))
            .map(|(c, _, _)| *c)
            .collect();
        let mut blank_bad = Vec::new();
        for c in blank_events.difference(&self.blank_voids_answered) {
            blank_bad.push(format!(
                "blank-void event {c} on the disk was never answered"
            ));
        }
        for c in self.blank_voids_answered.difference(&blank_events) {
            blank_bad.push(format!("blank void answered as event {c}, not on the disk"));
        }
        inv.push(result(
            "blank voids exactly once",
            &blank_bad,
            format!(
                "{} blank-void events, each answered once",
                blank_events.len()
            ),
        ));

        // 7. The bureau received exactly the disk's events.
        let mut bureau_bad = Vec::new();
        let serial = self.serial.clone();
        match self.bureau.disk(&serial) {
            Ok(d) if d.through_counter != journal.len() as u64 => bureau_bad.push(format!(
                "bureau holds through counter {}, disk {}",
                d.through_counter,
                journal.len()
            )),
            Ok(_) => {}
            Err(e) => bureau_bad.push(format!("bureau disk record: {e}")),
        }
        let events: Vec<JournalEvent> = journal.iter().filter_map(|(_, e, _)| e.clone()).collect();
        let sent = events.len();
        for chunk in events.chunks(500) {
            match self.bureau.upload(&Upload {
                serial: serial.clone(),
                events: chunk.to_vec(),
            }) {
                Ok(u) => {
                    for r in u.rejected.iter().take(10) {
                        bureau_bad.push(format!("counter {}: {} {}", r.counter, r.code, r.message));
                    }
                }
                Err(e) => bureau_bad.push(format!("re-send: {e}")),
            }
        }
        inv.push(result(
            "bureau received exactly the disk's events",
            &bureau_bad,
            format!("bureau through counter = disk counter = {sent}; re-sent journal identical"),
        ));

        // 8. Refusals explained.
        let explained: u64 = self
            .report
            .errors
            .iter()
            .filter(|(k, _)| **k != "unexplained")
            .map(|(_, v)| v)
            .sum();
        inv.push(result(
            "refusals explained by the faults",
            &self.unexplained,
            format!("{explained} errors met, each a lost answer, lost login, resend or stock"),
        ));
        self.report.invariants = inv;
        Ok(())
    }

    /// Every store row of the periods the campaign touched.
    fn store_rows(&self) -> Result<Vec<taxdisk_host::store::InvoiceRow>, FaultsError> {
        let mut periods: Vec<Period> = self.answered.iter().map(|a| a.period).collect();
        periods.push(self.now().period());
        periods.extend(self.report.periods_cleared.iter().copied());
        periods.sort();
        periods.dedup();
        let mut rows = Vec::new();
        for p in periods {
            let m = setup(self.wf.store().month(&MonthQuery::period(p)), "store query")?;
            rows.extend(m);
        }
        rows.sort_by_key(|r| r.id);
        rows.dedup_by_key(|r| r.id);
        Ok(rows)
    }
}

fn result(name: &'static str, problems: &[String], ok: String) -> InvariantResult {
    if problems.is_empty() {
        InvariantResult {
            name,
            passed: true,
            detail: ok,
        }
    } else {
        let mut detail = problems
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if problems.len() > 5 {
            detail.push_str(&format!("; and {} more", problems.len() - 5));
        }
        InvariantResult {
            name,
            passed: false,
            detail,
        }
    }
}
