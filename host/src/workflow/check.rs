//! Invoice check (查验, B9) of a stored invoice at the bureau: by code, number and date, with
//! the tax-excluded amount for special invoices and the last 6 digits of the check code for the
//! others. Shows that the bureau holds the invoice as the disk signed it, and whether it was
//! voided or reversed.

use super::Workflow;
use super::errors::WorkflowError;
use crate::store::{Action, InvoiceId};
use taxdisk_protocol::bureau_api::{CheckRequest, CheckResult};
use taxdisk_protocol::types::InvoiceKind;

impl Workflow {
    /// B9: checks the issued invoice `id` at the bureau. Needs the query permission (H3).
    pub fn check_invoice(&mut self, id: InvoiceId) -> Result<CheckResult, WorkflowError> {
        let user = self.require_user("invoice check")?;
        let bureau = self.require_bureau("invoice check (查验)")?.clone();
        let s = self.store.invoice(id)?;
        self.store
            .require(user.id, s.invoice.kind(), Action::Query)?;
        let Some(d) = &s.disk else {
            return Err(WorkflowError::rule(
                format!("check of invoice {}", id.0),
                format!("the invoice is {}, not issued", s.state.as_str()),
                "B9",
            ));
        };
        let c = d.time.civil();
        let special = s.invoice.kind() == InvoiceKind::Special;
        let last6 = d.check_code.as_ref().map(|cc| {
            let t = cc.as_str();
            t.get(t.len().saturating_sub(6)..).unwrap_or(t).to_owned()
        });
        Ok(bureau.check(&CheckRequest {
            code: d.code.clone(),
            number: d.number,
            date: u32::from(c.year) * 10_000 + u32::from(c.month) * 100 + u32::from(c.day),
            amount: special.then(|| s.invoice.amount_fen()),
            check_code_last6: if special { None } else { last6 },
        })?)
    }
}
