//! The RFC 6979 nonce of a signature (section 3.2, HMAC-SM3 DRBG, no extra data): the `k`
//! the `rfc6979` crate's `KGenerator` draws, to the byte, in about half the SM3 compressions.
//!
//! The crate's DRBG keys a new HMAC for every step, although `K` is used twice or three times
//! in a row, and after drawing `k` it moves its state on for a next draw that almost never
//! comes (the first candidate is below `n` but with probability about 2^-32). Here a keyed
//! HMAC is cloned for each use of its key, the all-zero initial key is keyed once per signing
//! key, and the state moves on only when a candidate is refused: 16 compressions against 30,
//! about 6 µs of a 70 µs signature. `nonces_are_the_crates` checks the bytes against the
//! crate's generator.

use rfc6979::hmac::{Hmac, KeyInit, Mac};
use sm2::Scalar;
use sm2::elliptic_curve::PrimeField;
use sm3::Sm3;

type HmacSm3 = Hmac<Sm3>;

/// The DRBG's initial key (32 zero bytes), keyed once.
#[derive(Clone)]
pub(super) struct NonceKey {
    zero: HmacSm3,
}

impl NonceKey {
    pub(super) fn new() -> Self {
        NonceKey {
            // A 32-byte key fits HMAC-SM3's 64-byte block: never refused.
            zero: <HmacSm3 as KeyInit>::new_from_slice(&[0u8; 32])
                .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length")),
        }
    }

    /// RFC 6979's `k` for the secret `x` (32 big-endian bytes) and `h1 = e` (the reduced
    /// digest, 32 bytes): the first DRBG output in `[1, n)`. `None` only if no candidate of
    /// 64 is (never met: each is refused with probability about 2^-32).
    pub(super) fn k(&self, x: &[u8; 32], h1: &[u8; 32]) -> Option<Scalar> {
        let mut v = [0x01u8; 32];
        // K = HMAC_K(V || 0x00 || x || h1), V = HMAC_K(V), with K = 0...0.
        let k1 = keyed(&mac(&self.zero, &[&v, &[0x00], x, h1]));
        v = mac(&k1, &[&v]);
        // K = HMAC_K(V || 0x01 || x || h1), V = HMAC_K(V).
        let mut key = keyed(&mac(&k1, &[&v, &[0x01], x, h1]));
        v = mac(&key, &[&v]);
        for _ in 0..64 {
            // T = V = HMAC_K(V) (qlen = hlen = 256 bits); k = bits2int(T), taken if below n.
            v = mac(&key, &[&v]);
            let candidate: Option<Scalar> = Scalar::from_repr(v.into()).into();
            if let Some(k) = candidate.filter(|k| !bool::from(k.is_zero())) {
                return Some(k);
            }
            // Refused: K = HMAC_K(V || 0x00), V = HMAC_K(V).
            key = keyed(&mac(&key, &[&v, &[0x00]]));
            v = mac(&key, &[&v]);
        }
        None
    }
}

/// HMAC-SM3 keyed with `key` (32 bytes).
fn keyed(key: &[u8; 32]) -> HmacSm3 {
    <HmacSm3 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"))
}

/// `HMAC(key, parts...)`, the keyed state cloned.
fn mac(key: &HmacSm3, parts: &[&[u8]]) -> [u8; 32] {
    let mut m = key.clone();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm2::elliptic_curve::Curve;
    use sm2::{Sm2, U256};

    fn crates_k(x: &[u8; 32], h1: &[u8; 32]) -> [u8; 32] {
        let mut kgen = rfc6979::KGenerator::<Sm3, U256>::new(x, h1, &[], &Sm2::ORDER);
        let mut k = [0u8; 32];
        kgen.fill_next_k(&mut k);
        k
    }

    #[test]
    fn nonces_are_the_crates() {
        let nk = NonceKey::new();
        let mut x = [0u8; 32];
        let mut h1 = [0u8; 32];
        for i in 0u32..2000 {
            // Inputs spread over the whole range: a simple LCG over both.
            for (j, b) in x.iter_mut().chain(h1.iter_mut()).enumerate() {
                *b = (i
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(j as u32 * 40_503)
                    >> 13) as u8;
            }
            x[0] &= 0x7f; // a secret below n
            let ours = nk.k(&x, &h1).map(|k| <[u8; 32]>::from(k.to_repr()));
            assert_eq!(ours, Some(crates_k(&x, &h1)), "x {x:02x?} h1 {h1:02x?}");
        }
    }
}
