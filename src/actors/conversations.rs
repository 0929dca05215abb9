//! The conversation manager: one [`ConversationActor`](super::conversation::ConversationActor) per active
//! user, spawned on demand, so each user's events are handled in order and different users concurrently.
//!
//! Idle children are stopped: a child reports `Idle` with the number of events it processed, and the manager
//! stops it only if that equals what it delivered (nothing in flight). The manager is the single writer of
//! the user → child map, so a new event can never be sent to a child that is stopping.
//!
//! A failed child is restarted with backoff under a restart budget; its user's unhandled events are then
//! re-read from the inbox, so the event that crashed it is handled again (the store's attempt counter
//! dead-letters a poison event after `conversation.max_attempts`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};

use super::conversation::{
    ChildStatus, ConversationActor, ConversationArgs, ConversationMsg, Idle,
};
use super::restart::RestartBudget;
use super::{Deps, Directory};
use crate::domain::UserId;
use crate::pipeline::{Inbound, Role};
use crate::telemetry;
use crate::zalo::events;

pub struct ConversationManager;

struct Child {
    actor: ActorRef<ConversationMsg>,
    delivered: u64,
    status: Arc<ChildStatus>,
    /// The delivery sequence number of its last event (its place in `recency`).
    last_used: u64,
}

pub struct ManagerState {
    deps: Deps,
    by_user: HashMap<UserId, Child>,
    by_id: HashMap<ActorId, UserId>,
    /// Users whose conversation failed and awaits its restart. Their new events are not delivered
    /// meanwhile: the restart re-reads all of the user's unhandled events in order, so none jumps the queue.
    restarting: HashSet<UserId>,
    budget: RestartBudget,
    /// Users by last delivery, oldest first, as `(sequence, user)`; an entry whose sequence is no longer its
    /// child's `last_used` is stale and skipped. Used to stop the least recently used idle children once
    /// `conversation.max_live` are alive.
    recency: VecDeque<(u64, UserId)>,
    sequence: u64,
}

pub enum ManagerMsg {
    Deliver(Box<Inbound>),
    /// A child has been idle.
    Idle(Idle),
    /// Restart a failed user's conversation and re-deliver its unhandled events.
    Respawn(UserId),
    /// Number of live conversation actors.
    Live(RpcReplyPort<usize>),
    /// Cluster: stop the conversations of users in these partitions (lost, or no longer trusted), ending
    /// their model calls; their events stay in the inbox for the owner.
    Release(Vec<crate::cluster::Partition>),
}

impl Directory {
    pub fn conversations(&self) -> Option<ActorRef<ManagerMsg>> {
        self.lookup(Role::Conversations)
    }
}

