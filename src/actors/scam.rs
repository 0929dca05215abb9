//! Scam detector: owns the in-memory report index, keeps it in sync with the `scam_reports` table, and
//! checks messages against it (extraction, verdicts and signals are pure, in `scam::check`). The feeds
//! actor downloads outside lists and asks it to refresh.
//!
//! A message whose links are worth following (`links`) is checked twice: the links are followed in a task
//! of its own, so the actor keeps checking other messages meanwhile, and what they led to comes back as
//! [`ScamMsg::Followed`] for the final check and the answer.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::{Deps, Directory};
use crate::faults::FaultPoint;
use crate::links::LinkFollower;
use crate::pipeline::Role;
use crate::reports::IndexSync;
use crate::scam::Entity;
use crate::scam::check::{CheckOutcome, check_followed};
use crate::scam::followed::Followed;
use crate::telemetry;

pub struct ScamActor;

pub struct ScamState {
    deps: Deps,
    index: IndexSync,
    /// Follows links and dates domains; `None` when `links.expand` and `links.rdap` are both off.
    follower: Option<Arc<LinkFollower>>,
}

pub enum ScamMsg {
    /// The verdict of each entity the caller extracted from `text`, and the text's scam-phrase signals.
    Check {
        text: String,
        entities: Vec<Entity>,
        reply: RpcReplyPort<CheckOutcome>,
    },
    /// What following the links of a `Check` found: check again with it, and answer.
    Followed {
        text: String,
        entities: Vec<Entity>,
        followed: Followed,
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

impl Actor for ScamActor {
    type Msg = ScamMsg;
    type State = ScamState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Scam);
        let follower = LinkFollower::new(&deps.settings.links, &deps.settings.net).map(Arc::new);
        Ok(ScamState {
            deps,
            index: IndexSync::new(),
            follower,
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

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::Scam);
        match msg {
            ScamMsg::Check {
                text,
                entities,
                reply,
            } => {
                state.deps.faults.trip(FaultPoint::Scam);
                state
                    .index
                    .sync_if_stale(&state.deps.store, state.deps.settings.scam.index_refresh)
                    .await?;
                let outcome =
                    state
                        .index
                        .check_extracted(&text, entities.clone(), state.deps.clock.now());
                let follower = state
                    .follower
                    .clone()
                    .filter(|f| !reply.is_closed() && f.wants(&text, &outcome));
                match follower {
                    Some(follower) => {
                        tokio::spawn(async move {
                            let followed = follower.follow(&text, &outcome).await;
                            let back = ScamMsg::Followed {
                                text,
                                entities,
                                followed,
                                reply,
                            };
                            // A stopped actor drops the answer; the caller's own timeout tells it.
                            let _ = super::tell(Role::Scam, &myself, back);
                        });
                    }
                    None if !reply.is_closed() => {
                        let _ = reply.send(outcome);
                    }
                    None => {}
                }
            }
            ScamMsg::Followed {
                text,
                entities,
                followed,
                reply,
            } => {
                let now = state.deps.clock.now();
                let outcome = check_followed(state.index.index(), &text, entities, &followed, now);
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
