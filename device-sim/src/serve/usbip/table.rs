//! The open USB/IP connections of the export and the unplugged bus ids, under one lock: what
//! lets an unplug close the connection that imported its disk and refuse new imports of it.

use super::{Pipe, SharedPipe, lock};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use tokio::sync::{Notify, watch};

/// One open USB/IP connection.
#[derive(Debug)]
pub(super) struct Conn {
    /// To shut it down from outside its task.
    pub(super) stream: std::net::TcpStream,
    /// The bus id it asked to import, once it did.
    pub(super) import: Option<String>,
}

/// The open connections and the unplugged bus ids, under one lock: an import is let through
/// to the crate only while its bus id is plugged in, and an unplug waits for the imports it
/// closes.
#[derive(Debug, Default)]
pub(super) struct Table {
    pub(super) open: HashMap<u64, Conn>,
    pub(super) unplugged: HashSet<String>,
}

/// The open connections of the export.
#[derive(Debug, Default)]
pub(super) struct Conns {
    pub(super) next: AtomicU64,
    pub(super) table: Mutex<Table>,
    /// Woken whenever a connection ends.
    pub(super) ended: Notify,
    /// How many unplugs are under way ([`Conns::begin_unplug`]): while one is, the crate's
    /// device list may show the disk it takes away (its importer has ended and put it back, it
    /// is not removed yet), so device lists wait ([`Conns::settled`]).
    unplugs: watch::Sender<usize>,
    /// Test hook: while true, an unplug stops before it takes the device out of the crate's
    /// list (after its importer has ended), the window a device list once fell into.
    #[cfg(test)]
    pub(super) hold_removal: watch::Sender<bool>,
}

impl Conns {
    /// Shuts down the connections `pick` chooses (their tasks then end).
    pub(super) fn close(&self, pick: impl Fn(&Conn) -> bool) {
        for c in lock(&self.table).open.values().filter(|c| pick(c)) {
            // Already closed by the peer is fine.
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Whether a connection imports `bus_id`.
    pub(super) fn importing(&self, bus_id: &str) -> bool {
        lock(&self.table)
            .open
            .values()
            .any(|c| c.import.as_deref() == Some(bus_id))
    }

    /// Notes that connection `id` imports `bus_id`, unless that bus id is not one of `pipes`',
    /// is unplugged or is imported by another connection (false: the import is refused).
    pub(super) fn start_import(
        &self,
        id: u64,
        bus_id: &str,
        pipes: &[(String, SharedPipe)],
    ) -> bool {
        let mut t = lock(&self.table);
        if !pipes.iter().any(|(b, _)| b == bus_id)
            || t.unplugged.contains(bus_id)
            || t.open.values().any(|c| c.import.as_deref() == Some(bus_id))
        {
            return false;
        }
        if let Some(c) = t.open.get_mut(&id) {
            c.import = Some(bus_id.to_owned());
        }
        true
    }

    /// Starts unplugging `bus_id`: its imports are refused from now on, and device lists wait
    /// until the returned guard is dropped, when the device is out of the crate's list.
    pub(super) fn begin_unplug(&self, bus_id: &str) -> Unplugging<'_> {
        self.set_unplugged(bus_id, true);
        self.hold_lists()
    }

    /// Device lists wait until the returned guard is dropped: the crate's list is being put
    /// right (an unplug, or a device listed again after its importer's error).
    pub(super) fn hold_lists(&self) -> Unplugging<'_> {
        self.unplugs.send_modify(|n| *n += 1);
        Unplugging { conns: self }
    }

    /// Waits until no unplug is under way: the crate's device list then shows only disks that
    /// are plugged in and not imported, which an import gets.
    pub(super) async fn settled(&self) {
        // The sender lives as long as `self`: wait_for cannot fail.
        let _ = self.unplugs.subscribe().wait_for(|n| *n == 0).await;
    }

    /// Notes whether `bus_id` is unplugged (its imports refused).
    pub(super) fn set_unplugged(&self, bus_id: &str, unplugged: bool) {
        let mut t = lock(&self.table);
        if unplugged {
            t.unplugged.insert(bus_id.to_owned());
        } else {
            t.unplugged.remove(bus_id);
        }
    }
}

/// An unplug under way ([`Conns::begin_unplug`]); dropped once its device is out of the
/// crate's list (or its task is cancelled), which lets the waiting device lists through.
pub(super) struct Unplugging<'a> {
    conns: &'a Conns,
}

impl Drop for Unplugging<'_> {
    fn drop(&mut self) {
        self.conns.unplugs.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Unregisters a connection when its task ends (or panics) and, when it was the last one using
/// its device, empties the device's pipes: the next host starts clean, as after a replug.
pub(super) struct Registered {
    pub(super) conns: Arc<Conns>,
    pub(super) id: u64,
    pub(super) pipes: Arc<Vec<(String, SharedPipe)>>,
}

impl Registered {
    /// Unregisters the connection (once; later calls do nothing). Called before its socket is
    /// closed, so that a host that sees the end and imports again at once is not refused as
    /// a second importer.
    pub(super) fn finish(&self) {
        let gone = lock(&self.conns.table).open.remove(&self.id);
        if let Some(bus) = gone.and_then(|c| c.import)
            && !self.conns.importing(&bus)
            && let Some((_, pipe)) = self.pipes.iter().find(|(b, _)| *b == bus)
        {
            *lock(pipe) = Pipe::new();
        }
        self.conns.ended.notify_waiters();
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.finish();
    }
}
