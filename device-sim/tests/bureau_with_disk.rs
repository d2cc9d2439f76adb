//! The bureau with a real simulated disk ([`SimDisk`]): provisioned from a bureau token, rolls
//! bought and loaded, invoices issued, voided and uploaded, copy-tax reported, the period
//! declared and the card cleared, all through real tokens over HTTP on 127.0.0.1 port 0.
#![allow(clippy::unwrap_used)]

mod bureau_support;

use bureau_support::{Api, TAXPAYER, at, limits, period, serial, test_bureau, tp};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::checkcode;
use taxdisk_protocol::command::{
    EVENTS_PER_PAGE, InvoiceRef, IssueRequest, ListPending, VoidBlank, VoidRequest,
};
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response};

const S: u32 = 1;
const SERIAL: &str = "661234567001";

fn ok(d: &mut SimDisk, req: Request) -> Response {
    let name = req.id().name();
    d.request(S, req)
        .unwrap_or_else(|e| panic!("{name} refused: {:?} (detail {})", e.error, e.detail))
}

fn issue(d: &mut SimDisk, n: &mut u8, kind: InvoiceKind, amount: i64) -> Signed<IssuedInvoice> {
    *n += 1;
    let q = IssueRequest {
        request_id: [*n; 16],
        kind,
        variant: Variant::Standard,
        buyer: Some(tp(TAXPAYER)),
        amount: Fen(amount),
        tax: Fen(amount * 13 / 100),
        content_digest: [*n; 32],
        red: None,
        oil: None,
    };
    match ok(d, Request::Issue(q)) {
        Response::Issue(s) => s,
        r => panic!("{r:?}"),
    }
}

/// Uploads every pending event, acknowledges the receipt on the disk; answers the result.
fn upload_all(api: &Api, d: &mut SimDisk) -> UploadResult {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = match ok(
            d,
            Request::ListPending(ListPending {
                after_counter: after,
                max: EVENTS_PER_PAGE as u8,
            }),
        ) {
            Response::ListPending(v) => v,
            r => panic!("{r:?}"),
        };
        let Some(last) = page.last() else { break };
        after = last.counter();
        events.extend(page);
    }
    let r = api.upload(SERIAL, events);
    if let Some(receipt) = &r.receipt {
        ok(d, Request::AckUpload(receipt.clone()));
    }
    r
}

