//! The disk-protocol port: COBS frames of `taxdisk_protocol::frame` on a TCP stream, answered by
//! the shared [`crate::sim::SimDisk`] through [`FrameHandler::handle_frame`].
//!
//! The stream is cut at the `0x00` delimiters and every frame is handed to the disk as received,
//! so the disk sees what a USB disk would see and applies its own rules: request frames are
//! answered (or refused), a frame of another protocol version is answered `UnsupportedVersion`,
//! garbage, bad CRCs and other frame types get no answer (the host's retry with the same
//! sequence number and idempotency key covers a lost frame). Only frames longer than
//! `MAX_ENCODED` are dropped here, since no disk could take them. Armed frame faults
//! (`ControlRequest::FrameFault`) count the frames the disk is given, exactly as in-process.

use super::accept::{self, Answer};
use super::{SharedDisk, lock_disk, wait_owed};
use std::net::TcpStream;
use taxdisk_protocol::FrameHandler;

/// Serves one disk-protocol connection until the peer closes it or the server shuts down.
pub(crate) fn serve_connection(stream: TcpStream, disk: SharedDisk) {
    accept::frame_loop("disk", stream, |frame, out| {
        let mut guard = lock_disk(&disk);
        let Some(d) = guard.as_mut() else {
            return Answer::Close;
        };
        let n = d.handle_frame(frame, out);
        let owed = d.take_owed_delay();
        drop(guard);
        wait_owed(&disk, owed);
        Answer::Bytes(n)
    });
}
