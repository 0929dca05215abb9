//! User reports through moderation: filing one (and, with a second independent reporter, publishing it),
//! a moderator's verify or reject with its audit row and the reporter's notice in the same transaction,
//! and how an entity's user reports are published to the report index by [`crate::scam::trust`].

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TryInsertResult,
};

use super::entities::{moderation_audit, moderation_notices, scam_reports, scam_user_reports};
use super::reports::{ACTIVE, REMOVED, USER_REPORTS_SOURCE};
use super::{NewUserReport, Store, StoreResult, UserReport, UserReportOutcome};
use crate::domain::UserId;
use crate::domain::notice::NoticeStatus;
use crate::scam::EntityKind;
use crate::scam::trust::{EntityReporter, ModerationAction, TrackRecord, published, weight};

/// Where a user report stands.
pub(super) const PENDING: &str = "pending";
pub(super) const VERIFIED: &str = "verified";
pub(super) const REJECTED: &str = "rejected";

/// Writes the text of the notice that tells someone a moderation outcome about `(kind, value)`.
pub type NoticeText<'a> = &'a (dyn Fn(ModerationAction, EntityKind, &str) -> String + Send + Sync);

/// Who decided, when, why, and how the people concerned are told.
pub struct ModerationRecord<'a> {
    /// The moderator as audited (`admin_token`, `cli`, `console`).
    pub moderator: &'a str,
    pub reason: &'a str,
    pub at: DateTime<Utc>,
    /// When the notices this decision creates stop waiting for their users.
    pub notice_expires_at: DateTime<Utc>,
    pub notice_text: NoticeText<'a>,
}

/// One row of the moderation audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub moderator: String,
    /// A [`ModerationAction`] label.
    pub action: String,
    /// The report's or the appeal's id.
    pub subject_id: i64,
    pub kind: String,
    pub value: String,
    pub reason: String,
}

/// A decided report, and the users its notices are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderated<T> {
    pub subject: T,
    /// Users with a new waiting notice.
    pub notified: Vec<UserId>,
}

impl Store {
    /// Files a user report (`reporter`: the Zalo user to tell the outcome, none for an admin's); a
    /// reporter's second report of the same entity is not a new one. A new report is published at once
    /// when it makes the entity's reporters enough to warn.
    pub async fn file_user_report(
        &self,
        report: &NewUserReport,
        reporter: Option<&UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<UserReportOutcome> {
        let txn = self.begin_write().await?;
        let model = scam_user_reports::ActiveModel {
            id: NotSet,
            kind: Set(report.kind.as_str().to_string()),
            value: Set(report.value.clone()),
            bank_bin: Set(report.bank_bin.clone()),
            category: Set(report.category.clone()),
            note: Set(report.note.clone()),
            reporter_hash: Set(report.reporter_hash.clone()),
            status: Set(PENDING.to_string()),
            created_at: Set(now),
            reviewed_at: Set(None),
            reporter_id: Set(reporter.map(|u| u.as_str().to_string())),
        };
        let inserted = scam_user_reports::Entity::insert(model)
            .on_conflict_do_nothing_on([
                scam_user_reports::Column::Kind,
                scam_user_reports::Column::Value,
                scam_user_reports::Column::ReporterHash,
            ])
            .exec(&txn)
            .await?;
        if let TryInsertResult::Inserted(result) = inserted {
            reaggregate(&txn, report.kind.as_str(), &report.value, now).await?;
            txn.commit().await?;
            return Ok(UserReportOutcome::Created(result.last_insert_id));
        }
        let existing = scam_user_reports::Entity::find()
            .filter(scam_user_reports::Column::Kind.eq(report.kind.as_str()))
            .filter(scam_user_reports::Column::Value.eq(report.value.as_str()))
            .filter(scam_user_reports::Column::ReporterHash.eq(report.reporter_hash.as_str()))
            .one(&txn)
            .await?;
        txn.commit().await?;
        Ok(UserReportOutcome::AlreadyReported(
            existing.map_or(0, |row| row.id),
        ))
    }

    /// Reports `reporter_hash` filed at or after `since` (the daily cap).
    pub async fn reports_filed_since(
        &self,
        reporter_hash: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<u64> {
        Ok(scam_user_reports::Entity::find()
            .filter(scam_user_reports::Column::ReporterHash.eq(reporter_hash))
            .filter(scam_user_reports::Column::CreatedAt.gte(since))
            .count(&self.db)
            .await?)
    }

    /// One user report.
    pub async fn user_report(&self, id: i64) -> StoreResult<Option<UserReport>> {
        Ok(scam_user_reports::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(user_report_from))
    }

    /// User reports, newest first; only those with `status` when given.
    pub async fn user_reports(
        &self,
        status: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<UserReport>> {
        let mut query = scam_user_reports::Entity::find();
        if let Some(status) = status {
            query = query.filter(scam_user_reports::Column::Status.eq(status));
        }
        let rows = query
            .order_by_desc(scam_user_reports::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(user_report_from).collect())
    }

    /// A moderator verifies (`VerifyReport`) or rejects (`RejectReport`) a user report, in one transaction:
    /// its status, the audit row, the reporter's waiting notice, and what the index publishes for the
    /// entity and (since the reporter's weight moved) for every other entity the reporter reported.
    /// `None` when there is no such report.
    pub async fn moderate_report(
        &self,
        id: i64,
        action: ModerationAction,
        record: &ModerationRecord<'_>,
    ) -> StoreResult<Option<Moderated<UserReport>>> {
        let status = match action {
            ModerationAction::VerifyReport => VERIFIED,
            ModerationAction::RejectReport => REJECTED,
            ModerationAction::AcceptAppeal | ModerationAction::RejectAppeal => return Ok(None),
        };
        let txn = self.begin_write().await?;
        let Some(found) = scam_user_reports::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(None);
        };
        let notified = decide_report(&txn, found.clone(), status, action, record).await?;
        reaggregate_reporter(&txn, &found.reporter_hash, record.at).await?;
        let updated = scam_user_reports::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .map(user_report_from);
        txn.commit().await?;
        Ok(updated.map(|subject| Moderated {
            subject,
            notified: notified.into_iter().collect(),
        }))
    }

    /// The audit log, newest first.
    pub async fn moderation_audit(&self, limit: u64) -> StoreResult<Vec<AuditEntry>> {
        let rows = moderation_audit::Entity::find()
            .order_by_desc(moderation_audit::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: r.at,
                moderator: r.moderator,
                action: r.action,
                subject_id: r.subject_id,
                kind: r.kind,
                value: r.value,
                reason: r.reason,
            })
            .collect())
    }
}

