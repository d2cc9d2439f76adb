//! H10 red invoices through the workflow: info forms filled, uploaded and approved at the
//! bureau (B6), the red special invoice on an approved form (one form, one invoice), void and
//! reissue on the same form, edit rules per state, buyer forms without the original, the
//! seller's authorization, XML export and import, and red invoices of the other kinds from the
//! original code and number entered twice.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::invoice::*;
use taxdisk_host::store::{Applicant, InvoiceState, RedFormBody, RedFormId, RedFormState};
use taxdisk_host::workflow::red::red_form_to_xml;
use taxdisk_host::workflow::{Issued, WorkflowError};
use taxdisk_protocol::bureau_api::{BureauSettings, Review};
use taxdisk_protocol::types::*;
use workflow_support::*;

fn blue_special(env: &mut Env) -> Issued {
    let d = draft_of(&mut env.wf, KindFields::Special, "2", "500");
    env.wf.issue(d).unwrap()
}

/// A seller's form reversing `blue` in full.
fn seller_form(env: &mut Env, blue: &Issued) -> RedFormBody {
    let row = env.wf.store().invoice(blue.id).unwrap();
    let mut lines = row.invoice.lines().to_vec();
    for l in &mut lines {
        l.amount = -l.amount;
        l.tax = -l.tax;
        l.quantity = l.quantity.map(|q| -q);
    }
    RedFormBody {
        applicant: Applicant::Seller,
        deducted: false,
        original: Some((blue.code.clone(), blue.number)),
        seller: env.wf.seller_party().unwrap(),
        buyer: buyer(),
        lines,
        reason: "退货".into(),
    }
}

/// A blue special invoice and the seller's form reversing it, filled and approved (B6):
/// the form's id and its number.
fn approved_seller_form(env: &mut Env) -> (RedFormId, InfoFormNumber) {
    let blue = blue_special(env);
    let body = seller_form(env, &blue);
    let id = env.wf.red_form_fill(&body).unwrap();
    let number = env.wf.red_form_upload(id).unwrap().number.unwrap();
    (id, number)
}

#[test]
fn h10_red_special_needs_info_form_one_form_one_invoice() {
    let mut env = Env::with_rolls(&[InvoiceKind::Special], 10);
    let blue = blue_special(&mut env);
    let body = seller_form(&mut env, &blue);
    let id = env.wf.red_form_fill(&body).unwrap();
    let form = env.wf.red_form_upload(id).unwrap();
    assert_eq!(
        form.state,
        RedFormState::Approved,
        "approved at once by default"
    );
    let number = form.number.unwrap();
    let d = env.wf.red_draft_from_form(&number).unwrap();
    let red = env.wf.issue(d).unwrap();
    assert!(red.uploaded, "{:?}", red.upload_note);
    assert_eq!(red.signed.body.amount, Fen(-100_000));
    assert_eq!(red.signed.body.red, Some(RedRef::InfoForm(number.clone())));
    assert_eq!(
        env.wf.store().red_form(id).unwrap().state,
        RedFormState::Used
    );
    // One form, one red invoice (FAQ 7.4).
    let e = env.wf.red_draft_from_form(&number).unwrap_err();
    says(&e, "FAQ 7.4");
    let seller = env.wf.seller_party().unwrap();
    let mut again = Draft::new(KindFields::Special, seller, buyer());
    again.red = Some(RedRef::InfoForm(number));
    again
        .add_line(&LineInput::new("商品", class_code(), TaxRate(1300)).amount(dec("-10")))
        .unwrap();
    let e = env.wf.issue(again).unwrap_err();
    says(&e, "FAQ 7.4");
}

#[test]
fn h10_wrong_red_is_voided_and_reissued_on_the_same_form() {
    let mut env = Env::with_rolls(&[InvoiceKind::Special], 10);
    let (id, number) = approved_seller_form(&mut env);
    let d = env.wf.red_draft_from_form(&number).unwrap();
    let wrong = env.wf.issue(d).unwrap();
    env.wf.void(&[wrong.id]).unwrap();
    assert_eq!(
        env.wf.store().red_form(id).unwrap().state,
        RedFormState::Approved,
        "voiding the red invoice releases its form (FAQ 7.5)"
    );
    let d = env.wf.red_draft_from_form(&number).unwrap();
    let right = env.wf.issue(d).unwrap();
    assert!(right.uploaded, "{:?}", right.upload_note);
    assert_ne!(right.number, wrong.number);
}

