//! Intake: takes events the webhook has already persisted and routes them to the per-user conversations.
//! On start it replays every event left unhandled (crash, restart), and a periodic sweep re-dispatches
//! events that stayed unhandled too long (a lost mailbox). Handling is idempotent downstream, so a
//! re-dispatch can never answer twice.
//!
//! Backpressure: at most `intake.max_in_flight` events are handed to conversations and not yet handled
//! (each carries a slot, freed when its conversation is done with it). Past that, new events simply stay in
//! the inbox, where they already are, and intake drains that backlog in inbox order as slots free up. So a
//! flood, or a restart with a large backlog, costs disk, not memory, and the webhook keeps acknowledging.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::conversations::ManagerMsg;
use super::{Deps, Directory};
use crate::cluster::Partition;
use crate::pipeline::{Attempt, Inbound, Outcome, Role, Route, Slot, classify};
use crate::store::PendingEvent;
use crate::telemetry;
use crate::zalo::events::{self, EventKind, WebhookEvent};

/// How long an `oa_send_*` echo waits before it is classified: Zalo may deliver the echo of our own send
/// before the send call has returned the `message_id` by which the echo is recognised as ours.
const ECHO_DELAY: Duration = Duration::from_secs(2);
const REPLAY_PAGE: u64 = 500;

pub struct IntakeActor;

/// How often a drain waiting for free slots looks again.
const DRAIN_POLL: Duration = Duration::from_millis(5);
/// Events read from the inbox per drain step at most.
const DRAIN_PAGE: usize = 500;
/// How far back (in inbox ids) a drain starts from the event that found no slot: `Accepted` messages of
/// one group-committed batch may arrive in any order, so some just below it may not have been routed yet.
const DRAIN_OVERLAP: i64 = 1024;

pub struct IntakeState {
    deps: Deps,
    /// One permit per event in flight to a conversation.
    slots: Arc<Semaphore>,
    /// Events wait in the inbox and are drained from `cursor` on, in id order; fresh `Accepted` events are
    /// not routed meanwhile (they are in the backlog too, and must not overtake it).
    backlog: bool,
    /// The last inbox id the drain routed.
    cursor: i64,
    /// Ids the drain routed whose `Accepted` may still arrive (then it is a no-op).
    drained: HashSet<i64>,
    /// Events that need no answer (receipts, unknown events, no user), closed in batches by one write at a
    /// time rather than one transaction each in a conversation: (id, outcome, slot).
    to_close: Vec<(i64, Outcome, Option<Slot>)>,
    closing: bool,
    /// In a cluster: events handed to conversations, by inbox id, with their partition, their slot and when.
    /// The poll does not hand them out again (that is the stale sweep's job, after
    /// `intake.redispatch_after`), and a hand-over waits while their slots live.
    dispatched: HashMap<i64, Dispatched>,
}

pub enum IntakeMsg {
    /// A freshly persisted webhook event.
    Accepted {
        inbox_id: i64,
        event_key: String,
        event: Box<WebhookEvent>,
        /// Counted by the insert (`InboxInsert::Inserted`): delivered live, the event needs no attempt write.
        first_attempt: Option<Attempt>,
    },
    /// Re-dispatch events still unhandled; `all` at start, else only those older than the threshold.
    Sweep { all: bool },
    /// Route an echo after its delay.
    Route(Box<Inbound>),
    /// Route more of the backlog as slots free up.
    Drain,
    /// A batch of answerless events was closed (or failed to be): close the next one.
    Closed,
    /// Cluster: dispatch the owned partitions' pending events that are not in flight (received by another
    /// replica, or left by a previous owner). Periodic, on a NOTIFY hint, and on gaining partitions.
    Poll,
    /// Cluster: the partitions with events in flight here.
    InFlight(RpcReplyPort<Vec<Partition>>),
}

impl Directory {
    pub fn intake(&self) -> Option<ActorRef<IntakeMsg>> {
        self.lookup(Role::Intake)
    }
}

