//! The bureau's SQLite schema and the small typed helpers over it: settings and counters in
//! `meta`, per-disk token sequence numbers, and the disk row. Structured values (limits, signed
//! tokens, events) are stored as their serde JSON, which is the same text the HTTP API sends.

use super::error::BureauError;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::{
    DeviceSerial, KindLimits, OilRole, PublicKey, TaxpayerId, UsedCarRole,
};

/// The schema version written to `meta` (bumped when a table changes).
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// Every table. `IF NOT EXISTS` so opening an existing file is the same call.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS taxpayers (
    taxpayer_id TEXT PRIMARY KEY, company_name TEXT NOT NULL, kinds TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS disks (
    serial TEXT PRIMARY KEY, taxpayer_id TEXT NOT NULL, machine INTEGER NOT NULL,
    public_key TEXT, through_counter INTEGER NOT NULL DEFAULT 0,
    last_reported INTEGER, last_cleared INTEGER, kinds TEXT NOT NULL,
    oil_role TEXT NOT NULL, oil_valid_until INTEGER, used_car_role TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seqs (
    serial TEXT NOT NULL, token TEXT NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (serial, token));
CREATE TABLE IF NOT EXISTS code_batches (
    region TEXT NOT NULL, year INTEGER NOT NULL, kind INTEGER NOT NULL, batch INTEGER NOT NULL,
    code TEXT NOT NULL UNIQUE, next_number INTEGER NOT NULL,
    PRIMARY KEY (region, year, kind, batch));
CREATE TABLE IF NOT EXISTS grants (
    serial TEXT NOT NULL, seq INTEGER NOT NULL, kind INTEGER NOT NULL, code TEXT NOT NULL,
    first INTEGER NOT NULL, count INTEGER NOT NULL, signed TEXT NOT NULL,
    PRIMARY KEY (serial, seq));
CREATE INDEX IF NOT EXISTS grants_code ON grants (code, first);
CREATE TABLE IF NOT EXISTS roll_returns (
    serial TEXT NOT NULL, code TEXT NOT NULL, first INTEGER NOT NULL, count INTEGER NOT NULL,
    signed TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS roll_returns_code ON roll_returns (code, first);
CREATE TABLE IF NOT EXISTS events (
    serial TEXT NOT NULL, counter INTEGER NOT NULL, kind INTEGER NOT NULL,
    event_type TEXT NOT NULL, period INTEGER NOT NULL, event TEXT NOT NULL,
    PRIMARY KEY (serial, counter));
CREATE TABLE IF NOT EXISTS invoices (
    code TEXT NOT NULL, number INTEGER NOT NULL, serial TEXT NOT NULL, counter INTEGER NOT NULL,
    kind INTEGER NOT NULL, period INTEGER NOT NULL, date INTEGER NOT NULL,
    amount INTEGER NOT NULL, tax INTEGER NOT NULL, red INTEGER NOT NULL,
    check_code TEXT NOT NULL, voided INTEGER NOT NULL DEFAULT 0,
    reversed INTEGER NOT NULL DEFAULT 0, red_form TEXT, oil_category INTEGER,
    oil_milli INTEGER, invoice TEXT NOT NULL,
    PRIMARY KEY (code, number));
CREATE TABLE IF NOT EXISTS used_numbers (
    code TEXT NOT NULL, number INTEGER NOT NULL, serial TEXT NOT NULL, counter INTEGER NOT NULL,
    PRIMARY KEY (code, number));
CREATE TABLE IF NOT EXISTS summaries (
    serial TEXT NOT NULL, period INTEGER NOT NULL, summary TEXT NOT NULL,
    PRIMARY KEY (serial, period));
CREATE TABLE IF NOT EXISTS declarations (
    taxpayer_id TEXT NOT NULL, period INTEGER NOT NULL, declared_at INTEGER NOT NULL,
    PRIMARY KEY (taxpayer_id, period));
CREATE TABLE IF NOT EXISTS clears (
    serial TEXT NOT NULL, seq INTEGER NOT NULL, period INTEGER NOT NULL, token TEXT NOT NULL,
    PRIMARY KEY (serial, seq));
CREATE TABLE IF NOT EXISTS red_forms (
    number TEXT PRIMARY KEY, seller TEXT NOT NULL, buyer TEXT NOT NULL, state TEXT NOT NULL,
    form TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS oil_stock (
    serial TEXT NOT NULL, category INTEGER NOT NULL, unit TEXT NOT NULL,
    milli_quantity INTEGER NOT NULL, PRIMARY KEY (serial, category));
CREATE TABLE IF NOT EXISTS oil_moves (
    serial TEXT NOT NULL, direction TEXT NOT NULL, seq INTEGER NOT NULL, signed TEXT NOT NULL,
    PRIMARY KEY (serial, direction, seq));
CREATE TABLE IF NOT EXISTS credentials (
    serial TEXT PRIMARY KEY, digest BLOB NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS tokens (
    serial TEXT NOT NULL, token TEXT NOT NULL, seq INTEGER NOT NULL, signed TEXT NOT NULL,
    PRIMARY KEY (serial, token, seq));
";

/// Creates the tables of a new database (or checks an existing one) and sets WAL for files.
pub(crate) fn init(conn: &Connection) -> Result<(), BureauError> {
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.execute_batch(SCHEMA)?;
    match get_meta::<i64>(conn, "schema_version")? {
        None => set_meta(conn, "schema_version", &SCHEMA_VERSION)?,
        Some(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(BureauError::Corrupt(format!(
                "database schema version {v}, this bureau reads {SCHEMA_VERSION}"
            )));
        }
    }
    Ok(())
}

/// Serializes a value for a TEXT column.
pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String, BureauError> {
    Ok(serde_json::to_string(v)?)
}

/// Reads a value from a TEXT column.
pub(crate) fn from_json<T: DeserializeOwned>(s: &str) -> Result<T, BureauError> {
    Ok(serde_json::from_str(s)?)
}

/// Reads one `meta` value.
pub(crate) fn get_meta<T: DeserializeOwned>(
    conn: &Connection,
    key: &str,
) -> Result<Option<T>, BureauError> {
    let text: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?;
    text.map(|t| from_json(&t)).transpose()
}

/// Writes one `meta` value.
pub(crate) fn set_meta<T: Serialize>(
    conn: &Connection,
    key: &str,
    v: &T,
) -> Result<(), BureauError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, to_json(v)?],
    )?;
    Ok(())
}

/// The next per-disk sequence number of a token type (1, 2, ...), reserved in `tx`.
pub(crate) fn next_seq(
    tx: &Transaction<'_>,
    serial: &DeviceSerial,
    token: &str,
) -> Result<u32, BureauError> {
    let last: Option<i64> = tx
        .query_row(
            "SELECT last FROM seqs WHERE serial = ?1 AND token = ?2",
            params![serial.as_str(), token],
            |r| r.get(0),
        )
        .optional()?;
    let next = last.unwrap_or(0) + 1;
    tx.execute(
        "INSERT INTO seqs (serial, token, last) VALUES (?1, ?2, ?3)
         ON CONFLICT(serial, token) DO UPDATE SET last = excluded.last",
        params![serial.as_str(), token, next],
    )?;
    u32::try_from(next).map_err(|_| BureauError::Corrupt(format!("{token} sequence overflow")))
}

/// Stores a signed token so it can be listed again (`/disks/{serial}/updates`, audits).
pub(crate) fn store_token<T: Serialize>(
    tx: &Transaction<'_>,
    serial: &DeviceSerial,
    token: &str,
    seq: u32,
    signed: &T,
) -> Result<(), BureauError> {
    tx.execute(
        "INSERT INTO tokens (serial, token, seq, signed) VALUES (?1, ?2, ?3, ?4)",
        params![serial.as_str(), token, seq, to_json(signed)?],
    )?;
    Ok(())
}

/// A period as stored (`YYYYMM`).
pub(crate) fn period_col(p: Period) -> i64 {
    i64::from(p.yyyymm())
}

/// A period from its column.
pub(crate) fn period_from(v: i64) -> Result<Period, BureauError> {
    u32::try_from(v)
        .ok()
        .and_then(|v| Period::try_from(v).ok())
        .ok_or_else(|| BureauError::Corrupt(format!("stored period {v}")))
}

/// A disk as the bureau holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DiskRow {
    pub serial: DeviceSerial,
    pub taxpayer_id: TaxpayerId,
    pub machine: u16,
    pub public_key: Option<PublicKey>,
    pub through_counter: u64,
    pub last_reported: Option<Period>,
    pub last_cleared: Option<Period>,
    pub kinds: Vec<KindLimits>,
    pub oil_role: OilRole,
    pub oil_valid_until: Option<Timestamp>,
    pub used_car_role: UsedCarRole,
}

