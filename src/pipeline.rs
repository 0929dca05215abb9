//! The pipeline's shared vocabulary: the nouns that cross from HTTP through intake and the conversations
//! into the store, kept here so no layer imports another's internals to name them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::OwnedSemaphorePermit;

use crate::domain::UserId;
use crate::zalo::events::{EventKind, WebhookEvent};

/// How an inbox event was closed: the `outcome` column of `inbox_events` and the `outcome` label of
/// `tradesphere_events_handled_total`. The strings are stored, so a variant's string never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A receipt, reaction or unknown event: stored for the record, nothing to answer.
    Ignored,
    /// An event that names no user to answer.
    NoUser,
    /// Failed too many times; left in the inbox for a person to look at.
    DeadLetter,
    /// The stored payload no longer decodes.
    Undecodable,
    Welcome,
    Unfollow,
    /// The echo of a reply this service sent.
    OwnEcho,
    /// The echo of a message a person sent from the OA's own inbox.
    AdminEcho,
    /// A moderator has taken the conversation over.
    HandoffPaused,
    RateLimited,
    /// A kind of message the bot cannot read (sticker, file, …).
    Unsupported,
    Help,
    ScamReport,
    ScamSignals,
    ScamCheck,
    /// An image was read and what it holds was checked.
    ImageCheck,
    /// An image that could not be read: not fetched, not an image, nothing legible, or over the user's
    /// daily image budget. A template answered.
    ImageUnread,
    /// The user said they had already paid or given a code away: the recovery steps answered.
    Recovery,
    Llm,
    /// The daily model budget was spent: a template answered.
    LlmLimited,
    /// The model failed or its breaker is open: a template answered.
    LlmFallback,
    /// Merged into a later message of the same burst, which carries the reply.
    LlmMerged,
    /// The user asked not to receive campaigns.
    AlertsOff,
    /// The user asked for campaigns again (and got the help).
    AlertsOn,
}

impl Outcome {
    /// Every outcome, for metric pre-registration and exhaustive tests.
    pub const ALL: [Outcome; 24] = [
        Outcome::Ignored,
        Outcome::NoUser,
        Outcome::DeadLetter,
        Outcome::Undecodable,
        Outcome::Welcome,
        Outcome::Unfollow,
        Outcome::OwnEcho,
        Outcome::AdminEcho,
        Outcome::HandoffPaused,
        Outcome::RateLimited,
        Outcome::Unsupported,
        Outcome::Help,
        Outcome::ScamReport,
        Outcome::ScamSignals,
        Outcome::ScamCheck,
        Outcome::ImageCheck,
        Outcome::ImageUnread,
        Outcome::Recovery,
        Outcome::Llm,
        Outcome::LlmLimited,
        Outcome::LlmFallback,
        Outcome::LlmMerged,
        Outcome::AlertsOff,
        Outcome::AlertsOn,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Ignored => "ignored",
            Outcome::NoUser => "no_user",
            Outcome::DeadLetter => "dead_letter",
            Outcome::Undecodable => "undecodable",
            Outcome::Welcome => "welcome",
            Outcome::Unfollow => "unfollow",
            Outcome::OwnEcho => "own_echo",
            Outcome::AdminEcho => "admin_echo",
            Outcome::HandoffPaused => "handoff_paused",
            Outcome::RateLimited => "rate_limited",
            Outcome::Unsupported => "unsupported",
            Outcome::Help => "help",
            Outcome::ScamReport => "scam_report",
            Outcome::ScamSignals => "scam_signals",
            Outcome::ScamCheck => "scam_check",
            Outcome::ImageCheck => "image_check",
            Outcome::ImageUnread => "image_unread",
            Outcome::Recovery => "recovery",
            Outcome::Llm => "llm",
            Outcome::LlmLimited => "llm_limited",
            Outcome::LlmFallback => "llm_fallback",
            Outcome::LlmMerged => "llm_merged",
            Outcome::AlertsOff => "alerts_off",
            Outcome::AlertsOn => "alerts_on",
        }
    }

    /// The outcome a stored string names, for rows read back from the inbox.
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The singleton actors, by role: the key of their registry names and of their mailbox-depth gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Cluster,
    TokenKeeper,
    Outbound,
    Llm,
    Scam,
    Feeds,
    Media,
    Campaigns,
    Conversations,
    Intake,
}

impl Role {
    /// Start order: dependencies first, intake (the entry point) last.
    pub const START_ORDER: [Role; 10] = [
        Role::Cluster,
        Role::TokenKeeper,
        Role::Outbound,
        Role::Llm,
        Role::Scam,
        Role::Feeds,
        Role::Media,
        Role::Campaigns,
        Role::Conversations,
        Role::Intake,
    ];

