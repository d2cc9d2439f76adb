//! The plans of the store's hot statements (`EXPLAIN QUERY PLAN`): each goes through its index
//! or key, never a scan of a table that grows (DESIGN "no hot statement scans a table").
#![allow(clippy::unwrap_used)]

use taxdisk_host::store::Store;

/// The plan of `sql` with `params` on a freshly migrated store, one detail line per step.
fn plan_of(sql: &str, params: impl rusqlite::Params) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    st.query_map(params, |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The upload path's statement goes through the index, never a scan of every invoice (issue
/// 15: it once scanned the whole table, 106-123 ms per upload on 1,000,000 invoices).
#[test]
fn marking_uploaded_uses_the_state_index() {
    let plan = plan_of(
        taxdisk_host::store::invoices::MARK_UPLOADED_SQL,
        rusqlite::params![0i64, 10i64],
    );
    assert!(
        plan.iter().all(|l| !l.starts_with("SCAN invoices")),
        "{plan:?}"
    );
    assert!(
        plan.iter().any(|l| l.contains("invoices_state")),
        "{plan:?}"
    );
}

/// The issuing call's read of the issuer's permissions (`Store::issuing_context`, once per
/// call) goes through the permissions table's primary key, never a scan.
#[test]
fn reading_a_users_permissions_uses_the_primary_key() {
    let plan = plan_of(
        taxdisk_host::store::issuing::USER_PERMISSIONS_SQL,
        rusqlite::params![2i64],
    );
    assert!(plan.iter().all(|l| !l.starts_with("SCAN")), "{plan:?}");
    assert!(
        plan.iter()
            .any(|l| l.starts_with("SEARCH permissions USING PRIMARY KEY (user_id=?)")),
        "{plan:?}"
    );
}
