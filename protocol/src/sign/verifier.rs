//! SM2 verification (GB/T 32918.2 section 7): a verifying key made once per public key, with
//! `Z_A` computed once; in std builds the point arithmetic is `efficient-sm2`'s (about twice
//! RustCrypto's rate), inside RustCrypto's checks, with RustCrypto deciding whatever the fast
//! path does not accept. The bureau verifies every uploaded invoice with it.

use super::{SIGNER_ID, SignError, identity_hash, wire_public_key};
use crate::message::{MAX_MESSAGE, SignedMessage};
use crate::types::{PublicKey, Signature, Signed};
use core::fmt;
use sm2::dsa::signature::Verifier;
use sm2::elliptic_curve::PrimeField;
use sm2::{FieldBytes, Scalar};
#[cfg(feature = "std")]
use sm3::{Digest, Sm3};

/// An SM2 verifying key: a disk's (or the bureau's) public key, checked to be a point of the
/// curve, with what every verification under it shares computed once.
#[derive(Clone)]
pub struct VerifyingKey {
    /// RustCrypto's key: the public point, checked on the curve; the reference verifier.
    inner: sm2::dsa::VerifyingKey,
    /// `Z_A = SM3(ENTL || ID || a || b || x_G || y_G || x_A || y_A)`.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    za: [u8; 32],
    /// The same point in `efficient-sm2`'s form.
    #[cfg(feature = "std")]
    fast: efficient_sm2::PublicKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// The public key it verifies for.
    pub fn public_key(&self) -> PublicKey {
        wire_public_key(&self.inner)
    }

    /// RustCrypto's verifying key of the same public key.
    pub fn as_rustcrypto(&self) -> &sm2::dsa::VerifyingKey {
        &self.inner
    }

    /// Verifies `sig` over `msg` with RustCrypto's verifier alone (the reference; what
    /// [`verify_bytes`] falls back to).
    pub fn verify_rustcrypto(&self, msg: &[u8], sig: &Signature) -> Result<(), SignError> {
        let s = sm2::dsa::Signature::from_slice(&sig.to_bytes())
            .map_err(|_| SignError::BadSignature)?;
        self.inner
            .verify(msg, &s)
            .map_err(|_| SignError::BadSignature)
    }

    /// Verifies `sig` over `msg` with `efficient-sm2`'s twin multiplication `[s]G + [t]P`.
    ///
    /// RustCrypto's checks come first (GB/T 32918.2 7.1 B1, B2, B5): `r` and `s` in `[1, n-1]`,
    /// `t = (r + s) mod n` not zero; the digest is `SM3(Z_A || msg)` with the cached `Z_A`.
    /// `efficient-sm2` then refuses a point at infinity or off the curve and accepts only when
    /// the point's `x1` equals `(r - e) mod n`, which implies `(e + x1) mod n = r` (B7): what it
    /// accepts is valid. It compares without reducing `x1` mod n, so it refuses the valid
    /// signatures whose `x1` is at least n (about 2^-128 of them); RustCrypto decides every
    /// signature the fast path refuses, so the verdict is always RustCrypto's.
    #[cfg(feature = "std")]
    pub fn verify_efficient(&self, msg: &[u8], sig: &Signature) -> Result<(), SignError> {
        if !in_range(sig) {
            return Err(SignError::BadSignature);
        }
        if self.fast_accepts(msg, sig) {
            return Ok(());
        }
        self.verify_rustcrypto(msg, sig)
    }

    /// Whether `efficient-sm2` accepts `sig` (in range, checked by the caller) over `msg`.
    #[cfg(feature = "std")]
    fn fast_accepts(&self, msg: &[u8], sig: &Signature) -> bool {
        let mut h = Sm3::new_with_prefix(self.za);
        h.update(msg);
        let digest: [u8; 32] = h.finalize().into();
        efficient_sm2::Signature::new(&sig.r, &sig.s)
            .is_ok_and(|f| f.verify_digest(&self.fast, &digest).is_ok())
    }
}

