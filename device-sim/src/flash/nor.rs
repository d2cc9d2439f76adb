//! SPI NOR driver for W25Q-style chips over [`embedded_hal::spi::SpiDevice`], implementing
//! [`embedded_storage::nor_flash::NorFlash`]. no_std, no allocation.
//!
//! Commands used (Winbond W25Q datasheet names):
//!
//! | op | command | notes |
//! |---|---|---|
//! | JEDEC id | `0x9F` | manufacturer, memory type, capacity code |
//! | read status 1 | `0x05` | bit 0 BUSY, bit 1 WEL; polled after every program and erase |
//! | write enable | `0x06` | before every program and erase |
//! | read data | `0x03` / `0x13` | 3-byte / 4-byte address |
//! | page program | `0x02` / `0x12` | at most 256 bytes, never across a page boundary |
//! | sector erase 4 KiB | `0x20` / `0x21` | |
//!
//! Chips larger than 16 MiB are driven with the explicit 4-byte-address commands (`0x13`,
//! `0x12`, `0x21`), so the driver never depends on the chip's address mode register.

use embedded_hal::spi::{Operation, SpiDevice};
use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// Page size in bytes: a program never crosses a page boundary.
pub const PAGE_SIZE: usize = 256;
/// Smallest erasable unit in bytes (4 KiB sector).
pub const SECTOR_SIZE: usize = 4096;

/// JEDEC id command.
pub const CMD_JEDEC_ID: u8 = 0x9F;
/// Read status register 1.
pub const CMD_READ_STATUS: u8 = 0x05;
/// Write enable (sets WEL).
pub const CMD_WRITE_ENABLE: u8 = 0x06;
/// Read data, 3-byte address.
pub const CMD_READ: u8 = 0x03;
/// Read data, 4-byte address.
pub const CMD_READ_4B: u8 = 0x13;
/// Page program, 3-byte address.
pub const CMD_PAGE_PROGRAM: u8 = 0x02;
/// Page program, 4-byte address.
pub const CMD_PAGE_PROGRAM_4B: u8 = 0x12;
/// Sector erase (4 KiB), 3-byte address.
pub const CMD_SECTOR_ERASE: u8 = 0x20;
/// Sector erase (4 KiB), 4-byte address.
pub const CMD_SECTOR_ERASE_4B: u8 = 0x21;
/// Status bit: a program or erase is in progress.
pub const STATUS_BUSY: u8 = 0x01;
/// Status bit: write enable latch.
pub const STATUS_WEL: u8 = 0x02;

/// Most status polls before a program or erase is declared hung (a real W25Q erases a sector in
/// at most 400 ms; the caller's SPI clock decides how long one poll takes).
pub const MAX_BUSY_POLLS: u32 = 10_000_000;

/// Capacity in bytes from the JEDEC capacity code: W25Q chips use `2^code` up to `0x19`
/// (32 MiB) and continue at `0x20` = 64 MiB, `0x21` = 128 MiB.
pub const fn capacity_from_jedec(code: u8) -> Option<usize> {
    match code {
        0x10..=0x19 => Some(1usize << code),
        0x20..=0x22 => Some(1usize << (code - 0x20 + 26)),
        _ => None,
    }
}

/// The JEDEC capacity code of a power-of-two capacity (inverse of [`capacity_from_jedec`]).
pub const fn jedec_from_capacity(bytes: usize) -> Option<u8> {
    if !bytes.is_power_of_two() {
        return None;
    }
    let log2 = bytes.trailing_zeros() as u8;
    match log2 {
        16..=25 => Some(log2),
        26..=28 => Some(log2 - 26 + 0x20),
        _ => None,
    }
}

/// Errors of the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NorError<E> {
    /// The SPI transaction failed (the chip lost power, the bus failed).
    Spi(E),
    /// An access outside the chip or not aligned to a sector (erase).
    OutOfBounds,
    /// Erase range not sector aligned.
    NotAligned,
    /// The JEDEC id does not name a supported capacity.
    UnknownChip([u8; 3]),
    /// The chip stayed busy past [`MAX_BUSY_POLLS`].
    Timeout,
}

impl<E: core::fmt::Debug> NorFlashError for NorError<E> {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            NorError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            NorError::NotAligned => NorFlashErrorKind::NotAligned,
            _ => NorFlashErrorKind::Other,
        }
    }
}

/// A W25Q-style SPI NOR chip.
#[derive(Debug)]
pub struct SpiNor<SPI> {
    spi: SPI,
    capacity: usize,
    four_byte: bool,
}

impl<SPI: SpiDevice> SpiNor<SPI> {
    /// Probes the chip with the JEDEC id command and sizes itself from the capacity code.
    pub fn new(mut spi: SPI) -> Result<Self, NorError<SPI::Error>> {
        let mut id = [0u8; 3];
        spi.transaction(&mut [Operation::Write(&[CMD_JEDEC_ID]), Operation::Read(&mut id)])
            .map_err(NorError::Spi)?;
        let capacity = capacity_from_jedec(id[2]).ok_or(NorError::UnknownChip(id))?;
        Ok(Self::with_capacity(spi, capacity))
    }

