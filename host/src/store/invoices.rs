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
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// One invoice of a batch recorded pending in one transaction
/// ([`Store::insert_pending_batch`]).
#[derive(Clone, Copy, Debug)]
pub struct PendingInsert<'a> {
    /// The validated invoice.
    pub invoice: &'a Invoice,
    /// The disk's idempotency key for it.
    pub request_id: RequestId,
    /// Its content digest (`invoice.content_digest()`, computed once by the caller, who sends
    /// the same digest to the disk).
    pub digest: Digest,
    /// The info form a red special invoice uses (H10).
    pub red_form: Option<RedFormId>,
}

/// Pending invoices (and issued records) per statement of [`Store::insert_pending_batch`] and
/// [`Store::mark_issued_batch`] (a batch's tail goes one row per statement). With one
/// statement per row, SQLite's work per statement (reset, the transaction check, opening and
/// closing a cursor for the table and each index) was about 14 % of the store's time per
/// invoice (BENCHMARKS.md section 3).
const INSERT_ROWS: usize = 16;

/// The INSERT of `rows` pending invoices (14 parameters each), answering their ids.
fn pending_rows_sql(rows: usize) -> String {
    let one = "(?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    format!(
        "INSERT INTO invoices (request_id, kind, variant, state, period, created_at, issuer_id,
         buyer_name, buyer_id, amount_fen, tax_fen, is_red, red_ref, red_form_id, digest)
         VALUES {} RETURNING id, request_id",
        vec![one; rows].join(", ")
    )
}

/// The INSERT of the contents of `rows` invoices (id, JSON).
fn content_rows_sql(rows: usize) -> String {
    format!(
        "INSERT INTO invoice_bodies (invoice_id, body) VALUES {}",
        vec!["(?, ?)"; rows].join(", ")
    )
}

/// The values of one pending row, kept while its statement runs.
struct PendingRow<'a> {
    kind: u8,
    variant: u8,
    buyer_id: Option<&'a str>,
    amount: i64,
    tax: i64,
    is_red: bool,
    red_ref: Option<String>,
    red_form: Option<i64>,
    body: String,
}

