use std::process::ExitCode;

use clap::Parser;
use todo_service::cli::Cli;

// mimalloc: faster than glibc's allocator under this workload (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    todo_service::commands::run(Cli::parse()).await
}
