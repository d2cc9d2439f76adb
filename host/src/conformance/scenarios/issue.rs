//! D5: issuing, its idempotency and its refusals.

use super::context::{Ctx, Step, Stop, check, refused};
use super::context::{fresh, with_id};
use crate::conformance::findings as f;
use crate::disk::new_request_id;
use taxdisk_protocol::WireError;
use taxdisk_protocol::command::InvoiceRef;
use taxdisk_protocol::types::*;

pub(super) fn d05_issue(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 2)?;
    let (code, number) = x.next_number(InvoiceKind::Normal)?;
    let info = x.c.info()?;
    let d = x.draft(InvoiceKind::Normal, 123_456);
    let a = x.c.issue(fresh(d.clone()))?;
    let t_after = x.now()?;
    let b = &a.body;
    x.verify(&a, "Issue")?;
    check!(
        Some(&b.serial) == x.serial.as_ref(),
        "invoice serial {}",
        b.serial
    );
    check!(
        b.code == code && b.number.get() == number,
        "invoice {} {}, expected {code} {number:08}",
        b.code,
        b.number
    );
    check!(
        b.counter == info.counter.saturating_add(1),
        "counter {} after {}",
        b.counter,
        info.counter
    );
    check!(
        b.time >= info.time && b.time <= t_after,
        "invoice time {} outside the disk clock {}..{}",
        b.time,
        info.time,
        t_after
    );
    check!(
        b.amount == d.amount
            && b.tax == d.tax
            && b.content_digest == d.content_digest
            && b.buyer == d.buyer
            && b.kind == d.kind,
        "{}",
        f::FIELDS.say(&[
            &b.amount,
            &d.amount,
            &b.tax,
            &d.tax,
            &f::opt(b.buyer.as_ref()),
            &f::opt(d.buyer.as_ref()),
            &b.kind.name(),
            &d.kind.name(),
            &f::same(b.content_digest == d.content_digest),
        ])
    );
    let a2 = x.issue(InvoiceKind::Normal, 1000)?;
    x.verify(&a2, "Issue")?;
    check!(
        a2.body.number.get() == number.saturating_add(1)
            && a2.body.counter == b.counter.saturating_add(1),
        "second invoice {} counter {}",
        a2.body.number,
        a2.body.counter
    );
    let r = InvoiceRef {
        kind: b.kind,
        code: b.code.clone(),
        number: b.number,
    };
    let view = x.c.read_invoice(&r)?;
    check!(
        view.invoice == a && !view.voided && !view.uploaded,
        "{}",
        f::READ_INVOICE.say(&[
            &f::invoice(Some(&view.invoice)),
            &f::same(view.invoice == a),
            &f::yes(view.voided),
            &f::yes(view.uploaded),
        ])
    );
    let last = x.c.last_issued(Some(InvoiceKind::Normal))?;
    check!(
        last.as_ref().map(|v| &v.invoice) == Some(&a2),
        "{}",
        f::LAST_ISSUED.say(&[
            &InvoiceKind::Normal.name(),
            &f::invoice(last.as_ref().map(|v| &v.invoice)),
            &f::invoice(Some(&a2)),
        ])
    );
    let last = x.c.last_issued(None)?;
    check!(
        last.as_ref().map(|v| &v.invoice) == Some(&a2),
        "{}",
        f::LAST_ISSUED.say(&[
            &"any kind",
            &f::invoice(last.as_ref().map(|v| &v.invoice)),
            &f::invoice(Some(&a2)),
        ])
    );
    Ok(())
}

pub(super) fn d05_idempotent(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 2)?;
    let id = new_request_id();
    let d = x.draft(InvoiceKind::Normal, 50_000);
    let before = x.c.info()?.counter;
    let first = x.c.issue(with_id(id, d.clone()))?;
    let again = x.c.issue(with_id(id, d.clone()))?;
    check!(
        again == first,
        "{}",
        f::RETRY_OTHER.say(&[
            &f::invoice(Some(&first)),
            &first.body.counter,
            &f::invoice(Some(&again)),
            &again.body.counter,
        ])
    );
    let after = x.c.info()?.counter;
    check!(
        after == before.saturating_add(1),
        "two sends with one request id moved the counter {before} -> {after}"
    );
    let mut changed = d;
    changed.amount = Fen(60_000);
    changed.tax = Fen(7_800);
    refused(
        x.c.issue(with_id(id, changed)),
        WireError::RequestIdConflict,
        "the same request id for another invoice",
    )?;
    Ok(())
}

pub(super) fn d05_refusals(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 1)?;
    let before = x.c.info()?.counter;
    let mut d = x.draft(InvoiceKind::Normal, 10_000);
    d.tax = Fen(-10_000);
    refused(
        x.c.issue(fresh(d)),
        WireError::ZeroTotal,
        "amount plus tax zero",
    )?;
    let limit = x.c.status(InvoiceKind::Normal)?.limits.single_limit;
    let d = x.draft(InvoiceKind::Normal, limit.0.saturating_add(1));
    refused(
        x.c.issue(fresh(d)),
        WireError::OverSingleLimit,
        "amount over the single-invoice limit",
    )?;
    let d = x.draft(InvoiceKind::Roll, 10_000);
    refused(
        x.c.issue(fresh(d)),
        WireError::KindNotAuthorized,
        "a kind not authorized",
    )?;
    check!(
        x.c.status(InvoiceKind::MotorVehicle)?.blank_left == 0,
        "motor-vehicle stock is not empty"
    );
    let d = x.draft(InvoiceKind::MotorVehicle, 10_000);
    refused(
        x.c.issue(fresh(d)),
        WireError::NoBlankNumber,
        "an authorized kind without blank numbers",
    )?;
    let mut d = x.draft(InvoiceKind::Normal, -10_000);
    d.tax = Fen(-1_300);
    refused(
        x.c.issue(fresh(d)),
        WireError::SignMismatch,
        "a negative blue invoice",
    )?;
    x.c.logout()?;
    let d = x.draft(InvoiceKind::Normal, 10_000);
    let r = refused(
        x.c.issue(fresh(d)),
        WireError::NotLoggedIn,
        "Issue without a login",
    );
    x.login()?;
    r?;
    let after = x.c.info()?.counter;
    check!(
        after == before,
        "refused issues moved the counter {before} -> {after}"
    );
    Ok(())
}
