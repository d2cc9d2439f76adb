//! How frames reach a disk. A [`Transport`] sends one encoded request frame and receives the
//! disk's answer frames; it knows nothing about commands, sequence numbers or retries (that is
//! [`crate::disk::DiskClient`]'s job).
//!
//! - [`inproc`]: any [`FrameHandler`](taxdisk_protocol::FrameHandler) in the same process (the
//!   simulator's `SimDisk`), over encoded frames so the whole codec is exercised; called on the
//!   caller's thread ([`InProcess`]) or answering on its own ([`Threaded`], pipelined).
//! - [`tcp`]: a disk served on TCP (`taxdisk-sim serve`), COBS frames on the stream.
//! - [`usb`]: a disk on USB through rusb (vendored libusb): one bulk OUT, one bulk IN endpoint.
//! - [`fault`]: a [`FrameHandler`](taxdisk_protocol::FrameHandler) wrapper that drops, corrupts,
//!   duplicates and delays answers, for reliability tests of the client.
//!
//! Every transport decodes what it receives with the protocol's streaming
//! [`FrameDecoder`] (through [`FrameAssembler`]), so a stream of
//! bytes in any chunking becomes whole, CRC-checked frames, and garbage becomes
//! [`TransportError::BadFrame`] rather than a panic.

pub mod fault;
pub mod inproc;
pub mod tcp;
pub mod usb;

use std::collections::VecDeque;
use std::time::Duration;
use taxdisk_protocol::frame::{FrameDecoder, MAX_ENCODED};
use taxdisk_protocol::{DecodeError, Header};

pub use inproc::{InProcess, Threaded};
pub use tcp::TcpTransport;
pub use usb::{UsbDiskInfo, UsbSelector, UsbTransport};

/// One received frame whose COBS encoding, length, CRC, version and frame type were checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The checked header.
    pub header: Header,
    /// The payload (postcard bytes; empty for a refusal).
    pub payload: Vec<u8>,
}

impl Frame {
    /// The frame re-encoded as it was on the wire, delimiter included (empty if it cannot be:
    /// a payload longer than a frame, which a checked frame never has).
    pub fn encoded(&self) -> Vec<u8> {
        let mut out = vec![0u8; MAX_ENCODED];
        match taxdisk_protocol::frame::encode_raw(&self.header, &self.payload, &mut out) {
            Ok(n) => {
                out.truncate(n);
                out
            }
            Err(_) => Vec::new(),
        }
    }

    /// [`Frame::encoded`] in lower-case hex.
    pub fn encoded_hex(&self) -> String {
        hex::encode(self.encoded())
    }
}

/// Why a transport could not carry a frame.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// No disk is there (not plugged in, nothing listening). The text is one line for a person.
    #[error("{0}")]
    NoDevice(String),
    /// Nothing arrived within the timeout.
    #[error("no answer from the disk within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The link broke (unplugged, connection closed); the next send reconnects.
    #[error("the disk disconnected: {0}")]
    Disconnected(String),
    /// Bytes arrived but did not form a valid frame (corrupted, truncated, oversize).
    #[error("bad frame from the disk: {0}")]
    BadFrame(DecodeError),
    /// A frame to send is longer than the largest encoded frame.
    #[error("frame of {0} bytes is longer than the largest frame ({MAX_ENCODED} bytes)")]
    Oversize(usize),
    /// An I/O error other than a disconnect.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A USB error other than "no device" (permissions, busy interface, libusb unavailable).
    #[error("USB: {0}")]
    Usb(String),
}

impl TransportError {
    /// Whether resending (after a reconnect) may help: timeouts, disconnects, bad frames and
    /// I/O errors. `NoDevice`, `Oversize` and USB setup errors are not retried.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TransportError::Timeout(_)
                | TransportError::Disconnected(_)
                | TransportError::BadFrame(_)
                | TransportError::Io { .. }
        )
    }
}

/// A link to one disk, carrying encoded frames.
pub trait Transport {
    /// Sends one COBS-encoded frame (with its `0x00` delimiter). Connects first if the link is
    /// down (lazy reconnect after an error).
    fn send(&mut self, frame: &[u8]) -> Result<(), TransportError>;

    /// Receives the next frame, waiting at most `timeout`. Frames that arrived earlier (late
    /// answers, duplicates) come first, in order; the caller discards what it did not ask for.
    fn recv(&mut self, timeout: Duration) -> Result<Frame, TransportError>;

