//! `taxdisk-sim serve --usbip` against USB/IP peers that break the protocol: a URB before any
//! import, a control request to an interface the disk does not have, an OUT URB claiming a
//! huge buffer, a second import on one connection. Each connection is closed with a warning;
//! the server lives on, nothing panics, and the disk stays importable by the next host.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod serve_support;
mod usbip_client;

use serve_support::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use taxdisk_protocol::usb::EP_OUT;
use taxdisk_protocol::{Request, Response};
use usbip_client::*;

/// Starts the test disk with `--usbip`, its stderr (logs, panics) written to `log`.
fn start_logged(log: &Path) -> Sim {
    let mut args = base_args();
    args.extend(["--usbip".to_string(), "127.0.0.1:0".to_string()]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_taxdisk-sim"))
        .args(&args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let ports = serde_json::from_str(line.trim()).unwrap();
    Sim { child, ports }
}

/// A USBIP_CMD_SUBMIT header: `direction` 0 OUT / 1 IN, endpoint number `ep`, `len` bytes,
/// `setup` (ep 0).
fn submit_header(direction: u32, ep: u32, len: u32, setup: [u8; 8]) -> Vec<u8> {
    let mut m = Vec::new();
    for w in [
        USBIP_CMD_SUBMIT,
        1,
        0x0001_0002,
        direction,
        ep,
        0,
        len,
        0,
        0,
        0,
    ] {
        m.extend(w.to_be_bytes());
    }
    m.extend(setup);
    m
}

/// Whether the server ends the connection (EOF or reset) instead of answering.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    match s.read_to_end(&mut rest) {
        Ok(_) => rest.is_empty(),
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

/// The next host imports the disk and it answers: the misbehaving peer left no trace. (The
/// import is tried again while the previous importer's close has not reached the server.)
fn still_importable(addr: SocketAddr, seq: u32) {
    let mut dev = import_when_back(addr, BUS_ID);
    assert_eq!(
        dev.call(seq, Request::Ping(seq), 512, 512),
        Response::Ping(seq)
    );
}

#[test]
fn broken_peers_are_closed_and_the_disk_stays_importable() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let mut sim = start_logged(&log);
    let addr = usbip_addr(&sim);
    still_importable(addr, 1);

    // A URB before any import (the crate would panic on it).
    let mut s = connect(addr);
    s.write_all(&submit_header(1, 1, 512, [0; 8])).unwrap();
    assert!(closed_by_server(&mut s), "submit before import");
    still_importable(addr, 2);

    // After a refused import (an unknown bus id), a URB is still one before any import.
    let (mut s, head) = import_request(addr, "9-9");
    assert_ne!(be32(&head.unwrap()[4..]), 0, "unknown bus id refused");
    let _ = s.write_all(&submit_header(1, 1, 512, [0; 8]));
    assert!(closed_by_server(&mut s), "submit after a refused import");
    still_importable(addr, 3);

    // A control request to interface 1 (the disk has only interface 0): SET_INTERFACE.
    let mut dev = import_when_back(addr, BUS_ID);
    dev.s
        .write_all(&submit_header(0, 0, 0, [0x01, 0x0B, 0, 0, 1, 0, 0, 0]))
        .unwrap();
    assert!(closed_by_server(&mut dev.s), "request to interface 1");
    still_importable(addr, 4);

    // An OUT URB claiming 1 GiB: closed before anything is allocated or read.
    let mut dev = import_when_back(addr, BUS_ID);
    dev.s
        .write_all(&submit_header(0, u32::from(EP_OUT), 1 << 30, [0; 8]))
        .unwrap();
    let _ = dev.s.write_all(&[0u8; 512]);
    assert!(closed_by_server(&mut dev.s), "1 GiB OUT URB");
    still_importable(addr, 5);

    // A second import on one connection (the crate would lose the first device for good).
    let mut dev = import_when_back(addr, BUS_ID);
    let mut req = Vec::new();
    req.extend(USBIP_VERSION.to_be_bytes());
    req.extend(OP_REQ_IMPORT.to_be_bytes());
    req.extend(0u32.to_be_bytes());
    let mut busid = [0u8; 32];
    busid[..BUS_ID.len()].copy_from_slice(BUS_ID.as_bytes());
    req.extend(busid);
    dev.s.write_all(&req).unwrap();
    assert!(closed_by_server(&mut dev.s), "second import");
    still_importable(addr, 6);

    assert!(sim.alive(), "the server lives on");
    assert!(sim.terminate().success());
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    for reason in [
        "before any import",
        "interface 1",
        "1073741824 bytes",
        "second import",
    ] {
        assert!(
            stderr.contains(reason),
            "no warning with {reason:?}: {stderr}"
        );
    }
}
