//! H10 (FAQ 7.2): the red info form XML reader takes untrusted files: arbitrary text and
//! mutations of a valid form never panic, and a valid form reads back what was written.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::path::Path;
use taxdisk_host::invoice::{Line, LineKind, Party, PriceMode};
use taxdisk_host::store::{Applicant, RedForm, RedFormBody, RedFormId, RedFormState};
use taxdisk_host::workflow::red::{red_form_from_xml, red_form_to_xml};
use taxdisk_host::workflow::xml;
use taxdisk_protocol::types::*;

/// A valid F4 number: 15 digits and their check digit.
fn number() -> InfoFormNumber {
    let mut d: Vec<u8> = b"350100261100001".to_vec();
    d.push(taxdisk_protocol::validate::info_form_check_digit(&d));
    InfoFormNumber::new(std::str::from_utf8(&d).unwrap()).unwrap()
}

fn form() -> RedForm {
    RedForm {
        id: RedFormId(1),
        number: Some(number()),
        state: RedFormState::Approved,
        body: RedFormBody {
            applicant: Applicant::Seller,
            deducted: false,
            original: Some((
                InvoiceCode::new("3500261130").unwrap(),
                InvoiceNumber::new(12).unwrap(),
            )),
            seller: Party {
                name: "福州测试有限公司 <&>".into(),
                taxpayer_id: Some(TaxpayerId::new("91350100M000100Y43").unwrap()),
                address_phone: "福州 \"1\"".into(),
                bank_account: "工行 '2'".into(),
            },
            buyer: Party {
                name: "购买方".into(),
                taxpayer_id: Some(TaxpayerId::new("110108123456789").unwrap()),
                address_phone: String::new(),
                bank_account: String::new(),
            },
            lines: vec![Line {
                kind: LineKind::Goods,
                name: "商品".into(),
                class_code: TaxClassCode::new("1090101010000000000").unwrap(),
                spec: "规格".into(),
                unit: "个".into(),
                quantity: Some("-2".parse().unwrap()),
                unit_price: Some("50".parse().unwrap()),
                amount: "-100.00".parse().unwrap(),
                rate: TaxRate(1300),
                tax: "-13.00".parse().unwrap(),
                zero_flag: None,
                price_mode: PriceMode::WithoutTax,
            }],
            reason: "退货".into(),
        },
    }
}

#[test]
fn h10_form_xml_round_trip() {
    let f = form();
    let text = red_form_to_xml(&f);
    let (number, body) = red_form_from_xml(Path::new("f.xml"), &text).unwrap();
    assert_eq!(number, f.number);
    assert_eq!(body, f.body);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn h10_xml_reader_never_panics_on_text(s in ".{0,300}") {
        let _ = xml::parse(&s);
        let _ = red_form_from_xml(Path::new("x.xml"), &s);
    }

    #[test]
    fn h10_xml_reader_never_panics_on_mutated_forms(
        cuts in proptest::collection::vec((0usize..4000, 0usize..8, any::<char>()), 1..6)
    ) {
        let mut chars: Vec<char> = red_form_to_xml(&form()).chars().collect();
        for (at, len, c) in cuts {
            let at = at % chars.len().max(1);
            let end = (at + len).min(chars.len());
            chars.splice(at..end, [c]);
        }
        let s: String = chars.into_iter().collect();
        let _ = red_form_from_xml(Path::new("x.xml"), &s);
    }
}
