//! Framing. A frame is a fixed header, a postcard payload and a CRC-32, COBS-encoded and ended
//! by one `0x00` byte:
//!
//! ```text
//! offset  size  field
//!  0       1    version (= VERSION)
//!  1       1    frame type (0 request, 1 response, 2 control request, 3 control response)
//!  2       2    command id, little-endian (0 for control frames)
//!  4       4    sequence number, little-endian (the answer echoes the request's)
//!  8       4    host session id, little-endian (D14: the session holding the login)
//! 12       2    status, little-endian: 0 = ok, else a WireError code (responses only)
//! 14       4    detail, little-endian (e.g. PIN tries left with WrongPin)
//! 18       n    postcard payload (empty when status != 0)
//! 18+n     4    CRC-32/ISO-HDLC of bytes 0..18+n, little-endian
//! ```
//!
//! The decoded frame is at most [`MAX_FRAME`] bytes. [`FrameDecoder`] takes bytes in arbitrary
//! chunks (as USB bulk packets or TCP reads arrive) and resynchronizes at the next `0x00` after
//! garbage. Decoding never panics.

use crate::command::{CommandId, Request, Response};
use crate::error::{DecodeError, WireError};
use crc::{CRC_32_ISO_HDLC, Crc, Table};

/// Protocol version in every header.
pub const VERSION: u8 = 1;

/// Where each header field lies in a decoded frame: the table above, the one place that says
/// it. Multi-byte fields are little-endian.
pub mod field {
    use core::ops::Range;

    /// The protocol version byte.
    pub const VERSION: usize = 0;
    /// The frame type byte.
    pub const FRAME_TYPE: usize = 1;
    /// The command id.
    pub const COMMAND: Range<usize> = 2..4;
    /// The sequence number.
    pub const SEQ: Range<usize> = 4..8;
    /// The host session id.
    pub const SESSION: Range<usize> = 8..12;
    /// The status (0 = ok, else a wire error code).
    pub const STATUS: Range<usize> = 12..14;
    /// The error detail.
    pub const DETAIL: Range<usize> = 14..18;
}

/// Header length in bytes.
pub const HEADER_LEN: usize = field::DETAIL.end;
/// CRC length in bytes.
pub const CRC_LEN: usize = 4;
/// Largest decoded frame (header + payload + CRC).
pub const MAX_FRAME: usize = 1536;
/// Largest payload.
pub const MAX_PAYLOAD: usize = MAX_FRAME - HEADER_LEN - CRC_LEN;
/// Largest encoded frame on the wire, delimiter included.
pub const MAX_ENCODED: usize = cobs::max_encoding_length(MAX_FRAME) + 1;

/// The CRC's lookup table: slice-by-16 (16 KiB) on std builds (hosts and the simulator, where
/// every frame and journal record is checked several times per invoice); one 256-entry table
/// (1 KiB) on bare metal, where flash is scarce. Both compute the same CRC.
#[cfg(feature = "std")]
type CrcTable = Table<16>;
#[cfg(not(feature = "std"))]
type CrcTable = Table<1>;

static CRC: Crc<u32, CrcTable> = Crc::<u32, CrcTable>::new(&CRC_32_ISO_HDLC);

/// The CRC-32 the frames use (ISO-HDLC, as Ethernet and zlib).
pub fn crc32(bytes: &[u8]) -> u32 {
    CRC.checksum(bytes)
}

/// The CRC-32 of `parts` as if they were one slice.
pub fn crc32_of(parts: &[&[u8]]) -> u32 {
    let mut digest = CRC.digest();
    for part in parts {
        digest.update(part);
    }
    digest.finalize()
}

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FrameType {
    /// Host to disk: a [`Request`].
    Request = 0,
    /// Disk to host: a [`Response`] or a [`WireError`].
    Response = 1,
    /// Bench to simulator: a [`crate::control::ControlRequest`].
    ControlRequest = 2,
    /// Simulator to bench: a [`crate::control::ControlResponse`].
    ControlResponse = 3,
}

