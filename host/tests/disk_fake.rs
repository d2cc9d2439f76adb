//! A small fake disk (a `FrameHandler`) for the client tests: PIN login bound to a session
//! (D2, D14), Issue with request-id idempotency and a journal (D5), rolls and pending events
//! with paging, and a last-answer cache keyed by (session, sequence) as the firmware keeps.
//! Included by the `disk_*` tests with `#[path]`; on its own it has no tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use taxdisk_protocol::command::{EVENTS_PER_PAGE, ROLLS_PER_PAGE};
use taxdisk_protocol::frame::{Header, MAX_FRAME, decode_frame, decode_request, encode_response};
use taxdisk_protocol::types::*;
use taxdisk_protocol::{FrameHandler, Refusal, Request, Response, Timestamp, WireError};

/// The fake disk.
#[derive(Debug)]
pub struct FakeDisk {
    pub serial: DeviceSerial,
    pub pin: Pin,
    pub tries: u8,
    pub session: Option<u32>,
    pub journal: Vec<IssuedInvoice>,
    pub by_request: HashMap<RequestId, usize>,
    pub rolls: Vec<Roll>,
    pub uploaded_through: u64,
    /// Frames handled (answered or not).
    pub frames: u64,
    /// Issue requests that made a new invoice.
    pub issued: u64,
    /// Issue requests answered from the journal (retries).
    pub replayed: u64,
    /// Answers replayed from the last-answer cache.
    pub cache_hits: u64,
    last: Option<(u32, u32, Vec<u8>, Vec<u8>)>,
    /// Break paging on purpose: ListPending always answers the first page.
    pub stuck_paging: bool,
}

pub const PIN: &str = "12345678";
pub const CODE: &str = "011002600411";

impl Default for FakeDisk {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeDisk {
    pub fn new() -> Self {
        FakeDisk {
            serial: DeviceSerial::new("661234567890").unwrap(),
            pin: Pin::new(PIN).unwrap(),
            tries: 10,
            session: None,
            journal: Vec::new(),
            by_request: HashMap::new(),
            rolls: Vec::new(),
            uploaded_through: 0,
            frames: 0,
            issued: 0,
            replayed: 0,
            cache_hits: 0,
            last: None,
            stuck_paging: false,
        }
    }

    /// Adds `n` rolls of 1,000 numbers each of the normal kind.
    pub fn with_rolls(mut self, n: u32) -> Self {
        for i in 0..n {
            self.rolls.push(Roll {
                kind: InvoiceKind::Normal,
                code: InvoiceCode::new(CODE).unwrap(),
                first: InvoiceNumber::new(1 + i * 1000).unwrap(),
                count: 1000,
                used: 0,
            });
        }
        self
    }

    fn signed(inv: &IssuedInvoice) -> Signed<IssuedInvoice> {
        Signed {
            body: inv.clone(),
            signature: Signature {
                r: [1; 32],
                s: [2; 32],
            },
        }
    }

    fn event(&self, i: usize) -> JournalEvent {
        JournalEvent::Invoice(Self::signed(&self.journal[i]))
    }

