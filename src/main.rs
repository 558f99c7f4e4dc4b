//! The `tradesage` binary: hands the command line to [`tradesage::cli`].

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    tradesage::cli::main()
}
