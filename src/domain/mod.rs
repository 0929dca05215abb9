//! Domain newtypes shared by every layer: parsed once at the edge, trusted afterwards.

mod rate;
mod user_id;

pub use rate::{Admission, InboundLimiter};
pub use user_id::UserId;

/// Delivery state of one outbound message part.
///
/// `queued → sending → sent | failed | ambiguous`. `ambiguous` means the request may have reached Zalo but no
/// answer came back (a timeout after sending, or a crash while `sending`); it is never resent blindly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboundState {
    Queued,
    Sending,
    Sent,
    Failed,
    Ambiguous,
}

impl OutboundState {
    pub const ALL: [OutboundState; 5] = [
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Failed,
        Self::Ambiguous,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Ambiguous => "ambiguous",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// One earlier message of a conversation, as the LLM prompt needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTurn {
    pub from_user: bool,
    pub content: String,
}
