//! D4 (FAQ 4.21(4)): a roll return waits for the bureau's receipt of the last month's summary
//! (ApplyReportReceipt) or a clear-card token of that month; the receipt is bureau-signed,
//! bound to the serial, taken once; the reported period is durable, and a state image of the
//! first snapshot layout (before the reported period was kept) still opens.
// Money is written yuan_fen (100_00 = 100.00 yuan).
#![allow(clippy::inconsistent_digit_grouping)]
// Helpers outside #[test] fns stop the test with the failed step.
#![allow(clippy::unwrap_used)]
mod firmware_support;
use firmware_support::*;
use taxdisk_device_sim::firmware::persist::Persist;
use taxdisk_device_sim::firmware::store::{MAX_STATE_PAYLOAD, SECTOR, STATE_HEADER, STATE_SLOT};
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_protocol::command::*;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response, WireError};

/// A ready disk (provisioned 2026-11-10) holding a roll, moved to 2 December with November
/// copied but no receipt read in; answers the disk and the return request of its roll.
fn copied_not_reported(mut d: Disk) -> (Disk, ReturnRoll) {
    let r = d.load_roll(InvoiceKind::Normal, 1, 50);
    d.issue(InvoiceKind::Normal, 100_00);
    d.disk.set_time(at(2026, 12, 2, 9));
    d.copy_tax(period(2026, 11));
    let ret = ReturnRoll {
        request_id: [0x71; 16],
        kind: InvoiceKind::Normal,
        code: r.code,
        first: r.first,
    };
    (d, ret)
}

#[test]
fn d04_return_refused_after_the_copy_until_the_receipt() {
    let (mut d, ret) = copied_not_reported(Disk::ready());
    assert_eq!(d.info().last_copied, Some(period(2026, 11)));
    assert_eq!(d.info().last_reported, None);
    assert_eq!(
        d.err(S, Request::ReturnRoll(ret.clone())),
        WireError::ReturnBeforeReport
    );
    // Issuing needs only the copy (D5); the return waits for the report (D4).
    d.issue(InvoiceKind::Normal, 100_00);
    let receipt = d.report_receipt(period(2026, 11));
    d.ok(S, Request::ApplyReportReceipt(receipt));
    assert_eq!(d.info().last_reported, Some(period(2026, 11)));
    let Response::ReturnRoll(r) = d.ok(S, Request::ReturnRoll(ret)) else {
        panic!()
    };
    d.verify(&r);
    assert_eq!(r.body.count, 48);
}

#[test]
fn d04_refusal_names_the_faq_reason() {
    let m = WireError::ReturnBeforeReport.message();
    assert!(
        m.contains("has not received the last month's summary") && m.contains("FAQ 4.21(4)"),
        "{m}"
    );
}

#[test]
fn d04_forged_foreign_and_replayed_receipts_are_refused() {
    let (mut d, ret) = copied_not_reported(Disk::ready());
    let p = period(2026, 11);
    // Signed by another key.
    let forged = Signed::sign(
        ReportReceipt {
            serial: serial(),
            period: p,
            issued_at: d.disk.now(),
        },
        &foreign_bureau(),
    )
    .unwrap();
    assert_eq!(
        d.err(S, Request::ApplyReportReceipt(forged)),
        WireError::BadSignature
    );
    // A signature that no longer covers its body.
    let mut tampered = d.report_receipt(period(2026, 10));
    tampered.body.period = p;
    assert_eq!(
        d.err(S, Request::ApplyReportReceipt(tampered)),
        WireError::BadSignature
    );
    // Bureau-signed, for another disk.
    let foreign = signed(ReportReceipt {
        serial: other_serial(),
        period: p,
        issued_at: d.disk.now(),
    });
    assert_eq!(
        d.err(S, Request::ApplyReportReceipt(foreign)),
        WireError::WrongDevice
    );
    // A period the disk has not copied: the bureau cannot have its summary.
    let uncopied = d.report_receipt(period(2026, 12));
    assert_eq!(
        d.err(S, Request::ApplyReportReceipt(uncopied)),
        WireError::NotCopied
    );
    // None of these counted.
    assert_eq!(d.info().last_reported, None);
    assert_eq!(
        d.err(S, Request::ReturnRoll(ret.clone())),
        WireError::ReturnBeforeReport
    );
    // The good one, once; again it is a replay, and so is an older period's.
    let good = d.report_receipt(p);
    d.ok(S, Request::ApplyReportReceipt(good.clone()));
    assert_eq!(
        d.err(S, Request::ApplyReportReceipt(good)),
        WireError::Replayed
    );
    let older = d.report_receipt(period(2026, 10));
    assert_eq!(
        d.err(S, Request::ApplyReportReceipt(older)),
        WireError::Replayed
    );
    // Needs the login like every token (D2).
    d.ok(S, Request::Logout(()));
    let again = d.report_receipt(p);
    assert_eq!(
        d.err(S, Request::ApplyReportReceipt(again)),
        WireError::NotLoggedIn
    );
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    d.ok(S, Request::ReturnRoll(ret));
}

#[test]
fn d04_a_clear_card_token_counts_as_the_receipt() {
    let (mut d, ret) = copied_not_reported(Disk::ready());
    let t = d.clear_token(period(2026, 11), at(2027, 1, 16, 0));
    d.ok(S, Request::ClearCard(t));
    assert_eq!(d.info().last_reported, Some(period(2026, 11)));
    // The receipt that comes after it is a replay.
    let receipt = d.report_receipt(period(2026, 11));
    assert_eq!(
        d.err(S, Request::ApplyReportReceipt(receipt)),
        WireError::Replayed
    );
    d.ok(S, Request::ReturnRoll(ret));
}

