//! Every message of a USB/IP connection is read and checked here before the `usbip` crate sees
//! it. The crate trusts its peer where a bad peer could hurt the server:
//!
//! - a USBIP_CMD_SUBMIT before an import (or after a refused one), or a control request to an
//!   interface the device does not have, panics the connection's task inside the crate;
//! - it allocates whatever OUT `transfer_buffer_length` (and isochronous packet count) a
//!   client claims, up to 4 GiB per URB;
//! - a second OP_REQ_IMPORT on a connection leaves the first device among the imported ones,
//!   so nobody can import it again.
//!
//! Such a connection is closed with a warning instead, before the crate reads the message.
//! This is also where an import is noted (so an unplug can close it) and where the import of
//! an unplugged, unknown or already imported disk is refused: the crate is handed an import of
//! no bus id, answers it with its own refusal, and the connection ends.

use super::table::Registered;
use super::{OP_REQ_IMPORT, USBIP_VERSION};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// USB/IP `OP_REQ_DEVLIST`.
const OP_REQ_DEVLIST: u16 = 0x8005;
/// USB/IP `USBIP_CMD_SUBMIT` and `USBIP_CMD_UNLINK` (32 bits; their high half reads as
/// version 0 where an `OP_*` message has its version).
const USBIP_CMD_SUBMIT: u16 = 1;
const USBIP_CMD_UNLINK: u16 = 2;
/// Size of a USBIP_CMD_SUBMIT or USBIP_CMD_UNLINK header.
const CMD_HEADER: usize = 48;
/// The most OUT data a URB may carry: far more than the largest frame a host sends (a frame
/// is at most `MAX_ENCODED` bytes), far less than what a client could make the crate allocate.
pub(super) const MAX_OUT: u32 = 64 << 10;
/// Interfaces of the exported device (`usb_device`: one, the disk's).
const INTERFACES: u8 = 1;

/// Why a connection was closed before the crate saw its message.
#[derive(Debug, thiserror::Error)]
pub(super) enum Refused {
    /// A URB command came before any successful import.
    #[error("USB/IP command {0} before any import")]
    BeforeImport(u16),
    /// A second import on one connection.
    #[error("a second import on one connection")]
    SecondImport,
    /// An OUT URB claims more data than any frame needs.
    #[error("an OUT URB of {0} bytes (at most {MAX_OUT})")]
    TooLong(u32),
    /// An isochronous URB (the disk has bulk endpoints only).
    #[error("an isochronous URB of {0} packets (the disk has none)")]
    Isochronous(u32),
    /// A direction other than OUT (0) and IN (1).
    #[error("URB direction {0}")]
    Direction(u32),
    /// A control request to an interface the device does not have.
    #[error("a control request to interface {0} (the disk has {INTERFACES})")]
    NoInterface(u8),
    /// A message this server does not know.
    #[error("unknown USB/IP message {version:#06x}/{code:#06x}")]
    Unknown {
        /// Its version field (0 for URB commands).
        version: u16,
        /// Its code.
        code: u16,
    },
    /// Reading from the peer or writing to the crate failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Copies the peer's messages from `rd` to the crate's side `to`, checking each first, until
/// the peer closes (`Ok`), an import is refused (`Ok`: the crate answers it and the connection
/// ends) or a message is refused (`Err`). Returning drops `to`: the crate reads the end of the
/// connection once it has answered what it was given.
pub(super) async fn forward<R, W>(mut rd: R, mut to: W, reg: &Registered) -> Result<(), Refused>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut imported = false;
    let mut msg = Vec::with_capacity(CMD_HEADER);
    loop {
        msg.clear();
        msg.resize(4, 0);
        match rd.read_exact(&mut msg).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let version = u16::from_be_bytes([msg[0], msg[1]]);
        let code = u16::from_be_bytes([msg[2], msg[3]]);
        match (version, code) {
            // version, code, status.
            (USBIP_VERSION, OP_REQ_DEVLIST) => {
                msg.resize(8, 0);
                rd.read_exact(&mut msg[4..]).await?;
                // Not while an unplug is under way: the crate's list may show the disk it
                // takes away, which an import would be refused. An importer is not held back:
                // the unplug may be waiting for it to end.
                if !imported {
                    reg.conns.settled().await;
                }
            }
            // version, code, status, bus id (32).
            (USBIP_VERSION, OP_REQ_IMPORT) => {
                if imported {
                    return Err(Refused::SecondImport);
                }
                msg.resize(40, 0);
                rd.read_exact(&mut msg[4..]).await?;
                let busid = &msg[8..];
                let end = busid.iter().position(|&b| b == 0).unwrap_or(busid.len());
                let bus = String::from_utf8_lossy(&busid[..end]).into_owned();
                if !reg.conns.start_import(reg.id, &bus, &reg.pipes) {
                    // An import of no bus id: the crate answers OP_REP_IMPORT with its
                    // refusal, as for an unknown bus id, and then reads the end.
                    msg[8..].fill(0);
                    to.write_all(&msg).await?;
                    return Ok(());
                }
                imported = true;
            }
            (0, USBIP_CMD_SUBMIT | USBIP_CMD_UNLINK) => {
                if !imported {
                    return Err(Refused::BeforeImport(code));
                }
                msg.resize(CMD_HEADER, 0);
                rd.read_exact(&mut msg[4..]).await?;
                if code == USBIP_CMD_SUBMIT {
                    let out = check_submit(&msg)?;
                    if out > 0 {
                        // Checked against MAX_OUT: a small allocation.
                        let at = msg.len();
                        msg.resize(at + out as usize, 0);
                        rd.read_exact(&mut msg[at..]).await?;
                    }
                }
            }
            (version, code) => return Err(Refused::Unknown { version, code }),
        }
        to.write_all(&msg).await?;
    }
}

