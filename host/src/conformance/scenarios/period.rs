//! D8: copy-tax, the summary against an oracle of the events, report receipts and clear
//! cards; and D9's upload deadline, which runs after them.

use super::context::fresh as fresh_id;
use super::context::{
    Ctx, LONGEST_OFFLINE_SECS, Step, Stop, check, forge, next_month_day3, refused,
};
use crate::conformance::findings as f;
use std::collections::BTreeMap;
use taxdisk_protocol::command::InvoiceRef;
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Period, WireError};

fn neg(f: Fen) -> Fen {
    Fen(f.0.saturating_neg())
}

/// The summary the disk should sign for `period`, from its events read back.
fn oracle(events: &[EventView], period: Period) -> (BTreeMap<InvoiceKind, KindSummary>, u64, u64) {
    let mut kinds: BTreeMap<InvoiceKind, KindSummary> = BTreeMap::new();
    let invoices: BTreeMap<u64, &IssuedInvoice> = events
        .iter()
        .filter_map(|e| match &e.event {
            JournalEvent::Invoice(s) => Some((s.body.counter, &s.body)),
            _ => None,
        })
        .collect();
    let (mut first, mut last) = (0, 0);
    for e in events.iter().filter(|e| period.contains(e.event.time())) {
        let c = e.event.counter();
        if first == 0 {
            first = c;
        }
        last = c;
        let s = kinds.entry(e.event.kind()).or_default();
        match &e.event {
            JournalEvent::Invoice(i) => {
                let b = &i.body;
                if b.is_red() {
                    s.negative_count = s.negative_count.saturating_add(1);
                    s.negative_amount = s.negative_amount.saturating_add(b.amount);
                    s.negative_tax = s.negative_tax.saturating_add(b.tax);
                } else {
                    s.positive_count = s.positive_count.saturating_add(1);
                    s.positive_amount = s.positive_amount.saturating_add(b.amount);
                    s.positive_tax = s.positive_tax.saturating_add(b.tax);
                }
            }
            JournalEvent::Void(v) => {
                s.void_count = s.void_count.saturating_add(1);
                if let Some(b) = invoices.get(&v.body.invoice_counter) {
                    let s = kinds.entry(b.kind).or_default();
                    if b.is_red() {
                        s.negative_amount = s.negative_amount.saturating_add(neg(b.amount));
                        s.negative_tax = s.negative_tax.saturating_add(neg(b.tax));
                    } else {
                        s.positive_amount = s.positive_amount.saturating_add(neg(b.amount));
                        s.positive_tax = s.positive_tax.saturating_add(neg(b.tax));
                    }
                }
            }
            JournalEvent::BlankVoid(b) => {
                s.blank_void_count = s.blank_void_count.saturating_add(b.body.count)
            }
        }
    }
    (kinds, first, last)
}

/// The bureau's receipt of `period`'s summary for `serial` (D4, FAQ 4.21(4)).
fn report_receipt(
    x: &mut Ctx<'_>,
    period: Period,
    serial: DeviceSerial,
) -> Result<Signed<ReportReceipt>, Stop> {
    let body = ReportReceipt {
        serial,
        period,
        issued_at: x.now()?,
    };
    Ok(x.tokens()?.report_receipt(body)?)
}

