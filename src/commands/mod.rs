//! The workflow subcommands: each opens the store (`<data>/taxdisk.db`), the disk (`--disk`)
//! and the bureau (`--bureau` or the embedded one), resumes the login session where the
//! command needs one, runs one workflow call and prints its outcome. Menus follow the
//! software's: system maintenance (init, user, customer, product, backup), invoice management
//! (issue, void, red, print, rolls), tax reporting (upload, repair, report, clear, status,
//! export, update, oil).

mod invoice;
pub(crate) mod parse;
mod system;
mod tax;

use crate::wiring::{self, DiskSpec};
use clap::Subcommand;
use invoice::{RedFormCmd, RollsCmd};
use std::path::{Path, PathBuf};
use system::{CustomerCmd, ProductCmd, UserCmd};
use tax::OilCmd;
use taxdisk_host::invoice::math::rate_from_percent;
use taxdisk_host::store::Store;
use taxdisk_host::workflow::{Workflow, WorkflowError};
use taxdisk_i18n::Localize;
use taxdisk_i18n::{phrase, t};
use taxdisk_protocol::Period;
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
            } => fill(password, &t!("cli-password-for", user = supervisor))?,
            WorkflowCmd::Login { user, password } => {
                fill(password, &t!("cli-password-for", user = user))?
            }
            WorkflowCmd::User(UserCmd::Add { name, password, .. }) => {
                fill(password, &t!("cli-password-for-new", user = name))?
            }
            WorkflowCmd::User(UserCmd::Passwd { old, new }) => {
                fill(old, &phrase("old password"))?;
                fill(new, &phrase("new password"))?;
            }
            WorkflowCmd::User(UserCmd::Rename { password, .. }) => {
                fill(password, &phrase("your password"))?
            }
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
        #[arg(long, value_parser = parse::checked::<TaxpayerId>)]
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
    Issue(invoice::IssueArgs),
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
        let pin = Pin::new(pin).map_err(|e| input("--pin")(e.localized()))?;
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
    pub fn resume(&mut self) -> Result<taxdisk_host::workflow::LoginReport, CmdError> {
        let token =
            std::fs::read_to_string(session_file(&self.data)).map_err(|_| CmdError::NoSession)?;
        let report = self.wf.resume(token.trim(), &self.pin)?;
        for line in login_steps(&report) {
            eprintln!("{line}");
        }
        Ok(report)
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
        for c in &r.updates {
            out.push(format!("  {}", taxdisk_host::l10n::update_change(c)));
        }
    }
    if r.uploaded > 0 {
        out.push(t!("step-uploaded", n = r.uploaded));
    }
    out.extend(r.notes.iter().map(|n| t!("step-note", note = n)));
    out
}

fn this_month(wf: &mut Workflow) -> Result<Period, CmdError> {
    Ok(wf.refresh_info()?.time.period())
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
    let rate = rate_from_percent(rate).ok_or_else(|| bad(phrase("rate out of range")))?;
    let qty = parse_decimal("quantity", qty).map_err(|e| bad(e.localized()))?;
    let price = parse_decimal("unit price", price).map_err(|e| bad(e.localized()))?;
    let mut li = taxdisk_host::invoice::LineInput::new(name, class, rate).qty_price(qty, price);
    if rate.0 == 0 {
        li = li.zero_flag(ZeroRateFlag::Ordinary);
    }
    Ok(li)
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
        } => system::init(ctx, supervisor, password, address, phone, banks),
        WorkflowCmd::Provision {
            taxpayer_id,
            company,
            machine,
        } => system::provision(ctx, taxpayer_id, company, machine),
        WorkflowCmd::Login { user, password } => system::login(ctx, user, password),
        WorkflowCmd::Logout => system::logout(ctx),
        WorkflowCmd::User(c) => system::user(ctx, c),
        WorkflowCmd::Customer(c) => system::customer(ctx, c),
        WorkflowCmd::Product(c) => system::product(ctx, c),
        WorkflowCmd::Issue(a) => invoice::issue(ctx, a),
        WorkflowCmd::Void { ids, blank, kind } => invoice::void(ctx, ids, blank, kind),
        WorkflowCmd::Red {
            code,
            number,
            code_again,
            number_again,
        } => invoice::red(ctx, code, number, code_again, number_again),
        WorkflowCmd::RedForm(c) => invoice::red_form_cmd(ctx, c),
        WorkflowCmd::List { period, all } => invoice::list(ctx, period, all),
        WorkflowCmd::Upload => tax::upload(ctx),
        WorkflowCmd::Repair => tax::repair(ctx),
        WorkflowCmd::Report { period, medium } => tax::report(ctx, period, medium),
        WorkflowCmd::Declare { period } => tax::declare(ctx, period),
        WorkflowCmd::Clear { period } => tax::clear(ctx, period),
        WorkflowCmd::Rolls(c) => invoice::rolls(ctx, c),
        WorkflowCmd::Status => tax::status(ctx),
        WorkflowCmd::Oil(c) => tax::oil(ctx, c),
        WorkflowCmd::Update => tax::update(ctx),
        WorkflowCmd::Export { period, out } => tax::export(ctx, period, out),
        WorkflowCmd::Print {
            id,
            out,
            right,
            down,
            rows,
        } => invoice::print(ctx, id, out, right, down, rows),
        WorkflowCmd::Backup { folder } => system::backup(ctx, folder),
        WorkflowCmd::Backups => system::backups(ctx),
        WorkflowCmd::Restore { name } => system::restore(ctx, name),
    }
}
