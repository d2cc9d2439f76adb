//! `taxdisk --help` in the process's language: [`taxdisk_i18n::help`] with the `help-*`
//! catalogue keys. The other options' texts stay English: see README.

use clap::Command;

/// The global options whose help the catalogue holds (`help-arg-<id>`).
const GLOBAL_ARGS: &[&str] = &["data", "disk", "bureau", "bureau_db", "pin", "lang"];

/// `cmd` with its help texts in the process's language.
pub fn localize(cmd: Command) -> Command {
    taxdisk_i18n::help::localize(cmd, "help", GLOBAL_ARGS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use taxdisk_i18n::Lang;

    #[test]
    fn every_subcommand_has_its_summary_in_both_languages() {
        taxdisk_i18n::help::check_summaries(&crate::Cli::command(), "help", 50)
            .unwrap_or_else(|e| panic!("{e}"));
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
