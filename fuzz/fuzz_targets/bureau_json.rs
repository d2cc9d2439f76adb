//! Fuzzes the bureau's HTTP JSON API in process: arbitrary bodies to every POST route of
//! `bureau::http::router`, called with `tower::ServiceExt::oneshot` on a current-thread tokio
//! runtime, against a fresh copy (its SQLite file) of a bureau set up once with a registered taxpayer, a provisioned disk with
//! its key and bought rolls.
//!
//! Input: byte 0 picks the route, byte 1 the mode; the rest is the body. Modes: the raw bytes
//! as the body; a valid body of the route with a byte range replaced by the input (reaches the
//! semantic checks behind the JSON layer); the raw bytes without a JSON content type.
//!
//! Checked: nothing panics; no 5xx (every bad body is the client's fault: only a real internal
//! error may answer 500, and none is expected here); every 4xx carries an `ApiError` JSON body
//! with a code and a message; every 2xx body is JSON; and a refused body changes nothing the
//! bureau shows (the disk record with its counters and reported, declared and cleared periods,
//! grants, update tokens, red forms, settings, clock, received totals).
#![no_main]

use axum::body::Body;
use axum::http::{Request, header};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use taxdisk_device_sim::bureau::http::lock;
use taxdisk_device_sim::bureau::{Bureau, SharedBureau, router};

/// The administrator token of the router under test.
const FUZZ_ADMIN: &str = "fuzz-admin-token";
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::message::ProvisionProof;
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::*;
use tower::ServiceExt;

const SERIAL: &str = "661234567890";
const TAXPAYER: &str = "91350100M000100Y43";
/// 2026-12-10 10:00 CST: November is finished (declarations, clear cards can be asked).
const NOW: Timestamp = Timestamp(1_796_868_000);

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fn disk_key() -> &'static Sm2SigningKey {
    static K: OnceLock<Sm2SigningKey> = OnceLock::new();
    K.get_or_init(|| sign::signing_key(&[9; 32]).expect("fixed disk key"))
}

fn serial() -> DeviceSerial {
    DeviceSerial::new(SERIAL).expect("serial")
}

fn taxpayer() -> TaxpayerId {
    TaxpayerId::new(TAXPAYER).expect("taxpayer")
}

/// The state file of the set-up bureau, made once per process in a temporary folder; each
/// run opens a fresh copy of it (copying a file costs far less than the SM2 work of the set-up).
fn base_db() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("taxdisk-fuzz-bureau-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp folder");
        let base = dir.join("base.db");
        let _ = std::fs::remove_file(&base);
        drop(set_up(Bureau::open(Some(&base), Some(1)).expect("bureau")));
        base
    })
}

