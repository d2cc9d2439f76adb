//! What the disk signed is the truth (issue 13, H11, FAQ 4.22(1)): a store changed behind the
//! software's back (`sqlite3 taxdisk.db "UPDATE ..."`) is compared with the disk's signed
//! records by `repair`, through the binary.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use support::{Cli, ISSUE};

#[test]
fn repair_puts_back_what_the_disk_signed_and_names_what_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path());
    cli.ready();
    cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
    for _ in 0..3 {
        cli.ok(ISSUE);
    }
    let clean = cli.ok(&["repair"]);
    assert!(clean.contains("every invoice read back matches"), "{clean}");
    let db = rusqlite::Connection::open(dir.path().join("taxdisk.db")).unwrap();
    // Invoice 1: the listed amounts and buyer changed. Invoice 2: its content (a line's name).
    db.execute(
        "UPDATE invoices SET amount_fen = 99900, tax_fen = 12987, buyer_id = '91350100MA34ABCD13' WHERE id = 1",
        [],
    )
    .unwrap();
    db.execute(
        "UPDATE invoice_bodies SET body = replace(body, '办公用品', '黄金首饰') WHERE invoice_id = 2",
        [],
    )
    .unwrap();
    drop(db);
    let list = cli.ok(&["list"]);
    assert!(list.contains("999.00"), "the tampering took: {list}");
    let out = cli.ok(&["repair"]);
    let line = |id: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("invoice {id} ")))
            .unwrap_or_else(|| panic!("no line for invoice {id}: {out}"))
            .to_owned()
    };
    let one = line("1");
    assert!(
        one.contains("amount 999.00, signed 100.00")
            && one.contains("tax 129.87, signed 13.00")
            && one.contains("buyer's taxpayer id 91350100MA34ABCD13, signed none")
            && one.contains("restored the signed values"),
        "{one}"
    );
    let two = line("2");
    assert!(
        two.contains("differ from the signed content") && two.contains("cannot be rebuilt"),
        "{two}"
    );
    assert!(!out.contains("invoice 3 "), "{out}");
    // The listing shows the signed amounts again; a second repair finds the columns right.
    let list = cli.ok(&["list"]);
    assert!(!list.contains("999.00"), "{list}");
    assert_eq!(list.matches(" 100.00 13.00 ").count(), 3, "{list}");
    let again = cli.ok(&["repair"]);
    assert!(!again.contains("invoice 1 "), "{again}");
}
