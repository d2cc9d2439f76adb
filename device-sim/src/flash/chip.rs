//! An emulated W25Q-style SPI NOR chip (std): implements [`embedded_hal::spi::SpiDevice`] on a
//! memory buffer, or on an image file mapped into memory (`Memory`), so the real driver
//! ([`super::nor::SpiNor`]) and the firmware run unchanged on a PC.
//!
//! NOR rules enforced: a program only turns 1 bits into 0 bits (`old & new`), a program wraps
//! inside its 256-byte page, an erase sets its 4 KiB sector to `0xFF`, and program and erase
//! need the write-enable latch (set by `0x06`, cleared by every program or erase). A program or
//! erase without WEL is ignored, as on the real chip, and counted in [`ChipStats::refused`].
//!
//! Power cuts: [`EmulatedChip::cut_power_at`] arms a cut at the Nth program/erase operation
//! from now, after `byte` bytes of it took effect: a cut program leaves a torn prefix of the
//! page data, a cut erase leaves a prefix of the sector erased. The transaction that hits the
//! cut fails, and so does every later one until [`EmulatedChip::power_on`].

use super::nor::{
    CMD_JEDEC_ID, CMD_PAGE_PROGRAM, CMD_PAGE_PROGRAM_4B, CMD_READ, CMD_READ_4B, CMD_READ_STATUS,
    CMD_SECTOR_ERASE, CMD_SECTOR_ERASE_4B, CMD_WRITE_ENABLE, PAGE_SIZE, SECTOR_SIZE, STATUS_BUSY,
    STATUS_WEL, jedec_from_capacity,
};
use embedded_hal::spi::{ErrorKind, ErrorType, Operation, SpiDevice};
use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Write disable.
const CMD_WRITE_DISABLE: u8 = 0x04;

/// The file beside an image that names the process holding it.
pub fn image_pid_file(image: &Path) -> PathBuf {
    let mut name = image.as_os_str().to_owned();
    name.push(".pid");
    PathBuf::from(name)
}

/// Takes the exclusive lock on an opened image, retrying every 10 ms for up to `wait`.
fn lock_image(file: &File, path: &Path, wait: Duration) -> std::io::Result<()> {
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => {
                // Only informative (the lock is the truth): a failed write changes nothing.
                let _ = std::fs::write(image_pid_file(path), format!("{}\n", std::process::id()));
                return Ok(());
            }
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(image_pid_file(path))
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .map_or_else(|| "another process".to_owned(), |p| format!("process {p}"));
                return Err(std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    format!(
                        "the disk image is in use by {holder} (one image, one process: stop it or wait for it to finish)"
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// The chip's memory: a buffer of its own, or its image file mapped shared.
///
/// Mapped, a page program is a store into the page cache, where a positioned `write` of the
/// page was before (about 1.3 per invoice, strace over 5,000, each 2.3 µs or more on the signing
/// path), and what it leaves is the same: the file holds every program and erase
/// the moment it is made, so a simulator killed at any point leaves the flash as it was then,
/// and [`sync_image`](crate::serve::sync_image)'s `fsync` takes the mapped pages to stable
/// storage.
enum Memory {
    /// No image: the memory dies with the chip.
    Owned(Vec<u8>),
    /// The image file, mapped shared for the chip's life.
    Mapped(memmap2::MmapMut),
}

impl std::ops::Deref for Memory {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Memory::Owned(v) => v,
            Memory::Mapped(m) => m,
        }
    }
}

impl std::ops::DerefMut for Memory {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            Memory::Owned(v) => v,
            Memory::Mapped(m) => m,
        }
    }
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Memory::Owned(v) => write!(f, "{} bytes in memory", v.len()),
            Memory::Mapped(m) => write!(f, "{} bytes mapped from the image", m.len()),
        }
    }
}

