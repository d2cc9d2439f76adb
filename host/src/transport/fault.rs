//! Fault injection as a wrapper around any [`FrameHandler`] (after smoltcp's `FaultInjector`):
//! drop the request, drop the answer, flip a byte of the answer, send the answer twice, or hold
//! the answer back and deliver it late (with the next answer). Faults come from a seeded
//! random plan ([`FaultRates`]) and from scripted faults on the Nth frame ([`FaultyHandler::arm`],
//! the same actions as the simulator's control channel), so every run is reproducible.
//!
//! Wrap the disk and hand the wrapper to [`InProcess`](super::InProcess), or serve it on TCP:
//! the client then sees exactly what a flaky cable would show it.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use taxdisk_protocol::FrameHandler;
use taxdisk_protocol::control::FrameFaultAction;
use taxdisk_protocol::frame::MAX_ENCODED;

/// Per-frame probabilities of each fault, in parts per thousand. They are tried in field
/// order; at most one fault hits a frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultRates {
    /// The request is lost before the disk sees it.
    pub drop_request: u16,
    /// The disk handles the request but its answer is lost.
    pub drop_answer: u16,
    /// One byte of the answer is changed.
    pub corrupt_answer: u16,
    /// The answer arrives twice.
    pub duplicate_answer: u16,
    /// The answer is held back and arrives late, just before the next answer.
    pub delay_answer: u16,
}

/// How many faults of each kind were injected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Frames seen.
    pub frames: u64,
    /// Requests dropped.
    pub dropped_requests: u64,
    /// Answers dropped.
    pub dropped_answers: u64,
    /// Answers corrupted.
    pub corrupted: u64,
    /// Answers duplicated.
    pub duplicated: u64,
    /// Answers delayed.
    pub delayed: u64,
}

/// A [`FrameHandler`] that injects faults into the frames of the handler it wraps.
#[derive(Debug)]
pub struct FaultyHandler<H> {
    inner: H,
    rates: FaultRates,
    rng: StdRng,
    scripted: Vec<(u64, FrameFaultAction)>,
    held: Vec<u8>,
    scratch: Vec<u8>,
    stats: FaultStats,
}

impl<H: FrameHandler> FaultyHandler<H> {
    /// Wraps `inner` with random faults at `rates`, seeded by `seed`.
    pub fn new(inner: H, rates: FaultRates, seed: u64) -> Self {
        FaultyHandler {
            inner,
            rates,
            rng: StdRng::seed_from_u64(seed),
            scripted: Vec::new(),
            held: Vec::new(),
            scratch: vec![0; MAX_ENCODED],
            stats: FaultStats::default(),
        }
    }

    /// Wraps `inner` with no random faults (only scripted ones).
    pub fn scripted(inner: H) -> Self {
        Self::new(inner, FaultRates::default(), 0)
    }

    /// Applies `action` to the `nth` frame from now (1 = the next one).
    pub fn arm(&mut self, nth: u32, action: FrameFaultAction) {
        self.scripted
            .push((self.stats.frames + u64::from(nth.max(1)), action));
    }

    /// Changes the random fault rates.
    pub fn set_rates(&mut self, rates: FaultRates) {
        self.rates = rates;
    }

    /// Faults injected so far.
    pub fn stats(&self) -> FaultStats {
        self.stats
    }

    /// The wrapped handler.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// The wrapped handler, mutably.
    pub fn inner_mut(&mut self) -> &mut H {
        &mut self.inner
    }

    fn pick(&mut self) -> Option<FrameFaultAction> {
        let now = self.stats.frames;
        if let Some(i) = self.scripted.iter().position(|(n, _)| *n == now) {
            return Some(self.scripted.swap_remove(i).1);
        }
        let r = self.rates;
        let table = [
            (r.drop_request, FrameFaultAction::DropRequest),
            (r.drop_answer, FrameFaultAction::DropAnswer),
            (r.corrupt_answer, FrameFaultAction::CorruptAnswer),
            (r.duplicate_answer, FrameFaultAction::DuplicateAnswer),
            (r.delay_answer, FrameFaultAction::DelayAnswer(0)),
        ];
        if table.iter().all(|(p, _)| *p == 0) {
            return None;
        }
        let roll: u16 = self.rng.random_range(0..1000);
        let mut acc = 0u16;
        for (p, a) in table {
            acc = acc.saturating_add(p);
            if roll < acc {
                return Some(a);
            }
        }
        None
    }

    /// Writes `parts` one after the other into `out`, as far as they fit; returns the length.
    fn emit(out: &mut [u8], parts: &[&[u8]]) -> usize {
        let mut n = 0;
        for p in parts {
            if n + p.len() > out.len() {
                break;
            }
            out[n..n + p.len()].copy_from_slice(p);
            n += p.len();
        }
        n
    }
}

impl<H: FrameHandler> FrameHandler for FaultyHandler<H> {
    fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
        self.stats.frames += 1;
        let action = self.pick();
        if action == Some(FrameFaultAction::DropRequest) {
            self.stats.dropped_requests += 1;
            return 0;
        }
        let n = self.inner.handle_frame(frame, &mut self.scratch);
        let n = n.min(self.scratch.len());
        let answer = &mut self.scratch[..n];
        let held = std::mem::take(&mut self.held);
        match action {
            Some(FrameFaultAction::DropAnswer) if n > 0 => {
                self.stats.dropped_answers += 1;
                Self::emit(out, &[&held])
            }
            Some(FrameFaultAction::CorruptAnswer) if n > 1 => {
                self.stats.corrupted += 1;
                // Change one byte before the delimiter to another nonzero value.
                let i = self.rng.random_range(0..n - 1);
                answer[i] = if answer[i] == 0xFF {
                    0x01
                } else {
                    answer[i] + 1
                };
                Self::emit(out, &[&held, answer])
            }
            Some(FrameFaultAction::DuplicateAnswer) if n > 0 => {
                self.stats.duplicated += 1;
                Self::emit(out, &[&held, answer, answer])
            }
            Some(FrameFaultAction::DelayAnswer(_)) if n > 0 => {
                self.stats.delayed += 1;
                self.held = answer.to_vec();
                Self::emit(out, &[&held])
            }
            _ => Self::emit(out, &[&held, answer]),
        }
    }
}
