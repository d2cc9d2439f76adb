//! Raw SM2 (GB/T 32918, SM3, signer id `1234567812345678`) with RustCrypto `sm2` through
//! `taxdisk_protocol::sign`, over an invoice-sized message (an `IssuedInvoice`'s canonical bytes,
//! the message the disk signs): `sign_bytes`, `sign` (canonical message + signature, what the
//! firmware calls), `verify_bytes` (what the bureau does per uploaded event) and `verify`.
//! This is the reference rate of DESIGN "Targets" (about 6,000 signatures/s on one core).
//!
//! `cargo bench --bench sign`
// Benches may unwrap: a failed setup is a broken bench, and a panic says where.
#![allow(clippy::unwrap_used)]

mod common;

use common::bench_invoice;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::sign;
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::*;

/// The bench invoice at a fixed time (2026-11-10 10:00 CST).
fn body() -> IssuedInvoice {
    bench_invoice(Timestamp(1_794_276_000))
}

fn sm2(c: &mut Criterion) {
    let key = sign::signing_key(&[0x42; 32]).unwrap();
    let vk = sign::verifying_key(&sign::public_key(&key)).unwrap();
    let body = body();
    let msg = body.message();
    let sig = sign::sign_bytes(&key, &msg);
    let mut g = c.benchmark_group("sm2");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(700));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("sign_bytes", |b| {
        b.iter(|| black_box(sign::sign_bytes(&key, black_box(&msg))))
    });
    g.bench_function("sign_invoice", |b| {
        b.iter(|| black_box(sign::sign(&key, black_box(&body)).unwrap()))
    });
    g.bench_function("verify_bytes", |b| {
        b.iter(|| sign::verify_bytes(&vk, black_box(&msg), black_box(&sig)).unwrap())
    });
    g.bench_function("verify_invoice", |b| {
        b.iter(|| sign::verify(&vk, black_box(&body), black_box(&sig)).unwrap())
    });
    g.finish();
    println!("sm2: message of {} bytes", msg.len());
}

criterion_group!(benches, sm2);
criterion_main!(benches);
