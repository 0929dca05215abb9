//! The chat: users seen and followed, the history of both sides, messages from OA admins, and the handoff
//! pauses they start.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entities::{handoff_pauses, zalo_messages, zalo_users};
use super::group_commit::pipeline::Op;
use super::inbox::mark_handled;
use super::{History, Store, StoreResult, StoredMessage};
use crate::domain::{HistoryTurn, UserId};
use crate::pipeline::Outcome;

/// Users.
impl Store {
    /// Records a user's interaction at `at` (creating the row on first contact), without waiting for the
    /// commit: the write is queued with the pipeline's (so it commits with or before the writes queued after
    /// it) and a failure is logged by the writer. No answer depends on it, so no message waits for it (waiting
    /// for it made a new user's answer about 50 % slower). `last_seen_at` is the last interaction that opens
    /// Zalo's customer-service window, which decides who gets a campaign.
    pub async fn touch_user(&self, user: &UserId, at: DateTime<Utc>) -> StoreResult<()> {
        self.pipeline.queue(Op::Touch(user.clone(), at)).await
    }

    /// Records a follow (`true`) or unfollow (`false`) at `now`, which is also an interaction (creating the row
    /// on first contact).
    pub async fn record_follow(
        &self,
        user: &UserId,
        followed: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let model = zalo_users::ActiveModel {
            zalo_user_id: Set(user.as_str().to_string()),
            followed: Set(followed),
            first_seen_at: Set(now),
            last_seen_at: Set(now),
            followed_at: Set(followed.then_some(now)),
            unfollowed_at: Set((!followed).then_some(now)),
            alerts_opted_out_at: Set(None),
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
}

/// The history, and the messages OA admins send.
impl Store {
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
        if !mark_handled(&txn, inbox_id, Outcome::AdminEcho).await? {
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
}

/// Human handoff pauses.
impl Store {
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

pub(super) async fn insert_message<C: ConnectionTrait>(
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

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::store::group_commit::inbox::tests::{event, stores};
    use crate::store::{InboxInsert, NewInboxEvent};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_follow_and_an_unfollow_are_recorded_for_a_user_seen() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let user = UserId::parse("7000000000000000501").unwrap();
            assert_eq!(
                store.user_followed(&user).await.unwrap(),
                None,
                "never seen"
            );
            store.record_follow(&user, true, Utc::now()).await.unwrap();
            assert_eq!(store.user_followed(&user).await.unwrap(), Some(true));
            store.record_follow(&user, false, Utc::now()).await.unwrap();
            assert_eq!(store.user_followed(&user).await.unwrap(), Some(false));
        }
    }

    /// A pause silences the bot until it ends or is cleared; an OA admin's message pauses its user in the
    /// transaction that records it and closes its event, once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pause_ends_or_is_cleared_and_an_admin_message_pauses_once() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let user = UserId::parse("7000000000000000502").unwrap();
            let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
            let until = now + TimeDelta::seconds(600);
            assert_eq!(store.paused_until(&user, now).await.unwrap(), None);
            store.pause_user(&user, until, "test", now).await.unwrap();
            assert_eq!(store.paused_until(&user, now).await.unwrap(), Some(until));
            assert_eq!(
                store.paused_until(&user, until).await.unwrap(),
                None,
                "over"
            );
            assert_eq!(
                store.active_pauses(now).await.unwrap(),
                [(user.as_str().to_string(), until, "test".to_string())]
            );
            assert!(store.clear_pause(&user).await.unwrap());
            assert!(!store.clear_pause(&user).await.unwrap(), "none left");

            let echo = NewInboxEvent {
                user_id: Some(user.clone()),
                ..event("admin-echo")
            };
            let InboxInsert::Inserted { id, .. } = store.insert_inbox(echo).await.unwrap() else {
                panic!("a new event");
            };
            for expected in [true, false] {
                let recorded = store
                    .record_admin_message(&user, "Chào bạn", "admin-echo", id, until, now)
                    .await
                    .unwrap();
                assert_eq!(recorded, expected, "its event is handled once");
            }
            assert_eq!(store.paused_until(&user, now).await.unwrap(), Some(until));
            assert_eq!(store.pending_event_count().await.unwrap(), 0);
            let lines = store.messages_for(&user).await.unwrap();
            assert_eq!(
                lines
                    .iter()
                    .map(|m| (m.content.as_str(), m.is_from_user, m.message_type.as_str()))
                    .collect::<Vec<_>>(),
                [("Chào bạn", false, "admin")]
            );
            let history = store.recent_history(&user, 5).await.unwrap();
            assert_eq!(history.turns.len(), 1);
            assert!(history.newest.is_some());
        }
    }
}
