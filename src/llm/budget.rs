//! Per-user and global cost limits for language model calls, checked before each call.
//!
//! Pure bookkeeping: callers pass the current `Instant` and the current day (computed in whatever
//! time zone the bill is kept in), so behaviour is deterministic and testable. Only the current
//! day's token totals are kept; the first call with a later day starts a fresh day.
//!
//! A limit of 0 means nothing is allowed (not "unlimited"): 0 requests per minute rejects every
//! call, and a daily token budget of 0 is exhausted from the start.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::config::BudgetSettings;

/// Length of the per-user sliding rate window.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// Which limit refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitHit {
    #[error("too many requests from this user in the last minute")]
    UserRate,
    #[error("this user's daily token budget is used up")]
    UserDailyTokens,
    #[error("the global daily token budget is used up")]
    GlobalDailyTokens,
}

/// Token usage of one completion, as reported by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }
}

/// Per-user and global limits. Not thread-safe by itself; wrap it in a mutex to share.
///
/// Token limits are checked before a call but charged after it, so one call may overshoot a budget
/// by its own size; the next call is then refused.
#[derive(Debug, Clone)]
pub struct Budget {
    settings: BudgetSettings,
    /// The day the token totals belong to; `None` until the first call or seed.
    day: Option<NaiveDate>,
    global_tokens: u64,
    /// Tokens per user for `day`; cleared when the day changes.
    user_tokens: HashMap<String, u64>,
    /// Start times of recent requests per user, oldest first. Kept apart from the token totals
    /// because the rate window spans midnight while the totals do not.
    windows: HashMap<String, VecDeque<Instant>>,
    /// Several replicas: the global total when last read from the database and this replica's share of
    /// what was left then (None: one process, the whole budget).
    shared: Option<(u64, f64)>,
}

impl Budget {
    pub fn new(settings: BudgetSettings) -> Self {
        Self {
            settings,
            day: None,
            global_tokens: 0,
            user_tokens: HashMap::new(),
            windows: HashMap::new(),
            shared: None,
        }
    }

    /// Several replicas spend one global budget: `db_total` is today's total as the database has it now
    /// (every replica's saved usage), and this replica may spend `share` of what is left of it until the
    /// next refresh, so the replicas together stay within the budget.
    pub fn share_global(&mut self, day: NaiveDate, db_total: u64, share: f64) {
        if !self.roll_to(day) {
            return;
        }
        self.global_tokens = self.global_tokens.max(db_total);
        self.shared = Some((self.global_tokens, share.clamp(0.0, 1.0)));
    }

    /// Seeds today's totals (e.g. from the database at start) so a restart does not reset the bill.
    ///
    /// Seeding never lowers a total already counted for the same day (each total becomes the larger
    /// of the two), so seeding after some calls were recorded neither loses nor double-counts them.
    /// A seed for a day earlier than the current one is ignored.
    pub fn seed(
        &mut self,
        day: NaiveDate,
        global_tokens: u64,
        per_user: impl IntoIterator<Item = (String, u64)>,
    ) {
        if !self.roll_to(day) {
            return;
        }
        self.global_tokens = self.global_tokens.max(global_tokens);
        for (user, tokens) in per_user {
            // Zero rows would only cost memory.
            if tokens > 0 {
                let total = self.user_tokens.entry(user).or_insert(0);
                *total = (*total).max(tokens);
            }
        }
    }

    /// Whether `user`'s total for `day` is known here (seeded or recorded today). An unknown user's total is
    /// read from the database once a day ([`Budget::seed_user`]), not all users' at start.
    pub fn knows(&self, user: &str, day: NaiveDate) -> bool {
        self.day == Some(day) && self.user_tokens.contains_key(user)
    }

    /// Seeds one user's total for `day` (from the database). Like [`Budget::seed`] it never lowers a total
    /// already counted, and it is remembered even when 0, so the database is asked once per user and day.
    pub fn seed_user(&mut self, day: NaiveDate, user: &str, tokens: u64) {
        if !self.roll_to(day) {
            return;
        }
        let total = self.user_tokens.entry(user.to_owned()).or_insert(0);
        *total = (*total).max(tokens);
    }

