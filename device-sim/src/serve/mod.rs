//! The TCP server of `taxdisk-sim serve`: one [`SimDisk`] (or several, one per image:
//! [`Server::start_several`]) answering the disk protocol on one port and the simulator's
//! control channel on another, optionally with the simulated bureau's HTTP API in the same
//! process.
//!
//! ```text
//!  host / bench ──TCP: COBS frames (Request ⇄ Response)──────► disk port ─┐
//!  host / bench ──TCP: COBS frames (ControlRequest ⇄ ControlResponse)► control port ─┤
//!                                                                        ▼
//!                                        Mutex<SimDisk> (one frame at a time; D14 sessions)
//!                                                                        │
//!                                                           flash image file (--image)
//!  bench PC ──USB/IP (--usbip): bulk OUT 0x01 / IN 0x81, same frames ──► usbip port ─┘
//! ```
//!
//! - [`disk`]: the disk-protocol port. Bytes are cut into frames at their `0x00` delimiters and
//!   every frame is handed, as received, to [`taxdisk_protocol::FrameHandler::handle_frame`].
//!   Bad frames get no answer (as from the real disk) and never end the connection.
//! - [`control`]: the control port; the wire and its codec are `taxdisk_protocol::control`'s.
//! - [`client`]: [`ControlClient`], a blocking client of the control port (tests, the CLI).
//! - [`args`]: the command line of the `taxdisk-sim` binary, and its parsers.
//! - [`shutdown`]: waiting for SIGINT/SIGTERM.
//! - [`usbip`]: with `--usbip ADDR`, the same disks exported as USB devices over USB/IP (bus
//!   ids `1-1`, `1-2`, …); their bulk frames take the disk port's path to the disk (same lock,
//!   sessions and faults).
//!
//! Connections are served by one thread each (at most [`MAX_CONNECTIONS`] per port: a new one
//! past that closes the port's oldest, and a disk connection silent for [`IDLE_TIMEOUT`] is
//! closed, so idle connections never lock a client out); the disk is shared behind a mutex, so
//! frames from several connections are handled one after the other and the firmware's own
//! session rule (D14) decides who may do what.
//!
//! Sessions on TCP (our choice, D14): a login belongs to the host session id in the frames,
//! not to the TCP connection. It lasts until Logout, a power cycle or an unplug (which, as on
//! a USB disk, logs out), so a program whose commands run as separate processes keeps one host
//! session across connections (the CLI's per-data-folder session). The session id is a 32-bit
//! random number the host chooses: a peer that can reach the port and guesses it acts in that
//! session, as a program on the PC of a USB disk could; keep the port on loopback or a bench
//! network. [`Server::shutdown`]
//! waits for the frame in progress, takes the disk away from every connection and syncs the
//! flash image to stable storage, so nothing answered is lost.

pub mod args;
pub mod client;
pub mod control;
pub mod disk;
pub mod shutdown;
pub mod usbip;

mod accept;
pub use accept::IDLE_TIMEOUT;

pub use client::{ControlClient, ControlClientError};

use crate::bureau::{Bureau, BureauError, BureauServer};
use crate::sim::{SimConfig, SimDisk, SimError};
use serde::Serialize;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use taxdisk_protocol::Timestamp;
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::types::{DeviceSerial, PublicKey};

/// Most connections served at once on each port; more are closed at once.
pub const MAX_CONNECTIONS: usize = 64;

