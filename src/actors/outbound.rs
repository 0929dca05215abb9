//! Outbound: sends queued reply parts to Zalo (or the console), one at a time per user so each user's
//! parts arrive in order, different users in parallel, all under one app-wide rate limit (Zalo allows
//! 4,000 calls per minute per app). Every part is a database row moving `queued → sending → sent | failed |
//! ambiguous`; parts still queued after a crash or restart are picked up again from the database. A reply's
//! first part arrives already `sending` (the pipeline's commit claimed it, `Store::take_pre_claimed`); one a
//! crashed predecessor held is released to `queued` by the resume.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::{Deps, Directory};
use crate::delivery::{Dispatch, PartSender};
use crate::domain::UserId;
use crate::faults::FaultPoint;
use crate::pipeline::Role;
use crate::store::QueuedOutbound;
use crate::telemetry;

const RESUME_PAGE: u64 = 1000;
/// Parts that could not be claimed (database hiccup) stay `queued`; a periodic resume picks them up.
const RESUME_INTERVAL: Duration = Duration::from_secs(30);
const CLUSTER_RESUME_INTERVAL: Duration = Duration::from_secs(2);
/// How long a graceful stop may take to finish the sends under way and those still queued.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

pub struct OutboundActor;

pub struct OutboundActorState {
    deps: Deps,
    /// Sends each part; its tokens come from the keeper, found by name at each ask.
    sender: Arc<PartSender<Directory>>,
    queues: HashMap<UserId, VecDeque<QueuedOutbound>>,
    busy: HashSet<UserId>,
    /// Deliveries in flight, awaited (with a deadline) when the actor stops, so a shutdown finishes them.
    in_flight: HashMap<i64, tokio::task::JoinHandle<()>>,
    /// Ids queued here or in flight, so a resume from the database does not take them twice.
    known: HashSet<i64>,
    /// Whether this actor's first resume ran: it releases every pre-claimed part not yet started (a
    /// predecessor that crashed may have held them), later ones only those that waited a whole interval.
    resumed: bool,
}

pub enum OutboundMsg {
    Enqueue(Vec<QueuedOutbound>),
    /// A user's in-flight part is done; start their next one.
    Finished {
        user: UserId,
        id: i64,
    },
    /// Load parts left queued in the database.
    Resume,
    /// Cluster: forget the queued parts of users in these partitions (lost, or no longer trusted); their
    /// rows stay `queued` for the owner.
    Release(Vec<crate::cluster::Partition>),
    /// Cluster: the partitions with a part sending or waiting here (a hand-over waits for them, or the new
    /// owner would find them `sending` and take them for ambiguous).
    Busy(ractor::RpcReplyPort<Vec<crate::cluster::Partition>>),
}

impl Directory {
    pub fn outbound(&self) -> Option<ActorRef<OutboundMsg>> {
        self.lookup(Role::Outbound)
    }
}

