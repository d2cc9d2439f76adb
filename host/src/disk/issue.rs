//! Issuing: the draft of an Issue request, its request id, one issue and many pipelined.

use super::*;

/// An Issue request without its request id: the client adds a fresh random one
/// ([`DiskClient::issue`]) or the one the caller recorded ([`DiskClient::issue_with_id`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueDraft {
    /// Kind.
    pub kind: InvoiceKind,
    /// Variant (normal kind only).
    pub variant: Variant,
    /// Buyer taxpayer id, where there is one.
    pub buyer: Option<TaxpayerId>,
    /// Tax-excluded total in fen; negative for red.
    pub amount: Fen,
    /// Tax total in fen; negative for red.
    pub tax: Fen,
    /// SM3 digest of the host's canonical content.
    pub content_digest: Digest,
    /// For red invoices, what is reversed.
    pub red: Option<RedRef>,
    /// For oil invoices, the oil moved.
    pub oil: Option<OilUse>,
}

impl IssueDraft {
    /// The wire request with `request_id`.
    pub fn with_request_id(self, request_id: RequestId) -> IssueRequest {
        IssueRequest {
            request_id,
            kind: self.kind,
            variant: self.variant,
            buyer: self.buyer,
            amount: self.amount,
            tax: self.tax,
            content_digest: self.content_digest,
            red: self.red,
            oil: self.oil,
        }
    }
}

impl From<IssueRequest> for IssueDraft {
    /// The draft of a wire request: everything but its request id.
    fn from(r: IssueRequest) -> IssueDraft {
        IssueDraft {
            kind: r.kind,
            variant: r.variant,
            buyer: r.buyer,
            amount: r.amount,
            tax: r.tax,
            content_digest: r.content_digest,
            red: r.red,
            oil: r.oil,
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

/// A pipelined Issue sent (or whose first send failed) and not yet answered.
struct InFlight {
    /// Its place among the items.
    index: usize,
    /// Its sequence number.
    seq: u32,
    /// Its encoded frame, for resends.
    frame: Vec<u8>,
    /// Why its first send failed, if it did (then it is resent when its turn comes).
    send_failed: Option<DiskError>,
}

impl<T: Transport> DiskClient<T> {
    /// Issues an invoice with a fresh random request id (D5). Retries reuse the id, so a lost
    /// answer never makes a second invoice. Use [`issue_with_id`](Self::issue_with_id) when the
    /// id must be recorded before the disk signs (H8, H11).
    pub fn issue(&mut self, draft: IssueDraft) -> Result<Signed<IssuedInvoice>, DiskError> {
        self.issue_with_id(new_request_id(), draft)
    }

    /// Issues an invoice with a request id chosen by the caller: the same id always gets the
    /// same invoice back (also after a crash of the host, for repair).
    pub fn issue_with_id(
        &mut self,
        request_id: RequestId,
        draft: IssueDraft,
    ) -> Result<Signed<IssuedInvoice>, DiskError> {
        match self.request(&Request::Issue(draft.with_request_id(request_id)))? {
            Response::Issue(v) => Ok(v),
            other => Err(unexpected(CommandId::Issue, &other)),
        }
    }

    /// How many requests this client keeps in flight in [`issue_pipelined`](Self::issue_pipelined)
    /// by default: the transport's [`pipeline_depth`](Transport::pipeline_depth).
    pub fn pipeline_depth(&self) -> usize {
        self.transport.pipeline_depth().max(1)
    }

    /// Issues many invoices with up to `window` requests in flight (1 = one at a time): the
    /// next requests travel while the disk signs, so a link's round trip is hidden behind the
    /// signing (DESIGN "Targets": TCP loopback at 80 % of raw signing). The disk still
    /// handles them one after the other, in order.
    ///
    /// `on_answer(i, result)` is called once per sent item, in the order of `items`, with the
    /// same outcomes as [`issue_with_id`](Self::issue_with_id) (retries included: a lost answer
    /// is resent with the same frame, and the request id makes any resend safe even when later
    /// requests were handled in between). When it answers `false`, no further item is sent;
    /// those in flight are still awaited and reported. Answers how many items were sent.
    pub fn issue_pipelined<I>(
        &mut self,
        items: I,
        window: usize,
        mut on_answer: impl FnMut(usize, Result<Signed<IssuedInvoice>, DiskError>) -> bool,
    ) -> usize
    where
        I: IntoIterator<Item = (RequestId, IssueDraft)>,
    {
        let window = window.max(1);
        let mut items = items.into_iter().enumerate();
        let mut in_flight: std::collections::VecDeque<InFlight> =
            std::collections::VecDeque::with_capacity(window);
        let mut sending = true;
        let mut sent = 0;
        loop {
            while sending && in_flight.len() < window {
                let Some((i, (request_id, draft))) = items.next() else {
                    sending = false;
                    break;
                };
                sent += 1;
                let req = Request::Issue(draft.with_request_id(request_id));
                let (seq, frame) = match self.encode(&req) {
                    Ok(x) => x,
                    Err(e) => {
                        // Nothing of it went out; earlier ones in flight are still answered.
                        if !self.drain(&mut in_flight, &mut on_answer) || !on_answer(i, Err(e)) {
                            sending = false;
                        }
                        continue;
                    }
                };
                self.stats.sends += 1;
                let send_failed = match self.transport.send(&frame) {
                    Ok(()) => None,
                    Err(e) => match self.link_failed(e) {
                        // Resent when its turn comes (a first attempt that failed).
                        Ok(why) => Some(why),
                        Err(fatal) => {
                            if !self.drain(&mut in_flight, &mut on_answer)
                                || !on_answer(i, Err(fatal))
                            {
                                sending = false;
                            }
                            continue;
                        }
                    },
                };
                in_flight.push_back(InFlight {
                    index: i,
                    seq,
                    frame,
                    send_failed,
                });
            }
            let Some(head) = in_flight.pop_front() else {
                return sent;
            };
            if !self.settle(head, &mut on_answer) {
                sending = false;
            }
        }
    }

    /// Awaits (and if needed resends) every request in flight, oldest first; answers whether
    /// the caller wants more sent.
    fn drain(
        &mut self,
        in_flight: &mut std::collections::VecDeque<InFlight>,
        on_answer: &mut impl FnMut(usize, Result<Signed<IssuedInvoice>, DiskError>) -> bool,
    ) -> bool {
        let mut more = true;
        while let Some(head) = in_flight.pop_front() {
            more &= self.settle(head, on_answer);
        }
        more
    }

    /// The answer to one pipelined Issue: awaited, or resent with its own frame.
    fn settle(
        &mut self,
        r: InFlight,
        on_answer: &mut impl FnMut(usize, Result<Signed<IssuedInvoice>, DiskError>) -> bool,
    ) -> bool {
        let command = CommandId::Issue;
        let (i, seq, frame) = (r.index, r.seq, r.frame);
        let answer = match r.send_failed {
            None => match self.await_answer(command, seq, false) {
                Ok(answer) => answer,
                Err(e) => self.exchange(command, seq, &frame, 2, Some(e)),
            },
            Some(why) => self.exchange(command, seq, &frame, 2, Some(why)),
        };
        let result = match answer {
            Ok(Response::Issue(v)) => Ok(v),
            Ok(other) => Err(unexpected(command, &other)),
            Err(e) => Err(e),
        };
        on_answer(i, result)
    }
}
