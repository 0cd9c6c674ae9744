//! The binaries' `main`: process-wide settings first, then the tokio runtime.

use std::future::Future;
use std::process::ExitCode;

/// Runs `command` on a multi-thread tokio runtime, after the process-wide settings that must
/// come before its threads and the first large allocations.
pub fn main<F: Future<Output = ExitCode>>(command: impl FnOnce() -> F) -> ExitCode {
    no_transparent_huge_pages();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(command()),
        Err(error) => {
            eprintln!("cannot start the tokio runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Turns transparent huge pages off for this process, unless `MIMALLOC_ALLOW_THP` says otherwise.
///
/// mimalloc advises the kernel to back its arenas with 2 MiB pages, so an idle service holding
/// a few hundred KiB of live heap showed 16 MiB of huge pages in its RSS (32–34 MiB in all,
/// against 19 MiB without them), and RSS is what a container's memory limit counts. The same
/// runs showed no throughput difference either way (docs/BENCHMARKS.md).
fn no_transparent_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    #[cfg(target_os = "linux")]
    if let Err(error) = nix::sys::prctl::set_thp_disable(true) {
        // Only a kernel without the flag (before 3.15) refuses: the process runs as before.
        eprintln!("transparent huge pages stay on: {error}");
    }
}
