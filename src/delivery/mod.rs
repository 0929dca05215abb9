//! Delivery of reply parts: sending one part to Zalo (or the console) and recording its result, where the
//! access token comes from, and the outbox that queues proactive messages. The outbound actor decides the
//! order (one part at a time per user, users side by side); the CLI sends through the same [`PartSender`].

mod outbox;
mod result;
mod sender;
mod tokens;

pub use outbox::{Dispatch, Outbox};
pub use sender::PartSender;
pub use tokens::{FixedToken, TokenSource};

use crate::domain::{OutboundState, UserId};

/// How replies leave the service, resolved once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Zalo,
    /// Print each reply on stdout (when `print`) and record it as sent.
    Console {
        print: bool,
    },
}

/// A reply part that left the service (or failed to), published for the `chat` command and observers.
#[derive(Debug, Clone)]
pub struct OutboundEvent {
    pub user: UserId,
    pub text: String,
    pub source_event_key: Option<String>,
    pub part_index: i32,
    pub part_count: i32,
    pub state: OutboundState,
}
