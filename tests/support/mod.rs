//! Helpers the CLI tests share.
#![allow(dead_code, clippy::unwrap_used)] // each test file uses some; a failed unwrap fails the test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The `taxdisk-sim` binary beside `taxdisk`, brought up to date once per test process
/// (`cargo test` builds the device-sim package's binary only when that package's tests run).
pub fn sim_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = Path::new(env!("CARGO_BIN_EXE_taxdisk")).parent().unwrap();
            let mut c = Command::new(env!("CARGO"));
            c.args([
                "build",
                "-q",
                "-p",
                "taxdisk-device-sim",
                "--bin",
                "taxdisk-sim",
            ]);
            if dir.file_name().and_then(|n| n.to_str()) == Some("release") {
                c.arg("--release");
            }
            assert!(c.status().unwrap().success(), "building taxdisk-sim failed");
            dir.join("taxdisk-sim")
        })
        .clone()
}

/// `init` of the test company with administrator `陈主管` (H1).
pub const INIT: &[&str] = &[
    "init",
    "--supervisor",
    "陈主管",
    "--password",
    "pw-admin-1",
    "--address",
    "厦门市",
    "--phone",
    "0592-1",
    "--bank",
    "工商银行:4100021209200123456",
];
/// `provision` of the disk for the test company (D1).
pub const PROVISION: &[&str] = &[
    "provision",
    "--taxpayer-id",
    "91350200MA2XY1234B",
    "--company",
    "厦门鹭岛科技",
];
/// `login` of the administrator.
pub const LOGIN: &[&str] = &["login", "--user", "陈主管", "--password", "pw-admin-1"];
/// A normal invoice of one line, 100.00 before tax.
pub const ISSUE: &[&str] = &[
    "issue",
    "--kind",
    "normal",
    "--buyer",
    "买家",
    "--item",
    "办公用品:1060301000000000000:13%:1:100",
];

/// The `taxdisk` binary on one data folder, with global options (`--disk`, `--bureau`, ...)
/// given to every command; each command its own process.
#[derive(Clone, Debug)]
pub struct Cli {
    /// The data folder.
    pub data: PathBuf,
    /// Options before the command.
    pub global: Vec<String>,
    /// The locale (`LANG`) the commands run in, with `LC_ALL` and `LC_MESSAGES` unset; `C`
    /// (English) unless [`Cli::locale`] says otherwise.
    pub lang: String,
}

impl Cli {
    /// The binary on `data` with no global options.
    pub fn new(data: &Path) -> Cli {
        Cli {
            data: data.to_owned(),
            global: Vec::new(),
            lang: "C".to_owned(),
        }
    }

    /// With these global options too.
    pub fn with(mut self, global: &[&str]) -> Cli {
        self.global.extend(global.iter().map(|s| s.to_string()));
        self
    }

    /// The same commands under `LANG=lang` (e.g. `zh_CN.UTF-8`).
    pub fn locale(mut self, lang: &str) -> Cli {
        self.lang = lang.to_owned();
        self
    }

    /// Runs one command.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_taxdisk"))
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", &self.lang)
            .arg("--data")
            .arg(&self.data)
            .args(&self.global)
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs one command with `input` on its standard input (and no TAXDISK_PASSWORD).
    pub fn run_with_input(&self, args: &[&str], input: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_taxdisk"))
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", &self.lang)
            .arg("--data")
            .arg(&self.data)
            .args(&self.global)
            .args(args)
            .env_remove("TAXDISK_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs one command that must succeed; its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_err(args).0
    }

    /// Runs one command that must succeed; its standard output and error.
    pub fn ok_err(&self, args: &[&str]) -> (String, String) {
        succeeded(self.run(args), args)
    }

    /// Runs one command that must fail with one line on standard error; that line.
    pub fn refused(&self, args: &[&str]) -> String {
        let o = self.run(args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success(), "{args:?} should fail");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        err
    }

    /// init, provision (as the tax office, with the administrator token in `admin_file`) and
    /// login of the test company; the commands after it work with the disk's own credential.
    pub fn ready_with_office(&self, admin_file: &Path) {
        self.ok(INIT);
        let office = self.clone().with(&[
            "--bureau-admin-token-file",
            admin_file.to_str().expect("utf-8 path"),
        ]);
        office.ok(PROVISION);
        self.ok(LOGIN);
    }

    /// init, provision and login of the test company.
    pub fn ready(&self) {
        self.ok(INIT);
        self.ok(PROVISION);
        self.ok(LOGIN);
    }
}

/// A `taxdisk-sim` process started with `--print-ports`: the child (killed when dropped) and
/// the JSON line it printed once serving.
pub struct SimProcess {
    /// The process.
    pub child: Child,
    /// Its `--print-ports` line.
    pub ports: serde_json::Value,
}

impl SimProcess {
    /// Starts `taxdisk-sim ARGS --print-ports` and waits for its ports line.
    pub fn start(args: &[&str]) -> SimProcess {
        let mut child = Command::new(sim_binary())
            .args(args)
            .arg("--print-ports")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ports = serde_json::from_str(&line).unwrap();
        SimProcess { child, ports }
    }

    /// `taxdisk-sim serve` on loopback ports (disk, control, bureau) with the flash image
    /// `image`, the tax office's token written to `admin`, and `extra` arguments.
    pub fn serve_with_bureau(image: &Path, admin: &Path, extra: &[&str]) -> SimProcess {
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
            "--bureau",
            "127.0.0.1:0",
            "--image",
            image.to_str().unwrap(),
            "--admin-token-file",
            admin.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        SimProcess::start(&args)
    }

    /// A field of the ports line, as text.
    pub fn port(&self, name: &str) -> String {
        self.ports[name].as_str().unwrap().to_owned()
    }

    /// The served disk as `taxdisk --disk` takes it.
    pub fn disk(&self) -> String {
        format!("tcp:{}", self.port("disk"))
    }

    /// `taxdisk-sim control ARGS` against this server's control port; it must succeed. Its
    /// answer line.
    pub fn control(&self, args: &[&str]) -> String {
        let o = Command::new(sim_binary())
            .args(["control", "--addr", &self.port("control")])
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "control {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The standard output and error of a command `args` that must have succeeded.
pub fn succeeded(o: std::process::Output, args: &[&str]) -> (String, String) {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{args:?} failed: {err}{out}");
    (out, err)
}

/// `init` with administrator `name` (H1).
pub fn init_as(name: &str) -> Vec<&str> {
    let mut v = INIT.to_vec();
    v[2] = name;
    v
}
