//! The seam between host and disk: "a thing that answers frames". The simulator's `SimDisk`
//! implements it; the host's in-process transport takes any implementation, so host code never
//! depends on the simulator.

/// Answers encoded frames.
pub trait FrameHandler {
    /// Handles one COBS-encoded frame (delimiter optional) and writes the encoded answer to
    /// `out` (at least [`crate::frame::MAX_ENCODED`] bytes). Returns the answer's length, or 0
    /// when there is no answer (the frame was garbage, or the disk is unplugged).
    fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize;
}
