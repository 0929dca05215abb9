//! Group commit for completed events (the chat lines, the reply parts and the handled mark of each).
//!
//! Every conversation ends each event with one such transaction. Done one by one, a transaction's BEGIN and
//! COMMIT are two of its six statements, and on SQLite each statement is a round trip to the connection's
//! thread; the commit also writes its pages to the WAL (on PostgreSQL: a WAL flush). So conversations queue
//! their completions here and one task writes whatever is queued, up to [`MAX_BATCH`] requests, in one
//! transaction, answering each only after the commit, as the inbox does (`inbox_writer`). There is no
//! linger: alone, a completion is committed at once.
//!
//! A failing batch is retried request by request, each in its own transaction, so one bad completion fails
//! only its own conversation (which then restarts and retries it), never the others that shared its batch.

use std::panic::AssertUnwindSafe;

use chrono::Utc;
use futures_util::FutureExt;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};

use super::{Completion, QueuedOutbound, StoreError, StoreResult};
use crate::telemetry::COMPLETION_BATCH_SIZE;

/// Requests (each one conversation's completions) per transaction at most.
const MAX_BATCH: usize = 64;
const QUEUE_CAPACITY: usize = 4 * MAX_BATCH;

type Answer = StoreResult<Vec<Option<Vec<QueuedOutbound>>>>;
type Request = (Vec<Completion>, oneshot::Sender<Answer>);

#[derive(Clone, Debug)]
pub(super) struct CompletionWriter {
    tx: mpsc::Sender<Request>,
}

impl CompletionWriter {
    /// Starts the writer task on the current tokio runtime; it stops when the last sender is dropped.
    pub(super) fn spawn(db: DatabaseConnection, sqlite: bool) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(rx, db, sqlite));
        Self { tx }
    }

    /// Queues one conversation's completions and waits for their commit.
    pub(super) async fn complete(&self, completions: Vec<Completion>) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((completions, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> StoreError {
    DbErr::Custom("completion writer stopped".into()).into()
}

async fn run(mut rx: mpsc::Receiver<Request>, db: DatabaseConnection, sqlite: bool) {
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::with_capacity(MAX_BATCH.min(rx.len() + 1));
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        metrics::histogram!(COMPLETION_BATCH_SIZE).record(batch.len() as f64);
        let (requests, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        if requests.len() > 1 {
            // A panic while writing fails this attempt, never the loop (an open transaction rolls back on drop).
            let together = AssertUnwindSafe(write(&db, sqlite, requests.clone()))
                .catch_unwind()
                .await;
            if let Ok(Ok(answers)) = together {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // A caller that gave up no longer listens; its completion is committed all the same.
                    let _ = reply.send(Ok(answer));
                }
                continue;
            }
        }
        // Alone, or the batch failed: each request in its own transaction, with its own outcome.
        for (request, reply) in requests.into_iter().zip(replies) {
            let alone = AssertUnwindSafe(write(&db, sqlite, vec![request]))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(DbErr::Custom("completion panicked".into()).into()));
            let _ = reply.send(alone.map(|mut answers| answers.pop().unwrap_or_default()));
        }
    }
}

/// One transaction for `requests`; one answer per request, in order.
async fn write(
    db: &DatabaseConnection,
    sqlite: bool,
    requests: Vec<Vec<Completion>>,
) -> StoreResult<Vec<Vec<Option<Vec<QueuedOutbound>>>>> {
    let txn = super::begin_write_on(db, sqlite).await?;
    let now = Utc::now();
    let mut answers = Vec::with_capacity(requests.len());
    for completions in requests {
        answers.push(super::complete_in(&txn, completions, now).await?);
    }
    txn.commit().await?;
    Ok(answers)
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