/// Maps the whole of the image `file`, opened for reading and writing and locked by this
/// process ([`lock_image`]), shared: the chip's stores are the file's contents.
///
/// The one `unsafe` of the crate (`memmap2` cannot make mapping a file safe: another process
/// could change or truncate it under the mapping). The file is this process's alone for as long
/// as the mapping lives: created `0600`, exclusively locked before it is mapped and until the
/// chip (which owns both) is dropped, and every taxdisk process that opens an image takes
/// that lock first. Only a process ignoring the lock could change it meanwhile, as it could
/// change any file under a program that reads it. A store into the map needs no new block
/// of the file system (every block was written when the image was made, [`write_blank`]),
/// except on one that copies on write (btrfs, ZFS), where a full disk can stop the process.
#[allow(unsafe_code)]
fn map_image(file: &File) -> std::io::Result<memmap2::MmapMut> {
    // SAFETY: the file is locked to this process from before the mapping until after it is
    // gone (the chip drops `mem` before `_locked`); see above.
    unsafe { memmap2::MmapMut::map_mut(file) }
}

/// Pieces in which a blank image is written ([`write_blank`]).
const IMAGE_PIECE: usize = 64 * 1024;

/// Writes `capacity` bytes of `0xFF` (a blank chip) to the new image `file`, in pieces of
/// [`IMAGE_PIECE`].
fn write_blank(file: &File, capacity: usize) -> std::io::Result<()> {
    let piece = vec![0xFF; IMAGE_PIECE.min(capacity)];
    let mut at = 0;
    while at < capacity {
        let n = piece.len().min(capacity - at);
        file.write_all_at(&piece[..n], at as u64)?;
        at += n;
    }
    Ok(())
}

/// Winbond manufacturer id.
const WINBOND: u8 = 0xEF;
/// Winbond memory type of the W25Q..JV family.
const W25Q_TYPE: u8 = 0x40;

/// Why a transaction with the emulated chip failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChipError {
    /// The power was cut; the chip does nothing until [`EmulatedChip::power_on`].
    PowerLost,
    /// A snapshot to load is not the chip's size.
    SnapshotSize,
}

impl embedded_hal::spi::Error for ChipError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

impl std::fmt::Display for ChipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChipError::PowerLost => "flash chip lost power",
            ChipError::SnapshotSize => "the snapshot is not the flash chip's size",
        })
    }
}

impl std::error::Error for ChipError {}

/// Operation counters of the chip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChipStats {
    /// Read commands.
    pub reads: u64,
    /// Page programs that took effect (a cut one included).
    pub programs: u64,
    /// Sector erases that took effect (a cut one included).
    pub erases: u64,
    /// Programs or erases ignored because WEL was not set.
    pub refused: u64,
    /// Power cuts that happened.
    pub cuts: u64,
}

/// An armed power cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cut {
    /// Program/erase operations still to pass before the cut one (0 = the next one is cut).
    ops_before: u64,
    /// Bytes of the cut operation that take effect.
    byte: usize,
}

/// The emulated chip.
#[derive(Debug)]
pub struct EmulatedChip {
    /// Declared before `locked`, so the mapping is dropped before the lock is let go.
    mem: Memory,
    /// The image file, held open for its exclusive lock ([`lock_image`]) while it is mapped.
    _locked: Option<File>,
    jedec: [u8; 3],
    wel: bool,
    busy_polls: u8,
    powered: bool,
    cut: Option<Cut>,
    stats: ChipStats,
    // Transaction state (CS low).
    cmd: Option<u8>,
    addr: u32,
    addr_len: u8,
    addr_have: u8,
    data: Vec<u8>,
    read_pos: usize,
}

impl EmulatedChip {
    /// A blank (all `0xFF`) chip of `capacity` bytes, a power of two from 64 KiB to 256 MiB.
    pub fn new(capacity: usize) -> Option<Self> {
        let code = jedec_from_capacity(capacity)?;
        Some(EmulatedChip {
            mem: Memory::Owned(vec![0xFF; capacity]),
            _locked: None,
            jedec: [WINBOND, W25Q_TYPE, code],
            wel: false,
            busy_polls: 0,
            powered: true,
            cut: None,
            stats: ChipStats::default(),
            cmd: None,
            addr: 0,
            addr_len: 0,
            addr_have: 0,
            data: Vec::with_capacity(PAGE_SIZE),
            read_pos: 0,
        })
    }

