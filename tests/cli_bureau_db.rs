//! `taxdisk --bureau-db`: the embedded bureau's state outside the data folder (issue 16), in a
//! SQLite file of the user's choosing or in PostgreSQL. Release-built binary, one process per
//! command. With PostgreSQL the state the CLI's embedded bureau kept is then served by a
//! `taxdisk-sim bureau --db` worker on the same database, and the same data folder carries on
//! against it: one bureau, whoever serves it.
//!
//! The PostgreSQL half needs `TAXDISK_TEST_POSTGRES` (a database this test may make a schema
//! in); without it that half says it is skipped, except under `CI=true`, where it fails.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::io::Write;
use support::{ISSUE, SimProcess};

const ROLLS: &[&str] = &["rolls", "buy", "--kind", "normal", "--count", "10"];

fn issued(out: &str) -> bool {
    out.lines().any(|l| l.starts_with("issued normal"))
}

#[test]
fn the_embedded_bureau_keeps_its_state_in_a_sqlite_file_of_the_users_choosing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("office").join("bureau.sqlite");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let data = dir.path().join("data");
    let cli = support::Cli::new(&data).with(&["--bureau-db", db.to_str().unwrap()]);
    cli.ready();
    cli.ok(ROLLS);
    assert!(issued(&cli.ok(ISSUE)));
    assert!(db.exists(), "the state is where --bureau-db says");
    assert!(
        !data.join("bureau.db").exists(),
        "and not in the data folder"
    );
    // With --bureau as well it is refused: a remote bureau keeps its own state.
    let o = cli.run(&["--bureau", "http://127.0.0.1:9", "status"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--bureau-db") && err.contains("--bureau"),
        "{err}"
    );
}

/// A schema of its own in the test database, and the URL that opens it.
fn fresh_schema(url: &str) -> (String, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("cli_{}_{nanos}", std::process::id());
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    (
        format!("{url}{sep}options=-c%20search_path%3D{schema}"),
        schema,
    )
}

#[test]
fn the_embedded_bureau_on_postgresql_is_the_bureau_a_worker_then_serves() {
    let Some(url) = std::env::var("TAXDISK_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no PostgreSQL under CI=true: set TAXDISK_TEST_POSTGRES (.ci/run starts one)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipped: no PostgreSQL (set TAXDISK_TEST_POSTGRES)"
        );
        return;
    };
    let (db, schema) = fresh_schema(&url);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // The CLI's embedded bureau, its state in PostgreSQL.
    let embedded = support::Cli::new(&data).with(&["--bureau-db", &db]);
    embedded.ready();
    embedded.ok(ROLLS);
    assert!(issued(&embedded.ok(ISSUE)));
    assert!(!data.join("bureau.db").exists());

    // The same state served by a bureau worker: the data folder's disk credential and the
    // bureau key the disk was made with are that database's, so everything carries on.
    let admin = dir.path().join("admin-token");
    let worker = SimProcess::start(&[
        "bureau",
        "--listen",
        "127.0.0.1:0",
        "--db",
        &db,
        "--admin-token-file",
        admin.to_str().unwrap(),
    ]);
    let remote = support::Cli::new(&data).with(&["--bureau", &worker.port("bureau")]);
    assert!(issued(&remote.ok(ISSUE)));
    let list = remote.ok(&["list"]);
    assert_eq!(list.matches("uploaded").count(), 2, "{list}");
    let rolls = remote.ok(&["rolls", "stock"]);
    assert!(rolls.contains("normal"), "{rolls}");
    drop(worker);

    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
}
