//! Shared fixtures of the invoice tests (included with `#[path]`, not a test target of its own).
#![allow(dead_code, clippy::unwrap_used)]

use rust_decimal::Decimal;
use std::str::FromStr;
use taxdisk_host::invoice::*;
use taxdisk_host::store::{Applicant, RedFormBody};
use taxdisk_protocol::types::{
    InfoFormNumber, InvoiceCode, InvoiceNumber, RedRef, TaxClassCode, TaxRate, TaxpayerId, Variant,
};

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn code() -> TaxClassCode {
    TaxClassCode::new("1090101010000000000").unwrap()
}

pub fn seller() -> Party {
    Party {
        name: "福州测试有限公司".into(),
        taxpayer_id: Some(TaxpayerId::new("91350100M000100Y43").unwrap()),
        address_phone: "福州市鼓楼区 0591-12345678".into(),
        bank_account: "工商银行 1234567890".into(),
    }
}

pub fn buyer() -> Party {
    Party {
        name: "购买方公司".into(),
        taxpayer_id: Some(TaxpayerId::new("110108123456789").unwrap()),
        address_phone: "北京市海淀区 010-87654321".into(),
        bank_account: "建设银行 9876543210".into(),
    }
}

pub fn draft(fields: KindFields) -> Draft {
    let mut d = Draft::new(fields, seller(), buyer());
    d.issuer = "张三".into();
    d
}

pub fn normal() -> Draft {
    draft(KindFields::Normal(Variant::Standard))
}

pub fn goods(name: &str, qty: &str, price: &str) -> LineInput {
    LineInput::new(name, code(), TaxRate(1300)).qty_price(d(qty), d(price))
}

pub fn with_lines(mut dr: Draft, n: usize) -> Draft {
    for i in 0..n {
        dr.add_line(&goods(&format!("商品{i}"), "2", "10.5"))
            .unwrap();
    }
    dr
}

/// The refusal of a draft that must not validate.
pub fn err(dr: Draft) -> InvoiceError {
    dr.validate().expect_err("draft should be refused")
}

/// A red normal invoice against an original by code and number.
pub fn red_normal() -> Draft {
    let mut dr = normal();
    dr.red = Some(RedRef::Original {
        code: InvoiceCode::new("031001600104").unwrap(),
        number: InvoiceNumber::new(12).unwrap(),
    });
    dr
}

/// A valid red info form number (its check digit computed).
pub fn form_number() -> InfoFormNumber {
    let mut n = *b"4403012611000010";
    n[15] = taxdisk_protocol::validate::info_form_check_digit(&n[..15]);
    InfoFormNumber::new(std::str::from_utf8(&n).unwrap()).unwrap()
}

/// A red info form of the seller for 2 returned goods of a special invoice (H10).
pub fn red_body() -> RedFormBody {
    let mut dr = draft(KindFields::Special);
    dr.add_line(&goods("商品", "-2", "10.5")).unwrap();
    RedFormBody {
        applicant: Applicant::Seller,
        deducted: false,
        original: Some((
            InvoiceCode::new("3100153130").unwrap(),
            InvoiceNumber::new(7).unwrap(),
        )),
        seller: seller(),
        buyer: buyer(),
        lines: dr.lines,
        reason: "退货".into(),
    }
}
