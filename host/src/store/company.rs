//! Initialization and company data (H1, FAQ 2.1, 2.6, 3.7, 4.16) and key-value settings (backup
//! folder H4, automatic buyer saving H5).
//!
//! Initialization sets the supervisor (the administrator) with a password, the business
//! address, phone, one or more bank accounts and the bureau server address. The connection test
//! of the address belongs to the workflow (`bureau_client`); the store checks its form only:
//! `http://` or `https://` and a host.

use super::UserId;
use super::users::{self, Role};
use super::{Store, StoreError, audit};
use rusqlite::{OptionalExtension, params};

/// One bank and account (开户行及账号).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankAccount {
    /// Bank name.
    pub bank: String,
    /// Account number.
    pub account: String,
}

/// What the first login asks for (FAQ 2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Initialization {
    /// Supervisor (主管) name: the administrator.
    pub supervisor_name: String,
    /// Supervisor password.
    pub supervisor_password: String,
    /// Business address (营业地址).
    pub address: String,
    /// Phone.
    pub phone: String,
    /// Bank accounts, at least one, in order.
    pub bank_accounts: Vec<BankAccount>,
    /// Bureau (security access) server address (安全接入服务器地址).
    pub bureau_server: String,
}

/// The company data as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Company {
    /// Supervisor name.
    pub supervisor_name: String,
    /// Address.
    pub address: String,
    /// Phone.
    pub phone: String,
    /// Bank accounts in order.
    pub bank_accounts: Vec<BankAccount>,
    /// Bureau server address.
    pub bureau_server: String,
}

impl Company {
    /// The seller's "address and phone" cell of an invoice.
    pub fn address_phone(&self) -> String {
        format!("{} {}", self.address, self.phone)
    }

    /// The seller's "bank and account" cell with the account at `index` (FAQ 4.16: bank and
    /// account together).
    pub fn bank_account_text(&self, index: usize) -> Option<String> {
        self.bank_accounts
            .get(index)
            .map(|b| format!("{} {}", b.bank, b.account))
    }
}

fn required(field: &'static str, s: &str) -> Result<(), StoreError> {
    if s.trim().is_empty() {
        return Err(StoreError::Field {
            rule: "H1",
            field,
            problem: "is required".into(),
        });
    }
    Ok(())
}

/// H1: checks the form of a bureau server address: `http://` or `https://` and a host.
pub fn check_bureau_server(addr: &str) -> Result<(), StoreError> {
    let rest = addr
        .strip_prefix("http://")
        .or_else(|| addr.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace) => {
            Ok(())
        }
        _ => Err(StoreError::Field {
            rule: "H1",
            field: "bureau server address",
            problem: format!("{addr:?} is not an http:// or https:// address"),
        }),
    }
}

fn check_accounts(accounts: &[BankAccount]) -> Result<(), StoreError> {
    if accounts.is_empty() {
        return Err(StoreError::Field {
            rule: "H1",
            field: "bank accounts",
            problem: "at least one is required".into(),
        });
    }
    for a in accounts {
        required("bank name", &a.bank)?;
        required("bank account", &a.account)?;
    }
    Ok(())
}

/// Setting key of the backup folder (H4).
pub const SETTING_BACKUP_FOLDER: &str = "backup_folder";
/// Setting key of automatic buyer saving (H5): `"1"` or `"0"`.
pub const SETTING_AUTO_SAVE_BUYERS: &str = "auto_save_buyers";