    /// Checks the limits for one call by `user` at `now` on `day` and, if allowed, counts the
    /// request against the per-minute window. Global budget is checked first, then the user's
    /// tokens, then the rate.
    ///
    /// A refused call does not take a slot in the rate window, so retrying after a refusal does not
    /// push the user's next allowed call further out. A `day` earlier than the current one is checked
    /// against the current day's totals.
    pub fn check(&mut self, user: &str, day: NaiveDate, now: Instant) -> Result<(), LimitHit> {
        self.roll_to(day);
        let limit = self.settings.global_tokens_per_day;
        if self.global_tokens >= limit {
            return Err(LimitHit::GlobalDailyTokens);
        }
        if let Some((base, share)) = self.shared {
            let allowance = (limit.saturating_sub(base) as f64 * share) as u64;
            if self.global_tokens.saturating_sub(base) >= allowance {
                return Err(LimitHit::GlobalDailyTokens);
            }
        }
        let used = self.user_tokens.get(user).copied().unwrap_or(0);
        if used >= self.settings.user_tokens_per_day {
            return Err(LimitHit::UserDailyTokens);
        }

        let limit = self.settings.user_requests_per_minute as usize;
        if let Some(window) = self.windows.get_mut(user) {
            evict_expired(window, now);
            if window.len() >= limit {
                return Err(LimitHit::UserRate);
            }
            // Callers may read the clock before taking a lock, so `now` can be slightly older than
            // the newest entry; insert in order to keep eviction from the front correct.
            let at = window.partition_point(|&t| t <= now);
            window.insert(at, now);
        } else {
            if limit == 0 {
                return Err(LimitHit::UserRate);
            }
            self.windows.insert(user.to_owned(), VecDeque::from([now]));
        }
        Ok(())
    }

    /// Records tokens actually used (after the call).
    ///
    /// Usage for a day earlier than the current one is dropped: that day's bill is closed and must
    /// not be charged to today.
    pub fn record(&mut self, user: &str, day: NaiveDate, usage: Usage) {
        if !self.roll_to(day) {
            return;
        }
        let tokens = usage.total();
        if tokens == 0 {
            return;
        }
        self.global_tokens = self.global_tokens.saturating_add(tokens);
        // Look up before inserting so the common case does not allocate a key.
        if let Some(total) = self.user_tokens.get_mut(user) {
            *total = total.saturating_add(tokens);
        } else {
            self.user_tokens.insert(user.to_owned(), tokens);
        }
    }

    /// Tokens left in the global daily budget for `day` (for a gauge).
    ///
    /// A day later than the current one has its whole budget left; an earlier day reports 0, since
    /// its totals are no longer kept and it cannot be spent any more.
    pub fn global_remaining(&self, day: NaiveDate) -> u64 {
        let limit = self.settings.global_tokens_per_day;
        match self.day {
            Some(current) if day == current => limit.saturating_sub(self.global_tokens),
            Some(current) if day < current => 0,
            _ => limit,
        }
    }

    /// Drops per-user state not needed any more (old days, empty rate windows) so memory stays
    /// bounded with many users; call periodically.
    ///
    /// Today's token totals are kept because they are still needed to enforce the daily limit;
    /// they go when the day changes.
    pub fn prune(&mut self, day: NaiveDate, now: Instant) {
        self.roll_to(day);
        self.windows.retain(|_, window| {
            evict_expired(window, now);
            !window.is_empty()
        });
        self.windows.shrink_to_fit();
        self.user_tokens.shrink_to_fit();
    }

    /// Moves the token totals to `day` if it is later than the current day. Returns whether `day`
    /// is now the current day (false for an earlier day, whose totals are gone).
    fn roll_to(&mut self, day: NaiveDate) -> bool {
        match self.day {
            Some(current) if day < current => false,
            Some(current) if day == current => true,
            _ => {
                self.day = Some(day);
                self.global_tokens = 0;
                self.shared = None;
                self.user_tokens.clear();
                true
            }
        }
    }
}

