//! Shared fixtures of the workflow tests (included with `mod workflow_support;`): an in-process
//! simulated disk (`SimDisk`) behind a shared handle, the embedded bureau served over HTTP on
//! 127.0.0.1 port 0, a file store in a temporary folder, and a workflow initialized, provisioned
//! for all six kinds and logged in as the administrator.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rust_decimal::Decimal;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use taxdisk_device_sim::bureau::{Bureau, BureauServer, spawn};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::disk::{ClientConfig, DiskClient};
use taxdisk_host::invoice::*;
use taxdisk_host::store::{BankAccount, Initialization, Store, UserId};
use taxdisk_host::transport::inproc::{Shared, THREADED_DEPTH, Threaded};
use taxdisk_host::transport::{InProcess, Transport};
use taxdisk_host::workflow::{DynDisk, Workflow, WorkflowError};
use taxdisk_protocol::bureau_api::RegisterTaxpayer;
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::*;

pub const SERIAL: &str = "661234567890";
pub const TAXPAYER: &str = "91350100M000100Y43";
pub const BUYER_ID: &str = "110108123456789";
pub const ADMIN: &str = "主管";
pub const ADMIN_PW: &str = "admin-pass-1";

/// A CST instant.
pub fn at(year: u16, month: u8, day: u8, hour: u8) -> Timestamp {
    Timestamp::cst(year, month, day, hour, 0)
}

/// 2026-11-10 10:00 CST, where every test starts.
pub fn nov10() -> Timestamp {
    at(2026, 11, 10, 10)
}

pub fn period(y: u16, m: u8) -> Period {
    Period::new(y, m).unwrap()
}

pub fn pin() -> Pin {
    Pin::new(Pin::FACTORY).unwrap()
}

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn tp(s: &str) -> TaxpayerId {
    TaxpayerId::new(s).unwrap()
}

pub fn limits(kind: InvoiceKind) -> KindLimits {
    KindLimits {
        kind,
        single_limit: Fen(1_000_000_000),
        offline_hours: 72,
        offline_amount: Fen(10_000_000_000),
    }
}

/// The taxpayer registration: all six kinds with generous limits.
pub fn registration(kinds: &[KindLimits]) -> RegisterTaxpayer {
    RegisterTaxpayer {
        taxpayer_id: tp(TAXPAYER),
        company_name: CompanyName::new("福州测试有限公司").unwrap(),
        kinds: kinds.to_vec(),
    }
}

pub fn all_limits() -> Vec<KindLimits> {
    InvoiceKind::ALL.into_iter().map(limits).collect()
}

/// The test world.
pub struct Env {
    pub wf: Workflow,
    pub sim: Arc<Mutex<SimDisk>>,
    pub server: BureauServer,
    pub admin: UserId,
    pub dir: tempfile::TempDir,
}

pub fn init_form(url: &str) -> Initialization {
    Initialization {
        supervisor_name: ADMIN.into(),
        supervisor_password: ADMIN_PW.into(),
        address: "福州市鼓楼区五四路 1 号".into(),
        phone: "0591-12345678".into(),
        bank_accounts: vec![
            BankAccount {
                bank: "工商银行福州分行".into(),
                account: "1402020309000123456".into(),
            },
            BankAccount {
                bank: "建设银行福州分行".into(),
                account: "35001610007052512345".into(),
            },
        ],
        bureau_server: url.into(),
    }
}

/// A disk client over the shared simulator with test timings.
pub fn client(sim: &Arc<Mutex<SimDisk>>) -> DynDisk {
    with_test_timings(Box::new(InProcess::new(Shared(sim.clone()))))
}

/// A disk client over the shared simulator answering on its own thread, several requests
/// queued ([`Threaded`], [`THREADED_DEPTH`]), with test timings.
pub fn threaded_client(sim: &Arc<Mutex<SimDisk>>) -> DynDisk {
    with_test_timings(Box::new(
        Threaded::spawn(Shared(sim.clone()), THREADED_DEPTH).unwrap(),
    ))
}

