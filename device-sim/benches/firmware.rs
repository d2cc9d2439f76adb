//! Raw SM2 signing against the firmware issue path with flash (SimDisk in-process, through
//! encoded frames): the issue path should reach at least 90 % of the raw signing rate.
//!
//! `cargo bench -p taxdisk-device-sim --bench firmware`
// Money is written yuan_fen (100_00 = 100.00 yuan).
#![allow(clippy::inconsistent_digit_grouping)]
use criterion::{Criterion, Throughput, criterion_group};
use std::hint::black_box;
use std::time::{Duration, Instant};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::sign;
use taxdisk_protocol::time::{CivilTime, Timestamp};
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response};

const SESSION: u32 = 1;
const ROLL: u32 = 5_000_000;

fn serial() -> DeviceSerial {
    DeviceSerial::new("661234567890").expect("valid serial")
}

fn start() -> Timestamp {
    Timestamp::from_civil(CivilTime {
        year: 2026,
        month: 11,
        day: 10,
        hour: 10,
        minute: 0,
        second: 0,
    })
}

/// A provisioned, logged-in disk (64 MiB flash) with one large roll of normal invoices.
fn disk() -> SimDisk {
    let bureau = sign::signing_key(&[7; 32]).expect("valid key");
    let cfg = SimConfig::new(serial(), sign::public_key(&bureau), start());
    let mut disk = SimDisk::new(cfg).expect("sim disk");
    let limits = KindLimits {
        kind: InvoiceKind::Normal,
        single_limit: Fen(1_000_000_00),
        offline_hours: 1_000_000,
        offline_amount: Fen(i64::MAX / 2),
    };
    let token = ProvisionToken {
        serial: serial(),
        taxpayer_id: TaxpayerId::new("91350100M000100Y43").expect("valid id"),
        company_name: CompanyName::new("基准测试有限公司").expect("valid name"),
        machine: 0,
        kinds: [limits].into_iter().collect(),
        lock_time: start().plus_secs(365 * 86_400),
        upload_deadline: start().plus_secs(365 * 86_400),
        issued_at: start(),
    };
    let ok = |disk: &mut SimDisk, r: Request| disk.request(SESSION, r).expect("accepted");
    ok(
        &mut disk,
        Request::Provision(Signed::sign(token, &bureau).expect("sign")),
    );
    ok(
        &mut disk,
        Request::Login(Pin::new(Pin::FACTORY).expect("pin")),
    );
    let grant = RollGrant {
        serial: serial(),
        seq: 1,
        kind: InvoiceKind::Normal,
        code: InvoiceCode::new("033002610004").expect("valid code"),
        first: InvoiceNumber::new(1).expect("valid number"),
        count: ROLL,
        issued_at: start(),
    };
    ok(
        &mut disk,
        Request::LoadRolls(Signed::sign(grant, &bureau).expect("sign")),
    );
    disk
}

fn request(n: u64) -> IssueRequest {
    let mut request_id = [0u8; 16];
    request_id[..8].copy_from_slice(&n.to_le_bytes());
    IssueRequest {
        request_id,
        kind: InvoiceKind::Normal,
        variant: Variant::Standard,
        buyer: Some(TaxpayerId::new("91350100M000100Y43").expect("valid id")),
        amount: Fen(1000_00 + (n % 1000) as i64),
        tax: Fen(130_00),
        content_digest: [n as u8; 32],
        red: None,
        oil: None,
    }
}

/// A disk with room for `n` more invoices (a fresh one when the journal runs low).
struct Bench {
    disk: SimDisk,
    n: u64,
    free: u64,
}

impl Bench {
    fn new() -> Bench {
        let disk = disk();
        Bench {
            disk,
            n: 0,
            free: 200_000,
        }
    }

    fn issue_many(&mut self, iters: u64) -> Duration {
        if self.free < iters + 10 {
            *self = Bench::new();
        }
        let t = Instant::now();
        for _ in 0..iters {
            self.n += 1;
            let r = self.disk.request(SESSION, Request::Issue(request(self.n)));
            match r {
                Ok(Response::Issue(s)) => {
                    black_box(s);
                }
                other => panic!("issue refused: {other:?}"),
            }
        }
        let e = t.elapsed();
        self.free -= iters;
        // Keep the virtual clock moving like a real day.
        self.disk.advance(1);
        e
    }
}

fn signing(c: &mut Criterion) {
    let key = sign::signing_key(&[3; 32]).expect("valid key");
    // The same message the disk signs: an IssuedInvoice's canonical bytes.
    let body = IssuedInvoice {
        serial: serial(),
        machine: 0,
        kind: InvoiceKind::Normal,
        variant: Variant::Standard,
        code: InvoiceCode::new("033002610004").expect("valid code"),
        number: InvoiceNumber::new(12_345).expect("valid number"),
        counter: 12_345,
        time: start(),
        request_id: [1; 16],
        content_digest: [2; 32],
        buyer: Some(TaxpayerId::new("91350100M000100Y43").expect("valid id")),
        amount: Fen(1000_00),
        tax: Fen(130_00),
        red: None,
        oil: None,
    };
    let msg = body.message();
    let mut g = c.benchmark_group("firmware");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("raw_sm2_sign", |b| {
        b.iter(|| black_box(sign::sign_bytes(&key, black_box(&msg))))
    });
    let mut bench = Bench::new();
    g.bench_function("issue_path_simdisk", |b| {
        b.iter_custom(|iters| bench.issue_many(iters))
    });
    g.finish();
}

/// Interleaved blocks of raw signing and issuing, so machine load hits both alike; prints the
/// issue path's rate as a share of the raw signing rate (median of the block ratios).
fn interleaved_ratio() {
    let key = sign::signing_key(&[3; 32]).expect("valid key");
    let msg = [0x5Au8; 200];
    let mut bench = Bench::new();
    let mut ratios = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        for i in 0..200u8 {
            let mut m = msg;
            m[0] = i;
            black_box(sign::sign_bytes(&key, &m));
        }
        let raw = t.elapsed();
        let issue = bench.issue_many(200);
        ratios.push(raw.as_secs_f64() / issue.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "firmware/interleaved: issue path rate = {:.1} % of raw SM2 signing (median of 15 blocks of 200)",
        100.0 * ratios[ratios.len() / 2]
    );
}

criterion_group!(benches, signing);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    interleaved_ratio();
}
