//! The campaigns' vocabulary, shared by the store (which spells it in rows), the sender and the metrics.

/// Why a user considered for a campaign does not get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The user asked not to receive alerts ("dừng nhận tin").
    OptedOut,
    /// The user's last interaction is older than Zalo's customer-service window.
    OutsideWindow,
    /// The user unfollowed the OA.
    Unfollowed,
}

impl SkipReason {
    pub const ALL: [SkipReason; 3] = [Self::OptedOut, Self::OutsideWindow, Self::Unfollowed];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OptedOut => "opted_out",
            Self::OutsideWindow => "outside_window",
            Self::Unfollowed => "unfollowed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Where one recipient of a campaign stands: `pending → queued | skipped`. A queued recipient has its one
/// outbound part, whose own state says whether it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecipientState {
    Pending,
    Queued,
    Skipped,
}

impl RecipientState {
    pub const ALL: [RecipientState; 3] = [Self::Pending, Self::Queued, Self::Skipped];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Queued => "queued",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How one recipient's campaign message ended: the `result` label of `tradesphere_campaign_sends_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CampaignSend {
    Sent,
    Failed,
    Ambiguous,
    Skipped(SkipReason),
}

impl CampaignSend {
    pub const ALL: [CampaignSend; 6] = [
        Self::Sent,
        Self::Failed,
        Self::Ambiguous,
        Self::Skipped(SkipReason::OptedOut),
        Self::Skipped(SkipReason::OutsideWindow),
        Self::Skipped(SkipReason::Unfollowed),
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Ambiguous => "ambiguous",
            Self::Skipped(reason) => reason.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_its_own_string_and_parses_back() {
        for reason in SkipReason::ALL {
            assert_eq!(SkipReason::parse(reason.as_str()), Some(reason));
        }
        for state in RecipientState::ALL {
            assert_eq!(RecipientState::parse(state.as_str()), Some(state));
        }
        let labels: std::collections::HashSet<_> =
            CampaignSend::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(labels.len(), CampaignSend::ALL.len());
        assert_eq!(SkipReason::parse("sent"), None);
    }
}