fn with_test_timings(t: Box<dyn Transport + Send>) -> DynDisk {
    DiskClient::with_config(
        t,
        ClientConfig {
            attempts: 3,
            timeout: Duration::from_millis(50),
            reconnect_pause: Duration::ZERO,
            session: None,
        },
    )
}

impl Env {
    /// Bureau and disk at 2026-11-10, store initialized (H1), nothing provisioned.
    pub fn bare() -> Env {
        Env::bare_over(client)
    }

    /// [`Env::bare`] with the disk client `disk` makes.
    pub fn bare_over(disk: fn(&Arc<Mutex<SimDisk>>) -> DynDisk) -> Env {
        let mut b = Bureau::open(None, Some(1)).unwrap();
        b.set_time(nov10()).unwrap();
        let key = b.public_key();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = spawn(b, addr).unwrap();
        let sim = SimDisk::new(SimConfig::new(
            DeviceSerial::new(SERIAL).unwrap(),
            key,
            nov10(),
        ))
        .unwrap();
        let sim = Arc::new(Mutex::new(sim));
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("taxdisk.db")).unwrap();
        // The tests play the tax office too: the client holds the administrator token.
        let office = BureauClient::new(&server.url())
            .unwrap()
            .with_admin_token(Some(server.admin_token().to_owned()));
        let mut wf = Workflow::new(store, disk(&sim), Some(office));
        let admin = wf.initialize(&init_form(&server.url())).unwrap();
        Env {
            wf,
            sim,
            server,
            admin,
            dir,
        }
    }

    /// Provisioned for `kinds`, logged in as the administrator.
    pub fn with_kinds(kinds: &[KindLimits]) -> Env {
        Env::with_kinds_over(kinds, client)
    }

    /// [`Env::with_kinds`] with the disk client `disk` makes.
    pub fn with_kinds_over(kinds: &[KindLimits], disk: fn(&Arc<Mutex<SimDisk>>) -> DynDisk) -> Env {
        let mut env = Env::bare_over(disk);
        env.wf.provision_disk(&registration(kinds), 0).unwrap();
        env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
        env
    }

    /// Provisioned for all six kinds, logged in as the administrator.
    pub fn new() -> Env {
        Env::with_kinds(&all_limits())
    }

    /// Provisioned, logged in and with `count` numbers of each kind in `kinds` bought.
    pub fn with_rolls(kinds: &[InvoiceKind], count: u32) -> Env {
        Env::with_rolls_over(kinds, count, client)
    }

    /// [`Env::with_rolls`] with the disk client `disk` makes.
    pub fn with_rolls_over(
        kinds: &[InvoiceKind],
        count: u32,
        disk: fn(&Arc<Mutex<SimDisk>>) -> DynDisk,
    ) -> Env {
        let mut env = Env::with_kinds_over(&all_limits(), disk);
        for k in kinds {
            env.wf.buy_rolls(*k, count).unwrap();
        }
        if kinds.contains(&InvoiceKind::UsedCar) {
            env.used_car_market();
        }
        env
    }

    /// The tax office makes the company a used-car market (FAQ 10.6: the authorization type
    /// a used-car invoice needs) and the software applies the change (H17).
    pub fn used_car_market(&mut self) {
        self.bureau_client()
            .request_update(&taxdisk_protocol::bureau_api::UpdateRequest {
                serial: self.wf.refresh_info().unwrap().serial,
                changes: vec![taxdisk_protocol::types::UpdateChange::UsedCar(
                    taxdisk_protocol::types::UsedCarRole::Market,
                )],
            })
            .unwrap();
        self.wf.apply_updates().unwrap();
    }

    /// Sets disk and bureau clocks.
    pub fn set_time(&mut self, t: Timestamp) {
        self.sim.lock().unwrap().set_time(t);
        taxdisk_device_sim::bureau::http::lock(&self.server.bureau())
            .set_time(t)
            .unwrap();
    }

    /// A bureau client to this bureau.
    pub fn bureau_client(&self) -> BureauClient {
        BureauClient::new(&self.server.url())
            .unwrap()
            .with_admin_token(Some(self.server.admin_token().to_owned()))
    }

    /// Work offline: the bureau address points at a closed port.
    pub fn go_offline(&mut self) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let c = BureauClient::with_timeout(
            &format!("http://127.0.0.1:{port}"),
            Duration::from_millis(500),
        )
        .unwrap();
        self.wf.set_bureau(Some(c));
    }

    /// Back online.
    pub fn go_online(&mut self) {
        let c = self.bureau_client();
        self.wf.set_bureau(Some(c));
    }

    /// Adds an invoicer with permissions on `kinds` for `actions`.
    pub fn invoicer(
        &mut self,
        name: &str,
        kinds: &[InvoiceKind],
        actions: &[taxdisk_host::store::Action],
    ) -> UserId {
        let admin = self.admin;
        let s = self.wf.store_mut();
        let id = s.add_invoicer(admin, name, "pw-12345678").unwrap();
        for k in kinds {
            for a in actions {
                s.grant(admin, id, *k, *a).unwrap();
            }
        }
        id
    }

    /// Logs out and in as `name`.
    pub fn login_as(&mut self, name: &str, password: &str) {
        self.wf.logout().unwrap();
        self.wf.login(name, password, &pin()).unwrap();
    }

    /// The logged-in user turns the automatic saving of buyers (H5, FAQ 3.2) on.
    pub fn save_buyers_automatically(&mut self) {
        self.wf.set_auto_save_buyers(true).unwrap();
    }
}