impl Directory {
    /// Hands a freshly persisted event to intake. Does nothing when intake is not running: the event is
    /// safe in the inbox, and intake replays it when it starts.
    pub fn accept(
        &self,
        inbox_id: i64,
        event_key: String,
        event: WebhookEvent,
        first_attempt: Option<Attempt>,
    ) {
        if let Some(intake) = self.intake() {
            let _ = super::tell(
                Role::Intake,
                &intake,
                IntakeMsg::Accepted {
                    inbox_id,
                    event_key,
                    event: Box::new(event),
                    first_attempt,
                },
            );
        }
    }
}

impl Actor for IntakeActor {
    type Msg = IntakeMsg;
    type State = IntakeState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Intake);
        let slots = Arc::new(Semaphore::new(deps.settings.intake.max_in_flight));
        Ok(IntakeState {
            deps,
            slots,
            backlog: false,
            cursor: 0,
            drained: HashSet::new(),
            to_close: Vec::new(),
            closing: false,
            dispatched: HashMap::new(),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Every (re)start replays what is pending: events persisted while this actor was down are not lost.
        if !state.deps.recovery {
            return Ok(());
        }
        super::tell(Role::Intake, &myself, IntakeMsg::Sweep { all: true })?;
        super::send_interval_counted(
            Role::Intake,
            &myself,
            state.deps.settings.intake.sweep_interval,
            || IntakeMsg::Sweep { all: false },
        );
        if state.deps.ownership.is_cluster() {
            super::send_interval_counted(
                Role::Intake,
                &myself,
                state.deps.settings.cluster.poll_interval,
                || IntakeMsg::Poll,
            );
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::Intake);
        match msg {
            IntakeMsg::Accepted {
                inbox_id,
                event_key,
                event,
                first_attempt,
            } => {
                if state.drained.remove(&inbox_id) || state.backlog {
                    // Routed by the drain already, or waiting in the backlog the drain works through.
                    return Ok(());
                }
                match state.slots.clone().try_acquire_owned() {
                    Ok(slot) => {
                        let older = first_attempt.as_ref().is_none_or(|a| a.older_pending);
                        if older && !caught_up(&myself, state, &event, inbox_id).await? {
                            // The event waits in the inbox for the poll, which goes in id order.
                            return Ok(());
                        }
                        let slot = Some(Arc::new(slot));
                        let stored = Stored {
                            inbox_id,
                            event_key,
                            first_attempt,
                        };
                        route(&myself, state, stored, *event, true, slot).await?;
                    }
                    Err(_) => {
                        tracing::info!(
                            in_flight = state.deps.settings.intake.max_in_flight,
                            "conversations are saturated; new events wait in the inbox"
                        );
                        start_drain(&myself, state, inbox_id - DRAIN_OVERLAP);
                    }
                }
            }
            IntakeMsg::Route(inbound) => deliver(state, *inbound),
            IntakeMsg::Sweep { all: true } => start_drain(&myself, state, 0),
            IntakeMsg::Sweep { all: false } => sweep(&myself, state).await?,
            IntakeMsg::Drain => drain(&myself, state).await?,
            IntakeMsg::Closed => {
                state.closing = false;
                close_batch(&myself, state);
            }
            IntakeMsg::Poll => poll(&myself, state).await?,
            IntakeMsg::InFlight(reply) => {
                prune_dispatched(state);
                let mut busy: Vec<Partition> = state
                    .dispatched
                    .values()
                    .filter(|d| d.slot.strong_count() > 0)
                    .map(|d| d.partition)
                    .collect();
                busy.sort_unstable();
                busy.dedup();
                let _ = reply.send(busy);
            }
        }
        Ok(())
    }
}

