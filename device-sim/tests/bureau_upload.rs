//! B3 uploads (signature, counters, numbers sold, duplicates, voids) and B9 invoice checks,
//! through the HTTP API on 127.0.0.1 port 0.
#![allow(clippy::unwrap_used)]

mod bureau_support;

use bureau_support::*;
use taxdisk_device_sim::bureau::upload::verify_events;
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::checkcode;
use taxdisk_protocol::sign;
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::*;

fn grant(api: &Api, kind: InvoiceKind) -> RollGrant {
    api.buy(SERIAL, kind, 100).unwrap().remove(0).body
}

fn through(api: &Api, s: &str) -> u64 {
    let d: DiskRecord = api.get(&format!("/disks/{s}")).unwrap();
    d.through_counter
}

fn codes(r: &UploadResult) -> Vec<(u64, &str)> {
    r.rejected
        .iter()
        .map(|x| (x.counter, x.code.as_str()))
        .collect()
}

fn void_of(g: &RollGrant, offset: u32, invoice_counter: u64, counter: u64) -> JournalEvent {
    JournalEvent::Void(
        Signed::sign(
            VoidEvent {
                serial: g.serial.clone(),
                counter,
                time: nov10(),
                kind: g.kind,
                code: g.code.clone(),
                number: InvoiceNumber::new(g.first.get() + offset).unwrap(),
                invoice_counter,
            },
            &disk_key(),
        )
        .unwrap(),
    )
}

fn blank_void(g: &RollGrant, offset: u32, count: u32, counter: u64) -> JournalEvent {
    JournalEvent::BlankVoid(
        Signed::sign(
            BlankVoidEvent {
                serial: g.serial.clone(),
                counter,
                time: nov10(),
                kind: g.kind,
                code: g.code.clone(),
                first: InvoiceNumber::new(g.first.get() + offset).unwrap(),
                count,
            },
            &disk_key(),
        )
        .unwrap(),
    )
}

fn date(t: Timestamp) -> u32 {
    let c = t.civil();
    u32::from(c.year) * 10_000 + u32::from(c.month) * 100 + u32::from(c.day)
}

