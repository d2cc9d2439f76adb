//! One rig for everything that runs the invoicing software against a simulated disk: a
//! `SimDisk` made against a bureau's key, reached through the link a caller asks for, then
//! either provisioned straight from the bureau ([`provision`], the bench's way) or handed to a
//! [`Workflow`] next to the bureau served over HTTP ([`Rig::into_office`], the demo's and the
//! fault campaign's way).
//!
//! `taxdisk demo`, `taxdisk faults`, `taxdisk bench` and the criterion benches
//! (`benches/common`) all set up through [`RigBuilder`]; what differs between them (seed,
//! serial, flash size and image, the bureau in memory or in a file, its clock, the disk shared
//! in this thread, behind the fault injector, on its own thread or served on TCP) is a builder
//! option. The CLI's data-folder wiring (`--disk`, `--bureau`) is [`crate::wiring`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use taxdisk_device_sim::bureau::{Bureau, BureauServer, spawn};
use taxdisk_device_sim::serve::{BureauSetup, ServeConfig, Server};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::disk::{ClientConfig, DiskClient, DiskError};
use taxdisk_host::store::{Durability, Initialization, Store, StoreError, UserId};
use taxdisk_host::transport::Transport;
use taxdisk_host::transport::inproc::{InProcess, Shared, Threaded};
use taxdisk_host::transport::tcp::TcpTransport;
use taxdisk_host::workflow::Workflow;
use taxdisk_protocol::Timestamp;
use taxdisk_protocol::bureau_api::{
    BuyRolls, KeyRegistered, ProvisionRequest, RegisterKey, RegisterTaxpayer,
};
use taxdisk_protocol::fault::{FaultyHandler, SharedPlan};
use taxdisk_protocol::types::*;

/// The dynamic disk client of a rig.
pub type Disk = DiskClient<Box<dyn Transport + Send>>;

/// The simulator behind a shared link, for a caller that drives its clock or power.
pub type SimHandle = Arc<Mutex<SimDisk>>;

/// What setting up a rig can fail at.
#[derive(Debug, thiserror::Error)]
pub enum RigError {
    /// A value of the set-up is not valid (a serial, a taxpayer id, the PIN).
    #[error("{what}: {message}")]
    Value {
        /// What the value is.
        what: &'static str,
        /// Why it is not valid.
        message: String,
    },
    /// The bureau refused or could not start.
    #[error("bureau: {0}")]
    Bureau(String),
    /// The simulated disk, its server or the link to it failed to start.
    #[error("simulated disk: {0}")]
    Sim(String),
    /// The disk refused a step.
    #[error(transparent)]
    Disk(#[from] DiskError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn value<T, E: std::fmt::Display>(r: Result<T, E>, what: &'static str) -> Result<T, RigError> {
    r.map_err(|e| RigError::Value {
        what,
        message: e.to_string(),
    })
}

/// Where the bureau keeps its state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BureauAt {
    /// In memory, gone with the rig.
    #[default]
    Memory,
    /// A SQLite file (a data folder's `bureau.db`).
    File(PathBuf),
}

/// How the bureau's clock reads the rig's start time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BureauClock {
    /// Its virtual clock set to the start (`POST /admin/time`), kept in its state.
    #[default]
    Set,
    /// The system clock moved by an offset so it reads the start now and runs on.
    RunningFromStart,
}

/// How the host reaches the simulated disk.
#[derive(Clone, Debug, Default)]
pub enum DiskLink {
    /// In this thread behind `Arc<Mutex<_>>`; [`Rig::sim`] holds the simulator for the caller.
    #[default]
    Shared,
    /// In this thread, owned by the transport: no lock, no handle.
    Owned,
    /// As [`DiskLink::Shared`], with `protocol::fault`'s injector in front, run by the plan.
    Faulty(SharedPlan),
    /// On a thread of its own with up to `depth` frames in flight, as a real disk is a
    /// processor of its own: the host composes and stores while it signs.
    Threaded(usize),
    /// Served by `taxdisk_device_sim::serve::Server` on 127.0.0.1 port 0, reached over TCP.
    Served,
}

/// Sets up a [`Rig`]: a simulated disk of serial `serial` made against a fresh bureau.
#[derive(Clone, Debug)]
pub struct RigBuilder {
    serial: String,
    seed: u64,
    bureau_seed: Option<u64>,
    start: Option<Timestamp>,
    flash_bytes: Option<usize>,
    image: Option<PathBuf>,
    bureau: BureauAt,
    bureau_clock: BureauClock,
    link: DiskLink,
    client: Option<ClientConfig>,
}

