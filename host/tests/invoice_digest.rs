//! The content digest (D5): canonical, versioned, sensitive to every part of the content, and
//! what the IssueRequest carries.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

#[path = "invoice_support/mod.rs"]
mod common;

use common::*;
use sm3::{Digest as _, Sm3};
use taxdisk_host::invoice::*;
use taxdisk_protocol::types::{InvoiceCode, InvoiceNumber, OilUse, RedRef, TaxRate, Variant};

fn base() -> Draft {
    let mut dr = with_lines(normal(), 2);
    dr.remarks = "合同号 2026-001".into();
    dr.payee = "李收款".into();
    dr.reviewer = "王复核".into();
    dr
}

fn digest(dr: Draft) -> [u8; 32] {
    dr.validate().unwrap().content_digest()
}

#[test]
fn h07_digest_is_sm3_of_versioned_canonical_bytes() {
    let inv = base().validate().unwrap();
    let bytes = canonical_bytes(&inv);
    assert!(bytes.starts_with(b"TAXDISK-INVOICE-CONTENT"));
    assert_eq!(bytes[23], DIGEST_VERSION);
    assert_eq!(bytes[24], 2, "kind byte is the Aisino number");
    let expected: [u8; 32] = Sm3::digest(&bytes).into();
    assert_eq!(inv.content_digest(), expected);
    assert_eq!(content_digest(&inv), expected);
}

#[test]
fn h07_digest_is_deterministic_and_independent_of_entry_form() {
    assert_eq!(digest(base()), digest(base()));
    // 10.50 and 10.5 are the same price; 21 and 21.00 the same amount.
    let mut a = normal();
    a.add_line(&LineInput::new("x", code(), TaxRate(1300)).qty_price(d("2"), d("10.50")))
        .unwrap();
    let mut b = normal();
    b.add_line(&LineInput::new("x", code(), TaxRate(1300)).qty_price(d("2.0"), d("10.5")))
        .unwrap();
    assert_eq!(digest(a), digest(b));
}

#[test]
fn h07_digest_changes_with_every_part_of_the_content() {
    let reference = digest(base());
    type Change = Box<dyn Fn(&mut Draft)>;
    let changes: Vec<(&str, Change)> = vec![
        ("buyer name", Box::new(|d| d.buyer.name.push('X'))),
        ("buyer id", Box::new(|d| d.buyer.taxpayer_id = None)),
        ("buyer bank", Box::new(|d| d.buyer.bank_account.push('1'))),
        (
            "seller address",
            Box::new(|d| d.seller.address_phone.push('1')),
        ),
        ("remarks", Box::new(|d| d.remarks.push('!'))),
        ("payee", Box::new(|d| d.payee.clear())),
        ("reviewer", Box::new(|d| d.reviewer.push('2'))),
        ("issuer", Box::new(|d| d.issuer.push('2'))),
        ("line name", Box::new(|d| d.lines[1].name.push('Y'))),
        ("line spec", Box::new(|d| d.lines[0].spec.push('Z'))),
        ("line order", Box::new(|d| d.lines.swap(0, 1))),
        (
            "variant",
            Box::new(|d| d.fields = KindFields::Normal(Variant::Purchase)),
        ),
        ("kind", Box::new(|d| d.fields = KindFields::Electronic)),
        (
            "oil",
            Box::new(|d| {
                d.oil = Some(OilUse {
                    category: 1,
                    milli_quantity: 1,
                })
            }),
        ),
        ("rare earth", Box::new(|d| d.rare_earth = true)),
        ("sales list", Box::new(|d| d.sales_list = true)),
    ];
    let mut seen = vec![reference];
    for (what, change) in changes {
        let mut dr = base();
        change(&mut dr);
        let dg = digest(dr);
        assert!(!seen.contains(&dg), "{what} did not change the digest");
        seen.push(dg);
    }
}

#[test]
fn h07_digest_covers_red_reference_and_vehicle_fields() {
    let mut red = normal();
    red.add_line(&goods("x", "-1", "10")).unwrap();
    red.red = Some(RedRef::Original {
        code: InvoiceCode::new("031001600104").unwrap(),
        number: InvoiceNumber::new(5).unwrap(),
    });
    let mut other = red.clone();
    other.red = Some(RedRef::Original {
        code: InvoiceCode::new("031001600104").unwrap(),
        number: InvoiceNumber::new(6).unwrap(),
    });
    assert_ne!(digest(red), digest(other));

    let car = |engine: &str| {
        let mut dr = draft(KindFields::MotorVehicle(Box::new(MotorVehicleFields {
            vehicle_type: "轿车".into(),
            brand_model: "红旗".into(),
            origin: "长春".into(),
            certificate_number: "WAB1".into(),
            engine_number: engine.into(),
            vin: "LFV2A21K6A3012345".into(),
            ..Default::default()
        })));
        dr.add_line(&goods("轿车", "1", "100000")).unwrap();
        digest(dr)
    };
    assert_ne!(car("E1"), car("E2"));
}

#[test]
fn h07_issue_request_is_built_from_the_invoice() {
    let inv = base().validate().unwrap();
    let req = inv.issue_request([3; 16]);
    assert_eq!(req.content_digest, inv.content_digest());
    assert_eq!(req.amount, inv.amount_fen());
    assert_eq!(req.tax, inv.tax_fen());
    assert_eq!(req.kind, inv.kind());
    assert_eq!(req.variant, Variant::Standard);
    assert_eq!(req.request_id, [3; 16]);
}

/// Version 1 of the encoding is a contract: this digest changes only with a new version.
#[test]
fn h07_digest_golden_v1() {
    let inv = base().validate().unwrap();
    assert_eq!(hex::encode(inv.content_digest()), GOLDEN_V1);
}

const GOLDEN_V1: &str = "73a6c7d9b3943b26074f1d45176a57a7dd7f64079bf0379272d63f09435989d8";
