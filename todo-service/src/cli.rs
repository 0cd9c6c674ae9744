//! The command line: serving is the default; `migrate` applies migrations and exits;
//! `healthcheck` asks a running instance whether it is alive (for images without curl).

use clap::{Parser, Subcommand};

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
