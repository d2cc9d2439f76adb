//! [`Control`]: the simulator's control channel (clock, power, faults) as the conformance suite
//! and trace replay use it,
//! with an implementation over a TCP control port ([`TcpControl`]) and one over an in-process
//! closure ([`FnControl`]). The wire and its codec are `taxdisk_protocol::control`'s: frames of
//! type `ControlRequest` / `ControlResponse`, command id 0, the request's sequence number
//! echoed, and the postcard encoding of [`ControlRequest`] / [`ControlResponse`].

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};
use taxdisk_protocol::control::{self, ControlRequest, ControlResponse};
use taxdisk_protocol::frame::MAX_ENCODED;
use taxdisk_protocol::{DecodeError, FrameDecoder};

/// How long [`TcpControl`] waits to connect and for each answer.
pub const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a control request got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Connecting, writing or reading failed.
    #[error("control channel {context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The address resolves to nothing.
    #[error("control address {0} resolves to nothing")]
    NoAddress(String),
    /// No answer in time.
    #[error("no control answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The simulator closed the connection.
    #[error("the simulator closed the control connection")]
    Closed,
    /// The request did not encode or the answer did not decode.
    #[error("control frame: {0}")]
    Frame(DecodeError),
}

/// Sends control requests to a simulator.
pub trait Control {
    /// Sends one request and returns the simulator's answer.
    fn control(&mut self, req: ControlRequest) -> Result<ControlResponse, ControlError>;
}

/// A control channel that is a closure, e.g. over an in-process `SimDisk::control`.
pub struct FnControl<F>(pub F);

impl<F> std::fmt::Debug for FnControl<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnControl(..)")
    }
}

impl<F: FnMut(ControlRequest) -> ControlResponse> Control for FnControl<F> {
    fn control(&mut self, req: ControlRequest) -> Result<ControlResponse, ControlError> {
        Ok((self.0)(req))
    }
}

/// A simulator's control port on TCP.
#[derive(Debug)]
pub struct TcpControl {
    stream: TcpStream,
    decoder: Box<FrameDecoder<MAX_ENCODED>>,
    seq: u32,
    timeout: Duration,
}

impl TcpControl {
    /// Connects to the control port at `addr` (`host:port`).
    pub fn connect(addr: &str) -> Result<TcpControl, ControlError> {
        let addrs = addr.to_socket_addrs().map_err(|source| ControlError::Io {
            context: "resolving the address",
            source,
        })?;
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, CONTROL_TIMEOUT) {
                Ok(stream) => {
                    let io = |context| move |source| ControlError::Io { context, source };
                    stream.set_nodelay(true).map_err(io("setup"))?;
                    stream
                        .set_write_timeout(Some(CONTROL_TIMEOUT))
                        .map_err(io("setup"))?;
                    return Ok(TcpControl {
                        stream,
                        decoder: Box::new(FrameDecoder::new()),
                        seq: 0,
                        timeout: CONTROL_TIMEOUT,
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(source) => ControlError::Io {
                context: "connecting",
                source,
            },
            None => ControlError::NoAddress(addr.to_string()),
        })
    }
}

impl Control for TcpControl {
    fn control(&mut self, req: ControlRequest) -> Result<ControlResponse, ControlError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut frame = [0u8; MAX_ENCODED];
        let n = control::encode_request(seq, &req, &mut frame).map_err(ControlError::Frame)?;
        self.stream
            .write_all(&frame[..n])
            .map_err(|source| ControlError::Io {
                context: "writing",
                source,
            })?;
        let deadline = Instant::now() + self.timeout;
        let mut buf = [0u8; 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ControlError::Timeout(self.timeout));
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|source| ControlError::Io {
                    context: "setup",
                    source,
                })?;
            let got = match self.stream.read(&mut buf) {
                Ok(0) => return Err(ControlError::Closed),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(ControlError::Timeout(self.timeout));
                }
                Err(source) => {
                    return Err(ControlError::Io {
                        context: "reading",
                        source,
                    });
                }
            };
            let mut answer = None;
            self.decoder.feed(&buf[..got], |f| {
                if answer.is_none() {
                    answer = control::answer_for(seq, f);
                }
            });
            if let Some(a) = answer {
                self.decoder.reset();
                return a.map_err(ControlError::Frame);
            }
        }
    }
}
