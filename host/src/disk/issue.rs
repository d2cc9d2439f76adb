//! Issue (D5) on the client: one request at a time ([`DiskClient::issue`]), or several in
//! flight at once ([`IssuePipeline`], [`DiskClient::issue_pipelined`]).
//!
//! A request travels as the caller built it: its request id is the idempotency key the caller
//! recorded (H8, H11), so a resend after a lost answer, or a repair after a crash, gets the
//! same invoice back.

use super::{DiskClient, DiskError, unexpected};
use crate::transport::Transport;
use std::borrow::Borrow;
use std::collections::VecDeque;
use taxdisk_protocol::Request;
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::command::{Command, cmd};
use taxdisk_protocol::types::{IssuedInvoice, RequestId, Signed};

/// How the first send of a pipelined request went.
enum FirstSend {
    /// It left; its answer is awaited.
    Sent,
    /// It failed in a way another attempt may fix: resent when its turn comes.
    Failed(DiskError),
    /// It cannot go (the request does not encode, the link is gone): reported in its turn.
    Fatal(DiskError),
}

/// A pipelined Issue sent (or whose first send failed) and not yet answered, with the
/// caller's item that waits for its answer.
struct InFlight<I> {
    item: I,
    /// Its sequence number.
    seq: u32,
    /// Its encoded frame, for resends.
    frame: Vec<u8>,
    first: FirstSend,
}

/// Issue requests in flight on one link, answered oldest first: the next requests travel
/// while the disk signs, so the link's round trip and the caller's own work between the
/// answers hide behind the signing. The disk still handles them one after the other, in
/// order.
///
/// The caller drives it: [`send`](Self::send) while there is room, then
/// [`next_answer`](Self::next_answer); between two calls the client is free for the caller's
/// other work (it must not send other commands while requests are in flight). Each request
/// goes with an item of the caller's, handed back with the request's answer, so what the
/// caller knows about a request travels with it instead of in tables indexed by position.
///
/// Answers have the outcomes of [`DiskClient::issue`], retries included: a lost answer is
/// resent with the same frame, and the request id makes any resend safe even when later
/// requests were handled in between.
pub struct IssuePipeline<I> {
    window: usize,
    in_flight: VecDeque<InFlight<I>>,
}

impl<I> std::fmt::Debug for IssuePipeline<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuePipeline")
            .field("window", &self.window)
            .field("in_flight", &self.in_flight.len())
            .finish()
    }
}

impl<I> IssuePipeline<I> {
    /// A pipeline keeping up to `window` requests in flight (at least 1: one at a time).
    pub fn new(window: usize) -> IssuePipeline<I> {
        let window = window.max(1);
        IssuePipeline {
            window,
            in_flight: VecDeque::with_capacity(window),
        }
    }

