//! What one user's conversation decides, as pure functions: [`decide`] takes a user message and a
//! [`UserView`] and returns a [`Decision`]; [`burst`] gathers quick messages into one model call and plans
//! how the burst is recorded. The actor in `actors::conversation` reads the store, runs these, and writes
//! what they decided.

pub mod burst;
pub mod decide;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::InboundLimiter;
use crate::scam::check::CheckOutcome;

pub use burst::{Burst, BurstMessage, Join};
pub use decide::{Answer, Decision, Message, checked, decide};

/// How long a scam check stays relevant as facts for the conversation.
pub const FINDINGS_RELEVANCE: Duration = Duration::from_secs(30 * 60);

/// The two clocks a decision reads: wall time for stored pauses, a monotonic instant for windows.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub at: DateTime<Utc>,
    pub instant: Instant,
}

/// What the conversation knows of its user between messages.
#[derive(Debug)]
pub struct UserView {
    /// The handoff pause as last read (possibly over already).
    pub paused_until: Option<DateTime<Utc>>,
    /// Inbound rate limit: a flood from one user cannot starve the others or burn the model budget.
    pub limiter: InboundLimiter,
    /// The user's latest check with findings, for follow-up questions ("so what now?").
    pub last_findings: Option<(Instant, CheckOutcome)>,
}

impl UserView {
    #[must_use]
    pub fn new(limiter: InboundLimiter) -> Self {
        Self {
            paused_until: None,
            limiter,
            last_findings: None,
        }
    }

    /// The latest findings while they are still relevant at `now`.
    #[must_use]
    pub fn recent_findings(&self, now: Instant) -> Option<&CheckOutcome> {
        self.last_findings
            .as_ref()
            .filter(|(at, _)| now.saturating_duration_since(*at) < FINDINGS_RELEVANCE)
            .map(|(_, check)| check)
    }
}

/// The settings the decisions read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// A model is configured to talk answers through.
    pub has_model: bool,
    /// How long a burst waits for the user's next message.
    pub debounce: Duration,
}

impl Policy {
    #[must_use]
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            has_model: settings.llm.api_key.is_some(),
            debounce: settings.llm.debounce,
        }
    }
}

/// When an idle check finds the actor active since the timer was set, or a burst waiting, how long until
/// it looks again; None when it has been idle for `timeout` and may be stopped.
#[must_use]
pub fn idle_recheck(
    burst_waiting: bool,
    idle_for: Duration,
    timeout: Duration,
) -> Option<Duration> {
    if burst_waiting {
        Some(timeout)
    } else if idle_for < timeout {
        Some(timeout - idle_for)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_check_looks_again_while_active_or_a_burst_waits() {
        let timeout = Duration::from_secs(300);
        assert_eq!(
            idle_recheck(false, Duration::from_secs(100), timeout),
            Some(Duration::from_secs(200))
        );
        assert_eq!(idle_recheck(true, timeout * 2, timeout), Some(timeout));
        assert_eq!(idle_recheck(false, timeout, timeout), None);
    }

    #[test]
    fn recent_findings_expire_after_half_an_hour() {
        let t0 = Instant::now();
        let mut view = UserView::new(InboundLimiter::new(5, Duration::from_secs(60)));
        assert!(view.recent_findings(t0).is_none());
        view.last_findings = Some((t0, CheckOutcome::default()));
        assert!(view.recent_findings(t0 + FINDINGS_RELEVANCE / 2).is_some());
        assert!(view.recent_findings(t0 + FINDINGS_RELEVANCE).is_none());
    }
}
