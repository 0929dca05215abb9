//! Persistence. The only module that knows sea-orm: everything it returns is a plain domain type.
//!
//! Architecture Invariant: every state change that must not be lost or doubled is one transaction here
//! (an event is marked handled in the same transaction that records both sides of the chat and queues the
//! reply), so a crash at any point either leaves the event pending (it is handled again) or fully done.

mod batch_writer;
mod checkpointer;

use batch_writer::{Done, Op};
mod entities;
mod inbox_writer;
mod pre_claims;
mod reports;

pub use reports::{
    BackupRun, ChangedReport, NewReport, NewUserReport, USER_REPORTS_SOURCE, UserReport,
    UserReportOutcome,
};

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectOptions, ConnectionTrait, Database,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use secrecy::{ExposeSecret, SecretString};

use crate::config::DatabaseSettings;
use crate::domain::{HistoryTurn, OutboundState, UserId};
use crate::token_cipher::{self, TokenCipher};
use entities::{
    handoff_pauses, inbox_events, llm_usage, oauth_states, outbound_messages, zalo_messages,
    zalo_tokens, zalo_users,
};

/// The token row is a singleton: one OA per deployment.
const TOKEN_ROW_ID: i32 = 1;

#[derive(Debug, thiserror::Error)]
#[error("database: {0}")]
pub struct StoreError(#[from] DbErr);

pub type StoreResult<T> = Result<T, StoreError>;

/// SQLite: the size the WAL file is trimmed back to when it starts over (`journal_size_limit`).
const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

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
    /// Group-commits webhook events (see `inbox_writer`); its task ends when the last clone is dropped.
    inbox: inbox_writer::InboxWriter,
    /// Group-commits the pipeline's writes: completions, attempts, send claims and results (`batch_writer`).
    pipeline: batch_writer::BatchWriter,
    /// Reply parts the pipeline stored claimed whose send has not started (`pre_claims`).
    pre_claims: std::sync::Arc<pre_claims::PreClaims>,
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
    pub handled_as: Option<&'static str>,
}

/// A persisted event that has not been handled yet.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub id: i64,
    pub event_key: String,
    pub payload: String,
    pub attempts: i32,
}

/// A counted handling attempt, with what the conversation needs to know before deciding, read by the same
/// statement (no read of its own per message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: i32,
    /// The user's handoff pause as stored (possibly over already).
    pub paused_until: Option<DateTime<Utc>>,
    /// The id of the user's newest chat line: tells whether a cached history is still the database's.
    pub newest_message: Option<i64>,
    /// When the statement that read it returned: a reader can tell whether a write of its own came later.
    pub read_at: std::time::Instant,
}

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
    pub outcome: &'static str,
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