impl RigBuilder {
    /// A disk of `serial`, seed 0, its clock and the bureau's at the system time, the
    /// simulator's default flash, no image, the bureau in memory, a shared link.
    pub fn new(serial: &str) -> RigBuilder {
        RigBuilder {
            serial: serial.to_owned(),
            seed: 0,
            bureau_seed: None,
            start: None,
            flash_bytes: None,
            image: None,
            bureau: BureauAt::Memory,
            bureau_clock: BureauClock::Set,
            link: DiskLink::Shared,
            client: None,
        }
    }

    /// The seed of the disk's key pair, and of the bureau's key unless
    /// [`RigBuilder::bureau_seed`] sets another.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The seed of the bureau's key, when it is not the disk's.
    pub fn bureau_seed(mut self, seed: u64) -> Self {
        self.bureau_seed = Some(seed);
        self
    }

    /// The time the disk's and the bureau's clocks start at (default: the disk's at now, the
    /// bureau on the system clock).
    pub fn start(mut self, t: Timestamp) -> Self {
        self.start = Some(t);
        self
    }

    /// The size of the disk's flash.
    pub fn flash_bytes(mut self, bytes: usize) -> Self {
        self.flash_bytes = Some(bytes);
        self
    }

    /// A flash image file the disk keeps its state in.
    pub fn image(mut self, path: PathBuf) -> Self {
        self.image = Some(path);
        self
    }

    /// Where the bureau keeps its state.
    pub fn bureau(mut self, at: BureauAt) -> Self {
        self.bureau = at;
        self
    }

    /// How the bureau's clock starts.
    pub fn bureau_clock(mut self, clock: BureauClock) -> Self {
        self.bureau_clock = clock;
        self
    }

    /// How the host reaches the disk.
    pub fn link(mut self, link: DiskLink) -> Self {
        self.link = link;
        self
    }

    /// The disk client's retries and timeouts (default: [`ClientConfig::default`]).
    pub fn client(mut self, cfg: ClientConfig) -> Self {
        self.client = Some(cfg);
        self
    }

    /// Opens the bureau, makes the disk against its key and links the host to it.
    pub fn build(self) -> Result<Rig, RigError> {
        let start = self.start.unwrap_or_else(Timestamp::now);
        let path = match &self.bureau {
            BureauAt::Memory => None,
            BureauAt::File(p) => Some(p.as_path()),
        };
        let mut bureau = Bureau::open(path, Some(self.bureau_seed.unwrap_or(self.seed)))
            .map_err(|e| RigError::Bureau(e.to_string()))?;
        // Without a start time the bureau keeps the system clock.
        match (self.start, self.bureau_clock) {
            (None, _) => {}
            (Some(_), BureauClock::Set) => bureau
                .set_time(start)
                .map_err(|e| RigError::Bureau(e.to_string()))?,
            (Some(_), BureauClock::RunningFromStart) => {
                bureau.set_clock_offset(start.secs_since(Timestamp::now()))
            }
        }
        let serial = value(DeviceSerial::new(&self.serial), "serial")?;
        let mut sc = SimConfig::new(serial.clone(), bureau.public_key(), start);
        sc.seed = self.seed;
        if let Some(b) = self.flash_bytes {
            sc.flash_bytes = b;
        }
        sc.image = self.image;
        let sim_err = |e: &dyn std::fmt::Display| RigError::Sim(e.to_string());
        let (transport, sim, server): (Box<dyn Transport + Send>, _, _) = match self.link {
            DiskLink::Shared => {
                let (shared, handle) = Shared::new(SimDisk::new(sc).map_err(|e| sim_err(&e))?);
                (Box::new(InProcess::new(shared)), Some(handle), None)
            }
            DiskLink::Owned => {
                let sim = SimDisk::new(sc).map_err(|e| sim_err(&e))?;
                (Box::new(InProcess::new(sim)), None, None)
            }
            DiskLink::Faulty(plan) => {
                let (shared, handle) = Shared::new(SimDisk::new(sc).map_err(|e| sim_err(&e))?);
                let faulty = FaultyHandler::with_plan(shared, plan);
                (Box::new(InProcess::new(faulty)), Some(handle), None)
            }
            DiskLink::Threaded(depth) => {
                let sim = SimDisk::new(sc).map_err(|e| sim_err(&e))?;
                let t = Threaded::spawn(sim, depth).map_err(|e| sim_err(&e))?;
                (Box::new(t), None, None)
            }
            DiskLink::Served => {
                let any: SocketAddr = value("127.0.0.1:0".parse(), "loopback address")?;
                let server = Server::start(ServeConfig {
                    sim: sc,
                    run_free: false,
                    disk_addr: any,
                    control_addr: any,
                    bureau: BureauSetup::Key(bureau.public_key()),
                    usbip: None,
                })
                .map_err(|e| sim_err(&e))?;
                let t = TcpTransport::connect(&server.disk_addr().to_string())
                    .map_err(|e| sim_err(&e))?;
                (Box::new(t), None, Some(server))
            }
        };
        let disk = match self.client {
            Some(cfg) => DiskClient::with_config(transport, cfg),
            None => DiskClient::new(transport),
        };
        Ok(Rig {
            bureau,
            serial,
            disk,
            sim,
            server,
        })
    }
}

