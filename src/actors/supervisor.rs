//! The root supervisor: starts the singleton actors linked to itself and restarts any that fails, with a
//! growing delay, under a restart budget. When the budget is spent it fails itself, which ends the process
//! (see `startup`): a service that cannot keep its actors alive stops instead of staying half-alive.

use std::collections::HashMap;
use std::time::Instant;

use ractor::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent,
};

use super::Deps;
use super::restart::RestartBudget;
use super::{
    campaigns, cluster, conversations, feeds, intake, llm, media, outbound, scam, token_keeper,
};
use crate::pipeline::Role;
use crate::telemetry;

pub struct SupervisorActor;

pub struct SupervisorState {
    deps: Deps,
    children: HashMap<ActorId, Role>,
    budget: RestartBudget,
    stopping: bool,
}

pub enum SupervisorMsg {
    /// Start a child again after its restart delay.
    Respawn(Role),
    /// Which roles are running now.
    Running(RpcReplyPort<Vec<Role>>),
    /// Stop the children in reverse start order (intake first), each waiting for its mailbox to drain.
    Drain(RpcReplyPort<()>),
}

impl Actor for SupervisorActor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        let mut state = SupervisorState {
            budget: RestartBudget::new(&deps.settings.supervisor),
            deps,
            children: HashMap::new(),
            stopping: false,
        };
        for role in Role::START_ORDER {
            spawn_child(&myself, &mut state, role).await?;
        }
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::Respawn(role) => {
                if state.stopping || state.children.values().any(|r| *r == role) {
                    return Ok(());
                }
                if let Err(err) = spawn_child(&myself, state, role).await {
                    // A failing pre_start counts against the same budget as a crash.
                    tracing::error!(actor = role.as_str(), error = %err, "restart failed");
                    schedule_restart(&myself, state, role)?;
                }
            }
            SupervisorMsg::Running(reply) => {
                let _ = reply.send(state.children.values().copied().collect());
            }
            SupervisorMsg::Drain(reply) => {
                state.stopping = true;
                for role in Role::START_ORDER.iter().rev() {
                    let cell = state
                        .children
                        .iter()
                        .find(|(_, r)| *r == role)
                        .and_then(|(id, _)| find_child(&myself, *id));
                    if let Some(cell) = cell {
                        let _ = cell
                            .drain_and_wait(Some(std::time::Duration::from_secs(10)))
                            .await;
                    }
                }
                let _ = reply.send(());
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, err) => {
                let Some(role) = state.children.remove(&cell.get_id()) else {
                    return Ok(());
                };
                if state.stopping {
                    // Draining: nothing is restarted, so neither logged as a restart nor counted as one.
                    tracing::warn!(actor = role.as_str(), error = %err, "actor failed while the service stops");
                    return Ok(());
                }
                tracing::error!(actor = role.as_str(), error = %err, "actor failed; restarting");
                schedule_restart(&myself, state, role)?;
            }
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                let Some(role) = state.children.remove(&cell.get_id()) else {
                    return Ok(());
                };
                if !state.stopping {
                    // A singleton never stops on its own while the service runs: treat it as a failure.
                    tracing::warn!(
                        actor = role.as_str(),
                        ?reason,
                        "actor stopped unexpectedly; restarting"
                    );
                    schedule_restart(&myself, state, role)?;
                }
            }
            SupervisionEvent::ActorStarted(_) | SupervisionEvent::ProcessGroupChanged(_) => {}
        }
        Ok(())
    }
}

fn schedule_restart(
    myself: &ActorRef<SupervisorMsg>,
    state: &mut SupervisorState,
    role: Role,
) -> Result<(), ActorProcessingErr> {
    metrics::counter!(telemetry::ACTOR_RESTARTS, "actor" => role.as_str()).increment(1);
    match state.budget.record(Instant::now()) {
        Some(delay) => {
            myself.send_after(delay, move || SupervisorMsg::Respawn(role));
            Ok(())
        }
        None => {
            tracing::error!(
                actor = role.as_str(),
                "restart budget exhausted; the supervisor gives up and the service stops"
            );
            Err(format!("restart budget exhausted by {}", role.as_str()).into())
        }
    }
}

fn find_child(myself: &ActorRef<SupervisorMsg>, id: ActorId) -> Option<ActorCell> {
    myself.get_children().into_iter().find(|c| c.get_id() == id)
}

async fn spawn_child(
    myself: &ActorRef<SupervisorMsg>,
    state: &mut SupervisorState,
    role: Role,
) -> Result<(), ActorProcessingErr> {
    let deps = state.deps.clone();
    let name = Some(deps.directory.name(role));
    let supervisor = myself.get_cell();
    let cell = match role {
        Role::TokenKeeper => {
            Actor::spawn_linked(name, token_keeper::TokenKeeperActor, deps, supervisor)
                .await?
                .0
                .get_cell()
        }
        Role::Cluster => Actor::spawn_linked(name, cluster::ClusterActor, deps, supervisor)
            .await?
            .0
            .get_cell(),
        Role::Outbound => Actor::spawn_linked(name, outbound::OutboundActor, deps, supervisor)
            .await?
            .0
            .get_cell(),
        Role::Llm => Actor::spawn_linked(name, llm::LlmActor, deps, supervisor)
            .await?
            .0
            .get_cell(),
        Role::Scam => Actor::spawn_linked(name, scam::ScamActor, deps, supervisor)
            .await?
            .0
            .get_cell(),
        Role::Feeds => Actor::spawn_linked(name, feeds::FeedsActor, deps, supervisor)
            .await?
            .0
            .get_cell(),
        Role::Media => Actor::spawn_linked(name, media::MediaActor, deps, supervisor)
            .await?
            .0
            .get_cell(),
        Role::Campaigns => Actor::spawn_linked(name, campaigns::CampaignsActor, deps, supervisor)
            .await?
            .0
            .get_cell(),
        Role::Conversations => {
            let cell =
                Actor::spawn_linked(name, conversations::ConversationManager, deps, supervisor)
                    .await?
                    .0
                    .get_cell();
            // A restarted manager starts without children, and the events they held are gone with them:
            // intake re-dispatches everything unhandled. (At first start intake is not up yet; it replays by
            // itself when it starts.)
            if let Some(intake) = state.deps.directory.intake() {
                let _ = super::tell(
                    Role::Intake,
                    &intake,
                    intake::IntakeMsg::Sweep { all: true },
                );
            }
            cell
        }
        Role::Intake => Actor::spawn_linked(name, intake::IntakeActor, deps, supervisor)
            .await?
            .0
            .get_cell(),
    };
    state.children.insert(cell.get_id(), role);
    Ok(())
}
