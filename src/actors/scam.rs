//! Scam detector: owns the in-memory report index, keeps it in sync with the `scam_reports` table, and
//! checks messages against it (extraction, verdicts and signals are pure, in `scam::check`). The feeds
//! actor downloads outside lists and asks it to refresh.

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::{Deps, Directory};
use crate::faults::FaultPoint;
use crate::pipeline::Role;
use crate::reports::IndexSync;
use crate::scam::Entity;
use crate::scam::check::CheckOutcome;
use crate::telemetry;

pub struct ScamActor;

pub struct ScamState {
    deps: Deps,
    index: IndexSync,
}

pub enum ScamMsg {
    /// The verdict of each entity the caller extracted from `text`, and the text's scam-phrase signals.
    Check {
        text: String,
        entities: Vec<Entity>,
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
        Ok(ScamState {
            deps,
            index: IndexSync::new(),
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
        _myself: ActorRef<Self::Msg>,
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
                let outcome = state
                    .index
                    .check_extracted(&text, entities, state.deps.clock.now());
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
