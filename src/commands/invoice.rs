//! The invoice management menu (发票管理): issue, void, red invoices and red info forms, the
//! invoice list, print, rolls.

use super::parse;
use super::{CmdError, Ctx, input, kind_fields, parse_item, this_month};
use crate::tables::{kind_column, kind_name, state_name};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use taxdisk_host::export::{ListLayout, Margins};
use taxdisk_host::invoice::Draft;
use taxdisk_host::store::InvoiceId;
use taxdisk_host::workflow::WorkflowError;
use taxdisk_i18n::Localize;
use taxdisk_i18n::width::{left, right, width};
use taxdisk_i18n::{phrase, t};
use taxdisk_protocol::Period;
use taxdisk_protocol::types::*;

/// Red info forms.
#[derive(Debug, Subcommand)]
pub enum RedFormCmd {
    /// Fill a seller's form reversing an issued special invoice in full (not uploaded yet).
    Fill {
        /// Store id of the original special invoice.
        #[arg(long)]
        original: i64,
        /// Reason.
        #[arg(long, default_value = "销货退回")]
        reason: String,
    },
    /// Change a form's reason (and with --original, its lines anew from that invoice): only
    /// while it is not uploaded or was rejected (FAQ 7.6).
    Edit {
        /// Form id.
        #[arg(long)]
        id: i64,
        /// The new reason.
        #[arg(long)]
        reason: Option<String>,
        /// Store id of the special invoice to reverse in full instead.
        #[arg(long)]
        original: Option<i64>,
    },
    /// Delete a form: not once it is approved or used (FAQ 7.6).
    Delete {
        /// Form id.
        #[arg(long)]
        id: i64,
    },
    /// Upload a form for review; answers its state and, when approved, its number (F4).
    Upload {
        /// Form id.
        #[arg(long)]
        id: i64,
    },
    /// Download review results and forms buyers filed for this seller (FAQ 7.14).
    Download,
    /// List forms in a state: not-uploaded, under-review, approved, rejected, used.
    List {
        /// State.
        #[arg(long, default_value = "approved")]
        state: String,
    },
    /// Export a form to XML (FAQ 7.2).
    Export {
        /// Form id.
        #[arg(long)]
        id: i64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a form from XML.
    Import {
        /// The XML file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Issue the red special invoice of an approved form (one form, one invoice, FAQ 7.4).
    Issue {
        /// The form's number (16 digits).
        #[arg(long)]
        number: InfoFormNumber,
    },
}

/// Rolls.
#[derive(Debug, Subcommand)]
pub enum RollsCmd {
    /// Read rolls granted online, or from a medium file (FAQ 4.4).
    Read {
        /// Medium file of grants.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Buy rolls at the bureau and load them (simulated bureau).
    Buy {
        /// Kind.
        #[arg(long, value_parser = parse::parse_kind)]
        kind: InvoiceKind,
        /// How many numbers.
        #[arg(long)]
        count: u32,
    },
    /// Return the unused rest of a roll (FAQ 4.5, 4.20, 4.21).
    Return {
        /// Kind.
        #[arg(long, value_parser = parse::parse_kind)]
        kind: InvoiceKind,
        /// Roll code.
        #[arg(long, value_parser = parse::checked::<InvoiceCode>)]
        code: InvoiceCode,
        /// First number of the roll.
        #[arg(long, value_parser = parse::parse_number)]
        first: InvoiceNumber,
        /// Print the disk-signed receipt as one JSON line (for machines).
        #[arg(long)]
        json: bool,
    },
    /// Show the stock per kind.
    Stock,
}

fn red_form(c: RedFormCmd, ctx: &mut Ctx) -> Result<(), CmdError> {
    use taxdisk_host::store::{RedFormId, RedFormState};
    let show = |f: &taxdisk_host::store::RedForm| {
        println!(
            "{}",
            t!(
                "out-form-row",
                id = right(&f.id.0.to_string(), 4),
                state = phrase(&f.state.to_string()),
                number = f
                    .number
                    .as_ref()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| t!("out-form-no-number"))
            )
        );
    };
    match c {
        RedFormCmd::Fill { original, reason } => {
            let body = ctx.wf.seller_form_for(InvoiceId(original), &reason)?;
            let id = ctx.wf.red_form_fill(&body)?;
            println!("{}", t!("out-form-filled", id = id.0));
        }
        RedFormCmd::Edit {
            id,
            reason,
            original,
        } => {
            let form = ctx.wf.store().red_form(RedFormId(id))?;
            let mut body = match original {
                Some(o) => ctx.wf.seller_form_for(InvoiceId(o), &form.body.reason)?,
                None => form.body,
            };
            if let Some(r) = reason {
                body.reason = r;
            }
            ctx.wf.red_form_edit(RedFormId(id), &body)?;
            show(&ctx.wf.store().red_form(RedFormId(id))?);
        }
        RedFormCmd::Delete { id } => {
            ctx.wf.red_form_delete(RedFormId(id))?;
            println!("{}", t!("out-form-deleted", id = id));
        }
        RedFormCmd::Upload { id } => show(&ctx.wf.red_form_upload(RedFormId(id))?),
        RedFormCmd::Download => {
            for id in ctx.wf.download_red_forms()? {
                show(&ctx.wf.store().red_form(id)?);
            }
        }
        RedFormCmd::List { state } => {
            let st = match state.as_str() {
                "not-uploaded" => RedFormState::NotUploaded,
                "under-review" => RedFormState::UnderReview,
                "approved" => RedFormState::Approved,
                "rejected" => RedFormState::Rejected,
                "used" => RedFormState::Used,
                other => {
                    return Err(CmdError::Input(format!(
                        "--state {other:?}: not-uploaded, under-review, approved, rejected or used"
                    )));
                }
            };
            for f in ctx.wf.store().red_forms(st)? {
                show(&f);
            }
        }
        RedFormCmd::Export { id, out } => {
            ctx.wf.red_form_export_xml(RedFormId(id), &out)?;
            println!("{}", t!("cli-wrote", path = out.display()));
        }
        RedFormCmd::Import { file } => {
            let id = ctx.wf.red_form_import_xml(&file)?;
            show(&ctx.wf.store().red_form(id)?);
        }
        RedFormCmd::Issue { number } => {
            let d = ctx.wf.red_draft_from_form(&number)?;
            let issued = ctx.wf.issue(d)?;
            println!(
                "{}",
                t!(
                    "out-issued-red-form",
                    kind = kind_name(issued.kind),
                    code = issued.code,
                    number = issued.number,
                    id = issued.id.0,
                    form = number
                )
            );
        }
    }
    Ok(())
}

/// A draft of `k` showing the JSON shape a batch file follows.
fn template_draft(k: InvoiceKind) -> Result<Draft, CmdError> {
    use taxdisk_host::invoice::model::{KindFields, Party, UsedCarFields};
    let fields = match k {
        InvoiceKind::MotorVehicle => KindFields::MotorVehicle(Box::default()),
        InvoiceKind::UsedCar => KindFields::UsedCar(Box::<UsedCarFields>::default()),
        other => kind_fields(other)?,
    };
    // The seller and the issuer stay empty: the disk's company and the logged-in user fill
    // them when the draft is issued (naming anyone else is refused, H3).
    let buyer = Party::named("购买方名称");
    let mut d = Draft::new(fields, Party::default(), buyer);
    d.add_line(&parse_item("商品名称:1090101010000000000:13:2:100")?)
        .map_err(WorkflowError::from)?;
    Ok(d)
}

/// What `rolls return` says: the roll, the numbers returned, whether the bureau took the
/// disk-signed receipt; or the receipt as one JSON line.
fn print_roll_return(r: &taxdisk_host::workflow::RollReturn, json: bool) {
    let b = &r.receipt.body;
    if json {
        let sig = &r.receipt.signature;
        let v = serde_json::json!({
            "serial": b.serial.as_str(),
            "kind": b.kind.name(),
            "code": b.code.as_str(),
            "first": b.first.get(),
            "count": b.count,
            "time": b.time.0,
            "signature": format!("{}{}", hex::encode(sig.r), hex::encode(sig.s)),
            "handed_in": r.handed_in,
            "note": r.note,
        });
        println!("{v}");
        return;
    }
    for line in r.lines() {
        println!("{line}");
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CmdError> {
    std::fs::write(path, bytes).map_err(input(&path.display().to_string()))
}

/// The flags of `taxdisk issue`.
#[derive(Debug, clap::Args)]
pub struct IssueArgs {
    /// A JSON file of drafts.
    #[arg(long, conflicts_with_all = ["kind", "template"])]
    file: Option<PathBuf>,
    /// Print a JSON draft of this kind (to edit into a batch file) and exit.
    #[arg(long, value_parser = parse::parse_kind)]
    template: Option<InvoiceKind>,
    /// Kind of the invoice given by flags.
    #[arg(long, value_parser = parse::parse_kind)]
    kind: Option<InvoiceKind>,
    /// Buyer name.
    #[arg(long, default_value = "")]
    buyer: String,
    /// Buyer taxpayer id.
    #[arg(long, value_parser = parse::checked::<TaxpayerId>)]
    buyer_tin: Option<TaxpayerId>,
    /// Buyer address and phone (special invoices).
    #[arg(long, default_value = "")]
    buyer_address: String,
    /// Buyer bank and account (special invoices).
    #[arg(long, default_value = "")]
    buyer_bank: String,
    /// A line NAME:CLASS_CODE:RATE%:QUANTITY:UNIT_PRICE (tax excluded); repeat for more.
    #[arg(long = "item")]
    items: Vec<String>,
    /// Remarks.
    #[arg(long, default_value = "")]
    remarks: String,
    /// Put the lines on a sales list (销货清单, FAQ 4.11): needed for more than 8 lines
    /// on paper kinds; the invoice then reads "详见销货清单".
    #[arg(long)]
    sales_list: bool,
}

/// `taxdisk issue`.
pub(super) fn issue(ctx: &mut Ctx, a: IssueArgs) -> Result<(), CmdError> {
    let IssueArgs {
        file,
        template,
        kind,
        buyer,
        buyer_tin,
        buyer_address,
        buyer_bank,
        items,
        remarks,
        sales_list,
    } = a;
    if let Some(k) = template {
        let d = template_draft(k)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&d).map_err(input("template"))?
        );
        return Ok(());
    }
    ctx.resume()?;
    let drafts: Vec<Draft> = match (file, kind) {
        (Some(file), None) => {
            let text =
                std::fs::read_to_string(&file).map_err(input(&file.display().to_string()))?;
            match serde_json::from_str::<Vec<Draft>>(&text) {
                Ok(v) => v,
                Err(_) => vec![serde_json::from_str::<Draft>(&text).map_err(input(&format!(
                    "{} (a Draft or an array of Drafts)",
                    file.display()
                )))?],
            }
        }
        (None, Some(k)) => {
            let seller = ctx.wf.seller_party()?;
            let buyer = taxdisk_host::invoice::model::Party {
                name: buyer,
                taxpayer_id: buyer_tin,
                address_phone: buyer_address,
                bank_account: buyer_bank,
            };
            let mut d = Draft::new(kind_fields(k)?, seller, buyer);
            for it in &items {
                d.add_line(&parse_item(it)?).map_err(WorkflowError::from)?;
            }
            d.remarks = remarks;
            d.sales_list = sales_list;
            d.issuer = ctx.wf.user().map(|u| u.name.clone()).unwrap_or_default();
            vec![d]
        }
        _ => {
            return Err(CmdError::Input(t!("out-issue-input")));
        }
    };
    // One batch (批量开具): pending rows in one commit, the disk signs each, records
    // in one commit, one upload; each draft keeps its own outcome.
    let total = drafts.len();
    let mut refused = 0;
    for (i, r) in ctx.wf.issue_batch(drafts)?.into_iter().enumerate() {
        match r {
            Ok(issued) => println!(
                "{}",
                t!(
                    "out-issued",
                    kind = kind_name(issued.kind),
                    code = issued.code,
                    number = issued.number,
                    id = issued.id.0,
                    counter = issued.counter,
                    uploaded = if issued.uploaded {
                        t!("out-issued-uploaded")
                    } else {
                        t!("out-issued-not-uploaded")
                    },
                    saved = if issued.buyer_saved {
                        t!("out-issued-buyer-saved")
                    } else {
                        String::new()
                    }
                )
            ),
            Err(e) if total == 1 => {
                return Err(CmdError::Input(t!(
                    "out-draft-refused",
                    n = 1,
                    error = e.localized()
                )));
            }
            Err(e) => {
                refused += 1;
                println!(
                    "{}",
                    t!("out-draft-not-issued", n = i + 1, error = e.localized())
                );
            }
        }
    }
    if refused > 0 {
        return Err(CmdError::Input(t!(
            "out-drafts-refused",
            refused = refused,
            total = total
        )));
    }
    Ok(())
}

/// `taxdisk void`.
pub(super) fn void(
    ctx: &mut Ctx,
    ids: Vec<i64>,
    blank: Option<u32>,
    kind: Option<InvoiceKind>,
) -> Result<(), CmdError> {
    ctx.resume()?;
    match (blank, kind, ids.is_empty()) {
        (Some(n), Some(k), true) => {
            let b = ctx.wf.void_blank(k, n)?;
            println!(
                "{}",
                t!(
                    "out-voided-blank",
                    n = n,
                    kind = kind_name(k),
                    code = b.code,
                    first = b.first
                )
            );
        }
        (None, None, false) => {
            let ids: Vec<InvoiceId> = ids.into_iter().map(InvoiceId).collect();
            for v in ctx.wf.void(&ids)? {
                println!(
                    "{}",
                    t!("out-voided", code = v.code, number = v.number, id = v.id.0)
                );
            }
        }
        _ => {
            return Err(CmdError::Input(t!("out-void-input")));
        }
    }
    Ok(())
}

/// `taxdisk red`.
pub(super) fn red(
    ctx: &mut Ctx,
    code: String,
    number: String,
    code_again: String,
    number_again: String,
) -> Result<(), CmdError> {
    ctx.resume()?;
    let d = ctx
        .wf
        .red_draft_from_original(&code, &number, &code_again, &number_again)?;
    let issued = ctx.wf.issue(d)?;
    println!(
        "{}",
        t!(
            "out-issued-red",
            kind = kind_name(issued.kind),
            code = issued.code,
            number = issued.number,
            id = issued.id.0
        )
    );
    Ok(())
}

/// `taxdisk red-form`.
pub(super) fn red_form_cmd(ctx: &mut Ctx, c: RedFormCmd) -> Result<(), CmdError> {
    ctx.resume()?;
    red_form(c, ctx)?;
    Ok(())
}

/// `taxdisk list`.
pub(super) fn list(ctx: &mut Ctx, period: Option<Period>, all: bool) -> Result<(), CmdError> {
    ctx.resume()?;
    let p = match period {
        Some(p) => p,
        None => this_month(&mut ctx.wf)?,
    };
    let kind_col = kind_column();
    let state_col = taxdisk_host::store::InvoiceState::ALL
        .into_iter()
        .map(|s| width(&state_name(s)))
        .max()
        .unwrap_or(0);
    let mut differ = 0usize;
    ctx.wf.for_each_listed(
        &taxdisk_host::store::MonthQuery::period(p),
        all,
        |s, check| {
            let (code, number) = match &s.disk {
                Some(d) => (d.code.as_str().to_owned(), format!("{:08}", d.number.get())),
                None => (String::new(), String::new()),
            };
            // H8: the store's figures are shown only when they are what the disk signed.
            let (amount, tax, buyer) = if check.may_show() {
                (
                    s.invoice.amount_fen().to_string(),
                    s.invoice.tax_fen().to_string(),
                    s.invoice.draft().buyer.name.clone(),
                )
            } else {
                differ += 1;
                ("?".to_owned(), "?".to_owned(), t!("out-list-not-as-signed"))
            };
            println!(
                "{:>6} {} {:<12} {:>8} {} {:>14} {:>12} {}",
                s.id.0,
                left(&kind_name(s.invoice.kind()), kind_col),
                code,
                number,
                left(&state_name(s.state), state_col),
                amount,
                tax,
                buyer
            );
        },
    )?;
    if differ > 0 {
        eprintln!(
            "{}",
            t!("warn-list-not-as-signed", count = differ, period = p)
        );
    }
    Ok(())
}

/// `taxdisk rolls`.
pub(super) fn rolls(ctx: &mut Ctx, c: RollsCmd) -> Result<(), CmdError> {
    ctx.resume()?;
    let reading = matches!(c, RollsCmd::Read { .. });
    let rolls = match c {
        RollsCmd::Read { file: Some(f) } => ctx.wf.read_rolls_from_file(&f)?,
        RollsCmd::Read { file: None } => ctx.wf.read_rolls_online()?,
        RollsCmd::Buy { kind, count } => ctx.wf.buy_rolls(kind, count)?,
        RollsCmd::Return {
            kind,
            code,
            first,
            json,
        } => {
            let r = ctx
                .wf
                .return_roll(kind, &code, first)
                .map_err(|e| match e {
                    // D4 (FAQ 4.21(4)): say what to do, in the same line.
                    WorkflowError::ReturnBeforeReport { .. } => {
                        CmdError::Input(t!("out-return-hint", error = e.localized()))
                    }
                    e => e.into(),
                })?;
            print_roll_return(&r, json);
            Vec::new()
        }
        RollsCmd::Stock => ctx.wf.rolls(None)?,
    };
    if reading && rolls.is_empty() {
        println!("{}", t!("out-rolls-none"));
    }
    let kind_col = kind_column();
    for r in rolls {
        println!(
            "{}",
            t!(
                "out-roll-row",
                kind = left(&kind_name(r.kind), kind_col),
                code = r.code,
                first = r.first,
                last = r.first.get() + r.count - 1,
                used = r.used,
                left = r.left()
            )
        );
    }
    Ok(())
}

/// `taxdisk print`.
pub(super) fn print(
    ctx: &mut Ctx,
    id: i64,
    out: PathBuf,
    right: i32,
    down: i32,
    rows: usize,
) -> Result<(), CmdError> {
    ctx.resume()?;
    let pdf = ctx.wf.print(
        InvoiceId(id),
        Margins {
            right_mm: right,
            down_mm: down,
        },
        ListLayout {
            rows_per_page: rows,
            title_size: 11.0,
        },
    )?;
    write_file(&out, &pdf)?;
    println!("{}", t!("out-printed", id = id, path = out.display()));
    Ok(())
}
