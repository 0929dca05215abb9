//! A circuit breaker for language model calls.
//!
//! When the endpoint keeps failing, callers stop calling it for a cooldown and answer from templates
//! instead; after the cooldown a single probe call decides whether to resume. Pure state machine: the
//! caller passes `now` everywhere, so behaviour is deterministic and testable.

use std::time::Instant;

use crate::config::BreakerSettings;

/// What kind of call the caller may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Closed: call normally, retries allowed.
    Normal,
    /// Half-open: exactly one trial call, no retries inside it.
    Probe,
}

/// The breaker's state as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// Internal phase; "half-open without a probe" is `Open` with an elapsed deadline, so it needs no
/// timer to move it along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed {
        failures: u32,
    },
    /// `until == None` means the deadline overflowed `Instant`: effectively open forever.
    Open {
        until: Option<Instant>,
    },
    /// A probe has been handed out and its result is pending.
    Probing,
}

/// A consecutive-failure circuit breaker. Not thread-safe by itself; wrap it in a mutex to share.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    settings: BreakerSettings,
    phase: Phase,
}

impl CircuitBreaker {
    pub fn new(settings: BreakerSettings) -> Self {
        Self {
            settings,
            phase: Phase::Closed { failures: 0 },
        }
    }

    /// Some(permit) when a call may be made now; None while open (answer from templates) or while a
    /// probe is in flight.
    pub fn try_acquire(&mut self, now: Instant) -> Option<Permit> {
        match self.phase {
            Phase::Closed { .. } => Some(Permit::Normal),
            Phase::Open { until } if cooldown_elapsed(until, now) => {
                // Only the first caller after the cooldown gets to probe; the rest wait for its verdict.
                self.phase = Phase::Probing;
                Some(Permit::Probe)
            }
            Phase::Open { .. } | Phase::Probing => None,
        }
    }

    /// A call succeeded: closes the breaker after a probe, resets the failure count while closed.
    ///
    /// A success arriving while open is a late result of a call started before opening; it is
    /// ignored so a stale success cannot cut the cooldown short. Results carry no identity, so any
    /// result arriving while a probe is in flight is taken as the probe's result.
    pub fn on_success(&mut self, _now: Instant) {
        match self.phase {
            Phase::Closed { .. } | Phase::Probing => self.phase = Phase::Closed { failures: 0 },
            Phase::Open { .. } => {}
        }
    }

    /// A call failed: opens the breaker once the threshold of consecutive failures is reached while
    /// closed, and re-opens it for a full cooldown when the probe fails.
    ///
    /// A failure arriving while open is a late result of a call started before opening; it is
    /// ignored so it does not extend the cooldown.
    pub fn on_failure(&mut self, now: Instant) {
        match self.phase {
            Phase::Closed { failures } => {
                let failures = failures.saturating_add(1);
                // A threshold of 0 would mean "open without any failure"; treat it as 1.
                if failures >= self.settings.failure_threshold.max(1) {
                    self.open(now);
                } else {
                    self.phase = Phase::Closed { failures };
                }
            }
            Phase::Probing => self.open(now),
            Phase::Open { .. } => {}
        }
    }

    /// The state at `now`; an open breaker whose cooldown has elapsed reports `HalfOpen`.
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.phase {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { until } if cooldown_elapsed(until, now) => BreakerState::HalfOpen,
            Phase::Open { .. } => BreakerState::Open,
            Phase::Probing => BreakerState::HalfOpen,
        }
    }

    fn open(&mut self, now: Instant) {
        self.phase = Phase::Open {
            until: now.checked_add(self.settings.cooldown),
        };
    }
}