/// A factory disk and the bureau it was made against, linked to the host.
#[derive(Debug)]
pub struct Rig {
    /// The bureau, in this process.
    pub bureau: Bureau,
    /// The disk's serial.
    pub serial: DeviceSerial,
    /// The host's client of the disk.
    pub disk: Disk,
    /// The simulator, on a shared link ([`DiskLink::Shared`], [`DiskLink::Faulty`]).
    pub sim: Option<SimHandle>,
    /// The disk's TCP server, on [`DiskLink::Served`]; kept alive while the rig lives.
    pub server: Option<Server>,
}

impl Rig {
    /// Serves the bureau over HTTP on 127.0.0.1 port 0 and puts the disk under a workflow with
    /// `store`. This process is the tax office too (it provisions the disk): the workflow's
    /// bureau client holds the server's administrator token, and initialization keeps it.
    pub fn into_office(self, store: Store) -> Result<OfficeRig, RigError> {
        let addr: SocketAddr = value("127.0.0.1:0".parse(), "loopback address")?;
        let server = spawn(self.bureau, addr).map_err(|e| RigError::Bureau(e.to_string()))?;
        let office = BureauClient::new(&server.url())
            .map_err(|e| RigError::Bureau(e.to_string()))?
            .with_admin_token(Some(server.admin_token().to_owned()));
        let wf = Workflow::new(store, self.disk, Some(office.clone()));
        Ok(OfficeRig {
            wf,
            office,
            bureau: server,
            serial: self.serial,
            sim: self.sim,
            _disk_server: self.server,
        })
    }
}

/// A workflow over a rig's disk with its bureau served over HTTP ([`Rig::into_office`]).
#[derive(Debug)]
pub struct OfficeRig {
    /// The invoicing software, not yet initialized.
    pub wf: Workflow,
    /// The bureau client with the administrator token (the workflow holds a clone).
    pub office: BureauClient,
    /// The bureau's HTTP server.
    pub bureau: BureauServer,
    /// The disk's serial.
    pub serial: DeviceSerial,
    /// The simulator, on a shared link.
    pub sim: Option<SimHandle>,
    _disk_server: Option<Server>,
}

/// A fresh store at `path` (replacing one there) or in memory, with `durability`.
pub fn open_store(path: Option<&Path>, durability: Durability) -> Result<Store, RigError> {
    let mut store = match path {
        Some(p) => {
            let _ = std::fs::remove_file(p);
            Store::open(p)?
        }
        None => Store::open_in_memory()?,
    };
    store.set_durability(durability)?;
    Ok(store)
}

/// A fresh store ([`open_store`]) initialized with `init`; answers its supervisor's id too.
pub fn initialized_store(
    path: Option<&Path>,
    durability: Durability,
    init: &Initialization,
) -> Result<(Store, UserId), RigError> {
    let mut store = open_store(path, durability)?;
    let user = store.initialize(init)?;
    Ok((store, user))
}

/// The tax office as the bench provisions and tops up a disk: the bureau in this process or
/// one reached over HTTP.
pub trait Office {
    /// Registers a taxpayer (B1).
    fn register(&mut self, r: RegisterTaxpayer) -> Result<(), RigError>;
    /// Provisions a disk (D1).
    fn provision(&mut self, r: ProvisionRequest) -> Result<Signed<ProvisionToken>, RigError>;
    /// Registers a disk's key; answers the disk's bureau credential where the office gives
    /// one (the bureau over HTTP does, the bureau in this process has no credentials).
    fn register_key(&mut self, r: RegisterKey) -> Result<Option<KeyRegistered>, RigError>;
    /// Sells rolls of blank numbers.
    fn buy(&mut self, r: BuyRolls) -> Result<Vec<Signed<RollGrant>>, RigError>;
}

fn bureau_err(e: impl std::fmt::Display) -> RigError {
    RigError::Bureau(e.to_string())
}

impl Office for Bureau {
    fn register(&mut self, r: RegisterTaxpayer) -> Result<(), RigError> {
        self.register_taxpayer(r).map_err(bureau_err)
    }
    fn provision(&mut self, r: ProvisionRequest) -> Result<Signed<ProvisionToken>, RigError> {
        Bureau::provision(self, r).map_err(bureau_err)
    }
    fn register_key(&mut self, r: RegisterKey) -> Result<Option<KeyRegistered>, RigError> {
        Bureau::register_key(self, r)
            .map(|()| None)
            .map_err(bureau_err)
    }
    fn buy(&mut self, r: BuyRolls) -> Result<Vec<Signed<RollGrant>>, RigError> {
        self.buy_rolls(r).map_err(bureau_err)
    }
}

