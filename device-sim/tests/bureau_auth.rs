//! The bureau knows who is asking (issue 17, B1-B10): every endpoint of the API called with no
//! credential, with a credential the bureau never issued, with another disk's credential and
//! with the right one, over real HTTP. The table here is the README's "who may call what".
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod bureau_support;

use bureau_support::*;
use serde_json::{Value, json};
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::types::*;

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    /// Open to anyone.
    Anyone,
    /// The disk's own software (or the tax office).
    Disk,
    /// The tax office only.
    Office,
    /// Any credential; what it answers is scoped to the caller's taxpayer.
    Scoped,
}

/// One call: method, path, JSON body (None for GET), who may make it.
struct Call {
    get: bool,
    path: String,
    body: Value,
    who: Who,
}

fn post(path: &str, body: Value, who: Who) -> Call {
    Call {
        get: false,
        path: path.into(),
        body,
        who,
    }
}

fn get(path: &str, who: Who) -> Call {
    Call {
        get: true,
        path: path.into(),
        body: Value::Null,
        who,
    }
}

fn j<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// The test disk's red info form draft (a buyer's, which names no original).
fn buyer_draft() -> RedFormDraft {
    RedFormDraft {
        applicant: RedApplicant::Buyer,
        serial: serial(SERIAL),
        seller: tp(OTHER_TAXPAYER),
        buyer: tp(TAXPAYER),
        original: None,
        lines: vec![RedFormLine {
            name: "钢材".into(),
            class_code: TaxClassCode::new("1080101010000000000").unwrap(),
            quantity: "-2".into(),
            amount: Fen(-30_000),
            rate: TaxRate(1300),
            tax: Fen(-3_900),
        }],
        amount: Fen(-30_000),
        tax: Fen(-3_900),
        reason: "退货".into(),
    }
}

