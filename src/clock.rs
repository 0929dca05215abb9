//! Wall-clock time for schedules that span hours (token lifetimes), injectable so tests can live through
//! several 25 h token lifetimes in milliseconds while the rest of the service runs on real time.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn starting_now() -> Self {
        Self(Arc::new(Mutex::new(Utc::now())))
    }

    /// A clock at the next 10:00 Vietnam time (03:00 UTC), less than a day ahead of the real time: a
    /// morning, outside the quiet hours, in which a user who just wrote is inside their window.
    pub fn next_vietnam_morning() -> Self {
        let clock = Self::starting_now();
        let now = clock.now();
        let mut next = now
            .date_naive()
            .and_hms_opt(3, 0, 0)
            .map_or(now, |t| t.and_utc());
        if next <= now {
            next += chrono::Duration::days(1);
        }
        clock.advance(next - now);
        clock
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub type SharedClock = Arc<dyn Clock>;

pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}