impl Office for BureauClient {
    fn register(&mut self, r: RegisterTaxpayer) -> Result<(), RigError> {
        self.register_taxpayer(&r).map_err(bureau_err)
    }
    fn provision(&mut self, r: ProvisionRequest) -> Result<Signed<ProvisionToken>, RigError> {
        BureauClient::provision(self, &r).map_err(bureau_err)
    }
    fn register_key(&mut self, r: RegisterKey) -> Result<Option<KeyRegistered>, RigError> {
        BureauClient::register_key(self, &r)
            .map(Some)
            .map_err(bureau_err)
    }
    fn buy(&mut self, r: BuyRolls) -> Result<Vec<Signed<RollGrant>>, RigError> {
        self.buy_rolls(&r).map_err(bureau_err)
    }
}

/// Provisions `disk` as machine `machine` of the taxpayer `reg` registers, straight from
/// `office` (no workflow): register, provision token, the disk's provisioning, its key
/// registered. A disk that is past its factory state is left as it is. Answers the disk's
/// bureau credential when it was provisioned now and the office gave one
/// ([`Office::register_key`]).
pub fn provision(
    disk: &mut Disk,
    office: &mut dyn Office,
    serial: &DeviceSerial,
    reg: RegisterTaxpayer,
    machine: u16,
) -> Result<Option<KeyRegistered>, RigError> {
    if disk.info()?.state != DiskState::Factory {
        return Ok(None);
    }
    let taxpayer_id = reg.taxpayer_id.clone();
    office.register(reg)?;
    let token = office.provision(ProvisionRequest {
        serial: serial.clone(),
        taxpayer_id,
        machine,
    })?;
    let result = disk.provision(token)?;
    office.register_key(RegisterKey {
        serial: serial.clone(),
        result,
    })
}

/// Logs `disk` in with the factory PIN.
pub fn login(disk: &mut Disk) -> Result<(), RigError> {
    let pin = value(Pin::new(Pin::FACTORY), "pin")?;
    disk.login(&pin)?;
    Ok(())
}

/// Makes sure at least `want` blank numbers of `kind` are loaded, buying what is missing from
/// `office` (at most 10,000 at once).
pub fn top_up(
    disk: &mut Disk,
    office: &mut dyn Office,
    serial: &DeviceSerial,
    kind: InvoiceKind,
    want: u32,
) -> Result<(), RigError> {
    let left = disk.status(kind)?.blank_left;
    if left >= want {
        return Ok(());
    }
    let count = (want - left).min(10_000);
    for g in office.buy(BuyRolls {
        serial: serial.clone(),
        kind,
        count,
    })? {
        disk.load_roll(g)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> RegisterTaxpayer {
        RegisterTaxpayer {
            taxpayer_id: TaxpayerId::new("91350100M000100Y43").unwrap(),
            company_name: CompanyName::new("装配测试有限公司").unwrap(),
            kinds: vec![KindLimits {
                kind: InvoiceKind::Electronic,
                single_limit: Fen(1_000_000),
                offline_hours: 72,
                offline_amount: Fen(100_000_000),
            }],
        }
    }

    #[test]
    fn a_rig_provisions_logs_in_and_tops_up_on_each_link() {
        for link in [
            DiskLink::Shared,
            DiskLink::Owned,
            DiskLink::Threaded(4),
            DiskLink::Served,
        ] {
            let mut rig = RigBuilder::new("669900000042")
                .seed(42)
                .link(link.clone())
                .build()
                .unwrap();
            assert_eq!(rig.sim.is_some(), matches!(link, DiskLink::Shared));
            provision(&mut rig.disk, &mut rig.bureau, &rig.serial, reg(), 0).unwrap();
            // A second provisioning leaves the disk as it is.
            provision(&mut rig.disk, &mut rig.bureau, &rig.serial, reg(), 0).unwrap();
            login(&mut rig.disk).unwrap();
            top_up(
                &mut rig.disk,
                &mut rig.bureau,
                &rig.serial,
                InvoiceKind::Electronic,
                10,
            )
            .unwrap();
            let left = rig.disk.status(InvoiceKind::Electronic).unwrap().blank_left;
            assert!(left >= 10, "{link:?}: {left}");
        }
    }

    #[test]
    fn a_bad_serial_says_so() {
        let e = RigBuilder::new("nope").build().unwrap_err().to_string();
        assert!(e.starts_with("serial:"), "{e}");
    }
}
