//! The in-process transport: a [`FrameHandler`] (the simulator's `SimDisk`, a test fake, a
//! [`FaultyHandler`](super::fault::FaultyHandler)) called directly with the encoded request
//! frame. The encoded answer goes through the same [`FrameAssembler`] as bytes from a wire, so
//! the whole codec is exercised. An answer of length 0 means the disk did not answer (garbage
//! in, unplugged, dropped): [`recv`](Transport::recv) reports a timeout at once, without
//! sleeping.
//!
//! [`Threaded`] runs the handler on a thread of its own, as a real disk is a processor of its
//! own: several requests may be queued, and the host works while the disk signs.

use super::{DiskWork, Frame, FrameAssembler, Transport, TransportError, check_len};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use taxdisk_protocol::FrameHandler;
use taxdisk_protocol::frame::MAX_ENCODED;

/// Room for the answer to one frame: a handler may answer with more than one frame (a
/// duplicated answer, or a held-back answer released with the next one).
pub const ANSWER_BUFFER: usize = 4 * MAX_ENCODED;

/// A disk in the same process.
#[derive(Debug)]
pub struct InProcess<H> {
    handler: H,
    assembler: FrameAssembler,
    out: Vec<u8>,
    work: DiskWork,
}

impl<H: FrameHandler> InProcess<H> {
    /// A transport to `handler`.
    pub fn new(handler: H) -> Self {
        InProcess {
            handler,
            assembler: FrameAssembler::new(),
            out: vec![0; ANSWER_BUFFER],
            work: DiskWork::default(),
        }
    }

    /// The handler, e.g. to drive a simulator's control channel between commands.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The handler, mutably.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// Gives the handler back.
    pub fn into_inner(self) -> H {
        self.handler
    }
}

impl InProcess<BoxedHandler> {
    /// A transport to a boxed handler of any type.
    pub fn boxed(handler: Box<dyn FrameHandler + Send>) -> Self {
        InProcess::new(BoxedHandler(handler))
    }
}

impl<H: FrameHandler> Transport for InProcess<H> {
    fn send(&mut self, frame: &[u8]) -> Result<(), TransportError> {
        check_len(frame)?;
        let started = Instant::now();
        let n = self.handler.handle_frame(frame, &mut self.out);
        self.work = self.work.plus(DiskWork {
            frames: 1,
            busy: started.elapsed(),
        });
        // A handler claiming more than the buffer is clamped, never trusted for slicing.
        let n = n.min(self.out.len());
        self.assembler.feed(&self.out[..n]);
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Frame, TransportError> {
        self.assembler
            .pop_result()
            .unwrap_or(Err(TransportError::Timeout(timeout)))
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.assembler.clear();
        Ok(())
    }

    fn describe(&self) -> String {
        "in-process disk".to_string()
    }

    fn disk_work(&self) -> Option<DiskWork> {
        Some(self.work)
    }
}

/// A boxed handler of any type, itself a [`FrameHandler`].
pub struct BoxedHandler(pub Box<dyn FrameHandler + Send>);

impl std::fmt::Debug for BoxedHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxedHandler(..)")
    }
}

impl FrameHandler for BoxedHandler {
    fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
        self.0.handle_frame(frame, out)
    }
}

/// A handler shared behind a mutex, so a test or the CLI can keep a second handle to the same
/// disk (to drive its control channel, or to serve it to a second client for D14).
#[derive(Debug)]
pub struct Shared<H>(pub Arc<Mutex<H>>);

impl<H> Shared<H> {
    /// Shares `handler`; returns the transport-side handle and the caller's handle.
    pub fn new(handler: H) -> (Shared<H>, Arc<Mutex<H>>) {
        let a = Arc::new(Mutex::new(handler));
        (Shared(a.clone()), a)
    }
}

