//! The system maintenance menu (系统维护): init, provision, login and logout, users,
//! customers, products, backups.

use super::parse;
use super::{CmdError, Ctx, input, login_steps, session_file};
use crate::wiring;
use clap::Subcommand;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use taxdisk_host::invoice::math::rate_from_percent;
use taxdisk_host::store::{
    Action, BankAccount, Category, CategoryId, Initialization, NewCustomer, NewProduct, StoreError,
};
use taxdisk_host::workflow::WorkflowError;
use taxdisk_i18n::width::left;
use taxdisk_i18n::{phrase, t};
use taxdisk_protocol::bureau_api::RegisterTaxpayer;
use taxdisk_protocol::types::*;

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
        #[arg(long, value_parser = parse::checked::<TaxpayerId>)]
        tin: Option<TaxpayerId>,
        /// Address and phone.
        #[arg(long, default_value = "")]
        address_phone: String,
        /// Bank and account.
        #[arg(long, default_value = "")]
        bank_account: String,
        /// The customer's category (its name, `customer category list`).
        #[arg(long)]
        category: Option<String>,
    },
    /// List customers with their categories.
    List {
        /// Only the customers of this category (its name).
        #[arg(long)]
        category: Option<String>,
    },
    /// Customer categories (客户分类, H5, FAQ 3.1).
    #[command(subcommand)]
    Category(CategoryCmd),
    /// Save the buyer of every invoice issued from now on to the customers automatically
    /// (自动保存, H5, FAQ 3.2), or stop (then `customer add` saves one by hand).
    AutoSave {
        /// on or off.
        #[arg(value_enum)]
        state: Switch,
    },
}

/// Customer categories.
#[derive(Debug, Subcommand)]
pub enum CategoryCmd {
    /// Add a category, at the top or under another; its name differs from every other.
    Add {
        /// Name.
        #[arg(long)]
        name: String,
        /// The category it goes under (its name).
        #[arg(long)]
        parent: Option<String>,
    },
    /// List the categories as a tree, with how many customers each holds.
    List,
}

/// A switch's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
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
        #[arg(long, value_parser = parse::checked::<TaxClassCode>)]
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

/// The password asked for by [`WorkflowCmd::ask_passwords`](super::WorkflowCmd::ask_passwords).
fn asked(p: Option<String>, what: &str) -> Result<String, CmdError> {
    p.ok_or_else(|| {
        CmdError::from(crate::prompt::PromptError::Missing {
            what: what.to_owned(),
        })
    })
}

/// `taxdisk init`.
pub(super) fn init(
    ctx: &mut Ctx,
    supervisor: String,
    password: Option<String>,
    address: String,
    phone: String,
    banks: Vec<String>,
) -> Result<(), CmdError> {
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
    Ok(())
}

/// `taxdisk provision`.
pub(super) fn provision(
    ctx: &mut Ctx,
    taxpayer_id: TaxpayerId,
    company: CompanyName,
    machine: u16,
) -> Result<(), CmdError> {
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
    Ok(())
}

/// `taxdisk login`.
pub(super) fn login(ctx: &mut Ctx, user: String, password: Option<String>) -> Result<(), CmdError> {
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
    Ok(())
}

/// `taxdisk logout`.
pub(super) fn logout(ctx: &mut Ctx) -> Result<(), CmdError> {
    let path = session_file(&ctx.data);
    if let Ok(token) = std::fs::read_to_string(&path) {
        if ctx.wf.resume(token.trim(), &ctx.pin).is_ok() {
            ctx.wf.close_session(token.trim())?;
        }
        let _ = std::fs::remove_file(&path);
    }
    println!("{}", t!("out-logged-out"));
    Ok(())
}

/// `taxdisk user`.
pub(super) fn user(ctx: &mut Ctx, c: UserCmd) -> Result<(), CmdError> {
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
    Ok(())
}

