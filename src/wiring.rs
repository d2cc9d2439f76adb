//! How the CLI reaches a disk and a bureau: `--disk sim:PATH | tcp:ADDR | usb[:SERIAL|:BUS.ADDR]`
//! and `--bureau URL` or the embedded bureau (the real HTTP server on 127.0.0.1 port 0 inside
//! this process, with its state in the data folder), so every command talks to the bureau
//! through the same client.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use taxdisk_device_sim::bureau::{Bureau, BureauServer, spawn};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::disk::DiskClient;
use taxdisk_host::transport::Transport;
use taxdisk_host::transport::inproc::{InProcess, Shared};
use taxdisk_host::transport::tcp::TcpTransport;
use taxdisk_host::transport::usb::{UsbSelector, UsbTransport};
use taxdisk_protocol::Timestamp;
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::types::DeviceSerial;

/// The serial of the disk the CLI manufactures for `sim:` when the image is new.
pub const DEFAULT_SERIAL: &str = "661100000001";
/// Seed of the embedded bureau's key (fixed, so a data folder keeps working across runs).
pub const EMBEDDED_BUREAU_SEED: u64 = 0x7a78_6462_7572_6561;

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
#[error("--disk {0:?}: expected sim:PATH, tcp:HOST:PORT, usb, usb:SERIAL or usb:BUS.ADDRESS")]
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
    /// The embedded bureau failed to start.
    #[error("embedded bureau: {0}")]
    Bureau(String),
    /// The simulator failed to open its image.
    #[error("simulated disk: {0}")]
    Sim(String),
    /// The transport could not reach the disk.
    #[error("{0}")]
    Transport(String),
}

/// The embedded bureau: its state file in the data folder, served on 127.0.0.1 port 0.
pub fn embedded_bureau(db: &Path, time: Option<Timestamp>) -> Result<BureauServer, WiringError> {
    let mut b = Bureau::open(Some(db), Some(EMBEDDED_BUREAU_SEED))
        .map_err(|e| WiringError::Bureau(e.to_string()))?;
    if let Some(t) = time {
        b.set_time(t)
            .map_err(|e| WiringError::Bureau(e.to_string()))?;
    }
    let addr = "127.0.0.1:0"
        .parse()
        .map_err(|_| WiringError::Bureau("bad loopback address".into()))?;
    spawn(b, addr).map_err(|e| WiringError::Bureau(e.to_string()))
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

/// Connects to `url`, or starts the embedded bureau with its state under `data`.
pub fn bureau(url: Option<&str>, data: &Path) -> Result<BureauLink, WiringError> {
    match url {
        Some(u) => Ok(BureauLink {
            client: BureauClient::new(u).map_err(|e| WiringError::Bureau(e.to_string()))?,
            _server: None,
        }),
        None => {
            let server = embedded_bureau(&data.join("bureau.db"), None)?;
            let client =
                BureauClient::new(&server.url()).map_err(|e| WiringError::Bureau(e.to_string()))?;
            Ok(BureauLink {
                client,
                _server: Some(server),
            })
        }
    }
}

/// The bureau key a `sim:` disk is manufactured with: the embedded bureau's, or the remote
/// bureau's as its health answer says.
pub fn bureau_key(link: &BureauLink) -> Result<taxdisk_protocol::types::PublicKey, WiringError> {
    link.client
        .health()
        .map(|h| h.public_key)
        .map_err(|e| WiringError::Bureau(e.to_string()))
}

/// The dynamic disk client every command uses.
pub type Disk = DiskClient<Box<dyn Transport + Send>>;

/// An opened in-process simulator, shared so the CLI can also drive its clock.
pub type SimHandle = Arc<Mutex<SimDisk>>;

/// Opens the disk named by `spec`. For `sim:` the disk is manufactured with `bureau_key`, its
/// clock runs free from the system time, and the returned handle drives it.
pub fn open_disk(
    spec: &DiskSpec,
    bureau_key: taxdisk_protocol::types::PublicKey,
) -> Result<(Disk, Option<SimHandle>), WiringError> {
    match spec {
        DiskSpec::Sim(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| WiringError::Data {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            let serial =
                DeviceSerial::new(DEFAULT_SERIAL).map_err(|e| WiringError::Sim(e.to_string()))?;
            let mut cfg = SimConfig::new(serial, bureau_key, Timestamp::now());
            cfg.image = Some(path.clone());
            let mut sim = SimDisk::new(cfg).map_err(|e| WiringError::Sim(e.to_string()))?;
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
}
