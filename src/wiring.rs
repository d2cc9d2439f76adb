//! How the CLI reaches a disk and a bureau: `--disk sim:PATH | tcp:ADDR | usb[:SERIAL|:BUS.ADDR]`
//! and `--bureau URL` or the embedded bureau (the real HTTP server on 127.0.0.1 port 0 inside
//! this process, with its state in the data folder), so every command talks to the bureau
//! through the same client.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use taxdisk_device_sim::bureau::db::Store;
use taxdisk_device_sim::bureau::{Bureau, BureauServer, spawn};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::disk::DiskClient;
use taxdisk_host::transport::Transport;
use taxdisk_host::transport::inproc::{InProcess, Shared};
use taxdisk_host::transport::tcp::TcpTransport;
use taxdisk_host::transport::usb::{UsbSelector, UsbTransport};
use taxdisk_i18n::{Localize, t};
use taxdisk_protocol::Timestamp;
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::types::DeviceSerial;

/// The serial of the disk the CLI manufactures for `sim:` when the image is new.
pub const DEFAULT_SERIAL: &str = "661100000001";

/// Where the disk is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskSpec {
    /// In-process simulator with a persistent flash image.
    Sim(PathBuf),
    /// `taxdisk-sim serve` or any server speaking the frames over TCP.
    Tcp(String),
    /// A disk on USB.
    Usb(UsbSelector),
}

/// A `--disk` value that is not one of the forms.
#[derive(Debug, thiserror::Error)]
#[error("{}", taxdisk_i18n::t!("cli-bad-disk", value = format!("{:?}", .0)))]
pub struct BadDiskSpec(String);

impl std::str::FromStr for DiskSpec {
    type Err = BadDiskSpec;
    fn from_str(s: &str) -> Result<DiskSpec, BadDiskSpec> {
        let bad = || BadDiskSpec(s.to_owned());
        let (scheme, rest) = s.split_once(':').unwrap_or((s, ""));
        match scheme {
            "sim" if !rest.is_empty() => Ok(DiskSpec::Sim(PathBuf::from(rest))),
            "tcp" if rest.contains(':') => Ok(DiskSpec::Tcp(rest.to_owned())),
            "usb" if rest.is_empty() => Ok(DiskSpec::Usb(UsbSelector::First)),
            "usb" => match rest.split_once('.') {
                Some((b, a)) => match (b.parse(), a.parse()) {
                    (Ok(bus), Ok(address)) => {
                        Ok(DiskSpec::Usb(UsbSelector::BusAddress { bus, address }))
                    }
                    _ => Err(bad()),
                },
                None => Ok(DiskSpec::Usb(UsbSelector::Serial(rest.to_owned()))),
            },
            _ => Err(bad()),
        }
    }
}

/// Failures while wiring.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    /// The data folder cannot be made.
    #[error("data folder {path}: {source}")]
    Data {
        /// Folder.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The bureau could not be started or reached.
    #[error("{0}")]
    Bureau(String),
    /// The simulator failed to open its image.
    #[error("simulated disk: {0}")]
    Sim(String),
    /// The transport could not reach the disk.
    #[error("{0}")]
    Transport(String),
    /// Another process holds what this command needs.
    #[error("{0}")]
    Busy(String),
}

/// The clock of the CLI's in-process disk and embedded bureau: the system clock moved by an
/// offset that a data folder keeps (`DATA/clock`), so a disk started at an explicit time
/// (`taxdisk --start-time 2026-12-31T23:30:00+08:00 ...`) keeps running from there across
/// commands, as a real disk's clock runs on between sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimClock {
    offset: i64,
}

impl SimClock {
    /// The file in a data folder that keeps the offset.
    pub const FILE: &'static str = "clock";

    /// The system clock, unmoved.
    pub fn system() -> SimClock {
        SimClock::default()
    }

    /// A clock that reads `start` now and runs on with real time.
    pub fn starting_at(start: Timestamp) -> SimClock {
        SimClock {
            offset: start.secs_since(Timestamp::now()),
        }
    }

