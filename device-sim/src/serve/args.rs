//! The command line of `taxdisk-sim` (clap): `serve`, `bureau` and `control`, with the parsers
//! of its values (times, bureau keys, sizes, durations, fault actions). Kept in the library so
//! the parsing is unit-tested and the binary stays a thin `main`.

use super::usbip::DEFAULT_USBIP_ADDR;
use super::{
    BureauSetup, DEFAULT_BUREAU_ADDR, DEFAULT_CONTROL_ADDR, DEFAULT_DISK_ADDR, ServeConfig,
};
use crate::sim::SimConfig;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use taxdisk_i18n::t;
use taxdisk_protocol::Timestamp;
use taxdisk_protocol::control::{ControlRequest, FrameFaultAction};
use taxdisk_protocol::types::{DeviceSerial, PublicKey};

const SERVE_ABOUT: &str = "\
Serve simulated tax disks over TCP (and USB/IP) for hardware-in-the-loop benches: one disk,
or one per --image when it is given several times (see Several disks below).

Two ports are opened for each disk:

  disk port (--listen, default 127.0.0.1:7461)
      The disk protocol exactly as on USB: COBS-encoded frames (header, postcard payload,
      CRC-32, ended by one 0x00 byte), frame type 0 (request) answered by frame type 1.
      Several connections may be open; frames are handled one at a time and the disk's own
      session rule (D14) keeps a second host session out while one is logged in. Frames reach
      the disk as sent: a frame that fails its checks gets no answer, one of another protocol
      version is answered UnsupportedVersion, as from a real disk.

  control port (--control, default 127.0.0.1:7462)
      The simulator's control channel (taxdisk_protocol::control): the same framing with frame
      type 2 (ControlRequest) answered by type 3 (ControlResponse), command id 0, payload the
      postcard encoding of the message. Requests:
        GetClock                 read the disk clock
        SetClock(t)              set the clock (bench control, not the D3 token path)
        Advance(secs)            move the clock forward
        RunFree(bool)            clock follows real time (true) or moves only when told
        PowerCycle               power off and on: login and RAM state lost, flash kept
        Plug(bool)               unplug (no answers at all) / plug in (boots from flash)
        PowerCutAfter(n)         cut the power during the nth flash program/erase from now
        FrameFault{nth, action}  the nth disk frame from now: DropAnswer, DropRequest,
                                 CorruptAnswer, DuplicateAnswer, DelayAnswer(ms) or
                                 LateAnswer (held back, sent in front of the next answer)
        ClearFaults              disarm every fault
        Snapshot(name)           keep a copy of the flash image in memory (8 at most)
        DropSnapshot(name)       forget a snapshot
        Restore(name)            put a snapshot back, then power-cycle
        Latency(bool)            real-disk latency model on/off
        Stats                    flash and frame counters
      `taxdisk-sim control` sends them from a shell.

  USB/IP port (--usbip [ADDR], default 127.0.0.1:3240; off without the flag)
      The same disk as a USB device over USB/IP, bus id 1-1: VID 1209 PID 0001, the device
      serial as serial string, one vendor-specific interface (ff/54/01) with bulk OUT 0x01 and
      IN 0x81 (high speed, 512-byte packets) carrying the disk port's frames (same disk, same
      sessions, same faults). `usbip list -r HOST` lists it, `usbip attach -r HOST -b 1-1`
      plugs it into a Linux PC (vhci-hcd). Unplug/Plug on the control port take it away and
      bring it back; PowerCycle reboots the disk behind its attachment (login lost, the
      attachment kept). One port serves every disk, each under its own bus id.

Several disks: give --image once per disk (--image a.img --image b.img). Disk i (from 0) has
serial --serial + i, seed --seed + i, bus id 1-(i+1), and its own disk and control ports: with
port 0 each gets a free port; otherwise disk i is on --listen + i and --control + i, and ranges
that overlap are refused (the default 7461/7462 are one apart: give e.g. --control
127.0.0.1:7471). Each image is locked by this process and synced at exit. The bureau of
--bureau is shared: every disk is manufactured with its key. --print-ports lists every disk.

The flash lives in --image (created if missing, reopened next time: the disk keeps its
identity, rolls and invoices across restarts). Every flash write is written through to the
file before the disk answers; SIGINT or SIGTERM stops the server after the frame in progress,
syncs the image to stable storage and exits 0.

