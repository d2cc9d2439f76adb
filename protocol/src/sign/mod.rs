//! SM2 signing and verification of the canonical messages (GB/T 32918, SM3 digest, signer id
//! `1234567812345678`, deterministic RFC 6979 nonces) with RustCrypto `sm2`, and in std builds
//! `efficient-sm2`'s faster arithmetic for signing, to the same bytes ([`IMPLEMENTATION`]), and
//! for verification, to the same verdicts ([`VerifyingKey`]). Works without `std`.

mod nonce;
mod verifier;

pub use verifier::{VerifyingKey, verify, verify_bytes, verifying_key};

use crate::message::{MAX_MESSAGE, SignedMessage};
use crate::types::{PublicKey, Signature, Signed};
use core::fmt;
use primeorder::PrimeCurveParams;
use sm2::dsa::signature::Signer;
use sm2::elliptic_curve::ops::Reduce;
use sm2::elliptic_curve::point::AffineCoordinates;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::elliptic_curve::subtle::ConstantTimeEq;
use sm2::elliptic_curve::{Group, PrimeField};
use sm2::{ProjectivePoint, Scalar, Sm2, U256};
use sm3::{Digest, Sm3};

/// The signing key type (see [`SigningKey`]); the name other crates use.
pub type Sm2SigningKey = SigningKey;

/// The SM2 signer id (distinguishing identifier) used for every signature: the default of
/// GB/T 35276 and of OpenSSL's `distid`.
pub const SIGNER_ID: &str = "1234567812345678";

/// The SM2 implementation that signs, as benches name it: in std builds (the host, the
/// simulator, the bureau) `k·G` by the `efficient-sm2` crate's 2^8-ary base-point table, and
/// RustCrypto `sm2`'s digest, RFC 6979 nonce and scalars with `(1 + d)^-1` cached, so the
/// signatures are RustCrypto's to the byte; the fastest of the signers measured side by side
/// (benches/sign.rs, BENCHMARKS.md). Its `k·G` is not constant-time (it indexes its table by
/// the nonce's bytes and skips zero bytes): acceptable for a simulator whose keys sit in plain
/// files in its disk image, not for a real disk's secure element.
///
/// The nonce stays RFC 6979's although its HMAC-SM3 DRBG is about a fifth of a signature: the
/// signatures are reproducible (the golden vectors, byte-identity with RustCrypto's signer),
/// and a disk image restored from a backup can never sign two messages with one nonce, which a
/// seeded generator's stream could.
#[cfg(feature = "std")]
pub const IMPLEMENTATION: &str =
    "efficient-sm2 0.2 k·G, RustCrypto scalars, RFC 6979 nonce (RustCrypto-identical signatures)";
/// The SM2 implementation that signs, as benches name it: in `no_std` firmware builds
/// RustCrypto `sm2` without its base-point table (it needs std), key constants cached.
#[cfg(not(feature = "std"))]
pub const IMPLEMENTATION: &str = "RustCrypto sm2 0.14, no table (no_std), cached key constants";

/// Why signing or verification failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignError {
    /// The secret bytes are not a valid SM2 scalar (zero or not below the group order).
    BadSecret,
    /// The public key is not a point on the curve.
    BadPublicKey,
    /// The signature does not verify.
    BadSignature,
    /// The message did not fit [`MAX_MESSAGE`].
    MessageTooLong,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignError::BadSecret => "invalid SM2 secret key",
            SignError::BadPublicKey => "invalid SM2 public key",
            SignError::BadSignature => "SM2 signature does not verify",
            SignError::MessageTooLong => "message too long to sign",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SignError {}

