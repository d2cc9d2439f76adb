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
    // H8: what the disk signed is shown, never the store's changed figures. Invoice 1's listed
    // columns changed but its signed content did not: it lists as signed. Invoice 2's content
    // is not what the disk signed: no figures, a warning, no print, left out of the export.
    let (list, warn) = cli.ok_err(&["list"]);
    assert!(!list.contains("999.00"), "{list}");
    let signed = |l: &str| l.contains(" 100.00 ") && l.contains(" 13.00 ");
    assert_eq!(list.lines().filter(|l| signed(l)).count(), 2, "{list}");
    let row2 = list
        .lines()
        .find(|l| l.trim_start().starts_with("2 "))
        .unwrap();
    assert!(row2.contains("not what the disk signed"), "{row2}");
    assert!(!row2.contains("100.00"), "{row2}");
    assert!(
        warn.contains("1 invoice(s)") && warn.contains("taxdisk repair") && warn.contains("H8"),
        "{warn}"
    );
    let pdf = dir.path().join("two.pdf");
    let refused = cli.refused(&["print", "--id", "2", "--out", pdf.to_str().unwrap()]);
    assert!(refused.contains("not what the disk signed"), "{refused}");
    assert!(!pdf.exists(), "a refused print wrote {}", pdf.display());
    cli.ok(&["print", "--id", "1", "--out", pdf.to_str().unwrap()]);
    let xlsx = dir.path().join("month.xlsx");
    let refused = cli.refused(&["export", "--out", xlsx.to_str().unwrap()]);
    assert!(
        refused.contains("1 invoice(s) left out") && refused.contains("taxdisk repair"),
        "{refused}"
    );
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
    assert_eq!(list.lines().filter(|l| signed(l)).count(), 2, "{list}");
    let again = cli.ok(&["repair"]);
    assert!(!again.contains("invoice 1 "), "{again}");
}
