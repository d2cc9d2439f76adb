//! `export-key` and `verify`: the disk's public key as PEM, and an invoice's signed message with
//! its DER signature, so an outside SM2 verifier checks the disk's work:
//!
//! ```text
//! openssl pkeyutl -verify -pubin -inkey disk.pem -rawin -digest sm3 \
//!     -pkeyopt distid:1234567812345678 -in invoice.msg -sigfile invoice.sig.der
//! ```

use sm2::pkcs8::{EncodePublicKey, LineEnding};
use std::path::{Path, PathBuf};
use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::sign::{self, SIGNER_ID};
use taxdisk_protocol::types::{IssuedInvoice, PublicKey, Signed};

/// Failures of key export and verification.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key is not a point on the SM2 curve.
    #[error("the disk's public key is not a valid SM2 key")]
    BadKey,
    /// The signature does not verify with the disk's key.
    #[error("signature does not verify with the disk's public key (D5)")]
    BadSignature,
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    std::fs::write(path, bytes).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })
}

/// The SubjectPublicKeyInfo PEM of an SM2 public key (id-ecPublicKey, curve SM2).
pub fn public_key_pem(pk: &PublicKey) -> Result<String, KeyError> {
    let vk = sm2::dsa::VerifyingKey::from_sec1_bytes(SIGNER_ID, &pk.to_sec1())
        .map_err(|_| KeyError::BadKey)?;
    vk.to_public_key_pem(LineEnding::LF)
        .map_err(|_| KeyError::BadKey)
}

/// Writes the PEM to `path`.
pub fn export_key(pk: &PublicKey, path: &Path) -> Result<(), KeyError> {
    write(path, public_key_pem(pk)?.as_bytes())
}

/// The files `verify` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFiles {
    /// The signed message (`DOMAIN || postcard(body)`).
    pub message: PathBuf,
    /// The DER signature.
    pub signature: PathBuf,
}

/// Checks an invoice's signature with `pk` and writes its message and DER signature as
/// `<stem>.msg` and `<stem>.sig.der`.
pub fn verify_invoice(
    inv: &Signed<IssuedInvoice>,
    pk: &PublicKey,
    stem: &Path,
) -> Result<VerifyFiles, KeyError> {
    let vk = sign::verifying_key(pk).map_err(|_| KeyError::BadKey)?;
    inv.verify(&vk).map_err(|_| KeyError::BadSignature)?;
    let message = stem.with_extension("msg");
    let signature = stem.with_extension("sig.der");
    write(&message, &inv.body.message())?;
    let mut der = [0u8; 72];
    let n = sign::signature_der(&inv.signature, &mut der);
    write(&signature, &der[..n])?;
    Ok(VerifyFiles { message, signature })
}

/// The OpenSSL command line that checks the files.
pub fn openssl_command(pem: &Path, files: &VerifyFiles) -> String {
    format!(
        "openssl pkeyutl -verify -pubin -inkey {} -rawin -digest sm3 -pkeyopt distid:{SIGNER_ID} -in {} -sigfile {}",
        pem.display(),
        files.message.display(),
        files.signature.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use taxdisk_protocol::types::*;

    fn invoice() -> IssuedInvoice {
        IssuedInvoice {
            serial: DeviceSerial::new("661100000001").unwrap(),
            machine: 0,
            kind: InvoiceKind::Electronic,
            variant: Variant::Standard,
            code: InvoiceCode::new("031001600111").unwrap(),
            number: InvoiceNumber::new(1).unwrap(),
            counter: 1,
            time: taxdisk_protocol::Timestamp(1_795_668_730),
            request_id: [1; 16],
            content_digest: [2; 32],
            buyer: None,
            amount: Fen(10_000),
            tax: Fen(600),
            red: None,
            oil: None,
        }
    }

    /// DESIGN: any standard SM2 verifier, OpenSSL 3 included, verifies the disk's signature from
    /// its public key. Runs OpenSSL where it is installed with SM2 support; elsewhere it checks
    /// the files with our own verifier only and says so.
    #[test]
    fn d05_openssl_verifies_an_invoice_signature() {
        let key = sign::signing_key(&[0x42; 32]).unwrap();
        let pk = sign::public_key(&key);
        let signed = Signed::sign(invoice(), &key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("disk.pem");
        export_key(&pk, &pem).unwrap();
        let files = verify_invoice(&signed, &pk, &dir.path().join("invoice")).unwrap();
        let mut tampered = signed.clone();
        tampered.body.amount = Fen(10_001);
        assert!(matches!(
            verify_invoice(&tampered, &pk, &dir.path().join("bad")),
            Err(KeyError::BadSignature)
        ));

        let has_sm2 = std::process::Command::new("openssl")
            .args(["list", "-public-key-algorithms"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("SM2"))
            .unwrap_or(false);
        if !has_sm2 {
            eprintln!("openssl with SM2 not installed: checked with the RustCrypto verifier only");
            return;
        }
        let run = |msg: &Path| {
            std::process::Command::new("openssl")
                .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
                .arg(&pem)
                .args([
                    "-rawin",
                    "-digest",
                    "sm3",
                    "-pkeyopt",
                    &format!("distid:{SIGNER_ID}"),
                    "-in",
                ])
                .arg(msg)
                .arg("-sigfile")
                .arg(&files.signature)
                .output()
                .unwrap()
        };
        let ok = run(&files.message);
        assert!(
            ok.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        // A changed message fails in OpenSSL too.
        let bad = dir.path().join("changed.msg");
        let mut m = std::fs::read(&files.message).unwrap();
        let last = m.len() - 1;
        m[last] ^= 1;
        std::fs::write(&bad, m).unwrap();
        assert!(!run(&bad).status.success());
    }
}
