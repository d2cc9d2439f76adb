//! The CLI's errors for a person in the process's language: the host's errors render through
//! their catalogue keys ([`Localize`]); the CLI's own keys are in `locales/*/cli.ftl`. Texts
//! the CLI builds as a `String` (usage errors, bad input) are built in the process's language
//! where they are made.

use crate::commands::CmdError;
use crate::{CliError, bench, demo, faults, keys, prompt, suite, wiring};
use taxdisk_i18n::{Localize, phrase, t};

/// One line for `error: ...`.
pub fn error(e: &CliError) -> String {
    match e {
        CliError::Wiring(w) => wiring_error(w),
        CliError::Disk(d) => d.localized(),
        CliError::Key(k) => match k {
            keys::KeyError::BadKey => t!("cli-key-bad"),
            keys::KeyError::BadSignature => t!("cli-key-bad-signature"),
            keys::KeyError::Io { path, source } => {
                t!("cli-file", path = path.display(), error = source)
            }
        },
        CliError::Bench(b) => match b {
            bench::BenchError::Disk(d) => t!("cli-bench-disk", error = d.localized()),
            bench::BenchError::Bureau(s) => t!("cli-bench-bureau", error = s),
            bench::BenchError::Store(s) => t!("cli-bench-store", error = s.localized()),
            bench::BenchError::Invoice(i) => t!("cli-bench-invoice", error = i.localized()),
            bench::BenchError::Workflow(w) => w.localized(),
            bench::BenchError::Setup(s) => s.clone(),
        },
        CliError::Demo(d) => match d {
            demo::DemoError::Workflow { step, source } => t!(
                "cli-demo-step",
                step = phrase(step),
                error = source.localized()
            ),
            demo::DemoError::Setup(s) => t!("cli-demo-setup", error = s),
        },
        CliError::Cmd(c) => cmd_error(c),
        CliError::Suite(s) => match s {
            suite::SuiteError::Setup(s) => s.clone(),
            suite::SuiteError::Failed(n) => t!("cli-suite-failed", n = n),
            suite::SuiteError::Different(n) => t!("cli-replay-different", n = n),
        },
        CliError::Faults(f) => match f {
            faults::FaultsError::Config(s) => t!("cli-faults-config", error = s),
            faults::FaultsError::Setup { step, message } => {
                t!("cli-faults-setup", step = phrase(step), error = message)
            }
            faults::FaultsError::Stuck { step, tries, last } => {
                t!(
                    "cli-faults-stuck",
                    step = phrase(step),
                    tries = tries,
                    error = last
                )
            }
        },
        CliError::Usage(s) => s.clone(),
    }
}

fn wiring_error(w: &wiring::WiringError) -> String {
    match w {
        wiring::WiringError::Data { path, source } => {
            t!("cli-data-folder", path = path.display(), error = source)
        }
        wiring::WiringError::Sim(s) => t!("cli-sim-disk", error = s),
        wiring::WiringError::Bureau(s)
        | wiring::WiringError::Transport(s)
        | wiring::WiringError::Busy(s) => taxdisk_host::l10n::known::reason(s),
    }
}

/// A workflow command's failure.
pub fn cmd_error(c: &CmdError) -> String {
    match c {
        CmdError::Workflow(w) => w.localized(),
        CmdError::Wiring(w) => wiring_error(w),
        CmdError::Store(s) => s.localized(),
        CmdError::Input(s) => s.clone(),
        CmdError::NoSession => t!("cli-no-session"),
        CmdError::Prompt(p) => match p {
            prompt::PromptError::Missing { what } => {
                t!("cli-prompt-missing", what = phrase(what))
            }
            prompt::PromptError::Io { what, source } => {
                t!("cli-prompt-io", what = phrase(what), error = source)
            }
        },
    }
}
