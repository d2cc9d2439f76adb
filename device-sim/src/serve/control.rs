//! The control port: the simulator's control channel of `taxdisk_protocol::control` on TCP.
//!
//! The wire and its codec are `taxdisk_protocol::control`'s (frame type `ControlRequest` (2)
//! from the bench and `ControlResponse` (3) back, command id 0, postcard payloads); this file
//! only serves it. A frame that fails its checks gets no answer. A checked frame of the wrong
//! type or with a payload that is not a `ControlRequest` is answered with
//! `ControlResponse::Error`, so a bench sees at once that it talks to the wrong port or a
//! different version.

use super::accept::{self, Answer};
use super::{SharedDisk, lock_disk};
use std::net::TcpStream;
use taxdisk_protocol::DecodeError;
use taxdisk_protocol::control::{self, ControlResponse};
use taxdisk_protocol::frame::{MAX_FRAME, decode_frame};

/// Serves one control connection until the peer closes it or the server shuts down.
pub(crate) fn serve_connection(stream: TcpStream, disk: SharedDisk) {
    let mut scratch = vec![0u8; MAX_FRAME];
    accept::frame_loop("control", stream, |frame, out| {
        let (header, payload) = match decode_frame(frame, &mut scratch) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(error = ?e, "bad control frame skipped");
                return Answer::Bytes(0);
            }
        };
        let resp = match control::decode_request(&header, payload) {
            Ok(req) => {
                tracing::info!(?req, "{}", taxdisk_i18n::t!("log-control"));
                let mut guard = lock_disk(&disk);
                match guard.as_mut() {
                    Some(d) => d.control(req),
                    None => return Answer::Close,
                }
            }
            Err(DecodeError::FrameType(t)) => {
                ControlResponse::error(&format!("frame type {t} on the control port; expected 2"))
            }
            Err(_) => ControlResponse::error("malformed control request"),
        };
        // Every ControlResponse fits a frame (bounded strings); 0 would mean no answer.
        Answer::Bytes(control::encode_response(&header, &resp, out).unwrap_or(0))
    });
}