The disk verifies bureau tokens with the key it is manufactured with: give it with
--bureau-key, or start the simulated bureau in this process with --bureau ADDR and the disk
uses that bureau's key.";

const SERVE_EXAMPLE: &str = "\
Example session (one shell serving, one for the host, one for the bench):

  $ taxdisk-sim serve --image bench.img --bureau 127.0.0.1:7463 --bureau-db bureau.db \\
        --serial 661234567890 --seed 1 --clock manual --start-time 2026-11-26T09:00:00+08:00
  (the host connects to tcp:127.0.0.1:7461 and the bureau API at http://127.0.0.1:7463)
  $ taxdisk-sim control advance 2h            # \"Ok\": the disk clock moves 2 hours
  $ taxdisk-sim control clock                 # {\"Clock\":1795662000}
  $ taxdisk-sim control snapshot before-issue # a copy of the flash, in memory
  $ taxdisk-sim control fault 1 drop-answer   # the next disk frame is handled, its answer lost
  $ taxdisk-sim control power-cut-after 3     # the 3rd flash write from now tears; no answer
  $ taxdisk-sim control power-cycle           # the host must log in again (NotLoggedIn)
  $ taxdisk-sim control restore before-issue  # back to the snapshot, power-cycled
  $ taxdisk-sim control stats                 # {\"Stats\":{\"flash_reads\":..,\"frames\":..}}
  $ kill -TERM <pid>                          # image synced, exit 0; serve again to continue

For tests and benches, bind port 0 and read the ports from the one JSON line of
--print-ports:

  $ taxdisk-sim serve --listen 127.0.0.1:0 --control 127.0.0.1:0 --bureau-key 04ab... --print-ports
  {\"disk\":\"127.0.0.1:40211\",\"control\":\"127.0.0.1:40212\",\"bureau\":null,\"bureau_key\":\"04ab...\",\"usbip\":null,
   \"disks\":[{\"serial\":\"661000000001\",\"disk\":\"127.0.0.1:40211\",\"control\":\"127.0.0.1:40212\",\"bus_id\":null}]}

Logs go to stderr (RUST_LOG=debug shows every connection and bad frame).";

/// `taxdisk-sim`: the simulated tax disk and tax bureau for benches and tests.
#[derive(Debug, Parser)]
#[command(
    name = "taxdisk-sim",
    version,
    about = "Simulated tax-control disk (金税盘) and tax bureau for benches and tests",
    long_about = "Simulated tax-control disk (金税盘) and tax bureau for hardware-in-the-loop \
benches and tests. Start with `taxdisk-sim serve --help`: the two ports, the control messages \
and an example session.",
    propagate_version = true
)]
pub struct Cli {
    /// Language of the messages: zh-CN or en. Default: the locale (LC_ALL, LC_MESSAGES, LANG)
    /// starting with zh is Chinese, anything else English.
    #[arg(long, global = true, value_name = "LANG")]
    pub lang: Option<taxdisk_i18n::Lang>,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once per process: the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve simulated disks on TCP (disk port + control port each), optionally over USB/IP and
    /// with the bureau.
    #[command(long_about = SERVE_ABOUT, after_long_help = SERVE_EXAMPLE)]
    Serve(ServeArgs),
    /// Run only the simulated tax bureau's HTTP JSON API.
    #[command(
        long_about = "Run only the simulated tax bureau (局端): its HTTP JSON API on --listen, \
its state in the SQLite file --db (created if missing; without --db the state lives in memory \
and is lost at exit), or in the PostgreSQL database of a --db postgres://USER:PASS@HOST:PORT/DB \
URL, which several bureau processes (on several machines) may share: each is the same bureau. The bureau's SM2 key is made at the first open of the state (from --seed \
if given) and kept in it; --print-ports prints the URL and the key, to pass to \
`taxdisk-sim serve --bureau-key`. SIGINT/SIGTERM stop it after the requests in flight."
    )]
    Bureau(BureauArgs),
    /// Send one control request to a running `taxdisk-sim serve` and print the answer as JSON.
    #[command(
        long_about = "Send one control request to the control port of a running \
`taxdisk-sim serve` and print the answer as one JSON line ({\"Clock\":<unix secs>}, \
{\"Stats\":{...}}, \"Ok\"). Exits 1 if the simulator answers Error or cannot be reached."
    )]
    Control(ControlArgs),
}

