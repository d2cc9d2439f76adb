//! The one fault injector for disk-protocol frames (std), after smoltcp's `FaultInjector`: a
//! [`FaultPlan`] decides what happens to each frame (scripted faults on the Nth frame from
//! when they were armed, as the simulator's control channel arms them, and seeded random
//! faults at given rates), and applies it to the answer; [`FaultyHandler`] wraps any
//! [`FrameHandler`] with a plan. The simulated disk (`SimDisk`), the host's tests and the
//! fault campaign all inject through it, so each [`FrameFaultAction`] means one thing:
//!
//! | action | the request | the answer |
//! |---|---|---|
//! | `DropRequest` | lost before the disk sees it | none |
//! | `DropAnswer` | handled | lost |
//! | `CorruptAnswer` | handled | one byte before the delimiter changed |
//! | `DuplicateAnswer` | handled | sent twice |
//! | `DelayAnswer(ms)` | handled | sent `ms` milliseconds late (the caller waits, or defers) |
//! | `LateAnswer` | handled | held back, sent in front of the next answer |
//!
//! An answer held back by `LateAnswer` goes out in front of the next answer that is sent
//! (a dropped request or a dropped answer sends none, so it waits on).

use crate::FrameHandler;
use crate::control::FrameFaultAction;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Per-frame probabilities of each random fault, in parts per million. They are tried in
/// field order; at most one fault hits a frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultRates {
    /// The request is lost before the disk sees it.
    pub drop_request: u32,
    /// The disk handles the request but its answer is lost.
    pub drop_answer: u32,
    /// One byte of the answer is changed.
    pub corrupt_answer: u32,
    /// The answer arrives twice.
    pub duplicate_answer: u32,
    /// The answer is held back and arrives just before the next answer.
    pub late_answer: u32,
}

impl FaultRates {
    /// Each of the five faults at `total / 5` (parts per million), so that a frame is hit
    /// with probability `total`.
    pub fn even(total_ppm: u32) -> FaultRates {
        let each = total_ppm / 5;
        FaultRates {
            drop_request: each,
            drop_answer: each,
            corrupt_answer: each,
            duplicate_answer: each,
            late_answer: each,
        }
    }
}

/// How many faults of each kind were injected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Frames seen while the plan was active.
    pub frames: u64,
    /// Requests dropped.
    pub dropped_requests: u64,
    /// Answers dropped.
    pub dropped_answers: u64,
    /// Answers corrupted.
    pub corrupted: u64,
    /// Answers duplicated.
    pub duplicated: u64,
    /// Answers delayed by a time.
    pub delayed: u64,
    /// Answers held back to the next answer.
    pub late: u64,
}

impl FaultStats {
    /// Faults injected, of every kind.
    pub fn total(&self) -> u64 {
        self.dropped_requests
            + self.dropped_answers
            + self.corrupted
            + self.duplicated
            + self.delayed
            + self.late
    }
}

/// What happens to each frame: the scripted faults, the random ones, an answer held back.
#[derive(Debug)]
pub struct FaultPlan {
    /// Frames seen, active or not (scripted faults count from it).
    seen: u64,
    scripted: Vec<(u64, FrameFaultAction)>,
    rates: FaultRates,
    active: bool,
    rng: StdRng,
    held: Vec<u8>,
    stats: FaultStats,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan::new(FaultRates::default(), 0)
    }
}

impl FaultPlan {
    /// Random faults at `rates`, seeded by `seed` (the same seed, the same faults).
    pub fn new(rates: FaultRates, seed: u64) -> FaultPlan {
        FaultPlan {
            seen: 0,
            scripted: Vec::new(),
            rates,
            active: true,
            rng: StdRng::seed_from_u64(seed),
            held: Vec::new(),
            stats: FaultStats::default(),
        }
    }

    /// Applies `action` to the `nth` frame from now (1 = the next one; 0 counts as 1).
    pub fn arm(&mut self, nth: u32, action: FrameFaultAction) {
        self.scripted
            .push((self.seen + u64::from(nth.max(1)), action));
    }

    /// Forgets every armed fault (an answer already held back still goes out).
    pub fn clear(&mut self) {
        self.scripted.clear();
    }

    /// Changes the random fault rates.
    pub fn set_rates(&mut self, rates: FaultRates) {
        self.rates = rates;
    }

    /// Turns the random faults and the counting of frames on or off (scripted faults still
    /// apply): a campaign pauses its plan while it sets up and checks.
    pub fn set_active(&mut self, active: bool) {
        self.active = active;
    }

    /// Faults injected so far.
    pub fn stats(&self) -> FaultStats {
        self.stats
    }

    /// The fault of the frame now arriving (counted): a scripted one armed for it, else a
    /// random one at the plan's rates. A dropped request is counted here; the caller then
    /// leaves the frame unhandled.
    pub fn next_frame(&mut self) -> Option<FrameFaultAction> {
        self.seen += 1;
        if self.active {
            self.stats.frames += 1;
        }
        let now = self.seen;
        // The first fault armed for this frame; others armed for it too are dropped.
        let mut scripted = None;
        self.scripted.retain(|&(n, a)| {
            if n == now {
                scripted = scripted.or(Some(a));
            }
            n != now
        });
        let action = match scripted {
            Some(a) => Some(a),
            None if self.active => self.random(),
            None => None,
        };
        if action == Some(FrameFaultAction::DropRequest) {
            self.stats.dropped_requests += 1;
        }
        action
    }

