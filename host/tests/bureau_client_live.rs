//! The bureau client against the real simulated bureau served on 127.0.0.1 port 0: the
//! connection test, provisioning, rolls, an upload with its receipt, tokens, and refusals
//! surfaced as ApiError.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use taxdisk_device_sim::bureau::{Bureau, BureauServer, spawn};
use taxdisk_host::bureau_client::{BureauClient, BureauError};
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::message::ProvisionProof;
use taxdisk_protocol::sign::{self, Sm2SigningKey};
use taxdisk_protocol::time::{CivilTime, Timestamp};
use taxdisk_protocol::types::*;

const TAXPAYER: &str = "91350100M000100Y43";
const SERIAL: &str = "661234567890";

fn nov10() -> Timestamp {
    Timestamp::from_civil(CivilTime {
        year: 2026,
        month: 11,
        day: 10,
        hour: 10,
        minute: 0,
        second: 0,
    })
}

fn serial() -> DeviceSerial {
    DeviceSerial::new(SERIAL).unwrap()
}

fn tp() -> TaxpayerId {
    TaxpayerId::new(TAXPAYER).unwrap()
}

fn disk_key() -> Sm2SigningKey {
    sign::signing_key(&[9; 32]).unwrap()
}

fn start() -> (BureauServer, BureauClient) {
    let b = Bureau::open(None, Some(1)).unwrap();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = spawn(b, addr).unwrap();
    let client = BureauClient::new(&server.url())
        .unwrap()
        .with_admin_token(Some(server.admin_token().to_owned()));
    (server, client)
}

fn limits(kind: InvoiceKind) -> KindLimits {
    KindLimits {
        kind,
        single_limit: Fen(10_000_000),
        offline_hours: 72,
        offline_amount: Fen(100_000_000),
    }
}

/// Registers the taxpayer, provisions the disk and registers its key.
fn provisioned(c: &BureauClient) -> Signed<ProvisionToken> {
    c.register_taxpayer(&RegisterTaxpayer {
        taxpayer_id: tp(),
        company_name: CompanyName::new("测试有限公司").unwrap(),
        kinds: vec![limits(InvoiceKind::Normal)],
    })
    .unwrap();
    let token = c
        .provision(&ProvisionRequest {
            serial: serial(),
            taxpayer_id: tp(),
            machine: 0,
        })
        .unwrap();
    let pk = sign::public_key(&disk_key());
    let proof = sign::sign(
        &disk_key(),
        &ProvisionProof {
            serial: serial(),
            public_key: pk,
        },
    )
    .unwrap();
    c.register_key(&RegisterKey {
        serial: serial(),
        result: ProvisionResult {
            public_key: pk,
            proof,
        },
    })
    .unwrap();
    token
}

#[test]
fn h01_connection_test_answers_key_and_clock() {
    let (server, c) = start();
    c.set_time(nov10()).unwrap();
    let h = c.health().unwrap();
    assert_eq!(h.status, "ok");
    assert_eq!(h.time, nov10());
    assert_eq!(
        h.public_key,
        taxdisk_device_sim::bureau::http::lock(&server.bureau()).public_key()
    );
}

#[test]
fn b01_provisioning_over_the_client_is_signed_and_recorded() {
    let (_server, c) = start();
    c.set_time(nov10()).unwrap();
    let token = provisioned(&c);
    let vk = sign::verifying_key(&c.health().unwrap().public_key).unwrap();
    assert_eq!(token.verify(&vk), Ok(()));
    assert_eq!(token.body.serial, serial());
    let rec = c.disk(&serial()).unwrap();
    assert_eq!(rec.taxpayer_id, tp());
    assert_eq!(rec.public_key, Some(sign::public_key(&disk_key())));
}