/// Sets one report's status with its audit row and its reporter's notice; the caller republishes.
pub(super) async fn decide_report(
    txn: &impl ConnectionTrait,
    found: scam_user_reports::Model,
    status: &str,
    action: ModerationAction,
    record: &ModerationRecord<'_>,
) -> StoreResult<Option<UserId>> {
    // Deciding the same again is audited, but the reporter has been told already.
    let changed = found.status != status;
    let mut model: scam_user_reports::ActiveModel = found.clone().into();
    model.status = Set(status.to_string());
    model.reviewed_at = Set(Some(record.at));
    model.update(txn).await?;
    audit(txn, record, action, found.id, &found.kind, &found.value).await?;
    let reporter = found
        .reporter_id
        .as_deref()
        .and_then(|id| UserId::parse(id).ok())
        .filter(|_| changed);
    let kind = EntityKind::parse(&found.kind);
    if let (Some(user), Some(kind)) = (&reporter, kind) {
        let text = (record.notice_text)(action, kind, &found.value);
        add_notice(txn, user, action, found.id, &text, record).await?;
    }
    Ok(reporter)
}

pub(super) async fn audit(
    txn: &impl ConnectionTrait,
    record: &ModerationRecord<'_>,
    action: ModerationAction,
    subject_id: i64,
    kind: &str,
    value: &str,
) -> StoreResult<()> {
    moderation_audit::ActiveModel {
        id: NotSet,
        at: Set(record.at),
        moderator: Set(record.moderator.to_string()),
        action: Set(action.as_str().to_string()),
        subject_id: Set(subject_id),
        kind: Set(kind.to_string()),
        value: Set(value.to_string()),
        reason: Set(record.reason.to_string()),
    }
    .insert(txn)
    .await?;
    Ok(())
}

