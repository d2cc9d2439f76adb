//! Transactions whose `BEGIN`, `COMMIT` and `ROLLBACK` are cached statements.
//!
//! rusqlite's `Transaction` sends its `BEGIN` and `COMMIT` through `execute_batch`, which
//! parses them again every time: about 26 k instructions per issuing call of one invoice
//! (BENCHMARKS.md "2026-12-06 (f)"). The issuing path's transactions go through [`Tx`]
//! instead, whose statements are prepared once per connection (`prepare_cached`).

use super::StoreError;
use rusqlite::Connection;

/// An open transaction on a connection; rolled back when dropped without
/// [`Tx::commit`]. Statements run through it (it dereferences to the connection) are
/// inside the transaction.
pub(crate) struct Tx<'a> {
    conn: &'a Connection,
    open: bool,
}

impl<'a> Tx<'a> {
    /// A write transaction that takes the write lock as it begins (as the store's
    /// `transaction()`s do: see `Store::setup`).
    pub(crate) fn write(conn: &'a Connection) -> Result<Tx<'a>, StoreError> {
        Tx::begin(conn, "BEGIN IMMEDIATE")
    }

    /// A read transaction: the statements run in it read one snapshot, and take and drop
    /// the WAL's read lock once for all of them instead of once each.
    pub(crate) fn read(conn: &'a Connection) -> Result<Tx<'a>, StoreError> {
        Tx::begin(conn, "BEGIN DEFERRED")
    }

    fn begin(conn: &'a Connection, sql: &str) -> Result<Tx<'a>, StoreError> {
        conn.prepare_cached(sql)?.execute([])?;
        Ok(Tx { conn, open: true })
    }

    /// Commits; on an error the transaction is rolled back (when dropped).
    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        self.open = false;
        Ok(())
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            // Nothing to report to: the transaction ends either way (SQLite rolls back what
            // a failed ROLLBACK leaves when the connection closes).
            let _ = self
                .conn
                .prepare_cached("ROLLBACK")
                .and_then(|mut s| s.execute([]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Tx;
    use rusqlite::Connection;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        c
    }

    fn count(c: &Connection) -> i64 {
        c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_committed_write_stays_and_a_dropped_one_is_rolled_back() {
        let c = conn();
        let tx = Tx::write(&c).unwrap();
        tx.execute("INSERT INTO t VALUES (1)", []).unwrap();
        tx.commit().unwrap();
        assert!(c.is_autocommit());
        assert_eq!(count(&c), 1);
        {
            let tx = Tx::write(&c).unwrap();
            tx.execute("INSERT INTO t VALUES (2)", []).unwrap();
            assert!(!c.is_autocommit());
        }
        assert!(
            c.is_autocommit(),
            "dropped: rolled back, no transaction left open"
        );
        assert_eq!(count(&c), 1);
        // The cached statements serve again.
        let tx = Tx::read(&c).unwrap();
        assert_eq!(count(&tx), 1);
        tx.commit().unwrap();
        assert!(c.is_autocommit());
    }
}
