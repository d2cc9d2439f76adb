//! [`ControlClient`]: a small blocking client of a simulator's control port, for tests, benches
//! and `taxdisk-sim control`. It speaks only the wire and codec of `taxdisk_protocol::control`,
//! so it drives any simulator that offers the channel.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;
use taxdisk_protocol::control::{self, ControlRequest, ControlResponse};
use taxdisk_protocol::frame::MAX_ENCODED;
use taxdisk_protocol::{DecodeError, FrameDecoder};

/// How long [`ControlClient`] waits for a connection and for each answer unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a control request got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ControlClientError {
    /// Connecting, writing or reading failed (a timeout included).
    #[error("control channel: {0}")]
    Io(#[from] std::io::Error),
    /// The address did not resolve to anything.
    #[error("control address resolves to nothing")]
    NoAddress,
    /// The request could not be encoded.
    #[error("control request does not encode: {0:?}")]
    Encode(DecodeError),
    /// The simulator closed the connection before answering.
    #[error("the simulator closed the control connection")]
    Closed,
    /// The answer was not a control response frame.
    #[error("bad control answer: {0:?}")]
    BadAnswer(DecodeError),
}

/// A connection to a simulator's control port.
#[derive(Debug)]
pub struct ControlClient {
    stream: TcpStream,
    decoder: Box<FrameDecoder<MAX_ENCODED>>,
    seq: u32,
}

impl ControlClient {
    /// Connects to the control port at `addr`, with [`DEFAULT_TIMEOUT`] for the connection and
    /// for each answer.
    pub fn connect(addr: impl ToSocketAddrs) -> Result<ControlClient, ControlClientError> {
        let mut last = None;
        for a in addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&a, DEFAULT_TIMEOUT) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
                    stream.set_write_timeout(Some(DEFAULT_TIMEOUT))?;
                    return Ok(ControlClient {
                        stream,
                        decoder: Box::new(FrameDecoder::new()),
                        seq: 0,
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.map_or(ControlClientError::NoAddress, ControlClientError::Io))
    }

    /// Sets how long [`ControlClient::send`] waits for an answer (`None`: forever).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<(), ControlClientError> {
        self.stream.set_read_timeout(timeout)?;
        Ok(())
    }

    /// Sends one request and waits for its answer (the frame echoing its sequence number;
    /// stale answers of earlier requests are skipped).
    pub fn send(&mut self, req: ControlRequest) -> Result<ControlResponse, ControlClientError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut frame = [0u8; MAX_ENCODED];
        let n =
            control::encode_request(seq, &req, &mut frame).map_err(ControlClientError::Encode)?;
        self.stream.write_all(&frame[..n])?;
        let mut buf = [0u8; 1024];
        loop {
            let got = match self.stream.read(&mut buf) {
                Ok(0) => return Err(ControlClientError::Closed),
                Ok(got) => got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            let mut answer = None;
            self.decoder.feed(&buf[..got], |f| {
                if answer.is_none() {
                    answer = control::answer_for(seq, f);
                }
            });
            if let Some(a) = answer {
                // Bytes after the answer belong to no request of ours.
                self.decoder.reset();
                return a.map_err(ControlClientError::BadAnswer);
            }
        }
    }
}
