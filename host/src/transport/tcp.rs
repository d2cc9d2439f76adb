//! The TCP transport: a disk served by `taxdisk-sim serve` (or any server speaking the same
//! stream). Frames travel as they are, COBS-encoded and delimited by `0x00`, in both directions;
//! received bytes go through the protocol's streaming decoder. The connection is opened lazily
//! and reopened on the next send after any error, so a restarted server is picked up again.

use super::{Frame, FrameAssembler, Transport, TransportError, check_len};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Default time allowed to open the connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Longest a send may block on a peer that does not read.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Requests [`DiskClient::issue_pipelined`](crate::disk::DiskClient::issue_pipelined) keeps in
/// flight on TCP: a batch of 64 is in flight whole. A batch's parts are as long as this
/// ([`Workflow::issue_batch`](crate::workflow::Workflow::issue_batch)), so the disk signs one
/// part's requests while the host prepares and records the next. At 4 the disk sat idle while
/// the host prepared a part of 16: batches of 64 over TCP loopback at 33 to 37 % of raw
/// signing, against 36 to 42 % at 32 and 41 to 43 % at 64 (BENCHMARKS.md "2026-12-07 (j)").
/// A lost answer still costs one resend (the request id makes it safe whatever was handled
/// since; the disk's idempotency window is 1,024 events), and the answers that arrive before
/// it are kept for their turn: at most `PIPELINE_DEPTH - 1`, half the client's room for them.
pub const PIPELINE_DEPTH: usize = 64;

const _: () = assert!(2 * PIPELINE_DEPTH <= crate::disk::MAX_EARLY);

/// Longest one read of the socket blocks; a longer wait for an answer is several reads, each
/// checking the caller's deadline. The socket's read timeout is set (a system call) only when
/// it changes: once per connection while waits are longer than this, and again for each read
/// of a wait's last slice. Setting it to the time left before every read was a system call
/// for nearly every answer of a pipelined batch.
const READ_SLICE: Duration = Duration::from_millis(50);

/// A disk on TCP.
#[derive(Debug)]
pub struct TcpTransport {
    addr: String,
    connect_timeout: Duration,
    stream: Option<TcpStream>,
    /// The read timeout set on `stream` (none yet: a fresh connection).
    read_timeout: Option<Duration>,
    assembler: FrameAssembler,
    buf: Vec<u8>,
}

impl TcpTransport {
    /// Connects to `addr` (`host:port`). Nothing listening there is
    /// [`TransportError::NoDevice`].
    pub fn connect(addr: &str) -> Result<Self, TransportError> {
        Self::connect_with_timeout(addr, CONNECT_TIMEOUT)
    }

    /// Connects with a given connect timeout.
    pub fn connect_with_timeout(addr: &str, timeout: Duration) -> Result<Self, TransportError> {
        let mut t = TcpTransport {
            addr: addr.to_string(),
            connect_timeout: timeout,
            stream: None,
            read_timeout: None,
            assembler: FrameAssembler::new(),
            buf: vec![0; 4096],
        };
        t.open()?;
        Ok(t)
    }

    /// The address given to [`connect`](Self::connect).
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether a connection is open now.
    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    fn resolve(&self) -> Result<Vec<SocketAddr>, TransportError> {
        let addrs: Vec<SocketAddr> = self
            .addr
            .to_socket_addrs()
            .map_err(|e| {
                TransportError::NoDevice(format!(
                    "no tax disk at {}: the address does not resolve ({e})",
                    self.addr
                ))
            })?
            .collect();
        if addrs.is_empty() {
            return Err(TransportError::NoDevice(format!(
                "no tax disk at {}: the address does not resolve",
                self.addr
            )));
        }
        Ok(addrs)
    }

    fn open(&mut self) -> Result<(), TransportError> {
        self.close();
        let mut last = None;
        for a in self.resolve()? {
            match TcpStream::connect_timeout(&a, self.connect_timeout) {
                Ok(s) => {
                    // Frames are small and answered one by one: send each at once.
                    s.set_nodelay(true)
                        .map_err(|e| io("setting TCP_NODELAY", e))?;
                    // A peer that stops reading must not block a send forever.
                    s.set_write_timeout(Some(WRITE_TIMEOUT))
                        .map_err(|e| io("setting the write timeout", e))?;
                    tracing::debug!(addr = %a, "connected to disk over TCP");
                    self.stream = Some(s);
                    self.read_timeout = None;
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        let why = last.map(|e| e.to_string()).unwrap_or_default();
        Err(TransportError::NoDevice(format!(
            "no tax disk at tcp {} ({why}); is `taxdisk-sim serve` running?",
            self.addr
        )))
    }

    fn close(&mut self) {
        if let Some(s) = self.stream.take() {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.assembler.clear();
    }
}

fn io(context: &str, source: std::io::Error) -> TransportError {
    TransportError::Io {
        context: context.to_string(),
        source,
    }
}

fn is_disconnect(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected
            | ErrorKind::UnexpectedEof
    )
}

impl Transport for TcpTransport {
    fn send(&mut self, frame: &[u8]) -> Result<(), TransportError> {
        check_len(frame)?;
        if self.stream.is_none() {
            self.open()?;
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(TransportError::Disconnected("not connected".into()));
        };
        if let Err(e) = stream.write_all(frame) {
            self.close();
            return Err(match e.kind() {
                k if is_disconnect(k) => TransportError::Disconnected(e.to_string()),
                ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                    TransportError::Timeout(WRITE_TIMEOUT)
                }
                _ => io("sending a frame", e),
            });
        }
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Frame, TransportError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.assembler.pop_result() {
                return r;
            }
            let Some(stream) = self.stream.as_mut() else {
                return Err(TransportError::Disconnected("not connected".into()));
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(TransportError::Timeout(timeout));
            }
            let slice = left.min(READ_SLICE);
            if self.read_timeout != Some(slice) {
                stream
                    .set_read_timeout(Some(slice))
                    .map_err(|e| io("setting the read timeout", e))?;
                self.read_timeout = Some(slice);
            }
            match stream.read(&mut self.buf) {
                Ok(0) => {
                    self.close();
                    return Err(TransportError::Disconnected(
                        "the server closed the connection".into(),
                    ));
                }
                Ok(n) => self.assembler.feed(&self.buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.close();
                    return Err(if is_disconnect(e.kind()) {
                        TransportError::Disconnected(e.to_string())
                    } else {
                        io("receiving a frame", e)
                    });
                }
            }
        }
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.open()
    }

    fn describe(&self) -> String {
        format!("tcp {}", self.addr)
    }

    /// The stream buffers requests at the server and answers at the client, and the server
    /// handles them in order: a few in flight keep the disk signing while frames travel.
    fn pipeline_depth(&self) -> usize {
        PIPELINE_DEPTH
    }
}
