//! Group commit for the conversation pipeline's own writes: completed events (the handled mark, the chat lines
//! and the queued reply parts), attempt counts, and outbound claims and results.
//!
//! Every answered message makes at least two such writes (its completion, its reply's send result), a replay
//! one more (its attempt), and a reply's later parts a claim each. One by one, each is a transaction of its
//! own: on SQLite, statement round trips to the connection's thread plus a WAL write per commit; on
//! PostgreSQL, a WAL flush (an fsync) per commit. So callers queue them here and a task writes whatever is queued, up to [`MAX_BATCH`]
//! writes, in one transaction, answering each only after the commit, as the inbox does (`inbox_writer`);
//! one batch at a time on SQLite, a few at once on PostgreSQL.
//! There is no linger: a write alone is done at once, and a lone single-statement write runs without BEGIN
//! and COMMIT. Each caller still waits for its own commit, so every promise of the one-by-one writes holds
//! (an attempt is counted before the event is handled; a part is claimed before it is sent, a reply's first part
//! by the very commit that queues it: `pre_claims`).
//!
//! On PostgreSQL, a batch of completions alone is one statement without BEGIN and COMMIT ([`COMPLETE_AT_ONCE`]).
//!
//! A failing batch is retried write by write, each in its own transaction, so one bad write fails only its
//! own caller (whose actor then restarts and retries), never the others that shared its batch.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, DbErr, EntityTrait, IdenStatic, QueryFilter, QueryTrait, Set, Statement, TryGetable,
    Value,
};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::entities::{inbox_events, outbound_messages, zalo_messages, zalo_users};
use super::pre_claims::PreClaims;
use super::{
    Attempt, Completed, Completion, HistoryWrite, QueuedOutbound, StoreError, StoreResult,
};
use crate::domain::HistoryTurn;
use crate::domain::{OutboundState, UserId};
use crate::telemetry::WRITE_BATCH_SIZE;

/// Writes per transaction at most.
const MAX_BATCH: usize = 64;
const QUEUE_CAPACITY: usize = 4 * MAX_BATCH;

/// One write of the pipeline.
#[derive(Debug, Clone)]
pub(super) enum Op {
    /// One conversation's completed events ([`super::Store::complete_events`]).
    Complete(Vec<Completion>),
    /// [`super::Store::begin_attempt`].
    BeginAttempt(i64),
    /// [`super::Store::mark_sending`].
    MarkSending(i64),
    /// [`super::Store::mark_sent`].
    MarkSent(i64, Option<String>),
    /// [`super::Store::note_user_seen`]: the user seen now.
    Touch(UserId),
}

/// What a write answers, per [`Op`].
#[derive(Debug)]
pub(super) enum Done {
    Completed(Completed),
    Attempt(Option<Attempt>),
    Claimed(bool),
    Recorded,
}

type Request = (Op, oneshot::Sender<StoreResult<Done>>);

#[derive(Clone, Debug)]
pub(super) struct BatchWriter {
    tx: mpsc::Sender<Request>,
}

impl BatchWriter {
    /// Starts the writer task on the current tokio runtime; it stops when the last sender is dropped.
    /// The first part of every reply it queues is stored claimed and registered in `pre_claims` once
    /// committed (before its caller hears of it, so a caller gone meanwhile leaves it releasable).
    pub(super) fn spawn(db: DatabaseConnection, sqlite: bool, pre_claims: Arc<PreClaims>) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(rx, db, sqlite, pre_claims));
        Self { tx }
    }

    /// Queues one write and waits for its commit.
    pub(super) async fn write(&self, op: Op) -> StoreResult<Done> {
        let (reply, answer) = oneshot::channel();
        self.tx.send((op, reply)).await.map_err(|_| stopped())?;
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Queues one write without waiting for its commit (waiting only for room in the queue). It commits with
    /// or before every write queued after it; should it fail, the writer logs it.
    pub(super) async fn queue(&self, op: Op) -> StoreResult<()> {
        let (reply, _) = oneshot::channel();
        self.tx.send((op, reply)).await.map_err(|_| stopped())
    }
}

fn stopped() -> StoreError {
    DbErr::Custom("pipeline writer stopped".into()).into()
}

/// Batches written at once: one on SQLite (one writer connection anyway); several on PostgreSQL, whose
/// statements are network round trips: one batch at a time measured e2e p50 3 s at 1,000 msg/s, the writes
/// queueing behind a single connection while the pool's others idled (BENCHMARKS.md).
const POSTGRES_PARALLEL_BATCHES: usize = 4;

async fn run(
    mut rx: mpsc::Receiver<Request>,
    db: DatabaseConnection,
    sqlite: bool,
    pre_claims: Arc<PreClaims>,
) {
    let parallel = if sqlite { 1 } else { POSTGRES_PARALLEL_BATCHES };
    let slots = Arc::new(Semaphore::new(parallel));
    while let Some(first) = rx.recv().await {
        // Taken before draining: while every slot is busy, the next batch grows.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return; // never closed
        };
        let batch = super::take_batch(first, &mut rx, MAX_BATCH);
        let db = db.clone();
        let pre_claims = pre_claims.clone();
        tokio::spawn(async move {
            write_batch(&db, sqlite, &pre_claims, batch).await;
            drop(slot);
        });
    }
}

/// Writes one batch and answers every request in it.
async fn write_batch(
    db: &DatabaseConnection,
    sqlite: bool,
    pre_claims: &PreClaims,
    batch: Vec<Request>,
) {
    metrics::histogram!(WRITE_BATCH_SIZE).record(batch.len() as f64);
    let (ops, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    if ops.len() > 1 {
        // A panic while writing fails this attempt, never the loop (an open transaction rolls back on drop).
        let together = AssertUnwindSafe(write_together(db, sqlite, ops.clone()))
            .catch_unwind()
            .await;
        if let Ok(Ok(answers)) = together {
            for (reply, answer) in replies.into_iter().zip(answers) {
                register_pre_claimed(pre_claims, &answer);
                // A caller that gave up no longer listens; its write is committed all the same.
                let _ = reply.send(Ok(answer));
            }
            return;
        }
    }
    // Alone, or the batch failed: each write on its own, with its own outcome.
    for (op, reply) in ops.into_iter().zip(replies) {
        let alone = AssertUnwindSafe(write_alone(db, sqlite, op))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(DbErr::Custom("pipeline write panicked".into()).into()));
        if let Ok(answer) = &alone {
            register_pre_claimed(pre_claims, answer);
        }
        if let Err(Err(err)) = reply.send(alone) {
            // Nobody waits for this one (`BatchWriter::queue`): the log is all that hears of it.
            tracing::warn!(error = %err, "a queued pipeline write failed");
        }
    }
}