impl Store {
    pub async fn connect(settings: &DatabaseSettings) -> StoreResult<Self> {
        let url = settings.url.expose_secret().to_string();
        let sqlite = settings.is_sqlite();
        let mut opts = ConnectOptions::new(url);
        opts.max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_timeout(settings.acquire_timeout)
            .sqlx_logging(false);
        if sqlite {
            // WAL lets readers run beside the single writer; busy_timeout waits for the write lock instead of
            // failing. Pragmas are per connection, so they are set here, never in a migration.
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .create_if_missing(true)
                    // Checkpoints run beside the writes, not inside a commit (`checkpointer`); a WAL that
                    // grew under a burst is trimmed back to this size when it starts over.
                    .pragma("wal_autocheckpoint", "0")
                    .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
            });
        }
        let db = Database::connect(opts.clone()).await?;
        let one_connection = || {
            let mut opts = opts.clone();
            opts.max_connections(1).min_connections(1);
            Database::connect(opts)
        };
        // SQLite: one writer connection for every write, and one that copies the WAL into the database file
        // beside it (`checkpointer`). PostgreSQL: the pool writes too, but the webhook's inserts get a
        // connection of their own (their writer is serial, one is all it uses), so a webhook never waits for a
        // pooled connection the pipeline's batches and reads hold (BENCHMARKS.md, section 22).
        let (writer, inbox_db, checkpoints) = if sqlite {
            let writer = one_connection().await?;
            let side = one_connection().await?;
            tokio::spawn(checkpointer::run(side.clone(), writer.clone()));
            (writer.clone(), writer, Some(side))
        } else {
            (db.clone(), one_connection().await?, None)
        };
        let inbox = inbox_writer::InboxWriter::spawn(inbox_db.clone());
        let pre_claims = std::sync::Arc::new(pre_claims::PreClaims::default());
        let pipeline = batch_writer::BatchWriter::spawn(writer.clone(), sqlite, pre_claims.clone());
        Ok(Self {
            db,
            writer,
            inbox_db,
            checkpoints,
            sqlite,
            cipher: settings.token_cipher.clone(),
            inbox,
            pipeline,
            pre_claims,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        migrations::Migrator::up(&self.writer, None).await?;
        Ok(())
    }

    /// Migrations known to the binary but not applied to this database (read-only; used by `/readyz`).
    pub async fn pending_migrations(&self) -> StoreResult<usize> {
        Ok(
            migrations::Migrator::get_pending_migrations_read_only(&self.db)
                .await?
                .len(),
        )
    }

    /// The pool answers, and on PostgreSQL the webhook inbox's own connection too: after a database restart
    /// that connection is re-established here, so "ready" means the webhook's connection works as well. (Once,
    /// under the full suite, `reliability::postgres_restarted_mid_run_loses_nothing` got a 503 for a post made
    /// right after `/readyz` turned 200 while only the pool was pinged.)
    pub async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await?;
        if !self.sqlite {
            self.inbox_db.ping().await?;
        }
        Ok(())
    }

    /// Closes the pool shared by every clone (the inbox writer's too): a batch already writing finishes, later
    /// inserts fail with a `StoreError` instead of waiting.
    pub async fn close(self) {
        if let Some(checkpoints) = &self.checkpoints {
            let _ = checkpoints.close_by_ref().await;
        }
        if self.sqlite {
            let _ = self.writer.close().await;
        } else {
            let _ = self.inbox_db.close().await;
        }
        let _ = self.db.close().await;
    }

    /// A write transaction. On SQLite it takes the write lock up front (IMMEDIATE), so two writers never
    /// deadlock on the read-to-write upgrade.
    async fn begin_write(&self) -> StoreResult<DatabaseTransaction> {
        Ok(begin_write_on(&self.writer, self.sqlite).await?)
    }

    // ===== Inbox =====

    /// Persists a webhook event; a second delivery of the same key is a no-op decided by the unique index.
    /// Returns only after the event's transaction committed. Concurrent calls share one transaction (group
    /// commit in `inbox_writer`), so the webhook's throughput is not one commit per request.
    pub async fn insert_inbox(&self, event: NewInboxEvent) -> StoreResult<InboxInsert> {
        self.inbox.insert(event).await
    }

    /// Unhandled events with an id above `after_id`, received before `received_before` (any time when
    /// None), oldest first: one page of at most `limit`.
    pub async fn pending_events(
        &self,
        received_before: Option<DateTime<Utc>>,
        after_id: i64,
        limit: u64,
    ) -> StoreResult<Vec<PendingEvent>> {
        let mut query = inbox_events::Entity::find()
            .filter(inbox_events::Column::HandledAt.is_null())
            .filter(inbox_events::Column::Id.gt(after_id));
        if let Some(before) = received_before {
            query = query.filter(inbox_events::Column::ReceivedAt.lt(before));
        }
        let rows = query
            .order_by_asc(inbox_events::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(pending_from).collect())
    }

    /// Unhandled events of one user, oldest first (re-delivered after that user's actor failed).
    pub async fn pending_events_for_user(&self, user: &UserId) -> StoreResult<Vec<PendingEvent>> {
        let rows = inbox_events::Entity::find()
            .filter(inbox_events::Column::HandledAt.is_null())
            .filter(inbox_events::Column::ZaloUserId.eq(user.as_str()))
            .order_by_asc(inbox_events::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(pending_from).collect())
    }

    pub async fn pending_event_count(&self) -> StoreResult<u64> {
        Ok(inbox_events::Entity::find()
            .filter(inbox_events::Column::HandledAt.is_null())
            .count(&self.db)
            .await?)
    }

    /// When the oldest unhandled inbox event arrived, if any is waiting.
    pub async fn oldest_pending_received_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(inbox_events::Entity::find()
            .filter(inbox_events::Column::HandledAt.is_null())
            .order_by_asc(inbox_events::Column::ReceivedAt)
            .one(&self.db)
            .await?
            .map(|row| row.received_at))
    }

    /// Connections of the pool: `(open, idle)`.
    pub fn pool_connections(&self) -> (u32, u32) {
        if self.sqlite {
            let pool = self.db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        } else {
            let pool = self.db.get_postgres_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
    }

    /// Counts one more handling attempt. Returns the attempt, or None when the event is already handled
    /// (a re-delivered duplicate that must be skipped).
    pub async fn begin_attempt(&self, inbox_id: i64) -> StoreResult<Option<Attempt>> {
        match self.pipeline.write(Op::BeginAttempt(inbox_id)).await? {
            Done::Attempt(attempt) => Ok(attempt),
            _ => unreachable!("an attempt is answered with its number"),
        }
    }

    /// Marks an event handled without a reply (echoes, unfollow, unknown events, dead letters).
    /// Returns false when it was already handled.
    pub async fn finish_event(&self, inbox_id: i64, outcome: &str) -> StoreResult<bool> {
        let txn = self.begin_write().await?;
        let done = mark_handled(&txn, inbox_id, outcome).await?;
        txn.commit().await?;
        Ok(done)
    }

    /// Marks many events handled without a reply in one statement (receipts and other events that need no
    /// answer, closed by intake in batches). Returns how many were still open.
    pub async fn finish_events(&self, inbox_ids: &[i64], outcome: &str) -> StoreResult<u64> {
        let mut closed = 0;
        for chunk in inbox_ids.chunks(500) {
            let updated = inbox_events::Entity::update_many()
                .col_expr(inbox_events::Column::HandledAt, Expr::value(Utc::now()))
                .col_expr(
                    inbox_events::Column::Outcome,
                    Expr::value(outcome.to_string()),
                )
                .filter(inbox_events::Column::Id.is_in(chunk.iter().copied()))
                .filter(inbox_events::Column::HandledAt.is_null())
                .exec(&self.writer)
                .await?;
            closed += updated.rows_affected;
        }
        Ok(closed)
    }

    /// Commits a handled event: marks it handled (only if nobody did yet), records both sides of the chat and
    /// queues the reply parts. Returns None when the event had already been handled (nothing written).
    pub async fn complete_event(
        &self,
        completion: Completion,
    ) -> StoreResult<Option<Vec<QueuedOutbound>>> {
        let mut completed = self.complete_events(vec![completion]).await?;
        Ok(completed.parts.pop().flatten())
    }

    /// Commits several handled events of one user in one transaction (a debounced burst answered together).
    /// Each is written only if nobody handled it yet; the result per event is None for those skipped.
    pub async fn complete_events(&self, completions: Vec<Completion>) -> StoreResult<Completed> {
        match self.pipeline.write(Op::Complete(completions)).await? {
            Done::Completed(results) => Ok(results),
            _ => unreachable!("completions are answered with their results"),
        }
    }

    // ===== Users =====

    /// Records that a user was seen (creating the row on first contact), without waiting for the commit: the
    /// write is queued with the pipeline's (so it commits with or before the writes queued after it) and a
    /// failure is logged by the writer. Bookkeeping for ops (`first_seen_at`, `last_seen_at`) that no answer
    /// depends on, so no message waits for it (BENCHMARKS.md, section 16).
    pub async fn note_user_seen(&self, user: &UserId) -> StoreResult<()> {
        self.pipeline.queue(Op::Touch(user.clone())).await
    }

    /// Records a follow (`true`) or unfollow (`false`), and that the user was seen (creating the row on first
    /// contact).
    pub async fn record_follow(&self, user: &UserId, followed: bool) -> StoreResult<()> {
        let now = Utc::now();
        let model = zalo_users::ActiveModel {
            zalo_user_id: Set(user.as_str().to_string()),
            followed: Set(followed),
            first_seen_at: Set(now),
            last_seen_at: Set(now),
            followed_at: Set(followed.then_some(now)),
            unfollowed_at: Set((!followed).then_some(now)),
        };
        let changed = if followed {
            zalo_users::Column::FollowedAt
        } else {
            zalo_users::Column::UnfollowedAt
        };
        zalo_users::Entity::insert(model)
            .on_conflict(
                OnConflict::column(zalo_users::Column::ZaloUserId)
                    .update_columns([
                        zalo_users::Column::LastSeenAt,
                        zalo_users::Column::Followed,
                        changed,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.writer)
            .await?;
        Ok(())
    }

    /// `Some(followed)` for a known user, None for a user never seen.
    pub async fn user_followed(&self, user: &UserId) -> StoreResult<Option<bool>> {
        Ok(zalo_users::Entity::find_by_id(user.as_str().to_string())
            .one(&self.db)
            .await?
            .map(|u| u.followed))
    }

    // ===== Chat history =====

    /// The last `limit` messages of a user, oldest first.
    pub async fn recent_history(&self, user: &UserId, limit: u64) -> StoreResult<History> {
        let mut rows = zalo_messages::Entity::find()
            .filter(zalo_messages::Column::ZaloUserId.eq(user.as_str()))
            .order_by_desc(zalo_messages::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let newest = rows.first().map(|m| m.id);
        rows.reverse();
        Ok(History {
            turns: rows
                .into_iter()
                .map(|m| HistoryTurn {
                    from_user: m.is_from_user,
                    content: m.message_content,
                })
                .collect(),
            newest,
        })
    }

    /// Every stored message of a user, oldest first.
    pub async fn messages_for(&self, user: &UserId) -> StoreResult<Vec<StoredMessage>> {
        let rows = zalo_messages::Entity::find()
            .filter(zalo_messages::Column::ZaloUserId.eq(user.as_str()))
            .order_by_asc(zalo_messages::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|m| StoredMessage {
                content: m.message_content,
                is_from_user: m.is_from_user,
                message_type: m.message_type,
                sent_at: m.sent_at,
            })
            .collect())
    }

    /// Records a message an OA admin sent from the Zalo OA chat (an `oa_send_*` echo we did not send).
    /// The bot then stays silent for `user` until `pause_until`, set in the same transaction.
    pub async fn record_admin_message(
        &self,
        user: &UserId,
        content: &str,
        event_key: &str,
        inbox_id: i64,
        pause_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let txn = self.begin_write().await?;
        if !mark_handled(&txn, inbox_id, "admin_echo").await? {
            txn.rollback().await?;
            return Ok(false);
        }
        upsert_pause(&txn, user, pause_until, "admin_reply", now).await?;
        insert_message(
            &txn,
            user,
            content,
            false,
            "admin",
            Some(event_key),
            Utc::now(),
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    // ===== Outbound =====

    /// Queues a proactive (admin) message: records it in the history and creates its outbound parts.
    pub async fn enqueue_proactive(
        &self,
        user: &UserId,
        parts: &[String],
    ) -> StoreResult<Vec<QueuedOutbound>> {
        let txn = self.begin_write().await?;
        let queued = queue_reply(&txn, user, parts, None, "proactive", Utc::now()).await?;
        txn.commit().await?;
        Ok(queued)
    }

    /// Takes a part the pipeline stored claimed (the first part of a reply) for its send to start: true when
    /// it needs no claim of its own ([`Self::mark_sending`]), false when this process did not pre-claim it
    /// or it was already taken or released (`pre_claims`).
    pub fn take_pre_claimed(&self, id: i64) -> bool {
        self.pre_claims.take(id)
    }

    /// Puts parts pre-claimed at least `age` ago whose send never started back to `queued`, for the resume to
    /// send: the outbound actor that was handed them may have crashed. The number released.
    pub async fn release_pre_claimed(&self, age: Duration) -> StoreResult<usize> {
        let stale = self.pre_claims.stale(age);
        if stale.is_empty() {
            return Ok(0);
        }
        // The pre-claim counted an attempt that never happened.
        let released = self
            .back_to_queue(stale.iter().map(|(id, _)| *id), true)
            .await;
        match released {
            Ok(()) => Ok(stale.len()),
            Err(err) => {
                self.pre_claims.restore(stale);
                Err(err)
            }
        }
    }

    /// Claims a queued part for sending. False when it is not queued any more (already taken).
    pub async fn mark_sending(&self, id: i64) -> StoreResult<bool> {
        match self.pipeline.write(Op::MarkSending(id)).await? {
            Done::Claimed(claimed) => Ok(claimed),
            _ => unreachable!("a claim is answered with its outcome"),
        }
    }

    pub async fn mark_sent(&self, id: i64, zalo_message_id: Option<&str>) -> StoreResult<()> {
        self.pipeline
            .write(Op::MarkSent(id, zalo_message_id.map(str::to_string)))
            .await?;
        Ok(())
    }

    /// Records a terminal non-success state (`failed` or `ambiguous`) with Zalo's error.
    pub async fn mark_unsent(
        &self,
        id: i64,
        state: OutboundState,
        error_code: Option<i64>,
        error_message: &str,
    ) -> StoreResult<()> {
        outbound_messages::Entity::update_many()
            .col_expr(
                outbound_messages::Column::State,
                Expr::value(state.as_str()),
            )
            .col_expr(
                outbound_messages::Column::ErrorCode,
                Expr::value(error_code),
            )
            .col_expr(
                outbound_messages::Column::ErrorMessage,
                Expr::value(error_message.to_string()),
            )
            .col_expr(
                outbound_messages::Column::UpdatedAt,
                Expr::value(Utc::now()),
            )
            .filter(outbound_messages::Column::Id.eq(id))
            .exec(&self.writer)
            .await?;
        Ok(())
    }

    /// True when `user` has a part with exactly `text` whose delivery is unconfirmed (`sending`/`ambiguous`).
    pub async fn has_unconfirmed_part(&self, user: &UserId, text: &str) -> StoreResult<bool> {
        Ok(outbound_messages::Entity::find()
            .filter(outbound_messages::Column::ZaloUserId.eq(user.as_str()))
            .filter(outbound_messages::Column::Text.eq(text))
            .filter(outbound_messages::Column::State.is_in([
                OutboundState::Sending.as_str(),
                OutboundState::Ambiguous.as_str(),
            ]))
            .count(&self.db)
            .await?
            > 0)
    }

    /// Puts a claimed part back to `queued` (it was not attempted).
    pub async fn requeue(&self, id: i64) -> StoreResult<()> {
        self.back_to_queue([id], false).await
    }

    /// Puts parts still `sending` back to `queued`; `uncount_attempt` takes back the attempt their claim
    /// counted.
    async fn back_to_queue(
        &self,
        ids: impl IntoIterator<Item = i64>,
        uncount_attempt: bool,
    ) -> StoreResult<()> {
        let mut update = outbound_messages::Entity::update_many()
            .col_expr(
                outbound_messages::Column::State,
                Expr::value(OutboundState::Queued.as_str()),
            )
            .col_expr(
                outbound_messages::Column::UpdatedAt,
                Expr::value(Utc::now()),
            );
        if uncount_attempt {
            update = update.col_expr(
                outbound_messages::Column::Attempts,
                Expr::col(outbound_messages::Column::Attempts).sub(1),
            );
        }
        update
            .filter(outbound_messages::Column::Id.is_in(ids))
            .filter(outbound_messages::Column::State.eq(OutboundState::Sending.as_str()))
            .exec(&self.writer)
            .await?;
        Ok(())
    }

    /// Queued parts in creation order (sent at start, after a crash).
    pub async fn queued_outbound(&self, limit: u64) -> StoreResult<Vec<QueuedOutbound>> {
        let rows = outbound_messages::Entity::find()
            .filter(outbound_messages::Column::State.eq(OutboundState::Queued.as_str()))
            .order_by_asc(outbound_messages::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().filter_map(queued_from).collect())
    }

    /// Parts left in `sending` by a crash may or may not have reached Zalo: mark them `ambiguous`.
    pub async fn sending_to_ambiguous(&self) -> StoreResult<u64> {
        let updated = outbound_messages::Entity::update_many()
            .col_expr(
                outbound_messages::Column::State,
                Expr::value(OutboundState::Ambiguous.as_str()),
            )
            .col_expr(
                outbound_messages::Column::ErrorMessage,
                Expr::value("interrupted while sending (process stopped)"),
            )
            .col_expr(
                outbound_messages::Column::UpdatedAt,
                Expr::value(Utc::now()),
            )
            .filter(outbound_messages::Column::State.eq(OutboundState::Sending.as_str()))
            .exec(&self.writer)
            .await?;
        Ok(updated.rows_affected)
    }

    /// True when `zalo_message_id` is the id Zalo gave one of our own sends (an echo to ignore).
    pub async fn is_our_message(&self, zalo_message_id: &str) -> StoreResult<bool> {
        Ok(outbound_messages::Entity::find()
            .filter(outbound_messages::Column::ZaloMessageId.eq(zalo_message_id))
            .count(&self.db)
            .await?
            > 0)
    }

    pub async fn outbound_for(&self, user: &UserId) -> StoreResult<Vec<OutboundRecord>> {
        let rows = outbound_messages::Entity::find()
            .filter(outbound_messages::Column::ZaloUserId.eq(user.as_str()))
            .order_by_asc(outbound_messages::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| OutboundRecord {
                id: r.id,
                state: OutboundState::parse(&r.state).unwrap_or(OutboundState::Failed),
                text: r.text,
                zalo_message_id: r.zalo_message_id,
                error_code: r.error_code,
                attempts: r.attempts,
            })
            .collect())
    }

    // ===== Tokens =====
    //
    // The token row is written only by compare-and-set statements on `version` (and the refresh lease), so
    // several processes on one database never both spend a refresh token and never lose each other's writes.

    pub async fn load_token(&self) -> StoreResult<Option<StoredToken>> {
        let Some(row) = zalo_tokens::Entity::find_by_id(TOKEN_ROW_ID)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let open = |v: &str| {
            token_cipher::open(self.cipher.as_ref(), v)
                .map(SecretString::from)
                .map_err(|e| StoreError(DbErr::Custom(format!("zalo_tokens: {e}"))))
        };
        Ok(Some(StoredToken {
            access_token: open(&row.access_token)?,
            refresh_token: row.refresh_token.as_deref().map(open).transpose()?,
            access_expires_at: row.access_expires_at,
            refresh_issued_at: row.refresh_issued_at,
            version: row.version,
            source: row.source,
            last_refresh_at: row.last_refresh_at,
            last_refresh_result: row.last_refresh_result,
            last_refresh_error: row.last_refresh_error,
            last_refresh_success_at: row.last_refresh_success_at,
            reauth_required: row.reauth_required,
            lease_owner: row.lease_owner,
            lease_until: row.lease_until,
        }))
    }

    /// Stores a token pair obtained outside a refresh (bootstrap, import, re-authorisation): a new version,
    /// the re-authorisation alarm cleared, any lease dropped.
    pub async fn save_token(
        &self,
        pair: &NewTokenPair,
        source: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<StoredToken> {
        let txn = self.begin_write().await?;
        let exists = zalo_tokens::Entity::find_by_id(TOKEN_ROW_ID)
            .one(&txn)
            .await?
            .is_some();
        if exists {
            // `version = version + 1` in the statement itself, so a concurrent commit can never leave two
            // different pairs under one version (PostgreSQL runs READ COMMITTED). A refresh in flight keeps
            // its lease but can no longer commit: its version is gone.
            self.writing_pair(pair, source, now)
                .col_expr(
                    zalo_tokens::Column::Version,
                    Expr::col(zalo_tokens::Column::Version).add(1),
                )
                .filter(zalo_tokens::Column::Id.eq(TOKEN_ROW_ID))
                .exec(&txn)
                .await?;
        } else {
            zalo_tokens::ActiveModel {
                id: Set(TOKEN_ROW_ID),
                access_token: Set(self.seal(&pair.access_token)),
                refresh_token: Set(pair.refresh_token.as_ref().map(|r| self.seal(r))),
                access_expires_at: Set(pair.access_expires_at),
                refresh_issued_at: Set(pair.refresh_token.as_ref().map(|_| now)),
                version: Set(1),
                source: Set(source.to_string()),
                updated_at: Set(now),
                last_refresh_at: Set(None),
                last_refresh_result: Set(None),
                last_refresh_error: Set(None),
                last_refresh_success_at: Set(None),
                reauth_required: Set(false),
                lease_owner: Set(None),
                lease_until: Set(None),
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        self.load_token()
            .await?
            .ok_or_else(|| StoreError(DbErr::RecordNotFound("zalo_tokens".into())))
    }

    /// Takes the refresh lease for `version`: succeeds only if that version is still current and nobody else
    /// holds an unexpired lease. The holder is the only process allowed to spend the refresh token.
    pub async fn claim_refresh_lease(
        &self,
        version: i64,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        use sea_orm::sea_query::Condition;
        let updated = zalo_tokens::Entity::update_many()
            .col_expr(
                zalo_tokens::Column::LeaseOwner,
                Expr::value(owner.to_string()),
            )
            .col_expr(zalo_tokens::Column::LeaseUntil, Expr::value(until))
            .filter(zalo_tokens::Column::Id.eq(TOKEN_ROW_ID))
            .filter(zalo_tokens::Column::Version.eq(version))
            .filter(
                Condition::any()
                    .add(zalo_tokens::Column::LeaseUntil.is_null())
                    .add(zalo_tokens::Column::LeaseUntil.lt(now)),
            )
            .exec(&self.writer)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Commits a refreshed pair in one statement: only the lease holder of `version` can, and the version
    /// moves on, so the old refresh token is forgotten in the same write that stores the new one.
    pub async fn commit_refresh(
        &self,
        version: i64,
        owner: &str,
        pair: &NewTokenPair,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let updated = self
            .writing_pair(pair, "refresh", now)
            .col_expr(zalo_tokens::Column::Version, Expr::value(version + 1))
            .col_expr(zalo_tokens::Column::LastRefreshAt, Expr::value(now))
            .col_expr(zalo_tokens::Column::LastRefreshResult, Expr::value("ok"))
            .col_expr(
                zalo_tokens::Column::LastRefreshError,
                Expr::value(Option::<String>::None),
            )
            .col_expr(zalo_tokens::Column::LastRefreshSuccessAt, Expr::value(now))
            .col_expr(zalo_tokens::Column::LeaseOwner, no_lease_owner())
            .col_expr(zalo_tokens::Column::LeaseUntil, no_lease_until())
            .filter(zalo_tokens::Column::Id.eq(TOKEN_ROW_ID))
            .filter(zalo_tokens::Column::Version.eq(version))
            .filter(zalo_tokens::Column::LeaseOwner.eq(owner))
            .exec(&self.writer)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Records a failed refresh and releases the lease (when `owner` holds it). `reauth_required` raises the
    /// alarm that only a human re-consent clears.
    pub async fn record_refresh_failure(
        &self,
        owner: &str,
        result: &str,
        error: &str,
        reauth_required: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut update = zalo_tokens::Entity::update_many()
            .col_expr(zalo_tokens::Column::LastRefreshAt, Expr::value(now))
            .col_expr(
                zalo_tokens::Column::LastRefreshResult,
                Expr::value(result.to_string()),
            )
            .col_expr(
                zalo_tokens::Column::LastRefreshError,
                Expr::value(error.to_string()),
            )
            .col_expr(zalo_tokens::Column::LeaseOwner, no_lease_owner())
            .col_expr(zalo_tokens::Column::LeaseUntil, no_lease_until());
        if reauth_required {
            update = update.col_expr(zalo_tokens::Column::ReauthRequired, Expr::value(true));
        }
        update
            .filter(zalo_tokens::Column::Id.eq(TOKEN_ROW_ID))
            .filter(zalo_tokens::Column::LeaseOwner.eq(owner))
            .exec(&self.writer)
            .await?;
        Ok(())
    }

    /// Drops a lease left by an interrupted refresh of `owner`.
    pub async fn release_lease(&self, owner: &str) -> StoreResult<()> {
        zalo_tokens::Entity::update_many()
            .col_expr(zalo_tokens::Column::LeaseOwner, no_lease_owner())
            .col_expr(zalo_tokens::Column::LeaseUntil, no_lease_until())
            .filter(zalo_tokens::Column::Id.eq(TOKEN_ROW_ID))
            .filter(zalo_tokens::Column::LeaseOwner.eq(owner))
            .exec(&self.writer)
            .await?;
        Ok(())
    }

    // ===== OAuth re-authorisation states (PKCE) =====

    pub async fn create_oauth_state(
        &self,
        state: &str,
        code_verifier: &SecretString,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        oauth_states::ActiveModel {
            state: Set(state.to_string()),
            code_verifier: Set(self.seal(code_verifier)),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
        }
        .insert(&self.writer)
        .await?;
        Ok(())
    }

    /// Consumes a state once: returns its code verifier if it exists, is unused and has not expired.
    pub async fn take_oauth_state(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SecretString>> {
        let updated = oauth_states::Entity::update_many()
            .col_expr(oauth_states::Column::UsedAt, Expr::value(now))
            .filter(oauth_states::Column::State.eq(state))
            .filter(oauth_states::Column::UsedAt.is_null())
            .filter(oauth_states::Column::ExpiresAt.gt(now))
            .exec(&self.writer)
            .await?;
        if updated.rows_affected != 1 {
            return Ok(None);
        }
        let row = oauth_states::Entity::find_by_id(state.to_string())
            .one(&self.db)
            .await?;
        row.map(|r| {
            token_cipher::open(self.cipher.as_ref(), &r.code_verifier)
                .map(SecretString::from)
                .map_err(|e| StoreError(DbErr::Custom(format!("oauth_states: {e}"))))
        })
        .transpose()
    }

    /// An update that writes a new pair (sealed), its source and times, and clears the re-authorisation alarm;
    /// the caller adds the version and the conditions.
    fn writing_pair(
        &self,
        pair: &NewTokenPair,
        source: &str,
        now: DateTime<Utc>,
    ) -> sea_orm::UpdateMany<zalo_tokens::Entity> {
        zalo_tokens::Entity::update_many()
            .col_expr(
                zalo_tokens::Column::AccessToken,
                Expr::value(self.seal(&pair.access_token)),
            )
            .col_expr(
                zalo_tokens::Column::RefreshToken,
                Expr::value(pair.refresh_token.as_ref().map(|r| self.seal(r))),
            )
            .col_expr(
                zalo_tokens::Column::AccessExpiresAt,
                Expr::value(pair.access_expires_at),
            )
            .col_expr(
                zalo_tokens::Column::RefreshIssuedAt,
                Expr::value(pair.refresh_token.as_ref().map(|_| now)),
            )
            .col_expr(zalo_tokens::Column::Source, Expr::value(source.to_string()))
            .col_expr(zalo_tokens::Column::UpdatedAt, Expr::value(now))
            .col_expr(zalo_tokens::Column::ReauthRequired, Expr::value(false))
    }

    fn seal(&self, value: &SecretString) -> String {
        token_cipher::seal(self.cipher.as_ref(), value.expose_secret())
    }

    // ===== LLM usage (cost control) =====

    /// Adds usage to each (day, user) row in one transaction: the LLM actor saves what it counted in
    /// memory about once a second, not one write per completion (a write awaited per completion made the
    /// actor, and with it every model call, wait on the database).
    ///
    /// One multi-row upsert per chunk of rows, not one statement per row: with a thousand users a second a
    /// statement each was a thousand round trips per save. Rows for the same (day, user) are merged first,
    /// since PostgreSQL refuses a statement that updates one row twice, and sorted, so two saves that
    /// overlap lock the rows they share in the same order.
    pub async fn record_llm_usage(
        &self,
        rows: &[(NaiveDate, UserId, LlmUsageRow)],
    ) -> StoreResult<()> {
        // 500 rows of 5 values: 2,500 bound parameters a statement, far below SQLite's (32,766) and
        // PostgreSQL's (65,535) limits.
        const ROWS_PER_STATEMENT: usize = 500;
        let mut merged: std::collections::BTreeMap<(NaiveDate, &str), LlmUsageRow> =
            std::collections::BTreeMap::new();
        for (day, user, usage) in rows {
            let total = merged.entry((*day, user.as_str())).or_default();
            total.requests = total.requests.saturating_add(usage.requests);
            total.prompt_tokens = total.prompt_tokens.saturating_add(usage.prompt_tokens);
            total.completion_tokens = total
                .completion_tokens
                .saturating_add(usage.completion_tokens);
        }
        if merged.is_empty() {
            return Ok(());
        }
        let merged: Vec<_> = merged.into_iter().collect();
        let txn = self.begin_write().await?;
        for chunk in merged.chunks(ROWS_PER_STATEMENT) {
            let models = chunk
                .iter()
                .map(|((day, user), usage)| llm_usage::ActiveModel {
                    day: Set(day.to_string()),
                    zalo_user_id: Set(user.to_string()),
                    requests: Set(i64::try_from(usage.requests).unwrap_or(i64::MAX)),
                    prompt_tokens: Set(i64::try_from(usage.prompt_tokens).unwrap_or(i64::MAX)),
                    completion_tokens: Set(
                        i64::try_from(usage.completion_tokens).unwrap_or(i64::MAX)
                    ),
                });
            llm_usage::Entity::insert_many(models)
                .on_conflict(Self::add_usage_on_conflict())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// `ON CONFLICT (day, zalo_user_id) DO UPDATE SET n = "llm_usage".n + "excluded".n` for each counter:
    /// adds the inserted row's counts to the stored row's. Both sides are qualified, which SQLite and
    /// PostgreSQL both accept (PostgreSQL rejects a bare `n` on the right as ambiguous).
    fn add_usage_on_conflict() -> OnConflict {
        let excluded = sea_orm::sea_query::Alias::new("excluded");
        let mut on_conflict =
            OnConflict::columns([llm_usage::Column::Day, llm_usage::Column::ZaloUserId]);
        for column in [
            llm_usage::Column::Requests,
            llm_usage::Column::PromptTokens,
            llm_usage::Column::CompletionTokens,
        ] {
            on_conflict.value(
                column,
                Expr::col((llm_usage::Entity, column)).add(Expr::col((excluded.clone(), column))),
            );
        }
        on_conflict
    }

    /// Tokens used on `day` by all users together (prompt + completion): what the LLM actor needs at start.
    /// One aggregate row however many users wrote that day (loading every user's row took 300 ms and 80 MB
    /// of resident memory with 100,000 users; BENCHMARKS.md).
    pub async fn llm_tokens_for_day(&self, day: NaiveDate) -> StoreResult<u64> {
        let total: Option<Option<i64>> = llm_usage::Entity::find()
            .select_only()
            // The cast: PostgreSQL sums BIGINTs as NUMERIC.
            .column_as(
                Expr::cust("CAST(SUM(prompt_tokens + completion_tokens) AS BIGINT)"),
                "total",
            )
            .filter(llm_usage::Column::Day.eq(day.to_string()))
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(u64::try_from(total.flatten().unwrap_or(0)).unwrap_or(0))
    }

    /// Tokens one user used on `day` (prompt + completion); 0 when there is no row.
    pub async fn llm_tokens_of(&self, user: &str, day: NaiveDate) -> StoreResult<u64> {
        let row = llm_usage::Entity::find_by_id((day.to_string(), user.to_string()))
            .one(&self.db)
            .await?;
        Ok(row.map_or(0, |r| {
            u64::try_from(r.prompt_tokens + r.completion_tokens).unwrap_or(0)
        }))
    }

    /// Tokens each of `users` used on `day` (prompt + completion), by user; users without a row are absent.
    /// One query per 500 users.
    pub async fn llm_tokens_of_users(
        &self,
        day: NaiveDate,
        users: &[String],
    ) -> StoreResult<std::collections::HashMap<String, u64>> {
        let mut totals = std::collections::HashMap::with_capacity(users.len());
        for chunk in users.chunks(500) {
            let rows = llm_usage::Entity::find()
                .filter(llm_usage::Column::Day.eq(day.to_string()))
                .filter(llm_usage::Column::ZaloUserId.is_in(chunk.iter().cloned()))
                .all(&self.db)
                .await?;
            for r in rows {
                let spent = u64::try_from(r.prompt_tokens + r.completion_tokens).unwrap_or(0);
                totals.insert(r.zalo_user_id, spent);
            }
        }
        Ok(totals)
    }

    /// Tokens used on `day` by each user (prompt + completion).
    pub async fn llm_usage_for_day(
        &self,
        day: NaiveDate,
    ) -> StoreResult<Vec<(String, LlmUsageRow)>> {
        let rows = llm_usage::Entity::find()
            .filter(llm_usage::Column::Day.eq(day.to_string()))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.zalo_user_id,
                    LlmUsageRow {
                        requests: r.requests as u64,
                        prompt_tokens: r.prompt_tokens as u64,
                        completion_tokens: r.completion_tokens as u64,
                    },
                )
            })
            .collect())
    }

    // ===== Human handoff pauses =====

    /// Keeps the bot silent for `user` until `until` (an OA admin is talking to them).
    pub async fn pause_user(
        &self,
        user: &UserId,
        until: DateTime<Utc>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        upsert_pause(&self.writer, user, until, reason, now).await
    }

    /// The end of the user's pause, if one is active at `now`.
    pub async fn paused_until(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(
            handoff_pauses::Entity::find_by_id(user.as_str().to_string())
                .one(&self.db)
                .await?
                .map(|p| p.paused_until)
                .filter(|until| *until > now),
        )
    }

    /// Active pauses: user id, until, reason.
    pub async fn active_pauses(
        &self,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, DateTime<Utc>, String)>> {
        let rows = handoff_pauses::Entity::find()
            .filter(handoff_pauses::Column::PausedUntil.gt(now))
            .order_by_asc(handoff_pauses::Column::PausedUntil)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|p| (p.zalo_user_id, p.paused_until, p.reason))
            .collect())
    }

    /// Ends a user's pause now. False when there was none.
    pub async fn clear_pause(&self, user: &UserId) -> StoreResult<bool> {
        let deleted = handoff_pauses::Entity::delete_by_id(user.as_str().to_string())
            .exec(&self.writer)
            .await?;
        Ok(deleted.rows_affected > 0)
    }
}

/// `first` and whatever else is queued on `rx` already, up to `max`: one group-commit batch. No linger: under
/// load the queue fills while the previous batch commits.
fn take_batch<T>(first: T, rx: &mut tokio::sync::mpsc::Receiver<T>, max: usize) -> Vec<T> {
    let mut batch = Vec::with_capacity(max.min(rx.len() + 1));
    batch.push(first);
    while batch.len() < max {
        match rx.try_recv() {
            Ok(request) => batch.push(request),
            Err(_) => break,
        }
    }
    batch
}

/// [`Store::begin_write`] on a bare connection.
async fn begin_write_on(
    db: &DatabaseConnection,
    sqlite: bool,
) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: sqlite.then_some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

fn pending_from(row: inbox_events::Model) -> PendingEvent {
    PendingEvent {
        id: row.id,
        event_key: row.event_key,
        payload: row.payload,
        attempts: row.attempts,
    }
}

fn queued_from(row: outbound_messages::Model) -> Option<QueuedOutbound> {
    Some(QueuedOutbound {
        id: row.id,
        user: UserId::parse(row.zalo_user_id).ok()?,
        text: row.text,
        source_event_key: row.source_event_key,
        part_index: row.part_index,
        part_count: 0,
    })
}

/// `UPDATE … SET handled_at = now WHERE id = ? AND handled_at IS NULL`: the database decides who handled it.
async fn mark_handled(
    txn: &DatabaseTransaction,
    inbox_id: i64,
    outcome: &str,
) -> StoreResult<bool> {
    let updated = inbox_events::Entity::update_many()
        .col_expr(inbox_events::Column::HandledAt, Expr::value(Utc::now()))
        .col_expr(
            inbox_events::Column::Outcome,
            Expr::value(outcome.to_string()),
        )
        .filter(inbox_events::Column::Id.eq(inbox_id))
        .filter(inbox_events::Column::HandledAt.is_null())
        .exec(txn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The column values of "no refresh lease".
fn no_lease_owner() -> sea_orm::sea_query::SimpleExpr {
    Expr::value(Option::<String>::None)
}

fn no_lease_until() -> sea_orm::sea_query::SimpleExpr {
    Expr::value(Option::<DateTime<Utc>>::None)
}

async fn upsert_pause<C: ConnectionTrait>(
    conn: &C,
    user: &UserId,
    until: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let model = handoff_pauses::ActiveModel {
        zalo_user_id: Set(user.as_str().to_string()),
        paused_until: Set(until),
        created_at: Set(now),
        reason: Set(reason.to_string()),
    };
    handoff_pauses::Entity::insert(model)
        .on_conflict(
            OnConflict::column(handoff_pauses::Column::ZaloUserId)
                .update_columns([
                    handoff_pauses::Column::PausedUntil,
                    handoff_pauses::Column::CreatedAt,
                    handoff_pauses::Column::Reason,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

async fn insert_message<C: ConnectionTrait>(
    conn: &C,
    user: &UserId,
    content: &str,
    is_from_user: bool,
    message_type: &str,
    event_key: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    zalo_messages::ActiveModel {
        id: NotSet,
        zalo_user_id: Set(user.as_str().to_string()),
        message_content: Set(content.to_string()),
        is_from_user: Set(is_from_user),
        sent_at: Set(at),
        message_type: Set(message_type.to_string()),
        event_key: Set(event_key.map(str::to_string)),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Records the bot's reply in the history and creates one queued outbound row per part.
async fn queue_reply(
    txn: &DatabaseTransaction,
    user: &UserId,
    parts: &[String],
    source_event_key: Option<&str>,
    message_type: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<QueuedOutbound>> {
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    insert_message(
        txn,
        user,
        &parts.join("\n"),
        false,
        message_type,
        source_event_key,
        now,
    )
    .await?;
    let mut queued = Vec::with_capacity(parts.len());
    for (index, text) in parts.iter().enumerate() {
        let row = outbound_messages::ActiveModel {
            id: NotSet,
            zalo_user_id: Set(user.as_str().to_string()),
            text: Set(text.clone()),
            state: Set(OutboundState::Queued.as_str().to_string()),
            source_event_key: Set(source_event_key.map(str::to_string)),
            part_index: Set(index as i32),
            attempts: Set(0),
            zalo_message_id: Set(None),
            error_code: Set(None),
            error_message: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(txn)
        .await?;
        queued.push(QueuedOutbound {
            id: row.id,
            user: user.clone(),
            text: row.text,
            source_event_key: row.source_event_key,
            part_index: row.part_index,
            part_count: parts.len() as i32,
        });
    }
    Ok(queued)
}

#[cfg(test)]
mod llm_usage_tests {
    use std::collections::HashMap;

    use super::inbox_writer::tests::stores;
    use super::*;

    fn usage(requests: u64, prompt_tokens: u64, completion_tokens: u64) -> LlmUsageRow {
        LlmUsageRow {
            requests,
            prompt_tokens,
            completion_tokens,
        }
    }

    /// Two saves over overlapping users, more rows than one statement takes, and a (day, user) twice in one
    /// call: every row ends up with the sum of what was recorded for it, on each backend.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn record_llm_usage_adds_up_across_calls_chunks_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let day = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let other_day = day.succ_opt().unwrap();
        let user = |i: usize| UserId::parse(format!("{}", 1_000_000 + i)).unwrap();
        for store in stores(&dir).await {
            store.record_llm_usage(&[]).await.unwrap();
            // Users 0..1200 (three statements), with user 7 twice and one row on another day.
            let mut first: Vec<_> = (0..1_200)
                .map(|i| (day, user(i), usage(1, 10, 5)))
                .collect();
            first.push((day, user(7), usage(2, 100, 50)));
            first.push((other_day, user(7), usage(1, 1, 1)));
            store.record_llm_usage(&first).await.unwrap();
            // Users 600..1800: half already stored, half new; user 1_000 twice again.
            let mut second: Vec<_> = (600..1_800)
                .map(|i| (day, user(i), usage(1, 20, 7)))
                .collect();
            second.push((day, user(1_000), usage(3, 300, 30)));
            store.record_llm_usage(&second).await.unwrap();

            let rows: HashMap<String, LlmUsageRow> = store
                .llm_usage_for_day(day)
                .await
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(rows.len(), 1_800);
            assert_eq!(rows[user(0).as_str()], usage(1, 10, 5));
            assert_eq!(rows[user(7).as_str()], usage(3, 110, 55));
            assert_eq!(rows[user(600).as_str()], usage(2, 30, 12));
            assert_eq!(rows[user(1_000).as_str()], usage(5, 330, 42));
            assert_eq!(rows[user(1_799).as_str()], usage(1, 20, 7));
            assert_eq!(
                store.llm_tokens_of(user(7).as_str(), day).await.unwrap(),
                165
            );
            assert_eq!(
                store
                    .llm_tokens_of(user(7).as_str(), other_day)
                    .await
                    .unwrap(),
                2
            );
            // Many users' totals in one call (chunked past 500): those without a row are absent.
            let asked: Vec<String> = (0..1_300).map(|n| user(n).as_str().to_string()).collect();
            let totals = store.llm_tokens_of_users(day, &asked).await.unwrap();
            assert_eq!(totals.len(), rows.len().min(1_300));
            assert_eq!(totals[user(7).as_str()], 165);
            for (name, row) in &rows {
                if let Some(found) = totals.get(name) {
                    assert_eq!(*found, row.prompt_tokens + row.completion_tokens);
                }
            }
            let on_other_day = store.llm_tokens_of_users(other_day, &asked).await.unwrap();
            assert_eq!(on_other_day.get(user(7).as_str()), Some(&2));
            let total: u64 = rows
                .values()
                .map(|r| r.prompt_tokens + r.completion_tokens)
                .sum();
            assert_eq!(total, 1_200 * 15 + 150 + 1_200 * 27 + 330);
            assert_eq!(store.llm_tokens_for_day(day).await.unwrap(), total);
        }
    }
}
