//! [`Report`]: one row per scenario with its outcome, printed as a table or written as JUnit
//! XML (`testsuite` / `testcase` / `failure` / `skipped`).

use super::frames::LoggedFrame;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;
use taxdisk_i18n::t;
use taxdisk_i18n::width::{left, width};

/// How a scenario ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every check held.
    Pass,
    /// A check failed: what was expected and what the disk did.
    Fail(String),
    /// Not run, and why (no token source, no control channel, not a factory disk, ...).
    Skip(String),
}

impl Outcome {
    /// `PASS`, `FAIL` or `SKIP`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail(_) => "FAIL",
            Outcome::Skip(_) => "SKIP",
        }
    }
}

/// One scenario's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The rule it checks (`D1`..`D14`, or `wire`).
    pub rule: &'static str,
    /// The commands it exercises, by name.
    pub commands: Vec<&'static str>,
    /// The scenario's name (starts with the rule id, e.g. `d05_issue_refusals`).
    pub name: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// A failure's reason in the process's language, where the suite rendered it from the
    /// typed error it met (a disk's refusal, a timeout); the table shows it, JUnit the
    /// outcome's English. `None`: the table words the outcome's text itself.
    pub local: Option<String>,
    /// For a failure, the frames exchanged during the scenario (empty otherwise).
    pub frames: Vec<LoggedFrame>,
    /// How long it ran.
    pub duration: Duration,
}

/// The suite's result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Where the disk was (the transport's description).
    pub link: String,
    /// One row per scenario, in run order.
    pub rows: Vec<Row>,
}

/// Why the JUnit file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing JUnit report {path}: {source}")]
pub struct JunitError {
    /// The file.
    pub path: String,
    /// The error.
    #[source]
    pub source: std::io::Error,
}

impl Report {
    /// Rows that passed.
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Pass))
    }

    /// Rows that failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fail(_)))
    }

    /// Rows skipped.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skip(_)))
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.rows.iter().filter(|r| f(&r.outcome)).count()
    }

    /// Whether nothing failed.
    pub fn ok(&self) -> bool {
        self.failed() == 0
    }

    /// The row named `name`.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// The table as text: rule, commands, name, outcome, then for each failure its message
    /// and frames, and a summary line. In the process's language; the reasons through
    /// [`crate::l10n::known::reason`] (JUnit keeps them as recorded).
    pub fn table(&self) -> String {
        let mut s = String::new();
        let cmds: Vec<String> = self.rows.iter().map(|r| r.commands.join(",")).collect();
        let wc = cmds.iter().map(String::len).max().unwrap_or(0).max(8);
        let wn = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(0)
            .max(8);
        // Headings in the process's language, padded by display width (a Chinese heading
        // is two columns a character).
        let head = [
            t!("conf-col-rule"),
            t!("conf-col-commands"),
            t!("conf-col-scenario"),
        ];
        let wr = width(&head[0]).max(5);
        let wc = wc.max(width(&head[1]));
        let wn = wn.max(width(&head[2]));
        let _ = writeln!(
            s,
            "{}",
            t!("conf-title", link = taxdisk_i18n::phrase(&self.link))
        );
        let _ = writeln!(
            s,
            "{} {} {} {}",
            left(&head[0], wr),
            left(&head[1], wc),
            left(&head[2], wn),
            t!("conf-col-result")
        );
        for (r, c) in self.rows.iter().zip(&cmds) {
            let _ = write!(
                s,
                "{:<wr$} {:<wc$} {:<wn$} {}",
                r.rule,
                c,
                r.name,
                t!(&format!("conf-{}", r.outcome.label().to_ascii_lowercase()))
            );
            match &r.outcome {
                Outcome::Pass => {}
                Outcome::Fail(m) | Outcome::Skip(m) => {
                    let shown = match &r.local {
                        Some(l) => l.clone(),
                        None => crate::l10n::known::reason(m),
                    };
                    let _ = write!(s, "  {shown}");
                }
            }
            s.push('\n');
            for f in &r.frames {
                let _ = writeln!(s, "      {f}");
            }
        }
        let _ = writeln!(
            s,
            "{}",
            t!(
                "conf-summary",
                total = self.rows.len(),
                passed = self.passed(),
                failed = self.failed(),
                skipped = self.skipped()
            )
        );
        s
    }

    /// Prints [`Report::table`] to standard output.
    pub fn print_table(&self) {
        print!("{}", self.table());
    }

    /// The report as JUnit XML: one `testsuite` with one `testcase` per scenario
    /// (`classname` = `taxdisk.conformance.<rule>`), a `failure` with the message and the frames
    /// for a failure, `skipped` with the reason for a skip.
    pub fn junit(&self) -> String {
        let total: f64 = self.rows.iter().map(|r| r.duration.as_secs_f64()).sum();
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            s,
            "<testsuite name=\"taxdisk-conformance\" tests=\"{}\" failures=\"{}\" errors=\"0\" \
             skipped=\"{}\" time=\"{:.3}\" hostname=\"{}\">",
            self.rows.len(),
            self.failed(),
            self.skipped(),
            total,
            xml_escape(&self.link)
        );
        for r in &self.rows {
            let _ = write!(
                s,
                "  <testcase classname=\"taxdisk.conformance.{}\" name=\"{}\" time=\"{:.3}\"",
                xml_escape(r.rule),
                xml_escape(r.name),
                r.duration.as_secs_f64()
            );
            match &r.outcome {
                Outcome::Pass => s.push_str("/>\n"),
                Outcome::Skip(m) => {
                    let _ = writeln!(
                        s,
                        ">\n    <skipped message=\"{}\"/>\n  </testcase>",
                        xml_escape(m)
                    );
                }
                Outcome::Fail(m) => {
                    let mut body = format!("{m}\ncommands: {}\n", r.commands.join(", "));
                    for f in &r.frames {
                        let _ = writeln!(body, "{f}");
                    }
                    let _ = writeln!(
                        s,
                        ">\n    <failure message=\"{}\" type=\"{}\">{}</failure>\n  </testcase>",
                        xml_escape(m),
                        xml_escape(r.rule),
                        xml_escape(&body)
                    );
                }
            }
        }
        s.push_str("</testsuite>\n");
        s
    }

    /// Writes [`Report::junit`] to `path`.
    pub fn write_junit(&self, path: impl AsRef<Path>) -> Result<(), JunitError> {
        let path = path.as_ref();
        std::fs::write(path, self.junit()).map_err(|source| JunitError {
            path: path.display().to_string(),
            source,
        })
    }
}

/// Escapes text for XML content and attribute values; characters XML 1.0 cannot carry
/// (control characters other than tab, newline and carriage return) become `?`.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}
