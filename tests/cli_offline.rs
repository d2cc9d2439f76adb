//! Invoicing goes on while the bureau is down (issue 13: D9, FAQ 4.13, 9.13), through the
//! binary: a remote bureau (`taxdisk-sim bureau`, its state in a file) that stops and comes
//! back on the same port, every command its own process on one data folder.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::path::Path;
use std::process::Output;

/// Starts the bureau with its state in `db` on `addr` (port 0: any); answers the process
/// (killed when dropped) and its URL.
fn bureau(db: &Path, addr: &str) -> (support::SimProcess, String) {
    let token = db.with_extension("admin-token");
    let p = support::SimProcess::start(&[
        "bureau",
        "--listen",
        addr,
        "--db",
        db.to_str().unwrap(),
        "--admin-token-file",
        token.to_str().unwrap(),
    ]);
    let url = p.port("bureau");
    (p, url)
}

fn taxdisk(data: &Path, url: &str, args: &[&str]) -> Output {
    support::Cli::new(data).with(&["--bureau", url]).run(args)
}

fn ok(data: &Path, url: &str, args: &[&str]) -> (String, String) {
    support::Cli::new(data)
        .with(&["--bureau", url])
        .ok_err(args)
}

/// An invoice of 900,000 yuan before tax: three pass the single limit (1,000,000) but not the
/// offline amount (2,000,000) the bureau provisions.
const BIG: &[&str] = &[
    "issue",
    "--kind",
    "normal",
    "--buyer",
    "买家",
    "--item",
    "设备:1060301000000000000:13%:1:900000",
];

#[test]
fn invoicing_goes_on_offline_within_the_disks_limits_and_uploads_when_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bureau.db");
    let d = dir.path().join("data");
    let (up, url) = bureau(&db, "127.0.0.1:0");
    // Only provisioning is the tax office's: every command after it, offline and back
    // online, works with the disk's own credential kept in the data folder.
    support::Cli::new(&d)
        .with(&["--bureau", &url])
        .ready_with_office(&db.with_extension("admin-token"));
    ok(
        &d,
        &url,
        &["rolls", "buy", "--kind", "normal", "--count", "20"],
    );
    let (out, _) = ok(&d, &url, BIG);
    assert!(out.contains("uploaded"), "{out}");

    // The network goes down.
    drop(up);
    let (out, err) = ok(&d, &url, BIG);
    assert!(out.contains("not uploaded yet"), "{out}");
    assert!(
        err.contains("offline") && err.contains("D9"),
        "says it works offline: {err}"
    );
    assert!(
        !err.contains("embedded"),
        "a remote bureau is not the embedded one: {err}"
    );
    let (list, _) = ok(&d, &url, &["list"]);
    assert!(
        list.contains("00000002") && list.contains("issued"),
        "{list}"
    );
    let pdf = dir.path().join("2.pdf");
    ok(
        &d,
        &url,
        &["print", "--id", "2", "--out", pdf.to_str().unwrap()],
    );
    assert!(std::fs::metadata(&pdf).unwrap().len() > 0);
    ok(&d, &url, &["status"]);
    // A second offline invoice would pass the offline amount (2 x 900,000 > 2,000,000 is
    // false; 3 x is): the disk refuses the third with D9, and the store keeps it out.
    ok(&d, &url, BIG);
    let o = taxdisk(&d, &url, BIG);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "issued past the offline amount");
    assert!(
        err.contains("offline amount") && err.contains("D9"),
        "{err}"
    );
    // A void works offline too; a manual upload says the bureau is unreachable.
    ok(&d, &url, &["void", "--id", "3"]);
    let o = taxdisk(&d, &url, &["upload"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unreachable"));

    // The bureau comes back on the same address: upload sends what waited, issuing goes on.
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let (_up, url2) = bureau(&db, addr);
    assert_eq!(url2, url);
    // The first command once it answers uploads what waited (H11); a manual upload then
    // finds nothing left.
    let (out, err) = ok(&d, &url, &["upload"]);
    assert!(
        out.contains("0 rejected") && !err.contains("offline"),
        "{out}{err}"
    );
    assert!(
        err.contains("uploaded 3 event(s) that waited for the bureau (H11)"),
        "the automatic upload is said: {err}"
    );
    let (out, err) = ok(&d, &url, BIG);
    assert!(
        out.contains("uploaded") && !err.contains("offline"),
        "{out}{err}"
    );
    let (list, _) = ok(&d, &url, &["list"]);
    assert!(
        !list.contains(" issued "),
        "everything reached the bureau: {list}"
    );
}

#[test]
fn a_folder_that_never_reached_its_bureau_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let o = taxdisk(dir.path(), "http://127.0.0.1:1", &["status"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("unreachable")
            && err.contains("never reached it")
            && !err.contains("embedded"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn a_folder_that_never_reached_its_bureau_says_so_in_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let o = support::Cli::new(dir.path())
        .locale("zh_CN.UTF-8")
        .with(&["--bureau", "http://127.0.0.1:1"])
        .run(&["status"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("无法连接税务局") && err.contains("本数据目录从未连通过税务局"),
        "{err}"
    );
    assert!(!err.contains("never reached"), "{err}");
}
