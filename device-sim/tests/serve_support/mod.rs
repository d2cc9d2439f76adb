//! Shared helpers of the `serve_*` tests: the `taxdisk-sim serve` binary started on 127.0.0.1
//! port 0 (ports read from `--print-ports`), a minimal framed TCP client of the disk port written
//! with `taxdisk_protocol::frame` only, and bureau tokens signed with a test bureau key.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::frame::{MAX_ENCODED, decode_response, encode_request};
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::time::CivilTime;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{FrameDecoder, Refusal, Request, Response, Timestamp};

/// The test disk's serial.
pub const SERIAL: &str = "661234567890";
/// The test taxpayer (the GB 32100 example code).
pub const TAXPAYER: &str = "91350100M000100Y43";
/// A normal-invoice roll code (kind digits `04`).
pub const NORMAL_CODE: &str = "031001600104";
/// The factory PIN.
pub const PIN: &str = Pin::FACTORY;

/// 2026-11-10 10:00 China Standard Time: the disk clock the tests start at.
pub fn start_time() -> Timestamp {
    Timestamp::from_civil(CivilTime {
        year: 2026,
        month: 11,
        day: 10,
        hour: 10,
        minute: 0,
        second: 0,
    })
}

/// The bureau key of the tests.
pub fn bureau_key() -> Sm2SigningKey {
    sign::signing_key(&[7; 32]).unwrap()
}

/// Its public key as `--bureau-key` takes it (SEC1 uncompressed hex).
pub fn bureau_key_hex() -> String {
    sign::public_key(&bureau_key())
        .to_sec1()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn serial() -> DeviceSerial {
    DeviceSerial::new(SERIAL).unwrap()
}

/// The bound ports printed by `--print-ports`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Ports {
    pub disk: SocketAddr,
    pub control: SocketAddr,
    pub bureau: Option<String>,
    pub bureau_key: String,
    /// The USB/IP port, with `--usbip`.
    #[serde(default)]
    pub usbip: Option<SocketAddr>,
    /// Every disk (several with `--image` given more than once).
    #[serde(default)]
    pub disks: Vec<DiskPorts>,
}

/// One disk of `--print-ports`' `disks`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct DiskPorts {
    pub serial: String,
    pub disk: SocketAddr,
    pub control: SocketAddr,
    pub bus_id: Option<String>,
}

/// A running `taxdisk-sim serve`. Killed when dropped.
#[derive(Debug)]
pub struct Sim {
    pub child: Child,
    pub ports: Ports,
}

/// Arguments of a test disk: port 0 on loopback, the test serial, seed and bureau key, a 1 MiB
/// flash, a manual clock at [`start_time`].
pub fn base_args() -> Vec<String> {
    [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--control",
        "127.0.0.1:0",
        "--serial",
        SERIAL,
        "--seed",
        "11",
        "--clock",
        "manual",
        "--flash-size",
        "1M",
        "--print-ports",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        "--start-time".to_string(),
        start_time().0.to_string(),
        "--bureau-key".to_string(),
        bureau_key_hex(),
    ])
    .collect()
}

