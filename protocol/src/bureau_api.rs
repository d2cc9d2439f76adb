//! The tax bureau's HTTP JSON API (局端), shared by the simulated bureau (server) and the host's
//! bureau client, so both sides use one definition. Every path is under [`PREFIX`]; every body
//! is JSON; every refusal is an HTTP 4xx with an [`ApiError`] body. Needs `std`.
//!
//! | method | path | body | answer | rules |
//! |---|---|---|---|---|
//! | GET  | `/health` | | [`Health`] | H1 connection test |
//! | POST | `/taxpayers` | [`RegisterTaxpayer`] | `{}` | B1 |
//! | POST | `/disks/provision` | [`ProvisionRequest`] | `Signed<ProvisionToken>` | B1, D1 |
//! | POST | `/disks/register-key` | [`RegisterKey`] | [`KeyRegistered`] | B1 |
//! | POST | `/disks/{serial}/credential` | | [`KeyRegistered`] | B1 (a lost credential) |
//! | POST | `/rolls/buy` | [`BuyRolls`] | `Vec<Signed<RollGrant>>` | B2 |
//! | GET  | `/disks/{serial}/grants?after_seq=N` | | `Vec<Signed<RollGrant>>` | B2, H13 |
//! | POST | `/rolls/return` | `Signed<RollReturnReceipt>` | `{}` | B2, D4 |
//! | POST | `/upload` | [`Upload`] | [`UploadResult`] | B3, D12 |
//! | POST | `/summary` | `Signed<PeriodSummary>` | [`SummaryResult`] | B4 |
//! | POST | `/declare` | [`Declare`] | `{}` | B5 |
//! | POST | `/clear-card` | [`ClearRequest`] | `Signed<ClearCardToken>` | B5, D8 |
//! | POST | `/red-forms` | [`RedFormDraft`] | [`RedForm`] | B6 |
//! | GET  | `/red-forms?taxpayer_id=T&state=S` | | `Vec<RedForm>` | B6 |
//! | GET  | `/red-forms/{number}` | | [`RedForm`] | B6 |
//! | POST | `/red-forms/{number}/review` | [`Review`] | [`RedForm`] | B6 |
//! | POST | `/oil/grant` | [`OilGrantRequest`] | `Signed<OilGrant>` | B7 |
//! | POST | `/oil/return` | `Signed<OilReturnReceipt>` | `{}` | B7 |
//! | POST | `/updates` | [`UpdateRequest`] | `Signed<UpdateToken>` | B8 |
//! | GET  | `/disks/{serial}/updates?after_seq=N` | | `Vec<Signed<UpdateToken>>` | B8, H17 |
//! | POST | `/clock` | [`ClockRequest`] | `Signed<ClockToken>` | B10 |
//! | POST | `/unblock` | [`UnblockRequest`] | `Signed<UnblockToken>` | D2 |
//! | POST | `/check` | [`CheckRequest`] | [`CheckResult`] | B9 |
//! | GET  | `/disks/{serial}` | | [`DiskRecord`] | B1 |
//! | POST | `/settings` | [`BureauSettings`] | `{}` | B6 manual review |
//!
//! # Who may call what
//!
//! A caller names itself with `Authorization: Bearer <token>` ([`AUTHORIZATION`]). There are
//! three kinds of caller:
//! - **anyone**: `/health` (the connection test, H1) and `/check` (invoice check, 查验, which
//!   the real platform offers to the public);
//! - **a taxpayer's software**, with the credential the bureau issued to one disk when that
//!   disk proved its key at `/disks/register-key` (the proof of possession is that call's only
//!   authentication, and it answers the credential once). It acts only for its own disk and
//!   sees only its own taxpayer's data: rolls, grants, returns, upload, summary, clear card,
//!   oil, downloads of updates, its disk record, and red info forms where its taxpayer is the
//!   seller or the buyer;
//! - **the tax office** (administrator), with the bureau's administrator token: registration,
//!   provisioning, a new credential for a disk, parameter changes (`POST /updates`), red form
//!   review, declaration, PIN unblock, clock tokens, settings and `/admin/time`. The
//!   administrator may also call every taxpayer path, for any disk.
//!
//! No token on a path that needs one answers 401 `unauthenticated`; an unknown token 401
//! `bad_credential`; a taxpayer's token on the tax office's path or on another disk 403
//! `forbidden`.

use crate::time::{Period, Timestamp};
use crate::types::*;
use serde::{Deserialize, Serialize};
use std::string::String;
use std::vec::Vec;

/// Every path starts with this.
pub const PREFIX: &str = "/api/v1";

