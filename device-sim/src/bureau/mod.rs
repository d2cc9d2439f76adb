//! The simulated tax bureau (局端, RULES.md B1-B10): an in-process API ([`Bureau`]) over its state
//! in SQLite (the default: a file or memory) or PostgreSQL ([`db::Store`]), and the HTTP JSON
//! API of [`taxdisk_protocol::bureau_api`] served by axum ([`http`]).
//!
//! ```text
//!  host bureau client ──HTTP JSON──► http::router ──┐
//!  tests / CLI (sync) ──────────────────────────────┼─► Arc<Mutex<Bureau>> ──► SQLite or
//!                                                   │     │ SM2 key (signs tokens)  PostgreSQL
//!  disk events ◄── verified with the disk's key ────┘     │                         (one transaction
//!                                                                                   per change)
//! ```
//!
//! # Several bureau processes on one PostgreSQL database
//! Every bureau worker started on the same database is the same bureau: the key is stored at
//! the first open (the first worker's wins), and nothing that decides an answer lives only in
//! one process. Sequence numbers, the red form serial and the roll allocator are counters in
//! the database taken in the transaction that uses them; replay checks, "sold once", "used
//! once" and "one form, one invoice" are primary keys and unique indexes; each change is one
//! `SERIALIZABLE` transaction retried on conflict ([`db::Db::tx`]), so two workers receiving
//! the same upload accept it once and answer the same receipt. The settings are read in the
//! transaction that uses them, and the virtual time set through one worker reaches the others
//! at their next request ([`Bureau::sync`]).
//!
//! Every operation of the table in [`taxdisk_protocol::bureau_api`] is a method of [`Bureau`]
//! returning `Result<_, BureauError>`; a [`BureauError`] carries the stable code, message and
//! rule that the HTTP layer sends as an `ApiError` with a 4xx status. The simulator adds one
//! administrative path, in the style of that table:
//!
//! | method | path | body | answer | rules |
//! |---|---|---|---|---|
//! | POST | `/admin/time` | `Timestamp` | `{}` | sets the bureau's virtual clock (simulations) |
//!
//! # Choices no source decides (documented here, kept stable)
//! - **Clock**: system time, or a virtual time set with [`Bureau::set_time`] or `/admin/time`
//!   (kept in the database, so a restart keeps it; [`Bureau::use_system_time`] goes back).
//! - **Lock time and upload deadline** ([`period::deadlines`]): both at 00:00 China Standard
//!   Time on the 16th of the month after the current period (the end of the usual filing
//!   period, 征期). Provisioning uses the bureau clock's period; a clear card of period P uses
//!   the later of P+1 and the bureau clock's period.
//! - **Invoice codes** ([`rolls`]): region = digits 3-6 of an 18-character taxpayer id (the
//!   administrative division in the unified social credit code), digits 1-4 of other ids, else
//!   `1100`; year = the bureau clock's year; one batch per (region, year, kind) at a time, so a
//!   code always belongs to one kind and its numbers are sold once. Grants hold at most
//!   [`rolls::ROLL_SIZE`] numbers.
//! - **Red info form numbers** ([`red`]): 6 region digits, year, month, a 5-digit serial of the
//!   month and the F4 check digit.
//! - **Keys**: the bureau's SM2 key comes from a ChaCha20 stream seeded with `seed`, or from the
//!   OS-seeded hasher keys of `std` mixed with the time when no seed is given; it is stored at
//!   first open and read back afterwards (a later `seed` is ignored).

pub mod access;
pub mod check;
pub mod db;
pub mod error;
pub mod http;
pub mod oil;
pub mod period;
pub mod red;
pub mod rolls;
pub mod tokens;
pub mod upload;

pub use error::BureauError;
pub use http::{BureauServer, SharedBureau, router, spawn, spawn_shared, spawn_with_admin};

use db::{Db, Store, Tx, args};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::path::Path;
use taxdisk_protocol::bureau_api::{BureauSettings, DiskRecord, Health, RegisterTaxpayer};
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::{DeviceSerial, Fen, KindLimits, PublicKey, Signed, TaxpayerId};

/// The simulated tax bureau: its database, its SM2 key and its clock.
pub struct Bureau {
    db: Db,
    key: Sm2SigningKey,
    public_key: PublicKey,
    clock: ClockView,
}

