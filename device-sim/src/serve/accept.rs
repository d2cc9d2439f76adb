//! The accept loop both ports share, and the frame loop of one connection: bytes in arbitrary
//! chunks are cut into frames at their `0x00` delimiters ([`FrameSplitter`]); each frame is
//! given to the port's handler, whose answer is written back. Bad frames get no answer and are
//! skipped; only the peer closing, an I/O error or the server shutting down ends a connection.

use super::{MAX_CONNECTIONS, SharedDisk};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use taxdisk_protocol::DecodeError;
use taxdisk_protocol::frame::MAX_ENCODED;

/// A peer that does not take an answer within this time is dropped (a bench client that stopped
/// reading must not hold a thread forever).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a disk connection may send nothing before the server closes it.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Serves one connection; returns when it ends.
pub(crate) type ConnFn = fn(TcpStream, SharedDisk);

/// What a port's handler makes of one checked frame.
pub(crate) enum Answer {
    /// Write these many bytes of the answer buffer.
    Bytes(usize),
    /// The server shut down: close the connection.
    Close,
}

/// The open connections of one port, so the server can count them against
/// [`MAX_CONNECTIONS`] and close them all at shutdown.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    next: AtomicU64,
    open: Mutex<HashMap<u64, TcpStream>>,
}

impl Connections {
    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<u64, TcpStream>> {
        // The map stays consistent whatever panicked while holding it (single inserts/removes).
        taxdisk_protocol::fault::locked(&self.open)
    }

    /// Registers a connection; `None` when the stream cannot be cloned. A full port makes
    /// room by closing its oldest connection: a new client is always served (idle ones
    /// reconnect when they need the disk), so connections left open cannot lock the port.
    fn add(&self, stream: &TcpStream) -> Option<u64> {
        let mut open = self.open();
        while open.len() >= MAX_CONNECTIONS {
            let oldest = *open.keys().min()?;
            if let Some(s) = open.remove(&oldest) {
                tracing::warn!(id = oldest, "{}", taxdisk_i18n::t!("log-port-full"));
                // Already closed by the peer is fine.
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
        let handle = stream.try_clone().ok()?;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        open.insert(id, handle);
        Some(id)
    }

    fn remove(&self, id: u64) {
        self.open().remove(&id);
    }

    /// Shuts every open connection down: their reads end and their threads finish.
    pub(crate) fn close_all(&self) {
        for (_, s) in self.open().drain() {
            // Already closed by the peer is fine.
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// Starts the accept loop of one port on its own thread.
pub(crate) fn spawn(
    name: &'static str,
    listener: TcpListener,
    disk: SharedDisk,
    stop: Arc<AtomicBool>,
    conns: Arc<Connections>,
    serve: ConnFn,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("{name}-accept"))
        .spawn(move || accept_loop(name, listener, disk, stop, conns, serve))
}

/// Unblocks an accept loop (after the stop flag is set) by connecting to it.
pub(crate) fn wake(addr: SocketAddr) {
    let addr = match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => {
            SocketAddr::from(([127, 0, 0, 1], a.port()))
        }
        SocketAddr::V6(a) if a.ip().is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
        }
        a => a,
    };
    // Failing to connect means the loop is not waiting in accept (already gone).
    let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
}

fn accept_loop(
    name: &'static str,
    listener: TcpListener,
    disk: SharedDisk,
    stop: Arc<AtomicBool>,
    conns: Arc<Connections>,
    serve: ConnFn,
) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                // Out of descriptors and the like: wait a little rather than spin.
                tracing::warn!(port = name, error = %e, "{}", taxdisk_i18n::t!("log-accept-failed"));
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let peer = stream.peer_addr().ok();
        let Some(id) = conns.add(&stream) else {
            tracing::warn!(
                port = name,
                ?peer,
                "{}",
                taxdisk_i18n::t!("log-too-many-connections")
            );
            continue;
        };
        let guard = Registered(conns.clone(), id);
        let disk = disk.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("{name}-conn"))
            .spawn(move || {
                // Unregisters the connection even if the handler panics.
                let _guard = guard;
                tracing::debug!(port = name, ?peer, "connected");
                serve(stream, disk);
                tracing::debug!(port = name, ?peer, "disconnected");
            });
        if let Err(e) = spawned {
            // The closure (and its guard) was dropped without running.
            tracing::warn!(port = name, error = %e, "{}", taxdisk_i18n::t!("log-cannot-start-thread"));
        }
    }
}

