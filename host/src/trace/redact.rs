//! PINs out of traces (issue 17): a trace is a file people pass around, so the device PIN
//! (口令) a session logged in with must not be in it.
//!
//! The [`Recorder`](super::Recorder) writes a Login or ChangePin frame with every PIN but the
//! public factory one ([`Pin::FACTORY`]) replaced by a pseudonym, `<pin-1>`, `<pin-2>`, ... in
//! the order the PINs first appear (the same PIN gets the same pseudonym throughout the
//! session); the frame's CRC is made anew, so the trace stays a list of valid frames. The disk
//! compares PINs only for equality, so a replay that puts one PIN of its own in place of each
//! pseudonym ([`unredact`]) gets the same answers: a login with the PIN set earlier succeeds, a
//! wrong one is refused with the same tries left.
//!
//! Unblock tokens carry a new PIN inside the bureau's signature: they are kept as recorded
//! (a changed token would no longer verify), so a session that unblocks a disk still holds
//! that PIN.

use taxdisk_protocol::command::ChangePin;
use taxdisk_protocol::frame::{Header, MAX_ENCODED, MAX_FRAME, decode_frame, encode_request};
use taxdisk_protocol::types::Pin;
use taxdisk_protocol::{Request, frame::decode_request};

const PREFIX: &str = "<pin-";

/// Replaces the PINs of the frames a host sends by pseudonyms, remembering which is which for
/// the session only (never written anywhere).
#[derive(Default)]
pub(super) struct Redactor {
    seen: Vec<Pin>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("pins", &self.seen.len())
            .finish()
    }
}

impl Redactor {
    /// The frame to write to the trace in place of `frame`, when it holds a PIN to hide.
    pub(super) fn redact(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        let (h, req) = decode(frame)?;
        let req = match req {
            Request::Login(pin) => Request::Login(self.pseudonym(pin)?),
            Request::ChangePin(c) => Request::ChangePin(ChangePin {
                request_id: c.request_id,
                old: self.pseudonym(c.old.clone()).unwrap_or(c.old),
                new: self.pseudonym(c.new.clone()).unwrap_or(c.new),
            }),
            _ => return None,
        };
        encode(&h, &req)
    }

    /// The pseudonym of `pin`; `None` for the factory PIN (public, kept as it is).
    fn pseudonym(&mut self, pin: Pin) -> Option<Pin> {
        if pin.as_str() == Pin::FACTORY || pin.as_str().starts_with(PREFIX) {
            return None;
        }
        let n = match self.seen.iter().position(|p| *p == pin) {
            Some(i) => i + 1,
            None => {
                self.seen.push(pin);
                self.seen.len()
            }
        };
        Pin::new(&format!("{PREFIX}{n}>")).ok()
    }
}

/// The PIN a replay uses for pseudonym `<pin-N>`: one per pseudonym, never the factory PIN.
fn replay_pin(pin: &Pin) -> Option<Pin> {
    let n: u32 = pin
        .as_str()
        .strip_prefix(PREFIX)?
        .strip_suffix('>')?
        .parse()
        .ok()?;
    Pin::new(&format!("replay-{n}")).ok()
}

/// A redacted request frame with each pseudonym replaced by the replay's PIN for it; `None`
/// when the frame holds no pseudonym.
pub(super) fn unredact(frame: &[u8]) -> Option<Vec<u8>> {
    let (h, req) = decode(frame)?;
    let req = match req {
        Request::Login(pin) => Request::Login(replay_pin(&pin)?),
        Request::ChangePin(c) => {
            let (old, new) = (replay_pin(&c.old), replay_pin(&c.new));
            if old.is_none() && new.is_none() {
                return None;
            }
            Request::ChangePin(ChangePin {
                request_id: c.request_id,
                old: old.unwrap_or(c.old),
                new: new.unwrap_or(c.new),
            })
        }
        _ => return None,
    };
    encode(&h, &req)
}

fn decode(frame: &[u8]) -> Option<(Header, Request)> {
    let mut scratch = vec![0u8; MAX_FRAME];
    let (h, p) = decode_frame(frame, &mut scratch).ok()?;
    let req = decode_request(&h, p).ok()?;
    Some((h, req))
}

fn encode(h: &Header, req: &Request) -> Option<Vec<u8>> {
    let mut out = vec![0u8; MAX_ENCODED];
    let n = encode_request(h.seq, h.session, req, &mut out).ok()?;
    out.truncate(n);
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn login(pin: &str) -> Vec<u8> {
        let mut out = vec![0u8; MAX_ENCODED];
        let n = encode_request(7, 9, &Request::Login(Pin::new(pin).unwrap()), &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn a_pin_becomes_a_pseudonym_and_the_replay_one_pin_per_pseudonym() {
        let mut r = Redactor::default();
        assert_eq!(
            r.redact(&login(Pin::FACTORY)),
            None,
            "the factory PIN is public"
        );
        let secret = login("s3cret-pin");
        let red = r.redact(&secret).unwrap();
        assert!(!hex::encode(&red).contains(&hex::encode("s3cret-pin")));
        assert_eq!(
            decode(&red).unwrap().1,
            Request::Login(Pin::new("<pin-1>").unwrap())
        );
        // The same PIN, the same pseudonym; another PIN, the next one.
        assert_eq!(r.redact(&secret).unwrap(), red);
        let other = r.redact(&login("another-1")).unwrap();
        assert_eq!(
            decode(&other).unwrap().1,
            Request::Login(Pin::new("<pin-2>").unwrap())
        );
        let back = unredact(&red).unwrap();
        assert_eq!(
            decode(&back).unwrap().1,
            Request::Login(Pin::new("replay-1").unwrap())
        );
        assert_eq!(
            decode(&back).unwrap().0,
            decode(&secret).unwrap().0,
            "same header"
        );
        assert_eq!(unredact(&login(Pin::FACTORY)), None);
    }
}
