//! `taxdisk-sim serve --usbip`: the simulated disk exported as a USB device over USB/IP, spoken
//! to from here with USB/IP messages written by hand (OP_REQ_DEVLIST, OP_REQ_IMPORT,
//! USBIP_CMD_SUBMIT on ep 0 and the bulk endpoints), and listed by the Linux `usbip` tool where
//! it is installed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod serve_support;

use serve_support::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use taxdisk_device_sim::serve::ControlClient;
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::frame::{
    Header, MAX_ENCODED, MAX_PAYLOAD, decode_response, encode_raw, encode_request,
};
use taxdisk_protocol::types::Pin;
use taxdisk_protocol::usb::{
    EP_IN, EP_OUT, INTERFACE_CLASS, INTERFACE_PROTOCOL, INTERFACE_SUBCLASS, MANUFACTURER,
    MAX_PACKET_FULL_SPEED, MAX_PACKET_HIGH_SPEED, PID, PRODUCT, VID,
};
use taxdisk_protocol::{CommandId, FrameDecoder, Refusal, Request, Response, WireError};

const SESSION: u32 = 0x5553_4201;
const BUS_ID: &str = "1-1";
const USBIP_VERSION: u16 = 0x0111;
const OP_REQ_DEVLIST: u16 = 0x8005;
const OP_REP_DEVLIST: u16 = 0x0005;
const OP_REQ_IMPORT: u16 = 0x8003;
const OP_REP_IMPORT: u16 = 0x0003;
const USBIP_CMD_SUBMIT: u32 = 1;
const USBIP_RET_SUBMIT: u32 = 3;
/// Size of a device record in OP_REP_DEVLIST / OP_REP_IMPORT.
const DEVICE_RECORD: usize = 0x138;
/// Linux `USB_SPEED_HIGH`.
const SPEED_HIGH: u32 = 3;

fn start() -> Sim {
    let mut args = base_args();
    args.extend(["--usbip".to_string(), "127.0.0.1:0".to_string()]);
    Sim::start(&args)
}

fn usbip_addr(sim: &Sim) -> SocketAddr {
    sim.ports.usbip.expect("--print-ports names the usbip port")
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8(b[..end].to_vec()).unwrap()
}