/// How the disk clock moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClockMode {
    /// Follows real time from --start-time on.
    Free,
    /// Moves only by control requests (SetClock, Advance): reproducible runs.
    Manual,
}

/// Options of `taxdisk-sim serve`.
#[derive(Debug, Args)]
// --bureau-db and --bureau-seed conflict with --bureau-key rather than `requires` --bureau:
// clap lets any member of a group satisfy `requires` (clap-rs/clap#4707), and the required
// group leaves --bureau as the only other way.
#[command(group(ArgGroup::new("bureau_source").required(true).args(["bureau_key", "bureau"])))]
pub struct ServeArgs {
    /// Address of the disk-protocol port (port 0: any free port, see --print-ports).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_DISK_ADDR)]
    pub listen: SocketAddr,
    /// Address of the control port (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_CONTROL_ADDR)]
    pub control: SocketAddr,
    /// Flash image file: reopened if it exists (at its own size, whatever --flash-size says), else created
    /// blank (a factory-state disk). Without it the flash lives in memory and is lost at exit.
    /// Give it several times to serve several disks, one per image: disk i (from 0) has serial
    /// --serial + i, seed --seed + i, ports --listen + i and --control + i (port 0: a free port
    /// each) and USB/IP bus id 1-(i+1).
    #[arg(long, value_name = "PATH")]
    pub image: Vec<PathBuf>,
    /// Device serial (金税盘编号, 12 digits). Tokens must name it.
    #[arg(long, value_name = "DIGITS", default_value = "661000000001", value_parser = parse_serial)]
    pub serial: DeviceSerial,
    /// Seed of the disk's RNG (its key pair at provisioning): the same seed and clock script
    /// give the same bytes.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Disk clock at start: RFC 3339 (2026-11-26T09:00:00+08:00, ...Z) or unix seconds.
    /// Default: now. On a restart from an image give a time no earlier than the newest invoice,
    /// or the disk refuses to issue (D3 ClockError).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub start_time: Option<Timestamp>,
    /// `free`: the clock runs with real time; `manual`: it moves only by control requests.
    #[arg(long, value_enum, default_value_t = ClockMode::Free)]
    pub clock: ClockMode,
    /// Turn on the real-disk latency model (each answer takes as long as on a USB disk with a
    /// secure element: ~120 ms to issue, 800 ms to provision). Can be switched by Latency(bool).
    #[arg(long)]
    pub latency: bool,
    /// Flash size (K, M suffixes, powers of two from 64K to 256M).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub flash_size: usize,
    /// The bureau public key the disk is manufactured with, SEC1 hex (uncompressed 04.. or
    /// compressed 02../03..), as `taxdisk-sim bureau --print-ports` prints it.
    #[arg(long, value_name = "HEX", value_parser = parse_bureau_key)]
    pub bureau_key: Option<PublicKey>,
    /// Also serve the simulated bureau's HTTP API on ADDR, and manufacture the disk with its key.
    #[arg(long, value_name = "ADDR")]
    pub bureau: Option<SocketAddr>,
    /// The bureau's SQLite state file (with --bureau; created if missing, in memory if absent),
    /// or a `postgres://` URL.
    #[arg(long, value_name = "PATH", conflicts_with = "bureau_key")]
    pub bureau_db: Option<PathBuf>,
    /// Seed of the bureau key when its state is first created (with --bureau).
    #[arg(long, value_name = "N", conflicts_with = "bureau_key")]
    pub bureau_seed: Option<u64>,
    /// The bureau's administrator (tax office) token, in a file: read if the file exists, else
    /// made at random and written there (0600). Without it a new token is printed on stderr
    /// at start. Taxpayer software never needs it; registration and provisioning do.
    #[arg(long, value_name = "PATH", conflicts_with = "bureau_key")]
    pub admin_token_file: Option<PathBuf>,
    /// Also export the disks as USB devices over USB/IP on ADDR (default 127.0.0.1:3240 when
    /// the flag has no value): bus id 1-1 (1-2, ... for more --image), VID 1209 PID 0001, the
    /// same frames as the disk port. A bench attaches one with `usbip attach -r HOST -b 1-1`.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = DEFAULT_USBIP_ADDR)]
    pub usbip: Option<SocketAddr>,
    /// Print the bound addresses and the bureau key as one JSON line on stdout once serving:
    /// {"disk":ADDR,"control":ADDR,"bureau":URL|null,"bureau_key":HEX,"usbip":ADDR|null,
    /// "disks":[{"serial":DIGITS,"disk":ADDR,"control":ADDR,"bus_id":"1-1"|null},...]}
    /// (disk and control: disk 0's).
    #[arg(long)]
    pub print_ports: bool,
}

