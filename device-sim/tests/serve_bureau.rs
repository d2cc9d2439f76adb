//! `taxdisk-sim serve --bureau` runs the simulated bureau in the same process and manufactures
//! the disk with that bureau's key, so the bureau's own tokens provision it; `taxdisk-sim
//! bureau` runs the bureau alone. Both keep the bureau state in `--bureau-db` / `--db` across
//! restarts (a SQLite file, or a PostgreSQL URL) and stop cleanly on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "bureau_support/backends.rs"]
mod backends;
mod serve_support;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serve_support::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use taxdisk_protocol::bureau_api::{
    Health, PREFIX, ProvisionRequest, RegisterKey, RegisterTaxpayer,
};
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response, WireError};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn get<R: DeserializeOwned>(base: &str, path: &str) -> R {
    let mut resp = agent().get(format!("{base}{PREFIX}{path}")).call().unwrap();
    let text = resp.body_mut().read_to_string().unwrap();
    assert!(resp.status().is_success(), "GET {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The administrator token the served bureau keeps in `file` (see [`args_with_bureau`]).
fn admin_token(file: &std::path::Path) -> String {
    std::fs::read_to_string(file).unwrap().trim().to_owned()
}

/// Posts as the tax office of the bureau whose administrator token is in `token_file`.
fn post<B: Serialize, R: DeserializeOwned>(
    token_file: &std::path::Path,
    base: &str,
    path: &str,
    body: &B,
) -> R {
    let mut resp = agent()
        .post(format!("{base}{PREFIX}{path}"))
        .header(
            "authorization",
            format!("Bearer {}", admin_token(token_file)),
        )
        .send_json(body)
        .unwrap();
    let text = resp.body_mut().read_to_string().unwrap();
    assert!(resp.status().is_success(), "POST {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn key_hex(pk: &PublicKey) -> String {
    pk.to_sec1().iter().map(|b| format!("{b:02x}")).collect()
}

/// `base_args` with the bureau served here instead of `--bureau-key`, its state in `db` (a
/// file or a URL), its administrator token in `token_file`.
fn args_with_bureau(db: &str, token_file: &std::path::Path) -> Vec<String> {
    let mut args = base_args();
    let i = args.iter().position(|a| a == "--bureau-key").unwrap();
    args.drain(i..i + 2);
    args.extend([
        "--bureau".into(),
        "127.0.0.1:0".into(),
        "--bureau-db".into(),
        db.to_owned(),
        "--bureau-seed".into(),
        "5".into(),
        "--admin-token-file".into(),
        token_file.display().to_string(),
    ]);
    args
}

#[test]
fn serve_with_bureau_manufactures_the_disk_with_the_bureau_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bureau.db");
    served_bureau_provisions_its_disk_and_keeps_its_key(
        &db.display().to_string(),
        &dir.path().join("bureau.admin-token"),
    );
}

/// The same with the bureau's state in PostgreSQL (`--bureau-db postgres://...`).
#[test]
fn serve_with_bureau_on_postgres_manufactures_the_disk_with_the_bureau_key() {
    backends::run(
        backends::Backend::Postgres,
        "serve_with_bureau_on_postgres",
        || {
            let taxdisk_device_sim::bureau::db::Store::Postgres(url) = backends::fresh_pg_store()
            else {
                unreachable!("fresh_pg_store answers a PostgreSQL store")
            };
            let dir = tempfile::tempdir().unwrap();
            served_bureau_provisions_its_disk_and_keeps_its_key(
                &url,
                &dir.path().join("bureau.admin-token"),
            );
        },
    );
}

/// `taxdisk-sim serve --bureau` with its state in `db`: the disk carries the served bureau's
/// key and takes its provisioning token, and the key survives a restart.
fn served_bureau_provisions_its_disk_and_keeps_its_key(db: &str, tokens: &std::path::Path) {
    let sim = Sim::start(&args_with_bureau(db, tokens));
    let base = sim.ports.bureau.clone().expect("bureau URL printed");
    let health: Health = get(&base, "/health");
    assert_eq!(health.status, "ok");
    assert_eq!(key_hex(&health.public_key), sim.ports.bureau_key);
    assert_ne!(sim.ports.bureau_key, bureau_key_hex());

    // The bureau's clock at the disk's, then the bureau's own provisioning flow.
    let _: serde_json::Value = post(tokens, &base, "/admin/time", &start_time());
    let taxpayer = TaxpayerId::new(TAXPAYER).unwrap();
    let _: serde_json::Value = post(
        tokens,
        &base,
        "/taxpayers",
        &RegisterTaxpayer {
            taxpayer_id: taxpayer.clone(),
            company_name: CompanyName::new("测试有限公司").unwrap(),
            kinds: vec![KindLimits {
                kind: InvoiceKind::Normal,
                single_limit: Fen(10_000_000),
                offline_hours: 72,
                offline_amount: Fen(100_000_000),
            }],
        },
    );
    let token: Signed<ProvisionToken> = post(
        tokens,
        &base,
        "/disks/provision",
        &ProvisionRequest {
            serial: serial(),
            taxpayer_id: taxpayer,
            machine: 0,
        },
    );
    let mut conn = sim.disk();
    // A token of another bureau is refused: the disk holds this bureau's key.
    assert_eq!(
        conn.call(1, Request::Provision(provision_token())),
        Err(WireError::BadSignature.into())
    );
    let result = match conn.call(1, Request::Provision(token)) {
        Ok(Response::Provision(r)) => r,
        other => panic!("provision: {other:?}"),
    };
    let _: serde_json::Value = post(
        tokens,
        &base,
        "/disks/register-key",
        &RegisterKey {
            serial: serial(),
            result,
        },
    );
    assert!(sim.terminate().success());

    // The bureau state (its key) survives a restart.
    let sim = Sim::start(&args_with_bureau(db, tokens));
    assert_eq!(sim.ports.bureau_key, key_hex(&health.public_key));
    assert!(sim.terminate().success());
}

#[test]
fn the_bureau_subcommand_serves_the_bureau_alone_and_keeps_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bureau.db");
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_taxdisk-sim"))
            .args(["bureau", "--listen", "127.0.0.1:0", "--print-ports", "--db"])
            .arg(&db)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        (child, v)
    };
    let (child, v) = start();
    let base = v["bureau"].as_str().unwrap().to_string();
    let health: Health = get(&base, "/health");
    assert_eq!(v["bureau_key"], key_hex(&health.public_key));
    let term = |mut child: std::process::Child| {
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        child.wait().unwrap()
    };
    assert!(term(child).success());
    let (child, again) = start();
    assert_eq!(again["bureau_key"], v["bureau_key"]);
    assert!(term(child).success());
}

