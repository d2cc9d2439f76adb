//! The monthly export (H16, FAQ 9.11: 发票数据导出): one .xlsx with a sheet of invoices and a
//! sheet of their lines; voided invoices are left out. Written in rust_xlsxwriter's
//! constant-memory mode so 100,000 invoices export in seconds with flat memory.

use crate::invoice::model::{Invoice, LineKind};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use std::path::Path;
use taxdisk_protocol::time::{Period, Timestamp};

/// One issued invoice to export.
#[derive(Clone, Debug)]
pub struct ExportRow<'a> {
    /// The invoice content.
    pub invoice: &'a Invoice,
    /// Invoice code.
    pub code: &'a str,
    /// Invoice number, 8 digits.
    pub number: &'a str,
    /// When the disk issued it.
    pub issued_at: Timestamp,
    /// Voided invoices are skipped.
    pub voided: bool,
    /// Whether the bureau acknowledged it.
    pub uploaded: bool,
}

/// What an export wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// Invoices written.
    pub invoices: usize,
    /// Lines written.
    pub lines: usize,
    /// Voided invoices left out.
    pub voided_skipped: usize,
    /// Invoices of other periods left out.
    pub other_period_skipped: usize,
    /// Invoices left out because the stored copy is not what the disk signed (H8): `repair`.
    pub not_as_signed: usize,
}

/// Why the export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The spreadsheet writer failed (I/O, path).
    #[error("writing {path}: {source}")]
    Xlsx {
        /// The file.
        path: String,
        /// Cause.
        source: XlsxError,
    },
}