impl ServeArgs {
    /// The images of the disks after the first (`--image` given more than once), for
    /// [`super::Server::start_several`].
    pub fn more_images(&self) -> &[PathBuf] {
        self.image.get(1..).unwrap_or_default()
    }

    /// The server configuration of disk 0 (the others are derived from it by
    /// [`super::Server::start_several`]); `now` is the start time when none was given.
    pub fn to_config(&self, now: Timestamp) -> Result<ServeConfig, String> {
        let bureau = match (&self.bureau_key, self.bureau) {
            (_, Some(addr)) => BureauSetup::Serve {
                addr,
                db: self.bureau_db.clone(),
                seed: self.bureau_seed,
                admin_token_file: self.admin_token_file.clone(),
            },
            (Some(k), None) => BureauSetup::Key(*k),
            (None, None) => return Err(t!("sim-args-no-bureau")),
        };
        // Replaced by the bureau's key when the bureau runs here.
        let key = self.bureau_key.unwrap_or(PublicKey {
            x: [0; 32],
            y: [0; 32],
        });
        let mut sim = SimConfig::new(self.serial.clone(), key, self.start_time.unwrap_or(now));
        sim.seed = self.seed;
        sim.flash_bytes = self.flash_size;
        sim.image = self.image.first().cloned();
        sim.latency = self.latency;
        Ok(ServeConfig {
            sim,
            run_free: self.clock == ClockMode::Free,
            disk_addr: self.listen,
            control_addr: self.control,
            bureau,
            usbip: self.usbip,
        })
    }
}

/// Options of `taxdisk-sim bureau`.
#[derive(Debug, Args)]
pub struct BureauArgs {
    /// Address of the HTTP API (port 0: any free port, see --print-ports).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_BUREAU_ADDR)]
    pub listen: SocketAddr,
    /// SQLite state file (created if missing), or a `postgres://USER:PASS@HOST:PORT/DB` URL;
    /// in memory if absent.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Seed of the bureau key when the state is first created.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// The administrator (tax office) token, in a file: read if the file exists, else made at
    /// random and written there (0600). Without it a new token is printed on stderr at start.
    #[arg(long, value_name = "PATH")]
    pub admin_token_file: Option<PathBuf>,
    /// Print {"bureau":URL,"bureau_key":HEX} as one JSON line on stdout once serving.
    #[arg(long)]
    pub print_ports: bool,
}

/// `on` / `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}

impl OnOff {
    fn on(self) -> bool {
        self == OnOff::On
    }
}

/// Options of `taxdisk-sim control`.
#[derive(Debug, Args)]
pub struct ControlArgs {
    /// Address of the simulator's control port.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_CONTROL_ADDR)]
    pub addr: String,
    /// The request.
    #[command(subcommand)]
    pub request: ControlCommand,
}

/// One control request, as a shell command.
#[derive(Debug, Subcommand)]
pub enum ControlCommand {
    /// Read the disk clock (GetClock).
    Clock,
    /// Set the disk clock (SetClock): RFC 3339 or unix seconds.
    SetClock {
        /// The new time.
        #[arg(value_parser = parse_time)]
        time: Timestamp,
    },
    /// Move the disk clock forward (Advance): seconds, or with s/m/h/d suffix (90m, 2h, 31d).
    Advance {
        /// How far.
        #[arg(value_parser = parse_duration_secs)]
        by: u64,
    },
    /// Clock follows real time (on) or only control requests (off) (RunFree).
    RunFree {
        /// on or off.
        #[arg(value_enum)]
        on: OnOff,
    },
    /// Power off and on: login lost, flash kept (PowerCycle).
    PowerCycle,
    /// Plug the disk in (Plug(true)); it boots from its flash.
    Plug,
    /// Unplug the disk (Plug(false)): no frame gets an answer.
    Unplug,
    /// Cut the power during the Nth flash program/erase from now, 1 = the next (PowerCutAfter).
    PowerCutAfter {
        /// Which operation, from 1.
        n: u32,
    },
    /// Fault the NTH disk frame from now, 1 = the next (FrameFault).
    Fault {
        /// Which frame, from 1.
        nth: u32,
        /// drop-answer, drop-request, corrupt-answer, duplicate-answer, delay:MS or late-answer.
        #[arg(value_parser = parse_fault_action)]
        action: FrameFaultAction,
    },
    /// Disarm every fault (ClearFaults).
    ClearFaults,
    /// Keep a copy of the flash image under NAME (Snapshot).
    Snapshot {
        /// Up to 32 bytes.
        name: String,
    },
    /// Put the snapshot NAME back and power-cycle (Restore).
    Restore {
        /// A name given to snapshot.
        name: String,
    },
    /// Forget the snapshot NAME and free its memory (DropSnapshot).
    DropSnapshot {
        /// A name given to snapshot.
        name: String,
    },
    /// Real-disk latency model on or off (Latency).
    Latency {
        /// on or off.
        #[arg(value_enum)]
        on: OnOff,
    },
    /// Flash and frame counters (Stats).
    Stats,
}

