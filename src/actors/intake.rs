//! Intake: takes events the webhook has already persisted and routes them to the per-user conversations.
//! On start it replays every event left unhandled (crash, restart), and a periodic sweep re-dispatches
//! events that stayed unhandled too long (a lost mailbox). Handling is idempotent downstream, so a
//! re-dispatch can never answer twice.

use std::time::Duration;

use chrono::Utc;
use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::Deps;
use super::conversations::{ConversationsMsg, Inbound};
use crate::domain::UserId;
use crate::telemetry;
use crate::zalo::events::{self, EventKind, WebhookEvent};

/// How long an `oa_send_*` echo waits before it is classified: Zalo may deliver the echo of our own send
/// before the send call has returned its `message_id` (zalo-api.md §7.6).
const ECHO_DELAY: Duration = Duration::from_secs(2);
const REPLAY_PAGE: u64 = 500;

pub struct IntakeActor;

pub struct IntakeState {
    deps: Deps,
}

pub enum IntakeMsg {
    /// A freshly persisted webhook event.
    Accepted {
        inbox_id: i64,
        event_key: String,
        event: Box<WebhookEvent>,
    },
    /// Re-dispatch events still unhandled; `all` at start, else only those older than the threshold.
    Sweep { all: bool },
    /// Route an echo after its delay.
    Route(Box<Inbound>),
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
        telemetry::mailbox_reset("intake");
        Ok(IntakeState { deps })
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
        super::tell("intake", &myself, IntakeMsg::Sweep { all: true })?;
        myself.send_interval(state.deps.settings.intake.sweep_interval, || {
            telemetry::mailbox_in("intake");
            IntakeMsg::Sweep { all: false }
        });
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out("intake");
        match msg {
            IntakeMsg::Accepted {
                inbox_id,
                event_key,
                event,
            } => route(&myself, state, inbox_id, event_key, *event, true).await?,
            IntakeMsg::Route(inbound) => deliver(state, *inbound),
            IntakeMsg::Sweep { all } => sweep(&myself, state, all).await?,
        }
        Ok(())
    }
}

async fn sweep(
    myself: &ActorRef<IntakeMsg>,
    state: &mut IntakeState,
    all: bool,
) -> Result<(), ActorProcessingErr> {
    let store = state.deps.store.clone();
    let threshold = if all {
        None
    } else {
        let age = chrono::Duration::from_std(state.deps.settings.intake.redispatch_after)?;
        Some(Utc::now() - age)
    };
    // Page through the whole backlog at start; a periodic sweep takes the oldest page of stale events.
    let mut after_id = 0;
    loop {
        let pending = match store.pending_events(threshold, after_id, REPLAY_PAGE).await {
            Ok(p) => p,
            Err(err) => {
                // The database may be briefly down; the next sweep tries again.
                tracing::warn!(error = %err, "inbox sweep could not read pending events");
                return Ok(());
            }
        };
        if !pending.is_empty() {
            tracing::info!(
                count = pending.len(),
                at_start = all,
                "re-dispatching unhandled events"
            );
        }
        let full_page = pending.len() as u64 == REPLAY_PAGE;
        for row in pending {
            after_id = row.id;
            let parsed =
                events::parse_json(row.payload.as_bytes()).and_then(|v| events::decode(&v));
            match parsed {
                Ok(event) => route(myself, state, row.id, row.event_key, event, false).await?,
                Err(err) => {
                    tracing::warn!(inbox_id = row.id, error = %err, "stored event cannot be decoded; giving up on it");
                    let _ = store.finish_event(row.id, "undecodable").await;
                }
            }
        }
        if !(all && full_page) {
            break;
        }
    }
    if let Ok(count) = store.pending_event_count().await {
        metrics::gauge!(telemetry::INBOX_PENDING).set(count as f64);
    }
    Ok(())
}

async fn route(
    myself: &ActorRef<IntakeMsg>,
    state: &mut IntakeState,
    inbox_id: i64,
    event_key: String,
    event: WebhookEvent,
    fresh: bool,
) -> Result<(), ActorProcessingErr> {
    let user = event.user_id.as_deref().and_then(|u| UserId::parse(u).ok());
    let Some(user) = user else {
        // Nothing to answer and nobody to answer to: stored for the record, acknowledged, done.
        let outcome = if event.kind == EventKind::Other {
            "ignored"
        } else {
            "no_user"
        };
        state.deps.store.finish_event(inbox_id, outcome).await?;
        metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => outcome).increment(1);
        return Ok(());
    };
    let inbound = Inbound {
        inbox_id,
        event_key,
        user,
        event,
    };
    if fresh && inbound.event.kind == EventKind::OaEcho {
        myself.send_after(ECHO_DELAY, move || {
            telemetry::mailbox_in("intake");
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
                "conversations",
                &manager,
                ConversationsMsg::Deliver(Box::new(inbound)),
            ) {
                tracing::warn!(error = %err, "conversation manager unavailable; the sweep will retry");
            }
        }
        None => tracing::warn!("conversation manager not running; the sweep will retry"),
    }
}
