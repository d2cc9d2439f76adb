//! B4 period summaries and B5 declaration and clear card (FAQ 9.10 reasons), through the HTTP
//! API on 127.0.0.1 port 0.
#![allow(clippy::unwrap_used)]

mod bureau_support;

use bureau_support::*;
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::sign;
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::*;

/// November: 3 normal invoices, the first voided, and one special; uploaded.
fn november(api: &Api) -> (RollGrant, RollGrant) {
    let no = api
        .buy(SERIAL, InvoiceKind::Normal, 50)
        .unwrap()
        .remove(0)
        .body;
    let sp = api
        .buy(SERIAL, InvoiceKind::Special, 50)
        .unwrap()
        .remove(0)
        .body;
    let mut evs = invoices(&no, 0, 1, 3, nov10());
    evs.push(signed(invoice_body(&sp, 0, 4, nov10(), 50_000)));
    evs.push(JournalEvent::Void(
        Signed::sign(
            VoidEvent {
                serial: serial(SERIAL),
                counter: 5,
                time: nov10(),
                kind: InvoiceKind::Normal,
                code: no.code.clone(),
                number: no.first,
                invoice_counter: 1,
            },
            &disk_key(),
        )
        .unwrap(),
    ));
    let r = api.upload(SERIAL, evs);
    assert_eq!(r.accepted, 5, "{:?}", r.rejected);
    (no, sp)
}

/// The summary the disk would sign for [`november`], computed here by hand.
fn november_summary(time: Timestamp) -> PeriodSummary {
    let mut kinds = heapless::Vec::new();
    kinds
        .push((
            InvoiceKind::Normal,
            KindSummary {
                positive_count: 3,
                // 10_000 is voided; 10_001 + 10_002 remain (tax 13 % truncated per invoice).
                positive_amount: Fen(20_003),
                positive_tax: Fen(1300 + 1300),
                void_count: 1,
                ..KindSummary::default()
            },
        ))
        .unwrap();
    kinds
        .push((
            InvoiceKind::Special,
            KindSummary {
                positive_count: 1,
                positive_amount: Fen(50_000),
                positive_tax: Fen(6_500),
                ..KindSummary::default()
            },
        ))
        .unwrap();
    PeriodSummary {
        serial: serial(SERIAL),
        taxpayer_id: tp(TAXPAYER),
        period: period(2026, 11),
        kinds,
        first_counter: 1,
        last_counter: 5,
        time,
    }
}

fn sign_summary(s: PeriodSummary) -> Signed<PeriodSummary> {
    Signed::sign(s, &disk_key()).unwrap()
}

fn clear(api: &Api, p: Period) -> Result<Signed<ClearCardToken>, Refused> {
    api.post(
        "/clear-card",
        &ClearRequest {
            serial: serial(SERIAL),
            period: p,
        },
    )
}

fn declare(api: &Api, p: Period) -> Result<serde_json::Value, Refused> {
    api.post(
        "/declare",
        &Declare {
            taxpayer_id: tp(TAXPAYER),
            period: p,
        },
    )
}

