//! The disk's records and answers: red references, oil, limits, rolls, status, disk info, the
//! journal events (invoices, voids, blank voids), summaries and receipts.

use super::ids::{
    CompanyName, DeviceSerial, Digest, InfoFormNumber, InvoiceCode, InvoiceNumber, PublicKey,
    RequestId, Signature, TaxpayerId, Variant,
};
use super::money::Fen;
use crate::kind::InvoiceKind;
use crate::time::{Period, Timestamp};
use core::fmt;
use heapless::Vec;
use serde::{Deserialize, Serialize};

/// What a red (negative) invoice reverses (D6, FAQ 7.3, 7.16).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RedRef {
    /// A red special invoice names its approved red info form.
    InfoForm(InfoFormNumber),
    /// Other kinds name the original invoice.
    Original {
        /// Original invoice code.
        code: InvoiceCode,
        /// Original invoice number.
        number: InvoiceNumber,
    },
}

/// A refined-oil category (成品油, D11): an opaque small number; the host maps it to names such
/// as 汽油 / 柴油 from the tax classification.
pub type OilCategory = u8;

/// Quantities of oil are counted in thousandths of their unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OilUnit {
    /// 升, litre.
    Litre,
    /// 吨, tonne.
    Tonne,
}

impl core::fmt::Display for OilUnit {
    /// The unit as printed on an invoice and in stock lists: `升` or `吨`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            OilUnit::Litre => "升",
            OilUnit::Tonne => "吨",
        })
    }
}

/// Oil moved by an invoice: positive invoices consume stock, red ones restore it (D11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OilUse {
    /// Category.
    pub category: OilCategory,
    /// Thousandths of the category's unit, always positive; the invoice's sign decides direction.
    pub milli_quantity: i64,
}

/// The disk's oil role (D10, D11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum OilRole {
    /// Not authorized for oil invoices.
    #[default]
    None,
    /// 生产企业: issues oil invoices without stock.
    Producer,
    /// 经销企业: needs stock of the category to issue.
    Dealer,
}

/// The disk's used-car role (D10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum UsedCarRole {
    /// Not a used-car issuer.
    #[default]
    None,
    /// 二手车市场.
    Market,
    /// 拍卖企业.
    Auction,
    /// 经销企业.
    Dealer,
}

impl core::fmt::Display for OilRole {
    /// The authorization type as the software's status shows it (FAQ 8.1).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            OilRole::None => "none",
            OilRole::Producer => "成品油生产企业 (producer)",
            OilRole::Dealer => "成品油经销企业 (dealer)",
        })
    }
}

impl core::fmt::Display for UsedCarRole {
    /// The authorization type as the software's status shows it (FAQ 10.6).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            UsedCarRole::None => "none",
            UsedCarRole::Market => "二手车市场 (market)",
            UsedCarRole::Auction => "拍卖单位 (auction)",
            UsedCarRole::Dealer => "经营单位 (dealer)",
        })
    }
}

/// The limits of one kind (D5, D9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KindLimits {
    /// Which kind.
    pub kind: InvoiceKind,
    /// Highest tax-excluded amount of one invoice (单张发票开票限额).
    pub single_limit: Fen,
    /// Hours an invoice may stay not uploaded (离线开票时限); 0 allows one pending invoice.
    pub offline_hours: u32,
    /// Sum of not-uploaded positive amounts allowed (离线开票总金额); 0 allows one pending invoice.
    pub offline_amount: Fen,
}

/// A roll of blank invoice numbers (发票卷) held by the disk (D4).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Roll {
    /// Kind of stock.
    pub kind: InvoiceKind,
    /// Invoice code.
    pub code: InvoiceCode,
    /// First number of the roll.
    pub first: InvoiceNumber,
    /// How many numbers the roll held when loaded.
    pub count: u32,
    /// How many are used (issued, voided blank or returned), from the start.
    pub used: u32,
}

impl Roll {
    /// Blank numbers left.
    pub const fn left(&self) -> u32 {
        self.count - self.used
    }
}

/// The disk's per-kind status (GetStatus, H14).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KindStatus {
    /// The limits in force.
    pub limits: KindLimits,
    /// Whether the disk is authorized to issue this kind.
    pub authorized: bool,
    /// Blank numbers left over all rolls of this kind.
    pub blank_left: u32,
    /// Journal events of this kind not yet uploaded.
    pub pending_count: u32,
    /// Time of the oldest not-uploaded invoice.
    pub oldest_pending: Option<Timestamp>,
    /// Sum of not-uploaded positive tax-excluded amounts.
    pub pending_amount: Fen,
}

