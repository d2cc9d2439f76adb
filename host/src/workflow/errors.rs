//! [`WorkflowError`]: the one error of the workflow. Its `Display` is one line for a person,
//! ending with the rule that refused (RULES.md ids, FAQ references); the wrapped errors keep
//! their detail (the disk's [`WireError`], the bureau's [`ApiError`], the store's rule).

use crate::bureau_client::BureauError;
use crate::disk::DiskError;
use crate::export::print::PrintError;
use crate::export::xlsx::ExportError;
use crate::invoice::InvoiceError;
use crate::store::{InvoiceId, StoreError};
use std::path::PathBuf;
use taxdisk_protocol::WireError;
use taxdisk_protocol::bureau_api::ApiError;
use taxdisk_protocol::time::Period;

/// Why clearing the card (清卡) failed: each reason of FAQ 9.10 is its own case (H12).
#[derive(Debug, thiserror::Error)]
pub enum ClearCardFailure {
    /// FAQ 9.10(1): no secure access server address is set.
    #[error(
        "no secure access server address (安全接入服务器地址) is set: set it and test the \
         connection (FAQ 9.10(1), H12)"
    )]
    NoServer,
    /// FAQ 9.10(2): the network or the bureau is unreachable.
    #[error("the network to the tax bureau is down: {0} (FAQ 9.10(2), H12)")]
    Network(BureauError),
    /// FAQ 9.10(3)/(4): the period is not declared (or the declaration has not reached the
    /// bureau yet: wait and try again).
    #[error(
        "period {period} is not declared (申报) at the tax bureau, or the declaration has not \
         arrived yet: declare, then clear the card again (FAQ 9.10(3), 9.10(4), H12)"
    )]
    NotDeclared {
        /// The period.
        period: Period,
    },
    /// The period's summary was not reported (上报汇总) yet.
    #[error("period {period} is not reported (上报汇总) yet: report it first (FAQ 9.5, H12)")]
    NotReported {
        /// The period.
        period: Period,
    },
    /// Invoices of the period are not all uploaded.
    #[error(
        "invoices of period {period} are not all uploaded: upload them, then clear the card \
         (FAQ 9.5(2), H11)"
    )]
    UploadIncomplete {
        /// The period.
        period: Period,
    },
    /// The period has not ended.
    #[error("period {period} has not ended yet; it can be cleared next month (H12)")]
    NotFinished {
        /// The period.
        period: Period,
    },
    /// The declared or reported data do not match (FAQ 9.10(3): correct and declare again).
    #[error(
        "the declaration or summary of period {period} does not match the invoices: {message} \
         (FAQ 9.10(3), H12)"
    )]
    DataMismatch {
        /// The period.
        period: Period,
        /// The bureau's words.
        message: String,
    },
    /// The bureau refused for another reason.
    #[error("the tax bureau refused the clear card: {0} (H12)")]
    Refused(BureauError),
    /// The disk refused the clear-card token.
    #[error("the disk refused the clear-card token: {0} (H12)")]
    Disk(DiskError),
}

/// Why a workflow step failed. See the module docs.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The disk refused or could not be reached.
    #[error(transparent)]
    Disk(#[from] DiskError),
    /// The tax bureau refused or could not be reached.
    #[error(transparent)]
    Bureau(Box<BureauError>),
    /// The store refused (its message names the rule).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The invoice breaks a composition rule (its message names the rule).
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    /// Nobody is logged in.
    #[error(
        "{action} refused: nobody is logged in; log in with user name, password and disk PIN (H2)"
    )]
    NotLoggedIn {
        /// What was attempted.
        action: &'static str,
    },
    /// The step needs the tax bureau but no address is set.
    #[error(
        "{action} needs the tax bureau, but no secure access server address (安全接入服务器地址) \
         is set (FAQ 2.1, H1)"
    )]
    NoBureau {
        /// What was attempted.
        action: &'static str,
    },
    /// H1: the connection test failed; nothing was saved.
    #[error("initialization refused: the connection test to {url} failed: {source} (FAQ 2.1, H1)")]
    ConnectionTest {
        /// The address tested.
        url: String,
        /// Why.
        source: Box<BureauError>,
    },
    /// H9: only the issuer or the administrator may void.
    #[error(
        "void refused: invoice {} was issued by another user; only the issuer or the \
         administrator may void (FAQ 5.1, H9)", .id.0
    )]
    VoidNotPermitted {
        /// The invoice.
        id: InvoiceId,
    },
    /// A step refused by a rule the workflow checks itself.
    #[error("{what} refused: {problem} ({rule})")]
    Rule {
        /// What was attempted.
        what: String,
        /// Why.
        problem: String,
        /// Rule id and FAQ reference.
        rule: &'static str,
    },
    /// H8: the disk's answer to an Issue was lost: the invoice stays pending until repair.
    #[error(
        "invoice {} may or may not have been signed ({source}); it stays pending: run repair \
         (FAQ 4.22, H8, H11)", .id.0
    )]
    IssueUnknown {
        /// The pending invoice.
        id: InvoiceId,
        /// The link error.
        source: DiskError,
    },
    /// One item of a batch (several voids) failed; the ones before it are done.
    #[error(
        "invoice {}: {source} (invoices done before it: {})", .at.0,
        .done.iter().map(|i| i.0.to_string()).collect::<Vec<_>>().join(", ")
    )]
    Batch {
        /// Done before the failure.
        done: Vec<InvoiceId>,
        /// The item that failed.
        at: InvoiceId,
        /// Why.
        source: Box<WorkflowError>,
    },
    /// D4, H13 (FAQ 4.21(4)): the disk refused a roll return because the bureau's receipt of
    /// the last month's summary is not on it.
    #[error(
        "returning the roll refused: the tax bureau has not received the summary (上报汇总) of \
         {period}; a roll can be returned only once that month is reported (FAQ 4.21(4), D4)"
    )]
    ReturnBeforeReport {
        /// The month whose report is missing.
        period: Period,
    },
    /// H12: clearing the card failed, with the FAQ 9.10 reason.
    #[error("clear card (清卡) failed: {0}")]
    ClearCard(Box<ClearCardFailure>),
    /// A medium file (roll grants, counter report, red form XML) is unreadable or wrong.
    #[error("medium file {}: {problem} ({rule})", .path.display())]
    Medium {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
        /// Rule id.
        rule: &'static str,
    },
    /// Writing or reading a file failed.
    #[error("file {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The monthly export failed (H16).
    #[error("export failed: {0} (H16)")]
    Export(Box<ExportError>),
    /// Printing was refused (H18).
    #[error("print refused: {0} (H18)")]
    Print(#[from] PrintError),
}

