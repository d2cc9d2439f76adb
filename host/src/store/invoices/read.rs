//! Reading invoices: one by id, request id or number, the pending ones, and a month's
//! listing (H3), by rows or one at a time.

use super::*;

impl Store {
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
    /// (exports of 100,000 invoices). The first error, the store's or `f`'s own, stops the
    /// reading and is returned as is.
    pub fn for_each_in_month<E: From<StoreError>>(
        &self,
        q: &MonthQuery,
        mut f: impl FnMut(StoredInvoice) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = format!(
            "SELECT {FULL_COLUMNS} FROM {FULL_FROM} WHERE {} ORDER BY id",
            q.where_clause()
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query(params_from_iter(q.params()))
            .map_err(StoreError::from)?;
        while let Some(r) = rows.next().map_err(StoreError::from)? {
            f(to_full(raw_full(r).map_err(StoreError::from)?)?)?;
        }
        Ok(())
    }
}
