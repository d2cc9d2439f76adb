//! Property tests of the tax math (F8, H7): generated lines satisfy the tolerances, totals are
//! the sums of the lines, discount lines always follow their line, and with/without-tax
//! conversion round-trips within a fen.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

#[path = "invoice_support/mod.rs"]
mod common;

use common::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use taxdisk_host::invoice::math::{self, round2, split_gross, tax_of};
use taxdisk_host::invoice::*;
use taxdisk_protocol::types::TaxRate;

fn rate() -> impl Strategy<Value = TaxRate> {
    prop::sample::select(vec![1300u16, 900, 600, 500, 300, 150, 100]).prop_map(TaxRate)
}

/// Quantity with up to 3 places, 0.001..=10000.
fn qty() -> impl Strategy<Value = Decimal> {
    (1i64..=10_000_000).prop_map(|n| Decimal::new(n, 3))
}

/// Unit price with up to 4 places, 0.0001..=100000.
fn price() -> impl Strategy<Value = Decimal> {
    (1i64..=1_000_000_000).prop_map(|n| Decimal::new(n, 4))
}

/// Money in fen, 0.01..=10,000,000.00.
fn money() -> impl Strategy<Value = Decimal> {
    (1i64..=1_000_000_000).prop_map(|n| Decimal::new(n, 2))
}

#[derive(Debug, Clone)]
struct Spec {
    qty: Decimal,
    price: Decimal,
    rate: TaxRate,
    with_tax: bool,
}

fn line_spec() -> impl Strategy<Value = Spec> {
    (qty(), price(), rate(), any::<bool>()).prop_map(|(qty, price, rate, with_tax)| Spec {
        qty,
        price,
        rate,
        with_tax,
    })
}

fn input(i: usize, s: &Spec) -> LineInput {
    let l = LineInput::new(&format!("商品{i}"), code(), s.rate).qty_price(s.qty, s.price);
    if s.with_tax { l.with_tax() } else { l }
}

