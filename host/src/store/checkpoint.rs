//! The background WAL checkpointer of [`Durability::Normal`](super::Durability::Normal).
//!
//! In WAL mode SQLite copies the log back into the database (a checkpoint: page writes and an
//! fsync) from inside whichever commit crosses `wal_autocheckpoint` pages, so one issuing call
//! in many waited for it (BENCHMARKS.md section 6). Under `Normal` the store's connection turns
//! automatic checkpoints off and this thread, on a connection of its own, runs
//! `PRAGMA wal_checkpoint(PASSIVE)` every [`INTERVAL`]: it never blocks a writer, and most of
//! its time is spent waiting for the disk, not on a core. Should the log still grow past
//! [`RESTART_PAGES`] (writers that never pause), a `RESTART` checkpoint waits for the current
//! writer and starts the log over, so the WAL file stays bounded.
//!
//! Dropping the store (or going back to `Durability::Full`) stops the thread: it wakes at
//! once and is joined.

use super::StoreError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// Time between two background checkpoints.
pub const INTERVAL: Duration = Duration::from_millis(200);

/// Pages of log after which the background thread forces the log to start over (about 160 MiB
/// with 4 KiB pages).
pub const RESTART_PAGES: i64 = 40_000;

/// The running background checkpointer; stops when dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a second connection to the database at `path` and starts checkpointing it.
    pub(crate) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("taxdisk-wal-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    checkpoint(&conn);
                }
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// One passive checkpoint, and a restart when the log grew too long.
fn checkpoint(conn: &Connection) {
    let pass = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1));
    match pass {
        Ok(log) if log > RESTART_PAGES => {
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())) {
                tracing::warn!(error = %e, log, "{}", taxdisk_i18n::t!("log-wal-restart-failed"));
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "{}", taxdisk_i18n::t!("log-wal-checkpoint-failed")),
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel wakes the thread, which ends its loop.
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
