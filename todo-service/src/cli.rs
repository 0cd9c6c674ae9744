//! The command line: no subcommand (or `serve`) serves; `migrate` applies migrations and exits;
//! `healthcheck` asks a running instance whether it is alive (for images without curl).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::app::{self, App};
use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "todo-service",
    version,
    about = "Todos per user, behind access tokens verified against the auth service's JWKS"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve the API (what running with no subcommand does).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Exit 0 if the instance listening on TODO_LISTEN_ADDR answers /healthz, else 1.
    Healthcheck,
}

/// How long `healthcheck` waits for an answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn run(cli: Cli) -> ExitCode {
    let Cli { settings, command } = cli;
    service_kit::telemetry::init(settings.log_format);
    let command = command.unwrap_or(Command::Serve);
    let result = match command {
        Command::Serve => serve(settings).await,
        Command::Migrate => app::migrate(&settings).await.map_err(|e| e.to_string()),
        Command::Healthcheck => {
            service_kit::probe::check(settings.listen_addr, "/healthz", HEALTHCHECK_TIMEOUT).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(?command, %error, "todo-service failed");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_subcommand_serves_and_settings_go_before_or_after_one() {
        let cli = Cli::try_parse_from(["todo-service"]).unwrap();
        assert_eq!(cli.command, None);
        let cli = Cli::try_parse_from([
            "todo-service",
            "migrate",
            "--database-url",
            "sqlite::memory:",
        ])
        .unwrap();
        assert_eq!(cli.command, Some(Command::Migrate));
        let cli = Cli::try_parse_from(["todo-service", "--leeway-secs", "5", "serve"]).unwrap();
        assert_eq!(cli.command, Some(Command::Serve));
        assert_eq!(cli.settings.leeway_secs, 5);
        assert!(Cli::try_parse_from(["todo-service", "healthcheck"]).is_ok());
        assert!(Cli::try_parse_from(["todo-service", "frobnicate"]).is_err());
    }
}
