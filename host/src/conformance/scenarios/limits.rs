//! D9: the offline amount and hours limits.

use super::context::fresh;
use super::context::{Ctx, Step, Stop, check, fail, limits, refused};
use crate::conformance::findings as f;
use crate::disk::DiskError;
use taxdisk_protocol::WireError;
use taxdisk_protocol::types::*;

fn set_limits(x: &mut Ctx<'_>, l: KindLimits) -> Step {
    let t = x.update(&[UpdateChange::Limits(l)])?;
    x.c.apply_update(t)?;
    Ok(())
}

pub(super) fn d09_amount(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 6)?;
    x.ack_all()?;
    let k = InvoiceKind::Normal;
    set_limits(
        x,
        KindLimits {
            offline_amount: Fen(150_000),
            ..limits(k)
        },
    )?;
    let r = (|| -> Step {
        x.issue(k, 100_000)?;
        let s = x.c.status(k)?;
        check!(
            s.pending_amount == Fen(100_000) && s.pending_count == 1,
            "{}",
            f::OFFLINE_STATUS.say(&[&s.pending_count, &s.pending_amount, &Fen(100_000)])
        );
        let d = x.draft(k, 60_000);
        refused(
            x.c.issue(fresh(d)),
            WireError::OfflineAmountExceeded,
            "past the offline amount",
        )?;
        x.ack_all()?;
        x.issue(k, 60_000)?;
        x.ack_all()?;
        set_limits(
            x,
            KindLimits {
                offline_hours: 0,
                offline_amount: Fen(0),
                ..limits(k)
            },
        )?;
        x.issue(k, 10_000)?;
        let d = x.draft(k, 10_000);
        match x.c.issue(fresh(d)) {
            Err(DiskError::Refused {
                error: WireError::OfflineHoursExceeded | WireError::OfflineAmountExceeded,
                ..
            }) => {}
            Ok(inv) => {
                return fail(f::OFFLINE_ZERO_ISSUED.say(&[&f::invoice(Some(&inv))]));
            }
            Err(e) => {
                let got = e
                    .wire_error()
                    .map_or_else(|| e.to_string(), |w| w.name().into());
                return fail(f::OFFLINE_ZERO_OTHER.say(&[&got]));
            }
        }
        x.ack_all()?;
        x.issue(k, 10_000)?;
        Ok(())
    })();
    set_limits(x, limits(k))?;
    x.ack_all()?;
    r
}

pub(super) fn d09_hours(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.need_control()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 3)?;
    x.ack_all()?;
    let k = InvoiceKind::Normal;
    set_limits(
        x,
        KindLimits {
            offline_hours: 1,
            ..limits(k)
        },
    )?;
    let r = (|| -> Step {
        x.issue(k, 10_000)?;
        // Past the hour, not on it: "past" the limit is what RULES.md D9 refuses.
        x.advance(3600 + 60)?;
        let d = x.draft(k, 10_000);
        refused(
            x.c.issue(fresh(d)),
            WireError::OfflineHoursExceeded,
            "an invoice offline for the limit's hours",
        )?;
        x.ack_all()?;
        x.issue(k, 10_000)?;
        Ok(())
    })();
    set_limits(x, limits(k))?;
    x.ack_all()?;
    r
}