    /// A chip backed by an image file: the file mapped if it exists with the right size, else
    /// created blank. Every program and erase is in the file as it is made. The file is
    /// locked for this process (see [`EmulatedChip::open_waiting`]); another process holding
    /// it is an error at once.
    pub fn open(path: &Path, capacity: usize) -> std::io::Result<Self> {
        Self::open_waiting(path, capacity, Duration::ZERO)
    }

    /// [`EmulatedChip::open`], waiting up to `wait` for another process to release the image.
    ///
    /// One image, one process: the chip holds an exclusive OS lock on the file (`flock`) for
    /// as long as it lives, so two simulators (or two CLI commands) can never run one disk's
    /// flash at once and sign the same invoice number twice. The holder's process id is kept
    /// in `IMAGE.pid` beside the image so that the error can name it.
    pub fn open_waiting(path: &Path, capacity: usize, wait: Duration) -> std::io::Result<Self> {
        let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
        if Self::new(capacity).is_none() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "flash capacity must be a power of two from 64 KiB to 256 MiB",
            ));
        }
        // A missing file makes a fresh (blank) chip; an existing one is this disk, whatever
        // its state. The image holds the disk's private key: created readable by its owner
        // only.
        let (file, created) = match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(f) => (f, true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => (
                std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)?,
                false,
            ),
            Err(e) => return Err(e),
        };
        lock_image(&file, path, wait)?;
        let len = file.metadata()?.len();
        if created {
            let chip = Self::new(capacity).ok_or_else(|| bad("flash capacity".into()))?;
            // Written, not extended and filled through the map: every block is allocated now,
            // so a full file system is an error here rather than a fault at a later store.
            write_blank(&file, capacity)?;
            let mem = map_image(&file)?;
            return Ok(EmulatedChip {
                mem: Memory::Mapped(mem),
                _locked: Some(file),
                ..chip
            });
        }
        // The image's size is its chip's capacity: an image written with another flash size
        // opens as that chip (its JEDEC id says so to the driver).
        let Some(chip) = usize::try_from(len).ok().and_then(Self::new) else {
            return Err(bad(if len == 0 {
                "the flash image is empty (0 bytes), not a disk's image: move it away to make a new disk".to_owned()
            } else {
                format!(
                    "flash image is {len} bytes, not the size of a flash chip (a power of two from 64 KiB to 256 MiB)"
                )
            }));
        };
        let mem = map_image(&file)?;
        Ok(EmulatedChip {
            mem: Memory::Mapped(mem),
            _locked: Some(file),
            ..chip
        })
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.mem.len()
    }

    /// The whole memory (for snapshots and tests).
    pub fn memory(&self) -> &[u8] {
        &self.mem
    }

    /// Replaces the whole memory (restore of a snapshot), in the image too if there is one.
    pub fn load(&mut self, bytes: &[u8]) -> Result<(), ChipError> {
        if bytes.len() != self.mem.len() {
            return Err(ChipError::SnapshotSize);
        }
        self.mem.copy_from_slice(bytes);
        Ok(())
    }

    /// Counters.
    pub fn stats(&self) -> ChipStats {
        self.stats
    }

    /// Program plus erase operations so far (the unit of [`Self::cut_power_at`]).
    pub fn write_ops(&self) -> u64 {
        self.stats.programs + self.stats.erases
    }

    /// Arms a power cut at the `nth` program/erase operation from now (1 = the next one), after
    /// `byte` bytes of it took effect (0 = none; at or past the operation's length = all);
    /// `nth` 0 disarms.
    pub fn cut_power_at(&mut self, nth: u64, byte: usize) {
        // 0 arms nothing. `then`, not `then_some`: the argument of `then_some` is built even
        // for 0, and `0 - 1` overflowed (a panic in debug builds).
        self.cut = (nth > 0).then(|| Cut {
            ops_before: nth - 1,
            byte,
        });
    }

    /// Disarms a pending cut.
    pub fn disarm(&mut self) {
        self.cut = None;
    }

    /// Whether the chip has power.
    pub fn powered(&self) -> bool {
        self.powered
    }

    /// Whether a cut is armed.
    pub fn cut_armed(&self) -> bool {
        self.cut.is_some()
    }

    /// Cuts the power now.
    pub fn power_off(&mut self) {
        self.powered = false;
        self.reset_bus();
    }

    /// Restores power: WEL cleared, the chip answers again.
    pub fn power_on(&mut self) {
        self.powered = true;
        self.wel = false;
        self.busy_polls = 0;
        self.reset_bus();
    }

    fn reset_bus(&mut self) {
        self.cmd = None;
        self.addr = 0;
        self.addr_len = 0;
        self.addr_have = 0;
        self.data.clear();
        self.read_pos = 0;
    }

    /// One byte clocked in (MOSI) and out (MISO) while CS is low.
    fn clock(&mut self, mosi: u8) -> u8 {
        let Some(cmd) = self.cmd else {
            self.cmd = Some(mosi);
            self.addr_len = match mosi {
                CMD_READ | CMD_PAGE_PROGRAM | CMD_SECTOR_ERASE => 3,
                CMD_READ_4B | CMD_PAGE_PROGRAM_4B | CMD_SECTOR_ERASE_4B => 4,
                _ => 0,
            };
            if matches!(mosi, CMD_READ | CMD_READ_4B) {
                self.stats.reads += 1;
            }
            return 0xFF;
        };
        if self.addr_have < self.addr_len {
            self.addr = (self.addr << 8) | mosi as u32;
            self.addr_have += 1;
            return 0xFF;
        }
        match cmd {
            CMD_JEDEC_ID => {
                let b = self.jedec.get(self.read_pos).copied().unwrap_or(0);
                self.read_pos += 1;
                b
            }
            CMD_READ_STATUS => {
                let mut st = if self.wel { STATUS_WEL } else { 0 };
                if self.busy_polls > 0 {
                    self.busy_polls -= 1;
                    st |= STATUS_BUSY;
                }
                st
            }
            CMD_READ | CMD_READ_4B => {
                // Reads run on through the whole array and wrap at its end, as on the chip.
                let a = (self.addr as usize + self.read_pos) % self.mem.len();
                self.read_pos += 1;
                self.mem[a]
            }
            CMD_PAGE_PROGRAM | CMD_PAGE_PROGRAM_4B => {
                // Real chips keep only the last 256 bytes clocked in.
                if self.data.len() < PAGE_SIZE {
                    self.data.push(mosi);
                } else {
                    self.data.remove(0);
                    self.data.push(mosi);
                }
                0xFF
            }
            _ => 0xFF,
        }
    }

    /// Whether the next bytes clocked in are a page program's data.
    fn takes_program_data(&self) -> bool {
        matches!(self.cmd, Some(CMD_PAGE_PROGRAM | CMD_PAGE_PROGRAM_4B))
            && self.addr_have == self.addr_len
    }

    /// A page program's data bytes clocked in at once: as on the chip, only the last
    /// [`PAGE_SIZE`] bytes of all clocked in are kept.
    fn program_data(&mut self, bytes: &[u8]) {
        let new = &bytes[bytes.len().saturating_sub(PAGE_SIZE)..];
        let old_kept = (PAGE_SIZE - new.len()).min(self.data.len());
        self.data.drain(..self.data.len() - old_kept);
        self.data.extend_from_slice(new);
    }

    /// CS goes high: programs and erases execute.
    fn finish(&mut self) -> Result<(), ChipError> {
        let cmd = self.cmd;
        let complete = self.addr_have == self.addr_len;
        let result = match cmd {
            Some(CMD_WRITE_ENABLE) => {
                self.wel = true;
                Ok(())
            }
            Some(CMD_WRITE_DISABLE) => {
                self.wel = false;
                Ok(())
            }
            Some(CMD_PAGE_PROGRAM | CMD_PAGE_PROGRAM_4B) if complete => self.program(),
            Some(CMD_SECTOR_ERASE | CMD_SECTOR_ERASE_4B) if complete => self.erase(),
            _ => Ok(()),
        };
        self.reset_bus();
        result
    }

    /// Counts down an armed cut; returns the bytes of this operation that take effect, if it
    /// is the cut one.
    fn cut_here(&mut self) -> Option<usize> {
        let cut = self.cut.as_mut()?;
        if cut.ops_before > 0 {
            cut.ops_before -= 1;
            return None;
        }
        let byte = cut.byte;
        self.cut = None;
        Some(byte)
    }

    fn program(&mut self) -> Result<(), ChipError> {
        if !self.wel {
            self.stats.refused += 1;
            return Ok(());
        }
        self.wel = false;
        self.stats.programs += 1;
        let cap = self.mem.len();
        let addr = self.addr as usize % cap;
        let page = addr - addr % PAGE_SIZE;
        let start = addr % PAGE_SIZE;
        let data = std::mem::take(&mut self.data);
        let limit = self.cut_here();
        let n = limit.map_or(data.len(), |b| b.min(data.len()));
        for (i, b) in data[..n].iter().enumerate() {
            let a = page + (start + i) % PAGE_SIZE;
            self.mem[a] &= *b;
        }
        self.data = data;
        self.data.clear();
        self.busy_polls = 1;
        if limit.is_some() {
            self.stats.cuts += 1;
            self.powered = false;
            return Err(ChipError::PowerLost);
        }
        Ok(())
    }

    fn erase(&mut self) -> Result<(), ChipError> {
        if !self.wel {
            self.stats.refused += 1;
            return Ok(());
        }
        self.wel = false;
        self.stats.erases += 1;
        let cap = self.mem.len();
        let base = (self.addr as usize % cap) & !(SECTOR_SIZE - 1);
        let limit = self.cut_here();
        let n = limit.map_or(SECTOR_SIZE, |b| b.min(SECTOR_SIZE));
        self.mem[base..base + n].fill(0xFF);
        self.busy_polls = 1;
        if limit.is_some() {
            self.stats.cuts += 1;
            self.powered = false;
            return Err(ChipError::PowerLost);
        }
        Ok(())
    }
}

