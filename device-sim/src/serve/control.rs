//! The control port: the simulator's control channel of `taxdisk_protocol::control` on TCP.
//!
//! The wire is the disk protocol's framing (`taxdisk_protocol::frame`) with frame type
//! `ControlRequest` (2) from the bench and `ControlResponse` (3) back, command id 0, the
//! request's sequence number and session echoed, status 0, and the postcard encoding of
//! [`ControlRequest`] / [`ControlResponse`] as the payload. Nothing here is specific to this
//! simulator, so any implementation of the channel can be driven with the helpers below.
//!
//! A frame that fails its checks gets no answer. A checked frame of the wrong type or with a
//! payload that is not a [`ControlRequest`] is answered with [`ControlResponse::Error`], so a
//! bench sees at once that it talks to the wrong port or a different version.

use super::accept::{self, Answer};
use super::{SharedDisk, lock_disk};
use std::net::TcpStream;
use taxdisk_protocol::DecodeError;
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::frame::{
    FrameType, Header, MAX_FRAME, MAX_PAYLOAD, decode_frame, encode_raw,
};

/// The command id of every control frame.
pub const CONTROL_COMMAND: u16 = 0;

/// The header of a control request.
pub fn control_header(seq: u32) -> Header {
    Header {
        frame_type: FrameType::ControlRequest,
        command: CONTROL_COMMAND,
        seq,
        session: 0,
        status: 0,
        detail: 0,
    }
}

/// The header answering a control frame with header `request`.
pub fn control_answer_header(request: &Header) -> Header {
    Header {
        frame_type: FrameType::ControlResponse,
        command: CONTROL_COMMAND,
        seq: request.seq,
        session: request.session,
        status: 0,
        detail: 0,
    }
}

/// Encodes a control request frame (delimiter included) into `out`, at least
/// `taxdisk_protocol::frame::MAX_ENCODED` bytes. Returns the bytes written.
pub fn encode_control_request(
    seq: u32,
    req: &ControlRequest,
    out: &mut [u8],
) -> Result<usize, DecodeError> {
    let mut body = [0u8; MAX_PAYLOAD];
    let p = postcard::to_slice(req, &mut body).map_err(|_| DecodeError::BufferFull)?;
    encode_raw(&control_header(seq), p, out)
}

/// Encodes the answer to the control frame with header `request`.
pub fn encode_control_response(
    request: &Header,
    resp: &ControlResponse,
    out: &mut [u8],
) -> Result<usize, DecodeError> {
    let mut body = [0u8; MAX_PAYLOAD];
    let p = postcard::to_slice(resp, &mut body).map_err(|_| DecodeError::BufferFull)?;
    encode_raw(&control_answer_header(request), p, out)
}

/// Decodes the payload of a checked control request frame; trailing bytes are refused.
pub fn decode_control_request(
    header: &Header,
    payload: &[u8],
) -> Result<ControlRequest, DecodeError> {
    if header.frame_type != FrameType::ControlRequest {
        return Err(DecodeError::FrameType(header.frame_type as u8));
    }
    decode_exact(payload)
}

/// Decodes the payload of a checked control response frame; trailing bytes are refused.
pub fn decode_control_response(
    header: &Header,
    payload: &[u8],
) -> Result<ControlResponse, DecodeError> {
    if header.frame_type != FrameType::ControlResponse {
        return Err(DecodeError::FrameType(header.frame_type as u8));
    }
    decode_exact(payload)
}

fn decode_exact<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((v, [])) => Ok(v),
        _ => Err(DecodeError::Payload),
    }
}

/// A [`ControlResponse::Error`] with a message cut to fit.
pub fn control_error(msg: &str) -> ControlResponse {
    let mut s = heapless::String::<64>::new();
    for c in msg.chars() {
        if s.push(c).is_err() {
            break;
        }
    }
    ControlResponse::Error(s)
}

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
        let resp = match decode_control_request(&header, payload) {
            Ok(req) => {
                tracing::info!(?req, "control");
                let mut guard = lock_disk(&disk);
                match guard.as_mut() {
                    Some(d) => d.control(req),
                    None => return Answer::Close,
                }
            }
            Err(DecodeError::FrameType(t)) => {
                control_error(&format!("frame type {t} on the control port; expected 2"))
            }
            Err(_) => control_error("malformed control request"),
        };
        // Every ControlResponse fits a frame (bounded strings); 0 would mean no answer.
        Answer::Bytes(encode_control_response(&header, &resp, out).unwrap_or(0))
    });
}
