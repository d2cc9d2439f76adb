//! SM2 signing and verification of the canonical messages (GB/T 32918, SM3 digest, signer id
//! `1234567812345678`) with RustCrypto `sm2`. Works without `std`.

use crate::message::{MAX_MESSAGE, SignedMessage};
use crate::types::{PublicKey, Signature, Signed};
use core::fmt;
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{SigningKey, VerifyingKey};

pub use sm2::dsa::SigningKey as Sm2SigningKey;

/// The SM2 signer id (distinguishing identifier) used for every signature: the default of
/// GB/T 35276 and of OpenSSL's `distid`.
pub const SIGNER_ID: &str = "1234567812345678";

/// The SM2 implementation that signs, as benches name it: RustCrypto `sm2` with its
/// precomputed base-point table where `std` provides the lazily built table (the host, the
/// simulator, the bureau), without it in `no_std` firmware builds.
#[cfg(feature = "std")]
pub const IMPLEMENTATION: &str = "RustCrypto sm2 0.14, base-point table";
/// The SM2 implementation that signs, as benches name it (see the `std` build).
#[cfg(not(feature = "std"))]
pub const IMPLEMENTATION: &str = "RustCrypto sm2 0.14, no table (no_std)";

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

/// A signing key from 32 secret bytes (big-endian scalar). Key generation draws 32 random
/// bytes and calls this until it succeeds (fails with probability ~2^-128).
pub fn signing_key(secret: &[u8; 32]) -> Result<SigningKey, SignError> {
    SigningKey::from_slice(SIGNER_ID, secret).map_err(|_| SignError::BadSecret)
}

/// The secret bytes of a signing key (to store it on the disk's flash; never sent).
pub fn secret_bytes(key: &SigningKey) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&key.to_bytes());
    out
}

/// The public key of a signing key.
pub fn public_key(key: &SigningKey) -> PublicKey {
    use sm2::elliptic_curve::sec1::ToSec1Point;
    let point = key.verifying_key().to_sec1_point(false);
    // An uncompressed SEC1 point is always 65 bytes starting with 04 (invariant of
    // to_sec1_point(false) on a non-identity key).
    PublicKey::from_sec1(point.as_bytes()).unwrap_or(PublicKey {
        x: [0; 32],
        y: [0; 32],
    })
}

/// A verifying key from a wire public key.
pub fn verifying_key(pk: &PublicKey) -> Result<VerifyingKey, SignError> {
    VerifyingKey::from_sec1_bytes(SIGNER_ID, &pk.to_sec1()).map_err(|_| SignError::BadPublicKey)
}

/// Signs raw message bytes.
pub fn sign_bytes(key: &SigningKey, msg: &[u8]) -> Signature {
    let sig: sm2::dsa::Signature = key.sign(msg);
    Signature {
        r: sig.r_bytes().into(),
        s: sig.s_bytes().into(),
    }
}

/// Verifies a signature over raw message bytes.
pub fn verify_bytes(vk: &VerifyingKey, msg: &[u8], sig: &Signature) -> Result<(), SignError> {
    let s =
        sm2::dsa::Signature::from_slice(&sig.to_bytes()).map_err(|_| SignError::BadSignature)?;
    vk.verify(msg, &s).map_err(|_| SignError::BadSignature)
}

/// Signs a body's canonical message.
pub fn sign<M: SignedMessage>(key: &SigningKey, body: &M) -> Result<Signature, SignError> {
    let mut buf = [0u8; MAX_MESSAGE];
    let msg = body
        .message_into(&mut buf)
        .map_err(|_| SignError::MessageTooLong)?;
    Ok(sign_bytes(key, msg))
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
    /// Signs `body` with `key`.
    pub fn sign(body: T, key: &SigningKey) -> Result<Self, SignError> {
        let signature = sign(key, &body)?;
        Ok(Signed { body, signature })
    }

    /// Verifies the signature with `vk`.
    pub fn verify(&self, vk: &VerifyingKey) -> Result<(), SignError> {
        verify(vk, &self.body, &self.signature)
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
