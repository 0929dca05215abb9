//! Outbound reply parts: queued by a completion or an admin, claimed, sent or not, resumed after a crash.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::chat::insert_message;
use super::entities::outbound_messages;
use super::group_commit::pipeline::{Done, Op};
use super::{OutboundRecord, QueuedOutbound, Store, StoreResult};
use crate::domain::{DEFAULT_PARTITIONS, OutboundState, Partition, UserId};

impl Store {
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
    /// In a cluster, only while this replica holds `user`'s partition (fenced by its epoch).
    pub async fn mark_sending(&self, id: i64, user: &UserId) -> StoreResult<bool> {
        let partition = Partition::of(user, DEFAULT_PARTITIONS);
        match self.pipeline.write(Op::MarkSending(id, partition)).await? {
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

    /// Puts back to `queued` a part stored claimed that this process knows it never sent, retrying while
    /// the database is away (the lease is often lost with it), even when a takeover has meanwhile taken it
    /// for `ambiguous`: only this process knows the request was never made.
    pub async fn requeue_unsent(&self, id: i64) {
        for _ in 0..240 {
            let requeued = outbound_messages::Entity::update_many()
                .col_expr(
                    outbound_messages::Column::State,
                    Expr::value(OutboundState::Queued.as_str()),
                )
                .col_expr(
                    outbound_messages::Column::UpdatedAt,
                    Expr::value(Utc::now()),
                )
                .filter(outbound_messages::Column::Id.eq(id))
                .filter(outbound_messages::Column::State.is_in([
                    OutboundState::Sending.as_str(),
                    OutboundState::Ambiguous.as_str(),
                ]))
                .exec(&self.writer)
                .await;
            if requeued.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
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

    /// Queued parts in creation order (sent at start, after a crash), of users in `partitions` (all when
    /// None).
    pub async fn queued_outbound(
        &self,
        limit: u64,
        partitions: Option<&[Partition]>,
    ) -> StoreResult<Vec<QueuedOutbound>> {
        let mut query = outbound_messages::Entity::find()
            .filter(outbound_messages::Column::State.eq(OutboundState::Queued.as_str()));
        if let Some(partitions) = partitions {
            query = query.filter(
                outbound_messages::Column::Partition.is_in(partitions.iter().map(|p| p.as_i16())),
            );
        }
        let rows = query
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
}

fn queued_from(row: outbound_messages::Model) -> Option<QueuedOutbound> {
    Some(QueuedOutbound {
        id: row.id,
        user: UserId::parse(row.zalo_user_id).ok()?,
        text: row.text,
        source_event_key: row.source_event_key,
        part_index: row.part_index,
        part_count: 0,
        campaign_id: row.campaign_id,
        image_url: row.image_url,
    })
}

/// Records the bot's reply in the history and creates one queued outbound row per part.
pub(super) async fn queue_reply(
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
            campaign_id: Set(None),
            image_url: Set(None),
            partition: Set(Some(Partition::of(user, DEFAULT_PARTITIONS).as_i16())),
            claim_epoch: Set(None),
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
            campaign_id: None,
            image_url: None,
        });
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::group_commit::inbox::tests::stores;

    /// A part moves queued → sending (claimed once) → sent, or back to queued when it was not attempted, or to
    /// failed; a crash's `sending` parts become ambiguous; our own sends are recognised by Zalo's message id.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_part_is_claimed_once_and_ends_sent_failed_or_ambiguous() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let user = UserId::parse("7000000000000000601").unwrap();
            let texts = ["một", "hai", "ba"].map(str::to_string);
            let parts = store.enqueue_proactive(&user, &texts).await.unwrap();
            assert_eq!(
                parts
                    .iter()
                    .map(|p| (p.part_index, p.part_count))
                    .collect::<Vec<_>>(),
                [(0, 3), (1, 3), (2, 3)]
            );
            assert_eq!(
                store.queued_outbound(10, None).await.unwrap(),
                parts_resumed(&parts)
            );

            assert!(
                store
                    .mark_sending(parts[0].id, &parts[0].user)
                    .await
                    .unwrap()
            );
            assert!(
                !store
                    .mark_sending(parts[0].id, &parts[0].user)
                    .await
                    .unwrap(),
                "claimed once"
            );
            assert!(store.has_unconfirmed_part(&user, "một").await.unwrap());
            store.mark_sent(parts[0].id, Some("zid-1")).await.unwrap();
            assert!(!store.has_unconfirmed_part(&user, "một").await.unwrap());
            assert!(store.is_our_message("zid-1").await.unwrap());
            assert!(!store.is_our_message("zid-2").await.unwrap());

            assert!(
                store
                    .mark_sending(parts[1].id, &parts[1].user)
                    .await
                    .unwrap()
            );
            store.requeue(parts[1].id).await.unwrap();
            assert!(
                store
                    .mark_sending(parts[1].id, &parts[1].user)
                    .await
                    .unwrap(),
                "queued again"
            );
            store
                .mark_unsent(
                    parts[1].id,
                    OutboundState::Failed,
                    Some(-32),
                    "rate limited",
                )
                .await
                .unwrap();
            assert!(
                store
                    .mark_sending(parts[2].id, &parts[2].user)
                    .await
                    .unwrap()
            );
            assert_eq!(store.sending_to_ambiguous().await.unwrap(), 1);
            assert!(
                store.has_unconfirmed_part(&user, "ba").await.unwrap(),
                "an ambiguous part is unconfirmed"
            );

            let rows = store.outbound_for(&user).await.unwrap();
            assert_eq!(
                rows.iter()
                    .map(|r| (r.state, r.attempts))
                    .collect::<Vec<_>>(),
                [
                    (OutboundState::Sent, 1),
                    (OutboundState::Failed, 2),
                    (OutboundState::Ambiguous, 1)
                ]
            );
            assert_eq!(rows[0].zalo_message_id.as_deref(), Some("zid-1"));
            assert_eq!(rows[1].error_code, Some(-32));
            assert!(store.queued_outbound(10, None).await.unwrap().is_empty());
            let lines = store.messages_for(&user).await.unwrap();
            assert_eq!(
                lines
                    .iter()
                    .map(|m| (m.content.as_str(), m.message_type.as_str()))
                    .collect::<Vec<_>>(),
                [("một\nhai\nba", "proactive")]
            );
        }
    }

    /// Parts as the resume reads them back: their count unknown.
    fn parts_resumed(parts: &[QueuedOutbound]) -> Vec<QueuedOutbound> {
        parts
            .iter()
            .map(|p| QueuedOutbound {
                part_count: 0,
                ..p.clone()
            })
            .collect()
    }
}