impl Actor for ConversationManager {
    type Msg = ManagerMsg;
    type State = ManagerState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Conversations);
        Ok(ManagerState {
            budget: RestartBudget::new(&deps.settings.supervisor),
            deps,
            by_user: HashMap::new(),
            by_id: HashMap::new(),
            restarting: HashSet::new(),
            recency: VecDeque::new(),
            sequence: 0,
        })
    }

    async fn post_stop(
        &self,
        myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Let every conversation finish what it holds before the service goes down.
        myself
            .get_cell()
            .drain_children_and_wait(Some(std::time::Duration::from_secs(10)))
            .await;
        metrics::gauge!(telemetry::CONVERSATION_ACTORS).set(0.0);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::Conversations);
        match msg {
            ManagerMsg::Deliver(inbound) => {
                if !state.restarting.contains(&inbound.user) {
                    deliver(&myself, state, *inbound).await?;
                }
            }
            ManagerMsg::Idle(Idle {
                user,
                child,
                processed,
            }) => {
                let idle = state
                    .by_user
                    .get(&user)
                    .is_some_and(|c| c.actor.get_id() == child && c.delivered == processed);
                if idle && let Some(c) = state.by_user.remove(&user) {
                    state.by_id.remove(&child);
                    c.actor.stop(Some("idle".into()));
                    metrics::counter!(telemetry::CONVERSATIONS_STOPPED, "reason" => "idle")
                        .increment(1);
                    update_gauge(state);
                }
            }
            ManagerMsg::Respawn(user) if !state.deps.ownership.dispatches_user(&user) => {
                state.restarting.remove(&user);
            }
            ManagerMsg::Respawn(user) => {
                let pending = match state.deps.store.pending_events_for_user(&user).await {
                    Ok(pending) => pending,
                    Err(err) => {
                        // The database is likely what failed the child: try again shortly, holding the
                        // user's new events back meanwhile (they are safe in the inbox).
                        tracing::warn!(user = %user.short_hash(), error = %err, "cannot re-read pending events yet");
                        super::send_after_counted(
                            Role::Conversations,
                            &myself,
                            std::time::Duration::from_secs(1),
                            move || ManagerMsg::Respawn(user),
                        );
                        return Ok(());
                    }
                };
                state.restarting.remove(&user);
                tracing::info!(user = %user.short_hash(), count = pending.len(), "re-delivering after restart");
                for row in pending {
                    if let Ok(event) = events::decode_stored(&row.payload) {
                        let inbound = Inbound {
                            inbox_id: row.id,
                            event_key: row.event_key,
                            user: user.clone(),
                            event,
                            slot: None,
                            first_attempt: None,
                        };
                        deliver(&myself, state, inbound).await?;
                    }
                }
            }
            ManagerMsg::Live(reply) => {
                let _ = reply.send(state.by_user.len());
            }
            ManagerMsg::Release(partitions) => {
                let ownership = &state.deps.ownership;
                let gone: Vec<UserId> = state
                    .by_user
                    .keys()
                    .filter(|user| partitions.contains(&ownership.partition_of(user)))
                    .cloned()
                    .collect();
                for user in gone {
                    if let Some(child) = state.by_user.remove(&user) {
                        state.by_id.remove(&child.actor.get_id());
                        child.actor.kill();
                    }
                }
                update_gauge(state);
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
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                if let Some(user) = state.by_id.remove(&cell.get_id()) {
                    state.by_user.remove(&user);
                    update_gauge(state);
                }
            }
            SupervisionEvent::ActorFailed(cell, err) => {
                let Some(user) = state.by_id.remove(&cell.get_id()) else {
                    return Ok(());
                };
                state.by_user.remove(&user);
                update_gauge(state);
                // Cluster: a conversation whose completion was fenced because this replica lost (or stopped
                // trusting) its lease on the user is done here, not broken: its events wait for the owner.
                if !state.deps.ownership.dispatches_user(&user) {
                    tracing::info!(user = %user.short_hash(), "conversation ended: another replica owns the user now");
                    return Ok(());
                }
                metrics::counter!(telemetry::ACTOR_RESTARTS, "actor" => Role::CONVERSATION_LABEL)
                    .increment(1);
                tracing::error!(user = %user.short_hash(), error = %err, "conversation actor failed");
                match state.budget.record(Instant::now()) {
                    Some(delay) => {
                        state.restarting.insert(user.clone());
                        super::send_after_counted(Role::Conversations, &myself, delay, move || {
                            ManagerMsg::Respawn(user)
                        });
                    }
                    // Conversations keep failing across users: not a bad message but a broken dependency.
                    // Escalate to the root supervisor, which restarts this manager (and may give up).
                    None => return Err("conversation restart budget exhausted".into()),
                }
            }
            SupervisionEvent::ActorStarted(_) | SupervisionEvent::ProcessGroupChanged(_) => {}
        }
        Ok(())
    }
}

/// A child's idle report arrives as the manager's own message.
impl From<Idle> for ManagerMsg {
    fn from(idle: Idle) -> Self {
        ManagerMsg::Idle(idle)
    }
}

/// Gives back an idle report that could not be sent (the manager is gone).
impl TryFrom<ManagerMsg> for Idle {
    type Error = ();

    fn try_from(msg: ManagerMsg) -> Result<Self, ()> {
        match msg {
            ManagerMsg::Idle(idle) => Ok(idle),
            _ => Err(()),
        }
    }
}

