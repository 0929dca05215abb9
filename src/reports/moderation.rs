//! Moderation as a service, for the admin API, the CLI and the console alike: a moderator verifies or
//! rejects a user report, or accepts or rejects an appeal, with a reason. Each decision is one store
//! transaction (the status, the audit row, what the index publishes, and the notice to the person it
//! concerns); the notice is then sent at once when its user's window is open, or waits
//! ([`super::notices`]). Also files what users send by chat: reports (under the daily cap) and appeals.
//!
//! The scam actor picks decisions up at its next index sync; callers that can reach it ask it to refresh.

use chrono::{DateTime, Utc};

use super::notices::deliver_waiting;
pub use super::notices::{Deferred, Moderation};
use crate::delivery::Dispatch;
use crate::domain::UserId;
use crate::domain::notice::notice_expiry;
use crate::domain::time::{vietnam_day, vietnam_day_start};
use crate::reply::moderation as text;
use crate::scam::Entity;
use crate::scam::trust::{ModerationAction, ReportResult, reports_admitted};
use crate::scam::user_report::ReportCommand;
use crate::store::{
    Appeal, AppealDecided, AppealFiled, ModerationRecord, NewUserReport, Store, StoreError,
    UserReport, UserReportOutcome,
};
use crate::telemetry;

/// Who decided, as the audit log names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Moderator {
    /// The admin API, with the admin bearer token.
    AdminToken,
    /// `tradesphere scam …` on the server.
    Cli,
    /// The moderation console.
    Console,
}

impl Moderator {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AdminToken => "admin_token",
            Self::Cli => "cli",
            Self::Console => "console",
        }
    }
}

/// An appeal's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealDecision {
    Accept,
    Reject,
}

impl AppealDecision {
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "accept" => Some(Self::Accept),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error("no such report or appeal")]
    NotFound,
    #[error("this appeal was decided already")]
    AlreadyDecided(Box<Appeal>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A moderator confirms a user report: the entity warns from now on, and the reporter is told.
pub async fn verify_report<D: Dispatch>(
    cx: &Moderation<'_, D>,
    id: i64,
    moderator: Moderator,
    reason: &str,
) -> Result<UserReport, ModerationError> {
    decide_report(cx, id, ModerationAction::VerifyReport, moderator, reason).await
}

/// A moderator rejects a user report: it stops counting, its reporter's weight falls, and they are told.
pub async fn reject_report<D: Dispatch>(
    cx: &Moderation<'_, D>,
    id: i64,
    moderator: Moderator,
    reason: &str,
) -> Result<UserReport, ModerationError> {
    decide_report(cx, id, ModerationAction::RejectReport, moderator, reason).await
}

/// A moderator accepts (the entity's user reports are rejected) or rejects a pending appeal; the owner,
/// and for an accepted appeal each reporter, is told.
pub async fn decide_appeal<D: Dispatch>(
    cx: &Moderation<'_, D>,
    id: i64,
    decision: AppealDecision,
    moderator: Moderator,
    reason: &str,
) -> Result<Appeal, ModerationError> {
    let accept = decision == AppealDecision::Accept;
    let decided = cx
        .store
        .moderate_appeal(id, accept, &record(cx, moderator, reason))
        .await?;
    match decided {
        None => Err(ModerationError::NotFound),
        Some(AppealDecided::AlreadyDecided(appeal)) => {
            Err(ModerationError::AlreadyDecided(Box::new(appeal)))
        }
        Some(AppealDecided::Decided(moderated)) => {
            let action = if accept {
                ModerationAction::AcceptAppeal
            } else {
                ModerationAction::RejectAppeal
            };
            count_decision(action);
            tracing::info!(
                appeal = id,
                action = action.as_str(),
                moderator = moderator.as_str(),
                "appeal decided"
            );
            notify(cx, &moderated.notified).await;
            Ok(moderated.subject)
        }
    }
}

async fn decide_report<D: Dispatch>(
    cx: &Moderation<'_, D>,
    id: i64,
    action: ModerationAction,
    moderator: Moderator,
    reason: &str,
) -> Result<UserReport, ModerationError> {
    let moderated = cx
        .store
        .moderate_report(id, action, &record(cx, moderator, reason))
        .await?
        .ok_or(ModerationError::NotFound)?;
    count_decision(action);
    let result = match action {
        ModerationAction::VerifyReport => ReportResult::Verified,
        _ => ReportResult::Rejected,
    };
    metrics::counter!(telemetry::SCAM_USER_REPORTS, "result" => result.as_str()).increment(1);
    tracing::info!(
        report = id,
        action = action.as_str(),
        moderator = moderator.as_str(),
        "user report decided"
    );
    notify(cx, &moderated.notified).await;
    Ok(moderated.subject)
}

fn record<'a, D>(
    cx: &Moderation<'a, D>,
    moderator: Moderator,
    reason: &'a str,
) -> ModerationRecord<'a> {
    ModerationRecord {
        moderator: moderator.as_str(),
        reason,
        at: cx.now,
        notice_expires_at: notice_expiry(cx.now),
        notice_text: &text::outcome_notice,
    }
}