fn cooldown_elapsed(until: Option<Instant>, now: Instant) -> bool {
    until.is_some_and(|until| now >= until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const COOLDOWN: Duration = Duration::from_secs(30);

    fn breaker(threshold: u32) -> CircuitBreaker {
        CircuitBreaker::new(BreakerSettings {
            failure_threshold: threshold,
            cooldown: COOLDOWN,
        })
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// Opens a threshold-3 breaker at `t0` and returns it.
    fn opened_at(t0: Instant) -> CircuitBreaker {
        let mut b = breaker(3);
        for _ in 0..3 {
            assert_eq!(b.try_acquire(t0), Some(Permit::Normal));
            b.on_failure(t0);
        }
        assert_eq!(b.state(t0), BreakerState::Open);
        b
    }

    #[test]
    fn starts_closed_and_grants_normal_permits() {
        let t0 = Instant::now();
        let mut b = breaker(3);
        assert_eq!(b.state(t0), BreakerState::Closed);
        for _ in 0..10 {
            assert_eq!(b.try_acquire(t0), Some(Permit::Normal));
        }
        assert_eq!(b.state(t0), BreakerState::Closed);
    }

    #[test]
    fn opens_exactly_at_threshold() {
        let t0 = Instant::now();
        let mut b = breaker(3);
        b.on_failure(t0);
        b.on_failure(t0);
        assert_eq!(b.state(t0), BreakerState::Closed);
        assert_eq!(b.try_acquire(t0), Some(Permit::Normal));
        b.on_failure(t0);
        assert_eq!(b.state(t0), BreakerState::Open);
        assert_eq!(b.try_acquire(t0), None);
    }

    #[test]
    fn success_resets_consecutive_failures() {
        let t0 = Instant::now();
        let mut b = breaker(3);
        b.on_failure(t0);
        b.on_failure(t0);
        b.on_success(t0);
        b.on_failure(t0);
        b.on_failure(t0);
        assert_eq!(b.state(t0), BreakerState::Closed);
        b.on_failure(t0);
        assert_eq!(b.state(t0), BreakerState::Open);
    }

    #[test]
    fn threshold_zero_behaves_like_one() {
        let t0 = Instant::now();
        let mut b = breaker(0);
        assert_eq!(b.state(t0), BreakerState::Closed);
        assert_eq!(b.try_acquire(t0), Some(Permit::Normal));
        b.on_success(t0);
        assert_eq!(b.state(t0), BreakerState::Closed);
        b.on_failure(t0);
        assert_eq!(b.state(t0), BreakerState::Open);

        let mut one = breaker(1);
        one.on_failure(t0);
        assert_eq!(one.state(t0), BreakerState::Open);
    }

    #[test]
    fn open_rejects_until_cooldown_elapses() {
        let t0 = Instant::now();
        let mut b = opened_at(t0);
        let almost = t0 + COOLDOWN - Duration::from_millis(1);
        assert_eq!(b.state(almost), BreakerState::Open);
        assert_eq!(b.try_acquire(almost), None);
        assert_eq!(b.try_acquire(t0 + secs(10)), None);
        // The boundary itself counts as elapsed.
        assert_eq!(b.state(t0 + COOLDOWN), BreakerState::HalfOpen);
    }

    #[test]
    fn state_does_not_consume_the_probe() {
        let t0 = Instant::now();
        let mut b = opened_at(t0);
        let later = t0 + COOLDOWN;
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        assert_eq!(b.try_acquire(later), Some(Permit::Probe));
    }

    #[test]
    fn cooldown_allows_a_single_probe() {
        let t0 = Instant::now();
        let mut b = opened_at(t0);
        let later = t0 + COOLDOWN + secs(5);
        assert_eq!(b.try_acquire(later), Some(Permit::Probe));
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        for i in 0..5 {
            assert_eq!(b.try_acquire(later + secs(i)), None);
        }
        // Still exactly one probe even long after: it is in flight until its result arrives.
        assert_eq!(b.try_acquire(later + secs(3600)), None);
        assert_eq!(b.state(later + secs(3600)), BreakerState::HalfOpen);
    }

    #[test]
    fn probe_success_closes_with_zero_failures() {
        let t0 = Instant::now();
        let mut b = opened_at(t0);
        let t1 = t0 + COOLDOWN;
        assert_eq!(b.try_acquire(t1), Some(Permit::Probe));
        b.on_success(t1);
        assert_eq!(b.state(t1), BreakerState::Closed);
        assert_eq!(b.try_acquire(t1), Some(Permit::Normal));
        assert_eq!(b.try_acquire(t1), Some(Permit::Normal));
        // The count restarted: it takes a full threshold again to open.
        b.on_failure(t1);
        b.on_failure(t1);
        assert_eq!(b.state(t1), BreakerState::Closed);
        b.on_failure(t1);
        assert_eq!(b.state(t1), BreakerState::Open);
    }

    #[test]
    fn probe_failure_reopens_for_a_full_cooldown() {
        let t0 = Instant::now();
        let mut b = opened_at(t0);
        let t1 = t0 + COOLDOWN + secs(7);
        assert_eq!(b.try_acquire(t1), Some(Permit::Probe));
        let t2 = t1 + secs(2); // the probe took a while
        b.on_failure(t2);
        assert_eq!(b.state(t2), BreakerState::Open);
        assert_eq!(b.try_acquire(t2), None);
        // The new cooldown counts from the probe's failure, not from the first opening.
        let just_before = t2 + COOLDOWN - Duration::from_millis(1);
        assert_eq!(b.state(just_before), BreakerState::Open);
        assert_eq!(b.try_acquire(just_before), None);
        assert_eq!(b.try_acquire(t2 + COOLDOWN), Some(Permit::Probe));
        assert_eq!(b.try_acquire(t2 + COOLDOWN), None);
        b.on_success(t2 + COOLDOWN);
        assert_eq!(b.state(t2 + COOLDOWN), BreakerState::Closed);
    }

    #[test]
    fn late_success_while_open_is_ignored() {
        let t0 = Instant::now();
        let mut b = opened_at(t0);
        b.on_success(t0 + secs(1));
        assert_eq!(b.state(t0 + secs(1)), BreakerState::Open);
        assert_eq!(b.try_acquire(t0 + secs(1)), None);
        // The cooldown is unchanged: the probe comes at the original time.
        assert_eq!(b.try_acquire(t0 + COOLDOWN), Some(Permit::Probe));
    }

    #[test]
    fn late_failure_while_open_does_not_extend_cooldown() {
        let t0 = Instant::now();
        let mut b = opened_at(t0);
        b.on_failure(t0 + secs(20));
        b.on_failure(t0 + secs(29));
        assert_eq!(b.state(t0 + COOLDOWN), BreakerState::HalfOpen);
        assert_eq!(b.try_acquire(t0 + COOLDOWN), Some(Permit::Probe));
    }

    #[test]
    fn late_results_after_cooldown_but_before_probe_are_ignored() {
        let t0 = Instant::now();
        let mut b = opened_at(t0);
        let t1 = t0 + COOLDOWN + secs(1);
        // Cooldown elapsed but nobody took the probe yet: late results still change nothing.
        b.on_success(t1);
        assert_eq!(b.state(t1), BreakerState::HalfOpen);
        b.on_failure(t1);
        assert_eq!(b.state(t1), BreakerState::HalfOpen);
        assert_eq!(b.try_acquire(t1), Some(Permit::Probe));
    }

    #[test]
    fn result_while_probing_counts_as_the_probe() {
        // Results carry no identity, so the first result after the probe is handed out decides.
        let t0 = Instant::now();
        let mut b = opened_at(t0);
        let t1 = t0 + COOLDOWN;
        assert_eq!(b.try_acquire(t1), Some(Permit::Probe));
        b.on_failure(t1);
        assert_eq!(b.state(t1), BreakerState::Open);
        // A second result right after is now a late one and is ignored.
        b.on_success(t1);
        assert_eq!(b.state(t1), BreakerState::Open);
    }

    #[test]
    fn huge_cooldown_does_not_panic_and_stays_open() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(BreakerSettings {
            failure_threshold: 1,
            cooldown: Duration::MAX,
        });
        b.on_failure(t0);
        assert_eq!(b.state(t0 + secs(1_000_000)), BreakerState::Open);
        assert_eq!(b.try_acquire(t0 + secs(1_000_000)), None);
    }

    #[test]
    fn zero_cooldown_probes_immediately() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(BreakerSettings {
            failure_threshold: 1,
            cooldown: Duration::ZERO,
        });
        b.on_failure(t0);
        assert_eq!(b.state(t0), BreakerState::HalfOpen);
        assert_eq!(b.try_acquire(t0), Some(Permit::Probe));
        assert_eq!(b.try_acquire(t0), None);
    }
}
