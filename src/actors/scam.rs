//! Scam detector: owns the in-memory report index, keeps it in sync with the `scam_reports` table, and
//! checks messages against it (extraction, verdicts and signals are pure, in `scam::check`). Also runs the
//! scheduled download of the configured scam-domain list.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::task::JoinHandle;

use super::{Deps, Directory};
use crate::faults::FaultPoint;
use crate::pipeline::Role;
use crate::scam::EntityKind;
use crate::scam::check::{CheckOutcome, check};
use crate::scam::index::ReportIndex;
use crate::store::{Store, StoreError};
use crate::telemetry;

/// Rows read per query while (re)loading the index.
const LOAD_PAGE: u64 = 50_000;
/// Rows changed this long before the newest change already seen are read again on the next sync.
/// Architecture Invariant: a writer commits within this long after stamping `updated_at` (imports commit in
/// batches of 20,000 rows), so a transaction that commits late is still picked up.
const CHANGE_SLACK: chrono::Duration = chrono::Duration::seconds(10);

pub struct ScamActor;

pub struct ScamState {
    deps: Deps,
    index: IndexSync,
    sync_task: Option<JoinHandle<()>>,
}

pub enum ScamMsg {
    /// Every entity in `text` with its verdict, and the scam-phrase signals.
    Check {
        text: String,
        reply: RpcReplyPort<CheckOutcome>,
    },
    /// Reports changed in this process (an import, a moderated user report): pick them up now.
    Refresh,
}

impl Directory {
    pub fn scam(&self) -> Option<ActorRef<ScamMsg>> {
        self.lookup(Role::Scam)
    }
}

/// The index and how far it has read the table.
pub struct IndexSync {
    index: ReportIndex,
    watermark: Option<DateTime<Utc>>,
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
        loop {
            let page = store.changed_reports(since, cursor, LOAD_PAGE).await?;
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
        let started = Instant::now();
        let outcome = check(&self.index, text, now);
        let per_entity = started.elapsed().as_secs_f64() / outcome.findings.len().max(1) as f64;
        for finding in &outcome.findings {
            let kind = finding.entity.kind.as_str();
            metrics::counter!(telemetry::SCAM_LOOKUPS, "kind" => kind, "verdict" => finding.verdict.as_str())
                .increment(1);
            metrics::histogram!(telemetry::SCAM_LOOKUP_DURATION, "kind" => kind).record(per_entity);
        }
        for signal in &outcome.signals {
            metrics::counter!(telemetry::SCAM_SIGNALS, "scenario" => signal.scenario.as_str())
                .increment(1);
        }
        outcome
    }
}

impl Actor for ScamActor {
    type Msg = ScamMsg;
    type State = ScamState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Scam);
        let sync_task = deps
            .settings
            .scam
            .sync_url
            .clone()
            .filter(|_| deps.recovery)
            .map(|url| {
                let store = deps.store.clone();
                let settings = deps.settings.scam.clone();
                tokio::spawn(async move {
                    let mut ticker = tokio::time::interval(settings.sync_interval);
                    loop {
                        ticker.tick().await;
                        match crate::scam_sync::sync_once(&store, &url, &settings).await {
                            Ok(summary) => {
                                tracing::info!(%summary, "scam list synced");
                                let _ = super::tell(Role::Scam, &myself, ScamMsg::Refresh);
                            }
                            Err(e) => tracing::warn!(error = %e, "scam list sync failed"),
                        }
                    }
                })
            });
        Ok(ScamState {
            deps,
            index: IndexSync::new(),
            sync_task,
        })
    }

    async fn post_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Load at start so the first message does not pay for it; a failure is retried on the first check.
        if let Err(e) = state.index.sync(&state.deps.store).await {
            tracing::warn!(error = %e, "scam index not loaded at start; retrying on the first check");
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(task) = state.sync_task.take() {
            task.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::Scam);
        match msg {
            ScamMsg::Check { text, reply } => {
                state.deps.faults.trip(FaultPoint::Scam);
                state
                    .index
                    .sync_if_stale(&state.deps.store, state.deps.settings.scam.index_refresh)
                    .await?;
                let outcome = state.index.check(&text, state.deps.clock.now());
                if !reply.is_closed() {
                    let _ = reply.send(outcome);
                }
            }
            ScamMsg::Refresh => {
                if let Err(e) = state.index.sync(&state.deps.store).await {
                    tracing::warn!(error = %e, "scam index refresh failed");
                }
            }
        }
        Ok(())
    }
}
