//! What the demo reports: the steps it took, the month's figures by kind, the refusals it met
//! and the files it wrote, printed as a summary table.

use super::*;

/// Everything the demo measured and met.
#[derive(Debug, Default)]
pub struct DemoReport {
    /// The month run.
    pub month: Option<Period>,
    /// Per kind: (count, amount, tax) by state, from the store after the month.
    pub by_kind: BTreeMap<String, KindTally>,
    /// Refusals met, by message, with counts.
    pub refusals: BTreeMap<String, usize>,
    /// Issues and their time inside `Workflow::issue` (validation, SQLite, disk signing,
    /// automatic upload).
    pub issue_count: usize,
    /// Time inside issue calls.
    pub issue_time: Duration,
    /// Notable steps, in order.
    pub steps: Vec<String>,
    /// Files written.
    pub files: Vec<(String, PathBuf)>,
    /// Wall time.
    pub wall: Duration,
}

/// Counts and sums of one kind.
#[derive(Debug, Default, Clone)]
pub struct KindTally {
    /// Issued and acknowledged by the bureau.
    pub uploaded: usize,
    /// Issued, not yet uploaded.
    pub issued: usize,
    /// Voided.
    pub voided: usize,
    /// Red invoices among them.
    pub red: usize,
    /// Tax-excluded sum of the not voided ones.
    pub amount: Fen,
    /// Tax sum of the not voided ones.
    pub tax: Fen,
}

impl DemoReport {
    pub(super) fn step(&mut self, s: String) {
        self.steps.push(s);
    }

    /// Counts a refusal by its message in the process's language.
    pub(super) fn refused(&mut self, e: &WorkflowError) {
        *self.refusals.entry(e.localized()).or_default() += 1;
    }

    /// Prints the summary table.
    pub fn print(&self) {
        let month = self.month.map(|m| m.to_string()).unwrap_or_default();
        println!();
        println!("{}", t!("demo-title", month = month, company = COMPANY));
        for s in &self.steps {
            println!("  - {s}");
        }
        println!();
        // Columns at least as wide as the English layout, wider for a wider Chinese name.
        let head = [
            t!("col-kind"),
            t!("demo-col-uploaded"),
            t!("demo-col-pending"),
            t!("demo-col-voided"),
            t!("demo-col-red"),
            t!("demo-col-amount"),
            t!("demo-col-tax"),
        ];
        let first = self
            .by_kind
            .keys()
            .map(|k| width(&kind_text(k)))
            .chain([16, width(&head[0])])
            .max()
            .unwrap_or(16);
        let cols = [first, 9, 9, 7, 6, 16, 14];
        let line = |cells: [String; 7]| {
            let mut out = left(&cells[0], cols[0]);
            for (cell, c) in cells.iter().zip(cols).skip(1) {
                out.push(' ');
                out.push_str(&right(cell, c.max(width(cell))));
            }
            out
        };
        println!("{}", line(head.clone()));
        let mut total = KindTally::default();
        for (k, t) in &self.by_kind {
            println!(
                "{}",
                line([
                    kind_text(k),
                    t.uploaded.to_string(),
                    t.issued.to_string(),
                    t.voided.to_string(),
                    t.red.to_string(),
                    t.amount.to_string(),
                    t.tax.to_string(),
                ])
            );
            total.uploaded += t.uploaded;
            total.issued += t.issued;
            total.voided += t.voided;
            total.red += t.red;
            total.amount = total.amount.saturating_add(t.amount);
            total.tax = total.tax.saturating_add(t.tax);
        }
        println!(
            "{}",
            line([
                t!("demo-total"),
                total.uploaded.to_string(),
                total.issued.to_string(),
                total.voided.to_string(),
                total.red.to_string(),
                total.amount.to_string(),
                total.tax.to_string(),
            ])
        );
        println!();
        let rate = self.issue_count as f64 / self.issue_time.as_secs_f64().max(1e-9);
        // One invoice per call with an upload to the bureau after each (as a company online
        // works): not a signing-speed figure. `taxdisk bench` measures that against the raw
        // signer, interleaved in the same run.
        println!(
            "{}",
            t!(
                "demo-issuing",
                n = self.issue_count,
                rate = format!("{rate:.0}")
            )
        );
        println!();
        println!("{}", t!("demo-refusals"));
        if self.refusals.is_empty() {
            println!("  {}", t!("demo-none"));
        }
        for (msg, n) in &self.refusals {
            println!("  {n:>5} x {msg}");
        }
        println!();
        println!("{}", t!("demo-files"));
        let what_col = self
            .files
            .iter()
            .map(|(w, _)| width(w))
            .fold(22, usize::max);
        for (what, p) in &self.files {
            println!("  {} {}", left(what, what_col), p.display());
        }
        println!();
        println!(
            "{}",
            t!(
                "demo-done",
                secs = format!("{:.1}", self.wall.as_secs_f64())
            )
        );
    }
}

pub(super) fn tally(w: &mut World, month: Period) -> Result<(), DemoError> {
    let rows = setup(
        w.wf.store().month(&MonthQuery::period(month)),
        "month query",
    )?;
    for r in rows {
        let t = w
            .report
            .by_kind
            .entry(r.kind.name().to_owned())
            .or_default();
        match r.state {
            InvoiceState::Uploaded => t.uploaded += 1,
            InvoiceState::Issued => t.issued += 1,
            InvoiceState::Voided => t.voided += 1,
            InvoiceState::Pending | InvoiceState::Abandoned => continue,
        }
        if r.is_red {
            t.red += 1;
        }
        if r.state != InvoiceState::Voided {
            t.amount = t.amount.saturating_add(r.amount);
            t.tax = t.tax.saturating_add(r.tax);
        }
    }
    Ok(())
}

/// A kind's name (kept as the English name in the report) in the process's language.
fn kind_text(name: &str) -> String {
    InvoiceKind::parse(name).map_or_else(|| name.to_owned(), kind_name)
}
