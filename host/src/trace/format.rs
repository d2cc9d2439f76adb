//! The trace file: its frames, control requests and header read back ([`Trace::read`],
//! [`Trace::parse`]) and written ([`Trace::to_text`]), and the request/answer pairs of a session
//! ([`Exchange`]).

use super::{MAX_LINE, TRACE_FORMAT, TraceDir, TraceError, TraceLine};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use taxdisk_protocol::control::ControlRequest;
use taxdisk_protocol::frame::{FrameType, Header, MAX_ENCODED, MAX_FRAME, decode_frame};

/// One frame of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceFrame {
    /// Which way.
    pub dir: TraceDir,
    /// Microseconds since the start.
    pub t_us: u64,
    /// The encoded frame.
    pub bytes: Vec<u8>,
}

/// A trace read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The link it was recorded on.
    pub link: String,
    /// Wall-clock start, ms since the Unix epoch.
    pub started_unix_ms: u64,
    /// The frames, in order.
    pub frames: Vec<TraceFrame>,
    /// The control requests, each with the number of frames before it.
    pub controls: Vec<TraceControl>,
}

/// A control request of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceControl {
    /// How many frames of [`Trace::frames`] came before it.
    pub after_frames: usize,
    /// Microseconds since the start.
    pub t_us: u64,
    /// The request.
    pub request: ControlRequest,
}

impl Trace {
    /// Reads a trace file.
    pub fn read(path: impl AsRef<Path>) -> Result<Trace, TraceError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TraceError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Trace::parse(&text)
    }

    /// Parses a trace's text.
    pub fn parse(text: &str) -> Result<Trace, TraceError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, first)) = lines.next() else {
            return Err(TraceError::Format("the file is empty".into()));
        };
        let (link, started_unix_ms) = match serde_json::from_str::<TraceLine>(first) {
            Ok(TraceLine::Header {
                format,
                started_unix_ms,
                link,
            }) if format == TRACE_FORMAT => (link, started_unix_ms),
            Ok(TraceLine::Header { format, .. }) => {
                return Err(TraceError::Format(format!("format {format:?}")));
            }
            _ => return Err(TraceError::Format("the first line is not a header".into())),
        };
        let mut frames = Vec::new();
        let mut controls = Vec::new();
        for (i, l) in lines {
            let line = i + 1;
            if l.len() > MAX_LINE {
                return Err(TraceError::Line {
                    line,
                    what: format!("longer than {MAX_LINE} bytes"),
                });
            }
            match serde_json::from_str::<TraceLine>(l) {
                Ok(TraceLine::Frame { dir, t_us, hex }) => {
                    let bytes = hex::decode(hex.trim()).map_err(|e| TraceError::Line {
                        line,
                        what: format!("hex: {e}"),
                    })?;
                    if bytes.len() > MAX_ENCODED {
                        return Err(TraceError::Line {
                            line,
                            what: format!("a frame of {} bytes", bytes.len()),
                        });
                    }
                    frames.push(TraceFrame { dir, t_us, bytes });
                }
                Ok(TraceLine::RecvError { .. }) => {}
                Ok(TraceLine::Control { t_us, request }) => controls.push(TraceControl {
                    after_frames: frames.len(),
                    t_us,
                    request,
                }),
                Ok(TraceLine::Header { .. }) => {
                    return Err(TraceError::Line {
                        line,
                        what: "a second header".into(),
                    });
                }
                Err(e) => {
                    return Err(TraceError::Line {
                        line,
                        what: e.to_string(),
                    });
                }
            }
        }
        Ok(Trace {
            link,
            started_unix_ms,
            frames,
            controls,
        })
    }

    /// The trace's text (header and frame lines), as [`Recorder`](super::Recorder) writes it.
    pub fn to_text(&self) -> String {
        let mut lines = vec![TraceLine::Header {
            format: TRACE_FORMAT.into(),
            started_unix_ms: self.started_unix_ms,
            link: self.link.clone(),
        }];
        let mut controls = self.controls.iter().peekable();
        for (i, f) in self.frames.iter().enumerate() {
            while let Some(c) = controls.next_if(|c| c.after_frames <= i) {
                lines.push(TraceLine::Control {
                    t_us: c.t_us,
                    request: c.request.clone(),
                });
            }
            lines.push(TraceLine::Frame {
                dir: f.dir,
                t_us: f.t_us,
                hex: hex::encode(&f.bytes),
            });
        }
        lines.extend(controls.map(|c| TraceLine::Control {
            t_us: c.t_us,
            request: c.request.clone(),
        }));
        let mut s = String::new();
        for l in lines {
            s.push_str(&serde_json::to_string(&l).unwrap_or_default());
            s.push('\n');
        }
        s
    }

    /// The session's length in microseconds (the last frame's time).
    pub fn duration_us(&self) -> u64 {
        self.frames.last().map_or(0, |f| f.t_us)
    }

    /// The recorded requests paired with their recorded answers, resends dropped.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let mut scratch = vec![0u8; MAX_FRAME];
        // Answers by (seq, session, command), in trace order: one pass, so a long trace costs
        // n log n, not n².
        let mut answers: HashMap<(u32, u32, u16), Vec<usize>> = HashMap::new();
        for (i, f) in self.frames.iter().enumerate() {
            if f.dir == TraceDir::In
                && let Ok((h, _)) = decode_frame(&f.bytes, &mut scratch)
                && h.frame_type == FrameType::Response
            {
                answers
                    .entry((h.seq, h.session, h.command))
                    .or_default()
                    .push(i);
            }
        }
        let mut out: Vec<Exchange> = Vec::new();
        let mut seen: HashSet<&[u8]> = HashSet::new();
        let mut controls = self.controls.iter().peekable();
        for (i, f) in self.frames.iter().enumerate() {
            if f.dir != TraceDir::Out {
                continue;
            }
            let Ok((h, _)) = decode_frame(&f.bytes, &mut scratch) else {
                continue;
            };
            if h.frame_type != FrameType::Request || !seen.insert(&f.bytes) {
                continue;
            }
            let answer = answers.get(&(h.seq, h.session, h.command)).and_then(|v| {
                let k = v.partition_point(|&a| a <= i);
                v.get(k).map(|&a| self.frames[a].bytes.clone())
            });
            let before: Vec<ControlRequest> =
                std::iter::from_fn(|| controls.next_if(|c| c.after_frames <= i))
                    .map(|c| c.request.clone())
                    .collect();
            out.push(Exchange {
                header: h,
                request: f.bytes.clone(),
                answer,
                controls: before,
            });
        }
        out
    }
}

/// A recorded request and the answer recorded for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The request's header.
    pub header: Header,
    /// The request frame.
    pub request: Vec<u8>,
    /// The answer frame, if one was recorded.
    pub answer: Option<Vec<u8>>,
    /// Control requests made before this request (since the previous one).
    pub controls: Vec<ControlRequest>,
}