    fn dispatch(&mut self, h: &Header, req: Request) -> Result<Response, Refusal> {
        if req.id().needs_login() && self.session != Some(h.session) {
            return Err(if self.session.is_some() {
                WireError::Busy.into()
            } else {
                WireError::NotLoggedIn.into()
            });
        }
        match req {
            Request::Ping(n) => Ok(Response::Ping(n)),
            Request::Login(pin) => {
                if self.session.is_some_and(|s| s != h.session) {
                    return Err(WireError::Busy.into());
                }
                if self.tries == 0 {
                    return Err(WireError::PinBlocked.into());
                }
                if pin != self.pin {
                    self.tries -= 1;
                    return Err(Refusal {
                        error: WireError::WrongPin,
                        detail: u32::from(self.tries),
                    });
                }
                self.tries = 10;
                self.session = Some(h.session);
                Ok(Response::Login(()))
            }
            Request::Logout(()) => {
                self.session = None;
                Ok(Response::Logout(()))
            }
            Request::Issue(r) => {
                if let Some(&i) = self.by_request.get(&r.request_id) {
                    self.replayed += 1;
                    return Ok(Response::Issue(Self::signed(&self.journal[i])));
                }
                let roll = self
                    .rolls
                    .iter_mut()
                    .find(|x| x.kind == r.kind && x.used < x.count)
                    .ok_or(WireError::NoBlankNumber)?;
                let number = InvoiceNumber::new(roll.first.get() + roll.used).unwrap();
                roll.used += 1;
                let inv = IssuedInvoice {
                    serial: self.serial.clone(),
                    machine: 0,
                    kind: r.kind,
                    variant: r.variant,
                    code: roll.code.clone(),
                    number,
                    counter: self.journal.len() as u64 + 1,
                    time: Timestamp(1_795_668_730),
                    request_id: r.request_id,
                    content_digest: r.content_digest,
                    buyer: r.buyer,
                    amount: r.amount,
                    tax: r.tax,
                    red: r.red,
                    oil: r.oil,
                };
                self.by_request.insert(r.request_id, self.journal.len());
                self.journal.push(inv);
                self.issued += 1;
                Ok(Response::Issue(Self::signed(self.journal.last().unwrap())))
            }
            Request::ListRolls(l) => {
                let page = self
                    .rolls
                    .iter()
                    .filter(|r| l.kind.is_none_or(|k| k == r.kind))
                    .skip(usize::from(l.skip))
                    .take(ROLLS_PER_PAGE)
                    .cloned()
                    .collect();
                Ok(Response::ListRolls(page))
            }
            Request::ListPending(l) => {
                let max = usize::from(l.max).min(EVENTS_PER_PAGE);
                let after = if self.stuck_paging {
                    0
                } else {
                    l.after_counter
                };
                let page = (0..self.journal.len())
                    .filter(|&i| {
                        let c = self.journal[i].counter;
                        c > after && c > self.uploaded_through
                    })
                    .take(max)
                    .map(|i| self.event(i))
                    .collect();
                Ok(Response::ListPending(page))
            }
            Request::ReadEvent(c) => {
                let i = self
                    .journal
                    .iter()
                    .position(|x| x.counter == c)
                    .ok_or(WireError::InvoiceNotFound)?;
                Ok(Response::ReadEvent(EventView {
                    event: self.event(i),
                    uploaded: c <= self.uploaded_through,
                }))
            }
            Request::LastIssued(_) => Ok(Response::LastIssued(self.journal.last().map(|i| {
                InvoiceView {
                    invoice: Self::signed(i),
                    voided: false,
                    uploaded: i.counter <= self.uploaded_through,
                }
            }))),
            _ => Err(WireError::UnknownCommand.into()),
        }
    }
}

impl FrameHandler for FakeDisk {
    fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
        self.frames += 1;
        let mut scratch = [0u8; MAX_FRAME];
        let Ok((h, payload)) = decode_frame(frame, &mut scratch) else {
            return 0;
        };
        if let Some((s, q, req, ans)) = &self.last
            && *s == h.session
            && *q == h.seq
            && req.as_slice() == frame
        {
            self.cache_hits += 1;
            out[..ans.len()].copy_from_slice(ans);
            return ans.len();
        }
        let result = decode_request(&h, payload)
            .map_err(Refusal::from)
            .and_then(|req| self.dispatch(&h, req));
        let n = encode_response(&h, &result, out).unwrap_or(0);
        self.last = Some((h.session, h.seq, frame.to_vec(), out[..n].to_vec()));
        n
    }
}

/// A request for an ordinary normal invoice of `amount` fen at 13 %, under a fresh request id.
pub fn draft(amount: i64) -> taxdisk_protocol::command::IssueRequest {
    taxdisk_protocol::command::IssueRequest {
        request_id: taxdisk_host::disk::new_request_id(),
        kind: InvoiceKind::Normal,
        variant: Variant::Standard,
        buyer: None,
        amount: Fen(amount),
        tax: Fen(amount * 13 / 100),
        content_digest: [7; 32],
        red: None,
        oil: None,
    }
}
