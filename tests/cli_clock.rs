//! Green on any date (issue 12), through the binary: an explicit start time for the CLI's
//! in-process disk and embedded bureau, kept by the data folder across commands; the
//! conformance suite and the demo from the turn of a year and a leap February; and the
//! wall-clock default checked at 31 December 23:30 China time under `faketime`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::path::Path;
use std::process::Command;
use support::{Cli, INIT, ISSUE, LOGIN, PROVISION};

/// A workflow from init to issue, every command its own process on one data folder.
fn workflow(d: &Path, first: &[&str]) -> String {
    let cli = Cli::new(d);
    cli.ok(&[first, INIT].concat());
    cli.ok(PROVISION);
    cli.ok(LOGIN);
    cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
    cli.ok(ISSUE)
}

#[test]
fn a_data_folder_started_at_a_time_keeps_its_clock_across_commands() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let issued = workflow(d, &["--start-time", "2031-12-31T23:50:00+08:00"]);
    // The bureau sold a roll with the simulated year in its code (F2: 0 + region + 31).
    assert!(issued.contains(" 0350231"), "{issued}");
    // Later commands, without the flag, read the same clock (a few seconds on).
    let cli = Cli::new(d);
    let status = cli.ok(&["status"]);
    assert!(
        status.contains("time 2031-12-31 23:5") && status.contains("period 203112"),
        "{status}"
    );
    // The lock time the bureau set follows its clock too: the 16th of the next month.
    assert!(status.contains("lock 2032-01-16 00:00:00"), "{status}");
    // Another data folder is not affected.
    let other = tempfile::tempdir().unwrap();
    let err =
        Cli::new(other.path()).refused(&["--start-time", "2029-03-01T08:00:00+08:00", "status"]);
    assert!(err.contains("not logged in"), "{err}");
    let again = cli.ok(&["status"]);
    assert!(again.contains("period 203112"), "{again}");
    // Into the next month: the first command reports the last one on its own, and says so.
    let (out, err) = cli.ok_err(&[&["--start-time", "2032-01-02T09:00:00+08:00"], ISSUE].concat());
    assert!(out.contains("issued normal"), "{out}");
    assert!(
        err.contains("copied tax (抄税) for 203112")
            && err.contains("reported period 203112 to the bureau automatically"),
        "{err}"
    );
}

#[test]
fn start_time_is_refused_for_a_disk_that_keeps_its_own_clock() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &[
            "--disk",
            "tcp:127.0.0.1:1",
            "--start-time",
            "2030-01-01T00:00:00Z",
            "status",
        ][..],
        &[
            "--disk",
            "tcp:127.0.0.1:1",
            "--start-time",
            "2030-01-01T00:00:00Z",
            "conformance",
        ],
    ] {
        let err = Cli::new(dir.path()).refused(args);
        assert!(err.contains("keeps its own"), "{args:?}: {err}");
    }
    let o = Cli::new(dir.path()).run(&["--start-time", "yesterday", "status"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--start-time"));
}

#[test]
fn conformance_through_the_cli_passes_from_the_turn_of_the_year() {
    let dir = tempfile::tempdir().unwrap();
    for start in ["2026-12-31T23:30:00+08:00", "2028-02-29T23:59:00+08:00"] {
        let junit = dir.path().join("junit.xml");
        let args = [
            "--start-time",
            start,
            "conformance",
            "--junit",
            junit.to_str().unwrap(),
        ];
        let out = Cli::new(dir.path()).ok(&args);
        assert!(out.contains("0 failed"), "{start}: {out}");
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains("failures=\"0\""), "{start}: {xml}");
    }
}

#[test]
fn demo_runs_from_new_years_eve_and_a_leap_february() {
    let dir = tempfile::tempdir().unwrap();
    for (start, month, next) in [
        ("2026-12-31T23:30:00+08:00", "202612", "202701"),
        ("2028-02-28T09:00:00+08:00", "202802", "202803"),
    ] {
        let out = dir.path().join(month);
        let args = [
            "--start-time",
            start,
            "demo",
            "--invoices",
            "120",
            "--out",
            out.to_str().unwrap(),
        ];
        let stdout = Cli::new(dir.path()).ok(&args);
        assert!(stdout.contains(&format!("one month ({month})")), "{stdout}");
        assert!(
            stdout.contains(&format!(
                "{next}: first login of the month copied [\"{month}\"] and reported [\"{month}\"]"
            )),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("declared and cleared the card for {month}")),
            "{stdout}"
        );
        assert!(out.join(format!("invoices-{month}.xlsx")).exists());
        let total = stdout.lines().find(|l| l.starts_with("total")).unwrap();
        let uploaded: usize = total.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(uploaded > 80, "{total}");
    }
    // A start outside the month asked for is refused in one line.
    let err = Cli::new(dir.path()).refused(&[
        "--start-time",
        "2026-12-31T23:30:00+08:00",
        "demo",
        "--month",
        "202611",
    ]);
    assert!(err.contains("falls in period 202612"), "{err}");
}

/// `faketime` moves the host's wall clock itself: the binary's defaults (no --start-time)
/// must work at 31 December 23:30 China time (15:30 UTC) too. Debian's `faketime` package;
/// `.ci/run` installs it, so in CI this runs.
#[test]
fn the_wall_clock_default_works_on_new_years_eve_in_china() {
    let Some(faketime) = which("faketime") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "faketime is missing in CI: .ci/run installs Debian's faketime package"
        );
        eprintln!("SKIPPED: faketime is not installed (apt-get install faketime)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| {
        let o = Command::new(&faketime)
            .env("TZ", "UTC")
            .env("LC_ALL", "C") // English: the test reads English text
            .args(["-f", "@2026-12-31 15:30:00"])
            .arg(env!("CARGO_BIN_EXE_taxdisk"))
            .arg("--data")
            .arg(d)
            .args(args)
            .output()
            .unwrap();
        support::succeeded(o, args).0
    };
    let out = run(&["conformance"]);
    assert!(out.contains("0 failed"), "{out}");
    run(INIT);
    run(PROVISION);
    run(LOGIN);
    run(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
    run(ISSUE);
    let status = run(&["status"]);
    assert!(
        status.contains("time 2026-12-31 23:3") && status.contains("period 202612"),
        "faketime did not move the clock, or the period is not China time: {status}"
    );
    let list = run(&["list"]);
    assert!(list.contains("00000001"), "{list}");
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}
