//! Appeals by the owners of reported entities, their decisions, and the outcome notices waiting for
//! their users' window.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::{
    moderation_notices, report_appeals, scam_reports, scam_user_reports, zalo_users,
};
use super::moderation::{
    Moderated, ModerationRecord, PENDING, REJECTED, VERIFIED, add_notice, audit, decide_report,
    reaggregate, reaggregate_reporter,
};
use super::outbound::queue_reply;
use super::reports::ACTIVE;
use super::{QueuedOutbound, Store, StoreResult};
use crate::domain::UserId;
use crate::domain::notice::NoticeStatus;
use crate::scam::EntityKind;
use crate::scam::trust::{AppealStatus, ModerationAction};

/// An owner's appeal against the reports of one entity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Appeal {
    pub id: i64,
    pub kind: String,
    pub value: String,
    /// What the owner wrote.
    pub note: String,
    pub status: AppealStatus,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
    /// The Zalo user who appealed; never shown in listings.
    #[serde(skip)]
    pub appellant: Option<UserId>,
}

/// What filing an appeal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealFiled {
    Filed(i64),
    /// This owner's appeal about it already waits.
    AlreadyPending(i64),
    /// No user report and no list names it: nothing to appeal.
    NothingReported,
}

/// What a decision on an appeal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppealDecided {
    Decided(Moderated<Appeal>),
    /// It was decided before; nothing changed.
    AlreadyDecided(Appeal),
}

/// A notice waiting for its user, with when that user was last heard from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingNotice {
    pub id: i64,
    pub user: UserId,
    pub text: String,
    pub expires_at: DateTime<Utc>,
    pub last_interaction: Option<DateTime<Utc>>,
}

