//! Writing invoices: recorded pending before the disk signs (H8), then issued with the
//! disk's record, abandoned, uploaded or voided; in batches where issuing is hot.

use super::pending::{INSERT_ROWS, insert_pending_in};
use super::*;
use crate::store::deferred::Deferred;
use crate::store::tx::Tx;

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
    tx: &rusqlite::Connection,
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
        if let Some((d, conn)) = self.conn.deferred()
            && Deferred::takes_pending(items)
        {
            return d.record_pending(conn, issuer, period, items);
        }
        let first = self.deferred_ids(items.len())?;
        let tx = Tx::write(&self.conn)?;
        let ids = insert_pending_in(&tx, issuer, period, items, first)?;
        tx.commit()?;
        Ok(ids)
    }

    /// H8 between two parts of a batch: stores the signed records of `issued` (as
    /// [`Store::mark_issued_batch`]) and records `pending` (as [`Store::insert_pending_batch`])
    /// in one transaction, so one commit carries both and the pages they share are written
    /// once. The pending rows are durable before any of their requests is sent, as H8 asks.
    /// Answers one outcome per record and one id per pending invoice, in order. The outer
    /// error is a database failure: then nothing is stored and nothing recorded.
    pub fn mark_issued_and_insert_pending(
        &mut self,
        issued: &[(InvoiceId, DiskRecord)],
        issuer: UserId,
        period: Period,
        pending: &[PendingInsert<'_>],
    ) -> Result<IssuedAndPending, StoreError> {
        if let Some((d, conn)) = self.conn.deferred()
            && Deferred::takes_pending(pending)
            && d.takes_issued(issued)
        {
            return d.record(conn, issued, Some((issuer, period, pending)));
        }
        let first = self.deferred_ids(pending.len())?;
        let tx = Tx::write(&self.conn)?;
        let outcomes = mark_issued_in(&tx, issued)?;
        let ids = insert_pending_in(&tx, issuer, period, pending, first)?;
        // One outcome per record and one id per pending invoice, or nothing is committed.
        if outcomes.len() != issued.len() || ids.len() != pending.len() {
            return Err(StoreError::Corrupt(format!(
                "{} outcomes for {} signed records, {} ids for {} pending invoices",
                outcomes.len(),
                issued.len(),
                ids.len(),
                pending.len()
            )));
        }
        tx.commit()?;
        Ok((outcomes, ids))
    }

    /// When issuing records are deferred, `n` ids from the block reserved for them (the
    /// first), so rows written the direct way (red invoices with an info form) keep their
    /// place in this process's order of issuing; otherwise `None` (the INSERT's transaction
    /// takes them from the sequence).
    fn deferred_ids(&mut self, n: usize) -> Result<Option<i64>, StoreError> {
        match self.conn.deferred() {
            Some((d, conn)) if n > 0 => Ok(Some(d.reserve(conn, n)?)),
            _ => Ok(None),
        }
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
        if let Some((d, conn)) = self.conn.deferred()
            && d.takes_issued(items)
        {
            let (outcomes, _) = d.record(conn, items, None)?;
            return Ok(outcomes);
        }
        let tx = Tx::write(&self.conn)?;
        let results = mark_issued_in(&tx, items)?;
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
        if let Some((d, _)) = self.conn.deferred() {
            d.forget(id);
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
}

/// What [`Store::mark_issued_and_insert_pending`] answers: each signed record's outcome (as
/// [`Store::mark_issued_batch`]) and the pending rows' ids (as [`Store::insert_pending_batch`]).
pub type IssuedAndPending = (Vec<Result<(), StoreError>>, Vec<InvoiceId>);

/// [`Store::mark_issued_batch`]'s work inside the transaction `tx`.
pub(crate) fn mark_issued_in(
    tx: &rusqlite::Connection,
    items: &[(InvoiceId, DiskRecord)],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
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
            store_records_at_once(tx, chunk, &mut stored[start..start + n])?;
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
                    return Err(Store::refuse(
                        *id,
                        state,
                        "H8",
                        "only a pending invoice can be issued",
                    ));
                }
                // F2: the disk's code must be one of this kind.
                code_fits(&rec.code, kind)?;
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
    Ok(results)
}