/// Registers the parts a committed completion stored claimed: each reply's first part.
fn register_pre_claimed(pre_claims: &PreClaims, answer: &Done) {
    if let Done::Completed(completed) = answer {
        pre_claims.register(
            completed
                .parts
                .iter()
                .flatten()
                .flatten()
                .filter(|part| part.part_index == 0)
                .map(|part| part.id),
        );
    }
}

/// One transaction for all `ops`; one answer per op, in order.
async fn write_together(
    db: &DatabaseConnection,
    sqlite: bool,
    ops: Vec<Op>,
) -> StoreResult<Vec<Done>> {
    let now = Utc::now();
    // A batch of completions alone (at 1,000 messages/s, usually one completion) is one statement, if it can.
    if !sqlite
        && ops.iter().all(|op| matches!(op, Op::Complete(_)))
        && !ids_repeat(&ops)
        && let Some(answers) = complete_ops_at_once(db, &ops, now).await?
    {
        return Ok(answers);
    }
    let txn = super::connect::begin_write_on(db, sqlite).await?;
    let answers = if ids_repeat(&ops) {
        // Two writes of one row (never seen in practice): each in arrival order, so neither sees the other's
        // row in a state the one-by-one writes could not produce.
        let mut answers = Vec::with_capacity(ops.len());
        for op in ops {
            answers.extend(write_merged(&txn, vec![op], now).await?);
        }
        answers
    } else {
        write_merged(&txn, ops, now).await?
    };
    txn.commit().await?;
    Ok(answers)
}

/// `ops`, completions only, by [`complete_at_once`]: None when it wrote nothing.
async fn complete_ops_at_once(
    db: &DatabaseConnection,
    ops: &[Op],
    now: DateTime<Utc>,
) -> StoreResult<Option<Vec<Done>>> {
    let mut completions = Vec::new();
    let mut groups = Vec::with_capacity(ops.len());
    for op in ops {
        if let Op::Complete(group) = op {
            groups.push(group.len());
            completions.extend(group.iter());
        }
    }
    let completed = complete_at_once(db, &completions, &groups, now).await?;
    Ok(completed.map(|groups| groups.into_iter().map(Done::Completed).collect()))
}

/// One write on its own: a completion in its own transaction, a single statement as it is (autocommit).
async fn write_alone(db: &DatabaseConnection, sqlite: bool, op: Op) -> StoreResult<Done> {
    let mut answers = match op {
        Op::Complete(_) => write_together(db, sqlite, vec![op]).await?,
        _ => write_merged(db, vec![op], Utc::now()).await?,
    };
    Ok(answers.pop().expect("one answer per op"))
}

/// Whether two ops of `ops` write the same inbox event, outbound part or user.
fn ids_repeat(ops: &[Op]) -> bool {
    let mut events = HashSet::new();
    let mut parts = HashSet::new();
    let mut reply_keys = HashSet::new();
    let mut users = HashSet::new();
    for op in ops {
        let fresh = match op {
            Op::BeginAttempt(id) => events.insert(*id),
            Op::Complete(completions) => completions.iter().all(|c| {
                events.insert(c.inbox_id)
                    && (c.reply_parts.is_empty() || reply_keys.insert(c.event_key.as_str()))
            }),
            Op::MarkSending(id) | Op::MarkSent(id, _) => parts.insert(*id),
            Op::Touch(user) => users.insert(user.as_str()),
        };
        if !fresh {
            return true;
        }
    }
    false
}