    /// The clock of `data`: started at `start` when given (and kept in the folder for the
    /// commands after this one), else the one the folder keeps, else the system clock.
    pub fn for_data(data: &Path, start: Option<Timestamp>) -> Result<SimClock, WiringError> {
        let file = data.join(Self::FILE);
        if let Some(t) = start {
            let clock = SimClock::starting_at(t);
            make_data_folder(data)?;
            std::fs::write(&file, format!("{}\n", clock.offset)).map_err(|source| {
                WiringError::Data {
                    path: file.clone(),
                    source,
                }
            })?;
            return Ok(clock);
        }
        match std::fs::read_to_string(&file) {
            Ok(text) => text
                .trim()
                .parse::<i64>()
                .map(|offset| SimClock { offset })
                .map_err(|_| {
                    WiringError::Sim(format!(
                        "{}: not a clock offset in seconds (delete it to use the system clock, or give --start-time)",
                        file.display()
                    ))
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SimClock::system()),
            Err(source) => Err(WiringError::Data { path: file, source }),
        }
    }

    /// Seconds this clock runs ahead of the system clock (behind when negative).
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// The time now by this clock.
    pub fn now(&self) -> Timestamp {
        Timestamp::now().shifted(self.offset)
    }
}

/// Makes file `path` readable and writable by its owner only (0600): the data folder's
/// `disk.img` (key material), `bureau.db` (the bureau's secret) and `session` (the login
/// token). Where it cannot (not the owner, not there yet, not a file), nothing changes.
pub fn owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

/// Makes the data folder (and its parents) where missing, the folder itself readable by its
/// owner only (0700) from its creation. A folder that exists (`--data .`) keeps its mode:
/// only what this program creates is made private.
pub fn make_data_folder(data: &Path) -> Result<(), WiringError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data)
        .map_err(|source| WiringError::Data {
            path: data.to_owned(),
            source,
        })
}

