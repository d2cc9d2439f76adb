//! The tax reporting menu (报税处理): upload, repair, report, declare, clear, status, oil,
//! update, export.

use super::{CmdError, Ctx, this_month};
use crate::tables::{oil_line, print_status_table};
use clap::Subcommand;
use rust_decimal::Decimal;
use std::path::PathBuf;
use taxdisk_host::workflow::Workflow;
use taxdisk_i18n::{phrase, t};
use taxdisk_protocol::Period;
use taxdisk_protocol::types::*;

/// Oil.
#[derive(Debug, Subcommand)]
pub enum OilCmd {
    /// Show the stock.
    Show,
    /// Download stock from the bureau.
    Download {
        /// Category number.
        #[arg(long)]
        category: u8,
        /// Litres (or --tonnes).
        #[arg(long)]
        litres: Option<Decimal>,
        /// Tonnes.
        #[arg(long)]
        tonnes: Option<Decimal>,
    },
    /// Return stock to the bureau.
    Return {
        /// Category number.
        #[arg(long)]
        category: u8,
        /// Litres (or --tonnes).
        #[arg(long)]
        litres: Option<Decimal>,
        /// Tonnes.
        #[arg(long)]
        tonnes: Option<Decimal>,
    },
}

/// The period a command names, else the month before the disk's clock (the period a report,
/// declaration or clear card is made for).
fn given_or_last_month(wf: &mut Workflow, period: Option<Period>) -> Result<Period, CmdError> {
    match period {
        Some(p) => Ok(p),
        None => Ok(wf.refresh_info()?.time.period().prev()),
    }
}

fn oil_qty(litres: Option<Decimal>, tonnes: Option<Decimal>) -> Result<(OilUnit, i64), CmdError> {
    let (unit, q) = match (litres, tonnes) {
        (Some(l), None) => (OilUnit::Litre, l),
        (None, Some(t)) => (OilUnit::Tonne, t),
        _ => {
            return Err(CmdError::Input(t!("cli-oil-unit")));
        }
    };
    let milli = (q * Decimal::from(1000)).round();
    let m: i64 = milli
        .try_into()
        .map_err(|_| CmdError::Input(t!("cli-oil-range")))?;
    if m <= 0 {
        return Err(CmdError::Input(t!("cli-oil-positive")));
    }
    Ok((unit, m))
}

/// `taxdisk upload`.
pub(super) fn upload(ctx: &mut Ctx) -> Result<(), CmdError> {
    ctx.resume()?;
    let u = ctx.wf.upload()?;
    println!(
        "{}",
        t!(
            "out-upload",
            sent = u.sent,
            accepted = u.accepted,
            marked = u.marked,
            rejected = u.rejected.len()
        )
    );
    for r in u.rejected {
        println!(
            "{}",
            t!(
                "out-upload-rejected",
                counter = r.counter,
                message = taxdisk_i18n::bureau_message(&r.code, &r.message),
                code = r.code
            )
        );
    }
    Ok(())
}

/// `taxdisk repair`.
pub(super) fn repair(ctx: &mut Ctx) -> Result<(), CmdError> {
    ctx.resume()?;
    let r = ctx.wf.repair()?;
    println!(
        "{}",
        t!(
            "out-repair-scanned",
            events = r.scanned,
            issued = r.issued.len(),
            abandoned = r.abandoned.len(),
            undecided = r.undecided.len(),
            voided = r.voided.len(),
            unknown = r.unknown_on_disk.len()
        )
    );
    for m in &r.mismatched {
        let outcome = match (m.restored, m.content_differs) {
            (_, true) => t!("out-repair-cannot-rebuild"),
            (true, false) => t!("out-repair-restored"),
            (false, false) => t!("out-repair-unchanged"),
        };
        println!(
            "{}",
            t!(
                "out-repair-mismatch",
                id = m.id.0,
                code = m.code,
                number = m.number,
                differences = m.differences.join(", "),
                outcome = outcome
            )
        );
    }
    if r.mismatched.is_empty() {
        println!("{}", t!("out-repair-all-match"));
    }
    if let Some(n) = r.upload_note {
        println!("{}", t!("out-repair-note", note = n));
    }
    Ok(())
}