impl FrameType {
    fn from_u8(v: u8) -> Option<FrameType> {
        match v {
            0 => Some(FrameType::Request),
            1 => Some(FrameType::Response),
            2 => Some(FrameType::ControlRequest),
            3 => Some(FrameType::ControlResponse),
            _ => None,
        }
    }
}

/// The fixed header of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// What the frame carries.
    pub frame_type: FrameType,
    /// Command id (raw, so an unknown id can still be answered).
    pub command: u16,
    /// Sequence number.
    pub seq: u32,
    /// Host session id.
    pub session: u32,
    /// 0 = ok, else a [`WireError`] code.
    pub status: u16,
    /// Detail of an error (tries left, ...).
    pub detail: u32,
}

impl Header {
    /// A request header.
    pub const fn request(command: CommandId, seq: u32, session: u32) -> Header {
        Header {
            frame_type: FrameType::Request,
            command: command as u16,
            seq,
            session,
            status: 0,
            detail: 0,
        }
    }

    /// The header of the answer to `self` (same command, sequence and session).
    pub const fn answer(&self, status: u16, detail: u32) -> Header {
        let frame_type = match self.frame_type {
            FrameType::ControlRequest | FrameType::ControlResponse => FrameType::ControlResponse,
            _ => FrameType::Response,
        };
        Header {
            frame_type,
            command: self.command,
            seq: self.seq,
            session: self.session,
            status,
            detail,
        }
    }

    fn write(&self, out: &mut [u8; HEADER_LEN]) {
        out[field::VERSION] = VERSION;
        out[field::FRAME_TYPE] = self.frame_type as u8;
        out[field::COMMAND].copy_from_slice(&self.command.to_le_bytes());
        out[field::SEQ].copy_from_slice(&self.seq.to_le_bytes());
        out[field::SESSION].copy_from_slice(&self.session.to_le_bytes());
        out[field::STATUS].copy_from_slice(&self.status.to_le_bytes());
        out[field::DETAIL].copy_from_slice(&self.detail.to_le_bytes());
    }

    /// Reads the fields of a header of this layout from `h`, whatever its version byte.
    fn read(h: &[u8; HEADER_LEN]) -> Result<Header, DecodeError> {
        let ft = h[field::FRAME_TYPE];
        let frame_type = FrameType::from_u8(ft).ok_or(DecodeError::FrameType(ft))?;
        let u16_at = |r: core::ops::Range<usize>| u16::from_le_bytes([h[r.start], h[r.start + 1]]);
        let u32_at = |r: core::ops::Range<usize>| {
            let i = r.start;
            u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]])
        };
        Ok(Header {
            frame_type,
            command: u16_at(field::COMMAND),
            seq: u32_at(field::SEQ),
            session: u32_at(field::SESSION),
            status: u16_at(field::STATUS),
            detail: u32_at(field::DETAIL),
        })
    }
}

/// A disk's refusal: the error and its detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Refusal {
    /// The error.
    pub error: WireError,
    /// Detail (e.g. PIN tries left), 0 if none.
    pub detail: u32,
}

impl From<WireError> for Refusal {
    fn from(error: WireError) -> Refusal {
        Refusal { error, detail: 0 }
    }
}

/// Builds a frame from a header and an already encoded payload: header, payload and CRC are
/// COBS-encoded into `out` followed by the `0x00` delimiter. Returns the bytes written.
pub fn encode_raw(header: &Header, payload: &[u8], out: &mut [u8]) -> Result<usize, DecodeError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(DecodeError::Oversize);
    }
    let mut raw = [0u8; MAX_FRAME];
    let mut h = [0u8; HEADER_LEN];
    header.write(&mut h);
    raw[..HEADER_LEN].copy_from_slice(&h);
    let end = HEADER_LEN + payload.len();
    raw[HEADER_LEN..end].copy_from_slice(payload);
    let crc = crc32(&raw[..end]);
    raw[end..end + CRC_LEN].copy_from_slice(&crc.to_le_bytes());
    let raw = &raw[..end + CRC_LEN];
    if out.len() < cobs::max_encoding_length(raw.len()) + 1 {
        return Err(DecodeError::BufferFull);
    }
    let n = cobs::try_encode(raw, out).map_err(|_| DecodeError::BufferFull)?;
    out[n] = 0;
    Ok(n + 1)
}