/// The disk's life-cycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DiskState {
    /// Factory state: only provisioning is accepted (D1).
    Factory,
    /// Provisioned and usable.
    Ready,
    /// Past the lock time without a clear card (D8).
    Locked,
    /// PIN retries exhausted; needs a bureau unblock token (D2).
    Blocked,
}

impl fmt::Display for DiskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DiskState::Factory => "factory",
            DiskState::Ready => "ready",
            DiskState::Locked => "locked",
            DiskState::Blocked => "blocked",
        })
    }
}

/// What GetInfo answers: identity and the state of the period cycle.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiskInfo {
    /// Device serial.
    pub serial: DeviceSerial,
    /// Firmware version `(major, minor, patch)`.
    pub firmware: (u8, u8, u8),
    /// Life-cycle state.
    pub state: DiskState,
    /// The disk's own clock.
    pub time: Timestamp,
    /// Taxpayer id, once provisioned.
    pub taxpayer_id: Option<TaxpayerId>,
    /// Company name, once provisioned.
    pub company_name: Option<CompanyName>,
    /// Machine number (0 = main machine).
    pub machine: u16,
    /// The period the clock is in.
    pub period: Option<Period>,
    /// The newest period whose summary was copied (抄税).
    pub last_copied: Option<Period>,
    /// The newest period the bureau's receipt of the summary says is reported (上报汇总 with
    /// its success mark read into the disk, D4, FAQ 4.21(4)); a clear-card token counts too.
    pub last_reported: Option<Period>,
    /// The newest period cleared by the bureau (清卡).
    pub last_cleared: Option<Period>,
    /// Past this instant without a clear card the disk locks.
    pub lock_time: Option<Timestamp>,
    /// Invoices of the last period must be uploaded by this instant.
    pub upload_deadline: Option<Timestamp>,
    /// Counter of the newest journal event (0 if none).
    pub counter: u64,
    /// Whether a host session is logged in.
    pub logged_in: bool,
    /// PIN tries left before blocking.
    pub pin_tries_left: u8,
    /// Oil role.
    pub oil_role: OilRole,
    /// Oil authorization valid until.
    pub oil_valid_until: Option<Timestamp>,
    /// Used-car role.
    pub used_car_role: UsedCarRole,
    /// Free journal slots left before storage is full (D13).
    pub journal_free: u32,
}

/// The body of an issued invoice as the disk signs and journals it (D5).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IssuedInvoice {
    /// Issuing disk.
    pub serial: DeviceSerial,
    /// Machine number.
    pub machine: u16,
    /// Kind.
    pub kind: InvoiceKind,
    /// Variant of the normal kind.
    pub variant: Variant,
    /// Invoice code (from the roll).
    pub code: InvoiceCode,
    /// Invoice number (from the roll).
    pub number: InvoiceNumber,
    /// Journal counter, monotonic over all events.
    pub counter: u64,
    /// The disk's clock when issued.
    pub time: Timestamp,
    /// The host's idempotency key.
    pub request_id: RequestId,
    /// SM3 digest of the host's canonical content.
    pub content_digest: Digest,
    /// Buyer taxpayer id, where the invoice has one.
    pub buyer: Option<TaxpayerId>,
    /// Tax-excluded total (negative for red).
    pub amount: Fen,
    /// Tax total (negative for red).
    pub tax: Fen,
    /// For a red invoice, what it reverses.
    pub red: Option<RedRef>,
    /// Oil moved, for oil invoices.
    pub oil: Option<OilUse>,
}

impl IssuedInvoice {
    /// Whether this is a red (negative) invoice.
    pub fn is_red(&self) -> bool {
        self.red.is_some()
    }

    /// The period the invoice belongs to.
    pub fn period(&self) -> Period {
        self.time.period()
    }
}

/// A void (作废) of an issued invoice, as the disk signs and journals it (D7).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VoidEvent {
    /// Disk.
    pub serial: DeviceSerial,
    /// Journal counter.
    pub counter: u64,
    /// Time of the void.
    pub time: Timestamp,
    /// Kind of the voided invoice.
    pub kind: InvoiceKind,
    /// Code of the voided invoice.
    pub code: InvoiceCode,
    /// Number of the voided invoice.
    pub number: InvoiceNumber,
    /// Journal counter of the voided invoice.
    pub invoice_counter: u64,
}

/// A blank void (未开发票作废) of the next `count` numbers of a roll (D7, FAQ 5.2, 5.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlankVoidEvent {
    /// Disk.
    pub serial: DeviceSerial,
    /// Journal counter.
    pub counter: u64,
    /// Time of the void.
    pub time: Timestamp,
    /// Kind of stock.
    pub kind: InvoiceKind,
    /// Roll code.
    pub code: InvoiceCode,
    /// First voided number.
    pub first: InvoiceNumber,
    /// How many numbers.
    pub count: u32,
}

