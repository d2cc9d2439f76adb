//! Shared helpers of the root package's criterion benches: the bench invoices (the same drafts as
//! `taxdisk bench`, src/bench.rs), a provisioned simulated disk behind a `DiskClient` (in-process
//! or served on TCP loopback), a fresh store, and the issue loop of one invoice end to end.
//!
//! Not a bench target itself (cargo only discovers `benches/*.rs` and `benches/*/main.rs`); each
//! bench includes it with `mod common;` and uses what it needs.
// Benches may unwrap: a failed setup is a broken bench, and a panic says where.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};
use taxdisk::rig::{Disk, DiskLink, RigBuilder};
use taxdisk_device_sim::bureau::Bureau;
use taxdisk_device_sim::serve::Server;
use taxdisk_host::disk::new_request_id;
use taxdisk_host::invoice::{Draft, Invoice};
use taxdisk_host::store::{DiskRecord, Durability, PendingInsert, Store, UserId};
use taxdisk_host::workflow::Workflow;
use taxdisk_protocol::checkcode::check_code;
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Period, Timestamp};

/// The seller of the bench invoices (as `taxdisk bench`).
pub const BENCH_TIN: &str = taxdisk::bench::BENCH_TIN;
/// The buyer of the bench invoices.
pub const BUYER_TIN: &str = "110108123456789";
/// Most blank numbers topped up at once: the disk holds 16 rolls of 1,000.
pub const TOP_UP: u32 = 8_000;

/// The `i`th bench draft: 1 to 3 service lines at 6 %, as `taxdisk bench` issues them.
/// Its issuer is the bench store's supervisor: the stages benched here validate and store it
/// without the workflow, which would write the logged-in user's name.
pub fn draft(i: usize) -> Draft {
    let mut d = taxdisk::bench::draft(i, &TaxpayerId::new(BUYER_TIN).unwrap()).unwrap();
    d.issuer = taxdisk::bench::BENCH_SUPERVISOR.into();
    d
}

/// The store's record of what the disk signed.
pub fn disk_record(signed: &Signed<IssuedInvoice>) -> DiskRecord {
    let b = &signed.body;
    DiskRecord {
        code: b.code.clone(),
        number: b.number,
        counter: b.counter,
        time: b.time,
        signature: signed.signature,
        check_code: (b.kind != InvoiceKind::Special).then(|| check_code(&signed.signature)),
    }
}

/// A fresh initialized store at `path` with `durability`; answers the supervisor's id.
pub fn new_store(path: &Path, durability: Durability) -> (Store, UserId) {
    taxdisk::bench::new_store(path, durability).unwrap()
}

/// The invoice the signing benches sign, as the disk would record it at `time`: its
/// canonical bytes (129 bytes) are the message of an issue.
pub fn bench_invoice(time: Timestamp) -> IssuedInvoice {
    IssuedInvoice {
        serial: DeviceSerial::new("661234567890").unwrap(),
        machine: 0,
        kind: InvoiceKind::Electronic,
        variant: Variant::Standard,
        code: InvoiceCode::new("035002600111").unwrap(),
        number: InvoiceNumber::new(12_345).unwrap(),
        counter: 12_345,
        time,
        request_id: [1; 16],
        content_digest: [2; 32],
        buyer: Some(TaxpayerId::new(BUYER_TIN).unwrap()),
        amount: Fen(12_345),
        tax: Fen(741),
        red: None,
        oil: None,
    }
}

/// A fixed signing key and the message the disk signs for an invoice (an `IssuedInvoice`'s
/// canonical bytes), for raw SM2 signing next to the issue path.
pub fn raw_sign_setup() -> (sign::Sm2SigningKey, Vec<u8>) {
    let key = sign::signing_key(&[0x42; 32]).unwrap();
    (key, bench_invoice(Timestamp::now()).message())
}

/// Resident set size of this process in KiB (Linux), to see that memory stays flat.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// `n` raw SM2 signatures of `msg`, each stamped distinct as no two invoices are alike
/// ([`taxdisk::bench::sign_distinct`]); answers the time taken.
pub fn raw_sign_many(key: &sign::Sm2SigningKey, msg: &[u8], n: u64) -> Duration {
    let mut msg = msg.to_vec();
    taxdisk::bench::sign_distinct(key, &mut msg, n)
}

