//! The end-to-end proof of the USB path (issue 14): a real Linux kernel attaches the disks that
//! `taxdisk-sim serve --usbip` exports, through its USB/IP virtual host controller (`vhci-hcd`),
//! and the real `taxdisk --disk usb:SERIAL` drives them through libusb (rusb, vendored).
//!
//! The host here cannot load kernel modules, so the kernel runs in QEMU: Debian's kernel
//! (`linux-image-amd64`, fetched with `apt-get download` into `TARGET/qemu-usb/`), an initramfs
//! written by this test (busybox-static, Debian's `usbip` tool, the `taxdisk` and `taxdisk-sim`
//! binaries of this build with their shared libraries, the modules, `tests/usb_qemu/init.sh`),
//! user-mode networking (the guest reaches the host's loopback at 10.0.2.2; nothing leaves the
//! guest otherwise). The guest attaches two disks, provisions one, buys rolls, issues, lists
//! and verifies over USB, unplugs and plugs it on the control channel and issues again, runs the
//! conformance suite over USB on the other (factory state), and reports on its serial console;
//! the test checks that console, the disk itself over TCP, and that the conformance results over
//! USB are those of the same suite over TCP.
//!
//! Without qemu-system-x86_64, busybox (static), the usbip tool or the kernel package the test
//! says what is missing and skips; under `CI` it fails instead (`.ci/run` installs them).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

#[path = "usb_qemu/guest.rs"]
mod guest;
mod support;

use guest::{Cpio, cache_dir, debian_kernel, modules_in_load_order};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{SimProcess, sim_binary};
use taxdisk_device_sim::serve::ControlClient;
use taxdisk_host::disk::DiskClient;
use taxdisk_host::transport::tcp::TcpTransport;
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::types::{InvoiceKind, Pin};

/// Serials of the two exported disks.
const SERIAL_W: &str = "661000000001";
const SERIAL_C: &str = "661000000002";
/// The secret of the bureau key the conformance disk is manufactured for (the suite signs its
/// test tokens with it).
const SECRET_C: [u8; 32] = [0x42; 32];
/// The whole guest run, boot to power-off, at most (TCG on a busy machine takes far less).
const GUEST_TIMEOUT: Duration = Duration::from_secs(900);
/// Kernel modules the guest loads, with their dependencies (read from each module). The
/// network card is QEMU's e1000; `guest::debian_kernel` unpacks only their folders.
const ROOT_MODULES: &[&str] = &["e1000", "vhci-hcd"];
/// The busybox applets the init script uses.
const APPLETS: &[&str] = &[
    "sh", "mount", "mkdir", "cat", "echo", "grep", "insmod", "ip", "seq", "sleep", "printf",
    "poweroff", "uname",
];

/// What the guest needs from the machine.
struct Tools {
    qemu: PathBuf,
    busybox: PathBuf,
    usbip: PathBuf,
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([
            "/usr/sbin".into(),
            "/sbin".into(),
            "/usr/bin".into(),
            "/bin".into(),
        ])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The machine's tools for the guest; `Err` names what is missing and its Debian package.
fn tools() -> Result<Tools, String> {
    let qemu = find_program("qemu-system-x86_64")
        .ok_or("qemu-system-x86_64 is not installed (Debian package qemu-system-x86)")?;
    let busybox = find_program("busybox")
        .ok_or("busybox is not installed (Debian package busybox-static)")?;
    // ldd says "not a dynamic executable" (on stderr) of a static one.
    let ldd = Command::new("ldd").arg(&busybox).output();
    if ldd.is_ok_and(|o| !String::from_utf8_lossy(&o.stderr).contains("not a dynamic")) {
        return Err(format!(
            "{} is not static (Debian package busybox-static)",
            busybox.display()
        ));
    }
    let usbip = find_program("usbip").ok_or("the usbip tool is not installed (package usbip)")?;
    Ok(Tools {
        qemu,
        busybox,
        usbip,
    })
}

/// Skips the test (the reason on stderr) on a developer's machine; fails under CI.
fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}; CI must provide it (.ci/run installs it)"
    );
    eprintln!("skipped: {why}");
}

