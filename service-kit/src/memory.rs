//! Process-wide memory settings, applied first thing in `main`.

/// Turns transparent huge pages off for this process, unless `MIMALLOC_ALLOW_THP` says otherwise.
///
/// mimalloc advises the kernel to back its arenas with 2 MiB pages, so an idle service holding
/// a few hundred KiB of live heap showed 16 MiB of huge pages in its RSS (32–34 MiB in all,
/// against 19 MiB without them), and RSS is what a container's memory limit counts. The same
/// runs showed no throughput difference either way (docs/BENCHMARKS.md).
pub fn no_transparent_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    #[cfg(target_os = "linux")]
    if let Err(error) = nix::sys::prctl::set_thp_disable(true) {
        // Only a kernel without the flag (before 3.15) refuses: the process runs as before.
        eprintln!("transparent huge pages stay on: {error}");
    }
}
