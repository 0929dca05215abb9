//! Scam reports (imported lists and moderated user reports), user reports awaiting moderation, and the
//! backup log.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{backup_runs, scam_reports};
use super::{Store, StoreResult};
use crate::scam::EntityKind;
pub use crate::scam::import::NewReport;
use crate::scam::index::ReportRow;

/// Status of a report row that counts.
pub(super) const ACTIVE: &str = "active";
/// Status of a row its source no longer lists.
pub(super) const REMOVED: &str = "removed";
/// The source under which moderated user reports are aggregated.
pub const USER_REPORTS_SOURCE: &str = "user_reports";

/// A report row with its change stamp, for keeping the in-memory index in sync.
#[derive(Debug, Clone)]
pub struct ChangedReport {
    pub id: i64,
    pub updated_at: DateTime<Utc>,
    pub row: ReportRow,
}

/// A report a user (or an admin) filed, awaiting moderation.
#[derive(Debug, Clone)]
pub struct NewUserReport {
    pub kind: EntityKind,
    pub value: String,
    pub bank_bin: Option<String>,
    pub category: String,
    pub note: String,
    /// Hash of the reporter's id (see the migration): one report per reporter and entity.
    pub reporter_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserReport {
    pub id: i64,
    pub kind: String,
    pub value: String,
    pub bank_bin: Option<String>,
    pub category: String,
    pub note: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The Zalo user told the outcome (none for an admin's report); never shown in listings.
    #[serde(skip)]
    pub reporter: Option<crate::domain::UserId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserReportOutcome {
    Created(i64),
    /// This reporter already reported this entity; nothing changed.
    AlreadyReported(i64),
}

/// A finished backup, as logged for the stale-backup alert.
#[derive(Debug, Clone)]
pub struct BackupRun {
    pub finished_at: DateTime<Utc>,
    pub file: String,
    pub bytes: i64,
}

impl Store {
    /// Inserts or refreshes reports (keyed by kind, value and source) in batches. A row whose values did not
    /// change is left alone (its change stamp too), so importing the same list twice changes nothing.
    /// Returns the rows inserted or changed.
    pub async fn upsert_reports(&self, reports: &[NewReport]) -> StoreResult<u64> {
        // 1,000 rows × 12 columns stays under SQLite's 32,766 bound parameters; one transaction per
        // 20 batches keeps commits (and their fsyncs) few without holding the write lock for long.
        const BATCH: usize = 1_000;
        const BATCHES_PER_TRANSACTION: usize = 20;
        let now = Utc::now();
        let mut written = 0;
        for group in reports.chunks(BATCH * BATCHES_PER_TRANSACTION) {
            let txn = self.begin_write().await?;
            for chunk in group.chunks(BATCH) {
                let models = chunk.iter().map(|r| scam_reports::ActiveModel {
                    id: NotSet,
                    kind: Set(r.kind.as_str().to_string()),
                    value: Set(r.value.clone()),
                    bank_bin: Set(r.bank_bin.clone()),
                    category: Set(r.category.clone()),
                    report_count: Set(r.report_count),
                    first_reported_at: Set(r.first_reported.unwrap_or(now)),
                    last_reported_at: Set(r.last_reported.or(r.first_reported).unwrap_or(now)),
                    source: Set(r.source.clone()),
                    verified: Set(r.verified),
                    status: Set(ACTIVE.to_string()),
                    updated_at: Set(now),
                });
                written += scam_reports::Entity::insert_many(models)
                    .on_conflict(
                        OnConflict::columns([
                            scam_reports::Column::Kind,
                            scam_reports::Column::Value,
                            scam_reports::Column::Source,
                        ])
                        .update_columns([
                            scam_reports::Column::Category,
                            scam_reports::Column::ReportCount,
                            scam_reports::Column::BankBin,
                            scam_reports::Column::LastReportedAt,
                            scam_reports::Column::Verified,
                            scam_reports::Column::Status,
                            scam_reports::Column::UpdatedAt,
                        ])
                        // Only rows whose content differs: keeps re-imports from touching anything.
                        .action_and_where(Expr::cust(
                            "scam_reports.category <> excluded.category \
                             OR scam_reports.report_count <> excluded.report_count \
                             OR scam_reports.verified <> excluded.verified \
                             OR scam_reports.status <> excluded.status \
                             OR COALESCE(scam_reports.bank_bin, '') <> COALESCE(excluded.bank_bin, '')",
                        ))
                        .to_owned(),
                    )
                    .exec_without_returning(&txn)
                    .await?;
            }
            txn.commit().await?;
        }
        Ok(written)
    }

    /// Marks `source`'s active rows that are not in `keep` as removed (a synced list dropped them).
    /// Returns how many were removed.
    pub async fn remove_reports_not_in(
        &self,
        source: &str,
        keep: &HashSet<(EntityKind, String)>,
    ) -> StoreResult<u64> {
        let rows: Vec<(i64, String, String)> = scam_reports::Entity::find()
            .select_only()
            .column(scam_reports::Column::Id)
            .column(scam_reports::Column::Kind)
            .column(scam_reports::Column::Value)
            .filter(scam_reports::Column::Source.eq(source))
            .filter(scam_reports::Column::Status.eq(ACTIVE))
            .into_tuple()
            .all(&self.db)
            .await?;
        let gone: Vec<i64> = rows
            .into_iter()
            .filter(|(_, kind, value)| {
                EntityKind::parse(kind).is_none_or(|kind| !keep.contains(&(kind, value.clone())))
            })
            .map(|(id, _, _)| id)
            .collect();
        let now = Utc::now();
        let mut removed = 0;
        for chunk in gone.chunks(1_000) {
            let result = scam_reports::Entity::update_many()
                .col_expr(scam_reports::Column::Status, Expr::value(REMOVED))
                .col_expr(scam_reports::Column::UpdatedAt, Expr::value(now))
                .filter(scam_reports::Column::Id.is_in(chunk.iter().copied()))
                .exec(&self.writer)
                .await?;
            removed += result.rows_affected;
        }
        Ok(removed)
    }

    /// Report rows changed at or after `since` (all rows when `None`), after the keyset cursor `after`,
    /// oldest change first, at most `limit`.
    pub async fn changed_reports(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<(DateTime<Utc>, i64)>,
        limit: u64,
    ) -> StoreResult<Vec<ChangedReport>> {
        let mut query = scam_reports::Entity::find();
        if let Some(since) = since {
            query = query.filter(scam_reports::Column::UpdatedAt.gte(since));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                Condition::any()
                    .add(scam_reports::Column::UpdatedAt.gt(at))
                    .add(
                        Condition::all()
                            .add(scam_reports::Column::UpdatedAt.eq(at))
                            .add(scam_reports::Column::Id.gt(id)),
                    ),
            );
        }
        let rows = query
            .order_by_asc(scam_reports::Column::UpdatedAt)
            .order_by_asc(scam_reports::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let kind = EntityKind::parse(&r.kind)?;
                Some(ChangedReport {
                    id: r.id,
                    updated_at: r.updated_at,
                    row: ReportRow {
                        kind,
                        active: r.status == ACTIVE,
                        value: r.value,
                        source: r.source,
                        bank_bin: r.bank_bin,
                        category: r.category,
                        report_count: r.report_count,
                        first_reported: r.first_reported_at,
                        last_reported: r.last_reported_at,
                        verified: r.verified,
                    },
                })
            })
            .collect())
    }