impl Sim {
    /// Starts the binary with `args` and waits for its ports line.
    pub fn start(args: &[String]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_taxdisk-sim"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start taxdisk-sim");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let ports: Ports = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("ports line {line:?}: {e}"));
        Sim { child, ports }
    }

    /// Starts a test disk with an in-memory flash.
    pub fn start_default() -> Sim {
        Sim::start(&base_args())
    }

    /// Starts a test disk on the image file `image`.
    pub fn start_with_image(image: &Path) -> Sim {
        let mut args = base_args();
        args.push("--image".into());
        args.push(image.display().to_string());
        Sim::start(&args)
    }

    /// Whether the process still runs.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(self) -> ExitStatus {
        self.signal("-TERM")
    }

    /// Sends a signal (`-TERM`, `-INT`) with kill(1) and waits for the exit.
    pub fn signal(mut self, sig: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args([sig, &pid]).status().unwrap();
        assert!(ok.success(), "kill {sig} {pid}");
        wait_timeout(&mut self.child, Duration::from_secs(20))
    }

    /// Sends SIGKILL and waits for the exit.
    pub fn kill(mut self) -> ExitStatus {
        self.child.kill().unwrap();
        wait_timeout(&mut self.child, Duration::from_secs(20))
    }

    /// A new disk-port connection.
    pub fn disk(&self) -> DiskConn {
        DiskConn::connect(self.ports.disk)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let end = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < end, "taxdisk-sim did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How long a test waits for an answer that should come.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// A minimal framed client of the disk port.
#[derive(Debug)]
pub struct DiskConn {
    pub stream: TcpStream,
    decoder: Box<FrameDecoder<MAX_ENCODED>>,
    seq: u32,
}

impl DiskConn {
    pub fn connect(addr: SocketAddr) -> DiskConn {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        DiskConn {
            stream,
            decoder: Box::new(FrameDecoder::new()),
            seq: 0,
        }
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends a request; returns its sequence number.
    pub fn send(&mut self, session: u32, req: &Request) -> u32 {
        self.try_send(session, req).expect("send a request")
    }

    /// Sends a request; `None` if the connection is gone.
    pub fn try_send(&mut self, session: u32, req: &Request) -> Option<u32> {
        self.seq += 1;
        let mut out = [0u8; MAX_ENCODED];
        let n = encode_request(self.seq, session, req, &mut out).unwrap();
        self.stream.write_all(&out[..n]).ok()?;
        Some(self.seq)
    }

    /// The answer with sequence `seq`, or `None` if none comes within `timeout` (answers of
    /// other sequence numbers and bad frames are skipped).
    pub fn recv(&mut self, seq: u32, timeout: Duration) -> Option<Result<Response, Refusal>> {
        let end = Instant::now() + timeout;
        let mut buf = [0u8; 2048];
        loop {
            let left = end.checked_duration_since(Instant::now())?;
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            let n = match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => n,
                // Timed out, or the server went away.
                Err(_) => return None,
            };
            let mut got = None;
            self.decoder.feed(&buf[..n], |f| {
                if let Ok((h, p)) = f
                    && h.seq == seq
                    && got.is_none()
                {
                    got = Some(decode_response(&h, p).unwrap());
                }
            });
            if got.is_some() {
                return got;
            }
        }
    }

    /// Sends a request and waits for its answer (which must come).
    pub fn call(&mut self, session: u32, req: Request) -> Result<Response, Refusal> {
        let seq = self.send(session, &req);
        self.recv(seq, ANSWER_TIMEOUT)
            .unwrap_or_else(|| panic!("no answer to {:?}", req.id()))
    }
}

/// The provisioning token of the test disk: normal invoices, a high single limit, the first
/// lock time a month after [`start_time`].
pub fn provision_token() -> Signed<ProvisionToken> {
    let t = start_time();
    let mut kinds = heapless::Vec::new();
    kinds
        .push(KindLimits {
            kind: InvoiceKind::Normal,
            single_limit: Fen(100_000_000),
            offline_hours: 24 * 30,
            offline_amount: Fen(10_000_000_000),
        })
        .unwrap();
    Signed::sign(
        ProvisionToken {
            serial: serial(),
            taxpayer_id: TaxpayerId::new(TAXPAYER).unwrap(),
            company_name: CompanyName::new("测试有限公司").unwrap(),
            machine: 0,
            kinds,
            lock_time: t.plus_secs(40 * 86_400),
            upload_deadline: t.plus_secs(35 * 86_400),
            issued_at: t,
        },
        &bureau_key(),
    )
    .unwrap()
}

/// A roll grant of `count` normal numbers from `first`.
pub fn roll_grant(seq: u32, first: u32, count: u32) -> Signed<RollGrant> {
    let code = InvoiceCode::new(NORMAL_CODE).unwrap();
    code.check_kind(InvoiceKind::Normal).unwrap();
    Signed::sign(
        RollGrant {
            serial: serial(),
            seq,
            kind: InvoiceKind::Normal,
            code,
            first: InvoiceNumber::new(first).unwrap(),
            count,
            issued_at: start_time(),
        },
        &bureau_key(),
    )
    .unwrap()
}

/// The `i`th test invoice: a blue normal invoice of `100 + i` yuan at 13 %.
pub fn issue_request(i: u32) -> IssueRequest {
    let mut request_id = [0u8; 16];
    request_id[..4].copy_from_slice(&i.to_le_bytes());
    request_id[15] = 0xA5;
    let amount = 10_000 + 100 * i64::from(i);
    IssueRequest {
        request_id,
        kind: InvoiceKind::Normal,
        variant: Variant::Standard,
        buyer: None,
        amount: Fen(amount),
        tax: Fen(amount * 13 / 100),
        content_digest: [i as u8; 32],
        red: None,
        oil: None,
    }
}

/// Provisions the disk, logs `session` in and loads one roll of 50 numbers. Returns the
/// disk's public key.
pub fn provision_and_load(conn: &mut DiskConn, session: u32) -> PublicKey {
    let pk = match conn.call(session, Request::Provision(provision_token())) {
        Ok(Response::Provision(r)) => r.public_key,
        other => panic!("provision: {other:?}"),
    };
    login(conn, session);
    match conn.call(session, Request::LoadRolls(roll_grant(1, 1, 50))) {
        Ok(Response::LoadRolls(r)) => assert_eq!(r.count, 50),
        other => panic!("load roll: {other:?}"),
    }
    pk
}

/// Logs `session` in with the factory PIN.
pub fn login(conn: &mut DiskConn, session: u32) {
    match conn.call(session, Request::Login(Pin::new(PIN).unwrap())) {
        Ok(Response::Login(())) => {}
        other => panic!("login: {other:?}"),
    }
}

/// Issues the `i`th test invoice.
pub fn issue(conn: &mut DiskConn, session: u32, i: u32) -> Signed<IssuedInvoice> {
    match conn.call(session, Request::Issue(issue_request(i))) {
        Ok(Response::Issue(s)) => s,
        other => panic!("issue {i}: {other:?}"),
    }
}