impl From<BureauError> for WorkflowError {
    fn from(e: BureauError) -> Self {
        WorkflowError::Bureau(Box::new(e))
    }
}

impl From<ClearCardFailure> for WorkflowError {
    fn from(e: ClearCardFailure) -> Self {
        WorkflowError::ClearCard(Box::new(e))
    }
}

impl From<ExportError> for WorkflowError {
    fn from(e: ExportError) -> Self {
        WorkflowError::Export(Box::new(e))
    }
}

impl WorkflowError {
    /// A refusal by a rule the workflow checks itself.
    pub fn rule(what: impl Into<String>, problem: impl Into<String>, rule: &'static str) -> Self {
        WorkflowError::Rule {
            what: what.into(),
            problem: problem.into(),
            rule,
        }
    }

    /// The disk's wire error, when the disk refused (also inside a batch or a clear card).
    pub fn wire_error(&self) -> Option<WireError> {
        match self {
            WorkflowError::Disk(e) => e.wire_error(),
            WorkflowError::ClearCard(c) => match c.as_ref() {
                ClearCardFailure::Disk(e) => e.wire_error(),
                _ => None,
            },
            WorkflowError::Batch { source, .. } => source.wire_error(),
            WorkflowError::ReturnBeforeReport { .. } => Some(WireError::ReturnBeforeReport),
            _ => None,
        }
    }

    /// The bureau's error report, when the bureau refused.
    pub fn api_error(&self) -> Option<&ApiError> {
        let b: &BureauError = match self {
            WorkflowError::Bureau(b) | WorkflowError::ConnectionTest { source: b, .. } => b,
            WorkflowError::ClearCard(c) => match c.as_ref() {
                ClearCardFailure::Network(b) | ClearCardFailure::Refused(b) => b,
                _ => return None,
            },
            WorkflowError::Batch { source, .. } => return source.api_error(),
            _ => return None,
        };
        match b {
            BureauError::Api { error, .. } | BureauError::NeedsTaxOffice { error, .. } => {
                Some(error)
            }
            _ => None,
        }
    }

    /// Whether the tax bureau could not be reached (unreachable or timed out): the step may
    /// succeed later, and issuing continues offline within the disk's limits (D9).
    pub fn is_offline(&self) -> bool {
        match self {
            WorkflowError::Bureau(b) => bureau_offline(b),
            WorkflowError::ClearCard(c) => matches!(c.as_ref(), ClearCardFailure::Network(_)),
            _ => false,
        }
    }
}

/// Whether a bureau error means "not reachable now" rather than a refusal: unreachable, timed
/// out, or answered 502/503/504 — the bureau whose database is down (`unavailable`), or a
/// proxy in front of bureau workers none of which answers. A 500 is not: the same request
/// would fail again.
pub(crate) fn bureau_offline(e: &BureauError) -> bool {
    match e {
        BureauError::Unreachable { .. } | BureauError::Timeout { .. } => true,
        BureauError::Api { status, .. } | BureauError::Http { status, .. } => {
            matches!(status, 502..=504)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> BureauError {
        BureauError::Api {
            status,
            path: "/upload".into(),
            error: ApiError {
                code: "unavailable".into(),
                message: "the bureau's database is unavailable".into(),
                rule: String::new(),
            },
        }
    }

    #[test]
    fn h11_bureau_without_its_database_counts_as_offline() {
        assert!(bureau_offline(&api(503)));
        assert!(bureau_offline(&BureauError::Http {
            url: "http://127.0.0.1:1".into(),
            path: "/upload".into(),
            status: 502,
            snippet: "bad gateway".into(),
        }));
        assert!(
            !bureau_offline(&api(500)),
            "an internal error is not offline"
        );
        assert!(!bureau_offline(&api(409)), "a refusal is not offline");
    }
}
