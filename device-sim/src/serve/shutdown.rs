//! Waiting for SIGINT or SIGTERM. The servers run on plain threads; the signals are received
//! with tokio's signal driver on a small current-thread runtime of the waiting thread (tokio is
//! already a dependency for the bureau's HTTP server, so no other signal crate is needed).

use tokio::signal::unix::{Signal, SignalKind, signal};

/// The signal that asked the process to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl std::fmt::Display for StopSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        })
    }
}

/// The installed SIGINT and SIGTERM handlers. Install them before starting the servers, so a
/// signal that comes early is not lost (from [`StopSignals::install`] on, those signals no longer
/// kill the process; the owner decides what to do).
#[derive(Debug)]
pub struct StopSignals {
    rt: tokio::runtime::Runtime,
    int: Signal,
    term: Signal,
}

impl StopSignals {
    /// Installs the handlers.
    pub fn install() -> std::io::Result<StopSignals> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let (int, term) = {
            let _ctx = rt.enter();
            (
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            )
        };
        Ok(StopSignals { rt, int, term })
    }

    /// Blocks until SIGINT or SIGTERM arrives (or arrived since [`StopSignals::install`]).
    pub fn wait(mut self) -> StopSignal {
        let (int, term) = (&mut self.int, &mut self.term);
        self.rt.block_on(async {
            tokio::select! {
                _ = int.recv() => StopSignal::Interrupt,
                _ = term.recv() => StopSignal::Terminate,
            }
        })
    }
}