    fn random(&mut self) -> Option<FrameFaultAction> {
        let r = self.rates;
        let table = [
            (r.drop_request, FrameFaultAction::DropRequest),
            (r.drop_answer, FrameFaultAction::DropAnswer),
            (r.corrupt_answer, FrameFaultAction::CorruptAnswer),
            (r.duplicate_answer, FrameFaultAction::DuplicateAnswer),
            (r.late_answer, FrameFaultAction::LateAnswer),
        ];
        if table.iter().all(|(p, _)| *p == 0) {
            return None;
        }
        let roll: u32 = self.rng.random_range(0..1_000_000);
        let mut acc = 0u32;
        for (p, a) in table {
            acc = acc.saturating_add(p);
            if roll < acc {
                return Some(a);
            }
        }
        None
    }

    /// Applies `action` (from [`next_frame`](Self::next_frame)) to the answer `out[..n]` the
    /// handler wrote, in place: an answer held back earlier goes in front of what is sent.
    /// Returns the length to send and how long to wait before sending it. What does not fit
    /// `out` is not sent.
    pub fn apply(
        &mut self,
        action: Option<FrameFaultAction>,
        out: &mut [u8],
        n: usize,
    ) -> (usize, Duration) {
        let n = n.min(out.len());
        let mut delay = Duration::ZERO;
        // The answer's own length after the fault: 0 when it is not sent now.
        let own = match action {
            Some(FrameFaultAction::DropRequest) => return (0, delay),
            Some(FrameFaultAction::DropAnswer) if n > 0 => {
                self.stats.dropped_answers += 1;
                0
            }
            Some(FrameFaultAction::CorruptAnswer) if n > 1 => {
                self.stats.corrupted += 1;
                // One byte before the delimiter becomes another nonzero value, so the frame
                // still ends where it did and its CRC no longer matches.
                let i = self.rng.random_range(0..n - 1);
                out[i] = if out[i] == 0xFF { 0x01 } else { out[i] + 1 };
                n
            }
            Some(FrameFaultAction::DuplicateAnswer) if n > 0 && 2 * n <= out.len() => {
                self.stats.duplicated += 1;
                out.copy_within(..n, n);
                2 * n
            }
            Some(FrameFaultAction::DelayAnswer(ms)) if n > 0 => {
                self.stats.delayed += 1;
                delay = Duration::from_millis(u64::from(ms));
                n
            }
            Some(FrameFaultAction::LateAnswer) if n > 0 => {
                self.stats.late += 1;
                let before = std::mem::replace(&mut self.held, out[..n].to_vec());
                // Only what was held before goes out now.
                let m = before.len().min(out.len());
                out[..m].copy_from_slice(&before[..m]);
                return (m, delay);
            }
            _ => n,
        };
        if self.held.is_empty() || own == 0 {
            return (own, delay);
        }
        let held = std::mem::take(&mut self.held);
        if held.len() + own > out.len() {
            // No room for both: the held answer is lost, as on a link whose buffer overflowed.
            return (own, delay);
        }
        out.copy_within(..own, held.len());
        out[..held.len()].copy_from_slice(&held);
        (held.len() + own, delay)
    }
}

/// A plan shared between the handler it acts in and whoever arms it or reads its counts.
pub type SharedPlan = Arc<Mutex<FaultPlan>>;

/// Locks `m`, poisoned or not: a panic in another holder poisons a lock, but what the
/// workspace keeps behind one (a fault plan, a simulated disk, a bureau, a counter) is left
/// whole by each of its methods, so it goes on. The one poisoned-lock rule of the workspace.
pub fn locked<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A [`FrameHandler`] that injects the faults of its [`FaultPlan`] into the frames of the
/// handler it wraps: hand it to an in-process transport or serve it, and the client sees what
/// a flaky cable would show it. A `DelayAnswer` waits in the handler.
#[derive(Debug)]
pub struct FaultyHandler<H> {
    inner: H,
    plan: SharedPlan,
}

impl<H: FrameHandler> FaultyHandler<H> {
    /// Wraps `inner` with random faults at `rates`, seeded by `seed`.
    pub fn new(inner: H, rates: FaultRates, seed: u64) -> Self {
        Self::with_plan(inner, Arc::new(Mutex::new(FaultPlan::new(rates, seed))))
    }

    /// Wraps `inner` with no random faults (only scripted ones).
    pub fn scripted(inner: H) -> Self {
        Self::new(inner, FaultRates::default(), 0)
    }

    /// Wraps `inner` with a plan someone else holds too.
    pub fn with_plan(inner: H, plan: SharedPlan) -> Self {
        FaultyHandler { inner, plan }
    }

