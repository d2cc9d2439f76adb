//! H7 / F3 through the public invoice API: discounts (FAQ 4.7), sales lists (FAQ 4.11), red
//! drafts (FAQ 7.x), full-width input (FAQ 4.18) and the issue request a draft becomes. The
//! kinds, fields, rates and tolerances (F1-F8) are in `invoice_rules.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

#[path = "invoice_support/mod.rs"]
mod common;

use common::*;
use taxdisk_host::invoice::text::{parse_class_code, parse_decimal, parse_taxpayer_id};
use taxdisk_host::invoice::*;
use taxdisk_protocol::types::{InvoiceCode, InvoiceNumber, OilUse, RedRef, TaxRate};

// ---- discounts (FAQ 4.7) -----------------------------------------------------------------------

#[test]
fn h07_discount_by_rate_follows_each_line() {
    let mut dr = with_lines(normal(), 3); // each 21.00
    apply_discount(&mut dr, 1, 2, Discount::Rate(d("10"))).unwrap();
    let kinds: Vec<_> = dr.lines.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            LineKind::Goods,
            LineKind::Discount,
            LineKind::Goods,
            LineKind::Discount,
            LineKind::Goods
        ]
    );
    let disc = &dr.lines[1];
    assert_eq!(disc.amount, d("-2.10"));
    assert_eq!(disc.tax, d("-0.27"));
    assert_eq!(disc.name, dr.lines[0].name);
    assert_eq!(disc.class_code, dr.lines[0].class_code);
    assert_eq!(disc.rate, dr.lines[0].rate);
    let inv = dr.validate().unwrap();
    assert_eq!(inv.totals().amount, d("58.80"));
}

#[test]
fn h07_discount_by_amount_split_with_remainder_on_last() {
    let mut dr = normal();
    for a in ["10", "10", "10"] {
        dr.add_line(&LineInput::new("x", code(), TaxRate(1300)).amount(d(a)))
            .unwrap();
    }
    apply_discount(&mut dr, 1, 3, Discount::Amount(d("1.00"))).unwrap();
    let shares: Vec<_> = dr
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Discount)
        .map(|l| l.amount)
        .collect();
    assert_eq!(shares, [d("-0.33"), d("-0.33"), d("-0.34")]);
    assert_eq!(dr.validate().unwrap().totals().amount, d("29.00"));
}

#[test]
fn h07_discount_line_never_first() {
    let mut dr = with_lines(normal(), 2);
    apply_discount(&mut dr, 2, 1, Discount::Rate(d("10"))).unwrap();
    let disc = dr.lines.remove(2);
    dr.lines.insert(0, disc);
    let e = err(dr);
    assert_eq!(e, InvoiceError::DiscountFirst { line: 1 });
    assert_eq!(e.line(), Some(1));
}

#[test]
fn h07_discount_never_after_discount() {
    let mut dr = with_lines(normal(), 1);
    apply_discount(&mut dr, 1, 1, Discount::Rate(d("10"))).unwrap();
    let again = dr.lines[1].clone();
    dr.lines.push(again);
    assert_eq!(
        err(dr.clone()),
        InvoiceError::DiscountAfterDiscount { line: 3 }
    );
    // The API refuses discounting a discounted line too.
    dr.lines.pop();
    assert!(matches!(
        apply_discount(&mut dr, 1, 1, Discount::Rate(d("5"))),
        Err(InvoiceError::DiscountRequest { .. })
    ));
    assert!(matches!(
        apply_discount(&mut dr, 2, 1, Discount::Rate(d("5"))),
        Err(InvoiceError::DiscountRequest { .. })
    ));
}

#[test]
fn h07_discount_line_must_match_its_line() {
    let mut dr = with_lines(normal(), 1);
    apply_discount(&mut dr, 1, 1, Discount::Rate(d("10"))).unwrap();
    let mut x = dr.clone();
    x.lines[1].name = "别的".into();
    assert_eq!(
        err(x),
        InvoiceError::DiscountMismatch {
            line: 2,
            field: "name"
        }
    );
    let mut x = dr.clone();
    x.lines[1].class_code = parse_class_code("3040201010000000000").unwrap();
    assert!(matches!(
        err(x),
        InvoiceError::DiscountMismatch { line: 2, .. }
    ));
    let mut x = dr;
    x.lines[1].rate = TaxRate(900);
    x.lines[1].tax = d("-0.19");
    assert_eq!(
        err(x),
        InvoiceError::DiscountMismatch {
            line: 2,
            field: "rate"
        }
    );
}

