//! B6 red info forms (F4 numbers, automatic and manual review, one form one red invoice) and
//! B7 oil grants and returns, through the HTTP API on 127.0.0.1 port 0.
#![allow(clippy::unwrap_used)]

mod bureau_support;

use bureau_support::*;
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;
use taxdisk_protocol::validate;

fn draft(original: Option<(InvoiceCode, InvoiceNumber)>) -> RedFormDraft {
    RedFormDraft {
        applicant: RedApplicant::Seller,
        serial: serial(SERIAL),
        seller: tp(TAXPAYER),
        buyer: tp(OTHER_TAXPAYER),
        original,
        lines: vec![
            RedFormLine {
                name: "钢材".into(),
                class_code: TaxClassCode::new("1080101010000000000").unwrap(),
                quantity: "-2".into(),
                amount: Fen(-30_000),
                rate: TaxRate(1300),
                tax: Fen(-3_900),
            },
            RedFormLine {
                name: "运输".into(),
                class_code: TaxClassCode::new("3010101000000000000").unwrap(),
                quantity: String::new(),
                amount: Fen(-20_000),
                rate: TaxRate(1700),
                tax: Fen(-3_400),
            },
        ],
        amount: Fen(-50_000),
        tax: Fen(-7_300),
        reason: "销货退回".into(),
    }
}

/// A blue special invoice of 50,000 fen, uploaded; answers its grant.
fn blue_special(api: &Api) -> RollGrant {
    let g = api
        .buy(SERIAL, InvoiceKind::Special, 20)
        .unwrap()
        .remove(0)
        .body;
    let r = api.upload(
        SERIAL,
        vec![signed(invoice_body(&g, 0, 1, nov10(), 50_000))],
    );
    assert_eq!(r.accepted, 1);
    g
}

fn red_invoice(g: &RollGrant, offset: u32, counter: u64, form: &InfoFormNumber) -> JournalEvent {
    let mut b = invoice_body(g, offset, counter, nov10(), -50_000);
    b.tax = Fen(-7_300);
    b.red = Some(RedRef::InfoForm(form.clone()));
    signed(b)
}

fn oil_grant(api: &Api, s: &str, milli: i64) -> Result<Signed<OilGrant>, Refused> {
    api.post(
        "/oil/grant",
        &OilGrantRequest {
            serial: serial(s),
            stock: OilStockEntry {
                category: 1,
                unit: OilUnit::Litre,
                milli_quantity: milli,
            },
        },
    )
}

fn oil_return(seq: u32, milli: i64) -> OilReturnReceipt {
    OilReturnReceipt {
        serial: serial(SERIAL),
        seq,
        stock: OilStockEntry {
            category: 1,
            unit: OilUnit::Litre,
            milli_quantity: milli,
        },
        time: nov10(),
    }
}

