//! The `huiqi` command line: a thin layer over the library.

/// The command line allocates per row in batch runs (facts, series, output lines); mimalloc's
/// thread-local heaps make that about a tenth of the run instead of a fifth. The library
/// leaves the choice of allocator to whoever embeds it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