/// Default address of the disk-protocol port.
pub const DEFAULT_DISK_ADDR: &str = "127.0.0.1:7461";
/// Default address of the control port.
pub const DEFAULT_CONTROL_ADDR: &str = "127.0.0.1:7462";
/// Default address of the bureau's HTTP API in `taxdisk-sim bureau`.
pub const DEFAULT_BUREAU_ADDR: &str = "127.0.0.1:7463";

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The simulated disk could not be built (image file, flash size).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The bureau could not be opened or started.
    #[error(transparent)]
    Bureau(#[from] BureauError),
    /// Syncing the flash image to stable storage failed.
    #[error("syncing flash image {path}: {source}")]
    Sync {
        /// The image file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// Several disks cannot be laid out as asked (ports, serials).
    #[error("several disks: {0}")]
    Disks(String),
    /// The USB/IP export could not start.
    #[error(transparent)]
    Usbip(#[from] usbip::UsbipError),
    /// Another I/O failure of the server (starting a thread, reading an address).
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Where the bureau key of the disk comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BureauSetup {
    /// The disk is manufactured with this key; no bureau runs here.
    Key(PublicKey),
    /// Start the simulated bureau's HTTP API on `addr` (state in `db`, in memory if `None`) and
    /// manufacture the disk with its key.
    Serve {
        /// Address of the HTTP API.
        addr: SocketAddr,
        /// SQLite state file (created if missing).
        db: Option<PathBuf>,
        /// Seed of the bureau key at the first open of its state.
        seed: Option<u64>,
        /// Where the administrator token is kept (a new one on stderr if `None`).
        admin_token_file: Option<PathBuf>,
    },
}

/// Everything [`Server::start`] needs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The disk: serial, seed, start time, flash size, image, latency. Its `bureau_key` is
    /// replaced by the bureau's when [`ServeConfig::bureau`] is [`BureauSetup::Serve`].
    pub sim: SimConfig,
    /// Whether the disk clock follows real time from the start.
    pub run_free: bool,
    /// Address of the disk-protocol port (port 0: any free port).
    pub disk_addr: SocketAddr,
    /// Address of the control port (port 0: any free port).
    pub control_addr: SocketAddr,
    /// The bureau key, or a bureau to start.
    pub bureau: BureauSetup,
    /// Also export the disks as USB devices over USB/IP on this address (port 0: any free
    /// port), bus ids `1-1`, `1-2`, …
    pub usbip: Option<SocketAddr>,
}

/// The bound addresses, as `--print-ports` prints them (one JSON line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ports {
    /// The disk-protocol port.
    pub disk: SocketAddr,
    /// The control port.
    pub control: SocketAddr,
    /// Base URL of the bureau's HTTP API, when one runs in this process.
    pub bureau: Option<String>,
    /// The bureau public key the disk verifies tokens with, SEC1 uncompressed, hex.
    pub bureau_key: String,
    /// The USB/IP port, when the disks are exported there (disk 0's bus id is `1-1`).
    pub usbip: Option<SocketAddr>,
    /// Every disk, disk 0 first (`disk` and `control` above are disk 0's).
    pub disks: Vec<DiskPorts>,
}

/// One disk of the server, as `--print-ports` names it in `disks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiskPorts {
    /// Its device serial (F6), also its USB serial string.
    pub serial: String,
    /// Its disk-protocol port.
    pub disk: SocketAddr,
    /// Its control port.
    pub control: SocketAddr,
    /// Its bus id on the USB/IP port (`1-1`, `1-2`, …), with `--usbip`.
    pub bus_id: Option<String>,
}

/// The address of disk `i`'s port whose disk 0 is on `base`: port 0 (any free port) for every
/// disk, else `base`'s port `+ i`.
pub fn nth_addr(base: SocketAddr, i: usize) -> Result<SocketAddr, ServeError> {
    if base.port() == 0 {
        return Ok(base);
    }
    let port = u16::try_from(usize::from(base.port()) + i).map_err(|_| {
        ServeError::Disks(format!("no port {} + {i} for disk {}", base.port(), i + 1))
    })?;
    Ok(SocketAddr::new(base.ip(), port))
}

/// Refuses disk and control port ranges (`+ 0` to `+ n - 1`, [`nth_addr`]) that overlap.
fn check_port_ranges(disk: SocketAddr, control: SocketAddr, n: usize) -> Result<(), ServeError> {
    let (d, c) = (usize::from(disk.port()), usize::from(control.port()));
    if n > 1 && d != 0 && c != 0 && d.abs_diff(c) < n {
        return Err(ServeError::Disks(format!(
            "{n} disks take disk ports {d} to {} and control ports {c} to {}, which overlap: \
             give --control a port at least {n} away from --listen's, or port 0 to both",
            d + n - 1,
            c + n - 1
        )));
    }
    Ok(())
}

