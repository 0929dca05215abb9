//! What the console changes, each behind one small function so the service behind it can be swapped without
//! touching the pages. A report decision goes through `reports::moderation`, as the JSON admin API's does.

use crate::domain::UserId;
use crate::reports::moderation::{ModerationError, Moderator, reject_report, verify_report};
use crate::store::{StoreError, UserReport};

use super::super::HttpState;

/// A moderator's decision on a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Verify,
    Reject,
}

impl Decision {
    /// The path segment of the decision (`/admin/reports/{id}/verify`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Reject => "reject",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "verify" => Some(Self::Verify),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }

    /// The report state it leads to, as the `result` label of `tradesphere_scam_user_reports_total`.
    pub fn result(self) -> &'static str {
        match self {
            Self::Verify => "verified",
            Self::Reject => "rejected",
        }
    }
}

/// Decides report `id` as the console's moderator, through the moderation service (the audit row, the
/// reporter's outcome notice), and has the scam actor pick the change up at once. `None` when there is no
/// such report, or it was decided already.
pub async fn decide_report(
    state: &HttpState,
    id: i64,
    decision: Decision,
    reason: Option<&str>,
) -> Result<Option<UserReport>, StoreError> {
    let cx = super::super::moderation::moderation(state);
    let reason = reason.unwrap_or_default();
    let decided = match decision {
        Decision::Verify => verify_report(&cx, id, Moderator::Console, reason).await,
        Decision::Reject => reject_report(&cx, id, Moderator::Console, reason).await,
    };
    match decided {
        Ok(report) => {
            super::super::moderation::refresh_index(state);
            Ok(Some(report))
        }
        Err(ModerationError::NotFound | ModerationError::AlreadyDecided(_)) => Ok(None),
        Err(ModerationError::Store(error)) => Err(error),
    }
}

/// Ends a user's handoff pause now; false when there was none.
pub async fn clear_pause(state: &HttpState, user: &UserId) -> Result<bool, StoreError> {
    state.store.clear_pause(user).await
}