/// A fresh copy of the set-up bureau.
fn world() -> SharedBureau {
    let base = base_db();
    let run = base.with_file_name("run.db");
    for ext in ["", "-wal", "-shm"] {
        let mut p = run.clone().into_os_string();
        p.push(ext);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    std::fs::copy(base, &run).expect("copy of the base bureau");
    let b = Bureau::open(Some(&run), None).expect("bureau copy");
    Arc::new(Mutex::new(b))
}

/// Sets a bureau up with the taxpayer, the disk (key registered) and 20 normal numbers sold.
fn set_up(mut b: Bureau) -> Bureau {
    b.set_time(NOW).expect("time");
    b.register_taxpayer(RegisterTaxpayer {
        taxpayer_id: taxpayer(),
        company_name: CompanyName::new("福州测试有限公司").expect("name"),
        kinds: vec![KindLimits {
            kind: InvoiceKind::Normal,
            single_limit: Fen(1_000_000_000),
            offline_hours: 72,
            offline_amount: Fen(10_000_000_000),
        }],
    })
    .expect("taxpayer");
    b.provision(ProvisionRequest {
        serial: serial(),
        taxpayer_id: taxpayer(),
        machine: 0,
    })
    .expect("provision");
    let public_key = sign::public_key(disk_key());
    let proof = sign::sign(
        disk_key(),
        &ProvisionProof {
            serial: serial(),
            public_key,
        },
    )
    .expect("proof");
    b.register_key(RegisterKey {
        serial: serial(),
        result: ProvisionResult { public_key, proof },
    })
    .expect("key");
    b.buy_rolls(BuyRolls {
        serial: serial(),
        kind: InvoiceKind::Normal,
        count: 20,
    })
    .expect("rolls");
    b
}

/// A 16-digit red info form number with its F4 check digit.
fn form_number() -> String {
    let head = "350100261100001";
    let sum: u32 = head.bytes().map(|c| u32::from(c - b'0')).sum();
    format!("{head}{}", sum % 10)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("template")
}

/// Every POST route with a valid body for it.
fn routes() -> &'static Vec<(String, String)> {
    static R: OnceLock<Vec<(String, String)>> = OnceLock::new();
    R.get_or_init(|| {
        let nov = Period::new(2026, 11).expect("period");
        let code = InvoiceCode::new("035010026001").ok();
        let receipt = Signed::sign(
            RollReturnReceipt {
                serial: serial(),
                kind: InvoiceKind::Normal,
                code: InvoiceCode::new("035010026004").expect("code"),
                first: InvoiceNumber::new(1).expect("1"),
                count: 5,
                time: NOW,
            },
            disk_key(),
        )
        .expect("receipt");
        let oil = OilStockEntry {
            category: 1,
            unit: OilUnit::Litre,
            milli_quantity: 1000,
        };
        let oil_return = Signed::sign(
            OilReturnReceipt {
                serial: serial(),
                seq: 1,
                stock: oil,
                time: NOW,
            },
            disk_key(),
        )
        .expect("oil receipt");
        let p = |s: &str| format!("{PREFIX}{s}");
        vec![
            (
                p("/taxpayers"),
                json(&RegisterTaxpayer {
                    taxpayer_id: taxpayer(),
                    company_name: CompanyName::new("福州测试有限公司").expect("name"),
                    kinds: vec![],
                }),
            ),
            (
                p("/disks/provision"),
                json(&ProvisionRequest {
                    serial: DeviceSerial::new("661234567891").expect("serial"),
                    taxpayer_id: taxpayer(),
                    machine: 1,
                }),
            ),
            (
                p("/disks/register-key"),
                json(&RegisterKey {
                    serial: serial(),
                    result: ProvisionResult {
                        public_key: sign::public_key(disk_key()),
                        proof: Signature {
                            r: [1; 32],
                            s: [2; 32],
                        },
                    },
                }),
            ),
            (
                p("/rolls/buy"),
                json(&BuyRolls {
                    serial: serial(),
                    kind: InvoiceKind::Normal,
                    count: 5,
                }),
            ),
            (p("/rolls/return"), json(&receipt)),
            (
                p("/upload"),
                json(&Upload {
                    serial: serial(),
                    events: vec![],
                }),
            ),
            (p("/summary"), "{\"body\":{},\"signature\":{}}".to_owned()),
            (
                p("/declare"),
                json(&Declare {
                    taxpayer_id: taxpayer(),
                    period: nov,
                }),
            ),
            (
                p("/clear-card"),
                json(&ClearRequest {
                    serial: serial(),
                    period: nov,
                }),
            ),
            (
                p("/red-forms"),
                json(&RedFormDraft {
                    applicant: RedApplicant::Seller,
                    serial: serial(),
                    seller: taxpayer(),
                    buyer: TaxpayerId::new("110108123456789").expect("buyer"),
                    original: code.map(|c| (c, InvoiceNumber::new(1).expect("1"))),
                    lines: vec![RedFormLine {
                        name: "商品".into(),
                        class_code: TaxClassCode::new("1090101010000000000").expect("class"),
                        quantity: "-1".into(),
                        amount: Fen(-10_000),
                        rate: TaxRate(1300),
                        tax: Fen(-1_300),
                    }],
                    amount: Fen(-10_000),
                    tax: Fen(-1_300),
                    reason: "退货".into(),
                }),
            ),
            (
                p(&format!("/red-forms/{}/review", form_number())),
                json(&Review {
                    approve: true,
                    note: None,
                }),
            ),
            (
                p("/oil/grant"),
                json(&OilGrantRequest {
                    serial: serial(),
                    stock: oil,
                }),
            ),
            (p("/oil/return"), json(&oil_return)),
            (
                p("/updates"),
                json(&UpdateRequest {
                    serial: serial(),
                    changes: vec![UpdateChange::UsedCar(UsedCarRole::Market)],
                }),
            ),
            (
                p("/clock"),
                json(&ClockRequest {
                    serial: serial(),
                    time: NOW,
                }),
            ),
            (
                p("/unblock"),
                json(&UnblockRequest {
                    serial: serial(),
                    new_pin: Pin::new("12345678").expect("pin"),
                }),
            ),
            (
                p("/check"),
                json(&CheckRequest {
                    code: InvoiceCode::new("035010026004").expect("code"),
                    number: InvoiceNumber::new(1).expect("1"),
                    date: 20261110,
                    amount: None,
                    check_code_last6: Some("123456".into()),
                }),
            ),
            (
                p("/settings"),
                json(&BureauSettings {
                    manual_red_review: true,
                }),
            ),
            (p("/admin/time"), json(&NOW)),
        ]
    })
}

