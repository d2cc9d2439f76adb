//! `taxdisk`: the invoicing software's client workflow on a VAT tax-control disk (real over USB,
//! `taxdisk-sim` over TCP, or the simulator in-process), with the simulated tax bureau embedded
//! or remote. Subcommands follow the software's menus; `demo` runs a month of a company.
#![forbid(unsafe_code)]

mod commands;
mod help;
mod l10n;
mod prompt;

use taxdisk::{bench, demo, faults, keys, suite, tables, wiring};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use commands::parse::{
    checked, parse_disk, parse_durability, parse_kind, parse_number, parse_period,
};
use std::path::PathBuf;
use std::process::ExitCode;
use taxdisk_i18n::{Localize, t};
use taxdisk_protocol::command::InvoiceRef;
use taxdisk_protocol::types::{InvoiceCode, InvoiceKind, InvoiceNumber};
use wiring::DiskSpec;

/// The taxdisk command line.
#[derive(Debug, Parser)]
#[command(
    name = "taxdisk",
    version,
    about = "VAT tax-control disk toolkit: invoicing workflow, simulator, bench"
)]
struct Cli {
    /// Folder of the local database, the simulated disk image and the embedded bureau's state.
    #[arg(long, global = true, default_value = "taxdisk-data")]
    data: PathBuf,
    /// The disk: sim:PATH (in-process simulator), tcp:HOST:PORT (taxdisk-sim serve), usb,
    /// usb:SERIAL or usb:BUS.ADDRESS. Default: sim:DATA/disk.img (DATA is --data).
    #[arg(long, global = true, value_parser = parse_disk)]
    disk: Option<DiskSpec>,
    /// The bureau's URL; without it the embedded bureau runs inside this process.
    #[arg(long, global = true)]
    bureau: Option<String>,
    /// The embedded bureau's state: a SQLite file, or postgres://USER:PASSWORD@HOST/DB to keep
    /// it in PostgreSQL (several data folders, or a `taxdisk-sim bureau` worker, can then share
    /// one bureau). Default: DATA/bureau.db. Not with --bureau.
    #[arg(
        long,
        global = true,
        value_name = "PATH|URL",
        env = "TAXDISK_BUREAU_DB",
        hide_env_values = true,
        conflicts_with = "bureau"
    )]
    bureau_db: Option<PathBuf>,
    /// With --bureau: a file holding the bureau's administrator (tax office) token, for the
    /// steps that are the tax office's (provision, declare, unblock, set-clock, red form
    /// review). Other commands use the disk's own credential, kept in DATA at provisioning.
    /// The embedded bureau needs none.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "TAXDISK_BUREAU_ADMIN_TOKEN_FILE"
    )]
    bureau_admin_token_file: Option<PathBuf>,
    /// The disk PIN (口令) each command logs the disk in with (D2).
    #[arg(
        long,
        global = true,
        env = "TAXDISK_PIN",
        default_value = "88888888",
        hide_env_values = true
    )]
    pin: String,
    /// Start the clock of the in-process simulated disk and of the embedded bureau at TIME
    /// (RFC 3339 such as 2026-12-31T23:30:00+08:00, or unix seconds); it runs on with real
    /// time from there. Workflow commands keep it in DATA/clock for the commands after them;
    /// `conformance`, `demo` and `bench` start their fresh simulators at it. Default: the
    /// time the data folder keeps, else the system clock. A served or USB disk keeps its own
    /// clock (`taxdisk-sim serve --start-time`).
    #[arg(long, global = true, value_name = "TIME", value_parser = taxdisk_device_sim::serve::args::parse_time)]
    start_time: Option<taxdisk_protocol::Timestamp>,
    /// Language of the messages: zh-CN or en. Default: the locale (LC_ALL, LC_MESSAGES, LANG)
    /// starting with zh is Chinese, anything else English.
    #[arg(long, global = true, value_name = "LANG")]
    lang: Option<taxdisk_i18n::Lang>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Workflow(commands::WorkflowCmd),
    /// The main job: a whole month of a company's invoicing against the embedded simulator and
    /// bureau (nothing to start by hand), with a summary and the files it wrote.
    Demo {
        /// About how many invoices to issue in the month.
        #[arg(long, default_value_t = 3000)]
        invoices: usize,
        /// Seed of every random choice.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output folder.
        #[arg(long, default_value = "demo-out")]
        out: PathBuf,
        /// The month to run, YYYYMM, from its first day (with --start-time: from that day and
        /// time; the month is then the start's unless given).
        #[arg(long, value_parser = parse_period)]
        month: Option<taxdisk_protocol::Period>,
    },
    /// Issue invoices end to end as fast as the disk allows; print invoices/s, p50/p99 latency
    /// and the raw SM2 signing rate of the same run with their ratio.
    Bench {
        /// Invoices per disk.
        #[arg(long, default_value_t = 10_000)]
        invoices: usize,
        /// Simulated disks in parallel (a bench farm); reports the scaling over one disk.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Drafts per issuing call (批量开具): pending rows recorded in one commit, requests
        /// pipelined on TCP, signed records stored in one commit. 1: one invoice per call.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// SQLite durability of the bench stores: normal (WAL, issuing records journaled and
        /// folded in behind the signing, durable across process crashes) or full (fsync per
        /// commit).
        #[arg(long, default_value = "normal", value_parser = parse_durability)]
        durability: taxdisk_host::store::Durability,
        /// A further served disk (tcp:HOST:PORT, `taxdisk-sim serve` here or on another
        /// machine) of a bench farm, trusting the same --bureau; repeat for more. With
        /// --disk tcp: that one is the one-disk baseline, then all of them issue at once.
        #[arg(long = "farm", value_name = "tcp:HOST:PORT", value_parser = parse_disk)]
        farm: Vec<DiskSpec>,
        /// A file of further served disks, one tcp:HOST:PORT a line (# starts a comment).
        #[arg(long, value_name = "FILE")]
        farm_file: Option<PathBuf>,
    },
    /// Run the conformance suite (one scenario per disk rule D1-D14 and per command) against
    /// --disk tcp:ADDR or usb (factory state), or by default a fresh reference simulator;
    /// print the pass/fail table.
    Conformance {
        /// The simulator's control port (clock, power); without it those scenarios are skipped.
        #[arg(long)]
        control: Option<String>,
        /// Hex secret of the bureau key the disk was manufactured for (signs test tokens);
        /// without it token scenarios are skipped.
        #[arg(long)]
        bureau_secret: Option<String>,
        /// Write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Record every frame of the session to this trace file.
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Replay a recorded trace against --disk (default: a fresh reference simulator) and
    /// compare the answers field by field.
    Replay {
        /// The trace file.
        #[arg(long)]
        trace: PathBuf,
        /// The simulator's control port.
        #[arg(long)]
        control: Option<String>,
        /// Hex secret of the replaying disk's bureau key (tokens are re-signed for it).
        #[arg(long)]
        bureau_secret: Option<String>,
    },
    /// A seeded fault campaign against a simulator: power cuts at flash operations and frame
    /// faults during a mixed workload; reports the invariants checked.
    Faults {
        /// Power cuts to inject.
        #[arg(long, default_value_t = 20)]
        power_cuts: u32,
        /// Share of frames given a fault (0 to 0.5).
        #[arg(long, default_value_t = 0.05)]
        frame_faults: f64,
        /// Seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Invoices in the workload.
        #[arg(long, default_value_t = 200)]
        invoices: u32,
    },
    /// Write the disk's SM2 public key as PEM.
    ExportKey {
        /// Output file.
        #[arg(long, default_value = "disk.pem")]
        out: PathBuf,
    },
    /// Check an invoice's signature and write its signed message and DER signature for an
    /// outside verifier (prints the OpenSSL command).
    Verify {
        /// Kind: special, normal, electronic, roll, motor-vehicle, used-car (or 004, 007, ...).
        #[arg(long, value_parser = parse_kind)]
        kind: InvoiceKind,
        /// Invoice code.
        #[arg(long, value_parser = checked::<InvoiceCode>)]
        code: InvoiceCode,
        /// Invoice number.
        #[arg(long, value_parser = parse_number)]
        number: InvoiceNumber,
        /// Output file stem (writes STEM.msg and STEM.sig.der).
        #[arg(long, default_value = "invoice")]
        out: PathBuf,
        /// PEM of the disk's key to write beside them.
        #[arg(long, default_value = "disk.pem")]
        pem: PathBuf,
    },
}