/// Encodes a request frame.
pub fn encode_request(
    seq: u32,
    session: u32,
    req: &Request,
    out: &mut [u8],
) -> Result<usize, DecodeError> {
    let mut payload = [0u8; MAX_PAYLOAD];
    let p = req.encode_payload(&mut payload)?;
    encode_raw(&Header::request(req.id(), seq, session), p, out)
}

/// Encodes the answer to `request` (a header as decoded): the response body, or the refusal.
pub fn encode_response(
    request: &Header,
    result: &Result<Response, Refusal>,
    out: &mut [u8],
) -> Result<usize, DecodeError> {
    match result {
        Ok(resp) => {
            let mut payload = [0u8; MAX_PAYLOAD];
            let p = resp.encode_payload(&mut payload)?;
            encode_raw(&request.answer(0, 0), p, out)
        }
        Err(r) => encode_raw(&request.answer(r.error.code(), r.detail), &[], out),
    }
}

/// Checks a COBS-decoded frame: length, CRC, version and frame type. Returns the header and the
/// payload.
pub fn parse_raw(raw: &[u8]) -> Result<(Header, &[u8]), DecodeError> {
    match parse_raw_any_version(raw)? {
        (VERSION, header, payload) => Ok((header, payload)),
        (v, _, _) => Err(DecodeError::Version(v)),
    }
}

/// As [`parse_raw`], but a frame of another protocol version (read with this version's header
/// layout) is returned with its version byte instead of refused, so that a disk can answer it
/// with `UnsupportedVersion`. A bad version byte still wins over a bad frame type: a frame of
/// another version with an unknown frame type is [`DecodeError::Version`].
pub fn parse_raw_any_version(raw: &[u8]) -> Result<(u8, Header, &[u8]), DecodeError> {
    if raw.len() > MAX_FRAME {
        return Err(DecodeError::Oversize);
    }
    if raw.len() < HEADER_LEN + CRC_LEN {
        return Err(DecodeError::Truncated);
    }
    let (body, crc) = raw.split_at(raw.len() - CRC_LEN);
    let want = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32(body) != want {
        return Err(DecodeError::Crc);
    }
    let (h, payload) = body.split_at(HEADER_LEN);
    let mut fixed = [0u8; HEADER_LEN];
    fixed.copy_from_slice(h);
    let version = fixed[field::VERSION];
    match Header::read(&fixed) {
        Ok(header) => Ok((version, header, payload)),
        Err(_) if version != VERSION => Err(DecodeError::Version(version)),
        Err(e) => Err(e),
    }
}

/// Decodes one COBS-encoded frame (the trailing `0x00` may be present or not) into `scratch`
/// and checks it with [`parse_raw`].
pub fn decode_frame<'a>(
    encoded: &[u8],
    scratch: &'a mut [u8],
) -> Result<(Header, &'a [u8]), DecodeError> {
    match decode_frame_any_version(encoded, scratch)? {
        (VERSION, header, payload) => Ok((header, payload)),
        (v, _, _) => Err(DecodeError::Version(v)),
    }
}

/// As [`decode_frame`], but checks with [`parse_raw_any_version`]: a sound frame of another
/// protocol version comes back with its version byte.
pub fn decode_frame_any_version<'a>(
    encoded: &[u8],
    scratch: &'a mut [u8],
) -> Result<(u8, Header, &'a [u8]), DecodeError> {
    let encoded = match encoded.split_last() {
        Some((0, rest)) => rest,
        _ => encoded,
    };
    if encoded.len() > MAX_ENCODED - 1 {
        return Err(DecodeError::Oversize);
    }
    if encoded.is_empty() {
        return Err(DecodeError::Truncated);
    }
    if encoded.contains(&0) {
        return Err(DecodeError::Cobs);
    }
    let n = cobs::decode(encoded, scratch).map_err(|e| match e {
        cobs::DecodeError::TargetBufTooSmall => DecodeError::Oversize,
        _ => DecodeError::Cobs,
    })?;
    parse_raw_any_version(&scratch[..n.frame_size()])
}