/// How long a command waits for another command on the same data folder to finish.
pub const DATA_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long the in-process disk waits for another process to release its image.
pub const IMAGE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The data folder held by this command: an exclusive OS lock on `DATA/lock` (which names
/// the holder's process id) for as long as the value lives. Commands on one data folder run
/// one at a time, so two of them can never interleave their store and disk work (D13, H8).
#[derive(Debug)]
pub struct DataLock {
    _file: std::fs::File,
}

/// Locks `data` for this process, waiting up to `wait` for another command to finish.
pub fn lock_data_folder(data: &Path, wait: std::time::Duration) -> Result<DataLock, WiringError> {
    use std::io::{Seek, Write};
    let path = data.join("lock");
    let io = |source| WiringError::Data {
        path: path.clone(),
        source,
    };
    make_data_folder(data)?;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .map_or_else(|| "another process".to_owned(), |p| format!("process {p}"));
                return Err(WiringError::Busy(format!(
                    "the data folder {} is in use by {holder} (another taxdisk command); waited {} s",
                    data.display(),
                    wait.as_secs()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    Ok(DataLock { _file: file })
}

/// What a command holds of its data folder besides the disk client: the in-process
/// simulator (when `sim:`), the bureau link (and the embedded server) and, dropped last, the
/// folder's lock (fields drop in order).
#[derive(Debug)]
pub struct FolderHold {
    _sim: Option<SimHandle>,
    bureau: BureauLink,
    _lock: DataLock,
}

impl FolderHold {
    /// The bureau client every command uses.
    pub fn bureau(&self) -> &BureauClient {
        &self.bureau.client
    }
}

/// Opens the disk of a data folder for one command: the folder made and locked
/// ([`lock_data_folder`]), its bureau
/// (embedded or `bureau_url`) on `clock`, the disk with the folder's host session. What must
/// be held as long as the client is used comes first, so that `let (_held, disk) = ...` drops
/// the client before it.
pub fn open_folder_disk(
    data: &Path,
    spec: &DiskSpec,
    bureau_spec: &BureauSpec,
    clock: SimClock,
) -> Result<(FolderHold, Disk), WiringError> {
    let lock = lock_data_folder(data, DATA_LOCK_WAIT)?;
    let link = bureau(bureau_spec, data, clock)?;
    let (mut disk, sim) = open_disk(spec, || bureau_key(&link, data), clock)?;
    use_folder_session(&mut disk, data)?;
    Ok((
        FolderHold {
            _sim: sim,
            bureau: link,
            _lock: lock,
        },
        disk,
    ))
}

/// The embedded bureau: its state in `db` (a SQLite file, made owner-only, or PostgreSQL),
/// served on 127.0.0.1 port 0, its clock `clock`.
pub fn embedded_bureau(db: &Store, clock: SimClock) -> Result<BureauServer, WiringError> {
    let embedded =
        |e: &dyn std::fmt::Display| WiringError::Bureau(format!("embedded bureau ({db}): {e}"));
    // The key is drawn at random when the state is first made and kept in it: no two data
    // folders share a bureau secret (unless they share its database).
    let mut b = Bureau::open_store(db, None).map_err(|e| embedded(&e))?;
    if let Store::File(path) = db {
        for f in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(f);
            owner_only(Path::new(&name));
        }
    }
    b.set_clock_offset(clock.offset());
    let addr = "127.0.0.1:0"
        .parse()
        .map_err(|_| embedded(&"bad loopback address"))?;
    spawn(b, addr).map_err(|e| embedded(&e))
}

/// A connected bureau: the client, and the embedded server when there is one (kept alive).
#[derive(Debug)]
pub struct BureauLink {
    /// The client every command uses.
    pub client: BureauClient,
    /// The embedded server, when `--bureau` was not given; held so it lives as long as the
    /// link.
    pub _server: Option<BureauServer>,
}

/// Which bureau the commands talk to, and as whom.
#[derive(Clone, Debug, Default)]
pub struct BureauSpec {
    /// Its URL; `None` runs the embedded bureau.
    pub url: Option<String>,
    /// A file holding its administrator (tax office) token, for the tax office's steps.
    pub admin_token_file: Option<PathBuf>,
    /// The embedded bureau's state (a SQLite file or a `postgres://` URL); `None` is
    /// `DATA/bureau.db`.
    pub db: Option<PathBuf>,
}

/// The administrator token kept in `path` (one line).
pub fn read_admin_token(path: &Path) -> Result<String, WiringError> {
    let t = std::fs::read_to_string(path).map_err(|source| WiringError::Data {
        path: path.to_owned(),
        source,
    })?;
    let t = t.trim();
    if t.is_empty() {
        return Err(WiringError::Bureau(format!(
            "{}: the administrator token file is empty",
            path.display()
        )));
    }
    Ok(t.to_owned())
}

/// Connects to the bureau at `spec.url` (with its administrator token when a file names
/// one), or starts the embedded bureau with its state under `data` and its clock `clock`:
/// this process then is the tax office too and holds that server's administrator token.
pub fn bureau(spec: &BureauSpec, data: &Path, clock: SimClock) -> Result<BureauLink, WiringError> {
    match &spec.url {
        Some(u) => {
            let admin = spec
                .admin_token_file
                .as_deref()
                .map(read_admin_token)
                .transpose()?;
            Ok(BureauLink {
                client: BureauClient::new(u)
                    .map_err(|e| WiringError::Bureau(e.to_string()))?
                    .with_admin_token(admin),
                _server: None,
            })
        }
        None => {
            let db = spec
                .db
                .as_deref()
                .map_or_else(|| Store::File(data.join("bureau.db")), Store::from_arg);
            let server = embedded_bureau(&db, clock)?;
            let client = BureauClient::new(&server.url())
                .map_err(|e| WiringError::Bureau(e.to_string()))?
                .with_admin_token(Some(server.admin_token().to_owned()));
            Ok(BureauLink {
                client,
                _server: Some(server),
            })
        }
    }
}

/// The file of a data folder that keeps the bureau's public key from the last time the bureau
/// answered (SEC1 hex).
pub const BUREAU_KEY_FILE: &str = "bureau-key";

/// The bureau key a `sim:` disk is manufactured with: the bureau's as its health answer says,
/// kept in `DATA/bureau-key`; while the bureau is unreachable, the kept one, so that the disk
/// opens and invoicing goes on offline within its limits (D9, FAQ 4.13). Says so in one line
/// on stderr when it works offline.
pub fn bureau_key(
    link: &BureauLink,
    data: &Path,
) -> Result<taxdisk_protocol::types::PublicKey, WiringError> {
    use taxdisk_protocol::types::PublicKey;
    let file = data.join(BUREAU_KEY_FILE);
    match link.client.health() {
        Ok(h) => {
            let text = hex::encode(h.public_key.to_sec1());
            if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
                std::fs::write(&file, &text).map_err(|source| WiringError::Data {
                    path: file.clone(),
                    source,
                })?;
            }
            Ok(h.public_key)
        }
        Err(e) => {
            let kept = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| hex::decode(t.trim()).ok())
                .and_then(|b| PublicKey::from_sec1(&b));
            match kept {
                Some(k) => {
                    eprintln!("{}", t!("cli-bureau-offline", error = e.localized()));
                    Ok(k)
                }
                None => Err(WiringError::Bureau(t!(
                    "cli-bureau-never-reached",
                    error = e.localized()
                ))),
            }
        }
    }
}

/// The dynamic disk client every command uses.
pub type Disk = DiskClient<Box<dyn Transport + Send>>;

/// An opened in-process simulator, shared so the CLI can also drive its clock.
pub type SimHandle = Arc<Mutex<SimDisk>>;

/// Opens the disk named by `spec`. For `sim:` the disk is manufactured with the key
/// `bureau_key` answers (asked only then: a served or USB disk knows its bureau), its clock
/// runs free from `clock`'s time, and the returned handle drives it.
pub fn open_disk(
    spec: &DiskSpec,
    bureau_key: impl FnOnce() -> Result<taxdisk_protocol::types::PublicKey, WiringError>,
    clock: SimClock,
) -> Result<(Disk, Option<SimHandle>), WiringError> {
    match spec {
        DiskSpec::Sim(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                make_data_folder(dir)?;
            }
            let serial =
                DeviceSerial::new(DEFAULT_SERIAL).map_err(|e| WiringError::Sim(e.to_string()))?;
            let mut cfg = SimConfig::new(serial, bureau_key()?, clock.now());
            // The disk draws its key pair at provisioning from this seed: random, so no two
            // installs share a disk key (the key then lives in the image, 0600).
            cfg.seed = rand::random();
            cfg.image = Some(path.clone());
            cfg.image_lock_wait = IMAGE_LOCK_WAIT;
            let mut sim = SimDisk::new(cfg).map_err(|e| WiringError::Sim(e.to_string()))?;
            owner_only(path);
            sim.control(ControlRequest::RunFree(true));
            let (shared, handle) = Shared::new(sim);
            let t: Box<dyn Transport + Send> = Box::new(InProcess::new(shared));
            Ok((DiskClient::new(t), Some(handle)))
        }
        DiskSpec::Tcp(addr) => {
            let t =
                TcpTransport::connect(addr).map_err(|e| WiringError::Transport(e.to_string()))?;
            Ok((
                DiskClient::new(Box::new(t) as Box<dyn Transport + Send>),
                None,
            ))
        }
        DiskSpec::Usb(sel) => {
            let t = UsbTransport::open(sel.clone())
                .map_err(|e| WiringError::Transport(e.to_string()))?;
            Ok((
                DiskClient::new(Box::new(t) as Box<dyn Transport + Send>),
                None,
            ))
        }
    }
}