    /// A driver for a chip of known capacity (no probing).
    pub fn with_capacity(spi: SPI, capacity: usize) -> Self {
        SpiNor {
            spi,
            capacity,
            four_byte: capacity > 16 * 1024 * 1024,
        }
    }

    /// The SPI device.
    pub fn spi(&self) -> &SPI {
        &self.spi
    }

    /// The SPI device, mutably (the simulator reaches its emulated chip this way).
    pub fn spi_mut(&mut self) -> &mut SPI {
        &mut self.spi
    }

    /// Gives the SPI device back.
    pub fn release(self) -> SPI {
        self.spi
    }

    /// Command byte followed by the address, 3 or 4 bytes big-endian; returns the bytes used.
    fn command(&self, cmd3: u8, cmd4: u8, addr: u32, out: &mut [u8; 5]) -> usize {
        let a = addr.to_be_bytes();
        if self.four_byte {
            out[0] = cmd4;
            out[1..5].copy_from_slice(&a);
            5
        } else {
            out[0] = cmd3;
            out[1..4].copy_from_slice(&a[1..4]);
            4
        }
    }

    fn write_enable(&mut self) -> Result<(), NorError<SPI::Error>> {
        self.spi
            .transaction(&mut [Operation::Write(&[CMD_WRITE_ENABLE])])
            .map_err(NorError::Spi)
    }

    fn wait_idle(&mut self) -> Result<(), NorError<SPI::Error>> {
        for _ in 0..MAX_BUSY_POLLS {
            let mut st = [0u8; 1];
            self.spi
                .transaction(&mut [
                    Operation::Write(&[CMD_READ_STATUS]),
                    Operation::Read(&mut st),
                ])
                .map_err(NorError::Spi)?;
            if st[0] & STATUS_BUSY == 0 {
                return Ok(());
            }
        }
        Err(NorError::Timeout)
    }

    fn check(&self, offset: u32, len: usize) -> Result<(), NorError<SPI::Error>> {
        let end = (offset as usize)
            .checked_add(len)
            .ok_or(NorError::OutOfBounds)?;
        if end > self.capacity {
            return Err(NorError::OutOfBounds);
        }
        Ok(())
    }
}

impl<SPI: SpiDevice> ErrorType for SpiNor<SPI> {
    type Error = NorError<SPI::Error>;
}

impl<SPI: SpiDevice> ReadNorFlash for SpiNor<SPI> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.check(offset, bytes.len())?;
        if bytes.is_empty() {
            return Ok(());
        }
        let mut cmd = [0u8; 5];
        let n = self.command(CMD_READ, CMD_READ_4B, offset, &mut cmd);
        self.spi
            .transaction(&mut [Operation::Write(&cmd[..n]), Operation::Read(bytes)])
            .map_err(NorError::Spi)
    }

    fn capacity(&self) -> usize {
        self.capacity
    }
}

impl<SPI: SpiDevice> NorFlash for SpiNor<SPI> {
    const WRITE_SIZE: usize = 1;
    const ERASE_SIZE: usize = SECTOR_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        if from > to || to as usize > self.capacity {
            return Err(NorError::OutOfBounds);
        }
        if !(from as usize).is_multiple_of(SECTOR_SIZE)
            || !(to as usize).is_multiple_of(SECTOR_SIZE)
        {
            return Err(NorError::NotAligned);
        }
        let mut addr = from;
        while addr < to {
            self.write_enable()?;
            let mut cmd = [0u8; 5];
            let n = self.command(CMD_SECTOR_ERASE, CMD_SECTOR_ERASE_4B, addr, &mut cmd);
            self.spi
                .transaction(&mut [Operation::Write(&cmd[..n])])
                .map_err(NorError::Spi)?;
            self.wait_idle()?;
            addr += SECTOR_SIZE as u32;
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.check(offset, bytes.len())?;
        let mut addr = offset as usize;
        let mut rest = bytes;
        while !rest.is_empty() {
            // Never cross a page boundary: the chip would wrap inside the page.
            let room = PAGE_SIZE - addr % PAGE_SIZE;
            let (chunk, tail) = rest.split_at(room.min(rest.len()));
            self.write_enable()?;
            let mut cmd = [0u8; 5];
            let n = self.command(CMD_PAGE_PROGRAM, CMD_PAGE_PROGRAM_4B, addr as u32, &mut cmd);
            self.spi
                .transaction(&mut [Operation::Write(&cmd[..n]), Operation::Write(chunk)])
                .map_err(NorError::Spi)?;
            self.wait_idle()?;
            addr += chunk.len();
            rest = tail;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jedec_capacity_codes() {
        assert_eq!(capacity_from_jedec(0x18), Some(16 << 20));
        assert_eq!(capacity_from_jedec(0x20), Some(64 << 20));
        assert_eq!(capacity_from_jedec(0x00), None);
        for log2 in 16..=28 {
            let c = 1usize << log2;
            assert_eq!(
                capacity_from_jedec(jedec_from_capacity(c).unwrap()),
                Some(c)
            );
        }
        assert_eq!(jedec_from_capacity(3 << 20), None);
    }
}