/// An SM2 signing key with the constants of its signatures computed once.
///
/// GB/T 32918 signs with `s = (1 + d)^-1 (k - r d)` over `e = SM3(Z_A || M)`: `(1 + d)^-1`
/// (a scalar inversion) and `Z_A` (the SM3 of the signer id, the curve and the public key)
/// depend on the key alone, yet RustCrypto's `SigningKey` recomputes both for every
/// signature. This key computes them once and signs with the crate's own arithmetic (scalars,
/// `k·G` with its base-point table where built, RFC 6979 nonces through the `rfc6979` crate it
/// uses), in the same steps: the signatures are byte-identical to `sm2::dsa::SigningKey`'s
/// (`cached_constants_sign_byte_identically` checks it), about a fifth faster. In std builds
/// `k·G` is `efficient-sm2`'s instead (see [`IMPLEMENTATION`]), with the same digest, nonce,
/// scalars and checks: the same bytes again, about 2.2 times as fast.
#[derive(Clone)]
pub struct SigningKey {
    /// The crate's key: the public key, the secret bytes, and the fallback signer.
    inner: sm2::dsa::SigningKey,
    /// The secret scalar `d`.
    d: Scalar,
    /// `(1 + d)^-1 mod n`.
    d_plus_1_inv: Scalar,
    /// `Z_A = SM3(ENTL || ID || a || b || x_G || y_G || x_A || y_A)`.
    za: [u8; 32],
    /// The RFC 6979 generator's keyed initial state.
    nonce: nonce::NonceKey,
    /// The same secret in `efficient-sm2`'s form (for [`SigningKey::sign_efficient_sign_digest`]).
    #[cfg(feature = "std")]
    fast: efficient_sm2::KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret.
        f.debug_struct("SigningKey")
            .field("public", &public_key(self))
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn new(inner: sm2::dsa::SigningKey) -> Result<Self, SignError> {
        let d: Scalar = *inner.as_nonzero_scalar().as_ref();
        let d_plus_1_inv =
            Option::<Scalar>::from((d + Scalar::ONE).invert()).ok_or(SignError::BadSecret)?;
        let za = identity_hash(inner.verifying_key()).ok_or(SignError::BadSecret)?;
        #[cfg(feature = "std")]
        let fast = efficient_sm2::KeyPair::new(&d.to_repr()).map_err(|_| SignError::BadSecret)?;
        Ok(SigningKey {
            inner,
            d,
            d_plus_1_inv,
            za,
            nonce: nonce::NonceKey::new(),
            #[cfg(feature = "std")]
            fast,
        })
    }

    /// RustCrypto's verifying key of this key (for [`verifying_key`], this key's public key).
    pub fn verifying_key(&self) -> &sm2::dsa::VerifyingKey {
        self.inner.verifying_key()
    }