both_backends! {
    #[test]
    fn b03_upload_accepts_signed_events_and_answers_receipt() {
        let api = ready();
        let g = grant(&api, InvoiceKind::Normal);
        let r = api.upload(SERIAL, invoices(&g, 0, 1, 5, nov10()));
        assert_eq!((r.accepted, r.rejected.len()), (5, 0));
        let receipt = r.receipt.unwrap();
        assert_eq!(
            receipt.verify(&sign::verifying_key(&api.public_key()).unwrap()),
            Ok(())
        );
        assert_eq!(receipt.body.through_counter, 5);
        assert_eq!(receipt.body.serial, serial(SERIAL));
        assert_eq!(through(&api, SERIAL), 5);
    }

    #[test]
    fn b03_upload_refuses_tampered_invoice() {
        let api = ready();
        let g = grant(&api, InvoiceKind::Normal);
        let mut evs = invoices(&g, 0, 1, 3, nov10());
        if let JournalEvent::Invoice(s) = &mut evs[1] {
            s.body.amount = Fen(1);
        }
        let r = api.upload(SERIAL, evs);
        assert_eq!(codes(&r), vec![(2, "bad_signature"), (3, "counter_gap")]);
        assert_eq!(r.accepted, 1);
        assert_eq!(r.receipt.unwrap().body.through_counter, 1);
    }

    #[test]
    fn b03_upload_refuses_forged_signature() {
        let api = ready();
        let g = grant(&api, InvoiceKind::Normal);
        let forged = JournalEvent::Invoice(
            Signed::sign(invoice_body(&g, 0, 1, nov10(), 100), &forger_key()).unwrap(),
        );
        let r = api.upload(SERIAL, vec![forged]);
        assert_eq!(codes(&r), vec![(1, "bad_signature")]);
        assert!(r.receipt.is_none(), "nothing received yet");
        assert_eq!(through(&api, SERIAL), 0);
    }

    #[test]
    fn b03_upload_refuses_foreign_disk_and_unknown_or_keyless_disk() {
        let api = ready();
        let g = grant(&api, InvoiceKind::Normal);
        api.provision(OTHER_SERIAL, TAXPAYER, 1).unwrap();
        let r = api
            .post::<_, UploadResult>(
                "/upload",
                &Upload {
                    serial: serial(OTHER_SERIAL),
                    events: invoices(&g, 0, 1, 1, nov10()),
                },
            )
            .unwrap_err();
        assert_eq!((r.status, r.error.code.as_str()), (409, "no_key"));
        api.register_key(OTHER_SERIAL, &forger_key()).unwrap();
        // Events signed by the test disk, uploaded as the other disk's.
        let r = api.upload(OTHER_SERIAL, invoices(&g, 0, 1, 1, nov10()));
        assert_eq!(codes(&r), vec![(1, "foreign_event")]);
        // The other disk signing an invoice on a number sold to the test disk.
        let mut body = invoice_body(&g, 0, 1, nov10(), 100);
        body.serial = serial(OTHER_SERIAL);
        body.machine = 1;
        let ev = JournalEvent::Invoice(Signed::sign(body, &forger_key()).unwrap());
        let r = api.upload(OTHER_SERIAL, vec![ev]);
        assert_eq!(codes(&r), vec![(1, "not_sold")]);
        let r = api
            .post::<_, UploadResult>(
                "/upload",
                &Upload {
                    serial: serial("660000000001"),
                    events: vec![],
                },
            )
            .unwrap_err();
        assert_eq!((r.status, r.error.code.as_str()), (404, "unknown_disk"));
    }

    #[test]
    fn b03_upload_refuses_counter_gap_then_fills_it() {
        let api = ready();
        let g = grant(&api, InvoiceKind::Normal);
        let all = invoices(&g, 0, 1, 4, nov10());
        let r = api.upload(SERIAL, vec![all[0].clone(), all[1].clone(), all[3].clone()]);
        assert_eq!(codes(&r), vec![(4, "counter_gap")]);
        assert_eq!(r.receipt.unwrap().body.through_counter, 2);
        let r = api.upload(SERIAL, vec![all[2].clone(), all[3].clone()]);
        assert_eq!((r.accepted, r.rejected.len()), (2, 0));
        assert_eq!(r.receipt.unwrap().body.through_counter, 4);
    }

    #[test]
    fn b03_identical_reupload_is_acknowledged_and_conflicting_one_refused() {
        let api = ready();
        let g = grant(&api, InvoiceKind::Normal);
        let evs = invoices(&g, 0, 1, 3, nov10());
        api.upload(SERIAL, evs.clone());
        let r = api.upload(SERIAL, evs.clone());
        assert_eq!((r.accepted, r.rejected.len()), (3, 0));
        assert_eq!(r.receipt.unwrap().body.through_counter, 3);
        // Counter 2 again, validly signed, with other content (a replayed counter).
        let other = signed(invoice_body(&g, 10, 2, nov10(), 777));
        let r = api.upload(SERIAL, vec![other]);
        assert_eq!(codes(&r), vec![(2, "conflict")]);
        assert_eq!(through(&api, SERIAL), 3);
    }

    #[test]
    fn b03_upload_refuses_reused_number_wrong_kind_and_bad_amounts() {
        let api = ready();
        let g = grant(&api, InvoiceKind::Normal);
        let el = grant(&api, InvoiceKind::Electronic);
        api.upload(SERIAL, invoices(&g, 0, 1, 1, nov10()));
        let same_number = signed(invoice_body(&g, 0, 2, nov10(), 500));
        let r = api.upload(SERIAL, vec![same_number]);
        assert_eq!(codes(&r), vec![(2, "number_used")]);
        let mut wrong_kind = invoice_body(&el, 0, 2, nov10(), 500);
        wrong_kind.kind = InvoiceKind::Normal;
        let r = api.upload(SERIAL, vec![signed(wrong_kind)]);
        assert_eq!(codes(&r), vec![(2, "bad_code")]);
        let mut beyond = invoice_body(&g, 0, 2, nov10(), 500);
        beyond.number = InvoiceNumber::new(g.first.get() + g.count).unwrap();
        let r = api.upload(SERIAL, vec![signed(beyond)]);
        assert_eq!(codes(&r), vec![(2, "not_sold")]);
        let mut negative_blue = invoice_body(&g, 1, 2, nov10(), 500);
        negative_blue.amount = Fen(-500);
        let r = api.upload(SERIAL, vec![signed(negative_blue)]);
        assert_eq!(codes(&r), vec![(2, "bad_amount")]);
        let mut machine = invoice_body(&g, 1, 2, nov10(), 500);
        machine.machine = 3;
        let r = api.upload(SERIAL, vec![signed(machine)]);
        assert_eq!(codes(&r), vec![(2, "wrong_machine")]);
    }

    #[test]
    fn b03_voids_and_blank_voids_are_checked() {
        let api = ready();
        let g = grant(&api, InvoiceKind::Normal);
        let el = grant(&api, InvoiceKind::Electronic);
        let mut evs = invoices(&g, 0, 1, 2, nov10());
        evs.push(signed(invoice_body(&el, 0, 3, nov10(), 900)));
        evs.push(void_of(&g, 0, 1, 4));
        evs.push(blank_void(&g, 2, 3, 5));
        let r = api.upload(SERIAL, evs);
        assert_eq!((r.accepted, r.rejected.len()), (5, 0), "{:?}", r.rejected);
        for (ev, code) in [
            (void_of(&g, 0, 1, 6), "already_voided"),
            (void_of(&g, 1, 9, 6), "unknown_invoice"),
            (void_of(&g, 50, 1, 6), "unknown_invoice"),
            (void_of(&el, 0, 3, 6), "not_voidable"),
            (blank_void(&g, 4, 2, 6), "number_used"),
            (blank_void(&g, 99, 2, 6), "not_sold"),
        ] {
            let r = api.upload(SERIAL, vec![ev]);
            assert_eq!(codes(&r), vec![(6, code)]);
        }
        let r = api.upload(SERIAL, vec![signed(invoice_body(&g, 3, 6, nov10(), 10))]);
        assert_eq!(
            codes(&r),
            vec![(6, "number_used")],
            "blank-voided numbers are used"
        );
    }

    #[test]
    fn b03_an_upload_verified_with_another_key_is_verified_again_with_the_disks() {
        use taxdisk_device_sim::bureau::upload::VerifiedUpload;
        let api = ready();
        let other = "661234567899";
        api.provision(other, TAXPAYER, 1).unwrap();
        api.register_key(other, &forger_key()).unwrap();
        let g = grant(&api, InvoiceKind::Normal);
        let mut evs = invoices(&g, 0, 1, 20, nov10());
        if let JournalEvent::Invoice(s) = &mut evs[12] {
            s.body.tax = Fen(s.body.tax.0 + 1);
        }
        let shared = api.server.bureau();
        let mut b = taxdisk_device_sim::bureau::http::lock(&shared);
        let wrong = b.upload_key(&serial(other)).unwrap();
        let v = VerifiedUpload::new(
            Upload {
                serial: serial(SERIAL),
                events: evs,
            },
            &wrong,
        )
        .unwrap();
        let r = b.upload_verified(v).unwrap();
        // Judged with the disk's own key: the twelve before the tampered one are accepted.
        assert_eq!(r.accepted, 12, "{:?}", r.rejected);
        assert_eq!(codes(&r)[0], (13, "bad_signature"));
    }

    #[test]
    fn b03_parallel_verification_agrees_with_single_thread() {
        let api = ready();
        let g = grant(&api, InvoiceKind::Normal);
        let mut evs = invoices(&g, 0, 1, 40, nov10());
        for i in [3usize, 17, 38] {
            if let JournalEvent::Invoice(s) = &mut evs[i] {
                s.body.tax = Fen(s.body.tax.0 + 1);
            }
        }
        let vk = sign::verifying_key(&sign::public_key(&disk_key())).unwrap();
        let one = verify_events(&vk, &evs, 1);
        let two = verify_events(&vk, &evs, 2);
        assert_eq!(one, two);
        assert_eq!(one.iter().filter(|ok| !**ok).count(), 3);
        assert!(!one[17]);
        let r = api.upload(SERIAL, evs);
        assert_eq!(r.accepted, 3, "counters 1-3 before the first tampered one");
        assert_eq!(
            r.rejected[0],
            Rejection {
                counter: 4,
                code: "bad_signature".into(),
                message: r.rejected[0].message.clone()
            }
        );
    }

    #[test]
    fn b09_check_by_amount_or_check_code() {
        let api = ready();
        let sp = grant(&api, InvoiceKind::Special);
        let no = grant(&api, InvoiceKind::Normal);
        let s_ev = Signed::sign(invoice_body(&sp, 0, 1, nov10(), 12_345), &disk_key()).unwrap();
        let n_ev = Signed::sign(invoice_body(&no, 0, 2, nov10(), 777), &disk_key()).unwrap();
        api.upload(
            SERIAL,
            vec![
                JournalEvent::Invoice(s_ev.clone()),
                JournalEvent::Invoice(n_ev.clone()),
            ],
        );
        let req = |g: &RollGrant, amount: Option<i64>, cc: Option<String>, d: u32| CheckRequest {
            code: g.code.clone(),
            number: g.first,
            date: d,
            amount: amount.map(Fen),
            check_code_last6: cc,
        };
        let r: CheckResult = api
            .post("/check", &req(&sp, Some(12_345), None, date(nov10())))
            .unwrap();
        assert!(r.found && !r.voided && !r.reversed);
        assert_eq!(r.invoice.unwrap(), s_ev.body);
        let r: CheckResult = api
            .post("/check", &req(&sp, Some(12_346), None, date(nov10())))
            .unwrap();
        assert!(!r.found && r.invoice.is_none());
        let r: CheckResult = api
            .post("/check", &req(&sp, Some(12_345), None, 20261111))
            .unwrap();
        assert!(!r.found, "wrong date");
        api.refused(
            "/check",
            &req(&sp, None, Some("123456".into()), date(nov10())),
            "missing_field",
        );
        let cc = checkcode::check_code(&n_ev.signature);
        let last6 = cc.as_str()[14..].to_owned();
        let r: CheckResult = api
            .post(
                "/check",
                &req(&no, None, Some(last6.clone()), date(nov10())),
            )
            .unwrap();
        assert!(r.found);
        let wrong = format!("{:06}", (last6.parse::<u32>().unwrap() + 1) % 1_000_000);
        let r: CheckResult = api
            .post("/check", &req(&no, None, Some(wrong), date(nov10())))
            .unwrap();
        assert!(!r.found);
        api.refused(
            "/check",
            &req(&no, None, None, date(nov10())),
            "missing_field",
        );
        api.refused(
            "/check",
            &req(&no, None, Some("12a".into()), date(nov10())),
            "bad_check_code",
        );
        // A red normal invoice reverses it, and the check says so.
        let mut red = invoice_body(&no, 1, 3, nov10(), -777);
        red.red = Some(RedRef::Original {
            code: no.code.clone(),
            number: no.first,
        });
        let r = api.upload(SERIAL, vec![signed(red)]);
        assert_eq!(r.accepted, 1, "{:?}", r.rejected);
        let r: CheckResult = api
            .post("/check", &req(&no, None, Some(last6), date(nov10())))
            .unwrap();
        assert!(r.found && r.reversed && !r.voided);
        let unknown = CheckRequest {
            number: InvoiceNumber::new(99_999_999).unwrap(),
            ..req(&no, Some(1), None, date(nov10()))
        };
        let r: CheckResult = api.post("/check", &unknown).unwrap();
        assert!(!r.found);
    }
}