/// The serial of disk `i`: `base + i`, still 12 digits.
fn nth_serial(base: &DeviceSerial, i: usize) -> Result<DeviceSerial, ServeError> {
    let too_far = || ServeError::Disks(format!("serial {base} + {i} is past 999999999999"));
    let n: u64 = base.as_str().parse().map_err(|_| too_far())?;
    let next = n.checked_add(i as u64).ok_or_else(too_far)?;
    DeviceSerial::new(&format!("{next:012}")).map_err(|_| too_far())
}

/// The disk as the connections share it. `None` once the server shut down: connections that
/// find it gone close.
pub(crate) type SharedDisk = Arc<Mutex<Option<SimDisk>>>;

/// Waits out `owed` (a delay fault's, [`SimDisk::take_owed_delay`]) without holding the disk, in
/// steps, so that a stopping server (the disk taken out of `disk`) is not kept waiting.
pub(crate) fn wait_owed(disk: &Mutex<Option<SimDisk>>, owed: Duration) {
    let until = Instant::now() + owed;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || lock_disk(disk).is_none() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// Locks the shared disk. A connection thread that panicked while holding the lock (a firmware
/// bug) leaves RAM state that cannot be trusted: the disk is power-cycled, which rebuilds it from
/// the flash, as a real disk's watchdog reset would.
pub(crate) fn lock_disk(disk: &Mutex<Option<SimDisk>>) -> MutexGuard<'_, Option<SimDisk>> {
    match disk.lock() {
        Ok(g) => g,
        Err(poisoned) => {
            disk.clear_poison();
            let mut g = poisoned.into_inner();
            tracing::error!("{}", taxdisk_i18n::t!("log-connection-panicked"));
            if let Some(d) = g.as_mut() {
                d.power_cycle();
            }
            g
        }
    }
}

/// One served disk: the disk, its image file and the connections of its two ports.
#[derive(Debug)]
struct Served {
    disk: SharedDisk,
    image: Option<PathBuf>,
    conns: [Arc<accept::Connections>; 2],
}

/// A running `taxdisk-sim serve`: its disks, two ports each, maybe the USB/IP export and the
/// bureau.
#[derive(Debug)]
pub struct Server {
    ports: Ports,
    disks: Vec<Served>,
    stop: Arc<AtomicBool>,
    listeners: Vec<JoinHandle<()>>,
    bureau: Option<BureauServer>,
    usbip: Option<usbip::UsbipExport>,
}

impl Server {
    /// Builds the disk (opening or creating its image), starts the bureau if asked, binds both
    /// ports and serves them from background threads.
    pub fn start(cfg: ServeConfig) -> Result<Server, ServeError> {
        Server::start_several(cfg, &[])
    }