/// Decodes a request from a checked header and payload. An unknown command or an undecodable
/// payload is a [`WireError`] the disk answers with (`UnknownCommand`, `Malformed`).
pub fn decode_request(header: &Header, payload: &[u8]) -> Result<Request, WireError> {
    let id = CommandId::from_u16(header.command).ok_or(WireError::UnknownCommand)?;
    Request::decode_payload(id, payload).map_err(|_| WireError::Malformed)
}

/// Decodes a response from a checked header and payload: the body, or the disk's refusal.
pub fn decode_response(
    header: &Header,
    payload: &[u8],
) -> Result<Result<Response, Refusal>, DecodeError> {
    let id =
        CommandId::from_u16(header.command).ok_or(DecodeError::UnknownCommand(header.command))?;
    if header.status != 0 {
        let error =
            WireError::from_code(header.status).ok_or(DecodeError::UnknownError(header.status))?;
        return Ok(Err(Refusal {
            error,
            detail: header.detail,
        }));
    }
    Response::decode_payload(id, payload).map(Ok)
}

/// A streaming frame decoder: feed it bytes as they arrive, in any chunks; it calls back once
/// per complete frame with the checked header and payload, or with the error of a bad frame, and
/// resynchronizes at the next `0x00`. Empty frames (repeated delimiters) are skipped silently, so
/// a sender may send a lone `0x00` to resynchronize the receiver.
#[derive(Debug)]
pub struct FrameDecoder<const N: usize = MAX_ENCODED> {
    buf: [u8; N],
    len: usize,
    overflow: bool,
}

impl<const N: usize> Default for FrameDecoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FrameDecoder<N> {
    /// An empty decoder.
    pub const fn new() -> Self {
        FrameDecoder {
            buf: [0; N],
            len: 0,
            overflow: false,
        }
    }

    /// Drops a partly received frame.
    pub fn reset(&mut self) {
        self.len = 0;
        self.overflow = false;
    }

    /// Bytes of a partial frame held.
    pub fn pending(&self) -> usize {
        self.len
    }