fn build(specs: &[Spec]) -> Draft {
    let mut dr = normal();
    dr.sales_list = specs.len() > PAPER_LINES;
    for (i, s) in specs.iter().enumerate() {
        dr.add_line(&input(i, s)).unwrap();
    }
    dr
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn f08_h07_generated_lines_hold_tolerances(specs in prop::collection::vec(line_spec(), 1..20)) {
        let dr = build(&specs);
        for l in &dr.lines {
            let product = l.quantity.unwrap() * l.unit_price.unwrap();
            prop_assert!((product - l.amount).abs() <= math::QTY_PRICE_TOLERANCE,
                "qty x price {} vs amount {}", product, l.amount);
            prop_assert!((math::exact_tax(l.amount, l.rate) - l.tax).abs() <= math::LINE_TAX_TOLERANCE);
            prop_assert!(math::is_whole_fen(l.amount) && math::is_whole_fen(l.tax));
        }
        let inv = dr.validate().unwrap();
        prop_assert!(inv.totals().amount > Decimal::ZERO);
    }

    #[test]
    fn h07_totals_equal_sum_of_lines(specs in prop::collection::vec(line_spec(), 1..20)) {
        let inv = build(&specs).validate().unwrap();
        let amount: Decimal = inv.lines().iter().map(|l| l.amount).sum();
        let tax: Decimal = inv.lines().iter().map(|l| l.tax).sum();
        prop_assert_eq!(inv.totals().amount, amount);
        prop_assert_eq!(inv.totals().tax, tax);
        prop_assert_eq!(inv.amount_fen().0, i64::try_from(amount * Decimal::ONE_HUNDRED).unwrap());
        prop_assert_eq!(inv.tax_fen().0, i64::try_from(tax * Decimal::ONE_HUNDRED).unwrap());
        let req = inv.issue_request([0; 16]);
        prop_assert_eq!(req.amount, inv.amount_fen());
        prop_assert_eq!(req.tax, inv.tax_fen());
    }

    #[test]
    fn h07_discount_lines_always_follow_their_line(
        specs in prop::collection::vec(line_spec(), 1..12),
        start in 0usize..12,
        len in 1usize..12,
        by_rate in any::<bool>(),
        pct in 1u32..99,
    ) {
        let mut dr = build(&specs);
        let n = specs.len();
        let first = start % n + 1;
        let count = len.min(n - first + 1);
        let run: Decimal = dr.lines[first - 1..first - 1 + count].iter().map(|l| l.amount).sum();
        let discount = if by_rate {
            Discount::Rate(Decimal::from(pct))
        } else {
            Discount::Amount(round2(run * Decimal::from(pct) / Decimal::ONE_HUNDRED))
        };
        let before = dr.lines.clone();
        match apply_discount(&mut dr, first, count, discount) {
            Ok(()) => {
                // Every discount line directly follows a goods line with the same name, code
                // and rate, and is negative and smaller than it.
                for (i, l) in dr.lines.iter().enumerate() {
                    if l.kind == LineKind::Discount {
                        prop_assert!(i > 0);
                        let p = &dr.lines[i - 1];
                        prop_assert_eq!(p.kind, LineKind::Goods);
                        prop_assert_eq!(&p.name, &l.name);
                        prop_assert_eq!(&p.class_code, &l.class_code);
                        prop_assert_eq!(p.rate, l.rate);
                        prop_assert!(l.amount < Decimal::ZERO && -l.amount < p.amount);
                    }
                }
                // Goods lines are untouched and in order.
                let goods: Vec<_> = dr.lines.iter().filter(|l| l.kind == LineKind::Goods).cloned().collect();
                prop_assert_eq!(goods, before);
                let total_discount: Decimal = dr.lines.iter().filter(|l| l.kind == LineKind::Discount).map(|l| l.amount).sum();
                if let Discount::Amount(a) = discount {
                    prop_assert_eq!(total_discount, -a);
                }
                dr.sales_list = dr.lines.len() > PAPER_LINES;
                prop_assert!(dr.validate().is_ok());
            }
            Err(e) => {
                // Only refused when a share reaches its line or the amount rounds to nothing.
                prop_assert_eq!(&dr.lines, &before, "refusal changed the draft: {}", e);
            }
        }
    }

    #[test]
    fn f08_with_and_without_tax_round_trip_within_a_fen(amount in money(), rate in rate()) {
        // Without tax -> gross -> back.
        let tax = tax_of(amount, rate);
        let (back, back_tax) = split_gross(amount + tax, rate);
        prop_assert!((back - amount).abs() <= Decimal::new(1, 2));
        prop_assert_eq!(back + back_tax, amount + tax);
        // Gross -> without tax -> gross.
        let (a, t) = split_gross(amount, rate);
        prop_assert_eq!(a + t, amount);
        prop_assert!((a + tax_of(a, rate) - amount).abs() <= Decimal::new(1, 2));
        prop_assert!((math::exact_tax(a, rate) - t).abs() <= math::LINE_TAX_TOLERANCE);
    }

    #[test]
    fn f08_red_is_exact_negation_of_blue(specs in prop::collection::vec(line_spec(), 1..8)) {
        let blue = build(&specs).validate().unwrap();
        let mut red = normal();
        red.red = Some(taxdisk_protocol::types::RedRef::Original {
            code: taxdisk_protocol::types::InvoiceCode::new("031001600104").unwrap(),
            number: taxdisk_protocol::types::InvoiceNumber::new(1).unwrap(),
        });
        for (i, s) in specs.iter().enumerate() {
            red.add_line(&LineInput { quantity: Some(-s.qty), ..input(i, s) }).unwrap();
        }
        let red = red.validate().unwrap();
        prop_assert_eq!(red.amount_fen().0, -blue.amount_fen().0);
        prop_assert_eq!(red.tax_fen().0, -blue.tax_fen().0);
    }
}

fn to_full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' | '.' | '-' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            _ => c,
        })
        .collect()
}

proptest! {
    #[test]
    fn h07_parse_decimal_never_panics(s in "\\PC{0,40}") {
        let _ = taxdisk_host::invoice::text::parse_decimal("quantity", &s);
    }

    #[test]
    fn h07_full_width_numbers_parse_like_half_width(n in -1_000_000_000i64..1_000_000_000, scale in 0u32..6) {
        let v = Decimal::new(n, scale);
        let half = v.to_string();
        let parsed = taxdisk_host::invoice::text::parse_decimal("amount", &to_full_width(&half)).unwrap();
        prop_assert_eq!(parsed, v);
    }
}
