//! The simulator's control channel: clock, power, faults and snapshots. Defined here so that a
//! host's conformance suite can drive any simulator that offers it.
//!
//! The wire is the disk protocol's framing ([`crate::frame`]) with frame type
//! [`FrameType::ControlRequest`] from the bench and [`FrameType::ControlResponse`] back, command
//! id [`CONTROL_COMMAND`] (0), the request's sequence number and session echoed, status 0, and
//! the postcard encoding of [`ControlRequest`] / [`ControlResponse`] as the payload (at most
//! [`MAX_PAYLOAD`] bytes, trailing bytes refused). The codec is the one both ends use:
//! [`encode_request`] / [`decode_request`] on the simulator's side, [`encode_response`] /
//! [`decode_response`] and [`answer_for`] (which frame of a stream answers which request) on the
//! bench's. Its errors are [`DecodeError`]s; nothing here panics on any input.
//!
//! A frame that fails its checks gets no answer. A checked frame of the wrong type or with a
//! payload that is not a [`ControlRequest`] is answered with [`ControlResponse::Error`], so a
//! bench sees at once that it talks to the wrong port or a different version.

#[cfg(feature = "std")]
pub mod client;

use crate::error::DecodeError;
use crate::frame::{FrameType, Header, MAX_PAYLOAD, encode_raw};
use crate::time::Timestamp;
use heapless::String;
use serde::de::DeserializeOwned;
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
    /// The answer is held back and sent in front of the next answer (a stale answer that
    /// arrives after the host gave up on it).
    LateAnswer,
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

impl core::fmt::Display for FrameFaultAction {
    /// The action's name, and its delay for [`FrameFaultAction::DelayAnswer`]:
    /// `DelayAnswer 50 ms`. The same in every language (a bench's word, as on the wire).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameFaultAction::DropAnswer => f.write_str("DropAnswer"),
            FrameFaultAction::DropRequest => f.write_str("DropRequest"),
            FrameFaultAction::CorruptAnswer => f.write_str("CorruptAnswer"),
            FrameFaultAction::DuplicateAnswer => f.write_str("DuplicateAnswer"),
            FrameFaultAction::DelayAnswer(ms) => write!(f, "DelayAnswer {ms} ms"),
            FrameFaultAction::LateAnswer => f.write_str("LateAnswer"),
        }
    }
}

impl core::fmt::Display for ControlRequest {
    /// The request's name and its value, for a person reading a bench's log or a failed
    /// check: `Advance 3600 s`, `SetClock 2026-11-10 10:00:00` (China time), `PowerCycle`.
    /// The same in every language.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ControlRequest::GetClock => f.write_str("GetClock"),
            ControlRequest::SetClock(t) => write!(f, "SetClock {t}"),
            ControlRequest::Advance(s) => write!(f, "Advance {s} s"),
            ControlRequest::RunFree(on) => write!(f, "RunFree {on}"),
            ControlRequest::PowerCycle => f.write_str("PowerCycle"),
            ControlRequest::Plug(on) => write!(f, "Plug {on}"),
            ControlRequest::PowerCutAfter(n) => write!(f, "PowerCutAfter {n}"),
            ControlRequest::FrameFault { nth, action } => write!(f, "FrameFault {nth} {action}"),
            ControlRequest::ClearFaults => f.write_str("ClearFaults"),
            ControlRequest::Snapshot(name) => write!(f, "Snapshot {name}"),
            ControlRequest::Restore(name) => write!(f, "Restore {name}"),
            ControlRequest::Latency(on) => write!(f, "Latency {on}"),
            ControlRequest::Stats => f.write_str("Stats"),
            ControlRequest::DropSnapshot(name) => write!(f, "DropSnapshot {name}"),
        }
    }
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

impl ControlResponse {
    /// A [`ControlResponse::Error`] with `msg`, cut at a character boundary to fit its 64 bytes.
    pub fn error(msg: &str) -> ControlResponse {
        let mut s = String::<64>::new();
        for c in msg.chars() {
            if s.push(c).is_err() {
                break;
            }
        }
        ControlResponse::Error(s)
    }
}

/// The command id of every control frame.
pub const CONTROL_COMMAND: u16 = 0;