impl ControlCommand {
    /// The control request this command sends.
    pub fn to_request(&self) -> Result<ControlRequest, String> {
        let name = |s: &str| {
            heapless::String::<32>::try_from(s).map_err(|_| t!("sim-args-snapshot-name", name = s))
        };
        Ok(match self {
            ControlCommand::Clock => ControlRequest::GetClock,
            ControlCommand::SetClock { time } => ControlRequest::SetClock(*time),
            ControlCommand::Advance { by } => ControlRequest::Advance(*by),
            ControlCommand::RunFree { on } => ControlRequest::RunFree(on.on()),
            ControlCommand::PowerCycle => ControlRequest::PowerCycle,
            ControlCommand::Plug => ControlRequest::Plug(true),
            ControlCommand::Unplug => ControlRequest::Plug(false),
            ControlCommand::PowerCutAfter { n } => ControlRequest::PowerCutAfter(*n),
            ControlCommand::Fault { nth, action } => ControlRequest::FrameFault {
                nth: *nth,
                action: *action,
            },
            ControlCommand::ClearFaults => ControlRequest::ClearFaults,
            ControlCommand::Snapshot { name: n } => ControlRequest::Snapshot(name(n)?),
            ControlCommand::Restore { name: n } => ControlRequest::Restore(name(n)?),
            ControlCommand::DropSnapshot { name: n } => ControlRequest::DropSnapshot(name(n)?),
            ControlCommand::Latency { on } => ControlRequest::Latency(on.on()),
            ControlCommand::Stats => ControlRequest::Stats,
        })
    }
}

/// A device serial (F6: 12 digits).
pub fn parse_serial(s: &str) -> Result<DeviceSerial, String> {
    DeviceSerial::new(s).map_err(|e| taxdisk_i18n::Localize::localized(&e))
}

/// A time: unix seconds, or RFC 3339 (`2026-11-26T09:00:00+08:00`, `...Z`, fractions ignored).
pub fn parse_time(s: &str) -> Result<Timestamp, String> {
    let s = s.trim();
    let t = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<u64>()
            .map(Timestamp)
            .map_err(|_| t!("sim-args-time-too-large", value = s))?
    } else {
        parse_rfc3339(s).ok_or_else(|| t!("sim-args-time", value = s))?
    };
    // Periods are YYYYMM from 2000 (F-rules, protocol `Period`): a disk clock outside them
    // would answer periods no host decodes.
    let earliest = Timestamp::cst(2000, 1, 1, 0, 0);
    if t < earliest || t > crate::sim::LATEST_TIME {
        return Err(t!("sim-args-time-range", value = s));
    }
    Ok(t)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> {
        let t = s.get(from..to)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59
    {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| -> Option<i64> {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| ((a - b'0') * 10 + (b - b'0')) as i64)
            };
            let (oh, om) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    u64::try_from(secs).ok().map(Timestamp)
}

