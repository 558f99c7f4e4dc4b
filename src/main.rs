//! The `tradesage` binary: hands the command line to [`tradesage::cli`].

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc hands freed pages back to the OS within about a second (background purging), so
/// RSS follows the live sessions down after they passivate instead of staying at its peak.
/// Slabs of 16 pages for the small size classes: each slab costs a record that jemalloc never
/// frees, and with the default 1–7-page slabs 100k sessions left 20 MB of such records
/// behind (BENCHMARKS.md, "Memory"). Idle workers also flush their caches (src/allocator.rs).
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: &[u8] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:1000,slab_sizes:1-4096:16\0";

fn main() -> std::process::ExitCode {
    tradesage::cli::main()
}
