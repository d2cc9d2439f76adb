//! The RFC 6979 nonce of a signature (section 3.2, HMAC-SM3 DRBG, no extra data): the `k`
//! the `rfc6979` crate's `KGenerator` draws, to the byte, in about half the SM3 compressions.
//!
//! The crate's DRBG keys a new HMAC for every step, although `K` is used twice or three times
//! in a row, and after drawing `k` it moves its state on for a next draw that almost never
//! comes (the first candidate is refused with probability about 2^-32). Here a keyed
//! HMAC is cloned for each use of its key, the all-zero initial key is keyed once per signing
//! key, and the state moves on only when a candidate is refused: 16 compressions against 30,
//! about 6 µs of a 70 µs signature. `nonces_are_the_crates` checks the bytes against the
//! crate's generator, and `refused_candidates_move_on_as_the_crates_do` the path after a
//! refused candidate (against the crate with a smaller order, where half are refused).

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
        self.first_taken(x, h1, |t| {
            Option::<Scalar>::from(Scalar::from_repr((*t).into()))
                .filter(|k| !bool::from(k.is_zero()))
        })
    }

    /// The DRBG's first output `T` that `take` accepts, as `take` answers it (`k` takes
    /// `T` in `[1, n)`; the tests take other ranges, so the refusals' path runs too).
    fn first_taken<K>(
        &self,
        x: &[u8; 32],
        h1: &[u8; 32],
        take: impl Fn(&[u8; 32]) -> Option<K>,
    ) -> Option<K> {
        let mut v = [0x01u8; 32];
        // K = HMAC_K(V || 0x00 || x || h1), V = HMAC_K(V), with K = 0...0.
        let k1 = keyed(&mac(&self.zero, &[&v, &[0x00], x, h1]));
        v = mac(&k1, &[&v]);
        // K = HMAC_K(V || 0x01 || x || h1), V = HMAC_K(V).
        let mut key = keyed(&mac(&k1, &[&v, &[0x01], x, h1]));
        v = mac(&key, &[&v]);
        for _ in 0..64 {
            // T = V = HMAC_K(V) (qlen = hlen = 256 bits); k = bits2int(T).
            v = mac(&key, &[&v]);
            if let Some(k) = take(&v) {
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

    /// 2,000 (x, h1) pairs spread over the whole range (a simple LCG over both), h1's top bit
    /// as `top` says, x below n.
    fn inputs(top: bool) -> impl Iterator<Item = ([u8; 32], [u8; 32])> {
        (0u32..2000).map(move |i| {
            let mut x = [0u8; 32];
            let mut h1 = [0u8; 32];
            for (j, b) in x.iter_mut().chain(h1.iter_mut()).enumerate() {
                *b = (i
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(j as u32 * 40_503)
                    >> 13) as u8;
            }
            x[0] &= 0x7f;
            if !top {
                h1[0] &= 0x7f;
            }
            (x, h1)
        })
    }

    /// The refusals' path, which n almost never takes: against the crate's generator with the
    /// order 2^255, about half the first candidates are refused (their top bit set), and a
    /// quarter of the second ones.
    #[test]
    fn refused_candidates_move_on_as_the_crates_do() {
        let nk = NonceKey::new();
        let q = U256::ONE.shl_vartime(255);
        let mut refused = 0;
        for (x, h1) in inputs(false) {
            let mut kgen = rfc6979::KGenerator::<Sm3, U256>::new(&x, &h1, &[], &q);
            let mut theirs = [0u8; 32];
            kgen.fill_next_k(&mut theirs);
            let tries = core::cell::Cell::new(0);
            let ours = nk.first_taken(&x, &h1, |t| {
                tries.set(tries.get() + 1);
                (t[0] & 0x80 == 0 && t.iter().any(|b| *b != 0)).then_some(*t)
            });
            assert_eq!(ours, Some(theirs), "x {x:02x?} h1 {h1:02x?}");
            refused += tries.get() - 1;
        }
        assert!(refused > 500, "only {refused} candidates refused");
    }

    #[test]
    fn nonces_are_the_crates() {
        let nk = NonceKey::new();
        for (x, h1) in inputs(true) {
            let ours = nk.k(&x, &h1).map(|k| <[u8; 32]>::from(k.to_repr()));
            assert_eq!(ours, Some(crates_k(&x, &h1)), "x {x:02x?} h1 {h1:02x?}");
        }
    }
}