/// `taxdisk customer`.
pub(super) fn customer(ctx: &mut Ctx, c: CustomerCmd) -> Result<(), CmdError> {
    ctx.resume()?;
    match c {
        CustomerCmd::Add {
            code,
            name,
            tin,
            address_phone,
            bank_account,
            category,
        } => {
            let category = match category {
                Some(name) => Some(category_named(ctx, "--category", &name)?.id),
                None => None,
            };
            let party = taxdisk_host::invoice::model::Party {
                name,
                taxpayer_id: tin,
                address_phone,
                bank_account,
            };
            let id = ctx.wf.add_customer(&NewCustomer {
                code,
                party,
                category,
            })?;
            println!("{}", t!("out-customer-added", id = id.0));
        }
        CustomerCmd::Category(CategoryCmd::Add { name, parent }) => {
            let parent = match parent {
                Some(p) => Some(category_named(ctx, "--parent", &p)?),
                None => None,
            };
            let id = match ctx.wf.add_category(&name, parent.as_ref().map(|p| p.id)) {
                Err(WorkflowError::Store(StoreError::CategoryTaken { name, id })) => {
                    return Err(CmdError::Input(t!(
                        "out-category-taken",
                        name = name,
                        id = id
                    )));
                }
                r => r?,
            };
            println!(
                "{}",
                match &parent {
                    Some(p) => t!(
                        "out-category-added-under",
                        id = id.0,
                        name = name.trim(),
                        parent = p.name.as_str()
                    ),
                    None => t!("out-category-added", id = id.0, name = name.trim()),
                }
            );
        }
        CustomerCmd::Category(CategoryCmd::List) => {
            let all = ctx.wf.store().categories()?;
            let customers = ctx.wf.store().customers(None)?;
            let held = |c: &Category| {
                customers
                    .iter()
                    .filter(|k| k.category == Some(c.id))
                    .count()
            };
            // Depth first from the top ones, each level indented two more.
            fn walk(
                all: &[Category],
                parent: Option<CategoryId>,
                depth: usize,
                out: &mut Vec<(usize, Category)>,
            ) {
                for c in all.iter().filter(|c| c.parent == parent) {
                    out.push((depth, c.clone()));
                    // Each category has one parent, so a walk down from the top ones meets
                    // no loop: a category in a loop of parents is never reached.
                    walk(all, Some(c.id), depth + 1, out);
                }
            }
            let mut tree = Vec::new();
            walk(&all, None, 0, &mut tree);
            for (depth, c) in &tree {
                let label = format!("{}{}", "  ".repeat(*depth), c.name);
                println!(
                    "{:>4}  {}  {}",
                    c.id.0,
                    left(&label, 30),
                    t!("out-category-customers", n = held(c))
                );
            }
        }
        CustomerCmd::AutoSave { state } => {
            ctx.wf.set_auto_save_buyers(state == Switch::On)?;
            println!(
                "{}",
                t!(match state {
                    Switch::On => "out-customer-auto-save-on",
                    Switch::Off => "out-customer-auto-save-off",
                })
            );
        }
        CustomerCmd::List { category } => {
            let only = match category {
                Some(name) => Some(category_named(ctx, "--category", &name)?.id),
                None => None,
            };
            let names: std::collections::HashMap<CategoryId, String> = ctx
                .wf
                .store()
                .categories()?
                .into_iter()
                .map(|c| (c.id, c.name))
                .collect();
            for c in ctx.wf.store().customers(only)? {
                let tin = c
                    .party
                    .taxpayer_id
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                let cat = c
                    .category
                    .and_then(|id| names.get(&id))
                    .map(String::as_str)
                    .unwrap_or("");
                let line = format!(
                    "{} {} {} {cat}",
                    left(&c.code, 8),
                    left(&c.party.name, 30),
                    left(&tin, 20)
                );
                println!("{}", line.trim_end());
            }
        }
    }
    Ok(())
}

/// The category a person named in `flag`, or a refusal naming what was given.
fn category_named(ctx: &Ctx, flag: &str, name: &str) -> Result<Category, CmdError> {
    ctx.wf
        .store()
        .category_named(name)?
        .ok_or_else(|| CmdError::Input(t!("out-category-unknown", flag = flag, name = name)))
}

/// `taxdisk product`.
pub(super) fn product(ctx: &mut Ctx, c: ProductCmd) -> Result<(), CmdError> {
    ctx.resume()?;
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
            let rate = rate_from_percent(rate)
                .ok_or_else(|| CmdError::Input(format!("--rate {rate}: not a rate (F7)")))?;
            let p = NewProduct {
                code,
                name,
                class_code,
                rate,
                unit,
                spec,
                price,
                price_includes_tax: with_tax,
                preferential: None,
                zero_flag: (rate.0 == 0).then_some(ZeroRateFlag::Ordinary),
                rare_earth,
            };
            let id = ctx.wf.add_product(&p)?;
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
    Ok(())
}

/// `taxdisk backup`.
pub(super) fn backup(ctx: &mut Ctx, folder: Option<PathBuf>) -> Result<(), CmdError> {
    ctx.resume()?;
    if let Some(f) = folder {
        ctx.wf.set_backup_folder(&f)?;
    }
    let b = ctx.wf.backup()?;
    println!("{}", t!("out-backup", name = b.name));
    Ok(())
}

/// `taxdisk backups`.
pub(super) fn backups(ctx: &mut Ctx) -> Result<(), CmdError> {
    ctx.resume()?;
    for b in ctx.wf.list_backups()? {
        println!("{}", b.name);
    }
    Ok(())
}

/// `taxdisk restore`.
pub(super) fn restore(ctx: &mut Ctx, name: String) -> Result<(), CmdError> {
    ctx.resume()?;
    ctx.wf.restore(&name)?;
    println!("{}", t!("out-restored", name = name));
    Ok(())
}