/// A disk behind a client, the bureau that provisioned it, and the store of its invoices:
/// everything one end-to-end issue touches.
pub struct Rig {
    /// The disk client.
    pub disk: Disk,
    /// The bureau that sells the rolls.
    pub bureau: Bureau,
    /// The disk's serial.
    pub serial: DeviceSerial,
    /// The host store.
    pub store: Store,
    /// The store's user.
    pub user: UserId,
    /// The TCP server, kept alive while the rig lives.
    pub server: Option<Server>,
    /// Invoices issued so far (draft variety and journal room).
    pub issued: usize,
    /// The tempdir of the store.
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Rig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rig")
            .field("serial", &self.serial)
            .field("issued", &self.issued)
            .finish()
    }
}

/// A rig over an in-process `SimDisk` (64 MiB flash: ~260,000 journal records).
pub fn inproc_rig(seed: u64, durability: Durability) -> Rig {
    Rig::new(seed, DiskLink::Owned, durability)
}

/// A rig over TCP loopback: a `SimDisk` served by `taxdisk_device_sim::serve::Server` on
/// 127.0.0.1 port 0 (its own accept and connection threads), reached with `TcpTransport`.
pub fn tcp_rig(seed: u64, durability: Durability) -> Rig {
    Rig::new(seed, DiskLink::Served, durability)
}

impl Rig {
    /// The library's rig (`taxdisk::rig`), provisioned and logged in as `taxdisk bench` does
    /// it, with [`TOP_UP`] blank numbers and a fresh store.
    fn new(seed: u64, link: DiskLink, durability: Durability) -> Rig {
        let taxdisk::rig::Rig {
            mut disk,
            mut bureau,
            serial,
            server,
            ..
        } = RigBuilder::new(&format!("6699{seed:08}"))
            .seed(seed)
            .link(link)
            .build()
            .unwrap();
        taxdisk::bench::prepare(&mut disk, &mut bureau, &serial, 0, TOP_UP).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (store, user) = new_store(&dir.path().join("issue.db"), durability);
        Rig {
            disk,
            bureau,
            serial,
            store,
            user,
            server,
            issued: 0,
            _dir: dir,
        }
    }

    /// Makes sure at least `want` (at most [`TOP_UP`]) blank numbers are loaded.
    pub fn top_up(&mut self, want: u32) {
        top_up(&mut self.disk, &mut self.bureau, &self.serial, want);
    }

    /// One invoice end to end, as `taxdisk bench` and `Workflow::issue` do it: compose and
    /// validate (H7), record pending (H8), the disk signs and journals it (D5, D13), store the
    /// signed record. Blank numbers must have been topped up.
    pub fn issue_one(&mut self) {
        let inv = draft(self.issued).validate().unwrap();
        let request_id = new_request_id();
        let period = Timestamp::now().period();
        let id = self
            .store
            .insert_pending(self.user, &inv, request_id, period, None)
            .unwrap();
        let signed = self.disk.issue(inv.issue_request(request_id)).unwrap();
        self.store.mark_issued(id, &disk_record(&signed)).unwrap();
        self.issued += 1;
    }

    /// [`Rig::issue_one`] with the wall time of each phase added to `phases`: compose +
    /// validate, `insert_pending`, building the request (`issue_request`: the second content
    /// digest), the disk (`issue`), `mark_issued`.
    pub fn issue_one_timed(&mut self, phases: &mut [Vec<Duration>; 5]) {
        let t0 = Instant::now();
        let inv = draft(self.issued).validate().unwrap();
        let t1 = Instant::now();
        let request_id = new_request_id();
        let id = self
            .store
            .insert_pending(self.user, &inv, request_id, host_period(), None)
            .unwrap();
        let t2 = Instant::now();
        let req = inv.issue_request(request_id);
        let t3 = Instant::now();
        let signed = self.disk.issue(req).unwrap();
        let t4 = Instant::now();
        self.store.mark_issued(id, &disk_record(&signed)).unwrap();
        let t5 = Instant::now();
        for (i, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4]
            .into_iter()
            .enumerate()
        {
            phases[i].push(d);
        }
        self.issued += 1;
    }

    /// Issues `n` invoices end to end; answers the time of the issuing alone (top-ups of blank
    /// numbers between chunks are not timed).
    pub fn issue_many(&mut self, n: u64) -> Duration {
        let rig = std::cell::RefCell::new(self);
        timed_chunks(
            n,
            1,
            |want| rig.borrow_mut().top_up(want),
            |_| rig.borrow_mut().issue_one(),
        )
    }

