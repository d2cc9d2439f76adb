//! Upload verification throughput of the bureau (B3): SM2 verification of disk-signed events
//! dominates, so the batch is verified on one thread and on two (`std::thread::scope`), and a
//! whole in-process upload (verification + SQLite transaction + receipt) is measured too.
//! `verify_1_thread_rustcrypto` is RustCrypto's verifier alone on one thread, the reference
//! the bureau's verifier (`efficient-sm2` arithmetic inside RustCrypto's checks) replaced.
//!
//! `cargo bench -p taxdisk-device-sim --bench bureau`
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use taxdisk_device_sim::bureau::Bureau;
use taxdisk_device_sim::bureau::upload::verify_events;
use taxdisk_protocol::bureau_api::{
    BuyRolls, ProvisionRequest, RegisterKey, RegisterTaxpayer, Upload,
};
use taxdisk_protocol::message::{ProvisionProof, SignedMessage};
use taxdisk_protocol::sign;
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::*;

const BATCH: u32 = 256;
const NOW: Timestamp = Timestamp(1_794_276_000); // 2026-11-10 10:00 CST

fn serial() -> DeviceSerial {
    DeviceSerial::new("661234567890").unwrap()
}

/// A bureau with one registered disk and a roll of `BATCH` normal numbers.
fn bureau(key: &sign::Sm2SigningKey) -> (Bureau, RollGrant) {
    let mut b = Bureau::open(None, Some(1)).unwrap();
    b.set_time(NOW).unwrap();
    let taxpayer = TaxpayerId::new("91350100M000100Y43").unwrap();
    b.register_taxpayer(RegisterTaxpayer {
        taxpayer_id: taxpayer.clone(),
        company_name: CompanyName::new("测试有限公司").unwrap(),
        kinds: vec![KindLimits {
            kind: InvoiceKind::Normal,
            single_limit: Fen(10_000_000),
            offline_hours: 72,
            offline_amount: Fen(100_000_000),
        }],
    })
    .unwrap();
    b.provision(ProvisionRequest {
        serial: serial(),
        taxpayer_id: taxpayer,
        machine: 0,
    })
    .unwrap();
    let public_key = sign::public_key(key);
    let proof = sign::sign(
        key,
        &ProvisionProof {
            serial: serial(),
            public_key,
        },
    )
    .unwrap();
    b.register_key(RegisterKey {
        serial: serial(),
        result: ProvisionResult { public_key, proof },
    })
    .unwrap();
    let g = b
        .buy_rolls(BuyRolls {
            serial: serial(),
            kind: InvoiceKind::Normal,
            count: BATCH,
        })
        .unwrap()
        .remove(0)
        .body;
    (b, g)
}

fn events(key: &sign::Sm2SigningKey, g: &RollGrant) -> Vec<JournalEvent> {
    (0..BATCH)
        .map(|i| {
            let body = IssuedInvoice {
                serial: serial(),
                machine: 0,
                kind: g.kind,
                variant: Variant::Standard,
                code: g.code.clone(),
                number: InvoiceNumber::new(g.first.get() + i).unwrap(),
                counter: u64::from(i) + 1,
                time: NOW,
                request_id: [i as u8; 16],
                content_digest: [7; 32],
                buyer: None,
                amount: Fen(10_000 + i64::from(i)),
                tax: Fen(1_300),
                red: None,
                oil: None,
            };
            JournalEvent::Invoice(Signed::sign(body, key).unwrap())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let key = sign::signing_key(&[9; 32]).unwrap();
    let vk = sign::verifying_key(&sign::public_key(&key)).unwrap();
    let (_, g) = bureau(&key);
    let evs = events(&key, &g);
    let mut group = c.benchmark_group("bureau_upload");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(BATCH)));
    // One core against all of them (as an upload verifies, at most 8).
    let all = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(1)
        .min(8);
    let counts = if all > 1 { vec![1, all] } else { vec![1] };
    for threads in counts {
        group.bench_function(format!("verify_{threads}_thread"), |b| {
            b.iter(|| {
                let ok = verify_events(&vk, black_box(&evs), threads);
                assert!(ok.iter().all(|x| *x));
            })
        });
    }
    // The reference the fast verifier replaced: RustCrypto's verifier alone, one thread.
    group.bench_function("verify_1_thread_rustcrypto", |b| {
        b.iter(|| {
            let mut buf = [0u8; taxdisk_protocol::message::MAX_MESSAGE];
            for e in black_box(&evs) {
                let JournalEvent::Invoice(s) = e else {
                    unreachable!("the bench batch holds invoices only")
                };
                let msg = s.body.message_into(&mut buf).unwrap();
                vk.verify_rustcrypto(msg, &s.signature).unwrap();
            }
        })
    });
    group.bench_function("upload_in_process", |b| {
        b.iter_batched(
            || bureau(&key).0,
            |mut bureau| {
                let r = bureau
                    .upload(Upload {
                        serial: serial(),
                        events: evs.clone(),
                    })
                    .unwrap();
                assert_eq!(r.accepted, BATCH);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