    /// `e = SM3(Z_A || M)` reduced mod n, and the RFC 6979 nonce `k` RustCrypto draws for it
    /// (HMAC-SM3 DRBG over the secret and `e`, no extra data; [`nonce`]).
    fn digest_and_nonce(&self, msg: &[u8]) -> ([u8; 32], Scalar, Option<Scalar>) {
        let mut h = Sm3::new_with_prefix(self.za);
        h.update(msg);
        let digest: [u8; 32] = h.finalize().into();
        let e = <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice(&digest));
        let k = self.nonce.k(&self.d.to_repr().into(), &e.to_repr().into());
        (digest, e, k)
    }

    /// Signs `msg` with RustCrypto's arithmetic: `sm2::dsa::SigningKey::sign`'s steps with
    /// `Z_A` and `(1 + d)^-1` taken from the key. The no_std signer; in std builds the
    /// reference the faster one is checked against (tests, benches/sign.rs).
    pub fn sign_rustcrypto(&self, msg: &[u8]) -> Signature {
        let (_, e, k) = self.digest_and_nonce(msg);
        let signed = k.and_then(|k| {
            // A4: (x1, y1) = [k]G.
            let point = ProjectivePoint::mul_by_generator(&k).to_affine();
            self.finish(e, k, &point.x())
        });
        // The crate's own path for the cases it refuses (probability about 2^-256 each): the
        // same answer, whatever it is, as the crate's signer.
        signed.unwrap_or_else(|| to_wire(&self.inner.sign(msg)))
    }

    /// A5 and A6 of GB/T 32918 from `e`, the nonce `k` and the x coordinate of `[k]G` (32
    /// big-endian bytes): `r = (e + x1) mod n`, `s = (1 + d)^-1 (k - r d) mod n` with the
    /// cached inverse. `None` for the cases RustCrypto refuses (r = 0, r + k = n, s = 0;
    /// about 2^-256 each), which the callers sign by the crate's own path.
    fn finish(&self, e: Scalar, k: Scalar, x1: &[u8]) -> Option<Signature> {
        let r = e + <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice(x1));
        if bool::from(r.is_zero() | (r + k).ct_eq(&Scalar::ZERO)) {
            return None;
        }
        let s = self.d_plus_1_inv * (k - r * self.d);
        if bool::from(s.is_zero()) {
            return None;
        }
        Some(Signature {
            r: r.to_repr().into(),
            s: s.to_repr().into(),
        })
    }

    /// Signs `msg` with `efficient-sm2`'s base-point table for `[k]G` (the public key of the
    /// scalar `k`, its table walk and one field inversion) and RustCrypto's scalars for the
    /// rest, over the same digest, nonce, cached `(1 + d)^-1` and checks as
    /// [`SigningKey::sign_rustcrypto`]: the same signature, to the byte.
    #[cfg(feature = "std")]
    pub fn sign_efficient(&self, msg: &[u8]) -> Signature {
        let (_, e, k) = self.digest_and_nonce(msg);
        let signed = k.and_then(|k| {
            let kg = efficient_sm2::KeyPair::new(&k.to_repr()).ok()?.public_key();
            // An uncompressed SEC1 point: 04 || x || y.
            self.finish(e, k, kg.bytes_less_safe().get(1..33)?)
        });
        signed.unwrap_or_else(|| self.sign_rustcrypto(msg))
    }

    /// The signer [`SigningKey::sign_efficient`] replaced (kept for benches/sign.rs):
    /// `efficient-sm2`'s `sign_digest` over the same digest, with the RFC 6979 nonce as its
    /// "random" source. The same bytes, but the crate inverts `1 + d` for every signature:
    /// it takes about a third longer (BENCHMARKS.md "2026-12-07 (q)").
    #[cfg(feature = "std")]
    pub fn sign_efficient_sign_digest(&self, msg: &[u8]) -> Signature {
        let (digest, _, k) = self.digest_and_nonce(msg);
        let signed = k.and_then(|k| {
            let sig = self
                .fast
                .sign_digest(&mut Nonce(k.to_bytes().into()), &digest)
                .ok()?;
            let r = Option::<Scalar>::from(Scalar::from_repr(sig.r().into()))?;
            let s = Option::<Scalar>::from(Scalar::from_repr(sig.s().into()))?;
            // RustCrypto refuses r = 0, r + k = n and s = 0 (efficient-sm2 checks only x1):
            // those cases (about 2^-256 each) take RustCrypto's path and answer as it does.
            if bool::from(r.is_zero() | (r + k).ct_eq(&Scalar::ZERO) | s.is_zero()) {
                return None;
            }
            Some(Signature {
                r: sig.r(),
                s: sig.s(),
            })
        });
        signed.unwrap_or_else(|| self.sign_rustcrypto(msg))
    }

    /// Signs `msg` with the fastest signer of this build (see [`IMPLEMENTATION`]).
    fn sign(&self, msg: &[u8]) -> Signature {
        #[cfg(feature = "std")]
        return self.sign_efficient(msg);
        #[cfg(not(feature = "std"))]
        return self.sign_rustcrypto(msg);
    }
}

/// An `efficient-sm2` random source that hands out one given nonce (RFC 6979's `k`, below n,
/// so its rejection loop takes it at once).
#[cfg(feature = "std")]
struct Nonce([u8; 32]);

