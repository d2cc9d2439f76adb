//! Recording: [`Recorder`] wraps a transport and writes every frame of the session to a trace,
//! and [`RecordingControl`] writes a simulator's control requests between them.

use super::redact;
use super::{TRACE_FORMAT, TraceDir, TraceError, TraceLine};
use crate::control::{Control, ControlError};
use crate::transport::{Frame, Transport, TransportError};
use std::fmt;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use taxdisk_protocol::control::{ControlRequest, ControlResponse};

/// Where the lines of one trace go: shared by the [`Recorder`] and its [`RecordingControl`]s,
/// so control requests land between the frames they came between.
struct Sink {
    out: BufWriter<Box<dyn Write + Send>>,
    start: Instant,
    error: Option<std::io::Error>,
}

type SharedSink = Arc<Mutex<Sink>>;

fn write_line(sink: &SharedSink, line: impl FnOnce(u64) -> TraceLine) {
    let mut s = taxdisk_protocol::fault::locked(sink);
    if s.error.is_some() {
        return;
    }
    let t_us = u64::try_from(s.start.elapsed().as_micros()).unwrap_or(u64::MAX);
    // A TraceLine is plain strings, numbers and protocol data: serializing it cannot fail.
    let text = serde_json::to_string(&line(t_us)).unwrap_or_default();
    if let Err(e) = writeln!(s.out, "{text}") {
        s.error = Some(e);
    }
}

fn flush_sink(sink: &SharedSink) -> Result<(), TraceError> {
    let mut s = taxdisk_protocol::fault::locked(sink);
    let r = s.out.flush();
    match (s.error.take(), r) {
        (Some(source), _) | (None, Err(source)) => Err(TraceError::Io {
            path: "-".into(),
            source,
        }),
        (None, Ok(())) => Ok(()),
    }
}

/// A transport wrapper that writes every frame of the session to a trace.
pub struct Recorder<T> {
    inner: T,
    sink: SharedSink,
    redactor: redact::Redactor,
}

impl<T> fmt::Debug for Recorder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl<T: Transport> Recorder<T> {
    /// Records the session over `inner` into the file at `path` (created or truncated).
    pub fn create(inner: T, path: impl AsRef<Path>) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let f = std::fs::File::create(path).map_err(|source| TraceError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::new(inner, Box::new(f))
    }

    /// Records the session over `inner` into `out`; writes the header line at once.
    pub fn new(inner: T, out: Box<dyn Write + Send>) -> Result<Self, TraceError> {
        let started_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let sink = Arc::new(Mutex::new(Sink {
            out: BufWriter::new(out),
            start: Instant::now(),
            error: None,
        }));
        let link = inner.describe();
        write_line(&sink, |_| TraceLine::Header {
            format: TRACE_FORMAT.into(),
            started_unix_ms,
            link,
        });
        flush_sink(&sink)?;
        Ok(Recorder {
            inner,
            sink,
            redactor: redact::Redactor::default(),
        })
    }

    /// Wraps a simulator's control channel so that its requests are written to this trace
    /// too, between the frames they came between;
    /// [`replay_with_control`](super::replay_with_control) applies them to the replaying
    /// simulator.
    pub fn control<C: Control>(&self, inner: C) -> RecordingControl<C> {
        RecordingControl {
            inner,
            sink: self.sink.clone(),
        }
    }

    /// Flushes the trace; the first write error of the session, if any, is returned here (a
    /// failing trace never fails the disk session itself).
    pub fn flush(&mut self) -> Result<(), TraceError> {
        flush_sink(&self.sink)
    }

    /// Flushes the trace and gives the transport back.
    pub fn finish(mut self) -> Result<T, TraceError> {
        self.flush()?;
        Ok(self.inner)
    }
}

// `pipeline_depth` stays 1 while recording (the default): a trace pairs each request with the
// answer that follows it, which is what a replay compares.
impl<T: Transport> Transport for Recorder<T> {
    fn send(&mut self, frame: &[u8]) -> Result<(), TransportError> {
        let redacted = self.redactor.redact(frame);
        write_line(&self.sink, |t_us| TraceLine::Frame {
            dir: TraceDir::Out,
            t_us,
            hex: hex::encode(redacted.as_deref().unwrap_or(frame)),
        });
        self.inner.send(frame)
    }

    fn recv(&mut self, timeout: Duration) -> Result<Frame, TransportError> {
        let r = self.inner.recv(timeout);
        write_line(&self.sink, |t_us| match &r {
            Ok(f) => TraceLine::Frame {
                dir: TraceDir::In,
                t_us,
                hex: f.encoded_hex(),
            },
            Err(e) => TraceLine::RecvError {
                t_us,
                error: e.to_string(),
            },
        });
        r
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.inner.reconnect()
    }

    fn describe(&self) -> String {
        format!("recorded {}", self.inner.describe())
    }
}

/// A control channel whose requests are written to a [`Recorder`]'s trace
/// ([`Recorder::control`]).
pub struct RecordingControl<C> {
    inner: C,
    sink: SharedSink,
}

impl<C> fmt::Debug for RecordingControl<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingControl").finish_non_exhaustive()
    }
}

impl<C: Control> Control for RecordingControl<C> {
    fn control(&mut self, req: ControlRequest) -> Result<ControlResponse, ControlError> {
        write_line(&self.sink, |t_us| TraceLine::Control {
            t_us,
            request: req.clone(),
        });
        self.inner.control(req)
    }
}
