//! Fault injection for tests and chaos runs: "panic the next N times at point P".
//!
//! Each application instance owns its own `Faults`, so tests running side by side in one process do not
//! affect each other. Disarmed (the default), a check is one relaxed atomic load. This is the one piece of
//! state shared between actors besides the metrics recorder, on purpose: it is test instrumentation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// Inside a conversation actor, before the event is handled.
    Conversation,
    /// Inside the scam detector, while checking a message.
    Scam,
    /// Inside the LLM actor, while taking a request.
    Llm,
    /// Inside the outbound actor, while taking parts to send.
    Outbound,
    /// In a token refresh, after Zalo answered with a new pair and before it is committed.
    TokenCommit,
}

impl FaultPoint {
    const COUNT: usize = 5;

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<[AtomicU32; FaultPoint::COUNT]>);

impl Faults {
    /// The next `times` passes through `point` panic.
    pub fn arm(&self, point: FaultPoint, times: u32) {
        self.0[point.index()].store(times, Ordering::SeqCst);
    }

    /// Panics if `point` is armed, consuming one shot. Called at the top of actor handlers.
    pub fn trip(&self, point: FaultPoint) {
        let slot = &self.0[point.index()];
        if slot.load(Ordering::Relaxed) == 0 {
            return;
        }
        let took = slot
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if took {
            panic!("injected fault at {point:?}");
        }
    }
}
