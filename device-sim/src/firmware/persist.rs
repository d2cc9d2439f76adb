//! The persistent state snapshot kept in the state log (see [`super::store`]), and the derived
//! RAM state rebuilt from the journal at boot.
//!
//! Layout of a snapshot ([`Persist::encode`], [`Persist::decode`]): the postcard encoding of the
//! fields of the first layout (every serialized field of [`Persist`]), then the fields added
//! since, each postcard-encoded, in the order they were added. A snapshot written before a
//! field existed ends before it, and the field takes its default, so images written by older
//! firmware still open. New fields are only ever appended to [`Persist::encode`]'s tail.

use heapless::Vec;
use serde::{Deserialize, Serialize};
use taxdisk_protocol::command::MAX_OIL_CATEGORIES;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Period, Timestamp};

/// Most rolls the disk holds at once (exhausted and returned ones are dropped at the next state
/// write).
pub const MAX_ROLLS: usize = 16;

/// The identity written at provisioning (D1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Taxpayer id.
    pub taxpayer_id: TaxpayerId,
    /// Company name.
    pub company_name: CompanyName,
    /// Machine number.
    pub machine: u16,
    /// The SM2 secret key, generated inside the disk; never leaves it.
    pub secret: [u8; 32],
    /// Its public key.
    pub public_key: PublicKey,
    /// The period the disk was provisioned in: the first one to report.
    pub first_period: Period,
}

/// A roll held by the disk (D4). `used` counts numbers issued, blank-voided or returned, as of
/// the snapshot's journal counter; replay adds the newer journal records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollState {
    /// Kind.
    pub kind: InvoiceKind,
    /// Code.
    pub code: InvoiceCode,
    /// First number.
    pub first: u32,
    /// Numbers in the roll.
    pub count: u32,
    /// Numbers used from the start.
    pub used: u32,
}

impl RollState {
    /// Blank numbers left.
    pub fn left(&self) -> u32 {
        self.count - self.used
    }

    /// Whether `number` is in the roll.
    pub fn contains(&self, code: &InvoiceCode, number: u32) -> bool {
        &self.code == code && number >= self.first && number - self.first < self.count
    }

    /// As the wire shows it.
    pub fn to_wire(&self) -> Option<Roll> {
        Some(Roll {
            kind: self.kind,
            code: self.code.clone(),
            first: InvoiceNumber::new(self.first).ok()?,
            count: self.count,
            used: self.used,
        })
    }
}

/// Highest accepted sequence number of each kind of bureau token (replay protection, D4, D10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seqs {
    /// Roll grants.
    pub roll: u32,
    /// Update tokens.
    pub update: u32,
    /// Clear-card tokens.
    pub clear: u32,
    /// Clock tokens.
    pub clock: u32,
    /// Oil grants.
    pub oil_grant: u32,
    /// Unblock tokens.
    pub unblock: u32,
    /// Oil returns made by the disk.
    pub oil_return: u32,
}

/// The state snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persist {
    /// Set at provisioning.
    pub identity: Option<Identity>,
    /// SM3 of the serial and the PIN (the PIN is not stored in clear).
    pub pin_hash: [u8; 32],
    /// PIN tries left (D2).
    pub pin_tries: u8,
    /// Seconds added to the time the firmware is given (set by clock tokens, D3).
    pub clock_offset: i64,
    /// Limits per kind, by [`InvoiceKind::index`].
    pub limits: [KindLimits; 6],
    /// Authorized kinds, bit per [`InvoiceKind::index`].
    pub authorized: u8,
    /// Oil role (D10, D11).
    pub oil_role: OilRole,
    /// Oil authorization valid until.
    pub oil_valid_until: Option<Timestamp>,
    /// Used-car role (D10).
    pub used_car_role: UsedCarRole,
    /// Past this the disk is locked (D8).
    pub lock_time: Timestamp,
    /// Invoices of the last period must be uploaded by this (D9).
    pub upload_deadline: Timestamp,
    /// Newest copied period (D8).
    pub last_copied: Option<Period>,
    /// Newest cleared period (D8).
    pub last_cleared: Option<Period>,
    /// Token sequence numbers.
    pub seqs: Seqs,
    /// Rolls, oldest first.
    pub rolls: Vec<RollState, MAX_ROLLS>,
    /// Oil stock, as of `counter_at_write`.
    pub oil: Vec<OilStockEntry, MAX_OIL_CATEGORIES>,
    /// Every event up to this counter is acknowledged by the bureau (D12).
    pub acked_through: u64,
    /// The journal counter this snapshot includes.
    pub counter_at_write: u64,
    /// The newest journal time as of `counter_at_write`.
    pub last_event_time: Timestamp,
    /// The newest copy-tax summary, answered again when the same period is copied again.
    pub summary: Option<Signed<PeriodSummary>>,
    /// Appended field 1: the newest period the bureau's report receipt (or clear-card token)
    /// says is reported (D4, FAQ 4.21(4)). Not in the first layout: see the module docs.
    #[serde(skip)]
    pub last_reported: Option<Period>,
    /// Appended field 2: the last roll or oil return with the request id it answered, written
    /// in the same snapshot as the return itself, so a resend gets the receipt again (D4,
    /// D11).
    #[serde(skip)]
    pub last_return: Option<KeptReturn>,
    /// Appended field 3: the last PIN change's request id and the hash of the PIN it replaced,
    /// written with the new PIN, so a resend answers done instead of counting a wrong PIN (D2).
    #[serde(skip)]
    pub last_pin_change: Option<KeptPinChange>,
}

