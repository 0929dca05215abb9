//! Thin entry point: parse the command line and hand over to `cli`.

use clap::Parser;

/// jemalloc rather than glibc's malloc: under load glibc's arenas spent a fifth of the service's CPU and
/// contended across threads; jemalloc measured 4-15 % less CPU per message, faster acks and replies, and RSS
/// within the targets. Background threads return freed memory when idle.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