both_backends! {
    #[test]
    fn b06_form_gets_f4_number_and_is_approved_automatically() {
        let api = ready();
        let g = blue_special(&api);
        let f: RedForm = api
            .post("/red-forms", &draft(Some((g.code.clone(), g.first))))
            .unwrap();
        assert_eq!(f.state, RedFormState::Approved);
        let n = f.number.as_str();
        assert_eq!(validate::info_form_number(n), Ok(()));
        assert_eq!(&n[..10], "3501002611", "region 350100, year 26, month 11");
        let got: RedForm = api.get(&format!("/red-forms/{n}")).unwrap();
        assert_eq!(got, f);
        let second: RedForm = api
            .post("/red-forms", &draft(Some((g.code.clone(), g.first))))
            .unwrap();
        assert_ne!(second.number, f.number);
    }

    #[test]
    fn b06_manual_review_approves_or_rejects() {
        let api = ready();
        let _: serde_json::Value = api
            .post(
                "/settings",
                &BureauSettings {
                    manual_red_review: true,
                },
            )
            .unwrap();
        let g = blue_special(&api);
        let f: RedForm = api
            .post("/red-forms", &draft(Some((g.code.clone(), g.first))))
            .unwrap();
        assert_eq!(f.state, RedFormState::UnderReview);
        // A red invoice on a form under review is refused.
        let r = api.upload(SERIAL, vec![red_invoice(&g, 1, 2, &f.number)]);
        assert_eq!(r.rejected[0].code, "form_not_approved");
        let path = format!("/red-forms/{}/review", f.number);
        let ok: RedForm = api
            .post(
                &path,
                &Review {
                    approve: true,
                    note: None,
                },
            )
            .unwrap();
        assert_eq!(ok.state, RedFormState::Approved);
        api.refused(
            &path,
            &Review {
                approve: false,
                note: None,
            },
            "not_under_review",
        );
        let f2: RedForm = api
            .post("/red-forms", &draft(Some((g.code.clone(), g.first))))
            .unwrap();
        let no: RedForm = api
            .post(
                &format!("/red-forms/{}/review", f2.number),
                &Review {
                    approve: false,
                    note: Some("原票未认证".into()),
                },
            )
            .unwrap();
        assert_eq!(no.state, RedFormState::Rejected);
        assert_eq!(no.review_note.as_deref(), Some("原票未认证"));
        let under: Vec<RedForm> = api
            .get(&format!("/red-forms?taxpayer_id={TAXPAYER}&state=Rejected"))
            .unwrap();
        assert_eq!(under, vec![no]);
        let buyer_side: Vec<RedForm> = api
            .get(&format!("/red-forms?taxpayer_id={OTHER_TAXPAYER}"))
            .unwrap();
        assert_eq!(buyer_side.len(), 2, "the buyer sees the forms naming it");
        let r = api
            .get::<serde_json::Value>("/red-forms?state=Nope")
            .unwrap_err();
        assert_eq!(r.error.code, "bad_query");
    }

    #[test]
    fn b06_one_form_one_red_invoice() {
        let api = ready();
        let g = blue_special(&api);
        let f: RedForm = api
            .post("/red-forms", &draft(Some((g.code.clone(), g.first))))
            .unwrap();
        let r = api.upload(SERIAL, vec![red_invoice(&g, 1, 2, &f.number)]);
        assert_eq!((r.accepted, r.rejected.len()), (1, 0), "{:?}", r.rejected);
        let used: RedForm = api.get(&format!("/red-forms/{}", f.number)).unwrap();
        assert_eq!(used.state, RedFormState::Used);
        assert_eq!(
            used.used_by,
            Some((
                g.code.clone(),
                InvoiceNumber::new(g.first.get() + 1).unwrap()
            ))
        );
        let r = api.upload(SERIAL, vec![red_invoice(&g, 2, 3, &f.number)]);
        assert_eq!(r.rejected[0].code, "form_used");
        // FAQ 7.5: the wrong red invoice is voided and reissued on the same form.
        let void = JournalEvent::Void(
            Signed::sign(
                VoidEvent {
                    serial: serial(SERIAL),
                    counter: 3,
                    time: nov10(),
                    kind: InvoiceKind::Special,
                    code: g.code.clone(),
                    number: InvoiceNumber::new(g.first.get() + 1).unwrap(),
                    invoice_counter: 2,
                },
                &disk_key(),
            )
            .unwrap(),
        );
        let r = api.upload(SERIAL, vec![void, red_invoice(&g, 2, 4, &f.number)]);
        assert_eq!((r.accepted, r.rejected.len()), (2, 0), "{:?}", r.rejected);
        // Amounts must match the form; an unknown form is refused.
        let f2: RedForm = api
            .post("/red-forms", &draft(Some((g.code.clone(), g.first))))
            .unwrap();
        let mut b = invoice_body(&g, 3, 5, nov10(), -40_000);
        b.tax = Fen(-7_300);
        b.red = Some(RedRef::InfoForm(f2.number.clone()));
        assert_eq!(
            api.upload(SERIAL, vec![signed(b)]).rejected[0].code,
            "form_mismatch"
        );
        let mut n = b"350100261199999".to_vec();
        n.push(validate::info_form_check_digit(&n));
        let unknown = InfoFormNumber::new(std::str::from_utf8(&n).unwrap()).unwrap();
        assert_eq!(
            api.upload(SERIAL, vec![red_invoice(&g, 3, 5, &unknown)])
                .rejected[0]
                .code,
            "unknown_form"
        );
        let r = api
            .get::<serde_json::Value>(&format!("/red-forms/{unknown}"))
            .unwrap_err();
        assert_eq!((r.status, r.error.code.as_str()), (404, "unknown_form"));
        let r = api
            .get::<serde_json::Value>("/red-forms/3501002611999990")
            .unwrap_err();
        assert_eq!(r.error.code, "bad_form_number", "F4 check digit");
    }

    #[test]
    fn b06_bad_or_foreign_forms_are_refused() {
        let api = ready();
        let g = blue_special(&api);
        let orig = Some((g.code.clone(), g.first));
        let mut d = draft(orig.clone());
        d.amount = Fen(-1);
        api.refused("/red-forms", &d, "bad_form");
        let mut d = draft(orig.clone());
        d.lines[0].amount = Fen(30_000);
        api.refused("/red-forms", &d, "bad_form");
        let mut d = draft(orig.clone());
        d.lines[0].rate = TaxRate(1200);
        api.refused("/red-forms", &d, "bad_form");
        api.refused("/red-forms", &draft(None), "bad_form");
        let mut d = draft(orig.clone());
        d.seller = tp(OTHER_TAXPAYER);
        d.buyer = tp(TAXPAYER);
        api.refused("/red-forms", &d, "form_foreign");
        // A buyer who already deducted files without the original (FAQ 7.9).
        d.applicant = RedApplicant::Buyer;
        d.original = None;
        let f: RedForm = api.post("/red-forms", &d).unwrap();
        assert_eq!(f.state, RedFormState::Approved);
        // The seller's disk cannot use a form naming another seller.
        let r = api.upload(SERIAL, vec![red_invoice(&g, 1, 2, &f.number)]);
        assert_eq!(r.rejected[0].code, "form_foreign");
    }

    #[test]
    fn b07_oil_grants_need_dealer_and_are_signed_with_seq() {
        let api = ready();
        assert_eq!(
            oil_grant(&api, SERIAL, 1000).unwrap_err().error.code,
            "not_oil_dealer"
        );
        let _: Signed<UpdateToken> = api
            .post(
                "/updates",
                &UpdateRequest {
                    serial: serial(SERIAL),
                    changes: vec![UpdateChange::Oil(
                        OilRole::Dealer,
                        Some(at(2027, 12, 31, 0)),
                    )],
                },
            )
            .unwrap();
        let g1 = oil_grant(&api, SERIAL, 5_000_000).unwrap();
        let g2 = oil_grant(&api, SERIAL, 1_000).unwrap();
        assert_eq!(
            g1.verify(&sign::verifying_key(&api.public_key()).unwrap()),
            Ok(())
        );
        assert_eq!((g1.body.seq, g2.body.seq), (1, 2));
        assert_eq!(
            oil_grant(&api, SERIAL, 0).unwrap_err().error.code,
            "bad_quantity"
        );
        let r = api
            .post::<_, serde_json::Value>(
                "/oil/grant",
                &OilGrantRequest {
                    serial: serial(SERIAL),
                    stock: OilStockEntry {
                        category: 1,
                        unit: OilUnit::Tonne,
                        milli_quantity: 1,
                    },
                },
            )
            .unwrap_err();
        assert_eq!(r.error.code, "unit_mismatch");
        // Authorization expired.
        api.set_time(at(2028, 1, 2, 0));
        assert_eq!(
            oil_grant(&api, SERIAL, 1000).unwrap_err().error.code,
            "not_oil_dealer"
        );
    }

    #[test]
    fn b07_oil_returns_are_verified_and_replays_refused() {
        let api = ready();
        let _: Signed<UpdateToken> = api
            .post(
                "/updates",
                &UpdateRequest {
                    serial: serial(SERIAL),
                    changes: vec![UpdateChange::Oil(OilRole::Dealer, None)],
                },
            )
            .unwrap();
        oil_grant(&api, SERIAL, 10_000).unwrap();
        // An uploaded oil invoice sold 3,000 thousandths of category 1; a red one restored 1,000.
        let g = api
            .buy(SERIAL, InvoiceKind::Normal, 10)
            .unwrap()
            .remove(0)
            .body;
        let mut blue = invoice_body(&g, 0, 1, nov10(), 30_000);
        blue.oil = Some(OilUse {
            category: 1,
            milli_quantity: 3_000,
        });
        let mut red = invoice_body(&g, 1, 2, nov10(), -10_000);
        red.red = Some(RedRef::Original {
            code: g.code.clone(),
            number: g.first,
        });
        red.oil = Some(OilUse {
            category: 1,
            milli_quantity: 1_000,
        });
        assert_eq!(
            api.upload(SERIAL, vec![signed(blue), signed(red)]).accepted,
            2
        );
        let forged = Signed::sign(oil_return(1, 1_000), &forger_key()).unwrap();
        api.refused("/oil/return", &forged, "bad_signature");
        let r1 = Signed::sign(oil_return(1, 4_000), &disk_key()).unwrap();
        let _: serde_json::Value = api.post("/oil/return", &r1).unwrap();
        api.refused("/oil/return", &r1, "replay");
        // Held: 10,000 - 3,000 + 1,000 - 4,000 = 4,000.
        let over = Signed::sign(oil_return(2, 4_001), &disk_key()).unwrap();
        api.refused("/oil/return", &over, "oil_short");
        let rest = Signed::sign(oil_return(2, 4_000), &disk_key()).unwrap();
        let _: serde_json::Value = api.post("/oil/return", &rest).unwrap();
        let zero = Signed::sign(oil_return(3, 0), &disk_key()).unwrap();
        api.refused("/oil/return", &zero, "bad_quantity");
    }
}
