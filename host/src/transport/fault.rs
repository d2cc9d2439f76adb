//! Fault injection as a wrapper around any [`FrameHandler`](taxdisk_protocol::FrameHandler):
//! the one injector, `taxdisk_protocol::fault`, which the simulated disk and the fault
//! campaign use too, so each fault means the same everywhere (its table of actions is there).
//! Faults come from a seeded random plan ([`FaultRates`]) and from scripted faults on the Nth
//! frame ([`FaultyHandler::arm`], the same actions as the simulator's control channel), so
//! every run is reproducible.
//!
//! Wrap the disk and hand the wrapper to [`InProcess`](super::InProcess), or serve it on TCP:
//! the client then sees exactly what a flaky cable would show it.

pub use taxdisk_protocol::fault::{FaultPlan, FaultRates, FaultStats, FaultyHandler, SharedPlan};
