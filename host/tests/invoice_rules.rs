//! H7 / F1-F8 (and the composition side of H10) through the public invoice API: kinds and
//! their fields, rates and the zero rate, amounts and tolerances. Discounts, sales lists, red
//! drafts, full-width input and the issue request are in `invoice_entry_rules.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

#[path = "invoice_support/mod.rs"]
mod common;

use common::*;
use rust_decimal::Decimal;
use taxdisk_host::invoice::text::parse_class_code;
use taxdisk_host::invoice::*;
use taxdisk_protocol::types::{InvoiceKind, TaxRate, Variant, ZeroRateFlag};

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
