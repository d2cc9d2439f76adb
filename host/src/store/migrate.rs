//! Versioned schema migrations: ordered SQL steps, each applied once in its own transaction and
//! recorded in `schema_version`. A database written by a newer version is refused, never
//! downgraded.

use super::StoreError;
use rusqlite::{Connection, OptionalExtension};

/// One migration: the version it brings the schema to and its SQL.
#[derive(Debug)]
pub struct Migration {
    /// Schema version after this step (1, 2, ...).
    pub version: u32,
    /// What it does, for the log.
    pub description: &'static str,
    /// The SQL (several statements).
    pub sql: &'static str,
}

/// Every migration, in order. Append new steps; never edit a released one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "settings, company, users, permissions, customers, products, invoices, red forms, oil, audit",
        sql: include_str!("schema_v1.sql"),
    },
    Migration {
        version: 2,
        description: "indexes for month queries and lookups",
        sql: include_str!("schema_v2.sql"),
    },
    Migration {
        version: 3,
        description: "month indexes on (period, kind); line rows dropped (the JSON holds them)",
        sql: include_str!("schema_v3.sql"),
    },
    Migration {
        version: 4,
        description: "invoice content in its own table (issuing no longer rewrites it)",
        sql: include_str!("schema_v4.sql"),
    },
    Migration {
        version: 5,
        description: "intents: disk changes whose answer may have been lost, sent again",
        sql: include_str!("schema_v5.sql"),
    },
    Migration {
        version: 6,
        description: "invoice ids from a sequence (deferred issuing records); a version of the issuing context",
        sql: include_str!("schema_v6.sql"),
    },
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The schema version of `conn` (0 for an empty database).
pub fn current(conn: &Connection) -> Result<u32, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        )",
    )?;
    let v: Option<u32> = conn
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(v.unwrap_or(0))
}

/// Applies every migration newer than the database, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    let have = current(conn)?;
    let latest = latest();
    if have > latest {
        return Err(StoreError::SchemaTooNew {
            found: have,
            supported: latest,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > have) {
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![m.version, m.description, super::now_secs()],
        )?;
        tx.commit()?;
        tracing::info!(
            version = m.version,
            "{}",
            taxdisk_i18n::t!("log-schema-migrated")
        );
    }
    Ok(latest)
}
