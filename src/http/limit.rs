//! The per-caller limit on the admin API: a governor keyed limiter over the peer IP.
//!
//! - **Key.** The TCP peer's IP, never a forwarded-for header (which any caller can forge). IPv4-mapped IPv6
//!   counts as IPv4, and other IPv6 addresses count by their /64, because one host usually owns a whole /64
//!   and could otherwise rotate through it. Behind a reverse proxy every caller has the proxy's address, so the
//!   limit becomes one shared budget: one reason to serve the admin API on `server.admin_listen`, which the
//!   proxy does not forward to.
//! - **Memory.** Every new key adds an entry. Keys whose state is indistinguishable from a fresh one (no
//!   request within the last burst window) are dropped every [`PRUNE_EVERY`] checks, and at once when more than
//!   [`MAX_TRACKED`] keys are held, so the map holds at most the callers active in the last burst window.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Prune the key map every this many checks.
const PRUNE_EVERY: u64 = 256;
/// Prune at once above this many tracked callers.
const MAX_TRACKED: usize = 4096;
/// At most one log line about refused callers per this many seconds (a flood must not flood the log).
const LOG_EVERY_SECS: u64 = 10;

pub struct CallerLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    checks: AtomicU64,
    started: std::time::Instant,
    /// Seconds since `started` of the last log line, plus one (0: never logged).
    last_log: AtomicU64,
}

impl std::fmt::Debug for CallerLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerLimiter")
            .field("tracked", &self.limiter.len())
            .finish()
    }
}

impl CallerLimiter {
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
            started: std::time::Instant::now(),
            last_log: AtomicU64::new(0),
        }
    }

    /// True at most once per [`LOG_EVERY_SECS`]: whether a refusal should be logged.
    pub fn should_log(&self) -> bool {
        let now = self.started.elapsed().as_secs() + 1;
        let last = self.last_log.load(Ordering::Relaxed);
        (last == 0 || now >= last + LOG_EVERY_SECS)
            && self
                .last_log
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Counts one request from `peer`: `Err(wait)` when it is over its limit, with the time until its next
    /// request would be allowed. A missing peer address (not a TCP connection) shares one key.
    pub fn check(&self, peer: Option<SocketAddr>) -> Result<(), Duration> {
        let checks = self.checks.fetch_add(1, Ordering::Relaxed);
        if checks % PRUNE_EVERY == PRUNE_EVERY - 1 || self.limiter.len() > MAX_TRACKED {
            self.prune();
        }
        self.limiter
            .check_key(&caller_key(peer))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Drops the callers whose bucket is full again.
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Callers currently tracked.
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

/// The key a peer is counted under (see the module comment).
fn caller_key(peer: Option<SocketAddr>) -> IpAddr {
    match peer.map(|p| p.ip()) {
        None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Some(IpAddr::V4(v4)) => IpAddr::V4(v4),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 40000))
    }

    #[test]
    fn each_caller_has_its_own_burst_then_waits() {
        let limiter = CallerLimiter::new(NonZeroU32::new(60).unwrap(), NonZeroU32::new(3).unwrap());
        for _ in 0..3 {
            assert!(limiter.check(peer("10.0.0.1")).is_ok());
        }
        let wait = limiter.check(peer("10.0.0.1")).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(limiter.check(peer("10.0.0.2")).is_ok(), "another caller");
    }

    #[test]
    fn ipv6_callers_count_by_prefix_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            caller_key(peer("2001:db8:1:2:aaaa::1")),
            caller_key(peer("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            caller_key(peer("2001:db8:1:2::1")),
            caller_key(peer("2001:db8:1:3::1"))
        );
        assert_eq!(
            caller_key(peer("::ffff:10.0.0.1")),
            caller_key(peer("10.0.0.1"))
        );
        assert_eq!(caller_key(None), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }

    #[test]
    fn refusals_are_logged_at_most_once_per_period() {
        let limiter = CallerLimiter::new(NonZeroU32::new(1).unwrap(), NonZeroU32::new(1).unwrap());
        assert!(limiter.should_log());
        assert!(!limiter.should_log());
    }

    #[test]
    fn idle_callers_are_pruned() {
        let limiter = CallerLimiter::new(
            NonZeroU32::new(60_000).unwrap(),
            NonZeroU32::new(1).unwrap(),
        );
        for i in 0..100u8 {
            let _ = limiter.check(peer(&format!("10.0.1.{i}")));
        }
        assert_eq!(limiter.tracked(), 100);
        // One request per caller at 1000/s refills within a millisecond.
        std::thread::sleep(Duration::from_millis(20));
        limiter.prune();
        assert_eq!(limiter.tracked(), 0);
    }
}
