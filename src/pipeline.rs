//! The pipeline's shared vocabulary: the nouns that cross from HTTP through intake and the conversations
//! into the store, kept here so no layer imports another's internals to name them.

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
    Llm,
    /// The daily model budget was spent: a template answered.
    LlmLimited,
    /// The model failed or its breaker is open: a template answered.
    LlmFallback,
    /// Merged into a later message of the same burst, which carries the reply.
    LlmMerged,
}

impl Outcome {
    /// Every outcome, for metric pre-registration and exhaustive tests.
    pub const ALL: [Outcome; 19] = [
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
        Outcome::Llm,
        Outcome::LlmLimited,
        Outcome::LlmFallback,
        Outcome::LlmMerged,
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
            Outcome::Llm => "llm",
            Outcome::LlmLimited => "llm_limited",
            Outcome::LlmFallback => "llm_fallback",
            Outcome::LlmMerged => "llm_merged",
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

#[cfg(test)]
mod tests {
    use super::Outcome;

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