/// The last PIN change, kept for a resend of it (D2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptPinChange {
    /// The request id of the change.
    pub request_id: RequestId,
    /// The hash of the PIN it replaced.
    pub old_hash: [u8; 32],
}

/// The receipt of the last return and the request id it answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptReturn {
    /// The request id of the return.
    pub request_id: RequestId,
    /// Its receipt.
    pub receipt: KeptReceipt,
}

/// A return receipt kept for resends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeptReceipt {
    /// A roll return (D4).
    Roll(Signed<RollReturnReceipt>),
    /// An oil stock return (D11).
    Oil(Signed<OilReturnReceipt>),
}

/// Why a snapshot could not be encoded or decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The buffer is too small for the snapshot.
    BufferFull,
    /// The bytes are not a snapshot.
    Malformed,
}

impl Persist {
    /// The state of a factory disk.
    pub fn factory(pin_hash: [u8; 32]) -> Persist {
        Persist {
            identity: None,
            pin_hash,
            pin_tries: super::PIN_TRIES,
            clock_offset: 0,
            limits: InvoiceKind::ALL.map(|kind| KindLimits {
                kind,
                single_limit: Fen(0),
                offline_hours: 0,
                offline_amount: Fen(0),
            }),
            authorized: 0,
            oil_role: OilRole::None,
            oil_valid_until: None,
            used_car_role: UsedCarRole::None,
            lock_time: Timestamp(0),
            upload_deadline: Timestamp(0),
            last_copied: None,
            last_cleared: None,
            seqs: Seqs::default(),
            rolls: Vec::new(),
            oil: Vec::new(),
            acked_through: 0,
            counter_at_write: 0,
            last_event_time: Timestamp(0),
            summary: None,
            last_reported: None,
            last_return: None,
            last_pin_change: None,
        }
    }

    /// Writes the snapshot into `buf` (layout in the module docs); answers the bytes used.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, SnapshotError> {
        let full = |_| SnapshotError::BufferFull;
        let mut n = postcard::to_slice(self, buf).map_err(full)?.len();
        // Appended fields, in the order they were added.
        let rest = buf.get_mut(n..).ok_or(SnapshotError::BufferFull)?;
        n += postcard::to_slice(&self.last_reported, rest)
            .map_err(full)?
            .len();
        let rest = buf.get_mut(n..).ok_or(SnapshotError::BufferFull)?;
        n += postcard::to_slice(&self.last_return, rest)
            .map_err(full)?
            .len();
        let rest = buf.get_mut(n..).ok_or(SnapshotError::BufferFull)?;
        n += postcard::to_slice(&self.last_pin_change, rest)
            .map_err(full)?
            .len();
        Ok(n)
    }

    /// Reads a snapshot written by [`Persist::encode`] of this or an earlier layout: appended
    /// fields a snapshot does not reach keep their defaults. Trailing bytes after the known
    /// fields (a later layout) are refused rather than dropped unseen.
    pub fn decode(bytes: &[u8]) -> Result<Persist, SnapshotError> {
        let bad = |_| SnapshotError::Malformed;
        let (mut p, rest) = postcard::take_from_bytes::<Persist>(bytes).map_err(bad)?;
        if rest.is_empty() {
            return Ok(p);
        }
        let (last_reported, rest) =
            postcard::take_from_bytes::<Option<Period>>(rest).map_err(bad)?;
        p.last_reported = last_reported;
        if rest.is_empty() {
            return Ok(p);
        }
        let (last_return, rest) =
            postcard::take_from_bytes::<Option<KeptReturn>>(rest).map_err(bad)?;
        p.last_return = last_return;
        if rest.is_empty() {
            return Ok(p);
        }
        let (last_pin_change, rest) =
            postcard::take_from_bytes::<Option<KeptPinChange>>(rest).map_err(bad)?;
        p.last_pin_change = last_pin_change;
        if !rest.is_empty() {
            return Err(SnapshotError::Malformed);
        }
        Ok(p)
    }

    /// Whether `kind` is authorized.
    pub fn is_authorized(&self, kind: InvoiceKind) -> bool {
        self.authorized & (1 << kind.index()) != 0
    }

    /// Authorizes or withdraws `kind`.
    pub fn set_authorized(&mut self, kind: InvoiceKind, on: bool) {
        if on {
            self.authorized |= 1 << kind.index();
        } else {
            self.authorized &= !(1 << kind.index());
        }
    }
}

/// Per-kind not-uploaded totals (D9, D12), derived from the journal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    /// Not-uploaded events of the kind.
    pub events: u32,
    /// Not-uploaded invoices of the kind.
    pub invoices: u32,
    /// Time of the oldest not-uploaded invoice.
    pub oldest: Option<Timestamp>,
    /// Sum of not-uploaded positive amounts.
    pub amount: i64,
}
