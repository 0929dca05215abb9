//! Reply parts stored already claimed. The pipeline's commit that queues a reply stores its first part as
//! `sending` (claimed once), because the conversation hands it straight to the outbound actor: the actor then
//! sends it without a claim write of its own, one commit fewer between a message and its answer (without it,
//! SQLite's e2e p50 at 1,000 messages a second rose from 1.2-1.6 ms to 1.8-2.2 ms, past its 2 ms target).
//!
//! It lives in the store, beside the writer that registers parts between the commit and the caller's answer:
//! a registry the outbound side filled at hand-over would leave a committed first part `sending` and unknown
//! when its conversation stopped before handing it over.
//!
//! The database cannot tell such a part, not yet started, from one whose send is under way; this registry
//! can. It lists the parts this process pre-claimed whose send has not started:
//! - the sender takes a part out as it starts sending it ([`PreClaims::take`]); a part not in the registry is
//!   claimed in the database as before, so a part handed over twice, or released meanwhile, is sent once;
//! - parts that never reach a send (an outbound actor that crashed holding them, a conversation stopped after
//!   the commit) are released back to `queued` by the outbound actor's resume ([`PreClaims::stale`]), which
//!   then sends them like any queued part.
//!
//! A crash of the process loses the registry: its parts, `sending` in the database, become `ambiguous` at the
//! next start, as a claimed part does today. So the window in which a crash leaves a part unsent but marked
//! ambiguous grows by the time between the commit and the send's start: under a millisecond, unless the user's
//! previous part is still being sent or the rate limit holds it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub(super) struct PreClaims {
    /// Part id → when its commit pre-claimed it.
    parts: Mutex<HashMap<i64, Instant>>,
}

impl PreClaims {
    pub(super) fn register(&self, ids: impl IntoIterator<Item = i64>) {
        let now = Instant::now();
        let mut parts = self.parts.lock().expect("pre-claims lock");
        parts.extend(ids.into_iter().map(|id| (id, now)));
    }

    /// Takes `id` out for its send to start: true when this process had pre-claimed it and nobody has taken it.
    pub(super) fn take(&self, id: i64) -> bool {
        self.parts
            .lock()
            .expect("pre-claims lock")
            .remove(&id)
            .is_some()
    }

    /// Takes out the parts pre-claimed at least `age` ago and not started, to be released to `queued`.
    pub(super) fn stale(&self, age: Duration) -> Vec<(i64, Instant)> {
        let now = Instant::now();
        let mut parts = self.parts.lock().expect("pre-claims lock");
        let stale: Vec<(i64, Instant)> = parts
            .iter()
            .filter(|(_, at)| now.duration_since(**at) >= age)
            .map(|(id, at)| (*id, *at))
            .collect();
        for (id, _) in &stale {
            parts.remove(id);
        }
        stale
    }

    /// Puts back parts [`Self::stale`] took out whose release could not be written.
    pub(super) fn restore(&self, stale: Vec<(i64, Instant)>) {
        self.parts.lock().expect("pre-claims lock").extend(stale);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_taken_once_and_only_if_registered() {
        let claims = PreClaims::default();
        claims.register([1, 2]);
        assert!(claims.take(1));
        assert!(!claims.take(1), "taken twice");
        assert!(!claims.take(3), "never registered");
        assert!(claims.take(2));
    }

    #[test]
    fn stale_takes_out_old_parts_only_and_restore_puts_them_back() {
        let claims = PreClaims::default();
        claims.register([1]);
        std::thread::sleep(Duration::from_millis(20));
        claims.register([2]);
        let stale = claims.stale(Duration::from_millis(10));
        assert_eq!(stale.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1]);
        assert!(!claims.take(1), "a released part is not sent unclaimed");
        claims.restore(stale);
        let mut all: Vec<i64> = claims
            .stale(Duration::ZERO)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        all.sort();
        assert_eq!(all, [1, 2]);
    }
}