both_backends! {
    #[test]
    fn b04_summary_matching_received_events_reports_the_period() {
        let api = ready();
        november(&api);
        api.set_time(at(2026, 12, 2, 9));
        let expected = november_summary(at(2026, 12, 1, 8));
        let got = taxdisk_device_sim::bureau::http::lock(&api.server.bureau())
            .received_totals(&serial(SERIAL), period(2026, 11))
            .unwrap();
        assert_eq!(got.kinds.len(), 2);
        for (k, v) in &expected.kinds {
            assert_eq!(got.kinds.get(k), Some(v), "{k}");
        }
        assert_eq!((got.first_counter, got.last_counter), (1, 5));
        let r: SummaryResult = api.post("/summary", &sign_summary(expected)).unwrap();
        assert_eq!(r.reported, period(2026, 11));
        // D4: the answer carries the bureau-signed receipt for the disk.
        let vk = sign::verifying_key(&api.public_key()).unwrap();
        r.receipt.verify(&vk).unwrap();
        assert_eq!(
            (&r.receipt.body.serial, r.receipt.body.period),
            (&serial(SERIAL), period(2026, 11))
        );
        let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
        assert_eq!(d.last_reported, Some(period(2026, 11)));
        // Sending it again is fine, and answers the receipt again (a lost one can be fetched).
        let again: SummaryResult = api
            .post(
                "/summary",
                &sign_summary(november_summary(at(2026, 12, 1, 8))),
            )
            .unwrap();
        again.receipt.verify(&vk).unwrap();
        assert_eq!(again.receipt.body.period, period(2026, 11));
    }

    #[test]
    fn b04_summary_mismatch_is_refused_with_reason() {
        let api = ready();
        november(&api);
        api.set_time(at(2026, 12, 2, 9));
        let t = at(2026, 12, 1, 8);
        let mut s = november_summary(t);
        s.kinds[0].1.positive_amount = Fen(30_003);
        let r = api.refused("/summary", &sign_summary(s), "summary_mismatch");
        assert!(r.error.message.contains("normal"), "{}", r.error.message);
        let mut s = november_summary(t);
        s.kinds[0].1.void_count = 0;
        api.refused("/summary", &sign_summary(s), "summary_mismatch");
        let mut s = november_summary(t);
        s.kinds.pop();
        api.refused("/summary", &sign_summary(s), "summary_mismatch");
        let mut s = november_summary(t);
        s.first_counter = 2;
        api.refused("/summary", &sign_summary(s), "summary_mismatch");
        let mut s = november_summary(t);
        s.last_counter = 6;
        api.refused("/summary", &sign_summary(s), "upload_incomplete");
        let s = november_summary(at(2026, 11, 30, 8));
        api.refused("/summary", &sign_summary(s), "period_not_finished");
        let forged = Signed::sign(november_summary(t), &forger_key()).unwrap();
        api.refused("/summary", &forged, "bad_signature");
        let mut s = november_summary(t);
        s.taxpayer_id = tp(OTHER_TAXPAYER);
        api.refused("/summary", &sign_summary(s), "foreign_summary");
        let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
        assert_eq!(d.last_reported, None, "nothing was reported");
    }

    #[test]
    fn b05_clear_card_needs_reported_and_declared_period() {
        let api = ready();
        november(&api);
        let nov = period(2026, 11);
        let r = clear(&api, nov).unwrap_err();
        assert_eq!(r.error.code, "period_not_finished");
        assert_eq!(
            declare(&api, nov).unwrap_err().error.code,
            "period_not_finished"
        );
        api.set_time(at(2026, 12, 2, 9));
        let r = clear(&api, nov).unwrap_err();
        assert_eq!(
            (r.error.code.as_str(), r.error.rule.as_str()),
            ("not_reported", "B5, FAQ 9.10")
        );
        let _: SummaryResult = api
            .post(
                "/summary",
                &sign_summary(november_summary(at(2026, 12, 1, 8))),
            )
            .unwrap();
        let r = clear(&api, nov).unwrap_err();
        assert_eq!(r.error.code, "not_declared");
        declare(&api, nov).unwrap();
        declare(&api, nov).unwrap();
        let t = clear(&api, nov).unwrap();
        assert_eq!(
            t.verify(&sign::verifying_key(&api.public_key()).unwrap()),
            Ok(())
        );
        assert_eq!(t.body.period, nov);
        assert_eq!(t.body.seq, 1);
        assert_eq!(t.body.next_lock_time, at(2027, 1, 16, 0));
        assert_eq!(t.body.upload_deadline, at(2027, 1, 16, 0));
        assert_eq!(
            t.body.limits.len(),
            3,
            "the disk's limits ride along (FAQ 9.14(3))"
        );
        let again = clear(&api, nov).unwrap();
        assert_eq!(again.body.seq, 2, "clear card may be repeated");
        let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
        assert_eq!(
            (d.last_reported, d.last_declared, d.last_cleared),
            (Some(nov), Some(nov), Some(nov))
        );
        let r = api
            .post::<_, serde_json::Value>(
                "/clear-card",
                &ClearRequest {
                    serial: serial(OTHER_SERIAL),
                    period: nov,
                },
            )
            .unwrap_err();
        assert_eq!(r.error.code, "unknown_disk");
        let r = api
            .post::<_, serde_json::Value>(
                "/declare",
                &Declare {
                    taxpayer_id: tp(OTHER_TAXPAYER),
                    period: nov,
                },
            )
            .unwrap_err();
        assert_eq!(r.error.code, "unknown_taxpayer");
    }

    #[test]
    fn b05_empty_period_is_reported_and_cleared_too() {
        let api = ready();
        api.set_time(at(2026, 12, 3, 9));
        let s = PeriodSummary {
            serial: serial(SERIAL),
            taxpayer_id: tp(TAXPAYER),
            period: period(2026, 11),
            kinds: heapless::Vec::new(),
            first_counter: 0,
            last_counter: 0,
            time: at(2026, 12, 1, 0),
        };
        let _: SummaryResult = api.post("/summary", &sign_summary(s)).unwrap();
        declare(&api, period(2026, 11)).unwrap();
        // Cleared late, in January: the next lock is in February.
        api.set_time(at(2027, 1, 5, 9));
        let t = clear(&api, period(2026, 11)).unwrap();
        assert_eq!(t.body.next_lock_time, at(2027, 2, 16, 0));
    }

    #[test]
    fn b04_reported_period_refuses_late_voids() {
        let api = ready();
        let (no, _) = november(&api);
        api.set_time(at(2026, 12, 2, 9));
        let _: SummaryResult = api
            .post(
                "/summary",
                &sign_summary(november_summary(at(2026, 12, 1, 8))),
            )
            .unwrap();
        let void = JournalEvent::Void(
            Signed::sign(
                VoidEvent {
                    serial: serial(SERIAL),
                    counter: 6,
                    time: at(2026, 12, 2, 8),
                    kind: InvoiceKind::Normal,
                    code: no.code.clone(),
                    number: InvoiceNumber::new(no.first.get() + 1).unwrap(),
                    invoice_counter: 2,
                },
                &disk_key(),
            )
            .unwrap(),
        );
        let r = api.upload(SERIAL, vec![void]);
        assert_eq!(r.rejected[0].code, "period_reported");
    }
}