/// The writes of `ops` with one statement per kind of write, not one per write: every statement is a round
/// trip (on SQLite to the connection's thread), and a batch of 40 messages' writes made ~100 of them
/// (BENCHMARKS.md). No two ops may touch the same row ([`ids_repeat`]). Kinds are written in pipeline order:
/// users seen, attempts, completions, claims, results.
async fn write_merged<C: ConnectionTrait>(
    conn: &C,
    ops: Vec<Op>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Done>> {
    let mut touched = Vec::new();
    let mut attempts = Vec::new();
    let mut claims = Vec::new();
    let mut results = Vec::new();
    let mut completions = Vec::new();
    let mut groups = Vec::new();
    for op in &ops {
        match op {
            Op::Touch(user) => touched.push(user.as_str()),
            Op::BeginAttempt(id) => attempts.push(*id),
            Op::MarkSending(id) => claims.push(*id),
            Op::MarkSent(id, message_id) => results.push((*id, message_id.as_deref())),
            Op::Complete(group) => {
                groups.push(group.len());
                completions.extend(group.iter());
            }
        }
    }
    if !touched.is_empty() {
        touch_users(conn, &touched, now).await?;
    }
    let mut attempt_of = if attempts.is_empty() {
        HashMap::new()
    } else {
        count_attempts(conn, &attempts).await?
    };
    let mut completed = if completions.is_empty() {
        Vec::new()
    } else {
        complete(conn, &completions, &groups, now).await?
    }
    .into_iter();
    let claimed = if claims.is_empty() {
        HashSet::new()
    } else {
        claim_parts(conn, &claims, now).await?
    };
    if !results.is_empty() {
        record_sent(conn, &results, now).await?;
    }
    Ok(ops
        .iter()
        .map(|op| match op {
            Op::Touch(_) => Done::Recorded,
            Op::BeginAttempt(id) => Done::Attempt(attempt_of.remove(id)),
            Op::MarkSending(id) => Done::Claimed(claimed.contains(id)),
            Op::MarkSent(..) => Done::Recorded,
            Op::Complete(_) => Done::Completed(completed.next().expect("one result per group")),
        })
        .collect())
}

/// Records users as seen (creating their rows on first contact): one upsert.
async fn touch_users<C: ConnectionTrait>(
    conn: &C,
    users: &[&str],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let rows = users.iter().map(|user| zalo_users::ActiveModel {
        zalo_user_id: Set(user.to_string()),
        followed: Set(false),
        first_seen_at: Set(now),
        last_seen_at: Set(now),
        followed_at: Set(None),
        unfollowed_at: Set(None),
    });
    zalo_users::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(zalo_users::Column::ZaloUserId)
                .update_column(zalo_users::Column::LastSeenAt)
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Counts one more attempt of each still unhandled event: by inbox id, its attempt number, read in the same
/// statement with what the conversation must know before deciding (its user's pause and newest message).
async fn count_attempts<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> StoreResult<HashMap<i64, Attempt>> {
    let mut update = inbox_events::Entity::update_many()
        .col_expr(
            inbox_events::Column::Attempts,
            Expr::col(inbox_events::Column::Attempts).add(1),
        )
        .filter(inbox_events::Column::Id.is_in(ids.iter().copied()))
        .filter(inbox_events::Column::HandledAt.is_null())
        .into_query();
    update.returning(Query::returning().exprs([
        Expr::col(inbox_events::Column::Id),
        Expr::col(inbox_events::Column::Attempts),
        Expr::cust(format!("{PAUSE_OF_EVENT_USER} AS paused_until")),
        newest_message_of_event_user(),
    ]));
    let rows = conn.query_all(&update).await?;
    let read_at = std::time::Instant::now();
    let mut counted = HashMap::with_capacity(ids.len());
    for row in rows {
        counted.insert(
            row.try_get("", "id")?,
            Attempt {
                number: row.try_get("", "attempts")?,
                paused_until: row.try_get("", "paused_until")?,
                newest_message: row.try_get("", "newest_message")?,
                read_at,
            },
        );
    }
    Ok(counted)
}

/// The id of the newest chat line of an inbox event's user: a correlated subquery for a RETURNING clause of a
/// statement on `inbox_events` (both backends allow them there).
pub(super) const NEWEST_MESSAGE_OF_EVENT_USER: &str = "(SELECT MAX(zalo_messages.id) FROM zalo_messages \
     WHERE zalo_messages.zalo_user_id = inbox_events.zalo_user_id)";

/// The handoff pause of an inbox event's user, as [`NEWEST_MESSAGE_OF_EVENT_USER`].
pub(super) const PAUSE_OF_EVENT_USER: &str = "(SELECT paused_until FROM handoff_pauses \
     WHERE handoff_pauses.zalo_user_id = inbox_events.zalo_user_id)";

fn newest_message_of_event_user() -> Expr {
    Expr::cust(format!("{NEWEST_MESSAGE_OF_EVENT_USER} AS newest_message"))
}

/// Claims each part still queued: the ids claimed.
async fn claim_parts<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
    now: DateTime<Utc>,
) -> StoreResult<HashSet<i64>> {
    let mut update = outbound_messages::Entity::update_many()
        .col_expr(
            outbound_messages::Column::State,
            Expr::value(OutboundState::Sending.as_str()),
        )
        .col_expr(
            outbound_messages::Column::Attempts,
            Expr::col(outbound_messages::Column::Attempts).add(1),
        )
        .col_expr(outbound_messages::Column::UpdatedAt, Expr::value(now))
        .filter(outbound_messages::Column::Id.is_in(ids.iter().copied()))
        .filter(outbound_messages::Column::State.eq(OutboundState::Queued.as_str()))
        .into_query();
    update.returning(Query::returning().column(outbound_messages::Column::Id));
    let mut claimed = HashSet::with_capacity(ids.len());
    for row in conn.query_all(&update).await? {
        claimed.insert(row.try_get("", "id")?);
    }
    Ok(claimed)
}

/// Records parts as sent, each with Zalo's message id: one statement (`CASE id WHEN … THEN …`).
async fn record_sent<C: ConnectionTrait>(
    conn: &C,
    sent: &[(i64, Option<&str>)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut message_id = CaseStatement::new();
    for (id, zalo_id) in sent {
        message_id = message_id.case(
            Expr::col(outbound_messages::Column::Id).eq(*id),
            Expr::value(zalo_id.map(str::to_string)),
        );
    }
    let message_id = message_id.finally(Expr::value(Option::<String>::None));
    outbound_messages::Entity::update_many()
        .col_expr(
            outbound_messages::Column::State,
            Expr::value(OutboundState::Sent.as_str()),
        )
        .col_expr(outbound_messages::Column::ZaloMessageId, message_id.into())
        .col_expr(outbound_messages::Column::UpdatedAt, Expr::value(now))
        .filter(outbound_messages::Column::Id.is_in(sent.iter().map(|(id, _)| *id)))
        .exec(conn)
        .await?;
    Ok(())
}

/// Completes events (see [`super::Store::complete_events`]), the batch's groups together: one statement per
/// outcome marks them handled, one inserts every chat line, one queues every reply part. `groups`: the
/// lengths of the conversations' groups, in order; one [`Completed`] per group.
async fn complete<C: ConnectionTrait>(
    conn: &C,
    completions: &[&Completion],
    groups: &[usize],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Completed>> {
    // Mark first: only then is it known which events are still ours.
    let mut by_outcome: Vec<(&str, Vec<i64>)> = Vec::new();
    for c in completions {
        match by_outcome
            .iter_mut()
            .find(|(outcome, _)| *outcome == c.outcome)
        {
            Some((_, ids)) => ids.push(c.inbox_id),
            None => by_outcome.push((c.outcome, vec![c.inbox_id])),
        }
    }
    // Marked event → its user's newest chat line before this batch's lines.
    let mut newest_before: HashMap<i64, Option<i64>> = HashMap::with_capacity(completions.len());
    for (outcome, ids) in by_outcome {
        let mut update = inbox_events::Entity::update_many()
            .col_expr(inbox_events::Column::HandledAt, Expr::value(now))
            .col_expr(inbox_events::Column::Outcome, Expr::value(outcome))
            .filter(inbox_events::Column::Id.is_in(ids))
            .filter(inbox_events::Column::HandledAt.is_null())
            .into_query();
        update.returning(Query::returning().exprs([
            Expr::col(inbox_events::Column::Id),
            newest_message_of_event_user(),
        ]));
        for row in conn.query_all(&update).await? {
            newest_before.insert(row.try_get("", "id")?, row.try_get("", "newest_message")?);
        }
    }
    let marked = completions
        .iter()
        .map(|c| newest_before.contains_key(&c.inbox_id))
        .collect();
    let plan = CompletionPlan::new(completions, groups, marked);

    // Lines by (event key, from the user), parts by (event key, part): unique in a batch, whose events are
    // distinct. The lines' ids follow their order here, which is the history's order.
    let lines = plan.lines().map(|line| line.row(now)).collect();
    let line_ids: HashMap<(String, bool), i64> = insert_returning_ids(
        conn,
        lines,
        zalo_messages::Column::Id,
        [
            zalo_messages::Column::EventKey,
            zalo_messages::Column::IsFromUser,
        ],
    )
    .await?;
    let parts = plan.parts().map(|part| part.row(now)).collect();
    let part_ids: HashMap<(String, i32), i64> = insert_returning_ids(
        conn,
        parts,
        outbound_messages::Column::Id,
        [
            outbound_messages::Column::SourceEventKey,
            outbound_messages::Column::PartIndex,
        ],
    )
    .await?;
    plan.completed(&newest_before, &line_ids, &part_ids)
}

/// The whole of [`complete`] in one statement, on PostgreSQL: its data-modifying CTEs lock and mark the
/// events, insert the chat lines and queue the reply parts, so one round trip to the database's process
/// replaces [`complete`]'s five (BEGIN, mark, lines, parts, COMMIT): 12-18 % less service CPU per answered
/// message (BENCHMARKS.md section 25). It writes only if every event is still unhandled (`go`): then every
/// reply stays where it is, and no orphan moves. Otherwise it writes nothing and answers None, and
/// [`complete`] sorts them out.
///
/// `open` locks the events by primary key (`FOR UPDATE` waits for a concurrent handler and returns the row
/// it committed, so `handled_at` is current; a filter on `handled_at` there would let a generic plan scan
/// the pending index instead); the sub-statements all see the statement's snapshot, so `newest` is read
/// before the lines. `lines` inserts in `WITH ORDINALITY` order, so ids follow the history's order.
const COMPLETE_AT_ONCE: &str = "\
WITH open AS (
    SELECT id, handled_at FROM inbox_events WHERE id = ANY($1) FOR UPDATE
), go AS (
    SELECT count(*) FILTER (WHERE handled_at IS NULL) = cardinality($1) AS ok FROM open
), marked AS (
    UPDATE inbox_events SET handled_at = $3, outcome = ($2::text[])[array_position($1, inbox_events.id)]
    WHERE inbox_events.id = ANY($1) AND (SELECT ok FROM go)
    RETURNING id, (SELECT MAX(zalo_messages.id) FROM zalo_messages \
        WHERE zalo_messages.zalo_user_id = inbox_events.zalo_user_id) AS newest
), lines AS (
    INSERT INTO zalo_messages (zalo_user_id, message_content, is_from_user, sent_at, message_type, event_key)
    SELECT l.u, l.c, l.f, $3, l.t, l.k
    FROM unnest($4::text[], $5::text[], $6::bool[], $7::text[], $8::text[]) WITH ORDINALITY AS l(u, c, f, t, k, n)
    WHERE (SELECT ok FROM go)
    ORDER BY l.n
    RETURNING id, event_key, is_from_user
), parts AS (
    INSERT INTO outbound_messages
        (zalo_user_id, text, state, source_event_key, part_index, attempts, created_at, updated_at)
    SELECT p.u, p.x, p.s, p.k, p.i, p.a, $3, $3
    FROM unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::int4[], $14::int4[])
        AS p(u, x, s, k, i, a)
    WHERE (SELECT ok FROM go)
    RETURNING id, source_event_key, part_index
)
SELECT 0 AS kind, id, newest, NULL::text AS key, NULL::int4 AS number FROM marked
UNION ALL SELECT 1, id, NULL, event_key, is_from_user::int4 FROM lines
UNION ALL SELECT 2, id, NULL, source_event_key, part_index FROM parts";

/// [`COMPLETE_AT_ONCE`]: the completions, or None when one of their events was handled already (nothing
/// was written).
async fn complete_at_once(
    db: &DatabaseConnection,
    completions: &[&Completion],
    groups: &[usize],
    now: DateTime<Utc>,
) -> StoreResult<Option<Vec<Completed>>> {
    let plan = CompletionPlan::new(completions, groups, vec![true; completions.len()]);
    let (lines, parts): (Vec<_>, Vec<_>) = (plan.lines().collect(), plan.parts().collect());
    let text =
        |values: Vec<&str>| Value::from(values.into_iter().map(str::to_string).collect::<Vec<_>>());
    let values = vec![
        Value::from(completions.iter().map(|c| c.inbox_id).collect::<Vec<_>>()),
        text(completions.iter().map(|c| c.outcome).collect()),
        Value::from(now),
        text(lines.iter().map(|l| l.completion.user.as_str()).collect()),
        text(lines.iter().map(|l| l.content.as_str()).collect()),
        Value::from(lines.iter().map(|l| l.from_user).collect::<Vec<_>>()),
        text(lines.iter().map(|l| l.message_type).collect()),
        text(
            lines
                .iter()
                .map(|l| l.completion.event_key.as_str())
                .collect(),
        ),
        text(parts.iter().map(|p| p.completion.user.as_str()).collect()),
        text(parts.iter().map(|p| p.text).collect()),
        text(parts.iter().map(|p| p.state().0.as_str()).collect()),
        text(
            parts
                .iter()
                .map(|p| p.completion.event_key.as_str())
                .collect(),
        ),
        Value::from(parts.iter().map(|p| p.index).collect::<Vec<_>>()),
        Value::from(parts.iter().map(|p| p.state().1).collect::<Vec<_>>()),
    ];
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, COMPLETE_AT_ONCE, values);
    let mut newest_before = HashMap::with_capacity(completions.len());
    let mut line_ids = HashMap::with_capacity(lines.len());
    let mut part_ids = HashMap::with_capacity(parts.len());
    for row in db.query_all_raw(statement).await? {
        let id: i64 = row.try_get("", "id")?;
        match row.try_get::<i32>("", "kind")? {
            0 => {
                newest_before.insert(id, row.try_get("", "newest")?);
            }
            1 => {
                let from_user = row.try_get::<i32>("", "number")? != 0;
                line_ids.insert((row.try_get("", "key")?, from_user), id);
            }
            _ => {
                part_ids.insert((row.try_get("", "key")?, row.try_get("", "number")?), id);
            }
        }
    }
    if newest_before.is_empty() {
        return Ok(None);
    }
    if newest_before.len() != completions.len() {
        return Err(DbErr::Custom("a completion marked only some of its events".into()).into());
    }
    plan.completed(&newest_before, &line_ids, &part_ids)
        .map(Some)
}

