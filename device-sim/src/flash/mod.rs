//! Flash storage: the SPI NOR driver ([`nor`], no_std) that the firmware core runs on, and with
//! `std` the emulated W25Q-style chip ([`chip`]) with operation counters and power-cut
//! injection. The on-flash layout of the firmware is documented in
//! [`crate::firmware::store`].

#[cfg(feature = "std")]
pub mod chip;
pub mod nor;

pub use nor::{NorError, PAGE_SIZE, SECTOR_SIZE, SpiNor};
