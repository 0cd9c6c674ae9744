//! The todo-service binary, rebuilt with these tests so they never run a stale one.
use std::process::ExitCode;

// mimalloc: faster than glibc's allocator under this workload (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    todo_service::commands::main()
}