    /// Whether another request may be sent now.
    pub fn has_room(&self) -> bool {
        self.in_flight.len() < self.window
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Sends `request` as it is through `client`, with `item` waiting for its answer. A
    /// request that cannot go is answered with its error in its turn.
    pub fn send<T: Transport>(
        &mut self,
        client: &mut DiskClient<T>,
        request: &IssueRequest,
        item: I,
    ) {
        let (seq, frame, first) = transmit(client, request);
        self.in_flight.push_back(InFlight {
            item,
            seq,
            frame,
            first,
        });
    }

    /// The answer to the oldest request in flight (awaited, or resent with its own frame),
    /// with its item; `None` when none is in flight.
    pub fn next_answer<T: Transport>(
        &mut self,
        client: &mut DiskClient<T>,
    ) -> Option<(I, Result<Signed<IssuedInvoice>, DiskError>)> {
        let r = self.in_flight.pop_front()?;
        let command = cmd::Issue::ID;
        let answer = match r.first {
            FirstSend::Fatal(e) => Err(e),
            FirstSend::Sent => match client.await_answer(command, r.seq, false) {
                Ok(answer) => answer,
                Err(e) => client.exchange(command, r.seq, &r.frame, 2, Some(e)),
            },
            FirstSend::Failed(why) => client.exchange(command, r.seq, &r.frame, 2, Some(why)),
        };
        let result = answer.and_then(|a| cmd::Issue::reply(a).map_err(|o| unexpected(command, &o)));
        Some((r.item, result))
    }
}

impl<I: AsRef<IssueRequest>> IssuePipeline<I> {
    /// Sends the request `item` carries, as it is, through `client`; `item` waits for its
    /// answer.
    pub fn send_item<T: Transport>(&mut self, client: &mut DiskClient<T>, item: I) {
        let (seq, frame, first) = transmit(client, item.as_ref());
        self.in_flight.push_back(InFlight {
            item,
            seq,
            frame,
            first,
        });
    }
}

/// Encodes `request` under the next sequence number and sends it once.
fn transmit<T: Transport>(
    client: &mut DiskClient<T>,
    request: &IssueRequest,
) -> (u32, Vec<u8>, FirstSend) {
    // The request is plain data (no heap): the copy into the frame's enum is a memcpy.
    match client.encode(&Request::Issue(request.clone())) {
        Err(e) => (0, Vec::new(), FirstSend::Fatal(e)),
        Ok((seq, frame)) => {
            client.stats.sends += 1;
            let first = match client.transport.send(&frame) {
                Ok(()) => FirstSend::Sent,
                Err(e) => match client.link_failed(e) {
                    Ok(why) => FirstSend::Failed(why),
                    Err(fatal) => FirstSend::Fatal(fatal),
                },
            };
            (seq, frame, first)
        }
    }
}

impl<T: Transport> DiskClient<T> {
    /// How many requests this client keeps in flight in [`issue_pipelined`](Self::issue_pipelined)
    /// by default: the transport's [`pipeline_depth`](Transport::pipeline_depth).
    pub fn pipeline_depth(&self) -> usize {
        self.transport.pipeline_depth().max(1)
    }

    /// Issues `request` as it is (D5). Its request id is the idempotency key: retries reuse
    /// it, so a lost answer never makes a second invoice, and the same id always gets the same
    /// invoice back (also after a crash of the host, for repair: record the id before, H8,
    /// H11). A fresh id comes from [`new_request_id`].
    pub fn issue(&mut self, request: IssueRequest) -> Result<Signed<IssuedInvoice>, DiskError> {
        self.call::<cmd::Issue>(request)
    }

    /// Issues many requests with up to `window` in flight (1 = one at a time), through an
    /// [`IssuePipeline`] (DESIGN "Targets": TCP loopback near raw signing).
    ///
    /// `on_answer(i, result)` is called once per sent item, in the order of `items`, with the
    /// same outcomes as [`issue`](Self::issue). When it answers `false`, no further item is
    /// sent; those in flight are still awaited and reported. Answers how many items were sent.
    pub fn issue_pipelined<R: Borrow<IssueRequest>>(
        &mut self,
        items: impl IntoIterator<Item = R>,
        window: usize,
        mut on_answer: impl FnMut(usize, Result<Signed<IssuedInvoice>, DiskError>) -> bool,
    ) -> usize {
        let mut pipe = IssuePipeline::new(window);
        let mut items = items.into_iter().enumerate();
        let mut sending = true;
        let mut sent = 0;
        loop {
            while sending && pipe.has_room() {
                let Some((i, request)) = items.next() else {
                    sending = false;
                    break;
                };
                sent += 1;
                pipe.send(self, request.borrow(), i);
            }
            let Some((i, answer)) = pipe.next_answer(self) else {
                return sent;
            };
            if !on_answer(i, answer) {
                sending = false;
            }
        }
    }
}

/// A fresh request id (idempotency key) for an Issue, laid out like a UUIDv7: the first six
/// bytes are the Unix time in milliseconds (big-endian), the other ten are random. Unique like
/// a random id (80 random bits per millisecond), and ids made one after the other sort
/// together, so the store's unique index on them grows at its end instead of touching a random
/// page of a large index for every invoice (one 4 KiB WAL page per invoice at a million).
pub fn new_request_id() -> RequestId {
    let mut id: RequestId = rand::random();
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    id[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    id
}
