//! [`TokenSource`]: who signs the bureau's tokens for the conformance suite and trace replay. A vendor testing real firmware
//! against a real bureau may have none (the scenarios that need tokens are then skipped); the
//! reference simulator is manufactured with a bureau key the bench knows, so
//! [`BureauKeyTokens`] signs with it.

use taxdisk_protocol::message::SignedMessage;
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::types::{
    ClearCardToken, ClockToken, OilGrant, ProvisionToken, PublicKey, ReportReceipt, RollGrant,
    Signed, UnblockToken, UpdateToken, UploadReceipt,
};

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The bureau secret is not a valid SM2 key.
    #[error("bureau key: {0}")]
    Key(sign::SignError),
    /// Signing failed (a body too large for a message).
    #[error("signing a {what}: {error}")]
    Sign {
        /// Which token.
        what: &'static str,
        /// Why.
        error: sign::SignError,
    },
    /// The bureau secret given as text is not 64 hex digits.
    #[error("bureau secret: {0}")]
    SecretText(String),
    /// The source cannot make this kind of token.
    #[error("this token source cannot make a {0}")]
    Unsupported(&'static str),
}

/// Signs the bureau's tokens (provisioning, roll grants, upload receipts, clear card, updates,
/// clock, oil grants, unblock, report receipts) whose bodies the suite composes for the disk
/// under test.
pub trait TokenSource {
    /// The bureau public key the disk verifies tokens with.
    fn bureau_key(&self) -> PublicKey;
    /// A provisioning token (D1).
    fn provision(&self, body: ProvisionToken) -> Result<Signed<ProvisionToken>, TokenError>;
    /// A roll grant (D4).
    fn roll_grant(&self, body: RollGrant) -> Result<Signed<RollGrant>, TokenError>;
    /// An upload receipt (D12).
    fn upload_receipt(&self, body: UploadReceipt) -> Result<Signed<UploadReceipt>, TokenError>;
    /// A clear-card token (D8).
    fn clear_card(&self, body: ClearCardToken) -> Result<Signed<ClearCardToken>, TokenError>;
    /// An update token (D10).
    fn update(&self, body: UpdateToken) -> Result<Signed<UpdateToken>, TokenError>;
    /// A clock token (D3).
    fn clock(&self, body: ClockToken) -> Result<Signed<ClockToken>, TokenError>;
    /// An oil stock grant (D11).
    fn oil_grant(&self, body: OilGrant) -> Result<Signed<OilGrant>, TokenError>;
    /// A PIN unblock token (D2).
    fn unblock(&self, body: UnblockToken) -> Result<Signed<UnblockToken>, TokenError>;
    /// The bureau's receipt of a period's summary (D4, FAQ 4.21(4)).
    fn report_receipt(&self, body: ReportReceipt) -> Result<Signed<ReportReceipt>, TokenError>;
}

/// Signs every token with one bureau secret key (the simulator's bureau, whose key is known).
pub struct BureauKeyTokens {
    key: Sm2SigningKey,
}

impl std::fmt::Debug for BureauKeyTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BureauKeyTokens")
            .field("public_key", &self.bureau_key())
            .finish_non_exhaustive()
    }
}

impl BureauKeyTokens {
    /// From the bureau's 32 secret bytes (big-endian scalar).
    pub fn from_secret(secret: &[u8; 32]) -> Result<Self, TokenError> {
        Ok(BureauKeyTokens {
            key: sign::signing_key(secret).map_err(TokenError::Key)?,
        })
    }

    /// From the bureau's secret as 64 hex digits (e.g. a CLI flag); surrounding white space is
    /// ignored.
    pub fn from_secret_hex(text: &str) -> Result<Self, TokenError> {
        let bytes = hex::decode(text.trim()).map_err(|e| TokenError::SecretText(e.to_string()))?;
        let secret: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| TokenError::SecretText(format!("{} bytes, not 32", b.len())))?;
        Self::from_secret(&secret)
    }

    /// From a signing key.
    pub fn new(key: Sm2SigningKey) -> Self {
        BureauKeyTokens { key }
    }

    fn sign<T: SignedMessage>(&self, what: &'static str, body: T) -> Result<Signed<T>, TokenError> {
        Signed::sign(body, &self.key).map_err(|error| TokenError::Sign { what, error })
    }
}

impl TokenSource for BureauKeyTokens {
    fn bureau_key(&self) -> PublicKey {
        sign::public_key(&self.key)
    }
    fn provision(&self, body: ProvisionToken) -> Result<Signed<ProvisionToken>, TokenError> {
        self.sign("provisioning token", body)
    }
    fn roll_grant(&self, body: RollGrant) -> Result<Signed<RollGrant>, TokenError> {
        self.sign("roll grant", body)
    }
    fn upload_receipt(&self, body: UploadReceipt) -> Result<Signed<UploadReceipt>, TokenError> {
        self.sign("upload receipt", body)
    }
    fn clear_card(&self, body: ClearCardToken) -> Result<Signed<ClearCardToken>, TokenError> {
        self.sign("clear-card token", body)
    }
    fn update(&self, body: UpdateToken) -> Result<Signed<UpdateToken>, TokenError> {
        self.sign("update token", body)
    }
    fn clock(&self, body: ClockToken) -> Result<Signed<ClockToken>, TokenError> {
        self.sign("clock token", body)
    }
    fn oil_grant(&self, body: OilGrant) -> Result<Signed<OilGrant>, TokenError> {
        self.sign("oil grant", body)
    }
    fn unblock(&self, body: UnblockToken) -> Result<Signed<UnblockToken>, TokenError> {
        self.sign("unblock token", body)
    }
    fn report_receipt(&self, body: ReportReceipt) -> Result<Signed<ReportReceipt>, TokenError> {
        self.sign("report receipt", body)
    }
}