/// A chat line a completion writes.
struct LineRow<'a> {
    completion: &'a Completion,
    content: String,
    from_user: bool,
    message_type: &'a str,
}

impl LineRow<'_> {
    fn row(&self, at: DateTime<Utc>) -> zalo_messages::ActiveModel {
        zalo_messages::ActiveModel {
            id: NotSet,
            zalo_user_id: Set(self.completion.user.as_str().to_string()),
            message_content: Set(self.content.clone()),
            is_from_user: Set(self.from_user),
            sent_at: Set(at),
            message_type: Set(self.message_type.to_string()),
            event_key: Set(Some(self.completion.event_key.clone())),
        }
    }
}

/// A reply part a completion queues.
struct PartRow<'a> {
    completion: &'a Completion,
    text: &'a str,
    index: i32,
}

impl PartRow<'_> {
    /// The first part goes straight to the outbound actor, so it is stored claimed (`pre_claims`); the rest
    /// wait for it and are claimed as their turn comes. The state, and the attempts that implies.
    fn state(&self) -> (OutboundState, i32) {
        if self.index == 0 {
            (OutboundState::Sending, 1)
        } else {
            (OutboundState::Queued, 0)
        }
    }

    fn row(&self, at: DateTime<Utc>) -> outbound_messages::ActiveModel {
        let (state, attempts) = self.state();
        outbound_messages::ActiveModel {
            id: NotSet,
            zalo_user_id: Set(self.completion.user.as_str().to_string()),
            text: Set(self.text.to_string()),
            state: Set(state.as_str().to_string()),
            source_event_key: Set(Some(self.completion.event_key.clone())),
            part_index: Set(self.index),
            attempts: Set(attempts),
            zalo_message_id: Set(None),
            error_code: Set(None),
            error_message: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        }
    }
}

