//! The report index and how far it has read the `scam_reports` table: every sync reads the rows changed since
//! the last one, so imports, moderated user reports and list syncs reach the index without a reload.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::scam::check::{CheckOutcome, check_extracted};
use crate::scam::extract::extract;
use crate::scam::index::ReportIndex;
use crate::scam::{Entity, EntityKind};
use crate::store::{Store, StoreError};
use crate::telemetry;

/// Rows read per query while (re)loading the index.
const LOAD_PAGE: u64 = 50_000;
/// Rows changed this long before the newest change already seen are read again on the next sync.
/// Architecture Invariant: a writer commits within this long after stamping `updated_at` (imports commit in
/// batches of 20,000 rows), so a transaction that commits late is still picked up.
const CHANGE_SLACK: chrono::Duration = chrono::Duration::seconds(10);

/// The index and how far it has read the table.
pub struct IndexSync {
    index: ReportIndex,
    /// The newest `updated_at` read so far.
    watermark: Option<DateTime<Utc>>,
    /// When the last sync succeeded.
    last_sync: Option<Instant>,
}

impl Default for IndexSync {
    fn default() -> Self {
        Self::new()
    }
}

impl IndexSync {
    #[must_use]
    pub fn new() -> Self {
        Self {
            index: ReportIndex::new(),
            watermark: None,
            last_sync: None,
        }
    }

    #[must_use]
    pub fn index(&self) -> &ReportIndex {
        &self.index
    }

    /// Reads every row changed since the last sync (all rows the first time) into the index.
    pub async fn sync(&mut self, store: &Store) -> Result<(), StoreError> {
        let since = self.watermark.map(|w| w - CHANGE_SLACK);
        let mut cursor = None;
        let mut newest = self.watermark;
        let first = self.last_sync.is_none();
        let mut changed = false;
        loop {
            let page = store.changed_reports(since, cursor, LOAD_PAGE).await?;
            changed |= !page.is_empty();
            for changed in &page {
                self.index.apply(&changed.row);
            }
            if let Some(last) = page.last() {
                cursor = Some((last.updated_at, last.id));
                newest = newest.max(Some(last.updated_at));
            }
            if (page.len() as u64) < LOAD_PAGE {
                break;
            }
        }
        // A feed's title changes only with a sync of it, which changes rows.
        if first || changed {
            for feed in store.feed_states().await? {
                self.index.set_source_title(&feed.name, &feed.title);
            }
        }
        // Few rows, read whole each time: an appeal is filed or decided without touching a report row.
        let appealed = store.appealed_entities().await?;
        self.index
            .set_under_review(appealed.iter().map(|(kind, value)| (*kind, value.as_str())));
        self.watermark = newest;
        self.last_sync = Some(Instant::now());
        for kind in EntityKind::ALL {
            metrics::gauge!(telemetry::SCAM_REPORTS_INDEXED, "kind" => kind.as_str())
                .set(self.index.len(kind) as f64);
        }
        Ok(())
    }

    /// Syncs when the last sync is older than `max_age` (or never happened). A failed sync keeps serving
    /// the index already loaded; only an index that was never loaded makes the check fail (and be retried).
    pub async fn sync_if_stale(
        &mut self,
        store: &Store,
        max_age: Duration,
    ) -> Result<(), StoreError> {
        let stale = self.last_sync.is_none_or(|at| at.elapsed() >= max_age);
        if !stale {
            return Ok(());
        }
        match self.sync(store).await {
            Ok(()) => Ok(()),
            Err(e) if self.last_sync.is_some() => {
                tracing::warn!(error = %e, "scam index sync failed; serving the index already loaded");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Checks `text`, recording lookup metrics.
    #[must_use]
    pub fn check(&self, text: &str, now: DateTime<Utc>) -> CheckOutcome {
        self.check_extracted(text, extract(text), now)
    }

    /// As [`IndexSync::check`], for `entities` already extracted from `text`.
    #[must_use]
    pub fn check_extracted(
        &self,
        text: &str,
        entities: Vec<Entity>,
        now: DateTime<Utc>,
    ) -> CheckOutcome {
        let started = Instant::now();
        let outcome = check_extracted(&self.index, text, entities, now);
        let per_entity = started.elapsed().as_secs_f64() / outcome.findings.len().max(1) as f64;
        for finding in &outcome.findings {
            let kind = finding.entity.kind.as_str();
            metrics::counter!(telemetry::SCAM_LOOKUPS, "kind" => kind, "verdict" => finding.verdict.as_str())
                .increment(1);
            metrics::histogram!(telemetry::SCAM_LOOKUP_DURATION, "kind" => kind).record(per_entity);
        }
        telemetry::count_check(&outcome);
        outcome
    }
}
