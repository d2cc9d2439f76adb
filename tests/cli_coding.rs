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

#[test]
fn customer_categories_form_a_tree_and_file_customers() {
    let dir = tempfile::tempdir().unwrap();
    let cli = support::Cli::new(&dir.path().join("data"));
    cli.ready();
    let add = |name: &str, parent: Option<&str>| {
        let mut a = vec!["customer", "category", "add", "--name", name];
        if let Some(p) = parent {
            a.extend(["--parent", p]);
        }
        cli.run(&a)
    };
    let out = String::from_utf8_lossy(&add("批发", None).stdout).into_owned();
    assert!(out.contains("added category 1: 批发"), "{out}");
    let out = String::from_utf8_lossy(&add("福州", Some("批发")).stdout).into_owned();
    assert!(out.contains("福州, under 批发"), "{out}");
    assert!(add("零售", None).status.success());

    // A taken name, an unknown parent: refused, naming what was given; nothing added.
    let o = add("福州", None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("--name 福州: category 2") && err.contains("H5"),
        "{err}"
    );
    let o = add("泉州", Some("海外"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("--parent 海外"),
        "{err}"
    );

    let customer = |code: &str, name: &str, category: Option<&str>| {
        let mut a = vec!["customer", "add", "--code", code, "--name", name];
        if let Some(c) = category {
            a.extend(["--category", c]);
        }
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    cli.ok(&args(&customer("C1", "福州闽江贸易", Some("福州"))));
    cli.ok(&args(&customer("C2", "厦门鹭岛商贸", Some("零售"))));
    cli.ok(&args(&customer("C3", "无分类客户", None)));
    let err = cli.refused(&args(&customer("C4", "海外客户", Some("海外"))));
    assert!(err.contains("--category 海外"), "{err}");

    // The tree: 福州 under 批发, each with the customers it holds.
    let tree = cli.ok(&["customer", "category", "list"]);
    let lines: Vec<&str> = tree.lines().collect();
    assert_eq!(lines.len(), 3, "{tree}");
    assert!(
        lines[0].contains(" 批发") && lines[0].ends_with("0 customer(s)"),
        "{tree}"
    );
    assert!(
        lines[1].contains("   福州") && lines[1].ends_with("1 customer(s)"),
        "{tree}"
    );
    assert!(
        lines[2].contains(" 零售") && lines[2].ends_with("1 customer(s)"),
        "{tree}"
    );
    assert!(!lines[0].contains("   批发"), "{tree}");

    // The list names each customer's category; one category's customers alone.
    let list = cli.ok(&["customer", "list"]);
    assert_eq!(list.lines().count(), 3, "{list}");
    let c1 = list.lines().find(|l| l.starts_with("C1")).unwrap();
    assert!(c1.trim_end().ends_with("福州"), "{list}");
    let c3 = list.lines().find(|l| l.starts_with("C3")).unwrap();
    assert!(c3.ends_with("无分类客户"), "{list}");
    let only = cli.ok(&["customer", "list", "--category", "福州"]);
    assert_eq!(only.lines().count(), 1, "{only}");
    assert!(only.starts_with("C1"), "{only}");
    let err = cli.refused(&["customer", "list", "--category", "海外"]);
    assert!(err.contains("--category 海外"), "{err}");

    let zh = cli.ok(&["--lang", "zh-CN", "customer", "category", "list"]);
    assert!(zh.contains("1 个客户"), "{zh}");
    let err = cli.refused(&[
        "--lang", "zh-CN", "customer", "category", "add", "--name", "零售",
    ]);
    assert!(err.contains("分类 3 已使用这个名称"), "{err}");
    assert_eq!(cli.ok(&["customer", "category", "list"]).lines().count(), 3);
}