/// A registered connection; unregisters it when dropped.
struct Registered(Arc<Connections>, u64);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.remove(self.1);
    }
}

/// Cuts a byte stream at `0x00` delimiters into encoded frames of at most [`MAX_ENCODED`] bytes
/// (delimiter included). It buffers like [`taxdisk_protocol::FrameDecoder`] — empty frames
/// skipped, an oversize frame reported at its delimiter, any chunking — but hands out the frame
/// bytes as received instead of their decoded contents, so the disk gets exactly what a USB
/// disk would (the firmware answers even a frame of another protocol version, which a checked
/// decode would have thrown away).
#[derive(Debug)]
pub(crate) struct FrameSplitter {
    buf: Vec<u8>,
    overflow: bool,
}

impl FrameSplitter {
    /// An empty splitter.
    pub(crate) fn new() -> Self {
        FrameSplitter {
            buf: Vec::with_capacity(MAX_ENCODED),
            overflow: false,
        }
    }

    /// Feeds bytes; calls `on_frame` with each frame they complete.
    pub(crate) fn feed<F>(&mut self, mut data: &[u8], mut on_frame: F)
    where
        F: FnMut(Result<&[u8], DecodeError>),
    {
        while let Some(i) = data.iter().position(|&b| b == 0) {
            self.push(&data[..i]);
            data = &data[i + 1..];
            if self.overflow {
                on_frame(Err(DecodeError::Oversize));
            } else if !self.buf.is_empty() {
                self.buf.push(0);
                on_frame(Ok(&self.buf));
            }
            self.buf.clear();
            self.overflow = false;
        }
        self.push(data);
    }

    fn push(&mut self, part: &[u8]) {
        if self.overflow {
            return;
        }
        if self.buf.len() + part.len() > MAX_ENCODED - 1 {
            self.overflow = true;
            self.buf.clear();
        } else {
            self.buf.extend_from_slice(part);
        }
    }
}

/// Answers held before they are sent together, when the peer's requests arrive several in
/// one read (a pipelining host): one send, and one wake-up of the host, per group instead of
/// per answer. An answer never waits for a request that has not arrived: the answers to one
/// read's requests all leave before the next read.
pub const SEND_GROUP: usize = 8;

/// Sends what `out` holds and empties it; `false` when the peer is gone.
fn send(
    writer: &mut TcpStream,
    out: &mut Vec<u8>,
    port: &'static str,
    peer: Option<std::net::SocketAddr>,
) -> bool {
    if out.is_empty() {
        return true;
    }
    let sent = writer.write_all(out);
    out.clear();
    match sent {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(port, ?peer, error = %e, "write failed");
            false
        }
    }
}