pub(super) fn d08_period(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.need_control()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 6)?;
    // Nothing older than `kept` stays pending: the moves below are bounded by
    // LONGEST_OFFLINE_SECS from here, inside the provisioned offline hours (D9).
    x.ack_all()?;
    let info = x.c.info()?;
    let p = info
        .period
        .ok_or_else(|| Stop::Fail("GetInfo has no period".into()))?;
    let kept = x.issue(InvoiceKind::Normal, 10_000)?.body;
    let kept_ref = InvoiceRef {
        kind: kept.kind,
        code: kept.code.clone(),
        number: kept.number,
    };
    refused(
        x.c.copy_tax(p),
        WireError::PeriodNotFinished,
        "CopyTax of the running period",
    )?;
    let now = x.now()?;
    let t = x.clear_token(p, now.plus_secs(86_400), now.plus_secs(86_400))?;
    refused(
        x.c.clear_card(t),
        WireError::NotCopied,
        "ClearCard of a period not copied",
    )?;
    // Into the next month, day 3 at 10:00.
    let target = next_month_day3(p);
    let now = x.now()?;
    check!(
        target.0.saturating_sub(kept.time.0) + (86_400 + 60) + 120 <= LONGEST_OFFLINE_SECS,
        "the suite's clock moves from {} to {target} would cross its own offline limit",
        kept.time
    );
    x.control(ControlRequest::Advance(target.0.saturating_sub(now.0)))?;
    let info = x.c.info()?;
    check!(
        info.period == Some(p.next()),
        "{}",
        f::PERIOD_AFTER_MOVE.say(&[&f::period(info.period), &f::period(Some(p.next()))])
    );
    let d = x.draft(InvoiceKind::Normal, 10_000);
    refused(
        x.c.issue(fresh_id(d)),
        WireError::PeriodNotReported,
        "Issue in a new month before the report",
    )?;
    let roll =
        x.c.list_rolls(Some(InvoiceKind::Normal))?
            .into_iter()
            .find(|r| r.left() > 0)
            .ok_or_else(|| Stop::Fail("no normal roll".into()))?;
    refused(
        x.c.return_roll(roll.kind, &roll.code, roll.first),
        WireError::ReturnBeforeReport,
        "ReturnRoll in a new month before the report",
    )?;
    refused(
        x.c.copy_tax(p.next()),
        WireError::PeriodNotFinished,
        "CopyTax of the new running period",
    )?;
    let s = x.c.copy_tax(p)?;
    x.verify(&s, "CopyTax")?;
    let b = &s.body;
    check!(
        Some(&b.serial) == x.serial.as_ref()
            && b.period == p
            && Some(&b.taxpayer_id) == x.taxpayer.as_ref(),
        "{}",
        f::SUMMARY_HEADER.say(&[
            &b.serial,
            &f::period(Some(b.period)),
            &b.taxpayer_id,
            &f::opt(x.serial.as_ref()),
            &f::period(Some(p)),
            &f::opt(x.taxpayer.as_ref()),
        ])
    );
    let events = x.all_events()?;
    let (want, first, last) = oracle(&events, p);
    let got: BTreeMap<InvoiceKind, KindSummary> = b.kinds.iter().cloned().collect();
    if let Some((kind, total, g, w)) = f::summary_difference(&got, &want) {
        return Err(Stop::Fail(f::SUMMARY_TOTAL.say(&[&kind, &total, &g, &w])));
    }
    check!(
        b.first_counter == first && b.last_counter == last,
        "summary counters {}..{}, the journal gives {first}..{last}",
        b.first_counter,
        b.last_counter
    );
    check!(
        x.c.copy_tax(p)? == s,
        "a repeated CopyTax answered another summary"
    );
    check!(
        x.c.info()?.last_copied == Some(p),
        "GetInfo last_copied is not {p}"
    );
    // D4 (FAQ 4.21(4)): copied is not reported; the return waits for the bureau's receipt.
    refused(
        x.c.return_roll(roll.kind, &roll.code, roll.first),
        WireError::ReturnBeforeReport,
        "ReturnRoll after CopyTax, before the report receipt",
    )?;
    let serial = x.serial()?;
    let receipt = report_receipt(x, p, serial)?;
    refused(
        x.c.apply_report_receipt(forge(&receipt)),
        WireError::BadSignature,
        "a forged report receipt",
    )?;
    let other = x.other_serial()?;
    let foreign = report_receipt(x, p, other)?;
    refused(
        x.c.apply_report_receipt(foreign),
        WireError::WrongDevice,
        "a report receipt for another disk",
    )?;
    refused(
        x.c.return_roll(roll.kind, &roll.code, roll.first),
        WireError::ReturnBeforeReport,
        "ReturnRoll after refused report receipts",
    )?;
    x.c.apply_report_receipt(receipt.clone())?;
    check!(
        x.c.info()?.last_reported == Some(p),
        "after ApplyReportReceipt GetInfo last_reported is not {p}"
    );
    refused(
        x.c.apply_report_receipt(receipt),
        WireError::Replayed,
        "a report receipt twice",
    )?;
    let spare = x.load_roll(InvoiceKind::Normal, 3)?;
    let rc = x.c.return_roll(spare.kind, &spare.code, spare.first)?;
    x.verify(&rc, "ReturnRoll")?;
    check!(
        rc.body.count == 3,
        "ReturnRoll after the report receipt returned {} numbers, not 3",
        rc.body.count
    );
    refused(
        x.c.void(&kept_ref),
        WireError::AlreadyReported,
        "voiding an invoice of a reported period",
    )?;
    x.issue(InvoiceKind::Normal, 10_000)?;
    let now = x.now()?;
    let lock = now.plus_secs(86_400);
    let t = x.clear_token(p, lock, now.plus_secs(20 * 86_400))?;
    x.c.clear_card(t.clone())?;
    let info = x.c.info()?;
    check!(
        info.last_cleared == Some(p) && info.lock_time == Some(lock),
        "{}",
        f::CLEARED.say(&[
            &f::period(info.last_cleared),
            &f::time(info.lock_time),
            &f::period(Some(p)),
            &f::time(Some(lock)),
        ])
    );
    refused(
        x.c.clear_card(t),
        WireError::Replayed,
        "a clear-card token twice",
    )?;
    // Past the lock time.
    let fresh = x.issue(InvoiceKind::Normal, 10_000)?.body;
    x.advance(86_400 + 60)?;
    let r = (|| -> Step {
        check!(
            x.c.info()?.state == DiskState::Locked,
            "past the lock time the disk is not locked"
        );
        let d = x.draft(InvoiceKind::Normal, 10_000);
        refused(
            x.c.issue(fresh_id(d)),
            WireError::Locked,
            "Issue when locked",
        )?;
        refused(
            x.c.void(&InvoiceRef {
                kind: fresh.kind,
                code: fresh.code.clone(),
                number: fresh.number,
            }),
            WireError::Locked,
            "Void when locked",
        )?;
        refused(
            x.c.void_blank(InvoiceKind::Normal, 1),
            WireError::Locked,
            "VoidBlank when locked",
        )?;
        refused(
            x.c.return_roll(roll.kind, &roll.code, roll.first),
            WireError::Locked,
            "ReturnRoll when locked",
        )?;
        Ok(())
    })();
    let now = x.now()?;
    let t = x.clear_token(p, now.plus_secs(60 * 86_400), now.plus_secs(60 * 86_400))?;
    x.c.clear_card(t)?;
    r?;
    check!(
        x.c.info()?.state == DiskState::Ready,
        "a repeated clear card did not unlock the disk"
    );
    x.issue(InvoiceKind::Normal, 10_000)?;
    Ok(())
}