/// Gives `client` the host session id of the data folder (`DATA/disk-session`, made at first
/// use): every command of one folder is one host session to a served disk, so a disk still
/// holding the login of the previous command answers it, and another folder (another
/// program) gets Busy (D14).
pub fn use_folder_session(client: &mut Disk, data: &Path) -> Result<(), WiringError> {
    let id_file = data.join("disk-session");
    let session = match std::fs::read_to_string(&id_file)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
    {
        Some(id) if id != 0 => id,
        _ => {
            let id = rand::random::<u32>() | 1;
            std::fs::write(&id_file, id.to_string()).map_err(|source| WiringError::Data {
                path: id_file.clone(),
                source,
            })?;
            id
        }
    };
    let mut cfg = client.config().clone();
    cfg.session = Some(session);
    client.set_config(cfg);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_specs_parse_or_say_what_is_wrong() {
        assert_eq!(
            "sim:/tmp/d.img".parse::<DiskSpec>().unwrap(),
            DiskSpec::Sim("/tmp/d.img".into())
        );
        assert_eq!(
            "tcp:127.0.0.1:7461".parse::<DiskSpec>().unwrap(),
            DiskSpec::Tcp("127.0.0.1:7461".into())
        );
        assert_eq!(
            "usb".parse::<DiskSpec>().unwrap(),
            DiskSpec::Usb(UsbSelector::First)
        );
        assert_eq!(
            "usb:ABC123".parse::<DiskSpec>().unwrap(),
            DiskSpec::Usb(UsbSelector::Serial("ABC123".into()))
        );
        assert_eq!(
            "usb:1.4".parse::<DiskSpec>().unwrap(),
            DiskSpec::Usb(UsbSelector::BusAddress { bus: 1, address: 4 })
        );
        for bad in ["", "sim:", "tcp:nohost", "floppy:a", "usb:1.x"] {
            let e = bad.parse::<DiskSpec>().unwrap_err().to_string();
            assert!(e.contains("expected sim:PATH"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_data_folder_keeps_its_clock_across_commands() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            SimClock::for_data(dir.path(), None).unwrap(),
            SimClock::system()
        );
        let start = Timestamp::cst(2031, 12, 31, 23, 30);
        let c = SimClock::for_data(dir.path(), Some(start)).unwrap();
        assert!(c.now().0.abs_diff(start.0) <= 2, "{}", c.now());
        // The next command of the folder reads the same clock, running on.
        let again = SimClock::for_data(dir.path(), None).unwrap();
        assert!(again.now().0.abs_diff(start.0) <= 2);
        std::fs::write(dir.path().join(SimClock::FILE), "soon").unwrap();
        let e = SimClock::for_data(dir.path(), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a clock offset"), "{e}");
    }
}
