use std::process::ExitCode;

use auth_service::cli::Cli;
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    auth_service::commands::run(Cli::parse()).await
}
