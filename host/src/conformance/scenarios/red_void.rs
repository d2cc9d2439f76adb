//! D6 and D7: red invoices and voids.

use super::context::fresh;
use super::context::{Ctx, Step, Stop, check, refused};
use crate::conformance::findings as f;
use taxdisk_protocol::command::InvoiceRef;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Period, WireError};

fn info_form(p: Period) -> Result<InfoFormNumber, Stop> {
    let mut s = format!("330100{:02}{:02}00001", p.year % 100, p.month);
    let check = taxdisk_protocol::validate::info_form_check_digit(s.as_bytes());
    s.push(check as char);
    InfoFormNumber::new(&s).map_err(|e| Stop::Fail(format!("info form number {s}: {e}")))
}

pub(super) fn d06_red(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 6)?;
    x.ensure_blank(InvoiceKind::Special, 2)?;
    let o = x.issue(InvoiceKind::Normal, 100_000)?.body;
    let mut d = x.red_of(&o, 10_000);
    d.amount = Fen(10_000);
    d.tax = Fen(1_300);
    refused(
        x.c.issue(fresh(d)),
        WireError::SignMismatch,
        "a red invoice with positive amounts",
    )?;
    let mut d = x.red_of(&o, 10_000);
    d.red = Some(RedRef::Original {
        code: o.code.clone(),
        number: InvoiceNumber::new(99_999_999).map_err(|e| Stop::Fail(e.to_string()))?,
    });
    refused(
        x.c.issue(fresh(d)),
        WireError::OriginalNotFound,
        "a red invoice of an unknown original",
    )?;
    refused(
        x.c.issue(fresh(x.red_of(&o, 100_001))),
        WireError::ReversalNotAllowed,
        "a red invoice larger than its original",
    )?;
    let red = x.c.issue(fresh(x.red_of(&o, 40_000)))?;
    x.verify(&red, "red Issue")?;
    check!(
        red.body.amount == Fen(-40_000) && red.body.red == x.red_of(&o, 1).red,
        "{}",
        f::RED.say(&[
            &f::invoice(Some(&red)),
            &red.body.amount,
            &f::red_ref(red.body.red.as_ref()),
            &Fen(-40_000),
            &f::red_ref(x.red_of(&o, 1).red.as_ref()),
        ])
    );
    refused(
        x.c.issue(fresh(x.red_of(&o, 60_001))),
        WireError::ReversalNotAllowed,
        "reds reversing more than the original in total",
    )?;
    let period =
        x.c.info()?
            .period
            .ok_or_else(|| Stop::Fail("GetInfo has no period".into()))?;
    let mut d = x.draft(InvoiceKind::Special, -20_000);
    d.red = Some(RedRef::InfoForm(info_form(period)?));
    let sred = x.c.issue(fresh(d))?;
    x.verify(&sred, "special red Issue")?;
    let mut d = x.draft(InvoiceKind::Special, -20_000);
    d.red = Some(RedRef::Original {
        code: o.code.clone(),
        number: o.number,
    });
    refused(
        x.c.issue(fresh(d)),
        WireError::ReversalNotAllowed,
        "a special red naming an original instead of a form",
    )?;
    let v = x.issue(InvoiceKind::Normal, 30_000)?.body;
    x.c.void(&InvoiceRef {
        kind: v.kind,
        code: v.code.clone(),
        number: v.number,
    })?;
    refused(
        x.c.issue(fresh(x.red_of(&v, 30_000))),
        WireError::OriginalVoided,
        "a red invoice of a voided original",
    )?;
    Ok(())
}

pub(super) fn d07_void(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 6)?;
    x.ensure_blank(InvoiceKind::Electronic, 1)?;
    let inv = x.issue(InvoiceKind::Normal, 20_000)?.body;
    let r = InvoiceRef {
        kind: inv.kind,
        code: inv.code.clone(),
        number: inv.number,
    };
    let v = x.c.void(&r)?;
    x.verify(&v, "Void")?;
    check!(
        v.body.code == inv.code
            && v.body.number == inv.number
            && v.body.invoice_counter == inv.counter
            && v.body.counter == inv.counter.saturating_add(1),
        "{}",
        f::VOID_EVENT.say(&[
            &f::number(&v.body.code, v.body.number),
            &v.body.counter,
            &v.body.invoice_counter,
            &f::number(&inv.code, inv.number),
            &inv.counter.saturating_add(1),
            &inv.counter,
        ])
    );
    check!(
        x.c.read_invoice(&r)?.voided,
        "ReadInvoice does not show the void"
    );
    refused(x.c.void(&r), WireError::AlreadyVoided, "voiding twice")?;
    let unknown = InvoiceRef {
        kind: inv.kind,
        code: inv.code.clone(),
        number: InvoiceNumber::new(99_999_998).map_err(|e| Stop::Fail(e.to_string()))?,
    };
    refused(
        x.c.void(&unknown),
        WireError::InvoiceNotFound,
        "voiding an unknown invoice",
    )?;
    let e = x.issue(InvoiceKind::Electronic, 20_000)?.body;
    refused(
        x.c.void(&InvoiceRef {
            kind: e.kind,
            code: e.code.clone(),
            number: e.number,
        }),
        WireError::VoidNotAllowed,
        "voiding an electronic invoice",
    )?;
    let (code, next) = x.next_number(InvoiceKind::Normal)?;
    let bv = x.c.void_blank(InvoiceKind::Normal, 2)?;
    x.verify(&bv, "VoidBlank")?;
    check!(
        bv.body.code == code && bv.body.first.get() == next && bv.body.count == 2,
        "{}",
        f::BLANK_VOID.say(&[
            &bv.body.count,
            &f::number(&bv.body.code, bv.body.first),
            &2,
            &format_args!("{code} {next:08}"),
        ])
    );
    refused(
        x.c.void_blank(InvoiceKind::Normal, 0),
        WireError::BadArgument,
        "a blank void of 0 numbers",
    )?;
    x.ensure_blank(InvoiceKind::Normal, 1)?;
    let after = x.issue(InvoiceKind::Normal, 20_000)?.body;
    check!(
        after.code != code || after.number.get() == next.saturating_add(2),
        "the next invoice is {} {}, expected number {:08} after the blank void",
        after.code,
        after.number,
        next + 2
    );
    Ok(())
}
