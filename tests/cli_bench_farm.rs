//! `taxdisk bench` over a farm of served disks (issue 16): one `taxdisk-sim bureau` process,
//! two `taxdisk-sim serve` processes manufactured for its key, and the release-built CLI as the
//! bench host. The first disk is the one-disk baseline, then both issue at once, one host
//! thread each; the report names each disk with its rate and latencies.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use support::SimProcess;

/// A served disk with `serial`, manufactured for the bureau key `key` (hex).
fn served(serial: &str, key: &str) -> SimProcess {
    SimProcess::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--control",
        "127.0.0.1:0",
        "--serial",
        serial,
        "--bureau-key",
        key,
    ])
}

#[test]
fn a_bench_farm_of_served_disks_reports_each_disk_and_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let admin = dir.path().join("admin-token");
    let bureau = SimProcess::start(&[
        "bureau",
        "--listen",
        "127.0.0.1:0",
        "--admin-token-file",
        admin.to_str().unwrap(),
    ]);
    let key = bureau.port("bureau_key");
    let a = served("661000000101", &key);
    let b = served("661000000102", &key);
    let cli = support::Cli::new(&dir.path().join("data")).with(&[
        "--bureau",
        &bureau.port("bureau"),
        "--bureau-admin-token-file",
        admin.to_str().unwrap(),
        "--disk",
        &a.disk(),
    ]);

    // The second disk from a file of endpoints, with a comment and a blank line.
    let farm = dir.path().join("farm.txt");
    std::fs::write(
        &farm,
        format!("# the bench farm\n\n{}  # rack 2\n", b.disk()),
    )
    .unwrap();
    let out = cli.ok(&[
        "bench",
        "--invoices",
        "150",
        "--batch",
        "16",
        "--farm-file",
        farm.to_str().unwrap(),
    ]);
    let total = out
        .lines()
        .find(|l| l.starts_with("end-to-end issue, 2 disks:"))
        .unwrap_or_else(|| panic!("no farm line: {out}"));
    // A served disk's own time is in its process, not this one: no line claims it.
    assert!(!out.contains("the disk's own time"), "{out}");
    assert!(
        total.contains("invoices/s") && total.contains("scaling x"),
        "{total}"
    );
    for serial in ["661000000101", "661000000102"] {
        let l = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("disk {serial}:")))
            .unwrap_or_else(|| panic!("no line for disk {serial}: {out}"));
        assert!(
            l.contains("invoices/s")
                && l.contains("p50 ")
                && l.contains(" ms")
                && l.contains("[150 invoices]"),
            "{l}"
        );
        assert!(!l.contains("µs") && !l.contains("ms ms"), "{l}");
    }
    // Then each disk's events went to the bureau, which verified and stored them: the
    // baseline's 150, then the farm's 150 from each disk, with each disk's upload lag.
    let line = |prefix: &str| {
        out.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line: {out}"))
            .to_owned()
    };
    let one = line("bureau upload:");
    assert!(
        one.contains(" 150 events in ") && one.contains("events/s verified"),
        "{one}"
    );
    let all = line("bureau upload, all disks:");
    assert!(all.contains(" 300 events in "), "{all}");
    assert_eq!(out.matches("upload lag ").count(), 2, "{out}");

    // Every invoice the farm issued is on its disk: the baseline's 150 and the farm's 150 on
    // the first, 150 on the second (read back over TCP with the disk's counter).
    for (sim, want) in [(&a, 300u64), (&b, 150)] {
        let mut disk = taxdisk_host::disk::DiskClient::new(
            taxdisk_host::transport::tcp::TcpTransport::connect(&sim.port("disk")).unwrap(),
        );
        assert_eq!(disk.info().unwrap().counter, want);
    }

    // The same farm with --farm given twice is the same two disks; a bad line is named.
    std::fs::write(&farm, "tcp:127.0.0.1:7461\nusb-or-what\n").unwrap();
    let err = cli.refused(&["bench", "--farm-file", farm.to_str().unwrap()]);
    assert!(
        err.contains("line 2") && err.contains("usb-or-what"),
        "{err}"
    );
    // A farm needs the bureau the disks trust.
    let err = support::Cli::new(&dir.path().join("data")).refused(&["bench", "--farm", &b.disk()]);
    assert!(err.contains("--bureau"), "{err}");
}