    /// The plan, to share.
    pub fn plan(&self) -> SharedPlan {
        self.plan.clone()
    }

    /// Applies `action` to the `nth` frame from now (1 = the next one).
    pub fn arm(&mut self, nth: u32, action: FrameFaultAction) {
        locked(&self.plan).arm(nth, action);
    }

    /// Changes the random fault rates.
    pub fn set_rates(&mut self, rates: FaultRates) {
        locked(&self.plan).set_rates(rates);
    }

    /// Faults injected so far.
    pub fn stats(&self) -> FaultStats {
        locked(&self.plan).stats()
    }

    /// The wrapped handler.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// The wrapped handler, mutably.
    pub fn inner_mut(&mut self) -> &mut H {
        &mut self.inner
    }
}

impl<H: FrameHandler> FrameHandler for FaultyHandler<H> {
    fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
        let action = locked(&self.plan).next_frame();
        if action == Some(FrameFaultAction::DropRequest) {
            return 0;
        }
        let n = self.inner.handle_frame(frame, out);
        let (len, delay) = locked(&self.plan).apply(action, out, n);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers each frame with itself.
    struct Echo;
    impl FrameHandler for Echo {
        fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
            out[..frame.len()].copy_from_slice(frame);
            frame.len()
        }
    }

    fn send(h: &mut FaultyHandler<Echo>, frame: &[u8]) -> Vec<u8> {
        let mut out = vec![0; 3 * crate::frame::MAX_ENCODED];
        let n = h.handle_frame(frame, &mut out);
        out.truncate(n);
        out
    }

    #[test]
    fn each_action_means_one_thing() {
        let mut h = FaultyHandler::scripted(Echo);
        h.arm(1, FrameFaultAction::DropRequest);
        h.arm(2, FrameFaultAction::DropAnswer);
        h.arm(3, FrameFaultAction::DuplicateAnswer);
        h.arm(4, FrameFaultAction::LateAnswer);
        h.arm(6, FrameFaultAction::CorruptAnswer);
        h.arm(7, FrameFaultAction::DelayAnswer(1));
        assert_eq!(send(&mut h, b"a\0"), b"");
        assert_eq!(send(&mut h, b"b\0"), b"");
        assert_eq!(send(&mut h, b"c\0"), b"c\0c\0");
        assert_eq!(send(&mut h, b"d\0"), b"", "held back");
        assert_eq!(
            send(&mut h, b"e\0"),
            b"d\0e\0",
            "in front of the next answer"
        );
        let corrupt = send(&mut h, b"xyz\0");
        assert_eq!(corrupt.len(), 4);
        assert_ne!(&corrupt[..3], b"xyz");
        assert_eq!(corrupt[3], 0, "the delimiter stays");
        assert!(corrupt[..3].iter().all(|&b| b != 0));
        assert_eq!(send(&mut h, b"g\0"), b"g\0");
        assert_eq!(send(&mut h, b"h\0"), b"h\0", "nothing armed");
        let s = h.stats();
        assert_eq!(
            (
                s.frames,
                s.dropped_requests,
                s.dropped_answers,
                s.duplicated
            ),
            (8, 1, 1, 1)
        );
        assert_eq!((s.late, s.corrupted, s.delayed, s.total()), (1, 1, 1, 6));
    }

    #[test]
    fn a_held_answer_waits_through_dropped_ones() {
        let mut h = FaultyHandler::scripted(Echo);
        h.arm(1, FrameFaultAction::LateAnswer);
        h.arm(2, FrameFaultAction::DropAnswer);
        assert_eq!(send(&mut h, b"a\0"), b"");
        assert_eq!(send(&mut h, b"b\0"), b"");
        assert_eq!(send(&mut h, b"c\0"), b"a\0c\0");
    }

    #[test]
    fn random_faults_follow_the_rates_and_the_seed() {
        let run = |seed| {
            let mut h = FaultyHandler::new(Echo, FaultRates::even(200_000), seed);
            for _ in 0..5_000 {
                send(&mut h, b"frame\0");
            }
            h.stats()
        };
        let s = run(7);
        assert_eq!(s, run(7), "the same seed, the same faults");
        assert_ne!(s, run(8));
        // 20 % of 5,000 frames, 200 of each kind on average.
        assert!((800..1_200).contains(&s.total()), "{s:?}");
        for n in [
            s.dropped_requests,
            s.dropped_answers,
            s.corrupted,
            s.duplicated,
            s.late,
        ] {
            assert!((120..280).contains(&n), "{s:?}");
        }
    }

    #[test]
    fn an_inactive_plan_keeps_its_scripted_faults_only() {
        let mut h = FaultyHandler::new(Echo, FaultRates::even(1_000_000), 1);
        locked(&h.plan()).set_active(false);
        h.arm(2, FrameFaultAction::DropAnswer);
        assert_eq!(send(&mut h, b"a\0"), b"a\0");
        assert_eq!(send(&mut h, b"b\0"), b"");
        assert_eq!(h.stats().frames, 0, "frames count only while active");
    }
}