#[test]
fn refusals_come_back_as_api_errors_with_code_and_rule() {
    let (_server, c) = start();
    let err = c
        .provision(&ProvisionRequest {
            serial: serial(),
            taxpayer_id: tp(),
            machine: 0,
        })
        .unwrap_err();
    match &err {
        BureauError::Api { status, error, .. } => {
            assert_eq!(*status, 404);
            assert_eq!(error.code, "unknown_taxpayer");
            assert!(!error.rule.is_empty());
            let line = err.to_string();
            assert!(line.contains(&error.rule) && line.contains("unknown_taxpayer"));
        }
        e => panic!("expected Api, got {e:?}"),
    }
    let err = c.disk(&serial()).unwrap_err();
    assert_eq!(err.api_code(), Some("unknown_disk"));
}

#[test]
fn b02_b03_rolls_bought_listed_and_an_upload_receipted() {
    let (_server, c) = start();
    c.set_time(nov10()).unwrap();
    provisioned(&c);
    let grants = c
        .buy_rolls(&BuyRolls {
            serial: serial(),
            kind: InvoiceKind::Normal,
            count: 10,
        })
        .unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(c.grants(&serial(), 0).unwrap(), grants);
    assert!(c.grants(&serial(), grants[0].body.seq).unwrap().is_empty());
    let g = &grants[0].body;
    let inv = IssuedInvoice {
        amount: Fen(10_000),
        tax: Fen(1_300),
        ..invoice_of(g)
    };
    let signed = Signed::sign(inv, &disk_key()).unwrap();
    let r = c
        .upload(&Upload {
            serial: serial(),
            events: vec![JournalEvent::Invoice(signed)],
        })
        .unwrap();
    assert_eq!((r.accepted, r.rejected.len()), (1, 0), "{r:?}");
    assert_eq!(r.receipt.unwrap().body.through_counter, 1);
    assert_eq!(c.disk(&serial()).unwrap().through_counter, 1);
    // A tampered signature is rejected with its reason, not accepted.
    let mut bad = IssuedInvoice {
        counter: 2,
        number: InvoiceNumber::new(g.first.get() + 1).unwrap(),
        ..invoice_of(g)
    };
    bad.amount = Fen(1);
    let forged = Signed::sign(bad, &sign::signing_key(&[3; 32]).unwrap()).unwrap();
    let r = c
        .upload(&Upload {
            serial: serial(),
            events: vec![JournalEvent::Invoice(forged)],
        })
        .unwrap();
    assert_eq!(r.accepted, 0);
    assert_eq!(r.rejected[0].code, "bad_signature");
}

/// A blue invoice of the first number of a grant.
fn invoice_of(g: &RollGrant) -> IssuedInvoice {
    IssuedInvoice {
        serial: serial(),
        machine: 0,
        kind: g.kind,
        variant: Variant::Standard,
        code: g.code.clone(),
        number: g.first,
        counter: 1,
        time: nov10(),
        request_id: [5; 16],
        content_digest: [6; 32],
        buyer: None,
        amount: Fen(100),
        tax: Fen(13),
        red: None,
        oil: None,
    }
}

#[test]
fn tokens_and_lists_decode() {
    let (_server, c) = start();
    c.set_time(nov10()).unwrap();
    provisioned(&c);
    let clock = c
        .clock(&ClockRequest {
            serial: serial(),
            time: nov10().plus_secs(60),
        })
        .unwrap();
    assert_eq!(clock.body.time, nov10().plus_secs(60));
    let unblock = c
        .unblock(&UnblockRequest {
            serial: serial(),
            new_pin: Pin::new("87654321").unwrap(),
        })
        .unwrap();
    assert_eq!(unblock.body.new_pin.as_str(), "87654321");
    let upd = c
        .request_update(&UpdateRequest {
            serial: serial(),
            changes: vec![UpdateChange::Limits(limits(InvoiceKind::Normal))],
        })
        .unwrap();
    assert_eq!(c.updates(&serial(), 0).unwrap(), vec![upd.clone()]);
    assert!(c.updates(&serial(), upd.body.seq).unwrap().is_empty());
    c.settings(&BureauSettings {
        manual_red_review: true,
    })
    .unwrap();
    assert!(
        c.red_forms(Some(&tp()), Some(RedFormState::UnderReview))
            .unwrap()
            .is_empty()
    );
}
