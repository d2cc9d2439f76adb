//! Validation (H7, F1-F8, the red rules of H10 that concern composition): [`Draft::validate`]
//! checks everything and returns an [`Invoice`] or the first violation.
//!
//! Choices where no source decides (documented here, tested in `host/tests/invoice_*.rs`):
//! - Electronic invoices have no paper form, so the 8-line limit does not apply; they may still
//!   carry a sales list if the user asks for one. Roll invoices follow the paper rule.
//! - Motor-vehicle and used-car invoices have exactly one line (the vehicle), no discount and no
//!   list.
//! - Red invoices with more than 8 lines on paper kinds are refused: a red invoice takes no list,
//!   its lines are merged instead (FAQ 7.8).
//! - Text limits (bytes of UTF-8): names 200, spec 80, unit 40, party fields 200, remarks 460,
//!   vehicle fields 100.
//! - A blue invoice's goods lines are positive; only discount lines are negative.

use super::error::InvoiceError;
use super::math::{self, LINE_TAX_TOLERANCE, QTY_PRICE_TOLERANCE, TOTAL_TAX_TOLERANCE};
use super::model::{Draft, Invoice, KindFields, Line, LineKind, PAPER_LINES, Party, Totals};
use rust_decimal::Decimal;
use taxdisk_protocol::types::{InvoiceKind, RedRef, ZeroRateFlag};

const NAME_MAX: usize = 200;
const SPEC_MAX: usize = 80;
const UNIT_MAX: usize = 40;
const PARTY_MAX: usize = 200;
const REMARKS_MAX: usize = 460;
const VEHICLE_MAX: usize = 100;

fn text(field: &'static str, s: &str, max: usize, required: bool) -> Result<(), InvoiceError> {
    if required && s.trim().is_empty() {
        return Err(InvoiceError::Missing { field });
    }
    if s.len() > max {
        return Err(InvoiceError::TooLong { field, max });
    }
    // Only printable text goes on an invoice: a control character or an escape sequence
    // would print raw on a terminal or a printer (the xlsx had to escape them).
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(InvoiceError::Control {
            field,
            position: i + 1,
            code: c as u32,
        });
    }
    Ok(())
}

fn party(
    p: &Party,
    who: &'static [&'static str; 3],
    name_required: bool,
) -> Result<(), InvoiceError> {
    text(who[0], &p.name, PARTY_MAX, name_required)?;
    text(who[1], &p.address_phone, PARTY_MAX, false)?;
    text(who[2], &p.bank_account, PARTY_MAX, false)
}

/// F1/H7: a vehicle identification number has 17 characters, digits and capital letters without
/// I, O and Q (ISO 3779).
pub fn check_vin(field: &'static str, vin: &str) -> Result<(), InvoiceError> {
    if vin.is_empty() {
        return Err(InvoiceError::Missing { field });
    }
    for (i, c) in vin.chars().enumerate() {
        if !(c.is_ascii_digit() || c.is_ascii_uppercase()) || matches!(c, 'I' | 'O' | 'Q') {
            return Err(InvoiceError::Text {
                field,
                position: i + 1,
                found: c,
            });
        }
    }
    if vin.len() != 17 {
        return Err(InvoiceError::KindFields {
            problem: "a vehicle identification number has 17 characters",
        });
    }
    Ok(())
}

