//! D2 and D14: the PIN (login, change, block, power) and the session holding the disk.

use super::context::{Ctx, Step, Stop, check, factory_pin, fail, forge, pin, raw_refused, refused};
use crate::conformance::findings as f;
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response, WireError};

pub(super) fn d02_pin(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let before = x.c.info()?.pin_tries_left;
    let d = refused(
        x.c.login(&pin("00000000")),
        WireError::WrongPin,
        "Login with a wrong PIN",
    )?;
    check!(
        d.saturating_add(1) == before as u32,
        "WrongPin detail {d}, tries before {before}"
    );
    check!(
        x.c.info()?.pin_tries_left as u32 == d,
        "GetInfo tries left differs from the detail {d}"
    );
    x.login()?;
    let info = x.c.info()?;
    check!(
        info.pin_tries_left == 10,
        "a right PIN leaves {} tries, not 10",
        info.pin_tries_left
    );
    check!(info.logged_in, "GetInfo says not logged in after Login");
    x.c.logout()?;
    refused(
        x.c.status(InvoiceKind::Normal),
        WireError::NotLoggedIn,
        "GetStatus after Logout",
    )?;
    x.login()?;
    refused(
        x.c.change_pin(&pin("00000000"), &pin("12345678")),
        WireError::WrongPin,
        "ChangePin with a wrong old PIN",
    )?;
    x.c.change_pin(&factory_pin(), &pin("12345678"))?;
    x.c.logout()?;
    refused(
        x.c.login(&factory_pin()),
        WireError::WrongPin,
        "Login with the old PIN after ChangePin",
    )?;
    x.c.login(&pin("12345678"))?;
    x.c.change_pin(&pin("12345678"), &factory_pin())?;
    x.login()
}

pub(super) fn d02_block(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    let tokens = x.tokens()?;
    x.c.logout()?;
    let start = x.c.info()?.pin_tries_left as u32;
    for left in (0..start).rev() {
        let d = refused(
            x.c.login(&pin("00000000")),
            WireError::WrongPin,
            "Login with a wrong PIN",
        )?;
        check!(d == left, "WrongPin detail {d}, expected {left} tries left");
    }
    refused(
        x.c.login(&factory_pin()),
        WireError::PinBlocked,
        "Login with the right PIN while blocked",
    )?;
    check!(
        x.c.info()?.state == DiskState::Blocked,
        "GetInfo state is not blocked"
    );
    x.seq.unblock += 1;
    let body = UnblockToken {
        serial: x.serial()?,
        seq: x.seq.unblock,
        new_pin: factory_pin(),
        issued_at: x.now()?,
    };
    let good = tokens.unblock(body.clone())?;
    refused(
        x.c.unblock(forge(&good)),
        WireError::BadSignature,
        "Unblock with a forged token",
    )?;
    let mut other = body;
    other.serial = x.other_serial()?;
    refused(
        x.c.unblock(tokens.unblock(other)?),
        WireError::WrongDevice,
        "Unblock with another disk's token",
    )?;
    x.c.unblock(good.clone())?;
    refused(
        x.c.unblock(good),
        WireError::Replayed,
        "Unblock token used twice",
    )?;
    x.login()?;
    let info = x.c.info()?;
    check!(
        info.state == DiskState::Ready && info.pin_tries_left == 10,
        "after unblock: {} with {} tries",
        info.state,
        info.pin_tries_left
    );
    Ok(())
}

pub(super) fn d02_power(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.need_control()?;
    x.login()?;
    x.control(ControlRequest::PowerCycle)?;
    check!(
        !x.c.info()?.logged_in,
        "still logged in after a power cycle"
    );
    refused(
        x.c.status(InvoiceKind::Normal),
        WireError::NotLoggedIn,
        "GetStatus after a power cycle",
    )?;
    x.login()
}

pub(super) fn d14_busy(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.login()?;
    let mine = x.c.session();
    let other = match mine ^ 0x5A5A_0F0F {
        0 => 0x5A5A_0F0E,
        o => o,
    };
    let r = d14_checks(x, other);
    // Whatever happened, the second session lets go and the first logs in again, so the
    // next scenarios are not stuck behind it.
    let _ = x.as_session(other, &Request::Logout(()));
    r?;
    x.login()
}

fn d14_checks(x: &mut Ctx<'_>, other: u32) -> Step {
    raw_refused(
        x.as_session(other, &Request::Login(factory_pin()))?,
        WireError::Busy,
        "Login of a second session",
    )?;
    raw_refused(
        x.as_session(other, &Request::GetStatus(InvoiceKind::Normal))?,
        WireError::Busy,
        "GetStatus of a second session",
    )?;
    match x.as_session(other, &Request::Ping(77))? {
        Ok(Response::Ping(77)) => {}
        Ok(Response::Ping(n)) => {
            return fail(f::SECOND_SESSION.say(&[&"Ping", &format_args!("Ping {n}")]));
        }
        r => return fail(f::SECOND_SESSION.say(&[&"Ping", &f::raw(&r)])),
    }
    match x.as_session(other, &Request::GetInfo(()))? {
        Ok(Response::GetInfo(_)) => {}
        r => return fail(f::SECOND_SESSION.say(&[&"GetInfo", &f::raw(&r)])),
    }
    x.c.logout()?;
    match x.as_session(other, &Request::Login(factory_pin()))? {
        Ok(Response::Login(())) => {}
        r => {
            return fail(f::SECOND_AFTER_LOGOUT.say(&[&f::raw(&r)]));
        }
    }
    refused(
        x.c.status(InvoiceKind::Normal),
        WireError::Busy,
        "GetStatus of the first session while the second holds the disk",
    )?;
    refused(
        x.c.login(&factory_pin()),
        WireError::Busy,
        "Login of the first session while the second holds the disk",
    )?;
    Ok(())
}