fn num(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

const INVOICE_HEADERS: [&str; 12] = [
    "发票种类",
    "发票代码",
    "发票号码",
    "开票日期",
    "购方名称",
    "购方税号",
    "金额",
    "税额",
    "价税合计",
    "红字",
    "上传",
    "备注",
];
const LINE_HEADERS: [&str; 13] = [
    "发票代码",
    "发票号码",
    "序号",
    "货物或应税劳务名称",
    "税收分类编码",
    "规格型号",
    "单位",
    "数量",
    "单价",
    "金额",
    "税率",
    "税额",
    "行性质",
];

fn headers(ws: &mut Worksheet, names: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (c, h) in names.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, bold)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Writes the invoices of `period` (voided ones left out) to `path`: a [`MonthWriter`] fed
/// with `rows`.
pub fn export_month(
    rows: &[ExportRow<'_>],
    period: Period,
    path: &Path,
) -> Result<ExportSummary, ExportError> {
    let mut w = MonthWriter::create(period, path)?;
    for r in rows {
        w.push(r)?;
    }
    w.finish()
}

/// A month's workbook written as its invoices come, one at a time: both sheets are in
/// rust_xlsxwriter's constant-memory mode (each row goes to the sheet's temporary file when
/// the next begins), so an export's memory does not grow with the month.
pub struct MonthWriter {
    wb: Workbook,
    period: Period,
    path: std::path::PathBuf,
    money: Format,
    /// What has been written: the invoices and lines written so far also place the next row
    /// of each sheet (below the header row).
    summary: ExportSummary,
}

impl std::fmt::Debug for MonthWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonthWriter")
            .field("period", &self.period)
            .field("path", &self.path)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// The workbook error for a write to `path`.
fn xlsx_error(path: &Path) -> impl Fn(XlsxError) -> ExportError + Copy + '_ {
    move |source| ExportError::Xlsx {
        path: path.display().to_string(),
        source,
    }
}

/// The sheet row after `written` data rows and the header row. A count past `u32` saturates,
/// and rust_xlsxwriter refuses the row as beyond the sheet's limit.
fn below_header(written: usize) -> u32 {
    u32::try_from(written).map_or(u32::MAX, |n| n.saturating_add(1))
}

const INVOICES_SHEET: usize = 0;
const LINES_SHEET: usize = 1;

impl MonthWriter {
    /// A workbook for `period`'s invoices, to be saved at `path` by [`MonthWriter::finish`].
    pub fn create(period: Period, path: &Path) -> Result<MonthWriter, ExportError> {
        let wrap = xlsx_error(path);
        let bold = Format::new().set_bold();
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet_with_constant_memory().map_err(wrap)?;
        ws.set_name(format!("发票{period}")).map_err(wrap)?;
        headers(ws, &INVOICE_HEADERS, &bold).map_err(wrap)?;
        let ws = wb.add_worksheet_with_constant_memory().map_err(wrap)?;
        ws.set_name("明细").map_err(wrap)?;
        headers(ws, &LINE_HEADERS, &bold).map_err(wrap)?;
        Ok(MonthWriter {
            wb,
            period,
            path: path.to_owned(),
            money: Format::new().set_num_format("0.00"),
            summary: ExportSummary::default(),
        })
    }

    fn wrap(&self, source: XlsxError) -> ExportError {
        xlsx_error(&self.path)(source)
    }

    /// Writes `r` and its lines, or counts it as left out (voided, or of another period).
    pub fn push(&mut self, r: &ExportRow<'_>) -> Result<(), ExportError> {
        if r.voided {
            self.summary.voided_skipped += 1;
            return Ok(());
        }
        if !self.period.contains(r.issued_at) {
            self.summary.other_period_skipped += 1;
            return Ok(());
        }
        self.write(r).map_err(|e| self.wrap(e))
    }

    /// Leaves out an invoice whose stored copy is not what the disk signed (H8), counted.
    pub fn skip_not_as_signed(&mut self) {
        self.summary.not_as_signed += 1;
    }

    fn write(&mut self, r: &ExportRow<'_>) -> Result<(), XlsxError> {
        let money = &self.money;
        let inv = r.invoice;
        let d = inv.draft();
        let t = inv.totals();
        let row = below_header(self.summary.invoices);
        let ws = self.wb.worksheet_from_index(INVOICES_SHEET)?;
        ws.write_string(row, 0, inv.kind().chinese_name())?;
        ws.write_string(row, 1, r.code)?;
        ws.write_string(row, 2, r.number)?;
        ws.write_string(row, 3, r.issued_at.to_string())?;
        ws.write_string(row, 4, &d.buyer.name)?;
        ws.write_string(
            row,
            5,
            d.buyer
                .taxpayer_id
                .as_ref()
                .map(|t| t.as_str())
                .unwrap_or(""),
        )?;
        ws.write_number_with_format(row, 6, num(t.amount), money)?;
        ws.write_number_with_format(row, 7, num(t.tax), money)?;
        ws.write_number_with_format(row, 8, num(t.gross()), money)?;
        ws.write_string(row, 9, if inv.is_red() { "是" } else { "否" })?;
        ws.write_string(row, 10, if r.uploaded { "已上传" } else { "未上传" })?;
        ws.write_string(row, 11, &d.remarks)?;
        self.summary.invoices += 1;
        let ws = self.wb.worksheet_from_index(LINES_SHEET)?;
        for (i, l) in inv.lines().iter().enumerate() {
            let row = below_header(self.summary.lines);
            ws.write_string(row, 0, r.code)?;
            ws.write_string(row, 1, r.number)?;
            ws.write_number(row, 2, (i + 1) as f64)?;
            ws.write_string(row, 3, &l.name)?;
            ws.write_string(row, 4, l.class_code.as_str())?;
            ws.write_string(row, 5, &l.spec)?;
            ws.write_string(row, 6, &l.unit)?;
            if let Some(q) = l.quantity {
                ws.write_number(row, 7, num(q))?;
            }
            if let Some(p) = l.printed_unit_price() {
                ws.write_number(row, 8, num(p))?;
            }
            ws.write_number_with_format(row, 9, num(l.amount), money)?;
            ws.write_string(row, 10, l.printed_rate())?;
            ws.write_string(row, 11, l.printed_tax())?;
            ws.write_string(
                row,
                12,
                if l.kind == LineKind::Discount {
                    "折扣行"
                } else {
                    "正常行"
                },
            )?;
            self.summary.lines += 1;
        }
        Ok(())
    }

    /// Saves the workbook and says what it holds.
    pub fn finish(mut self) -> Result<ExportSummary, ExportError> {
        let path = self.path.clone();
        self.wb.save(&path).map_err(|e| self.wrap(e))?;
        Ok(self.summary)
    }
}