/// Closes the answerless events gathered so far in one write, off the actor's path; those arriving meanwhile
/// wait for the next batch. A failed batch stays pending in the inbox for the sweep.
fn close_batch(myself: &ActorRef<IntakeMsg>, state: &mut IntakeState) {
    if state.closing || state.to_close.is_empty() {
        return;
    }
    state.closing = true;
    let batch = std::mem::take(&mut state.to_close);
    let store = state.deps.store.clone();
    let myself = myself.clone();
    tokio::spawn(async move {
        let mut by_outcome: Vec<(Outcome, Vec<i64>)> = Vec::new();
        for (id, outcome, _) in &batch {
            match by_outcome.iter_mut().find(|(o, _)| o == outcome) {
                Some((_, ids)) => ids.push(*id),
                None => by_outcome.push((*outcome, vec![*id])),
            }
        }
        for (outcome, ids) in by_outcome {
            match store.finish_events(&ids, outcome).await {
                Ok(closed) => {
                    metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => outcome.as_str())
                        .increment(closed)
                }
                Err(err) => {
                    tracing::warn!(error = %err, count = ids.len(), "could not close answerless events; the sweep retries")
                }
            }
        }
        // The slots are freed here, after the write: closing counts as work in flight.
        drop(batch);
        let _ = super::tell(Role::Intake, &myself, IntakeMsg::Closed);
    });
}

/// Enters backlog mode: everything unhandled from `from` on is routed from the inbox, in order.
fn start_drain(myself: &ActorRef<IntakeMsg>, state: &mut IntakeState, from: i64) {
    if state.backlog {
        state.cursor = state.cursor.min(from.max(0));
        return;
    }
    state.backlog = true;
    state.cursor = from.max(0);
    continue_drain(myself);
}

/// Queues the next drain step. The only way that fails is this actor's mailbox being closed, that is the
/// service stopping (the supervisor drains intake first): nothing is lost, the backlog waits in the inbox for
/// the next start's sweep. So no failure, which the supervisor would log as a crash.
fn continue_drain(myself: &ActorRef<IntakeMsg>) {
    if super::tell(Role::Intake, myself, IntakeMsg::Drain).is_err() {
        tracing::info!(
            "intake is stopping; the rest of the inbox backlog waits for the next start"
        );
    }
}

/// Routes as much of the backlog as there are free slots; leaves backlog mode once it has caught up.
async fn drain(
    myself: &ActorRef<IntakeMsg>,
    state: &mut IntakeState,
) -> Result<(), ActorProcessingErr> {
    if !state.backlog {
        return Ok(());
    }
    let free = state.slots.available_permits().min(DRAIN_PAGE);
    if free == 0 {
        super::send_after_counted(Role::Intake, myself, DRAIN_POLL, || IntakeMsg::Drain);
        return Ok(());
    }
    let store = state.deps.store.clone();
    let owned = state.deps.ownership.dispatched();
    let pending = match store
        .pending_events(None, state.cursor, free as u64, owned.as_deref())
        .await
    {
        Ok(p) => p,
        Err(err) => {
            // The database may be briefly down: the events are safe in it; try again shortly.
            tracing::warn!(error = %err, "inbox drain could not read pending events");
            super::send_after_counted(Role::Intake, myself, Duration::from_secs(1), || {
                IntakeMsg::Drain
            });
            return Ok(());
        }
    };
    let caught_up = pending.len() < free;
    for row in pending {
        state.cursor = row.id;
        // Cluster: already handed out (live, or by a poll) since this replica owns the partition.
        if state.dispatched.contains_key(&row.id) {
            continue;
        }
        state.drained.insert(row.id);
        replay(myself, state, row, true).await?;
    }
    if caught_up {
        state.backlog = false;
        // `Accepted` messages of drained events arrive soon after the drain or never (the event was
        // replayed at start); keep the set from growing across many floods.
        if state.drained.len() > 4 * DRAIN_PAGE * 100 {
            let keep_after = state.cursor - 100 * DRAIN_PAGE as i64;
            state.drained.retain(|id| *id > keep_after);
        }
        tracing::info!("inbox backlog drained");
    } else {
        continue_drain(myself);
    }
    Ok(())
}

