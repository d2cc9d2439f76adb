//! One request's exchange: its sequence number and frame, the sends and resends, the wait
//! for its answer (answers to later requests in flight kept for their turn, stale ones
//! dropped), and the error when every attempt failed.

use super::*;

/// Most answers kept for later requests in flight while an earlier one is awaited.
pub(crate) const MAX_EARLY: usize = 128;

/// Whether `got` names a request sent after `awaited` and no later than `newest` (sequence
/// numbers wrap).
fn in_flight_after(awaited: u32, newest: u32, got: u32) -> bool {
    let d = got.wrapping_sub(awaited);
    d != 0 && d <= newest.wrapping_sub(awaited)
}

impl<T: Transport> DiskClient<T> {
    /// Gives `req` the next sequence number and encodes it.
    pub(super) fn encode(&mut self, req: &Request) -> Result<(u32, Vec<u8>), DiskError> {
        let command = req.id();
        self.seq = self.seq.wrapping_add(1);
        let n = encode_request(self.seq, self.session, req, &mut self.buf)
            .map_err(|error| DiskError::Encode { command, error })?;
        self.stats.requests += 1;
        Ok((self.seq, self.buf[..n].to_vec()))
    }

    /// Sends `frame` (request `seq`) and waits for its answer, resending on a lost, late or
    /// corrupted answer; `first_attempt` > 1 continues the attempts of a frame already sent
    /// once (pipelining), whose failure was `last`.
    pub(super) fn exchange(
        &mut self,
        command: CommandId,
        seq: u32,
        frame: &[u8],
        first_attempt: u32,
        mut last: Option<DiskError>,
    ) -> Result<Response, DiskError> {
        let attempts = self.config.attempts.max(1);
        for attempt in first_attempt..=attempts {
            if attempt > 1 {
                self.stats.retries += 1;
                tracing::debug!(command = command.name(), seq, attempt, "resending");
            }
            self.stats.sends += 1;
            if let Err(e) = self.transport.send(frame) {
                last = Some(self.link_failed(e)?);
                continue;
            }
            match self.await_answer(command, seq, attempt > 1) {
                Ok(answer) => return answer,
                Err(e) => last = Some(e),
            }
        }
        Err(self.gave_up(command, last))
    }

    /// The error after the last attempt failed with `last`.
    fn gave_up(&self, command: CommandId, last: Option<DiskError>) -> DiskError {
        let attempts = self.config.attempts.max(1);
        match last {
            Some(DiskError::Timeout { .. })
            | Some(DiskError::Transport(TransportError::Timeout(_)))
            | None => DiskError::Timeout {
                command,
                attempts,
                timeout: self.config.timeout,
                link: self.transport.describe(),
            },
            Some(DiskError::Corrupted { last, .. }) => DiskError::Corrupted {
                command,
                attempts,
                last,
            },
            Some(e) => e,
        }
    }

    /// Handles a transport error on send or receive: returns the error to remember when the
    /// next attempt may fix it, or fails at once when it cannot.
    pub(super) fn link_failed(&mut self, e: TransportError) -> Result<DiskError, DiskError> {
        if !e.is_transient() {
            return Err(e.into());
        }
        if matches!(
            e,
            TransportError::Disconnected(_) | TransportError::Io { .. }
        ) {
            tracing::debug!(error = %e, "link broken; reconnecting");
            std::thread::sleep(self.config.reconnect_pause);
            self.stats.reconnects += 1;
            if let Err(r) = self.transport.reconnect() {
                tracing::debug!(error = %r, "reconnect failed");
            }
        }
        Ok(e.into())
    }

    /// Waits for the answer to (`command`, `seq`). `Ok` is final (a result or a refusal);
    /// `Err` means resend.
    pub(super) fn await_answer(
        &mut self,
        command: CommandId,
        seq: u32,
        retried: bool,
    ) -> Result<Result<Response, DiskError>, DiskError> {
        let timeout = self.config.timeout;
        let deadline = Instant::now() + timeout;
        // Answers to requests older than this one are stale now.
        let newest = self.seq;
        self.early
            .retain(|f| in_flight_after(seq, newest, f.header.seq) || f.header.seq == seq);
        loop {
            let early = self.early.iter().position(|f| f.header.seq == seq);
            let frame = if let Some(k) = early {
                self.early.remove(k)
            } else {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.transport.recv(left) {
                    Ok(f) => f,
                    Err(TransportError::Timeout(_)) => {
                        self.stats.timeouts += 1;
                        return Err(DiskError::Timeout {
                            command,
                            attempts: 1,
                            timeout,
                            link: String::new(),
                        });
                    }
                    Err(TransportError::BadFrame(last)) => {
                        // An answer arrived but cannot be read: resend now rather than wait.
                        self.stats.bad_frames += 1;
                        return Err(DiskError::Corrupted {
                            command,
                            attempts: 1,
                            last,
                        });
                    }
                    Err(e) => {
                        return match self.link_failed(e) {
                            Ok(retry) => Err(retry),
                            Err(fatal) => Ok(Err(fatal)),
                        };
                    }
                }
            };
            let h = frame.header;
            if h.frame_type == FrameType::Response
                && h.session == self.session
                && in_flight_after(seq, newest, h.seq)
                && self.early.len() < MAX_EARLY
            {
                // The answer to a later request in flight (pipelining): keep it for its turn.
                self.early.push(frame);
                continue;
            }
            if h.frame_type != FrameType::Response
                || h.seq != seq
                || h.session != self.session
                || h.command != command as u16
            {
                self.stats.stale += 1;
                tracing::trace!(seq = h.seq, want = seq, "discarding a stale frame");
                continue;
            }
            return Ok(match decode_response(&h, &frame.payload) {
                Ok(Ok(resp)) => Ok(resp),
                Ok(Err(r)) if r.error == WireError::Busy => Err(DiskError::Busy { command }),
                Ok(Err(r)) => Err(DiskError::Refused {
                    command,
                    error: r.error,
                    detail: r.detail,
                    retried,
                }),
                // The CRC matched but the body does not decode: the disk speaks another
                // version of the table. Resending would not change it.
                Err(error) => Err(DiskError::Protocol {
                    command,
                    what: format!("answer does not decode: {error}"),
                }),
            });
        }
    }
}