/// Any failure of a command: printed as one line.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Wiring(#[from] wiring::WiringError),
    #[error(transparent)]
    Disk(#[from] taxdisk_host::disk::DiskError),
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error(transparent)]
    Bench(#[from] bench::BenchError),
    #[error(transparent)]
    Demo(#[from] demo::DemoError),
    #[error(transparent)]
    Cmd(#[from] commands::CmdError),
    #[error(transparent)]
    Suite(#[from] suite::SuiteError),
    #[error(transparent)]
    Faults(#[from] faults::FaultsError),
    #[error("{0}")]
    Usage(String),
}

/// The clock of a command that works on the data folder: `--start-time` applies to the
/// in-process disk and the embedded bureau only.
fn data_clock(
    data: &std::path::Path,
    start: Option<taxdisk_protocol::Timestamp>,
    disk: &DiskSpec,
) -> Result<wiring::SimClock, CliError> {
    if start.is_some() && !matches!(disk, DiskSpec::Sim(_)) {
        return Err(CliError::Usage(t!("cli-usage-start-time")));
    }
    Ok(wiring::SimClock::for_data(data, start)?)
}

fn run(cli: Cli) -> Result<(), CliError> {
    let disk_spec = cli
        .disk
        .clone()
        .unwrap_or_else(|| DiskSpec::Sim(cli.data.join("disk.img")));
    let bureau_spec = wiring::BureauSpec {
        url: cli.bureau.clone(),
        admin_token_file: cli.bureau_admin_token_file.clone(),
        db: cli.bureau_db.clone(),
    };
    match cli.command {
        Command::Conformance {
            control,
            bureau_secret,
            junit,
            record,
        } => {
            suite::conformance(
                cli.disk.as_ref(),
                cli.start_time,
                control.as_deref(),
                bureau_secret.as_deref(),
                junit.as_deref(),
                record.as_deref(),
            )?;
        }
        Command::Replay {
            trace,
            control,
            bureau_secret,
        } => {
            suite::replay(
                &trace,
                cli.disk.as_ref(),
                cli.start_time,
                control.as_deref(),
                bureau_secret.as_deref(),
            )?;
        }
        Command::Faults {
            power_cuts,
            frame_faults,
            seed,
            invoices,
        } => {
            if !(0.0..=0.5).contains(&frame_faults) || invoices == 0 {
                return Err(CliError::Usage(t!("cli-usage-faults")));
            }
            let report = faults::run(&faults::CampaignConfig {
                power_cuts,
                frame_fault_rate: frame_faults,
                seed,
                invoices,
            })?;
            report.print();
            if !report.passed() {
                return Err(CliError::Usage(t!("cli-faults-failed")));
            }
        }
        Command::Workflow(mut cmd) => {
            cmd.ask_passwords()?;
            let clock = data_clock(&cli.data, cli.start_time, &disk_spec)?;
            let mut ctx =
                commands::Ctx::open(&cli.data, &disk_spec, &bureau_spec, &cli.pin, clock)?;
            commands::run(cmd, &mut ctx)?;
        }
        Command::Demo {
            invoices,
            seed,
            out,
            month,
        } => {
            if !(10..=200_000).contains(&invoices) {
                return Err(CliError::Usage(t!("cli-usage-demo-invoices")));
            }
            let start = demo::demo_start(month, cli.start_time)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let cfg = demo::DemoConfig {
                invoices,
                seed,
                out,
                start,
                progress: true,
            };
            demo::run(&cfg)?.print();
        }
        Command::Bench {
            invoices,
            jobs,
            batch,
            durability,
            farm,
            farm_file,
        } => {
            // The served disks: --disk first, then --farm, then the file's.
            let mut specs: Vec<DiskSpec> = cli.disk.iter().cloned().chain(farm).collect();
            if let Some(f) = &farm_file {
                specs.extend(
                    taxdisk::bench::read_farm_file(f)
                        .map_err(|e| CliError::Usage(e.to_string()))?,
                );
            }
            let mut addrs = Vec::new();
            for s in specs {
                match s {
                    DiskSpec::Tcp(addr) => addrs.push(addr),
                    _ => return Err(CliError::Usage(t!("cli-usage-bench-disk"))),
                }
            }
            let disk = match (addrs.is_empty(), &cli.bureau) {
                (true, _) => bench::BenchDisk::Sim,
                (false, Some(url)) => bench::BenchDisk::Tcp {
                    addrs,
                    bureau: url.clone(),
                    admin_token: cli
                        .bureau_admin_token_file
                        .as_deref()
                        .map(wiring::read_admin_token)
                        .transpose()?,
                },
                (false, None) => {
                    return Err(CliError::Usage(t!("cli-usage-bench-tcp-bureau")));
                }
            };
            if jobs > 1 && !matches!(disk, bench::BenchDisk::Sim) {
                return Err(CliError::Usage(t!("cli-usage-bench-jobs-tcp", jobs = jobs)));
            }
            let served = match &disk {
                bench::BenchDisk::Tcp { addrs, .. } => addrs.len(),
                bench::BenchDisk::Sim => 0,
            };
            if invoices == 0
                || jobs == 0
                || jobs > 64
                || served > 64
                || batch == 0
                || batch > 10_000
            {
                return Err(CliError::Usage(t!("cli-usage-bench-ranges")));
            }
            let cfg = bench::BenchConfig {
                disk,
                invoices,
                jobs,
                batch,
                dir: cli.data.join("bench"),
                progress: true,
                durability,
                start: cli
                    .start_time
                    .unwrap_or_else(taxdisk_protocol::Timestamp::now),
            };
            let report = bench::run(&cfg)?;
            report.print(&cfg);
        }
        Command::ExportKey { out } => {
            let clock = data_clock(&cli.data, cli.start_time, &disk_spec)?;
            let (_held, mut disk) =
                wiring::open_folder_disk(&cli.data, &disk_spec, &bureau_spec, clock)?;
            keys::export_key(&disk.public_key()?, &out)?;
            println!("{}", t!("cli-wrote", path = out.display()));
        }
        Command::Verify {
            kind,
            code,
            number,
            out,
            pem,
        } => {
            let clock = data_clock(&cli.data, cli.start_time, &disk_spec)?;
            let (_held, mut disk) =
                wiring::open_folder_disk(&cli.data, &disk_spec, &bureau_spec, clock)?;
            // Reading an invoice back needs the PIN, as every disk command does (D2).
            let pin = taxdisk_protocol::types::Pin::new(&cli.pin).map_err(|e| {
                CliError::Usage(t!("cli-input", what = "--pin", error = e.localized()))
            })?;
            disk.login(&pin)?;
            let pk = disk.public_key()?;
            let view = disk.read_invoice(&InvoiceRef { kind, code, number })?;
            let files = keys::verify_invoice(&view.invoice, &pk, &out)?;
            keys::export_key(&pk, &pem)?;
            println!("{}", t!("cli-verified"));
            println!("{}", keys::openssl_command(&pem, &files));
        }
    }
    Ok(())
}

/// A closed pipe (`taxdisk list | head -3`) ends the command quietly, as it ends `ls | head`:
/// `println!` panics when stdout's reader is gone, so the panic hook exits with the status a
/// process killed by SIGPIPE has (128 + 13) instead of printing a panic. Every other panic
/// keeps the default report.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to std") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    // The language is needed before clap parses (for --help): `--lang` is read from the
    // arguments first, then the locale decides.
    taxdisk_i18n::init(taxdisk_i18n::Lang::from_args(std::env::args()));
    // A usage error is printed in the process's language with clap's exit status (2).
    let cli = match help::localize(Cli::command())
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => taxdisk_i18n::help::exit(&e),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", t!("cli-error", error = l10n::error(&e)));
            ExitCode::FAILURE
        }
    }
}
