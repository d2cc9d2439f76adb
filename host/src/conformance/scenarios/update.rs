//! D10: update tokens.

use super::context::fresh;
use super::context::{Ctx, Step, Stop, check, forge, refused};
use taxdisk_protocol::WireError;
use taxdisk_protocol::types::*;

pub(super) fn d10_update(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let tokens = x.tokens()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 1)?;
    let old =
        x.c.info()?
            .company_name
            .ok_or_else(|| Stop::Fail("no company name".into()))?;
    let new = CompanyName::new("变更后测试有限公司").map_err(|e| Stop::Fail(e.to_string()))?;
    let t = x.update(&[UpdateChange::CompanyName(new.clone())])?;
    refused(
        x.c.apply_update(forge(&t)),
        WireError::BadSignature,
        "a forged update token",
    )?;
    let mut other = t.body.clone();
    other.serial = x.other_serial()?;
    other.seq += 1000;
    refused(
        x.c.apply_update(tokens.update(other)?),
        WireError::WrongDevice,
        "another disk's update token",
    )?;
    x.c.apply_update(t.clone())?;
    check!(
        x.c.info()?.company_name.as_ref() == Some(&new),
        "the company name did not change"
    );
    refused(
        x.c.apply_update(t),
        WireError::Replayed,
        "an update token twice",
    )?;
    let t = x.update(&[
        UpdateChange::Authorize(InvoiceKind::Normal, false),
        UpdateChange::CompanyName(old),
    ])?;
    x.c.apply_update(t)?;
    let r = (|| -> Step {
        check!(
            !x.c.status(InvoiceKind::Normal)?.authorized,
            "the kind is still authorized"
        );
        let d = x.draft(InvoiceKind::Normal, 10_000);
        refused(
            x.c.issue(fresh(d)),
            WireError::KindNotAuthorized,
            "a kind withdrawn by an update",
        )
        .map(|_| ())
    })();
    let t = x.update(&[UpdateChange::Authorize(InvoiceKind::Normal, true)])?;
    x.c.apply_update(t)?;
    r?;
    x.issue(InvoiceKind::Normal, 10_000)?;
    Ok(())
}