/// The bureau's clock, shared with the HTTP layer so that `/health` answers without waiting
/// for the bureau (an upload in progress holds it).
#[derive(Clone, Debug, Default)]
pub struct ClockView(std::sync::Arc<std::sync::Mutex<ClockState>>);

#[derive(Clone, Copy, Debug, Default)]
struct ClockState {
    virtual_time: Option<Timestamp>,
    offset: i64,
    /// The virtual time last read from or written to the database: [`Bureau::sync`] takes a
    /// different one (another worker set it), and keeps a time moved here by
    /// [`ClockView::follow`] otherwise.
    stored: Option<Timestamp>,
}

impl ClockView {
    fn state(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // Two plain values: a poisoned lock still holds a consistent pair.
        taxdisk_protocol::fault::locked(&self.0)
    }

    /// The bureau clock: the virtual time if set, else the system time moved by the offset.
    pub fn now(&self) -> Timestamp {
        let s = *self.state();
        s.virtual_time
            .unwrap_or_else(|| Timestamp::now().shifted(s.offset))
    }

    /// Moves the clock to `t` and on with real time from there (the offset; a virtual time
    /// set by `POST /admin/time` moves to `t` too, in memory): the bureau served beside a
    /// simulated disk follows the disk's clock when a bench moves it (`taxdisk-sim control
    /// advance`), so a month closed on the disk is closed at the bureau too.
    pub fn follow(&self, t: Timestamp) {
        let mut s = self.state();
        s.offset = t.secs_since(Timestamp::now());
        if s.virtual_time.is_some() {
            s.virtual_time = Some(t);
        }
    }
}

impl std::fmt::Debug for Bureau {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret key is left out on purpose.
        f.debug_struct("Bureau")
            .field("public_key", &self.public_key)
            .field("clock", &*self.clock.state())
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

const META_SECRET: &str = "bureau_secret";
const META_TIME: &str = "virtual_time";
const META_SETTINGS: &str = "settings";

impl Bureau {
    /// Opens the bureau's state at `path` (created if missing; a `postgres://` URL names a
    /// PostgreSQL database), or in memory when `path` is `None`. At first open the SM2 key is
    /// generated from `seed` (or randomly) and stored.
    pub fn open(path: Option<&Path>, seed: Option<u64>) -> Result<Bureau, BureauError> {
        Bureau::open_store(&path.map_or(Store::Memory, Store::from_arg), seed)
    }

    /// Opens the bureau's state in `store`, creating its tables if missing. At first open the
    /// SM2 key is generated from `seed` (or randomly) and stored; a worker opening a database
    /// another one opened first reads that one's key.
    pub fn open_store(store: &Store, seed: Option<u64>) -> Result<Bureau, BureauError> {
        let db = Db::open(store)?;
        db::init(&db)?;
        let (secret, virtual_time) = db.tx(|tx| {
            let secret = match db::get_meta::<[u8; 32]>(tx, META_SECRET)? {
                Some(s) => s,
                None => db::meta_or_insert(tx, META_SECRET, &generate_secret(seed))?,
            };
            let time = db::get_meta::<Option<Timestamp>>(tx, META_TIME)?.flatten();
            Ok((secret, time))
        })?;
        let key = sign::signing_key(&secret)?;
        let public_key = sign::public_key(&key);
        Ok(Bureau {
            db,
            key,
            public_key,
            clock: ClockView(std::sync::Arc::new(std::sync::Mutex::new(ClockState {
                virtual_time,
                offset: 0,
                stored: virtual_time,
            }))),
        })
    }

    /// The engine the state is on.
    pub fn backend(&self) -> db::Backend {
        self.db.backend()
    }

    /// Takes what another bureau worker on the same database changed that this one keeps in
    /// memory: the virtual time (`POST /admin/time` answered by another worker). The HTTP
    /// server calls it before every request.
    pub fn sync(&mut self) -> Result<(), BureauError> {
        let t = self
            .db
            .tx(|tx| Ok(db::get_meta::<Option<Timestamp>>(tx, META_TIME)?.flatten()))?;
        let mut s = self.clock.state();
        if s.stored != t {
            s.stored = t;
            s.virtual_time = t;
        }
        Ok(())
    }

    /// The bureau's SM2 public key, which disks verify every token with.
    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// The bureau clock: the virtual time if set, else the system time moved by the clock
    /// offset ([`Bureau::set_clock_offset`]).
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The clock, shared: it reads the time without the bureau.
    pub fn clock_view(&self) -> ClockView {
        self.clock.clone()
    }

