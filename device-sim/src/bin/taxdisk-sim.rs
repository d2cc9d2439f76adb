//! `taxdisk-sim`: serves a simulated tax disk (disk port + control port) and/or the simulated
//! tax bureau for hardware-in-the-loop benches, and sends control requests to a running one.
//! See `taxdisk-sim serve --help` for the ports, the control messages and an example session.

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;
use taxdisk_device_sim::bureau::{self, Bureau};
use taxdisk_device_sim::serve::args::{BureauArgs, Cli, Command, ControlArgs, ServeArgs};
use taxdisk_device_sim::serve::shutdown::StopSignals;
use taxdisk_device_sim::serve::{ControlClient, Server, hex_encode};
use taxdisk_i18n::t;
use taxdisk_protocol::Timestamp;
use taxdisk_protocol::control::ControlResponse;

fn main() -> ExitCode {
    // The language is needed before clap parses (for --help): `--lang`, else the locale.
    taxdisk_i18n::init(taxdisk_i18n::Lang::from_args(std::env::args()));
    let matches = taxdisk_i18n::help::localize(Cli::command(), "sim-help", &["lang"]).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
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
        .map_err(|e| format!("stdout: {e}"))
}

fn serve(a: ServeArgs) -> Result<(), String> {
    let cfg = a.to_config(Timestamp::now())?;
    // Installed first, so a signal during start-up is not lost.
    let signals = StopSignals::install().map_err(|e| format!("signal handlers: {e}"))?;
    let server = Server::start_several(cfg, a.more_images()).map_err(|e| e.to_string())?;
    if a.print_ports {
        print_json(server.ports())?;
    }
    let sig = signals.wait();
    tracing::info!(signal = %sig, "stopping");
    server.shutdown().map_err(|e| e.to_string())?;
    tracing::info!("stopped; flash image synced");
    Ok(())
}

fn run_bureau(a: BureauArgs) -> Result<(), String> {
    let signals = StopSignals::install().map_err(|e| format!("signal handlers: {e}"))?;
    let store =
        a.db.as_deref()
            .map_or(bureau::db::Store::Memory, bureau::db::Store::from_arg);
    let b = Bureau::open_store(&store, a.seed).map_err(|e| format!("{store}: {e}"))?;
    let key = hex_encode(&b.public_key().to_sec1());
    let admin = bureau::access::admin_token_or_new(a.admin_token_file.as_deref())
        .map_err(|e| format!("administrator token: {e}"))?;
    let server = bureau::spawn_with_admin(b, a.listen, admin).map_err(|e| e.to_string())?;
    tracing::info!(url = %server.url(), db = %store, "bureau serving");
    if a.print_ports {
        print_json(&serde_json::json!({ "bureau": server.url(), "bureau_key": key }))?;
    }
    let sig = signals.wait();
    tracing::info!(signal = %sig, "stopping");
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
}
