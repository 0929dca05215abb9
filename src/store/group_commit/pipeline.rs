//! The conversation pipeline's own writes, group-committed: completed events (the handled mark, the chat
//! lines and the queued reply parts), attempt counts, and outbound claims and results.
//!
//! Every answered message makes at least two such writes (its completion, its reply's send result), a replay
//! one more (its attempt), and a reply's later parts a claim each. One by one, each is a transaction of its
//! own: on SQLite, statement round trips to the connection's thread plus a WAL write per commit; on
//! PostgreSQL, a WAL flush (an fsync) per commit. So they share commits ([`GroupCommit`](super::GroupCommit)):
//! a batch, up to [`PipelineWriter::MAX_BATCH`] writes, is one transaction with one statement per kind of
//! write (`ops`, `completion`); one batch at a time on SQLite, a few at once on PostgreSQL. A lone
//! single-statement write runs without BEGIN and COMMIT. Each caller still waits for its own commit, so every
//! promise of the one-by-one writes holds (an attempt is counted before the event is handled; a part is
//! claimed before it is sent, a reply's first part by the very commit that queues it: `pre_claims`).
//!
//! A failing batch is retried write by write, each in its own transaction, so one bad write fails only its
//! own caller (whose actor then restarts and retries), never the others that shared its batch.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::completion::complete;
use super::fence::{Fenced, fence};
use super::ops::{claim_parts, count_attempts, record_sent, touch_users};
use super::{BatchWrite, OnFailure, begin_write_on};
use crate::cluster::FencedOp;
use crate::domain::{Partition, UserId};
use crate::store::ClusterHandle;
use crate::store::pre_claims::PreClaims;
use crate::store::{Attempt, Completed, Completion, StoreResult};
use crate::telemetry::WRITE_BATCH_SIZE;

/// One write of the pipeline.
#[derive(Debug, Clone)]
pub(in crate::store) enum Op {
    /// One conversation's completed events ([`Store::complete_events`](crate::store::Store::complete_events)).
    Complete(Vec<Completion>),
    /// [`Store::begin_attempt`](crate::store::Store::begin_attempt).
    BeginAttempt(i64),
    /// [`Store::mark_sending`](crate::store::Store::mark_sending): the part and its user's partition.
    MarkSending(i64, Partition),
    /// [`Store::mark_sent`](crate::store::Store::mark_sent).
    MarkSent(i64, Option<String>),
    /// [`Store::touch_user`](crate::store::Store::touch_user): the user interacted at that time.
    Touch(UserId, DateTime<Utc>),
}

/// What a write answers, per [`Op`].
#[derive(Debug)]
pub(in crate::store) enum Done {
    Completed(Completed),
    /// A completion refused: another replica owns the user's partition now (or this one stopped trusting
    /// its lease). Nothing was written.
    Fenced,
    Attempt(Option<Attempt>),
    Claimed(bool),
    Recorded,
}

/// Writes the pipeline's [`Op`]s, a batch in one transaction.
pub(in crate::store) struct PipelineWriter {
    db: DatabaseConnection,
    sqlite: bool,
    /// The first part of every reply written is stored claimed and registered here once committed (before
    /// its caller hears of it, so a caller gone meanwhile leaves it releasable).
    pre_claims: Arc<PreClaims>,
    /// This replica's ownership, once it joined a cluster: completions and claims are fenced by it.
    cluster: ClusterHandle,
}

impl PipelineWriter {
    pub(in crate::store) fn new(
        db: DatabaseConnection,
        sqlite: bool,
        pre_claims: Arc<PreClaims>,
        cluster: ClusterHandle,
    ) -> Self {
        Self {
            db,
            sqlite,
            pre_claims,
            cluster,
        }
    }
}

/// Batches written at once on PostgreSQL, whose statements are network round trips: one batch at a time
/// measured e2e p50 3 s at 1,000 msg/s, the writes queueing behind a single connection while the pool's
/// others idled.
const POSTGRES_PARALLEL_BATCHES: usize = 4;

impl BatchWrite for PipelineWriter {
    type Request = Op;
    type Answer = Done;
    const NAME: &'static str = "pipeline";
    const MAX_BATCH: usize = 64;
    const QUEUE_CAPACITY: usize = 4 * Self::MAX_BATCH;
    const BATCH_SIZE_METRIC: &'static str = WRITE_BATCH_SIZE;
    const ON_FAILURE: OnFailure = OnFailure::OneByOne;
    const OWN_TASK_PER_BATCH: bool = true;

    /// One on SQLite (one writer connection anyway), [`POSTGRES_PARALLEL_BATCHES`] on PostgreSQL.
    fn parallel(&self) -> usize {
        if self.sqlite {
            1
        } else {
            POSTGRES_PARALLEL_BATCHES
        }
    }

