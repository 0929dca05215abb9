//! Group commit for the conversation pipeline's own writes: completed events (the handled mark, the chat lines
//! and the queued reply parts), attempt counts, and outbound claims and results.
//!
//! Every message makes four such writes. One by one, each is a transaction of its own: on SQLite, statement
//! round trips to the connection's thread plus a WAL write per commit; on PostgreSQL, a WAL flush (an fsync)
//! per commit. So callers queue them here and a task writes whatever is queued, up to [`MAX_BATCH`]
//! writes, in one transaction, answering each only after the commit, as the inbox does (`inbox_writer`);
//! one batch at a time on SQLite, a few at once on PostgreSQL.
//! There is no linger: a write alone is done at once, and a lone single-statement write runs without BEGIN
//! and COMMIT. Each caller still waits for its own commit, so every promise of the one-by-one writes holds
//! (an attempt is counted before the event is handled; a part is claimed before it is sent).
//!
//! A failing batch is retried write by write, each in its own transaction, so one bad write fails only its
//! own caller (whose actor then restarts and retries), never the others that shared its batch.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::Utc;
use futures_util::FutureExt;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{Completion, QueuedOutbound, StoreError, StoreResult};
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
}

/// What a write answers, per [`Op`].
#[derive(Debug)]
pub(super) enum Done {
    Completed(Vec<Option<Vec<QueuedOutbound>>>),
    Attempt(Option<i32>),
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
    pub(super) fn spawn(db: DatabaseConnection, sqlite: bool) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(rx, db, sqlite));
        Self { tx }
    }

    /// Queues one write and waits for its commit.
    pub(super) async fn write(&self, op: Op) -> StoreResult<Done> {
        let (reply, answer) = oneshot::channel();
        self.tx.send((op, reply)).await.map_err(|_| stopped())?;
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> StoreError {
    DbErr::Custom("pipeline writer stopped".into()).into()
}

/// Batches written at once: one on SQLite (one writer connection anyway); several on PostgreSQL, whose
/// statements are network round trips: one batch at a time measured e2e p50 3 s at 1,000 msg/s, the writes
/// queueing behind a single connection while the pool's others idled (BENCHMARKS.md).
const POSTGRES_PARALLEL_BATCHES: usize = 4;

async fn run(mut rx: mpsc::Receiver<Request>, db: DatabaseConnection, sqlite: bool) {
    let parallel = if sqlite { 1 } else { POSTGRES_PARALLEL_BATCHES };
    let slots = Arc::new(Semaphore::new(parallel));
    while let Some(first) = rx.recv().await {
        // Taken before draining: while every slot is busy, the next batch grows.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return; // never closed
        };
        let batch = super::take_batch(first, &mut rx, MAX_BATCH);
        let db = db.clone();
        tokio::spawn(async move {
            write_batch(&db, sqlite, batch).await;
            drop(slot);
        });
    }
}

/// Writes one batch and answers every request in it.
async fn write_batch(db: &DatabaseConnection, sqlite: bool, batch: Vec<Request>) {
    metrics::histogram!(WRITE_BATCH_SIZE).record(batch.len() as f64);
    let (ops, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    if ops.len() > 1 {
        // A panic while writing fails this attempt, never the loop (an open transaction rolls back on drop).
        let together = AssertUnwindSafe(write_together(db, sqlite, ops.clone()))
            .catch_unwind()
            .await;
        if let Ok(Ok(answers)) = together {
            for (reply, answer) in replies.into_iter().zip(answers) {
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
        let _ = reply.send(alone);
    }
}

/// One transaction for all `ops`; one answer per op, in order.
async fn write_together(
    db: &DatabaseConnection,
    sqlite: bool,
    ops: Vec<Op>,
) -> StoreResult<Vec<Done>> {
    let txn = super::begin_write_on(db, sqlite).await?;
    let now = Utc::now();
    let mut answers = Vec::with_capacity(ops.len());
    for op in ops {
        answers.push(match op {
            Op::Complete(completions) => {
                Done::Completed(super::complete_in(&txn, completions, now).await?)
            }
            Op::BeginAttempt(id) => Done::Attempt(super::begin_attempt_on(&txn, id).await?),
            Op::MarkSending(id) => Done::Claimed(super::mark_sending_on(&txn, id).await?),
            Op::MarkSent(id, message_id) => {
                super::mark_sent_on(&txn, id, message_id.as_deref()).await?;
                Done::Recorded
            }
        });
    }
    txn.commit().await?;
    Ok(answers)
}

/// One write on its own: a completion in its own transaction, a single statement as it is (autocommit).
async fn write_alone(db: &DatabaseConnection, sqlite: bool, op: Op) -> StoreResult<Done> {
    Ok(match op {
        Op::Complete(_) => write_together(db, sqlite, vec![op])
            .await?
            .pop()
            .expect("one answer per op"),
        Op::BeginAttempt(id) => Done::Attempt(super::begin_attempt_on(db, id).await?),
        Op::MarkSending(id) => Done::Claimed(super::mark_sending_on(db, id).await?),
        Op::MarkSent(id, message_id) => {
            super::mark_sent_on(db, id, message_id.as_deref()).await?;
            Done::Recorded
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::inbox_writer::tests::{event, stores};
    use super::*;
    use crate::domain::UserId;
    use crate::store::{ChatLine, InboxInsert, Store};

    async fn inbox_id(store: &Store, key: &str) -> i64 {
        match store.insert_inbox(event(key)).await.unwrap() {
            InboxInsert::Inserted(id) => id,
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
}
