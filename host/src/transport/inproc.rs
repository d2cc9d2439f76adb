//! The in-process transport: a [`FrameHandler`] (the simulator's `SimDisk`, a test fake, a
//! [`FaultyHandler`](super::fault::FaultyHandler)) called directly with the encoded request
//! frame. The encoded answer goes through the same [`FrameAssembler`] as bytes from a wire, so
//! the whole codec is exercised. An answer of length 0 means the disk did not answer (garbage
//! in, unplugged, dropped): [`recv`](Transport::recv) reports a timeout at once, without
//! sleeping.

use super::{Frame, FrameAssembler, Transport, TransportError, check_len};
use std::sync::{Arc, Mutex};
use std::time::Duration;
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
}

impl<H: FrameHandler> InProcess<H> {
    /// A transport to `handler`.
    pub fn new(handler: H) -> Self {
        InProcess {
            handler,
            assembler: FrameAssembler::new(),
            out: vec![0; ANSWER_BUFFER],
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
        let n = self.handler.handle_frame(frame, &mut self.out);
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
        let mut h = self.0.lock().unwrap_or_else(|p| p.into_inner());
        h.handle_frame(frame, out)
    }
}
