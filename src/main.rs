//! Thin entry point: parse the command line and hand over to `cli`.

use clap::Parser;

/// mimalloc instead of glibc's malloc: per-thread free lists without glibc's arena fragmentation
/// (measured in BENCHMARKS.md: peak and idle RSS, and CPU per message).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = tradesphere::cli::Cli::parse();
    match tradesphere::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
