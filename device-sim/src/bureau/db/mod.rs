//! The bureau's schema and the small typed helpers over it: settings and counters in `meta`,
//! per-disk token sequence numbers, and the disk row. Structured values (limits, signed
//! tokens, events) are stored as their serde JSON, which is the same text the HTTP API sends.
//! The same tables serve SQLite and PostgreSQL through one seam: [`Store`], [`Db`] and [`Tx`].

mod pg;
mod store;
mod value;

pub use pg::redact;
pub use store::{Backend, Db, Store, Tx};
pub(crate) use value::args;
pub use value::{Row, Value};

use super::error::BureauError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::{
    DeviceSerial, KindLimits, OilRole, PublicKey, TaxpayerId, UsedCarRole,
};

/// The schema version written to `meta` (bumped when a table changes).
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// Every table, in SQLite's type names ([`schema_for`] maps them for PostgreSQL). `IF NOT
/// EXISTS` so opening an existing database is the same call. Besides the primary keys, two
/// unique indexes hold when several workers share the database: a range is granted once
/// (`grants_code`) and a red info form names one invoice that is not voided
/// (`invoices_one_per_form`, FAQ 7.4, 7.5).
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
CREATE UNIQUE INDEX IF NOT EXISTS grants_code ON grants (code, first);
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
CREATE UNIQUE INDEX IF NOT EXISTS invoices_one_per_form ON invoices (red_form)
    WHERE red_form IS NOT NULL AND voided = 0;
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

/// The schema in the type names of `backend`: SQLite's `INTEGER` (64-bit) is PostgreSQL's
/// `BIGINT`, and `BLOB` is `BYTEA`.
pub(crate) fn schema_for(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => SCHEMA.to_owned(),
        Backend::Postgres => SCHEMA.replace("INTEGER", "BIGINT").replace("BLOB", "BYTEA"),
    }
}

/// Any number, the same in every bureau process: the key of the PostgreSQL advisory lock that
/// makes workers starting at once create the tables one after the other.
const SCHEMA_LOCK: i64 = 0x7461_7864_6973_6b31;

/// Creates the tables of a new database (or checks an existing one's schema version).
pub(crate) fn init(db: &Db) -> Result<(), BureauError> {
    let schema = schema_for(db.backend());
    db.tx(|tx| {
        if tx.backend() == Backend::Postgres {
            tx.execute("SELECT pg_advisory_xact_lock(?1)", &args![SCHEMA_LOCK])?;
        }
        tx.batch(&schema)?;
        match get_meta::<i64>(tx, "schema_version")? {
            None => set_meta(tx, "schema_version", &SCHEMA_VERSION)?,
            Some(SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(BureauError::Corrupt(format!(
                    "database schema version {v}, this bureau reads {SCHEMA_VERSION}"
                )));
            }
        }
        Ok(())
    })
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
    tx: &mut Tx<'_>,
    key: &str,
) -> Result<Option<T>, BureauError> {
    tx.query_opt("SELECT value FROM meta WHERE key = ?1", &args![key])?
        .map(|r| from_json(&r.text(0)?))
        .transpose()
}

/// Writes one `meta` value.
pub(crate) fn set_meta<T: Serialize>(tx: &mut Tx<'_>, key: &str, v: &T) -> Result<(), BureauError> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &args![key, to_json(v)?],
    )?;
    Ok(())
}

/// Writes one `meta` value unless one is there, and answers the value kept (the first
/// writer's, when two workers start at once).
pub(crate) fn meta_or_insert<T: Serialize + DeserializeOwned>(
    tx: &mut Tx<'_>,
    key: &str,
    v: &T,
) -> Result<T, BureauError> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        &args![key, to_json(v)?],
    )?;
    get_meta(tx, key)?.ok_or_else(|| BureauError::Corrupt(format!("meta {key} vanished")))
}

/// The next value (1, 2, ...) of the counter `token` of `scope` (a disk serial, or `""` for
/// the bureau's own counters), taken in one statement: the row's lock makes two workers
/// taking at once get two values.
pub(crate) fn bump(tx: &mut Tx<'_>, scope: &str, token: &str) -> Result<i64, BureauError> {
    tx.query_one(
        "INSERT INTO seqs (serial, token, last) VALUES (?1, ?2, 1)
         ON CONFLICT (serial, token) DO UPDATE SET last = seqs.last + 1
         RETURNING last",
        &args![scope, token],
    )?
    .int(0)
}

