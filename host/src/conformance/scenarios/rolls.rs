//! D4: roll grants and roll returns.

use super::context::{Ctx, Step, Stop, check, forge, refused};
use crate::conformance::findings as f;
use taxdisk_protocol::WireError;
use taxdisk_protocol::types::*;

pub(super) fn d04_grants(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let tokens = x.tokens()?;
    x.login()?;
    let before = x.c.status(InvoiceKind::Normal)?.blank_left;
    let code = x.code(InvoiceKind::Normal)?;
    let body = x.grant_body(InvoiceKind::Normal, code.clone(), 1, 50)?;
    let g = tokens.roll_grant(body.clone())?;
    refused(
        x.c.load_roll(forge(&g)),
        WireError::BadSignature,
        "LoadRolls with a forged grant",
    )?;
    let mut other = body.clone();
    other.serial = x.other_serial()?;
    refused(
        x.c.load_roll(tokens.roll_grant(other)?),
        WireError::WrongDevice,
        "LoadRolls with another disk's grant",
    )?;
    let roll = x.c.load_roll(g.clone())?;
    check!(
        roll.kind == InvoiceKind::Normal
            && roll.code == code
            && roll.first.get() == 1
            && roll.count == 50
            && roll.used == 0,
        "{}",
        f::ROLL_LOADED.say(&[
            &roll.kind.name(),
            &f::number(&roll.code, roll.first),
            &roll.count,
            &roll.used,
            &InvoiceKind::Normal.name(),
            &format_args!("{code} 00000001"),
            &50,
            &0,
        ])
    );
    refused(
        x.c.load_roll(g),
        WireError::Replayed,
        "the same grant twice",
    )?;
    let overlap = x.grant_body(InvoiceKind::Normal, code, 40, 20)?;
    refused(
        x.c.load_roll(tokens.roll_grant(overlap)?),
        WireError::RollOverlap,
        "a grant overlapping a loaded roll",
    )?;
    let bad_code = x.code(InvoiceKind::Normal)?;
    let bad = x.grant_body(InvoiceKind::Special, bad_code, 1, 10)?;
    refused(
        x.c.load_roll(tokens.roll_grant(bad)?),
        WireError::BadRollCode,
        "a special grant with a normal code",
    )?;
    let listed = x.c.list_rolls(Some(InvoiceKind::Normal))?;
    check!(
        listed.contains(&roll),
        "{}",
        f::ROLL_NOT_LISTED.say(&[&f::roll(&roll), &f::rolls(&listed)])
    );
    let after = x.c.status(InvoiceKind::Normal)?.blank_left;
    check!(
        after == before.saturating_add(50),
        "blank numbers left {after}, expected {before} + 50"
    );
    for k in [InvoiceKind::Special, InvoiceKind::Electronic] {
        x.load_roll(k, 50)?;
    }
    Ok(())
}

pub(super) fn d04_return(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 1)?;
    let old =
        x.c.list_rolls(Some(InvoiceKind::Normal))?
            .into_iter()
            .find(|r| r.left() > 0)
            .ok_or_else(|| Stop::Fail("no normal roll to return".into()))?;
    let fresh = x.load_roll(InvoiceKind::Normal, 50)?;
    let rc = x.c.return_roll(old.kind, &old.code, old.first)?;
    x.verify(&rc, "ReturnRoll")?;
    let b = &rc.body;
    check!(
        b.kind == old.kind
            && b.code == old.code
            && b.first.get() == old.first.get().saturating_add(old.used)
            && b.count == old.left(),
        "{}",
        f::RETURN_RECEIPT.say(&[
            &b.kind.name(),
            &f::number(&b.code, b.first),
            &b.count,
            &old.kind.name(),
            &format_args!(
                "{} {:08}",
                old.code,
                old.first.get().saturating_add(old.used)
            ),
            &old.left(),
        ])
    );
    let rolls = x.c.list_rolls(Some(InvoiceKind::Normal))?;
    check!(
        !rolls.iter().any(|r| r.code == old.code && r.left() > 0),
        "{}",
        f::ROLL_STILL.say(&[
            &f::roll(&old),
            &rolls
                .iter()
                .filter(|r| r.code == old.code)
                .map(Roll::left)
                .sum::<u32>(),
        ])
    );
    refused(
        x.c.return_roll(old.kind, &old.code, old.first),
        WireError::RollNotFound,
        "returning a roll twice",
    )?;
    let inv = x.issue(InvoiceKind::Normal, 10_000)?.body;
    check!(
        inv.code == fresh.code && inv.number == fresh.first,
        "after the return the invoice is {} {}",
        inv.code,
        inv.number
    );
    Ok(())
}