    /// `k` invoices end to end as one batch, as `Workflow::issue_batch` and `taxdisk bench
    /// --batch K` do it: compose and validate each (H7, one content digest each), record all
    /// pending in one transaction (H8), the disk signs each with the requests pipelined where
    /// the link allows, store all signed records in one transaction.
    pub fn issue_batch(&mut self, k: usize) {
        self.issue_batch_timed(k, None);
    }

    /// [`Rig::issue_batch`], adding the wall time of each phase to `phases` when given:
    /// compose + validate + request, `insert_pending_batch`, the disk (`issue_pipelined`),
    /// `mark_issued_batch`.
    pub fn issue_batch_timed(&mut self, k: usize, phases: Option<&mut [Duration; 4]>) {
        let t0 = Instant::now();
        let period = host_period();
        let prepared: Vec<(Invoice, IssueRequest)> = (0..k)
            .map(|j| {
                let inv = draft(self.issued + j).validate().unwrap();
                let r = inv.issue_request(new_request_id());
                (inv, r)
            })
            .collect();
        let items: Vec<PendingInsert<'_>> = prepared
            .iter()
            .map(|(inv, r)| PendingInsert {
                invoice: inv,
                request_id: r.request_id,
                digest: r.content_digest,
                red_form: None,
            })
            .collect();
        let t1 = Instant::now();
        let ids = self
            .store
            .insert_pending_batch(self.user, period, &items)
            .unwrap();
        let t2 = Instant::now();
        let mut records = Vec::with_capacity(k);
        let window = self.disk.pipeline_depth();
        self.disk
            .issue_pipelined(prepared.iter().map(|(_, r)| r), window, |i, r| {
                records.push((ids[i], disk_record(&r.unwrap())));
                true
            });
        let t3 = Instant::now();
        for r in self.store.mark_issued_batch(&records).unwrap() {
            r.unwrap();
        }
        let t4 = Instant::now();
        if let Some(p) = phases {
            for (i, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3].into_iter().enumerate() {
                p[i] += d;
            }
        }
        self.issued += k;
    }

    /// Issues `n` invoices end to end in batches of `k` ([`Rig::issue_batch`]); answers the
    /// time of the issuing alone.
    pub fn issue_many_batched(&mut self, n: u64, k: usize) -> Duration {
        let rig = std::cell::RefCell::new(self);
        timed_chunks(
            n,
            k,
            |want| rig.borrow_mut().top_up(want),
            |b| rig.borrow_mut().issue_batch(b),
        )
    }

    /// `n` disk issues alone (frame codec, transport, firmware checks, SM2 signing, flash
    /// journal) with a pre-built request per issue: no composition, no SQLite.
    pub fn disk_only_many(&mut self, drafts: &[IssueRequest], n: u64) -> Duration {
        let mut timed = Duration::ZERO;
        let mut left = n;
        while left > 0 {
            let chunk = left.min(u64::from(TOP_UP));
            self.top_up(chunk as u32);
            let t = Instant::now();
            for i in 0..chunk {
                let d = IssueRequest {
                    request_id: new_request_id(),
                    ..drafts[(self.issued + i as usize) % drafts.len()].clone()
                };
                std::hint::black_box(self.disk.issue(d).unwrap());
            }
            timed += t.elapsed();
            self.issued += chunk as usize;
            left -= chunk;
        }
        timed
    }
}

/// Makes sure at least `want` (at most [`TOP_UP`]) blank electronic numbers are loaded on
/// `disk`, buying the rest from `bureau`.
pub fn top_up(disk: &mut Disk, bureau: &mut Bureau, serial: &DeviceSerial, want: u32) {
    taxdisk::bench::top_up(disk, bureau, serial, want.min(TOP_UP)).unwrap();
}

/// Runs `n` issues in chunks of at most [`TOP_UP`], topping up with `top_up` before each chunk
/// and timing only `issue(k)` calls of at most `k` invoices; answers the time of the issuing.
pub fn timed_chunks(
    n: u64,
    k: usize,
    mut top_up: impl FnMut(u32),
    mut issue: impl FnMut(usize),
) -> Duration {
    let mut timed = Duration::ZERO;
    let mut left = n as usize;
    while left > 0 {
        let chunk = left.min(TOP_UP as usize);
        top_up(chunk as u32);
        let t = Instant::now();
        let mut done = 0;
        while done < chunk {
            let b = k.min(chunk - done);
            issue(b);
            done += b;
        }
        timed += t.elapsed();
        left -= chunk;
    }
    timed
}

