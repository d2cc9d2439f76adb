//! Raw SM2 (GB/T 32918, SM3, signer id `1234567812345678`) with RustCrypto `sm2` through
//! `taxdisk_protocol::sign`, over an invoice-sized message (an `IssuedInvoice`'s canonical bytes,
//! the message the disk signs): `sign_bytes`, `sign` (canonical message + signature, what the
//! firmware calls), `verify_bytes` (what the bureau does per uploaded event: `efficient-sm2`'s
//! arithmetic inside RustCrypto's checks), `verify_bytes_rustcrypto` (RustCrypto's verifier
//! alone, the reference it replaced) and `verify`.
//! This is the reference rate of DESIGN "Targets" (`sm2/sign_bytes`; 17,000 to 23,000
//! signatures/s on one core of the 2-vCPU machine of BENCHMARKS.md "2026-12-07 (q)").
//!
//! Every signing bench signs a distinct message each time (`taxdisk::bench::stamp` puts a
//! count in its first 8 bytes), as the disk does: one message over and over repeats the
//! RFC 6979 nonce and keeps `k·G`'s table walk in the cache, 11-12 % faster than issuing ever
//! signs.
//!
//! `signers/*` sets the SM2 implementations side by side over the same message and key (issue
//! 15), each checked first (its signature verifies with RustCrypto's verifier; the
//! deterministic ones byte-identical to RustCrypto's signer):
//!
//! - `sm2_no_table`: RustCrypto `sm2`'s signing steps with `k·G` by the generic scalar
//!   multiplication, as the crate signs without its `precomputed-tables` feature (the feature
//!   is on for the whole std build, so the bench replays the crate's steps with
//!   `GENERATOR * k`, the crate's own no-table backend);
//! - `sm2_table`: `sm2::dsa::SigningKey::sign` with the base-point table;
//! - `sm2_cached`: `SigningKey::sign_rustcrypto`, the crate's arithmetic with `Z_A` and
//!   `(1 + d)^-1` computed once per key (the no_std firmware's signer);
//! - `efficient_sm2`: the `efficient-sm2` crate's own `KeyPair::sign` (random nonce, `Z_A`
//!   recomputed by `libsm` per call);
//! - `efficient_sign_digest`: `SigningKey::sign_efficient_sign_digest`, `efficient-sm2`'s
//!   `sign_digest` over our SM3 digest (cached `Z_A`) with the RFC 6979 nonce fed in as its
//!   "random" source (deterministic, byte-identical to RustCrypto); it inverts `1 + d` for
//!   every signature (the chosen signer until 2026-12-07 "(q)");
//! - `chosen`: `sign::sign_bytes`, what the disk, the bureau and "raw signing" use in std
//!   builds: `[k]G` by `efficient-sm2`'s base-point table, the rest with RustCrypto's scalars
//!   and the cached `(1 + d)^-1` (deterministic, byte-identical to RustCrypto).
//!
//! After criterion's report, interleaved: 30 rounds in which every signer signs a block of 200
//! in turn (the order rotates); each round's rates against that round's fastest, median and
//! quartiles.
//!
//! `cargo bench --bench sign`
// Benches may unwrap: a failed setup is a broken bench, and a panic says where.
#![allow(clippy::unwrap_used)]

mod common;

use common::bench_invoice;
use criterion::{Criterion, Throughput, criterion_group};
use std::hint::black_box;
use std::time::Duration;
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::sign;
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::*;

use sm2::dsa::signature::Signer;
use sm2::elliptic_curve::ops::Reduce;
use sm2::elliptic_curve::point::AffineCoordinates;
use sm2::elliptic_curve::subtle::ConstantTimeEq;
use sm2::elliptic_curve::{Curve, PrimeField};
use sm2::{ProjectivePoint, Scalar, Sm2, U256};
use sm3::Digest;
use std::time::Instant;

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
        let mut m = msg.clone();
        b.iter_custom(|n| taxdisk::bench::sign_distinct(&key, &mut m, n))
    });
    g.bench_function("sign_invoice", |b| {
        let mut body = body.clone();
        b.iter(|| {
            // The next invoice of the roll: a distinct message, as issuing signs.
            body.counter += 1;
            black_box(sign::sign(&key, black_box(&body)).unwrap())
        })
    });
    g.bench_function("verify_bytes", |b| {
        b.iter(|| sign::verify_bytes(&vk, black_box(&msg), black_box(&sig)).unwrap())
    });
    g.bench_function("verify_bytes_rustcrypto", |b| {
        b.iter(|| {
            vk.verify_rustcrypto(black_box(&msg), black_box(&sig))
                .unwrap()
        })
    });
    g.bench_function("verify_invoice", |b| {
        b.iter(|| sign::verify(&vk, black_box(&body), black_box(&sig)).unwrap())
    });
    g.finish();
    println!("sm2: message of {} bytes", msg.len());
}

