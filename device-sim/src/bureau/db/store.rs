//! The backend seam: [`Store`] names where the bureau's state lives, [`Db`] holds the open
//! database (one SQLite connection, or a pool of PostgreSQL connections) and [`Db::tx`] runs
//! one unit of work in a [`Tx`] whose `execute` / `query` take the SQL written once.
//!
//! SQL is written once for both engines: `?1`-style placeholders (rewritten to `$1` for
//! PostgreSQL), `ON CONFLICT ... DO NOTHING / DO UPDATE` instead of `INSERT OR IGNORE /
//! REPLACE`, integer 0/1 flags rather than booleans, and `CAST(... AS BIGINT)` where an
//! aggregate would otherwise be `NUMERIC` on PostgreSQL. The schema's type names are mapped in
//! [`super::schema_for`].
//!
//! On PostgreSQL every unit of work is a `SERIALIZABLE` transaction, retried when the database
//! answers a serialization failure, a deadlock or a unique violation caused by a concurrent
//! worker: several bureau processes on one database then behave as if they took turns.

use super::Value;
use super::pg;
use super::value::Row;
use crate::bureau::BureauError;
use std::path::PathBuf;

/// Where the bureau keeps its state.
#[derive(Clone, PartialEq, Eq)]
pub enum Store {
    /// An in-memory SQLite database (lost at exit; tests and demos).
    Memory,
    /// A SQLite file (created if missing).
    File(PathBuf),
    /// A PostgreSQL database by its connection URL (`postgres://user:pass@host:port/db`).
    Postgres(String),
}

impl Store {
    /// A `--db` argument: a `postgres://` or `postgresql://` URL, else a SQLite file path.
    pub fn from_arg(s: &std::path::Path) -> Store {
        match s.to_str() {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Store::Postgres(u.to_owned())
            }
            _ => Store::File(s.to_owned()),
        }
    }
}

impl std::fmt::Display for Store {
    /// The store for a log line, a PostgreSQL password left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Store::Memory => write!(f, "SQLite in memory"),
            Store::File(p) => write!(f, "SQLite file {}", p.display()),
            Store::Postgres(url) => write!(f, "PostgreSQL {}", pg::redact(url)),
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Which engine a [`Db`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite through rusqlite.
    Sqlite,
    /// PostgreSQL through the `postgres` crate.
    Postgres,
}

/// The open database.
pub enum Db {
    /// One SQLite connection (the bureau's callers take turns through its mutex).
    Sqlite(rusqlite::Connection),
    /// A pool of PostgreSQL connections.
    Postgres(pg::Pool),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({:?})", self.backend())
    }
}

/// One unit of work in progress.
pub struct Tx<'a>(TxInner<'a>);

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tx({:?})", self.backend())
    }
}

enum TxInner<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a mut dyn pg::Work),
}

impl Db {
    /// Opens (and for SQLite creates) the database of `store`; the bureau makes its tables
    /// when it opens ([`crate::bureau::Bureau::open_store`]).
    pub fn open(store: &Store) -> Result<Db, BureauError> {
        let conn = match store {
            Store::Postgres(url) => return Ok(Db::Postgres(pg::pool(url)?)),
            Store::Memory => rusqlite::Connection::open_in_memory()?,
            Store::File(p) => {
                let c = rusqlite::Connection::open(p)?;
                c.pragma_update(None, "journal_mode", "WAL")?;
                c.pragma_update(None, "synchronous", "NORMAL")?;
                c
            }
        };
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Db::Sqlite(conn))
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs `f` in one transaction and commits it when `f` answers `Ok`; an `Err` rolls it
    /// back. On PostgreSQL the transaction is `SERIALIZABLE` and `f` runs again (from a clean
    /// slate, so it must only act through the `Tx`) when a concurrent worker made it fail.
    pub fn tx<T>(
        &self,
        mut f: impl FnMut(&mut Tx<'_>) -> Result<T, BureauError>,
    ) -> Result<T, BureauError> {
        match self {
            Db::Sqlite(conn) => {
                // The bureau's connection is used by one caller at a time (its mutex), so no
                // other transaction can be open on it.
                let t = conn.unchecked_transaction()?;
                let v = f(&mut Tx(TxInner::Sqlite(&t)))?;
                t.commit()?;
                Ok(v)
            }
            Db::Postgres(pool) => pg::run(pool, &mut |w| f(&mut Tx(TxInner::Postgres(w)))),
        }
    }
}

impl Tx<'_> {
    /// Runs a statement, answering the rows it changed.
    pub fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, BureauError> {
        match &mut self.0 {
            TxInner::Sqlite(c) => {
                Ok(c.prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(args))? as u64)
            }
            TxInner::Postgres(w) => w.execute(sql, args),
        }
    }

    /// Runs a query, answering every row.
    pub fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, BureauError> {
        match &mut self.0 {
            TxInner::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
                    (0..n).map(|i| sqlite_value(r.get_ref(i)?)).collect()
                })?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(Row(r?));
                }
                Ok(out)
            }
            TxInner::Postgres(w) => w.query(sql, args),
        }
    }

    /// The first row of a query, if any.
    pub fn query_opt(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>, BureauError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The first row of a query that always answers one (an aggregate).
    pub fn query_one(&mut self, sql: &str, args: &[Value]) -> Result<Row, BureauError> {
        self.query_opt(sql, args)?
            .ok_or_else(|| BureauError::Corrupt("an aggregate query answered no row".into()))
    }

    /// Runs several statements without parameters (the schema).
    pub fn batch(&mut self, sql: &str) -> Result<(), BureauError> {
        match &mut self.0 {
            TxInner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            TxInner::Postgres(w) => w.batch(sql),
        }
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        match self.0 {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }
}

/// A SQLite column as a [`Value`] (a REAL, which the schema never stores, is refused).
fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> rusqlite::Result<Value> {
    use rusqlite::types::ValueRef;
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        ValueRef::Real(_) => {
            return Err(rusqlite::Error::InvalidColumnType(
                0,
                "REAL".into(),
                rusqlite::types::Type::Real,
            ));
        }
    })
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}
