//! Wire scenarios: Ping, an unknown command and a malformed payload.

use super::context::{Ctx, Step, Stop, check};
use taxdisk_protocol::{CommandId, WireError};

pub(super) fn wire_ping(x: &mut Ctx<'_>) -> Step {
    for nonce in [0u32, 1, 0xDEAD_BEEF, u32::MAX, rand::random()] {
        let got = x.c.ping(nonce)?;
        check!(got == nonce, "Ping({nonce}) answered {got}");
    }
    Ok(())
}

pub(super) fn wire_errors(x: &mut Ctx<'_>) -> Step {
    let s = x.c.session();
    let h = x.raw(s, 0x7FFF, &[])?;
    check!(
        h.status == WireError::UnknownCommand.code(),
        "command 0x7FFF: expected UnknownCommand (0x0002), status 0x{:04X}",
        h.status
    );
    // A u32 varint may not run past 5 bytes.
    let h = x.raw(s, CommandId::Ping as u16, &[0xFF; 6])?;
    check!(
        h.status == WireError::Malformed.code(),
        "Ping with an overlong varint: expected Malformed (0x0001), status 0x{:04X}",
        h.status
    );
    // GetInfo's body is empty: a trailing byte is malformed.
    let h = x.raw(s, CommandId::GetInfo as u16, &[1])?;
    check!(
        h.status == WireError::Malformed.code(),
        "GetInfo with a trailing byte: expected Malformed (0x0001), status 0x{:04X}",
        h.status
    );
    // And a good frame still works after the bad ones.
    check!(x.c.ping(7)? == 7, "Ping after bad frames");
    Ok(())
}