/// The HTTP header that carries the caller's token, as `Bearer <token>` (see the module docs).
pub const AUTHORIZATION: &str = "authorization";

/// Most journal events one `/upload` may carry (the host sends 500 at a time).
pub const MAX_UPLOAD_EVENTS: usize = 1000;

/// Largest `/upload` body the bureau reads, in bytes: [`MAX_UPLOAD_EVENTS`] events of the
/// largest size a disk frame can hold, written as JSON, with room to spare.
pub const MAX_UPLOAD_BODY: usize = 16 * 1024 * 1024;

/// Largest body of every other request, in bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// The body of every 4xx/5xx answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `"bad_signature"`, `"not_declared"`.
    pub code: String,
    /// One line for a person, naming what was wrong.
    pub message: String,
    /// The RULES.md / FAQ reference that refused it, e.g. `"B5, FAQ 9.10"`.
    pub rule: String,
}

/// GET `/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `"ok"`.
    pub status: String,
    /// The bureau's SM2 public key, which disks are manufactured with.
    pub public_key: PublicKey,
    /// The bureau's clock.
    pub time: Timestamp,
}

/// POST `/taxpayers`: registers (or updates) a taxpayer and what it may issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterTaxpayer {
    /// Taxpayer id.
    pub taxpayer_id: TaxpayerId,
    /// Company name.
    pub company_name: CompanyName,
    /// Authorized kinds with limits.
    pub kinds: Vec<KindLimits>,
}

/// POST `/disks/provision`: binds a factory disk to a taxpayer and returns its token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionRequest {
    /// The disk.
    pub serial: DeviceSerial,
    /// The registered taxpayer.
    pub taxpayer_id: TaxpayerId,
    /// Machine number (0 = main).
    pub machine: u16,
}

/// POST `/disks/register-key`: the disk's answer to provisioning (public key with proof).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterKey {
    /// The disk.
    pub serial: DeviceSerial,
    /// What the disk answered to Provision.
    pub result: ProvisionResult,
}

/// Answer to `/disks/register-key` and `/disks/{serial}/credential`: the disk's credential,
/// the token its taxpayer's software sends as `Authorization: Bearer` from now on. The bureau
/// keeps only its digest, so a lost one is replaced, never read back.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRegistered {
    /// The bearer token (64 hex digits).
    pub credential: String,
}

impl core::fmt::Debug for KeyRegistered {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // A secret: never in logs.
        f.write_str("KeyRegistered { credential: <redacted> }")
    }
}

/// GET `/disks/{serial}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskRecord {
    /// The disk.
    pub serial: DeviceSerial,
    /// Its taxpayer.
    pub taxpayer_id: TaxpayerId,
    /// Machine number.
    pub machine: u16,
    /// Its public key, once registered.
    pub public_key: Option<PublicKey>,
    /// Highest counter received without a gap.
    pub through_counter: u64,
    /// Newest reported period.
    pub last_reported: Option<Period>,
    /// Newest declared period.
    pub last_declared: Option<Period>,
    /// Newest cleared period.
    pub last_cleared: Option<Period>,
}

/// POST `/rolls/buy` (发票领购).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyRolls {
    /// The disk.
    pub serial: DeviceSerial,
    /// Kind.
    pub kind: InvoiceKind,
    /// How many numbers (one grant per roll of at most the bureau's roll size).
    pub count: u32,
}

/// POST `/upload`: journal events in counter order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// The disk.
    pub serial: DeviceSerial,
    /// Events, ascending counters.
    pub events: Vec<JournalEvent>,
}

/// Why one uploaded event was refused (B3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Its counter.
    pub counter: u64,
    /// Stable code: `bad_signature`, `counter_gap`, `not_sold`, `conflict`, `form_used`, ...
    pub code: String,
    /// For a person.
    pub message: String,
}

/// Answer to `/upload`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResult {
    /// A receipt through the highest counter received without a gap (None if nothing yet).
    pub receipt: Option<Signed<UploadReceipt>>,
    /// Events newly accepted (re-uploads of identical events count as accepted again).
    pub accepted: u32,
    /// Events refused, with reasons.
    pub rejected: Vec<Rejection>,
}

/// Answer to `/summary` (B4). A summary sent again for a period already reported is checked
/// again and answered with a new receipt, so a receipt lost on the way can be fetched again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryResult {
    /// The period is now reported.
    pub reported: Period,
    /// The bureau's signed receipt of the summary, for the disk (`ApplyReportReceipt`, D4).
    pub receipt: Signed<ReportReceipt>,
}

