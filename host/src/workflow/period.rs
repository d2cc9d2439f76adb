//! The monthly cycle (H12, FAQ 9.1-9.10): copy tax (抄税) and report (上报汇总), the bureau-side
//! declaration, clear card (清卡) with each FAQ 9.10 reason as its own message, and the counter
//! report (办税厅抄报) that writes the signed summary and the period's journal events to a
//! medium file for the tax office.

use super::Workflow;
use super::errors::{ClearCardFailure, WorkflowError, bureau_offline};
use crate::bureau_client::BureauError;
use serde::{Deserialize, Serialize};
use std::path::Path;
use taxdisk_protocol::WireError;
use taxdisk_protocol::bureau_api::{ClearRequest, Declare};
use taxdisk_protocol::time::Period;
use taxdisk_protocol::types::{JournalEvent, PeriodSummary, ReportReceipt, Signed};

/// Format tag of a counter-report medium file.
pub const COUNTER_REPORT_FORMAT: &str = "taxdisk-counter-report/1";

/// What the counter report (办税厅抄报) writes to the medium: the disk-signed summary and every
/// journal event of the period (each disk-signed), as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterReport {
    /// [`COUNTER_REPORT_FORMAT`].
    pub format: String,
    /// The signed summary (D8).
    pub summary: Signed<PeriodSummary>,
    /// The period's journal events, counter order.
    pub events: Vec<JournalEvent>,
}

impl Workflow {
    /// H12: copies `period` on the disk (抄税, D8; repeating it answers the same summary),
    /// uploads what is pending and reports the signed summary to the bureau (上报汇总, B4);
    /// the bureau's receipt goes to the disk at once (D4: a roll return waits for it). A
    /// period reported before is sent again, which fetches a receipt the disk lacks.
    pub fn report_period(
        &mut self,
        period: Period,
    ) -> Result<Signed<PeriodSummary>, WorkflowError> {
        self.require_user("report")?;
        self.require_bureau("report (上报汇总)")?;
        let summary = self.disk.copy_tax(period)?;
        self.info = None;
        self.upload()?;
        let bureau = self.require_bureau("report (上报汇总)")?.clone();
        let result = bureau.summary(&summary)?;
        self.read_report_receipt(result.receipt)?;
        Ok(summary)
    }

    /// D4 (FAQ 4.21(4)): reads the bureau's receipt of a summary into the disk. A receipt the
    /// disk already holds (or whose period a clear card already marked) is fine: `Replayed`
    /// means there is nothing left to do.
    pub(crate) fn read_report_receipt(
        &mut self,
        receipt: Signed<ReportReceipt>,
    ) -> Result<(), WorkflowError> {
        match self.disk.apply_report_receipt(receipt) {
            Ok(()) => {}
            Err(e) if e.wire_error() == Some(WireError::Replayed) => {}
            Err(e) => return Err(e.into()),
        }
        self.info = None;
        Ok(())
    }

    /// B5: declares `period` at the bureau (a bureau-side step, exposed for demos and tests).
    pub fn declare(&mut self, period: Period) -> Result<(), WorkflowError> {
        let bureau = self.require_bureau("declaration")?.clone();
        let taxpayer_id = self.taxpayer_id("declaration")?;
        bureau.declare(&Declare {
            taxpayer_id,
            period,
        })?;
        Ok(())
    }

    /// H12 (FAQ 9.10): clear card (清卡) of a reported and declared period: the bureau's token
    /// goes to the disk, which sets its next lock time and upload deadline and any new offline
    /// limits (D8, FAQ 9.14(3)). Each failure reason is its own [`ClearCardFailure`].
    pub fn clear_card(&mut self, period: Period) -> Result<(), WorkflowError> {
        let Some(bureau) = self.bureau.clone() else {
            return Err(ClearCardFailure::NoServer.into());
        };
        let serial = self.serial()?;
        let token = bureau
            .clear_card(&ClearRequest { serial, period })
            .map_err(|e| clear_failure(period, e))?;
        self.disk
            .clear_card(token)
            .map_err(ClearCardFailure::Disk)?;
        self.refresh_info()?;
        Ok(())
    }

    /// H12 (FAQ 9.4, 9.6): the counter report (办税厅抄报): copies `period` (D8) and writes the
    /// signed summary with every journal event of the period to `medium` (JSON,
    /// [`CounterReport`]), for the tax office when the online report is not possible.
    pub fn counter_report(&mut self, period: Period, medium: &Path) -> Result<(), WorkflowError> {
        self.require_user("counter report")?;
        let summary = self.disk.copy_tax(period)?;
        self.info = None;
        let b = &summary.body;
        let mut events = Vec::new();
        if b.first_counter > 0 {
            for c in b.first_counter..=b.last_counter {
                let v = self.disk.read_event(c)?;
                if v.event.time().period() == period {
                    events.push(v.event);
                }
            }
        }
        let report = CounterReport {
            format: COUNTER_REPORT_FORMAT.into(),
            summary,
            events,
        };
        let json = serde_json::to_vec_pretty(&report).map_err(|e| WorkflowError::Medium {
            path: medium.to_path_buf(),
            problem: e.to_string(),
            rule: "H12",
        })?;
        std::fs::write(medium, json).map_err(|source| WorkflowError::Io {
            path: medium.to_path_buf(),
            source,
        })?;
        Ok(())
    }
}

/// Reads a counter-report medium file back (the tax office's side, and tests). Untrusted input:
/// any problem is an error, never a panic.
pub fn read_counter_report(medium: &Path) -> Result<CounterReport, WorkflowError> {
    let bytes = read_medium(medium)?;
    let r: CounterReport = serde_json::from_slice(&bytes).map_err(|e| WorkflowError::Medium {
        path: medium.to_path_buf(),
        problem: format!("not a counter report: {e}"),
        rule: "H12",
    })?;
    if r.format != COUNTER_REPORT_FORMAT {
        return Err(WorkflowError::Medium {
            path: medium.to_path_buf(),
            problem: format!("format {:?}, expected {COUNTER_REPORT_FORMAT:?}", r.format),
            rule: "H12",
        });
    }
    Ok(r)
}

/// Largest medium file read (a month of events fits many times over).
pub const MAX_MEDIUM_BYTES: u64 = 256 * 1024 * 1024;

/// Reads a medium file with a size limit.
pub(crate) fn read_medium(path: &Path) -> Result<Vec<u8>, WorkflowError> {
    let io = |source| WorkflowError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_MEDIUM_BYTES {
        return Err(WorkflowError::Medium {
            path: path.to_path_buf(),
            problem: format!("{len} bytes, more than the {MAX_MEDIUM_BYTES} a medium holds"),
            rule: "H13",
        });
    }
    std::fs::read(path).map_err(io)
}

/// The FAQ 9.10 reason of a refused clear card.
fn clear_failure(period: Period, e: BureauError) -> ClearCardFailure {
    if bureau_offline(&e) {
        return ClearCardFailure::Network(e);
    }
    match e.api_code() {
        Some("not_declared") => ClearCardFailure::NotDeclared { period },
        Some("not_reported") => ClearCardFailure::NotReported { period },
        Some("upload_incomplete") => ClearCardFailure::UploadIncomplete { period },
        Some("period_not_finished") => ClearCardFailure::NotFinished { period },
        Some("summary_mismatch") => ClearCardFailure::DataMismatch {
            period,
            message: match &e {
                BureauError::Api { error, .. } => error.message.clone(),
                other => other.to_string(),
            },
        },
        _ => ClearCardFailure::Refused(e),
    }
}
