//! [`Control`]: the simulator's control channel (clock, power, faults) as the conformance suite
//! and trace replay use it, with an implementation over a TCP control port ([`TcpControl`],
//! the protocol crate's one client of the channel, also the simulator's) and one over an
//! in-process closure ([`FnControl`]). The wire and its codec are `taxdisk_protocol::control`'s:
//! frames of type `ControlRequest` / `ControlResponse`, command id 0, the request's sequence
//! number echoed, and the postcard encoding of [`ControlRequest`] / [`ControlResponse`].

use taxdisk_protocol::control::{ControlRequest, ControlResponse};

/// A simulator's control port on TCP.
pub use taxdisk_protocol::control::client::ControlClient as TcpControl;
/// Why a control request got no usable answer.
pub use taxdisk_protocol::control::client::ControlClientError as ControlError;
/// How long [`TcpControl`] waits to connect and for each answer.
pub use taxdisk_protocol::control::client::DEFAULT_TIMEOUT as CONTROL_TIMEOUT;

/// Sends control requests to a simulator.
pub trait Control {
    /// Sends one request and returns the simulator's answer.
    fn control(&mut self, req: ControlRequest) -> Result<ControlResponse, ControlError>;
}

/// A control channel that is a closure, e.g. over an in-process `SimDisk::control`.
pub struct FnControl<F>(pub F);

impl<F> std::fmt::Debug for FnControl<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnControl(..)")
    }
}

impl<F: FnMut(ControlRequest) -> ControlResponse> Control for FnControl<F> {
    fn control(&mut self, req: ControlRequest) -> Result<ControlResponse, ControlError> {
        Ok((self.0)(req))
    }
}

impl Control for TcpControl {
    fn control(&mut self, req: ControlRequest) -> Result<ControlResponse, ControlError> {
        self.send(req)
    }
}
