//! The simulator's control channel: clock, power, faults and snapshots. Defined here so that a
//! host's conformance suite can drive any simulator that offers it. Control frames use
//! [`crate::frame::FrameType::ControlRequest`] / `ControlResponse`, command id 0, and carry the
//! postcard encoding of [`ControlRequest`] / [`ControlResponse`].

use crate::time::Timestamp;
use heapless::String;
use serde::{Deserialize, Serialize};

/// What to do to the Nth disk-protocol frame (counted from when the fault is armed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FrameFaultAction {
    /// The request is handled but its answer is not sent.
    DropAnswer,
    /// The request is lost before the disk sees it.
    DropRequest,
    /// One byte of the answer is flipped.
    CorruptAnswer,
    /// The answer is sent twice.
    DuplicateAnswer,
    /// The answer is delayed by this many milliseconds.
    DelayAnswer(u32),
}

/// A control request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControlRequest {
    /// Read the disk clock.
    GetClock,
    /// Set the disk clock (bench control, not the D3 token path).
    SetClock(Timestamp),
    /// Move the disk clock forward by seconds.
    Advance(u64),
    /// Let the clock follow real time (`true`) or only move when told (`false`).
    RunFree(bool),
    /// Power off and on: RAM state (login, last answer) is lost, flash kept.
    PowerCycle,
    /// Unplug (`false`) or plug in (`true`): unplugged, frames get no answer.
    Plug(bool),
    /// Cut the power at the Nth flash program or erase from now (1 = the next one).
    PowerCutAfter(u32),
    /// Apply a frame fault to the Nth frame from now (1 = the next one).
    FrameFault {
        /// Which frame, 1-based.
        nth: u32,
        /// What to do.
        action: FrameFaultAction,
    },
    /// Remove every armed fault.
    ClearFaults,
    /// Save the flash image under a name.
    Snapshot(String<32>),
    /// Restore the flash image saved under a name, then power-cycle.
    Restore(String<32>),
    /// Turn the real-disk latency model on or off.
    Latency(bool),
    /// Counters of the simulator.
    Stats,
    /// Forget the snapshot saved under a name (its memory is freed; at most 8 are kept).
    DropSnapshot(String<32>),
}

/// Counters reported by [`ControlRequest::Stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct SimStats {
    /// Flash reads.
    pub flash_reads: u64,
    /// Flash page programs.
    pub flash_programs: u64,
    /// Flash sector erases.
    pub flash_erases: u64,
    /// Disk-protocol frames handled.
    pub frames: u64,
    /// Power cycles (cuts included).
    pub power_cycles: u64,
}

/// A control answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControlResponse {
    /// Done.
    Ok,
    /// The disk clock.
    Clock(Timestamp),
    /// Counters.
    Stats(SimStats),
    /// The request could not be done; why.
    Error(String<64>),
}