pub fn class_code() -> TaxClassCode {
    TaxClassCode::new("1090101010000000000").unwrap()
}

pub fn buyer() -> Party {
    Party {
        name: "购买方公司".into(),
        taxpayer_id: Some(tp(BUYER_ID)),
        address_phone: "北京市海淀区 010-87654321".into(),
        bank_account: "建设银行 9876543210".into(),
    }
}

pub fn goods(name: &str, qty: &str, price: &str) -> LineInput {
    LineInput::new(name, class_code(), TaxRate(1300)).qty_price(dec(qty), dec(price))
}

pub fn vehicle() -> MotorVehicleFields {
    MotorVehicleFields {
        buyer_id_number: "110101199001011234".into(),
        vehicle_type: "轿车".into(),
        brand_model: "红旗 CA7180".into(),
        origin: "长春".into(),
        certificate_number: "WAB123456789".into(),
        engine_number: "E12345".into(),
        vin: "LFV2A21K6A3012345".into(),
        passengers: Some(5),
        ..Default::default()
    }
}

pub fn used_car() -> UsedCarFields {
    UsedCarFields {
        issuer_role: UsedCarIssuer::Market,
        car_seller: Party::named("李四"),
        plate: "闽A12345".into(),
        registration_number: "350001234567".into(),
        vin: "LSVAA4182E2123456".into(),
        vehicle_type: "轿车".into(),
        brand_model: "大众 SVW7182".into(),
        transfer_office: "福州市车管所".into(),
        market: Some(Party::named("福州二手车市场")),
        ..Default::default()
    }
}

/// A draft of `fields` from this company to the test buyer with one goods line of
/// `qty` x `price`.
pub fn draft_of(wf: &mut Workflow, fields: KindFields, qty: &str, price: &str) -> Draft {
    let seller = wf.seller_party().unwrap();
    let mut d = Draft::new(fields, seller, buyer());
    d.add_line(&goods("商品", qty, price)).unwrap();
    // The logged-in user issues (H3); a draft made before any login names nobody.
    d.issuer = wf.user().map(|u| u.name.clone()).unwrap_or_default();
    d
}

/// A normal invoice draft of 2 x 100.00 (tax 26.00).
pub fn normal(wf: &mut Workflow) -> Draft {
    draft_of(wf, KindFields::Normal(Variant::Standard), "2", "100")
}

/// The rule id in an error's one-line message.
pub fn says(e: &WorkflowError, needle: &str) {
    let line = e.to_string();
    assert!(line.contains(needle), "{needle:?} not in {line:?}");
    assert!(!line.contains('\n'), "one line: {line:?}");
}
