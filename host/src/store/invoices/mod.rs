//! Invoices and their life cycle:
//!
//! ```text
//! pending --mark_issued--> issued --mark_uploaded--> uploaded
//!    |                        \                         /
//!    +--mark_abandoned--> abandoned    +--mark_voided--> voided
//! ```
//!
//! - `pending`: validated and recorded before the disk signs (H8); the request id is the disk's
//!   idempotency key, unique here too.
//! - `issued`: the disk's signed record is stored (code, number, counter, time, signature,
//!   check code); the period becomes the disk time's period.
//! - Recording a pending invoice writes no audit entry (the row names its issuer); abandon and
//!   void do.
//! - `abandoned`: the disk refused the request, nothing was signed (kept for the audit).
//! - `voided`: by the issuer or the administrator (H9); voiding a red invoice that used an info
//!   form releases the form for a corrected one (FAQ 7.5).
//!
//! The content is stored once, as the validated invoice's JSON (re-validated on load; exports
//! read their lines from it). Month queries go through `invoices_period_kind` (schema v3).

mod pending;
mod read;
mod write;

pub(crate) use pending::{PendingValues, insert_issued_values, insert_pending_values, take_ids};
pub(crate) use write::mark_issued_in;
pub use write::{IssuedAndPending, PendingInsert};

use super::UserId;
use super::red_forms::RedFormId;
use super::users::Role;
use super::{Store, StoreError, audit, now_secs};
use crate::invoice::Invoice;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, params, params_from_iter};
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::{
    CheckCode, Digest, Fen, InvoiceCode, InvoiceKind, InvoiceNumber, RedRef, RequestId, Signature,
};

/// An invoice's row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InvoiceId(pub i64);

/// Where an invoice is in its life cycle (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvoiceState {
    /// Recorded, not yet signed by the disk.
    Pending,
    /// Signed by the disk.
    Issued,
    /// Acknowledged by the bureau.
    Uploaded,
    /// Voided (作废).
    Voided,
    /// Refused by the disk; never signed.
    Abandoned,
}

impl InvoiceState {
    /// Every state, in life-cycle order.
    pub const ALL: [InvoiceState; 5] = [
        InvoiceState::Pending,
        InvoiceState::Issued,
        InvoiceState::Uploaded,
        InvoiceState::Voided,
        InvoiceState::Abandoned,
    ];
}

impl InvoiceState {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceState::Pending => "pending",
            InvoiceState::Issued => "issued",
            InvoiceState::Uploaded => "uploaded",
            InvoiceState::Voided => "voided",
            InvoiceState::Abandoned => "abandoned",
        }
    }

    fn parse(s: &str) -> Result<InvoiceState, StoreError> {
        Ok(match s {
            "pending" => InvoiceState::Pending,
            "issued" => InvoiceState::Issued,
            "uploaded" => InvoiceState::Uploaded,
            "voided" => InvoiceState::Voided,
            "abandoned" => InvoiceState::Abandoned,
            other => return Err(StoreError::Corrupt(format!("invoice state {other:?}"))),
        })
    }
}

/// What the disk answered for an issued invoice (D5).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiskRecord {
    /// Invoice code.
    pub code: InvoiceCode,
    /// Invoice number.
    pub number: InvoiceNumber,
    /// Journal counter.
    pub counter: u64,
    /// The disk's time.
    pub time: Timestamp,
    /// SM2 signature.
    pub signature: Signature,
    /// Check code (none on special invoices, F5).
    pub check_code: Option<CheckCode>,
}

/// A stored invoice with everything known about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredInvoice {
    /// Row id.
    pub id: InvoiceId,
    /// The disk idempotency key.
    pub request_id: RequestId,
    /// State.
    pub state: InvoiceState,
    /// Tax period (the disk's once issued).
    pub period: Period,
    /// Who issued it.
    pub issuer: UserId,
    /// The content.
    pub invoice: Invoice,
    /// The info form a red special invoice used.
    pub red_form: Option<RedFormId>,
    /// The disk's record, once issued.
    pub disk: Option<DiskRecord>,
    /// Host time of recording.
    pub created_at: i64,
    /// Host time of the upload acknowledgement.
    pub uploaded_at: Option<i64>,
    /// Host time of the void.
    pub voided_at: Option<i64>,
}

