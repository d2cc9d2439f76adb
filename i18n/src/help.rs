//! `--help` and clap's usage errors in the process's language, for both binaries (feature
//! `clap`). In Chinese every text clap shows comes from the catalogue: each subcommand's
//! summary (`PREFIX-<path>`, path the subcommand names joined by `-`), each option's help
//! (`PREFIX-arg-<id>` for the root's options, `PREFIX-<path>-arg-<id>` for a subcommand's),
//! the headings, the help and version flags, the default, environment and possible-value notes
//! (`help-note-*`) and the usage errors ([`exit`], `clap-error-*`). English keeps clap's own
//! texts from the doc comments; each binary checks the catalogue's English copy against them
//! in a test ([`check_summaries`], [`check_options`]).

use crate::{is_zh, t, tr};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};

/// `cmd` with its help texts in the process's language: the root's summary is `PREFIX-root`.
pub fn localize(cmd: Command, prefix: &str) -> Command {
    if !is_zh() {
        return cmd;
    }
    let cmd = with_long(cmd, long_about(prefix, "root"))
        .about(tr(&format!("{prefix}-root"), &[]))
        .disable_version_flag(true)
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help(t!("help-flag-version")),
        );
    let mut cmd = tree(cmd, prefix, "");
    // clap adds its `help` subcommand (and copies the global options down) when it builds the
    // command: built here, its summary can be given too.
    cmd.build();
    help_subcommands(&mut cmd);
    cmd
}

/// clap's help layout with the usage heading in the process's language.
fn template() -> String {
    format!(
        "{{about-with-newline}}\n{}: {{usage}}\n\n{{all-args}}{{after-help}}",
        t!("help-heading-usage")
    )
}

/// The summary of clap's `help` subcommand, at every level that has one.
fn help_subcommands(cmd: &mut Command) {
    for s in cmd.get_subcommands_mut() {
        if s.get_name() == "help" {
            let help = std::mem::take(s);
            *s = help
                .about(t!("help-subcommand-help"))
                .long_about(None)
                .help_template(template())
                .mut_args(|a| {
                    a.help(t!("help-subcommand-help-arg"))
                        .help_heading(t!("help-heading-arguments"))
                });
        } else {
            help_subcommands(s);
        }
    }
}

/// The catalogue key of option `id` of the subcommand at `path` (`""`: the root).
pub fn option_key(prefix: &str, path: &str, id: &str) -> String {
    if path.is_empty() {
        format!("{prefix}-arg-{id}")
    } else {
        format!("{prefix}-{path}-arg-{id}")
    }
}

/// Whether clap shows `a` in the help with a text of its own (not the help and version flags
/// clap adds, not a hidden option, not one without a doc comment).
fn has_own_help(a: &Arg) -> bool {
    let id = a.get_id().as_str();
    !a.is_hide_set() && id != "help" && id != "version" && a.get_help().is_some()
}

/// One option in Chinese: its help from the catalogue, then the notes clap would add in
/// English (default, environment variable, possible values), here from the catalogue.
fn localize_arg(a: Arg, prefix: &str, path: &str, options: &str, arguments: &str) -> Arg {
    let heading = if a.is_positional() {
        arguments
    } else {
        options
    };
    let id = a.get_id().as_str();
    if a.is_hide_set() || id == "help" || id == "version" {
        return a.help_heading(heading.to_owned());
    }
    let mut help = if has_own_help(&a) {
        tr(&option_key(prefix, path, id), &[])
    } else {
        String::new()
    };
    let takes_values = a.get_action().takes_values();
    if takes_values && !a.is_hide_default_value_set() && !a.get_default_values().is_empty() {
        let values: Vec<String> = a
            .get_default_values()
            .iter()
            .map(|v| match v.to_string_lossy() {
                // clap shows an empty default as "".
                v if v.is_empty() => "\"\"".to_owned(),
                v => v.into_owned(),
            })
            .collect();
        help.push_str(&format!(
            " [{}]",
            t!("help-note-default", value = values.join(", "))
        ));
    }
    if let Some(env) = a.get_env()
        && !a.is_hide_env_set()
    {
        help.push_str(&format!(
            " [{}]",
            t!("help-note-env", name = env.to_string_lossy())
        ));
    }
    let possible: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_owned())
        .collect();
    if takes_values && !a.is_hide_possible_values_set() && !possible.is_empty() {
        help.push_str(&format!(
            " [{}]",
            t!("help-note-possible", values = possible.join(", "))
        ));
    }
    let a = a
        .help(help.trim_start().to_owned())
        .long_help(None)
        .hide_env(true)
        .help_heading(heading.to_owned());
    // clap allows hiding these only on an option that takes a value (a debug assertion).
    if takes_values {
        a.hide_default_value(true).hide_possible_values(true)
    } else {
        a
    }
}

