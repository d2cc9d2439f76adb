//! The bureau over HTTP on 127.0.0.1 port 0: the API's envelope (bad bodies, unknown paths,
//! clock, persistence) and the token rules B1, B2, B8, B10 and D2.
#![allow(clippy::unwrap_used)]

mod bureau_support;

use bureau_support::*;
use taxdisk_device_sim::bureau::Bureau;
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::message::ProvisionProof;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;

fn bureau_vk(api: &Api) -> sign::VerifyingKey {
    sign::verifying_key(&api.public_key()).unwrap()
}

#[test]
fn http_restart_from_file_keeps_state_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bureau.sqlite");
    let (pk, grants) = {
        let mut b = Bureau::open(Some(&path), None).unwrap();
        b.set_time(nov10()).unwrap();
        let api = Api::serve(b);
        api.register(TAXPAYER, &[InvoiceKind::Normal]);
        api.provision(SERIAL, TAXPAYER, 0).unwrap();
        api.register_key(SERIAL, &disk_key()).unwrap();
        let g = api.buy(SERIAL, InvoiceKind::Normal, 10).unwrap();
        api.upload(SERIAL, invoices(&g[0].body, 0, 1, 3, nov10()));
        (api.public_key(), g)
    };
    let b = Bureau::open(Some(&path), Some(99)).unwrap();
    assert_eq!(b.public_key(), pk, "the stored key wins over a later seed");
    assert_eq!(b.now(), nov10(), "virtual time kept");
    let api = Api::serve(b);
    let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
    assert_eq!(d.through_counter, 3);
    let again: Vec<Signed<RollGrant>> = api.get(&format!("/disks/{SERIAL}/grants")).unwrap();
    assert_eq!(again, grants);
    let more = api.buy(SERIAL, InvoiceKind::Normal, 10).unwrap();
    assert_eq!(
        more[0].body.first.get(),
        grants[0].body.first.get() + 10,
        "allocation continues"
    );
}

