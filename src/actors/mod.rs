//! The supervised actor system. Each module holds one actor: its actor, state and message types
//! (`IntakeActor`, `IntakeState`, `IntakeMsg`; the per-user conversations' manager is `ConversationManager`,
//! taking `ManagerMsg`), except `restart`, the restart budget. Behaviour only: the decisions they apply live
//! in the pure modules (`conversation`, `scam`, `reply`, `llm::prompt`, `llm::answer`, `zalo`), and the
//! services they share with the CLI and HTTP in their own (`delivery`, `token`, `reports`).
//!
//! This module holds the plumbing: [`Directory`] (each singleton found by its [`Role`]), [`Deps`], and
//! [`tell`], [`ask`] and the timer helpers, which count each message into its actor's mailbox depth by role.
//!
//! ```text
//! supervisor (root) ─┬─ token_keeper
//!                    ├─ outbound
//!                    ├─ llm
//!                    ├─ scam
//!                    ├─ feeds
//!                    ├─ media
//!                    ├─ campaigns
//!                    ├─ conversations ── conversation (one per active user, stopped when idle)
//!                    └─ intake
//! ```
//! Architecture Invariant: actors find each other by name through [`Directory`] at the moment they send, so a
//! restarted actor is reachable at once and nobody holds a stale reference.

pub mod campaigns;
pub mod cluster;
pub mod conversation;
pub mod conversations;
pub mod feeds;
pub mod intake;
pub mod llm;
pub mod media;
pub mod outbound;
pub mod restart;
pub mod scam;

pub mod supervisor;
pub mod token_keeper;

use std::sync::Arc;
use std::time::Duration;

use ractor::concurrency::JoinHandle;
use ractor::rpc::CallResult;
use ractor::{ActorRef, DerivedActorRef, Message, MessagingErr, RpcReplyPort};
use tokio::sync::broadcast;

use crate::config::Settings;
use crate::delivery::{Delivery, OutboundEvent};
use crate::faults::Faults;
use crate::pipeline::Role;
use crate::store::Store;

/// Registry names scoped to one application instance, so several instances (tests) share a process safely.
#[derive(Debug, Clone)]
pub struct Directory {
    prefix: Arc<str>,
}

impl Directory {
    pub fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            prefix: Arc::from(format!("ts-{}", &id[..12])),
        }
    }

    pub fn name(&self, role: Role) -> String {
        format!("{}/{}", self.prefix, role.as_str())
    }

    /// Identifies this application instance, e.g. as the holder of the token refresh lease.
    pub fn owner_id(&self) -> String {
        format!("{}@{}", self.prefix, std::process::id())
    }

    pub fn root_name(&self) -> String {
        format!("{}/supervisor", self.prefix)
    }

    /// The actor running in `role`, if any. Each actor's module adds its typed accessor
    /// (`directory.intake()`, …), so this module names no actor's messages.
    fn lookup<M: Message>(&self, role: Role) -> Option<ActorRef<M>> {
        ActorRef::where_is(self.name(role))
    }
}

impl Default for Directory {
    fn default() -> Self {
        Self::new()
    }
}

/// What every actor may use. Cloned into each actor's arguments; holds no mutable state of its own
/// (the store is a connection pool, the broadcast sender a channel).
#[derive(Clone)]
pub struct Deps {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub directory: Directory,
    pub http: reqwest::Client,
    pub faults: Faults,
    pub outbound_events: broadcast::Sender<OutboundEvent>,
    /// How replies leave: resolved once at start.
    pub delivery: Delivery,
    /// Wall-clock time for long schedules (token lifetimes); a manual clock in tests.
    pub clock: crate::clock::SharedClock,
    /// Replay unhandled events and resume queued replies (false for the `chat` side instance).
    pub recovery: bool,
    /// Reads the images users send (QR codes, OCR).
    pub images: Arc<crate::media::ImageReader>,
    /// What this replica owns (everything, solo).
    pub ownership: crate::cluster::Ownership,
    /// The cluster's own connection (PostgreSQL service only).
    pub cluster_db: Option<crate::store::ClusterDb>,
}

#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("the {0} actor is not running")]
    NotRunning(Role),
    #[error("the {0} actor did not answer in time")]
    Timeout(Role),
}

/// Casts `message` to `actor`, the one running in `role`, counting it in that role's mailbox depth.
pub fn tell<M>(role: Role, actor: &impl Recipient<M>, message: M) -> Result<(), MessagingErr<M>> {
    crate::telemetry::mailbox_in(role);
    let sent = actor.cast_message(message);
    if sent.is_err() {
        crate::telemetry::mailbox_out(role);
    }
    sent
}

/// `actor.send_after(delay, message)` for the actor running in `role`, the message counted in that role's
/// mailbox depth when the timer sends it.
pub fn send_after_counted<M: Message>(
    role: Role,
    actor: &ActorRef<M>,
    delay: Duration,
    message: impl FnOnce() -> M + Send + 'static,
) -> JoinHandle<Result<(), MessagingErr<M>>> {
    actor.send_after(delay, move || {
        crate::telemetry::mailbox_in(role);
        message()
    })
}

/// `actor.send_interval(period, message)` for the actor running in `role`, each message counted in that
/// role's mailbox depth when the timer sends it.
pub fn send_interval_counted<M: Message>(
    role: Role,
    actor: &ActorRef<M>,
    period: Duration,
    message: impl Fn() -> M + Send + 'static,
) -> JoinHandle<()> {
    actor.send_interval(period, move || {
        crate::telemetry::mailbox_in(role);
        message()
    })
}

/// What a message can be cast to: an actor, or a reference derived from one that takes a narrower message
/// (a child reporting to its manager without naming the manager's message type).
pub trait Recipient<M> {
    fn cast_message(&self, message: M) -> Result<(), MessagingErr<M>>;
}

impl<M: Message> Recipient<M> for ActorRef<M> {
    fn cast_message(&self, message: M) -> Result<(), MessagingErr<M>> {
        self.cast(message)
    }
}

impl<M> Recipient<M> for DerivedActorRef<M> {
    fn cast_message(&self, message: M) -> Result<(), MessagingErr<M>> {
        self.send_message(message)
    }
}

/// Asks the actor running in `role` (found by `target`), retrying briefly while its supervisor restarts it.
pub async fn ask<M, T, F>(
    target: impl Fn() -> Option<ActorRef<M>>,
    role: Role,
    build: F,
    timeout: Duration,
) -> Result<T, AskError>
where
    M: Message,
    T: Send + 'static,
    F: Fn(RpcReplyPort<T>) -> M,
{
    const ATTEMPTS: u32 = 5;
    for attempt in 0..ATTEMPTS {
        if let Some(actor) = target() {
            crate::telemetry::mailbox_in(role);
            match actor.call(&build, Some(timeout)).await {
                Ok(CallResult::Success(value)) => return Ok(value),
                Ok(CallResult::Timeout) => return Err(AskError::Timeout(role)),
                // The actor died with our request (restart) or was stopping: try its successor.
                Ok(CallResult::SenderError) | Err(_) => crate::telemetry::mailbox_out(role),
            }
        }
        tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
    }
    Err(AskError::NotRunning(role))
}