    /// [`Server::start`] with one more disk per image of `more` (`--image` given several
    /// times): disk `i` (from 0, `cfg.sim` being disk 0) has serial `cfg.sim.serial + i` and
    /// seed `cfg.sim.seed + i`, its own two ports ([`nth_addr`]: port 0 stays 0, any other is
    /// `+ i`) and bus id `1-(i+1)` on the one USB/IP port. The bureau, if one runs here, is
    /// shared: every disk is manufactured with its key.
    pub fn start_several(cfg: ServeConfig, more: &[PathBuf]) -> Result<Server, ServeError> {
        let n = 1 + more.len();
        check_port_ranges(cfg.disk_addr, cfg.control_addr, n)?;
        let mut base = cfg.sim;
        let bureau = match &cfg.bureau {
            BureauSetup::Key(k) => {
                base.bureau_key = *k;
                None
            }
            BureauSetup::Serve {
                addr,
                db,
                seed,
                admin_token_file,
            } => {
                let admin = crate::bureau::access::admin_token_or_new(admin_token_file.as_deref())?;
                let mut b = Bureau::open(db.as_deref(), *seed)?;
                // One clock: the bureau served here starts where the disk's clock starts
                // (`--start-time`) and runs on with real time.
                b.set_clock_offset(base.start_time.secs_since(Timestamp::now()));
                base.bureau_key = b.public_key();
                Some(crate::bureau::spawn_with_admin(b, *addr, admin)?)
            }
        };
        let bureau_key = hex::encode(base.bureau_key.to_sec1());
        let bind = |addr: SocketAddr| {
            TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr, source })
        };
        let mut disks = Vec::with_capacity(n);
        let mut bound = Vec::with_capacity(n);
        let mut exported = Vec::with_capacity(n);
        let mut disk_ports = Vec::with_capacity(n);
        for i in 0..n {
            let mut sim = base.clone();
            sim.serial = nth_serial(&base.serial, i)?;
            sim.seed = base.seed.wrapping_add(i as u64);
            if i > 0 {
                sim.image = Some(more[i - 1].clone());
            }
            let image = sim.image.clone();
            let serial = sim.serial.as_str().to_owned();
            let mut disk = SimDisk::new(sim)?;
            let plug = disk.plug_events();
            // One clock: the bureau served here follows the disk's when the bench moves it
            // (with several disks, the one moved last).
            if let Some(b) = &bureau {
                let clock = crate::bureau::http::lock(&b.bureau()).clock_view();
                disk.follow_clock(move |t| clock.follow(t));
            }
            // A delayed answer is waited out by its connection, not with the disk locked.
            disk.defer_delays(true);
            if cfg.run_free {
                disk.control(ControlRequest::RunFree(true));
            }
            let disk: SharedDisk = Arc::new(Mutex::new(Some(disk)));
            let disk_listener = bind(nth_addr(cfg.disk_addr, i)?)?;
            let control_listener = bind(nth_addr(cfg.control_addr, i)?)?;
            disk_ports.push(DiskPorts {
                serial: serial.clone(),
                disk: disk_listener.local_addr()?,
                control: control_listener.local_addr()?,
                bus_id: cfg.usbip.map(|_| usbip::bus_id(i)),
            });
            exported.push(usbip::ExportedDisk {
                disk: disk.clone(),
                serial,
                plug,
            });
            bound.push((disk_listener, control_listener));
            disks.push(Served {
                disk,
                image,
                conns: Default::default(),
            });
        }
        let usbip = match cfg.usbip {
            Some(addr) => Some(usbip::UsbipExport::start(addr, exported)?),
            None => None,
        };
        let ports = Ports {
            disk: disk_ports[0].disk,
            control: disk_ports[0].control,
            bureau: bureau.as_ref().map(BureauServer::url),
            bureau_key,
            usbip: usbip.as_ref().map(usbip::UsbipExport::addr),
            disks: disk_ports,
        };
        let mut server = Server {
            ports,
            disks,
            stop: Arc::new(AtomicBool::new(false)),
            listeners: Vec::with_capacity(2 * n),
            bureau,
            usbip,
        };
        // If a thread cannot start, dropping `server` stops the ones started.
        for (i, (disk_listener, control_listener)) in bound.into_iter().enumerate() {
            for (name, listener, serve, port) in [
                (
                    "disk",
                    disk_listener,
                    disk::serve_connection as accept::ConnFn,
                    0,
                ),
                ("control", control_listener, control::serve_connection, 1),
            ] {
                let handle = accept::spawn(
                    name,
                    listener,
                    server.disks[i].disk.clone(),
                    server.stop.clone(),
                    server.disks[i].conns[port].clone(),
                    serve,
                )?;
                server.listeners.push(handle);
            }
        }
        for d in &server.ports.disks {
            tracing::info!(serial = %d.serial, disk = %d.disk, control = %d.control, bus_id = ?d.bus_id, "{}", taxdisk_i18n::t!("log-serving"));
        }
        let p = &server.ports;
        tracing::info!(bureau = ?p.bureau, usbip = ?p.usbip, "{}", taxdisk_i18n::t!("log-serving"));
        Ok(server)
    }

    /// The bound addresses.
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// The disk-protocol address.
    pub fn disk_addr(&self) -> SocketAddr {
        self.ports.disk
    }

    /// The control address.
    pub fn control_addr(&self) -> SocketAddr {
        self.ports.control
    }

    /// Runs a control request in-process on disk 0, as its control port would (`None` after
    /// shutdown).
    pub fn control(&self, req: ControlRequest) -> Option<ControlResponse> {
        self.control_disk(0, req)
    }

    /// Runs a control request in-process on disk `i` (`None` after shutdown or if there is no
    /// such disk).
    pub fn control_disk(&self, i: usize, req: ControlRequest) -> Option<ControlResponse> {
        let d = self.disks.get(i)?;
        lock_disk(&d.disk).as_mut().map(|d| d.control(req))
    }

    /// Stops the server: no new connection is accepted, the frame in progress finishes, the
    /// disk is taken away from every connection and the open connections are shut down, the
    /// flash image is synced to stable storage and the bureau stops after its requests in
    /// flight.
    pub fn shutdown(mut self) -> Result<(), ServeError> {
        self.stop_all()
    }

    fn stop_all(&mut self) -> Result<(), ServeError> {
        if self.stop.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        for d in &self.ports.disks {
            accept::wake(d.disk);
            accept::wake(d.control);
        }
        for h in self.listeners.drain(..) {
            if h.join().is_err() {
                tracing::error!("{}", taxdisk_i18n::t!("log-listener-panicked"));
            }
        }
        for d in &self.disks {
            // Waits for the frame in progress; later frames find no disk. Dropping the disk
            // closes the image file; every program and erase was already written to it, so
            // only the sync to stable storage is left.
            drop(lock_disk(&d.disk).take());
            for c in &d.conns {
                c.close_all();
            }
        }
        if let Some(mut u) = self.usbip.take() {
            u.shutdown();
        }
        if let Some(b) = self.bureau.take() {
            b.shutdown();
        }
        // Every image is synced, even after one failed; the first failure is told.
        let mut result = Ok(());
        for d in &mut self.disks {
            if let Some(path) = d.image.take()
                && let Err(e) = sync_image(&path)
            {
                tracing::error!(error = %e, "{}", taxdisk_i18n::t!("log-shutdown"));
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        result
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Err(e) = self.stop_all() {
            tracing::error!(error = %e, "{}", taxdisk_i18n::t!("log-server-shutdown"));
        }
    }
}

/// Flushes the image file and its directory entry to stable storage.
pub fn sync_image(path: &Path) -> Result<(), ServeError> {
    let err = |source| ServeError::Sync {
        path: path.to_owned(),
        source,
    };
    // fsync applies to the file, whichever descriptor asks.
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.sync_all())
        .map_err(err)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_disks_take_consecutive_ports_and_serials() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(nth_addr(a("127.0.0.1:0"), 3).unwrap(), a("127.0.0.1:0"));
        assert_eq!(
            nth_addr(a("127.0.0.1:7461"), 2).unwrap(),
            a("127.0.0.1:7463")
        );
        assert!(nth_addr(a("127.0.0.1:65535"), 1).is_err());
        // Disk ports 7461-7462 and control ports 7462-7463 overlap; 10 apart do not.
        assert!(check_port_ranges(a("127.0.0.1:7461"), a("127.0.0.1:7462"), 2).is_err());
        assert!(check_port_ranges(a("127.0.0.1:7461"), a("127.0.0.1:7462"), 1).is_ok());
        assert!(check_port_ranges(a("127.0.0.1:7461"), a("127.0.0.1:7471"), 10).is_ok());
        assert!(check_port_ranges(a("127.0.0.1:7461"), a("127.0.0.1:7471"), 11).is_err());
        assert!(check_port_ranges(a("127.0.0.1:0"), a("127.0.0.1:0"), 5).is_ok());
        let serial = |s: &str| DeviceSerial::new(s).unwrap();
        assert_eq!(
            nth_serial(&serial("661000000001"), 0).unwrap(),
            serial("661000000001")
        );
        assert_eq!(
            nth_serial(&serial("000000000009"), 1).unwrap(),
            serial("000000000010")
        );
        assert!(nth_serial(&serial("999999999999"), 1).is_err());
    }
}