pub(super) async fn add_notice(
    txn: &impl ConnectionTrait,
    user: &UserId,
    action: ModerationAction,
    subject_id: i64,
    text: &str,
    record: &ModerationRecord<'_>,
) -> StoreResult<()> {
    moderation_notices::ActiveModel {
        id: NotSet,
        zalo_user_id: Set(user.as_str().to_string()),
        kind: Set(action.as_str().to_string()),
        subject_id: Set(subject_id),
        text: Set(text.to_string()),
        status: Set(NoticeStatus::Waiting.as_str().to_string()),
        created_at: Set(record.at),
        expires_at: Set(record.notice_expires_at),
        sent_at: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Republishes every entity `reporter_hash` reported and still stands by: their weight just moved.
pub(super) async fn reaggregate_reporter(
    txn: &impl ConnectionTrait,
    reporter_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let entities: Vec<(String, String)> = scam_user_reports::Entity::find()
        .select_only()
        .column(scam_user_reports::Column::Kind)
        .column(scam_user_reports::Column::Value)
        .filter(scam_user_reports::Column::ReporterHash.eq(reporter_hash))
        .into_tuple()
        .all(txn)
        .await?;
    let unique: HashSet<(String, String)> = entities.into_iter().collect();
    for (kind, value) in unique {
        reaggregate(txn, &kind, &value, now).await?;
    }
    Ok(())
}

/// Publishes the entity's user reports under [`USER_REPORTS_SOURCE`] when they warn (see
/// [`crate::scam::trust`]), and withdraws them when they no longer do.
pub(super) async fn reaggregate(
    txn: &impl ConnectionTrait,
    kind: &str,
    value: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let standing = scam_user_reports::Entity::find()
        .filter(scam_user_reports::Column::Kind.eq(kind))
        .filter(scam_user_reports::Column::Value.eq(value))
        .filter(scam_user_reports::Column::Status.is_in([PENDING, VERIFIED]))
        .order_by_desc(scam_user_reports::Column::CreatedAt)
        .all(txn)
        .await?;
    let records = track_records(txn, standing.iter().map(|r| r.reporter_hash.as_str())).await?;
    let reporters: Vec<EntityReporter> = standing
        .iter()
        .map(|r| EntityReporter {
            verified: r.status == VERIFIED,
            weight: weight(records.get(&r.reporter_hash).copied().unwrap_or_default()),
        })
        .collect();
    let existing = scam_reports::Entity::find()
        .filter(scam_reports::Column::Kind.eq(kind))
        .filter(scam_reports::Column::Value.eq(value))
        .filter(scam_reports::Column::Source.eq(USER_REPORTS_SOURCE))
        .one(txn)
        .await?;
    let (Some(publish), Some(latest)) = (published(&reporters), standing.first()) else {
        if let Some(row) = existing.filter(|row| row.status != REMOVED) {
            let mut row: scam_reports::ActiveModel = row.into();
            row.status = Set(REMOVED.to_string());
            row.updated_at = Set(now);
            row.update(txn).await?;
        }
        return Ok(());
    };
    let first = standing.iter().map(|r| r.created_at).min().unwrap_or(now);
    let bank_bin = standing.iter().find_map(|r| r.bank_bin.clone());
    let category = standing
        .iter()
        .find(|r| r.status == VERIFIED)
        .unwrap_or(latest)
        .category
        .clone();
    let mut row = match existing {
        Some(row) => row.into(),
        None => scam_reports::ActiveModel {
            id: NotSet,
            kind: Set(kind.to_string()),
            value: Set(value.to_string()),
            source: Set(USER_REPORTS_SOURCE.to_string()),
            ..Default::default()
        },
    };
    row.bank_bin = Set(bank_bin);
    row.category = Set(category);
    row.report_count = Set(publish.report_count);
    row.first_reported_at = Set(first);
    row.last_reported_at = Set(latest.created_at);
    row.verified = Set(publish.verified);
    row.status = Set(ACTIVE.to_string());
    row.updated_at = Set(now);
    row.save(txn).await?;
    Ok(())
}

/// Verified and rejected reports per reporter, over everything they reported.
async fn track_records<'a>(
    txn: &impl ConnectionTrait,
    reporters: impl Iterator<Item = &'a str>,
) -> StoreResult<HashMap<String, TrackRecord>> {
    let reporters: HashSet<&str> = reporters.collect();
    if reporters.is_empty() {
        return Ok(HashMap::new());
    }
    let counts: Vec<(String, String, i64)> = scam_user_reports::Entity::find()
        .select_only()
        .column(scam_user_reports::Column::ReporterHash)
        .column(scam_user_reports::Column::Status)
        .column_as(scam_user_reports::Column::Id.count(), "n")
        .filter(scam_user_reports::Column::ReporterHash.is_in(reporters))
        .filter(scam_user_reports::Column::Status.is_in([VERIFIED, REJECTED]))
        .group_by(scam_user_reports::Column::ReporterHash)
        .group_by(scam_user_reports::Column::Status)
        .into_tuple()
        .all(txn)
        .await?;
    let mut records: HashMap<String, TrackRecord> = HashMap::new();
    for (reporter, status, n) in counts {
        let record = records.entry(reporter).or_default();
        let n = u64::try_from(n).unwrap_or(0);
        if status == VERIFIED {
            record.verified = n;
        } else {
            record.rejected = n;
        }
    }
    Ok(records)
}

pub(super) fn user_report_from(row: scam_user_reports::Model) -> UserReport {
    UserReport {
        id: row.id,
        kind: row.kind,
        value: row.value,
        bank_bin: row.bank_bin,
        category: row.category,
        note: row.note,
        status: row.status,
        created_at: row.created_at,
        reviewed_at: row.reviewed_at,
        reporter: row.reporter_id.and_then(|id| UserId::parse(id).ok()),
    }
}
