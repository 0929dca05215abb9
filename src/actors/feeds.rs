//! Feeds: syncs each enabled outside scam feed on its own schedule (`feeds::next_run`), one sync at a time
//! on a task of its own so the actor stays responsive, and asks the scam actor to pick up what changed.

use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::task::JoinHandle;

use super::scam::ScamMsg;
use super::{Deps, Directory};
use crate::feeds::{SyncResult, next_run};
use crate::pipeline::Role;
use crate::reports::{publish, sync_feed};
use crate::telemetry;

/// How often the schedule is looked at; each feed's own period decides whether it is due.
const TICK: Duration = Duration::from_secs(30);

pub struct FeedsActor;

pub struct FeedsState {
    deps: Deps,
    running: Option<JoinHandle<()>>,
}

pub enum FeedsMsg {
    /// Look at the schedule and sync the feeds that are due.
    Tick,
}

impl Directory {
    pub fn feeds(&self) -> Option<ActorRef<FeedsMsg>> {
        self.lookup(Role::Feeds)
    }
}

impl Actor for FeedsActor {
    type Msg = FeedsMsg;
    type State = FeedsState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Feeds);
        Ok(FeedsState {
            deps,
            running: None,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let settings = &state.deps.settings;
        let enabled = settings.scam.feeds.iter().filter(|f| f.enabled);
        // The gauges start from what the database remembers, so a restart does not look like staleness.
        let stored = state.deps.store.feed_states().await.unwrap_or_default();
        for feed in enabled {
            let mut known = stored
                .iter()
                .find(|s| s.name == feed.name)
                .cloned()
                .unwrap_or_default();
            known.name.clone_from(&feed.name);
            publish(&known);
        }
        if state.deps.recovery && settings.scam.feeds.iter().any(|f| f.enabled) {
            super::send_interval_counted(Role::Feeds, &myself, TICK, || FeedsMsg::Tick);
            super::tell(Role::Feeds, &myself, FeedsMsg::Tick)?;
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(task) = state.running.take() {
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
        telemetry::mailbox_out(Role::Feeds);
        match msg {
            FeedsMsg::Tick => {
                if state.running.as_ref().is_some_and(|t| !t.is_finished()) {
                    return Ok(());
                }
                let states = state.deps.store.feed_states().await?;
                let now = state.deps.clock.now();
                let due: Vec<_> = state
                    .deps
                    .settings
                    .scam
                    .feeds
                    .iter()
                    .filter(|feed| feed.enabled)
                    .filter(|feed| {
                        let known = states.iter().find(|s| s.name == feed.name);
                        next_run(known, feed.refresh, now) <= now
                    })
                    .cloned()
                    .collect();
                if due.is_empty() {
                    return Ok(());
                }
                let deps = state.deps.clone();
                state.running = Some(tokio::spawn(async move {
                    for feed in due {
                        let now = deps.clock.now();
                        let outcome =
                            sync_feed(&deps.store, &deps.settings.net, &feed, false, now).await;
                        if outcome.result == SyncResult::Ok {
                            tracing::info!(%outcome, "scam feed synced");
                            if let Some(scam) = deps.directory.scam() {
                                let _ = super::tell(Role::Scam, &scam, ScamMsg::Refresh);
                            }
                        } else if outcome.result.is_success() {
                            tracing::debug!(%outcome, "scam feed unchanged");
                        } else {
                            tracing::warn!(%outcome, "scam feed not synced");
                        }
                    }
                }));
            }
        }
        Ok(())
    }
}