/// One line of a month listing (no content decoding, so it stays fast).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceRow {
    /// Row id.
    pub id: InvoiceId,
    /// Kind.
    pub kind: InvoiceKind,
    /// State.
    pub state: InvoiceState,
    /// Period.
    pub period: Period,
    /// Code, once issued.
    pub code: Option<String>,
    /// Number, once issued.
    pub number: Option<u32>,
    /// Buyer name.
    pub buyer_name: String,
    /// Buyer taxpayer id.
    pub buyer_id: Option<String>,
    /// Tax-excluded total.
    pub amount: Fen,
    /// Tax total.
    pub tax: Fen,
    /// Whether red.
    pub is_red: bool,
    /// Issuer.
    pub issuer: UserId,
}

/// A month query: a period, optionally one kind and one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthQuery {
    /// The period.
    pub period: Period,
    /// Only this kind.
    pub kind: Option<InvoiceKind>,
    /// Only this state.
    pub state: Option<InvoiceState>,
}

impl MonthQuery {
    /// Every invoice of `period`.
    pub fn period(period: Period) -> MonthQuery {
        MonthQuery {
            period,
            kind: None,
            state: None,
        }
    }

    /// The `WHERE` clause; one text per combination so SQLite plans each with its index.
    pub fn where_clause(&self) -> &'static str {
        match (self.kind.is_some(), self.state.is_some()) {
            (false, false) => "period = ?1",
            (true, false) => "period = ?1 AND kind = ?2",
            (false, true) => "period = ?1 AND state = ?3",
            (true, true) => "period = ?1 AND kind = ?2 AND state = ?3",
        }
    }

    /// The bound values, as many as [`MonthQuery::where_clause`] numbers.
    fn params(&self) -> Vec<Value> {
        let mut v = vec![Value::Integer(i64::from(self.period.yyyymm()))];
        match (self.kind, self.state) {
            (None, None) => {}
            (Some(k), None) => v.push(Value::Integer(i64::from(k.number()))),
            (k, Some(s)) => {
                v.push(k.map_or(Value::Null, |k| Value::Integer(i64::from(k.number()))));
                v.push(Value::Text(s.as_str().to_owned()));
            }
        }
        v
    }
}

const ROW_COLUMNS: &str = "id, kind, state, period, code, number, buyer_name, buyer_id, \
                           amount_fen, tax_fen, is_red, issuer_id";
const FULL_COLUMNS: &str = "id, request_id, state, period, issuer_id, body, red_form_id, code, \
                            number, counter, disk_time, signature, check_code, created_at, \
                            uploaded_at, voided_at";
/// Where [`FULL_COLUMNS`] come from: an invoice's row and its content (schema v4).
const FULL_FROM: &str = "invoices JOIN invoice_bodies ON invoice_bodies.invoice_id = invoices.id";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn period_of(v: u32) -> Result<Period, StoreError> {
    Period::try_from(v).map_err(|_| StoreError::Corrupt(format!("period {v}")))
}

/// A disk record as the issuing statements take it (`write.rs`'s UPDATEs, `pending.rs`'s
/// INSERT as issued): `?1` to `?8` (period, code, number, counter, time, signature, check
/// code, row id) and `?9`, the kinds its code fits (one bit per kind number, F2).
struct RecordValues<'a> {
    period: u32,
    code: &'a str,
    number: u32,
    counter: i64,
    time: i64,
    signature: [u8; 64],
    check_code: Option<&'a str>,
    id: i64,
    fitting: i64,
}

