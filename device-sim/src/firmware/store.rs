//! The on-flash layout (D13): a state log and an event journal, both power-fail safe.
//!
//! ```text
//! flash:  | state log: STATE_SECTORS x 4 KiB             | journal: the remaining 4 KiB sectors ... |
//! state:  | slot 0 (2 KiB) | slot 1 | slot 2 | ...        (two slots per sector, used as a ring)
//!           magic "TDS1" | seq u32 | len u16 | postcard(Persist) | CRC-32 (over magic..payload)
//! journal:| sector: 16 slots of 256 bytes (one page each), sectors used as a ring
//!           type u8 | len u8 | counter u48 | tag u32 | postcard(Signed<event>) | CRC-32 (type..payload)
//! ```
//!
//! - **State log** holds what changes rarely (identity, keys, PIN counter, limits, rolls, oil
//!   stock, token sequence numbers, period marks, upload acknowledgements) as whole snapshots.
//!   A write goes to the next slot of the ring; the sector is erased first when the slot starts
//!   one (the newest snapshot is always in another sector). At boot the valid snapshot with the
//!   highest sequence number wins; a torn one fails its CRC and the previous one stands.
//! - **Journal** holds the uploaded events (issued invoices, voids, blank voids), one page
//!   program per event, so an event is committed atomically by one program: a torn page fails
//!   its CRC and is skipped, and the answer is only sent after the program completed. The
//!   journal counter is the record's counter; committed counters are contiguous (a torn write
//!   consumes no counter).
//! - Everything an issue changes (roll usage, pending sums and times, oil consumed, the counter,
//!   the newest time) is derived from the journal: each state snapshot records the journal
//!   counter it includes (`counter_at_write`), and boot replays the newer records on top of it.
//! - Within a sector slots are written in order; a sector whose first slot is blank is free. A
//!   writer about to use a new sector erases it first; before every program the target slot is
//!   checked blank (a torn earlier attempt is skipped). So after a power cut at any program or
//!   erase, boot finds the old state or the new one, never a mix.
//! - Boot reads one header per sector to find the ring (the tail is the sector whose first
//!   record has the highest counter; the log runs backwards while first counters decrease), so
//!   no full scan is needed. Finding an event by counter is a binary search over the sectors'
//!   first counters plus a scan of at most 16 slots.
//! - Reclaim (D13): when the ring is full, the oldest sector is erased only if its newest record
//!   is acknowledged by the bureau and of a period already cleared; otherwise the write is
//!   refused with `StorageFull` and nothing is dropped.

use embedded_storage::nor_flash::NorFlash;

/// Journal slot (record) size: one page.
pub const RECORD_SIZE: usize = 256;
/// Sector size (erase unit).
pub const SECTOR: usize = 4096;
/// Journal slots per sector.
pub const SLOTS_PER_SECTOR: u32 = (SECTOR / RECORD_SIZE) as u32;
/// Journal record header: type, len, counter (u48), tag (u32: the request-id fingerprint of an
/// invoice, so boot rebuilds the idempotency index without decoding records).
pub const RECORD_HEADER: usize = 12;
/// Largest journal payload.
pub const MAX_RECORD_PAYLOAD: usize = RECORD_SIZE - RECORD_HEADER - 4;
/// State snapshot slot size.
pub const STATE_SLOT: usize = 2048;
/// Sectors of the state log.
pub const STATE_SECTORS: u32 = 4;
/// Snapshot header: magic, seq, len.
pub const STATE_HEADER: usize = 10;
/// Largest snapshot payload.
pub const MAX_STATE_PAYLOAD: usize = STATE_SLOT - STATE_HEADER - 4;
const STATE_MAGIC: [u8; 4] = *b"TDS1";
const STATE_SLOTS: u32 = STATE_SECTORS * (SECTOR / STATE_SLOT) as u32;
/// Largest counter a record header holds (48 bits).
pub const MAX_COUNTER: u64 = (1 << 48) - 1;

/// The kind of a journal record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordType {
    /// `Signed<IssuedInvoice>`.
    Invoice = 0xA1,
    /// `Signed<VoidEvent>`.
    Void = 0xA2,
    /// `Signed<BlankVoidEvent>`.
    BlankVoid = 0xA3,
}