/// Every endpoint of the API, each naming the test disk [`SERIAL`] where it names a disk, and
/// the red info form `form` where it names one.
fn every_endpoint(form: &str) -> Vec<Call> {
    let key = disk_key();
    let t = nov10();
    let stock = OilStockEntry {
        category: 1,
        unit: OilUnit::Litre,
        milli_quantity: 1000,
    };
    let summary = Signed::sign(
        PeriodSummary {
            serial: serial(SERIAL),
            taxpayer_id: tp(TAXPAYER),
            period: period(2026, 10),
            kinds: heapless::Vec::new(),
            first_counter: 0,
            last_counter: 0,
            time: t,
        },
        &key,
    )
    .unwrap();
    let roll_return = Signed::sign(
        RollReturnReceipt {
            serial: serial(SERIAL),
            kind: InvoiceKind::Normal,
            code: InvoiceCode::new("035002600001").unwrap(),
            first: InvoiceNumber::new(1).unwrap(),
            count: 1,
            time: t,
        },
        &key,
    )
    .unwrap();
    let oil_return = Signed::sign(
        OilReturnReceipt {
            serial: serial(SERIAL),
            seq: 1,
            stock,
            time: t,
        },
        &key,
    )
    .unwrap();
    let draft = buyer_draft();
    vec![
        get("/health", Who::Anyone),
        post(
            "/check",
            j(&CheckRequest {
                code: InvoiceCode::new("035002600001").unwrap(),
                number: InvoiceNumber::new(1).unwrap(),
                date: 20261110,
                amount: Some(Fen(100)),
                check_code_last6: None,
            }),
            Who::Anyone,
        ),
        post(
            "/taxpayers",
            j(&RegisterTaxpayer {
                taxpayer_id: tp(TAXPAYER),
                company_name: CompanyName::new("测试有限公司").unwrap(),
                kinds: vec![],
            }),
            Who::Office,
        ),
        post(
            "/disks/provision",
            j(&ProvisionRequest {
                serial: serial(SERIAL),
                taxpayer_id: tp(TAXPAYER),
                machine: 0,
            }),
            Who::Office,
        ),
        post(
            &format!("/disks/{SERIAL}/credential"),
            json!({}),
            Who::Office,
        ),
        post(
            "/rolls/buy",
            j(&BuyRolls {
                serial: serial(SERIAL),
                kind: InvoiceKind::Normal,
                count: 1,
            }),
            Who::Disk,
        ),
        get(&format!("/disks/{SERIAL}/grants"), Who::Disk),
        post("/rolls/return", j(&roll_return), Who::Disk),
        post(
            "/upload",
            j(&Upload {
                serial: serial(SERIAL),
                events: vec![],
            }),
            Who::Disk,
        ),
        post("/summary", j(&summary), Who::Disk),
        post(
            "/declare",
            j(&Declare {
                taxpayer_id: tp(TAXPAYER),
                period: period(2026, 10),
            }),
            Who::Office,
        ),
        post(
            "/clear-card",
            j(&ClearRequest {
                serial: serial(SERIAL),
                period: period(2026, 10),
            }),
            Who::Disk,
        ),
        post("/red-forms", j(&draft), Who::Disk),
        post(
            &format!("/red-forms/{form}/review"),
            j(&Review {
                approve: true,
                note: None,
            }),
            Who::Office,
        ),
        post(
            "/oil/grant",
            j(&OilGrantRequest {
                serial: serial(SERIAL),
                stock,
            }),
            Who::Disk,
        ),
        post("/oil/return", j(&oil_return), Who::Disk),
        post(
            "/updates",
            j(&UpdateRequest {
                serial: serial(SERIAL),
                changes: vec![UpdateChange::Limits(KindLimits {
                    kind: InvoiceKind::Normal,
                    single_limit: Fen(100),
                    offline_hours: 1,
                    offline_amount: Fen(100),
                })],
            }),
            Who::Office,
        ),
        get(&format!("/disks/{SERIAL}/updates"), Who::Disk),
        get("/red-forms", Who::Scoped),
        get(&format!("/red-forms/{form}"), Who::Scoped),
        post(
            "/clock",
            j(&ClockRequest {
                serial: serial(SERIAL),
                time: t,
            }),
            Who::Office,
        ),
        post(
            "/unblock",
            j(&UnblockRequest {
                serial: serial(SERIAL),
                new_pin: Pin::new("12345678").unwrap(),
            }),
            Who::Office,
        ),
        get(&format!("/disks/{SERIAL}"), Who::Disk),
        post(
            "/settings",
            json!({"manual_red_review": false}),
            Who::Office,
        ),
        post("/admin/time", j(&t), Who::Office),
    ]
}

/// Calls `c` as `token` (`None`: no header): status and error code (empty on success).
fn call(api: &mut Api, c: &Call, token: Option<&str>) -> (u16, String) {
    api.as_caller(token.map(str::to_owned));
    let r: Result<Value, Refused> = if c.get {
        api.get(&c.path)
    } else {
        api.post(&c.path, &c.body)
    };
    match r {
        Ok(_) => (200, String::new()),
        Err(e) => (e.status, e.error.code),
    }
}

/// The test disk, and a disk of a third taxpayer (neither seller nor buyer of the test
/// disk's form), both with credentials.
fn two_disks() -> (Api, String, String) {
    let api = Api::start();
    api.register(TAXPAYER, &[InvoiceKind::Normal, InvoiceKind::Special]);
    api.register(THIRD_TAXPAYER, &[InvoiceKind::Normal]);
    api.provision(SERIAL, TAXPAYER, 0).unwrap();
    api.provision(OTHER_SERIAL, THIRD_TAXPAYER, 0).unwrap();
    let own = api.register_key(SERIAL, &disk_key()).unwrap();
    let other = api.register_key(OTHER_SERIAL, &forger_key()).unwrap();
    let cred = |v: Value| v["credential"].as_str().unwrap().to_owned();
    (api, cred(own), cred(other))
}

/// A third taxpayer, party to nothing of the test disk's.
const THIRD_TAXPAYER: &str = "350102987654321";

/// The number of a red form of the test disk, submitted by the tax office.
fn a_form(api: &Api) -> String {
    let f: RedForm = api.post("/red-forms", &buyer_draft()).unwrap();
    f.number.as_str().to_owned()
}

