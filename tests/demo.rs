//! The main job end to end: `taxdisk demo` on the embedded simulator and bureau, as a user
//! runs it, checking its summary and that the files it names exist and hold what it says.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::process::Command;
use taxdisk_host::store::{MonthQuery, Store};
use taxdisk_protocol::Period;

#[test]
fn demo_runs_a_month_and_writes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = Command::new(env!("CARGO_BIN_EXE_taxdisk"))
        .env("LC_ALL", "C") // English: the test reads English text
        .args(["demo", "--invoices", "150", "--seed", "7", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "demo failed: {}\n{stdout}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The month went round: offline limit met, reported at the first login, cleared.
    assert!(
        stdout.contains("the disk refused to issue offline any longer"),
        "{stdout}"
    );
    assert!(
        stdout.contains("reported [\"202611\"] automatically"),
        "{stdout}"
    );
    assert!(
        stdout.contains("declared and cleared the card for 202611"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(0x050"),
        "a D9 refusal is listed: {stdout}"
    );
    assert!(
        stdout.contains("FAQ 9.10"),
        "the clear-card refusal is listed: {stdout}"
    );
    for f in [
        "taxdisk.db",
        "disk.img",
        "bureau.db",
        "invoices-202611.xlsx",
        "counter-report-202611.json",
    ] {
        assert!(out.join(f).metadata().unwrap().len() > 0, "{f}");
    }
    let pdfs = std::fs::read_dir(out.join("print")).unwrap().count();
    assert!(pdfs >= 6, "one PDF per kind at least, got {pdfs}");
    // The database holds the month the summary counts.
    let store = Store::open(out.join("taxdisk.db")).unwrap();
    let rows = store
        .month(&MonthQuery::period(Period::new(2026, 11).unwrap()))
        .unwrap();
    let total_line = stdout.lines().find(|l| l.starts_with("total")).unwrap();
    let uploaded: usize = total_line
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let stored_uploaded = rows
        .iter()
        .filter(|r| r.state == taxdisk_host::store::InvoiceState::Uploaded)
        .count();
    assert_eq!(uploaded, stored_uploaded);
    assert!(uploaded > 100);
}

#[test]
fn demo_refuses_bad_arguments_with_one_line() {
    let o = Command::new(env!("CARGO_BIN_EXE_taxdisk"))
        .env("LC_ALL", "C") // English: the test reads English text
        .args(["demo", "--invoices", "3"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--invoices must be 10 to 200000"), "{err}");
    let o = Command::new(env!("CARGO_BIN_EXE_taxdisk"))
        .env("LC_ALL", "C") // English: the test reads English text
        .args(["demo", "--month", "202613"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("YYYYMM"));
}

/// The main job runs to its summary for any seed, month and size (issue 13): sizes that need
/// more rolls than the disk holds at once (16, D4) buy as they go, and no red invoice is made
/// that the rules refuse (FAQ 7.8: an original with a sales list). Runs in parallel.
#[test]
fn demo_runs_to_its_summary_over_a_spread_of_seeds_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let runs: [(&str, &str, Option<&str>); 3] = [
        ("6000", "2", None),
        ("2500", "7", Some("202612")),
        ("1200", "3", Some("202802")),
    ];
    let handles: Vec<_> = runs
        .iter()
        .map(|&(n, seed, month)| {
            let out = dir.path().join(format!("{n}-{seed}"));
            std::thread::spawn(move || {
                let mut c = Command::new(env!("CARGO_BIN_EXE_taxdisk"));
                c.env("LC_ALL", "C"); // English: the test reads English text
                c.args(["demo", "--invoices", n, "--seed", seed, "--out"])
                    .arg(&out);
                if let Some(m) = month {
                    c.args(["--month", m]);
                }
                (n, seed, c.output().unwrap())
            })
        })
        .collect();
    for h in handles {
        let (n, seed, o) = h.join().unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "demo --invoices {n} --seed {seed} failed: {}\n{stdout}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(stdout.contains("declared and cleared the card"), "{stdout}");
        let issued: usize = stdout
            .lines()
            .find_map(|l| l.strip_prefix("issuing: "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        // "About" N: kinds refused offline (D9) are skipped until the network is back.
        let n: usize = n.parse().unwrap();
        assert!(
            issued * 10 >= n * 9 && issued <= n,
            "{issued} of {n}: {stdout}"
        );
        if n == 6000 {
            assert!(stdout.contains("more roll(s)"), "{stdout}");
        }
    }
}

/// The demo's folder is a data folder like any other (issue 17: `verify` on it failed with
/// "flash image is 8388608 bytes, expected 67108864"): an image opens at its own size, and
/// an invoice the demo issued verifies through the binary.
#[test]
fn the_demo_folder_opens_with_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = Command::new(env!("CARGO_BIN_EXE_taxdisk"))
        .env("LC_ALL", "C") // English: the test reads English text
        .args(["demo", "--invoices", "40", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let row = Store::open(out.join("taxdisk.db"))
        .unwrap()
        .month(&MonthQuery::period(Period::new(2026, 11).unwrap()))
        .unwrap()
        .into_iter()
        .find(|r| r.code.is_some() && !r.is_red)
        .unwrap();
    let (code, number) = (row.code.unwrap(), row.number.unwrap().to_string());
    let stem = dir.path().join("inv");
    let pem = dir.path().join("disk.pem");
    let o = Command::new(env!("CARGO_BIN_EXE_taxdisk"))
        .env("LC_ALL", "C") // English: the test reads English text
        .arg("--data")
        .arg(&out)
        .args([
            "verify",
            "--kind",
            row.kind.name(),
            "--code",
            &code,
            "--number",
            &number,
        ])
        .arg("--out")
        .arg(&stem)
        .arg("--pem")
        .arg(&pem)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && stdout.contains("signature verified"),
        "{}{stdout}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stem.with_extension("sig.der").exists());
}
