//! The disk-protocol port: COBS frames of `taxdisk_protocol::frame` on a TCP stream, answered by
//! the shared [`crate::sim::SimDisk`] through [`FrameHandler::handle_frame`].
//!
//! Each checked frame is re-encoded exactly as received (same header, payload and therefore
//! CRC) and handed to the disk, so the disk sees what a USB disk would see and applies its own
//! rules: request frames are answered (or refused), anything else gets no answer. A frame that
//! fails COBS, CRC, version or size checks is skipped without an answer, like on the real
//! disk; the host's retry (same sequence number, same idempotency key) covers it. Armed frame
//! faults (`ControlRequest::FrameFault`) count the frames the disk is given.

use super::accept::{self, Answer};
use super::{SharedDisk, lock_disk};
use std::net::TcpStream;
use taxdisk_protocol::FrameHandler;
use taxdisk_protocol::frame::{MAX_ENCODED, encode_raw};

/// Serves one disk-protocol connection until the peer closes it or the server shuts down.
pub(crate) fn serve_connection(stream: TcpStream, disk: SharedDisk) {
    let mut frame = vec![0u8; MAX_ENCODED];
    accept::frame_loop("disk", stream, |header, payload, out| {
        let Ok(n) = encode_raw(header, payload, &mut frame) else {
            // A checked frame always fits again; nothing to answer if it somehow does not.
            return Answer::Bytes(0);
        };
        let mut guard = lock_disk(&disk);
        match guard.as_mut() {
            Some(d) => Answer::Bytes(d.handle_frame(&frame[..n], out)),
            None => Answer::Close,
        }
    });
}