impl RecordType {
    fn from_u8(b: u8) -> Option<RecordType> {
        match b {
            0xA1 => Some(RecordType::Invoice),
            0xA2 => Some(RecordType::Void),
            0xA3 => Some(RecordType::BlankVoid),
            _ => None,
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    taxdisk_protocol::frame::crc32(bytes)
}

/// A journal record read from flash (CRC checked).
#[derive(Clone, Debug)]
pub struct Record {
    /// Type.
    pub ty: RecordType,
    /// Journal counter.
    pub counter: u64,
    /// The header tag (request-id fingerprint of an invoice, 0 otherwise).
    pub tag: u32,
    /// Page buffer; the payload is `page[RECORD_HEADER..RECORD_HEADER + len]`.
    page: [u8; RECORD_SIZE],
    len: usize,
}

impl Record {
    /// The postcard payload.
    pub fn payload(&self) -> &[u8] {
        &self.page[RECORD_HEADER..RECORD_HEADER + self.len]
    }

    /// Parses a page; `None` if blank, torn or garbage.
    pub fn parse(page: &[u8; RECORD_SIZE]) -> Option<Record> {
        let ty = RecordType::from_u8(page[0])?;
        let len = page[1] as usize;
        if len > MAX_RECORD_PAYLOAD {
            return None;
        }
        let end = RECORD_HEADER + len;
        let want = u32::from_le_bytes([page[end], page[end + 1], page[end + 2], page[end + 3]]);
        if crc32(&page[..end]) != want {
            return None;
        }
        let mut c = [0u8; 8];
        c[..6].copy_from_slice(&page[2..8]);
        Some(Record {
            ty,
            counter: u64::from_le_bytes(c),
            tag: u32::from_le_bytes([page[8], page[9], page[10], page[11]]),
            page: *page,
            len,
        })
    }

    /// Builds the page of a record; `None` if the payload is too long.
    pub fn build(
        ty: RecordType,
        counter: u64,
        tag: u32,
        payload: &[u8],
        page: &mut [u8; RECORD_SIZE],
    ) -> Option<()> {
        if payload.len() > MAX_RECORD_PAYLOAD || counter > MAX_COUNTER {
            return None;
        }
        page.fill(0xFF);
        page[0] = ty as u8;
        page[1] = payload.len() as u8;
        page[2..8].copy_from_slice(&counter.to_le_bytes()[..6]);
        page[8..12].copy_from_slice(&tag.to_le_bytes());
        let end = RECORD_HEADER + payload.len();
        page[RECORD_HEADER..end].copy_from_slice(payload);
        let crc = crc32(&page[..end]);
        page[end..end + 4].copy_from_slice(&crc.to_le_bytes());
        Some(())
    }
}

/// Why the store could not do something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The flash failed (power lost, bus error): `StorageFault`.
    Flash,
    /// The journal is full and nothing can be reclaimed: `StorageFull`.
    Full,
    /// The flash is too small for the layout.
    TooSmall,
    /// A record or snapshot does not fit its slot.
    TooLarge,
}

/// Where the journal stands (RAM, rebuilt at boot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Journal {
    /// Journal sectors.
    sectors: u32,
    /// Oldest sector of the log.
    head: u32,
    /// Sectors in the log (the tail sector included); 0 = empty journal.
    len: u32,
    /// Next slot in the tail sector (`SLOTS_PER_SECTOR` = the tail sector is full).
    tail_slot: u32,
    /// Newest committed counter (0 = none).
    pub last_counter: u64,
}

/// The position of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Journal sector (physical index).
    pub sector: u32,
    /// Slot in the sector.
    pub slot: u32,
}

/// The store: layout arithmetic and the flash operations of both areas.
#[derive(Clone, Copy, Debug)]
pub struct Store {
    journal: Journal,
    /// Newest valid state slot, if any.
    state_slot: Option<u32>,
    /// Its sequence number.
    state_seq: u32,
    /// No valid snapshot, yet the flash shows the disk was used: state slots other than the
    /// first are written, or the journal holds events (bit flips, a zeroed image). Only a
    /// blank state log, or a first snapshot torn by a power cut with an empty journal, is a
    /// factory disk.
    state_lost: bool,
}

impl Store {
    /// Journal sectors on a flash of `capacity` bytes.
    pub const fn journal_sectors(capacity: usize) -> u32 {
        (capacity / SECTOR) as u32 - STATE_SECTORS
    }

