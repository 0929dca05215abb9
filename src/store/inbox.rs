//! The webhook inbox: events persisted before the webhook answers, their attempts, and their completion.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::inbox_events;
use super::group_commit::pipeline::{Done, Op};
use super::{
    Attempt, Completed, Completion, InboxInsert, NewInboxEvent, PendingEvent, QueuedOutbound,
    Store, StoreError, StoreResult,
};
use crate::domain::{Partition, UserId};
use crate::pipeline::Outcome;

impl Store {
    /// Persists a webhook event; a second delivery of the same key is a no-op decided by the unique index.
    /// Returns only after the event's transaction committed. Concurrent calls share one transaction (group
    /// commit, `group_commit::inbox`), so the webhook's throughput is not one commit per request.
    pub async fn insert_inbox(&self, event: NewInboxEvent) -> StoreResult<InboxInsert> {
        self.inbox.write(event).await
    }

    /// Unhandled events with an id above `after_id`, received before `received_before` (any time when
    /// None), in `partitions` (all when None), oldest first: one page of at most `limit`.
    pub async fn pending_events(
        &self,
        received_before: Option<DateTime<Utc>>,
        after_id: i64,
        limit: u64,
        partitions: Option<&[Partition]>,
    ) -> StoreResult<Vec<PendingEvent>> {
        let mut query = inbox_events::Entity::find()
            .filter(inbox_events::Column::HandledAt.is_null())
            .filter(inbox_events::Column::Id.gt(after_id));
        if let Some(partitions) = partitions {
            query = query.filter(
                inbox_events::Column::Partition.is_in(partitions.iter().map(|p| p.as_i16())),
            );
        }
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

    /// Unhandled events of `user` with an id below `before`, oldest first. Reads through the partition's
    /// index of pending events, so it stays cheap however many other users wait.
    pub async fn pending_events_of_user_before(
        &self,
        user: &UserId,
        partition: Partition,
        before: i64,
    ) -> StoreResult<Vec<PendingEvent>> {
        let rows = inbox_events::Entity::find()
            .filter(inbox_events::Column::HandledAt.is_null())
            .filter(inbox_events::Column::Partition.eq(partition.as_i16()))
            .filter(inbox_events::Column::Id.lt(before))
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
    pub async fn finish_event(&self, inbox_id: i64, outcome: Outcome) -> StoreResult<bool> {
        let txn = self.begin_write().await?;
        let done = mark_handled(&txn, inbox_id, outcome).await?;
        txn.commit().await?;
        Ok(done)
    }

    /// Marks many events handled without a reply in one statement (receipts and other events that need no
    /// answer, closed by intake in batches). Returns how many were still open.
    pub async fn finish_events(&self, inbox_ids: &[i64], outcome: Outcome) -> StoreResult<u64> {
        let mut closed = 0;
        for chunk in inbox_ids.chunks(500) {
            let updated = inbox_events::Entity::update_many()
                .col_expr(inbox_events::Column::HandledAt, Expr::value(Utc::now()))
                .col_expr(inbox_events::Column::Outcome, Expr::value(outcome.as_str()))
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
            // An error, not "handled already": the conversation fails and its restart re-reads the user's
            // pending events, which this replica handles again if it still owns them.
            Done::Fenced => Err(StoreError(sea_orm::DbErr::Custom(
                "completion fenced: this replica does not hold the user's partition".into(),
            ))),
            _ => unreachable!("completions are answered with their results"),
        }
    }
}

fn pending_from(row: inbox_events::Model) -> PendingEvent {
    PendingEvent {
        id: row.id,
        event_key: row.event_key,
        payload: row.payload,
        attempts: row.attempts,
    }
}

/// `UPDATE … SET handled_at = now WHERE id = ? AND handled_at IS NULL`: the database decides who handled it.
pub(super) async fn mark_handled(
    txn: &DatabaseTransaction,
    inbox_id: i64,
    outcome: Outcome,
) -> StoreResult<bool> {
    let updated = inbox_events::Entity::update_many()
        .col_expr(inbox_events::Column::HandledAt, Expr::value(Utc::now()))
        .col_expr(inbox_events::Column::Outcome, Expr::value(outcome.as_str()))
        .filter(inbox_events::Column::Id.eq(inbox_id))
        .filter(inbox_events::Column::HandledAt.is_null())
        .exec(txn)
        .await?;
    Ok(updated.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::store::group_commit::inbox::tests::{event, stores};

    /// Pending events are read oldest first, a page at a time by id, all of them or one user's; a replay
    /// counts its attempt on from the live delivery's.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pending_events_page_by_id_and_per_user() {
        let dir = tempfile::tempdir().unwrap();
        // SQLite first, then PostgreSQL when there is one.
        for (backend, store) in stores(&dir).await.into_iter().enumerate() {
            let postgres = backend == 1;
            let user = UserId::parse("7000000000000000701").unwrap();
            assert_eq!(store.oldest_pending_received_at().await.unwrap(), None);
            let mut ids = Vec::new();
            for n in 0..5 {
                let new = NewInboxEvent {
                    user_id: (n % 2 == 0).then(|| user.clone()),
                    ..event(&format!("pending-{n}"))
                };
                let InboxInsert::Inserted { id, first_attempt } =
                    store.insert_inbox(new).await.unwrap()
                else {
                    panic!("a new event");
                };
                // On PostgreSQL the insert tells the user's second and third events from the first.
                let older = first_attempt.unwrap().older_pending;
                assert_eq!(older, postgres && n >= 2 && n % 2 == 0, "event {n}");
                ids.push(id);
            }
            let of = |events: Vec<PendingEvent>| events.iter().map(|e| e.id).collect::<Vec<_>>();
            let first = store.pending_events(None, 0, 2, None).await.unwrap();
            assert_eq!(first[0].event_key, "pending-0");
            assert_eq!(first[0].attempts, 1, "the live delivery");
            assert_eq!(of(first), ids[..2]);
            let rest = store.pending_events(None, ids[1], 10, None).await.unwrap();
            assert_eq!(of(rest), ids[2..]);
            let an_hour_ago = Utc::now() - TimeDelta::hours(1);
            assert!(
                store
                    .pending_events(Some(an_hour_ago), 0, 10, None)
                    .await
                    .unwrap()
                    .is_empty(),
                "all received since"
            );
            let mine = store.pending_events_for_user(&user).await.unwrap();
            assert_eq!(of(mine), [ids[0], ids[2], ids[4]]);
            let partition = Partition::of(&user, crate::domain::DEFAULT_PARTITIONS);
            let older = store
                .pending_events_of_user_before(&user, partition, ids[4])
                .await
                .unwrap();
            assert_eq!(of(older), [ids[0], ids[2]], "older than the given id only");
            assert_eq!(store.pending_event_count().await.unwrap(), 5);
            assert!(store.oldest_pending_received_at().await.unwrap().is_some());

            let replay = store.begin_attempt(ids[3]).await.unwrap().unwrap();
            assert_eq!(replay.number, 2);
            let again = store.pending_events(None, ids[2], 1, None).await.unwrap();
            assert_eq!(again[0].attempts, 2);
        }
    }
}
