//! The workflow subcommands: each opens the store (`<data>/taxdisk.db`), the disk (`--disk`)
//! and the bureau (`--bureau` or the embedded one), resumes the login session where the
//! command needs one, runs one workflow call and prints its outcome. Menus follow the
//! software's: system maintenance (init, user, customer, product, backup), invoice management
//! (issue, void, red, print, rolls), tax reporting (upload, repair, report, clear, status,
//! export, update, oil).

pub(crate) mod parse;

use crate::tables::{kind_column, kind_name, oil_line, print_status_table, state_name};
use crate::wiring::{self, DiskSpec};
use clap::Subcommand;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use taxdisk_host::export::{ListLayout, Margins};
use taxdisk_host::invoice::Draft;
use taxdisk_host::store::{
    Action, BankAccount, Initialization, InvoiceId, NewCustomer, NewProduct, Store,
};
use taxdisk_host::workflow::{Workflow, WorkflowError};
use taxdisk_i18n::Localize;
use taxdisk_i18n::width::{left, right, width};
use taxdisk_i18n::{phrase, t};
use taxdisk_protocol::Period;
use taxdisk_protocol::bureau_api::RegisterTaxpayer;
use taxdisk_protocol::types::*;

/// Failures of a workflow command: one line each.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    /// The workflow refused (its message names the rule).
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// Wiring the disk or bureau failed.
    #[error(transparent)]
    Wiring(#[from] wiring::WiringError),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] taxdisk_host::store::StoreError),
    /// A bad argument or file.
    #[error("{0}")]
    Input(String),
    /// No session: log in first.
    #[error("not logged in: run `taxdisk login --user NAME` first (H2)")]
    NoSession,
    /// A password could not be had.
    #[error(transparent)]
    Prompt(#[from] crate::prompt::PromptError),
}

/// The password asked for by [`WorkflowCmd::ask_passwords`].
fn asked(p: Option<String>, what: &str) -> Result<String, CmdError> {
    p.ok_or_else(|| {
        CmdError::from(crate::prompt::PromptError::Missing {
            what: what.to_owned(),
        })
    })
}

impl WorkflowCmd {
    /// Asks for the passwords not given by option or environment ([`crate::prompt`]); run
    /// before the data folder is opened and locked.
    pub fn ask_passwords(&mut self) -> Result<(), CmdError> {
        use crate::prompt::fill;
        match self {
            WorkflowCmd::Init {
                supervisor,
                password,
                ..
            } => fill(password, &format!("password for {supervisor}"))?,
            WorkflowCmd::Login { user, password } => {
                fill(password, &format!("password for {user}"))?
            }
            WorkflowCmd::User(UserCmd::Add { name, password, .. }) => {
                fill(password, &format!("password for the new invoicer {name}"))?
            }
            WorkflowCmd::User(UserCmd::Passwd { old, new }) => {
                fill(old, "old password")?;
                fill(new, "new password")?;
            }
            WorkflowCmd::User(UserCmd::Rename { password, .. }) => fill(password, "your password")?,
            _ => {}
        }
        Ok(())
    }
}

fn input<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> CmdError + '_ {
    move |e| CmdError::Input(t!("cli-input", what = what, error = e))
}

