//! D11: oil stock.

use super::context::fresh;
use super::context::{Ctx, Step, Stop, check, forge, refused};
use crate::conformance::findings as f;
use taxdisk_protocol::WireError;
use taxdisk_protocol::types::*;

pub(super) fn d11_oil(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let tokens = x.tokens()?;
    x.login()?;
    x.ensure_blank(InvoiceKind::Normal, 4)?;
    let stock = OilStockEntry {
        category: 1,
        unit: OilUnit::Litre,
        milli_quantity: 10_000_000,
    };
    x.seq.oil += 1;
    let g = tokens.oil_grant(OilGrant {
        serial: x.serial()?,
        seq: x.seq.oil,
        stock,
        issued_at: x.now()?,
    })?;
    refused(
        x.c.load_oil_stock(forge(&g)),
        WireError::BadSignature,
        "a forged oil grant",
    )?;
    let e = x.c.load_oil_stock(g.clone())?;
    check!(
        e == stock,
        "{}",
        f::OIL_LOADED.say(&[
            &e.category,
            &f::oil_quantity(&e),
            &e.unit,
            &stock.category,
            &f::oil_quantity(&stock),
            &stock.unit,
        ])
    );
    refused(
        x.c.load_oil_stock(g),
        WireError::Replayed,
        "an oil grant twice",
    )?;
    check!(
        x.c.oil_stock()?.contains(&stock),
        "OilStock does not list the grant"
    );
    let oil = |q| {
        Some(OilUse {
            category: 1,
            milli_quantity: q,
        })
    };
    let mut d = x.draft(InvoiceKind::Normal, 10_000);
    d.oil = oil(1_000_000);
    refused(
        x.c.issue(fresh(d.clone())),
        WireError::OilNotAuthorized,
        "an oil invoice without oil authorization",
    )?;
    let t = x.update(&[UpdateChange::Oil(OilRole::Dealer, None)])?;
    x.c.apply_update(t)?;
    let mut big = x.draft(InvoiceKind::Normal, 10_000);
    big.oil = oil(10_000_001);
    refused(
        x.c.issue(fresh(big)),
        WireError::OilStockShort,
        "an oil invoice over the stock",
    )?;
    let inv = x.c.issue(fresh(d))?;
    let left = |x: &mut Ctx<'_>| -> Result<i64, Stop> {
        Ok(x.c
            .oil_stock()?
            .iter()
            .find(|e| e.category == 1)
            .map_or(0, |e| e.milli_quantity))
    };
    check!(
        left(x)? == 9_000_000,
        "stock after an oil invoice of 1,000 L: {}",
        left(x)?
    );
    let mut red = x.red_of(&inv.body, 10_000);
    red.oil = oil(1_000_000);
    x.c.issue(fresh(red))?;
    check!(
        left(x)? == 10_000_000,
        "stock after its red invoice: {}",
        left(x)?
    );
    let ret = OilStockEntry {
        milli_quantity: 2_000_000,
        ..stock
    };
    let rc = x.c.return_oil_stock(ret)?;
    x.verify(&rc, "ReturnOilStock")?;
    check!(
        rc.body.stock == ret && Some(&rc.body.serial) == x.serial.as_ref(),
        "{}",
        f::OIL_RECEIPT.say(&[
            &rc.body.stock.category,
            &f::oil_quantity(&rc.body.stock),
            &rc.body.stock.unit,
            &rc.body.serial,
            &ret.category,
            &f::oil_quantity(&ret),
            &ret.unit,
            &f::opt(x.serial.as_ref()),
        ])
    );
    check!(
        left(x)? == 8_000_000,
        "stock after returning 2,000 L: {}",
        left(x)?
    );
    refused(
        x.c.return_oil_stock(OilStockEntry {
            milli_quantity: 8_000_001,
            ..stock
        }),
        WireError::OilStockShort,
        "returning more oil than held",
    )?;
    Ok(())
}