async fn deliver(
    myself: &ActorRef<ManagerMsg>,
    state: &mut ManagerState,
    inbound: Inbound,
) -> Result<(), ActorProcessingErr> {
    let user = inbound.user.clone();
    let mut message = ConversationMsg::Handle(Box::new(inbound));
    // At most two tries: the existing child, then a fresh one if the existing one just died.
    for _ in 0..2 {
        if !state.by_user.contains_key(&user) {
            let max_live = state.deps.settings.conversation.max_live;
            if state.by_user.len() >= max_live {
                stop_least_recently_used(state, state.by_user.len() + 1 - max_live);
            }
            let status = Arc::new(ChildStatus::default());
            let args = ConversationArgs {
                user: user.clone(),
                manager: myself.get_derived(),
                deps: state.deps.clone(),
                status: status.clone(),
            };
            // Unnamed: a stopping child and its successor for the same user must be able to coexist.
            let (actor, _) = match Actor::spawn_linked(
                None,
                ConversationActor,
                args,
                myself.get_cell(),
            )
            .await
            {
                Ok(spawned) => spawned,
                // This manager is draining (the service stops), so it takes no new child: the event
                // waits in the inbox for the next start's sweep. Not a failure of the manager.
                Err(_) if !ractor::ACTIVE_STATES.contains(&myself.get_cell().get_status()) => {
                    tracing::info!(
                        user = %user.short_hash(),
                        "conversations are stopping; the event waits in the inbox for the next start"
                    );
                    return Ok(());
                }
                Err(err) => return Err(err.into()),
            };
            state.by_id.insert(actor.get_id(), user.clone());
            state.by_user.insert(
                user.clone(),
                Child {
                    actor,
                    delivered: 0,
                    status,
                    last_used: 0,
                },
            );
            update_gauge(state);
        }
        let child = state.by_user.get_mut(&user).expect("inserted above");
        match child.actor.cast(message) {
            Ok(()) => {
                child.delivered += 1;
                state.sequence += 1;
                child.last_used = state.sequence;
                state.recency.push_back((state.sequence, user));
                compact_recency(state);
                return Ok(());
            }
            Err(err) => {
                let stale = state.by_user.remove(&user).expect("present");
                state.by_id.remove(&stale.actor.get_id());
                message = match err {
                    ractor::MessagingErr::SendErr(m) => m,
                    _ => return Ok(()),
                };
            }
        }
    }
    tracing::warn!(user = %user.short_hash(), "could not deliver to a conversation; the sweep will retry");
    Ok(())
}

/// Stops up to `count` idle children, least recently used first (busy ones are kept and looked at again
/// later). Like an idle stop, nothing is lost: a stopped user's next event starts a fresh child, which reads
/// what it needs from the database.
fn stop_least_recently_used(state: &mut ManagerState, count: usize) {
    let mut stopped = 0;
    // Each entry is looked at once per call at most, so a table of busy children cannot loop forever.
    for _ in 0..state.recency.len() {
        if stopped == count {
            break;
        }
        let Some((sequence, user)) = state.recency.pop_front() else {
            break;
        };
        let Some(child) = state.by_user.get(&user) else {
            continue; // stopped already
        };
        if child.last_used != sequence {
            continue; // used again since: a later entry stands for it
        }
        if !child.status.is_idle(child.delivered) {
            state.recency.push_back((sequence, user));
            continue;
        }
        let child = state.by_user.remove(&user).expect("present");
        state.by_id.remove(&child.actor.get_id());
        child.actor.stop(Some("capacity".into()));
        stopped += 1;
    }
    if stopped > 0 {
        metrics::counter!(telemetry::CONVERSATIONS_STOPPED, "reason" => "capacity")
            .increment(stopped as u64);
        update_gauge(state);
    }
}

/// Drops stale entries once they outnumber the live children (every delivery adds one), keeping the order.
fn compact_recency(state: &mut ManagerState) {
    if state.recency.len() <= 2 * state.by_user.len() + 1024 {
        return;
    }
    let by_user = &state.by_user;
    state
        .recency
        .retain(|(sequence, user)| by_user.get(user).is_some_and(|c| c.last_used == *sequence));
}

fn update_gauge(state: &ManagerState) {
    metrics::gauge!(telemetry::CONVERSATION_ACTORS).set(state.by_user.len() as f64);
}