/// The long help of the command at `path` (`root` for the binary itself) under
/// `PREFIX-<path>-long`, where the catalogue has one; without it `--help` shows the summary
/// (the long English text would be out of place).
fn long_about(prefix: &str, path: &str) -> Option<clap::builder::StyledStr> {
    own_text(&format!("{prefix}-{path}-long")).map(Into::into)
}

/// The text under `key` in the current language, for the help texts only some commands have
/// (a long help, an example after the options): the Chinese catalogue decides which do, and
/// [`check_long_abouts`] keeps the English one in step.
fn own_text(key: &str) -> Option<String> {
    crate::catalog::has(crate::Lang::ZhCn, key).then(|| tr(key, &[]))
}

/// `cmd` with the long help `long`, or none (its summary shows).
fn with_long(cmd: Command, long: Option<clap::builder::StyledStr>) -> Command {
    match long {
        Some(l) => cmd.long_about(l),
        None => cmd.long_about(None),
    }
}

/// Checks that every command of `cmd` with a long help (clap's `long_about`, the root's
/// included) has it under `PREFIX-<path>-long` in both languages, the English copy equal to
/// clap's, as [`check_summaries`] does for the summaries.
pub fn check_long_abouts(cmd: &Command, prefix: &str) -> Result<(), String> {
    fn walk(cmd: &Command, path: &str, out: &mut Vec<(String, String)>) {
        for s in cmd.get_subcommands() {
            let p = if path.is_empty() {
                s.get_name().to_owned()
            } else {
                format!("{path}-{}", s.get_name())
            };
            if let Some(long) = s.get_long_about() {
                out.push((p.clone(), long.to_string()));
            }
            walk(s, &p, out);
        }
    }
    let mut all = Vec::new();
    if let Some(long) = cmd.get_long_about() {
        all.push(("root".to_owned(), long.to_string()));
    }
    walk(cmd, "", &mut all);
    let mut problems = Vec::new();
    for (path, long) in all {
        check_pair(&format!("{prefix}-{path}-long"), &long, &mut problems);
    }
    result(problems)
}

fn tree(cmd: Command, prefix: &str, path: &str) -> Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    let options = t!("help-heading-options");
    let arguments = t!("help-heading-arguments");
    // A long text after the options (an example session) has its own key, else it is left out
    // (it would be English).
    let after = (!path.is_empty())
        .then(|| own_text(&format!("{prefix}-{path}-after")))
        .flatten();
    let cmd = match after {
        Some(after) => cmd.after_help(after.clone()).after_long_help(after),
        None => cmd.after_help(None).after_long_help(None),
    };
    let mut cmd = cmd
        .subcommand_help_heading(t!("help-heading-commands"))
        .help_template(template())
        .disable_help_flag(true)
        .mut_args(|a| localize_arg(a, prefix, path, &options, &arguments))
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help(t!("help-flag-help"))
                .help_heading(options.clone()),
        );
    for name in names {
        let p = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}-{name}")
        };
        let about = tr(&format!("{prefix}-{p}"), &[]);
        let long = long_about(prefix, &p);
        cmd = cmd.mut_subcommand(&name, |s| tree(with_long(s.about(about), long), prefix, &p));
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

/// Every option of `cmd` and of its subcommands that shows a help text, as its catalogue key
/// ([`option_key`]) and clap's English text, for the catalogue tests.
pub fn options(cmd: &Command, prefix: &str, path: &str, out: &mut Vec<(String, String)>) {
    for a in cmd.get_arguments().filter(|a| has_own_help(a)) {
        out.push((
            option_key(prefix, path, a.get_id().as_str()),
            a.get_help().map(|h| h.to_string()).unwrap_or_default(),
        ));
    }
    for s in cmd.get_subcommands() {
        let p = if path.is_empty() {
            s.get_name().to_owned()
        } else {
            format!("{path}-{}", s.get_name())
        };
        options(s, prefix, &p, out);
    }
}

/// Checks one (key, clap's English) pair: the English copy equal to clap's, the Chinese one
/// not plain ASCII.
fn check_pair(key: &str, english: &str, problems: &mut Vec<String>) {
    use crate::{Lang, render_checked};
    match render_checked(Lang::En, key, &[]) {
        Ok(en) if en.trim_end_matches('.') == english.trim_end_matches('.') => {}
        Ok(en) => problems.push(format!("{key}: catalogue says {en:?}, clap {english:?}")),
        Err(_) => problems.push(format!("{key} = {english}")),
    }
    match render_checked(Lang::ZhCn, key, &[]) {
        Ok(zh) if !zh.is_ascii() => {}
        Ok(zh) => problems.push(format!("{key}: the Chinese text is not Chinese: {zh}")),
        Err(e) => problems.push(e),
    }
}

fn result(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Checks that every subcommand of `cmd` (at least `min` of them) has its summary under
/// `PREFIX-<path>` in both languages: the English copy equal to clap's (doc comments), the
/// Chinese one not plain ASCII. Each problem is one line of the error; both binaries' tests
/// call it.
pub fn check_summaries(cmd: &Command, prefix: &str, min: usize) -> Result<(), String> {
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
        check_pair(&format!("{prefix}-{path}"), &about, &mut problems);
    }
    result(problems)
}

