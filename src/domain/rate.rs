//! Per-user inbound rate limit: a sliding-window log, pure (the caller passes `now`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What to do with one more message from a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Within the limit: handle it.
    Allowed,
    /// Over the limit, and the first of this flood: record it and tell the user once.
    LimitedFirst,
    /// Over the limit again: record it, stay silent.
    Limited,
}

/// At most `max` admitted messages in any `window`. Refused messages do not count, so a user who keeps
/// flooding is served again as soon as the window has room, not punished for ever.
#[derive(Debug, Clone)]
pub struct InboundLimiter {
    max: usize,
    window: Duration,
    admitted: VecDeque<Instant>,
    /// The current flood has already been told.
    notified: bool,
}

impl InboundLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        let max = max.max(1) as usize;
        Self {
            max,
            window,
            admitted: VecDeque::with_capacity(max.min(64)),
            notified: false,
        }
    }

    pub fn admit(&mut self, now: Instant) -> Admission {
        while let Some(&oldest) = self.admitted.front() {
            if now.saturating_duration_since(oldest) >= self.window {
                self.admitted.pop_front();
            } else {
                break;
            }
        }
        if self.admitted.len() < self.max {
            self.admitted.push_back(now);
            self.notified = false;
            return Admission::Allowed;
        }
        if self.notified {
            Admission::Limited
        } else {
            self.notified = true;
            Admission::LimitedFirst
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_max_per_window_then_notifies_once() {
        let t0 = Instant::now();
        let mut limiter = InboundLimiter::new(3, Duration::from_secs(60));
        for i in 0..3 {
            assert_eq!(
                limiter.admit(t0 + Duration::from_secs(i)),
                Admission::Allowed
            );
        }
        assert_eq!(
            limiter.admit(t0 + Duration::from_secs(5)),
            Admission::LimitedFirst
        );
        assert_eq!(
            limiter.admit(t0 + Duration::from_secs(6)),
            Admission::Limited
        );
        assert_eq!(
            limiter.admit(t0 + Duration::from_secs(59)),
            Admission::Limited
        );
        // The first admitted message leaves the window at t0+60: room for one more.
        assert_eq!(
            limiter.admit(t0 + Duration::from_secs(60)),
            Admission::Allowed
        );
        assert_eq!(
            limiter.admit(t0 + Duration::from_secs(60)),
            Admission::LimitedFirst
        );
    }

    #[test]
    fn refused_messages_do_not_extend_the_block() {
        let t0 = Instant::now();
        let mut limiter = InboundLimiter::new(1, Duration::from_secs(10));
        assert_eq!(limiter.admit(t0), Admission::Allowed);
        for s in 1..10 {
            assert_ne!(
                limiter.admit(t0 + Duration::from_secs(s)),
                Admission::Allowed
            );
        }
        assert_eq!(
            limiter.admit(t0 + Duration::from_secs(10)),
            Admission::Allowed
        );
    }

    #[test]
    fn zero_max_is_treated_as_one() {
        let t0 = Instant::now();
        let mut limiter = InboundLimiter::new(0, Duration::from_secs(10));
        assert_eq!(limiter.admit(t0), Admission::Allowed);
        assert_eq!(limiter.admit(t0), Admission::LimitedFirst);
    }
}