/// The two disks the guest attaches, served on the host.
struct Host {
    /// The workflow disk, with its bureau.
    w: SimProcess,
    /// The factory-state disk for the conformance suite.
    c: SimProcess,
    admin_token: PathBuf,
}

fn port_of(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap()
}

fn serve(dir: &Path) -> Host {
    let admin_token = dir.join("admin.token");
    let image = dir.join("w.img");
    let w = SimProcess::serve_with_bureau(
        &image,
        &admin_token,
        &["--serial", SERIAL_W, "--usbip", "127.0.0.1:0"],
    );
    let c = conformance_disk(true);
    Host { w, c, admin_token }
}

/// `taxdisk-sim serve` of a factory-state disk made for [`SECRET_C`]'s bureau key, exported
/// over USB/IP or not.
fn conformance_disk(usbip: bool) -> SimProcess {
    let key = taxdisk_protocol::sign::signing_key(&SECRET_C).unwrap();
    let public = hex::encode(taxdisk_protocol::sign::public_key(&key).to_sec1());
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--control",
        "127.0.0.1:0",
        "--serial",
        SERIAL_C,
        "--bureau-key",
        &public,
    ];
    if usbip {
        args.extend(["--usbip", "127.0.0.1:0"]);
    }
    SimProcess::start(&args)
}

/// The guest's /etc/e2e.env: shell assignments the init script reads.
fn guest_env(host: &Host, modules: &[(String, Vec<u8>)]) -> String {
    let names: Vec<&str> = modules.iter().map(|(n, _)| n.as_str()).collect();
    let bureau = host.w.port("bureau");
    [
        ("MODULES", names.join(" ")),
        ("SERIAL_W", SERIAL_W.into()),
        ("USBIP_W", port_of(&host.w.port("usbip")).into()),
        ("CONTROL_W", port_of(&host.w.port("control")).into()),
        ("BUREAU_PORT", port_of(bureau.trim_end_matches('/')).into()),
        ("SERIAL_C", SERIAL_C.into()),
        ("USBIP_C", port_of(&host.c.port("usbip")).into()),
        ("CONTROL_C", port_of(&host.c.port("control")).into()),
        ("SECRET_C", hex::encode(SECRET_C)),
    ]
    .iter()
    .map(|(k, v)| format!("{k}='{v}'\n"))
    .collect()
}

fn initramfs(
    tools: &Tools,
    modules: &[(String, Vec<u8>)],
    env: &str,
    admin_token: &Path,
) -> Result<Vec<u8>, String> {
    let mut cpio = Cpio::new();
    for d in ["/proc", "/sys", "/dev", "/tmp", "/var/run", "/etc"] {
        cpio.dir(d);
    }
    let busybox = std::fs::read(&tools.busybox).map_err(|e| e.to_string())?;
    cpio.file("/bin/busybox", 0o755, &busybox);
    for a in APPLETS {
        cpio.symlink(&format!("/bin/{a}"), "busybox");
    }
    cpio.program("/bin/usbip", &tools.usbip)?;
    cpio.program("/bin/taxdisk", Path::new(env!("CARGO_BIN_EXE_taxdisk")))?;
    cpio.program("/bin/taxdisk-sim", &sim_binary())?;
    for (name, bytes) in modules {
        cpio.file(&format!("/lib/modules/{name}.ko"), 0o644, bytes);
    }
    cpio.file("/init", 0o755, include_bytes!("usb_qemu/init.sh"));
    cpio.file("/etc/e2e.env", 0o644, env.as_bytes());
    let token = std::fs::read(admin_token).map_err(|e| e.to_string())?;
    cpio.file("/etc/admin.token", 0o600, &token);
    Ok(cpio.finish())
}

