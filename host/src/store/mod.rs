//! The host's SQLite store (rusqlite, bundled SQLite): settings and company data (H1), users and
//! permissions (H2, H3), backups (H4), customers (H5), products (H6), invoices with their states
//! and signed disk records, red info forms, the oil stock mirror and an audit log.
//!
//! - WAL journal, `synchronous = FULL` (a pending invoice is durable before the disk signs it,
//!   H8), foreign keys on.
//! - Versioned migrations ([`migrate`]) run at open.
//! - Every state change is one transaction, and the audit entry of a change is written in the
//!   same transaction.
//! - Statements are prepared once and cached (`prepare_cached`), so memory stays flat while
//!   inserting many invoices.

pub mod audit;
pub mod backup;
pub mod checkpoint;
pub mod company;
pub mod customers;
mod deferred;
pub mod intents;
pub mod invoices;
pub mod issuing;
pub mod migrate;
pub mod oil;
pub mod products;
pub mod red_forms;
mod tx;
pub mod users;

pub use audit::AuditEntry;
pub use backup::BackupEntry;
pub use company::{BankAccount, Company, Initialization};
pub use customers::{Category, CategoryId, Customer, CustomerId, NewCustomer, SavedBuyer};
pub use intents::{Intent, IntentOp};
pub use invoices::{
    DiskRecord, InvoiceId, InvoiceRow, InvoiceState, IssuedAndPending, MonthQuery, PendingInsert,
    StoredInvoice,
};
pub use issuing::{IssuingContext, Permissions};
pub use products::{NewProduct, Product, ProductId, coding_allowed};
pub use red_forms::{Applicant, RedForm, RedFormBody, RedFormId, RedFormState};
pub use users::{Action, Role, User};

/// A user's row id (the users table; the audit log names its actor by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

use crate::invoice::InvoiceError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// What can go wrong in the store. Rule violations name their rule (`rule()`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A file operation failed (backups).
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// The database was written by a newer version of this software.
    #[error("the database has schema version {found}, newer than this software's {supported}")]
    SchemaTooNew {
        /// Version in the file.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// Stored data does not decode (a bug or a tampered file).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// An invoice rule refused stored or given content.
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    /// H1: the system is initialized already / not yet.
    #[error("H1: {0}")]
    Initialization(&'static str),
    /// H1 and the others: a field is missing or malformed.
    #[error("{rule}: {field}: {problem}")]
    Field {
        /// Rule id.
        rule: &'static str,
        /// Field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// H2: the name is used by another user (administrator included).
    #[error(
        "H2: the user name {0:?} is taken; an invoicer's name must differ from the administrator's and every other user's (FAQ 2.2)"
    )]
    NameTaken(String),
    /// H5: the category name is used by another category.
    #[error(
        "H5: the category name {name:?} is taken by category {id}; a category's name differs from every other"
    )]
    CategoryTaken {
        /// The name asked for, trimmed.
        name: String,
        /// The category that has it.
        id: i64,
    },
    /// H2: wrong name or password.
    #[error("H2: wrong user name or password")]
    WrongPassword,
    /// H2/H3/H4: the actor may not do this.
    #[error("{rule}: permission denied: {what}")]
    Permission {
        /// Rule id.
        rule: &'static str,
        /// What was refused.
        what: String,
    },
    /// H6 (FAQ 3.5): coding is disabled with only motor-vehicle or used-car authorization.
    #[error(
        "H6: product and customer coding is disabled: the disk holds only motor-vehicle or used-car authorization (FAQ 3.5)"
    )]
    CodingDisabled,
    /// A record does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A state change that the record's state does not allow.
    #[error("{rule}: {what} is {state}; {problem}")]
    State {
        /// Rule id.
        rule: &'static str,
        /// Which record.
        what: String,
        /// Its state.
        state: String,
        /// Why the change is refused.
        problem: &'static str,
    },
    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl StoreError {
    /// The RULES.md id of the rule behind the error, if any.
    pub fn rule(&self) -> Option<&'static str> {
        match self {
            StoreError::Invoice(e) => Some(e.rule()),
            StoreError::Initialization(_) => Some("H1"),
            StoreError::Field { rule, .. }
            | StoreError::Permission { rule, .. }
            | StoreError::State { rule, .. } => Some(rule),
            StoreError::NameTaken(_) | StoreError::WrongPassword => Some("H2"),
            StoreError::CategoryTaken { .. } => Some("H5"),
            StoreError::CodingDisabled => Some("H6"),
            _ => None,
        }
    }
}

/// Seconds since the Unix epoch by the host clock (audit and bookkeeping times only; invoice
/// times are the disk's).
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// How hard a commit is made durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL` (the default): every commit is fsynced before it returns, so a
    /// pending invoice survives even a power loss before the disk signs it (H8). Costs one
    /// fsync per state change.
    Full,
    /// `synchronous = NORMAL` (WAL): commits survive a crash of the process; after an OS crash
    /// or power loss the newest commits may be missing, and repair (H11) reconciles the store
    /// with the disk journal, which is durable before the disk answers (D13).
    Normal,
}

/// The host database.
#[derive(Debug)]
pub struct Store {
    /// Declared first so it stops before the main connection closes.
    checkpointer: Option<checkpoint::Checkpointer>,
    conn: Conn,
    /// What the last issuing call read ([`Store::issuing_context`]), with the configuration
    /// version it was read at and for whom.
    context: std::cell::RefCell<Option<(i64, UserId, IssuingContext)>>,
}