impl Store {
    /// Whether the system was initialized (H1).
    pub fn is_initialized(&self) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM company", [], |r| r.get(0))?;
        Ok(n > 0)
    }

    /// H1 (FAQ 2.1): initializes the system; returns the administrator's id. Refused once
    /// initialized.
    pub fn initialize(&mut self, init: &Initialization) -> Result<UserId, StoreError> {
        if self.is_initialized()? {
            return Err(StoreError::Initialization(
                "the system is initialized already",
            ));
        }
        required("supervisor name", &init.supervisor_name)?;
        required("address", &init.address)?;
        required("phone", &init.phone)?;
        check_accounts(&init.bank_accounts)?;
        check_bureau_server(&init.bureau_server)?;
        let tx = self.conn.transaction()?;
        let admin = users::insert_user(
            &tx,
            &init.supervisor_name,
            &init.supervisor_password,
            Role::Admin,
        )?;
        tx.execute(
            "INSERT INTO company (id, supervisor_name, address, phone, bureau_server)
             VALUES (1, ?1, ?2, ?3, ?4)",
            params![
                init.supervisor_name.trim(),
                init.address.trim(),
                init.phone.trim(),
                init.bureau_server
            ],
        )?;
        write_accounts(&tx, &init.bank_accounts)?;
        audit::write(
            &tx,
            Some(admin),
            "system.initialize",
            init.supervisor_name.trim(),
        )?;
        tx.commit()?;
        Ok(admin)
    }

    /// The company data (H1).
    pub fn company(&self) -> Result<Company, StoreError> {
        // Read for every issuing batch (the seller, H3): the statement is kept prepared.
        let row: Option<(String, String, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT supervisor_name, address, phone, bureau_server FROM company WHERE id = 1",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let Some((supervisor_name, address, phone, bureau_server)) = row else {
            return Err(StoreError::Initialization("the system is not initialized"));
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT bank, account FROM bank_accounts ORDER BY position")?;
        let bank_accounts = stmt
            .query_map([], |r| {
                Ok(BankAccount {
                    bank: r.get(0)?,
                    account: r.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Company {
            supervisor_name,
            address,
            phone,
            bank_accounts,
            bureau_server,
        })
    }

    /// H1 (FAQ 2.6): changes address, phone and bank accounts (after a change at the bureau).
    pub fn update_company(
        &mut self,
        actor: UserId,
        address: &str,
        phone: &str,
        bank_accounts: &[BankAccount],
    ) -> Result<(), StoreError> {
        self.company()?;
        required("address", address)?;
        required("phone", phone)?;
        check_accounts(bank_accounts)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE company SET address = ?1, phone = ?2 WHERE id = 1",
            params![address.trim(), phone.trim()],
        )?;
        write_accounts(&tx, bank_accounts)?;
        audit::write(&tx, Some(actor), "company.update", address.trim())?;
        tx.commit()?;
        Ok(())
    }

    /// H1: sets the bureau server address (its form is checked; the workflow tests the
    /// connection).
    pub fn set_bureau_server(&mut self, actor: UserId, addr: &str) -> Result<(), StoreError> {
        self.company()?;
        check_bureau_server(addr)?;
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE company SET bureau_server = ?1 WHERE id = 1", [addr])?;
        audit::write(&tx, Some(actor), "company.bureau_server", addr)?;
        tx.commit()?;
        Ok(())
    }

    /// A setting's value.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a setting that is a secret (a credential): the audit log names the key only.
    pub fn set_secret_setting(
        &mut self,
        actor: Option<UserId>,
        key: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?
        .execute([key, value])?;
        audit::write(&tx, actor, "setting", &format!("{key}=<secret>"))?;
        tx.commit()?;
        Ok(())
    }

    /// Sets a setting.
    pub fn set_setting(&mut self, actor: UserId, key: &str, value: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?
        .execute([key, value])?;
        audit::write(&tx, Some(actor), "setting", &format!("{key}={value}"))?;
        tx.commit()?;
        Ok(())
    }
}

fn write_accounts(conn: &rusqlite::Connection, accounts: &[BankAccount]) -> Result<(), StoreError> {
    conn.execute("DELETE FROM bank_accounts", [])?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO bank_accounts (position, bank, account) VALUES (?1, ?2, ?3)",
    )?;
    for (i, a) in accounts.iter().enumerate() {
        stmt.execute(params![i as i64, a.bank.trim(), a.account.trim()])?;
    }
    Ok(())
}
