//! Shared helpers of the bureau tests: a bureau served on 127.0.0.1 port 0, a JSON client on
//! ureq 3, a test disk whose key signs events the way a disk does, and the two backends every
//! test runs on ([`both_backends!`], [`test_bureau`]).
#![allow(dead_code, clippy::unwrap_used)]

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use taxdisk_device_sim::bureau::{Bureau, BureauServer, spawn};

pub mod backends;
pub use backends::test_bureau;
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::message::ProvisionProof;
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::*;

/// The test taxpayer (the GB 32100 example code).
pub const TAXPAYER: &str = "91350100M000100Y43";
/// Another taxpayer (a 15-character id).
pub const OTHER_TAXPAYER: &str = "110108123456789";
/// The test disk.
pub const SERIAL: &str = "661234567890";
/// Another disk.
pub const OTHER_SERIAL: &str = "669999999999";

/// 2026-11-10 10:00 CST.
pub fn nov10() -> Timestamp {
    at(2026, 11, 10, 10)
}

/// A CST instant.
pub fn at(year: u16, month: u8, day: u8, hour: u8) -> Timestamp {
    Timestamp::cst(year, month, day, hour, 0)
}

/// A period.
pub fn period(y: u16, m: u8) -> Period {
    Period::new(y, m).unwrap()
}

/// The disk key of the tests.
pub fn disk_key() -> Sm2SigningKey {
    sign::signing_key(&[9; 32]).unwrap()
}

/// Another key (a forger's).
pub fn forger_key() -> Sm2SigningKey {
    sign::signing_key(&[7; 32]).unwrap()
}

pub fn serial(s: &str) -> DeviceSerial {
    DeviceSerial::new(s).unwrap()
}

pub fn tp(s: &str) -> TaxpayerId {
    TaxpayerId::new(s).unwrap()
}

pub fn limits(kind: InvoiceKind) -> KindLimits {
    KindLimits {
        kind,
        single_limit: Fen(10_000_000),
        offline_hours: 72,
        offline_amount: Fen(100_000_000),
    }
}

/// A bureau over HTTP with a JSON client.
pub struct Api {
    pub server: BureauServer,
    agent: ureq::Agent,
    token: Option<String>,
}

/// A refusal as the client sees it.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub error: ApiError,
}

impl Api {
    /// A fresh in-memory bureau (seed 1) at 2026-11-10 on 127.0.0.1:0.
    pub fn start() -> Api {
        let mut b = test_bureau(Some(1));
        b.set_time(nov10()).unwrap();
        Api::serve(b)
    }

    /// Serves a given bureau.
    pub fn serve(b: Bureau) -> Api {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = spawn(b, addr).unwrap();
        // A new connection per request: after some refused garbage bodies the server closes
        // the connection, and a pooled one then failed the next request now and then with
        // "peer disconnected" (seen in about one run in five of bureau_http under load).
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .build()
            .into();
        let token = Some(server.admin_token().to_owned());
        Api {
            server,
            agent,
            token,
        }
    }

    /// The administrator token of the server (the tax office's).
    pub fn admin_token(&self) -> String {
        self.server.admin_token().to_owned()
    }

    /// Sends `token` from now on (`None`: no Authorization header).
    pub fn as_caller(&mut self, token: Option<String>) {
        self.token = token;
    }