#[test]
fn h10_form_edit_rules_per_state() {
    let mut env = Env::with_rolls(&[InvoiceKind::Special], 10);
    env.bureau_client()
        .settings(&BureauSettings {
            manual_red_review: true,
        })
        .unwrap();
    let blue = blue_special(&mut env);
    let mut body = seller_form(&mut env, &blue);
    let id = env.wf.red_form_fill(&body).unwrap();
    // Not uploaded: may be edited.
    body.reason = "销售折让".into();
    env.wf.red_form_edit(id, &body).unwrap();
    let f = env.wf.red_form_upload(id).unwrap();
    assert_eq!(f.state, RedFormState::UnderReview);
    // Under review: no edit (FAQ 7.6(2)).
    let e = env.wf.red_form_edit(id, &body).unwrap_err();
    says(&e, "FAQ 7.6");
    // The bureau approves; the download brings the result (FAQ 7.14).
    let pending = env
        .bureau_client()
        .red_forms(
            Some(&tp(TAXPAYER)),
            Some(taxdisk_protocol::bureau_api::RedFormState::UnderReview),
        )
        .unwrap();
    assert_eq!(pending.len(), 1);
    env.bureau_client()
        .review_red_form(
            &pending[0].number,
            &Review {
                approve: true,
                note: None,
            },
        )
        .unwrap();
    let changed = env.wf.download_red_forms().unwrap();
    assert_eq!(changed, vec![id]);
    let f = env.wf.store().red_form(id).unwrap();
    assert_eq!(f.state, RedFormState::Approved);
    assert_eq!(f.number.as_ref(), Some(&pending[0].number));
    // Approved: neither edited nor deleted (FAQ 7.6(3)).
    let e = env.wf.red_form_delete(id).unwrap_err();
    says(&e, "FAQ 7.6");
    // A form under review may be deleted (FAQ 7.6(2)).
    let id2 = env.wf.red_form_fill(&body).unwrap();
    env.wf.red_form_upload(id2).unwrap();
    env.wf.red_form_delete(id2).unwrap();
    assert!(env.wf.store().red_form(id2).is_err());
}

#[test]
fn h10_buyer_who_deducted_names_no_original() {
    let mut env = Env::with_rolls(&[InvoiceKind::Special], 10);
    let own = env.wf.seller_party().unwrap();
    let mut line = LineInput::new("退货商品", class_code(), TaxRate(1300))
        .amount(dec("-100"))
        .compute()
        .unwrap();
    line.quantity = None;
    let mut body = RedFormBody {
        applicant: Applicant::Buyer,
        deducted: true,
        original: None,
        seller: Party {
            name: "销售方公司".into(),
            taxpayer_id: Some(tp(BUYER_ID)),
            ..Party::default()
        },
        buyer: own,
        lines: vec![line],
        reason: "已抵扣".into(),
    };
    let id = env.wf.red_form_fill(&body).unwrap();
    let f = env.wf.red_form_upload(id).unwrap();
    assert_eq!(f.state, RedFormState::Approved);
    // Naming an original after deducting is refused (FAQ 7.9).
    body.original = Some((
        InvoiceCode::new("3500261130").unwrap(),
        InvoiceNumber::new(1).unwrap(),
    ));
    let e = env.wf.red_form_fill(&body).unwrap_err();
    says(&e, "FAQ 7.9");
    // Positive amounts are refused (FAQ 7.11).
    body.original = None;
    body.lines[0].amount = dec("100");
    let e = env.wf.red_form_fill(&body).unwrap_err();
    says(&e, "FAQ 7.11");
}

#[test]
fn h10_seller_form_needs_special_authorization() {
    let mut env = Env::with_kinds(&[limits(InvoiceKind::Normal)]);
    let own = env.wf.seller_party().unwrap();
    let line = LineInput::new("商品", class_code(), TaxRate(1300))
        .amount(dec("-100"))
        .compute()
        .unwrap();
    let body = RedFormBody {
        applicant: Applicant::Seller,
        deducted: false,
        original: Some((
            InvoiceCode::new("3500261130").unwrap(),
            InvoiceNumber::new(1).unwrap(),
        )),
        seller: own,
        buyer: buyer(),
        lines: vec![line],
        reason: "退货".into(),
    };
    let e = env.wf.red_form_fill(&body).unwrap_err();
    says(&e, "FAQ 7.13");
}