    /// Invoice records a flash of `capacity` bytes holds.
    pub const fn journal_capacity(capacity: usize) -> u32 {
        Self::journal_sectors(capacity) * SLOTS_PER_SECTOR
    }

    fn slot_addr(s: Slot) -> u32 {
        (STATE_SECTORS + s.sector) * SECTOR as u32 + s.slot * RECORD_SIZE as u32
    }

    /// Mounts the store: finds the newest state snapshot (copied into `state_buf`, returning its
    /// length) and the journal ring.
    pub fn mount<F: NorFlash>(
        flash: &mut F,
        state_buf: &mut [u8; MAX_STATE_PAYLOAD],
    ) -> Result<(Store, Option<usize>), StoreError> {
        let cap = flash.capacity();
        if cap < (STATE_SECTORS as usize + 2) * SECTOR {
            return Err(StoreError::TooSmall);
        }
        let mut store = Store {
            journal: Journal {
                sectors: Self::journal_sectors(cap),
                head: 0,
                len: 0,
                tail_slot: 0,
                last_counter: 0,
            },
            state_slot: None,
            state_seq: 0,
            state_lost: false,
        };
        let state_len = store.mount_state(flash, state_buf)?;
        store.mount_journal(flash)?;
        if state_len.is_none() {
            store.state_lost = store.journal.len > 0 || Self::state_log_used(flash)?;
        }
        Ok((store, state_len))
    }