/// The next value (1, 2, ...) of the integer `meta` value `key`, taken in one statement like
/// [`bump`] (the bureau-wide counters kept in `meta`, such as the red form serial of a month).
pub(crate) fn bump_meta(tx: &mut Tx<'_>, key: &str) -> Result<i64, BureauError> {
    let v = tx
        .query_one(
            "INSERT INTO meta (key, value) VALUES (?1, '1')
             ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)
             RETURNING value",
            &args![key],
        )?
        .text(0)?;
    v.parse()
        .map_err(|_| BureauError::Corrupt(format!("meta {key} is {v}, not a counter")))
}

/// Token type names used for sequence numbers and the token store.
pub(crate) mod names {
    /// Roll grants.
    pub const ROLL_GRANT: &str = "roll_grant";
    /// Clear-card tokens.
    pub const CLEAR_CARD: &str = "clear_card";
    /// Update tokens.
    pub const UPDATE: &str = "update";
    /// Clock tokens.
    pub const CLOCK: &str = "clock";
    /// Oil grants.
    pub const OIL_GRANT: &str = "oil_grant";
    /// Unblock tokens.
    pub const UNBLOCK: &str = "unblock";
}

/// The next per-disk sequence number of a token type (1, 2, ...), reserved in `tx`.
pub(crate) fn next_seq(
    tx: &mut Tx<'_>,
    serial: &DeviceSerial,
    token: &str,
) -> Result<u32, BureauError> {
    let next = bump(tx, serial.as_str(), token)?;
    u32::try_from(next).map_err(|_| BureauError::Corrupt(format!("{token} sequence overflow")))
}

/// Stores a signed token so it can be listed again (`/disks/{serial}/updates`, audits).
pub(crate) fn store_token<T: Serialize>(
    tx: &mut Tx<'_>,
    serial: &DeviceSerial,
    token: &str,
    seq: u32,
    signed: &T,
) -> Result<(), BureauError> {
    tx.execute(
        "INSERT INTO tokens (serial, token, seq, signed) VALUES (?1, ?2, ?3, ?4)",
        &args![serial.as_str(), token, seq, to_json(signed)?],
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
    tx: &mut Tx<'_>,
    serial: &DeviceSerial,
) -> Result<Option<DiskRow>, BureauError> {
    let Some(r) = tx.query_opt(
        "SELECT taxpayer_id, machine, public_key, through_counter, last_reported,
                last_cleared, kinds, oil_role, oil_valid_until, used_car_role
         FROM disks WHERE serial = ?1",
        &args![serial.as_str()],
    )?
    else {
        return Ok(None);
    };
    let tp = r.text(0)?;
    Ok(Some(DiskRow {
        serial: serial.clone(),
        taxpayer_id: TaxpayerId::new(&tp).map_err(|e| BureauError::Corrupt(e.to_string()))?,
        machine: r.num(1)?,
        public_key: r.opt_text(2)?.map(|s| from_json(&s)).transpose()?,
        through_counter: r.num(3)?,
        last_reported: r.opt_int(4)?.map(period_from).transpose()?,
        last_cleared: r.opt_int(5)?.map(period_from).transpose()?,
        kinds: from_json(&r.text(6)?)?,
        oil_role: from_json(&r.text(7)?)?,
        oil_valid_until: r.opt_int(8)?.map(|t| Timestamp(t as u64)),
        used_car_role: from_json(&r.text(9)?)?,
    }))
}

/// Writes a disk row (insert or update).
pub(crate) fn save_disk(tx: &mut Tx<'_>, d: &DiskRow) -> Result<(), BureauError> {
    tx.execute(
        "INSERT INTO disks (serial, taxpayer_id, machine, public_key, through_counter,
             last_reported, last_cleared, kinds, oil_role, oil_valid_until, used_car_role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (serial) DO UPDATE SET taxpayer_id = excluded.taxpayer_id,
             machine = excluded.machine, public_key = excluded.public_key,
             through_counter = excluded.through_counter, last_reported = excluded.last_reported,
             last_cleared = excluded.last_cleared, kinds = excluded.kinds,
             oil_role = excluded.oil_role, oil_valid_until = excluded.oil_valid_until,
             used_car_role = excluded.used_car_role",
        &args![
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