impl Actor for OutboundActor {
    type Msg = OutboundMsg;
    type State = OutboundActorState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Outbound);
        let sender = Arc::new(
            PartSender::new(
                deps.store.clone(),
                deps.http.clone(),
                &deps.settings,
                deps.delivery,
                deps.outbound_events.clone(),
                deps.directory.clone(),
            )
            .with_clock(deps.clock.clone())
            .with_ownership(deps.ownership.clone()),
        );
        Ok(OutboundActorState {
            deps,
            sender,
            queues: HashMap::new(),
            busy: HashSet::new(),
            in_flight: HashMap::new(),
            known: HashSet::new(),
            resumed: false,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if state.deps.recovery {
            super::tell(Role::Outbound, &myself, OutboundMsg::Resume)?;
            // In a cluster other replicas queue parts for this one's users (admin sends, campaigns): looked
            // for more often.
            let every = if state.deps.ownership.is_cluster() {
                CLUSTER_RESUME_INTERVAL
            } else {
                RESUME_INTERVAL
            };
            super::send_interval_counted(Role::Outbound, &myself, every, || OutboundMsg::Resume);
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // A graceful stop: let sends under way finish and record their result, then send what is still
        // queued here (each user's parts in order, users side by side), all within one deadline. Whatever
        // is left when it passes stays in the database: `queued` is resumed at the next start, and a send
        // cut off mid-flight stays `sending`, which the next start turns into `ambiguous`.
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        let pending: Vec<_> = state.in_flight.drain().map(|(_, h)| h).collect();
        let _ = tokio::time::timeout_at(deadline, futures_util::future::join_all(pending)).await;
        let flushes = std::mem::take(&mut state.queues)
            .into_values()
            .map(|queue| {
                let sender = state.sender.clone();
                async move {
                    for part in queue {
                        sender.deliver(part).await;
                    }
                }
            });
        let _ = tokio::time::timeout_at(deadline, futures_util::future::join_all(flushes)).await;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::Outbound);
        match msg {
            OutboundMsg::Enqueue(parts) => {
                state.deps.faults.trip(FaultPoint::Outbound);
                enqueue(&myself, state, parts);
            }
            OutboundMsg::Finished { user, id } => {
                state.in_flight.remove(&id);
                state.busy.remove(&user);
                state.known.remove(&id);
                start_next(&myself, state, &user);
            }
            OutboundMsg::Busy(reply) => {
                let ownership = &state.deps.ownership;
                let mut busy: Vec<crate::cluster::Partition> = state
                    .busy
                    .iter()
                    .chain(state.queues.keys())
                    .map(|user| ownership.partition_of(user))
                    .collect();
                busy.sort_unstable();
                busy.dedup();
                let _ = reply.send(busy);
            }
            OutboundMsg::Release(partitions) => {
                let ownership = state.deps.ownership.clone();
                let mut unsent = Vec::new();
                state.queues.retain(|user, queue| {
                    let keep = !partitions.contains(&ownership.partition_of(user));
                    if !keep {
                        for part in queue.iter() {
                            state.known.remove(&part.id);
                            unsent.push(part.id);
                        }
                    }
                    keep
                });
                // A first part stored claimed was never sent: back to the queue for whoever owns the user.
                let store = state.deps.store.clone();
                tokio::spawn(async move {
                    for id in unsent {
                        if store.take_pre_claimed(id) {
                            store.requeue_unsent(id).await;
                        }
                    }
                });
            }
            OutboundMsg::Resume => {
                let age = if state.resumed {
                    RESUME_INTERVAL
                } else {
                    Duration::ZERO
                };
                state.resumed = true;
                match state.deps.store.release_pre_claimed(age).await {
                    Ok(0) => {}
                    Ok(released) => {
                        tracing::info!(
                            released,
                            "pre-claimed reply parts not sent yet released to the queue"
                        )
                    }
                    // They stay registered; the next resume tries again.
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot release pre-claimed reply parts yet")
                    }
                }
                // Outcome notices whose time came (the quiet hours ended) are queued, to be read just below.
                let notices = crate::reports::moderation::Moderation {
                    store: &state.deps.store,
                    dispatch: &crate::reports::moderation::Deferred,
                    now: state.deps.clock.now(),
                    max_message_chars: state.deps.settings.outbound.max_message_chars,
                };
                if let Err(err) = crate::reports::notices::sweep(&notices).await {
                    tracing::warn!(error = %err, "cannot look at waiting outcome notices yet");
                }
                let owned = state.deps.ownership.dispatched();
                let parts = match state
                    .deps
                    .store
                    .queued_outbound(RESUME_PAGE, owned.as_deref())
                    .await
                {
                    Ok(parts) => parts,
                    Err(err) => {
                        // Queued parts are safe in the database; the next periodic resume tries again.
                        tracing::warn!(error = %err, "cannot read queued outbound messages yet");
                        return Ok(());
                    }
                };
                if !parts.is_empty() {
                    tracing::info!(count = parts.len(), "resuming queued outbound messages");
                }
                enqueue(&myself, state, parts);
            }
        }
        Ok(())
    }
}

fn enqueue(
    myself: &ActorRef<OutboundMsg>,
    state: &mut OutboundActorState,
    parts: Vec<QueuedOutbound>,
) {
    let mut users = Vec::new();
    let ownership = state.deps.ownership.clone();
    for part in parts {
        // Another replica owns this user: the part stays queued for its owner's resume. (A partition being
        // handed over is still held: its replies are sent here before it goes.)
        if ownership.is_cluster()
            && ownership
                .lease(ownership.partition_of(&part.user))
                .is_none()
        {
            // A first part stored claimed was never sent: back to the queue, unless the new owner has
            // already taken it for ambiguous.
            if state.deps.store.take_pre_claimed(part.id) {
                let store = state.deps.store.clone();
                tokio::spawn(async move {
                    store.requeue_unsent(part.id).await;
                });
            }
            continue;
        }
        if !state.known.insert(part.id) {
            continue;
        }
        if !users.contains(&part.user) {
            users.push(part.user.clone());
        }
        state
            .queues
            .entry(part.user.clone())
            .or_default()
            .push_back(part);
    }
    for user in users {
        start_next(myself, state, &user);
    }
}

fn start_next(myself: &ActorRef<OutboundMsg>, state: &mut OutboundActorState, user: &UserId) {
    if state.busy.contains(user) {
        return;
    }
    let Some(queue) = state.queues.get_mut(user) else {
        return;
    };
    let Some(part) = queue.pop_front() else {
        state.queues.remove(user);
        return;
    };
    if queue.is_empty() {
        state.queues.remove(user);
    }
    state.busy.insert(user.clone());
    let sender = state.sender.clone();
    let myself = myself.clone();
    let user = user.clone();
    let id = part.id;
    let handle = tokio::spawn(async move {
        // A panic inside one delivery must not leave this user marked busy forever.
        let _ = tokio::spawn(async move { sender.deliver(part).await }).await;
        // If this actor was restarted meanwhile, the message is dropped: the successor does not track
        // this user as busy, and the part's row is no longer `queued`, so nothing is sent twice.
        let _ = super::tell(Role::Outbound, &myself, OutboundMsg::Finished { user, id });
    });
    state.in_flight.insert(id, handle);
}

/// The outbound actor takes parts queued elsewhere (admin sends, alerts, replies), found by name when they are
/// handed over.
impl Dispatch for Directory {
    fn dispatch(&self, parts: Vec<QueuedOutbound>) -> bool {
        match self.outbound() {
            Some(outbound) => {
                let _ = super::tell(Role::Outbound, &outbound, OutboundMsg::Enqueue(parts));
                true
            }
            None => false,
        }
    }
}