/// One exported device as OP_REP_DEVLIST describes it.
#[derive(Debug)]
struct Listed {
    bus_id: String,
    speed: u32,
    vid: u16,
    pid: u16,
    num_interfaces: u8,
    interfaces: Vec<[u8; 3]>,
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(ANSWER_TIMEOUT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut b = vec![0; n];
    s.read_exact(&mut b).unwrap();
    b
}

fn devlist(addr: SocketAddr) -> Vec<Listed> {
    let mut s = connect(addr);
    let mut req = Vec::new();
    req.extend(USBIP_VERSION.to_be_bytes());
    req.extend(OP_REQ_DEVLIST.to_be_bytes());
    req.extend(0u32.to_be_bytes());
    s.write_all(&req).unwrap();
    let head = read_n(&mut s, 12);
    assert_eq!(be16(&head), USBIP_VERSION);
    assert_eq!(be16(&head[2..]), OP_REP_DEVLIST);
    assert_eq!(be32(&head[4..]), 0, "status");
    let n = be32(&head[8..]);
    (0..n)
        .map(|_| {
            let d = read_n(&mut s, DEVICE_RECORD);
            let num_interfaces = d[DEVICE_RECORD - 1];
            let interfaces = (0..num_interfaces)
                .map(|_| {
                    let i = read_n(&mut s, 4);
                    [i[0], i[1], i[2]]
                })
                .collect();
            Listed {
                bus_id: cstr(&d[256..288]),
                speed: be32(&d[296..]),
                vid: be16(&d[300..]),
                pid: be16(&d[302..]),
                num_interfaces,
                interfaces,
            }
        })
        .collect()
}

/// An imported device: USBIP_CMD_SUBMIT on one connection.
struct Imported {
    s: TcpStream,
    seq: u32,
}

/// OP_REQ_IMPORT of `bus_id`: the connection and the status (0 = imported).
fn import(addr: SocketAddr, bus_id: &str) -> (Imported, u32) {
    let (mut s, head) = import_request(addr, bus_id);
    let head = head.unwrap();
    assert_eq!(be16(&head[2..]), OP_REP_IMPORT);
    let status = be32(&head[4..]);
    if status == 0 {
        let d = read_n(&mut s, DEVICE_RECORD);
        assert_eq!(cstr(&d[256..288]), bus_id);
        assert_eq!((be16(&d[300..]), be16(&d[302..])), (VID, PID));
    }
    (Imported { s, seq: 0 }, status)
}

/// Sends OP_REQ_IMPORT of `bus_id`; the connection and the 8 bytes of the answer's head.
fn import_request(addr: SocketAddr, bus_id: &str) -> (TcpStream, std::io::Result<[u8; 8]>) {
    let mut s = connect(addr);
    let mut req = Vec::new();
    req.extend(USBIP_VERSION.to_be_bytes());
    req.extend(OP_REQ_IMPORT.to_be_bytes());
    req.extend(0u32.to_be_bytes());
    let mut busid = [0u8; 32];
    busid[..bus_id.len()].copy_from_slice(bus_id.as_bytes());
    req.extend(busid);
    s.write_all(&req).unwrap();
    let mut head = [0u8; 8];
    let head = s.read_exact(&mut head).map(|()| head);
    (s, head)
}

/// An import that races an unplug: refused (a non-zero status), or its connection closed by
/// the unplug before an answer; never imported, since the disk is attached or unplugged.
fn import_racing_unplug(addr: SocketAddr, bus_id: &str) {
    match import_request(addr, bus_id).1 {
        Ok(head) => assert_ne!(be32(&head[4..]), 0, "imported twice"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}"),
    }
}

impl Imported {
    /// One USBIP_CMD_SUBMIT and its USBIP_RET_SUBMIT: (status, data of an IN transfer).
    fn submit(&mut self, ep: u8, len: u32, setup: [u8; 8], out: &[u8]) -> (i32, Vec<u8>) {
        self.seq += 1;
        let dir_in = ep & 0x80 != 0;
        let mut m = Vec::new();
        for w in [
            USBIP_CMD_SUBMIT,
            self.seq,
            0x0001_0002, // devid: bus 1, device 2
            u32::from(dir_in),
            u32::from(ep & 0x7F),
            0, // transfer_flags
            len,
            0, // start_frame
            0, // number_of_packets (not isochronous)
            0, // interval
        ] {
            m.extend(w.to_be_bytes());
        }
        m.extend(setup);
        if !dir_in {
            assert_eq!(out.len(), len as usize);
            m.extend(out);
        }
        self.s.write_all(&m).unwrap();
        let r = read_n(&mut self.s, 48);
        assert_eq!(be32(&r), USBIP_RET_SUBMIT);
        assert_eq!(be32(&r[4..]), self.seq, "answers come in order");
        let status = be32(&r[20..]) as i32;
        let actual = be32(&r[24..]) as usize;
        assert!(
            actual <= len as usize,
            "{actual} bytes for a {len}-byte URB"
        );
        let data = if dir_in {
            read_n(&mut self.s, actual)
        } else {
            assert_eq!(actual, out.len(), "OUT URB taken whole");
            Vec::new()
        };
        (status, data)
    }

    /// GET_DESCRIPTOR of `kind`/`index` (langid `lang`), up to `len` bytes, on ep 0.
    fn descriptor(&mut self, kind: u8, index: u8, lang: u16, len: u16) -> Vec<u8> {
        let [l0, l1] = lang.to_le_bytes();
        let [n0, n1] = len.to_le_bytes();
        let (status, d) = self.submit(
            0x80,
            u32::from(len),
            [0x80, 0x06, index, kind, l0, l1, n0, n1],
            &[],
        );
        assert_eq!(status, 0);
        d
    }

    /// Sends `frame` on bulk OUT in URBs of `chunk` bytes.
    fn bulk_out(&mut self, frame: &[u8], chunk: usize) {
        for c in frame.chunks(chunk) {
            let (status, _) = self.submit(EP_OUT, c.len() as u32, [0; 8], c);
            assert_eq!(status, 0);
        }
    }

