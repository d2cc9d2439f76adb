//! The export's unplug against an ordering forced with a hook (`Conns::hold_removal`): the
//! integration tests (tests/serve_usbip.rs) meet it only by chance, on a loaded machine.

use super::*;
use crate::sim::{SimConfig, SimDisk};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::{DeviceSerial, PublicKey};

const SERIAL: &str = "661000000001";
const WAIT: Duration = Duration::from_secs(10);
/// How long a device list may take to answer before it counts as held back.
const HELD: Duration = Duration::from_millis(500);

fn export() -> (UsbipExport, SharedDisk) {
    let key = PublicKey {
        x: [0; 32],
        y: [0; 32],
    };
    let cfg = SimConfig::new(
        DeviceSerial::new(SERIAL).unwrap(),
        key,
        Timestamp(1_700_000_000),
    );
    let disk = SimDisk::new(cfg).unwrap();
    let plug = disk.plug_events();
    let disk: SharedDisk = Arc::new(Mutex::new(Some(disk)));
    let exported = ExportedDisk {
        disk: disk.clone(),
        serial: SERIAL.to_owned(),
        plug,
    };
    let export = UsbipExport::start("127.0.0.1:0".parse().unwrap(), vec![exported]).unwrap();
    (export, disk)
}

fn connect(addr: SocketAddr, code: u16, bus: Option<&str>) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut req = Vec::new();
    req.extend(USBIP_VERSION.to_be_bytes());
    req.extend(code.to_be_bytes());
    req.extend(0u32.to_be_bytes());
    if let Some(bus) = bus {
        let mut id = [0u8; 32];
        id[..bus.len()].copy_from_slice(bus.as_bytes());
        req.extend(id);
    }
    s.write_all(&req).unwrap();
    s
}

/// How many devices OP_REP_DEVLIST names.
fn listed(addr: SocketAddr) -> u32 {
    let mut s = connect(addr, 0x8005, None);
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    u32::from_be_bytes([head[8], head[9], head[10], head[11]])
}

/// OP_REQ_IMPORT: the connection and the status (0 = imported).
fn import(addr: SocketAddr, bus: &str) -> (TcpStream, u32) {
    let mut s = connect(addr, OP_REQ_IMPORT, Some(bus));
    let mut head = [0u8; 8];
    s.read_exact(&mut head).unwrap();
    (s, u32::from_be_bytes([head[4], head[5], head[6], head[7]]))
}

fn plug(disk: &SharedDisk, on: bool) {
    lock_disk(disk)
        .as_mut()
        .unwrap()
        .control(ControlRequest::Plug(on));
}

#[test]
fn a_listed_disk_is_importable_even_while_an_unplug_is_under_way() {
    let (export, disk) = export();
    let (addr, bus) = (export.addr(), bus_id(0));
    let (mut attached, status) = import(addr, &bus);
    assert_eq!(status, 0);
    // The unplug closes the importer and then stops before taking the device out of the
    // crate's list, where the importer's end has put it back.
    export.conns.hold_removal.send_replace(true);
    plug(&disk, false);
    let mut rest = Vec::new();
    let _ = attached.read_to_end(&mut rest);
    let end = Instant::now() + WAIT;
    while export.conns.importing(&bus) {
        assert!(Instant::now() < end, "the importer does not end");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Plugged in again before the unplug is done (the export follows it afterwards).
    plug(&disk, true);
    let (tx, rx) = mpsc::channel();
    let lister = std::thread::spawn(move || tx.send(listed(addr)));
    let early = rx.recv_timeout(HELD).ok();
    if let Some(n) = early
        && n > 0
    {
        // Answered in the window: what it lists must be importable.
        let (_, status) = import(addr, &bus);
        assert_eq!(
            status, 0,
            "listed during the unplug, but its import is refused"
        );
    }
    export.conns.hold_removal.send_replace(false);
    let mut n = match early {
        Some(_) => 0,
        None => rx.recv_timeout(WAIT).unwrap(),
    };
    lister.join().unwrap().unwrap();
    // Listed once the unplug and the plug are done, and then importable.
    let end = Instant::now() + WAIT;
    while n == 0 {
        assert!(Instant::now() < end, "not listed again");
        std::thread::sleep(Duration::from_millis(5));
        n = listed(addr);
    }
    let (_, status) = import(addr, &bus);
    assert_eq!(
        status, 0,
        "listed after the plug, but its import is refused"
    );
}

#[test]
fn an_importer_that_ends_on_a_write_error_leaves_the_disk_listed() {
    let (export, _disk) = export();
    let (addr, bus) = (export.addr(), bus_id(0));
    for round in 0..20 {
        let (mut s, status) = import(addr, &bus);
        assert_eq!(status, 0, "round {round}");
        // A device list asked on the importing connection, and the connection reset at once:
        // the crate's answer meets a closed socket.
        let mut req = Vec::new();
        req.extend(USBIP_VERSION.to_be_bytes());
        req.extend(0x8005u16.to_be_bytes());
        req.extend(0u32.to_be_bytes());
        s.write_all(&req).unwrap();
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(s);
        let end = Instant::now() + WAIT;
        while export.conns.importing(&bus) || listed(addr) == 0 {
            assert!(
                Instant::now() < end,
                "round {round}: the disk is not listed again"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    // Listed, and importable.
    assert_eq!(import(addr, &bus).1, 0);
}
