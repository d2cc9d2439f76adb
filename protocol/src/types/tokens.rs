//! The bureau's tokens (provisioning, rolls, upload and report receipts, clear card, update,
//! clock, oil, unblock).

use super::ids::{CompanyName, DeviceSerial, InvoiceCode, InvoiceNumber, Pin, TaxpayerId};
use super::records::{KindLimits, OilRole, OilStockEntry, UsedCarRole};
use crate::kind::InvoiceKind;
use crate::time::{Period, Timestamp};
use heapless::Vec;
use serde::{Deserialize, Serialize};

/// Provisioning token (初始发行, D1, B1), bound to one serial.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProvisionToken {
    /// The disk it is for.
    pub serial: DeviceSerial,
    /// Taxpayer id.
    pub taxpayer_id: TaxpayerId,
    /// Company name.
    pub company_name: CompanyName,
    /// Machine number.
    pub machine: u16,
    /// Authorized kinds with their limits.
    pub kinds: Vec<KindLimits, 6>,
    /// Lock time of the first period.
    pub lock_time: Timestamp,
    /// Upload deadline of the first period.
    pub upload_deadline: Timestamp,
    /// When the bureau issued it.
    pub issued_at: Timestamp,
}

/// A roll grant (发票领购, D4, B2): one range of numbers of one kind for one disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RollGrant {
    /// The disk it is for.
    pub serial: DeviceSerial,
    /// Per-disk sequence number of roll grants (replay protection: each greater than the last).
    pub seq: u32,
    /// Kind.
    pub kind: InvoiceKind,
    /// Code.
    pub code: InvoiceCode,
    /// First number.
    pub first: InvoiceNumber,
    /// How many numbers.
    pub count: u32,
    /// When the bureau issued it.
    pub issued_at: Timestamp,
}

/// An upload receipt (D12, B3): every journal event with a counter up to `through_counter` is
/// received by the bureau.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UploadReceipt {
    /// The disk it is for.
    pub serial: DeviceSerial,
    /// Highest counter received without a gap.
    pub through_counter: u64,
    /// When the bureau issued it.
    pub issued_at: Timestamp,
}

/// The bureau's receipt of a period's summary (上报汇总 succeeded, B4): read into the disk, it
/// marks the period reported, which a roll return waits for (D4, FAQ 4.21(4)). Periods are
/// reported in order, so the disk takes each period's receipt once and a receipt of a period
/// not newer than the newest reported one is a replay.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReportReceipt {
    /// The disk it is for.
    pub serial: DeviceSerial,
    /// The period whose summary the bureau received.
    pub period: Period,
    /// When the bureau issued it.
    pub issued_at: Timestamp,
}

/// A clear-card token (清卡, D8, B5).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClearCardToken {
    /// The disk it is for.
    pub serial: DeviceSerial,
    /// Per-disk sequence number of clear-card tokens.
    pub seq: u32,
    /// The reported and declared period this clears.
    pub period: Period,
    /// The new lock time.
    pub next_lock_time: Timestamp,
    /// The new upload deadline.
    pub upload_deadline: Timestamp,
    /// New offline limits, if any (FAQ 9.14(3)).
    pub limits: Vec<KindLimits, 6>,
    /// When the bureau issued it.
    pub issued_at: Timestamp,
}

/// One change carried by an update token (D10, B8).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UpdateChange {
    /// New limits for one kind.
    Limits(KindLimits),
    /// Authorize (`true`) or withdraw (`false`) a kind.
    Authorize(InvoiceKind, bool),
    /// Oil role and its validity.
    Oil(OilRole, Option<Timestamp>),
    /// Used-car role.
    UsedCar(UsedCarRole),
    /// New company name.
    CompanyName(CompanyName),
    /// New taxpayer id.
    TaxpayerId(TaxpayerId),
}

/// An update token (变更, D10, B8).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UpdateToken {
    /// The disk it is for.
    pub serial: DeviceSerial,
    /// Per-disk sequence number of update tokens.
    pub seq: u32,
    /// The changes, applied together.
    pub changes: Vec<UpdateChange, 8>,
    /// When the bureau issued it.
    pub issued_at: Timestamp,
}

/// A clock token (D3, B10): sets the disk clock.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClockToken {
    /// The disk it is for.
    pub serial: DeviceSerial,
    /// Per-disk sequence number of clock tokens.
    pub seq: u32,
    /// The new time.
    pub time: Timestamp,
    /// When the bureau issued it.
    pub issued_at: Timestamp,
}

/// An oil stock grant (D11, B7).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OilGrant {
    /// The disk it is for.
    pub serial: DeviceSerial,
    /// Per-disk sequence number of oil grants.
    pub seq: u32,
    /// Category, unit and quantity granted.
    pub stock: OilStockEntry,
    /// When the bureau issued it.
    pub issued_at: Timestamp,
}

/// A PIN unblock token (D2).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UnblockToken {
    /// The disk it is for.
    pub serial: DeviceSerial,
    /// Per-disk sequence number of unblock tokens.
    pub seq: u32,
    /// The PIN after unblocking.
    pub new_pin: Pin,
    /// When the bureau issued it.
    pub issued_at: Timestamp,
}