    fn auth<T>(&self, r: ureq::RequestBuilder<T>) -> ureq::RequestBuilder<T> {
        match &self.token {
            Some(t) => r.header("authorization", format!("Bearer {t}")),
            None => r,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{PREFIX}{path}", self.server.url())
    }

    fn answer<R: DeserializeOwned>(
        mut resp: ureq::http::Response<ureq::Body>,
    ) -> Result<R, Refused> {
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap();
        if (200..300).contains(&status) {
            Ok(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
        } else {
            let error: ApiError = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("not an ApiError ({e}): {text}"));
            Err(Refused { status, error })
        }
    }

    pub fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, Refused> {
        Self::answer(
            self.auth(self.agent.post(&self.url(path)))
                .send_json(body)
                .unwrap(),
        )
    }

    pub fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, Refused> {
        Self::answer(self.auth(self.agent.get(&self.url(path))).call().unwrap())
    }

    /// Posts raw text as JSON: (status, body).
    pub fn post_raw(&self, path: &str, body: &str) -> (u16, String) {
        let mut resp = self
            .auth(self.agent.post(&self.url(path)))
            .header("content-type", "application/json")
            .send(body)
            .unwrap_or_else(|e| panic!("POST {path} {body:.20}: {e}"));
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    }

    /// Posts and expects a refusal with `code`.
    pub fn refused<B: Serialize>(&self, path: &str, body: &B, code: &str) -> Refused {
        match self.post::<B, serde_json::Value>(path, body) {
            Ok(v) => panic!("{path} answered {v}, expected refusal {code}"),
            Err(r) => {
                assert_eq!(r.error.code, code, "{path}: {:?}", r.error);
                assert!(
                    (400..500).contains(&r.status),
                    "{path}: status {}",
                    r.status
                );
                assert!(!r.error.rule.is_empty() && !r.error.message.is_empty());
                r
            }
        }
    }

    pub fn set_time(&self, t: Timestamp) {
        let _: serde_json::Value = self.post("/admin/time", &t).unwrap();
    }

    pub fn register(&self, taxpayer: &str, kinds: &[InvoiceKind]) {
        let _: serde_json::Value = self
            .post(
                "/taxpayers",
                &RegisterTaxpayer {
                    taxpayer_id: tp(taxpayer),
                    company_name: CompanyName::new("测试有限公司").unwrap(),
                    kinds: kinds.iter().map(|k| limits(*k)).collect(),
                },
            )
            .unwrap();
    }

    pub fn provision(
        &self,
        s: &str,
        taxpayer: &str,
        machine: u16,
    ) -> Result<Signed<ProvisionToken>, Refused> {
        self.post(
            "/disks/provision",
            &ProvisionRequest {
                serial: serial(s),
                taxpayer_id: tp(taxpayer),
                machine,
            },
        )
    }

    pub fn register_key(&self, s: &str, key: &Sm2SigningKey) -> Result<serde_json::Value, Refused> {
        let pk = sign::public_key(key);
        let proof = sign::sign(
            key,
            &ProvisionProof {
                serial: serial(s),
                public_key: pk,
            },
        )
        .unwrap();
        self.post(
            "/disks/register-key",
            &RegisterKey {
                serial: serial(s),
                result: ProvisionResult {
                    public_key: pk,
                    proof,
                },
            },
        )
    }

    pub fn buy(
        &self,
        s: &str,
        kind: InvoiceKind,
        count: u32,
    ) -> Result<Vec<Signed<RollGrant>>, Refused> {
        self.post(
            "/rolls/buy",
            &BuyRolls {
                serial: serial(s),
                kind,
                count,
            },
        )
    }

    pub fn upload(&self, s: &str, events: Vec<JournalEvent>) -> UploadResult {
        self.post(
            "/upload",
            &Upload {
                serial: serial(s),
                events,
            },
        )
        .unwrap()
    }

    pub fn public_key(&self) -> PublicKey {
        let h: Health = self.get("/health").unwrap();
        h.public_key
    }
}

/// A bureau with the test taxpayer (special, normal, electronic) and the test disk provisioned
/// with [`disk_key`].
pub fn ready() -> Api {
    let api = Api::start();
    api.register(
        TAXPAYER,
        &[
            InvoiceKind::Special,
            InvoiceKind::Normal,
            InvoiceKind::Electronic,
        ],
    );
    api.provision(SERIAL, TAXPAYER, 0).unwrap();
    api.register_key(SERIAL, &disk_key()).unwrap();
    api
}

/// A blue invoice body.
pub fn invoice_body(
    grant: &RollGrant,
    offset: u32,
    counter: u64,
    time: Timestamp,
    amount: i64,
) -> IssuedInvoice {
    IssuedInvoice {
        serial: grant.serial.clone(),
        machine: 0,
        kind: grant.kind,
        variant: Variant::Standard,
        code: grant.code.clone(),
        number: InvoiceNumber::new(grant.first.get() + offset).unwrap(),
        counter,
        time,
        request_id: [counter as u8; 16],
        content_digest: [1; 32],
        buyer: None,
        amount: Fen(amount),
        tax: Fen(amount * 13 / 100),
        red: None,
        oil: None,
    }
}

/// Signs an invoice with the test disk key.
pub fn signed(body: IssuedInvoice) -> JournalEvent {
    JournalEvent::Invoice(Signed::sign(body, &disk_key()).unwrap())
}

/// `n` consecutive blue invoices from counter `from`, numbers from `grant.first + offset`.
pub fn invoices(
    grant: &RollGrant,
    offset: u32,
    from: u64,
    n: u32,
    time: Timestamp,
) -> Vec<JournalEvent> {
    (0..n)
        .map(|i| {
            signed(invoice_body(
                grant,
                offset + i,
                from + u64::from(i),
                time,
                10_000 + i64::from(i),
            ))
        })
        .collect()
}