/// The bureau served beside the disk follows the disk's clock when the bench moves it: the
/// README's month end (`taxdisk-sim control advance 25d`, then `taxdisk declare`) was refused
/// by the bureau as "period has not ended yet" because only the disk's clock had moved.
#[test]
fn the_served_bureau_follows_the_disk_clock_moved_by_the_bench() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bureau.db");
    let sim = Sim::start(&args_with_bureau(
        &db.display().to_string(),
        &dir.path().join("bureau.admin-token"),
    ));
    let base = sim.ports.bureau.clone().expect("bureau URL printed");
    let mut ctl = taxdisk_device_sim::serve::ControlClient::connect(sim.ports.control).unwrap();
    let disk_now = |ctl: &mut taxdisk_device_sim::serve::ControlClient| match ctl
        .send(ControlRequest::GetClock)
        .unwrap()
    {
        ControlResponse::Clock(t) => t,
        other => panic!("{other:?}"),
    };
    for req in [
        ControlRequest::Advance(25 * 86_400),
        ControlRequest::SetClock(start_time().plus_secs(400 * 86_400)),
    ] {
        ctl.send(req.clone()).unwrap();
        let disk = disk_now(&mut ctl);
        let health: Health = get(&base, "/health");
        let gap = health.time.0.abs_diff(disk.0);
        assert!(
            gap <= 5,
            "after {req:?}: bureau {} disk {}",
            health.time,
            disk
        );
    }
    assert!(sim.terminate().success());
}

/// Without --admin-token-file the new administrator token is said once on stderr, in the
/// process's language (issue 18), and so are the log's messages (their fields stay as
/// they are).
#[test]
fn serve_says_a_new_administrator_token_in_chinese() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_taxdisk-sim"))
        .args([
            "serve",
            "--bureau",
            "127.0.0.1:0",
            "--listen",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
        ])
        .env("LANG", "zh_CN.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let hint = lines.next().unwrap().unwrap();
    // The log's first line (tracing, on stderr): its message is the catalogue's too.
    let log = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let token = first
        .strip_prefix("税务局管理员令牌（税务机关的操作用）：")
        .unwrap_or_else(|| panic!("not the Chinese notice: {first}"));
    assert_eq!(token.len(), 64, "{first}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{first}");
    assert!(
        hint.contains("--admin-token-file") && !hint.contains("give"),
        "{hint}"
    );
    assert!(log.contains("正在服务") && log.contains("serial="), "{log}");
}