/// Checks that every option of every subcommand of `cmd` (at least `min` of them) has its help
/// under [`option_key`] in both languages, as [`check_summaries`] does for the summaries. A
/// missing key is reported as `key = English`, the line the English catalogue needs.
pub fn check_options(cmd: &Command, prefix: &str, min: usize) -> Result<(), String> {
    let mut all = Vec::new();
    options(cmd, prefix, "", &mut all);
    let mut problems = Vec::new();
    if all.len() < min {
        problems.push(format!("{} options, expected at least {min}", all.len()));
    }
    for (key, help) in all {
        check_pair(&key, &help, &mut problems);
    }
    result(problems)
}

/// Ends the process for a failed parse (`clap::Command::try_get_matches`), as
/// [`clap::Error::exit`] does (help and version on stdout with status 0, a usage error on
/// stderr with clap's status 2), the usage error in the process's language.
pub fn exit(e: &clap::Error) -> ! {
    if !is_zh() || !e.use_stderr() {
        e.exit()
    }
    eprint!("{}", error_text(e));
    std::process::exit(e.exit_code())
}

fn context_str(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => Some(v.join(", ")),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A usage error in the process's language: the error's line (`clap-error-<kind>` with the
/// argument, the value and the valid values), a suggestion if clap has one, the usage line and
/// where to read more.
pub fn error_text(e: &clap::Error) -> String {
    let arg = context_str(e, ContextKind::InvalidArg).unwrap_or_default();
    let value = context_str(e, ContextKind::InvalidValue).unwrap_or_default();
    let mut line = match e.kind() {
        ErrorKind::UnknownArgument => t!("clap-error-unknown-argument", arg = arg),
        ErrorKind::InvalidSubcommand => t!(
            "clap-error-invalid-subcommand",
            name = context_str(e, ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        ErrorKind::MissingRequiredArgument => {
            let args = match e.get(ContextKind::InvalidArg) {
                Some(ContextValue::Strings(v)) => v.join(", "),
                _ => arg,
            };
            t!("clap-error-missing-required", args = args)
        }
        ErrorKind::MissingSubcommand => t!(
            "clap-error-missing-subcommand",
            name = context_str(e, ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        ErrorKind::InvalidValue if value.is_empty() => {
            t!("clap-error-value-required", arg = arg)
        }
        ErrorKind::InvalidValue => t!("clap-error-invalid-value", arg = arg, value = value),
        ErrorKind::ValueValidation => {
            let line = t!("clap-error-invalid-value", arg = arg, value = value);
            match std::error::Error::source(e) {
                Some(source) => t!("clap-error-because", error = line, reason = source),
                None => line,
            }
        }
        ErrorKind::ArgumentConflict => match context_str(e, ContextKind::PriorArg) {
            Some(prior) if prior == arg => t!("clap-error-repeated", arg = arg),
            Some(prior) => t!("clap-error-conflict", arg = arg, other = prior),
            None => t!("clap-error-conflict-any", arg = arg),
        },
        ErrorKind::TooManyValues => t!("clap-error-too-many-values", arg = arg, value = value),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => t!(
            "clap-error-wrong-number-of-values",
            arg = arg,
            expected = context_str(e, ContextKind::MinValues)
                .or_else(|| context_str(e, ContextKind::ExpectedNumValues))
                .unwrap_or_default(),
            actual = context_str(e, ContextKind::ActualNumValues).unwrap_or_default()
        ),
        ErrorKind::NoEquals => t!("clap-error-no-equals", arg = arg),
        ErrorKind::InvalidUtf8 => t!("clap-error-invalid-utf8"),
        _ => t!("clap-error-other"),
    };
    if let Some(valid) = context_str(e, ContextKind::ValidValue) {
        line = t!("clap-error-valid-values", error = line, values = valid);
    }
    if let Some(valid) = context_str(e, ContextKind::ValidSubcommand) {
        line = t!("clap-error-valid-subcommands", error = line, values = valid);
    }
    let mut out = t!("clap-error", error = line);
    out.push('\n');
    for (kind, key) in [
        (ContextKind::SuggestedArg, "clap-error-similar-argument"),
        (
            ContextKind::SuggestedSubcommand,
            "clap-error-similar-subcommand",
        ),
        (ContextKind::SuggestedValue, "clap-error-similar-value"),
    ] {
        if let Some(similar) = context_str(e, kind) {
            out.push_str(&format!("\n  {}\n", tr(key, &[("similar", similar)])));
        }
    }
    if let Some(usage) = context_str(e, ContextKind::Usage) {
        let usage = usage.trim();
        let usage = usage.strip_prefix("Usage:").unwrap_or(usage).trim_start();
        out.push_str(&format!("\n{}: {usage}\n", t!("help-heading-usage")));
    }
    out.push_str(&format!("\n{}\n", t!("clap-error-more")));
    out
}