/// Removes request times that fell out of the window ending at `now`. A request exactly 60 s old
/// no longer counts, so a user may make the limit's worth of calls in every 60 s.
fn evict_expired(window: &mut VecDeque<Instant>, now: Instant) {
    while window
        .front()
        .is_some_and(|&t| now.saturating_duration_since(t) >= RATE_WINDOW)
    {
        window.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(rpm: u32, user_day: u64, global_day: u64) -> BudgetSettings {
        BudgetSettings {
            user_requests_per_minute: rpm,
            user_tokens_per_day: user_day,
            global_tokens_per_day: global_day,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn usage(prompt: u64, completion: u64) -> Usage {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
        }
    }

    #[test]
    fn a_user_seeded_lazily_is_known_until_the_day_changes() {
        let mut budget = Budget::new(settings(100, 1_000, 1_000_000));
        let now = Instant::now();
        budget.seed(day(1), 5_000, std::iter::empty());
        assert!(!budget.knows("u1", day(1)));
        budget.seed_user(day(1), "u1", 1_000);
        assert!(budget.knows("u1", day(1)));
        assert_eq!(
            budget.check("u1", day(1), now),
            Err(LimitHit::UserDailyTokens)
        );
        // A user with nothing spent is remembered too (asked once), and a later seed never lowers a total.
        budget.seed_user(day(1), "u2", 0);
        assert!(budget.knows("u2", day(1)));
        budget.record("u2", day(1), usage(300, 0));
        budget.seed_user(day(1), "u2", 100);
        budget.record("u2", day(1), usage(700, 0));
        assert_eq!(
            budget.check("u2", day(1), now),
            Err(LimitHit::UserDailyTokens)
        );
        // A new day forgets them all; a seed for a closed day is ignored.
        assert!(budget.check("u3", day(2), now).is_ok());
        assert!(!budget.knows("u1", day(2)));
        budget.seed_user(day(1), "u1", 1_000);
        assert!(!budget.knows("u1", day(1)));
        assert!(!budget.knows("u1", day(2)));
    }

    #[test]
    fn usage_total_adds_and_saturates() {
        assert_eq!(Usage::default().total(), 0);
        assert_eq!(usage(120, 30).total(), 150);
        assert_eq!(usage(u64::MAX, 5).total(), u64::MAX);
    }

    #[test]
    fn limit_hit_messages_are_distinct() {
        let msgs = [
            LimitHit::UserRate.to_string(),
            LimitHit::UserDailyTokens.to_string(),
            LimitHit::GlobalDailyTokens.to_string(),
        ];
        assert!(msgs.iter().all(|m| !m.is_empty()));
        assert_ne!(msgs[0], msgs[1]);
        assert_ne!(msgs[1], msgs[2]);
        assert_ne!(msgs[0], msgs[2]);
    }

    #[test]
    fn rate_allows_limit_then_refuses() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(3, 1000, 10_000));
        for i in 0..3 {
            assert_eq!(b.check("u1", day(1), t0 + secs(i)), Ok(()));
        }
        assert_eq!(b.check("u1", day(1), t0 + secs(3)), Err(LimitHit::UserRate));
        assert_eq!(
            b.check("u1", day(1), t0 + secs(59)),
            Err(LimitHit::UserRate)
        );
    }

    #[test]
    fn rate_window_slides() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(3, 1000, 10_000));
        b.check("u1", day(1), t0).unwrap();
        b.check("u1", day(1), t0 + secs(10)).unwrap();
        b.check("u1", day(1), t0 + secs(20)).unwrap();
        // Just before the first request leaves the window.
        let almost = t0 + secs(60) - Duration::from_millis(1);
        assert_eq!(b.check("u1", day(1), almost), Err(LimitHit::UserRate));
        // Exactly 60 s later the first one no longer counts: one slot frees up.
        assert_eq!(b.check("u1", day(1), t0 + secs(60)), Ok(()));
        assert_eq!(
            b.check("u1", day(1), t0 + secs(61)),
            Err(LimitHit::UserRate)
        );
        // The second one leaves at 70 s.
        assert_eq!(b.check("u1", day(1), t0 + secs(70)), Ok(()));
        // Long idle: the whole window is free again.
        for i in 0..3 {
            assert_eq!(b.check("u1", day(1), t0 + secs(500 + i)), Ok(()));
        }
        assert_eq!(
            b.check("u1", day(1), t0 + secs(503)),
            Err(LimitHit::UserRate)
        );
    }

    #[test]
    fn refused_requests_do_not_take_slots() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(1, 1000, 10_000));
        b.check("u1", day(1), t0).unwrap();
        for i in 1..60 {
            assert_eq!(b.check("u1", day(1), t0 + secs(i)), Err(LimitHit::UserRate));
        }
        assert_eq!(b.windows["u1"].len(), 1);
        assert_eq!(b.check("u1", day(1), t0 + secs(60)), Ok(()));
    }

    #[test]
    fn rate_is_per_user() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(2, 1000, 10_000));
        b.check("alice", day(1), t0).unwrap();
        b.check("alice", day(1), t0).unwrap();
        assert_eq!(b.check("alice", day(1), t0), Err(LimitHit::UserRate));
        assert_eq!(b.check("bob", day(1), t0), Ok(()));
        assert_eq!(b.check("bob", day(1), t0), Ok(()));
        assert_eq!(b.check("bob", day(1), t0), Err(LimitHit::UserRate));
    }

    #[test]
    fn rate_window_spans_midnight() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(2, 1000, 10_000));
        b.check("u1", day(1), t0).unwrap();
        b.check("u1", day(1), t0 + secs(1)).unwrap();
        // A new day resets token totals, not the per-minute window.
        assert_eq!(b.check("u1", day(2), t0 + secs(2)), Err(LimitHit::UserRate));
    }

    #[test]
    fn out_of_order_instants_are_kept_sorted() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(3, 1000, 10_000));
        b.check("u1", day(1), t0 + secs(30)).unwrap();
        b.check("u1", day(1), t0).unwrap(); // clock read before a lock, arrives late
        let window: Vec<_> = b.windows["u1"].iter().copied().collect();
        assert_eq!(window, vec![t0, t0 + secs(30)]);
        // At 60 s the earlier one expires even though it was inserted second.
        b.check("u1", day(1), t0 + secs(60)).unwrap();
        assert_eq!(b.windows["u1"].len(), 2);
    }

    #[test]
    fn zero_limits_allow_nothing() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(0, 1000, 10_000));
        assert_eq!(b.check("u1", day(1), t0), Err(LimitHit::UserRate));
        assert!(b.windows.is_empty());

        let mut b = Budget::new(settings(5, 0, 10_000));
        assert_eq!(b.check("u1", day(1), t0), Err(LimitHit::UserDailyTokens));

        let mut b = Budget::new(settings(5, 1000, 0));
        assert_eq!(b.check("u1", day(1), t0), Err(LimitHit::GlobalDailyTokens));
        assert_eq!(b.global_remaining(day(1)), 0);
    }

    #[test]
    fn user_daily_tokens_enforced_after_recording() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(100, 1000, 100_000));
        b.check("u1", day(1), t0).unwrap();
        b.record("u1", day(1), usage(600, 300));
        // 900 < 1000: still allowed, even though this call may overshoot.
        assert_eq!(b.check("u1", day(1), t0 + secs(1)), Ok(()));
        b.record("u1", day(1), usage(80, 40));
        assert_eq!(
            b.check("u1", day(1), t0 + secs(2)),
            Err(LimitHit::UserDailyTokens)
        );
        // Other users are unaffected.
        assert_eq!(b.check("u2", day(1), t0 + secs(2)), Ok(()));
    }

    #[test]
    fn exactly_reaching_the_user_budget_refuses() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(100, 1000, 100_000));
        b.record("u1", day(1), usage(999, 0));
        assert_eq!(b.check("u1", day(1), t0), Ok(()));
        b.record("u1", day(1), usage(0, 1));
        assert_eq!(
            b.check("u1", day(1), t0 + secs(1)),
            Err(LimitHit::UserDailyTokens)
        );
    }

    #[test]
    fn daily_totals_reset_when_the_day_changes() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(100, 1000, 1500));
        b.record("u1", day(1), usage(1000, 0));
        b.record("u2", day(1), usage(500, 0));
        assert_eq!(b.check("u2", day(1), t0), Err(LimitHit::GlobalDailyTokens));
        assert_eq!(b.global_remaining(day(1)), 0);

        assert_eq!(b.check("u1", day(2), t0 + secs(1)), Ok(()));
        assert_eq!(b.global_remaining(day(2)), 1500);
        assert!(b.user_tokens.is_empty());
        assert_eq!(b.check("u2", day(2), t0 + secs(2)), Ok(()));
    }

    #[test]
    fn late_record_for_previous_day_is_dropped() {
        let mut b = Budget::new(settings(100, 1000, 5000));
        b.record("u1", day(1), usage(100, 0));
        b.record("u1", day(2), usage(200, 0));
        b.record("u1", day(1), usage(300, 0)); // a call that straddled midnight
        assert_eq!(b.global_remaining(day(2)), 4800);
        assert_eq!(b.user_tokens["u1"], 200);
        assert_eq!(b.day, Some(day(2)));
    }

    #[test]
    fn check_with_earlier_day_uses_current_totals() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(100, 1000, 5000));
        b.record("u1", day(2), usage(1000, 0));
        assert_eq!(b.check("u1", day(1), t0), Err(LimitHit::UserDailyTokens));
        assert_eq!(b.day, Some(day(2)));
    }

    #[test]
    fn global_is_checked_before_user_and_rate() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(1, 100, 100));
        b.check("u1", day(1), t0).unwrap();
        b.record("u1", day(1), usage(100, 0));
        // Global, user tokens and rate are all exhausted: global wins.
        assert_eq!(b.check("u1", day(1), t0), Err(LimitHit::GlobalDailyTokens));
        // And a brand-new user is refused by the shared global budget.
        assert_eq!(
            b.check("fresh", day(1), t0),
            Err(LimitHit::GlobalDailyTokens)
        );
        assert!(!b.windows.contains_key("fresh"));
    }

    #[test]
    fn user_tokens_are_checked_before_rate() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(1, 100, 10_000));
        b.check("u1", day(1), t0).unwrap();
        b.record("u1", day(1), usage(60, 40));
        assert_eq!(b.check("u1", day(1), t0), Err(LimitHit::UserDailyTokens));
    }

    #[test]
    fn global_budget_is_shared_across_users() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(100, 1000, 1000));
        b.record("a", day(1), usage(400, 0));
        b.record("b", day(1), usage(400, 0));
        assert_eq!(b.global_remaining(day(1)), 200);
        assert_eq!(b.check("c", day(1), t0), Ok(()));
        b.record("c", day(1), usage(150, 100));
        assert_eq!(b.global_remaining(day(1)), 0);
        assert_eq!(b.check("d", day(1), t0), Err(LimitHit::GlobalDailyTokens));
    }

    #[test]
    fn record_accounting() {
        let mut b = Budget::new(settings(100, 10_000, 10_000));
        assert_eq!(b.global_remaining(day(1)), 10_000);
        b.record("u1", day(1), usage(100, 50));
        b.record("u1", day(1), usage(10, 5));
        b.record("u2", day(1), usage(1, 2));
        b.record("u3", day(1), Usage::default());
        assert_eq!(b.user_tokens["u1"], 165);
        assert_eq!(b.user_tokens["u2"], 3);
        assert!(!b.user_tokens.contains_key("u3"));
        assert_eq!(b.global_tokens, 168);
        assert_eq!(b.global_remaining(day(1)), 10_000 - 168);
        // Overshoot saturates to 0 rather than wrapping.
        b.record("u2", day(1), usage(20_000, 0));
        assert_eq!(b.global_remaining(day(1)), 0);
        b.record("u2", day(1), usage(u64::MAX, u64::MAX));
        assert_eq!(b.global_tokens, u64::MAX);
        assert_eq!(b.user_tokens["u2"], u64::MAX);
    }

    #[test]
    fn global_remaining_for_other_days() {
        let mut b = Budget::new(settings(100, 1000, 5000));
        assert_eq!(b.global_remaining(day(1)), 5000);
        b.record("u1", day(2), usage(1000, 0));
        assert_eq!(b.global_remaining(day(2)), 4000);
        assert_eq!(b.global_remaining(day(3)), 5000);
        assert_eq!(b.global_remaining(day(1)), 0);
    }

    #[test]
    fn seed_survives_and_is_enforced() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(100, 1000, 5000));
        b.seed(
            day(1),
            4200,
            vec![("heavy".to_owned(), 1000), ("light".to_owned(), 10)],
        );
        assert_eq!(b.global_remaining(day(1)), 800);
        assert_eq!(b.check("heavy", day(1), t0), Err(LimitHit::UserDailyTokens));
        assert_eq!(b.check("light", day(1), t0), Ok(()));
        b.record("light", day(1), usage(500, 300));
        assert_eq!(b.global_remaining(day(1)), 0);
        assert_eq!(b.user_tokens["light"], 810);
        assert_eq!(
            b.check("light", day(1), t0),
            Err(LimitHit::GlobalDailyTokens)
        );
    }

    #[test]
    fn seed_never_lowers_and_skips_zero_rows() {
        let mut b = Budget::new(settings(100, 1000, 5000));
        b.record("u1", day(1), usage(300, 0));
        b.seed(
            day(1),
            100,
            vec![("u1".to_owned(), 200), ("u2".to_owned(), 0)],
        );
        assert_eq!(b.global_tokens, 300);
        assert_eq!(b.user_tokens["u1"], 300);
        assert!(!b.user_tokens.contains_key("u2"));
        b.seed(day(1), 900, vec![("u1".to_owned(), 700)]);
        assert_eq!(b.global_tokens, 900);
        assert_eq!(b.user_tokens["u1"], 700);
    }

    #[test]
    fn seed_for_another_day() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(100, 1000, 5000));
        b.record("u1", day(2), usage(100, 0));
        // An older day's seed is stale and ignored.
        b.seed(day(1), 5000, vec![("u1".to_owned(), 1000)]);
        assert_eq!(b.global_remaining(day(2)), 4900);
        assert_eq!(b.check("u1", day(2), t0), Ok(()));
        // A newer day's seed starts that day from the seeded totals.
        b.seed(day(3), 50, vec![("u1".to_owned(), 1000)]);
        assert_eq!(b.global_remaining(day(3)), 4950);
        assert_eq!(
            b.check("u1", day(3), t0 + secs(1)),
            Err(LimitHit::UserDailyTokens)
        );
        // And the next day drops them again.
        assert_eq!(b.check("u1", day(4), t0 + secs(2)), Ok(()));
    }

    #[test]
    fn prune_drops_idle_windows_and_keeps_active_users() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(2, 1000, 100_000));
        b.check("idle", day(1), t0).unwrap();
        b.check("active", day(1), t0).unwrap();
        b.check("active", day(1), t0 + secs(50)).unwrap();
        b.record("idle", day(1), usage(400, 0));

        b.prune(day(1), t0 + secs(70));
        assert!(!b.windows.contains_key("idle"));
        let active: Vec<_> = b.windows["active"].iter().copied().collect();
        assert_eq!(active, vec![t0 + secs(50)]);
        // Today's totals stay: they are still needed for the daily limit.
        assert_eq!(b.user_tokens["idle"], 400);
        // The active user's remaining request still counts against the rate.
        b.check("active", day(1), t0 + secs(71)).unwrap();
        assert_eq!(
            b.check("active", day(1), t0 + secs(72)),
            Err(LimitHit::UserRate)
        );
        // The idle user starts with a fresh window.
        b.check("idle", day(1), t0 + secs(71)).unwrap();
        b.check("idle", day(1), t0 + secs(71)).unwrap();
        assert_eq!(
            b.check("idle", day(1), t0 + secs(71)),
            Err(LimitHit::UserRate)
        );
    }

    #[test]
    fn prune_on_a_new_day_drops_old_totals() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(10, 1000, 100_000));
        for i in 0..100 {
            let user = format!("user{i}");
            b.check(&user, day(1), t0).unwrap();
            b.record(&user, day(1), usage(10, 0));
        }
        assert_eq!(b.user_tokens.len(), 100);
        assert_eq!(b.windows.len(), 100);
        b.prune(day(2), t0 + secs(120));
        assert!(b.user_tokens.is_empty());
        assert!(b.windows.is_empty());
        assert_eq!(b.global_remaining(day(2)), 100_000);
    }

    #[test]
    fn prune_with_everything_fresh_keeps_everything() {
        let t0 = Instant::now();
        let mut b = Budget::new(settings(10, 1000, 100_000));
        b.check("a", day(1), t0).unwrap();
        b.check("b", day(1), t0 + secs(30)).unwrap();
        b.record("a", day(1), usage(5, 5));
        b.prune(day(1), t0 + secs(59));
        assert_eq!(b.windows.len(), 2);
        assert_eq!(b.user_tokens["a"], 10);
        assert_eq!(b.global_remaining(day(1)), 100_000 - 10);
    }

    #[test]
    fn replicas_each_spend_their_share_of_what_the_database_says_is_left() {
        let mut budget = Budget::new(settings(1_000, 10_000, 1_000));
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let now = Instant::now();
        // 600 spent so far by everyone; this replica owns a quarter of the partitions: 100 more for it.
        budget.share_global(day, 600, 0.25);
        assert!(budget.check("u", day, now).is_ok());
        budget.record(
            "u",
            day,
            Usage {
                prompt_tokens: 99,
                completion_tokens: 0,
            },
        );
        assert!(budget.check("u", day, now).is_ok());
        budget.record(
            "u",
            day,
            Usage {
                prompt_tokens: 1,
                completion_tokens: 0,
            },
        );
        assert_eq!(
            budget.check("u", day, now),
            Err(LimitHit::GlobalDailyTokens)
        );
        // The next refresh sees the others' spending too and shares what is left again.
        budget.share_global(day, 900, 0.5);
        assert!(budget.check("u", day, now).is_ok());
        budget.record(
            "u",
            day,
            Usage {
                prompt_tokens: 50,
                completion_tokens: 0,
            },
        );
        assert_eq!(
            budget.check("u", day, now),
            Err(LimitHit::GlobalDailyTokens)
        );
    }
}