    /// One bulk IN URB of `len` bytes.
    fn bulk_in(&mut self, len: u32) -> Vec<u8> {
        let (status, d) = self.submit(EP_IN, len, [0; 8], &[]);
        assert_eq!(status, 0);
        d
    }

    /// Reads answer frames with IN URBs of `len` bytes until the one with sequence `seq`
    /// arrives; returns it, the raw bytes read and how many URBs carried data.
    fn answer(&mut self, seq: u32, len: u32) -> (Result<Response, Refusal>, Vec<u8>, usize) {
        let mut dec: Box<FrameDecoder<MAX_ENCODED>> = Box::new(FrameDecoder::new());
        let mut raw = Vec::new();
        let mut urbs = 0;
        let end = Instant::now() + ANSWER_TIMEOUT;
        loop {
            assert!(Instant::now() < end, "no answer to seq {seq}");
            let d = self.bulk_in(len);
            if d.is_empty() {
                continue;
            }
            urbs += 1;
            raw.extend_from_slice(&d);
            let mut got = None;
            dec.feed(&d, |f| {
                let (h, p) = f.expect("a sound answer frame");
                if h.seq == seq {
                    got = Some(decode_response(&h, p).unwrap());
                }
            });
            if let Some(r) = got {
                return (r, raw, urbs);
            }
        }
    }