#[test]
fn h07_full_discount_refused() {
    let mut dr = with_lines(normal(), 2);
    for bad in [
        Discount::Rate(d("100")),
        Discount::Rate(d("0")),
        Discount::Amount(d("42.00")),
    ] {
        assert!(matches!(
            apply_discount(&mut dr.clone(), 1, 2, bad),
            Err(InvoiceError::DiscountRequest { .. })
        ));
    }
    // A hand-made discount equal to the line is refused by validation.
    apply_discount(&mut dr, 1, 1, Discount::Rate(d("50"))).unwrap();
    dr.lines[1].amount = d("-21.00");
    dr.lines[1].tax = d("-2.73");
    assert!(matches!(
        err(dr),
        InvoiceError::DiscountAmount { line: 2, .. }
    ));
}

#[test]
fn h07_discount_range_must_exist() {
    let mut dr = with_lines(normal(), 2);
    assert!(apply_discount(&mut dr, 2, 2, Discount::Rate(d("10"))).is_err());
    assert!(apply_discount(&mut dr, 0, 1, Discount::Rate(d("10"))).is_err());
    assert_eq!(dr.lines.len(), 2, "a refused discount changes nothing");
}

#[test]
fn h10_red_takes_no_discount() {
    let mut dr = red_normal();
    dr.add_line(&goods("x", "-2", "10")).unwrap();
    let e = apply_discount(&mut dr, 1, 1, Discount::Rate(d("10"))).unwrap_err();
    assert_eq!(e.rule(), "H10");
    // A discount line smuggled into a red draft is refused too.
    let mut blue = with_lines(normal(), 1);
    apply_discount(&mut blue, 1, 1, Discount::Rate(d("10"))).unwrap();
    let mut red = red_normal();
    red.add_line(&goods("商品0", "-2", "10.5")).unwrap();
    red.lines.push(blue.lines[1].clone());
    assert_eq!(err(red), InvoiceError::DiscountOnRed { line: 2 });
}

// ---- sales list (FAQ 4.11) ---------------------------------------------------------------------

#[test]
fn h07_more_than_eight_lines_need_a_sales_list() {
    assert!(with_lines(normal(), 8).validate().is_ok());
    let dr = with_lines(normal(), 9);
    assert_eq!(
        err(dr.clone()),
        InvoiceError::NeedsSalesList { lines: 9, max: 8 }
    );
    let mut listed = dr;
    listed.sales_list = true;
    let inv = listed.validate().unwrap();
    let printed = inv.printed_lines();
    assert_eq!(printed.len(), 1);
    assert_eq!(printed[0].0, "详见销货清单");
    assert_eq!(printed[0].1, inv.totals().amount);
    // Roll invoices are paper too.
    assert!(matches!(
        err(with_lines(draft(KindFields::Roll), 9)),
        InvoiceError::NeedsSalesList { .. }
    ));
}

#[test]
fn h07_electronic_invoices_have_no_eight_line_limit() {
    assert!(
        with_lines(draft(KindFields::Electronic), 20)
            .validate()
            .is_ok()
    );
}

#[test]
fn h07_oil_and_rare_earth_take_no_list() {
    let mut oil = with_lines(normal(), 9);
    oil.sales_list = true;
    oil.oil = Some(OilUse {
        category: 1,
        milli_quantity: 1000,
    });
    let e = err(oil.clone());
    assert!(matches!(e, InvoiceError::ListNotAllowed { rule: "H7", .. }));
    assert!(e.to_string().contains("FAQ 8.7"));
    oil.sales_list = false; // and 9 lines without a list are refused too
    assert!(matches!(err(oil), InvoiceError::ListNotAllowed { .. }));
    let mut re = with_lines(normal(), 2);
    re.sales_list = true;
    re.rare_earth = true;
    assert!(matches!(err(re), InvoiceError::ListNotAllowed { .. }));
}

#[test]
fn h10_red_takes_no_list() {
    let mut dr = red_normal();
    dr.add_line(&goods("x", "-2", "10")).unwrap();
    dr.sales_list = true;
    let e = err(dr);
    assert!(matches!(
        e,
        InvoiceError::ListNotAllowed { rule: "H10", .. }
    ));
}

// ---- red (FAQ 7.x) -----------------------------------------------------------------------------

#[test]
fn h10_red_lines_negative_amount_and_quantity() {
    let mut dr = red_normal();
    dr.add_line(&goods("x", "-2", "10")).unwrap();
    let inv = dr.clone().validate().unwrap();
    assert_eq!(inv.amount_fen().0, -2000);
    assert_eq!(inv.tax_fen().0, -260);
    let req = inv.issue_request([7; 16]);
    assert!(req.red.is_some());
    assert_eq!(req.amount.0, -2000);
    dr.lines[0].quantity = Some(d("2"));
    assert!(matches!(
        err(dr),
        InvoiceError::Sign {
            rule: "H10",
            field: "quantity",
            ..
        }
    ));
    let mut pos = red_normal();
    pos.add_line(&goods("x", "2", "10")).unwrap();
    assert!(matches!(
        err(pos),
        InvoiceError::Sign {
            rule: "H10",
            field: "amount",
            ..
        }
    ));
}

