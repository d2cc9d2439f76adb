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
