//! `taxdisk --help` in the process's language: [`taxdisk_i18n::help`] with the `help-*`
//! catalogue keys. The other options' texts stay English: see README.

use clap::Command;

/// The global options whose help the catalogue holds (`help-arg-<id>`).
const GLOBAL_ARGS: &[&str] = &["data", "disk", "bureau", "pin", "lang"];

/// `cmd` with its help texts in the process's language.
pub fn localize(cmd: Command) -> Command {
    taxdisk_i18n::help::localize(cmd, "help", GLOBAL_ARGS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use taxdisk_i18n::{Lang, render_checked};

    #[test]
    fn every_subcommand_has_its_summary_in_both_languages() {
        let mut all = Vec::new();
        taxdisk_i18n::help::summaries(&crate::Cli::command(), "", &mut all);
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