    /// The `actor` label of the per-user conversations, which have no role: the manager starts one per
    /// active user, unnamed, and restarts it.
    pub const CONVERSATION_LABEL: &'static str = "conversation";

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Cluster => "cluster",
            Role::TokenKeeper => "token_keeper",
            Role::Outbound => "outbound",
            Role::Llm => "llm",
            Role::Scam => "scam",
            Role::Feeds => "feeds",
            Role::Media => "media",
            Role::Campaigns => "campaigns",
            Role::Conversations => "conversations",
            Role::Intake => "intake",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a decoded event goes: closed at once with an outcome, or to its user's conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Nothing to answer. The webhook stores such events closed; intake closes those it replays.
    Close(Outcome),
    Converse(UserId),
}

impl Route {
    /// The outcome an event is closed with at once, or None when a conversation handles it.
    pub fn closed_as(&self) -> Option<Outcome> {
        match self {
            Route::Close(outcome) => Some(*outcome),
            Route::Converse(_) => None,
        }
    }
}

/// Routes an event: receipts, reactions and unknown events are ignored, an event naming no valid user has
/// nobody to answer, everything else goes to its user's conversation.
pub fn classify(event: &WebhookEvent) -> Route {
    if event.kind == EventKind::Other {
        return Route::Close(Outcome::Ignored);
    }
    match &event.user {
        Some(user) => Route::Converse(user.clone()),
        None => Route::Close(Outcome::NoUser),
    }
}

/// An event's claim on one of intake's in-flight slots; dropping it (the event handled, or its message
/// dropped) frees the slot.
pub type Slot = Arc<OwnedSemaphorePermit>;

/// A counted handling attempt, with what the conversation needs to know before deciding, read by the same
/// statement that counts it, so a message costs no read of its own (reading them per message put SQLite's
/// e2e p50 at 1,000 messages a second at 2.1-2.2 ms instead of 1.3-1.4 ms, past its 2 ms target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: i32,
    /// The user's handoff pause as stored (possibly over already).
    pub paused_until: Option<DateTime<Utc>>,
    /// The id of the user's newest chat line: tells whether a cached history is still the database's.
    pub newest_message: Option<i64>,
    /// When the statement that read it returned: a reader can tell whether a write of its own came later.
    pub read_at: std::time::Instant,
    /// An older event of the same user was still unhandled when this one was stored (PostgreSQL; perhaps
    /// received by another replica): intake routes those first, to keep the user's order.
    pub older_pending: bool,
}

/// One persisted event, routed to its user.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub inbox_id: i64,
    pub event_key: String,
    pub user: UserId,
    pub event: WebhookEvent,
    /// The in-flight slot intake gave this event (None when re-delivered after a restart); freed when the
    /// event's message is dropped, i.e. once its conversation has handled it.
    pub slot: Option<Slot>,
    /// The first attempt as the webhook's insert counted and read it: only on the live delivery, None on
    /// every replay, which counts its own attempt.
    pub first_attempt: Option<Attempt>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Outcome, Route, classify};
    use crate::domain::UserId;
    use crate::zalo::events::decode;

    #[test]
    fn only_events_a_conversation_answers_stay_open() {
        let event = |value: serde_json::Value| decode(&value).unwrap();
        let text = json!({"app_id": "1", "event_name": "user_send_text", "sender": {"id": "5521772797175877"},
            "recipient": {"id": "1"}, "message": {"msg_id": "m", "text": "alo"}, "timestamp": "1"});
        assert_eq!(
            classify(&event(text)),
            Route::Converse(UserId::parse("5521772797175877").unwrap())
        );
        let seen = json!({"app_id": "1", "event_name": "user_seen_message", "sender": {"id": "1"},
            "recipient": {"id": "5521772797175877"}, "message": {"msg_ids": ["a"]}, "timestamp": "1"});
        assert_eq!(classify(&event(seen)), Route::Close(Outcome::Ignored));
        let unknown =
            json!({"app_id": "1", "event_name": "brand_new_event_2027", "timestamp": "1"});
        assert_eq!(classify(&event(unknown)), Route::Close(Outcome::Ignored));
        let no_user = json!({"app_id": "1", "event_name": "follow", "timestamp": "1"});
        assert_eq!(classify(&event(no_user)), Route::Close(Outcome::NoUser));
        let bad_user = json!({"event_name": "user_send_text", "sender": {"id": "a b"}});
        assert_eq!(classify(&event(bad_user)), Route::Close(Outcome::NoUser));
    }

    #[test]
    fn every_outcome_has_its_own_string_and_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for outcome in Outcome::ALL {
            assert!(
                seen.insert(outcome.as_str()),
                "{outcome:?} repeats a string"
            );
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(Outcome::parse("no_such_outcome"), None);
    }
}