#[test]
fn d04_the_next_month_needs_its_own_receipt_and_the_first_month_none() {
    // Provisioned this month: nothing to report, a return goes through.
    let mut d = Disk::ready();
    let r = d.load_roll(InvoiceKind::Normal, 1, 50);
    let ret = ReturnRoll {
        request_id: [0x72; 16],
        kind: InvoiceKind::Normal,
        code: r.code,
        first: r.first,
    };
    let r2 = d.load_roll(InvoiceKind::Normal, 1, 50);
    d.ok(S, Request::ReturnRoll(ret));
    // December reported (copy + receipt); in January December's report is what counts.
    d.disk.set_time(at(2026, 12, 2, 9));
    d.copy_tax(period(2026, 11));
    let receipt = d.report_receipt(period(2026, 11));
    d.ok(S, Request::ApplyReportReceipt(receipt));
    let t = d.clear_token(period(2026, 11), at(2027, 1, 16, 0));
    d.ok(S, Request::ClearCard(t));
    d.disk.set_time(at(2027, 1, 3, 9));
    d.copy_tax(period(2026, 12));
    let ret2 = ReturnRoll {
        request_id: [0x73; 16],
        kind: InvoiceKind::Normal,
        code: r2.code,
        first: r2.first,
    };
    assert_eq!(
        d.err(S, Request::ReturnRoll(ret2.clone())),
        WireError::ReturnBeforeReport
    );
    let receipt = d.report_receipt(period(2026, 12));
    d.ok(S, Request::ApplyReportReceipt(receipt));
    d.ok(S, Request::ReturnRoll(ret2));
}

#[test]
fn d04_the_reported_period_survives_a_power_cycle() {
    let (mut d, ret) = copied_not_reported(Disk::ready());
    let receipt = d.report_receipt(period(2026, 11));
    d.ok(S, Request::ApplyReportReceipt(receipt.clone()));
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.info().last_reported, Some(period(2026, 11)));
    assert_eq!(
        d.err(S, Request::ApplyReportReceipt(receipt)),
        WireError::Replayed
    );
    d.ok(S, Request::ReturnRoll(ret));
}

/// Rewrites the newest state snapshot of a flash image file in the first layout (the
/// serialized fields of `Persist` only, as firmware before the reported period wrote it).
fn downgrade_newest_state(image: &std::path::Path) {
    let mut bytes = std::fs::read(image).unwrap();
    let slots = 4 * SECTOR / STATE_SLOT;
    let mut newest: Option<(usize, u32)> = None;
    for slot in 0..slots {
        let at = slot * STATE_SLOT;
        if bytes[at..at + 4] != *b"TDS1" {
            continue;
        }
        let seq = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
        if newest.is_none_or(|(_, s)| seq > s) {
            newest = Some((at, seq));
        }
    }
    let (at, _) = newest.unwrap();
    let len = u16::from_le_bytes([bytes[at + 8], bytes[at + 9]]) as usize;
    let start = at + STATE_HEADER;
    let p = Persist::decode(&bytes[start..start + len]).unwrap();
    let mut old = [0u8; MAX_STATE_PAYLOAD];
    let n = postcard::to_slice(&p, &mut old).unwrap().len();
    assert!(n < len, "the first layout is shorter");
    bytes[at + 8..at + 10].copy_from_slice(&(n as u16).to_le_bytes());
    bytes[start..start + n].copy_from_slice(&old[..n]);
    let crc = taxdisk_protocol::frame::crc32(&bytes[at..start + n]);
    bytes[start + n..start + n + 4].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(image, bytes).unwrap();
}

#[test]
fn d13_a_state_image_of_the_first_layout_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let cfg = || {
        let mut cfg = SimConfig::new(serial(), sign::public_key(&bureau()), start());
        cfg.flash_bytes = 1 << 20;
        cfg.seed = 42;
        cfg.image = Some(image.clone());
        cfg
    };
    let fresh = Disk {
        disk: SimDisk::new(cfg()).unwrap(),
        seq: 0,
        request_no: 0,
        batch: 100,
    };
    let mut d = fresh;
    let t = d.provision_token();
    d.ok(S, Request::Provision(t));
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    let (d, ret) = copied_not_reported(d);
    let (seq, batch, now) = (d.seq, d.batch, d.disk.now());
    let before = {
        let mut d = d;
        let info = d.info();
        drop(d);
        info
    };
    downgrade_newest_state(&image);
    let mut c = cfg();
    c.start_time = now;
    let mut d = Disk {
        disk: SimDisk::new(c).unwrap(),
        seq,
        request_no: 1000,
        batch,
    };
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    let info = d.info();
    assert_eq!(info.state, DiskState::Ready);
    assert_eq!(
        (info.last_copied, info.last_reported, info.counter),
        (before.last_copied, None, before.counter)
    );
    assert_eq!(
        d.err(S, Request::ReturnRoll(ret.clone())),
        WireError::ReturnBeforeReport
    );
    let receipt = d.report_receipt(period(2026, 11));
    d.ok(S, Request::ApplyReportReceipt(receipt));
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.info().last_reported, Some(period(2026, 11)));
    d.ok(S, Request::ReturnRoll(ret));
}
