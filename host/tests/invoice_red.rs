//! Red drafts from blue invoices (H10 composition side, FAQ 7.7, 7.11, 7.18).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

#[path = "invoice_support/mod.rs"]
mod common;

use common::*;
use taxdisk_host::invoice::*;
use taxdisk_protocol::types::{InvoiceCode, InvoiceNumber, RedRef};

fn original_ref(code: &str) -> RedRef {
    RedRef::Original {
        code: InvoiceCode::new(code).unwrap(),
        number: InvoiceNumber::new(42).unwrap(),
    }
}

#[test]
fn h10_full_reversal_merges_discounts_and_negates() {
    let mut dr = with_lines(normal(), 3); // 21.00 each at 13 %
    apply_discount(&mut dr, 1, 2, Discount::Rate(d("10"))).unwrap();
    let blue = dr.validate().unwrap();
    let red = blue.full_reversal(original_ref("031001600104")).unwrap();
    assert_eq!(
        red.lines.len(),
        3,
        "discounts merged into their lines (FAQ 7.7)"
    );
    assert!(red.lines.iter().all(|l| l.kind == LineKind::Goods));
    assert_eq!(red.lines[0].amount, d("-18.90"));
    assert_eq!(red.lines[0].quantity, Some(d("-2")));
    assert_eq!(red.lines[0].unit_price, Some(d("9.45")));
    assert_eq!(red.lines[2].amount, d("-21.00"));
    let red = red.validate().unwrap();
    assert_eq!(red.amount_fen().0, -blue.amount_fen().0);
    assert_eq!(red.tax_fen().0, -blue.tax_fen().0);
    // A red invoice is not reversed again.
    assert!(red.full_reversal(original_ref("031001600104")).is_err());
}

#[test]
fn h10_full_reversal_drops_the_sales_list() {
    let mut dr = with_lines(draft(KindFields::Electronic), 12);
    dr.sales_list = true;
    let blue = dr.validate().unwrap();
    let red = blue.full_reversal(original_ref("031001600111")).unwrap();
    assert!(!red.sales_list);
    assert!(red.validate().is_ok(), "electronic: no 8-line limit");
}

#[test]
fn h10_used_car_reversed_in_full_only() {
    let uc = UsedCarFields {
        car_seller: Party::named("李四"),
        plate: "闽A12345".into(),
        registration_number: "350001234567".into(),
        vin: "LSVAA4182E2123456".into(),
        vehicle_type: "轿车".into(),
        brand_model: "大众".into(),
        transfer_office: "福州市车管所".into(),
        ..Default::default()
    };
    let mut dr = draft(KindFields::UsedCar(Box::new(uc)));
    dr.add_line(&goods("二手车", "1", "50000")).unwrap();
    let blue = dr.validate().unwrap();
    let r = original_ref("031001600118");
    let full = blue.full_reversal(r.clone()).unwrap();
    assert!(check_full_reversal(&blue, &full).is_ok());
    assert!(full.clone().validate().is_ok());
    // Partial: a smaller amount is refused.
    let mut partial = full.clone();
    partial.lines[0] = goods("二手车", "-1", "20000").compute().unwrap();
    let e = check_full_reversal(&blue, &partial).unwrap_err();
    assert_eq!(e.rule(), "H10");
    assert!(e.to_string().contains("7.18"));
    // Any changed field is refused too.
    let mut changed = full;
    changed.remarks = "改".into();
    assert!(check_full_reversal(&blue, &changed).is_err());
}