/// A bureau public key: SEC1 hex, uncompressed (`04` + 64 bytes) or compressed (`02`/`03` + 32
/// bytes), checked to be a point of the SM2 curve.
pub fn parse_bureau_key(s: &str) -> Result<PublicKey, String> {
    use sm2::elliptic_curve::sec1::ToSec1Point;
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex_decode(s).ok_or_else(|| t!("sim-args-not-hex", value = s))?;
    let vk = sm2::dsa::VerifyingKey::from_sec1_bytes(taxdisk_protocol::sign::SIGNER_ID, &bytes)
        .map_err(|_| t!("sim-args-not-sm2-key", bytes = bytes.len()))?;
    let point = vk.to_sec1_point(false);
    PublicKey::from_sec1(point.as_bytes()).ok_or_else(|| t!("sim-args-not-uncompressed"))
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// A size in bytes: a number with an optional `K`/`M`/`G` suffix (binary; `KiB`, `MB` and the
/// like are read the same).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let n: usize = t[..digits]
        .parse()
        .map_err(|_| t!("sim-args-size", value = s))?;
    let mult: usize = match t[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(t!("sim-args-size-suffix", value = s)),
    };
    n.checked_mul(mult)
        .ok_or_else(|| t!("sim-args-too-large", value = s))
}

/// A duration in whole seconds: a number with an optional `s`/`m`/`h`/`d` suffix.
pub fn parse_duration_secs(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let n: u64 = t[..digits]
        .parse()
        .map_err(|_| t!("sim-args-duration", value = s))?;
    let mult = match &t[digits..] {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(t!("sim-args-duration-unit", value = s)),
    };
    n.checked_mul(mult)
        .ok_or_else(|| t!("sim-args-too-long", value = s))
}

