//! Shared helpers of the firmware tests: a test bureau key, token builders, and a small
//! send/receive wrapper around a [`SimDisk`] that talks encoded frames.
#![allow(dead_code)]
// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used)]
// Money is written yuan_fen (100_00 = 100.00 yuan).
#![allow(clippy::inconsistent_digit_grouping)]

use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_protocol::command::*;
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Period, Request, Response, Timestamp, WireError};

/// The session most tests log in with.
pub const S: u32 = 1;
/// Another host session (D14).
pub const OTHER: u32 = 2;
/// The PIN a factory disk has.
pub const FACTORY_PIN: &str = "88888888";

pub fn bureau() -> Sm2SigningKey {
    sign::signing_key(&[7; 32]).unwrap()
}

pub fn foreign_bureau() -> Sm2SigningKey {
    sign::signing_key(&[9; 32]).unwrap()
}

pub fn serial() -> DeviceSerial {
    DeviceSerial::new("661234567890").unwrap()
}

pub fn other_serial() -> DeviceSerial {
    DeviceSerial::new("661234567891").unwrap()
}

pub fn taxpayer() -> TaxpayerId {
    TaxpayerId::new("91350100M000100Y43").unwrap()
}

/// A CST date-time.
pub fn at(year: u16, month: u8, day: u8, hour: u8) -> Timestamp {
    Timestamp::cst(year, month, day, hour, 0)
}

pub fn period(year: u16, month: u8) -> Period {
    Period::new(year, month).unwrap()
}

/// The start of most tests: 2026-11-10 10:00 CST.
pub fn start() -> Timestamp {
    at(2026, 11, 10, 10)
}

pub fn code(kind: InvoiceKind, batch: u32) -> InvoiceCode {
    let s = match kind {
        InvoiceKind::Special => format!("330026{}130", batch % 10),
        _ => format!("0330026{:03}{}", batch % 1000, &suffix(kind)),
    };
    InvoiceCode::new(&s).unwrap()
}

fn suffix(kind: InvoiceKind) -> String {
    taxdisk_protocol::validate::code_kind_suffix(kind)
        .unwrap()
        .to_string()
}

pub fn pin(s: &str) -> Pin {
    Pin::new(s).unwrap()
}

pub fn limits(kind: InvoiceKind) -> KindLimits {
    KindLimits {
        kind,
        single_limit: Fen(10_000_000_00),
        offline_hours: 24 * 30,
        offline_amount: Fen(1_000_000_000_00),
    }
}

pub fn signed<T: SignedMessage>(body: T) -> Signed<T> {
    Signed::sign(body, &bureau()).unwrap()
}

pub struct Disk {
    pub disk: SimDisk,
    pub seq: u32,
    pub request_no: u64,
    pub batch: u32,
}

impl Disk {
    /// A factory disk with a small flash.
    pub fn factory() -> Disk {
        Self::with_flash(1 << 20)
    }

    pub fn with_flash(bytes: usize) -> Disk {
        let mut cfg = SimConfig::new(serial(), sign::public_key(&bureau()), start());
        cfg.flash_bytes = bytes;
        cfg.seed = 42;
        Disk {
            disk: SimDisk::new(cfg).unwrap(),
            seq: 0,
            request_no: 0,
            batch: 100,
        }
    }

    pub fn provision_token(&self) -> Signed<ProvisionToken> {
        signed(ProvisionToken {
            serial: serial(),
            taxpayer_id: taxpayer(),
            company_name: CompanyName::new("测试有限公司").unwrap(),
            machine: 0,
            kinds: InvoiceKind::ALL.iter().map(|k| limits(*k)).collect(),
            lock_time: at(2026, 12, 16, 0),
            upload_deadline: at(2026, 12, 15, 0),
            issued_at: start(),
        })
    }

    /// Provisioned with every kind authorized, not logged in.
    pub fn provisioned() -> Disk {
        let mut d = Self::factory();
        let t = d.provision_token();
        d.ok(S, Request::Provision(t));
        d
    }

    /// Provisioned and logged in as [`S`].
    pub fn ready() -> Disk {
        let mut d = Self::provisioned();
        d.ok(S, Request::Login(pin(FACTORY_PIN)));
        d
    }

    /// Provisioned, logged in and holding a roll of 50 numbers of each kind.
    pub fn stocked() -> Disk {
        let mut d = Self::ready();
        for k in InvoiceKind::ALL {
            d.load_roll(k, 1, 50);
        }
        d
    }

    pub fn ok(&mut self, session: u32, req: Request) -> Response {
        let name = req.id().name();
        match self.disk.request(session, req) {
            Ok(r) => r,
            Err(e) => panic!("{name} refused: {:?} (detail {})", e.error, e.detail),
        }
    }

    pub fn err(&mut self, session: u32, req: Request) -> WireError {
        let name = req.id().name();
        match self.disk.request(session, req) {
            Ok(r) => panic!("{name} should be refused, answered {r:?}"),
            Err(e) => e.error,
        }
    }

    pub fn next_seq(&mut self) -> u32 {
        self.seq += 1;
        self.seq
    }

    pub fn grant(&mut self, kind: InvoiceKind, first: u32, count: u32) -> Signed<RollGrant> {
        self.batch += 1;
        let seq = self.next_seq();
        signed(RollGrant {
            serial: serial(),
            seq,
            kind,
            code: code(kind, self.batch),
            first: InvoiceNumber::new(first).unwrap(),
            count,
            issued_at: self.disk.now(),
        })
    }

    pub fn load_roll(&mut self, kind: InvoiceKind, first: u32, count: u32) -> Roll {
        let g = self.grant(kind, first, count);
        match self.ok(S, Request::LoadRolls(g)) {
            Response::LoadRolls(r) => r,
            r => panic!("{r:?}"),
        }
    }

