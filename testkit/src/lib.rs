//! Test support shared by the unit tests, `tests/` and `benches/`: a throwaway PostgreSQL cluster, the
//! database backends a test runs on, fakes of Zalo's and OpenAI's HTTP APIs, signed webhook events,
//! readers of what the service left behind (its tables, its `/metrics`), and generated images: QR sets
//! (`images`), phone screenshots (`screens`) and hostile pictures (`pictures`).
//!
//! It speaks only the wire formats (HTTP, JSON, SQL), as the real Zalo and OpenAI do, so it does not
//! depend on `tradesphere`: the library's unit tests can use it without a dependency cycle.

mod backend;
pub mod images;
pub mod ledger;
pub mod metrics;
pub mod openai;
mod pg;
pub mod pictures;
pub mod screens;
pub mod zalo;

use std::time::Duration;

pub use backend::Backend;
pub use pg::PgCluster;

/// The admin bearer token a test service is given.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A size knob: the environment variable `name` when set (longer local runs), else the CI default.
pub fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Polls `check` until it yields a value. Bounded (20 s) so a broken pipeline fails instead of hanging;
/// this is a wait for an asynchronous effect, not a timing assertion.
pub async fn wait_until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