/// POST `/declare` (B5): the taxpayer's declaration of a period, a bureau-side step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declare {
    /// Taxpayer.
    pub taxpayer_id: TaxpayerId,
    /// Period declared.
    pub period: Period,
}

/// POST `/clear-card` (B5): asks for the clear-card token of a reported and declared period.
/// Refusals name the FAQ 9.10 reason: `not_reported`, `not_declared`, `upload_incomplete`,
/// `summary_mismatch`, `unknown_disk`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearRequest {
    /// The disk.
    pub serial: DeviceSerial,
    /// The period to clear.
    pub period: Period,
}

/// Who fills in a red info form (FAQ 7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RedApplicant {
    /// 购方申请: the buyer.
    Buyer,
    /// 销方申请: the seller.
    Seller,
}

/// State of a red info form (FAQ 7.6, B6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RedFormState {
    /// 未上传: kept by the host only (never stored by the bureau).
    NotUploaded,
    /// 审核中.
    UnderReview,
    /// 审核通过.
    Approved,
    /// 审核不通过.
    Rejected,
    /// Used by a red invoice (one form, one invoice).
    Used,
}

/// One line of a red info form (amounts and quantities negative, FAQ 7.11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedFormLine {
    /// Goods name.
    pub name: String,
    /// Tax classification code.
    pub class_code: TaxClassCode,
    /// Quantity as decimal text, negative (may be empty).
    pub quantity: String,
    /// Tax-excluded amount, negative.
    pub amount: Fen,
    /// Rate.
    pub rate: TaxRate,
    /// Tax, negative.
    pub tax: Fen,
}

/// POST `/red-forms`: a red info form (红字增值税专用发票信息表) as filled by the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedFormDraft {
    /// Who applies.
    pub applicant: RedApplicant,
    /// The disk submitting it.
    pub serial: DeviceSerial,
    /// Seller taxpayer id.
    pub seller: TaxpayerId,
    /// Buyer taxpayer id.
    pub buyer: TaxpayerId,
    /// The original blue invoice, absent when a buyer already deducted (FAQ 7.9).
    pub original: Option<(InvoiceCode, InvoiceNumber)>,
    /// Lines (negative).
    pub lines: Vec<RedFormLine>,
    /// Total amount (negative).
    pub amount: Fen,
    /// Total tax (negative).
    pub tax: Fen,
    /// Reason text.
    pub reason: String,
}

/// A red info form as the bureau holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedForm {
    /// Number assigned by the bureau (F4).
    pub number: InfoFormNumber,
    /// State.
    pub state: RedFormState,
    /// The form.
    pub draft: RedFormDraft,
    /// Why rejected, if so.
    pub review_note: Option<String>,
    /// The red invoice that used it, if any.
    pub used_by: Option<(InvoiceCode, InvoiceNumber)>,
}

/// POST `/red-forms/{number}/review` (manual review mode).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Approve or reject.
    pub approve: bool,
    /// Note.
    pub note: Option<String>,
}

/// POST `/settings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BureauSettings {
    /// Red info forms wait for a manual review instead of being approved at once.
    pub manual_red_review: bool,
}

/// POST `/oil/grant` (B7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OilGrantRequest {
    /// The disk.
    pub serial: DeviceSerial,
    /// Category, unit and quantity.
    pub stock: OilStockEntry,
}

/// POST `/updates` (B8): the bureau operator records a change for a disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRequest {
    /// The disk.
    pub serial: DeviceSerial,
    /// The changes.
    pub changes: Vec<UpdateChange>,
}

/// POST `/clock` (B10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockRequest {
    /// The disk.
    pub serial: DeviceSerial,
    /// The time to set.
    pub time: Timestamp,
}

/// POST `/unblock` (D2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnblockRequest {
    /// The disk.
    pub serial: DeviceSerial,
    /// The PIN after unblocking.
    pub new_pin: Pin,
}

/// POST `/check` (查验, B9): by code, number and date, with the amount (special) or the last 6
/// digits of the check code (others).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRequest {
    /// Code.
    pub code: InvoiceCode,
    /// Number.
    pub number: InvoiceNumber,
    /// Date issued, `YYYYMMDD` (China Standard Time).
    pub date: u32,
    /// Tax-excluded amount (special invoices).
    pub amount: Option<Fen>,
    /// Last 6 digits of the check code (other kinds).
    pub check_code_last6: Option<String>,
}

/// Answer to `/check`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Whether an invoice matches everything given.
    pub found: bool,
    /// The invoice, when found.
    pub invoice: Option<IssuedInvoice>,
    /// Whether it was voided.
    pub voided: bool,
    /// Whether a red invoice reversed it.
    pub reversed: bool,
}
