//! The README's session runs as written (issue 13): the `sh` block of "The software's menus",
//! line by line, each line one shell command (`taxdisk` one process per command), in order,
//! against a real `taxdisk-sim serve` with its bureau, on a fresh data folder. `taxdisk` and
//! `taxdisk-sim` are small wrappers first on `PATH` that add what the README says is added:
//! `--data`, `--disk tcp:...`, `--bureau URL` and `--bureau-admin-token-file F` to `taxdisk`,
//! and the control port to `taxdisk-sim control`. Passwords are typed on standard input, as at
//! the prompt. Every line must succeed; a README edit that breaks the session fails here.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// The session: the first `sh` block after the heading, continuation lines joined, comments
/// and blank lines left out.
fn session(readme: &str) -> Vec<String> {
    let from = readme
        .find("### The software's menus")
        .expect("the README's menus section");
    let block = &readme[from..];
    let start = block.find("```sh\n").expect("its sh block") + "```sh\n".len();
    let end = start + block[start..].find("```").expect("the block's end");
    let mut lines = Vec::new();
    let mut cur = String::new();
    for raw in block[start..end].lines() {
        let text = strip_comment(raw);
        if let Some(head) = text.trim_end().strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
            continue;
        }
        cur.push_str(text);
        if !cur.trim().is_empty() {
            lines.push(cur.trim().to_owned());
        }
        cur.clear();
    }
    lines
}

/// The line without its `# comment` (a `#` outside quotes after a space).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted && prev.is_whitespace() => return &line[..i],
            _ => {}
        }
        prev = c;
    }
    line
}

fn wrapper(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn the_readme_session_runs_in_order_against_a_served_disk() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let admin = work.join("bureau-admin.token");
    let sim = support::SimProcess::serve_with_bureau(
        &work.join("disk.img"),
        &admin,
        &[
            "--bureau-db",
            work.join("bureau.db").to_str().unwrap(),
            "--start-time",
            "2026-11-10T09:00:00+08:00",
        ],
    );
    let bin = work.join("bin");
    std::fs::create_dir(&bin).unwrap();
    wrapper(
        &bin,
        "taxdisk",
        &format!(
            "exec '{}' --data '{}' --disk tcp:{} --bureau {} --bureau-admin-token-file '{}' \"$@\"",
            env!("CARGO_BIN_EXE_taxdisk"),
            work.join("data").display(),
            sim.port("disk"),
            sim.port("bureau"),
            admin.display(),
        ),
    );
    wrapper(
        &bin,
        "taxdisk-sim",
        &format!(
            "[ \"$1\" = control ] && {{ shift; exec '{0}' control --addr {1} \"$@\"; }}\nexec '{0}' \"$@\"",
            support::sim_binary().display(),
            sim.port("control"),
        ),
    );
    let has_openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_openssl && std::env::var_os("CI").is_some() {
        panic!("openssl is missing: CI installs it (.ci/run)");
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let lines = session(&readme);
    assert!(lines.len() > 40, "the session has {} lines", lines.len());
    // The administrator's password as `user passwd` changes it, the invoicer's.
    let mut admin_pw = "pw-admin-1".to_owned();
    let mut ran = 0;
    for line in &lines {
        if line.starts_with("openssl") && !has_openssl {
            eprintln!("skipped (openssl is not installed here): {line}");
            continue;
        }
        let input = if line.starts_with("taxdisk user passwd") {
            let new = "pw-admin-2".to_owned();
            let input = format!("{admin_pw}\n{new}\n");
            admin_pw = new;
            input
        } else if line.starts_with("taxdisk user add") {
            "pw-clerk-1\n".to_owned()
        } else {
            format!("{admin_pw}\n")
        };
        let mut child = Command::new("bash")
            .args(["-c", line])
            .current_dir(work)
            .env("PATH", &path)
            .env("LC_ALL", "C") // English: the README's session is the English one
            .env_remove("TAXDISK_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        // A command that asks for nothing may have exited already: a closed pipe is fine.
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "README line failed: {line}\n{stdout}{stderr}"
        );
        if line.starts_with("openssl") {
            assert!(stdout.contains("Verified Successfully"), "{stdout}");
        }
        if line.starts_with("taxdisk rolls read") {
            assert!(stdout.contains("no roll grants waiting"), "{stdout}");
        }
        if line.starts_with("taxdisk-sim control advance") {
            assert!(stdout.contains("Ok"), "{stdout}");
        }
        ran += 1;
    }
    assert!(ran + 1 >= lines.len());
    // The session's files are there: the PDF, the workbook, the form, the key and signature.
    for f in [
        "inv.pdf",
        "202611.xlsx",
        "form.xml",
        "disk.pem",
        "inv.msg",
        "inv.sig.der",
    ] {
        assert!(work.join(f).is_file(), "{f}");
    }
}

#[test]
fn comments_and_continuations_are_read_like_the_shell() {
    let readme = "### The software's menus\n```sh\ntaxdisk a \"x # y\" # note\n  # only a comment\ntaxdisk b \\\n    --c 1   # more\n```\n";
    assert_eq!(
        session(readme),
        vec!["taxdisk a \"x # y\"", "taxdisk b      --c 1"]
    );
}