#[test]
fn the_unblock_pin_is_not_kept_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bureau.db");
    let mut b = taxdisk_device_sim::bureau::Bureau::open(Some(&db), Some(1)).unwrap();
    b.set_time(nov10()).unwrap();
    let api = Api::serve(b);
    api.register(TAXPAYER, &[InvoiceKind::Normal]);
    api.provision(SERIAL, TAXPAYER, 0).unwrap();
    const PIN: &str = "Qx7PinNotStored";
    let t: Signed<UnblockToken> = api
        .post(
            "/unblock",
            &UnblockRequest {
                serial: serial(SERIAL),
                new_pin: Pin::new(PIN).unwrap(),
            },
        )
        .unwrap();
    // The caller (the tax office, handing it to the disk) gets the PIN in the signed token...
    assert_eq!(t.body.new_pin.as_str(), PIN);
    drop(api);
    // ...the bureau's files never hold it.
    for f in ["bureau.db", "bureau.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(f)) {
            assert!(
                !bytes.windows(PIN.len()).any(|w| w == PIN.as_bytes()),
                "{f} holds the PIN in clear"
            );
        }
    }
}

both_backends! {
    #[test]
    fn every_endpoint_refuses_a_missing_or_unknown_credential_and_a_foreign_one() {
        let (mut api, own, other) = two_disks();
        let form = a_form(&api);
        let unknown = "0".repeat(64);
        for c in every_endpoint(&form) {
            let what = &c.path;
            let (status, code) = call(&mut api, &c, None);
            match c.who {
                Who::Anyone => assert!(status != 401 && status != 403, "{what}: {status} {code}"),
                _ => assert_eq!((status, code.as_str()), (401, "unauthenticated"), "{what}"),
            }
            if c.path != "/health" {
                let (status, code) = call(&mut api, &c, Some(&unknown));
                assert_eq!((status, code.as_str()), (401, "bad_credential"), "{what}");
            }
            // Another taxpayer's disk may not act for the test disk, nor be the tax office.
            let (status, code) = call(&mut api, &c, Some(&other));
            match c.who {
                Who::Anyone | Who::Scoped => {
                    assert!(status != 401 && status != 403, "{what}: {status} {code}")
                }
                _ => assert_eq!((status, code.as_str()), (403, "forbidden"), "{what}"),
            }
            // The disk's own credential passes its own paths, and only those.
            let (status, code) = call(&mut api, &c, Some(&own));
            match c.who {
                Who::Office => assert_eq!((status, code.as_str()), (403, "forbidden"), "{what}"),
                _ => assert!(status != 401 && status != 403, "{what}: {status} {code}"),
            }
        }
        // The tax office passes everywhere (what it then answers is the endpoint's business).
        let admin = api.admin_token();
        for c in every_endpoint(&form) {
            let (status, code) = call(&mut api, &c, Some(&admin));
            assert!(
                status != 401 && status != 403,
                "{}: {status} {code}",
                c.path
            );
        }
    }

    #[test]
    fn a_credential_is_answered_once_and_a_new_one_replaces_it() {
        let (mut api, own, _) = two_disks();
        // The proof again (a replay, or a retry): no second credential from it.
        let r = api.register_key(SERIAL, &disk_key()).unwrap_err();
        assert_eq!(
            (r.status, r.error.code.as_str()),
            (409, "credential_issued")
        );
        assert!(
            r.error.message.contains("credential"),
            "{}",
            r.error.message
        );
        // The tax office issues a new one; the old one stops working.
        let new: Value = api
            .post(&format!("/disks/{SERIAL}/credential"), &json!({}))
            .unwrap();
        let new = new["credential"].as_str().unwrap().to_owned();
        assert_ne!(new, own);
        let rec = get(&format!("/disks/{SERIAL}"), Who::Disk);
        assert_eq!(call(&mut api, &rec, Some(&own)).1, "bad_credential");
        assert_eq!(call(&mut api, &rec, Some(&new)), (200, String::new()));
    }

    #[test]
    fn a_taxpayer_sees_only_its_own_red_forms() {
        let (mut api, own, other) = two_disks();
        // The test disk's buyer form, submitted with its own credential.
        api.as_caller(Some(own.clone()));
        let form: RedForm = api.post("/red-forms", &buyer_draft()).unwrap();
        let number = form.number.as_str().to_owned();
        // Its owner lists and reads it.
        let mine: Vec<RedForm> = api.get("/red-forms").unwrap();
        assert_eq!(mine.len(), 1);
        let _: RedForm = api.get(&format!("/red-forms/{number}")).unwrap();
        // A third taxpayer sees none of it, whatever it asks for.
        api.as_caller(Some(other.clone()));
        let theirs: Vec<RedForm> = api.get("/red-forms").unwrap();
        assert!(theirs.is_empty(), "{theirs:?}");
        let r = api
            .get::<RedForm>(&format!("/red-forms/{number}"))
            .unwrap_err();
        assert_eq!((r.status, r.error.code.as_str()), (404, "unknown_form"));
        let r = api
            .get::<Vec<RedForm>>(&format!("/red-forms?taxpayer_id={TAXPAYER}"))
            .unwrap_err();
        assert_eq!((r.status, r.error.code.as_str()), (403, "forbidden"));
        // The owner may not review its own form: that is the tax office's step.
        api.as_caller(Some(own));
        let r = api
            .post::<_, RedForm>(
                &format!("/red-forms/{number}/review"),
                &Review {
                    approve: true,
                    note: None,
                },
            )
            .unwrap_err();
        assert_eq!((r.status, r.error.code.as_str()), (403, "forbidden"));
        // Without a credential nothing is listed at all.
        api.as_caller(None);
        let r = api.get::<Vec<RedForm>>("/red-forms").unwrap_err();
        assert_eq!(r.status, 401);
    }

    #[test]
    fn health_answers_while_the_bureau_is_busy() {
        let api = ready();
        // Hold the bureau as a long upload would; the connection test still answers.
        let shared = api.server.bureau();
        let held = shared.lock().unwrap();
        let h: Health = api.get("/health").unwrap();
        assert_eq!(h.status, "ok");
        drop(held);
    }

    #[test]
    fn limits_and_form_quantities_are_checked_before_they_are_granted() {
        let api = ready();
        // The single-invoice limit of issue 17: i64::MAX fen is refused, with the range.
        let r = api.refused(
            "/updates",
            &UpdateRequest {
                serial: serial(SERIAL),
                changes: vec![UpdateChange::Limits(KindLimits {
                    kind: InvoiceKind::Normal,
                    single_limit: Fen(i64::MAX),
                    offline_hours: 72,
                    offline_amount: Fen(100),
                })],
            },
            "bad_limits",
        );
        assert!(
            r.error.message.contains("out of range"),
            "{}",
            r.error.message
        );
        // A quantity that is not a number (an injection attempt) is refused as such.
        let mut d = j(&buyer_draft());
        d["lines"][0]["quantity"] = json!("-1' OR '1'='1");
        let r = api.refused("/red-forms", &d, "bad_form");
        assert!(
            r.error.message.contains("not a number"),
            "{}",
            r.error.message
        );
    }

    #[test]
    fn request_bodies_are_bounded() {
        let api = ready();
        // Anything but an upload: 256 KiB at most.
        let big = format!(
            r#"{{"serial":"{SERIAL}","kind":"Normal","count":1,"x":"{}"}}"#,
            "a".repeat(MAX_BODY)
        );
        let (status, body) = api.post_raw("/rolls/buy", &big);
        assert_eq!(status, 413, "{body}");
        // An upload of more events than one batch may carry is refused with what to do.
        let grants = api.buy(SERIAL, InvoiceKind::Normal, 1).unwrap();
        let events = invoices(&grants[0].body, 0, 1, 1, nov10());
        let r = api
            .post::<_, UploadResult>(
                "/upload",
                &Upload {
                    serial: serial(SERIAL),
                    events: vec![events[0].clone(); MAX_UPLOAD_EVENTS + 1],
                },
            )
            .unwrap_err();
        assert_eq!((r.status, r.error.code.as_str()), (413, "too_many_events"));
    }
}