/// What the bureau shows, as text, to compare before and after a refused body.
fn fingerprint(b: &SharedBureau) -> String {
    let b = lock(b);
    let s = serial();
    let nov = Period::new(2026, 11).expect("period");
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        b.disk(&s),
        b.grants(&s, 0),
        b.updates(&s, 0),
        b.red_forms(None, None),
        b.settings(),
        b.now(),
        b.received_totals(&s, nov).map(|t| format!("{t:?}")),
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&route, rest)) = data.split_first() else {
        return;
    };
    let Some((&mode, rest)) = rest.split_first() else {
        return;
    };
    let routes = routes();
    let (path, template) = &routes[usize::from(route) % routes.len()];
    let (body, json_type) = match mode % 3 {
        0 => (rest.to_vec(), true),
        1 => {
            // Splice the input into the valid body at an input-chosen range.
            let t = template.as_bytes();
            let (a, b, ins) = match rest {
                [x, y, ins @ ..] => {
                    let a = usize::from(*x) * t.len() / 256;
                    let b = (a + usize::from(*y) % 16).min(t.len());
                    (a, b, ins)
                }
                _ => (0, 0, rest),
            };
            let mut v = t[..a].to_vec();
            v.extend_from_slice(ins);
            v.extend_from_slice(&t[b..]);
            (v, true)
        }
        _ => (rest.to_vec(), false),
    };
    let bureau = world();
    let before = fingerprint(&bureau);
    // The fuzzer acts as the tax office, so every handler is reached.
    let app = router(bureau.clone(), FUZZ_ADMIN);
    let mut req = Request::post(path.as_str())
        .header(header::AUTHORIZATION, format!("Bearer {FUZZ_ADMIN}"));
    if json_type {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req.body(Body::from(body.clone())).expect("request");
    let (status, bytes) = runtime().block_on(async move {
        let resp = app.oneshot(req).await.expect("router is infallible");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, bytes)
    });
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !status.is_server_error(),
        "{path} answered {status} to {:?}: {text}",
        String::from_utf8_lossy(&body)
    );
    if status.is_client_error() {
        let e: ApiError = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{path} {status}: not an ApiError ({e}): {text}"));
        assert!(!e.code.is_empty() && !e.message.is_empty(), "{e:?}");
        assert_eq!(
            fingerprint(&bureau),
            before,
            "{path} refused {:?} ({status} {}) but the bureau changed",
            String::from_utf8_lossy(&body),
            e.code
        );
    } else {
        assert!(status.is_success(), "{path}: {status}");
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .unwrap_or_else(|e| panic!("{path} {status}: not JSON ({e}): {text}"));
    }
});
