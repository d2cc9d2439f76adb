//! [`ControlClient`]: a small blocking client of a simulator's control port over TCP (std
//! only), for the host's conformance suite, tests, benches and `taxdisk-sim control`. It speaks
//! only this module's wire and codec, so it drives any simulator that offers the channel.

use super::{ControlRequest, ControlResponse, answer_for, encode_request};
use crate::error::DecodeError;
use crate::frame::{FrameDecoder, MAX_ENCODED};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// How long [`ControlClient`] waits to connect and for each answer unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a control request got no usable answer.
#[derive(Debug)]
pub enum ControlClientError {
    /// Connecting, writing or reading failed.
    Io {
        /// What was being done.
        context: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The address resolves to nothing.
    NoAddress(String),
    /// No answer in time.
    Timeout(Duration),
    /// The simulator closed the connection before answering.
    Closed,
    /// The request did not encode or the answer did not decode.
    Frame(DecodeError),
}

impl core::fmt::Display for ControlClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ControlClientError::Io { context, source } => {
                write!(f, "control channel {context}: {source}")
            }
            ControlClientError::NoAddress(a) => {
                write!(f, "control address {a} resolves to nothing")
            }
            ControlClientError::Timeout(t) => {
                write!(f, "no control answer within {} ms", t.as_millis())
            }
            ControlClientError::Closed => {
                f.write_str("the simulator closed the control connection")
            }
            ControlClientError::Frame(e) => write!(f, "control frame: {e}"),
        }
    }
}

impl std::error::Error for ControlClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ControlClientError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> ControlClientError {
    move |source| ControlClientError::Io { context, source }
}

/// A connection to a simulator's control port.
#[derive(Debug)]
pub struct ControlClient {
    stream: TcpStream,
    decoder: Box<FrameDecoder<MAX_ENCODED>>,
    seq: u32,
    timeout: Option<Duration>,
}

impl ControlClient {
    /// Connects to the control port at `addr` (`host:port`), with [`DEFAULT_TIMEOUT`] for the
    /// connection and for each answer.
    pub fn connect(
        addr: impl ToSocketAddrs + ToString,
    ) -> Result<ControlClient, ControlClientError> {
        let mut last = None;
        for a in addr
            .to_socket_addrs()
            .map_err(io("resolving the address"))?
        {
            match TcpStream::connect_timeout(&a, DEFAULT_TIMEOUT) {
                Ok(stream) => {
                    stream.set_nodelay(true).map_err(io("setup"))?;
                    stream
                        .set_write_timeout(Some(DEFAULT_TIMEOUT))
                        .map_err(io("setup"))?;
                    return Ok(ControlClient {
                        stream,
                        decoder: Box::new(FrameDecoder::new()),
                        seq: 0,
                        timeout: Some(DEFAULT_TIMEOUT),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(source) => ControlClientError::Io {
                context: "connecting",
                source,
            },
            None => ControlClientError::NoAddress(addr.to_string()),
        })
    }

    /// Sets how long [`ControlClient::send`] waits for an answer (`None`: forever).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<(), ControlClientError> {
        self.timeout = timeout;
        Ok(())
    }

    /// Sends one request and waits for its answer (the frame echoing its sequence number;
    /// stale answers of earlier requests are skipped).
    pub fn send(&mut self, req: ControlRequest) -> Result<ControlResponse, ControlClientError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut frame = [0u8; MAX_ENCODED];
        let n = encode_request(seq, &req, &mut frame).map_err(ControlClientError::Frame)?;
        self.stream.write_all(&frame[..n]).map_err(io("writing"))?;
        let deadline = self.timeout.map(|t| (Instant::now() + t, t));
        let mut buf = [0u8; 1024];
        loop {
            let left = match deadline {
                None => None,
                Some((at, t)) => {
                    let left = at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ControlClientError::Timeout(t));
                    }
                    Some(left)
                }
            };
            self.stream.set_read_timeout(left).map_err(io("setup"))?;
            let got = match self.stream.read(&mut buf) {
                Ok(0) => return Err(ControlClientError::Closed),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    let t = deadline.map_or(Duration::ZERO, |(_, t)| t);
                    return Err(ControlClientError::Timeout(t));
                }
                Err(source) => {
                    return Err(ControlClientError::Io {
                        context: "reading",
                        source,
                    });
                }
            };
            let mut answer = None;
            self.decoder.feed(&buf[..got], |f| {
                if answer.is_none() {
                    answer = answer_for(seq, f);
                }
            });
            if let Some(a) = answer {
                // Bytes after the answer belong to no request of ours.
                self.decoder.reset();
                return a.map_err(ControlClientError::Frame);
            }
        }
    }
}