both_backends! {
    #[test]
    fn b01_to_b05_disk_lives_a_month_through_real_tokens() {
        let mut b = test_bureau(Some(5));
        b.set_time(at(2026, 11, 10, 9)).unwrap();
        let api = Api::serve(b);
        api.register(
            TAXPAYER,
            &[
                InvoiceKind::Special,
                InvoiceKind::Normal,
                InvoiceKind::Electronic,
            ],
        );
        let mut disk = SimDisk::new(SimConfig::new(
            serial(SERIAL),
            api.public_key(),
            at(2026, 11, 10, 10),
        ))
        .unwrap();

        // B1/D1: provision from the bureau's token, register the key the disk made.
        let token = api.provision(SERIAL, TAXPAYER, 0).unwrap();
        let result = match ok(&mut disk, Request::Provision(token)) {
            Response::Provision(r) => r,
            r => panic!("{r:?}"),
        };
        let _: serde_json::Value = api
            .post(
                "/disks/register-key",
                &RegisterKey {
                    serial: serial(SERIAL),
                    result: result.clone(),
                },
            )
            .unwrap();
        ok(&mut disk, Request::Login(Pin::new(Pin::FACTORY).unwrap()));

        // B2/D4: buy rolls and load every grant.
        for (kind, count) in [(InvoiceKind::Normal, 30), (InvoiceKind::Special, 10)] {
            for g in api.buy(SERIAL, kind, count).unwrap() {
                ok(&mut disk, Request::LoadRolls(g));
            }
        }

        // Issue, void one, blank-void two; upload everything (B3/D12).
        let mut n = 0u8;
        let mut issued = Vec::new();
        for i in 0..5 {
            issued.push(issue(&mut disk, &mut n, InvoiceKind::Normal, 10_000 + i));
        }
        let special = issue(&mut disk, &mut n, InvoiceKind::Special, 250_000);
        ok(
            &mut disk,
            Request::Void(VoidRequest {
                request_id: [0x40; 16],
                invoice: InvoiceRef {
                    kind: InvoiceKind::Normal,
                    code: issued[1].body.code.clone(),
                    number: issued[1].body.number,
                },
            }),
        );
        ok(
            &mut disk,
            Request::VoidBlank(VoidBlank {
                request_id: [0x41; 16],
                kind: InvoiceKind::Normal,
                count: 2,
            }),
        );
        let r = upload_all(&api, &mut disk);
        assert_eq!((r.accepted, r.rejected.len()), (8, 0), "{:?}", r.rejected);
        assert_eq!(r.receipt.as_ref().unwrap().body.through_counter, 8);
        let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
        assert_eq!(d.public_key, Some(result.public_key));
        assert_eq!(d.through_counter, 8);

        // B9: the special invoice checks by amount, a normal one by its check code.
        let date = |t: taxdisk_protocol::Timestamp| {
            let c = t.civil();
            u32::from(c.year) * 10_000 + u32::from(c.month) * 100 + u32::from(c.day)
        };
        let found: CheckResult = api
            .post(
                "/check",
                &CheckRequest {
                    code: special.body.code.clone(),
                    number: special.body.number,
                    date: date(special.body.time),
                    amount: Some(Fen(250_000)),
                    check_code_last6: None,
                },
            )
            .unwrap();
        assert!(found.found);
        let cc = checkcode::check_code(&issued[1].signature);
        let voided: CheckResult = api
            .post(
                "/check",
                &CheckRequest {
                    code: issued[1].body.code.clone(),
                    number: issued[1].body.number,
                    date: date(issued[1].body.time),
                    amount: None,
                    check_code_last6: Some(cc.as_str()[14..].to_owned()),
                },
            )
            .unwrap();
        assert!(voided.found && voided.voided);

        // B8/D10: an update token the disk applies.
        let _: Signed<UpdateToken> = api
            .post(
                "/updates",
                &UpdateRequest {
                    serial: serial(SERIAL),
                    changes: vec![UpdateChange::Limits(KindLimits {
                        offline_hours: 48,
                        ..limits(InvoiceKind::Normal)
                    })],
                },
            )
            .unwrap();
        let updates: Vec<Signed<UpdateToken>> = api
            .get(&format!("/disks/{SERIAL}/updates?after_seq=0"))
            .unwrap();
        for u in updates {
            ok(&mut disk, Request::ApplyUpdate(u));
        }

        // A new month: copy-tax, report (B4), declare and clear the card (B5/D8).
        disk.set_time(at(2026, 12, 1, 10));
        api.set_time(at(2026, 12, 1, 10));
        let nov = period(2026, 11);
        let summary = match ok(&mut disk, Request::CopyTax(nov)) {
            Response::CopyTax(s) => s,
            r => panic!("{r:?}"),
        };
        let clear = ClearRequest {
            serial: serial(SERIAL),
            period: nov,
        };
        assert_eq!(
            api.post::<_, serde_json::Value>("/clear-card", &clear)
                .unwrap_err()
                .error
                .code,
            "not_reported"
        );
        let rep: SummaryResult = api.post("/summary", &summary).unwrap();
        assert_eq!(rep.reported, nov);
        assert_eq!(
            api.post::<_, serde_json::Value>("/clear-card", &clear)
                .unwrap_err()
                .error
                .code,
            "not_declared"
        );
        let _: serde_json::Value = api
            .post(
                "/declare",
                &Declare {
                    taxpayer_id: tp(TAXPAYER),
                    period: nov,
                },
            )
            .unwrap();
        let token: Signed<ClearCardToken> = api.post("/clear-card", &clear).unwrap();
        ok(&mut disk, Request::ClearCard(token));
        let info = match ok(&mut disk, Request::GetInfo(())) {
            Response::GetInfo(i) => i,
            r => panic!("{r:?}"),
        };
        assert_eq!(info.last_cleared, Some(nov));
        assert_eq!(info.lock_time, Some(at(2027, 1, 16, 0)));
        let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
        assert_eq!(
            (d.last_reported, d.last_declared, d.last_cleared),
            (Some(nov), Some(nov), Some(nov))
        );

        // December goes on: the disk still issues and uploads after the clear.
        let dec = issue(&mut disk, &mut n, InvoiceKind::Normal, 5_000);
        let r = upload_all(&api, &mut disk);
        assert_eq!((r.accepted, r.rejected.len()), (1, 0), "{:?}", r.rejected);
        assert_eq!(r.receipt.unwrap().body.through_counter, dec.body.counter);
    }
}