/// The subcommands of the workflow.
#[derive(Debug, Subcommand)]
pub enum WorkflowCmd {
    /// First-run initialization (FAQ 2.1, H1): supervisor, address, phone, bank accounts and the
    /// bureau server address, with a connection test.
    Init {
        /// Supervisor (administrator) name.
        #[arg(long)]
        supervisor: String,
        /// Supervisor password. Without it (or env TAXDISK_PASSWORD) it is asked for at the prompt, or read from standard input; a --password shows in the process list (ps) and the shell history.
        #[arg(long, env = "TAXDISK_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Business address.
        #[arg(long)]
        address: String,
        /// Phone.
        #[arg(long)]
        phone: String,
        /// A bank account as BANK:ACCOUNT; repeat for several (FAQ 3.7).
        #[arg(long = "bank", required = true)]
        banks: Vec<String>,
    },
    /// The tax office's initial issuing (初始发行, D1): registers the taxpayer at the bureau with
    /// all six kinds and provisions the disk (simulated bureau and disks).
    Provision {
        /// Taxpayer id (F3).
        #[arg(long)]
        taxpayer_id: TaxpayerId,
        /// Company name.
        #[arg(long)]
        company: CompanyName,
        /// Machine number (0 = main machine).
        #[arg(long, default_value_t = 0)]
        machine: u16,
    },
    /// Log in (H2, D2): at the first login of a month the last period is reported (H12).
    Login {
        /// User name.
        #[arg(long)]
        user: String,
        /// Password. Without it (or env TAXDISK_PASSWORD) it is asked for at the prompt, or read from standard input; a --password shows in the process list (ps) and the shell history.
        #[arg(long, env = "TAXDISK_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// End the session.
    Logout,
    /// User management (FAQ 2.2-2.5, H2, H3).
    #[command(subcommand)]
    User(UserCmd),
    /// Customers (FAQ 3.1, 3.2, H5).
    #[command(subcommand)]
    Customer(CustomerCmd),
    /// Products (FAQ 3.3-3.6, H6).
    #[command(subcommand)]
    Product(ProductCmd),
    /// Issue an invoice from flags, or a batch from a JSON file (one draft or an array; print
    /// the shape with --template KIND), H7, H8. Uploads at once when the bureau answers.
    Issue {
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
        #[arg(long)]
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
    },
    /// Void issued invoices (several at once) or blank numbers (FAQ 5.1-5.5, H9).
    Void {
        /// Invoice ids (as listed by `taxdisk list`).
        #[arg(long = "id")]
        ids: Vec<i64>,
        /// Void this many blank numbers of --kind instead.
        #[arg(long)]
        blank: Option<u32>,
        /// Kind for --blank.
        #[arg(long, value_parser = parse::parse_kind)]
        kind: Option<InvoiceKind>,
    },
    /// Red invoice reversing an original of a kind other than special: code and number
    /// entered twice (FAQ 7.16, 7.17, H10).
    Red {
        /// Original code.
        #[arg(long)]
        code: String,
        /// Original number.
        #[arg(long)]
        number: String,
        /// Original code again.
        #[arg(long)]
        code_again: String,
        /// Original number again.
        #[arg(long)]
        number_again: String,
    },
    /// Red info forms for red special invoices (FAQ 7.1-7.15, H10).
    #[command(subcommand)]
    RedForm(RedFormCmd),
    /// List this month's invoices (or --period).
    List {
        /// Period YYYYMM.
        #[arg(long, value_parser = parse::parse_period)]
        period: Option<Period>,
        /// Also show abandoned attempts (drafts the disk refused; nothing was signed).
        #[arg(long)]
        all: bool,
    },
    /// Upload what the bureau lacks (FAQ 4.9, H11).
    Upload,
    /// Reconcile the database with the disk journal and resend what the bureau lacks (H11).
    Repair,
    /// Report a finished period (上报汇总), or write the counter report medium (H12).
    Report {
        /// Period YYYYMM (default: last month).
        #[arg(long, value_parser = parse::parse_period)]
        period: Option<Period>,
        /// Write the counter report (办税厅抄报) to this medium file instead.
        #[arg(long)]
        medium: Option<PathBuf>,
    },
    /// Declare a period at the bureau (a bureau-side step, for simulations, B5).
    Declare {
        /// Period YYYYMM (default: last month).
        #[arg(long, value_parser = parse::parse_period)]
        period: Option<Period>,
    },
    /// Clear the card after the declaration (清卡, FAQ 9.9, 9.10, H12).
    Clear {
        /// Period YYYYMM (default: last month).
        #[arg(long, value_parser = parse::parse_period)]
        period: Option<Period>,
    },
    /// Rolls of blank invoices (FAQ 4.4-4.6, 4.20, 4.21, H13).
    #[command(subcommand)]
    Rolls(RollsCmd),
    /// Disk status: per kind limits, offline state, lock time, authorizations (H14).
    Status,
    /// Refined oil stock (FAQ 8.x, H15).
    #[command(subcommand)]
    Oil(OilCmd),
    /// Fetch updates from the bureau and apply them (FAQ 10.1, 10.2, H17).
    Update,
    /// Export a month to .xlsx, voided invoices left out (FAQ 9.11, H16).
    Export {
        /// Period YYYYMM (default: this month).
        #[arg(long, value_parser = parse::parse_period)]
        period: Option<Period>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print an invoice (and its sales list) to PDF with margin offsets (FAQ 6.1-6.7, H18).
    Print {
        /// Invoice id.
        #[arg(long)]
        id: i64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// 向右边距 in mm.
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        right: i32,
        /// 向下边距 in mm.
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        down: i32,
        /// Sales list rows per page (FAQ 6.7).
        #[arg(long, default_value_t = 13)]
        rows: usize,
    },
    /// Back up the database to the backup folder (FAQ 2.7, H4).
    Backup {
        /// Set the backup folder first.
        #[arg(long)]
        folder: Option<PathBuf>,
    },
    /// List the backups.
    Backups,
    /// Restore a listed backup; administrator only (FAQ 2.8, 2.9, H4).
    Restore {
        /// Backup name as listed.
        #[arg(long)]
        name: String,
    },
}

/// User management.
#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add an invoicer (administrator only); its name differs from every other (FAQ 2.2, 2.3).
    Add {
        /// Name.
        #[arg(long)]
        name: String,
        /// The new invoicer's password; asked for (or read from standard input) without it, since
        /// a --password shows in the process list.
        #[arg(long)]
        password: Option<String>,
        /// Kinds it may work on (default all).
        #[arg(long, value_delimiter = ',', value_parser = parse::parse_kind)]
        kinds: Vec<InvoiceKind>,
    },
    /// Change your own password; needs the old one (FAQ 2.4, 2.5).
    Passwd {
        /// Old password; asked for (or read from standard input) without it.
        #[arg(long)]
        old: Option<String>,
        /// New password; asked for (or read from standard input) without it.
        #[arg(long)]
        new: Option<String>,
    },
    /// Rename yourself; needs your password (FAQ 2.5).
    Rename {
        /// Your password; asked for (or read from standard input) without it.
        #[arg(long)]
        password: Option<String>,
        /// New name.
        #[arg(long)]
        new_name: String,
    },
    /// List users and roles.
    List,
}

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

/// Customers.
#[derive(Debug, Subcommand)]
pub enum CustomerCmd {
    /// Add a customer.
    Add {
        /// Code.
        #[arg(long)]
        code: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Taxpayer id.
        #[arg(long)]
        tin: Option<TaxpayerId>,
        /// Address and phone.
        #[arg(long, default_value = "")]
        address_phone: String,
        /// Bank and account.
        #[arg(long, default_value = "")]
        bank_account: String,
    },
    /// List customers.
    List,
}

/// Products.
#[derive(Debug, Subcommand)]
pub enum ProductCmd {
    /// Add a product with its tax classification code (F7).
    Add {
        /// Code.
        #[arg(long)]
        code: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Tax classification code, 19 digits.
        #[arg(long)]
        class_code: TaxClassCode,
        /// Rate in percent (13, 9, 6, 5, 3, 1.5, 1, 0).
        #[arg(long)]
        rate: Decimal,
        /// Unit.
        #[arg(long, default_value = "")]
        unit: String,
        /// Spec.
        #[arg(long, default_value = "")]
        spec: String,
        /// Unit price.
        #[arg(long)]
        price: Option<Decimal>,
        /// The price includes tax.
        #[arg(long)]
        with_tax: bool,
        /// A rare-earth product (hidden until unhidden, FAQ 3.6).
        #[arg(long)]
        rare_earth: bool,
    },
    /// List products.
    List {
        /// Include hidden ones.
        #[arg(long)]
        all: bool,
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
        #[arg(long)]
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

/// Everything a command runs with.
pub struct Ctx {
    /// The workflow.
    pub wf: Workflow,
    data: PathBuf,
    pin: Pin,
    /// Held until everything above is dropped (fields drop in order): the data folder is this
    /// command's until its store and disk are closed.
    _held: wiring::FolderHold,
}

/// The CLI's session file: the token only, never a password.
fn session_file(data: &Path) -> PathBuf {
    data.join("session")
}

impl Ctx {
    /// Opens store, disk and bureau.
    pub fn open(
        data: &Path,
        disk: &DiskSpec,
        bureau: &wiring::BureauSpec,
        pin: &str,
        clock: wiring::SimClock,
    ) -> Result<Ctx, CmdError> {
        let (held, client) = wiring::open_folder_disk(data, disk, bureau, clock)?;
        let store = Store::open(data.join("taxdisk.db"))?;
        let wf = Workflow::new(store, client, Some(held.bureau().clone()));
        let pin = Pin::new(pin).map_err(input("--pin"))?;
        Ok(Ctx {
            wf,
            data: data.to_owned(),
            pin,
            _held: held,
        })
    }

    /// Resumes the login session saved by `taxdisk login`. What the software did on its own
    /// at this login (the monthly report, uploads, online changes) is said on stderr, a line
    /// each, so that no step happens silently and stdout stays the command's own.
    pub fn resume(&mut self) -> Result<(), CmdError> {
        let token =
            std::fs::read_to_string(session_file(&self.data)).map_err(|_| CmdError::NoSession)?;
        let report = self.wf.resume(token.trim(), &self.pin)?;
        for line in login_steps(&report) {
            eprintln!("{line}");
        }
        Ok(())
    }
}

/// What a login did on its own, one line each (H11, H12, H17).
fn login_steps(r: &taxdisk_host::workflow::LoginReport) -> Vec<String> {
    let mut out = Vec::new();
    for p in &r.copied {
        out.push(t!("step-copied", period = p));
    }
    for p in &r.reported {
        out.push(t!("step-reported", period = p));
    }
    for p in r.receipts.iter().filter(|p| !r.reported.contains(p)) {
        out.push(t!("step-receipt", period = p));
    }
    for p in &r.cleared {
        out.push(t!("step-cleared", period = p));
    }
    if !r.updates.is_empty() {
        out.push(t!("step-updates", n = r.updates.len()));
    }
    if r.uploaded > 0 {
        out.push(t!("step-uploaded", n = r.uploaded));
    }
    out.extend(r.notes.iter().map(|n| t!("step-note", note = n)));
    out
}

fn last_month(wf: &mut Workflow) -> Result<Period, CmdError> {
    Ok(wf.refresh_info()?.time.period().prev())
}

fn this_month(wf: &mut Workflow) -> Result<Period, CmdError> {
    Ok(wf.refresh_info()?.time.period())
}

fn oil_qty(litres: Option<Decimal>, tonnes: Option<Decimal>) -> Result<(OilUnit, i64), CmdError> {
    let (unit, q) = match (litres, tonnes) {
        (Some(l), None) => (OilUnit::Litre, l),
        (None, Some(t)) => (OilUnit::Tonne, t),
        _ => {
            return Err(CmdError::Input(
                "give one of --litres or --tonnes (H15)".into(),
            ));
        }
    };
    let milli = (q * Decimal::from(1000)).round();
    let m: i64 = milli
        .try_into()
        .map_err(|_| CmdError::Input("oil quantity out of range".into()))?;
    if m <= 0 {
        return Err(CmdError::Input(
            "oil quantity must be positive (H15)".into(),
        ));
    }
    Ok((unit, m))
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

fn kind_fields(k: InvoiceKind) -> Result<taxdisk_host::invoice::model::KindFields, CmdError> {
    use taxdisk_host::invoice::model::KindFields;
    Ok(match k {
        InvoiceKind::Special => KindFields::Special,
        InvoiceKind::Normal => KindFields::Normal(Variant::Standard),
        InvoiceKind::Electronic => KindFields::Electronic,
        InvoiceKind::Roll => KindFields::Roll,
        InvoiceKind::MotorVehicle | InvoiceKind::UsedCar => {
            return Err(CmdError::Input(format!(
                "{k} invoices carry vehicle fields: write them in a file (taxdisk issue --template {k}) and use --file (H7)"
            )));
        }
    })
}

/// `NAME:CLASS_CODE:RATE%:QUANTITY:UNIT_PRICE`, numbers may be full-width (FAQ 4.18).
fn parse_item(s: &str) -> Result<taxdisk_host::invoice::LineInput, CmdError> {
    use taxdisk_host::invoice::text::{parse_class_code, parse_decimal};
    let bad = |why: String| CmdError::Input(t!("cli-bad-item", item = format!("{s:?}"), why = why));
    let parts: Vec<&str> = s.split([':', '：']).collect();
    let [name, class, rate, qty, price] = parts[..] else {
        return Err(bad(phrase("five fields")));
    };
    let class = parse_class_code(class).map_err(|e| bad(e.localized()))?;
    let rate = parse_decimal("rate", rate.trim_end_matches('%')).map_err(|e| bad(e.localized()))?;
    let bp: u16 = (rate * Decimal::from(100))
        .round()
        .try_into()
        .map_err(|_| bad(phrase("rate out of range")))?;
    let qty = parse_decimal("quantity", qty).map_err(|e| bad(e.localized()))?;
    let price = parse_decimal("unit price", price).map_err(|e| bad(e.localized()))?;
    let mut li =
        taxdisk_host::invoice::LineInput::new(name, class, TaxRate(bp)).qty_price(qty, price);
    if bp == 0 {
        li = li.zero_flag(ZeroRateFlag::Ordinary);
    }
    Ok(li)
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
    let last = b.first.get().saturating_add(b.count.saturating_sub(1));
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
    println!(
        "{}",
        t!(
            "out-roll-returned",
            kind = kind_name(b.kind),
            code = b.code,
            first = format!("{:08}", b.first.get()),
            last = format!("{last:08}"),
            count = b.count,
            time = b.time,
            serial = b.serial
        )
    );
    let receipt = match (&r.handed_in, &r.note) {
        (true, _) => t!("out-receipt-accepted"),
        (false, Some(why)) => t!("out-receipt-not-received-why", why = why),
        (false, None) => t!("out-receipt-not-received"),
    };
    println!("{receipt}");
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CmdError> {
    std::fs::write(path, bytes).map_err(input(&path.display().to_string()))
}

/// Writes a file only its owner may read (0600 from creation): the login token.
fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), CmdError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.display().to_string();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(input(&name))?;
    wiring::owner_only(path);
    f.write_all(bytes).map_err(input(&name))
}

/// Runs a workflow subcommand.
pub fn run(cmd: WorkflowCmd, ctx: &mut Ctx) -> Result<(), CmdError> {
    match cmd {
        WorkflowCmd::Init {
            supervisor,
            password,
            address,
            phone,
            banks,
        } => {
            let mut accounts = Vec::new();
            for b in banks {
                let (bank, account) = b.split_once(':').ok_or_else(|| {
                    CmdError::Input(t!(
                        "cli-input",
                        what = format!("--bank {b:?}"),
                        error = "BANK:ACCOUNT (H1)"
                    ))
                })?;
                accounts.push(BankAccount {
                    bank: bank.trim().into(),
                    account: account.trim().into(),
                });
            }
            let url = ctx
                .wf
                .bureau()
                .map(|b| b.base_url().to_owned())
                .unwrap_or_default();
            ctx.wf.initialize(&Initialization {
                supervisor_name: supervisor.clone(),
                supervisor_password: asked(password, "init")?,
                address,
                phone,
                bank_accounts: accounts,
                bureau_server: url.clone(),
            })?;
            println!("{}", t!("out-initialized", name = supervisor, url = url));
        }
        WorkflowCmd::Provision {
            taxpayer_id,
            company,
            machine,
        } => {
            let kinds = InvoiceKind::ALL
                .into_iter()
                .map(|kind| KindLimits {
                    kind,
                    single_limit: Fen(if kind == InvoiceKind::Roll {
                        1_000_000
                    } else {
                        100_000_000
                    }),
                    offline_hours: 72,
                    offline_amount: Fen(200_000_000),
                })
                .collect();
            let info = ctx.wf.provision_disk(
                &RegisterTaxpayer {
                    taxpayer_id,
                    company_name: company,
                    kinds,
                },
                machine,
            )?;
            println!(
                "{}",
                t!(
                    "out-provisioned",
                    serial = info.serial,
                    company = info.company_name.map(|c| c.to_string()).unwrap_or_default(),
                    tin = info.taxpayer_id.map(|t| t.to_string()).unwrap_or_default(),
                    machine = info.machine,
                    lock = info.lock_time.map(|t| t.to_string()).unwrap_or_default()
                )
            );
        }
        WorkflowCmd::Login { user, password } => {
            let password = asked(password, "login")?;
            let report = ctx.wf.login(&user, &password, &ctx.pin)?;
            let token = ctx.wf.open_session()?;
            write_secret(&session_file(&ctx.data), token.as_bytes())?;
            println!(
                "{}",
                t!(
                    "out-logged-in",
                    user = report.user,
                    serial = report.info.serial,
                    state = phrase(&report.info.state.to_string())
                )
            );
            for line in login_steps(&report) {
                println!("{line}");
            }
        }
        WorkflowCmd::Logout => {
            let path = session_file(&ctx.data);
            if let Ok(token) = std::fs::read_to_string(&path) {
                if ctx.wf.resume(token.trim(), &ctx.pin).is_ok() {
                    ctx.wf.close_session(token.trim())?;
                }
                let _ = std::fs::remove_file(&path);
            }
            println!("{}", t!("out-logged-out"));
        }
        WorkflowCmd::User(c) => {
            ctx.resume()?;
            match c {
                UserCmd::Add {
                    name,
                    password,
                    kinds,
                } => {
                    let password = asked(password, "user add")?;
                    let id = ctx.wf.add_invoicer(&name, &password)?;
                    let kinds = if kinds.is_empty() {
                        InvoiceKind::ALL.to_vec()
                    } else {
                        kinds
                    };
                    for k in &kinds {
                        for a in Action::ALL {
                            ctx.wf.grant(id, *k, a)?;
                        }
                    }
                    println!(
                        "{}",
                        t!(
                            "out-invoicer-added",
                            name = name,
                            id = id.0,
                            kinds = kinds.len()
                        )
                    );
                }
                UserCmd::Passwd { old, new } => {
                    let (old, new) = (asked(old, "old password")?, asked(new, "new password")?);
                    ctx.wf.change_password(&old, &new)?;
                    println!("{}", t!("out-password-changed"));
                }
                UserCmd::Rename { password, new_name } => {
                    let password = asked(password, "user rename")?;
                    let u = ctx.wf.rename_self(&password, &new_name)?;
                    println!("{}", t!("out-renamed", name = u.name));
                }
                UserCmd::List => {
                    for u in ctx.wf.store().users()? {
                        println!(
                            "{:>4}  {} {}",
                            u.id.0,
                            left(&u.name, 12),
                            phrase(&u.role.to_string())
                        );
                    }
                }
            }
        }
        WorkflowCmd::Customer(c) => {
            ctx.resume()?;
            let actor = ctx.wf.user().map(|u| u.id).ok_or(CmdError::NoSession)?;
            match c {
                CustomerCmd::Add {
                    code,
                    name,
                    tin,
                    address_phone,
                    bank_account,
                } => {
                    let party = taxdisk_host::invoice::model::Party {
                        name,
                        taxpayer_id: tin,
                        address_phone,
                        bank_account,
                    };
                    let id = ctx.wf.store_mut().add_customer(
                        actor,
                        &NewCustomer {
                            code,
                            party,
                            category: None,
                        },
                    )?;
                    println!("{}", t!("out-customer-added", id = id.0));
                }
                CustomerCmd::List => {
                    for c in ctx.wf.store().customers(None)? {
                        let tin = c
                            .party
                            .taxpayer_id
                            .map(|t| t.to_string())
                            .unwrap_or_default();
                        println!("{} {} {tin}", left(&c.code, 8), left(&c.party.name, 30));
                    }
                }
            }
        }
        WorkflowCmd::Product(c) => {
            ctx.resume()?;
            let actor = ctx.wf.user().map(|u| u.id).ok_or(CmdError::NoSession)?;
            match c {
                ProductCmd::Add {
                    code,
                    name,
                    class_code,
                    rate,
                    unit,
                    spec,
                    price,
                    with_tax,
                    rare_earth,
                } => {
                    let bp: u16 = (rate * Decimal::from(100))
                        .round()
                        .try_into()
                        .map_err(|_| CmdError::Input(format!("--rate {rate}: not a rate (F7)")))?;
                    let p = NewProduct {
                        code,
                        name,
                        class_code,
                        rate: TaxRate(bp),
                        unit,
                        spec,
                        price,
                        price_includes_tax: with_tax,
                        preferential: None,
                        zero_flag: (bp == 0).then_some(ZeroRateFlag::Ordinary),
                        rare_earth,
                    };
                    let id = ctx.wf.store_mut().add_product(actor, &p)?;
                    println!("{}", t!("out-product-added", id = id.0));
                }
                ProductCmd::List { all } => {
                    for p in ctx.wf.store().products(all)? {
                        println!(
                            "{} {} {} {}",
                            left(&p.data.code, 8),
                            left(&p.data.name, 20),
                            p.data.class_code,
                            p.data.rate
                        );
                    }
                }
            }
        }
        WorkflowCmd::Issue {
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
        } => {
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
                    let text = std::fs::read_to_string(&file)
                        .map_err(input(&file.display().to_string()))?;
                    match serde_json::from_str::<Vec<Draft>>(&text) {
                        Ok(v) => v,
                        Err(_) => vec![serde_json::from_str::<Draft>(&text).map_err(input(
                            &format!("{} (a Draft or an array of Drafts)", file.display()),
                        ))?],
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
        }
        WorkflowCmd::Void { ids, blank, kind } => {
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
        }
        WorkflowCmd::Red {
            code,
            number,
            code_again,
            number_again,
        } => {
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
        }
        WorkflowCmd::RedForm(c) => {
            ctx.resume()?;
            red_form(c, ctx)?;
        }
        WorkflowCmd::List { period, all } => {
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
        }
        WorkflowCmd::Upload => {
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
        }
        WorkflowCmd::Repair => {
            ctx.resume()?;
            let r = ctx.wf.repair()?;
            println!(
                "scanned {} journal events: {} pending became issued, {} abandoned, {} undecided, {} voided, {} on the disk unknown to the database",
                r.scanned,
                r.issued.len(),
                r.abandoned.len(),
                r.undecided.len(),
                r.voided.len(),
                r.unknown_on_disk.len()
            );
            for m in &r.mismatched {
                println!(
                    "invoice {} ({} {}) did not match what the disk signed: {}; {}",
                    m.id.0,
                    m.code,
                    m.number,
                    m.differences.join(", "),
                    match (m.restored, m.content_differs) {
                        (_, true) =>
                            "its content cannot be rebuilt from the disk: reissue or restore a backup (FAQ 4.22)",
                        (true, false) => "restored the signed values",
                        (false, false) => "unchanged",
                    }
                );
            }
            if r.mismatched.is_empty() {
                println!("every invoice read back matches what the disk signed");
            }
            if let Some(n) = r.upload_note {
                println!("note: {n}");
            }
        }
        WorkflowCmd::Report { period, medium } => {
            ctx.resume()?;
            let p = match period {
                Some(p) => p,
                None => last_month(&mut ctx.wf)?,
            };
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
        }
        WorkflowCmd::Declare { period } => {
            ctx.resume()?;
            let p = match period {
                Some(p) => p,
                None => last_month(&mut ctx.wf)?,
            };
            ctx.wf.declare(p)?;
            println!("{}", t!("out-declared", period = p));
        }
        WorkflowCmd::Clear { period } => {
            ctx.resume()?;
            let p = match period {
                Some(p) => p,
                None => last_month(&mut ctx.wf)?,
            };
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
        }
        WorkflowCmd::Rolls(c) => {
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
        }
        WorkflowCmd::Status => {
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
        }
        WorkflowCmd::Oil(c) => {
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
        }
        WorkflowCmd::Update => {
            ctx.resume()?;
            let changes = ctx.wf.apply_updates()?;
            println!("{}", t!("out-updates", n = changes.len()));
            for c in changes {
                println!("  {c:?}");
            }
        }
        WorkflowCmd::Export { period, out } => {
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
        }
        WorkflowCmd::Print {
            id,
            out,
            right,
            down,
            rows,
        } => {
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
        }
        WorkflowCmd::Backup { folder } => {
            ctx.resume()?;
            if let Some(f) = folder {
                ctx.wf.set_backup_folder(&f)?;
            }
            let b = ctx.wf.backup()?;
            println!("{}", t!("out-backup", name = b.name));
        }
        WorkflowCmd::Backups => {
            ctx.resume()?;
            for b in ctx.wf.list_backups()? {
                println!("{}", b.name);
            }
        }
        WorkflowCmd::Restore { name } => {
            ctx.resume()?;
            ctx.wf.restore(&name)?;
            println!("{}", t!("out-restored", name = name));
        }
    }
    Ok(())
}