    async fn write_together(&self, ops: Vec<Op>) -> StoreResult<Vec<Done>> {
        let answers = write_together(&self.db, self.sqlite, &self.cluster, ops).await?;
        for answer in &answers {
            register_pre_claimed(&self.pre_claims, answer);
        }
        Ok(answers)
    }

    async fn write_alone(&self, op: Op) -> StoreResult<Done> {
        let answer = write_alone(&self.db, self.sqlite, &self.cluster, op).await?;
        register_pre_claimed(&self.pre_claims, &answer);
        Ok(answer)
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
    cluster: &ClusterHandle,
    ops: Vec<Op>,
) -> StoreResult<Vec<Done>> {
    let now = Utc::now();
    let txn = begin_write_on(db, sqlite).await?;
    // First, as the transaction's first lock: the owner rows its completions and claims act on, held until
    // the commit, so no takeover can commit in between.
    let fenced = fence(&txn, cluster.get(), |partitions| {
        acting_on(&ops, partitions)
    })
    .await?;
    let answers = if ids_repeat(&ops) {
        // Two writes of one row (never seen in practice): each in arrival order, so neither sees the other's
        // row in a state the one-by-one writes could not produce.
        let mut answers = Vec::with_capacity(ops.len());
        for op in ops {
            answers.extend(write_merged(&txn, vec![op], now, &fenced).await?);
        }
        answers
    } else {
        write_merged(&txn, ops, now, &fenced).await?
    };
    txn.commit().await?;
    Ok(answers)
}

/// One write on its own: a completion in its own transaction, a single statement as it is (autocommit),
/// except a claim under a fence, which needs the transaction that holds the owner row.
async fn write_alone(
    db: &DatabaseConnection,
    sqlite: bool,
    cluster: &ClusterHandle,
    op: Op,
) -> StoreResult<Done> {
    let fenced_claim =
        matches!(op, Op::MarkSending(..)) && cluster.get().is_some_and(|o| o.fences());
    let mut answers = match op {
        Op::Complete(_) => write_together(db, sqlite, cluster, vec![op]).await?,
        _ if fenced_claim => write_together(db, sqlite, cluster, vec![op]).await?,
        _ => write_merged(db, vec![op], Utc::now(), &Fenced::default()).await?,
    };
    Ok(answers.pop().expect("one answer per op"))
}

/// The partitions `ops` act on as owners (completions and part claims), with the kind of write.
fn acting_on(ops: &[Op], partitions: u16) -> BTreeSet<(Partition, FencedOp)> {
    let mut acting = BTreeSet::new();
    for op in ops {
        match op {
            Op::Complete(group) => acting.extend(
                group
                    .iter()
                    .map(|c| (Partition::of(&c.user, partitions), FencedOp::Complete)),
            ),
            Op::MarkSending(_, partition) => {
                acting.insert((*partition, FencedOp::Claim));
            }
            _ => {}
        }
    }
    acting
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
            Op::MarkSending(id, _) | Op::MarkSent(id, _) => parts.insert(*id),
            Op::Touch(user, _) => users.insert(user.as_str()),
        };
        if !fresh {
            return true;
        }
    }
    false
}