impl ErrorType for EmulatedChip {
    type Error = ChipError;
}

impl SpiDevice for EmulatedChip {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), ChipError> {
        if !self.powered {
            return Err(ChipError::PowerLost);
        }
        self.reset_bus();
        for op in operations.iter_mut() {
            match op {
                Operation::Write(w) => {
                    let mut rest: &[u8] = w;
                    // Command and address bytes one by one, then the data of a page program
                    // at once (same effect as clocking it in: the last page of it is kept).
                    while let Some((b, more)) = rest.split_first()
                        && !self.takes_program_data()
                    {
                        self.clock(*b);
                        rest = more;
                    }
                    if !rest.is_empty() {
                        self.program_data(rest);
                    }
                }
                Operation::Read(r) => {
                    if matches!(self.cmd, Some(CMD_READ | CMD_READ_4B))
                        && self.addr_have == self.addr_len
                    {
                        // Fast path for array reads: same bytes as clocking one by one.
                        let cap = self.mem.len();
                        let start = (self.addr as usize + self.read_pos) % cap;
                        if start + r.len() <= cap {
                            r.copy_from_slice(&self.mem[start..start + r.len()]);
                            self.read_pos += r.len();
                            continue;
                        }
                    }
                    for b in r.iter_mut() {
                        *b = self.clock(0);
                    }
                }
                Operation::Transfer(r, w) => {
                    for i in 0..r.len().max(w.len()) {
                        let out = self.clock(w.get(i).copied().unwrap_or(0));
                        if let Some(slot) = r.get_mut(i) {
                            *slot = out;
                        }
                    }
                }
                Operation::TransferInPlace(buf) => {
                    for b in buf.iter_mut() {
                        *b = self.clock(*b);
                    }
                }
                Operation::DelayNs(_) => {}
            }
        }
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flash::nor::SpiNor;
    use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};

    #[test]
    fn driver_probes_programs_and_erases() {
        let chip = EmulatedChip::new(1 << 20).unwrap();
        let mut nor = SpiNor::new(chip).unwrap();
        assert_eq!(nor.capacity(), 1 << 20);
        nor.write(250, &[0x0F; 10]).unwrap(); // crosses a page boundary: two programs
        let mut b = [0u8; 12];
        nor.read(249, &mut b).unwrap();
        assert_eq!(b[0], 0xFF);
        assert_eq!(&b[1..11], &[0x0F; 10]);
        // NOR: programming only clears bits.
        nor.write(250, &[0xF1]).unwrap();
        nor.read(250, &mut b[..1]).unwrap();
        assert_eq!(b[0], 0x01);
        assert_eq!(nor.spi().stats().programs, 3);
        nor.erase(0, 4096).unwrap();
        nor.read(250, &mut b[..1]).unwrap();
        assert_eq!(b[0], 0xFF);
    }

    #[test]
    fn program_without_wel_is_ignored_and_page_wraps() {
        let mut chip = EmulatedChip::new(1 << 16).unwrap();
        chip.transaction(&mut [Operation::Write(&[CMD_PAGE_PROGRAM, 0, 0, 0, 0])])
            .unwrap();
        assert_eq!(chip.memory()[0], 0xFF);
        assert_eq!(chip.stats().refused, 1);
        chip.transaction(&mut [Operation::Write(&[CMD_WRITE_ENABLE])])
            .unwrap();
        chip.transaction(&mut [Operation::Write(&[CMD_PAGE_PROGRAM, 0, 0, 255, 1, 2])])
            .unwrap();
        assert_eq!(chip.memory()[255], 1);
        assert_eq!(chip.memory()[0], 2, "wraps inside the page");
    }

    #[test]
    fn program_data_written_at_once_equals_clocking_it_in_byte_by_byte() {
        // Lengths around a page, split across operations, with more than a page clocked in
        // (only the last 256 bytes count).
        for (first, second) in [(0, 10), (10, 0), (100, 200), (256, 0), (300, 5), (5, 300)] {
            let data: Vec<u8> = (0..first + second).map(|i| (i * 7 + 3) as u8).collect();
            let header = [CMD_PAGE_PROGRAM, 0, 1, 17];
            let mut at_once = EmulatedChip::new(1 << 16).unwrap();
            let mut by_byte = EmulatedChip::new(1 << 16).unwrap();
            for chip in [&mut at_once, &mut by_byte] {
                chip.transaction(&mut [Operation::Write(&[CMD_WRITE_ENABLE])])
                    .unwrap();
            }
            at_once
                .transaction(&mut [
                    Operation::Write(&header),
                    Operation::Write(&data[..first]),
                    Operation::Write(&data[first..]),
                ])
                .unwrap();
            // A full-duplex transfer clocks every byte through `clock`.
            let mut all: Vec<u8> = header.iter().chain(&data).copied().collect();
            by_byte
                .transaction(&mut [Operation::TransferInPlace(&mut all)])
                .unwrap();
            assert_eq!(
                at_once.memory(),
                by_byte.memory(),
                "{first} + {second} bytes"
            );
            assert_eq!(at_once.stats().programs, 1);
        }
    }

    #[test]
    fn power_cut_tears_a_program_and_stops_the_chip() {
        let chip = EmulatedChip::new(1 << 20).unwrap();
        let mut nor = SpiNor::new(chip).unwrap();
        nor.spi_mut().cut_power_at(2, 3);
        nor.write(0, &[0; 8]).unwrap();
        assert!(nor.write(256, &[0; 8]).is_err());
        assert_eq!(
            &nor.spi().memory()[256..264],
            &[0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        );
        let mut b = [0u8; 1];
        assert!(nor.read(0, &mut b).is_err(), "dead until power on");
        nor.spi_mut().power_on();
        nor.read(0, &mut b).unwrap();
        assert_eq!(b[0], 0);
    }

    #[test]
    fn image_file_persists() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("disk.img");
        {
            let mut nor = SpiNor::new(EmulatedChip::open(&p, 1 << 16).unwrap()).unwrap();
            nor.write(4096 + 7, &[0x42]).unwrap();
        }
        let nor = SpiNor::new(EmulatedChip::open(&p, 1 << 16).unwrap()).unwrap();
        assert_eq!(nor.spi().memory()[4096 + 7], 0x42);
    }

    #[test]
    fn an_image_holds_every_byte_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("disk.img");
        // Created blank: every byte 0xFF.
        let mut nor = SpiNor::new(EmulatedChip::open(&p, 1 << 18).unwrap()).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), vec![0xFF; 1 << 18]);
        // A program and an erase are in the file as they are made, while the chip lives (a
        // process killed now leaves them there).
        nor.write(3 * 4096 + 5, &[0x12, 0x34]).unwrap();
        nor.write(4096, &[0]).unwrap();
        let file = std::fs::read(&p).unwrap();
        assert_eq!(&file[3 * 4096 + 4..3 * 4096 + 8], &[0xFF, 0x12, 0x34, 0xFF]);
        assert_eq!(file[4096], 0);
        nor.erase(4096, 8192).unwrap();
        assert_eq!(std::fs::read(&p).unwrap()[4096], 0xFF);
        // A snapshot loaded: the file holds it exactly.
        let snapshot: Vec<u8> = (0..1usize << 18).map(|i| (i * 7 % 251) as u8).collect();
        nor.spi_mut().load(&snapshot).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), snapshot);
    }

    #[test]
    fn an_image_opens_at_its_own_size_and_an_empty_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("disk.img");
        {
            let mut nor = SpiNor::new(EmulatedChip::open(&p, 1 << 17).unwrap()).unwrap();
            nor.write(9, &[0x42]).unwrap();
        }
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Asked for another size, the image stays the chip it was written as.
        let nor = SpiNor::new(EmulatedChip::open(&p, 1 << 16).unwrap()).unwrap();
        assert_eq!(nor.spi().capacity(), 1 << 17);
        assert_eq!(nor.spi().memory()[9], 0x42);
        drop(nor);
        // A 0-byte or odd-sized file is no disk: refused, never grown into a blank one.
        for (len, says) in [(0u64, "empty"), (1000, "not the size of a flash chip")] {
            let q = dir.path().join(format!("bad-{len}.img"));
            std::fs::File::create(&q).unwrap().set_len(len).unwrap();
            let e = EmulatedChip::open(&q, 1 << 16).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
            assert_eq!(
                std::fs::metadata(&q).unwrap().len(),
                len,
                "the file changed"
            );
        }
    }

    #[test]
    fn one_image_one_process_lock() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("disk.img");
        let first = EmulatedChip::open(&p, 1 << 16).unwrap();
        // Another open file description of the same image (as another process has) waits,
        // then is refused naming the holder.
        let t = std::time::Instant::now();
        let e = EmulatedChip::open_waiting(&p, 1 << 16, Duration::from_millis(100))
            .unwrap_err()
            .to_string();
        assert!(t.elapsed() >= Duration::from_millis(100));
        assert!(
            e.contains(&format!("in use by process {}", std::process::id())),
            "{e}"
        );
        drop(first);
        EmulatedChip::open(&p, 1 << 16).unwrap();
    }
}
