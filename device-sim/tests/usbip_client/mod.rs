//! A USB/IP client written by hand for the `serve_usbip*` tests: OP_REQ_DEVLIST, OP_REQ_IMPORT
//! and USBIP_CMD_SUBMIT on ep 0 and the bulk endpoints, with the disk protocol's frames carried
//! on bulk OUT/IN; and the Linux `usbip` tool where it is installed.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::serve_support::{ANSWER_TIMEOUT, Sim};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use taxdisk_protocol::frame::{MAX_ENCODED, decode_response, encode_request};
use taxdisk_protocol::usb::{EP_IN, EP_OUT, PID, VID};
use taxdisk_protocol::{FrameDecoder, Refusal, Request, Response};

pub const SESSION: u32 = 0x5553_4201;
pub const BUS_ID: &str = "1-1";
pub const USBIP_VERSION: u16 = 0x0111;
pub const OP_REQ_DEVLIST: u16 = 0x8005;
pub const OP_REP_DEVLIST: u16 = 0x0005;
pub const OP_REQ_IMPORT: u16 = 0x8003;
pub const OP_REP_IMPORT: u16 = 0x0003;
pub const USBIP_CMD_SUBMIT: u32 = 1;
pub const USBIP_RET_SUBMIT: u32 = 3;
/// Size of a device record in OP_REP_DEVLIST / OP_REP_IMPORT.
pub const DEVICE_RECORD: usize = 0x138;
/// Linux `USB_SPEED_HIGH`.
pub const SPEED_HIGH: u32 = 3;

pub fn usbip_addr(sim: &Sim) -> SocketAddr {
    sim.ports.usbip.expect("--print-ports names the usbip port")
}

pub fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

pub fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

pub fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8(b[..end].to_vec()).unwrap()
}

/// One exported device as OP_REP_DEVLIST describes it.
#[derive(Debug)]
pub struct Listed {
    pub bus_id: String,
    pub speed: u32,
    pub vid: u16,
    pub pid: u16,
    pub num_interfaces: u8,
    pub interfaces: Vec<[u8; 3]>,
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(ANSWER_TIMEOUT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

pub fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut b = vec![0; n];
    s.read_exact(&mut b).unwrap();
    b
}

pub fn devlist(addr: SocketAddr) -> Vec<Listed> {
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
pub struct Imported {
    pub s: TcpStream,
    pub seq: u32,
}

/// OP_REQ_IMPORT of `bus_id`: the connection and the status (0 = imported).
pub fn import(addr: SocketAddr, bus_id: &str) -> (Imported, u32) {
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
pub fn import_request(addr: SocketAddr, bus_id: &str) -> (TcpStream, std::io::Result<[u8; 8]>) {
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
pub fn import_racing_unplug(addr: SocketAddr, bus_id: &str) {
    match import_request(addr, bus_id).1 {
        Ok(head) => assert_ne!(be32(&head[4..]), 0, "imported twice"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}"),
    }
}

impl Imported {
    /// One USBIP_CMD_SUBMIT and its USBIP_RET_SUBMIT: (status, data of an IN transfer).
    pub fn submit(&mut self, ep: u8, len: u32, setup: [u8; 8], out: &[u8]) -> (i32, Vec<u8>) {
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
    pub fn descriptor(&mut self, kind: u8, index: u8, lang: u16, len: u16) -> Vec<u8> {
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
    pub fn bulk_out(&mut self, frame: &[u8], chunk: usize) {
        for c in frame.chunks(chunk) {
            let (status, _) = self.submit(EP_OUT, c.len() as u32, [0; 8], c);
            assert_eq!(status, 0);
        }
    }

    /// One bulk IN URB of `len` bytes.
    pub fn bulk_in(&mut self, len: u32) -> Vec<u8> {
        let (status, d) = self.submit(EP_IN, len, [0; 8], &[]);
        assert_eq!(status, 0);
        d
    }

    /// Reads answer frames with IN URBs of `len` bytes until the one with sequence `seq`
    /// arrives; returns it, the raw bytes read and how many URBs carried data.
    pub fn answer(&mut self, seq: u32, len: u32) -> (Result<Response, Refusal>, Vec<u8>, usize) {
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
    pub fn call(&mut self, seq: u32, req: Request, out_chunk: usize, in_len: u32) -> Response {
        let frame = request_frame(seq, &req);
        self.bulk_out(&frame, out_chunk);
        match self.answer(seq, in_len).0 {
            Ok(r) => r,
            Err(e) => panic!("{:?} refused: {e:?}", req.id()),
        }
    }
}

pub fn request_frame(seq: u32, req: &Request) -> Vec<u8> {
    let mut out = vec![0u8; MAX_ENCODED];
    let n = encode_request(seq, SESSION, req, &mut out).unwrap();
    out.truncate(n);
    out
}

pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Waits (bounded) until the device list is `want` long: the export follows a plug change
/// after the control answer.
pub fn await_listed(addr: SocketAddr, want: usize) -> Vec<Listed> {
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

/// The `usbip` tool: on PATH, or in /usr/sbin (not on a non-root PATH).
pub fn find_usbip_tool() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join("usbip"))
        .find(|p| p.is_file())
}

impl Imported {
    /// The USB serial string of the imported device (from its device and string descriptors).
    pub fn serial_string(&mut self) -> String {
        let desc = self.descriptor(1, 0, 0, 18);
        let s = self.descriptor(3, desc[16], 0x0409, 255);
        let units: Vec<u16> = s[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    }

    /// Whether the server closed the connection (reads to its end within the read timeout).
    pub fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(self.s.read_to_end(&mut rest), Ok(0))
    }
}

/// Starts `taxdisk-sim serve` with the test disk's [`base_args`], `extra` and `--usbip` on a
/// free loopback port.
pub fn start_usbip(extra: &[String]) -> Sim {
    let mut args = crate::serve_support::base_args();
    args.extend_from_slice(extra);
    args.extend(["--usbip".to_string(), "127.0.0.1:0".to_string()]);
    Sim::start(&args)
}

/// Imports `bus_id`, trying again while it is refused (off the bus), for at most
/// [`ANSWER_TIMEOUT`].
pub fn import_when_back(addr: SocketAddr, bus_id: &str) -> Imported {
    let end = Instant::now() + ANSWER_TIMEOUT;
    loop {
        let (dev, status) = import(addr, bus_id);
        if status == 0 {
            return dev;
        }
        assert!(Instant::now() < end, "{bus_id} is not importable again");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The Linux `usbip` tool, or `None` (said on stderr) where it is not installed; on CI it must
/// be.
pub fn usbip_tool_or_skip() -> Option<std::path::PathBuf> {
    let tool = find_usbip_tool();
    if tool.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the usbip tool is not installed; CI must install it (Debian package usbip)"
        );
        eprintln!("skipped: usbip tool not installed");
    }
    tool
}

/// What `usbip list -r 127.0.0.1` with `tool` prints of the disks `sim` exports (it must
/// succeed).
pub fn usbip_tool_list(tool: &std::path::Path, sim: &Sim) -> String {
    let port = usbip_addr(sim).port().to_string();
    let out = std::process::Command::new(tool)
        .args(["--tcp-port", &port, "list", "-r", "127.0.0.1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "usbip list: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
