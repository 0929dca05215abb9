//! Persistence. The only module that knows sea-orm: everything it returns is a plain domain type.
//!
//! Architecture Invariant: every state change that must not be lost or doubled is one transaction here
//! (an event is marked handled in the same transaction that records both sides of the chat and queues the
//! reply), so a crash at any point either leaves the event pending (it is handled again) or fully done.
//!
//! # Layout
//! - `connect`: connections per backend, pragmas, migrations, readiness, write transactions.
//! - One `impl Store` block per aggregate, with its row conversions: `inbox` (webhook events, attempts,
//!   completion), `chat` (users, history, admin messages, handoff pauses), `outbound` (reply parts and their
//!   states), `campaigns` (campaigns, their recipients and opt-outs), `token` (the OAuth pair, its lease, PKCE states), `llm_usage`, `reports`.
//! - `group_commit`: one queue, batching and fallback core, with two writers plugged in: the webhook's
//!   inserts (`inbox`) and the pipeline's writes (`pipeline`).
//! - `pre_claims`: reply parts stored claimed whose send has not started.
//! - `checkpointer`: SQLite's WAL checkpoints beside the writes.
//! - `entities`: the sea-orm table models.

mod checkpointer;

mod appeals;
mod campaigns;
mod chat;
mod cluster;
mod connect;
mod console;
mod entities;
mod feeds;
mod group_commit;
mod image_reads;
mod inbox;
mod llm_usage;
mod moderation;
mod outbound;
mod pre_claims;
mod reports;
mod token;

pub use appeals::{Appeal, AppealDecided, AppealFiled, WaitingNotice};
pub use campaigns::{Campaign, CampaignCounts, PendingRecipient, UserStanding};
pub use cluster::{ClusterDb, ClusterView, INBOX_CHANNEL, LiveMember, PartitionOwner};
pub use console::{ReporterCounts, SeenUser, SourceSummary};
pub use moderation::{AuditEntry, Moderated, ModerationRecord, NoticeText};
pub use reports::{
    BackupRun, ChangedReport, NewReport, NewUserReport, USER_REPORTS_SOURCE, UserReport,
    UserReportOutcome,
};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use secrecy::SecretString;

use crate::cluster::Ownership;
use crate::domain::{HistoryTurn, OutboundState, UserId};
use crate::pipeline::Outcome;
use crate::token_cipher::TokenCipher;
use group_commit::GroupCommit;
use group_commit::inbox::InboxWriter;
use group_commit::pipeline::PipelineWriter;

#[derive(Debug, thiserror::Error)]
#[error("database: {0}")]
pub struct StoreError(#[from] DbErr);

pub type StoreResult<T> = Result<T, StoreError>;

/// This replica's ownership once it joined a cluster (set once, at start), shared with the writers: the
/// pipeline fences its completions and claims by it, the inbox hints other replicas' partitions' owners.
#[derive(Clone, Default)]
pub(crate) struct ClusterHandle(std::sync::Arc<std::sync::OnceLock<(Ownership, bool)>>);

impl ClusterHandle {
    pub(crate) fn get(&self) -> Option<&Ownership> {
        self.0.get().map(|(ownership, _)| ownership)
    }

    /// The ownership, when NOTIFY hints are on.
    pub(crate) fn notifying(&self) -> Option<&Ownership> {
        self.0
            .get()
            .filter(|(ownership, notify)| *notify && ownership.is_cluster())
            .map(|(ownership, _)| ownership)
    }
}

#[derive(Clone)]
pub struct Store {
    /// Reads (and, on PostgreSQL, writes too).
    db: DatabaseConnection,
    /// Every write. On SQLite a pool of one connection: writers queue in process, in order, instead of
    /// contending for SQLite's file lock, whose busy handler sleeps up to 100 ms at a time while the lock may
    /// long be free (measured: e2e p50 of seconds at 1,000 msg/s with 22 % of the CPU idle). On PostgreSQL
    /// the same pool as `db`.
    writer: DatabaseConnection,
    /// The webhook inbox's writes: `writer` on SQLite, a connection of its own on PostgreSQL.
    inbox_db: DatabaseConnection,
    /// SQLite: the connection that copies the WAL into the database file beside the writes (`checkpointer`).
    checkpoints: Option<DatabaseConnection>,
    sqlite: bool,
    cipher: Option<TokenCipher>,
    /// Group-commits webhook events; its task ends when the last clone is dropped.
    inbox: GroupCommit<InboxWriter>,
    /// Group-commits the pipeline's writes: completions, attempts, send claims and results.
    pipeline: GroupCommit<PipelineWriter>,
    /// Reply parts the pipeline stored claimed whose send has not started (`pre_claims`).
    pre_claims: std::sync::Arc<pre_claims::PreClaims>,
    cluster: ClusterHandle,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("sqlite", &self.sqlite)
            .finish()
    }
}

