//! The deferred issuing journal's file: one frame per entry, appended, read back whole.
//!
//! ```text
//! frame = length (u32 LE) | CRC-32C of the payload (u32 LE) | payload (postcard, `length` bytes)
//! ```
//!
//! A frame is written with one `write` at the end of the file (`O_APPEND`). A process killed
//! in the middle of one leaves a short or torn frame at the end: reading stops at the first
//! frame that is short, too long or fails its CRC, and what was before it is the journal.
//! Nothing is ever written after a torn frame: a failed append is cut off before the next
//! ([`Journal::append`]).

use super::Entry;
use crate::store::StoreError;
use crc::{CRC_32_ISCSI, Crc, Table};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// CRC-32C with the slice-by-16 table: every pending entry carries the invoice's content
/// (about 1 KiB), and the byte-at-a-time table took about 4 µs of each one-invoice call. A
/// `static`, so the 16 KiB table is built once, not copied where it is used.
static CRC: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISCSI);

/// Bytes of a frame before its payload.
const HEADER: usize = 8;

/// A payload longer than this is not a frame this software wrote (an invoice's content is a
/// few KiB at most): reading stops there.
const MAX_PAYLOAD: usize = 16 << 20;

/// The file name prefix of the journals of the database file `db`; each process's journal is
/// `<db file name>-issuing-<pid>-<n>.journal` beside it.
pub(super) fn prefix(db: &Path) -> Option<String> {
    Some(format!("{}-issuing-", db.file_name()?.to_str()?))
}

/// The journals beside the database file `db`, of live processes or left by dead ones.
pub(super) fn beside(db: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(prefix)) = (db.parent(), prefix(db)) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".journal"))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// An open journal file, locked by this process for as long as it is open (another process
/// that finds it locked leaves it alone; one that finds it unlocked folds it in, its writer
/// having died).
#[derive(Debug)]
pub(super) struct Journal {
    file: File,
    path: PathBuf,
    /// Bytes of whole frames in the file.
    len: u64,
    buf: Vec<u8>,
}

impl Journal {
    /// A new, empty journal beside the database file `db`, locked.
    pub(super) fn create(db: &Path) -> Result<Journal, StoreError> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let prefix = prefix(db)
            .ok_or_else(|| StoreError::Corrupt(format!("no file name in {}", db.display())))?;
        // A name no file has: one left by a dead process with our number stays for recovery.
        // The file is made and locked under a name the store's opening does not look at, and
        // only then given its name: another process never finds it unlocked.
        let (file, path) = loop {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = db.with_file_name(format!("{prefix}{}-{n}.journal", std::process::id()));
            let making = path.with_extension("journal-new");
            if path.exists() {
                continue;
            }
            let file = match File::options()
                .read(true)
                .append(true)
                .create_new(true)
                .open(&making)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1 << 20 => {
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if let Err(e) = file.try_lock() {
                let _ = std::fs::remove_file(&making);
                return Err(StoreError::Io(std::io::Error::other(format!(
                    "{} is in use: {e}",
                    making.display()
                ))));
            }
            std::fs::rename(&making, &path)?;
            break (file, path);
        };
        Ok(Journal {
            file,
            path,
            len: 0,
            buf: Vec::new(),
        })
    }

    /// Opens the journal at `path` when no live process holds it: `None` when one does.
    pub(super) fn open_unheld(path: &Path) -> Result<Option<Journal>, StoreError> {
        let file = File::options().read(true).append(true).open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        let len = file.metadata()?.len();
        Ok(Some(Journal {
            file,
            path: path.to_owned(),
            len,
            buf: Vec::new(),
        }))
    }

