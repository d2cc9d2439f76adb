//! Recording invoices pending (H8): the values of a pending row, the ids from the sequence
//! (schema v6), the multi-row INSERTs of the rows and their contents; used by the direct way
//! (`write.rs`) and by the deferred journal's fold (`store/deferred/`).

use super::*;

/// Pending invoices (and issued records) per statement of [`Store::insert_pending_batch`] and
/// [`Store::mark_issued_batch`] (pending rows: the rest of a batch in one statement too;
/// issued records: a batch's tail one row per statement). With one statement per row,
/// SQLite's work per statement (reset, the transaction check, opening and closing a cursor for
/// the table and each index) was about 14 % of the store's time per invoice (BENCHMARKS.md
/// section 3); a first part of 4 pending rows recorded row by row took 244-313 µs to commit,
/// in one statement 193-262 µs ("2026-12-07 (l)"), while the disk waits for it.
pub(super) const INSERT_ROWS: usize = 16;

/// The INSERT of `rows` pending invoices (15 parameters each, the row id first), answering
/// the ids inserted. A row whose id or request id is there already is left as it is (a
/// deferred journal folded again after a crash, `super::super::deferred`); the caller counts
/// the answers.
fn pending_rows_sql(rows: usize) -> String {
    let one = "(?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    format!(
        "INSERT INTO invoices (id, request_id, kind, variant, state, period, created_at,
         issuer_id, buyer_name, buyer_id, amount_fen, tax_fen, is_red, red_ref, red_form_id,
         digest)
         VALUES {} ON CONFLICT DO NOTHING RETURNING id",
        vec![one; rows].join(", ")
    )
}

/// The INSERT of the contents of `rows` invoices (id, JSON).
fn content_rows_sql(rows: usize) -> String {
    format!(
        "INSERT INTO invoice_bodies (invoice_id, body) VALUES {} ON CONFLICT DO NOTHING",
        vec!["(?, ?)"; rows].join(", ")
    )
}

/// Everything one pending row holds, owned: what its INSERT binds, and what a deferred
/// issuing journal keeps of it until it is folded in (`super::super::deferred`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct PendingValues {
    pub(crate) id: i64,
    pub(crate) request_id: RequestId,
    pub(crate) kind: u8,
    variant: u8,
    period: u32,
    created_at: i64,
    issuer: i64,
    buyer_name: String,
    buyer_id: Option<String>,
    amount: i64,
    tax: i64,
    is_red: bool,
    red_ref: Option<String>,
    red_form: Option<i64>,
    digest: Digest,
    body: String,
}

impl PendingValues {
    /// The row of `item` recorded pending under row id `id` by `issuer` in `period` at `now`.
    pub(crate) fn new(
        id: InvoiceId,
        issuer: UserId,
        period: Period,
        now: i64,
        item: &PendingInsert<'_>,
    ) -> Result<PendingValues, StoreError> {
        let invoice = item.invoice;
        let d = invoice.draft();
        Ok(PendingValues {
            id: id.0,
            request_id: item.request_id,
            kind: invoice.kind().number(),
            variant: invoice.variant() as u8,
            period: period.yyyymm(),
            created_at: now,
            issuer: issuer.0,
            buyer_name: d.buyer.name.clone(),
            buyer_id: d.buyer.taxpayer_id.as_ref().map(|t| t.as_str().to_owned()),
            amount: invoice.amount_fen().0,
            tax: invoice.tax_fen().0,
            is_red: invoice.is_red(),
            red_ref: red_ref_text(&d.red),
            red_form: item.red_form.map(|r| r.0),
            digest: item.digest,
            body: serde_json::to_string(invoice).map_err(corrupt)?,
        })
    }

    /// Whether the disk's record `rec` of this row can be stored with the row at once
    /// ([`insert_issued_values`]): the row has no red info form (whose state the record's
    /// storing checks and changes, H10) and the record's code is one of its kind (F2).
    pub(crate) fn pairs_with(&self, rec: &DiskRecord) -> bool {
        self.red_form.is_none() && code_fits(&rec.code, self.kind).is_ok()
    }

    /// The row's 15 INSERT parameters, in the order of [`pending_rows_sql`]; the period fifth.
    fn params(&self) -> [&dyn rusqlite::ToSql; 15] {
        [
            &self.id,
            &self.request_id,
            &self.kind,
            &self.variant,
            &self.period,
            &self.created_at,
            &self.issuer,
            &self.buyer_name,
            &self.buyer_id,
            &self.amount,
            &self.tax,
            &self.is_red,
            &self.red_ref,
            &self.red_form,
            &self.digest,
        ]
    }
}

/// Takes `n` invoice row ids from the sequence (schema v6) in `tx`: answers the first; the
/// ids up to it plus `n` are the caller's, never given to another writer.
pub(crate) fn take_ids(tx: &rusqlite::Connection, n: usize) -> Result<i64, StoreError> {
    let n = i64::try_from(n).map_err(corrupt)?;
    Ok(tx
        .prepare_cached(
            "UPDATE sequences SET next = next + ?1 WHERE name = 'invoices' RETURNING next - ?1",
        )?
        .query_row([n], |r| r.get(0))?)
}