/// Reads frames from `stream` until it ends, calling `on_frame` with each encoded frame (as
/// received, delimiter included) and an answer buffer of `2 * MAX_ENCODED` bytes (room for a
/// duplicated answer).
/// Answers are sent in groups of at most [`SEND_GROUP`], never later than the next read.
pub(crate) fn frame_loop<F>(port: &'static str, mut stream: TcpStream, mut on_frame: F)
where
    F: FnMut(&[u8], &mut [u8]) -> Answer,
{
    let peer = stream.peer_addr().ok();
    // Answers are small and the peer waits for them: what is held is sent at once.
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    // A disk connection that sends nothing for IDLE_TIMEOUT is closed (its host reconnects,
    // its login stays with its session id). Control connections may idle (a bench script).
    if port == "disk" {
        let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    }
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(port, error = %e, "{}", taxdisk_i18n::t!("log-cannot-clone-stream"));
            return;
        }
    };
    let mut splitter = FrameSplitter::new();
    let mut answer = vec![0u8; 2 * MAX_ENCODED];
    // Answers not sent yet: those to the requests of one read, up to SEND_GROUP at a time.
    let mut out: Vec<u8> = Vec::with_capacity(SEND_GROUP * 2 * MAX_ENCODED);
    let mut held = 0usize;
    let mut buf = vec![0u8; 4096];
    let mut oversize = 0u64;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::debug!(port, ?peer, error = %e, "read failed");
                break;
            }
        };
        let mut done = false;
        let mut failed = false;
        splitter.feed(&buf[..n], |frame| {
            if done {
                return;
            }
            match frame {
                Ok(raw) => match on_frame(raw, &mut answer) {
                    Answer::Bytes(0) => {}
                    Answer::Bytes(m) => {
                        out.extend_from_slice(&answer[..m]);
                        held += 1;
                        if held >= SEND_GROUP {
                            failed = !send(&mut writer, &mut out, port, peer);
                            done = failed;
                            held = 0;
                        }
                    }
                    Answer::Close => done = true,
                },
                Err(e) => {
                    oversize += 1;
                    tracing::debug!(port, ?peer, error = ?e, "oversize frame skipped");
                }
            }
        });
        // Before the next read (which may wait for the peer), or the close: what is answered
        // leaves.
        if !failed && !send(&mut writer, &mut out, port, peer) {
            break;
        }
        held = 0;
        if done {
            break;
        }
    }
    if oversize > 0 {
        tracing::info!(
            port,
            ?peer,
            oversize,
            "{}",
            taxdisk_i18n::t!("log-oversize-closed")
        );
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;
    use taxdisk_protocol::Request;
    use taxdisk_protocol::frame::encode_request;

    fn split(stream: &[u8], chunk: usize) -> Vec<Result<Vec<u8>, DecodeError>> {
        let mut sp = FrameSplitter::new();
        let mut out = Vec::new();
        for c in stream.chunks(chunk) {
            sp.feed(c, |f| out.push(f.map(<[u8]>::to_vec)));
        }
        out
    }

    #[test]
    fn splitter_hands_out_frames_as_sent_in_any_chunking() {
        let mut f = [0u8; MAX_ENCODED];
        let n = encode_request(7, 1, &Request::Ping(9), &mut f).unwrap();
        let frame = f[..n].to_vec();
        let mut stream = vec![0, 0, 5, 5, 0];
        stream.extend_from_slice(&frame);
        stream.extend(vec![1u8; MAX_ENCODED + 3]);
        stream.push(0);
        stream.extend_from_slice(&frame);
        stream.extend_from_slice(&frame[..3]);
        for chunk in [1, 2, 7, 64, 4096] {
            assert_eq!(
                split(&stream, chunk),
                vec![
                    Ok(vec![5, 5, 0]),
                    Ok(frame.clone()),
                    Err(DecodeError::Oversize),
                    Ok(frame.clone()),
                ],
                "chunk {chunk}"
            );
        }
        // The longest frame that fits is handed out whole.
        let mut longest = vec![1u8; MAX_ENCODED - 1];
        longest.push(0);
        assert_eq!(split(&longest, 100), vec![Ok(longest.clone())]);
    }

    /// A connection served by `frame_loop`, answering each frame with itself and a `Close` at
    /// the frame `[200, 200, 0]`; answers how many frames it was handed.
    fn echo_server() -> (TcpStream, std::thread::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (conn, _) = listener.accept().unwrap();
        let served = std::thread::spawn(move || {
            let mut handed = 0;
            frame_loop("control", conn, |raw, out| {
                handed += 1;
                if raw == [200, 200, 0] {
                    return Answer::Close;
                }
                out[..raw.len()].copy_from_slice(raw);
                Answer::Bytes(raw.len())
            });
            handed
        });
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        (client, served)
    }

    fn read_frames(client: &mut TcpStream, n: usize) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let mut sp = FrameSplitter::new();
        let mut buf = [0u8; 512];
        while got.len() < n {
            let k = client.read(&mut buf).expect("answers within the timeout");
            assert!(k > 0, "the connection closed after {} answers", got.len());
            sp.feed(&buf[..k], |f| got.push(f.unwrap().to_vec()));
        }
        got
    }

    #[test]
    fn answers_leave_in_order_in_groups_and_a_lone_request_is_answered_at_once() {
        let (mut client, served) = echo_server();
        // 21 requests in one write: answered in order, whole (groups of 8, 8 and 5).
        let frames: Vec<Vec<u8>> = (1..=21u8).map(|i| vec![i, i, 0]).collect();
        client.write_all(&frames.concat()).unwrap();
        assert_eq!(read_frames(&mut client, 21), frames);
        // One request alone does not wait for a group to fill.
        client.write_all(&[42, 0]).unwrap();
        assert_eq!(read_frames(&mut client, 1), vec![vec![42, 0]]);
        // Answers made before a close in the same read still leave.
        client.write_all(&[7, 0, 200, 200, 0, 8, 0]).unwrap();
        assert_eq!(read_frames(&mut client, 1), vec![vec![7, 0]]);
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "nothing after the close: {rest:?}");
        assert_eq!(served.join().unwrap(), 24);
    }
}
