//! The two engines the bureau tests run on. [`both_backends!`](crate::both_backends) turns
//! each test into `sqlite::NAME` and `postgres::NAME`; [`test_bureau`] opens the bureau of the
//! running test on its engine: SQLite in memory, or a schema of its own in the PostgreSQL
//! database named by `TAXDISK_TEST_POSTGRES` (dropped when the test ends, so tests run in
//! parallel). Without that variable a PostgreSQL test says it is skipped and passes, except
//! under `CI=true`, where it fails: CI must run both.
#![allow(dead_code, clippy::unwrap_used)]

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use taxdisk_device_sim::bureau::Bureau;
use taxdisk_device_sim::bureau::db::Store;

/// The engine of a test's bureau.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in memory.
    Sqlite,
    /// PostgreSQL (`TAXDISK_TEST_POSTGRES`).
    Postgres,
}

/// The variable naming the test database.
pub const PG_VAR: &str = "TAXDISK_TEST_POSTGRES";

thread_local! {
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Sqlite) };
    static SCHEMAS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The URL of the test database, if one is given.
pub fn pg_url() -> Option<String> {
    std::env::var(PG_VAR).ok().filter(|v| !v.trim().is_empty())
}

/// Drops the schemas the test made, also when it panicked.
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        let schemas = SCHEMAS.with(|s| std::mem::take(&mut *s.borrow_mut()));
        if schemas.is_empty() {
            return;
        }
        if let Some(url) = pg_url()
            && let Ok(mut c) = postgres::Client::connect(&url, postgres::NoTls)
        {
            for s in schemas {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {s} CASCADE"));
            }
        }
    }
}

/// Runs test `name` with its bureaus on `backend`; a PostgreSQL test without a database
/// prints the skip line and passes, or fails under `CI=true`.
pub fn run(backend: Backend, name: &str, test: impl FnOnce()) {
    if backend == Backend::Postgres && pg_url().is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{name}: no PostgreSQL under CI=true: set {PG_VAR} (.ci/run starts one)");
        }
        // Straight to stderr: the test harness would swallow an `eprintln!` of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "{name}: skipped: no PostgreSQL (set {PG_VAR})"
        );
        return;
    }
    BACKEND.with(|b| b.set(backend));
    let _cleanup = Cleanup;
    test();
}

/// The engine of the running test.
pub fn backend() -> Backend {
    BACKEND.with(Cell::get)
}

/// A new, empty schema in the test database, dropped when the test ends: the URL that opens
/// it (`search_path` set through the connection's `options`).
pub fn fresh_pg_store() -> Store {
    static N: AtomicU32 = AtomicU32::new(0);
    let url = pg_url().unwrap_or_else(|| panic!("{PG_VAR} is not set"));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!(
        "t_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut c = postgres::Client::connect(&url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to {PG_VAR}: {e}"));
    c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
    SCHEMAS.with(|s| s.borrow_mut().push(schema.clone()));
    let sep = if url.contains('?') { '&' } else { '?' };
    Store::Postgres(format!("{url}{sep}options=-c%20search_path%3D{schema}"))
}

/// A fresh bureau on the running test's engine (key from `seed`).
pub fn test_bureau(seed: Option<u64>) -> Bureau {
    match backend() {
        Backend::Sqlite => Bureau::open(None, seed).unwrap(),
        Backend::Postgres => Bureau::open_store(&fresh_pg_store(), seed).unwrap(),
    }
}

/// Turns each `#[test] fn NAME() { .. }` into `sqlite::NAME` and `postgres::NAME`, the body
/// run with [`test_bureau`] opening bureaus on that engine.
#[macro_export]
macro_rules! both_backends {
    ($($(#[$meta:meta])* fn $name:ident() $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$meta])*
                fn $name() {
                    $crate::bureau_support::backends::run(
                        $crate::bureau_support::backends::Backend::Sqlite,
                        stringify!($name),
                        || $body,
                    )
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$meta])*
                fn $name() {
                    $crate::bureau_support::backends::run(
                        $crate::bureau_support::backends::Backend::Postgres,
                        stringify!($name),
                        || $body,
                    )
                }
            )*
        }
    };
}
