//! What the fault campaign reports: each invariant with its outcome, the counts of what it
//! did and the errors it explained, printed as `taxdisk faults` shows them.

use super::*;

/// One invariant with its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantResult {
    /// What is checked.
    pub name: &'static str,
    /// Whether it held.
    pub passed: bool,
    /// What was compared (one finding), or the first violations (and how many more).
    pub findings: Vec<Finding>,
}

impl InvariantResult {
    /// The findings as one line in the process's language, separated by `; ` (`；`).
    pub fn detail(&self) -> String {
        let sep = tr("faults-find-sep", &[]);
        self.findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(&sep)
    }
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
    /// the catalogue (`faults-*`), an invariant's findings too (`faults-find-*`).
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
            writeln!(
                f,
                "{}",
                t!(
                    "faults-inv-line",
                    mark = mark,
                    name = name,
                    detail = i.detail()
                )
            )?;
        }
        let secs = format!("{:.1}", self.elapsed.as_secs_f64());
        if self.passed() {
            writeln!(f, "{}", t!("faults-all-hold", secs = secs))
        } else {
            writeln!(f, "{}", t!("faults-violated", secs = secs))
        }
    }
}
