//! The todo-service binary, rebuilt with these tests so they never run a stale one.
use std::process::ExitCode;

use clap::Parser;
use todo_service::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    cli::run(Cli::parse()).await
}
