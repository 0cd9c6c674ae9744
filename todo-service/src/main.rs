use std::process::ExitCode;

// mimalloc: faster than glibc's allocator under this workload (docs/BENCHMARKS.md); its huge
// pages are turned off in `commands::main`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    todo_service::commands::main()
}
