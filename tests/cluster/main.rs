//! Several replicas of the real `tradesphere` binary on one private PostgreSQL: each replica has a Zalo
//! fake and a model fake of its own, so every send and every model call is attributed to the replica that
//! made it. A load driver plays the load balancer (round-robin, a 503 or a dead replica retried on the
//! next one, some deliveries duplicated to another replica), faults are injected (kill -9, SIGSTOP past
//! the lease, sessions terminated, PostgreSQL restarted, replicas joining and leaving), and once the system
//! is quiet the same counts are checked after every scenario (see `verdict`).
//!
//! CI runs small sizes; `scripts/cluster.sh` runs the same scenarios longer. The scenarios run one at a
//! time (each already starts several processes on a small machine, and leases are timed).

// Shared with the system tests; this target uses the `Service` helper and not the single-process driver.
#[allow(dead_code)]
#[path = "../system/service.rs"]
mod service;

mod harness;
mod load;
mod verdict;

mod behaviour;
mod faults;
mod membership;

/// One scenario at a time: each starts a PostgreSQL and several replicas whose leases are timed, on a
/// machine that may have two cores.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// `n` fresh Zalo user ids.
pub fn users(n: usize) -> Vec<String> {
    (0..n).map(|_| testkit::zalo::user_id()).collect()
}

pub const fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}
