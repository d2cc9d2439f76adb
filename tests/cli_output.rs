//! What a person reads from the binary (issue 13): no debug dumps, no panic on a closed pipe,
//! refused attempts out of `list` unless asked, invoice numbers compared as numbers. Each
//! command its own process on a fresh data folder.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::{Cli, ISSUE};

/// A special invoice to a buyer with every field special invoices need; add `--item`s.
const SPECIAL: &[&str] = &[
    "issue",
    "--kind",
    "special",
    "--buyer",
    "福州闽江贸易",
    "--buyer-tin",
    "91350100MA34ABCD13",
    "--buyer-address",
    "福州 0591-1",
    "--buyer-bank",
    "中国银行 123",
];

fn taxdisk(data: &Path, args: &[&str]) -> Output {
    Cli::new(data).run(args)
}

/// A command that must succeed and print words, not debug dumps.
fn ok(data: &Path, args: &[&str]) -> String {
    let out = Cli::new(data).ok(args);
    assert!(
        !out.contains(" { ") && !out.contains("Some("),
        "debug output: {out}"
    );
    out
}

fn ready(d: &Path) {
    Cli::new(d).ready();
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // The reader is gone before the command writes a byte: every write gets EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(env!("CARGO_BIN_EXE_taxdisk"))
        .env("LC_ALL", "C") // English: the test reads English text
        .arg("--data")
        .arg(dir.path())
        .args(["issue", "--template", "special"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked") && err.trim().is_empty(), "{err}");
    assert_eq!(
        o.status.code(),
        Some(141),
        "the status of a process ended by SIGPIPE"
    );
}

#[test]
fn list_leaves_refused_attempts_out_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ready(d);
    // No roll loaded: the disk refuses, the attempt is kept as abandoned (H8).
    let o = taxdisk(d, ISSUE);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("D4"));
    ok(d, &["rolls", "buy", "--kind", "normal", "--count", "10"]);
    ok(d, ISSUE);
    let list = ok(d, &["list"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(
        list.contains("00000001") && !list.contains("abandoned"),
        "{list}"
    );
    // FAQ 8.1, 10.6: status names the oil and used-car authorization types.
    let status = ok(d, &["status"]);
    assert!(
        status.contains("refined oil: none; used car: none"),
        "{status}"
    );
    let all = ok(d, &["list", "--all"]);
    assert_eq!(all.lines().count(), 2, "{all}");
    assert!(all.contains("abandoned"), "{all}");
}

#[test]
fn red_takes_the_number_as_a_number_and_rolls_return_says_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ready(d);
    let bought = ok(d, &["rolls", "buy", "--kind", "normal", "--count", "10"]);
    let code = bought.split_whitespace().nth(1).unwrap().to_owned();
    ok(d, ISSUE);
    // FAQ 7.17: the number entered twice, once as 00000001 and once as 1 (full-width too).
    let red = ok(
        d,
        &[
            "red",
            "--code",
            &code,
            "--number",
            "00000001",
            "--code-again",
            &code,
            "--number-again",
            "１",
        ],
    );
    assert!(red.contains("issued red normal"), "{red}");
    let o = taxdisk(
        d,
        &[
            "red",
            "--code",
            &code,
            "--number",
            "1",
            "--code-again",
            &code,
            "--number-again",
            "2",
        ],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("do not match"));
    // Returning the rest of the roll: a line a person reads, then the receipt as JSON.
    let ret = ok(
        d,
        &[
            "rolls", "return", "--kind", "normal", "--code", &code, "--first", "1",
        ],
    );
    assert!(
        ret.contains(&format!(
            "returned normal roll {code} numbers 00000003-00000010 (8 blank)"
        )),
        "{ret}"
    );
    assert!(ret.contains("the bureau accepted the receipt"), "{ret}");
    ok(d, &["rolls", "buy", "--kind", "normal", "--count", "10"]);
    let bought = ok(d, &["rolls", "stock"]);
    let code2 = bought.split_whitespace().nth(1).unwrap().to_owned();
    let json = ok(
        d,
        &[
            "rolls", "return", "--kind", "normal", "--code", &code2, "--first", "11", "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["count"], 10);
    assert_eq!(v["first"], 11);
    assert_eq!(v["signature"].as_str().unwrap().len(), 128);
    assert_eq!(v["handed_in"], true);
}

/// A batch file is untrusted input: the seller is always the disk's company and the issuer the
/// logged-in user (H3). A draft naming others is refused and nothing is issued; one that
/// leaves them out gets them filled, and the stored invoice shows what the disk signed for.
#[test]
fn a_draft_file_cannot_name_another_seller_or_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ready(d);
    ok(d, &["rolls", "buy", "--kind", "normal", "--count", "10"]);
    let template = ok(d, &["issue", "--template", "normal"]);
    let good = d.join("good.json");
    std::fs::write(&good, &template).unwrap();
    let mut bad: serde_json::Value = serde_json::from_str(&template).unwrap();
    bad["seller"]["name"] = "别的公司".into();
    bad["seller"]["taxpayer_id"] = "91350100MA34ABCD13".into();
    let bad_seller = d.join("bad-seller.json");
    std::fs::write(&bad_seller, bad.to_string()).unwrap();
    let mut bad: serde_json::Value = serde_json::from_str(&template).unwrap();
    bad["issuer"] = "路人甲".into();
    let bad_issuer = d.join("bad-issuer.json");
    std::fs::write(&bad_issuer, bad.to_string()).unwrap();
    for (file, says) in [
        (&bad_seller, "the seller is always this disk's company"),
        (&bad_issuer, "the issuer is the logged-in user"),
    ] {
        let o = taxdisk(d, &["issue", "--file", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(says) && err.contains("H3"),
            "{err}"
        );
    }
    assert_eq!(
        ok(d, &["list", "--all"]).lines().count(),
        0,
        "nothing was recorded"
    );
    ok(d, &["issue", "--file", good.to_str().unwrap()]);
    let store = taxdisk_host::store::Store::open(d.join("taxdisk.db")).unwrap();
    let inv = store.invoice(taxdisk_host::store::InvoiceId(1)).unwrap();
    let draft = inv.invoice.draft();
    assert_eq!(draft.seller.name, "厦门鹭岛科技");
    assert_eq!(
        draft.seller.taxpayer_id.as_ref().map(|t| t.as_str()),
        Some("91350200MA2XY1234B")
    );
    assert_eq!(draft.issuer, "陈主管");
}

/// `--sales-list` puts nine lines on a list (FAQ 4.11); a red info form for such an invoice
/// is refused when it is filled, with FAQ 7.8's reason, not later at issue (issue 13).
#[test]
fn sales_list_flag_and_red_form_refused_at_fill() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ready(d);
    ok(d, &["rolls", "buy", "--kind", "special", "--count", "10"]);
    let items: Vec<String> = (1..=9)
        .map(|i| format!("商品{i}:1060301000000000000:13%:1:10"))
        .collect();
    let mut args: Vec<&str> = SPECIAL.to_vec();
    for it in &items {
        args.extend(["--item", it]);
    }
    let o = taxdisk(d, &args);
    assert!(String::from_utf8_lossy(&o.stderr).contains("FAQ 4.11"));
    args.push("--sales-list");
    let out = ok(d, &args);
    assert!(out.contains("issued special"), "{out}");
    let id = out.split("(id ").nth(1).unwrap().split(',').next().unwrap();
    let o = taxdisk(d, &["red-form", "fill", "--original", id]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "a form that can never be used was filled"
    );
    assert!(
        err.contains("no sales list") && err.contains("FAQ 7.8"),
        "{err}"
    );
    let forms = ok(d, &["red-form", "list", "--state", "not-uploaded"]);
    assert!(forms.trim().is_empty(), "{forms}");
}

/// FAQ 7.6 through the binary: a form not uploaded can be edited and deleted; an approved one
/// cannot be deleted (issue 13: the CLI had no way to do either).
#[test]
fn red_forms_are_edited_and_deleted_as_faq_7_6_allows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ready(d);
    ok(d, &["rolls", "buy", "--kind", "special", "--count", "10"]);
    let special = [
        SPECIAL,
        &["--item", "技术服务费:3040201000000000000:6%:1:3000"],
    ]
    .concat();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let out = ok(d, &special);
        ids.push(
            out.split("(id ")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    let form = |out: &str| out.split_whitespace().nth(2).unwrap().to_owned();
    let f1 = form(&ok(d, &["red-form", "fill", "--original", &ids[0]]));
    let f2 = form(&ok(d, &["red-form", "fill", "--original", &ids[1]]));
    let edited = ok(
        d,
        &["red-form", "edit", "--id", &f1, "--reason", "开票有误"],
    );
    assert!(edited.contains("not uploaded (未上传)"), "{edited}");
    // A form that names an invoice that is no special one is refused as the FAQ says.
    let o = taxdisk(d, &["red-form", "edit", "--id", &f1, "--original", "999"]);
    assert!(!o.status.success());
    ok(d, &["red-form", "delete", "--id", &f1]);
    assert!(
        ok(d, &["red-form", "list", "--state", "not-uploaded"]).contains(&format!("form {f2:>4}"))
    );
    let up = ok(d, &["red-form", "upload", "--id", &f2]);
    assert!(up.contains("approved"), "{up}");
    let o = taxdisk(d, &["red-form", "delete", "--id", &f2]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("FAQ 7.6"), "{err}");
    let o = taxdisk(d, &["red-form", "edit", "--id", &f2, "--reason", "x"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("FAQ 7.6"));
}

/// Printable text only (issue 17): a buyer name with an escape sequence or a line break is
/// refused at input with the field and position, and nothing is recorded.
#[test]
fn control_characters_are_refused_at_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ready(d);
    ok(d, &["rolls", "buy", "--kind", "normal", "--count", "10"]);
    for buyer in ["\u{1b}[31m红字\u{1b}[0m", "买家\n第二行", "买\u{7}家"] {
        let mut args = ISSUE.to_vec();
        args[4] = buyer;
        let o = taxdisk(d, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{buyer:?} was issued");
        assert!(
            err.contains("control character") && err.contains("buyer"),
            "{err}"
        );
        assert!(
            !err.contains('\u{1b}'),
            "the error echoes the escape: {err:?}"
        );
    }
    assert_eq!(ok(d, &["list", "--all"]).lines().count(), 0);
}
