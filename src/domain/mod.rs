//! Domain newtypes shared by every layer: parsed once at the edge, trusted afterwards.

pub mod campaign;
pub mod notice;
mod partition;
mod rate;
pub mod time;
mod user_id;

pub use partition::{DEFAULT_PARTITIONS, Partition};
pub use rate::{Admission, InboundLimiter};
pub use user_id::UserId;

/// `text` in Unicode NFC, borrowed when it already is (almost always: the quick check is a scan, while
/// composing allocates and looks every character up; measured at ~4 % of the CPU per answered message when
/// the system prompt and each answer were recomposed every time).
pub fn nfc(text: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.nfc().collect())
    }
}

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

#[cfg(test)]
mod nfc_tests {
    use std::borrow::Cow;

    use super::nfc;

    #[test]
    fn nfc_borrows_composed_text_and_composes_the_rest() {
        assert!(matches!(nfc("Cảnh báo lừa đảo"), Cow::Borrowed(_)));
        // "ả" as 'a' + combining hook above, "ừ" as 'u' + horn + grave.
        let decomposed = "Ca\u{309}nh ba\u{301}o lu\u{31b}\u{300}a đa\u{309}o";
        let composed = nfc(decomposed);
        assert!(matches!(composed, Cow::Owned(_)));
        assert_eq!(composed, "Cảnh báo lừa đảo");
    }
}