/// Re-dispatches the oldest events left unhandled longer than `intake.redispatch_after` (a lost mailbox),
/// as far as slots allow; in backlog mode the drain covers them.
async fn sweep(
    myself: &ActorRef<IntakeMsg>,
    state: &mut IntakeState,
) -> Result<(), ActorProcessingErr> {
    let store = state.deps.store.clone();
    if !state.backlog {
        let age = chrono::Duration::from_std(state.deps.settings.intake.redispatch_after)?;
        let threshold = Some(Utc::now() - age);
        let free = state.slots.available_permits().min(REPLAY_PAGE as usize) as u64;
        let owned = state.deps.ownership.dispatched();
        let pending = match store
            .pending_events(threshold, 0, free, owned.as_deref())
            .await
        {
            Ok(p) => p,
            Err(err) => {
                // The database may be briefly down; the next sweep tries again.
                tracing::warn!(error = %err, "inbox sweep could not read pending events");
                return Ok(());
            }
        };
        if !pending.is_empty() {
            tracing::info!(count = pending.len(), "re-dispatching unhandled events");
        }
        for row in pending {
            replay(myself, state, row, false).await?;
        }
    }
    if let Ok(count) = store.pending_event_count().await {
        metrics::gauge!(telemetry::INBOX_PENDING).set(count as f64);
    }
    Ok(())
}

/// Cluster: dispatches the owned partitions' pending events that are not in flight here, oldest first, as
/// many as there are free slots. Not a cursor over ids: ids of events other replicas received commit in
/// any order, so a row below one already seen can still appear.
async fn poll(
    myself: &ActorRef<IntakeMsg>,
    state: &mut IntakeState,
) -> Result<(), ActorProcessingErr> {
    prune_dispatched(state);
    if !state.deps.ownership.is_cluster() {
        return Ok(());
    }
    let owned = state.deps.ownership.dispatched();
    let free = state.slots.available_permits().min(REPLAY_PAGE as usize);
    if owned.as_ref().is_some_and(Vec::is_empty) || free == 0 || state.backlog {
        return Ok(());
    }
    let limit = (free + state.dispatched.len()) as u64;
    let pending = match state
        .deps
        .store
        .pending_events(None, 0, limit, owned.as_deref())
        .await
    {
        Ok(pending) => pending,
        Err(err) => {
            tracing::debug!(error = %err, "inbox poll could not read pending events");
            return Ok(());
        }
    };
    let mut taken = 0;
    for row in pending {
        if taken == free {
            break;
        }
        if state.dispatched.contains_key(&row.id) {
            continue;
        }
        taken += 1;
        replay(myself, state, row, true).await?;
    }
    Ok(())
}

/// Cluster: before a live event of a user this replica dispatches is routed, when its insert saw an older
/// event of that user unhandled, routes those not yet handed out here, oldest first. Another replica may
/// have stored one (its NOTIFY hint, or the poll, not here yet) before this event was even sent, and the
/// owner must dispatch each user's events in inbox order. False when that cannot be read: the event is
/// left to the poll.
async fn caught_up(
    myself: &ActorRef<IntakeMsg>,
    state: &mut IntakeState,
    event: &WebhookEvent,
    before: i64,
) -> Result<bool, ActorProcessingErr> {
    let Route::Converse(user) = classify(event) else {
        return Ok(true);
    };
    if !state.deps.ownership.is_cluster() || !state.deps.ownership.dispatches_user(&user) {
        return Ok(true);
    }
    let partition = state.deps.ownership.partition_of(&user);
    let older = match state
        .deps
        .store
        .pending_events_of_user_before(&user, partition, before)
        .await
    {
        Ok(older) => older,
        Err(err) => {
            tracing::debug!(error = %err, "cannot read a user's older pending events; the poll routes the event");
            return Ok(false);
        }
    };
    for row in older {
        if !state.dispatched.contains_key(&row.id) {
            replay(myself, state, row, true).await?;
        }
    }
    Ok(true)
}

