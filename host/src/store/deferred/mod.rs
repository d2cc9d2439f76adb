//! Deferred issuing records (`Durability::Normal` on a file): H8's pending record and the
//! signed result written to a journal file of this process's own, and folded into the
//! database by a background thread, behind the disk's signing.
//!
//! One invoice per call paid two SQLite commits (about 80 µs each, mostly WAL frames written
//! to a growing file) around a signature of about 60 µs (BENCHMARKS.md "2026-12-07 (m)").
//! Here the pending record is one `write` of a frame to the journal ([`journal`]) before the
//! request leaves, as H8 asks, and the signed record another after the answer; a thread of
//! its own (`fold_loop`) inserts them into the database in one transaction for as many as have
//! come (it wakes at [`WAKE_AT`] entries, or after [`LINGER`]), on its own connection, while
//! the caller goes on.
//!
//! - **Ids.** The caller needs each invoice's row id before its row exists: the store reserves
//!   them in blocks from the `sequences` table (schema v6), from which every writer takes its
//!   ids, so no other writer, process or connection, is given one of them.
//! - **Durability.** A `write` to the journal survives a crash of the process, as a commit
//!   under `synchronous = NORMAL` does. After an OS crash or power loss the newest entries may
//!   be missing, as the newest commits may: repair (H11) reconciles the store with the disk
//!   journal, which is durable before the disk answers (D13).
//! - **Reading.** Every other use of the store's connection first waits until everything
//!   journaled is folded in (`Conn` in `store/mod.rs`), so this process reads and changes
//!   what it issued as if it had been committed at once. Another process sees an invoice once
//!   it is folded in, a few milliseconds later.
//! - **Crashes.** Each journal is locked (`flock`) by its process. Opening the store folds in
//!   every journal beside the database that no live process holds, then removes it
//!   ([`recover`]); a fold is idempotent (a row already there is left as it is, a record
//!   already stored is refused and logged), so folding the same journal twice is harmless.
//! - **Checks.** A signed record is journaled only for a row this process recorded pending
//!   without a red info form and whose code fits its kind (checked at once, as
//!   `mark_issued_batch` would); everything else goes the direct way, after the journal is
//!   folded in. The fold stores the record with `mark_issued_batch`'s own checks; a record the
//!   database then refuses (the row was changed by another process meanwhile, or its code and
//!   number are another row's) is logged and its row stays pending, for repair, and the
//!   entries around it are folded in.

mod journal;

use super::invoices::{
    PendingValues, code_fits, insert_issued_values, insert_pending_values, mark_issued_in, take_ids,
};
use super::tx::Tx;
use super::{DiskRecord, InvoiceId, PendingInsert, StoreError, UserId, now_secs};
use journal::Journal;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use taxdisk_protocol::time::Period;

/// Row ids reserved at a time: one commit of the sequence per this many invoices.
const ID_BLOCK: usize = 256;

/// Entries queued before the folder is woken: it folds many in one transaction, so its
/// commits (and the CPU they take from the signing next to it) are few per invoice.
const WAKE_AT: usize = 128;

/// How long queued entries wait for more before the folder folds them anyway, so other
/// processes see an invoice soon after it is issued.
const LINGER: Duration = Duration::from_millis(20);

/// A journal longer than this is emptied when everything in it is folded in, or else set
/// aside for a new one, and removed once everything in it is folded in: the files stay small
/// however long issuing goes on.
const ROTATE_AT: u64 = 4 << 20;

/// Entries folded per transaction when a journal left by a dead process is folded in.
const RECOVER_CHUNK: usize = 4096;

/// How long the folder waits before it tries again after the database refused a fold.
const RETRY: Duration = Duration::from_millis(50);

/// One journal entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Entry {
    /// H8: recorded pending, before its request is sent.
    Pending(PendingValues),
    /// H8: the disk's signed record of a row recorded pending.
    Issued {
        /// Its row id.
        id: i64,
        /// What the disk answered.
        record: DiskRecord,
    },
}

/// What the caller and the folder share.
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// Entries were queued, or the folder is to stop.
    work: Condvar,
    /// Entries were folded in, or folding failed.
    done: Condvar,
}