impl<H> Clone for Shared<H> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<H: FrameHandler> FrameHandler for Shared<H> {
    fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
        // A panic in another holder poisons the lock; the disk state is still the disk state.
        taxdisk_protocol::fault::locked(&self.0).handle_frame(frame, out)
    }
}

/// Requests a [`Threaded`] disk takes before their answers by default: enough that the host's
/// store work for a part of a batch (a commit of pending rows, a commit of signed records)
/// hides behind the signing of the requests already queued, with room for the answers the
/// host takes a group at a time ([`WAKE_GROUP`]).
pub const THREADED_DEPTH: usize = 32;

/// At most this many answers are made before a host waiting for them is woken (and at most a
/// quarter of the depth, so the disk still has requests queued while the host takes a group):
/// a wake-up is a system call on the disk's side and a context switch on the host's (several
/// microseconds each on a virtual machine, against a signature of about 60), and the host's
/// next step (a part's records stored, the pipeline filled again) wants several answers
/// anyway. A host waiting for fewer (the last of a batch, one command) is woken by its last.
pub const WAKE_GROUP: usize = 8;

/// One frame for the disk's thread, or one answer back, tagged with the link's generation
/// (answers of a generation before a [`reconnect`](Transport::reconnect) are dropped, as a
/// closed TCP connection drops them).
type Tagged = (u64, Vec<u8>);

/// The answers the disk's thread made and the host has not taken yet.
#[derive(Default)]
struct Answers {
    queue: VecDeque<Tagged>,
    /// How many answers the waiting host wants before it is woken (0: it is not waiting).
    wanted: usize,
    /// The disk's thread ended (the handler panicked, or the transport is dropping).
    stopped: bool,
}

/// Where the disk's thread leaves its answers, and the host waits for them.
#[derive(Default)]
struct Mailbox {
    answers: Mutex<Answers>,
    ready: Condvar,
}

impl Mailbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Answers> {
        // The queue is whole between statements: a panic elsewhere leaves it usable.
        taxdisk_protocol::fault::locked(&self.answers)
    }

    /// Leaves an answer; wakes the host once it has what it waits for.
    fn post(&self, answer: Tagged) {
        let mut a = self.lock();
        a.queue.push_back(answer);
        if a.wanted > 0 && a.queue.len() >= a.wanted {
            a.wanted = 0;
            drop(a);
            self.ready.notify_one();
        }
    }
}

/// Marks the mailbox stopped when the disk's thread ends, by return or by panic, so a waiting
/// host learns it at once.
struct StopOnExit(Arc<Mailbox>);

impl Drop for StopOnExit {
    fn drop(&mut self) {
        self.0.lock().stopped = true;
        self.0.ready.notify_one();
    }
}

/// A disk in the same process answering on its own thread, as a real disk is a processor of
/// its own: frames go to the thread over a channel and its answers come back in a shared
/// queue, so several requests can be queued ([`Transport::pipeline_depth`] > 1) and the host's
/// work (composing, storing) runs on another core while the disk signs. A host waiting for
/// answers is woken once per group of them ([`WAKE_GROUP`]), not once per answer.
///
/// An answer of length 0 (the handler did not answer) makes [`recv`](Transport::recv) report
/// a timeout at once, as [`InProcess`] does; with several requests queued that may be taken
/// for an earlier request's timeout, which only costs a resend (the request id makes resends
/// safe). Dropping the transport stops the thread.
pub struct Threaded<H> {
    to_disk: Option<mpsc::Sender<Tagged>>,
    mailbox: Arc<Mailbox>,
    /// Answers taken from the mailbox, not yet read.
    taken: VecDeque<Tagged>,
    /// Requests sent whose answers (one each, maybe empty) have not been taken.
    outstanding: usize,
    thread: Option<JoinHandle<H>>,
    assembler: FrameAssembler,
    generation: u64,
    depth: usize,
    /// Answers a waiting host wants before it is woken: [`WAKE_GROUP`], at most depth / 4.
    group: usize,
    /// What the disk's thread did ([`Transport::disk_work`]).
    work: Arc<WorkCounters>,
}