/// Boots the guest and waits for it to power off; its serial console and how long it ran.
fn boot(tools: &Tools, vmlinuz: &Path, initrd: &Path, console: &Path) -> (String, Duration) {
    // Software emulation unless asked: /dev/kvm may open and still hang the guest (nested
    // virtualization on this project's machines: no console output in 5 minutes).
    let kvm = std::env::var("TAXDISK_QEMU_ACCEL").is_ok_and(|a| a == "kvm");
    let mut qemu = Command::new(&tools.qemu);
    qemu.args(["-machine", "q35", "-m", "768", "-smp", "1", "-no-reboot"])
        .args(["-accel", if kvm { "kvm" } else { "tcg" }])
        .args(["-display", "none", "-monitor", "none"])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .args(["-nic", "user,model=e1000"])
        .arg("-kernel")
        .arg(vmlinuz)
        .arg("-initrd")
        .arg(initrd)
        .args([
            "-append",
            "console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = qemu.spawn().unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > GUEST_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let text = std::fs::read(console).unwrap_or_default();
            panic!(
                "the guest did not power off within {GUEST_TIMEOUT:?}; its console:\n{}",
                String::from_utf8_lossy(&text)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    let text = String::from_utf8_lossy(&std::fs::read(console).unwrap()).into_owned();
    assert!(status.success(), "qemu: {status}: {err}\n{text}");
    eprintln!(
        "guest ran {:.0?} ({})",
        started.elapsed(),
        if kvm { "kvm" } else { "tcg" }
    );
    (text, started.elapsed())
}

/// The guest's report: the output and exit code of each step, the other markers in order.
#[derive(Debug, Default)]
struct Report {
    steps: BTreeMap<String, (String, i32)>,
    marks: Vec<String>,
    junit: String,
}

fn parse(console: &str) -> Report {
    let mut r = Report::default();
    let mut current: Option<(String, String)> = None;
    let mut junit: Option<String> = None;
    for line in console.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(m) = line.strip_prefix("@@ ") {
            if let Some(name) = m.strip_prefix("run ") {
                current = Some((name.to_owned(), String::new()));
            } else if let Some(rest) = m.strip_prefix("rc ") {
                let (name, rc) = rest.rsplit_once(' ').unwrap();
                let (_, out) = current.take().unwrap_or_default();
                r.steps.insert(name.to_owned(), (out, rc.parse().unwrap()));
            } else if m == "junit-begin" {
                junit = Some(String::new());
            } else if m == "junit-end" {
                r.junit = junit.take().unwrap_or_default();
            } else {
                r.marks.push(m.to_owned());
            }
        } else if let Some((_, out)) = current.as_mut() {
            out.push_str(line);
            out.push('\n');
        } else if let Some(j) = junit.as_mut() {
            j.push_str(line);
            j.push('\n');
        }
    }
    r
}

impl Report {
    /// The output of a step that must have succeeded.
    fn ok(&self, step: &str, console: &str) -> &str {
        let Some((out, rc)) = self.steps.get(step) else {
            panic!("the guest did not run {step}; its console:\n{console}");
        };
        assert_eq!(
            *rc, 0,
            "{step} failed in the guest:\n{out}\nconsole:\n{console}"
        );
        out
    }
}

/// `issued normal CODE NUMBER (...`: the code and number.
fn issued(out: &str) -> (String, String) {
    let l = out
        .lines()
        .find(|l| l.starts_with("issued "))
        .unwrap_or_else(|| panic!("no issued line in {out}"));
    let w: Vec<&str> = l.split_whitespace().collect();
    (w[2].to_owned(), w[3].to_owned())
}

/// The scenarios of a JUnit report and whether each passed, skipped or failed.
fn scenarios(junit: &str) -> BTreeMap<String, &'static str> {
    let mut out = BTreeMap::new();
    for case in junit.split("<testcase").skip(1) {
        let attr = |key: &str| {
            case.split(&format!(" {key}=\""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| panic!("no {key} in <testcase{case}"))
                .to_owned()
        };
        let name = format!("{} {}", attr("classname"), attr("name"));
        let body = case.split("</testcase>").next().unwrap_or(case);
        let result = if body.contains("<failure") || body.contains("<error") {
            "failed"
        } else if body.contains("<skipped") {
            "skipped"
        } else {
            "passed"
        };
        out.insert(name, result);
    }
    out
}

/// The conformance suite over TCP against a disk like the guest's conformance disk.
fn conformance_over_tcp(dir: &Path) -> BTreeMap<String, &'static str> {
    let sim = conformance_disk(false);
    let junit = dir.join("tcp-junit.xml");
    let o = Command::new(env!("CARGO_BIN_EXE_taxdisk"))
        .env("LC_ALL", "C") // English: the test reads English text
        .arg("--data")
        .arg(dir.join("tcp-conformance"))
        .args(["--disk", &format!("tcp:{}", sim.port("disk"))])
        .args(["conformance", "--control", &sim.port("control")])
        .args(["--bureau-secret", &hex::encode(SECRET_C), "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "conformance over TCP: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    scenarios(&std::fs::read_to_string(junit).unwrap())
}

#[test]
fn a_linux_guest_attaches_the_disk_over_usbip_and_taxdisk_drives_it_through_libusb() {
    let tools = match tools() {
        Ok(t) => t,
        Err(why) => return skip(&why),
    };
    let cache = cache_dir();
    let (vmlinuz, module_dir) = match debian_kernel(&cache) {
        Ok(k) => k,
        Err(why) => return skip(&format!("no Debian kernel package: {why}")),
    };
    let modules = modules_in_load_order(&module_dir, ROOT_MODULES).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let host = serve(dir.path());
    let env = guest_env(&host, &modules);
    let initrd = dir.path().join("initrd.cpio");
    let image = initramfs(&tools, &modules, &env, &host.admin_token).unwrap();
    std::fs::File::create(&initrd)
        .and_then(|mut f| f.write_all(&image))
        .unwrap();
    let console_file = dir.path().join("console.log");
    let (console, _) = boot(&tools, &vmlinuz, &initrd, &console_file);
    let report = parse(&console);
    assert!(
        report.marks.iter().any(|m| m == "done"),
        "the guest did not finish its script:\n{console}"
    );
    assert!(
        !report.marks.iter().any(|m| m.starts_with("insmod-failed")),
        "{console}"
    );

    // The kernel enumerated both disks from their descriptors: VID:PID, high speed, serials.
    for serial in [SERIAL_W, SERIAL_C] {
        let want = format!("device {serial} 1209:0001 speed 480 ");
        assert!(
            report.marks.iter().any(|m| m.starts_with(&want)),
            "no {want}in the guest's marks {:?}\n{console}",
            report.marks
        );
    }

    // The workflow over USB: provision, rolls, issue, list, verify, status.
    for step in ["init", "provision", "login", "rolls"] {
        report.ok(step, &console);
    }
    let (code, number) = issued(report.ok("issue", &console));
    assert!(report.ok("list", &console).contains(&number), "{console}");
    assert!(
        report.ok("verify", &console).contains("signature verified"),
        "{console}"
    );
    report.ok("status", &console);

    // Unplugged, the guest lost the disk; plugged in and attached again, the same data folder
    // found it and issued the next invoice.
    report.ok("unplug", &console);
    assert!(
        report
            .marks
            .iter()
            .any(|m| m == &format!("device-gone {SERIAL_W}")),
        "{console}"
    );
    report.ok("plug", &console);
    report.ok("login-again", &console);
    let (code2, number2) = issued(report.ok("issue-again", &console));
    assert_ne!((&code, &number), (&code2, &number2));
    report.ok("logout", &console);

    // The disk on the host holds what the guest issued over USB: the last invoice, read over
    // TCP after a power cycle (which ends the guest's session).
    let mut ctl = ControlClient::connect(host.w.port("control").as_str()).unwrap();
    assert_eq!(
        ctl.send(ControlRequest::PowerCycle).unwrap(),
        ControlResponse::Ok
    );
    let mut disk = DiskClient::new(TcpTransport::connect(&host.w.port("disk")).unwrap());
    disk.login(&Pin::new("88888888").unwrap()).unwrap();
    let last = disk
        .last_issued(Some(InvoiceKind::Normal))
        .unwrap()
        .expect("the disk has issued a normal invoice");
    assert_eq!(
        (
            last.invoice.body.code.to_string(),
            last.invoice.body.number.to_string()
        ),
        (code2, number2)
    );

    // The conformance suite over USB: every scenario passed, the same as over TCP.
    report.ok("conformance", &console);
    let usb = scenarios(&report.junit);
    assert!(usb.len() >= 20, "{} scenarios: {}", usb.len(), report.junit);
    let failed: Vec<_> = usb.iter().filter(|(_, r)| **r == "failed").collect();
    assert!(failed.is_empty(), "failed over USB: {failed:?}\n{console}");
    assert_eq!(
        usb,
        conformance_over_tcp(dir.path()),
        "USB and TCP disagree"
    );
}
