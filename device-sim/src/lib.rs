//! # taxdisk-device-sim
//!
//! The disk's firmware core and the simulator shell that runs it on a PC, plus the simulated
//! tax bureau (局端).
//!
//! - [`firmware`]: the no_std, allocation-free firmware core (dispatcher, state machine, journal).
//! - [`flash`]: the SPI NOR driver over `embedded_hal::spi::SpiDevice` (no_std) and, with `std`,
//!   the emulated W25Q-style chip with power-cut injection.
//! - `sim` (std): [`sim::SimDisk`], the in-process disk with virtual clock, power and faults.
//! - `serve` (std): the TCP server of `taxdisk-sim serve` and its control channel.
//! - `bureau` (std): the simulated tax bureau, its SQLite state and HTTP API.
#![cfg_attr(not(feature = "std"), no_std)]
// Deny rather than forbid: one function maps the flash image into memory, with its reason
// (flash/chip.rs `map_image`); the firmware core forbids it.
#![deny(unsafe_code)]

pub mod firmware;
pub mod flash;

#[cfg(feature = "std")]
pub mod bureau;
#[cfg(feature = "std")]
pub mod serve;
#[cfg(feature = "std")]
pub mod sim;
