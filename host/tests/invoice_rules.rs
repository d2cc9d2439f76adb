//! H7 / F1-F8 (and the composition side of H10) through the public invoice API.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

#[path = "invoice_support/mod.rs"]
mod common;

use common::*;
use rust_decimal::Decimal;
use taxdisk_host::invoice::text::{parse_class_code, parse_decimal, parse_taxpayer_id};
use taxdisk_host::invoice::*;
use taxdisk_protocol::types::{
    InfoFormNumber, InvoiceCode, InvoiceKind, InvoiceNumber, OilUse, RedRef, TaxRate, Variant,
    ZeroRateFlag,
};

fn err(dr: Draft) -> InvoiceError {
    dr.validate().expect_err("draft should be refused")
}

fn red_normal() -> Draft {
    let mut dr = normal();
    dr.red = Some(RedRef::Original {
        code: InvoiceCode::new("031001600104").unwrap(),
        number: InvoiceNumber::new(12).unwrap(),
    });
    dr
}

fn form_number() -> InfoFormNumber {
    let mut n = *b"4403012611000010";
    n[15] = taxdisk_protocol::validate::info_form_check_digit(&n[..15]);
    InfoFormNumber::new(std::str::from_utf8(&n).unwrap()).unwrap()
}

fn vehicle() -> MotorVehicleFields {
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

fn used_car() -> UsedCarFields {
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

// ---- F1: kinds and their fields ------------------------------------------------------------

#[test]
fn f01_every_kind_validates_with_its_fields() {
    let cases = [
        (KindFields::Special, InvoiceKind::Special),
        (KindFields::Normal(Variant::Standard), InvoiceKind::Normal),
        (KindFields::Normal(Variant::Purchase), InvoiceKind::Normal),
        (KindFields::Normal(Variant::Export), InvoiceKind::Normal),
        (KindFields::Electronic, InvoiceKind::Electronic),
        (KindFields::Roll, InvoiceKind::Roll),
        (
            KindFields::MotorVehicle(Box::new(vehicle())),
            InvoiceKind::MotorVehicle,
        ),
        (
            KindFields::UsedCar(Box::new(used_car())),
            InvoiceKind::UsedCar,
        ),
    ];
    for (fields, kind) in cases {
        let mut dr = draft(fields);
        dr.add_line(&goods("车辆或商品", "1", "100")).unwrap();
        let inv = dr.validate().unwrap();
        assert_eq!(inv.kind(), kind);
        assert_eq!(inv.issue_request([0; 16]).kind, kind);
    }
}

#[test]
fn h07_purchase_invoice_prints_purchase_mark() {
    let mut dr = draft(KindFields::Normal(Variant::Purchase));
    dr.add_line(&goods("稻谷", "100", "2.5")).unwrap();
    let inv = dr.validate().unwrap();
    assert_eq!(inv.title_mark(), Some("收购"));
    assert_eq!(inv.issue_request([1; 16]).variant, Variant::Purchase);
    assert_eq!(
        with_lines(normal(), 1).validate().unwrap().title_mark(),
        None
    );
}

#[test]
fn h07_export_invoice_in_cny_only() {
    let mut dr = with_lines(draft(KindFields::Normal(Variant::Export)), 1);
    dr.currency = "USD".into();
    let e = err(dr);
    assert!(matches!(e, InvoiceError::Currency { ref found } if found == "USD"));
    assert_eq!(e.rule(), "H7");
    assert!(e.to_string().contains("CNY"));
}

#[test]
fn h07_motor_vehicle_needs_its_fields_and_valid_vin() {
    let mut v = vehicle();
    v.engine_number.clear();
    let mut dr = draft(KindFields::MotorVehicle(Box::new(v)));
    dr.add_line(&goods("轿车", "1", "150000")).unwrap();
    assert!(matches!(err(dr.clone()), InvoiceError::Missing { field } if field.contains("engine")));

    let mut v = vehicle();
    v.vin = "LFV2A21K6A30123O5".into(); // letter O
    dr.fields = KindFields::MotorVehicle(Box::new(v));
    assert!(matches!(
        err(dr.clone()),
        InvoiceError::Text {
            found: 'O',
            position: 16,
            ..
        }
    ));

    let mut v = vehicle();
    v.vin = "LFV2A21K6A301234".into(); // 16 characters
    dr.fields = KindFields::MotorVehicle(Box::new(v));
    assert!(matches!(err(dr), InvoiceError::KindFields { .. }));
}

#[test]
fn h07_used_car_needs_plate_and_registration() {
    for strip in [0, 1, 2] {
        let mut u = used_car();
        match strip {
            0 => u.plate.clear(),
            1 => u.registration_number.clear(),
            _ => u.transfer_office.clear(),
        }
        let mut dr = draft(KindFields::UsedCar(Box::new(u)));
        dr.add_line(&goods("二手车", "1", "50000")).unwrap();
        assert!(
            matches!(err(dr), InvoiceError::Missing { .. }),
            "case {strip}"
        );
    }
}

#[test]
fn h07_vehicle_invoices_have_exactly_one_line() {
    let mut dr = draft(KindFields::MotorVehicle(Box::new(vehicle())));
    dr.add_line(&goods("轿车", "1", "150000")).unwrap();
    dr.add_line(&goods("轿车", "1", "150000")).unwrap();
    assert!(matches!(
        err(dr),
        InvoiceError::VehicleLineCount { found: 2, .. }
    ));
}

#[test]
fn h07_special_invoice_needs_buyer_id_address_and_bank() {
    let mut dr = with_lines(draft(KindFields::Special), 1);
    dr.buyer.taxpayer_id = None;
    assert!(
        matches!(err(dr.clone()), InvoiceError::Missing { field } if field.contains("taxpayer"))
    );
    dr.buyer = buyer();
    dr.buyer.bank_account.clear();
    assert!(matches!(err(dr.clone()), InvoiceError::Missing { field } if field.contains("bank")));
    // A normal invoice may go to an individual without id.
    let mut n = with_lines(normal(), 1);
    n.buyer = Party::named("王五");
    assert!(n.validate().is_ok());
}

#[test]
fn h07_no_lines_refused() {
    assert_eq!(err(normal()), InvoiceError::NoLines);
}

// ---- F7: rates, zero rate --------------------------------------------------------------------

#[test]
fn f07_rate_not_in_force_refused_with_line_number() {
    let mut dr = with_lines(normal(), 2);
    dr.add_line(&LineInput::new("x", code(), TaxRate(1200)).amount(d("10")))
        .unwrap();
    let e = err(dr);
    assert!(matches!(e, InvoiceError::Rate { line: 3, .. }));
    assert_eq!(e.rule(), "F7");
    assert_eq!(e.line(), Some(3));
}

#[test]
fn f07_historical_rates_only_on_red() {
    for rate in TaxRate::HISTORICAL {
        let mut blue = normal();
        blue.add_line(&LineInput::new("旧", code(), rate).amount(d("100")))
            .unwrap();
        let e = err(blue);
        assert!(e.to_string().contains("red invoices only"), "{e}");
        let mut red = red_normal();
        red.add_line(&LineInput::new("旧", code(), rate).amount(d("-100")))
            .unwrap();
        assert!(red.validate().is_ok(), "{rate}");
    }
}

#[test]
fn h07_special_cannot_be_zero_rated() {
    let mut dr = draft(KindFields::Special);
    dr.add_line(
        &LineInput::new("免税品", code(), TaxRate(0))
            .amount(d("100"))
            .zero_flag(ZeroRateFlag::TaxFree),
    )
    .unwrap();
    let e = err(dr);
    assert_eq!(e, InvoiceError::ZeroRateOnSpecial { line: 1 });
    assert_eq!(e.rule(), "H7");
}

#[test]
fn h07_zero_rate_prints_stars() {
    let mut dr = normal();
    dr.add_line(
        &LineInput::new("免税品", code(), TaxRate(0))
            .amount(d("100"))
            .zero_flag(ZeroRateFlag::TaxFree),
    )
    .unwrap();
    let inv = dr.validate().unwrap();
    assert_eq!(inv.lines()[0].printed_rate(), "***");
    assert_eq!(inv.lines()[0].printed_tax(), "***");
    assert_eq!(inv.totals().tax, Decimal::ZERO);
    let taxed = with_lines(normal(), 1).validate().unwrap();
    assert_eq!(taxed.lines()[0].printed_rate(), "13%");
    assert_eq!(taxed.lines()[0].printed_tax(), "2.73");
}

#[test]
fn f07_zero_rate_needs_flag_and_flag_needs_zero_rate() {
    let mut dr = normal();
    dr.add_line(&LineInput::new("x", code(), TaxRate(0)).amount(d("100")))
        .unwrap();
    assert!(matches!(
        err(dr),
        InvoiceError::ZeroRateFlag { line: 1, .. }
    ));
    let mut dr = normal();
    dr.add_line(
        &LineInput::new("x", code(), TaxRate(900))
            .amount(d("100"))
            .zero_flag(ZeroRateFlag::Ordinary),
    )
    .unwrap();
    assert!(matches!(
        err(dr),
        InvoiceError::ZeroRateFlag { line: 1, .. }
    ));
}

#[test]
fn f07_export_refund_flag_only_on_export_invoices() {
    let line = LineInput::new("出口货物", code(), TaxRate(0))
        .amount(d("100"))
        .zero_flag(ZeroRateFlag::ExportRefund);
    let mut dr = normal();
    dr.add_line(&line).unwrap();
    assert!(matches!(err(dr), InvoiceError::ZeroRateFlag { .. }));
    let mut ex = draft(KindFields::Normal(Variant::Export));
    ex.add_line(&line).unwrap();
    assert!(ex.validate().is_ok());
}

#[test]
fn f07_class_code_must_have_19_digits() {
    let e = parse_class_code("109010101").unwrap_err();
    assert_eq!(e.rule(), "F7");
    assert!(parse_class_code("1090101010000000000").is_ok());
}

// ---- F8 and tolerances -------------------------------------------------------------------------

#[test]
fn f08_half_up_rounding() {
    // 0.75 x 6 % = 0.045: half up gives 0.05 where banker's rounding would give 0.04.
    let mut dr = red_normal();
    dr.add_line(&LineInput::new("x", code(), TaxRate(600)).amount(d("-0.75")))
        .unwrap();
    assert_eq!(dr.lines[0].tax, d("-0.05"), "half away from zero for red");
    let mut dr = normal();
    dr.add_line(&LineInput::new("x", code(), TaxRate(600)).amount(d("0.75")))
        .unwrap();
    assert_eq!(
        dr.lines[0].tax,
        d("0.05"),
        "0.045 rounds up, banker's would give 0.04"
    );
    dr.add_line(&goods("y", "3", "0.335")).unwrap();
    assert_eq!(dr.lines[1].amount, d("1.01"), "1.005 rounds up");
    let inv = dr.validate().unwrap();
    assert_eq!(inv.amount_fen().0, 176);
    assert_eq!(inv.tax_fen().0, 5 + 13);
}

#[test]
fn f08_amount_with_three_decimals_refused() {
    let e = LineInput::new("x", code(), TaxRate(1300))
        .amount(d("1.005"))
        .compute()
        .unwrap_err();
    assert_eq!(e.rule(), "F8");
    let mut dr = normal();
    let e = dr
        .add_line(&LineInput::new("x", code(), TaxRate(1300)).amount(d("1.005")))
        .unwrap_err();
    assert_eq!(e.line(), Some(1));
}

#[test]
fn h07_quantity_times_price_within_one_fen() {
    let mut dr = normal();
    dr.add_line(&goods("x", "3", "3.33")).unwrap(); // 9.99
    dr.lines[0].amount = d("10.00"); // off by 0.01: allowed
    dr.lines[0].tax = d("1.30");
    assert!(dr.clone().validate().is_ok());
    dr.lines[0].amount = d("10.01"); // off by 0.02
    let e = err(dr);
    assert!(
        matches!(e, InvoiceError::QuantityPrice { line: 1, .. }),
        "{e}"
    );
}

#[test]
fn h07_line_tax_within_six_fen() {
    let mut dr = normal();
    dr.add_line(
        &LineInput::new("x", code(), TaxRate(1300))
            .amount(d("100"))
            .tax(d("13.06")),
    )
    .unwrap();
    assert!(dr.clone().validate().is_ok());
    dr.lines[0].tax = d("13.07");
    let e = err(dr);
    assert!(matches!(e, InvoiceError::LineTax { line: 1, .. }));
    assert!(e.to_string().contains("0.06"));
}

#[test]
fn h07_total_tax_within_1_27() {
    // 30 lines each +0.05 off: 1.50 total deviation > 1.27 (with a sales list).
    let mut dr = normal();
    dr.sales_list = true;
    for _ in 0..30 {
        dr.add_line(
            &LineInput::new("x", code(), TaxRate(1300))
                .amount(d("100"))
                .tax(d("13.05")),
        )
        .unwrap();
    }
    assert!(matches!(err(dr.clone()), InvoiceError::TotalTax { .. }));
    // 25 lines: 1.25, allowed.
    dr.lines.truncate(25);
    assert!(dr.validate().is_ok());
}

#[test]
fn h07_with_tax_price_converted() {
    let mut dr = normal();
    dr.add_line(&goods("含税", "2", "56.5").with_tax()).unwrap();
    let l = &dr.lines[0];
    assert_eq!(l.amount, d("100.00"));
    assert_eq!(l.tax, d("13.00"));
    assert_eq!(l.unit_price, Some(d("50")));
    assert_eq!(l.printed_unit_price(), Some(d("56.5")));
    assert_eq!(l.price_mode, PriceMode::WithTax);
    // An awkward gross: 100 at 13 % -> 88.50 + 11.50.
    let l = LineInput::new("x", code(), TaxRate(1300))
        .amount(d("100"))
        .with_tax()
        .compute()
        .unwrap();
    assert_eq!((l.amount, l.tax), (d("88.50"), d("11.50")));
}

#[test]
fn h07_quantity_without_price_refused() {
    let e = LineInput::new("x", code(), TaxRate(1300))
        .quantity(d("2"))
        .compute()
        .unwrap_err();
    assert!(matches!(e, InvoiceError::QuantityPriceMissing { .. }));
    let mut dr = with_lines(normal(), 1);
    dr.lines[0].unit_price = None;
    assert!(matches!(
        err(dr),
        InvoiceError::QuantityPriceMissing { line: 1, .. }
    ));
}

#[test]
fn h07_blue_lines_positive() {
    let mut dr = normal();
    dr.add_line(&LineInput::new("x", code(), TaxRate(1300)).amount(d("-5")))
        .unwrap();
    let e = err(dr);
    assert!(matches!(
        e,
        InvoiceError::Sign {
            rule: "H7",
            line: 1,
            ..
        }
    ));
}

#[test]
fn h07_zero_amount_line_refused() {
    // FAQ 4.10: a total of zero is impossible because goods lines are positive and discounts
    // smaller than their lines; a zero line is refused as not positive.
    let mut dr = normal();
    dr.add_line(
        &LineInput::new("x", code(), TaxRate(0))
            .amount(d("0"))
            .zero_flag(ZeroRateFlag::Ordinary),
    )
    .unwrap();
    assert!(matches!(
        err(dr),
        InvoiceError::Sign {
            line: 1,
            field: "amount",
            ..
        }
    ));
}

#[test]
fn f08_amount_too_large_refused() {
    let mut dr = normal();
    let e = dr
        .add_line(&LineInput::new("x", code(), TaxRate(1300)).amount(d("100000000000000000000")))
        .unwrap_err();
    assert!(matches!(e, InvoiceError::Overflow { .. }), "{e}");
    assert_eq!(e.rule(), "F8");
    // A hand-made line of that size is refused by validation too.
    let mut dr = with_lines(normal(), 1);
    dr.lines[0].quantity = None;
    dr.lines[0].unit_price = None;
    dr.lines[0].amount = d("100000000000000000000");
    dr.lines[0].tax = d("13000000000000000000");
    assert!(matches!(err(dr), InvoiceError::Overflow { .. }));
}

#[test]
fn f08_huge_inputs_refused_without_panic() {
    let max = Decimal::MAX;
    let big = d("99999999999999999"); // 10^17 - 1: over the quantity/price bound
    for input in [
        LineInput::new("x", code(), TaxRate(1300)).qty_price(big, big),
        LineInput::new("x", code(), TaxRate(1300))
            .qty_price(d("10000000000000000"), d("10000000000000000")),
        LineInput::new("x", code(), TaxRate(1300)).amount(max.trunc()),
        LineInput::new("x", code(), TaxRate(1300))
            .amount(d("1"))
            .tax(max.trunc()),
        LineInput::new("x", code(), TaxRate(1300))
            .qty_price(d("1"), d("1"))
            .with_tax()
            .amount(max.trunc()),
    ] {
        let e = input.compute().unwrap_err();
        assert_eq!(e.rule(), "F8", "{e}");
    }
    // Hand-made huge lines are refused by validation and discounting, not by a panic.
    let mut dr = with_lines(normal(), 2);
    dr.lines[0].amount = max.trunc();
    dr.lines[1].amount = max.trunc();
    assert!(apply_discount(&mut dr.clone(), 1, 2, Discount::Amount(d("1"))).is_err());
    assert_eq!(err(dr.clone()).rule(), "F8");
    dr.lines[0].quantity = Some(max);
    dr.lines[0].unit_price = Some(max);
    dr.lines[0].price_mode = PriceMode::WithTax;
    assert_eq!(dr.lines[0].printed_unit_price(), None, "too large to print");
    assert_eq!(err(dr).rule(), "F8");
}

#[test]
fn h07_text_limits_and_issuer_required() {
    let mut dr = with_lines(normal(), 1);
    dr.remarks = "备".repeat(200); // 600 bytes
    assert!(matches!(
        err(dr.clone()),
        InvoiceError::TooLong {
            field: "remarks",
            ..
        }
    ));
    dr.remarks.clear();
    dr.issuer.clear();
    assert!(matches!(
        err(dr.clone()),
        InvoiceError::Missing { field: "issuer" }
    ));
    dr.issuer = "张三".into();
    dr.lines[0].name = " ".into();
    assert!(matches!(
        err(dr),
        InvoiceError::Missing {
            field: "goods name"
        }
    ));
}

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
