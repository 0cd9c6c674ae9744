use std::process::ExitCode;

use auth_service::cli::Cli;
use clap::Parser;

// mimalloc: faster than glibc's allocator under this workload (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    auth_service::commands::run(Cli::parse()).await
}
