//! `--help` in the process's language: in Chinese each subcommand's summary comes from the
//! catalogue (`help-<path>`, path the subcommand names joined by `-`), and so do clap's
//! headings, the help and version flags and the global options. English keeps clap's text from
//! the doc comments (the catalogue's English copy is checked against it by a test). The other
//! options' texts stay English: see README.

use clap::{Arg, ArgAction, Command};
use taxdisk_i18n::{is_zh, t, tr};

/// The global options whose help the catalogue holds (`help-arg-<id>`).
const GLOBAL_ARGS: &[&str] = &["data", "disk", "bureau", "pin", "lang"];

/// `cmd` with its help texts in the process's language.
pub fn localize(cmd: Command) -> Command {
    if !is_zh() {
        return cmd;
    }
    let mut cmd = cmd.about(t!("help-root")).disable_version_flag(true).arg(
        Arg::new("version")
            .short('V')
            .long("version")
            .action(ArgAction::Version)
            .help(t!("help-flag-version")),
    );
    for id in GLOBAL_ARGS {
        cmd = cmd.mut_arg(*id, |a| a.help(tr(&format!("help-arg-{id}"), &[])));
    }
    tree(cmd, "")
}

fn tree(cmd: Command, path: &str) -> Command {
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
        let about = tr(&format!("help-{p}"), &[]);
        cmd = cmd.mut_subcommand(&name, |s| {
            tree(s.about(about.clone()).long_about(about), &p)
        });
    }
    cmd
}

/// Every subcommand path of `cmd` with clap's English summary, for the catalogue test.
#[cfg(test)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use taxdisk_i18n::{Lang, render_checked};

    #[test]
    fn every_subcommand_has_its_summary_in_both_languages() {
        let mut all = Vec::new();
        summaries(&crate::Cli::command(), "", &mut all);
        assert!(all.len() > 50, "{} subcommands", all.len());
        for (path, about) in all {
            let key = format!("help-{path}");
            let en = render_checked(Lang::En, &key, &[]).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                en.trim_end_matches('.'),
                about.trim_end_matches('.'),
                "{key}"
            );
            let zh = render_checked(Lang::ZhCn, &key, &[]).unwrap_or_else(|e| panic!("{e}"));
            assert!(!zh.is_ascii(), "{key}: {zh}");
        }
    }

    #[test]
    fn chinese_help_builds() {
        taxdisk_i18n::set(Lang::ZhCn);
        let mut cmd = localize(crate::Cli::command());
        let help = cmd.render_help().to_string();
        taxdisk_i18n::set(Lang::En);
        assert!(help.contains("命令:"), "{help}");
        assert!(help.contains("发票填开"), "{help}");
        assert!(help.contains("选项:"), "{help}");
    }
}