    /// Whether any state slot but the first holds a byte other than `0xFF` (the first is
    /// where a factory disk's first snapshot goes, so a power cut may have torn it).
    fn state_log_used<F: NorFlash>(flash: &mut F) -> Result<bool, StoreError> {
        let mut buf = [0u8; STATE_SLOT];
        for slot in 1..STATE_SLOTS {
            flash
                .read(slot * STATE_SLOT as u32, &mut buf)
                .map_err(|_| StoreError::Flash)?;
            if buf.iter().any(|b| *b != 0xFF) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The state log holds no valid snapshot although the disk was used (D13): the firmware
    /// must not boot as a factory disk.
    pub fn state_lost(&self) -> bool {
        self.state_lost
    }

    fn mount_state<F: NorFlash>(
        &mut self,
        flash: &mut F,
        out: &mut [u8; MAX_STATE_PAYLOAD],
    ) -> Result<Option<usize>, StoreError> {
        let mut buf = [0u8; STATE_SLOT];
        let mut best: Option<(u32, u32, usize)> = None;
        for slot in 0..STATE_SLOTS {
            flash
                .read(slot * STATE_SLOT as u32, &mut buf[..STATE_HEADER])
                .map_err(|_| StoreError::Flash)?;
            if buf[..4] != STATE_MAGIC {
                continue;
            }
            let seq = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
            let len = u16::from_le_bytes([buf[8], buf[9]]) as usize;
            if len > MAX_STATE_PAYLOAD {
                continue;
            }
            let end = STATE_HEADER + len;
            flash
                .read(slot * STATE_SLOT as u32, &mut buf[..end + 4])
                .map_err(|_| StoreError::Flash)?;
            let want = u32::from_le_bytes([buf[end], buf[end + 1], buf[end + 2], buf[end + 3]]);
            if crc32(&buf[..end]) != want {
                continue;
            }
            if best.is_none_or(|(_, s, _)| seq > s) {
                best = Some((slot, seq, len));
                out[..len].copy_from_slice(&buf[STATE_HEADER..end]);
            }
        }
        Ok(best.map(|(slot, seq, len)| {
            self.state_slot = Some(slot);
            self.state_seq = seq;
            len
        }))
    }

    /// Writes a state snapshot to the next slot of the state ring.
    pub fn write_state<F: NorFlash>(
        &mut self,
        flash: &mut F,
        payload: &[u8],
    ) -> Result<(), StoreError> {
        if payload.len() > MAX_STATE_PAYLOAD {
            return Err(StoreError::TooLarge);
        }
        let per_sector = (SECTOR / STATE_SLOT) as u32;
        let mut slot = self.state_slot.map_or(0, |s| (s + 1) % STATE_SLOTS);
        let mut buf = [0u8; STATE_SLOT];
        if !slot.is_multiple_of(per_sector) {
            // Mid-sector: usable only if blank (a torn earlier attempt is skipped).
            flash
                .read(slot * STATE_SLOT as u32, &mut buf)
                .map_err(|_| StoreError::Flash)?;
            if buf.iter().any(|b| *b != 0xFF) {
                slot = (slot / per_sector + 1) * per_sector % STATE_SLOTS;
            }
        }
        if slot.is_multiple_of(per_sector) {
            let from = slot * STATE_SLOT as u32;
            flash
                .erase(from, from + SECTOR as u32)
                .map_err(|_| StoreError::Flash)?;
        }
        let seq = self.state_seq.wrapping_add(1);
        buf.fill(0xFF);
        buf[..4].copy_from_slice(&STATE_MAGIC);
        buf[4..8].copy_from_slice(&seq.to_le_bytes());
        buf[8..10].copy_from_slice(&(payload.len() as u16).to_le_bytes());
        let end = STATE_HEADER + payload.len();
        buf[STATE_HEADER..end].copy_from_slice(payload);
        let crc = crc32(&buf[..end]);
        buf[end..end + 4].copy_from_slice(&crc.to_le_bytes());
        flash
            .write(slot * STATE_SLOT as u32, &buf[..end + 4])
            .map_err(|_| StoreError::Flash)?;
        self.state_slot = Some(slot);
        self.state_seq = seq;
        Ok(())
    }

    /// Reads one journal slot; `Ok(None)` if it holds no valid record.
    pub fn read_slot<F: NorFlash>(
        &self,
        flash: &mut F,
        s: Slot,
    ) -> Result<Option<Record>, StoreError> {
        let mut page = [0u8; RECORD_SIZE];
        flash
            .read(Self::slot_addr(s), &mut page)
            .map_err(|_| StoreError::Flash)?;
        Ok(Record::parse(&page))
    }

    fn slot_blank<F: NorFlash>(
        &self,
        flash: &mut F,
        s: Slot,
        header_only: bool,
    ) -> Result<bool, StoreError> {
        let mut page = [0u8; RECORD_SIZE];
        let n = if header_only {
            RECORD_HEADER
        } else {
            RECORD_SIZE
        };
        flash
            .read(Self::slot_addr(s), &mut page[..n])
            .map_err(|_| StoreError::Flash)?;
        Ok(page[..n].iter().all(|b| *b == 0xFF))
    }

    /// The first valid record of a sector, `None` if the sector is free or holds none.
    fn sector_first<F: NorFlash>(
        &self,
        flash: &mut F,
        sector: u32,
    ) -> Result<Option<(u32, Record)>, StoreError> {
        if self.slot_blank(flash, Slot { sector, slot: 0 }, true)? {
            return Ok(None);
        }
        for slot in 0..SLOTS_PER_SECTOR {
            let s = Slot { sector, slot };
            if let Some(r) = self.read_slot(flash, s)? {
                return Ok(Some((slot, r)));
            }
            if slot > 0 && self.slot_blank(flash, s, true)? {
                break;
            }
        }
        Ok(None)
    }

    fn mount_journal<F: NorFlash>(&mut self, flash: &mut F) -> Result<(), StoreError> {
        let n = self.journal.sectors;
        // 1. The tail sector: the highest first counter.
        let mut tail: Option<(u32, u64)> = None;
        for s in 0..n {
            if let Some((_, r)) = self.sector_first(flash, s)?
                && tail.is_none_or(|(_, c)| r.counter > c)
            {
                tail = Some((s, r.counter));
            }
        }
        let Some((tail, tail_first)) = tail else {
            // Empty journal: the next write erases sector 0 and starts there.
            self.journal.head = 0;
            self.journal.len = 0;
            self.journal.tail_slot = 0;
            self.journal.last_counter = 0;
            return Ok(());
        };
        // 2. Walk back while first counters decrease.
        let mut head = tail;
        let mut len = 1;
        let mut prev_first = tail_first;
        while len < n {
            let s = (head + n - 1) % n;
            match self.sector_first(flash, s)? {
                Some((_, r)) if r.counter < prev_first => {
                    head = s;
                    len += 1;
                    prev_first = r.counter;
                }
                _ => break,
            }
        }
        // 3. The tail slot: after the last valid record, skipping torn slots, up to a blank one.
        let mut last = tail_first;
        let mut tail_slot = SLOTS_PER_SECTOR;
        for slot in 0..SLOTS_PER_SECTOR {
            let s = Slot { sector: tail, slot };
            if let Some(r) = self.read_slot(flash, s)? {
                if r.counter > last {
                    last = r.counter;
                }
                tail_slot = SLOTS_PER_SECTOR;
            } else if self.slot_blank(flash, s, false)? {
                if tail_slot == SLOTS_PER_SECTOR {
                    tail_slot = slot;
                }
            } else {
                tail_slot = SLOTS_PER_SECTOR;
            }
        }
        self.journal = Journal {
            sectors: n,
            head,
            len,
            tail_slot,
            last_counter: last,
        };
        Ok(())
    }

    /// The journal position.
    pub fn journal(&self) -> Journal {
        self.journal
    }

    /// Free journal slots (without reclaiming).
    pub fn journal_free(&self) -> u32 {
        let j = &self.journal;
        (j.sectors - j.len) * SLOTS_PER_SECTOR
            + if j.len == 0 {
                0
            } else {
                SLOTS_PER_SECTOR - j.tail_slot
            }
    }

    /// A store over a flash that could not be mounted (every operation fails).
    pub fn unmounted() -> Store {
        Store {
            journal: Journal {
                sectors: 0,
                head: 0,
                len: 0,
                tail_slot: 0,
                last_counter: 0,
            },
            state_slot: None,
            state_seq: 0,
            state_lost: false,
        }
    }

    /// Appends a record. `reclaimable(newest_record_of_oldest_sector)` decides whether the
    /// oldest sector may be erased when the ring is full (D13).
    pub fn append<F: NorFlash>(
        &mut self,
        flash: &mut F,
        page: &[u8; RECORD_SIZE],
        counter: u64,
        reclaimable: impl Fn(Option<&Record>) -> bool,
    ) -> Result<(), StoreError> {
        let n = self.journal.sectors;
        if n == 0 {
            return Err(StoreError::Flash);
        }
        loop {
            if self.journal.len == 0 || self.journal.tail_slot >= SLOTS_PER_SECTOR {
                // Open a new sector.
                if self.journal.len == n {
                    let newest = self.sector_last(flash, self.journal.head)?;
                    if !reclaimable(newest.as_ref()) {
                        return Err(StoreError::Full);
                    }
                    self.journal.head = (self.journal.head + 1) % n;
                    self.journal.len -= 1;
                }
                let next = if self.journal.len == 0 {
                    self.journal.head
                } else {
                    (self.journal.head + self.journal.len) % n
                };
                let from = (STATE_SECTORS + next) * SECTOR as u32;
                flash
                    .erase(from, from + SECTOR as u32)
                    .map_err(|_| StoreError::Flash)?;
                self.journal.len += 1;
                self.journal.tail_slot = 0;
            }
            let s = Slot {
                sector: self.tail_sector(),
                slot: self.journal.tail_slot,
            };
            if self.slot_blank(flash, s, false)? {
                flash
                    .write(Self::slot_addr(s), page)
                    .map_err(|_| StoreError::Flash)?;
                self.journal.tail_slot += 1;
                self.journal.last_counter = counter;
                return Ok(());
            }
            self.journal.tail_slot += 1;
        }
    }

    /// Whether an append would need to reclaim the oldest sector (the ring is full and the tail
    /// sector too).
    pub fn would_reclaim(&self) -> bool {
        self.journal.len == self.journal.sectors && self.journal.tail_slot >= SLOTS_PER_SECTOR
    }

    /// The newest record of the oldest sector (what a reclaim would drop last).
    pub fn oldest_sector_newest<F: NorFlash>(
        &self,
        flash: &mut F,
    ) -> Result<Option<Record>, StoreError> {
        self.sector_last(flash, self.journal.head)
    }

    fn tail_sector(&self) -> u32 {
        (self.journal.head + self.journal.len.max(1) - 1) % self.journal.sectors
    }

    fn sector_last<F: NorFlash>(
        &self,
        flash: &mut F,
        sector: u32,
    ) -> Result<Option<Record>, StoreError> {
        for slot in (0..SLOTS_PER_SECTOR).rev() {
            if let Some(r) = self.read_slot(flash, Slot { sector, slot })? {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// The `i`th sector of the log (0 = oldest).
    fn log_sector(&self, i: u32) -> u32 {
        (self.journal.head + i) % self.journal.sectors
    }

    /// Finds the record with `counter` (binary search over sector first counters).
    pub fn find<F: NorFlash>(
        &self,
        flash: &mut F,
        counter: u64,
    ) -> Result<Option<Record>, StoreError> {
        let Some(i) = self.sector_of(flash, counter)? else {
            return Ok(None);
        };
        let sector = self.log_sector(i);
        for slot in 0..SLOTS_PER_SECTOR {
            if let Some(r) = self.read_slot(flash, Slot { sector, slot })? {
                if r.counter == counter {
                    return Ok(Some(r));
                }
                if r.counter > counter {
                    break;
                }
            }
        }
        Ok(None)
    }

    /// Index in the log of the sector that would hold `counter` (the last whose first counter is
    /// at most `counter`).
    fn sector_of<F: NorFlash>(
        &self,
        flash: &mut F,
        counter: u64,
    ) -> Result<Option<u32>, StoreError> {
        let len = self.journal.len;
        if len == 0 || counter == 0 || counter > self.journal.last_counter {
            return Ok(None);
        }
        let (mut lo, mut hi) = (0u32, len); // answer in [lo, hi)
        let mut found = None;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.sector_first(flash, self.log_sector(mid))? {
                Some((_, r)) if r.counter <= counter => {
                    found = Some(mid);
                    lo = mid + 1;
                }
                Some(_) => hi = mid,
                // A sector without a valid record can only be the tail: search before it.
                None => hi = mid,
            }
        }
        Ok(found)
    }

    /// A cursor before the first record that may have a counter greater than `after`.
    pub fn cursor_after<F: NorFlash>(
        &self,
        flash: &mut F,
        after: u64,
    ) -> Result<Cursor, StoreError> {
        if after >= self.journal.last_counter {
            return Ok(self.cursor_end());
        }
        let i = self.sector_of(flash, after.saturating_add(1))?.unwrap_or(0);
        Ok(Cursor { i, slot: 0 })
    }

    /// A cursor after the newest record.
    pub fn cursor_end(&self) -> Cursor {
        Cursor {
            i: self.journal.len,
            slot: 0,
        }
    }

    /// The next valid record forward from the cursor.
    pub fn next<F: NorFlash>(
        &self,
        flash: &mut F,
        cur: &mut Cursor,
    ) -> Result<Option<Record>, StoreError> {
        while cur.i < self.journal.len {
            let sector = self.log_sector(cur.i);
            while cur.slot < SLOTS_PER_SECTOR {
                let s = Slot {
                    sector,
                    slot: cur.slot,
                };
                cur.slot += 1;
                if let Some(r) = self.read_slot(flash, s)? {
                    return Ok(Some(r));
                }
            }
            cur.i += 1;
            cur.slot = 0;
        }
        Ok(None)
    }

    /// The next valid record backward from the cursor.
    pub fn prev<F: NorFlash>(
        &self,
        flash: &mut F,
        cur: &mut Cursor,
    ) -> Result<Option<Record>, StoreError> {
        loop {
            if cur.slot == 0 {
                if cur.i == 0 {
                    return Ok(None);
                }
                cur.i -= 1;
                cur.slot = SLOTS_PER_SECTOR;
            }
            cur.slot -= 1;
            let s = Slot {
                sector: self.log_sector(cur.i),
                slot: cur.slot,
            };
            if let Some(r) = self.read_slot(flash, s)? {
                return Ok(Some(r));
            }
        }
    }

    /// Visits valid records with a counter greater than `after`, oldest first, until `f`
    /// returns `false`.
    pub fn scan_from<F: NorFlash>(
        &self,
        flash: &mut F,
        after: u64,
        mut f: impl FnMut(&Record) -> bool,
    ) -> Result<(), StoreError> {
        let mut cur = self.cursor_after(flash, after)?;
        while let Some(r) = self.next(flash, &mut cur)? {
            if r.counter > after && !f(&r) {
                break;
            }
        }
        Ok(())
    }

    /// Visits valid records newest first until `f` returns `false`.
    pub fn scan_back<F: NorFlash>(
        &self,
        flash: &mut F,
        mut f: impl FnMut(&Record) -> bool,
    ) -> Result<(), StoreError> {
        let mut cur = self.cursor_end();
        while let Some(r) = self.prev(flash, &mut cur)? {
            if !f(&r) {
                break;
            }
        }
        Ok(())
    }
}

/// A position in the journal log for walking it record by record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Sector index in the log (0 = oldest).
    i: u32,
    /// Slot in that sector.
    slot: u32,
}
