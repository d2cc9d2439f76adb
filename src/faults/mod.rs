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

use crate::rig::{DiskLink, OfficeRig, RigBuilder, open_store};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use taxdisk_device_sim::bureau::BureauServer;
use taxdisk_device_sim::bureau::http::lock;
use taxdisk_device_sim::sim::SimDisk;
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::disk::{ClientConfig, DiskError, new_request_id};
use taxdisk_host::invoice::LineInput;
use taxdisk_host::invoice::model::{Draft, KindFields, Party};
use taxdisk_host::store::{BankAccount, Initialization, InvoiceId, InvoiceState, MonthQuery};
use taxdisk_host::workflow::{ClearCardFailure, Workflow, WorkflowError};
use taxdisk_i18n::width::{left, width};
use taxdisk_i18n::{Localize, t, tr};
use taxdisk_protocol::bureau_api::{RegisterTaxpayer, Upload};
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::fault::locked;
use taxdisk_protocol::fault::{FaultPlan, FaultRates, FaultStats, SharedPlan};
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::{
    CompanyName, DeviceSerial, Fen, InvoiceCode, InvoiceKind, InvoiceNumber, JournalEvent,
    KindLimits, Pin, RequestId, Signature, TaxClassCode, TaxRate, TaxpayerId, Variant,
};
use taxdisk_protocol::{Request, Response, WireError, sign};

mod findings;
mod invariants;
mod report;
mod workload;

pub use findings::Finding;
pub use report::{CampaignReport, InvariantResult, error_key, invariant_key};

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
    counter_went_back: Vec<Finding>,
    unexplained: Vec<Finding>,
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
        let start = Timestamp::cst(2026, 11, 10, 10, 0);
        // The one injector (taxdisk_protocol::fault) in front of the shared simulator: each
        // frame is hit with the campaign's probability by one of five faults, evenly; paused
        // while the campaign sets up and checks.
        // The range was checked by `run`; the product is at most 1e6.
        let rate_ppm = (cfg.frame_fault_rate * 1_000_000.0).round() as u32;
        let mut plan = FaultPlan::new(FaultRates::even(rate_ppm), cfg.seed ^ 0x6672_616d_6573);
        plan.set_active(false);
        let faults: SharedPlan = Arc::new(Mutex::new(plan));
        let rig = setup(
            RigBuilder::new(SERIAL)
                .seed(cfg.seed)
                .start(start)
                .flash_bytes(FLASH_BYTES)
                .link(DiskLink::Faulty(faults.clone()))
                .client(ClientConfig {
                    attempts: 3,
                    timeout: Duration::from_millis(50),
                    reconnect_pause: Duration::ZERO,
                    session: None,
                })
                .build(),
            "rig",
        )?;
        let store = setup(
            open_store(None, taxdisk_host::store::Durability::Full),
            "store",
        )?;
        let OfficeRig {
            mut wf,
            office,
            bureau: server,
            serial,
            sim,
            ..
        } = setup(rig.into_office(store), "bureau server")?;
        let sim = setup(sim.ok_or("no shared link"), "simulated disk")?;
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
                self.counter_went_back.push(Finding::CounterWentBack {
                    after: after.to_owned(),
                    counter: info.counter,
                    seen: self.max_counter_seen,
                });
            }
            self.max_counter_seen = self.max_counter_seen.max(info.counter);
        }
    }

    /// Records an error of the workflow: counted by class when the faults explain it, listed
    /// as unexplained otherwise.
    fn note_error(&mut self, what: &str, e: &WorkflowError) {
        match explain(e) {
            Some(class) => *self.report.errors.entry(class).or_insert(0) += 1,
            None => self.flag(Finding::Unexplained {
                step: what.to_owned(),
                error: e.localized(),
            }),
        }
    }

    /// Records something the faults do not explain (shown in the "refusals explained"
    /// invariant, the first 20 in full).
    fn flag(&mut self, what: Finding) {
        *self.report.errors.entry("unexplained").or_insert(0) += 1;
        if self.unexplained.len() < 20 {
            self.unexplained.push(what);
        }
    }

    /// Notes of the workflow (automatic upload, monthly report) that name a bureau refusal.
    fn note_text(&mut self, what: &str, note: &str) {
        if note.contains("refused") && !note.contains("disk") {
            self.flag(Finding::Unexplained {
                step: what.to_owned(),
                error: note.to_owned(),
            });
        }
    }
}