/// Routes an event read back from the inbox, with a slot if one is free. Never the live delivery (its
/// `Accepted` was dropped or is yet to come), so its attempt is counted again. A payload that no longer
/// decodes is closed as undecodable.
async fn replay(
    myself: &ActorRef<IntakeMsg>,
    state: &mut IntakeState,
    row: PendingEvent,
    fresh: bool,
) -> Result<(), ActorProcessingErr> {
    match events::decode_stored(&row.payload) {
        Ok(event) => {
            let slot = state.slots.clone().try_acquire_owned().ok().map(Arc::new);
            let stored = Stored {
                inbox_id: row.id,
                event_key: row.event_key,
                first_attempt: None,
            };
            route(myself, state, stored, event, fresh, slot).await
        }
        Err(err) => {
            tracing::warn!(inbox_id = row.id, error = %err, "stored event cannot be decoded; giving up on it");
            let _ = state
                .deps
                .store
                .finish_event(row.id, Outcome::Undecodable)
                .await;
            Ok(())
        }
    }
}

/// An event handed to a conversation (cluster mode).
struct Dispatched {
    partition: Partition,
    slot: Weak<OwnedSemaphorePermit>,
    at: std::time::Instant,
}

/// Forgets events handed out longer ago than the stale sweep's threshold (it re-dispatches those).
fn prune_dispatched(state: &mut IntakeState) {
    let stale = state.deps.settings.intake.redispatch_after;
    state.dispatched.retain(|_, d| d.at.elapsed() < stale);
}

/// An event as the inbox holds it.
struct Stored {
    inbox_id: i64,
    event_key: String,
    first_attempt: Option<Attempt>,
}

async fn route(
    myself: &ActorRef<IntakeMsg>,
    state: &mut IntakeState,
    stored: Stored,
    event: WebhookEvent,
    fresh: bool,
    slot: Option<Slot>,
) -> Result<(), ActorProcessingErr> {
    let Stored {
        inbox_id,
        event_key,
        first_attempt,
    } = stored;
    let user = match classify(&event) {
        // Another replica owns this user (or this one does not trust its lease right now): the event stays
        // in the inbox for its owner's poll.
        Route::Converse(user) if !state.deps.ownership.dispatches_user(&user) => return Ok(()),
        Route::Converse(user) => user,
        Route::Close(outcome) => {
            state.to_close.push((inbox_id, outcome, slot));
            close_batch(myself, state);
            return Ok(());
        }
    };
    if state.deps.ownership.is_cluster() {
        let dispatched = Dispatched {
            partition: state.deps.ownership.partition_of(&user),
            slot: slot.as_ref().map_or_else(Weak::new, Arc::downgrade),
            at: std::time::Instant::now(),
        };
        state.dispatched.insert(inbox_id, dispatched);
    }
    let inbound = Inbound {
        inbox_id,
        event_key,
        user,
        event,
        slot,
        first_attempt,
    };
    if fresh && inbound.event.kind == EventKind::OaEcho {
        super::send_after_counted(Role::Intake, myself, ECHO_DELAY, move || {
            IntakeMsg::Route(Box::new(inbound))
        });
    } else {
        deliver(state, inbound);
    }
    Ok(())
}

fn deliver(state: &IntakeState, inbound: Inbound) {
    match state.deps.directory.conversations() {
        Some(manager) => {
            if let Err(err) = super::tell(
                Role::Conversations,
                &manager,
                ManagerMsg::Deliver(Box::new(inbound)),
            ) {
                tracing::warn!(error = %err, "conversation manager unavailable; the sweep will retry");
            }
        }
        None => tracing::warn!("conversation manager not running; the sweep will retry"),
    }
}