/// Loads a disk, `None` if the bureau never provisioned it.
pub(crate) fn load_disk(
    conn: &Connection,
    serial: &DeviceSerial,
) -> Result<Option<DiskRow>, BureauError> {
    type Raw = (
        String,
        i64,
        Option<String>,
        i64,
        Option<i64>,
        Option<i64>,
        String,
        String,
        Option<i64>,
        String,
    );
    let raw: Option<Raw> = conn
        .query_row(
            "SELECT taxpayer_id, machine, public_key, through_counter, last_reported,
                    last_cleared, kinds, oil_role, oil_valid_until, used_car_role
             FROM disks WHERE serial = ?1",
            [serial.as_str()],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            },
        )
        .optional()?;
    let Some((tp, machine, pk, through, rep, clr, kinds, oil, oil_until, used)) = raw else {
        return Ok(None);
    };
    Ok(Some(DiskRow {
        serial: serial.clone(),
        taxpayer_id: TaxpayerId::new(&tp).map_err(|e| BureauError::Corrupt(e.to_string()))?,
        machine: u16::try_from(machine).map_err(|_| BureauError::Corrupt("machine".into()))?,
        public_key: pk.map(|s| from_json(&s)).transpose()?,
        through_counter: u64::try_from(through)
            .map_err(|_| BureauError::Corrupt("through_counter".into()))?,
        last_reported: rep.map(period_from).transpose()?,
        last_cleared: clr.map(period_from).transpose()?,
        kinds: from_json(&kinds)?,
        oil_role: from_json(&oil)?,
        oil_valid_until: oil_until.map(|t| Timestamp(t as u64)),
        used_car_role: from_json(&used)?,
    }))
}

/// Writes a disk row (insert or replace).
pub(crate) fn save_disk(conn: &Connection, d: &DiskRow) -> Result<(), BureauError> {
    conn.execute(
        "INSERT OR REPLACE INTO disks (serial, taxpayer_id, machine, public_key, through_counter,
             last_reported, last_cleared, kinds, oil_role, oil_valid_until, used_car_role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            d.serial.as_str(),
            d.taxpayer_id.as_str(),
            d.machine,
            d.public_key.as_ref().map(to_json).transpose()?,
            d.through_counter as i64,
            d.last_reported.map(period_col),
            d.last_cleared.map(period_col),
            to_json(&d.kinds)?,
            to_json(&d.oil_role)?,
            d.oil_valid_until.map(|t| t.0 as i64),
            to_json(&d.used_car_role)?,
        ],
    )?;
    Ok(())
}
