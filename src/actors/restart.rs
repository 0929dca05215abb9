//! Erlang-style restart intensity: at most `max_restarts` restarts within `window`, with a growing delay.
//! Exceeding the budget means "this is not transient": the supervisor escalates to its own parent.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::config::SupervisorSettings;

const MAX_DELAY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct RestartBudget {
    max_restarts: u32,
    window: Duration,
    base_delay: Duration,
    recent: VecDeque<Instant>,
}

impl RestartBudget {
    pub fn new(settings: &SupervisorSettings) -> Self {
        Self {
            max_restarts: settings.max_restarts,
            window: settings.window,
            base_delay: settings.backoff_base,
            recent: VecDeque::new(),
        }
    }

    /// Records a failure at `now`. Returns the delay before restarting, or None when the budget is spent.
    pub fn record(&mut self, now: Instant) -> Option<Duration> {
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            self.recent.pop_front();
        }
        if self.recent.len() as u32 >= self.max_restarts {
            return None;
        }
        let exponent = self.recent.len().min(16) as u32;
        self.recent.push_back(now);
        Some(self.base_delay.saturating_mul(1 << exponent).min(MAX_DELAY))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(max: u32, window_secs: u64) -> RestartBudget {
        RestartBudget::new(&SupervisorSettings {
            max_restarts: max,
            window: Duration::from_secs(window_secs),
            backoff_base: Duration::from_millis(100),
        })
    }

    #[test]
    fn delays_grow_then_budget_is_spent() {
        let mut b = budget(3, 60);
        let t = Instant::now();
        assert_eq!(b.record(t), Some(Duration::from_millis(100)));
        assert_eq!(b.record(t), Some(Duration::from_millis(200)));
        assert_eq!(b.record(t), Some(Duration::from_millis(400)));
        assert_eq!(b.record(t), None);
    }

    #[test]
    fn old_failures_leave_the_window() {
        let mut b = budget(2, 10);
        let t = Instant::now();
        b.record(t).unwrap();
        b.record(t).unwrap();
        assert!(b.record(t + Duration::from_secs(5)).is_none());
        assert_eq!(
            b.record(t + Duration::from_secs(11)),
            Some(Duration::from_millis(100))
        );
    }

    #[test]
    fn delay_is_capped() {
        let mut b = budget(100, 60);
        let t = Instant::now();
        let last = (0..40).filter_map(|_| b.record(t)).last().unwrap();
        assert_eq!(last, MAX_DELAY);
    }
}
