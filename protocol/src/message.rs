//! The canonical signed messages, defined once. The message of a body is a domain tag naming
//! its type followed by the body's postcard encoding:
//!
//! ```text
//! message = DOMAIN || postcard(body)
//! ```
//!
//! The tag keeps one type's signature from being valid as another's. Any standard SM2 verifier
//! checks a signature over these bytes with signer id `1234567812345678`, e.g.
//! `openssl pkeyutl -verify -pubin -inkey disk.pem -rawin -digest sm3 \
//!  -pkeyopt distid:1234567812345678 -in message.bin -sigfile sig.der`.

use crate::error::DecodeError;
use crate::types::*;
use serde::{Deserialize, Serialize};

/// The largest message any signed body produces, in bytes.
pub const MAX_MESSAGE: usize = 768;

/// A body that is signed: its domain tag and canonical message.
pub trait SignedMessage: Serialize {
    /// The domain tag that starts the message, unique per type.
    const DOMAIN: &'static [u8];

    /// Writes the message into `buf` and returns it.
    fn message_into<'a>(&self, buf: &'a mut [u8]) -> Result<&'a [u8], DecodeError> {
        let d = Self::DOMAIN.len();
        if buf.len() < d {
            return Err(DecodeError::BufferFull);
        }
        buf[..d].copy_from_slice(Self::DOMAIN);
        let n = postcard::to_slice(self, &mut buf[d..])
            .map_err(|_| DecodeError::BufferFull)?
            .len();
        Ok(&buf[..d + n])
    }

    /// The message as a heap vector.
    #[cfg(feature = "std")]
    fn message(&self) -> std::vec::Vec<u8> {
        let mut v = std::vec::Vec::from(Self::DOMAIN);
        // Serializing plain data into a Vec cannot fail (no I/O, no size limit).
        v.extend(postcard::to_stdvec(self).unwrap_or_default());
        v
    }
}

/// What a disk signs with its new key at provisioning, to prove it holds the private key (D1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionProof {
    /// The disk.
    pub serial: DeviceSerial,
    /// Its new public key.
    pub public_key: PublicKey,
}

macro_rules! domains {
    ($($t:ty => $tag:literal,)*) => {
        $(impl SignedMessage for $t { const DOMAIN: &'static [u8] = $tag; })*
        /// Every domain tag, for tests that check they are distinct.
        pub const ALL_DOMAINS: &[&[u8]] = &[$($tag,)*];
    };
}

domains! {
    IssuedInvoice => b"taxdisk/invoice/v1\0",
    VoidEvent => b"taxdisk/void/v1\0",
    BlankVoidEvent => b"taxdisk/blank-void/v1\0",
    PeriodSummary => b"taxdisk/summary/v1\0",
    RollReturnReceipt => b"taxdisk/roll-return/v1\0",
    OilReturnReceipt => b"taxdisk/oil-return/v1\0",
    ProvisionProof => b"taxdisk/provision-proof/v1\0",
    ProvisionToken => b"taxdisk/token/provision/v1\0",
    RollGrant => b"taxdisk/token/roll-grant/v1\0",
    UploadReceipt => b"taxdisk/token/upload-receipt/v1\0",
    ClearCardToken => b"taxdisk/token/clear-card/v1\0",
    UpdateToken => b"taxdisk/token/update/v1\0",
    ClockToken => b"taxdisk/token/clock/v1\0",
    OilGrant => b"taxdisk/token/oil-grant/v1\0",
    UnblockToken => b"taxdisk/token/unblock/v1\0",
    ReportReceipt => b"taxdisk/token/report-receipt/v1\0",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_distinct_and_prefix_free() {
        for (i, a) in ALL_DOMAINS.iter().enumerate() {
            assert_eq!(
                a.last(),
                Some(&0),
                "tags end in NUL so none is a prefix of another"
            );
            for b in &ALL_DOMAINS[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
