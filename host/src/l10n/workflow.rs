//! [`WorkflowError`] and [`ClearCardFailure`] (each FAQ 9.10 reason its own message, H12).

use crate::workflow::{ClearCardFailure, WorkflowError};
use taxdisk_i18n::{Localize, phrase, t};

impl Localize for ClearCardFailure {
    fn localized(&self) -> String {
        match self {
            ClearCardFailure::NoServer => t!("clear-no-server"),
            ClearCardFailure::Network(b) => t!("clear-network", error = b.localized()),
            ClearCardFailure::NotDeclared { period } => t!("clear-not-declared", period = period),
            ClearCardFailure::NotReported { period } => t!("clear-not-reported", period = period),
            ClearCardFailure::UploadIncomplete { period } => {
                t!("clear-upload-incomplete", period = period)
            }
            ClearCardFailure::NotFinished { period } => t!("clear-not-finished", period = period),
            ClearCardFailure::DataMismatch { period, message } => {
                t!("clear-data-mismatch", period = period, message = message)
            }
            ClearCardFailure::Refused(b) => t!("clear-refused", error = b.localized()),
            ClearCardFailure::Disk(d) => t!("clear-disk", error = d.localized()),
        }
    }
}

impl Localize for WorkflowError {
    fn localized(&self) -> String {
        match self {
            WorkflowError::Disk(e) => e.localized(),
            WorkflowError::Bureau(b) => b.localized(),
            WorkflowError::Store(s) => s.localized(),
            WorkflowError::Invoice(i) => i.localized(),
            WorkflowError::NotLoggedIn { action } => {
                t!("wf-not-logged-in", action = phrase(action))
            }
            WorkflowError::NoBureau { action } => t!("wf-no-bureau", action = phrase(action)),
            WorkflowError::ConnectionTest { url, source } => {
                t!("wf-connection-test", url = url, error = source.localized())
            }
            WorkflowError::VoidNotPermitted { id } => t!("wf-void-not-permitted", id = id.0),
            WorkflowError::Rule {
                what,
                problem,
                rule,
            } => t!(
                "wf-rule",
                what = phrase(what),
                problem = phrase(problem),
                rule = rule
            ),
            WorkflowError::IssueUnknown { id, source } => {
                t!("wf-issue-unknown", id = id.0, error = source.localized())
            }
            WorkflowError::Batch { done, at, source } => t!(
                "wf-batch",
                at = at.0,
                error = source.localized(),
                done = done
                    .iter()
                    .map(|i| i.0.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            WorkflowError::ReturnBeforeReport { period } => {
                t!("wf-return-before-report", period = period)
            }
            WorkflowError::ClearCard(c) => t!("wf-clear-card", error = c.localized()),
            WorkflowError::Medium {
                path,
                problem,
                rule,
            } => t!(
                "wf-medium",
                path = path.display(),
                problem = phrase(problem),
                rule = rule
            ),
            WorkflowError::Io { path, source } => {
                t!("wf-io", path = path.display(), error = source)
            }
            WorkflowError::Export(e) => t!("wf-export", error = e),
            WorkflowError::Print(e) => t!("wf-print", error = e),
        }
    }
}