    /// Drops whatever was received and not yet returned, closes the link and opens it again.
    fn reconnect(&mut self) -> Result<(), TransportError>;

    /// Where the disk is, for messages (`tcp 127.0.0.1:7000`, `usb bus 1 address 4`, ...).
    fn describe(&self) -> String;

    /// How many requests may travel before their answers
    /// ([`DiskClient::issue_pipelined`](crate::disk::DiskClient::issue_pipelined)). 1 by
    /// default: a disk on USB takes one request at a time. Links that buffer (a TCP stream)
    /// answer more, so the round trip hides behind the disk's signing.
    fn pipeline_depth(&self) -> usize {
        1
    }

    /// The disk's own work, where the disk runs in this process ([`InProcess`], [`Threaded`]):
    /// the frames it was given since the link was made and the time it took to answer them
    /// (decoding, the firmware, the signature, encoding). `None` for a disk elsewhere (TCP,
    /// USB), whose time this process cannot see.
    fn disk_work(&self) -> Option<DiskWork> {
        None
    }
}

/// What a disk in this process did ([`Transport::disk_work`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskWork {
    /// Frames it was given.
    pub frames: u64,
    /// The time it spent answering them.
    pub busy: Duration,
}

impl DiskWork {
    /// What was done after `earlier` (a reading of the same link).
    pub fn since(self, earlier: DiskWork) -> DiskWork {
        DiskWork {
            frames: self.frames.saturating_sub(earlier.frames),
            busy: self.busy.saturating_sub(earlier.busy),
        }
    }

    /// Both together.
    pub fn plus(self, other: DiskWork) -> DiskWork {
        DiskWork {
            frames: self.frames.saturating_add(other.frames),
            busy: self.busy.saturating_add(other.busy),
        }
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&mut self, frame: &[u8]) -> Result<(), TransportError> {
        (**self).send(frame)
    }
    fn recv(&mut self, timeout: Duration) -> Result<Frame, TransportError> {
        (**self).recv(timeout)
    }
    fn reconnect(&mut self) -> Result<(), TransportError> {
        (**self).reconnect()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn pipeline_depth(&self) -> usize {
        (**self).pipeline_depth()
    }
    fn disk_work(&self) -> Option<DiskWork> {
        (**self).disk_work()
    }
}

/// Where a disk is, as a user writes it (CLI flag, settings): `tcp:HOST:PORT` (also
/// `tcp://HOST:PORT`), `usb` (the first disk), `usb:serial=SERIAL` or `usb:bus=B,address=A`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportSpec {
    /// A disk served on TCP at this address.
    Tcp(String),
    /// A disk on USB.
    Usb(UsbSelector),
}

impl std::str::FromStr for TransportSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "disk address {s:?}: use tcp:HOST:PORT, usb, usb:serial=SERIAL or \
                 usb:bus=B,address=A"
            )
        };
        if let Some(addr) = s.strip_prefix("tcp://").or_else(|| s.strip_prefix("tcp:")) {
            let ok = addr
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            return if ok {
                Ok(TransportSpec::Tcp(addr.to_string()))
            } else {
                Err(bad())
            };
        }
        if s == "usb" {
            return Ok(TransportSpec::Usb(UsbSelector::First));
        }
        let Some(rest) = s.strip_prefix("usb:") else {
            return Err(bad());
        };
        if let Some(serial) = rest.strip_prefix("serial=") {
            return if serial.is_empty() {
                Err(bad())
            } else {
                Ok(TransportSpec::Usb(UsbSelector::Serial(serial.to_string())))
            };
        }
        let mut bus = None;
        let mut address = None;
        for part in rest.split(',') {
            match part.split_once('=') {
                Some(("bus", v)) => bus = v.parse::<u8>().ok(),
                Some(("address", v)) => address = v.parse::<u8>().ok(),
                _ => return Err(bad()),
            }
        }
        match (bus, address) {
            (Some(bus), Some(address)) => {
                Ok(TransportSpec::Usb(UsbSelector::BusAddress { bus, address }))
            }
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for TransportSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportSpec::Tcp(a) => write!(f, "tcp:{a}"),
            TransportSpec::Usb(UsbSelector::First) => f.write_str("usb"),
            TransportSpec::Usb(UsbSelector::Serial(s)) => write!(f, "usb:serial={s}"),
            TransportSpec::Usb(UsbSelector::BusAddress { bus, address }) => {
                write!(f, "usb:bus={bus},address={address}")
            }
        }
    }
}