    /// A fresh request id (sequential, as a host may choose them).
    pub fn request_id(&mut self) -> RequestId {
        self.request_no += 1;
        let mut request_id = [0u8; 16];
        request_id[..8].copy_from_slice(&self.request_no.to_be_bytes());
        request_id
    }

    /// A void of `invoice` with a fresh request id.
    pub fn void_req(&mut self, invoice: InvoiceRef) -> Request {
        Request::Void(VoidRequest {
            request_id: self.request_id(),
            invoice,
        })
    }

    /// A blank void with a fresh request id.
    pub fn void_blank_req(&mut self, kind: InvoiceKind, count: u32) -> Request {
        Request::VoidBlank(VoidBlank {
            request_id: self.request_id(),
            kind,
            count,
        })
    }

    pub fn req(&mut self, kind: InvoiceKind, amount: i64) -> IssueRequest {
        let request_id = self.request_id();
        IssueRequest {
            request_id,
            kind,
            variant: Variant::Standard,
            buyer: Some(taxpayer()),
            amount: Fen(amount),
            tax: Fen(amount * 13 / 100),
            content_digest: [self.request_no as u8; 32],
            red: None,
            oil: None,
        }
    }

    pub fn issue_with(&mut self, q: IssueRequest) -> Signed<IssuedInvoice> {
        match self.ok(S, Request::Issue(q)) {
            Response::Issue(s) => s,
            r => panic!("{r:?}"),
        }
    }

    pub fn issue(&mut self, kind: InvoiceKind, amount: i64) -> Signed<IssuedInvoice> {
        let q = self.req(kind, amount);
        self.issue_with(q)
    }

    pub fn issue_err(&mut self, kind: InvoiceKind, amount: i64) -> WireError {
        let q = self.req(kind, amount);
        self.err(S, Request::Issue(q))
    }

    pub fn red_of(&mut self, original: &IssuedInvoice, amount: i64) -> IssueRequest {
        let mut q = self.req(original.kind, -amount);
        q.red = Some(RedRef::Original {
            code: original.code.clone(),
            number: original.number,
        });
        q
    }

    pub fn info(&mut self) -> DiskInfo {
        match self.ok(S, Request::GetInfo(())) {
            Response::GetInfo(i) => i,
            r => panic!("{r:?}"),
        }
    }

    pub fn status(&mut self, kind: InvoiceKind) -> KindStatus {
        match self.ok(S, Request::GetStatus(kind)) {
            Response::GetStatus(s) => s,
            r => panic!("{r:?}"),
        }
    }

    pub fn public_key(&mut self) -> PublicKey {
        match self.ok(S, Request::GetPublicKey(())) {
            Response::GetPublicKey(k) => k,
            r => panic!("{r:?}"),
        }
    }

    pub fn pending(&mut self, after: u64) -> Vec<JournalEvent> {
        match self.ok(
            S,
            Request::ListPending(ListPending {
                after_counter: after,
                max: EVENTS_PER_PAGE as u8,
            }),
        ) {
            Response::ListPending(v) => v.into_iter().collect(),
            r => panic!("{r:?}"),
        }
    }

    pub fn all_pending(&mut self) -> Vec<JournalEvent> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self.pending(after);
            if page.is_empty() {
                return out;
            }
            after = page.last().unwrap().counter();
            out.extend(page);
        }
    }

    pub fn receipt(&mut self, through: u64) -> Signed<UploadReceipt> {
        signed(UploadReceipt {
            serial: serial(),
            through_counter: through,
            issued_at: self.disk.now(),
        })
    }

    pub fn ack(&mut self, through: u64) -> u32 {
        let r = self.receipt(through);
        match self.ok(S, Request::AckUpload(r)) {
            Response::AckUpload(n) => n,
            r => panic!("{r:?}"),
        }
    }

    pub fn copy_tax(&mut self, p: Period) -> Signed<PeriodSummary> {
        match self.ok(S, Request::CopyTax(p)) {
            Response::CopyTax(s) => s,
            r => panic!("{r:?}"),
        }
    }

    pub fn clear_token(&mut self, p: Period, lock: Timestamp) -> Signed<ClearCardToken> {
        let seq = self.next_seq();
        signed(ClearCardToken {
            serial: serial(),
            seq,
            period: p,
            next_lock_time: lock,
            upload_deadline: lock,
            limits: heapless::Vec::new(),
            issued_at: self.disk.now(),
        })
    }

    /// The bureau's receipt of the summary of `p` for this disk (D4, FAQ 4.21(4)).
    pub fn report_receipt(&mut self, p: Period) -> Signed<ReportReceipt> {
        signed(ReportReceipt {
            serial: serial(),
            period: p,
            issued_at: self.disk.now(),
        })
    }

    pub fn update(&mut self, changes: &[UpdateChange]) -> Signed<UpdateToken> {
        let seq = self.next_seq();
        signed(UpdateToken {
            serial: serial(),
            seq,
            changes: changes.iter().cloned().collect(),
            issued_at: self.disk.now(),
        })
    }

    /// Moves into the next month and reports (copy-tax + clear card) the one before.
    pub fn next_month_reported(&mut self) {
        let cur = self.info().period.unwrap();
        let next = cur.next();
        self.disk.set_time(next.start().plus_secs(3600 * 24 * 2));
        self.copy_tax(cur);
        let t = self.clear_token(cur, next.next().start().plus_secs(15 * 86_400));
        self.ok(S, Request::ClearCard(t));
    }

    /// Verifies a disk signature with the disk's public key.
    pub fn verify<T: SignedMessage>(&mut self, s: &Signed<T>) {
        let pk = self.public_key();
        s.verify(&sign::verifying_key(&pk).unwrap()).unwrap();
    }
}