/// Records `items` pending with one INSERT of their rows and one of their contents, in `tx`;
/// appends their ids to `ids` in the order of `items`.
fn insert_pending_rows(
    tx: &rusqlite::Transaction<'_>,
    issuer: UserId,
    period: Period,
    now: i64,
    items: &[PendingInsert<'_>],
    ids: &mut Vec<InvoiceId>,
) -> Result<(), StoreError> {
    let rows = items
        .iter()
        .map(|item| {
            let invoice = item.invoice;
            let d = invoice.draft();
            Ok(PendingRow {
                kind: invoice.kind().number(),
                variant: invoice.variant() as u8,
                buyer_id: d.buyer.taxpayer_id.as_ref().map(|t| t.as_str()),
                amount: invoice.amount_fen().0,
                tax: invoice.tax_fen().0,
                is_red: invoice.is_red(),
                red_ref: red_ref_text(&d.red),
                red_form: item.red_form.map(|r| r.0),
                body: serde_json::to_string(invoice).map_err(corrupt)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let yyyymm = period.yyyymm();
    let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(items.len() * 14);
    for (item, row) in items.iter().zip(&rows) {
        values.extend_from_slice(&[
            &item.request_id as &dyn rusqlite::ToSql,
            &row.kind,
            &row.variant,
            &yyyymm,
            &now,
            &issuer.0,
            &item.invoice.draft().buyer.name,
            &row.buyer_id,
            &row.amount,
            &row.tax,
            &row.is_red,
            &row.red_ref,
            &row.red_form,
            &item.digest,
        ]);
    }
    let first = ids.len();
    ids.extend(std::iter::repeat_n(InvoiceId(0), items.len()));
    let mut found = 0;
    {
        let mut insert = tx.prepare_cached(&pending_rows_sql(items.len()))?;
        let mut answered = insert.query(&values[..])?;
        // SQLite does not promise RETURNING's order: each id is placed by its request id.
        while let Some(r) = answered.next()? {
            let id: i64 = r.get(0)?;
            let request_id: Vec<u8> = r.get(1)?;
            let at = items
                .iter()
                .position(|i| i.request_id[..] == request_id[..])
                .ok_or_else(|| StoreError::Corrupt("an inserted row of another request".into()))?;
            ids[first + at] = InvoiceId(id);
            found += 1;
        }
    }
    if found != items.len() {
        return Err(StoreError::Corrupt(format!(
            "{found} of {} pending rows inserted",
            items.len()
        )));
    }
    let mut content: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(items.len() * 2);
    for (id, row) in ids[first..].iter().zip(&rows) {
        content.push(&id.0);
        content.push(&row.body);
    }
    tx.prepare_cached(&content_rows_sql(items.len()))?
        .execute(&content[..])?;
    Ok(())
}

/// A disk record as the issuing UPDATEs take it: `?1` to `?8` (period, code, number,
/// counter, time, signature, check code, row id) and `?9`, the kinds its code fits (one bit
/// per kind number, F2).
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

/// The UPDATE storing `rows` records at once: each a pending invoice, still in the period it
/// was recorded in, without a red info form, whose code fits its kind; answers the ids it
/// stored. `NOT INDEXED`: each row is found by its id, never through the state index.
fn records_at_once_sql(rows: usize) -> String {
    format!(
        "UPDATE invoices NOT INDEXED SET state = 'issued', code = v.column2,
         number = v.column3, counter = v.column4, disk_time = v.column5, signature = v.column6,
         check_code = v.column7
         FROM (VALUES {}) AS v
         WHERE invoices.id = v.column8 AND invoices.state = 'pending'
         AND invoices.period = v.column1 AND invoices.red_form_id IS NULL
         AND ((v.column9 >> invoices.kind) & 1) = 1
         RETURNING invoices.id",
        vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; rows].join(", ")
    )
}

/// Stores the records of `chunk` (distinct invoices) that need no more than the checks of
/// [`records_at_once_sql`], with one statement; marks them in `stored`.
fn store_records_at_once(
    tx: &rusqlite::Transaction<'_>,
    chunk: &[RecordValues<'_>],
    stored: &mut [bool],
) -> Result<(), StoreError> {
    let params: Vec<&dyn rusqlite::ToSql> = chunk.iter().flat_map(|v| v.params()).collect();
    let mut update = tx.prepare_cached(&records_at_once_sql(chunk.len()))?;
    let mut done = update.query(&params[..])?;
    while let Some(r) = done.next()? {
        let id: i64 = r.get(0)?;
        if let Some(at) = chunk.iter().position(|v| v.id == id) {
            stored[at] = true;
        }
    }
    Ok(())
}

/// What `mark_issued_batch` reads of a row before storing its record: state, kind, red form
/// id, the form's state, the period recorded when pending.
type IssueCheckRow = (String, u8, Option<i64>, Option<String>, u32);

impl Store {
    /// H8: records a validated invoice as pending before the disk signs it. `period` is the
    /// period the host expects (the disk's time decides it at [`Store::mark_issued`]).
    pub fn insert_pending(
        &mut self,
        issuer: UserId,
        invoice: &Invoice,
        request_id: RequestId,
        period: Period,
        red_form: Option<RedFormId>,
    ) -> Result<InvoiceId, StoreError> {
        let item = PendingInsert {
            invoice,
            request_id,
            digest: invoice.content_digest(),
            red_form,
        };
        let ids = self.insert_pending_batch(issuer, period, &[item])?;
        // One item in, one id out (insert_pending_batch answers one id per item).
        ids.first()
            .copied()
            .ok_or_else(|| StoreError::Corrupt("no row id for a pending invoice".into()))
    }

    /// H8 for a batch: records every invoice of `items` as pending in one transaction (one
    /// commit for all, so the rows are durable together before the disk signs any of them).
    /// All or nothing: an error records none. Answers the row ids in the order of `items`.
    pub fn insert_pending_batch(
        &mut self,
        issuer: UserId,
        period: Period,
        items: &[PendingInsert<'_>],
    ) -> Result<Vec<InvoiceId>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut ids = Vec::with_capacity(items.len());
        let now = now_secs();
        let mut chunks = items.chunks_exact(INSERT_ROWS);
        for chunk in chunks.by_ref() {
            insert_pending_rows(&tx, issuer, period, now, chunk, &mut ids)?;
        }
        for item in chunks.remainder() {
            insert_pending_rows(
                &tx,
                issuer,
                period,
                now,
                std::slice::from_ref(item),
                &mut ids,
            )?;
        }
        tx.commit()?;
        Ok(ids)
    }

    fn state_of(&self, id: InvoiceId) -> Result<(InvoiceState, UserId, Option<i64>), StoreError> {
        let r: Option<(String, i64, Option<i64>)> = self
            .conn
            .prepare_cached("SELECT state, issuer_id, red_form_id FROM invoices WHERE id = ?1")?
            .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (s, issuer, form) =
            r.ok_or_else(|| StoreError::NotFound(format!("invoice {}", id.0)))?;
        Ok((InvoiceState::parse(&s)?, UserId(issuer), form))
    }

    fn refuse(
        id: InvoiceId,
        state: InvoiceState,
        rule: &'static str,
        problem: &'static str,
    ) -> StoreError {
        StoreError::State {
            rule,
            what: format!("invoice {}", id.0),
            state: state.as_str().to_owned(),
            problem,
        }
    }

    /// H8: stores the disk's signed record; pending -> issued. The period becomes the disk
    /// time's. A red invoice's info form becomes used (FAQ 7.4). An error changes nothing.
    pub fn mark_issued(&mut self, id: InvoiceId, rec: &DiskRecord) -> Result<(), StoreError> {
        let mut results = self.mark_issued_batch(&[(id, rec.clone())])?;
        results.pop().unwrap_or_else(|| {
            Err(StoreError::Corrupt(
                "no result for an issued invoice".into(),
            ))
        })
    }

    /// H8 for a batch: stores the disk's signed records of `items` in one transaction (one
    /// commit for all). Each item is checked on its own inside the transaction (pending, a code
    /// of its kind, its red info form still approved); one that fails changes nothing and gets
    /// its error in the answer (same order as `items`), the others are stored. The outer
    /// error is a database failure: then nothing is stored.
    pub fn mark_issued_batch(
        &mut self,
        items: &[(InvoiceId, DiskRecord)],
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let tx = self.conn.transaction()?;
        let values = items
            .iter()
            .map(|(id, rec)| RecordValues::new(*id, rec))
            .collect::<Result<Vec<_>, StoreError>>()?;
        // The common case, many invoices per statement; whatever it did not store (the tail
        // of fewer than INSERT_ROWS, and what needs more checks) goes the long way below, which
        // finds what is wrong or handles the rest. A tail row goes the long way rather than
        // through a one-row `UPDATE .. FROM (VALUES ..)`: that one materializes its VALUES in
        // an ephemeral table, about 96 k instructions against a lookup and an UPDATE by id
        // (one invoice per call, BENCHMARKS.md "2026-12-06 (f)").
        let mut stored = vec![false; items.len()];
        let mut start = 0;
        while values.len() - start >= INSERT_ROWS {
            let n = INSERT_ROWS;
            let chunk = &values[start..start + n];
            // Two records for one invoice in one statement: which one SQLite would keep is not
            // said. Such a chunk goes the long way, in order: the first is stored.
            let twice = chunk
                .iter()
                .enumerate()
                .any(|(i, v)| chunk[..i].iter().any(|w| w.id == v.id));
            if !twice {
                store_records_at_once(&tx, chunk, &mut stored[start..start + n])?;
            }
            start += n;
        }
        let mut results = Vec::with_capacity(items.len());
        {
            let mut read = tx.prepare_cached(
                "SELECT state, kind, red_form_id,
                 (SELECT state FROM red_forms WHERE red_forms.id = invoices.red_form_id), period
                 FROM invoices WHERE id = ?1",
            )?;
            // SQLite rewrites the entry of every index on a column the SET names, changed or
            // not: the period is named only when the disk's time moved the invoice to another
            // period than the host expected.
            let mut update = tx.prepare_cached(
                "UPDATE invoices SET state = 'issued', code = ?2, number = ?3,
                 counter = ?4, disk_time = ?5, signature = ?6, check_code = ?7
                 WHERE id = ?8 AND state = 'pending' AND period = ?1",
            )?;
            let mut update_period = tx.prepare_cached(
                "UPDATE invoices SET state = 'issued', period = ?1, code = ?2, number = ?3,
                 counter = ?4, disk_time = ?5, signature = ?6, check_code = ?7
                 WHERE id = ?8 AND state = 'pending'",
            )?;
            let mut use_form = tx.prepare_cached(
                "UPDATE red_forms SET state = 'used', used_by = ?1, updated_at = ?2
                 WHERE id = ?3 AND state = 'approved'",
            )?;
            for (((id, rec), v), done) in items.iter().zip(&values).zip(stored) {
                if done {
                    results.push(Ok(()));
                    continue;
                }
                let period = v.period;
                let row: Option<IssueCheckRow> = read
                    .query_row([id.0], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .optional()?;
                let mut same_period = false;
                let checked = (|| {
                    let (state, kind, form, form_state, recorded) =
                        row.ok_or_else(|| StoreError::NotFound(format!("invoice {}", id.0)))?;
                    same_period = recorded == period;
                    let state = InvoiceState::parse(&state)?;
                    if state != InvoiceState::Pending {
                        return Err(Self::refuse(
                            *id,
                            state,
                            "H8",
                            "only a pending invoice can be issued",
                        ));
                    }
                    // F2: the disk's code must be one of this kind.
                    rec.code
                        .check_kind(kind_of(kind)?)
                        .map_err(|e| StoreError::Invoice(e.into()))?;
                    if let Some(form) = form
                        && form_state.as_deref() != Some("approved")
                    {
                        return Err(StoreError::State {
                            rule: "H10",
                            what: format!("red info form {form}"),
                            state: form_state.unwrap_or_else(|| "missing".into()),
                            problem: "one approved form gives one red invoice (FAQ 7.4)",
                        });
                    }
                    Ok(form)
                })();
                let form = match checked {
                    Ok(form) => form,
                    Err(e) => {
                        results.push(Err(e));
                        continue;
                    }
                };
                let update = if same_period {
                    &mut update
                } else {
                    &mut update_period
                };
                update.execute(&v.params()[..8])?;
                if let Some(form) = form {
                    use_form.execute(params![id.0, now_secs(), form])?;
                }
                results.push(Ok(()));
            }
        }
        tx.commit()?;
        Ok(results)
    }

    /// H8: the disk refused the request; pending -> abandoned.
    pub fn mark_abandoned(
        &mut self,
        actor: UserId,
        id: InvoiceId,
        reason: &str,
    ) -> Result<(), StoreError> {
        let (state, _, _) = self.state_of(id)?;
        if state != InvoiceState::Pending {
            return Err(Self::refuse(
                id,
                state,
                "H8",
                "only a pending invoice can be abandoned",
            ));
        }
        let tx = self.conn.transaction()?;
        tx.prepare_cached("UPDATE invoices SET state = 'abandoned' WHERE id = ?1")?
            .execute([id.0])?;
        audit::write(
            &tx,
            Some(actor),
            "invoice.abandon",
            &format!("{} {reason}", id.0),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// H11: issued -> uploaded (the bureau acknowledged it).
    pub fn mark_uploaded(&mut self, id: InvoiceId) -> Result<(), StoreError> {
        let (state, _, _) = self.state_of(id)?;
        if state != InvoiceState::Issued {
            return Err(Self::refuse(
                id,
                state,
                "H11",
                "only an issued invoice can be uploaded",
            ));
        }
        self.conn
            .prepare_cached(
                "UPDATE invoices SET state = 'uploaded', uploaded_at = ?1 WHERE id = ?2",
            )?
            .execute(params![now_secs(), id.0])?;
        Ok(())
    }

    /// What a row's columns say of an invoice (what `list` and the month queries show): the
    /// tax-excluded amount, the tax and the buyer's taxpayer id.
    pub fn listed_totals(&self, id: InvoiceId) -> Result<(Fen, Fen, Option<String>), StoreError> {
        self.conn
            .prepare_cached("SELECT amount_fen, tax_fen, buyer_id FROM invoices WHERE id = ?1")?
            .query_row(params![id.0], |r| {
                Ok((Fen(r.get(0)?), Fen(r.get(1)?), r.get(2)?))
            })
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("invoice {}", id.0)))
    }

    /// H11 (FAQ 4.22): puts back what the disk signed (amount, tax, buyer's taxpayer id) into
    /// the columns of a row that says otherwise, and writes the change in the audit log with
    /// what the row said before.
    pub fn restore_signed_totals(
        &mut self,
        actor: UserId,
        id: InvoiceId,
        signed: (Fen, Fen, Option<&str>),
    ) -> Result<(), StoreError> {
        let before = self.listed_totals(id)?;
        let tx = self.conn.unchecked_transaction()?;
        tx.prepare_cached(
            "UPDATE invoices SET amount_fen = ?1, tax_fen = ?2, buyer_id = ?3 WHERE id = ?4",
        )?
        .execute(params![signed.0.0, signed.1.0, signed.2, id.0])?;
        audit::write(
            &tx,
            Some(actor),
            "repair",
            &format!(
                "invoice {}: restored what the disk signed (amount {} fen, tax {} fen, buyer {}); the store said {} / {} / {}",
                id.0,
                signed.0.0,
                signed.1.0,
                signed.2.unwrap_or("-"),
                before.0.0,
                before.1.0,
                before.2.as_deref().unwrap_or("-")
            ),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// H11 (D12): every issued invoice with a journal counter up to `counter` is uploaded;
    /// answers how many changed.
    pub fn mark_uploaded_through(&mut self, counter: u64) -> Result<usize, StoreError> {
        let c = i64::try_from(counter).map_err(corrupt)?;
        let tx = self.conn.transaction()?;
        let n = tx
            .prepare_cached(MARK_UPLOADED_SQL)?
            .execute(params![now_secs(), c])?;
        tx.commit()?;
        Ok(n)
    }

    /// H9: voids an issued or uploaded invoice; only its issuer or the administrator may. A red
    /// invoice's info form is released for a corrected one (FAQ 7.5). Period and disk rules
    /// (D7) are the disk's to check first.
    pub fn mark_voided(&mut self, actor: UserId, id: InvoiceId) -> Result<(), StoreError> {
        let (state, issuer, form) = self.state_of(id)?;
        if actor != issuer && self.user(actor)?.role != Role::Admin {
            return Err(StoreError::Permission {
                rule: "H9",
                what: "only the issuer or the administrator may void an invoice (FAQ 5.1)".into(),
            });
        }
        if !matches!(state, InvoiceState::Issued | InvoiceState::Uploaded) {
            return Err(Self::refuse(
                id,
                state,
                "D7",
                "only an issued invoice can be voided",
            ));
        }
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "UPDATE invoices SET state = 'voided', voided_at = ?1, voided_by = ?2 WHERE id = ?3",
        )?
        .execute(params![now_secs(), actor.0, id.0])?;
        if let Some(form) = form {
            tx.prepare_cached(
                "UPDATE red_forms SET state = 'approved', used_by = NULL, updated_at = ?1
                 WHERE id = ?2 AND state = 'used'",
            )?
            .execute(params![now_secs(), form])?;
        }
        audit::write(&tx, Some(actor), "invoice.void", &id.0.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// One invoice with its content.
    pub fn invoice(&self, id: InvoiceId) -> Result<StoredInvoice, StoreError> {
        self.full_where("id = ?1", params![id.0])?
            .ok_or_else(|| StoreError::NotFound(format!("invoice {}", id.0)))
    }

    /// The invoice recorded under a disk request id (H8/H11 repair).
    pub fn invoice_by_request(
        &self,
        request_id: &RequestId,
    ) -> Result<Option<StoredInvoice>, StoreError> {
        self.full_where("request_id = ?1", params![&request_id[..]])
    }

    /// The invoice with this code and number.
    pub fn invoice_by_number(
        &self,
        code: &InvoiceCode,
        number: InvoiceNumber,
    ) -> Result<Option<StoredInvoice>, StoreError> {
        self.full_where(
            "code = ?1 AND number = ?2",
            params![code.as_str(), number.get()],
        )
    }

    fn full_where(
        &self,
        clause: &str,
        p: impl rusqlite::Params,
    ) -> Result<Option<StoredInvoice>, StoreError> {
        let sql = format!("SELECT {FULL_COLUMNS} FROM {FULL_FROM} WHERE {clause}");
        let r = self
            .conn
            .prepare_cached(&sql)?
            .query_row(p, raw_full)
            .optional()?;
        r.map(to_full).transpose()
    }

    /// Pending invoices, oldest first (H11 repair).
    pub fn pending_invoices(&self) -> Result<Vec<StoredInvoice>, StoreError> {
        let sql =
            format!("SELECT {FULL_COLUMNS} FROM {FULL_FROM} WHERE state = 'pending' ORDER BY id");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], raw_full)?;
        rows.map(|r| to_full(r?)).collect()
    }

    /// The SQL of a month listing (for `EXPLAIN QUERY PLAN`).
    pub fn month_sql(q: &MonthQuery) -> String {
        format!(
            "SELECT {ROW_COLUMNS} FROM invoices WHERE {} ORDER BY id",
            q.where_clause()
        )
    }

    /// `EXPLAIN QUERY PLAN` of the month listing `q`, one line per step.
    pub fn explain_month(&self, q: &MonthQuery) -> Result<Vec<String>, StoreError> {
        self.explain(&Self::month_sql(q), params_from_iter(q.params()))
    }

    /// H16/H12: the invoices of a month (optionally one kind and state), by id.
    pub fn month(&self, q: &MonthQuery) -> Result<Vec<InvoiceRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&Self::month_sql(q))?;
        let rows = stmt.query_map(params_from_iter(q.params()), raw_row)?;
        rows.map(|r| to_row(r?)).collect()
    }

    /// Counts a month's invoices.
    pub fn month_count(&self, q: &MonthQuery) -> Result<u64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM invoices WHERE {}", q.where_clause());
        let n: i64 = self
            .conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(q.params()), |r| r.get(0))?;
        u64::try_from(n).map_err(corrupt)
    }

    /// Streams a month's invoices with their content to `f`, by id, without loading them all
    /// (exports of 100,000 invoices).
    pub fn for_each_in_month(
        &self,
        q: &MonthQuery,
        mut f: impl FnMut(StoredInvoice) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {FULL_COLUMNS} FROM {FULL_FROM} WHERE {} ORDER BY id",
            q.where_clause()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(q.params()))?;
        while let Some(r) = rows.next()? {
            f(to_full(raw_full(r)?)?)?;
        }
        Ok(())
    }
}

/// The statement that marks issued invoices uploaded through a counter (`?1` the time, `?2`
/// the counter). The repeated `state IN ('pending', 'issued')` is the partial index's own
/// condition: SQLite uses a partial index only when the query names it, and without it every
/// upload scanned the whole table (106-123 ms on 1,000,000 invoices, issue 15).
pub const MARK_UPLOADED_SQL: &str = "UPDATE invoices SET state = 'uploaded', uploaded_at = ?1
     WHERE state IN ('pending', 'issued') AND state = 'issued' AND counter <= ?2";
