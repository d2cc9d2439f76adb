//! A roll return waits for the month's report (issue 13, D4, FAQ 4.21(4)), through the binary:
//! every command its own process on one data folder, the clock moved with `--start-time`, the
//! bureau made unreachable with `--bureau http://127.0.0.1:1`. On the 2nd of a month whose
//! summary did not reach the bureau, `rolls return` is refused in one line that says why and
//! what to do; once the report went through, the same return succeeds.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use support::{Cli, INIT, ISSUE, LOGIN, PROVISION};

const OFFLINE: &[&str] = &["--bureau", "http://127.0.0.1:1"];

/// Kind, code and first number of the first roll a `rolls buy` line lists
/// (`normal  CODE 00000001-10 used 0 left 10`).
fn roll_of(out: &str) -> (String, String) {
    let line = out
        .lines()
        .find(|l| l.starts_with("normal"))
        .unwrap_or_else(|| panic!("no roll listed: {out}"));
    let mut words = line.split_whitespace().skip(1);
    let code = words.next().unwrap().to_owned();
    let first = words.next().unwrap().split('-').next().unwrap().to_owned();
    (code, first)
}

#[test]
fn a_roll_return_waits_for_the_bureaus_receipt_of_the_last_month() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path());
    cli.ok(&[&["--start-time", "2031-04-20T10:00:00+08:00"], INIT].concat());
    cli.ok(PROVISION);
    cli.ok(LOGIN);
    let bought = cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
    cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "5"]);
    cli.ok(ISSUE);
    let (code, first) = roll_of(&bought);
    let ret = [
        "rolls", "return", "--kind", "normal", "--code", &code, "--first", &first,
    ];

    // 2 May, the bureau unreachable: the first command copies April (issuing goes on) but
    // cannot report it.
    let offline = cli.clone().with(OFFLINE);
    let (out, err) =
        offline.ok_err(&[&["--start-time", "2031-05-02T09:00:00+08:00"], ISSUE].concat());
    assert!(out.contains("issued normal"), "{out}");
    assert!(
        err.contains("copied tax (抄税) for 203104") && err.contains("postponed"),
        "{err}"
    );
    let o = offline.run(&ret);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "a roll was returned before the report: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let line = stderr.lines().last().unwrap();
    assert!(
        line.starts_with("error: ")
            && line.contains("has not received the summary")
            && line.contains("203104")
            && line.contains("FAQ 4.21(4)")
            && line.contains("`taxdisk report`"),
        "one line with the reason and what to do: {stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "{stderr}"
    );
    // The roll is still on the disk, untouched.
    let stock = offline.ok(&["rolls", "stock"]);
    assert!(stock.contains(&format!("{code} {first}-")), "{stock}");

    // The bureau answers again (the embedded one, same clock): `taxdisk report` goes through
    // and the disk takes the bureau's receipt; the return now succeeds.
    let (out, _) = cli.ok_err(&["report"]);
    assert!(out.contains("reported 203104"), "{out}");
    let out = cli.ok(&ret);
    assert!(
        out.contains(&format!("returned normal roll {code}")) && out.contains("(D4)"),
        "{out}"
    );
    assert!(out.contains("the bureau accepted the receipt"), "{out}");
}

#[test]
fn a_login_that_reaches_the_bureau_reads_the_receipt_in() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path());
    cli.ok(&[&["--start-time", "2031-04-20T10:00:00+08:00"], INIT].concat());
    cli.ok(PROVISION);
    cli.ok(LOGIN);
    let bought = cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
    cli.ok(ISSUE);
    let (code, first) = roll_of(&bought);
    let ret = [
        "rolls", "return", "--kind", "normal", "--code", &code, "--first", &first,
    ];
    let offline = cli.clone().with(OFFLINE);
    offline.ok(&[&["--start-time", "2031-05-02T09:00:00+08:00"], LOGIN].concat());
    assert!(!offline.run(&ret).status.success());
    // The next login with the bureau reachable reports April automatically.
    let out = cli.ok(LOGIN);
    assert!(
        out.contains("reported period 203104 to the bureau automatically"),
        "{out}"
    );
    let out = cli.ok(&ret);
    assert!(out.contains("returned normal roll"), "{out}");
}