#[cfg(feature = "std")]
impl efficient_sm2::SecureRandom for Nonce {
    fn fill(&mut self, dest: &mut [u8]) {
        let n = dest.len().min(32);
        dest[..n].copy_from_slice(&self.0[..n]);
    }
}

fn to_wire(sig: &sm2::dsa::Signature) -> Signature {
    Signature {
        r: sig.r_bytes().into(),
        s: sig.s_bytes().into(),
    }
}

/// `Z_A` of GB/T 32918 (the crate computes it inside its verifying key, not publicly).
fn identity_hash(vk: &sm2::dsa::VerifyingKey) -> Option<[u8; 32]> {
    let entl = u16::try_from(SIGNER_ID.len() * 8).ok()?;
    let mut h = Sm3::new();
    h.update(entl.to_be_bytes());
    h.update(SIGNER_ID.as_bytes());
    h.update(Sm2::EQUATION_A.to_bytes());
    h.update(Sm2::EQUATION_B.to_bytes());
    h.update(Sm2::GENERATOR.0.to_bytes());
    h.update(Sm2::GENERATOR.1.to_bytes());
    let point = vk.to_sec1_point(false);
    // An uncompressed SEC1 point: 04 || x || y.
    let xy = point.as_bytes().get(1..65)?;
    h.update(xy);
    Some(h.finalize().into())
}

/// A signing key from 32 secret bytes (big-endian scalar). Key generation draws 32 random
/// bytes and calls this until it succeeds (fails with probability ~2^-128).
pub fn signing_key(secret: &[u8; 32]) -> Result<SigningKey, SignError> {
    let inner =
        sm2::dsa::SigningKey::from_slice(SIGNER_ID, secret).map_err(|_| SignError::BadSecret)?;
    SigningKey::new(inner)
}

/// The secret bytes of a signing key (to store it on the disk's flash; never sent).
pub fn secret_bytes(key: &SigningKey) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&key.inner.to_bytes());
    out
}

/// The public key of a signing key.
pub fn public_key(key: &SigningKey) -> PublicKey {
    wire_public_key(key.verifying_key())
}

/// RustCrypto's verifying key as a wire public key.
fn wire_public_key(vk: &sm2::dsa::VerifyingKey) -> PublicKey {
    let point = vk.to_sec1_point(false);
    // An uncompressed SEC1 point is always 65 bytes starting with 04 (invariant of
    // to_sec1_point(false) on a non-identity key).
    PublicKey::from_sec1(point.as_bytes()).unwrap_or(PublicKey {
        x: [0; 32],
        y: [0; 32],
    })
}

/// Signs raw message bytes.
pub fn sign_bytes(key: &SigningKey, msg: &[u8]) -> Signature {
    key.sign(msg)
}

/// Signs a body's canonical message.
pub fn sign<M: SignedMessage>(key: &SigningKey, body: &M) -> Result<Signature, SignError> {
    let mut buf = [0u8; MAX_MESSAGE];
    let msg = body
        .message_into(&mut buf)
        .map_err(|_| SignError::MessageTooLong)?;
    Ok(sign_bytes(key, msg))
}

impl<T: SignedMessage> Signed<T> {
    /// Signs `body` with `key`.
    pub fn sign(body: T, key: &SigningKey) -> Result<Self, SignError> {
        let signature = sign(key, &body)?;
        Ok(Signed { body, signature })
    }
}