/// A body with the SM2 signature over its canonical message ([`crate::message::SignedMessage`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signed<T> {
    /// What was signed.
    pub body: T,
    /// SM2 signature over the body's canonical message.
    pub signature: Signature,
}

/// An event of the disk journal that is uploaded to the bureau (D7, D12).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JournalEvent {
    /// An issued invoice, blue or red.
    Invoice(Signed<IssuedInvoice>),
    /// A void of an issued invoice.
    Void(Signed<VoidEvent>),
    /// A blank void.
    BlankVoid(Signed<BlankVoidEvent>),
}

impl JournalEvent {
    /// The journal counter of the event.
    pub fn counter(&self) -> u64 {
        match self {
            JournalEvent::Invoice(s) => s.body.counter,
            JournalEvent::Void(s) => s.body.counter,
            JournalEvent::BlankVoid(s) => s.body.counter,
        }
    }

    /// The kind the event concerns.
    pub fn kind(&self) -> InvoiceKind {
        match self {
            JournalEvent::Invoice(s) => s.body.kind,
            JournalEvent::Void(s) => s.body.kind,
            JournalEvent::BlankVoid(s) => s.body.kind,
        }
    }

    /// The disk's time of the event.
    pub fn time(&self) -> Timestamp {
        match self {
            JournalEvent::Invoice(s) => s.body.time,
            JournalEvent::Void(s) => s.body.time,
            JournalEvent::BlankVoid(s) => s.body.time,
        }
    }
}

/// An invoice as the disk holds it, with its status.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InvoiceView {
    /// The signed invoice.
    pub invoice: Signed<IssuedInvoice>,
    /// Whether it was voided.
    pub voided: bool,
    /// Whether the bureau acknowledged it.
    pub uploaded: bool,
}

/// A journal event with its upload status.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventView {
    /// The event.
    pub event: JournalEvent,
    /// Whether the bureau acknowledged it.
    pub uploaded: bool,
}

/// Per-kind totals of a period summary (D8).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct KindSummary {
    /// Number of positive (blue) invoices, voided ones included.
    pub positive_count: u32,
    /// Sum of positive tax-excluded amounts, voided ones excluded.
    pub positive_amount: Fen,
    /// Sum of positive tax, voided ones excluded.
    pub positive_tax: Fen,
    /// Number of negative (red) invoices, voided ones included.
    pub negative_count: u32,
    /// Sum of negative amounts (negative), voided ones excluded.
    pub negative_amount: Fen,
    /// Sum of negative tax (negative), voided ones excluded.
    pub negative_tax: Fen,
    /// Invoices of the period voided.
    pub void_count: u32,
    /// Blank numbers voided in the period.
    pub blank_void_count: u32,
}

/// The signed summary of a finished period, produced by copy-tax (抄税, D8).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeriodSummary {
    /// Disk.
    pub serial: DeviceSerial,
    /// Taxpayer.
    pub taxpayer_id: TaxpayerId,
    /// The period summarized.
    pub period: Period,
    /// Totals per kind with activity, `(kind, totals)`.
    pub kinds: Vec<(InvoiceKind, KindSummary), 6>,
    /// First journal counter of the period (0 if none).
    pub first_counter: u64,
    /// Last journal counter of the period (0 if none).
    pub last_counter: u64,
    /// When the summary was made.
    pub time: Timestamp,
}

/// A device-signed receipt for returned blank numbers (D4, FAQ 4.5, 4.20).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RollReturnReceipt {
    /// Disk.
    pub serial: DeviceSerial,
    /// Kind.
    pub kind: InvoiceKind,
    /// Roll code.
    pub code: InvoiceCode,
    /// First returned number.
    pub first: InvoiceNumber,
    /// How many were returned.
    pub count: u32,
    /// When.
    pub time: Timestamp,
}

/// One oil category's stock on the disk (D11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OilStockEntry {
    /// Category.
    pub category: OilCategory,
    /// Unit.
    pub unit: OilUnit,
    /// Thousandths of the unit in stock.
    pub milli_quantity: i64,
}

/// A device-signed receipt for returned oil stock (D11).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OilReturnReceipt {
    /// Disk.
    pub serial: DeviceSerial,
    /// Sequence number of the return on this disk (1, 2, ...), so the bureau can refuse replays.
    pub seq: u32,
    /// Category and quantity returned.
    pub stock: OilStockEntry,
    /// When.
    pub time: Timestamp,
}

/// What Provision answers: the public key generated inside the disk and a proof of possession
/// (a signature by that key over the provisioning message, see [`crate::message`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProvisionResult {
    /// The disk's new public key.
    pub public_key: PublicKey,
    /// Signature by the new key over [`crate::message::ProvisionProof`].
    pub proof: Signature,
}
