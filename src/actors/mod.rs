//! The supervised actor system. Each module holds one actor: its `XActor`, `XState` and `XMsg`.
//! Behaviour only: the decisions they apply live in the pure modules (`scam`, `reply`, `llm::prompt`, `zalo`).
//!
//! ```text
//! supervisor (root) ─┬─ token_keeper
//!                    ├─ outbound
//!                    ├─ llm
//!                    ├─ scam
//!                    ├─ conversations ── conversation (one per active user, stopped when idle)
//!                    └─ intake
//! ```
//! Architecture Invariant: actors find each other by name through [`Directory`] at the moment they send, so a
//! restarted actor is reachable at once and nobody holds a stale reference.

pub mod conversation;
pub mod conversations;
pub mod intake;
pub mod llm;
pub mod outbound;
pub mod restart;
pub mod scam;

pub mod supervisor;
pub mod token_keeper;

use std::sync::Arc;
use std::time::Duration;

use ractor::rpc::CallResult;
use ractor::{ActorRef, DerivedActorRef, Message, MessagingErr, RpcReplyPort};
use tokio::sync::broadcast;

use crate::config::Settings;
use crate::delivery::{Delivery, OutboundEvent};
use crate::faults::Faults;
use crate::store::Store;

/// The singleton actors, by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    TokenKeeper,
    Outbound,
    Llm,
    Scam,
    Conversations,
    Intake,
}

impl Role {
    /// Start order: dependencies first, intake (the entry point) last.
    pub const START_ORDER: [Role; 6] = [
        Role::TokenKeeper,
        Role::Outbound,
        Role::Llm,
        Role::Scam,
        Role::Conversations,
        Role::Intake,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::TokenKeeper => "token_keeper",
            Role::Outbound => "outbound",
            Role::Llm => "llm",
            Role::Scam => "scam",
            Role::Conversations => "conversations",
            Role::Intake => "intake",
        }
    }
}

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

    fn lookup<M: Message>(&self, role: Role) -> Option<ActorRef<M>> {
        ActorRef::where_is(self.name(role))
    }

    pub fn intake(&self) -> Option<ActorRef<intake::IntakeMsg>> {
        self.lookup(Role::Intake)
    }

    pub fn conversations(&self) -> Option<ActorRef<conversations::ConversationsMsg>> {
        self.lookup(Role::Conversations)
    }

    pub fn scam(&self) -> Option<ActorRef<scam::ScamMsg>> {
        self.lookup(Role::Scam)
    }

    pub fn llm(&self) -> Option<ActorRef<llm::LlmMsg>> {
        self.lookup(Role::Llm)
    }

    pub fn outbound(&self) -> Option<ActorRef<outbound::OutboundMsg>> {
        self.lookup(Role::Outbound)
    }

    pub fn token_keeper(&self) -> Option<ActorRef<token_keeper::TokenKeeperMsg>> {
        self.lookup(Role::TokenKeeper)
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
}

#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("the {0} actor is not running")]
    NotRunning(&'static str),
    #[error("the {0} actor did not answer in time")]
    Timeout(&'static str),
}

/// Asks a singleton actor, retrying briefly while it is being restarted by its supervisor.
/// Casts `message` to `actor` (a singleton of kind `kind`), counting it in that kind's mailbox depth.
pub fn tell<M>(
    kind: &'static str,
    actor: &impl Recipient<M>,
    message: M,
) -> Result<(), MessagingErr<M>> {
    crate::telemetry::mailbox_in(kind);
    let sent = actor.cast_message(message);
    if sent.is_err() {
        crate::telemetry::mailbox_out(kind);
    }
    sent
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

pub async fn ask<M, T, F>(
    target: impl Fn() -> Option<ActorRef<M>>,
    name: &'static str,
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
            crate::telemetry::mailbox_in(name);
            match actor.call(&build, Some(timeout)).await {
                Ok(CallResult::Success(value)) => return Ok(value),
                Ok(CallResult::Timeout) => return Err(AskError::Timeout(name)),
                // The actor died with our request (restart) or was stopping: try its successor.
                Ok(CallResult::SenderError) | Err(_) => crate::telemetry::mailbox_out(name),
            }
        }
        tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
    }
    Err(AskError::NotRunning(name))
}
