//! `taxdisk --help` and its usage errors in the process's language: [`taxdisk_i18n::help`]
//! with the `help-*` catalogue keys (`help-<path>-arg-<id>` for each subcommand's options).

use clap::Command;

/// `cmd` with its help texts in the process's language.
pub fn localize(cmd: Command) -> Command {
    taxdisk_i18n::help::localize(cmd, "help")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use taxdisk_i18n::Lang;

    /// The language is the process's: the tests that set it take turns.
    static LANG: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn every_subcommand_has_its_summary_in_both_languages() {
        taxdisk_i18n::help::check_summaries(&crate::Cli::command(), "help", 50)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn every_option_has_its_help_in_both_languages() {
        taxdisk_i18n::help::check_options(&crate::Cli::command(), "help", 120)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn chinese_help_of_every_subcommand_has_no_clap_english() {
        let _turn = LANG.lock().unwrap_or_else(|p| p.into_inner());
        taxdisk_i18n::set(Lang::ZhCn);
        let mut cmd = localize(crate::Cli::command());
        cmd.build();
        let mut helps = Vec::new();
        fn walk(cmd: &mut clap::Command, out: &mut Vec<String>) {
            out.push(cmd.render_long_help().to_string());
            // clap's `help` subcommand has no options; its texts are checked by hand.
            for s in cmd.get_subcommands_mut().filter(|s| s.get_name() != "help") {
                walk(s, out);
            }
        }
        walk(&mut cmd, &mut helps);
        taxdisk_i18n::set(Lang::En);
        assert!(helps.len() > 50);
        for help in helps {
            assert!(help.contains("用法: ") && help.contains("选项:"), "{help}");
            for english in [
                "Usage",
                "Options",
                "Arguments",
                "[default",
                "[env",
                "[possible",
            ] {
                assert!(!help.contains(english), "{english}: {help}");
            }
        }
    }

    #[test]
    fn chinese_help_builds() {
        let _turn = LANG.lock().unwrap_or_else(|p| p.into_inner());
        taxdisk_i18n::set(Lang::ZhCn);
        let mut cmd = localize(crate::Cli::command());
        let help = cmd.render_help().to_string();
        taxdisk_i18n::set(Lang::En);
        assert!(help.contains("命令:"), "{help}");
        assert!(help.contains("发票填开"), "{help}");
        assert!(help.contains("选项:"), "{help}");
    }
}