#[test]
fn h10_xml_export_and_import() {
    let mut env = Env::with_rolls(&[InvoiceKind::Special], 10);
    let blue = blue_special(&mut env);
    let body = seller_form(&mut env, &blue);
    // A form not uploaded travels as XML and comes back as a new form with the same content.
    let id = env.wf.red_form_fill(&body).unwrap();
    let path = env.dir.path().join("form.xml");
    env.wf.red_form_export_xml(id, &path).unwrap();
    let id2 = env.wf.red_form_import_xml(&path).unwrap();
    let f2 = env.wf.store().red_form(id2).unwrap();
    assert_eq!(f2.state, RedFormState::NotUploaded);
    assert_eq!(f2.body, body);
    // An approved form (with its number) imports as approved on another installation that
    // works offline, and the red invoice can be issued from it.
    let number = env.wf.red_form_upload(id).unwrap().number.unwrap();
    let xml = red_form_to_xml(&env.wf.store().red_form(id).unwrap());
    assert!(xml.contains(number.as_str()));
    let e = env.wf.red_form_import_xml(&{
        std::fs::write(&path, &xml).unwrap();
        path.clone()
    });
    says(&e.unwrap_err(), "here already");
    let mut other = Env::with_rolls(&[InvoiceKind::Special], 5);
    other.wf.set_bureau(None);
    let oid = other.wf.red_form_import_xml(&path).unwrap();
    assert_eq!(
        other.wf.store().red_form(oid).unwrap().state,
        RedFormState::Approved
    );
    let d = other.wf.red_draft_from_form(&number).unwrap();
    other.wf.issue(d).unwrap();
    // Damaged files are refused with the field, never a panic.
    for bad in [
        "",
        "<RedInfoForm>",
        "<RedInfoForm format=\"taxdisk-red-form/1\"/>",
        &xml.replace(
            "<Applicant>Seller</Applicant>",
            "<Applicant>Nobody</Applicant>",
        ),
        &xml.replace(number.as_str(), "1234567890123456"),
    ] {
        std::fs::write(&path, bad).unwrap();
        let e = env.wf.red_form_import_xml(&path).unwrap_err();
        assert!(matches!(e, WorkflowError::Medium { .. }), "{e}");
        says(&e, "H10");
    }
}

#[test]
fn h10_red_normal_from_original_entered_twice() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal, InvoiceKind::Electronic], 10);
    for fields in [
        KindFields::Normal(Variant::Standard),
        KindFields::Electronic,
    ] {
        let mut d = draft_of(&mut env.wf, fields, "4", "25");
        d.add_line(&goods("第二商品", "1", "40")).unwrap();
        apply_discount(&mut d, 1, 1, Discount::Amount(dec("10"))).unwrap();
        let blue = env.wf.issue(d).unwrap();
        let code = blue.code.as_str().to_owned();
        let number = format!("{:08}", blue.number.get());
        let e = env
            .wf
            .red_draft_from_original(&code, &number, &code, "99999999")
            .unwrap_err();
        says(&e, "FAQ 7.17");
        // Full-width digits typed the second time count as the same (FAQ 4.18).
        let wide: String = number
            .chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
            .collect();
        let red = env
            .wf
            .red_draft_from_original(&code, &number, &code, &wide)
            .unwrap();
        assert_eq!(
            red.lines.len(),
            2,
            "the discount merged into its line (FAQ 7.7)"
        );
        let issued = env.wf.issue(red).unwrap();
        assert_eq!(issued.signed.body.amount, Fen(-(10_000 - 1_000 + 4_000)));
        assert_eq!(
            issued.signed.body.red,
            Some(RedRef::Original {
                code: blue.code.clone(),
                number: blue.number
            })
        );
        assert!(issued.uploaded, "{:?}", issued.upload_note);
    }
    // A special invoice is reversed with a form, not its number.
    let rows = env
        .wf
        .store()
        .month(&taxdisk_host::store::MonthQuery::period(period(2026, 11)))
        .unwrap();
    assert!(rows.iter().all(|r| r.state == InvoiceState::Uploaded));
}

#[test]
fn h10_used_car_reversed_in_full_only() {
    let mut env = Env::with_rolls(&[InvoiceKind::UsedCar], 5);
    let d = draft_of(
        &mut env.wf,
        KindFields::UsedCar(Box::new(used_car())),
        "1",
        "50000",
    );
    let blue = env.wf.issue(d).unwrap();
    let code = blue.code.as_str().to_owned();
    let number = format!("{:08}", blue.number.get());
    let mut red = env
        .wf
        .red_draft_from_original(&code, &number, &code, &number)
        .unwrap();
    let full = red.clone();
    red.lines[0].amount = dec("-100");
    red.lines[0].tax = dec("-13");
    red.lines[0].quantity = None;
    red.lines[0].unit_price = None;
    let e = env.wf.issue(red).unwrap_err();
    says(&e, "FAQ 7.18");
    env.wf.issue(full).unwrap();
}