/// `taxdisk report`.
pub(super) fn report(
    ctx: &mut Ctx,
    period: Option<Period>,
    medium: Option<PathBuf>,
) -> Result<(), CmdError> {
    ctx.resume()?;
    let p = given_or_last_month(&mut ctx.wf, period)?;
    match medium {
        Some(path) => {
            ctx.wf.counter_report(p, &path)?;
            println!(
                "{}",
                t!("out-counter-report", period = p, path = path.display())
            );
        }
        None => {
            let s = ctx.wf.report_period(p)?;
            println!(
                "{}",
                t!(
                    "out-reported",
                    period = p,
                    first = s.body.first_counter,
                    last = s.body.last_counter
                )
            );
        }
    }
    Ok(())
}

/// `taxdisk declare`.
pub(super) fn declare(ctx: &mut Ctx, period: Option<Period>) -> Result<(), CmdError> {
    ctx.resume()?;
    let p = given_or_last_month(&mut ctx.wf, period)?;
    ctx.wf.declare(p)?;
    println!("{}", t!("out-declared", period = p));
    Ok(())
}

/// `taxdisk clear`.
pub(super) fn clear(ctx: &mut Ctx, period: Option<Period>) -> Result<(), CmdError> {
    ctx.resume()?;
    let p = given_or_last_month(&mut ctx.wf, period)?;
    ctx.wf.clear_card(p)?;
    let info = ctx.wf.refresh_info()?;
    println!(
        "{}",
        t!(
            "out-cleared",
            period = p,
            lock = info.lock_time.map(|t| t.to_string()).unwrap_or_default()
        )
    );
    Ok(())
}

/// `taxdisk status`.
pub(super) fn status(ctx: &mut Ctx) -> Result<(), CmdError> {
    ctx.resume()?;
    let s = ctx.wf.status()?;
    let i = &s.info;
    println!(
        "{}",
        t!(
            "out-status-disk",
            serial = i.serial,
            state = phrase(&i.state.to_string()),
            time = i.time,
            period = i.period.map(|p| p.to_string()).unwrap_or_default(),
            lock = i.lock_time.map(|t| t.to_string()).unwrap_or_default(),
            deadline = i.upload_deadline.map(|t| t.to_string()).unwrap_or_default(),
            counter = i.counter
        )
    );
    // FAQ 8.1, 10.6: the authorization types (授权类型) decide oil and used-car invoices.
    println!(
        "{}",
        t!(
            "out-status-roles",
            oil = phrase(&i.oil_role.to_string()),
            until = i
                .oil_valid_until
                .map(|t| t!("out-status-until", time = t))
                .unwrap_or_default(),
            car = phrase(&i.used_car_role.to_string())
        )
    );
    print_status_table(&s.kinds);
    if let Some(oil) = s.oil {
        for o in oil {
            println!("{}", oil_line(&o));
        }
    }
    Ok(())
}

/// `taxdisk oil`.
pub(super) fn oil(ctx: &mut Ctx, c: OilCmd) -> Result<(), CmdError> {
    ctx.resume()?;
    match c {
        OilCmd::Show => {}
        OilCmd::Download {
            category,
            litres,
            tonnes,
        } => {
            let (unit, m) = oil_qty(litres, tonnes)?;
            ctx.wf.oil_download(category, unit, m)?;
        }
        OilCmd::Return {
            category,
            litres,
            tonnes,
        } => {
            let (unit, m) = oil_qty(litres, tonnes)?;
            ctx.wf.oil_return(category, unit, m)?;
        }
    }
    for o in ctx.wf.oil_stock()? {
        println!("{}", oil_line(&o));
    }
    Ok(())
}

/// `taxdisk update`.
pub(super) fn update(ctx: &mut Ctx) -> Result<(), CmdError> {
    // The session's resume applies what the bureau has (H17 at every login); what it
    // applied counts as this command's work too.
    let mut changes = ctx.resume()?.updates;
    changes.extend(ctx.wf.apply_updates()?);
    println!("{}", t!("out-updates", n = changes.len()));
    for c in &changes {
        println!("  {}", taxdisk_host::l10n::update_change(c));
    }
    Ok(())
}

/// `taxdisk export`.
pub(super) fn export(ctx: &mut Ctx, period: Option<Period>, out: PathBuf) -> Result<(), CmdError> {
    ctx.resume()?;
    let p = match period {
        Some(p) => p,
        None => this_month(&mut ctx.wf)?,
    };
    let s = ctx.wf.export_month(p, &out)?;
    println!(
        "{}",
        t!(
            "out-exported",
            invoices = s.invoices,
            lines = s.lines,
            period = p,
            path = out.display(),
            voided = s.voided_skipped
        )
    );
    if s.not_as_signed > 0 {
        return Err(CmdError::Input(t!(
            "err-export-not-as-signed",
            count = s.not_as_signed
        )));
    }
    Ok(())
}