#[test]
fn h10_red_special_names_info_form() {
    let mut dr = draft(KindFields::Special);
    dr.add_line(&goods("x", "-1", "10")).unwrap();
    dr.red = Some(RedRef::Original {
        code: InvoiceCode::new("3100153130").unwrap(),
        number: InvoiceNumber::new(1).unwrap(),
    });
    assert!(matches!(err(dr.clone()), InvoiceError::RedRef { .. }));
    dr.red = Some(RedRef::InfoForm(form_number()));
    assert!(dr.validate().is_ok());
    // Other kinds name the original, of their own kind.
    let mut n = normal();
    n.add_line(&goods("x", "-1", "10")).unwrap();
    n.red = Some(RedRef::InfoForm(form_number()));
    assert!(matches!(err(n.clone()), InvoiceError::RedRef { .. }));
    n.red = Some(RedRef::Original {
        code: InvoiceCode::new("031001600111").unwrap(), // electronic code
        number: InvoiceNumber::new(1).unwrap(),
    });
    assert_eq!(err(n).rule(), "F2");
}

// ---- FAQ 4.18: full-width input ----------------------------------------------------------------

#[test]
fn h07_full_width_digits_normalized() {
    assert_eq!(parse_decimal("quantity", "１２．５").unwrap(), d("12.5"));
    assert_eq!(parse_decimal("amount", " －３ ").unwrap(), d("-3"));
    assert_eq!(
        parse_class_code("１０９０１０１０１００００００００００")
            .unwrap()
            .as_str(),
        "1090101010000000000"
    );
    assert_eq!(
        parse_taxpayer_id("９１３５０１００ｍ０００１００ｙ４３")
            .unwrap()
            .as_str(),
        "91350100M000100Y43"
    );
}

#[test]
fn h07_full_width_junk_refused_clearly() {
    let e = parse_decimal("quantity", "１２，５").unwrap_err();
    assert_eq!(
        e,
        InvoiceError::Text {
            field: "quantity",
            position: 3,
            found: '，'
        }
    );
    assert!(e.to_string().contains("half-width"));
    assert!(matches!(
        parse_decimal("price", "1.2.3"),
        Err(InvoiceError::Text { position: 4, .. })
    ));
    assert!(matches!(
        parse_decimal("price", "1-2"),
        Err(InvoiceError::Text { .. })
    ));
    assert!(matches!(
        parse_decimal("price", ""),
        Err(InvoiceError::Missing { .. })
    ));
    assert!(matches!(
        parse_class_code("１０９０一"),
        Err(InvoiceError::Text { found: '一', .. })
    ));
}

// ---- F3, issue request ---------------------------------------------------------------------

#[test]
fn f03_bad_taxpayer_id_refused() {
    let e = parse_taxpayer_id("91350100M000100Y44").unwrap_err();
    assert_eq!(e.rule(), "F3");
}

#[test]
fn h07_issue_request_carries_totals_and_buyer() {
    let mut dr = with_lines(draft(KindFields::Special), 3);
    dr.oil = Some(OilUse {
        category: 2,
        milli_quantity: 5_000,
    });
    let inv = dr.validate().unwrap();
    let req = inv.issue_request([9; 16]);
    assert_eq!(req.request_id, [9; 16]);
    assert_eq!(req.amount.0, 6300);
    assert_eq!(req.tax.0, 3 * 273);
    assert_eq!(req.buyer, buyer().taxpayer_id);
    assert_eq!(
        req.oil,
        Some(OilUse {
            category: 2,
            milli_quantity: 5_000
        })
    );
    assert_eq!(req.content_digest, inv.content_digest());
    assert_eq!(req.red, None);
}

#[test]
fn h07_invoice_roundtrips_through_json_and_revalidates() {
    let inv = with_lines(normal(), 2).validate().unwrap();
    let json = serde_json::to_string(&inv).unwrap();
    let back: Invoice = serde_json::from_str(&json).unwrap();
    assert_eq!(back, inv);
    // A tampered stored invoice is refused on load.
    let bad = json.replace("\"amount\":\"21.00\"", "\"amount\":\"99.00\"");
    assert_ne!(bad, json);
    assert!(serde_json::from_str::<Invoice>(&bad).is_err());
}