/// Registers the buyer's own taxpayer and disk at the bureau (as its tax office would) and
/// files a buyer's form naming this company as seller (FAQ 7.10(2)).
fn buyer_files_a_form(env: &Env, original: Option<(InvoiceCode, InvoiceNumber)>) -> InfoFormNumber {
    use taxdisk_protocol::bureau_api::*;
    use taxdisk_protocol::message::ProvisionProof;
    use taxdisk_protocol::sign;
    let c = env.bureau_client();
    let serial = DeviceSerial::new("669999999999").unwrap();
    c.register_taxpayer(&RegisterTaxpayer {
        taxpayer_id: tp(BUYER_ID),
        company_name: CompanyName::new("购买方公司").unwrap(),
        kinds: vec![limits(InvoiceKind::Special)],
    })
    .unwrap();
    c.provision(&ProvisionRequest {
        serial: serial.clone(),
        taxpayer_id: tp(BUYER_ID),
        machine: 0,
    })
    .unwrap();
    let key = sign::signing_key(&[9; 32]).unwrap();
    let pk = sign::public_key(&key);
    let proof = sign::sign(
        &key,
        &ProvisionProof {
            serial: serial.clone(),
            public_key: pk,
        },
    )
    .unwrap();
    c.register_key(&RegisterKey {
        serial: serial.clone(),
        result: ProvisionResult {
            public_key: pk,
            proof,
        },
    })
    .unwrap();
    let form = c
        .submit_red_form(&RedFormDraft {
            applicant: RedApplicant::Buyer,
            serial,
            seller: tp(TAXPAYER),
            buyer: tp(BUYER_ID),
            original,
            lines: vec![RedFormLine {
                name: "退货商品".into(),
                class_code: class_code(),
                quantity: "-2".into(),
                amount: Fen(-20_000),
                rate: TaxRate(1300),
                tax: Fen(-2_600),
            }],
            amount: Fen(-20_000),
            tax: Fen(-2_600),
            reason: "已抵扣，退货".into(),
        })
        .unwrap();
    assert_eq!(
        form.state,
        taxdisk_protocol::bureau_api::RedFormState::Approved
    );
    form.number
}

#[test]
fn h10_buyer_form_downloaded_and_issued_by_the_seller() {
    let mut env = Env::with_rolls(&[InvoiceKind::Special], 10);
    // The buyer is a saved customer (H5): its address and bank fill the red invoice.
    let admin = env.admin;
    env.wf
        .store_mut()
        .save_buyer(admin, &buyer(), None)
        .unwrap();
    let number = buyer_files_a_form(&env, None);
    let got = env.wf.download_red_forms().unwrap();
    assert_eq!(got.len(), 1);
    let f = env.wf.store().red_form(got[0]).unwrap();
    assert_eq!(f.state, RedFormState::Approved);
    assert_eq!(f.number.as_ref(), Some(&number));
    assert!(f.body.deducted && f.body.original.is_none(), "FAQ 7.9");
    assert_eq!(f.body.lines[0].quantity, Some(dec("-2")));
    assert_eq!(f.body.buyer, buyer());
    // Downloading again brings nothing new.
    assert!(env.wf.download_red_forms().unwrap().is_empty());
    // The red invoice straight from the number, as typed from a paper form (FAQ 7.3(1)).
    let d = env.wf.red_draft_from_form(&number).unwrap();
    let red = env.wf.issue(d).unwrap();
    assert_eq!(red.signed.body.amount, Fen(-20_000));
    assert_eq!(red.signed.body.tax, Fen(-2_600));
    assert!(red.uploaded, "{:?}", red.upload_note);
}

#[test]
fn h10_red_special_must_match_its_form() {
    let mut env = Env::with_rolls(&[InvoiceKind::Special], 10);
    let (_, number) = approved_seller_form(&mut env);
    let mut d = env.wf.red_draft_from_form(&number).unwrap();
    d.lines[0].amount = dec("-500");
    d.lines[0].tax = dec("-65");
    d.lines[0].quantity = Some(dec("-1"));
    let e = env.wf.issue(d).unwrap_err();
    says(&e, "FAQ 7.3");
    // Nothing was used: the right draft still issues.
    let d = env.wf.red_draft_from_form(&number).unwrap();
    env.wf.issue(d).unwrap();
}

#[test]
fn h10_one_form_gives_one_red_invoice_within_a_batch_too() {
    let mut env = Env::with_rolls(&[InvoiceKind::Special], 10);
    let (id, number) = approved_seller_form(&mut env);
    let d = env.wf.red_draft_from_form(&number).unwrap();
    let blank_before = env
        .wf
        .status()
        .unwrap()
        .kind(InvoiceKind::Special)
        .unwrap()
        .status
        .blank_left;
    let results = env.wf.issue_batch(vec![d.clone(), d]).unwrap();
    let red = results[0].as_ref().unwrap();
    assert_eq!(red.signed.body.red, Some(RedRef::InfoForm(number)));
    let e = results[1].as_ref().unwrap_err();
    says(e, "FAQ 7.4");
    // The second never reached the disk: one number used.
    let st = env.wf.status().unwrap();
    assert_eq!(
        st.kind(InvoiceKind::Special).unwrap().status.blank_left,
        blank_before - 1
    );
    assert_eq!(
        env.wf.store().red_form(id).unwrap().state,
        RedFormState::Used
    );
}