both_backends! {
    #[test]
    fn http_health_answers_key_and_virtual_time() {
        let api = Api::start();
        let h: Health = api.get("/health").unwrap();
        assert_eq!(h.status, "ok");
        assert_eq!(h.time, nov10());
        let seeded = test_bureau(Some(1));
        assert_eq!(h.public_key, seeded.public_key(), "same seed, same key");
        let other = test_bureau(Some(2));
        assert_ne!(h.public_key, other.public_key());
        api.set_time(at(2026, 12, 1, 9));
        let h: Health = api.get("/health").unwrap();
        assert_eq!(h.time, at(2026, 12, 1, 9));
    }

    #[test]
    fn http_malformed_bodies_answer_api_errors() {
        let api = Api::start();
        for (body, code) in [
            ("{not json", "bad_json"),
            ("{\"taxpayer_id\": 5}", "bad_body"),
            ("[]", "bad_body"),
            (
                // F3 checksum broken: the typed body refuses it while decoding.
                "{\"taxpayer_id\":\"91350100M000100Y44\",\"company_name\":\"x\",\"kinds\":[]}",
                "bad_body",
            ),
        ] {
            let (status, text) = api.post_raw("/taxpayers", body);
            assert_eq!(status / 100, 4, "{body}: {status}");
            let e: ApiError = serde_json::from_str(&text).unwrap();
            assert_eq!(e.code, code, "{body}: {e:?}");
        }
        let (status, text) = api.post_raw("/upload", "{\"serial\":\"12\",\"events\":[]}");
        assert_eq!(status, 422);
        assert!(text.contains("device serial"), "{text}");
        // The server still answers after all of that.
        let h: Health = api.get("/health").unwrap();
        assert_eq!(h.status, "ok");
    }

    #[test]
    fn http_unknown_paths_and_methods_answer_api_errors() {
        let api = Api::start();
        let r = api.get::<serde_json::Value>("/no/such/thing").unwrap_err();
        assert_eq!((r.status, r.error.code.as_str()), (404, "no_such_path"));
        let r = api.get::<serde_json::Value>("/upload").unwrap_err();
        assert_eq!(
            (r.status, r.error.code.as_str()),
            (405, "method_not_allowed")
        );
        let r = api.get::<serde_json::Value>("/disks/12ab").unwrap_err();
        assert_eq!((r.status, r.error.code.as_str()), (400, "bad_serial"));
        let r = api
            .get::<serde_json::Value>("/disks/661234567890/grants?after_seq=x")
            .unwrap_err();
        assert_eq!(r.error.code, "bad_query");
    }

    #[test]
    fn b01_provision_token_is_signed_and_bound_to_serial() {
        let api = Api::start();
        api.register(TAXPAYER, &[InvoiceKind::Special, InvoiceKind::Normal]);
        let t = api.provision(SERIAL, TAXPAYER, 0).unwrap();
        assert_eq!(t.verify(&bureau_vk(&api)), Ok(()));
        assert_eq!(t.body.serial, serial(SERIAL));
        assert_eq!(t.body.taxpayer_id, tp(TAXPAYER));
        assert_eq!(t.body.kinds.len(), 2);
        // Lock and upload deadline: 00:00 CST on 2026-12-16.
        assert_eq!(t.body.lock_time, at(2026, 12, 16, 0));
        assert_eq!(t.body.upload_deadline, at(2026, 12, 16, 0));
        assert_eq!(t.body.issued_at, nov10());
        let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
        assert_eq!(d.public_key, None);
    }

    #[test]
    fn b01_provision_refuses_unknown_taxpayer_and_taken_machine() {
        let api = Api::start();
        let r = api.provision(SERIAL, TAXPAYER, 0).unwrap_err();
        assert_eq!((r.status, r.error.code.as_str()), (404, "unknown_taxpayer"));
        api.register(TAXPAYER, &[InvoiceKind::Normal]);
        api.provision(SERIAL, TAXPAYER, 0).unwrap();
        let r = api.provision(OTHER_SERIAL, TAXPAYER, 0).unwrap_err();
        assert_eq!(r.error.code, "machine_taken");
        api.provision(OTHER_SERIAL, TAXPAYER, 1).unwrap();
        let r = api.provision(OTHER_SERIAL, TAXPAYER, 1000).unwrap_err();
        assert_eq!(r.error.code, "bad_machine");
    }

    #[test]
    fn b01_register_key_checks_proof_and_refuses_second_key() {
        let api = Api::start();
        api.register(TAXPAYER, &[InvoiceKind::Normal]);
        let r = api.register_key(SERIAL, &disk_key()).unwrap_err();
        assert_eq!(r.error.code, "unknown_disk");
        api.provision(SERIAL, TAXPAYER, 0).unwrap();
        // A proof signed by another key than the one presented.
        let pk = sign::public_key(&disk_key());
        let forged = sign::sign(
            &forger_key(),
            &ProvisionProof {
                serial: serial(SERIAL),
                public_key: pk,
            },
        )
        .unwrap();
        let body = RegisterKey {
            serial: serial(SERIAL),
            result: ProvisionResult {
                public_key: pk,
                proof: forged,
            },
        };
        api.refused("/disks/register-key", &body, "bad_proof");
        // A proof made for another serial does not count for this one.
        let other = sign::sign(
            &disk_key(),
            &ProvisionProof {
                serial: serial(OTHER_SERIAL),
                public_key: pk,
            },
        )
        .unwrap();
        let body = RegisterKey {
            serial: serial(SERIAL),
            result: ProvisionResult {
                public_key: pk,
                proof: other,
            },
        };
        api.refused("/disks/register-key", &body, "bad_proof");
        api.register_key(SERIAL, &disk_key()).unwrap();
        // The same proof again answers no second credential (bureau_auth.rs covers the rest).
        let r = api.register_key(SERIAL, &disk_key()).unwrap_err();
        assert_eq!(r.error.code, "credential_issued");
        let r = api.register_key(SERIAL, &forger_key()).unwrap_err();
        assert_eq!(r.error.code, "key_registered");
        let r = api.provision(SERIAL, TAXPAYER, 0).unwrap_err();
        assert_eq!(r.error.code, "already_provisioned");
        let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
        assert_eq!(d.public_key, Some(pk));
    }

    #[test]
    fn b02_grants_have_real_code_formats_and_sequence_numbers() {
        let api = ready();
        let vk = bureau_vk(&api);
        let sp = api.buy(SERIAL, InvoiceKind::Special, 2500).unwrap();
        assert_eq!(sp.len(), 3, "rolls of at most 1000");
        assert_eq!(sp.iter().map(|g| g.body.count).sum::<u32>(), 2500);
        for (i, g) in sp.iter().enumerate() {
            assert_eq!(g.verify(&vk), Ok(()));
            assert_eq!(g.body.seq, i as u32 + 1);
            assert_eq!(g.body.code.as_str().len(), 10);
            g.body.code.check_kind(InvoiceKind::Special).unwrap();
            assert_eq!(&g.body.code.as_str()[..6], "350126", "region 3501, year 26");
        }
        let el = api.buy(SERIAL, InvoiceKind::Electronic, 5).unwrap();
        assert_eq!(el[0].body.seq, 4, "one sequence per disk");
        assert_eq!(el[0].body.code.as_str().len(), 12);
        assert!(el[0].body.code.as_str().ends_with("11"));
        el[0].body.code.check_kind(InvoiceKind::Electronic).unwrap();
        let no: Vec<Signed<RollGrant>> = api
            .get(&format!("/disks/{SERIAL}/grants?after_seq=3"))
            .unwrap();
        assert_eq!(no, el);
    }

    #[test]
    fn b02_ranges_never_overlap_across_disks_and_kinds() {
        let api = ready();
        api.provision(OTHER_SERIAL, TAXPAYER, 1).unwrap();
        let mut all = Vec::new();
        for _ in 0..3 {
            for (s, k) in [
                (SERIAL, InvoiceKind::Normal),
                (OTHER_SERIAL, InvoiceKind::Normal),
                (SERIAL, InvoiceKind::Electronic),
                (OTHER_SERIAL, InvoiceKind::Special),
            ] {
                all.extend(api.buy(s, k, 700).unwrap().into_iter().map(|g| g.body));
            }
        }
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                let disjoint = a.code != b.code
                    || a.first.get() + a.count <= b.first.get()
                    || b.first.get() + b.count <= a.first.get();
                assert!(disjoint, "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn b02_buy_refuses_unauthorized_kind_unknown_disk_and_bad_count() {
        let api = ready();
        assert_eq!(
            api.buy(SERIAL, InvoiceKind::Roll, 5)
                .unwrap_err()
                .error
                .code,
            "not_authorized"
        );
        assert_eq!(
            api.buy(OTHER_SERIAL, InvoiceKind::Normal, 5)
                .unwrap_err()
                .error
                .code,
            "unknown_disk"
        );
        assert_eq!(
            api.buy(SERIAL, InvoiceKind::Normal, 0)
                .unwrap_err()
                .error
                .code,
            "bad_count"
        );
    }

    #[test]
    fn b02_roll_return_verified_and_not_replayed() {
        let api = ready();
        let g = api
            .buy(SERIAL, InvoiceKind::Normal, 100)
            .unwrap()
            .remove(0)
            .body;
        // Numbers 0..2 are issued and uploaded.
        api.upload(SERIAL, invoices(&g, 0, 1, 2, nov10()));
        let receipt = |first: u32, count: u32| RollReturnReceipt {
            serial: g.serial.clone(),
            kind: g.kind,
            code: g.code.clone(),
            first: InvoiceNumber::new(first).unwrap(),
            count,
            time: nov10(),
        };
        let forged = Signed::sign(receipt(g.first.get() + 50, 50), &forger_key()).unwrap();
        api.refused("/rolls/return", &forged, "bad_signature");
        let used = Signed::sign(receipt(g.first.get() + 1, 99), &disk_key()).unwrap();
        api.refused("/rolls/return", &used, "number_used");
        let beyond = Signed::sign(receipt(g.first.get() + 50, 51), &disk_key()).unwrap();
        api.refused("/rolls/return", &beyond, "not_sold");
        let ok = Signed::sign(receipt(g.first.get() + 50, 50), &disk_key()).unwrap();
        let _: serde_json::Value = api.post("/rolls/return", &ok).unwrap();
        api.refused("/rolls/return", &ok, "not_sold");
        // A returned number can no longer be uploaded as an invoice.
        let late = signed(invoice_body(&g, 60, 3, nov10(), 500));
        let r = api.upload(SERIAL, vec![late]);
        assert_eq!(r.rejected[0].code, "not_sold");
    }

    #[test]
    fn b08_updates_are_signed_sequenced_and_listed() {
        let api = ready();
        let vk = bureau_vk(&api);
        let u1: Signed<UpdateToken> = api
            .post(
                "/updates",
                &UpdateRequest {
                    serial: serial(SERIAL),
                    changes: vec![
                        UpdateChange::CompanyName(CompanyName::new("新名称有限公司").unwrap()),
                        UpdateChange::Authorize(InvoiceKind::Roll, true),
                        UpdateChange::Oil(OilRole::Dealer, None),
                    ],
                },
            )
            .unwrap();
        assert_eq!(u1.verify(&vk), Ok(()));
        assert_eq!(u1.body.seq, 1);
        let u2: Signed<UpdateToken> = api
            .post(
                "/updates",
                &UpdateRequest {
                    serial: serial(SERIAL),
                    changes: vec![UpdateChange::TaxpayerId(tp(OTHER_TAXPAYER))],
                },
            )
            .unwrap();
        assert_eq!(u2.body.seq, 2);
        let all: Vec<Signed<UpdateToken>> = api
            .get(&format!("/disks/{SERIAL}/updates?after_seq=0"))
            .unwrap();
        assert_eq!(all, vec![u1.clone(), u2.clone()]);
        let after: Vec<Signed<UpdateToken>> = api
            .get(&format!("/disks/{SERIAL}/updates?after_seq=1"))
            .unwrap();
        assert_eq!(after, vec![u2]);
        // The bureau's own records follow: roll authorized, taxpayer id changed.
        assert_eq!(api.buy(SERIAL, InvoiceKind::Roll, 5).unwrap().len(), 1);
        let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
        assert_eq!(d.taxpayer_id, tp(OTHER_TAXPAYER));
        api.refused(
            "/updates",
            &UpdateRequest {
                serial: serial(SERIAL),
                changes: vec![],
            },
            "empty_update",
        );
        api.refused(
            "/updates",
            &UpdateRequest {
                serial: serial(SERIAL),
                changes: vec![UpdateChange::UsedCar(UsedCarRole::Market); 9],
            },
            "too_many_changes",
        );
        api.refused(
            "/updates",
            &UpdateRequest {
                serial: serial(OTHER_SERIAL),
                changes: vec![UpdateChange::UsedCar(UsedCarRole::Market)],
            },
            "unknown_disk",
        );
    }

    #[test]
    fn b10_clock_tokens_are_signed_per_disk_with_seq() {
        let api = ready();
        let vk = bureau_vk(&api);
        let req = ClockRequest {
            serial: serial(SERIAL),
            time: at(2026, 12, 1, 0),
        };
        let t1: Signed<ClockToken> = api.post("/clock", &req).unwrap();
        let t2: Signed<ClockToken> = api.post("/clock", &req).unwrap();
        assert_eq!(t1.verify(&vk), Ok(()));
        assert_eq!((t1.body.seq, t2.body.seq), (1, 2));
        assert_eq!(t1.body.time, at(2026, 12, 1, 0));
        assert_eq!(t1.body.serial, serial(SERIAL));
        let mut forged = t1.clone();
        forged.body.serial = serial(OTHER_SERIAL);
        assert!(
            forged.verify(&vk).is_err(),
            "a token rebound to another serial does not verify"
        );
        api.refused(
            "/clock",
            &ClockRequest {
                serial: serial(OTHER_SERIAL),
                time: nov10(),
            },
            "unknown_disk",
        );
    }

    #[test]
    fn d02_unblock_token_carries_new_pin() {
        let api = ready();
        let t: Signed<UnblockToken> = api
            .post(
                "/unblock",
                &UnblockRequest {
                    serial: serial(SERIAL),
                    new_pin: Pin::new("12345678").unwrap(),
                },
            )
            .unwrap();
        assert_eq!(t.verify(&bureau_vk(&api)), Ok(()));
        assert_eq!(t.body.new_pin.as_str(), "12345678");
        assert_eq!(t.body.seq, 1);
        let (status, _) = api.post_raw(
            "/unblock",
            &format!("{{\"serial\":\"{SERIAL}\",\"new_pin\":\"123\"}}"),
        );
        assert_eq!(
            status, 422,
            "a PIN of 3 characters is refused while decoding"
        );
    }

    #[test]
    fn http_in_process_api_and_http_share_one_state() {
        let api = Api::start();
        let shared = api.server.bureau();
        taxdisk_device_sim::bureau::http::lock(&shared)
            .register_taxpayer(RegisterTaxpayer {
                taxpayer_id: tp(TAXPAYER),
                company_name: CompanyName::new("进程内").unwrap(),
                kinds: vec![limits(InvoiceKind::Normal)],
            })
            .unwrap();
        let t = api.provision(SERIAL, TAXPAYER, 0).unwrap();
        assert_eq!(t.body.company_name.as_str(), "进程内");
        taxdisk_device_sim::bureau::http::lock(&shared)
            .set_time(at(2027, 3, 1, 0))
            .unwrap();
        let h: Health = api.get("/health").unwrap();
        assert_eq!(h.time, at(2027, 3, 1, 0));
        let d = taxdisk_device_sim::bureau::http::lock(&shared)
            .disk(&serial(SERIAL))
            .unwrap();
        assert_eq!(d.machine, 0);
    }

    #[test]
    fn b02_concurrent_purchases_over_http_never_overlap() {
        let api = ready();
        api.provision(OTHER_SERIAL, TAXPAYER, 1).unwrap();
        let grants: Vec<RollGrant> = std::thread::scope(|s| {
            let hs: Vec<_> = [SERIAL, OTHER_SERIAL]
                .into_iter()
                .map(|who| {
                    let api = &api;
                    s.spawn(move || {
                        (0..10)
                            .flat_map(|_| api.buy(who, InvoiceKind::Normal, 150).unwrap())
                            .map(|g| g.body)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(grants.len(), 20);
        let mut ranges: Vec<(String, u32, u32)> = grants
            .iter()
            .map(|g| (g.code.to_string(), g.first.get(), g.first.get() + g.count))
            .collect();
        ranges.sort();
        for w in ranges.windows(2) {
            assert!(w[0].0 != w[1].0 || w[0].2 <= w[1].1, "{w:?}");
        }
    }

    #[test]
    fn http_every_post_path_refuses_garbage_with_api_error() {
        let api = ready();
        let paths = [
            "/taxpayers",
            "/disks/provision",
            "/disks/register-key",
            "/rolls/buy",
            "/rolls/return",
            "/upload",
            "/summary",
            "/declare",
            "/clear-card",
            "/red-forms",
            "/red-forms/3501002611000016/review",
            "/oil/grant",
            "/oil/return",
            "/updates",
            "/clock",
            "/unblock",
            "/check",
            "/settings",
            "/admin/time",
        ];
        let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let bodies = [
            "",
            "null",
            "{}",
            "\u{0}\u{1}garbage",
            "{\"serial\":\"661234567890\",\"events\":[{\"Invoice\":{}}]}",
            "-1",
            "\"2026\"",
            nested.as_str(),
        ];
        for p in paths {
            for b in bodies {
                let (status, text) = api.post_raw(p, b);
                assert!((400..500).contains(&status), "{p} {b:.20}: {status} {text}");
                let e: ApiError = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{p} {b:.20}: not an ApiError ({e}): {text}"));
                assert!(!e.code.is_empty() && !e.message.is_empty());
            }
        }
        // Nothing changed and the server still answers.
        let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
        assert_eq!(d.through_counter, 0);
        let h: Health = api.get("/health").unwrap();
        assert_eq!(h.time, nov10());
    }

    #[test]
    fn http_spawn_reports_busy_port_and_shutdown_stops_serving() {
        let api = Api::start();
        let taken = api.server.addr();
        let err =
            taxdisk_device_sim::bureau::spawn(test_bureau(Some(3)), taken).unwrap_err();
        assert_eq!(err.code(), "io", "{err}");
        let url = format!("{}{}/health", api.server.url(), PREFIX);
        assert!(url.starts_with("http://127.0.0.1:"));
        let server = taxdisk_device_sim::bureau::spawn(
            test_bureau(Some(3)),
            "127.0.0.1:0".parse().unwrap(),
        )
        .unwrap();
        let url = format!("{}{}/health", server.url(), PREFIX);
        assert!(ureq::get(&url).call().is_ok());
        server.shutdown();
        assert!(
            ureq::get(&url).call().is_err(),
            "nothing listens after shutdown"
        );
    }
}