#[derive(Debug, Default)]
struct State {
    queue: Vec<Entry>,
    /// Entries queued, ever.
    appended: u64,
    /// Entries folded in, ever.
    folded: u64,
    /// The last fold failed and none has succeeded since (the error is logged).
    failing: bool,
    stop: bool,
    /// Someone waits for everything queued to be folded in.
    hurry: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves counters that are still true.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The deferred records of one store connection: its journal, its reserved ids and its
/// folder thread. Dropping it folds in what is left, stops the thread and removes the journal
/// (left in place when folding failed: the next open folds it in).
#[derive(Debug)]
pub(crate) struct Deferred {
    shared: Arc<Shared>,
    db: std::path::PathBuf,
    journal: Journal,
    /// Journals set aside, each with the count of entries appended when it was: removed
    /// once that many are folded in.
    retired: Vec<(Journal, u64)>,
    /// Reserved ids not used yet: `next..end`.
    next_id: i64,
    end_id: i64,
    /// Rows this process recorded pending and has not stored a record for: id to kind number.
    pending: HashMap<i64, u8>,
    folder: Option<JoinHandle<()>>,
}

impl Deferred {
    /// Starts deferring the issuing records of the database file `db`: a journal of its own
    /// beside it and a folder thread on a connection of its own.
    pub(crate) fn start(db: &Path) -> Result<Deferred, StoreError> {
        let conn = folder_connection(db)?;
        let journal = Journal::create(db)?;
        let shared = Arc::new(Shared::default());
        let for_folder = Arc::clone(&shared);
        let folder = std::thread::Builder::new()
            .name("taxdisk-fold".into())
            .spawn(move || fold_loop(&conn, &for_folder))?;
        Ok(Deferred {
            shared,
            db: db.to_owned(),
            journal,
            retired: Vec::new(),
            next_id: 0,
            end_id: 0,
            pending: HashMap::new(),
            folder: Some(folder),
        })
    }

    /// Waits until everything journaled is folded in, or folding failed (then what failed
    /// stays queued and journaled, and the folder tries again).
    pub(crate) fn settle(&self) {
        let mut s = self.shared.lock();
        if s.folded < s.appended {
            // What is queued may be waiting for more to come: fold it now.
            s.hurry = true;
            self.shared.work.notify_one();
        }
        while s.folded < s.appended && !s.failing {
            if self.folder.as_ref().is_none_or(|t| t.is_finished()) {
                // No folder to wait for (it ended on a panic): the journal keeps the rest
                // for the next open.
                return;
            }
            s = self
                .shared
                .done
                .wait_timeout(s, Duration::from_millis(100))
                .map_or_else(|p| p.into_inner().0, |(s, _)| s);
        }
    }

