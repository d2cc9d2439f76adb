//! Backup and restore (H4, FAQ 2.7-2.9), the invoice query (H3), the monthly export (H16, FAQ
//! 9.11) and printing (H18, FAQ 6.1-6.7), through the workflow so the logged-in user is the
//! actor.

use super::Workflow;
use super::errors::WorkflowError;
use super::signed::{SignedCheck, check_all, differs_error, verifying};
use crate::export::print::{ListLayout, Margins, PrintMeta, render};
use crate::export::xlsx::{ExportRow, ExportSummary, MonthWriter};

/// How many invoices a month export reads, checks (on every core) and writes at a time.
pub const EXPORT_BATCH: usize = 4096;
use crate::store::company::SETTING_BACKUP_FOLDER;
use crate::store::{Action, BackupEntry, InvoiceId, InvoiceState, MonthQuery, StoredInvoice};
use std::path::Path;
use taxdisk_protocol::checkcode::{check_code, cipher_area};
use taxdisk_protocol::time::Period;

/// Whether a stored invoice is one a month export covers: the disk signed it (issued,
/// uploaded, voided; the writer leaves the voided out and counts them).
fn exported(s: &StoredInvoice) -> bool {
    matches!(
        s.state,
        InvoiceState::Issued | InvoiceState::Uploaded | InvoiceState::Voided
    ) && s.disk.is_some()
}

/// H16: the stored invoices of `period` a month export covers, all at once (for benches and
/// tests; [`Workflow::export_month`] streams them instead).
pub fn export_rows(
    store: &crate::store::Store,
    period: Period,
) -> Result<Vec<StoredInvoice>, crate::store::StoreError> {
    let mut rows = Vec::new();
    store.for_each_in_month(&MonthQuery::period(period), |s| {
        if exported(&s) {
            rows.push(s);
        }
        Ok::<_, crate::store::StoreError>(())
    })?;
    Ok(rows)
}

/// Hands one stored invoice to the month's writer: code and number as printed, the disk's
/// time, voided and uploaded marks. Rows without the disk's record are not the export's.
fn push_stored(
    w: &mut MonthWriter,
    s: &StoredInvoice,
) -> Result<(), crate::export::xlsx::ExportError> {
    let Some(d) = s.disk.as_ref() else {
        return Ok(());
    };
    let code = d.code.as_str();
    let number = format!("{:08}", d.number.get());
    w.push(&ExportRow {
        invoice: &s.invoice,
        code,
        number: &number,
        issued_at: d.time,
        voided: s.state == InvoiceState::Voided,
        uploaded: s.state == InvoiceState::Uploaded,
    })
}

/// H16: writes the month's .xlsx of stored invoices (those the disk signed; the rest are
/// skipped), without the H8 check [`Workflow::export_month`] makes.
pub fn export_stored(
    rows: &[StoredInvoice],
    period: Period,
    path: &Path,
) -> Result<ExportSummary, crate::export::xlsx::ExportError> {
    let mut w = MonthWriter::create(period, path)?;
    for s in rows {
        push_stored(&mut w, s)?;
    }
    w.finish()
}

impl Workflow {
    /// H4 (FAQ 2.7): sets the backup folder.
    pub fn set_backup_folder(&mut self, folder: &Path) -> Result<(), WorkflowError> {
        let user = self.require_user("backup settings")?;
        let text = folder.to_str().ok_or_else(|| {
            WorkflowError::rule("backup settings", "the folder name is not UTF-8", "H4")
        })?;
        self.store
            .set_setting(user.id, SETTING_BACKUP_FOLDER, text)?;
        Ok(())
    }

    /// H4 (FAQ 2.8): a consistent backup of the database into the backup folder; any user.
    pub fn backup(&mut self) -> Result<BackupEntry, WorkflowError> {
        let user = self.require_user("backup")?;
        Ok(self.store.backup(user.id)?)
    }

    /// H4 (FAQ 2.9): the backups in the folder, oldest first.
    pub fn list_backups(&self) -> Result<Vec<BackupEntry>, WorkflowError> {
        Ok(self.store.list_backups()?)
    }

    /// H4 (FAQ 2.9): restores the listed backup `name`; the administrator only.
    pub fn restore(&mut self, name: &str) -> Result<(), WorkflowError> {
        let user = self.require_user("restore")?;
        self.store.restore(user.id, name)?;
        // The restored users table decides who is logged in.
        self.user = self.store.user(user.id).ok();
        Ok(())
    }