/// RustCrypto `sm2`'s signing steps (signing.rs `sign_prehash_rfc6979`) with `k·G` by the
/// crate's no-table backend (`GENERATOR * k`): the crate's signer without `precomputed-tables`.
fn sign_no_table(key: &sm2::dsa::SigningKey, za: &[u8; 32], msg: &[u8]) -> Signature {
    let d: Scalar = *key.as_nonzero_scalar().as_ref();
    let e = <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice(&sm3_e(za, msg)));
    let mut kgen =
        rfc6979::KGenerator::<sm3::Sm3, U256>::new(&d.to_repr(), &e.to_bytes(), &[], &Sm2::ORDER);
    let mut kb = sm2::FieldBytes::default();
    kgen.fill_next_k(&mut kb);
    let k = Scalar::from_repr(kb).unwrap();
    let point = (ProjectivePoint::GENERATOR * k).to_affine();
    let r = e + <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice(&point.x()));
    assert!(!bool::from(r.is_zero() | (r + k).ct_eq(&Scalar::ZERO)));
    let inv = Option::<Scalar>::from((d + Scalar::ONE).invert()).unwrap();
    let s = inv * (k - r * d);
    Signature {
        r: r.to_bytes().into(),
        s: s.to_bytes().into(),
    }
}

/// `SM3(Z_A || M)`.
fn sm3_e(za: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut h = sm3::Sm3::new_with_prefix(za);
    h.update(msg);
    h.finalize().into()
}

/// `Z_A` of the key as GB/T 32918 defines it (the crate keeps its own private; a wrong one
/// would change every signature, which `Signers::check` would catch).
fn za_of(key: &sign::Sm2SigningKey) -> [u8; 32] {
    use primeorder::PrimeCurveParams;
    use sm2::elliptic_curve::sec1::ToSec1Point;
    let mut h = sm3::Sm3::new();
    h.update(128u16.to_be_bytes());
    h.update(sign::SIGNER_ID.as_bytes());
    h.update(Sm2::EQUATION_A.to_bytes());
    h.update(Sm2::EQUATION_B.to_bytes());
    h.update(Sm2::GENERATOR.0.to_bytes());
    h.update(Sm2::GENERATOR.1.to_bytes());
    h.update(&key.verifying_key().to_sec1_point(false).as_bytes()[1..]);
    h.finalize().into()
}

/// The signers under comparison, each as a closure over the same message.
struct Signers {
    cached: sign::Sm2SigningKey,
    crate_key: sm2::dsa::SigningKey,
    za: [u8; 32],
    efficient: efficient_sm2::KeyPair,
}

const NAMES: [&str; 6] = [
    "sm2_no_table",
    "sm2_table",
    "sm2_cached",
    "efficient_sm2",
    "efficient_sign_digest",
    "chosen",
];

impl Signers {
    fn new() -> Self {
        let secret = [0x42; 32];
        let cached = sign::signing_key(&secret).unwrap();
        let za = za_of(&cached);
        Signers {
            crate_key: sm2::dsa::SigningKey::from_slice(sign::SIGNER_ID, &secret).unwrap(),
            za,
            efficient: efficient_sm2::KeyPair::new(&secret).unwrap(),
            cached,
        }
    }

    fn sign(&self, which: usize, msg: &[u8]) -> Signature {
        match which {
            0 => sign_no_table(&self.crate_key, &self.za, msg),
            1 => {
                let sig: sm2::dsa::Signature = self.crate_key.sign(msg);
                Signature {
                    r: sig.r_bytes().into(),
                    s: sig.s_bytes().into(),
                }
            }
            2 => self.cached.sign_rustcrypto(msg),
            3 => {
                let sig = self.efficient.sign(msg).unwrap();
                Signature {
                    r: sig.r(),
                    s: sig.s(),
                }
            }
            4 => self.cached.sign_efficient_sign_digest(msg),
            _ => sign::sign_bytes(&self.cached, msg),
        }
    }

