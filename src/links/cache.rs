//! The memory of link following, pure (the caller passes `now`): a bounded cache whose entries expire,
//! and a per-host limit on requests.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

use crate::net::{FetchError, Step};

/// Entries kept at most in each cache, and hosts tracked at most by the limiter.
pub const CAPACITY: usize = 10_000;

/// How long a failed hop is remembered: long enough to spare a dead host a burst of retries, short
/// enough that a host back up is seen soon.
const FAILURE_TTL: Duration = Duration::from_secs(60);

/// Entries that expire; when full, expired entries go first, then the one closest to expiring.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    entries: HashMap<K, (Instant, V)>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        TtlCache {
            entries: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// The value under `key`, unless it has expired by `now`.
    #[must_use]
    pub fn get(&self, key: &K, now: Instant) -> Option<V> {
        self.entries
            .get(key)
            .filter(|(expires, _)| now < *expires)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value` under `key` until `now + ttl`. A zero `ttl` keeps nothing.
    pub fn insert(&mut self, key: K, value: V, ttl: Duration, now: Instant) {
        if ttl.is_zero() {
            return;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            self.entries.retain(|_, (expires, _)| now < *expires);
            if self.entries.len() >= self.capacity {
                let soonest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (expires, _))| *expires)
                    .map(|(k, _)| k.clone());
                if let Some(soonest) = soonest {
                    self.entries.remove(&soonest);
                }
            }
        }
        self.entries.insert(key, (now + ttl, value));
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// How long a hop's answer is worth keeping: a redirect or an answer for `ttl`; a host that could not be
/// reached for a minute at most; never a refusal decided here (no request was made) or a timeout (it
/// depends on the rest of the walk).
#[must_use]
pub fn ttl_of(answer: &Result<Step, FetchError>, ttl: Duration) -> Duration {
    match answer {
        Ok(_) => ttl,
        Err(FetchError::Unreachable | FetchError::HttpStatus) => ttl.min(FAILURE_TTL),
        Err(_) => Duration::ZERO,
    }
}

/// At most `per_minute` requests to one host in any minute (a sliding window), all callers together: the
/// bot never floods a shortener, nor lets links in messages aim it at one host.
#[derive(Debug)]
pub struct HostLimiter {
    per_minute: usize,
    hosts: HashMap<String, VecDeque<Instant>>,
    capacity: usize,
}

const WINDOW: Duration = Duration::from_secs(60);

impl HostLimiter {
    #[must_use]
    pub fn new(per_minute: u32, capacity: usize) -> Self {
        HostLimiter {
            per_minute: per_minute.max(1) as usize,
            hosts: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// Whether one more request to `host` may go now; if so, it is counted.
    pub fn admit(&mut self, host: &str, now: Instant) -> bool {
        if !self.hosts.contains_key(host) && self.hosts.len() >= self.capacity {
            // Forget hosts with nothing in the window; they would admit anyway.
            self.hosts.retain(|_, sent| {
                sent.back()
                    .is_some_and(|last| now.saturating_duration_since(*last) < WINDOW)
            });
            if self.hosts.len() >= self.capacity {
                return false;
            }
        }
        let sent = self.hosts.entry(host.to_string()).or_default();
        while sent
            .front()
            .is_some_and(|first| now.saturating_duration_since(*first) >= WINDOW)
        {
            sent.pop_front();
        }
        if sent.len() >= self.per_minute {
            return false;
        }
        sent.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn entries_expire_after_their_ttl() {
        let t0 = Instant::now();
        let mut cache = TtlCache::new(10);
        cache.insert("a", 1, 10 * S, t0);
        assert_eq!(cache.get(&"a", t0 + 9 * S), Some(1));
        assert_eq!(cache.get(&"a", t0 + 10 * S), None);
        cache.insert("b", 2, Duration::ZERO, t0);
        assert_eq!(cache.get(&"b", t0), None, "a zero ttl keeps nothing");
        cache.insert("a", 3, 10 * S, t0 + 20 * S);
        assert_eq!(cache.get(&"a", t0 + 21 * S), Some(3), "replaced");
    }

    #[test]
    fn a_full_cache_drops_the_expired_then_the_soonest_to_expire() {
        let t0 = Instant::now();
        let mut cache = TtlCache::new(2);
        cache.insert("short", 1, S, t0);
        cache.insert("long", 2, 100 * S, t0);
        cache.insert("new", 3, 50 * S, t0);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&"short", t0), None);
        assert_eq!(cache.get(&"long", t0), Some(2));
        assert_eq!(cache.get(&"new", t0), Some(3));
        cache.insert("newer", 4, 200 * S, t0 + 60 * S);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&"new", t0 + 60 * S), None, "expired first");
        assert_eq!(cache.get(&"long", t0 + 60 * S), Some(2));
    }

    #[test]
    fn answers_are_kept_long_failures_briefly_and_refusals_not_at_all() {
        let ttl = 3600 * S;
        let redirect = Step::Redirect(url::Url::parse("https://x.example/").unwrap());
        assert_eq!(ttl_of(&Ok(redirect), ttl), ttl);
        assert_eq!(ttl_of(&Ok(Step::Answer(StatusCode::OK)), ttl), ttl);
        assert_eq!(ttl_of(&Err(FetchError::Unreachable), ttl), 60 * S);
        assert_eq!(ttl_of(&Err(FetchError::Unreachable), 10 * S), 10 * S);
        for refused in [
            FetchError::Timeout,
            FetchError::ForbiddenAddress,
            FetchError::ForbiddenScheme,
        ] {
            assert_eq!(ttl_of(&Err(refused), ttl), Duration::ZERO);
        }
    }

    #[test]
    fn each_host_gets_its_own_window() {
        let t0 = Instant::now();
        let mut limiter = HostLimiter::new(2, 100);
        assert!(limiter.admit("bit.ly", t0));
        assert!(limiter.admit("bit.ly", t0 + S));
        assert!(!limiter.admit("bit.ly", t0 + 2 * S));
        assert!(limiter.admit("t.co", t0 + 2 * S), "another host");
        assert!(!limiter.admit("bit.ly", t0 + 59 * S));
        assert!(
            limiter.admit("bit.ly", t0 + 60 * S),
            "the first left the window"
        );
        assert!(!limiter.admit("bit.ly", t0 + 60 * S));
    }

    #[test]
    fn the_limiter_tracks_a_bounded_number_of_hosts() {
        let t0 = Instant::now();
        let mut limiter = HostLimiter::new(5, 2);
        assert!(limiter.admit("a", t0));
        assert!(limiter.admit("b", t0));
        assert!(
            !limiter.admit("c", t0),
            "full of busy hosts: refused, not forgotten"
        );
        assert!(limiter.admit("c", t0 + 61 * S), "idle hosts are forgotten");
    }
}
