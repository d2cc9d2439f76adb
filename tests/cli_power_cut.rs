//! Exactly once across a power cut, through the binary (issue 17, D4, D7): a blank void or a
//! roll return whose answer a power cut of the served disk lost is finished by the next
//! command's login under its own request id, and never carried out twice. Before, the command
//! failed with the change done or not, and running it again voided more numbers.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use support::{Cli, SimProcess};

/// A served disk with its bureau and control port, and the binary on a fresh data folder
/// against it, provisioned and logged in.
fn served(dir: &std::path::Path) -> (SimProcess, Cli) {
    let admin = dir.join("admin-token");
    let sim = SimProcess::serve_with_bureau(&dir.join("disk.img"), &admin, &[]);
    let cli =
        Cli::new(&dir.join("data")).with(&["--disk", &sim.disk(), "--bureau", &sim.port("bureau")]);
    cli.ready_with_office(&admin);
    (sim, cli)
}

/// The normal rolls in stock (`rolls stock`): (code, first, left) each.
fn normal_rolls(cli: &Cli) -> (Vec<(String, String, u32)>, String) {
    let (out, err) = cli.ok_err(&["rolls", "stock"]);
    let rolls = out
        .lines()
        .filter(|l| l.starts_with("normal "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let first = w[2].split('-').next().unwrap().to_owned();
            (w[1].to_owned(), first, w.last().unwrap().parse().unwrap())
        })
        .collect();
    (rolls, err)
}

fn blank_left(cli: &Cli) -> (u32, String) {
    let (rolls, err) = normal_rolls(cli);
    (rolls.iter().map(|r| r.2).sum(), err)
}

#[test]
fn a_blank_void_cut_by_a_power_loss_is_done_once_by_the_next_command() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, cli) = served(dir.path());
    cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "100"]);
    let mut cut = 0;
    let mut finished_later = 0;
    // The cut lands on each flash write of the void in turn: before its journal record is
    // whole, after it, during the snapshot or the upload's acknowledgement.
    for n in 1..=6 {
        let (before, _) = blank_left(&cli);
        sim.control(&["power-cut-after", &n.to_string()]);
        let o = cli.run(&["void", "--blank", "1", "--kind", "normal"]);
        sim.control(&["clear-faults"]);
        if !o.status.success() {
            cut += 1;
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                !err.contains("blank void") || err.contains("is not known: the next command"),
                "cut at flash write {n}: the refusal says what happens next: {err}"
            );
        }
        let (after, said) = blank_left(&cli);
        if said.contains("is done, once") {
            finished_later += 1;
            assert!(
                said.contains("blank void of 1 normal number(s)") && said.contains("(D7)"),
                "{said}"
            );
        }
        assert_eq!(
            before - after,
            1,
            "cut at flash write {n}: one number voided, once ({}{said})",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(
        cut > 0 && finished_later > 0,
        "no void lost its answer: the test did not test ({cut} cut, {finished_later} finished)"
    );
    // Nothing is left to finish: the next command says nothing of it.
    let (_, said) = blank_left(&cli);
    assert!(!said.contains("begun before"), "{said}");
}

#[test]
fn a_roll_return_cut_by_a_power_loss_hands_in_its_receipt_at_the_next_command() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, cli) = served(dir.path());
    let mut finished_later = 0;
    for n in 1..=4 {
        cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
        let (rolls, _) = normal_rolls(&cli);
        let (code, first, left) = rolls.last().unwrap().clone();
        assert_eq!(left, 10);
        sim.control(&["power-cut-after", &n.to_string()]);
        let o = cli.run(&[
            "rolls", "return", "--kind", "normal", "--code", &code, "--first", &first,
        ]);
        sim.control(&["clear-faults"]);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let (rolls, said) = normal_rolls(&cli);
        assert!(
            !rolls.iter().any(|r| r.0 == code && r.1 == first),
            "cut at flash write {n}: the roll is still in stock ({out}{said})"
        );
        if o.status.success() {
            assert!(out.contains("the bureau accepted the receipt"), "{out}");
        } else {
            finished_later += 1;
            // The same words as `rolls return` itself (RollReturn::lines), on one line.
            let line = said
                .lines()
                .find(|l| l.contains("is done, once: returned normal roll"))
                .unwrap_or_else(|| panic!("cut at flash write {n}: the receipt was lost ({said})"));
            assert!(
                line.contains(&format!("roll {code} numbers {first}-"))
                    && line.contains("(10 blank)")
                    && line.contains("; the bureau accepted the receipt"),
                "cut at flash write {n}: {line}"
            );
        }
    }
    assert!(
        finished_later > 0,
        "no return lost its answer: the test did not test"
    );
}

#[test]
fn a_provisioning_cut_by_a_power_loss_is_finished_by_its_own_resend() {
    // Provisioning a fresh image is three flash operations: a cut at each.
    for n in 1..=3 {
        let dir = tempfile::tempdir().unwrap();
        let admin = dir.path().join("admin-token");
        let sim = SimProcess::serve_with_bureau(&dir.path().join("disk.img"), &admin, &[]);
        let cli = Cli::new(&dir.path().join("data")).with(&[
            "--disk",
            &sim.disk(),
            "--bureau",
            &sim.port("bureau"),
        ]);
        let office = cli
            .clone()
            .with(&["--bureau-admin-token-file", admin.to_str().unwrap()]);
        cli.ok(support::INIT);
        sim.control(&["power-cut-after", &n.to_string()]);
        // The host sends the token again when the answer does not come: the disk provisions
        // itself then, or answers the key it generated before the cut (D1).
        office.ok(support::PROVISION);
        let stats = sim.control(&["stats"]);
        assert!(
            !stats.contains("\"power_cycles\":0"),
            "cut at flash write {n}: the cut did not fire, the test did not test: {stats}"
        );
        cli.ok(support::LOGIN);
        cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
        cli.ok(support::ISSUE);
        let list = cli.ok(&["list"]);
        assert!(
            list.contains(" uploaded "),
            "cut at flash write {n}: the bureau took the invoice under the disk's key: {list}"
        );
    }
}
