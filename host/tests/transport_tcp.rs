//! The TCP transport against small local servers: nothing listening, answers split into tiny
//! writes, a closed connection and the reconnect after it, and timeouts.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};
use taxdisk_host::transport::{TcpTransport, Transport, TransportError};
use taxdisk_protocol::Request;
use taxdisk_protocol::frame::{MAX_ENCODED, encode_request};

fn ping(seq: u32) -> Vec<u8> {
    let mut buf = [0u8; MAX_ENCODED];
    let n = encode_request(seq, 1, &Request::Ping(seq), &mut buf).unwrap();
    buf[..n].to_vec()
}

/// A local server on a free port running `script` with its listener on a thread of its own:
/// the address to connect to, and the thread to join.
fn serve(script: impl FnOnce(TcpListener) + Send + 'static) -> (String, thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    (addr, thread::spawn(move || script(l)))
}

/// Reads one delimited frame from `s`.
fn read_frame(s: &mut impl Read) -> Option<Vec<u8>> {
    let mut f = Vec::new();
    let mut b = [0u8; 1];
    loop {
        if s.read(&mut b).ok()? == 0 {
            return None;
        }
        f.push(b[0]);
        if b[0] == 0 {
            return Some(f);
        }
    }
}

#[test]
fn nothing_listening_is_no_device_with_one_clear_line() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = TcpTransport::connect(&format!("127.0.0.1:{port}")).unwrap_err();
    match &err {
        TransportError::NoDevice(line) => {
            assert!(line.contains("taxdisk-sim serve"), "{line}");
            assert!(line.contains(&port.to_string()), "{line}");
            assert!(!line.contains('\n'));
        }
        e => panic!("expected NoDevice, got {e:?}"),
    }
    assert!(!err.is_transient());
    let bad = TcpTransport::connect("no-such-host.invalid:1").unwrap_err();
    assert!(matches!(bad, TransportError::NoDevice(_)), "{bad:?}");
}

#[test]
fn answers_in_tiny_writes_are_reassembled_and_garbage_is_reported() {
    let (addr, server) = serve(|l| {
        let (mut s, _) = l.accept().unwrap();
        let req = read_frame(&mut s).unwrap();
        s.set_nodelay(true).unwrap();
        // Garbage first, then the echoed frame one byte at a time, twice.
        s.write_all(&[9, 9, 9, 0]).unwrap();
        for _ in 0..2 {
            for b in &req {
                s.write_all(&[*b]).unwrap();
            }
        }
        thread::sleep(Duration::from_millis(200));
    });
    let mut t = TcpTransport::connect(&addr).unwrap();
    t.send(&ping(77)).unwrap();
    let first = t.recv(Duration::from_secs(2));
    assert!(
        matches!(first, Err(TransportError::BadFrame(_))),
        "{first:?}"
    );
    for _ in 0..2 {
        let f = t.recv(Duration::from_secs(2)).unwrap();
        assert_eq!(f.header.seq, 77);
    }
    server.join().unwrap();
}

#[test]
fn silence_is_a_timeout_and_a_closed_connection_reconnects_on_the_next_send() {
    let (addr, server) = serve(|l| {
        // First connection: read one frame, say nothing, then close.
        let (mut s, _) = l.accept().unwrap();
        read_frame(&mut s).unwrap();
        thread::sleep(Duration::from_millis(300));
        drop(s);
        // Second connection: echo one frame.
        let (mut s, _) = l.accept().unwrap();
        let f = read_frame(&mut s).unwrap();
        s.write_all(&f).unwrap();
        thread::sleep(Duration::from_millis(200));
    });
    let mut t = TcpTransport::connect(&addr).unwrap();
    t.send(&ping(1)).unwrap();
    let start = Instant::now();
    let r = t.recv(Duration::from_millis(100));
    assert!(matches!(r, Err(TransportError::Timeout(_))), "{r:?}");
    assert!(start.elapsed() >= Duration::from_millis(90));
    let r = t.recv(Duration::from_secs(2));
    assert!(matches!(r, Err(TransportError::Disconnected(_))), "{r:?}");
    assert!(!t.is_connected());
    t.send(&ping(2)).unwrap();
    assert_eq!(t.recv(Duration::from_secs(2)).unwrap().header.seq, 2);
    assert!(t.describe().starts_with("tcp 127.0.0.1:"));
    server.join().unwrap();
}

#[test]
fn oversize_frames_are_refused_before_sending() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let mut t = TcpTransport::connect(&addr).unwrap();
    let big = vec![1u8; MAX_ENCODED + 1];
    assert!(matches!(t.send(&big), Err(TransportError::Oversize(_))));
}

#[test]
fn a_long_wait_spans_several_reads_and_a_short_one_ends_at_its_deadline() {
    let (addr, server) = serve(|l| {
        let (mut s, _) = l.accept().unwrap();
        // Answered after 300 ms: longer than one read of the socket blocks.
        let f = read_frame(&mut s).unwrap();
        thread::sleep(Duration::from_millis(300));
        s.write_all(&f).unwrap();
        // Not answered: the client's short waits time out.
        read_frame(&mut s).unwrap();
        thread::sleep(Duration::from_millis(800));
    });
    let mut t = TcpTransport::connect(&addr).unwrap();
    t.send(&ping(5)).unwrap();
    let start = Instant::now();
    assert_eq!(t.recv(Duration::from_secs(5)).unwrap().header.seq, 5);
    assert!(start.elapsed() >= Duration::from_millis(290));
    t.send(&ping(6)).unwrap();
    // A wait shorter than a read's slice (50 ms), and one that ends inside a later slice, each
    // end at their own deadline (with 30 ms of room for a loaded machine), not a slice's end.
    for ms in [10, 130] {
        let start = Instant::now();
        let r = t.recv(Duration::from_millis(ms));
        let took = start.elapsed();
        assert!(matches!(r, Err(TransportError::Timeout(_))), "{r:?}");
        assert!(took >= Duration::from_millis(ms - 2), "{ms} ms: {took:?}");
        assert!(took < Duration::from_millis(ms + 30), "{ms} ms: {took:?}");
    }
    server.join().unwrap();
}