/// Checks a USBIP_CMD_SUBMIT header (48 bytes); the OUT data that follows it, in bytes.
fn check_submit(h: &[u8]) -> Result<u32, Refused> {
    let direction = be32(&h[12..]);
    let ep = be32(&h[16..]);
    let length = be32(&h[24..]);
    let packets = be32(&h[32..]);
    let setup = &h[40..48];
    // The crate reads OUT data for any direction but IN (1).
    let out = match direction {
        0 => length,
        1 => 0,
        d => return Err(Refused::Direction(d)),
    };
    if out > MAX_OUT {
        return Err(Refused::TooLong(out));
    }
    // Not isochronous: 0, or 0xFFFFFFFF as the kernel documents it.
    if packets != 0 && packets != u32::MAX {
        return Err(Refused::Isochronous(packets));
    }
    // The crate takes the endpoint number as a byte, and a request whose recipient (the low
    // nibble of bmRequestType, as the crate reads it) is an interface goes to the interface
    // in the low byte of wIndex.
    if (ep as u8) & 0x7F == 0 && setup[0] & 0x0F == 1 && setup[4] >= INTERFACES {
        return Err(Refused::NoInterface(setup[4]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(direction: u32, ep: u32, length: u32, packets: u32, setup: [u8; 8]) -> Vec<u8> {
        let mut m = Vec::new();
        for w in [1, 1, 0x0001_0002, direction, ep, 0, length, 0, packets, 0] {
            m.extend(u32::to_be_bytes(w));
        }
        m.extend(setup);
        m
    }

    #[test]
    fn submits_are_checked() {
        assert_eq!(check_submit(&submit(0, 1, 512, 0, [0; 8])).ok(), Some(512));
        assert_eq!(
            check_submit(&submit(1, 1, 1 << 20, 0, [0; 8])).ok(),
            Some(0)
        );
        assert_eq!(
            check_submit(&submit(0, 1, MAX_OUT, u32::MAX, [0; 8])).ok(),
            Some(MAX_OUT)
        );
        assert!(matches!(
            check_submit(&submit(0, 1, MAX_OUT + 1, 0, [0; 8])),
            Err(Refused::TooLong(_))
        ));
        assert!(matches!(
            check_submit(&submit(0, 1, 0, 3, [0; 8])),
            Err(Refused::Isochronous(3))
        ));
        assert!(matches!(
            check_submit(&submit(2, 1, 0, 0, [0; 8])),
            Err(Refused::Direction(2))
        ));
        // SET_INTERFACE to interface 0 passes; to interface 1 (or 0x100 + 1) is refused.
        let to_intf = |i: u8| [0x01, 0x0B, 0, 0, i, 0, 0, 0];
        assert!(check_submit(&submit(0, 0, 0, 0, to_intf(0))).is_ok());
        assert!(matches!(
            check_submit(&submit(0, 0x100, 0, 0, to_intf(1))),
            Err(Refused::NoInterface(1))
        ));
        // On a bulk endpoint the setup bytes mean nothing.
        assert!(check_submit(&submit(0, 1, 0, 0, to_intf(5))).is_ok());
    }
}
