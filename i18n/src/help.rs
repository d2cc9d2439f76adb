//! `--help` in the process's language, for both binaries (feature `clap`): in Chinese each
//! subcommand's summary comes from the catalogue (`PREFIX-<path>`, path the subcommand names
//! joined by `-`), and so do clap's headings, the help and version flags and the named global
//! options (`PREFIX-arg-<id>`). English keeps clap's text from the doc comments (each binary
//! checks the catalogue's English copy against it in a test). Other options stay English.

use crate::{is_zh, t, tr};
use clap::{Arg, ArgAction, Command};

/// `cmd` with its help texts in the process's language: the root's summary is `PREFIX-root`.
pub fn localize(cmd: Command, prefix: &str, global_args: &[&str]) -> Command {
    if !is_zh() {
        return cmd;
    }
    let mut cmd = cmd
        .about(tr(&format!("{prefix}-root"), &[]))
        .long_about(None)
        .disable_version_flag(true)
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help(t!("help-flag-version")),
        );
    for id in global_args {
        cmd = cmd.mut_arg(*id, |a| a.help(tr(&format!("{prefix}-arg-{id}"), &[])));
    }
    tree(cmd, prefix, "")
}

fn tree(cmd: Command, prefix: &str, path: &str) -> Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    let heading = t!("help-heading-options");
    let mut cmd = cmd
        .subcommand_help_heading(t!("help-heading-commands"))
        .help_template(format!(
            "{{about-with-newline}}\n{}: {{usage}}\n\n{{all-args}}{{after-help}}",
            t!("help-heading-usage")
        ))
        .disable_help_flag(true)
        .mut_args(|a| a.help_heading(heading.clone()))
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help(t!("help-flag-help"))
                .help_heading(heading.clone()),
        );
    for name in names {
        let p = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}-{name}")
        };
        let about = tr(&format!("{prefix}-{p}"), &[]);
        cmd = cmd.mut_subcommand(&name, |s| {
            tree(s.about(about.clone()).long_about(about), prefix, &p)
        });
    }
    cmd
}

/// Every subcommand path of `cmd` with clap's English summary, for the catalogue tests.
pub fn summaries(cmd: &Command, path: &str, out: &mut Vec<(String, String)>) {
    for s in cmd.get_subcommands() {
        let p = if path.is_empty() {
            s.get_name().to_owned()
        } else {
            format!("{path}-{}", s.get_name())
        };
        out.push((
            p.clone(),
            s.get_about().map(|a| a.to_string()).unwrap_or_default(),
        ));
        summaries(s, &p, out);
    }
}

/// Checks that every subcommand of `cmd` (at least `min` of them) has its summary under
/// `PREFIX-<path>` in both languages: the English copy equal to clap's (doc comments), the
/// Chinese one not plain ASCII. Each problem is one line of the error; both binaries' tests
/// call it.
pub fn check_summaries(cmd: &Command, prefix: &str, min: usize) -> Result<(), String> {
    use crate::{Lang, render_checked};
    let mut all = Vec::new();
    summaries(cmd, "", &mut all);
    let mut problems = Vec::new();
    if all.len() < min {
        problems.push(format!(
            "{} subcommands, expected at least {min}",
            all.len()
        ));
    }
    for (path, about) in all {
        let key = format!("{prefix}-{path}");
        match render_checked(Lang::En, &key, &[]) {
            Ok(en) if en.trim_end_matches('.') == about.trim_end_matches('.') => {}
            Ok(en) => problems.push(format!("{key}: catalogue says {en:?}, clap {about:?}")),
            Err(e) => problems.push(e),
        }
        match render_checked(Lang::ZhCn, &key, &[]) {
            Ok(zh) if !zh.is_ascii() => {}
            Ok(zh) => problems.push(format!("{key}: the Chinese summary is not Chinese: {zh}")),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
