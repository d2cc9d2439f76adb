//! The check code (校验码, 20 digits) and the cipher area (密码区, 108 characters) of an invoice,
//! derived from the disk's SM2 signature (F5). The derivation is fixed: changing it changes every
//! printed invoice, so it is versioned by its domain tags and pinned by vectors in the tests.
//!
//! ```text
//! check code = decimal( u128_be( SM3("taxdisk/check-code/v1\0" || r || s)[0..16] ) mod 10^20 ),
//!              zero-padded to 20 digits
//! cipher     = for i in 1, 2: SM3("taxdisk/cipher/v1\0" || i || r || s), concatenated (64 bytes);
//!              the first 54 bytes, each as two symbols (high nibble first) of
//!              "0123456789+-*/<>"
//! ```
//!
//! Used-car invoices have no cipher area and special invoices print no check code (F5); the
//! functions compute both for any signature and the renderer decides what to print.

use crate::types::{CheckCode, Signature};
use sm3::{Digest, Sm3};

const CHECK_TAG: &[u8] = b"taxdisk/check-code/v1\0";
const CIPHER_TAG: &[u8] = b"taxdisk/cipher/v1\0";
/// The 16 symbols of the cipher area.
pub const CIPHER_ALPHABET: &[u8; 16] = b"0123456789+-*/<>";
/// Length of the cipher area in characters.
pub const CIPHER_LEN: usize = 108;

/// The number the check code of a signature writes in 20 decimal digits: the first 16 bytes
/// of SM3(tag || r || s), big-endian, modulo 10^20.
fn check_value(sig: &Signature) -> u128 {
    let mut h = Sm3::new();
    h.update(CHECK_TAG);
    h.update(sig.r);
    h.update(sig.s);
    let d = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&d[..16]);
    u128::from_be_bytes(first) % 100_000_000_000_000_000_000u128
}

/// The 20 digits of the check code of a signature.
pub fn check_code_digits(sig: &Signature) -> [u8; 20] {
    let v = check_value(sig);
    // Two halves of 10 digits each fit a u64, whose divisions by 10 are multiplications (a
    // u128 division is a library call: twenty of them cost more than the hash).
    const TEN_DIGITS: u128 = 10_000_000_000;
    let mut out = [b'0'; 20];
    for (half, mut part) in out
        .chunks_exact_mut(10)
        .zip([(v / TEN_DIGITS) as u64, (v % TEN_DIGITS) as u64])
    {
        for slot in half.iter_mut().rev() {
            *slot = b'0' + (part % 10) as u8;
            part /= 10;
        }
    }
    out
}

/// The check code of a signature.
pub fn check_code(sig: &Signature) -> CheckCode {
    let digits = check_code_digits(sig);
    // 20 ASCII digits always pass the F5 check (invariant of check_code_digits).
    CheckCode::new(core::str::from_utf8(&digits).unwrap_or("00000000000000000000"))
        .unwrap_or_else(|_| CheckCode::new("00000000000000000000").expect("constant is valid"))
}

/// The 108 ASCII characters of the cipher area of a signature.
pub fn cipher_area(sig: &Signature) -> [u8; CIPHER_LEN] {
    let mut stream = [0u8; 64];
    for (i, chunk) in stream.chunks_mut(32).enumerate() {
        let mut h = Sm3::new();
        h.update(CIPHER_TAG);
        h.update([i as u8 + 1]);
        h.update(sig.r);
        h.update(sig.s);
        chunk.copy_from_slice(&h.finalize());
    }
    let mut out = [0u8; CIPHER_LEN];
    for (i, b) in stream[..CIPHER_LEN / 2].iter().enumerate() {
        out[2 * i] = CIPHER_ALPHABET[(b >> 4) as usize];
        out[2 * i + 1] = CIPHER_ALPHABET[(b & 0x0f) as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(b: u8) -> Signature {
        Signature {
            r: [b; 32],
            s: [b.wrapping_add(1); 32],
        }
    }

    #[test]
    fn f5_vectors_are_stable() {
        // Pinned (and cross-checked with Python hashlib sm3): if these change, every printed
        // invoice changes.
        let s = sig(0x11);
        let cc = check_code(&s);
        assert_eq!(cc.as_str().len(), 20);
        assert_eq!(
            cc.as_str(),
            core::str::from_utf8(&check_code_digits(&s)).unwrap()
        );
        assert_eq!(cc.as_str(), crate::checkcode::tests::PINNED_CHECK);
        let c = cipher_area(&s);
        assert_eq!(core::str::from_utf8(&c).unwrap(), PINNED_CIPHER);
    }

    #[test]
    fn f5_digits_are_the_decimal_of_the_hash_written_out_plainly() {
        for b in 0..=255u8 {
            let s = Signature {
                r: [b; 32],
                s: [b ^ 0x5a; 32],
            };
            let mut v = check_value(&s);
            let mut want = [b'0'; 20];
            for slot in want.iter_mut().rev() {
                *slot = b'0' + (v % 10) as u8;
                v /= 10;
            }
            assert_eq!(check_code_digits(&s), want, "signature byte {b}");
        }
    }

    #[test]
    fn f5_shape() {
        for b in [0u8, 1, 0x7f, 0xff] {
            let cc = check_code(&sig(b));
            assert!(cc.as_str().bytes().all(|c| c.is_ascii_digit()));
            let c = cipher_area(&sig(b));
            assert!(c.iter().all(|x| CIPHER_ALPHABET.contains(x)));
        }
        assert_ne!(check_code(&sig(1)), check_code(&sig(2)));
    }

    pub(super) const PINNED_CHECK: &str = "32410570858694556907";
    const PINNED_CIPHER: &str = "9/10++639511061776+03782//24>3407385//2186992<0*642064>9-55>*7<*-85-784-<3-+1<<50/049*+/19-1<2>89>661<124/*+";
}