/// The current host period (what `insert_pending` records before the disk decides).
pub fn host_period() -> Period {
    Timestamp::now().period()
}

/// What [`interleaved`] measured.
pub struct Interleaved {
    /// Raw signatures per second over all raw blocks.
    pub raw: f64,
    /// Issues per second over all issuing blocks.
    pub rate: f64,
    /// The median of the per-block ratios issue/raw.
    pub median: f64,
    /// The first and third quartiles of the per-block ratios (their spread).
    pub quartiles: (f64, f64),
}

impl std::fmt::Display for Interleaved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "raw SM2 {:.0}/s, end-to-end {:.0}/s, median block ratio {:.1} % (quartiles {:.1} to {:.1} %)",
            self.raw,
            self.rate,
            100.0 * self.median,
            100.0 * self.quartiles.0,
            100.0 * self.quartiles.1
        )
    }
}

/// Interleaved blocks: `block` raw signatures, then `block` issues with `f`, repeated `blocks`
/// times, so machine load hits both alike; the median of the per-block ratios is the figure,
/// the quartiles its spread.
pub fn interleaved(
    blocks: usize,
    block: u64,
    mut issue: impl FnMut(u64) -> Duration,
) -> Interleaved {
    let (key, msg) = raw_sign_setup();
    let mut ratios = Vec::with_capacity(blocks);
    let (mut raw_t, mut issue_t) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..blocks {
        let r = raw_sign_many(&key, &msg, block);
        let i = issue(block);
        raw_t += r;
        issue_t += i;
        ratios.push(r.as_secs_f64() / i.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let n = (blocks as u64 * block) as f64;
    let at = |q: usize| ratios[(ratios.len() - 1) * q / 4];
    Interleaved {
        raw: n / raw_t.as_secs_f64(),
        rate: n / issue_t.as_secs_f64(),
        median: at(2),
        quartiles: (at(1), at(3)),
    }
}

/// The invoicing software itself over a provisioned disk: [`Workflow::issue_batch`] with the
/// automatic upload off (issuing alone: the upload is the bureau's cost, measured by the
/// bureau bench). Permission checks (H3), buyer saving (H5) and result building included.
pub struct WfRig {
    /// The workflow, logged in as the bench supervisor.
    pub wf: Workflow,
    /// The bureau that sells the rolls.
    pub bureau: Bureau,
    /// The disk's serial.
    pub serial: DeviceSerial,
    /// The TCP server, kept alive while the rig lives.
    pub server: Option<Server>,
    /// Invoices issued so far.
    pub issued: usize,
    _dir: tempfile::TempDir,
}

/// A [`WfRig`] over an in-process `SimDisk` or, with `tcp`, a served one on loopback.
pub fn workflow_rig(seed: u64, tcp: bool, durability: Durability) -> WfRig {
    let link = if tcp {
        DiskLink::Served
    } else {
        DiskLink::Owned
    };
    let rig = Rig::new(seed, link, durability);
    let Rig {
        disk,
        bureau,
        serial,
        store,
        server,
        _dir,
        ..
    } = rig;
    let mut wf = Workflow::new(store, disk, None);
    wf.set_auto_upload(false);
    wf.login("bench", "bench-password", &Pin::new(Pin::FACTORY).unwrap())
        .unwrap();
    WfRig {
        wf,
        bureau,
        serial,
        server,
        issued: 0,
        _dir,
    }
}

impl WfRig {
    /// Makes sure at least `want` (at most [`TOP_UP`]) blank numbers are loaded.
    pub fn top_up(&mut self, want: u32) {
        top_up(self.wf.disk(), &mut self.bureau, &self.serial, want);
    }

    /// Issues `n` invoices with `Workflow::issue_batch` in batches of `k`; answers the time of
    /// the issuing alone (drafts are built inside the timed part, as a caller would).
    pub fn issue_many(&mut self, n: u64, k: usize) -> Duration {
        let rig = std::cell::RefCell::new(self);
        timed_chunks(
            n,
            k,
            |want| rig.borrow_mut().top_up(want),
            |b| {
                let mut r = rig.borrow_mut();
                let drafts = (0..b).map(|j| draft(r.issued + j)).collect();
                for res in r.wf.issue_batch(drafts).unwrap() {
                    res.unwrap();
                }
                r.issued += b;
            },
        )
    }
}