/// The writes of `ops` with one statement per kind of write, not one per write: every statement is a round
/// trip (on SQLite to the connection's thread), and a batch of 40 messages' writes made ~100 of them. No two
/// ops may touch the same row ([`ids_repeat`]). Kinds are written in pipeline order:
/// users seen, attempts, completions, claims, results.
async fn write_merged<C: ConnectionTrait>(
    conn: &C,
    ops: Vec<Op>,
    now: DateTime<Utc>,
    fenced: &Fenced,
) -> StoreResult<Vec<Done>> {
    let mut touched = Vec::new();
    let mut attempts = Vec::new();
    let mut claims = Vec::new();
    let mut results = Vec::new();
    let mut completions = Vec::new();
    let mut groups = Vec::new();
    for op in &ops {
        match op {
            Op::Touch(user, at) => touched.push((user.as_str(), *at)),
            Op::BeginAttempt(id) => attempts.push(*id),
            Op::MarkSending(id, partition) if !fenced.holds(*partition) => {}
            Op::MarkSending(id, _) => claims.push(*id),
            Op::MarkSent(id, message_id) => results.push((*id, message_id.as_deref())),
            Op::Complete(group) if !fenced.holds_all(group) => {}
            Op::Complete(group) => {
                groups.push(group.len());
                completions.extend(group.iter());
            }
        }
    }
    if !touched.is_empty() {
        touch_users(conn, &touched).await?;
    }
    let mut attempt_of = if attempts.is_empty() {
        HashMap::new()
    } else {
        count_attempts(conn, &attempts).await?
    };
    let mut completed = if completions.is_empty() {
        Vec::new()
    } else {
        complete(conn, &completions, &groups, now, fenced).await?
    }
    .into_iter();
    let claimed = if claims.is_empty() {
        HashSet::new()
    } else {
        claim_parts(conn, &claims, now, fenced.is_on()).await?
    };
    if !results.is_empty() {
        record_sent(conn, &results, now).await?;
    }
    Ok(ops
        .iter()
        .map(|op| match op {
            Op::Touch(..) => Done::Recorded,
            Op::BeginAttempt(id) => Done::Attempt(attempt_of.remove(id)),
            Op::MarkSending(id, _) => Done::Claimed(claimed.contains(id)),
            Op::MarkSent(..) => Done::Recorded,
            Op::Complete(group) if !fenced.holds_all(group) => Done::Fenced,
            Op::Complete(_) => Done::Completed(completed.next().expect("one result per group")),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::inbox::tests::{event, stores, user_event};
    use super::*;
    use crate::domain::OutboundState;
    use crate::domain::UserId;
    use crate::pipeline::Outcome;
    use crate::store::{ChatLine, InboxInsert, Store};

    async fn inbox_id(store: &Store, key: &str) -> i64 {
        match store.insert_inbox(event(key)).await.unwrap() {
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
            outcome: Outcome::Llm,
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

    fn completed(done: &Done) -> &Completed {
        match done {
            Done::Completed(completed) => completed,
            other => panic!("expected a completion, got {other:?}"),
        }
    }

    /// A batch of completions writes every group (lines in history order, first parts claimed, each group's
    /// newest line before it); a group with an event handled already writes the rest and moves the orphaned
    /// reply. Completions racing for one event: exactly one writes it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_of_completions_writes_each_group_and_racing_ones_write_once() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let (db, sqlite) = (&store.writer, store.sqlite);
            let user = "7000000000000000401";
            let uid = UserId::parse(user).unwrap();
            let earlier = user_event(&store, "o-earlier", &uid).await;
            store
                .complete_event(completion(earlier, "o-earlier", user))
                .await
                .unwrap()
                .unwrap();
            let before = store.recent_history(&uid, 1).await.unwrap().newest;
            let a = user_event(&store, "o-a", &uid).await;
            let b = user_event(&store, "o-b", &uid).await;
            let other = UserId::parse("7000000000000000402").unwrap();
            let c = user_event(&store, "o-c", &other).await;
            let mut first = completion(a, "o-a", user);
            first.reply_parts = vec!["a0".into(), "a1".into()];
            let mut second = completion(b, "o-b", user);
            second.user_message = None;
            second.outcome = Outcome::Ignored;
            second.reply_parts.clear();
            let third = completion(c, "o-c", other.as_str());
            let answers = write_together(
                db,
                sqlite,
                &ClusterHandle::default(),
                vec![Op::Complete(vec![first, second]), Op::Complete(vec![third])],
            )
            .await
            .unwrap();
            assert_eq!(answers.len(), 2);
            let (mine, theirs) = (completed(&answers[0]), completed(&answers[1]));
            let history = mine.history.as_ref().unwrap();
            assert_eq!(history.newest_before, before);
            assert_eq!(
                history
                    .turns
                    .iter()
                    .map(|t| (t.from_user, t.content.as_str()))
                    .collect::<Vec<_>>(),
                [(true, "question o-a"), (false, "a0\na1")]
            );
            assert_eq!(
                store.recent_history(&uid, 10).await.unwrap().newest,
                history.newest_after
            );
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
            let parts = mine.parts[0].as_ref().unwrap();
            assert_eq!(
                parts
                    .iter()
                    .map(|p| (p.text.as_str(), p.part_index, p.part_count))
                    .collect::<Vec<_>>(),
                [("a0", 0, 2), ("a1", 1, 2)]
            );
            assert_eq!(mine.parts[1].as_deref(), Some(&[][..]), "handled, no reply");
            let outbound = store.outbound_for(&uid).await.unwrap();
            let state = |text: &str| {
                let row = outbound.iter().find(|r| r.text == text).unwrap();
                (row.id, row.state, row.attempts)
            };
            assert_eq!(state("a0"), (parts[0].id, OutboundState::Sending, 1));
            assert_eq!(state("a1"), (parts[1].id, OutboundState::Queued, 0));
            assert_eq!(theirs.history.as_ref().unwrap().newest_before, None);
            assert_eq!(store.pending_event_count().await.unwrap(), 0);

            // One event of the group handled already: the rest is written, with the orphaned reply.
            let d = user_event(&store, "o-d", &uid).await;
            let e = user_event(&store, "o-e", &uid).await;
            assert!(store.finish_event(d, Outcome::Ignored).await.unwrap());
            let mut skipped = completion(d, "o-d", user);
            skipped.reply_parts = vec!["moved".into()];
            let mut last = completion(e, "o-e", user);
            last.reply_parts.clear();
            let answers = write_together(
                db,
                sqlite,
                &ClusterHandle::default(),
                vec![Op::Complete(vec![skipped, last])],
            )
            .await
            .unwrap();
            let done = completed(&answers[0]);
            assert!(done.parts[0].is_none());
            assert_eq!(done.parts[1].as_ref().unwrap()[0].text, "moved");
            assert_eq!(store.pending_event_count().await.unwrap(), 0);

            // Racing completions of one event.
            for round in 0..10 {
                let key = format!("o-race-{round}");
                let id = user_event(&store, &key, &uid).await;
                let racers: Vec<_> = (0..4)
                    .map(|n| {
                        let db = db.clone();
                        let mut racer = completion(id, &key, user);
                        racer.reply_parts = vec![format!("racer {n}")];
                        tokio::spawn(async move {
                            write_together(
                                &db,
                                sqlite,
                                &ClusterHandle::default(),
                                vec![Op::Complete(vec![racer])],
                            )
                            .await
                        })
                    })
                    .collect();
                let mut written = 0;
                for racer in racers {
                    let answers = racer.await.unwrap().unwrap();
                    if completed(&answers[0]).parts[0].is_some() {
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
            let id = user_event(&store, "m-held", &uid).await;
            let mut held = completion(id, "m-held", user);
            held.reply_parts = vec!["x0".into(), "x1".into()];
            let parts = store.complete_event(held).await.unwrap().unwrap();
            let queued = |store: &Store| {
                let store = store.clone();
                async move {
                    let parts = store.queued_outbound(10, None).await.unwrap();
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
            assert!(
                store
                    .mark_sending(parts[0].id, &parts[0].user)
                    .await
                    .unwrap()
            );
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
            let earlier = user_event(&store, "m-earlier", &uid).await;
            let mut old = completion(earlier, "m-earlier", user);
            old.reply_parts = vec!["p0".into(), "p1".into(), "p2".into(), "p3".into()];
            let parts = store.complete_event(old).await.unwrap().unwrap();
            assert!(
                store.take_pre_claimed(parts[0].id),
                "registered once committed"
            );
            assert!(!store.take_pre_claimed(parts[1].id), "only the first part");
            assert!(
                !store
                    .mark_sending(parts[0].id, &parts[0].user)
                    .await
                    .unwrap()
            );
            assert!(
                store
                    .mark_sending(parts[2].id, &parts[2].user)
                    .await
                    .unwrap()
            );

            let attempted = user_event(&store, "m-attempted", &uid).await;
            let paused = chrono::DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc);
            store
                .pause_user(&uid, paused, "test", Utc::now())
                .await
                .unwrap();
            let before_batch = store.recent_history(&uid, 1).await.unwrap().newest.unwrap();
            let handled = user_event(&store, "m-handled", &uid).await;
            assert!(store.finish_event(handled, Outcome::Ignored).await.unwrap());
            let answered = user_event(&store, "m-answered", &uid).await;
            let merged = user_event(&store, "m-merged", &uid).await;
            let mut two_parts = completion(answered, "m-answered", user);
            two_parts.reply_parts = vec!["a".into(), "b".into()];
            let mut skipped = completion(handled, "m-handled", user);
            skipped.reply_parts = vec!["moved".into()];
            let mut last = completion(merged, "m-merged", user);
            last.reply_parts.clear();
            last.outcome = Outcome::LlmMerged;
            let newcomer = UserId::parse("7000000000000000202").unwrap();

            let ops = vec![
                Op::Touch(newcomer.clone(), Utc::now()),
                Op::BeginAttempt(attempted),
                Op::MarkSending(parts[1].id, Partition::of(&parts[1].user, 256)),
                Op::Complete(vec![two_parts]),
                Op::Complete(vec![skipped, last]),
                Op::MarkSending(parts[2].id, Partition::of(&parts[2].user, 256)),
                Op::MarkSent(parts[3].id, Some("zid-3".into())),
            ];
            assert!(!ids_repeat(&ops), "the merged path");
            let answers = write_together(db, sqlite, &ClusterHandle::default(), ops)
                .await
                .unwrap();
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
            let pending = store.pending_events(None, 0, 10, None).await.unwrap();
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
                &ClusterHandle::default(),
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
}