    /// Whether `items` can be recorded pending here: none uses a red info form (H10's checks
    /// are the direct way's).
    pub(crate) fn takes_pending(items: &[PendingInsert<'_>]) -> bool {
        items.iter().all(|i| i.red_form.is_none())
    }

    /// H8: records `items` pending, by `issuer` in `period`, under ids reserved through
    /// `conn` (the store's connection, for a new block), with one append to the journal.
    /// Answers the ids in order; on an error nothing is recorded.
    pub(crate) fn record_pending(
        &mut self,
        conn: &Connection,
        issuer: UserId,
        period: Period,
        items: &[PendingInsert<'_>],
    ) -> Result<Vec<InvoiceId>, StoreError> {
        self.record(conn, &[], Some((issuer, period, items)))
            .map(|(_, ids)| ids)
    }

    /// Whether every record of `items` can be stored here: each for a row this process
    /// recorded pending (and has no record for yet), each row once.
    pub(crate) fn takes_issued(&self, items: &[(InvoiceId, DiskRecord)]) -> bool {
        let distinct: std::collections::HashSet<i64> = items.iter().map(|(id, _)| id.0).collect();
        distinct.len() == items.len() && distinct.iter().all(|id| self.pending.contains_key(id))
    }

    /// H8: stores the signed records of `issued` (each for a row [`Deferred::takes_issued`]
    /// accepts) and records `pending` (invoices, their issuer and period, as
    /// [`Deferred::record_pending`]) with one append to the journal; the folder takes them
    /// in when [`WAKE_AT`] entries wait, or after [`LINGER`]. Answers one outcome per record
    /// and one id per pending invoice, in order: a code not of the row's kind (F2) is refused
    /// at once, as the direct way refuses it, and leaves the row pending. The outer error is
    /// the journal's or the sequence's: nothing is stored or recorded.
    pub(crate) fn record(
        &mut self,
        conn: &Connection,
        issued: &[(InvoiceId, DiskRecord)],
        pending: Option<(UserId, Period, &[PendingInsert<'_>])>,
    ) -> Result<super::IssuedAndPending, StoreError> {
        let mut outcomes = Vec::with_capacity(issued.len());
        let mut entries = Vec::with_capacity(issued.len());
        for (id, record) in issued {
            // Every id here is one `takes_issued` found among the rows recorded pending.
            let kind = self.pending.get(&id.0).copied().unwrap_or(u8::MAX);
            let fits = code_fits(&record.code, kind);
            if fits.is_ok() {
                entries.push(Entry::Issued {
                    id: id.0,
                    record: record.clone(),
                });
            }
            outcomes.push(fits);
        }
        let mut recorded = Vec::new();
        if let Some((issuer, period, items)) = pending {
            self.refill(conn, items.len())?;
            let now = now_secs();
            for (item, id) in items.iter().zip(self.next_id..) {
                entries.push(Entry::Pending(PendingValues::new(
                    InvoiceId(id),
                    issuer,
                    period,
                    now,
                    item,
                )?));
                recorded.push((InvoiceId(id), item.invoice.kind().number()));
            }
        }
        self.append(entries)?;
        self.next_id += recorded.len() as i64;
        for ((id, _), o) in issued.iter().zip(&outcomes) {
            if o.is_ok() {
                self.pending.remove(&id.0);
            }
        }
        self.pending
            .extend(recorded.iter().map(|(id, kind)| (id.0, *kind)));
        let ids = recorded.into_iter().map(|(id, _)| id).collect();
        Ok((outcomes, ids))
    }

    /// Makes sure `n` reserved ids are left, reserving a new block through `conn` (the
    /// store's connection) when fewer are.
    fn refill(&mut self, conn: &Connection, n: usize) -> Result<(), StoreError> {
        if n > 0 && self.end_id - self.next_id < n as i64 {
            let block = n.max(ID_BLOCK);
            self.next_id = take_ids(conn, block)?;
            self.end_id = self.next_id + block as i64;
        }
        Ok(())
    }

    /// Takes `n` ids from the reserved block for rows written the direct way, so they keep
    /// their place in this process's order of issuing; answers the first.
    pub(crate) fn reserve(&mut self, conn: &Connection, n: usize) -> Result<i64, StoreError> {
        self.refill(conn, n)?;
        let first = self.next_id;
        self.next_id += n as i64;
        Ok(first)
    }

    /// The row `id` changed the direct way (abandoned, ...): no record of it is journaled.
    pub(crate) fn forget(&mut self, id: InvoiceId) {
        self.pending.remove(&id.0);
    }

    /// Appends `entries` to the journal and queues them for the folder, waking it when many
    /// wait.
    fn append(&mut self, entries: Vec<Entry>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        if self.journal.len() > ROTATE_AT {
            self.rotate()?;
        } else if let Some(upto) = self.retired.iter().map(|(_, upto)| *upto).min() {
            let folded = self.shared.lock().folded;
            if folded >= upto {
                self.drop_retired(folded);
            }
        }
        self.journal.append(&entries)?;
        let mut s = self.shared.lock();
        s.appended += entries.len() as u64;
        s.queue.extend(entries);
        if s.queue.len() >= WAKE_AT {
            self.shared.work.notify_one();
        }
        Ok(())
    }

    /// Empties the journal when everything in it is folded in, or else sets it aside for a
    /// new one; removes the journals set aside whose entries are all folded in.
    fn rotate(&mut self) -> Result<(), StoreError> {
        let (appended, folded) = {
            let s = self.shared.lock();
            (s.appended, s.folded)
        };
        // Only this thread appends: `appended` is everything in the files.
        if folded == appended {
            self.journal.clear()?;
        } else {
            let fresh = Journal::create(&self.db)?;
            let old = std::mem::replace(&mut self.journal, fresh);
            self.retired.push((old, appended));
        }
        self.drop_retired(folded);
        Ok(())
    }

    /// Removes the journals set aside whose entries are all folded in (`folded` of them).
    fn drop_retired(&mut self, folded: u64) {
        let (done, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.retired)
            .into_iter()
            .partition(|(_, upto)| *upto <= folded);
        self.retired = keep;
        for (j, _) in done {
            remove_logged(j.path());
        }
    }

    /// Folds in what is left and stops: answers the reserved ids not used (`next..end`) to
    /// give back. The journal is removed when everything in it is folded in.
    pub(crate) fn finish(mut self) -> (i64, i64) {
        {
            let mut s = self.shared.lock();
            s.stop = true;
            self.shared.work.notify_one();
        }
        if let Some(t) = self.folder.take() {
            let _ = t.join();
        }
        let (all, folded) = {
            let s = self.shared.lock();
            (s.folded == s.appended, s.folded)
        };
        self.drop_retired(folded);
        if all {
            // Its lock goes when the file closes, with `self`.
            remove_logged(self.journal.path());
        }
        (self.next_id, self.end_id)
    }
}

/// Removes the journal file at `path` (everything in it is folded in), logging a failure:
/// the next open folds it in again, which changes nothing.
fn remove_logged(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(error = %e, path = %path.display(), "{}", taxdisk_i18n::t!("log-deferred-remove-failed"));
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        // `finish` took the thread; a Deferred dropped otherwise still stops its folder.
        if let Some(t) = self.folder.take() {
            self.shared.lock().stop = true;
            self.shared.work.notify_one();
            let _ = t.join();
        }
    }
}

/// The folder's connection to the database file `db`, set up as the store's own.
fn folder_connection(db: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The folder thread: folds in what is queued, as much as has come, until told to stop and
/// nothing is left (or folding fails while stopping: the journal stays for the next open).
fn fold_loop(conn: &Connection, shared: &Shared) {
    loop {
        let batch = {
            let mut s = shared.lock();
            while s.queue.is_empty() && !s.stop {
                s = shared.work.wait(s).unwrap_or_else(|p| p.into_inner());
            }
            // A few entries wait a little for more, unless someone waits for them.
            if s.queue.len() < WAKE_AT && !s.stop && !s.hurry {
                s = shared
                    .work
                    .wait_timeout(s, LINGER)
                    .map_or_else(|p| p.into_inner().0, |(s, _)| s);
            }
            s.hurry = false;
            if s.queue.is_empty() {
                if s.stop {
                    return;
                }
                continue;
            }
            std::mem::take(&mut s.queue)
        };
        let n = batch.len() as u64;
        match fold(conn, &batch, false) {
            Ok(()) => {
                let mut s = shared.lock();
                s.folded += n;
                s.failing = false;
                shared.done.notify_all();
            }
            Err(e) => {
                tracing::warn!(error = %e, entries = n, "{}", taxdisk_i18n::t!("log-deferred-fold-failed"));
                let stop = {
                    let mut s = shared.lock();
                    let later = std::mem::replace(&mut s.queue, batch);
                    s.queue.extend(later);
                    s.failing = true;
                    shared.done.notify_all();
                    s.stop
                };
                if stop {
                    return;
                }
                std::thread::sleep(RETRY);
            }
        }
    }
}

/// Folds `entries` into the database on `conn`, in one transaction when it can. When the
/// database refuses the whole for a constraint (a record whose code and number another row
/// holds, ...), each entry is folded on its own and the ones it refuses are logged and left
/// out: their rows stay pending (or missing) for repair (H11), and one bad entry never holds
/// the others back. Any other error (the database busy, the disk full) is answered, and the
/// folder tries the whole again.
fn fold(conn: &Connection, entries: &[Entry], recovering: bool) -> Result<(), StoreError> {
    match fold_together(conn, entries, recovering) {
        Err(e) if refused(&e) => {
            tracing::warn!(error = %e, entries = entries.len(), "{}", taxdisk_i18n::t!("log-deferred-one-by-one"));
            for entry in entries {
                match fold_together(conn, std::slice::from_ref(entry), recovering) {
                    Err(e) if refused(&e) => {
                        tracing::warn!(invoice = entry.id(), error = %e, "{}", taxdisk_i18n::t!("log-deferred-record-refused"));
                    }
                    other => other?,
                }
            }
            Ok(())
        }
        other => other,
    }
}

/// Whether `e` is the database refusing what was written (a constraint), not failing to
/// write it.
fn refused(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Sql(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

impl Entry {
    /// The row it is about.
    fn id(&self) -> i64 {
        match self {
            Entry::Pending(p) => p.id,
            Entry::Issued { id, .. } => *id,
        }
    }
}

/// Folds `entries` into the database in one transaction on `conn`. A row recorded pending
/// and signed within `entries` (the common case: both entries of an invoice come within one
/// fold) is inserted as issued at once, when its record needs no more checks than that
/// ([`PendingValues::pairs_with`]): nothing else can touch the row between its two entries
/// (every other use of the store waits for the fold, other processes do not know its id), and
/// its UPDATE rewrote three of the row's index entries again, about half of the fold's work.
/// Then the other pending rows (a row already there is left as it is), then the other signed
/// records with `mark_issued_batch`'s checks. A record the checks refuse is logged and its
/// row stays as it was (for repair, H11); `recovering` (a journal folded in again) logs that
/// at debug level, as records stored before are expected then.
fn fold_together(conn: &Connection, entries: &[Entry], recovering: bool) -> Result<(), StoreError> {
    let mut signed: HashMap<i64, &DiskRecord> = HashMap::new();
    for e in entries {
        if let Entry::Issued { id, record } = e {
            signed.entry(*id).or_insert(record);
        }
    }
    let mut pairs = Vec::new();
    let mut rows = Vec::new();
    for e in entries {
        if let Entry::Pending(p) = e {
            match signed.get(&p.id) {
                Some(record) if p.pairs_with(record) => pairs.push((p, *record)),
                _ => rows.push(p),
            }
        }
    }
    let tx = Tx::write(conn)?;
    // The rows inserted as issued, each with its pair's record (the first of its id). A pair
    // whose row was there already (a journal folded again) is not among them: its records go
    // the long way, as every other record does.
    let mut in_insert: std::collections::HashSet<i64> =
        insert_issued_values(&tx, &pairs)?.into_iter().collect();
    let inserted = in_insert.len() + insert_pending_values(&tx, &rows)?;
    let mut records = Vec::new();
    for e in entries {
        if let Entry::Issued { id, record } = e
            && !in_insert.remove(id)
        {
            records.push((InvoiceId(*id), record.clone()));
        }
    }
    let outcomes = mark_issued_in(&tx, &records)?;
    tx.commit()?;
    if inserted < rows.len() + pairs.len() && !recovering {
        tracing::warn!(
            rows = rows.len() + pairs.len(),
            inserted,
            "{}",
            taxdisk_i18n::t!("log-deferred-rows-there")
        );
    }
    for ((id, _), o) in records.iter().zip(outcomes) {
        if let Err(e) = o {
            if recovering {
                tracing::debug!(invoice = id.0, error = %e, "{}", taxdisk_i18n::t!("log-deferred-record-refused"));
            } else {
                tracing::warn!(invoice = id.0, error = %e, "{}", taxdisk_i18n::t!("log-deferred-record-refused"));
            }
        }
    }
    Ok(())
}

/// Folds in, through `conn`, every journal beside the database file `db` that no live
/// process holds (its writer died before folding it in), and removes it. Answers the entries
/// folded in. A journal that does not decode is left in place and named in the error.
pub(crate) fn recover(conn: &Connection, db: &Path) -> Result<usize, StoreError> {
    let mut folded = 0;
    for path in journal::beside(db) {
        let Some(mut j) = Journal::open_unheld(&path)? else {
            continue;
        };
        let entries = j.read_all().map_err(|e| {
            StoreError::Corrupt(format!("the issuing journal {}: {e}", path.display()))
        })?;
        for chunk in entries.chunks(RECOVER_CHUNK) {
            fold(conn, chunk, true)?;
        }
        folded += entries.len();
        tracing::info!(path = %path.display(), entries = entries.len(), "{}", taxdisk_i18n::t!("log-deferred-recovered"));
        j.remove()?;
    }
    Ok(folded)
}