    /// Where it is.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of whole frames in it.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Appends `entries`, one frame each, with one `write`. On an error nothing of them is
    /// in the journal: what a failed write left is cut off.
    pub(super) fn append(&mut self, entries: &[Entry]) -> Result<(), StoreError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for e in entries {
            let at = buf.len();
            buf.extend_from_slice(&[0; HEADER]);
            buf = postcard::to_extend(e, buf).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let payload = &buf[at + HEADER..];
            let len = u32::try_from(payload.len())
                .map_err(|_| StoreError::Corrupt("a journal entry over 4 GiB".into()))?;
            let crc = CRC.checksum(payload);
            buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
            buf[at + 4..at + HEADER].copy_from_slice(&crc.to_le_bytes());
        }
        let written = self.file.write_all(&buf);
        let result = match written {
            Ok(()) => {
                self.len += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cut off a partial frame, so no later frame follows a torn one.
                self.file.set_len(self.len)?;
                Err(e.into())
            }
        };
        self.buf = buf;
        result
    }

    /// Empties it (everything in it is folded in).
    pub(super) fn clear(&mut self) -> Result<(), StoreError> {
        self.file.set_len(0)?;
        self.len = 0;
        Ok(())
    }

    /// Every whole entry in it, in order, up to the first short, oversized or torn frame
    /// (where a killed writer stopped). An entry that frames whole but does not decode is
    /// corruption, not a torn end: an error.
    pub(super) fn read_all(&mut self) -> Result<Vec<Entry>, StoreError> {
        let mut bytes = Vec::new();
        let mut f = File::open(&self.path)?;
        f.read_to_end(&mut bytes)?;
        frames(&bytes)
    }

    /// Removes the file (everything in it is folded in); the lock goes with it.
    pub(super) fn remove(self) -> Result<(), StoreError> {
        std::fs::remove_file(&self.path)?;
        Ok(())
    }
}

/// The entries framed in `bytes`, up to the first frame that is empty, short, oversized or
/// fails its CRC.
pub(super) fn frames(bytes: &[u8]) -> Result<Vec<Entry>, StoreError> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while rest.len() >= HEADER {
        let mut word = [0u8; 4];
        word.copy_from_slice(&rest[..4]);
        let len = u32::from_le_bytes(word) as usize;
        word.copy_from_slice(&rest[4..HEADER]);
        let crc = u32::from_le_bytes(word);
        // Zeros (blocks allocated but never written, after a power loss) end it too: no
        // entry encodes to nothing.
        if len == 0 || len > MAX_PAYLOAD || rest.len() - HEADER < len {
            break;
        }
        let payload = &rest[HEADER..HEADER + len];
        if CRC.checksum(payload) != crc {
            break;
        }
        let entry = postcard::from_bytes(payload).map_err(|e| {
            StoreError::Corrupt(format!("an issuing journal entry does not decode: {e}"))
        })?;
        entries.push(entry);
        rest = &rest[HEADER + len..];
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DiskRecord;
    use taxdisk_protocol::time::Timestamp;
    use taxdisk_protocol::types::{InvoiceCode, InvoiceNumber, Signature};

    fn entry(id: i64) -> Entry {
        Entry::Issued {
            id,
            record: DiskRecord {
                code: InvoiceCode::new("031001600104").unwrap(),
                number: InvoiceNumber::new(u32::try_from(id).unwrap()).unwrap(),
                counter: 1,
                time: Timestamp(1_795_000_000),
                signature: Signature {
                    r: [1; 32],
                    s: [2; 32],
                },
                check_code: None,
            },
        }
    }

    #[test]
    fn reading_stops_at_a_torn_frame_at_zeros_and_at_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let mut j = Journal::create(&db).unwrap();
        j.append(&[entry(1), entry(2)]).unwrap();
        j.append(&[entry(3)]).unwrap();
        let whole = std::fs::read(j.path()).unwrap();
        assert_eq!(frames(&whole).unwrap(), [entry(1), entry(2), entry(3)]);
        // Every cut of the last frame reads as the two before it.
        let third = whole.len() - (whole.len() / 3);
        for cut in third..whole.len() {
            assert_eq!(frames(&whole[..cut]).unwrap().len(), 2, "cut at {cut}");
        }
        // Zeros after the frames, or a flipped byte in the last one, end it.
        let mut zeros = whole.clone();
        zeros.extend_from_slice(&[0; 4096]);
        assert_eq!(frames(&zeros).unwrap().len(), 3);
        let mut flipped = whole.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        assert_eq!(frames(&flipped).unwrap().len(), 2);
        // An oversized length is not a frame.
        let mut long = whole;
        long.extend_from_slice(&u32::MAX.to_le_bytes());
        long.extend_from_slice(&[7; 12]);
        assert_eq!(frames(&long).unwrap().len(), 3);
        assert!(frames(&[]).unwrap().is_empty());
    }
}