/// The store's connection. Every use of it first waits until the issuing records deferred
/// to the background folder are folded in ([`deferred`]), so this process reads and changes
/// the store as if each had been committed at once; the issuing path's own writes and the
/// reads that do not touch invoices go through [`Conn::raw`] and do not wait.
#[derive(Debug)]
struct Conn {
    deferred: Option<deferred::Deferred>,
    conn: Connection,
}

impl Conn {
    /// The connection, without waiting for the deferred records.
    fn raw(&self) -> &Connection {
        &self.conn
    }

    /// The same, to write.
    fn raw_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The deferred records (when issuing defers them) with the connection, neither waiting.
    fn deferred(&mut self) -> Option<(&mut deferred::Deferred, &Connection)> {
        let Conn { deferred, conn } = self;
        deferred.as_mut().map(|d| (d, &*conn))
    }

    /// Stops deferring: folds in what is left, stops the folder, gives back the reserved ids
    /// no row took (when no other writer took ids after them).
    fn stop_deferring(&mut self) {
        if let Some(d) = self.deferred.take() {
            let (next, end) = d.finish();
            if next < end {
                let _ = self
                    .conn
                    .prepare_cached(
                        "UPDATE sequences SET next = ?1 WHERE name = 'invoices' AND next = ?2",
                    )
                    .and_then(|mut s| s.execute([next, end]));
            }
        }
    }
}

impl std::ops::Deref for Conn {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        if let Some(d) = &self.deferred {
            d.settle();
        }
        &self.conn
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Connection {
        if let Some(d) = &self.deferred {
            d.settle();
        }
        &mut self.conn
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.stop_deferring();
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::setup(Connection::open(path)?)
    }

    /// A fresh database in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Store, StoreError> {
        // journal_mode answers a row; in memory it stays "memory".
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )?;
        conn.set_prepared_statement_cache_capacity(64);
        // Write transactions take the write lock when they begin: one that waits for another
        // writer (the background checkpointer restarting the WAL) then holds no snapshot, so
        // the two cannot wait for each other.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        migrate::migrate(&mut conn)?;
        if let Some(path) = conn.path().filter(|p| !p.is_empty()).map(PathBuf::from) {
            // Issuing journals left by processes that died before folding them in.
            deferred::recover(&conn, &path)?;
        }
        Ok(Store {
            checkpointer: None,
            conn: Conn {
                deferred: None,
                conn,
            },
            context: std::cell::RefCell::new(None),
        })
    }

    /// Sets how hard each commit is made durable (see [`Durability`]). Under `Normal` the
    /// WAL is checkpointed by a background thread on its own connection
    /// ([`checkpoint`]), not from inside a commit: a checkpoint copies pages and fsyncs, and
    /// inside a commit that was one issuing call in many waiting for it (BENCHMARKS.md
    /// section 6); and issuing records go to a journal file and are folded into the database
    /// behind the disk's signing ([`Store::defers_issuing`]). A database in memory has no WAL,
    /// no checkpointer and no journal.
    pub fn set_durability(&mut self, d: Durability) -> Result<(), StoreError> {
        let file = self
            .conn
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from);
        match (d, file) {
            (Durability::Normal, Some(path)) => {
                self.conn
                    .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0")?;
                if self.checkpointer.is_none() {
                    self.checkpointer = Some(checkpoint::Checkpointer::start(&path)?);
                }
                if self.conn.deferred.is_none() {
                    self.conn.deferred = Some(deferred::Deferred::start(&path)?);
                }
            }
            (Durability::Normal, None) => {
                self.conn.execute_batch("PRAGMA synchronous = NORMAL")?;
            }
            (Durability::Full, _) => {
                self.conn.stop_deferring();
                self.checkpointer = None;
                self.conn
                    .execute_batch("PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 1000")?;
            }
        }
        Ok(())
    }

    /// Whether a background thread checkpoints the WAL (`Durability::Normal` on a file).
    pub fn checkpoints_in_background(&self) -> bool {
        self.checkpointer.is_some()
    }

    /// Whether issuing records go to a journal file of this process's and are folded into
    /// the database by a background thread (`Durability::Normal` on a file; see the
    /// `deferred` module): the pending record before the disk signs is then one `write`.
    pub fn defers_issuing(&self) -> bool {
        self.conn.deferred.is_some()
    }

    /// Waits until every issuing record deferred so far is in the database, where other
    /// connections and processes see it. Every use of the store waits for this by itself;
    /// a caller that hands the database to another process calls it first.
    pub fn settle(&self) {
        if let Some(d) = &self.conn.deferred {
            d.settle();
        }
    }

    /// Pages of WAL after which a commit checkpoints it (0: never; the background checkpointer
    /// does it).
    pub fn wal_autocheckpoint(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?)
    }

    /// The durability in force.
    pub fn durability(&self) -> Result<Durability, StoreError> {
        let level: i64 = self
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        Ok(if level >= 2 {
            Durability::Full
        } else {
            Durability::Normal
        })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrate::current(&self.conn)
    }

    /// The SQLite journal mode (`wal` for files, `memory` in memory).
    pub fn journal_mode(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))?)
    }

    /// `EXPLAIN QUERY PLAN` of `sql` (with `params`), one detail line per step, to check that
    /// a query uses its index.
    pub fn explain(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let rows = stmt.query_map(params, |r| r.get::<_, String>(3))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