/// Opens the transport a [`TransportSpec`] names.
pub fn open(spec: &TransportSpec) -> Result<Box<dyn Transport + Send>, TransportError> {
    Ok(match spec {
        TransportSpec::Tcp(addr) => Box::new(TcpTransport::connect(addr)?),
        TransportSpec::Usb(sel) => Box::new(UsbTransport::open(sel.clone())?),
    })
}

/// Most decoded frames an assembler keeps before dropping the oldest: a peer flooding answers
/// cannot make the host's memory grow.
pub const MAX_QUEUED_FRAMES: usize = 64;

/// Turns a byte stream arriving in arbitrary chunks (TCP reads, USB bulk packets, an in-process
/// answer buffer) into a queue of checked frames, with the protocol's [`FrameDecoder`]. A bad
/// frame is queued as its [`DecodeError`] so the receiver learns that an answer was lost.
#[derive(Debug, Default)]
pub struct FrameAssembler {
    decoder: FrameDecoder<MAX_ENCODED>,
    queue: VecDeque<Result<Frame, DecodeError>>,
}

impl FrameAssembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds received bytes; completed frames join the queue.
    pub fn feed(&mut self, bytes: &[u8]) {
        let queue = &mut self.queue;
        self.decoder.feed(bytes, |r| {
            if queue.len() >= MAX_QUEUED_FRAMES {
                queue.pop_front();
            }
            queue.push_back(r.map(|(header, payload)| Frame {
                header,
                payload: payload.to_vec(),
            }));
        });
    }

    /// The oldest completed frame (or bad-frame error), if any.
    pub fn pop(&mut self) -> Option<Result<Frame, DecodeError>> {
        self.queue.pop_front()
    }

    /// Completed frames waiting.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Bytes of a partly received frame.
    pub fn partial(&self) -> usize {
        self.decoder.pending()
    }

    /// Forgets queued frames and any partial frame (after a reconnect).
    pub fn clear(&mut self) {
        self.decoder.reset();
        self.queue.clear();
    }

    /// Pops the next frame as a transport result.
    pub(crate) fn pop_result(&mut self) -> Option<Result<Frame, TransportError>> {
        self.pop().map(|r| r.map_err(TransportError::BadFrame))
    }
}

/// Checks the length of a frame about to be sent.
pub(crate) fn check_len(frame: &[u8]) -> Result<(), TransportError> {
    if frame.len() > MAX_ENCODED {
        Err(TransportError::Oversize(frame.len()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taxdisk_protocol::Request;
    use taxdisk_protocol::frame::encode_request;

    #[test]
    fn assembler_splits_a_stream_and_reports_garbage() {
        let mut buf = [0u8; MAX_ENCODED];
        let n = encode_request(5, 9, &Request::Ping(1), &mut buf).unwrap();
        let mut stream = vec![1u8, 2, 3, 0];
        stream.extend_from_slice(&buf[..n]);
        stream.extend_from_slice(&buf[..n]);
        let mut a = FrameAssembler::new();
        for c in stream.chunks(7) {
            a.feed(c);
        }
        assert!(matches!(a.pop(), Some(Err(_))));
        assert_eq!(a.pop().unwrap().unwrap().header.seq, 5);
        assert_eq!(a.pop().unwrap().unwrap().header.seq, 5);
        assert!(a.pop().is_none());
    }

    #[test]
    fn transport_specs_parse_and_print_back() {
        for s in [
            "tcp:127.0.0.1:7000",
            "usb",
            "usb:serial=661234567890",
            "usb:bus=1,address=4",
        ] {
            let spec: TransportSpec = s.parse().unwrap();
            assert_eq!(spec.to_string(), s);
        }
        assert_eq!(
            "tcp://localhost:1".parse::<TransportSpec>(),
            Ok(TransportSpec::Tcp("localhost:1".into()))
        );
        for bad in [
            "",
            "tcp:",
            "tcp:host",
            "tcp:host:99999",
            "usb:",
            "usb:bus=1",
            "serial",
        ] {
            assert!(bad.parse::<TransportSpec>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn assembler_queue_is_bounded() {
        let mut buf = [0u8; MAX_ENCODED];
        let n = encode_request(1, 1, &Request::Ping(1), &mut buf).unwrap();
        let mut a = FrameAssembler::new();
        for _ in 0..MAX_QUEUED_FRAMES + 10 {
            a.feed(&buf[..n]);
        }
        assert_eq!(a.queued(), MAX_QUEUED_FRAMES);
    }
}
