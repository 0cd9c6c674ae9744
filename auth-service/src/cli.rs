//! The command line: serving is the default; the rest are operator tasks.

use clap::{Parser, Subcommand};

use shared_claims::Role;

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "auth-service",
    version,
    about = "Accounts, sessions and RS256 tokens; publishes its keys as a JWKS."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// User accounts.
    Users {
        #[command(subcommand)]
        action: UsersCommand,
    },
    /// Exit 0 if the service on AUTH_LISTEN_ADDR answers /healthz (for container health checks).
    Healthcheck,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Publish a new key; it signs after AUTH_SIGNING_KEY_PRE_PUBLISH_SECS.
    Rotate,
    /// Print every key: kid, state, created, activates, retired.
    List,
    /// Withdraw a key at once (suspected compromise): it leaves the JWKS and every token it
    /// signed stops verifying. Revoking the active key needs a published next key, which then
    /// signs at once.
    Revoke { kid: String },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user; the password comes from stdin (--password-stdin) or AUTH_USER_PASSWORD.
    Create {
        #[arg(long)]
        email: String,
        /// `user` or `admin`.
        #[arg(long, default_value = "user")]
        role: Role,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
}