    /// Active report rows (all sources).
    pub async fn report_count(&self) -> StoreResult<u64> {
        Ok(scam_reports::Entity::find()
            .filter(scam_reports::Column::Status.eq(ACTIVE))
            .count(&self.db)
            .await?)
    }

    /// Files a user report for moderation without a reporter to tell ([`Store::file_user_report`]).
    pub async fn submit_user_report(
        &self,
        report: &NewUserReport,
        now: DateTime<Utc>,
    ) -> StoreResult<UserReportOutcome> {
        self.file_user_report(report, None, now).await
    }

    /// SQLite only: writes a consistent copy of the database to `path` (`VACUUM INTO`).
    pub async fn vacuum_into(&self, path: &str) -> StoreResult<()> {
        self.writer
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DatabaseBackend::Sqlite,
                "VACUUM INTO ?",
                [path.into()],
            ))
            .await?;
        Ok(())
    }

    /// Logs a finished backup.
    pub async fn record_backup(&self, run: &BackupRun) -> StoreResult<()> {
        backup_runs::ActiveModel {
            id: NotSet,
            finished_at: Set(run.finished_at),
            file: Set(run.file.clone()),
            bytes: Set(run.bytes),
        }
        .insert(&self.writer)
        .await?;
        Ok(())
    }

    /// When the last backup finished, if any did.
    pub async fn last_backup_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(backup_runs::Entity::find()
            .order_by_desc(backup_runs::Column::FinishedAt)
            .one(&self.db)
            .await?
            .map(|run| run.finished_at))
    }
}
