//! The outbox: proactive messages (admin sends, alerts) are stored as queued parts, then handed to the sender
//! at once. Parts the sender does not take now wait in the database for its resume.

use crate::domain::UserId;
use crate::store::{QueuedOutbound, Store, StoreError};

/// Hands parts already queued in the database to whatever sends them.
pub trait Dispatch {
    /// False when the sender is not running: the parts wait in the database for its resume.
    fn dispatch(&self, parts: Vec<QueuedOutbound>) -> bool;
}

/// Queues messages and hands them to the sender.
pub struct Outbox<D> {
    store: Store,
    sender: D,
}

impl<D: Dispatch> Outbox<D> {
    pub fn new(store: Store, sender: D) -> Self {
        Self { store, sender }
    }

    /// Stores `parts` as one proactive message to `user` and hands them over; returns the parts' ids.
    pub async fn enqueue(&self, user: &UserId, parts: &[String]) -> Result<Vec<i64>, StoreError> {
        let queued = self.store.enqueue_proactive(user, parts).await?;
        let ids = queued.iter().map(|part| part.id).collect();
        self.sender.dispatch(queued);
        Ok(ids)
    }

    /// Hands over parts another write already queued (a reply committed with its event).
    pub fn dispatch(&self, queued: Vec<QueuedOutbound>) -> bool {
        self.sender.dispatch(queued)
    }
}