/// The DER encoding of a signature (`SEQUENCE { r INTEGER, s INTEGER }`), as OpenSSL reads it.
/// Written by hand because it is 20 lines and keeps `der` out of the no_std build.
pub fn signature_der(sig: &Signature, out: &mut [u8; 72]) -> usize {
    fn int(v: &[u8; 32], out: &mut [u8]) -> usize {
        let start = v.iter().position(|b| *b != 0).unwrap_or(31);
        let body = &v[start..];
        let pad = body[0] & 0x80 != 0;
        out[0] = 0x02;
        out[1] = (body.len() + pad as usize) as u8;
        let mut i = 2;
        if pad {
            out[i] = 0;
            i += 1;
        }
        out[i..i + body.len()].copy_from_slice(body);
        i + body.len()
    }
    let mut tmp = [0u8; 70];
    let n1 = int(&sig.r, &mut tmp);
    let n2 = int(&sig.s, &mut tmp[n1..]);
    out[0] = 0x30;
    out[1] = (n1 + n2) as u8;
    out[2..2 + n1 + n2].copy_from_slice(&tmp[..n1 + n2]);
    2 + n1 + n2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::*;
    #[cfg(not(feature = "std"))]
    use std::{vec, vec::Vec};

    fn key(b: u8) -> SigningKey {
        signing_key(&[b; 32]).unwrap()
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let k = key(7);
        let vk = verifying_key(&public_key(&k)).unwrap();
        let body = UploadReceipt {
            serial: DeviceSerial::new("661234567890").unwrap(),
            through_counter: 42,
            issued_at: crate::time::Timestamp(1_795_668_730),
        };
        let signed = Signed::sign(body.clone(), &k).unwrap();
        assert_eq!(signed.verify(&vk), Ok(()));
        let mut forged = signed.clone();
        forged.body.through_counter = 43;
        assert_eq!(forged.verify(&vk), Err(SignError::BadSignature));
        let other = verifying_key(&public_key(&key(8))).unwrap();
        assert_eq!(signed.verify(&other), Err(SignError::BadSignature));
    }

    #[test]
    fn cached_constants_sign_byte_identically() {
        // The crate's own signer is the reference: the cached key must give the same bytes
        // for every key and message (RFC 6979 nonces are deterministic).
        let mut secrets = vec![[1u8; 32], [0x42; 32], [0x7f; 32], [0xfe; 32]];
        // And keys with zero bytes (efficient-sm2's table skips them) and pseudo-random ones.
        secrets.push({
            let mut s = [0u8; 32];
            s[31] = 3;
            s
        });
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..12 {
            let mut s = [0u8; 32];
            for b in s.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            s[0] &= 0x7f;
            secrets.push(s);
        }
        for (i, secret) in secrets.iter().enumerate() {
            let fast = signing_key(secret).unwrap();
            let crate_key = sm2::dsa::SigningKey::from_slice(SIGNER_ID, secret).unwrap();
            for len in [0usize, 1, 31, 32, 55, 64, 130, 300] {
                let msg: Vec<u8> = (0..len).map(|j| (j * 7 + i) as u8).collect();
                let reference: sm2::dsa::Signature = crate_key.sign(&msg);
                let reference = to_wire(&reference);
                assert_eq!(fast.sign_rustcrypto(&msg), reference, "key {i}, len {len}");
                #[cfg(feature = "std")]
                assert_eq!(fast.sign_efficient(&msg), reference, "key {i}, len {len}");
                #[cfg(feature = "std")]
                assert_eq!(
                    fast.sign_efficient_sign_digest(&msg),
                    reference,
                    "key {i}, len {len}"
                );
                let ours = sign_bytes(&fast, &msg);
                assert_eq!(ours, reference, "key {i}, len {len}");
                let vk = verifying_key(&public_key(&fast)).unwrap();
                assert_eq!(verify_bytes(&vk, &msg, &ours), Ok(()));
            }
        }
    }

    #[test]
    fn zero_secret_is_refused() {
        assert_eq!(signing_key(&[0; 32]).err(), Some(SignError::BadSecret));
        assert_eq!(signing_key(&[0xff; 32]).err(), Some(SignError::BadSecret));
    }

    #[test]
    fn der_encoding_shapes() {
        let mut out = [0u8; 72];
        let sig = Signature {
            r: [0x80; 32],
            s: [0x01; 32],
        };
        let n = signature_der(&sig, &mut out);
        assert_eq!(&out[..4], &[0x30, 69, 0x02, 33]);
        assert_eq!(out[4], 0);
        assert_eq!(n, 71);
    }
}
