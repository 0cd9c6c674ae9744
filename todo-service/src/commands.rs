//! What the binary does with its command line; `main.rs` only parses it and calls [`run`].

use std::process::ExitCode;
use std::time::Duration;

use crate::app::{self, App};
use crate::cli::{Cli, Command};
use crate::config::Settings;

/// How long `healthcheck` waits for an answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The whole `main` of the binary: the command line, run by [`service_kit::startup::main`].
pub fn main() -> ExitCode {
    use clap::Parser as _;
    service_kit::startup::main(|| run(Cli::parse()))
}

/// Runs the command line: serves by default, or one of the operator subcommands.
pub async fn run(cli: Cli) -> ExitCode {
    let Cli {
        mut settings,
        command,
    } = cli;
    let _telemetry = service_kit::telemetry::init(settings.log_format, "todo-service");
    let command = command.unwrap_or(Command::Serve);
    let result = match settings.load_secret_files() {
        Err(error) => Err(error),
        Ok(()) => match command {
            Command::Serve => serve(settings).await,
            Command::Migrate => app::migrate(&settings).await.map_err(|e| e.to_string()),
            Command::Healthcheck => {
                service_kit::probe::check(settings.listen_addr, "/healthz", HEALTHCHECK_TIMEOUT)
                    .await
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(?command, %error, "todo-service stopped");
            eprintln!("todo-service: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let app = App::build(settings).await.map_err(|e| e.to_string())?;
    tracing::info!(addr = %app.local_addr(), "todo-service listening");
    app.run_until_stopped(service_kit::serve::shutdown_signal())
        .await;
    tracing::info!("todo-service stopped");
    Ok(())
}
