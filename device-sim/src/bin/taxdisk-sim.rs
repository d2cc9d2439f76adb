//! `taxdisk-sim`: serves a simulated tax disk (disk port + control port) and/or the simulated
//! tax bureau for hardware-in-the-loop benches, and sends control requests to a running one.
//! See `taxdisk-sim serve --help` for the ports, the control messages and an example session.

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;
use taxdisk_device_sim::bureau::{self, Bureau};
use taxdisk_device_sim::serve::args::{BureauArgs, Cli, Command, ControlArgs, ServeArgs};
use taxdisk_device_sim::serve::shutdown::StopSignals;
use taxdisk_device_sim::serve::{ControlClient, Server};
use taxdisk_i18n::t;
use taxdisk_protocol::Timestamp;
use taxdisk_protocol::control::ControlResponse;

fn main() -> ExitCode {
    // The language is needed before clap parses (for --help): `--lang`, else the locale.
    taxdisk_i18n::init(taxdisk_i18n::Lang::from_args(std::env::args()));
    // A usage error is printed in the process's language with clap's exit status (2).
    let cli = match taxdisk_i18n::help::localize(Cli::command(), "sim-help")
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => taxdisk_i18n::help::exit(&e),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // The usbip crate logs every USB/IP connection at info.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,usbip=warn")),
        )
        .init();
    let result = match cli.command {
        Command::Serve(a) => serve(a),
        Command::Bureau(a) => run_bureau(a),
        Command::Control(a) => control(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", t!("sim-error", error = e));
            ExitCode::FAILURE
        }
    }
}

/// Prints one JSON line on stdout and flushes it (a test or bench reads it from a pipe).
fn print_json(v: &impl serde::Serialize) -> Result<(), String> {
    use std::io::Write;
    let line = serde_json::to_string(v).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| t!("sim-error-in", what = "stdout", error = e))
}

fn serve(a: ServeArgs) -> Result<(), String> {
    let cfg = a.to_config(Timestamp::now())?;
    // Installed first, so a signal during start-up is not lost.
    let signals = StopSignals::install()
        .map_err(|e| t!("sim-error-in", what = t!("sim-signals"), error = e))?;
    let server = Server::start_several(cfg, a.more_images()).map_err(|e| e.to_string())?;
    if a.print_ports {
        print_json(server.ports())?;
    }
    let sig = signals.wait();
    tracing::info!(signal = %sig, "{}", taxdisk_i18n::t!("log-stopping"));
    server.shutdown().map_err(|e| e.to_string())?;
    tracing::info!("{}", taxdisk_i18n::t!("log-stopped"));
    Ok(())
}

fn run_bureau(a: BureauArgs) -> Result<(), String> {
    let signals = StopSignals::install()
        .map_err(|e| t!("sim-error-in", what = t!("sim-signals"), error = e))?;
    let store =
        a.db.as_deref()
            .map_or(bureau::db::Store::Memory, bureau::db::Store::from_arg);
    let b = Bureau::open_store(&store, a.seed).map_err(|e| format!("{store}: {e}"))?;
    let key = hex::encode(b.public_key().to_sec1());
    let admin = bureau::access::admin_token_or_new(a.admin_token_file.as_deref())
        .map_err(|e| t!("sim-error-in", what = t!("sim-admin-token"), error = e))?;
    let server = bureau::spawn_with_admin(b, a.listen, admin).map_err(|e| e.to_string())?;
    tracing::info!(url = %server.url(), db = %store, "{}", taxdisk_i18n::t!("log-bureau-serving"));
    if a.print_ports {
        print_json(&serde_json::json!({ "bureau": server.url(), "bureau_key": key }))?;
    }
    let sig = signals.wait();
    tracing::info!(signal = %sig, "{}", taxdisk_i18n::t!("log-stopping"));
    server.shutdown();
    Ok(())
}

fn control(a: ControlArgs) -> Result<(), String> {
    let req = a.request.to_request()?;
    let mut client = ControlClient::connect(a.addr.as_str()).map_err(|e| e.to_string())?;
    let resp = client.send(req).map_err(|e| e.to_string())?;
    print_json(&resp)?;
    match resp {
        ControlResponse::Error(m) => Err(t!("sim-control-refused", message = m)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_its_summary_in_both_languages() {
        taxdisk_i18n::help::check_summaries(&Cli::command(), "sim-help", 15)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn every_option_has_its_help_in_both_languages() {
        taxdisk_i18n::help::check_options(&Cli::command(), "sim-help", 25)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn every_long_help_is_in_both_languages() {
        taxdisk_i18n::help::check_long_abouts(&Cli::command(), "sim-help")
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn the_example_session_in_the_catalogue_is_the_one_of_serve() {
        let cmd = Cli::command();
        let serve = cmd
            .find_subcommand("serve")
            .and_then(|s| s.get_after_long_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        let en = taxdisk_i18n::render_checked(taxdisk_i18n::Lang::En, "sim-help-serve-after", &[]);
        assert_eq!(en.as_deref(), Ok(serve.as_str()));
    }

    #[test]
    fn chinese_help_and_usage_errors_of_every_subcommand() {
        taxdisk_i18n::set(taxdisk_i18n::Lang::ZhCn);
        let mut cmd = taxdisk_i18n::help::localize(Cli::command(), "sim-help");
        cmd.build();
        let mut helps = Vec::new();
        // clap's `help` subcommand has no options (and `help --help` is a usage error).
        for s in cmd.get_subcommands_mut().filter(|s| s.get_name() != "help") {
            helps.push(s.render_long_help().to_string());
        }
        let root = cmd.render_long_help().to_string();
        let serve = cmd
            .find_subcommand_mut("serve")
            .map(|s| s.render_long_help().to_string())
            .unwrap_or_default();
        let err = taxdisk_i18n::help::localize(Cli::command(), "sim-help")
            .try_get_matches_from(["taxdisk-sim", "serve", "--bogus"])
            .map(|_| ())
            .expect_err("an unknown option");
        let text = taxdisk_i18n::help::error_text(&err);
        taxdisk_i18n::set(taxdisk_i18n::Lang::En);
        for help in helps {
            assert!(help.contains("用法: ") && help.contains("选项:"), "{help}");
            assert!(
                !help.contains("Usage") && !help.contains("Options"),
                "{help}"
            );
            assert!(
                !help.contains("[default") && !help.contains("[possible"),
                "{help}"
            );
        }
        // The long helps are Chinese too, the serve ports' layout kept.
        assert!(root.contains("硬件在环测试台"), "{root}");
        for line in [
            "每个金税盘打开两个端口",
            "\n  控制端口（--control",
            "FrameFault{nth, action}",
        ] {
            assert!(serve.contains(line), "{line}: {serve}");
        }
        assert!(!serve.contains("Two ports are opened"), "{serve}");
        assert!(
            text.contains("'--bogus'") && text.contains("用法: "),
            "{text}"
        );
        assert!(
            !text.contains("Usage") && !text.contains("unexpected"),
            "{text}"
        );
    }
}
