//! H6 product and customer coding through the binary, one process per command on a fresh data
//! folder: saved as the logged-in user through the library, the rate taken exactly as given
//! in percent (F7) and never rounded into another.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

const CLASS: &str = "1060301000000000000";

fn product(name: &str, code: &str, rate: &str) -> Vec<String> {
    let rate = format!("--rate={rate}");
    [
        "product",
        "add",
        "--code",
        code,
        "--name",
        name,
        "--class-code",
        CLASS,
        &rate,
        "--price",
        "10",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn products_and_customers_are_saved_with_exact_rates() {
    let dir = tempfile::tempdir().unwrap();
    let cli = support::Cli::new(&dir.path().join("data"));

    // Not logged in: refused, nothing saved.
    cli.ok(support::INIT);
    let err = cli.refused(&args(&product("钢笔", "P0", "13")));
    assert!(err.contains("login"), "{err}");

    cli.ok(support::PROVISION);
    cli.ok(support::LOGIN);
    cli.ok(&args(&product("办公用品", "P1", "1.5")));
    cli.ok(&args(&product("纸张", "P2", "0")));
    // 13.004 % is no rate: refused, not rounded to 13 %.
    let err = cli.refused(&args(&product("墨水", "P3", "13.004")));
    assert!(err.contains("13.004") && err.contains("F7"), "{err}");
    let err = cli.refused(&args(&product("墨水", "P3", "-3")));
    assert!(err.contains("F7"), "{err}");

    let list = cli.ok(&["product", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].starts_with("P1") && lines[0].ends_with("1.5%"),
        "{list}"
    );
    assert!(
        lines[1].starts_with("P2") && lines[1].ends_with(" 0%"),
        "{list}"
    );

    // The same rule on an invoice line given on the command line.
    let err = cli.refused(&[
        "issue",
        "--kind",
        "normal",
        "--buyer",
        "买家",
        "--item",
        &format!("办公用品:{CLASS}:13.004%:1:100"),
    ]);
    assert!(err.contains("13.004"), "{err}");

    cli.ok(&[
        "customer",
        "add",
        "--code",
        "C1",
        "--name",
        "厦门某某商贸有限公司",
        "--tin",
        "91350200MA2XY1234B",
    ]);
    let list = cli.ok(&["customer", "list"]);
    assert!(
        list.contains("C1")
            && list.contains("厦门某某商贸有限公司")
            && list.contains("91350200MA2XY1234B"),
        "{list}"
    );
}

#[test]
fn buyers_of_issued_invoices_are_saved_automatically_once_turned_on() {
    let dir = tempfile::tempdir().unwrap();
    let cli = support::Cli::new(&dir.path().join("data"));
    cli.ready();
    cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "5"]);
    let item = format!("办公用品:{CLASS}:13:1:100");
    let issue = |buyer: &str| {
        cli.ok(&[
            "issue", "--kind", "normal", "--buyer", buyer, "--item", &item,
        ])
    };

    // Off until turned on: issued, its buyer not saved.
    let out = issue("福州闽江贸易");
    assert!(
        out.contains("issued normal") && !out.contains("buyer saved"),
        "{out}"
    );
    assert_eq!(cli.ok(&["customer", "list"]).trim(), "");

    let on = cli.ok(&["customer", "auto-save", "on"]);
    assert!(on.contains("saved to the customers automatically"), "{on}");
    // Each invoice says its buyer was saved; a buyer of two invoices is one customer.
    for _ in 0..2 {
        let out = issue("厦门鹭岛商贸");
        assert!(out.contains("buyer saved to the customers"), "{out}");
    }
    let list = cli.ok(&["customer", "list"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains("厦门鹭岛商贸"), "{list}");

    let off = cli.ok(&["customer", "auto-save", "off"]);
    assert!(off.contains("no longer saved automatically"), "{off}");
    let out = issue("泉州刺桐贸易");
    assert!(!out.contains("buyer saved"), "{out}");
    assert_eq!(cli.ok(&["customer", "list"]).lines().count(), 1);

    // Not a position of the switch: a usage error naming what was given and what it takes.
    let o = cli.run(&["customer", "auto-save", "maybe"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("'maybe'") && err.contains("on, off"), "{err}");
}
