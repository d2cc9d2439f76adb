//! PostgreSQL behind the seam: the connection pool (r2d2 over the sync `postgres` client, each
//! connection keeping the statements it prepared), the serializable transaction with its
//! retry, binding [`Value`]s to the types PostgreSQL infers for a statement's parameters,
//! reading columns back, and telling "the database is down" ([`BureauError::Unavailable`],
//! HTTP 503) from a failed statement.

use super::value::{Row, Value};
use crate::bureau::BureauError;
use postgres::types::{ToSql, Type};
use postgres::{IsolationLevel, NoTls, Statement};
use r2d2_postgres::PostgresConnectionManager;
use std::collections::HashMap;
use std::time::Duration;

/// The pool of connections of one bureau process.
pub type Pool = r2d2::Pool<Manager>;

/// A connection and the statements prepared on it, by their SQL as written (the bureau has a
/// few dozen, so the map stays small). A prepared statement outlives the transaction that
/// prepared it: each is parsed once per connection instead of once per use, which halves the
/// round trips of a statement.
pub struct Conn {
    client: postgres::Client,
    statements: HashMap<String, Statement>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn({} statements prepared)", self.statements.len())
    }
}

/// r2d2's manager of [`Conn`]s: r2d2_postgres's, with the statement map added.
#[derive(Debug)]
pub struct Manager(PostgresConnectionManager<NoTls>);

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        Ok(Conn {
            client: self.0.connect()?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, c: &mut Conn) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut c.client)
    }

    fn has_broken(&self, c: &mut Conn) -> bool {
        self.0.has_broken(&mut c.client)
    }
}

/// Connections one bureau process keeps at most (its requests take turns on the bureau's
/// mutex, so one is busy at a time; the rest cover a connection being replaced).
const POOL_SIZE: u32 = 4;

/// How long a request waits for a connection before answering 503.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How often a unit of work is tried when concurrent workers keep making it fail.
const MAX_ATTEMPTS: u32 = 40;

/// A pool for `url`. No connection is made yet: the first unit of work makes one, and answers
/// [`BureauError::Unavailable`] when it cannot.
pub(super) fn pool(url: &str) -> Result<Pool, BureauError> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| BureauError::BadStore(format!("{}: {e}", redact(url))))?;
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name("taxdisk-bureau");
    let manager = Manager(PostgresConnectionManager::new(config, NoTls));
    Ok(r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(0))
        .connection_timeout(CONNECT_TIMEOUT)
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build_unchecked(manager))
}

/// `url` with its password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or("");
            format!("{scheme}://{name}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// What a unit of work does on PostgreSQL, as the bureau's `Tx` asks it. The `Tx` holds it
/// behind `dyn`, so it can borrow a transaction of any lifetime.
pub(super) trait Work {
    /// Runs a statement, answering the rows it changed.
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, BureauError>;
    /// Runs a query, answering every row.
    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, BureauError>;
    /// Runs several statements without parameters (the schema).
    fn batch(&mut self, sql: &str) -> Result<(), BureauError>;
}

/// One serializable transaction and the statements its connection prepared.
struct Unit<'c> {
    t: postgres::Transaction<'c>,
    statements: &'c mut HashMap<String, Statement>,
}

impl Work for Unit<'_> {
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, BureauError> {
        let st = statement(&mut self.t, self.statements, sql)?;
        let params = bind(&st, args)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
        Ok(self.t.execute(&st, &refs)?)
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, BureauError> {
        let st = statement(&mut self.t, self.statements, sql)?;
        let params = bind(&st, args)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
        self.t.query(&st, &refs)?.iter().map(row_values).collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), BureauError> {
        Ok(self.t.batch_execute(sql)?)
    }
}

/// Runs `f` in a serializable transaction on a pooled connection, again when a concurrent
/// worker made it fail (see [`retryable`]), at most [`MAX_ATTEMPTS`] times.
pub(super) fn run<T>(
    pool: &Pool,
    f: &mut dyn FnMut(&mut dyn Work) -> Result<T, BureauError>,
) -> Result<T, BureauError> {
    let mut conn = pool
        .get()
        .map_err(|e| BureauError::Unavailable(format!("no connection to PostgreSQL: {e}")))?;
    let Conn { client, statements } = &mut *conn;
    let mut attempt = 1;
    loop {
        let t = client
            .build_transaction()
            .isolation_level(IsolationLevel::Serializable)
            .start()?;
        let mut unit = Unit {
            t,
            statements: &mut *statements,
        };
        let out = f(&mut unit).and_then(|v| unit.t.commit().map(|()| v).map_err(BureauError::from));
        match out {
            Err(e) if retryable(&e) && attempt < MAX_ATTEMPTS => {
                std::thread::sleep(backoff(attempt));
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Whether a failure came from a concurrent transaction, so running the work again decides
/// it: a serialization failure, a deadlock, or a unique key another worker took first.
fn retryable(e: &BureauError) -> bool {
    use postgres::error::SqlState;
    let BureauError::Postgres(e) = e else {
        return false;
    };
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
    })
}

/// A short pause that grows with the attempt, with jitter from the clock's nanoseconds so two
/// workers that collided do not collide again in step.
fn backoff(attempt: u32) -> Duration {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()) % 1000)
        .unwrap_or(0);
    Duration::from_micros(u64::from(attempt.min(20)) * 500 + jitter * 2)
}

