//! `conformance`, `replay` and `faults`: the vendor's and the bench engineer's commands.
//!
//! - `conformance` runs `host::conformance` against the disk given by `--disk` (a real one over
//!   USB, `taxdisk-sim serve` over TCP with its `--control` port, or by default a fresh
//!   in-process simulator whose bureau key and control channel the suite holds), prints the
//!   pass/fail table and writes JUnit XML; `--record` writes every frame to a trace.
//! - `replay` sends a recorded trace to another disk and compares the answers field by field.
//! - `faults` runs the seeded fault campaign of `crate::faults`.

use crate::wiring::DiskSpec;
use std::path::Path;
use std::sync::{Arc, Mutex};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::conformance::{
    BureauKeyTokens, Control, FnControl, Report, TcpControl, TokenSource, run_suite,
};
use taxdisk_host::trace::{Recorder, ReplayOptions, Trace, replay_with, replay_with_control};
use taxdisk_host::transport::Transport;
use taxdisk_host::transport::inproc::{InProcess, Shared};
use taxdisk_host::transport::tcp::TcpTransport;
use taxdisk_host::transport::usb::UsbTransport;
use taxdisk_i18n::phrase;
use taxdisk_protocol::Timestamp;
use taxdisk_protocol::control::ControlResponse;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::DeviceSerial;

/// The bureau secret of the in-process reference simulator (public test value).
const REFERENCE_BUREAU_SECRET: [u8; 32] = [0x5a; 32];

/// Failures of these commands.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A bad argument or setup failure.
    #[error("{0}")]
    Setup(String),
    /// The suite ran and something failed (the table says what).
    #[error("conformance: {0} scenario(s) failed")]
    Failed(usize),
    /// The replaying disk answered differently.
    #[error("replay: {0} difference(s)")]
    Different(usize),
}

/// A control failure as the channel's own error answer (cut at 64 bytes on a char boundary).
fn control_error(e: &dyn std::fmt::Display) -> ControlResponse {
    ControlResponse::error(&e.to_string())
}

fn setup<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> Result<T, SuiteError> {
    r.map_err(|e| {
        SuiteError::Setup(taxdisk_i18n::t!(
            "cli-input",
            what = phrase(what),
            error = e
        ))
    })
}

/// The disk cannot be reached: the link's error in the process's language.
fn link_error(e: taxdisk_host::transport::TransportError) -> SuiteError {
    use taxdisk_i18n::Localize;
    SuiteError::Setup(taxdisk_i18n::t!(
        "cli-input",
        what = phrase("disk"),
        error = e.localized()
    ))
}

type Link = (
    Box<dyn Transport + Send>,
    Option<Box<dyn Control>>,
    Option<BureauKeyTokens>,
);

/// The disk, its control channel and the token source the suite uses. A fresh reference
/// simulator's clock starts at `start` (default: now) and moves only by the control channel.
fn link(
    disk: Option<&DiskSpec>,
    start: Option<Timestamp>,
    control: Option<&str>,
    secret: Option<&str>,
) -> Result<Link, SuiteError> {
    let tokens = match secret {
        Some(hex) => Some(setup(
            BureauKeyTokens::from_secret_hex(hex),
            "--bureau-secret",
        )?),
        None => None,
    };
    let tcp_control = match control {
        Some(addr) => {
            Some(Box::new(setup(TcpControl::connect(addr), "--control")?) as Box<dyn Control>)
        }
        None => None,
    };
    match disk {
        None => {
            // A fresh reference simulator: its bureau secret and control are ours.
            let key = setup(
                sign::signing_key(&REFERENCE_BUREAU_SECRET),
                "reference bureau key",
            )?;
            let serial = setup(DeviceSerial::new("661900000001"), "serial")?;
            let cfg = SimConfig::new(
                serial,
                sign::public_key(&key),
                start.unwrap_or_else(Timestamp::now),
            );
            let sim = Arc::new(Mutex::new(setup(SimDisk::new(cfg), "simulator")?));
            let handle = sim.clone();
            let ctl = FnControl(move |req| taxdisk_protocol::fault::locked(&handle).control(req));
            let tokens = Some(setup(
                BureauKeyTokens::from_secret(&REFERENCE_BUREAU_SECRET),
                "tokens",
            )?);
            Ok((
                Box::new(InProcess::new(Shared(sim))),
                Some(Box::new(ctl)),
                tokens,
            ))
        }
        Some(_) if start.is_some() => Err(SuiteError::Setup(taxdisk_i18n::t!("conf-start-time"))),
        Some(DiskSpec::Tcp(addr)) => Ok((
            Box::new(TcpTransport::connect(addr).map_err(link_error)?),
            tcp_control,
            tokens,
        )),
        Some(DiskSpec::Usb(sel)) => Ok((
            Box::new(UsbTransport::open(sel.clone()).map_err(link_error)?),
            tcp_control,
            tokens,
        )),
        Some(DiskSpec::Sim(_)) => Err(SuiteError::Setup(taxdisk_i18n::t!("conf-sim-disk"))),
    }
}

/// `taxdisk conformance`.
pub fn conformance(
    disk: Option<&DiskSpec>,
    start: Option<Timestamp>,
    control: Option<&str>,
    secret: Option<&str>,
    junit: Option<&Path>,
    record: Option<&Path>,
) -> Result<Report, SuiteError> {
    let (transport, mut ctl, tokens) = link(disk, start, control, secret)?;
    let transport: Box<dyn Transport + Send> = match record {
        Some(path) => {
            let rec = setup(Recorder::create(transport, path), "--record")?;
            // The control requests go into the trace too, so a replay repeats them.
            if let Some(mut inner) = ctl.take() {
                let recorded = rec.control(FnControl(move |req| match inner.control(req) {
                    Ok(r) => r,
                    Err(e) => control_error(&e),
                }));
                ctl = Some(Box::new(recorded));
            }
            Box::new(rec)
        }
        None => transport,
    };
    let tokens_ref = tokens.as_ref().map(|t| t as &dyn TokenSource);
    let report = match ctl.as_mut() {
        Some(c) => run_suite(transport, tokens_ref, Some(&mut **c)),
        None => run_suite(transport, tokens_ref, None),
    };
    report.print_table();
    if let Some(path) = junit {
        setup(report.write_junit(path), "--junit")?;
        println!("{}", taxdisk_i18n::t!("conf-junit", path = path.display()));
    }
    if !report.ok() {
        return Err(SuiteError::Failed(report.failed()));
    }
    Ok(report)
}

/// `taxdisk replay`.
pub fn replay(
    trace: &Path,
    disk: Option<&DiskSpec>,
    start: Option<Timestamp>,
    control: Option<&str>,
    secret: Option<&str>,
) -> Result<(), SuiteError> {
    let t = setup(Trace::read(trace), "--trace")?;
    let (mut transport, ctl, tokens) = link(disk, start, control, secret)?;
    let opts = ReplayOptions {
        tokens: tokens.as_ref().map(|t| t as &dyn TokenSource),
        ..ReplayOptions::default()
    };
    let report = match ctl {
        Some(mut c) => replay_with_control(&t, transport.as_mut(), &opts, c.as_mut()),
        None => replay_with(&t, transport.as_mut(), &opts),
    };
    print!("{}", report.text());
    if report.is_same() {
        Ok(())
    } else {
        Err(SuiteError::Different(report.differences.len().max(1)))
    }
}