/// GB/T 32918.2 7.1 B1, B2 and B5: `r` and `s` in `[1, n-1]` and `(r + s) mod n` not zero.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
fn in_range(sig: &Signature) -> bool {
    let scalar = |b: &[u8; 32]| Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(*b)));
    match (scalar(&sig.r), scalar(&sig.s)) {
        (Some(r), Some(s)) => !bool::from(r.is_zero() | s.is_zero() | (r + s).is_zero()),
        _ => false,
    }
}

/// A verifying key from a wire public key; refused when it is not a point of the curve.
pub fn verifying_key(pk: &PublicKey) -> Result<VerifyingKey, SignError> {
    let inner = sm2::dsa::VerifyingKey::from_sec1_bytes(SIGNER_ID, &pk.to_sec1())
        .map_err(|_| SignError::BadPublicKey)?;
    let za = identity_hash(&inner).ok_or(SignError::BadPublicKey)?;
    Ok(VerifyingKey {
        inner,
        za,
        #[cfg(feature = "std")]
        fast: efficient_sm2::PublicKey::new(&pk.x, &pk.y),
    })
}

/// Verifies a signature over raw message bytes: in std builds through
/// [`VerifyingKey::verify_efficient`], otherwise RustCrypto's verifier; the same verdict.
pub fn verify_bytes(vk: &VerifyingKey, msg: &[u8], sig: &Signature) -> Result<(), SignError> {
    #[cfg(feature = "std")]
    return vk.verify_efficient(msg, sig);
    #[cfg(not(feature = "std"))]
    return vk.verify_rustcrypto(msg, sig);
}

/// Verifies a signature over a body's canonical message.
pub fn verify<M: SignedMessage>(
    vk: &VerifyingKey,
    body: &M,
    sig: &Signature,
) -> Result<(), SignError> {
    let mut buf = [0u8; MAX_MESSAGE];
    let msg = body
        .message_into(&mut buf)
        .map_err(|_| SignError::MessageTooLong)?;
    verify_bytes(vk, msg, sig)
}

impl<T: SignedMessage> Signed<T> {
    /// Verifies the signature with `vk`.
    pub fn verify(&self, vk: &VerifyingKey) -> Result<(), SignError> {
        verify(vk, &self.body, &self.signature)
    }
}

// The fast path is std's; without std there is only the reference to compare with.
#[cfg(test)]
#[cfg(feature = "std")]
mod tests {
    use super::*;
    use crate::sign::{public_key, sign_bytes, signing_key};

    /// The group order n of GB/T 32918.5, big-endian.
    fn order() -> [u8; 32] {
        let hex = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123";
        let mut n = [0u8; 32];
        for (i, b) in n.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        n
    }

    /// `a + b` of two big-endian 256-bit numbers, mod 2^256.
    fn add(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut carry = 0u16;
        for i in (0..32).rev() {
            let v = a[i] as u16 + b[i] as u16 + carry;
            out[i] = v as u8;
            carry = v >> 8;
        }
        out
    }

    fn both(vk: &VerifyingKey, msg: &[u8], sig: &Signature) -> Result<(), SignError> {
        let fast = vk.verify_efficient(msg, sig);
        assert_eq!(
            fast,
            vk.verify_rustcrypto(msg, sig),
            "fast and reference differ"
        );
        fast
    }