impl From<postgres::Error> for BureauError {
    /// A lost or refused connection is [`BureauError::Unavailable`]; anything else the
    /// statement's own failure.
    fn from(e: postgres::Error) -> Self {
        if unavailable(&e) {
            BureauError::Unavailable(e.to_string())
        } else {
            BureauError::Postgres(e)
        }
    }
}

/// Whether the error says the database cannot be reached (closed or failed connection, the
/// server shutting down or starting, too many connections) rather than that a statement failed.
fn unavailable(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        let c = db.code().code();
        return c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03" | "53300");
    }
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if s.is::<std::io::Error>() {
            return true;
        }
        src = s.source();
    }
    e.to_string().contains("timeout")
}

/// The SQL with `?N` placeholders written as PostgreSQL's `$N`.
fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// Each value as the type PostgreSQL inferred for its parameter.
fn bind<'v>(
    st: &Statement,
    args: &'v [Value],
) -> Result<Vec<Box<dyn ToSql + Sync + 'v>>, BureauError> {
    if st.params().len() != args.len() {
        return Err(BureauError::Corrupt(format!(
            "a statement takes {} parameters, given {}",
            st.params().len(),
            args.len()
        )));
    }
    let narrow = |i: i64, ty: &Type| {
        BureauError::Corrupt(format!("{i} does not fit a parameter of type {ty}"))
    };
    st.params()
        .iter()
        .zip(args)
        .map(
            |(ty, v)| -> Result<Box<dyn ToSql + Sync + 'v>, BureauError> {
                Ok(match (v, ty) {
                    (Value::Int(i), &Type::INT8) => Box::new(*i),
                    (Value::Int(i), &Type::INT4) => {
                        Box::new(i32::try_from(*i).map_err(|_| narrow(*i, ty))?)
                    }
                    (Value::Int(i), &Type::INT2) => {
                        Box::new(i16::try_from(*i).map_err(|_| narrow(*i, ty))?)
                    }
                    (Value::Int(i), &Type::BOOL) => Box::new(*i != 0),
                    (Value::Text(s), _) => Box::new(s.as_str()),
                    (Value::Bytes(b), _) => Box::new(b.as_slice()),
                    (Value::Null, &Type::INT8) => Box::new(None::<i64>),
                    (Value::Null, &Type::INT4) => Box::new(None::<i32>),
                    (Value::Null, &Type::INT2) => Box::new(None::<i16>),
                    (Value::Null, &Type::BOOL) => Box::new(None::<bool>),
                    (Value::Null, &Type::BYTEA) => Box::new(None::<&[u8]>),
                    (Value::Null, _) => Box::new(None::<&str>),
                    (Value::Int(i), _) => {
                        return Err(BureauError::Corrupt(format!(
                            "integer {i} given for a parameter of type {ty}"
                        )));
                    }
                })
            },
        )
        .collect()
}

/// One row's columns as [`Value`]s.
fn row_values(r: &postgres::Row) -> Result<Row, BureauError> {
    let mut out = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let ty = col.type_();
        let v = if *ty == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?.map(Value::from)
        } else if *ty == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(i64::from(v)))
        } else if *ty == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?.map(Value::from)
        } else if *ty == Type::BYTEA {
            r.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Bytes)
        } else if matches!(*ty, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME) {
            r.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else {
            return Err(BureauError::Corrupt(format!(
                "column {} has type {ty}, which the bureau does not read",
                col.name()
            )));
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

/// The statement of `sql`, prepared on this connection before or now.
fn statement(
    t: &mut postgres::Transaction<'_>,
    cache: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, BureauError> {
    if let Some(st) = cache.get(sql) {
        return Ok(st.clone());
    }
    let st = t.prepare(&placeholders(sql))?;
    cache.insert(sql.to_owned(), st.clone());
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollar_numbers() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?1 AND c = ?12 AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 AND d = '?'"
        );
    }

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            redact("postgres://bureau:s3cret@db.example:5432/tax"),
            "postgres://bureau:***@db.example:5432/tax"
        );
        assert_eq!(
            redact("postgres://bureau@db/tax"),
            "postgres://bureau@db/tax"
        );
    }
}