impl<'a> RecordValues<'a> {
    fn new(id: InvoiceId, rec: &'a DiskRecord) -> Result<RecordValues<'a>, StoreError> {
        Ok(RecordValues {
            period: rec.time.period().yyyymm(),
            code: rec.code.as_str(),
            number: rec.number.get(),
            counter: i64::try_from(rec.counter).map_err(corrupt)?,
            time: i64::try_from(rec.time.0).map_err(corrupt)?,
            signature: rec.signature.to_bytes(),
            check_code: rec.check_code.as_ref().map(|c| c.as_str()),
            id: id.0,
            fitting: kinds_of_code(&rec.code),
        })
    }

    fn params(&self) -> [&dyn rusqlite::ToSql; 9] {
        [
            &self.period,
            &self.code,
            &self.number,
            &self.counter,
            &self.time,
            &self.signature,
            &self.check_code,
            &self.id,
            &self.fitting,
        ]
    }
}

/// F2: the kinds `code` is a code of, as a set of bits (bit `k` for kind number `k`).
fn kinds_of_code(code: &InvoiceCode) -> i64 {
    InvoiceKind::ALL
        .iter()
        .filter(|k| code.check_kind(**k).is_ok())
        .fold(0, |set, k| set | 1 << k.number())
}

fn kind_of(v: u8) -> Result<InvoiceKind, StoreError> {
    InvoiceKind::try_from(v).map_err(corrupt)
}

/// F2: whether a disk record's `code` is one of kind number `kind` (the refusal if not).
pub(crate) fn code_fits(code: &InvoiceCode, kind: u8) -> Result<(), StoreError> {
    code.check_kind(kind_of(kind)?)
        .map_err(|e| StoreError::Invoice(e.into()))
}

type RawRow = (
    i64,
    u8,
    String,
    u32,
    Option<String>,
    Option<u32>,
    String,
    Option<String>,
    i64,
    i64,
    bool,
    i64,
);

fn raw_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    // rusqlite reads a row into a tuple of its columns in order.
    RawRow::try_from(r)
}

fn to_row(r: RawRow) -> Result<InvoiceRow, StoreError> {
    let (id, kind, state, period, code, number, buyer_name, buyer_id, amount, tax, is_red, issuer) =
        r;
    Ok(InvoiceRow {
        id: InvoiceId(id),
        kind: kind_of(kind)?,
        state: InvoiceState::parse(&state)?,
        period: period_of(period)?,
        code,
        number,
        buyer_name,
        buyer_id,
        amount: Fen(amount),
        tax: Fen(tax),
        is_red,
        issuer: UserId(issuer),
    })
}

type RawFull = (
    i64,
    Vec<u8>,
    String,
    u32,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<u32>,
    Option<i64>,
    Option<i64>,
    Option<Vec<u8>>,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
);

fn raw_full(r: &Row<'_>) -> rusqlite::Result<RawFull> {
    // rusqlite reads a row into a tuple of its columns in order.
    RawFull::try_from(r)
}

fn to_full(r: RawFull) -> Result<StoredInvoice, StoreError> {
    let (
        id,
        request_id,
        state,
        period,
        issuer,
        body,
        red_form,
        code,
        number,
        counter,
        disk_time,
        signature,
        check_code,
        created_at,
        uploaded_at,
        voided_at,
    ) = r;
    let invoice: Invoice = serde_json::from_str(&body).map_err(corrupt)?;
    let request_id: RequestId = request_id.as_slice().try_into().map_err(corrupt)?;
    let disk = match (code, number, counter, disk_time, signature) {
        (Some(code), Some(number), Some(counter), Some(time), Some(sig)) => {
            let sig: [u8; 64] = sig.as_slice().try_into().map_err(corrupt)?;
            Some(DiskRecord {
                code: InvoiceCode::new(&code).map_err(corrupt)?,
                number: InvoiceNumber::new(number).map_err(corrupt)?,
                counter: u64::try_from(counter).map_err(corrupt)?,
                time: Timestamp(u64::try_from(time).map_err(corrupt)?),
                signature: Signature::from_bytes(&sig),
                check_code: check_code
                    .map(|c| CheckCode::new(&c).map_err(corrupt))
                    .transpose()?,
            })
        }
        _ => None,
    };
    Ok(StoredInvoice {
        id: InvoiceId(id),
        request_id,
        state: InvoiceState::parse(&state)?,
        period: period_of(period)?,
        issuer: UserId(issuer),
        invoice,
        red_form: red_form.map(RedFormId),
        disk,
        created_at,
        uploaded_at,
        voided_at,
    })
}

fn red_ref_text(r: &Option<RedRef>) -> Option<String> {
    match r {
        None => None,
        Some(RedRef::InfoForm(n)) => Some(n.to_string()),
        Some(RedRef::Original { code, number }) => Some(format!("{code}/{number}")),
    }
}

/// The statement that marks issued invoices uploaded through a counter (`?1` the time, `?2`
/// the counter). The repeated `state IN ('pending', 'issued')` is the partial index's own
/// condition: SQLite uses a partial index only when the query names it, and without it every
/// upload scanned the whole table (106-123 ms on 1,000,000 invoices, issue 15).
pub const MARK_UPLOADED_SQL: &str = "UPDATE invoices SET state = 'uploaded', uploaded_at = ?1
     WHERE state IN ('pending', 'issued') AND state = 'issued' AND counter <= ?2";
