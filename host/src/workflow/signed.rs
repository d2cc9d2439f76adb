//! What the disk signed is the truth (H3, H8, H16, H18): before the store's copy of an issued
//! invoice is listed, printed or exported, it is checked against the disk's SM2 signature over
//! it, under the key the connected disk itself gives (`GetPublicKey`).
//!
//! The disk signs an [`IssuedInvoice`]: its serial and machine, the roll's code and number, the
//! journal counter and time, the request id, the totals, the buyer's taxpayer id, the red
//! reference, the oil use and the SM3 digest of the whole content (seller, buyer, issuer, every
//! line). The check rebuilds that body from the stored row and verifies the stored signature:
//! an amount, a name, a line or a number changed in the store after signing (by hand, by a
//! faulty restore, by a race the locks now prevent) fails it, and the caller shows the
//! difference instead of the store's figures.
//!
//! Verification costs about 240 µs an invoice (BENCHMARKS.md, `sm2/verify_invoice`), so a month
//! is checked on every core ([`Workflow::check_signed_all`]).

use super::Workflow;
use super::errors::WorkflowError;
use crate::store::StoredInvoice;
use taxdisk_protocol::sign::{self, VerifyingKey};
use taxdisk_protocol::types::{DeviceSerial, IssuedInvoice, PublicKey, Signed};

/// How a stored invoice stands against the disk's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignedCheck {
    /// The disk has not signed it (pending or abandoned): nothing to check.
    NotSigned,
    /// The stored content, totals and number are what the disk signed.
    Matches,
    /// The stored copy is not what the disk signed.
    Differs,
}

impl SignedCheck {
    /// Whether the stored copy may be shown as it is (signed and matching, or not signed).
    pub fn may_show(&self) -> bool {
        !matches!(self, SignedCheck::Differs)
    }
}

/// The disk's identity a signed invoice names: its serial and machine number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    /// The disk's serial.
    pub serial: DeviceSerial,
    /// The machine number.
    pub machine: u16,
    /// The disk's public key, as the disk gives it.
    pub key: PublicKey,
}

/// The body the disk signed for `s`, rebuilt from the stored row; `None` when it is not signed.
pub fn signed_body(s: &StoredInvoice, signer: &Signer) -> Option<Signed<IssuedInvoice>> {
    let d = s.disk.as_ref()?;
    let req = s.invoice.issue_request(s.request_id);
    Some(Signed {
        body: IssuedInvoice {
            serial: signer.serial.clone(),
            machine: signer.machine,
            kind: req.kind,
            variant: req.variant,
            code: d.code.clone(),
            number: d.number,
            counter: d.counter,
            time: d.time,
            request_id: req.request_id,
            content_digest: req.content_digest,
            buyer: req.buyer,
            amount: req.amount,
            tax: req.tax,
            red: req.red,
            oil: req.oil,
        },
        signature: d.signature,
    })
}

/// Checks one stored invoice with a verifying key made once for the disk.
pub fn check_with(s: &StoredInvoice, signer: &Signer, vk: &VerifyingKey) -> SignedCheck {
    match signed_body(s, signer) {
        None => SignedCheck::NotSigned,
        Some(signed) if signed.verify(vk).is_ok() => SignedCheck::Matches,
        Some(_) => SignedCheck::Differs,
    }
}

/// Checks every invoice of `rows`, split over the machine's cores; the answer is in row order.
pub fn check_all(rows: &[StoredInvoice], signer: &Signer, vk: &VerifyingKey) -> Vec<SignedCheck> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = rows.len().div_ceil(threads).max(64);
    if rows.len() <= chunk {
        return rows.iter().map(|s| check_with(s, signer, vk)).collect();
    }
    std::thread::scope(|scope| {
        let parts: Vec<_> = rows
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|s| check_with(s, signer, vk))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|h| {
                // A checking thread only verifies signatures; a panic there is a bug in the
                // verifier, so it is passed on as it is.
                h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
            .collect()
    })
}

/// The refusal for an invoice whose stored copy is not what the disk signed.
pub(crate) fn differs_error(what: String, s: &StoredInvoice) -> WorkflowError {
    let number = s
        .disk
        .as_ref()
        .map(|d| format!("{} {:08}", d.code, d.number.get()))
        .unwrap_or_default();
    WorkflowError::rule(
        what,
        format!(
            "the stored copy of invoice {} ({number}) is not what the disk signed: run \
             `taxdisk repair`, which restores the signed totals and reports what it cannot",
            s.id.0
        ),
        "H8",
    )
}

impl Workflow {
    /// The disk's identity and key, read from the connected disk once per workflow.
    pub fn signer(&mut self) -> Result<Signer, WorkflowError> {
        if let Some(s) = &self.signer {
            return Ok(s.clone());
        }
        let info = self.info()?;
        let key = self.disk.public_key()?;
        let s = Signer {
            serial: info.serial,
            machine: info.machine,
            key,
        };
        self.signer = Some(s.clone());
        Ok(s)
    }

    /// H8: how one stored invoice stands against the disk's signature.
    pub fn check_signed(&mut self, s: &StoredInvoice) -> Result<SignedCheck, WorkflowError> {
        let signer = self.signer()?;
        let vk = verifying(&signer)?;
        Ok(check_with(s, &signer, &vk))
    }

    /// H8: [`Self::check_signed`] for many, on every core, in row order.
    pub fn check_signed_all(
        &mut self,
        rows: &[StoredInvoice],
    ) -> Result<Vec<SignedCheck>, WorkflowError> {
        let signer = self.signer()?;
        let vk = verifying(&signer)?;
        Ok(check_all(rows, &signer, &vk))
    }
}

pub(crate) fn verifying(signer: &Signer) -> Result<VerifyingKey, WorkflowError> {
    sign::verifying_key(&signer.key).map_err(|e| {
        WorkflowError::rule(
            "signature check",
            format!("the disk's public key is not a valid SM2 key: {e}"),
            "D5",
        )
    })
}
