//! Outside scam feeds: what each sync remembered (`scam_feeds`), and the keys a feed lists now.

use std::collections::HashSet;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::{scam_feeds, scam_reports};
use super::reports::ACTIVE;
use super::{Store, StoreResult};
use crate::feeds::{FeedState, SyncResult};
use crate::scam::EntityKind;

impl Store {
    /// Every feed that has been synced at least once, by name.
    pub async fn feed_states(&self) -> StoreResult<Vec<FeedState>> {
        let rows = scam_feeds::Entity::find()
            .order_by_asc(scam_feeds::Column::Name)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(state_from).collect())
    }

    pub async fn feed_state(&self, name: &str) -> StoreResult<Option<FeedState>> {
        Ok(scam_feeds::Entity::find_by_id(name.to_string())
            .one(&self.db)
            .await?
            .map(state_from))
    }

    /// Stores what a sync left behind, replacing the feed's previous state.
    pub async fn save_feed_state(&self, state: &FeedState) -> StoreResult<()> {
        let model = scam_feeds::ActiveModel {
            name: Set(state.name.clone()),
            title: Set(state.title.clone()),
            etag: Set(state.etag.clone()),
            last_modified: Set(state.last_modified.clone()),
            last_attempt_at: Set(state.last_attempt),
            last_success_at: Set(state.last_success),
            last_result: Set(state.last_result.map(|r| r.as_str().to_string())),
            entries: Set(state.entries),
            bad_rows: Set(state.bad_rows),
            failures: Set(state.failures),
        };
        scam_feeds::Entity::insert(model)
            .on_conflict(
                OnConflict::column(scam_feeds::Column::Name)
                    .update_columns([
                        scam_feeds::Column::Title,
                        scam_feeds::Column::Etag,
                        scam_feeds::Column::LastModified,
                        scam_feeds::Column::LastAttemptAt,
                        scam_feeds::Column::LastSuccessAt,
                        scam_feeds::Column::LastResult,
                        scam_feeds::Column::Entries,
                        scam_feeds::Column::BadRows,
                        scam_feeds::Column::Failures,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.writer)
            .await?;
        Ok(())
    }

    /// The keys `source` lists now (its active rows).
    pub async fn active_report_keys(
        &self,
        source: &str,
    ) -> StoreResult<HashSet<(EntityKind, String)>> {
        let rows: Vec<(String, String)> = scam_reports::Entity::find()
            .select_only()
            .column(scam_reports::Column::Kind)
            .column(scam_reports::Column::Value)
            .filter(scam_reports::Column::Source.eq(source))
            .filter(scam_reports::Column::Status.eq(ACTIVE))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, value)| Some((EntityKind::parse(&kind)?, value)))
            .collect())
    }
}

fn state_from(row: scam_feeds::Model) -> FeedState {
    FeedState {
        name: row.name,
        title: row.title,
        etag: row.etag,
        last_modified: row.last_modified,
        last_attempt: row.last_attempt_at,
        last_success: row.last_success_at,
        last_result: row.last_result.as_deref().and_then(SyncResult::parse),
        entries: row.entries,
        bad_rows: row.bad_rows,
        failures: row.failures,
    }
}
