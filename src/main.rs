//! The `tradesage` binary: hands the command line to [`tradesage::cli`].

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc hands freed pages back to the OS within about a second (background purging), so
/// RSS follows the live sessions down after they passivate instead of staying at its peak.
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:1000\0";

fn main() -> std::process::ExitCode {
    tradesage::cli::main()
}