    /// Runs the bureau's clock `secs` seconds ahead of the system clock (behind when
    /// negative), still following real time: the clock of a simulated disk started at an
    /// explicit time (`taxdisk --start-time`, `taxdisk-sim serve --start-time`) and of the
    /// bureau it talks to stay one clock. Not kept across restarts; a virtual time
    /// ([`Bureau::set_time`]) takes precedence.
    pub fn set_clock_offset(&mut self, secs: i64) {
        self.clock.state().offset = secs;
    }

    /// Sets the virtual clock (kept across restarts) (`POST /admin/time`).
    pub fn set_time(&mut self, t: Timestamp) -> Result<(), BureauError> {
        self.db.tx(|tx| db::set_meta(tx, META_TIME, &Some(t)))?;
        let mut s = self.clock.state();
        s.virtual_time = Some(t);
        s.stored = Some(t);
        Ok(())
    }

    /// Goes back to the system clock.
    pub fn use_system_time(&mut self) -> Result<(), BureauError> {
        self.db
            .tx(|tx| db::set_meta(tx, META_TIME, &None::<Timestamp>))?;
        let mut s = self.clock.state();
        s.virtual_time = None;
        s.stored = None;
        Ok(())
    }

    /// `GET /health` (H1 connection test).
    pub fn health(&self) -> Health {
        Health {
            status: "ok".to_owned(),
            public_key: self.public_key,
            time: self.now(),
        }
    }

    /// The settings in force (read from the database: any worker may have changed them).
    pub fn settings(&self) -> Result<BureauSettings, BureauError> {
        self.db.tx(settings_in)
    }

    /// `POST /settings` (B6): manual or automatic review of red info forms.
    pub fn set_settings(&mut self, s: BureauSettings) -> Result<(), BureauError> {
        self.db.tx(|tx| db::set_meta(tx, META_SETTINGS, &s))
    }

    /// `POST /taxpayers` (B1): registers or updates a taxpayer and the kinds it may issue.
    pub fn register_taxpayer(&mut self, r: RegisterTaxpayer) -> Result<(), BureauError> {
        check_kinds(&r.kinds)?;
        let kinds = db::to_json(&r.kinds)?;
        self.db.tx(|tx| {
            tx.execute(
                "INSERT INTO taxpayers (taxpayer_id, company_name, kinds) VALUES (?1, ?2, ?3)
                 ON CONFLICT (taxpayer_id) DO UPDATE SET company_name = excluded.company_name,
                     kinds = excluded.kinds",
                &args![r.taxpayer_id.as_str(), r.company_name.as_str(), &kinds],
            )?;
            Ok(())
        })
    }

    /// `GET /disks/{serial}` (B1).
    pub fn disk(&self, serial: &DeviceSerial) -> Result<DiskRecord, BureauError> {
        let (d, last_declared) = self.db.tx(|tx| {
            let d = disk_in(tx, serial)?;
            let last = period::last_declared(tx, &d.taxpayer_id)?;
            Ok((d, last))
        })?;
        Ok(DiskRecord {
            serial: d.serial,
            taxpayer_id: d.taxpayer_id,
            machine: d.machine,
            public_key: d.public_key,
            through_counter: d.through_counter,
            last_reported: d.last_reported,
            last_declared,
            last_cleared: d.last_cleared,
        })
    }