    /// H16 (FAQ 9.11): exports the invoices of `period` with their lines to an .xlsx file;
    /// voided invoices are left out. H8: only what the disk signed is written; a row that
    /// differs is left out and counted. The month is read, checked and written
    /// [`EXPORT_BATCH`] invoices at a time, so its memory does not grow with the month.
    pub fn export_month(
        &mut self,
        period: Period,
        path: &Path,
    ) -> Result<ExportSummary, WorkflowError> {
        self.require_user("export")?;
        let signer = self.signer()?;
        let vk = verifying(&signer)?;
        let mut w = MonthWriter::create(period, path)?;
        let mut batch: Vec<StoredInvoice> = Vec::with_capacity(EXPORT_BATCH);
        let flush = |batch: &mut Vec<StoredInvoice>,
                     w: &mut MonthWriter|
         -> Result<(), crate::export::xlsx::ExportError> {
            for (s, c) in batch.iter().zip(check_all(batch, &signer, &vk)) {
                if c.may_show() {
                    push_stored(w, s)?;
                } else {
                    w.skip_not_as_signed();
                }
            }
            batch.clear();
            Ok(())
        };
        self.store
            .for_each_in_month(&MonthQuery::period(period), |s| {
                if exported(&s) {
                    batch.push(s);
                    if batch.len() == EXPORT_BATCH {
                        flush(&mut batch, &mut w)?;
                    }
                }
                Ok::<_, WorkflowError>(())
            })?;
        flush(&mut batch, &mut w)?;
        Ok(w.finish()?)
    }

    /// H3 with H8: the month's invoices the user may query, each with how it stands against
    /// the disk's signature, `batch` at a time to `f` (so a month of 100,000 is never all in
    /// memory). Refused attempts (`abandoned`) are left out unless `all`.
    pub fn for_each_listed(
        &mut self,
        q: &MonthQuery,
        all: bool,
        mut f: impl FnMut(&StoredInvoice, &SignedCheck),
    ) -> Result<(), WorkflowError> {
        const BATCH: usize = 4096;
        let allowed = self.queryable_kinds()?;
        let signer = self.signer()?;
        let vk = verifying(&signer)?;
        let mut batch = Vec::with_capacity(BATCH);
        let mut flush = |batch: &mut Vec<StoredInvoice>| {
            for (s, c) in batch.iter().zip(check_all(batch, &signer, &vk)) {
                f(s, &c);
            }
            batch.clear();
        };
        self.store.for_each_in_month(q, |s| {
            if (all || s.state != InvoiceState::Abandoned) && allowed.contains(&s.invoice.kind()) {
                batch.push(s);
                if batch.len() == BATCH {
                    flush(&mut batch);
                }
            }
            Ok::<_, WorkflowError>(())
        })?;
        flush(&mut batch);
        Ok(())
    }

    /// The kinds the logged-in user may query (H3).
    fn queryable_kinds(
        &mut self,
    ) -> Result<Vec<taxdisk_protocol::types::InvoiceKind>, WorkflowError> {
        let user = self.require_user("invoice query")?;
        let mut allowed = Vec::new();
        for kind in taxdisk_protocol::types::InvoiceKind::ALL {
            if self.store.can(user.id, kind, Action::Query)? {
                allowed.push(kind);
            }
        }
        Ok(allowed)
    }

    /// H18 (FAQ 6.1, 6.3): renders an issued invoice (and its sales list) to PDF with margin
    /// offsets; reprinting is unlimited. Needs the query permission for its kind (H3).
    pub fn print(
        &mut self,
        id: InvoiceId,
        margins: Margins,
        layout: ListLayout,
    ) -> Result<Vec<u8>, WorkflowError> {
        let user = self.require_user("print")?;
        let s = self.store.invoice(id)?;
        self.store
            .require(user.id, s.invoice.kind(), Action::Query)?;
        let Some(d) = &s.disk else {
            return Err(WorkflowError::rule(
                format!("print of invoice {}", id.0),
                format!("the invoice is {}, not issued", s.state.as_str()),
                "H18",
            ));
        };
        if !self.check_signed(&s)?.may_show() {
            return Err(differs_error(format!("print of invoice {}", id.0), &s));
        }
        let machine = self.info()?.machine;
        let cipher = cipher_area(&d.signature);
        let meta = PrintMeta {
            code: d.code.as_str().to_owned(),
            number: format!("{:08}", d.number.get()),
            issued_at: d.time,
            machine,
            check_code: d
                .check_code
                .clone()
                .unwrap_or_else(|| check_code(&d.signature))
                .as_str()
                .to_owned(),
            cipher: String::from_utf8_lossy(&cipher).into_owned(),
            voided: s.state == InvoiceState::Voided,
        };
        Ok(render(&s.invoice, &meta, margins, layout)?)
    }
}