/// D9: invoices of the last period still not uploaded after the upload deadline refuse
/// issuing until they are uploaded. Runs after D8, in a month after the provisioning one.
pub(super) fn d09_upload_deadline(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.need_control()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 2)?;
    let info = x.c.info()?;
    let (Some(cur), Some(copied)) = (info.period, info.last_copied) else {
        return Err(Stop::Skip("needs a copied period (the D8 scenario)".into()));
    };
    check!(
        copied < cur,
        "the last copied period {copied} is not before {cur}"
    );
    // An invoice of the copied period that is not uploaded yet: read one back.
    let events = x.all_events()?;
    let old_pending = events
        .iter()
        .any(|e| !e.uploaded && e.event.time().period() <= copied);
    if !old_pending {
        return Err(Stop::Skip(
            "needs an invoice of the last period not uploaded (the D8 scenario leaves one)".into(),
        ));
    }
    let now = x.now()?;
    let lock = now.plus_secs(60 * 86_400);
    let t = x.clear_token(copied, lock, now.plus_secs(60))?;
    x.c.clear_card(t)?;
    x.advance(120)?;
    let d = x.draft(InvoiceKind::Normal, 10_000);
    let r = refused(
        x.c.issue(fresh_id(d)),
        WireError::UploadDeadlinePassed,
        "Issue with last period's invoices not uploaded after the deadline",
    );
    x.ack_all()?;
    let now = x.now()?;
    let t = x.clear_token(copied, lock, now.plus_secs(60 * 86_400))?;
    x.c.clear_card(t)?;
    r?;
    x.issue(InvoiceKind::Normal, 10_000)?;
    Ok(())
}