    #[test]
    fn the_fast_verifier_agrees_with_rustcrypto_on_valid_and_tampered_signatures() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for k in 0..16u8 {
            let mut secret = [0u8; 32];
            secret.iter_mut().for_each(|b| *b = next() as u8);
            secret[0] &= 0x7f;
            secret[31] |= 1;
            let key = signing_key(&secret).unwrap();
            let vk = verifying_key(&public_key(&key)).unwrap();
            let other = verifying_key(&public_key(&signing_key(&[k + 1; 32]).unwrap())).unwrap();
            for len in [0usize, 1, 32, 64, 130, 300] {
                let msg: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                let sig = sign_bytes(&key, &msg);
                assert_eq!(both(&vk, &msg, &sig), Ok(()), "key {k}, len {len}");
                // Accepted by the fast path itself, not by the fallback.
                assert!(vk.fast_accepts(&msg, &sig), "key {k}, len {len}");
                assert_eq!(both(&other, &msg, &sig), Err(SignError::BadSignature));
                let mut longer = msg.clone();
                longer.push(0);
                assert_eq!(both(&vk, &longer, &sig), Err(SignError::BadSignature));
                for bit in [0usize, 7, 100, 255, 256, 300, 511] {
                    let mut bytes = sig.to_bytes();
                    bytes[bit / 8] ^= 1 << (bit % 8);
                    let flipped = Signature::from_bytes(&bytes);
                    assert_eq!(
                        both(&vk, &msg, &flipped),
                        Err(SignError::BadSignature),
                        "key {k}, len {len}, bit {bit}"
                    );
                }
            }
        }
    }

    #[test]
    fn out_of_range_scalars_are_refused_before_any_arithmetic() {
        let key = signing_key(&[0x42; 32]).unwrap();
        let vk = verifying_key(&public_key(&key)).unwrap();
        let msg = b"invoice";
        let good = sign_bytes(&key, msg);
        let n = order();
        let zero = [0u8; 32];
        let mut one = [0u8; 32];
        one[31] = 1;
        let mut n_minus_r = [0u8; 32];
        // (n - r) as the s of a signature makes r + s = n: t = 0 (B5).
        let r = good.r;
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let v = n[i] as i16 - r[i] as i16 - borrow;
            n_minus_r[i] = v.rem_euclid(256) as u8;
            borrow = (v < 0) as i16;
        }
        let cases = [
            ("r = 0", zero, good.s),
            ("s = 0", good.r, zero),
            ("r = n", n, good.s),
            ("s = n", good.r, n),
            ("r = n + 1", add(&n, &one), good.s),
            ("s = 2^256 - 1", good.r, [0xff; 32]),
            ("r + s = n", good.r, n_minus_r),
        ];
        for (what, r, s) in cases {
            let sig = Signature { r, s };
            assert!(!in_range(&sig), "{what}");
            assert_eq!(both(&vk, msg, &sig), Err(SignError::BadSignature), "{what}");
        }
        assert!(in_range(&good));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Untrusted signature bytes (an upload's): whatever they are, the fast path answers
        /// RustCrypto's verdict and never panics.
        #[test]
        fn any_signature_bytes_get_the_reference_verdict(
            r in proptest::prelude::any::<[u8; 32]>(),
            s in proptest::prelude::any::<[u8; 32]>(),
            msg in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            secret in 1u8..=254,
        ) {
            let key = signing_key(&[secret; 32]).unwrap();
            let vk = verifying_key(&public_key(&key)).unwrap();
            let sig = Signature { r, s };
            proptest::prop_assert_eq!(
                vk.verify_efficient(&msg, &sig),
                vk.verify_rustcrypto(&msg, &sig)
            );
            // And the key's own signature of the same bytes is accepted by both.
            let good = sign_bytes(&key, &msg);
            proptest::prop_assert_eq!(both(&vk, &msg, &good), Ok(()));
        }
    }

    #[test]
    fn a_point_off_the_curve_is_no_key() {
        let key = signing_key(&[7; 32]).unwrap();
        let mut pk = public_key(&key);
        pk.y[31] ^= 1;
        assert_eq!(verifying_key(&pk).err(), Some(SignError::BadPublicKey));
        let vk = verifying_key(&public_key(&key)).unwrap();
        assert_eq!(vk.public_key(), public_key(&key));
    }
}