impl<H> std::fmt::Debug for Threaded<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Threaded")
            .field("generation", &self.generation)
            .field("depth", &self.depth)
            .field("outstanding", &self.outstanding)
            .finish_non_exhaustive()
    }
}

impl<H: FrameHandler + Send + 'static> Threaded<H> {
    /// Starts a thread answering with `handler`, taking up to `depth` requests before their
    /// answers (at least 1).
    pub fn spawn(handler: H, depth: usize) -> Result<Self, TransportError> {
        let (to_disk, disk_in) = mpsc::channel::<Tagged>();
        let mailbox = Arc::new(Mailbox::default());
        let disk_side = StopOnExit(mailbox.clone());
        let work = Arc::new(WorkCounters::default());
        let counted = work.clone();
        let thread = std::thread::Builder::new()
            .name("in-process disk".into())
            .spawn(move || {
                let mut handler = handler;
                let mut out = vec![0u8; ANSWER_BUFFER];
                // Ends when the transport drops its sender.
                while let Ok((generation, frame)) = disk_in.recv() {
                    let started = Instant::now();
                    let n = handler.handle_frame(&frame, &mut out).min(out.len());
                    // Counted before the answer is posted: a host holding its answers sees
                    // the work that made them.
                    counted.add(started.elapsed());
                    disk_side.0.post((generation, out[..n].to_vec()));
                }
                drop(disk_side);
                handler
            })
            .map_err(|source| TransportError::Io {
                context: "starting the in-process disk's thread".into(),
                source,
            })?;
        Ok(Threaded {
            to_disk: Some(to_disk),
            mailbox,
            taken: VecDeque::new(),
            outstanding: 0,
            thread: Some(thread),
            assembler: FrameAssembler::new(),
            generation: 0,
            depth: depth.max(1),
            group: (depth / 4).clamp(1, WAKE_GROUP),
            work,
        })
    }

    /// Stops the thread and gives the handler back (`None` if the handler panicked).
    pub fn into_inner(mut self) -> Option<H> {
        self.to_disk.take();
        self.thread.take().and_then(|t| t.join().ok())
    }

    /// The next answer made, waiting until `deadline` for the group the host wants.
    fn next_answer(&mut self, deadline: Instant) -> Result<Tagged, Wait> {
        if let Some(t) = self.taken.pop_front() {
            return Ok(t);
        }
        let mut a = self.mailbox.lock();
        let wanted = self.outstanding.clamp(1, self.group);
        while a.queue.len() < wanted && !a.stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            a.wanted = wanted;
            a = self
                .mailbox
                .ready
                .wait_timeout(a, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        a.wanted = 0;
        if a.queue.is_empty() {
            return Err(if a.stopped {
                Wait::Stopped
            } else {
                Wait::Timeout
            });
        }
        self.outstanding = self.outstanding.saturating_sub(a.queue.len());
        self.taken.extend(a.queue.drain(..));
        drop(a);
        self.taken.pop_front().ok_or(Wait::Timeout)
    }
}

/// Why no answer came.
enum Wait {
    Timeout,
    Stopped,
}

