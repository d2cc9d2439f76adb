//! D3: the disk clock and clock tokens.

use super::context::fresh;
use super::context::{Ctx, Step, Stop, check, forge, refused};
use std::time::Instant;
use taxdisk_protocol::command::InvoiceRef;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Timestamp, WireError};

pub(super) fn d03_clock(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let tokens = x.tokens()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 2)?;
    let inv = x.issue(InvoiceKind::Normal, 10_000)?.body;
    let t0 = x.now()?;
    let wall = Instant::now();
    if x.control.is_some() {
        x.advance(60)?;
        let t1 = x.now()?;
        check!(
            t1.0 >= t0.0.saturating_add(60),
            "the clock read {t0} then {t1} after 60 s"
        );
    } else {
        let t1 = x.now()?;
        check!(t1 >= t0, "the clock went back from {t0} to {t1}");
    }
    let serial = x.serial()?;
    let body = |x: &mut Ctx<'_>, time: Timestamp| -> ClockToken {
        x.seq.clock += 1;
        ClockToken {
            serial: serial.clone(),
            seq: x.seq.clock,
            time,
            issued_at: t0,
        }
    };
    let back = Timestamp(inv.time.0.saturating_sub(3600));
    let b = body(x, back);
    let good = tokens.clock(b.clone())?;
    refused(
        x.c.set_clock(forge(&good)),
        WireError::BadSignature,
        "SetClock with a forged token",
    )?;
    let mut other = b;
    other.serial = x.other_serial()?;
    refused(
        x.c.set_clock(tokens.clock(other)?),
        WireError::WrongDevice,
        "SetClock with another disk's token",
    )?;
    x.c.set_clock(good.clone())?;
    let now = x.now()?;
    check!(
        now.0 >= back.0 && now.0 <= back.0.saturating_add(60),
        "after a clock token to {back} the disk reads {now}"
    );
    let d = x.draft(InvoiceKind::Normal, 10_000);
    let r1 = refused(
        x.c.issue(fresh(d)),
        WireError::ClockError,
        "Issue with the clock before the newest invoice",
    );
    let r2 = refused(
        x.c.void(&InvoiceRef {
            kind: inv.kind,
            code: inv.code.clone(),
            number: inv.number,
        }),
        WireError::ClockError,
        "Void with the clock before the newest invoice",
    );
    let r3 = refused(
        x.c.set_clock(good),
        WireError::Replayed,
        "a clock token twice",
    );
    let forward = t0.plus_secs(60 + wall.elapsed().as_secs() + 1);
    let f = body(x, forward);
    x.c.set_clock(tokens.clock(f)?)?;
    r1?;
    r2?;
    r3?;
    x.issue(InvoiceKind::Normal, 10_000)?;
    Ok(())
}