/// A frame fault action: `drop-answer`, `drop-request`, `corrupt-answer`, `duplicate-answer`,
/// `delay:MS` or `late-answer`.
pub fn parse_fault_action(s: &str) -> Result<FrameFaultAction, String> {
    Ok(match s {
        "drop-answer" => FrameFaultAction::DropAnswer,
        "drop-request" => FrameFaultAction::DropRequest,
        "corrupt-answer" => FrameFaultAction::CorruptAnswer,
        "duplicate-answer" => FrameFaultAction::DuplicateAnswer,
        "late-answer" => FrameFaultAction::LateAnswer,
        _ => match s.strip_prefix("delay:").map(str::parse::<u32>) {
            Some(Ok(ms)) => FrameFaultAction::DelayAnswer(ms),
            _ => {
                return Err(t!("sim-args-fault-action", value = s));
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_both_forms() {
        assert_eq!(parse_time("1795668730"), Ok(Timestamp(1_795_668_730)));
        // 2026-11-26 04:52:10 UTC = 12:52:10 in Beijing.
        assert_eq!(
            parse_time("2026-11-26T04:52:10Z"),
            Ok(Timestamp(1_795_668_730))
        );
        assert_eq!(
            parse_time("2026-11-26T12:52:10+08:00"),
            Ok(Timestamp(1_795_668_730))
        );
        assert_eq!(
            parse_time("2026-11-25T23:52:10.250-05:00"),
            Ok(Timestamp(1_795_668_730))
        );
        // Outside the periods a disk can answer (2000-01 to 9998-12): refused.
        for out in [
            "1970-01-01T00:00:00Z",
            "0",
            "18446744073709551615",
            "9999-06-01T00:00:00Z",
        ] {
            let e = parse_time(out).unwrap_err();
            assert!(
                e.contains("runs from 2000-01-01 to 9998-12-31"),
                "{out}: {e}"
            );
        }
        assert_eq!(
            parse_time("2024-02-29T00:00:00Z"),
            Ok(Timestamp(1_709_164_800))
        );
        for bad in [
            "",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-26 04:52:10",
            "2026-11-26T24:00:00Z",
            "2026-11-26T04:52:10+8:00",
            "1970-01-01T00:00:00+01:00",
            "tomorrow",
            "-5",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bureau_keys_parse_compressed_and_not() {
        let key = taxdisk_protocol::sign::signing_key(&[7; 32]).unwrap();
        let pk = taxdisk_protocol::sign::public_key(&key);
        let hex = hex::encode(pk.to_sec1());
        assert_eq!(parse_bureau_key(&hex), Ok(pk));
        let mut compressed = vec![2 + (pk.y[31] & 1)];
        compressed.extend_from_slice(&pk.x);
        assert_eq!(parse_bureau_key(&hex::encode(compressed)), Ok(pk));
        // Not on the curve, not hex, wrong length.
        let mut off = pk.to_sec1();
        off[64] ^= 1;
        assert!(parse_bureau_key(&hex::encode(off)).is_err());
        assert!(parse_bureau_key("04zz").is_err());
        assert!(parse_bureau_key("0400").is_err());
    }

    #[test]
    fn sizes_durations_and_faults() {
        assert_eq!(parse_size("4M"), Ok(4 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("4X").is_err());
        assert_eq!(parse_duration_secs("2h"), Ok(7200));
        assert_eq!(parse_duration_secs("90"), Ok(90));
        assert!(parse_duration_secs("h").is_err());
        assert_eq!(
            parse_fault_action("delay:250"),
            Ok(FrameFaultAction::DelayAnswer(250))
        );
        assert_eq!(
            parse_fault_action("drop-answer"),
            Ok(FrameFaultAction::DropAnswer)
        );
        assert_eq!(
            parse_fault_action("late-answer"),
            Ok(FrameFaultAction::LateAnswer)
        );
        assert!(parse_fault_action("delay:x").is_err());
    }

    #[test]
    fn serve_needs_a_bureau_source_and_defaults_are_documented() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        assert!(Cli::try_parse_from(["taxdisk-sim", "serve"]).is_err());
        let cli = Cli::try_parse_from([
            "taxdisk-sim",
            "serve",
            "--bureau",
            "127.0.0.1:0",
            "--clock",
            "manual",
            "--start-time",
            "1795668730",
        ])
        .unwrap();
        let Command::Serve(a) = cli.command else {
            panic!("serve expected")
        };
        let cfg = a.to_config(Timestamp(1)).unwrap();
        assert_eq!(cfg.disk_addr.to_string(), DEFAULT_DISK_ADDR);
        assert_eq!(cfg.control_addr.to_string(), DEFAULT_CONTROL_ADDR);
        assert!(!cfg.run_free);
        assert_eq!(cfg.usbip, None);
        assert_eq!(cfg.sim.start_time, Timestamp(1_795_668_730));
        assert_eq!(cfg.sim.flash_bytes, crate::sim::DEFAULT_FLASH_BYTES);
        assert!(matches!(cfg.bureau, BureauSetup::Serve { .. }));
        // --bureau-db needs --bureau; both bureau sources at once are refused.
        let key = taxdisk_protocol::sign::signing_key(&[7; 32]).unwrap();
        let hex = hex::encode(taxdisk_protocol::sign::public_key(&key).to_sec1());
        let serve = |extra: &[&str]| {
            let mut argv = vec!["taxdisk-sim", "serve"];
            argv.extend_from_slice(extra);
            Cli::try_parse_from(argv)
        };
        assert!(serve(&["--bureau-key", &hex]).is_ok());
        // --usbip alone exports on the usbipd port of loopback; an address is taken as given.
        let usbip = |extra: &[&str]| match serve(extra).map(|c| c.command) {
            Ok(Command::Serve(a)) => a.usbip,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            usbip(&["--bureau-key", &hex, "--usbip"]).map(|a| a.to_string()),
            Some(crate::serve::usbip::DEFAULT_USBIP_ADDR.to_string())
        );
        assert_eq!(
            usbip(&["--bureau-key", &hex, "--usbip", "0.0.0.0:4000"]).map(|a| a.to_string()),
            Some("0.0.0.0:4000".to_string())
        );
        // --image given twice: disk 0's image in the config, the rest for start_several.
        match serve(&["--bureau-key", &hex, "--image", "a.img", "--image", "b.img"])
            .map(|c| c.command)
        {
            Ok(Command::Serve(a)) => {
                let cfg = a.to_config(Timestamp(1)).unwrap();
                assert_eq!(cfg.sim.image, Some(PathBuf::from("a.img")));
                assert_eq!(a.more_images(), [PathBuf::from("b.img")]);
            }
            other => panic!("{other:?}"),
        }
        match serve(&["--bureau-key", &hex]).map(|c| c.command) {
            Ok(Command::Serve(a)) => assert!(a.more_images().is_empty()),
            other => panic!("{other:?}"),
        }
        assert!(serve(&["--bureau-key", &hex, "--bureau-db", "x"]).is_err());
        assert!(serve(&["--bureau-key", &hex, "--bureau-seed", "3"]).is_err());
        assert!(serve(&["--bureau-db", "x"]).is_err());
        assert!(serve(&["--bureau", "127.0.0.1:0", "--bureau-db", "x"]).is_ok());
        assert!(serve(&["--bureau-key", &hex, "--bureau", "127.0.0.1:0"]).is_err());
    }
}