impl<H> Drop for Threaded<H> {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; a handler that panicked is not ours to
        // report here.
        self.to_disk.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl<H: FrameHandler + Send + 'static> Transport for Threaded<H> {
    fn send(&mut self, frame: &[u8]) -> Result<(), TransportError> {
        check_len(frame)?;
        let to_disk = self.to_disk.as_ref().ok_or_else(stopped)?;
        to_disk
            .send((self.generation, frame.to_vec()))
            .map_err(|_| stopped())?;
        self.outstanding += 1;
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Frame, TransportError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.assembler.pop_result() {
                return r;
            }
            match self.next_answer(deadline) {
                Ok((generation, _)) if generation != self.generation => continue,
                Ok((_, answer)) if answer.is_empty() => {
                    return Err(TransportError::Timeout(timeout));
                }
                Ok((_, answer)) => self.assembler.feed(&answer),
                Err(Wait::Timeout) => return Err(TransportError::Timeout(timeout)),
                Err(Wait::Stopped) => return Err(stopped()),
            }
        }
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.generation = self.generation.wrapping_add(1);
        self.assembler.clear();
        Ok(())
    }

    fn describe(&self) -> String {
        "in-process disk (own thread)".to_string()
    }

    fn pipeline_depth(&self) -> usize {
        self.depth
    }

    fn disk_work(&self) -> Option<DiskWork> {
        Some(self.work.read())
    }
}

/// [`Threaded`]'s disk work, counted by its thread: frames, and nanoseconds answering them.
#[derive(Debug, Default)]
struct WorkCounters {
    frames: AtomicU64,
    busy_ns: AtomicU64,
}

impl WorkCounters {
    fn add(&self, busy: Duration) {
        let ns = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
        self.busy_ns.fetch_add(ns, Ordering::Relaxed);
        self.frames.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self) -> DiskWork {
        DiskWork {
            frames: self.frames.load(Ordering::Relaxed),
            busy: Duration::from_nanos(self.busy_ns.load(Ordering::Relaxed)),
        }
    }
}