/// What a batch of completions writes, once it is known which of their events are still unhandled
/// (`marked`, per completion). Pure: both ways of writing a completion share it.
struct CompletionPlan<'a> {
    completions: &'a [&'a Completion],
    groups: &'a [usize],
    marked: Vec<bool>,
    /// Per completion, the reply it writes.
    replies: Vec<Vec<String>>,
}

impl<'a> CompletionPlan<'a> {
    /// Within one conversation's group, a reply meant for an event someone else already handled moves to the
    /// group's last event this batch did mark, so no burst is left unanswered.
    fn new(completions: &'a [&'a Completion], groups: &'a [usize], marked: Vec<bool>) -> Self {
        let mut replies: Vec<Vec<String>> =
            completions.iter().map(|c| c.reply_parts.clone()).collect();
        let mut start = 0;
        for len in groups {
            let end = start + len;
            if let Some(last_marked) = (start..end).rposition(|i| marked[i]) {
                let last_marked = start + last_marked;
                let orphaned: Vec<String> = (start..end)
                    .filter(|&i| !marked[i])
                    .flat_map(|i| std::mem::take(&mut replies[i]))
                    .collect();
                if replies[last_marked].is_empty() {
                    replies[last_marked] = orphaned;
                }
            }
            start = end;
        }
        Self {
            completions,
            groups,
            marked,
            replies,
        }
    }

    /// The marked completions, with their replies.
    fn written(&self) -> impl Iterator<Item = (&'a Completion, &[String])> + '_ {
        self.completions
            .iter()
            .zip(&self.replies)
            .zip(&self.marked)
            .filter(|(_, marked)| **marked)
            .map(|((c, reply), _)| (*c, reply.as_slice()))
    }

    /// The chat lines, in the history's order: each user line, then its answer.
    fn lines(&self) -> impl Iterator<Item = LineRow<'a>> + '_ {
        self.written().flat_map(|(c, reply)| {
            let asked = c.user_message.as_ref().map(|line| LineRow {
                completion: c,
                content: line.content.clone(),
                from_user: true,
                message_type: &line.message_type,
            });
            let answered = (!reply.is_empty()).then(|| LineRow {
                completion: c,
                content: reply.join("\n"),
                from_user: false,
                message_type: "text",
            });
            asked.into_iter().chain(answered)
        })
    }

    /// The reply parts to queue.
    fn parts(&self) -> impl Iterator<Item = PartRow<'_>> + '_ {
        self.written().flat_map(|(c, reply)| {
            reply.iter().enumerate().map(move |(index, text)| PartRow {
                completion: c,
                text,
                index: index as i32,
            })
        })
    }

    /// One [`Completed`] per group, from the ids the writes returned: `newest_before`, per marked event, its
    /// user's newest chat line before this batch's lines.
    fn completed(
        self,
        newest_before: &HashMap<i64, Option<i64>>,
        line_ids: &HashMap<(String, bool), i64>,
        part_ids: &HashMap<(String, i32), i64>,
    ) -> StoreResult<Vec<Completed>> {
        let mut results = Vec::with_capacity(self.groups.len());
        let mut rest = self.completions.iter().zip(self.replies).zip(self.marked);
        for &len in self.groups {
            let mut parts = Vec::with_capacity(len);
            let mut history: Option<HistoryWrite> = None;
            for ((c, reply), marked) in rest.by_ref().take(len) {
                if !marked {
                    parts.push(None);
                    continue;
                }
                let written = history.get_or_insert_with(|| HistoryWrite {
                    newest_before: newest_before.get(&c.inbox_id).copied().flatten(),
                    turns: Vec::new(),
                    newest_after: None,
                });
                let mut line = |from_user: bool, content: String| -> StoreResult<()> {
                    let id = line_ids
                        .get(&(c.event_key.clone(), from_user))
                        .copied()
                        .ok_or_else(|| DbErr::Custom("a chat line was not returned".into()))?;
                    written.newest_after = Ord::max(written.newest_after, Some(id));
                    written.turns.push(HistoryTurn { from_user, content });
                    Ok(())
                };
                if let Some(user_line) = &c.user_message {
                    line(true, user_line.content.clone())?;
                }
                if !reply.is_empty() {
                    line(false, reply.join("\n"))?;
                }
                let count = reply.len() as i32;
                let queued = reply
                    .into_iter()
                    .enumerate()
                    .map(|(index, text)| {
                        let part_index = index as i32;
                        let id = part_ids
                            .get(&(c.event_key.clone(), part_index))
                            .copied()
                            .ok_or_else(|| {
                                DbErr::Custom("a queued part was not returned".into())
                            })?;
                        Ok(QueuedOutbound {
                            id,
                            user: c.user.clone(),
                            text,
                            source_event_key: Some(c.event_key.clone()),
                            part_index,
                            part_count: count,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                parts.push(Some(queued));
            }
            results.push(Completed { parts, history });
        }
        Ok(results)
    }
}

/// Inserts `rows` in one statement and maps each row's two `keys` columns to its `id`. RETURNING order is not
/// promised on SQLite, so rows are matched by key, never by position.
async fn insert_returning_ids<C, A, K1, K2>(
    conn: &C,
    rows: Vec<A>,
    id: <A::Entity as EntityTrait>::Column,
    keys: [<A::Entity as EntityTrait>::Column; 2],
) -> StoreResult<HashMap<(K1, K2), i64>>
where
    C: ConnectionTrait,
    A: ActiveModelTrait,
    K1: TryGetable + Eq + std::hash::Hash,
    K2: TryGetable + Eq + std::hash::Hash,
{
    let mut ids = HashMap::with_capacity(rows.len());
    if rows.is_empty() {
        return Ok(ids);
    }
    let mut insert = A::Entity::insert_many(rows).into_query();
    insert.returning(Query::returning().columns([id, keys[0], keys[1]]));
    for row in conn.query_all(&insert).await? {
        ids.insert(
            (
                row.try_get("", keys[0].as_str())?,
                row.try_get("", keys[1].as_str())?,
            ),
            row.try_get("", id.as_str())?,
        );
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::super::inbox_writer::tests::{event, stores};
    use super::*;
    use crate::domain::OutboundState;
    use crate::domain::UserId;
    use crate::store::{ChatLine, InboxInsert, NewInboxEvent, Store};

    async fn inbox_id(store: &Store, key: &str) -> i64 {
        match store.insert_inbox(event(key)).await.unwrap() {
            InboxInsert::Inserted { id, .. } => id,
            InboxInsert::Duplicate => panic!("{key} is new"),
        }
    }

    /// An event of `user`, as the webhook stores a user's message.
    async fn user_inbox_id(store: &Store, key: &str, user: &UserId) -> i64 {
        let new = NewInboxEvent {
            user_id: Some(user.clone()),
            ..event(key)
        };
        match store.insert_inbox(new).await.unwrap() {
            InboxInsert::Inserted { id, .. } => id,
            InboxInsert::Duplicate => panic!("{key} is new"),
        }
    }

    fn completion(inbox_id: i64, key: &str, user: &str) -> Completion {
        Completion {
            inbox_id,
            event_key: key.to_string(),
            user: UserId::parse(user).unwrap(),
            user_message: Some(ChatLine {
                content: format!("question {key}"),
                message_type: "text".into(),
            }),
            reply_parts: vec![format!("answer {key}")],
            outcome: "llm",
        }
    }

    /// Many conversations complete at once: each gets its own answer, and one whose write fails (its reply
    /// part repeats a committed part's unique key) fails alone, whether or not it shared a batch.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_completions_commit_and_a_bad_one_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let first = inbox_id(&store, "c-first").await;
            let done = store
                .complete_event(completion(first, "c-first", "7000000000000000001"))
                .await
                .unwrap()
                .expect("handled now");
            assert_eq!(done.len(), 1);

            let mut calls = Vec::new();
            for n in 0..40 {
                let key = format!("c-{n}");
                let id = inbox_id(&store, &key).await;
                // Number 17 reuses the first event's key for its reply part: a unique violation.
                let key = if n == 17 { "c-first".to_string() } else { key };
                let user = format!("70000000000000001{n:02}");
                let store = store.clone();
                calls.push(tokio::spawn(async move {
                    store.complete_event(completion(id, &key, &user)).await
                }));
            }
            for (n, call) in calls.into_iter().enumerate() {
                let outcome = call.await.unwrap();
                if n == 17 {
                    assert!(outcome.is_err(), "the bad completion fails");
                } else {
                    let parts = outcome.unwrap().expect("handled now");
                    assert_eq!(parts.len(), 1);
                    assert_eq!(parts[0].text, format!("answer c-{n}"));
                }
            }
            // The 39 good ones and the first are handled; the bad one left its event pending, nothing written.
            assert_eq!(store.pending_event_count().await.unwrap(), 1);
            let user = UserId::parse("7000000000000000117").unwrap();
            assert!(store.messages_for(&user).await.unwrap().is_empty());
            assert!(store.outbound_for(&user).await.unwrap().is_empty());
        }
    }

    fn done_attempt(done: &Done) -> Option<i32> {
        match done {
            Done::Attempt(attempt) => attempt.map(|a| a.number),
            other => panic!("expected an attempt, got {other:?}"),
        }
    }

    /// A reply's first part is stored claimed and registered; if no send ever takes it (the outbound actor
    /// that held it crashed), the resume's release puts it back in the queue, where it is claimed like any
    /// other part, and its attempt count forgets the pre-claim.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pre_claimed_part_never_sent_is_released_to_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let user = "7000000000000000301";
            let uid = UserId::parse(user).unwrap();
            let id = user_inbox_id(&store, "m-held", &uid).await;
            let mut held = completion(id, "m-held", user);
            held.reply_parts = vec!["x0".into(), "x1".into()];
            let parts = store.complete_event(held).await.unwrap().unwrap();
            let queued = |store: &Store| {
                let store = store.clone();
                async move {
                    let parts = store.queued_outbound(10).await.unwrap();
                    parts.into_iter().map(|q| q.id).collect::<Vec<_>>()
                }
            };
            assert_eq!(queued(&store).await, [parts[1].id], "the first is claimed");
            let released = store
                .release_pre_claimed(std::time::Duration::from_secs(60))
                .await
                .unwrap();
            assert_eq!(released, 0, "not held long enough");
            let released = store
                .release_pre_claimed(std::time::Duration::ZERO)
                .await
                .unwrap();
            assert_eq!(released, 1);
            assert!(
                !store.take_pre_claimed(parts[0].id),
                "released, so not sent unclaimed"
            );
            assert_eq!(queued(&store).await, [parts[0].id, parts[1].id]);
            let row = store.outbound_for(&uid).await.unwrap();
            assert_eq!(row[0].state, OutboundState::Queued);
            assert_eq!(row[0].attempts, 0);
            assert!(store.mark_sending(parts[0].id).await.unwrap());
        }
    }

    /// Every kind of write in one batch, merged into a statement per kind: each op gets its own answer, an
    /// event someone else handled is skipped and its reply moves to the group's last marked event, and two
    /// writes of one row fall back to arrival order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_mixed_batch_answers_each_write_as_if_alone() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let (db, sqlite) = (&store.writer, store.sqlite);
            let user = "7000000000000000201";
            let uid = UserId::parse(user).unwrap();
            // Four parts from an earlier answer: the first stored claimed by its commit, the third claimed
            // since, the others queued.
            let earlier = user_inbox_id(&store, "m-earlier", &uid).await;
            let mut old = completion(earlier, "m-earlier", user);
            old.reply_parts = vec!["p0".into(), "p1".into(), "p2".into(), "p3".into()];
            let parts = store.complete_event(old).await.unwrap().unwrap();
            assert!(
                store.take_pre_claimed(parts[0].id),
                "registered once committed"
            );
            assert!(!store.take_pre_claimed(parts[1].id), "only the first part");
            assert!(!store.mark_sending(parts[0].id).await.unwrap());
            assert!(store.mark_sending(parts[2].id).await.unwrap());

            let attempted = user_inbox_id(&store, "m-attempted", &uid).await;
            let paused = chrono::DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc);
            store
                .pause_user(&uid, paused, "test", Utc::now())
                .await
                .unwrap();
            let before_batch = store.recent_history(&uid, 1).await.unwrap().newest.unwrap();
            let handled = user_inbox_id(&store, "m-handled", &uid).await;
            assert!(store.finish_event(handled, "ignored").await.unwrap());
            let answered = user_inbox_id(&store, "m-answered", &uid).await;
            let merged = user_inbox_id(&store, "m-merged", &uid).await;
            let mut two_parts = completion(answered, "m-answered", user);
            two_parts.reply_parts = vec!["a".into(), "b".into()];
            let mut skipped = completion(handled, "m-handled", user);
            skipped.reply_parts = vec!["moved".into()];
            let mut last = completion(merged, "m-merged", user);
            last.reply_parts.clear();
            last.outcome = "llm_merged";
            let newcomer = UserId::parse("7000000000000000202").unwrap();

            let ops = vec![
                Op::Touch(newcomer.clone()),
                Op::BeginAttempt(attempted),
                Op::MarkSending(parts[1].id),
                Op::Complete(vec![two_parts]),
                Op::Complete(vec![skipped, last]),
                Op::MarkSending(parts[2].id),
                Op::MarkSent(parts[3].id, Some("zid-3".into())),
            ];
            assert!(!ids_repeat(&ops), "the merged path");
            let answers = write_together(db, sqlite, ops).await.unwrap();
            assert_eq!(answers.len(), 7);
            assert!(matches!(answers[0], Done::Recorded));
            // The insert counted the live delivery as the first attempt; this is the first replay.
            assert_eq!(done_attempt(&answers[1]), Some(2));
            let Done::Attempt(Some(attempt)) = &answers[1] else {
                panic!("an attempt")
            };
            assert_eq!(attempt.paused_until, Some(paused));
            assert_eq!(attempt.newest_message, Some(before_batch));
            let Done::Completed(first) = &answers[3] else {
                panic!("a completion")
            };
            let queued = first.parts[0].as_ref().expect("answered now");
            assert_eq!(
                queued
                    .iter()
                    .map(|q| (q.text.as_str(), q.part_index, q.part_count))
                    .collect::<Vec<_>>(),
                [("a", 0, 2), ("b", 1, 2)]
            );
            let Done::Completed(second) = &answers[4] else {
                panic!("a completion")
            };
            assert!(second.parts[0].is_none(), "handled by someone else");
            let moved = second.parts[1]
                .as_ref()
                .expect("the group's last marked event");
            // Each group learns the lines it wrote, and what was newest before them.
            let written = first.history.as_ref().expect("lines written");
            let later = second.history.as_ref().expect("lines written");
            assert_eq!(
                written
                    .turns
                    .iter()
                    .map(|t| (t.from_user, t.content.as_str()))
                    .collect::<Vec<_>>(),
                [(true, "question m-answered"), (false, "a\nb")]
            );
            assert_eq!(
                later
                    .turns
                    .iter()
                    .map(|t| (t.from_user, t.content.as_str()))
                    .collect::<Vec<_>>(),
                [(true, "question m-merged"), (false, "moved")]
            );
            let before = written.newest_before.expect("the earlier answer's lines");
            assert_eq!(
                later.newest_before,
                Some(before),
                "read before this batch's lines"
            );
            assert!(written.newest_after.unwrap() > before);
            assert!(later.newest_after.unwrap() > written.newest_after.unwrap());
            let history = store.recent_history(&uid, 2).await.unwrap();
            assert_eq!(history.newest, later.newest_after);
            assert_eq!(history.turns.len(), 2);
            assert_eq!(moved.len(), 1);
            assert_eq!(moved[0].text, "moved");
            assert_eq!(moved[0].source_event_key.as_deref(), Some("m-merged"));
            assert!(matches!(answers[2], Done::Claimed(true)));
            assert!(matches!(answers[5], Done::Claimed(false)), "claimed before");
            assert!(matches!(answers[6], Done::Recorded));

            assert_eq!(store.user_followed(&newcomer).await.unwrap(), Some(false));
            let by_text = |text: &str, rows: &[crate::store::OutboundRecord]| {
                rows.iter().find(|r| r.text == text).cloned().unwrap()
            };
            let outbound = store.outbound_for(&uid).await.unwrap();
            assert_eq!(by_text("p0", &outbound).state, OutboundState::Sending);
            assert_eq!(
                by_text("p0", &outbound).attempts,
                1,
                "claimed once, by its commit"
            );
            assert_eq!(by_text("p1", &outbound).state, OutboundState::Sending);
            assert_eq!(by_text("p1", &outbound).attempts, 1);
            assert_eq!(by_text("p3", &outbound).state, OutboundState::Sent);
            assert_eq!(
                by_text("p3", &outbound).zalo_message_id.as_deref(),
                Some("zid-3")
            );
            assert_eq!(by_text("p2", &outbound).attempts, 1, "not claimed twice");
            // The batch's new replies: first parts stored claimed, the rest queued.
            assert_eq!(by_text("a", &outbound).state, OutboundState::Sending);
            assert_eq!(by_text("b", &outbound).state, OutboundState::Queued);
            assert_eq!(by_text("moved", &outbound).state, OutboundState::Sending);
            assert_eq!(by_text("a", &outbound).id, queued[0].id);
            assert_eq!(by_text("moved", &outbound).id, moved[0].id);
            // History in order: each user line, then its answer; the skipped event wrote nothing.
            let lines: Vec<String> = store
                .messages_for(&uid)
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.content)
                .collect();
            assert_eq!(
                lines,
                [
                    "question m-earlier",
                    "p0\np1\np2\np3",
                    "question m-answered",
                    "a\nb",
                    "question m-merged",
                    "moved"
                ]
            );
            let pending = store.pending_events(None, 0, 10).await.unwrap();
            assert_eq!(
                pending
                    .iter()
                    .map(|p| (p.id, p.attempts))
                    .collect::<Vec<_>>(),
                [(attempted, 2)]
            );

            // The same event twice in one batch: counted twice, in arrival order. A handled event: no attempt.
            let answers = write_together(
                db,
                sqlite,
                vec![
                    Op::BeginAttempt(attempted),
                    Op::BeginAttempt(handled),
                    Op::BeginAttempt(attempted),
                ],
            )
            .await
            .unwrap();
            assert_eq!(done_attempt(&answers[0]), Some(3));
            assert_eq!(done_attempt(&answers[1]), None, "handled: no attempt");
            assert_eq!(done_attempt(&answers[2]), Some(4));
        }
    }

    /// On PostgreSQL a batch of completions is one statement: it writes every group as the transactional path
    /// would (lines in history order, first parts claimed) when all its events are open, and nothing at all
    /// when one was handled already, leaving that batch to the transactional path, which moves the orphaned
    /// reply. Two statements racing for one event: exactly one writes it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_completes_a_batch_in_one_statement_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await.into_iter().filter(|s| !s.sqlite) {
            let db = &store.writer;
            let user = "7000000000000000401";
            let uid = UserId::parse(user).unwrap();
            let earlier = user_inbox_id(&store, "o-earlier", &uid).await;
            store
                .complete_event(completion(earlier, "o-earlier", user))
                .await
                .unwrap()
                .unwrap();
            let before = store.recent_history(&uid, 1).await.unwrap().newest;
            let a = user_inbox_id(&store, "o-a", &uid).await;
            let b = user_inbox_id(&store, "o-b", &uid).await;
            let other = UserId::parse("7000000000000000402").unwrap();
            let c = user_inbox_id(&store, "o-c", &other).await;
            let mut first = completion(a, "o-a", user);
            first.reply_parts = vec!["a0".into(), "a1".into()];
            let mut second = completion(b, "o-b", user);
            second.user_message = None;
            second.outcome = "ignored";
            second.reply_parts.clear();
            let third = completion(c, "o-c", other.as_str());
            let all = [&first, &second, &third];
            let done = complete_at_once(db, &all, &[2, 1], Utc::now())
                .await
                .unwrap()
                .expect("every event open: written");
            assert_eq!(done.len(), 2);
            let mine = done[0].history.as_ref().unwrap();
            assert_eq!(mine.newest_before, before);
            assert_eq!(
                mine.turns
                    .iter()
                    .map(|t| (t.from_user, t.content.as_str()))
                    .collect::<Vec<_>>(),
                [(true, "question o-a"), (false, "a0\na1")]
            );
            let history = store.recent_history(&uid, 10).await.unwrap();
            assert_eq!(history.newest, mine.newest_after);
            assert_eq!(
                store
                    .messages_for(&uid)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| m.content)
                    .collect::<Vec<_>>(),
                [
                    "question o-earlier",
                    "answer o-earlier",
                    "question o-a",
                    "a0\na1"
                ]
            );
            let parts = done[0].parts[0].as_ref().unwrap();
            assert_eq!(
                parts
                    .iter()
                    .map(|p| (p.text.as_str(), p.part_index, p.part_count))
                    .collect::<Vec<_>>(),
                [("a0", 0, 2), ("a1", 1, 2)]
            );
            assert_eq!(
                done[0].parts[1].as_deref(),
                Some(&[][..]),
                "handled, no reply"
            );
            let outbound = store.outbound_for(&uid).await.unwrap();
            let state = |text: &str| {
                let row = outbound.iter().find(|r| r.text == text).unwrap();
                (row.id, row.state, row.attempts)
            };
            assert_eq!(state("a0"), (parts[0].id, OutboundState::Sending, 1));
            assert_eq!(state("a1"), (parts[1].id, OutboundState::Queued, 0));
            assert_eq!(done[1].history.as_ref().unwrap().newest_before, None);
            assert_eq!(store.pending_event_count().await.unwrap(), 0);

            // One event of the batch handled already: nothing written, then the transactional path.
            let d = user_inbox_id(&store, "o-d", &uid).await;
            let e = user_inbox_id(&store, "o-e", &uid).await;
            assert!(store.finish_event(d, "ignored").await.unwrap());
            let mut skipped = completion(d, "o-d", user);
            skipped.reply_parts = vec!["moved".into()];
            let mut last = completion(e, "o-e", user);
            last.reply_parts.clear();
            let lines_before = store.messages_for(&uid).await.unwrap().len();
            let group = [&skipped, &last];
            let nothing = complete_at_once(db, &group, &[2], Utc::now())
                .await
                .unwrap();
            assert!(nothing.is_none());
            assert_eq!(store.messages_for(&uid).await.unwrap().len(), lines_before);
            assert_eq!(
                store.pending_event_count().await.unwrap(),
                1,
                "o-e still open"
            );
            let answers = write_together(db, false, vec![Op::Complete(vec![skipped, last])])
                .await
                .unwrap();
            let Done::Completed(done) = &answers[0] else {
                panic!("a completion")
            };
            assert!(done.parts[0].is_none());
            assert_eq!(done.parts[1].as_ref().unwrap()[0].text, "moved");
            assert_eq!(store.pending_event_count().await.unwrap(), 0);

            // Racing statements for one event.
            for round in 0..10 {
                let key = format!("o-race-{round}");
                let id = user_inbox_id(&store, &key, &uid).await;
                let racers: Vec<_> = (0..4)
                    .map(|n| {
                        let db = db.clone();
                        let mut racer = completion(id, &key, user);
                        racer.reply_parts = vec![format!("racer {n}")];
                        tokio::spawn(async move {
                            complete_at_once(&db, &[&racer], &[1], Utc::now()).await
                        })
                    })
                    .collect();
                let mut written = 0;
                for racer in racers {
                    if racer.await.unwrap().unwrap().is_some() {
                        written += 1;
                    }
                }
                assert_eq!(written, 1, "round {round}");
                let racers_written = store
                    .outbound_for(&uid)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|r| r.text.starts_with("racer "))
                    .count();
                assert_eq!(racers_written, round + 1, "one reply per round");
            }
        }
    }
}