impl Store {
    /// Files `appellant`'s appeal about `(kind, value)`, unless theirs already waits or nothing reports it.
    pub async fn file_appeal(
        &self,
        kind: EntityKind,
        value: &str,
        appellant: &UserId,
        note: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<AppealFiled> {
        let txn = self.begin_write().await?;
        let waiting = report_appeals::Entity::find()
            .filter(report_appeals::Column::Kind.eq(kind.as_str()))
            .filter(report_appeals::Column::Value.eq(value))
            .filter(report_appeals::Column::AppellantId.eq(appellant.as_str()))
            .filter(report_appeals::Column::Status.eq(AppealStatus::Pending.as_str()))
            .one(&txn)
            .await?;
        if let Some(waiting) = waiting {
            return Ok(AppealFiled::AlreadyPending(waiting.id));
        }
        let user_reports = scam_user_reports::Entity::find()
            .filter(scam_user_reports::Column::Kind.eq(kind.as_str()))
            .filter(scam_user_reports::Column::Value.eq(value))
            .filter(scam_user_reports::Column::Status.is_in([PENDING, VERIFIED]))
            .one(&txn)
            .await?;
        let listed = scam_reports::Entity::find()
            .filter(scam_reports::Column::Kind.eq(kind.as_str()))
            .filter(scam_reports::Column::Value.eq(value))
            .filter(scam_reports::Column::Status.eq(ACTIVE))
            .one(&txn)
            .await?;
        if user_reports.is_none() && listed.is_none() {
            return Ok(AppealFiled::NothingReported);
        }
        let row = report_appeals::ActiveModel {
            id: NotSet,
            kind: Set(kind.as_str().to_string()),
            value: Set(value.to_string()),
            appellant_id: Set(appellant.as_str().to_string()),
            note: Set(note.chars().take(500).collect()),
            status: Set(AppealStatus::Pending.as_str().to_string()),
            created_at: Set(now),
            decided_at: Set(None),
            decided_by: Set(None),
            reason: Set(None),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(AppealFiled::Filed(row.id))
    }

    /// Appeals, newest first; only those with `status` when given.
    pub async fn appeals(
        &self,
        status: Option<AppealStatus>,
        limit: u64,
    ) -> StoreResult<Vec<Appeal>> {
        let mut query = report_appeals::Entity::find();
        if let Some(status) = status {
            query = query.filter(report_appeals::Column::Status.eq(status.as_str()));
        }
        let rows = query
            .order_by_desc(report_appeals::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().filter_map(appeal_from).collect())
    }

    /// The entities whose appeals wait for a moderator.
    pub async fn appealed_entities(&self) -> StoreResult<Vec<(EntityKind, String)>> {
        let rows: Vec<(String, String)> = report_appeals::Entity::find()
            .select_only()
            .column(report_appeals::Column::Kind)
            .column(report_appeals::Column::Value)
            .filter(report_appeals::Column::Status.eq(AppealStatus::Pending.as_str()))
            .distinct()
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, value)| Some((EntityKind::parse(&kind)?, value)))
            .collect())
    }

    /// A moderator accepts or rejects a pending appeal, in one transaction: its status, the audit row, the
    /// owner's notice, and for an accepted one every standing user report of the entity rejected (each
    /// audited, each reporter told) and the entity and those reporters' other entities republished.
    /// `None` when there is no such appeal.
    pub async fn moderate_appeal(
        &self,
        id: i64,
        accept: bool,
        record: &ModerationRecord<'_>,
    ) -> StoreResult<Option<AppealDecided>> {
        let action = if accept {
            ModerationAction::AcceptAppeal
        } else {
            ModerationAction::RejectAppeal
        };
        let status = if accept {
            AppealStatus::Accepted
        } else {
            AppealStatus::Rejected
        };
        let txn = self.begin_write().await?;
        let Some(found) = report_appeals::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(None);
        };
        if found.status != AppealStatus::Pending.as_str() {
            return Ok(appeal_from(found).map(AppealDecided::AlreadyDecided));
        }
        let mut model: report_appeals::ActiveModel = found.clone().into();
        model.status = Set(status.as_str().to_string());
        model.decided_at = Set(Some(record.at));
        model.decided_by = Set(Some(record.moderator.to_string()));
        model.reason = Set(Some(record.reason.to_string()));
        let updated = model.update(&txn).await?;
        audit(&txn, record, action, id, &found.kind, &found.value).await?;
        let mut notified = Vec::new();
        let kind = EntityKind::parse(&found.kind);
        if let (Ok(owner), Some(kind)) = (UserId::parse(found.appellant_id.clone()), kind) {
            let text = (record.notice_text)(action, kind, &found.value);
            add_notice(&txn, &owner, action, id, &text, record).await?;
            notified.push(owner);
        }
        if accept {
            let reason = format!("appeal #{id} accepted: {}", record.reason);
            let consequence = ModerationRecord {
                reason: &reason,
                ..*record
            };
            let standing = scam_user_reports::Entity::find()
                .filter(scam_user_reports::Column::Kind.eq(found.kind.as_str()))
                .filter(scam_user_reports::Column::Value.eq(found.value.as_str()))
                .filter(scam_user_reports::Column::Status.is_in([PENDING, VERIFIED]))
                .all(&txn)
                .await?;
            for report in standing {
                let reporter_hash = report.reporter_hash.clone();
                let action = ModerationAction::RejectReport;
                if let Some(user) =
                    decide_report(&txn, report, REJECTED, action, &consequence).await?
                {
                    notified.push(user);
                }
                reaggregate_reporter(&txn, &reporter_hash, record.at).await?;
            }
            reaggregate(&txn, &found.kind, &found.value, record.at).await?;
        }
        txn.commit().await?;
        Ok(appeal_from(updated)
            .map(|subject| AppealDecided::Decided(Moderated { subject, notified })))
    }

    /// Waiting notices, oldest first, for `user` only when given, with their users' last interaction.
    pub async fn waiting_notices(
        &self,
        user: Option<&UserId>,
        limit: u64,
    ) -> StoreResult<Vec<WaitingNotice>> {
        let mut query = moderation_notices::Entity::find()
            .filter(moderation_notices::Column::Status.eq(NoticeStatus::Waiting.as_str()));
        if let Some(user) = user {
            query = query.filter(moderation_notices::Column::ZaloUserId.eq(user.as_str()));
        }
        let rows = query
            .order_by_asc(moderation_notices::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let users: Vec<&str> = rows.iter().map(|r| r.zalo_user_id.as_str()).collect();
        let seen: std::collections::HashMap<String, DateTime<Utc>> = zalo_users::Entity::find()
            .select_only()
            .column(zalo_users::Column::ZaloUserId)
            .column(zalo_users::Column::LastSeenAt)
            .filter(zalo_users::Column::ZaloUserId.is_in(users))
            .into_tuple::<(String, DateTime<Utc>)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(WaitingNotice {
                    id: r.id,
                    last_interaction: seen.get(&r.zalo_user_id).copied(),
                    user: UserId::parse(r.zalo_user_id).ok()?,
                    text: r.text,
                    expires_at: r.expires_at,
                })
            })
            .collect())
    }

    /// Sends a waiting notice: marks it sent and queues its parts, in one transaction, so it is queued at
    /// most once. Empty when it was not waiting any more.
    pub async fn release_notice(
        &self,
        notice: &WaitingNotice,
        parts: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<QueuedOutbound>> {
        let txn = self.begin_write().await?;
        let claimed = moderation_notices::Entity::update_many()
            .col_expr(
                moderation_notices::Column::Status,
                Expr::value(NoticeStatus::Sent.as_str()),
            )
            .col_expr(moderation_notices::Column::SentAt, Expr::value(Some(now)))
            .filter(moderation_notices::Column::Id.eq(notice.id))
            .filter(moderation_notices::Column::Status.eq(NoticeStatus::Waiting.as_str()))
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 0 {
            return Ok(Vec::new());
        }
        let queued = queue_reply(&txn, &notice.user, parts, None, "proactive", now).await?;
        txn.commit().await?;
        Ok(queued)
    }

    /// Marks a waiting notice expired: it is never sent. False when it was not waiting any more.
    pub async fn expire_notice(&self, id: i64) -> StoreResult<bool> {
        let expired = moderation_notices::Entity::update_many()
            .col_expr(
                moderation_notices::Column::Status,
                Expr::value(NoticeStatus::Expired.as_str()),
            )
            .filter(moderation_notices::Column::Id.eq(id))
            .filter(moderation_notices::Column::Status.eq(NoticeStatus::Waiting.as_str()))
            .exec(&self.writer)
            .await?;
        Ok(expired.rows_affected == 1)
    }

    /// Notices per status (for tests and the console).
    pub async fn notice_statuses(&self, user: &UserId) -> StoreResult<Vec<NoticeStatus>> {
        let rows: Vec<String> = moderation_notices::Entity::find()
            .select_only()
            .column(moderation_notices::Column::Status)
            .filter(moderation_notices::Column::ZaloUserId.eq(user.as_str()))
            .order_by_asc(moderation_notices::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.iter().filter_map(|s| NoticeStatus::parse(s)).collect())
    }
}

fn appeal_from(row: report_appeals::Model) -> Option<Appeal> {
    Some(Appeal {
        id: row.id,
        kind: row.kind,
        value: row.value,
        note: row.note,
        status: AppealStatus::parse(&row.status)?,
        created_at: row.created_at,
        decided_at: row.decided_at,
        decided_by: row.decided_by,
        reason: row.reason,
        appellant: UserId::parse(row.appellant_id).ok(),
    })
}