/// The header of a control request with sequence number `seq` (session 0).
pub const fn request_header(seq: u32) -> Header {
    Header {
        frame_type: FrameType::ControlRequest,
        command: CONTROL_COMMAND,
        seq,
        session: 0,
        status: 0,
        detail: 0,
    }
}

/// The header answering a control frame with header `request`: its sequence number and session
/// echoed, status 0.
pub const fn answer_header(request: &Header) -> Header {
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
/// [`crate::frame::MAX_ENCODED`] bytes. Returns the bytes written.
pub fn encode_request(
    seq: u32,
    req: &ControlRequest,
    out: &mut [u8],
) -> Result<usize, DecodeError> {
    encode_body(&request_header(seq), req, out)
}

/// Encodes the answer to the control frame with header `request` (delimiter included) into
/// `out`. Returns the bytes written.
pub fn encode_response(
    request: &Header,
    resp: &ControlResponse,
    out: &mut [u8],
) -> Result<usize, DecodeError> {
    encode_body(&answer_header(request), resp, out)
}

fn encode_body<T: Serialize>(
    header: &Header,
    body: &T,
    out: &mut [u8],
) -> Result<usize, DecodeError> {
    let mut buf = [0u8; MAX_PAYLOAD];
    let p = postcard::to_slice(body, &mut buf).map_err(|_| DecodeError::BufferFull)?;
    encode_raw(header, p, out)
}

/// Decodes the payload of a checked control request frame. A frame of another type is
/// [`DecodeError::FrameType`]; a payload that is not exactly one [`ControlRequest`] (trailing
/// bytes included) is [`DecodeError::Payload`].
pub fn decode_request(header: &Header, payload: &[u8]) -> Result<ControlRequest, DecodeError> {
    if header.frame_type != FrameType::ControlRequest {
        return Err(DecodeError::FrameType(header.frame_type as u8));
    }
    decode_exact(payload)
}

/// Decodes the payload of a checked control response frame. A frame of another type is
/// [`DecodeError::FrameType`]; a payload that is not exactly one [`ControlResponse`] (trailing
/// bytes included) is [`DecodeError::Payload`].
pub fn decode_response(header: &Header, payload: &[u8]) -> Result<ControlResponse, DecodeError> {
    if header.frame_type != FrameType::ControlResponse {
        return Err(DecodeError::FrameType(header.frame_type as u8));
    }
    decode_exact(payload)
}

/// What a frame received on a control connection (as [`crate::frame::FrameDecoder`] reports it)
/// says about the request with sequence number `seq`: `None` for a checked frame answering
/// another request (a stale answer, skipped), else the decoded answer, or the error of a bad
/// frame or of a checked frame that is not a [`ControlResponse`].
pub fn answer_for(
    seq: u32,
    frame: Result<(Header, &[u8]), DecodeError>,
) -> Option<Result<ControlResponse, DecodeError>> {
    match frame {
        Ok((h, _)) if h.seq != seq => None,
        Ok((h, p)) => Some(decode_response(&h, p)),
        Err(e) => Some(Err(e)),
    }
}

fn decode_exact<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((v, [])) => Ok(v),
        _ => Err(DecodeError::Payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{MAX_ENCODED, MAX_FRAME, decode_frame};

    fn all_requests() -> [ControlRequest; 15] {
        let name = || String::<32>::try_from("before-issue").unwrap();
        [
            ControlRequest::GetClock,
            ControlRequest::SetClock(Timestamp(1_700_000_000)),
            ControlRequest::Advance(86_400),
            ControlRequest::RunFree(true),
            ControlRequest::PowerCycle,
            ControlRequest::Plug(false),
            ControlRequest::PowerCutAfter(3),
            ControlRequest::FrameFault {
                nth: 2,
                action: FrameFaultAction::DelayAnswer(250),
            },
            ControlRequest::FrameFault {
                nth: 1,
                action: FrameFaultAction::CorruptAnswer,
            },
            ControlRequest::ClearFaults,
            ControlRequest::Snapshot(name()),
            ControlRequest::Restore(name()),
            ControlRequest::Latency(true),
            ControlRequest::Stats,
            ControlRequest::DropSnapshot(name()),
        ]
    }

    fn decoded(frame: &[u8]) -> Result<(Header, [u8; MAX_FRAME], usize), DecodeError> {
        let mut scratch = [0u8; MAX_FRAME];
        let (h, p) = decode_frame(frame, &mut scratch)?;
        let mut copy = [0u8; MAX_FRAME];
        copy[..p.len()].copy_from_slice(p);
        Ok((h, copy, p.len()))
    }

    #[test]
    fn requests_and_responses_round_trip() {
        let responses = [
            ControlResponse::Ok,
            ControlResponse::Clock(Timestamp(1_700_000_000)),
            ControlResponse::Stats(SimStats {
                flash_reads: 1,
                flash_programs: 2,
                flash_erases: 3,
                frames: 4,
                power_cycles: 5,
            }),
            ControlResponse::error("no snapshot named x"),
        ];
        for (i, req) in all_requests().iter().enumerate() {
            let seq = 100 + i as u32;
            let mut out = [0u8; MAX_ENCODED];
            let n = encode_request(seq, req, &mut out).unwrap();
            let (h, p, len) = decoded(&out[..n]).unwrap();
            assert_eq!(h, request_header(seq));
            assert_eq!(decode_request(&h, &p[..len]).as_ref(), Ok(req));
            for resp in &responses {
                let n = encode_response(&h, resp, &mut out).unwrap();
                let (a, p, len) = decoded(&out[..n]).unwrap();
                assert_eq!(a, answer_header(&h));
                assert_eq!(a.seq, seq);
                assert_eq!(answer_for(seq, Ok((a, &p[..len]))), Some(Ok(resp.clone())));
                assert_eq!(answer_for(seq + 1, Ok((a, &p[..len]))), None);
            }
        }
    }

    #[test]
    fn wrong_frame_type_and_bad_payloads_are_errors() {
        let req = request_header(1);
        let resp = answer_header(&req);
        assert_eq!(decode_request(&resp, &[0]), Err(DecodeError::FrameType(3)));
        assert_eq!(decode_response(&req, &[0]), Err(DecodeError::FrameType(2)));
        // Empty, unknown variant, trailing bytes, truncated string.
        for bad in [&[][..], &[0xFF][..], &[0, 0][..], &[10, 5, b'a'][..]] {
            assert_eq!(
                decode_request(&req, bad),
                Err(DecodeError::Payload),
                "{bad:?}"
            );
            assert_eq!(
                decode_response(&resp, bad),
                Err(DecodeError::Payload),
                "{bad:?}"
            );
        }
        assert_eq!(
            answer_for(1, Err(DecodeError::Crc)),
            Some(Err(DecodeError::Crc))
        );
        assert_eq!(
            answer_for(1, Ok((req, &[0][..]))),
            Some(Err(DecodeError::FrameType(2)))
        );
    }

    #[test]
    fn truncated_oversize_and_garbage_frames_are_errors() {
        let mut out = [0u8; MAX_ENCODED];
        let n = encode_request(7, &ControlRequest::Advance(60), &mut out).unwrap();
        // Every prefix of the frame is refused by the framing, never a panic.
        for cut in 0..n - 1 {
            assert!(decoded(&out[..cut]).is_err(), "cut at {cut}");
        }
        let big = [1u8; MAX_ENCODED + 10];
        assert_eq!(decoded(&big).err(), Some(DecodeError::Oversize));
        // Garbage that survives the framing is refused by the codec.
        for seed in 0u8..=255 {
            let garbage = [seed, seed.wrapping_mul(7), 3, seed ^ 0x5A];
            let _ = decode_request(&request_header(1), &garbage);
            let _ = decode_response(&answer_header(&request_header(1)), &garbage);
        }
        // An output buffer too small for the frame is a clear error.
        let mut small = [0u8; 8];
        assert_eq!(
            encode_request(7, &ControlRequest::Advance(60), &mut small),
            Err(DecodeError::BufferFull)
        );
    }

    #[test]
    fn error_messages_are_cut_to_fit() {
        // 40 characters of 3 bytes each: 120 bytes, cut to 21 characters (63 bytes).
        let long =
            "数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数数";
        match ControlResponse::error(long) {
            ControlResponse::Error(s) => {
                assert_eq!(s.len(), 63);
                assert!(long.starts_with(s.as_str()));
            }
            other => panic!("{other:?}"),
        }
        // Every response fits a frame.
        let mut out = [0u8; MAX_ENCODED];
        let max = ControlResponse::error(long);
        assert!(encode_response(&request_header(1), &max, &mut out).is_ok());
    }
}