fn kind_fields(d: &Draft) -> Result<(), InvoiceError> {
    match &d.fields {
        KindFields::MotorVehicle(m) => {
            text(
                "buyer id number (身份证号码/组织机构代码)",
                &m.buyer_id_number,
                VEHICLE_MAX,
                false,
            )?;
            text(
                "vehicle type (车辆类型)",
                &m.vehicle_type,
                VEHICLE_MAX,
                true,
            )?;
            text(
                "brand and model (厂牌型号)",
                &m.brand_model,
                VEHICLE_MAX,
                true,
            )?;
            text("origin (产地)", &m.origin, VEHICLE_MAX, true)?;
            text(
                "certificate number (合格证号)",
                &m.certificate_number,
                VEHICLE_MAX,
                true,
            )?;
            text(
                "import certificate (进口证明书号)",
                &m.import_certificate,
                VEHICLE_MAX,
                false,
            )?;
            text(
                "inspection number (商检单号)",
                &m.inspection_number,
                VEHICLE_MAX,
                false,
            )?;
            text(
                "engine number (发动机号码)",
                &m.engine_number,
                VEHICLE_MAX,
                true,
            )?;
            text(
                "tax office (主管税务机关)",
                &m.tax_office,
                VEHICLE_MAX,
                false,
            )?;
            check_vin("VIN (车辆识别代号)", &m.vin)?;
            if m.tonnage.is_some_and(|t| t <= Decimal::ZERO) {
                return Err(InvoiceError::KindFields {
                    problem: "tonnage must be positive",
                });
            }
            if m.passengers == Some(0) {
                return Err(InvoiceError::KindFields {
                    problem: "passengers must be positive",
                });
            }
        }
        KindFields::UsedCar(u) => {
            party(
                &u.car_seller,
                &[
                    "car seller (卖方单位/个人)",
                    "car seller address",
                    "car seller bank",
                ],
                true,
            )?;
            text("plate (车牌照号)", &u.plate, VEHICLE_MAX, true)?;
            text(
                "registration number (登记证号)",
                &u.registration_number,
                VEHICLE_MAX,
                true,
            )?;
            text(
                "vehicle type (车辆类型)",
                &u.vehicle_type,
                VEHICLE_MAX,
                true,
            )?;
            text(
                "brand and model (厂牌型号)",
                &u.brand_model,
                VEHICLE_MAX,
                true,
            )?;
            text(
                "transfer office (转入地车辆管理所名称)",
                &u.transfer_office,
                VEHICLE_MAX,
                true,
            )?;
            check_vin("VIN (车架号)", &u.vin)?;
            for p in u.operator.iter().chain(u.market.iter()) {
                party(
                    p,
                    &[
                        "operator or market name",
                        "operator or market address",
                        "operator or market bank",
                    ],
                    true,
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn red_ref(d: &Draft) -> Result<(), InvoiceError> {
    let kind = d.kind();
    match (&d.red, kind) {
        (None, _) => Ok(()),
        (Some(RedRef::InfoForm(_)), InvoiceKind::Special) => Ok(()),
        (Some(RedRef::Original { .. }), InvoiceKind::Special) => Err(InvoiceError::RedRef {
            problem: "a red special invoice names its red info form, not the original (FAQ 7.3)",
        }),
        (Some(RedRef::InfoForm(_)), _) => Err(InvoiceError::RedRef {
            problem: "only special invoices are reversed with an info form; name the original code and number (FAQ 7.16)",
        }),
        (Some(RedRef::Original { code, .. }), k) => {
            code.check_kind(k)?;
            Ok(())
        }
    }
}

fn sign(d: &Draft, n: usize, l: &Line) -> Result<(), InvoiceError> {
    let red = d.is_red();
    let (rule, expected) = if red {
        ("H10", "negative")
    } else {
        ("H7", "positive")
    };
    let wrong = |field| InvoiceError::Sign {
        rule,
        line: n,
        field,
        expected,
    };
    if let Some(p) = l.unit_price
        && p < Decimal::ZERO
    {
        return Err(InvoiceError::Sign {
            rule: "H7",
            line: n,
            field: "unit price",
            expected: "positive",
        });
    }
    if l.kind == LineKind::Discount {
        // Discount lines only on blue invoices (checked by the caller): negative.
        if l.amount >= Decimal::ZERO {
            return Err(InvoiceError::DiscountAmount {
                line: n,
                problem: "a discount line's amount must be negative",
            });
        }
        return Ok(());
    }
    let bad = |v: Decimal| {
        if red {
            v >= Decimal::ZERO
        } else {
            v <= Decimal::ZERO
        }
    };
    if bad(l.amount) {
        return Err(wrong("amount"));
    }
    if let Some(q) = l.quantity
        && bad(q)
    {
        return Err(wrong("quantity"));
    }
    Ok(())
}

fn line(d: &Draft, n: usize, l: &Line, prev: Option<&Line>) -> Result<(), InvoiceError> {
    let kind = d.kind();
    text("goods name", &l.name, NAME_MAX, true)?;
    text("specification", &l.spec, SPEC_MAX, false)?;
    text("unit", &l.unit, UNIT_MAX, false)?;
    // F7: rates in force; historical ones on red invoices only.
    if l.rate.check(d.is_red()).is_err() {
        let hint = if l.rate.is_historical() {
            " (historical rates are accepted on red invoices only)"
        } else {
            ""
        };
        return Err(InvoiceError::Rate {
            line: n,
            rate: l.rate.to_string(),
            hint,
        });
    }
    if l.rate.0 == 0 {
        if kind == InvoiceKind::Special {
            return Err(InvoiceError::ZeroRateOnSpecial { line: n });
        }
        if l.zero_flag.is_none() {
            return Err(InvoiceError::ZeroRateFlag {
                line: n,
                problem: "a zero rate needs its flag (export refund, tax-free, not taxable or ordinary)",
            });
        }
    } else if l.zero_flag.is_some() {
        return Err(InvoiceError::ZeroRateFlag {
            line: n,
            problem: "a zero-rate flag needs a zero rate",
        });
    }
    if l.zero_flag == Some(ZeroRateFlag::ExportRefund)
        && d.fields != KindFields::Normal(taxdisk_protocol::types::Variant::Export)
    {
        return Err(InvoiceError::ZeroRateFlag {
            line: n,
            problem: "export refund applies to export invoices only",
        });
    }
    for (field, v) in [("amount", l.amount), ("tax", l.tax)] {
        if !math::is_whole_fen(v) {
            return Err(InvoiceError::Precision { field, line: n });
        }
        math::to_fen(field, v)?;
    }
    // Discount structure (FAQ 4.7).
    if l.kind == LineKind::Discount {
        if d.is_red() {
            return Err(InvoiceError::DiscountOnRed { line: n });
        }
        if matches!(kind, InvoiceKind::MotorVehicle | InvoiceKind::UsedCar) {
            return Err(InvoiceError::KindFields {
                problem: "vehicle invoices take no discount",
            });
        }
        let p = prev.ok_or(InvoiceError::DiscountFirst { line: n })?;
        if p.kind == LineKind::Discount {
            return Err(InvoiceError::DiscountAfterDiscount { line: n });
        }
        for (field, same) in [
            ("name", p.name == l.name),
            ("tax classification code", p.class_code == l.class_code),
            ("rate", p.rate == l.rate),
            ("zero-rate flag", p.zero_flag == l.zero_flag),
        ] {
            if !same {
                return Err(InvoiceError::DiscountMismatch { line: n, field });
            }
        }
        if l.quantity.is_some() || l.unit_price.is_some() {
            return Err(InvoiceError::DiscountAmount {
                line: n,
                problem: "a discount line has no quantity or unit price",
            });
        }
        if -l.amount >= p.amount {
            return Err(InvoiceError::DiscountAmount {
                line: n,
                problem: "the discount is not less than the line's amount (FAQ 4.10)",
            });
        }
    }
    sign(d, n, l)?;
    // H7 tolerances.
    match (l.quantity, l.unit_price) {
        (Some(q), Some(p)) => {
            math::check_qty_price("quantity", q)?;
            math::check_qty_price("unit price", p)?;
            let product = math::checked_mul("quantity x unit price", q, p)?;
            if (product - l.amount).abs() > QTY_PRICE_TOLERANCE {
                return Err(InvoiceError::QuantityPrice {
                    line: n,
                    product: product.normalize().to_string(),
                    amount: l.amount.to_string(),
                });
            }
        }
        (None, Some(_)) => {
            return Err(InvoiceError::QuantityPriceMissing {
                line: n,
                problem: "a unit price needs a quantity",
            });
        }
        (Some(_), None) => {
            return Err(InvoiceError::QuantityPriceMissing {
                line: n,
                problem: "a quantity needs a unit price",
            });
        }
        (None, None) => {}
    }
    let expected = math::exact_tax(l.amount, l.rate);
    if (expected - l.tax).abs() > LINE_TAX_TOLERANCE {
        return Err(InvoiceError::LineTax {
            line: n,
            expected: expected.normalize().to_string(),
            tax: l.tax.to_string(),
        });
    }
    Ok(())
}

fn sales_list(d: &Draft) -> Result<(), InvoiceError> {
    let kind = d.kind();
    let n = d.lines.len();
    let vehicle = matches!(kind, InvoiceKind::MotorVehicle | InvoiceKind::UsedCar);
    let not_allowed = |rule, reason| Err(InvoiceError::ListNotAllowed { rule, reason });
    let over = kind.is_paper() && n > PAPER_LINES;
    if d.is_red() && (d.sales_list || over) {
        return not_allowed(
            "H10",
            "a red invoice takes no sales list; merge its lines (FAQ 7.8)",
        );
    }
    if d.oil.is_some() && (d.sales_list || over) {
        return not_allowed("H7", "refined-oil invoices take no sales list (FAQ 8.7)");
    }
    if d.rare_earth && (d.sales_list || over) {
        return not_allowed("H7", "rare-earth invoices take no sales list (FAQ 4.11)");
    }
    if vehicle && d.sales_list {
        return not_allowed("H7", "vehicle invoices have one line and no sales list");
    }
    if over && !d.sales_list {
        return Err(InvoiceError::NeedsSalesList {
            lines: n,
            max: PAPER_LINES,
        });
    }
    Ok(())
}

impl Draft {
    /// Checks every rule and returns the validated invoice, or the first violation.
    pub fn validate(self) -> Result<Invoice, InvoiceError> {
        let kind = self.kind();
        if self.currency != "CNY" {
            return Err(InvoiceError::Currency {
                found: self.currency.clone(),
            });
        }
        let individual_buyer_ok = !matches!(kind, InvoiceKind::Special);
        party(
            &self.seller,
            &[
                "seller name",
                "seller address and phone",
                "seller bank and account",
            ],
            true,
        )?;
        if self.seller.taxpayer_id.is_none() {
            return Err(InvoiceError::Missing {
                field: "seller taxpayer id",
            });
        }
        party(
            &self.buyer,
            &[
                "buyer name",
                "buyer address and phone",
                "buyer bank and account",
            ],
            true,
        )?;
        if !individual_buyer_ok {
            if self.buyer.taxpayer_id.is_none() {
                return Err(InvoiceError::Missing {
                    field: "buyer taxpayer id (special invoices)",
                });
            }
            text(
                "buyer address and phone (special invoices)",
                &self.buyer.address_phone,
                PARTY_MAX,
                true,
            )?;
            text(
                "buyer bank and account (special invoices)",
                &self.buyer.bank_account,
                PARTY_MAX,
                true,
            )?;
        }
        text("remarks", &self.remarks, REMARKS_MAX, false)?;
        text("payee", &self.payee, PARTY_MAX, false)?;
        text("reviewer", &self.reviewer, PARTY_MAX, false)?;
        text("issuer", &self.issuer, PARTY_MAX, true)?;
        kind_fields(&self)?;
        red_ref(&self)?;
        if self.oil.is_some_and(|o| o.milli_quantity <= 0) {
            return Err(InvoiceError::KindFields {
                problem: "the oil quantity must be positive",
            });
        }
        if self.oil.is_some() && matches!(kind, InvoiceKind::MotorVehicle | InvoiceKind::UsedCar) {
            return Err(InvoiceError::KindFields {
                problem: "vehicle invoices are not refined-oil invoices",
            });
        }
        if self.lines.is_empty() {
            return Err(InvoiceError::NoLines);
        }
        if matches!(kind, InvoiceKind::MotorVehicle | InvoiceKind::UsedCar) && self.lines.len() != 1
        {
            return Err(InvoiceError::VehicleLineCount {
                kind: kind.name(),
                found: self.lines.len(),
            });
        }
        let mut prev: Option<&Line> = None;
        for (i, l) in self.lines.iter().enumerate() {
            line(&self, i + 1, l, prev)?;
            prev = Some(l);
        }
        sales_list(&self)?;
        let amount: Decimal = self.lines.iter().map(|l| l.amount).sum();
        let tax: Decimal = self.lines.iter().map(|l| l.tax).sum();
        let exact: Decimal = self
            .lines
            .iter()
            .map(|l| math::exact_tax(l.amount, l.rate))
            .sum();
        let deviation = (tax - exact).abs();
        if deviation > TOTAL_TAX_TOLERANCE {
            return Err(InvoiceError::TotalTax {
                deviation: deviation.normalize().to_string(),
            });
        }
        if (amount + tax).is_zero() {
            return Err(InvoiceError::ZeroTotal);
        }
        let amount_fen = math::to_fen("total amount", amount)?;
        let tax_fen = math::to_fen("total tax", tax)?;
        Ok(Invoice {
            draft: self,
            totals: Totals { amount, tax },
            fen: (amount_fen, tax_fen),
        })
    }
}
