//! Passwords that need not be on the command line (issue 17): a `--password` shows in the
//! process list (`ps`) and the shell history. Where neither the option nor `TAXDISK_PASSWORD`
//! gives one, the command asks: at a terminal without echo, otherwise it reads one line of
//! standard input (`printf '%s\n' "$PW" | taxdisk login --user NAME`), one line per password
//! asked, in the order the command asks for them. The answer is read before the data folder
//! is locked, so a user thinking at the prompt holds up no other command.

use std::io::{BufRead, IsTerminal};

/// Why no password could be had.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// Standard input ended before a password was read.
    #[error("{what}: no password given (use the prompt, TAXDISK_PASSWORD or --password)")]
    Missing {
        /// What was asked.
        what: String,
    },
    /// Reading the terminal or standard input failed.
    #[error("{what}: cannot read the password: {source}")]
    Io {
        /// What was asked.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Fills `slot` when it is empty: asks `what` at the terminal, or reads a line of standard
/// input when it is not a terminal.
pub fn fill(slot: &mut Option<String>, what: &str) -> Result<(), PromptError> {
    if slot.is_some() {
        return Ok(());
    }
    let io = |source| PromptError::Io {
        what: what.to_owned(),
        source,
    };
    let answer = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{what}: ")).map_err(io)?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(io)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if answer.is_empty() {
        return Err(PromptError::Missing {
            what: what.to_owned(),
        });
    }
    *slot = Some(answer);
    Ok(())
}