fn count_decision(action: ModerationAction) {
    metrics::counter!(telemetry::MODERATION_DECISIONS, "action" => action.as_str()).increment(1);
}

/// Sends the new notices whose users' window is open; the rest wait. The decision is committed already,
/// so a failure here only delays a notice.
async fn notify<D: Dispatch>(cx: &Moderation<'_, D>, users: &[UserId]) {
    for user in users {
        if let Err(e) = deliver_waiting(cx, Some(user), None).await {
            tracing::warn!(error = %e, user = %user.short_hash(), "outcome notice left waiting");
        }
    }
}

/// Files one pending report per entity `user` named, under the daily cap, and answers.
pub async fn file_user_reports(
    store: &Store,
    user: &UserId,
    command: &ReportCommand,
    reports: &[NewUserReport],
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let Some(first) = reports.first() else {
        return Ok(crate::reply::templates::REPORT_USAGE.to_string());
    };
    let today = vietnam_day_start(vietnam_day(now));
    let mut filed_today = store
        .reports_filed_since(&first.reporter_hash, today)
        .await?;
    let mut filed = Vec::new();
    let mut refused = Vec::new();
    for (entity, report) in command.entities.iter().zip(reports) {
        let result = if reports_admitted(filed_today, 1) == 0 {
            refused.push(entity.raw.clone());
            ReportResult::OverCap
        } else {
            match store.file_user_report(report, Some(user), now).await? {
                UserReportOutcome::Created(_) => {
                    filed_today += 1;
                    filed.push((entity.raw.clone(), true));
                    ReportResult::Created
                }
                UserReportOutcome::AlreadyReported(_) => {
                    filed.push((entity.raw.clone(), false));
                    ReportResult::Duplicate
                }
            }
        };
        metrics::counter!(telemetry::SCAM_USER_REPORTS, "result" => result.as_str()).increment(1);
    }
    Ok(text::report_answer(&filed, &refused))
}

/// Files `user`'s appeal about each of `entities` and answers. An entity nobody reported is not appealed.
pub async fn file_appeals(
    store: &Store,
    user: &UserId,
    entities: &[Entity],
    note: &str,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    if entities.is_empty() {
        return Ok(text::APPEAL_NEEDS_ENTITY.to_string());
    }
    let mut appealed = Vec::new();
    let mut unreported = Vec::new();
    for entity in entities {
        let subject = (entity.kind, entity.value.clone());
        match store
            .file_appeal(entity.kind, &entity.value, user, note, now)
            .await?
        {
            AppealFiled::Filed(id) => {
                tracing::info!(appeal = id, entity = %entity.masked(), "appeal filed");
                appealed.push(subject);
            }
            AppealFiled::AlreadyPending(_) => appealed.push(subject),
            AppealFiled::NothingReported => unreported.push(subject),
        }
    }
    Ok(text::appeal_answer(&appealed, &unreported))
}
