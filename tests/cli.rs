//! The CLI as a user drives it: one data folder, a command per process, the login kept as a
//! session token between them (never the password), refusals as one line naming the rule.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::path::Path;
use std::process::{Command, Output};

fn taxdisk(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taxdisk"))
        .env("LC_ALL", "C") // English: the test reads English text
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn ok(data: &Path, args: &[&str]) -> String {
    let o = taxdisk(data, args);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{args:?} failed: {}{out}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn refused(data: &Path, args: &[&str]) -> String {
    let o = taxdisk(data, args);
    assert!(!o.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

/// H1 and D1 through the CLI: the company initialized (bureau connection tested) and the disk
/// provisioned.
fn init_and_provision(d: &Path) {
    ok(d, support::INIT);
    ok(d, support::PROVISION);
}

#[test]
fn h01_to_h18_workflow_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // H2: nothing works before login.
    assert!(refused(d, &["status"]).contains("not logged in"));
    init_and_provision(d);
    assert!(refused(d, &["login", "--user", "陈主管", "--password", "wrong"]).contains("H2"));
    ok(
        d,
        &["login", "--user", "陈主管", "--password", "pw-admin-1"],
    );
    // The password is not kept: the session file holds a token only.
    let session = std::fs::read_to_string(d.join("session")).unwrap();
    assert!(!session.contains("pw-admin-1") && session.trim().len() == 64);
    ok(d, &["rolls", "buy", "--kind", "normal", "--count", "20"]);
    let issued = ok(
        d,
        &[
            "issue",
            "--kind",
            "normal",
            "--buyer",
            "福州闽江贸易",
            "--item",
            "技术服务费:3040201000000000000:6:1:3000",
            "--item",
            "软件维护费：3040203000000000000：6%：２：１２００",
        ],
    );
    assert!(
        issued.contains("issued normal") && issued.contains("uploaded"),
        "{issued}"
    );
    // H7: a special invoice without the buyer's id is refused with the rule.
    assert!(
        refused(
            d,
            &[
                "issue",
                "--kind",
                "special",
                "--buyer",
                "x",
                "--item",
                "a:1090101010000000000:13:1:100"
            ]
        )
        .contains("H7")
    );
    let list = ok(d, &["list"]);
    assert!(
        list.contains("5400.00") && list.contains("324.00"),
        "{list}"
    );
    // H10: red of a normal invoice, code and number entered twice.
    let line = list
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>();
    let (code, number) = (line[2], line[3]);
    assert!(
        refused(
            d,
            &[
                "red",
                "--code",
                code,
                "--number",
                number,
                "--code-again",
                code,
                "--number-again",
                "00000099"
            ]
        )
        .contains("H10")
    );
    ok(
        d,
        &[
            "red",
            "--code",
            code,
            "--number",
            number,
            "--code-again",
            code,
            "--number-again",
            number,
        ],
    );
    // H10: a red special invoice through an info form: fill, upload (approved at once), issue
    // once, and a second use of the form is refused.
    ok(d, &["rolls", "buy", "--kind", "special", "--count", "5"]);
    let sp = ok(
        d,
        &[
            "issue",
            "--kind",
            "special",
            "--buyer",
            "福州闽江贸易",
            "--buyer-tin",
            "91350100MA34ABCD13",
            "--buyer-address",
            "福州市 0591-1",
            "--buyer-bank",
            "中国银行 40770001",
            "--item",
            "笔记本电脑:1090511010000000000:13:1:5200",
        ],
    );
    let sp_id = sp
        .split("(id ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    let filled = ok(d, &["red-form", "fill", "--original", &sp_id]);
    let form_id = filled.split_whitespace().nth(2).unwrap().to_owned();
    let up = ok(d, &["red-form", "upload", "--id", &form_id]);
    assert!(up.contains("approved (审核通过)"), "{up}");
    let number = up.split_whitespace().last().unwrap().to_owned();
    ok(
        d,
        &[
            "red-form",
            "export",
            "--id",
            &form_id,
            "--out",
            d.join("form.xml").to_str().unwrap(),
        ],
    );
    assert!(
        std::fs::read_to_string(d.join("form.xml"))
            .unwrap()
            .contains(&number)
    );
    let red = ok(d, &["red-form", "issue", "--number", &number]);
    assert!(red.contains("issued red special"), "{red}");
    assert!(refused(d, &["red-form", "issue", "--number", &number]).contains("H10"));
    // H9: void of the red one; H18 print; H16 export; H14 status; H4 backup.
    ok(d, &["void", "--id", "2"]);
    ok(
        d,
        &[
            "print",
            "--id",
            "1",
            "--out",
            d.join("1.pdf").to_str().unwrap(),
            "--right",
            "-2",
        ],
    );
    assert!(
        std::fs::read(d.join("1.pdf"))
            .unwrap()
            .starts_with(b"%PDF-1.4")
    );
    let export = ok(d, &["export", "--out", d.join("m.xlsx").to_str().unwrap()]);
    assert!(
        export.contains("exported 3 invoices") && export.contains("1 voided left out"),
        "{export}"
    );
    let status = ok(d, &["status"]);
    assert!(
        status.contains("normal") && status.contains("yes"),
        "{status}"
    );
    ok(d, &["backup", "--folder", d.join("bk").to_str().unwrap()]);
    // H2: an invoicer, then the session ends.
    ok(
        d,
        &[
            "user",
            "add",
            "--name",
            "李会计",
            "--password",
            "pw-clerk-1",
            "--kinds",
            "electronic",
        ],
    );
    assert!(
        refused(
            d,
            &["user", "add", "--name", "陈主管", "--password", "x-pass-1"]
        )
        .contains("H2")
    );
    ok(d, &["logout"]);
    assert!(refused(d, &["list"]).contains("not logged in"));
}

#[test]
fn conformance_junit_record_and_replay_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let junit = d.join("j.xml");
    let trace = d.join("t.jsonl");
    let out = ok(
        d,
        &[
            "conformance",
            "--junit",
            junit.to_str().unwrap(),
            "--record",
            trace.to_str().unwrap(),
        ],
    );
    assert!(out.contains("0 failed"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite") && xml.contains("d05_issue_retry_is_idempotent"));
    let replay = ok(d, &["replay", "--trace", trace.to_str().unwrap()]);
    assert!(replay.contains(", 0 differences"), "{replay}");
    // A damaged trace is refused with the line that is wrong, nothing replayed.
    let text = std::fs::read(&trace).unwrap();
    std::fs::write(&trace, &text[..text.len() / 2 + 7]).unwrap();
    let err = refused(d, &["replay", "--trace", trace.to_str().unwrap()]);
    assert!(err.contains("--trace: trace line"), "{err}");
}

/// `taxdisk bench`: a one-disk run and a farm of two, through `Workflow::issue_batch`, with
/// the raw signing rate of the same run, the ratio, latencies and the scaling; every invoice
/// is in the bench's store, issued. Bad arguments are one line each.
#[test]
fn bench_issues_through_the_workflow_and_reports_rates_ratio_and_scaling() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = ok(
        d,
        &["bench", "--invoices", "300", "--batch", "32", "--jobs", "2"],
    );
    let line = |prefix: &str| {
        out.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {out}"))
            .to_owned()
    };
    let number_after = |l: &str, prefix: &str| -> f64 {
        l[prefix.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    // The signer is named: the fastest measured (issue 15).
    assert!(
        line("signer:").ends_with(taxdisk_protocol::sign::IMPLEMENTATION)
            && line("signer:").contains("efficient-sm2"),
        "{}",
        line("signer:")
    );
    let raw = line("raw SM2 signing (one core):");
    assert!(
        number_after(&raw, "raw SM2 signing (one core):") > 0.0,
        "{raw}"
    );
    assert!(raw.contains("[75 signatures between the calls]"), "{raw}");
    let one = line("end-to-end issue, 1 disk:");
    assert!(
        number_after(&one, "end-to-end issue, 1 disk:") > 0.0,
        "{one}"
    );
    assert!(one.contains("% of raw signing") && one.contains("[300 invoices, 32 per call]"));
    assert!(line("latency per call:").contains("p99"));
    // The in-process disk's own time: per invoice, and its share of the issuing time, which
    // it cannot exceed (its work is counted inside the timed calls).
    let disk = line("the disk's own time:");
    let per = number_after(&disk, "the disk's own time:");
    let busy: f64 = disk
        .split("busy ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no share in {disk}"));
    assert!(per > 0.0 && busy > 0.0 && busy <= 100.0, "{disk}");
    assert!(disk.contains("µs per invoice (a raw signature"), "{disk}");
    let farm = line("end-to-end issue, 2 disks:");
    assert!(farm.contains("scaling x"), "{farm}");
    // One store per disk, each holding its 300 invoices as issued.
    for db in ["bench-0.db", "bench-1.db", "bench-2.db"] {
        let conn = rusqlite::Connection::open(d.join("bench").join(db)).unwrap();
        let (all, issued): (i64, i64) = conn
            .query_row(
                "SELECT COUNT(*), SUM(state = 'issued') FROM invoices",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((all, issued), (300, 300), "{db}");
    }
    for bad in [
        &["bench", "--batch", "0"][..],
        &["bench", "--invoices", "0"],
        &["bench", "--jobs", "65"],
    ] {
        let e = refused(d, bad);
        assert!(e.contains("--batch 1 to 10000"), "{e}");
    }
}

/// Issue 16: `--jobs` was silently ignored with a served disk; a flag that does not apply is
/// refused with the reason (before anything connects).
#[test]
fn bench_refuses_jobs_with_a_served_disk() {
    let dir = tempfile::tempdir().unwrap();
    let e = refused(
        dir.path(),
        &[
            "--disk",
            "tcp:127.0.0.1:1",
            "--bureau",
            "http://127.0.0.1:1",
            "bench",
            "--jobs",
            "2",
        ],
    );
    assert!(
        e.contains("--jobs 2") && e.contains("leave --jobs out"),
        "{e}"
    );
}

/// 批量开具 from a file: one `Workflow::issue_batch`; the valid drafts are issued, the refused
/// one is named with its rule, and the command fails with one line counting it.
#[test]
fn h08_batch_file_issues_the_valid_drafts_and_names_the_refused_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init_and_provision(d);
    ok(
        d,
        &["login", "--user", "陈主管", "--password", "pw-admin-1"],
    );
    ok(d, &["rolls", "buy", "--kind", "normal", "--count", "10"]);
    let mut template: serde_json::Value =
        serde_json::from_str(&ok(d, &["issue", "--template", "normal"])).unwrap();
    template["seller"]["name"] = "厦门鹭岛科技".into();
    template["seller"]["taxpayer_id"] = "91350200MA2XY1234B".into();
    let mut bad = template.clone();
    bad["currency"] = "USD".into();
    let file = d.join("batch.json");
    std::fs::write(
        &file,
        serde_json::to_string(&vec![template.clone(), bad, template]).unwrap(),
    )
    .unwrap();
    let o = taxdisk(d, &["issue", "--file", file.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{out}");
    assert_eq!(out.matches("issued normal").count(), 2, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("draft 2 not issued") && l.contains("H7")),
        "{out}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("1 of 3 drafts not issued"), "{err}");
    let list = ok(d, &["list"]);
    assert_eq!(
        list.lines().filter(|l| l.contains("200.00")).count(),
        2,
        "{list}"
    );
}
