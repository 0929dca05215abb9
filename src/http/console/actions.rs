//! What the console changes, each behind one small function so the service behind it can be swapped without
//! touching the pages. Today a report decision is the store's review, the same one the JSON admin API uses.

use crate::actors::scam::ScamMsg;
use crate::domain::UserId;
use crate::pipeline::Role;
use crate::store::{StoreError, UserReport};
use crate::telemetry;

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

/// Who decided, for the audit: the console has one admin token, so one moderator identity.
pub const CONSOLE_MODERATOR: &str = "console";

/// Decides report `id`; `None` when there is no such report.
///
/// The one place the console decides a report. It calls the store's review (as `POST
/// /api/v1/scam/reports/{id}/verify|reject` does) and tells the scam actor to pick the change up at once.
/// That review records no moderator or reason and queues no notice to the reporter; a moderation service that
/// does (audit, outcome notice) replaces the body of this function.
pub async fn decide_report(
    state: &HttpState,
    id: i64,
    decision: Decision,
    moderator: &str,
    reason: Option<&str>,
) -> Result<Option<UserReport>, StoreError> {
    let _ = (moderator, reason);
    let reviewed = state
        .store
        .review_user_report(id, decision == Decision::Verify, state.clock.now())
        .await?;
    if reviewed.is_some() {
        metrics::counter!(telemetry::SCAM_USER_REPORTS, "result" => decision.result()).increment(1);
        if let Some(scam) = state.directory.scam() {
            let _ = crate::actors::tell(Role::Scam, &scam, ScamMsg::Refresh);
        }
    }
    Ok(reviewed)
}

/// Ends a user's handoff pause now; false when there was none.
pub async fn clear_pause(state: &HttpState, user: &UserId) -> Result<bool, StoreError> {
    state.store.clear_pause(user).await
}