/// Inserts `rows` pending with at most [`INSERT_ROWS`] per statement, their contents too, in
/// `tx`; a row already there (its id or request id) is left as it is. Answers how many were
/// inserted.
pub(crate) fn insert_pending_values(
    tx: &rusqlite::Connection,
    rows: &[&PendingValues],
) -> Result<usize, StoreError> {
    let mut inserted = 0;
    for chunk in rows.chunks(INSERT_ROWS) {
        let values: Vec<&dyn rusqlite::ToSql> = chunk.iter().flat_map(|r| r.params()).collect();
        let sql = pending_rows_sql(chunk.len());
        inserted += insert_with_contents(tx, &sql, &values, chunk.iter().copied())?.len();
    }
    Ok(inserted)
}

/// Runs the multi-row INSERT `sql` (which answers the ids it inserted) with `values`, then
/// inserts the contents of those of `rows` it inserted, in one statement; answers their ids.
fn insert_with_contents<'a>(
    tx: &rusqlite::Connection,
    sql: &str,
    values: &[&dyn rusqlite::ToSql],
    rows: impl Iterator<Item = &'a PendingValues>,
) -> Result<Vec<i64>, StoreError> {
    let mut new = Vec::new();
    {
        let mut insert = tx.prepare_cached(sql)?;
        let mut answered = insert.query(values)?;
        while let Some(r) = answered.next()? {
            new.push(r.get::<_, i64>(0)?);
        }
    }
    let fresh: Vec<&PendingValues> = rows.filter(|r| new.contains(&r.id)).collect();
    if !fresh.is_empty() {
        let content: Vec<&dyn rusqlite::ToSql> = fresh
            .iter()
            .flat_map(|r| [&r.id as &dyn rusqlite::ToSql, &r.body])
            .collect();
        tx.prepare_cached(&content_rows_sql(fresh.len()))?
            .execute(&content[..])?;
    }
    Ok(new)
}

/// The INSERT of `rows` invoices stored as issued at once: a pending row's values and the
/// disk's record of it (22 parameters each: the row's 15, the period replaced by the disk
/// time's, then code, number, counter, time, signature and check code), answering the ids
/// inserted. A row whose id or request id is there already is left as it is; any other
/// refusal (a code and number another row holds) fails the statement, as the UPDATE of
/// `mark_issued_batch` would.
fn issued_rows_sql(rows: usize) -> String {
    let one = "(?, ?, ?, ?, 'issued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    format!(
        "INSERT INTO invoices (id, request_id, kind, variant, state, period, created_at,
         issuer_id, buyer_name, buyer_id, amount_fen, tax_fen, is_red, red_ref, red_form_id,
         digest, code, number, counter, disk_time, signature, check_code)
         VALUES {} ON CONFLICT (id) DO NOTHING ON CONFLICT (request_id) DO NOTHING
         RETURNING id",
        vec![one; rows].join(", ")
    )
}

/// Inserts the rows of `pairs` as issued at once, their contents too, at most
/// [`INSERT_ROWS`] per statement: each a row recorded pending and the disk's record of it,
/// both met in one fold of the deferred journal (`super::super::deferred`), so nothing can
/// have changed the row between the two. The record's checks are the caller's: only a row
/// without a red info form whose record's code fits its kind (F2) is paired
/// ([`PendingValues::pairs_with`]). Answers the ids inserted; a row that was there already
/// (a journal folded again) is not, and its record is the caller's to store the long way.
pub(crate) fn insert_issued_values(
    tx: &rusqlite::Connection,
    pairs: &[(&PendingValues, &DiskRecord)],
) -> Result<Vec<i64>, StoreError> {
    let mut inserted = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(INSERT_ROWS) {
        let records = chunk
            .iter()
            .map(|(p, r)| RecordValues::new(InvoiceId(p.id), r))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 22);
        for ((p, _), r) in chunk.iter().zip(&records) {
            let mut row = p.params();
            row[4] = &r.period;
            values.extend(row);
            values.extend([
                &r.code as &dyn rusqlite::ToSql,
                &r.number,
                &r.counter,
                &r.time,
                &r.signature,
                &r.check_code,
            ]);
        }
        let sql = issued_rows_sql(chunk.len());
        inserted.extend(insert_with_contents(
            tx,
            &sql,
            &values,
            chunk.iter().map(|(p, _)| *p),
        )?);
    }
    Ok(inserted)
}

/// [`Store::insert_pending_batch`]'s work inside the transaction `tx`: the rows of `items`
/// under ids from `first` on (reserved by the caller) or else taken from the sequence, their
/// ids in order, at most [`INSERT_ROWS`] per statement (so at most that many distinct
/// statements in the connection's cache). A row that is not inserted (its request id is there
/// already) fails the whole.
pub(super) fn insert_pending_in(
    tx: &rusqlite::Connection,
    issuer: UserId,
    period: Period,
    items: &[PendingInsert<'_>],
    first: Option<i64>,
) -> Result<Vec<InvoiceId>, StoreError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_secs();
    let first = match first {
        Some(f) => f,
        None => take_ids(tx, items.len())?,
    };
    let rows = items
        .iter()
        .zip(first..)
        .map(|(item, id)| PendingValues::new(InvoiceId(id), issuer, period, now, item))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let inserted = insert_pending_values(tx, &rows.iter().collect::<Vec<_>>())?;
    if inserted != rows.len() {
        return Err(StoreError::Corrupt(format!(
            "{inserted} of {} pending rows inserted (a request id recorded twice)",
            rows.len()
        )));
    }
    Ok(rows.iter().map(|r| InvoiceId(r.id)).collect())
}
