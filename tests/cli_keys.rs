//! Keys and secrets of a default install (issue 17): every data folder draws its own disk key
//! and bureau secret, and the files that hold them (and the login token) are its owner's only.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use support::Cli;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn two_fresh_data_folders_share_no_key_and_keep_secrets_to_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let mut keys = Vec::new();
    for name in ["a", "b"] {
        let d = dir.path().join(name);
        let cli = Cli::new(&d);
        cli.ready();
        let pem = dir.path().join(format!("{name}.pem"));
        cli.ok(&["export-key", "--out", pem.to_str().unwrap()]);
        keys.push((
            std::fs::read_to_string(&pem).unwrap(),
            std::fs::read_to_string(d.join("bureau-key")).unwrap(),
        ));
        assert_eq!(mode(&d), 0o700, "data folder made by the CLI");
        for f in ["disk.img", "bureau.db", "session"] {
            assert_eq!(mode(&d.join(f)), 0o600, "{f}");
        }
    }
    assert_ne!(keys[0].0, keys[1].0, "two installs got the same disk key");
    // A folder that was there already keeps its mode (`--data .` must not lock a shared
    // folder away from its group).
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    Cli::new(&shared).ok(support::INIT);
    assert_eq!(mode(&shared), 0o755);
    assert_eq!(mode(&shared.join("bureau.db")), 0o600);
    assert_ne!(keys[0].1, keys[1].1, "two installs got the same bureau key");
}

/// Issue 17: a `--password` shows in the process list. Without it (and without
/// TAXDISK_PASSWORD) the command asks; when standard input is not a terminal it reads one line
/// per password asked, so scripts keep passwords off the command line too.
#[test]
fn passwords_can_stay_off_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&dir.path().join("d"));
    let init: Vec<&str> = support::INIT
        .iter()
        .copied()
        .filter(|a| *a != "--password" && *a != "pw-admin-1")
        .collect();
    assert!(cli.run_with_input(&init, "pw-admin-1\n").status.success());
    cli.ok(support::PROVISION);
    let login = ["login", "--user", "陈主管"];
    let wrong = cli.run_with_input(&login, "not-the-password\n");
    assert!(!wrong.status.success());
    let none = cli.run_with_input(&login, "");
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(err.contains("no password given"), "{err}");
    let ok = cli.run_with_input(&login, "pw-admin-1\n");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // Two passwords asked, one line each, in order.
    let passwd = cli.run_with_input(&["user", "passwd"], "pw-admin-1\npw-admin-2\n");
    assert!(
        passwd.status.success(),
        "{}",
        String::from_utf8_lossy(&passwd.stderr)
    );
    cli.ok(&["logout"]);
    cli.refused(support::LOGIN);
    assert!(cli.run_with_input(&login, "pw-admin-2\n").status.success());
}
