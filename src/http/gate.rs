//! The webhook intake gate: open while the service accepts events; closed at shutdown, after which the
//! webhook answers 503 (Zalo redelivers) and shutdown waits for the requests already inside to finish their
//! insert and hand-off before it drains the actors, so no accepted event is left between the two.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

#[derive(Debug)]
pub struct IntakeGate {
    open: AtomicBool,
    inside: AtomicUsize,
    left: Notify,
}

impl Default for IntakeGate {
    fn default() -> Self {
        Self {
            open: AtomicBool::new(true),
            inside: AtomicUsize::new(0),
            left: Notify::new(),
        }
    }
}

/// Held by a webhook request for as long as it handles its event.
pub struct Pass<'a>(&'a IntakeGate);

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        if self.0.inside.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.left.notify_waiters();
        }
    }
}

impl IntakeGate {
    /// A pass while the gate is open; None once it is closed.
    pub fn enter(&self) -> Option<Pass<'_>> {
        // Count first, then look: `close` followed by `wait_empty` then sees every request that got in.
        self.inside.fetch_add(1, Ordering::SeqCst);
        let pass = Pass(self);
        self.open.load(Ordering::SeqCst).then_some(pass)
    }

    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }

    pub fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
    }

    /// Waits until no request is inside, at most `limit`; false if some still were.
    pub async fn wait_empty(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = self.left.notified();
            if self.inside.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, left).await.is_err() {
                return self.inside.load(Ordering::SeqCst) == 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn closing_refuses_newcomers_and_waits_for_those_inside() {
        let gate = Arc::new(IntakeGate::default());
        let pass = gate.enter().expect("open");
        gate.close();
        assert!(gate.enter().is_none(), "closed: refused");
        assert!(
            !gate.wait_empty(Duration::from_millis(20)).await,
            "one still inside"
        );
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.wait_empty(Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(pass);
        assert!(waiter.await.unwrap(), "woken when the last one left");
    }
}