    /// The disk row with a registered key, or `unknown_disk` / `no_key`.
    fn keyed_disk(
        &self,
        serial: &DeviceSerial,
    ) -> Result<(db::DiskRow, sign::VerifyingKey), BureauError> {
        self.db.tx(|tx| keyed_disk_in(tx, serial))
    }
}

/// The settings in force, as stored (automatic red form review when never set).
pub(crate) fn settings_in(tx: &mut Tx<'_>) -> Result<BureauSettings, BureauError> {
    Ok(
        db::get_meta::<BureauSettings>(tx, META_SETTINGS)?.unwrap_or(BureauSettings {
            manual_red_review: false,
        }),
    )
}

/// The disk row with a registered key (read in `tx`), or `unknown_disk` / `no_key`.
pub(crate) fn keyed_disk_in(
    tx: &mut Tx<'_>,
    serial: &DeviceSerial,
) -> Result<(db::DiskRow, sign::VerifyingKey), BureauError> {
    let d = disk_in(tx, serial)?;
    let pk = d.public_key.ok_or_else(|| {
        BureauError::conflict(
            "no_key",
            "B1",
            format!("disk {serial} has not registered its public key"),
        )
    })?;
    let vk = sign::verifying_key(&pk).map_err(|_| {
        BureauError::Corrupt(format!(
            "stored public key of disk {serial} is not on the curve"
        ))
    })?;
    Ok((d, vk))
}

/// Signs a token body with the bureau key.
pub(crate) fn sign_token<T: SignedMessage>(
    key: &Sm2SigningKey,
    body: T,
) -> Result<Signed<T>, BureauError> {
    Ok(Signed::sign(body, key)?)
}

/// The disk row (read in `tx`), or `unknown_disk`.
pub(crate) fn disk_in(tx: &mut Tx<'_>, serial: &DeviceSerial) -> Result<db::DiskRow, BureauError> {
    db::load_disk(tx, serial)?.ok_or_else(|| unknown_disk(serial))
}

/// The `unknown_disk` refusal.
pub(crate) fn unknown_disk(serial: &DeviceSerial) -> BureauError {
    BureauError::not_found(
        "unknown_disk",
        "B1",
        format!("disk {serial} is not provisioned by this bureau"),
    )
}

/// The `unknown_taxpayer` refusal.
pub(crate) fn unknown_taxpayer(t: &TaxpayerId) -> BureauError {
    BureauError::not_found(
        "unknown_taxpayer",
        "B1",
        format!("taxpayer {t} is not registered"),
    )
}

/// Highest single-invoice limit the bureau grants (the 亿元版: 100,000,000.00 CNY).
pub const MAX_SINGLE_LIMIT: Fen = Fen(10_000_000_000);

/// Highest offline amount the bureau grants (10,000,000,000.00 CNY).
pub const MAX_OFFLINE_AMOUNT: Fen = Fen(1_000_000_000_000);

/// Longest offline time the bureau grants: a year of hours.
pub const MAX_OFFLINE_HOURS: u32 = 366 * 24;

/// Refuses a limits list with a kind twice, negative or out-of-range limits.
fn check_kinds(kinds: &[KindLimits]) -> Result<(), BureauError> {
    for (i, k) in kinds.iter().enumerate() {
        if kinds[..i].iter().any(|o| o.kind == k.kind) {
            return Err(BureauError::bad(
                "duplicate_kind",
                "B1",
                format!("kind {} is listed twice", k.kind),
            ));
        }
        if k.single_limit.0 < 0 || k.offline_amount.0 < 0 {
            return Err(BureauError::bad(
                "bad_limits",
                "D9",
                format!("limits of kind {} are negative", k.kind),
            ));
        }
        if k.single_limit.0 > MAX_SINGLE_LIMIT.0
            || k.offline_amount.0 > MAX_OFFLINE_AMOUNT.0
            || k.offline_hours > MAX_OFFLINE_HOURS
        {
            return Err(BureauError::bad(
                "bad_limits",
                "D9",
                format!(
                    "limits of kind {} are out of range: single invoice up to {}, offline \
                     amount up to {}, offline hours up to {MAX_OFFLINE_HOURS}",
                    k.kind, MAX_SINGLE_LIMIT, MAX_OFFLINE_AMOUNT
                ),
            ));
        }
    }
    Ok(())
}

/// 32 secret bytes that form a valid SM2 scalar: from a ChaCha20 stream seeded with `seed`, or
/// with bytes drawn from the OS-seeded keys of `std`'s hasher mixed with the time.
fn generate_secret(seed: Option<u64>) -> [u8; 32] {
    let mut rng = match seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s),
        None => ChaCha20Rng::from_seed(random_bytes()),
    };
    loop {
        let mut s = [0u8; 32];
        rng.fill_bytes(&mut s);
        // A random 32-byte string is a valid scalar except with probability ~2^-128.
        if sign::signing_key(&s).is_ok() {
            return s;
        }
    }
}

/// 32 random bytes: a ChaCha20 stream seeded from the OS-seeded keys of `std`'s hasher mixed
/// with the time (the bureau's secrets and tokens).
pub(crate) fn random_bytes() -> [u8; 32] {
    use std::hash::{BuildHasher, Hasher};
    let mut seed = [0u8; 32];
    for (i, chunk) in seed.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    let mut out = [0u8; 32];
    ChaCha20Rng::from_seed(seed).fill_bytes(&mut out);
    out
}