fn stopped() -> TransportError {
    TransportError::Disconnected("the in-process disk's thread stopped".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use taxdisk_protocol::Request;
    use taxdisk_protocol::frame::encode_request;

    /// Answers every frame with itself, except frames of sequence number `silent_seq`.
    struct Echo {
        handled: usize,
        silent_seq: u32,
    }

    impl FrameHandler for Echo {
        fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
            self.handled += 1;
            let mut a = FrameAssembler::new();
            a.feed(frame);
            match a.pop() {
                Some(Ok(f)) if f.header.seq == self.silent_seq => 0,
                _ => {
                    out[..frame.len()].copy_from_slice(frame);
                    frame.len()
                }
            }
        }
    }

    fn ping(seq: u32) -> Vec<u8> {
        let mut buf = [0u8; MAX_ENCODED];
        let n = encode_request(seq, 1, &Request::Ping(seq), &mut buf).unwrap();
        buf[..n].to_vec()
    }

    const WAIT: Duration = Duration::from_secs(10);

    /// Answers as [`Echo`] does, taking at least its duration over each frame.
    struct Slow(Echo, Duration);

    impl FrameHandler for Slow {
        fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
            std::thread::sleep(self.1);
            self.0.handle_frame(frame, out)
        }
    }

    #[test]
    fn both_in_process_links_count_the_disks_work_by_the_time_its_answers_are_taken() {
        let slow = || {
            Slow(
                Echo {
                    handled: 0,
                    silent_seq: 0,
                },
                Duration::from_millis(2),
            )
        };
        let links: [Box<dyn Transport>; 2] = [
            Box::new(InProcess::new(slow())),
            Box::new(Threaded::spawn(slow(), 4).unwrap()),
        ];
        for mut t in links {
            assert_eq!(t.disk_work(), Some(DiskWork::default()), "{}", t.describe());
            let before = t.disk_work().unwrap();
            let wall = Instant::now();
            for seq in 1..=3 {
                t.send(&ping(seq)).unwrap();
            }
            for seq in 1..=3 {
                assert_eq!(t.recv(WAIT).unwrap().header.seq, seq);
            }
            let wall = wall.elapsed();
            let work = t.disk_work().unwrap().since(before);
            assert_eq!(work.frames, 3, "{}", t.describe());
            assert!(
                work.busy >= Duration::from_millis(6) && work.busy <= wall,
                "{}: {work:?} in {wall:?}",
                t.describe()
            );
        }
    }

    #[test]
    fn threaded_answers_queued_requests_in_order() {
        let echo = Echo {
            handled: 0,
            silent_seq: 0,
        };
        let mut t = Threaded::spawn(echo, 4).unwrap();
        assert_eq!(t.pipeline_depth(), 4);
        for seq in 1..=4 {
            t.send(&ping(seq)).unwrap();
        }
        for seq in 1..=4 {
            assert_eq!(t.recv(WAIT).unwrap().header.seq, seq);
        }
        assert_eq!(t.into_inner().unwrap().handled, 4);
    }

    #[test]
    fn threaded_reports_no_answer_as_a_timeout_and_goes_on() {
        let echo = Echo {
            handled: 0,
            silent_seq: 2,
        };
        let mut t = Threaded::spawn(echo, 2).unwrap();
        for seq in 1..=3 {
            t.send(&ping(seq)).unwrap();
        }
        assert_eq!(t.recv(WAIT).unwrap().header.seq, 1);
        assert!(matches!(t.recv(WAIT), Err(TransportError::Timeout(_))));
        assert_eq!(t.recv(WAIT).unwrap().header.seq, 3);
    }

    #[test]
    fn threaded_drops_answers_sent_before_a_reconnect() {
        let echo = Echo {
            handled: 0,
            silent_seq: 0,
        };
        let mut t = Threaded::spawn(echo, 4).unwrap();
        t.send(&ping(1)).unwrap();
        t.send(&ping(2)).unwrap();
        t.reconnect().unwrap();
        t.send(&ping(3)).unwrap();
        assert_eq!(t.recv(WAIT).unwrap().header.seq, 3);
        assert!(matches!(
            t.recv(Duration::from_millis(1)),
            Err(TransportError::Timeout(_))
        ));
        // The disk handled all three: only their answers were dropped.
        assert_eq!(t.into_inner().unwrap().handled, 3);
    }

    #[test]
    fn threaded_answers_a_full_window_in_order_taking_them_in_groups() {
        let echo = Echo {
            handled: 0,
            silent_seq: 0,
        };
        let mut t = Threaded::spawn(echo, 32).unwrap();
        let mut next_send = 1;
        let mut next_recv = 1;
        while next_recv <= 100 {
            while next_send <= 100 && next_send - next_recv < 32 {
                t.send(&ping(next_send)).unwrap();
                next_send += 1;
            }
            assert_eq!(t.recv(WAIT).unwrap().header.seq, next_recv);
            next_recv += 1;
        }
        assert_eq!(t.into_inner().unwrap().handled, 100);
    }

    #[test]
    fn threaded_answers_fewer_than_a_group_without_waiting_for_more() {
        let echo = Echo {
            handled: 0,
            silent_seq: 0,
        };
        // A group of 8 answers; only 3 requests are out, so the third answer wakes the host.
        let mut t = Threaded::spawn(echo, 32).unwrap();
        let start = Instant::now();
        for seq in 1..=3 {
            t.send(&ping(seq)).unwrap();
        }
        for seq in 1..=3 {
            assert_eq!(t.recv(WAIT).unwrap().header.seq, seq);
        }
        // Waiting for a group that never comes would take the whole timeout.
        assert!(start.elapsed() < WAIT / 2, "took {:?}", start.elapsed());
    }

    /// Panics on every frame.
    struct Panics;

    impl FrameHandler for Panics {
        fn handle_frame(&mut self, _frame: &[u8], _out: &mut [u8]) -> usize {
            panic!("the handler failed")
        }
    }

    #[test]
    fn threaded_reports_a_panicked_handler_at_once() {
        let mut t = Threaded::spawn(Panics, 32).unwrap();
        let start = Instant::now();
        t.send(&ping(1)).unwrap();
        assert!(matches!(t.recv(WAIT), Err(TransportError::Disconnected(_))));
        assert!(start.elapsed() < WAIT / 2, "took {:?}", start.elapsed());
        assert!(t.into_inner().is_none());
    }
}
