//! Read-only views for the moderation console: how many distinct people reported an entity, the users seen
//! lately, and what each report source holds (the scam-list sync among them).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{scam_reports, scam_user_reports, zalo_users};
use super::{Store, StoreResult};

/// Distinct reporters of one entity, by the state of their report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReporterCounts {
    pub pending: u64,
    pub verified: u64,
    pub rejected: u64,
}

/// A user as the console lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenUser {
    pub user_id: String,
    pub followed: bool,
    pub last_seen_at: DateTime<Utc>,
}

/// What one report source holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSummary {
    pub source: String,
    pub active: u64,
    pub removed: u64,
    /// The newest change to any of its rows.
    pub last_changed_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Reporter counts for each `(kind, value)` asked for (absent when nobody reported it).
    pub async fn reporter_counts(
        &self,
        entities: &[(String, String)],
    ) -> StoreResult<HashMap<(String, String), ReporterCounts>> {
        let mut counts: HashMap<(String, String), ReporterCounts> = HashMap::new();
        // Bounded batches keep the OR list well under every backend's parameter limit.
        for batch in entities.chunks(200) {
            let mut any = Condition::any();
            for (kind, value) in batch {
                any = any.add(
                    Condition::all()
                        .add(scam_user_reports::Column::Kind.eq(kind.as_str()))
                        .add(scam_user_reports::Column::Value.eq(value.as_str())),
                );
            }
            let rows: Vec<(String, String, String)> = scam_user_reports::Entity::find()
                .select_only()
                .column(scam_user_reports::Column::Kind)
                .column(scam_user_reports::Column::Value)
                .column(scam_user_reports::Column::Status)
                .filter(any)
                .into_tuple()
                .all(&self.db)
                .await?;
            // One row per reporter and entity (the table's unique key), so rows count reporters.
            for (kind, value, status) in rows {
                let entry = counts.entry((kind, value)).or_default();
                match status.as_str() {
                    "verified" => entry.verified += 1,
                    "rejected" => entry.rejected += 1,
                    _ => entry.pending += 1,
                }
            }
        }
        Ok(counts)
    }

    /// The users seen most recently, newest first.
    pub async fn recent_users(&self, limit: u64) -> StoreResult<Vec<SeenUser>> {
        let rows = zalo_users::Entity::find()
            .order_by_desc(zalo_users::Column::LastSeenAt)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|u| SeenUser {
                user_id: u.zalo_user_id,
                followed: u.followed,
                last_seen_at: u.last_seen_at,
            })
            .collect())
    }

    /// Every report source with its row counts and latest change, by name.
    pub async fn report_sources(&self) -> StoreResult<Vec<SourceSummary>> {
        let rows: Vec<(String, String, i64)> = scam_reports::Entity::find()
            .select_only()
            .column(scam_reports::Column::Source)
            .column(scam_reports::Column::Status)
            .column_as(scam_reports::Column::Id.count(), "n")
            .group_by(scam_reports::Column::Source)
            .group_by(scam_reports::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut sources: Vec<SourceSummary> = Vec::new();
        for (source, status, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            let index = match sources.iter().position(|s| s.source == source) {
                Some(index) => index,
                None => {
                    sources.push(SourceSummary {
                        source: source.clone(),
                        active: 0,
                        removed: 0,
                        last_changed_at: None,
                    });
                    sources.len() - 1
                }
            };
            if status == "active" {
                sources[index].active += n;
            } else {
                sources[index].removed += n;
            }
        }
        for summary in &mut sources {
            summary.last_changed_at = scam_reports::Entity::find()
                .filter(scam_reports::Column::Source.eq(summary.source.as_str()))
                .order_by_desc(scam_reports::Column::UpdatedAt)
                .one(&self.db)
                .await?
                .map(|row| row.updated_at);
        }
        sources.sort_by(|a, b| a.source.cmp(&b.source));
        Ok(sources)
    }
}