    /// Every signer verifies with RustCrypto's verifier (and `efficient-sm2`'s own verifier);
    /// the deterministic ones are byte-identical to the crate's signer. A failure is a broken
    /// signer: the bench stops.
    fn check(&self, msg: &[u8]) {
        let vk = sign::verifying_key(&sign::public_key(&self.cached)).unwrap();
        assert_eq!(
            self.efficient.public_key().bytes_less_safe()[1..],
            sign::public_key(&self.cached).to_sec1()[1..],
            "efficient-sm2 derives another public key"
        );
        let reference = self.sign(1, msg);
        for (i, name) in NAMES.iter().enumerate() {
            let sig = self.sign(i, msg);
            assert_eq!(sign::verify_bytes(&vk, msg, &sig), Ok(()), "{name}");
            let esig = efficient_sm2::Signature::new(&sig.r, &sig.s).unwrap();
            esig.verify(&self.efficient.public_key(), msg)
                .unwrap_or_else(|e| panic!("{name}: efficient-sm2 refuses: {e:?}"));
            if i != 3 {
                assert_eq!(sig, reference, "{name} differs from RustCrypto's signature");
            }
        }
    }
}

fn signers(c: &mut Criterion) {
    let all = Signers::new();
    let msg = body().message();
    all.check(&msg);
    let mut g = c.benchmark_group("signers");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(700));
    g.measurement_time(Duration::from_secs(3));
    for (i, name) in NAMES.iter().enumerate() {
        let mut m = msg.clone();
        let mut count = 0u64;
        g.bench_function(*name, |b| {
            b.iter(|| {
                count += 1;
                taxdisk::bench::stamp(&mut m, count);
                black_box(all.sign(i, black_box(&m)))
            })
        });
    }
    g.finish();
}

/// Interleaved: `ROUNDS` rounds of a block of `BLOCK` signatures by every signer in turn
/// (the order rotating), each round's rates against that round's fastest.
fn interleaved_signers() {
    const ROUNDS: usize = 30;
    const BLOCK: u32 = 200;
    let all = Signers::new();
    let mut msg = body().message();
    let mut count = 0u64;
    let mut rates = vec![Vec::with_capacity(ROUNDS); NAMES.len()];
    let mut ratios = vec![Vec::with_capacity(ROUNDS); NAMES.len()];
    for round in 0..ROUNDS {
        let mut this = [0f64; NAMES.len()];
        for j in 0..NAMES.len() {
            let i = (round + j) % NAMES.len();
            let t = Instant::now();
            for _ in 0..BLOCK {
                count += 1;
                taxdisk::bench::stamp(&mut msg, count);
                black_box(all.sign(i, black_box(&msg)));
            }
            this[i] = f64::from(BLOCK) / t.elapsed().as_secs_f64();
        }
        let best = this.iter().copied().fold(0.0, f64::max);
        for i in 0..NAMES.len() {
            rates[i].push(this[i]);
            ratios[i].push(this[i] / best);
        }
    }
    println!("signers/interleaved ({ROUNDS} rounds of {BLOCK} per signer, rotating order):");
    for (i, name) in NAMES.iter().enumerate() {
        rates[i].sort_by(f64::total_cmp);
        ratios[i].sort_by(f64::total_cmp);
        let at = |v: &Vec<f64>, q: usize| v[(v.len() - 1) * q / 4];
        println!(
            "  {name:<21} median {:>7.0} /s   vs the round's fastest: median {:>5.1} % (quartiles {:.1} to {:.1} %)",
            at(&rates[i], 2),
            100.0 * at(&ratios[i], 2),
            100.0 * at(&ratios[i], 1),
            100.0 * at(&ratios[i], 3),
        );
    }
}

criterion_group!(benches, sm2, signers);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Not in criterion's test mode (`cargo test --benches`), nor under `--profile-time`.
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--profile-time") {
        interleaved_signers();
    }
}