    /// Sends a request in OUT URBs of `out_chunk` bytes, reads its answer in IN URBs of
    /// `in_len` bytes.
    fn call(&mut self, seq: u32, req: Request, out_chunk: usize, in_len: u32) -> Response {
        let frame = request_frame(seq, &req);
        self.bulk_out(&frame, out_chunk);
        match self.answer(seq, in_len).0 {
            Ok(r) => r,
            Err(e) => panic!("{:?} refused: {e:?}", req.id()),
        }
    }
}

fn request_frame(seq: u32, req: &Request) -> Vec<u8> {
    let mut out = vec![0u8; MAX_ENCODED];
    let n = encode_request(seq, SESSION, req, &mut out).unwrap();
    out.truncate(n);
    out
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[test]
fn devlist_and_descriptors_describe_the_disk() {
    let sim = start();
    let addr = usbip_addr(&sim);
    let list = devlist(addr);
    assert_eq!(list.len(), 1, "{list:?}");
    let d = &list[0];
    assert_eq!(d.bus_id, BUS_ID);
    assert_eq!((d.vid, d.pid), (VID, PID));
    assert_eq!(d.speed, SPEED_HIGH);
    assert_eq!(d.num_interfaces, 1);
    assert_eq!(
        d.interfaces,
        vec![[INTERFACE_CLASS, INTERFACE_SUBCLASS, INTERFACE_PROTOCOL]]
    );

    let (mut dev, status) = import(addr, BUS_ID);
    assert_eq!(status, 0);
    // Device descriptor.
    let desc = dev.descriptor(1, 0, 0, 18);
    assert_eq!(desc.len(), 18);
    assert_eq!(&desc[..2], &[18, 1]);
    assert_eq!(u16::from_le_bytes([desc[2], desc[3]]), 0x0200, "bcdUSB");
    assert_eq!(desc[4], 0, "class defined by the interface");
    assert_eq!(desc[7], 64, "bMaxPacketSize0");
    assert_eq!(u16::from_le_bytes([desc[8], desc[9]]), VID);
    assert_eq!(u16::from_le_bytes([desc[10], desc[11]]), PID);
    assert_eq!(
        u16::from_le_bytes([desc[12], desc[13]]),
        0x0100,
        "bcdDevice"
    );
    assert_eq!(desc[17], 1, "one configuration");
    let (i_manufacturer, i_product, i_serial) = (desc[14], desc[15], desc[16]);
    assert!(i_serial != 0, "the disk has a serial string");
    // Strings: languages, then the serial, product and manufacturer in en-US.
    assert_eq!(dev.descriptor(3, 0, 0, 255), vec![4, 3, 0x09, 0x04]);
    let string = |dev: &mut Imported, i| {
        let s = dev.descriptor(3, i, 0x0409, 255);
        assert_eq!((s[0] as usize, s[1]), (s.len(), 3));
        s[2..].to_vec()
    };
    assert_eq!(string(&mut dev, i_serial), utf16le(SERIAL));
    assert_eq!(string(&mut dev, i_product), utf16le(PRODUCT));
    assert_eq!(string(&mut dev, i_manufacturer), utf16le(MANUFACTURER));
    // Configuration: one vendor-specific interface, bulk OUT 0x01 and IN 0x81 of 512 bytes.
    let cfg = dev.descriptor(2, 0, 0, 255);
    assert_eq!(usize::from(u16::from_le_bytes([cfg[2], cfg[3]])), cfg.len());
    assert_eq!(cfg.len(), 9 + 9 + 7 + 7);
    assert_eq!(cfg[4], 1, "one interface");
    let intf = &cfg[9..18];
    assert_eq!(intf[1], 4);
    assert_eq!(intf[4], 2, "two endpoints");
    assert_eq!(
        [intf[5], intf[6], intf[7]],
        [INTERFACE_CLASS, INTERFACE_SUBCLASS, INTERFACE_PROTOCOL]
    );
    let ep = |d: &[u8]| (d[1], d[2], d[3], u16::from_le_bytes([d[4], d[5]]));
    let mp = MAX_PACKET_HIGH_SPEED as u16;
    assert_eq!(ep(&cfg[18..25]), (5, EP_OUT, 2, mp));
    assert_eq!(ep(&cfg[25..32]), (5, EP_IN, 2, mp));
    // A short read of the device descriptor (the kernel's first 8 bytes) is cut, not refused.
    assert_eq!(dev.descriptor(1, 0, 0, 8), desc[..8].to_vec());
}

#[test]
fn bulk_frames_reach_the_disk_across_packets_and_come_back_whole_and_in_order() {
    let sim = start();
    let (mut dev, status) = import(usbip_addr(&sim), BUS_ID);
    assert_eq!(status, 0);
    let mp = MAX_PACKET_HIGH_SPEED;
    let fs = MAX_PACKET_FULL_SPEED;

    // The host polls before any answer is ready: the IN URB completes with no data.
    assert_eq!(dev.bulk_in(mp as u32), Vec::<u8>::new());
    // Ping in one OUT URB, its answer in one IN URB.
    let ping = request_frame(1, &Request::Ping(0xC0FFEE));
    dev.bulk_out(&ping, mp);
    let (r, raw, urbs) = dev.answer(1, mp as u32);
    assert_eq!(r, Ok(Response::Ping(0xC0FFEE)));
    assert_eq!(urbs, 1);
    assert_eq!(*raw.last().unwrap(), 0, "ends at the frame delimiter");

    // Provisioning: a large request in full-speed packets, its answer read in 64-byte URBs
    // (it needs several: no byte lost or reordered between them).
    let seq = 2;
    let frame = request_frame(seq, &Request::Provision(provision_token()));
    assert!(frame.len() > 2 * fs, "{} bytes", frame.len());
    dev.bulk_out(&frame, fs);
    let (r, raw, urbs) = dev.answer(seq, fs as u32);
    assert!(matches!(r, Ok(Response::Provision(_))), "{r:?}");
    assert!(
        raw.len() > fs && urbs > 1,
        "{} bytes in {urbs} URBs",
        raw.len()
    );

    // Login and a roll, then an invoice: its signed answer also crosses 64-byte URBs.
    let pin = Pin::new(PIN).unwrap();
    assert_eq!(
        dev.call(3, Request::Login(pin), mp, 4096),
        Response::Login(())
    );
    assert!(matches!(
        dev.call(4, Request::LoadRolls(roll_grant(1, 1, 50)), mp, 4096),
        Response::LoadRolls(_)
    ));
    let frame = request_frame(5, &Request::Issue(issue_request(1)));
    dev.bulk_out(&frame, mp);
    let (r, raw, urbs) = dev.answer(5, fs as u32);
    assert!(matches!(r, Ok(Response::Issue(_))), "{r:?}");
    assert!(urbs > 1, "{} bytes in {urbs} URBs", raw.len());

    // An IN URB submitted before the OUT that it answers: empty now, the answer waits for the
    // next one.
    assert!(dev.bulk_in(mp as u32).is_empty());
    let frame = request_frame(6, &Request::Ping(6));
    dev.bulk_out(&frame, mp);
    assert_eq!(dev.answer(6, mp as u32).0, Ok(Response::Ping(6)));

    // A frame of the largest size (a Ping whose payload is padded to MAX_PAYLOAD) crosses
    // several high-speed packets; the disk answers it (Malformed: the padding does not decode).
    let mut body = vec![0x55u8; MAX_PAYLOAD];
    body[0] = 7;
    let mut big = vec![0u8; MAX_ENCODED];
    let n = encode_raw(
        &Header::request(CommandId::Ping, 7, SESSION),
        &body,
        &mut big,
    )
    .unwrap();
    big.truncate(n);
    assert!(n > 3 * mp, "{n} bytes");
    dev.bulk_out(&big, mp);
    let (r, _, _) = dev.answer(7, mp as u32);
    assert_eq!(r.map_err(|e| e.error), Err(WireError::Malformed));

    // Two frames in one OUT URB, answers read back 7 bytes at a time: both whole, in order.
    let mut two = request_frame(8, &Request::Ping(8));
    two.extend(request_frame(9, &Request::Ping(9)));
    dev.bulk_out(&two, two.len());
    let mut dec: Box<FrameDecoder<MAX_ENCODED>> = Box::new(FrameDecoder::new());
    let mut got = Vec::new();
    while got.len() < 2 {
        let d = dev.bulk_in(7);
        assert!(!d.is_empty(), "answers were queued before this URB");
        dec.feed(&d, |f| {
            let (h, p) = f.unwrap();
            got.push((h.seq, decode_response(&h, p).unwrap()));
        });
    }
    assert_eq!(
        got,
        vec![(8, Ok(Response::Ping(8))), (9, Ok(Response::Ping(9)))]
    );
    assert!(dev.bulk_in(mp as u32).is_empty(), "nothing else queued");
}

#[test]
fn usb_and_tcp_share_one_disk_and_its_session_rule() {
    let sim = start();
    let (mut dev, status) = import(usbip_addr(&sim), BUS_ID);
    assert_eq!(status, 0);
    let mut tcp = sim.disk();
    // Provisioned and logged in over TCP by another host session...
    provision_and_load(&mut tcp, SESSION + 1);
    // ...so the USB host's session is Busy for commands that need the disk (D14).
    let frame = request_frame(1, &Request::Login(Pin::new(PIN).unwrap()));
    dev.bulk_out(&frame, MAX_PACKET_HIGH_SPEED);
    let (r, _, _) = dev.answer(1, 4096);
    assert_eq!(r.map_err(|e| e.error), Err(WireError::Busy));
    // Frame faults armed on the control port apply to USB frames too: the next one is lost.
    let mut ctl = ControlClient::connect(sim.ports.control).unwrap();
    let fault = ControlRequest::FrameFault {
        nth: 1,
        action: taxdisk_protocol::control::FrameFaultAction::DropAnswer,
    };
    assert_eq!(ctl.send(fault).unwrap(), ControlResponse::Ok);
    dev.bulk_out(&request_frame(2, &Request::Ping(2)), 64);
    dev.bulk_out(&request_frame(3, &Request::Ping(3)), 64);
    let (r, raw, _) = dev.answer(3, 4096);
    assert_eq!(r, Ok(Response::Ping(3)));
    // Only the answer to 3 came: the one to 2 was dropped by the fault.
    let mut dec: Box<FrameDecoder<MAX_ENCODED>> = Box::new(FrameDecoder::new());
    let mut seqs = Vec::new();
    dec.feed(&raw, |f| seqs.push(f.unwrap().0.seq));
    assert_eq!(seqs, vec![3]);
}

/// Waits (bounded) until the device list is `want` long: the export follows a plug change
/// after the control answer.
fn await_listed(addr: SocketAddr, want: usize) -> Vec<Listed> {
    let end = Instant::now() + ANSWER_TIMEOUT;
    loop {
        let l = devlist(addr);
        if l.len() == want {
            return l;
        }
        assert!(Instant::now() < end, "device list stays {l:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn unplug_takes_the_device_away_and_plug_brings_it_back() {
    let sim = start();
    let addr = usbip_addr(&sim);
    let (mut dev, status) = import(addr, BUS_ID);
    assert_eq!(status, 0);
    assert_eq!(
        dev.call(1, Request::Ping(1), 64, 512),
        Response::Ping(1),
        "attached and answering"
    );
    let mut ctl = ControlClient::connect(sim.ports.control).unwrap();
    assert_eq!(
        ctl.send(ControlRequest::Plug(false)).unwrap(),
        ControlResponse::Ok
    );
    // The attached host loses the device: its connection is closed.
    let mut rest = Vec::new();
    let n = dev.s.read_to_end(&mut rest).unwrap();
    assert_eq!(n, 0, "connection closed");
    // Gone from the list, and an import is refused.
    assert!(await_listed(addr, 0).is_empty());
    let (_, status) = import(addr, BUS_ID);
    assert_ne!(status, 0, "import of an unplugged disk");
    // Plugged in again: listed, attachable, answering (it booted from its flash).
    assert_eq!(
        ctl.send(ControlRequest::Plug(true)).unwrap(),
        ControlResponse::Ok
    );
    assert_eq!(await_listed(addr, 1)[0].bus_id, BUS_ID);
    let (mut dev, status) = import(addr, BUS_ID);
    assert_eq!(status, 0);
    assert!(dev.bulk_in(512).is_empty(), "nothing left from before");
    assert_eq!(dev.call(2, Request::Ping(2), 512, 512), Response::Ping(2));

    // Again and again, with a device list and an import racing each unplug (they must be
    // answered, the import refused): the export's unplug could deadlock with the closing
    // connection inside the usbip crate (every device list after it hung), and an import
    // could take the disk between its importer's end and its removal from the list.
    let mut attached = Some(dev);
    for round in 0..10u32 {
        let mut dev = attached.take().unwrap_or_else(|| {
            let (dev, status) = import(addr, BUS_ID);
            assert_eq!(status, 0, "round {round}");
            dev
        });
        let seq = 10 + round;
        assert_eq!(
            dev.call(seq, Request::Ping(seq), 512, 512),
            Response::Ping(seq)
        );
        let racer = std::thread::spawn(move || {
            devlist(addr);
            import_racing_unplug(addr, BUS_ID);
        });
        assert_eq!(
            ctl.send(ControlRequest::Plug(false)).unwrap(),
            ControlResponse::Ok
        );
        let mut rest = Vec::new();
        assert_eq!(dev.s.read_to_end(&mut rest).unwrap(), 0, "round {round}");
        // Attached or unplugged, the disk is not to be imported twice.
        racer
            .join()
            .expect("the racing list and import were answered, and not imported");
        assert!(await_listed(addr, 0).is_empty(), "round {round}");
        assert_eq!(
            ctl.send(ControlRequest::Plug(true)).unwrap(),
            ControlResponse::Ok
        );
        assert_eq!(await_listed(addr, 1)[0].bus_id, BUS_ID, "round {round}");
    }
}

#[test]
fn the_linux_usbip_tool_lists_the_disk() {
    let Some(tool) = find_usbip_tool() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the usbip tool is not installed; CI must install it (Debian package usbip)"
        );
        eprintln!("skipped: usbip tool not installed");
        return;
    };
    let sim = start();
    let port = usbip_addr(&sim).port().to_string();
    let out = std::process::Command::new(&tool)
        .args(["--tcp-port", &port, "list", "-r", "127.0.0.1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "usbip list: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1209:0001"), "{stdout}");
    assert!(stdout.contains(&format!("{BUS_ID}:")), "{stdout}");
    assert!(stdout.contains("(ff/54/01)"), "{stdout}");
}

/// The `usbip` tool: on PATH, or in /usr/sbin (not on a non-root PATH).
fn find_usbip_tool() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join("usbip"))
        .find(|p| p.is_file())
}