/// Outcome of persisting a webhook event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxInsert {
    Inserted {
        id: i64,
        /// For an event left open for a conversation: its first attempt, counted by the insert itself
        /// (`attempts = 1`), with what the conversation must know before deciding, read by the same statement.
        /// The live delivery needs no attempt write of its own; replays count theirs (`begin_attempt`).
        first_attempt: Option<Attempt>,
    },
    Duplicate,
}

/// A raw event to persist before the webhook answers 200.
#[derive(Debug, Clone)]
pub struct NewInboxEvent {
    pub event_key: String,
    pub event_name: String,
    pub user_id: Option<UserId>,
    pub payload: String,
    /// Stored already handled with this outcome: an event with nothing to answer (a receipt, an unknown
    /// event, no user), closed in the insert itself instead of by a second write.
    pub handled_as: Option<Outcome>,
}

/// A persisted event that has not been handled yet.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub id: i64,
    pub event_key: String,
    pub payload: String,
    pub attempts: i32,
}

pub use crate::pipeline::Attempt;

/// A user's recent chat, oldest first, and the id of its newest line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    pub turns: Vec<HistoryTurn>,
    pub newest: Option<i64>,
}

/// What one conversation's completions committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    /// Per completion, in order: its queued reply parts, or None when it had been handled already.
    pub parts: Vec<Option<Vec<QueuedOutbound>>>,
    /// The chat lines written; None when no completion was written.
    pub history: Option<HistoryWrite>,
}

/// Chat lines one transaction appended to a user's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryWrite {
    /// The user's newest line before them (None: there was none).
    pub newest_before: Option<i64>,
    pub turns: Vec<HistoryTurn>,
    /// The newest of them (None when nothing was written).
    pub newest_after: Option<i64>,
}

/// What the conversation decided for one event, committed atomically.
#[derive(Debug, Clone)]
pub struct Completion {
    pub inbox_id: i64,
    pub event_key: String,
    pub user: UserId,
    /// The user's side, recorded in `zalo_messages` (None for events that carry no message, e.g. follow).
    pub user_message: Option<ChatLine>,
    /// The bot's reply, already split into Zalo-sized parts; empty = no reply.
    pub reply_parts: Vec<String>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub struct ChatLine {
    pub content: String,
    pub message_type: String,
}

/// An outbound part ready to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedOutbound {
    pub id: i64,
    pub user: UserId,
    pub text: String,
    pub source_event_key: Option<String>,
    pub part_index: i32,
    /// Parts of the reply this part belongs to (0 when unknown: a part resumed from the database).
    pub part_count: i32,
    /// The campaign it belongs to: such a part waits out the night (`domain::time::is_quiet_hour`).
    pub campaign_id: Option<i64>,
    /// An image sent with the text as its caption.
    pub image_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRecord {
    pub id: i64,
    pub text: String,
    pub state: OutboundState,
    pub zalo_message_id: Option<String>,
    pub error_code: Option<i64>,
    pub attempts: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub content: String,
    pub is_from_user: bool,
    pub message_type: String,
    pub sent_at: DateTime<Utc>,
}

/// The OAuth token pair as stored, with its refresh bookkeeping. Debug is redacted by `SecretString`.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub refresh_issued_at: Option<DateTime<Utc>>,
    /// Moves on with every write of a new pair; the compare-and-set key of every token write.
    pub version: i64,
    pub source: String,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_refresh_result: Option<String>,
    pub last_refresh_error: Option<String>,
    pub last_refresh_success_at: Option<DateTime<Utc>>,
    pub reauth_required: bool,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
}

/// One user's LLM usage on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LlmUsageRow {
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// A token pair to store.
#[derive(Debug, Clone)]
pub struct NewTokenPair {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub access_expires_at: Option<DateTime<Utc>>,
}
