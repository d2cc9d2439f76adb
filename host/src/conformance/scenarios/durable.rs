//! D13: durability across power cuts.

use super::context::with_id;
use super::context::{Ctx, Step, Stop, check, fail};
use crate::conformance::findings as f;
use crate::disk::new_request_id;
use taxdisk_protocol::WireError;
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::types::*;

pub(super) fn d13_durable(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.need_control()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 3)?;
    let inv = x.issue(InvoiceKind::Normal, 10_000)?;
    x.control(ControlRequest::PowerCycle)?;
    x.login()?;
    let last = x.c.last_issued(None)?;
    check!(
        last.as_ref().map(|v| &v.invoice) == Some(&inv),
        "{}",
        f::NEWEST_AFTER_CYCLE.say(&[
            &f::invoice(last.as_ref().map(|v| &v.invoice)),
            &f::invoice(Some(&inv))
        ])
    );
    let before = x.c.info()?.counter;
    check!(
        before == inv.body.counter,
        "after a power cycle the counter is {before}, expected {}",
        inv.body.counter
    );
    // Cut the power at the next flash write, in the middle of an Issue.
    let id = new_request_id();
    let d = x.draft(InvoiceKind::Normal, 10_000);
    x.control(ControlRequest::PowerCutAfter(1))?;
    let cut = x.c.issue(with_id(id, d.clone()));
    x.control(ControlRequest::ClearFaults)?;
    if let Err(e) = &cut
        && !e.outcome_unknown()
        && e.wire_error() != Some(WireError::NotLoggedIn)
    {
        return fail(format!("Issue cut by a power loss answered {e}"));
    }
    x.login()?;
    let mid = x.c.info()?.counter;
    check!(
        mid == before || mid == before.saturating_add(1),
        "after a cut issue the counter is {mid} (was {before})"
    );
    let again = x.c.issue(with_id(id, d))?;
    x.verify(&again, "Issue after a power cut")?;
    let after = x.c.info()?.counter;
    check!(
        after == before.saturating_add(1) && again.body.counter == after,
        "the cut issue and its retry made counter {before} -> {after}"
    );
    if let Ok(first) = cut {
        check!(
            first == again,
            "the retry after the cut answered another invoice"
        );
    }
    let last = x.c.last_issued(None)?;
    check!(
        last.as_ref().map(|v| &v.invoice) == Some(&again),
        "{}",
        f::LAST_AFTER_RETRY.say(&[
            &f::invoice(last.as_ref().map(|v| &v.invoice)),
            &f::invoice(Some(&again))
        ])
    );
    Ok(())
}