    /// Feeds bytes; calls `on_frame` for each frame completed by them.
    pub fn feed<F>(&mut self, data: &[u8], mut on_frame: F)
    where
        F: FnMut(Result<(Header, &[u8]), DecodeError>),
    {
        for &b in data {
            if b != 0 {
                if self.len < N {
                    self.buf[self.len] = b;
                    self.len += 1;
                } else {
                    self.overflow = true;
                }
                continue;
            }
            // Delimiter: a frame ends here.
            if self.overflow {
                self.reset();
                on_frame(Err(DecodeError::Oversize));
                continue;
            }
            if self.len == 0 {
                continue;
            }
            let n = self.len;
            self.len = 0;
            match cobs::decode_in_place(&mut self.buf[..n]) {
                Ok(m) => on_frame(parse_raw(&self.buf[..m])),
                Err(_) => on_frame(Err(DecodeError::Cobs)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Request;

    fn ping_frame() -> ([u8; MAX_ENCODED], usize) {
        let mut out = [0u8; MAX_ENCODED];
        let n = encode_request(7, 99, &Request::Ping(0xDEAD_BEEF), &mut out).unwrap();
        (out, n)
    }

    #[test]
    fn round_trip_ping() {
        let (out, n) = ping_frame();
        assert_eq!(out[n - 1], 0);
        assert!(!out[..n - 1].contains(&0));
        let mut scratch = [0u8; MAX_FRAME];
        let (h, p) = decode_frame(&out[..n], &mut scratch).unwrap();
        assert_eq!((h.seq, h.session, h.command), (7, 99, 1));
        assert_eq!(decode_request(&h, p), Ok(Request::Ping(0xDEAD_BEEF)));
    }

    #[test]
    fn flipped_crc_bit_is_a_crc_error() {
        // Flip a bit of the decoded CRC and re-encode, so COBS is valid but the CRC is not.
        let (out, n) = ping_frame();
        let mut raw = [0u8; MAX_FRAME];
        let m = cobs::decode(&out[..n - 1], &mut raw).unwrap().frame_size();
        raw[m - 1] ^= 0x01;
        let mut enc = [0u8; MAX_ENCODED];
        let e = cobs::encode(&raw[..m], &mut enc);
        let mut scratch = [0u8; MAX_FRAME];
        assert_eq!(
            decode_frame(&enc[..e], &mut scratch).err(),
            Some(DecodeError::Crc)
        );
    }

    #[test]
    fn truncated_oversize_and_garbage() {
        let mut scratch = [0u8; MAX_FRAME];
        assert_eq!(
            decode_frame(&[3, 1, 1], &mut scratch).err(),
            Some(DecodeError::Truncated)
        );
        let big = [1u8; MAX_ENCODED + 10];
        assert_eq!(
            decode_frame(&big, &mut scratch).err(),
            Some(DecodeError::Oversize)
        );
        assert_eq!(
            decode_frame(&[5, 1, 1], &mut scratch).err(),
            Some(DecodeError::Cobs)
        );
    }

    #[test]
    fn other_versions_are_refused_or_returned_with_their_version() {
        let (out, n) = ping_frame();
        let mut raw = [0u8; MAX_FRAME];
        let m = cobs::decode(&out[..n - 1], &mut raw).unwrap().frame_size();
        raw[field::VERSION] = VERSION + 1;
        let crc = crc32(&raw[..m - CRC_LEN]);
        raw[m - CRC_LEN..m].copy_from_slice(&crc.to_le_bytes());
        let mut enc = [0u8; MAX_ENCODED];
        let e = cobs::encode(&raw[..m], &mut enc);
        let mut scratch = [0u8; MAX_FRAME];
        assert_eq!(
            decode_frame(&enc[..e], &mut scratch).err(),
            Some(DecodeError::Version(VERSION + 1))
        );
        let (v, h, _) = decode_frame_any_version(&enc[..e], &mut scratch).unwrap();
        assert_eq!((v, h.seq, h.session, h.command), (VERSION + 1, 7, 99, 1));
        // Another version with an unknown frame type stays a version error.
        raw[field::FRAME_TYPE] = 9;
        let crc = crc32(&raw[..m - CRC_LEN]);
        raw[m - CRC_LEN..m].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(
            parse_raw_any_version(&raw[..m]).err(),
            Some(DecodeError::Version(VERSION + 1))
        );
        raw[field::VERSION] = VERSION;
        let crc = crc32(&raw[..m - CRC_LEN]);
        raw[m - CRC_LEN..m].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(parse_raw(&raw[..m]).err(), Some(DecodeError::FrameType(9)));
    }

    #[test]
    fn streaming_decoder_accepts_chunks_and_resyncs() {
        let (out, n) = ping_frame();
        let mut stream = [0u8; 2 * MAX_ENCODED];
        // garbage, delimiter, frame, frame
        let garbage = [9u8, 9, 9, 9, 0];
        stream[..5].copy_from_slice(&garbage);
        stream[5..5 + n].copy_from_slice(&out[..n]);
        stream[5 + n..5 + 2 * n].copy_from_slice(&out[..n]);
        let total = 5 + 2 * n;
        for chunk in [1usize, 3, 64, 512] {
            let mut dec = FrameDecoder::<MAX_ENCODED>::new();
            let (mut ok, mut bad) = (0, 0);
            for c in stream[..total].chunks(chunk) {
                dec.feed(c, |r| match r {
                    Ok((h, _)) => {
                        assert_eq!(h.seq, 7);
                        ok += 1
                    }
                    Err(_) => bad += 1,
                });
            }
            assert_eq!((ok, bad), (2, 1), "chunk size {chunk}");
        }
    }

    #[test]
    fn streaming_decoder_reports_oversize_then_recovers() {
        let mut dec = FrameDecoder::<64>::new();
        let mut seen = [None; 2];
        let mut i = 0;
        let (out, n) = ping_frame();
        assert!(n < 64);
        dec.feed(&[7u8; 100], |_| unreachable!());
        dec.feed(&[0], |r| {
            seen[i] = Some(r.err());
            i += 1
        });
        dec.feed(&out[..n], |r| {
            seen[i] = Some(r.err());
            i += 1
        });
        assert_eq!(seen, [Some(Some(DecodeError::Oversize)), Some(None)]);
    }
}
