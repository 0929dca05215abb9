//! Campaigns: the campaign, one recipient row per user it considered, and each targeted recipient's one
//! outbound part. A recipient moves `pending → queued | skipped` by a conditional update in the transaction
//! that creates its part, so it gets at most one part however often, and by however many processes, the
//! queue is fed; the part itself is then claimed and sent like any other (`outbound`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::chat::insert_message;
use super::entities::{campaign_recipients, campaigns, outbound_messages, zalo_users};
use super::{QueuedOutbound, Store, StoreResult};
use crate::domain::campaign::{RecipientState, SkipReason};
use crate::domain::{DEFAULT_PARTITIONS, OutboundState, Partition, UserId};

/// The `message_type` of a campaign message in the chat history.
const HISTORY_TYPE: &str = "campaign";
/// Recipient rows written per statement (SQLite caps a statement's bound values).
const INSERT_CHUNK: usize = 500;

/// What the audience decision needs to know of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserStanding {
    pub user: UserId,
    pub last_interaction: DateTime<Utc>,
    pub opted_out: bool,
    /// Unfollowed and not followed again since.
    pub unfollowed: bool,
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: i64,
    pub text: String,
    pub image_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A recipient still waiting for its message, with its user's standing now (None: the user's row is gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRecipient {
    pub id: i64,
    pub user: UserId,
    pub standing: Option<UserStanding>,
}

/// What became of a campaign's recipients, counted from their rows and their parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignCounts {
    /// Chosen when the campaign was created.
    pub targeted: u64,
    /// Waiting to be handed to the sender (at night, or behind the batch in flight).
    pub pending: u64,
    /// Skipped, by reason: at creation, or when their turn came.
    pub skipped: HashMap<SkipReason, u64>,
    /// Their parts, by state and Zalo's error code.
    pub parts: Vec<(OutboundState, Option<i64>, u64)>,
}

impl Store {
    /// Every known user, for a new campaign's audience.
    pub async fn user_standings(&self) -> StoreResult<Vec<UserStanding>> {
        let rows = zalo_users::Entity::find()
            .order_by_asc(zalo_users::Column::ZaloUserId)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().filter_map(standing_of).collect())
    }

    /// Stores a campaign and one recipient row per considered user (`None`: targeted, else skipped and why),
    /// in one transaction. The new campaign's id.
    pub async fn create_campaign(
        &self,
        text: &str,
        image_url: Option<&str>,
        recipients: &[(UserId, Option<SkipReason>)],
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let txn = self.begin_write().await?;
        let campaign = campaigns::ActiveModel {
            id: NotSet,
            text: Set(text.to_string()),
            image_url: Set(image_url.map(str::to_string)),
            created_at: Set(now),
            finished_at: Set(None),
        }
        .insert(&txn)
        .await?;
        for chunk in recipients.chunks(INSERT_CHUNK) {
            let rows = chunk.iter().map(|(user, skip)| {
                let state = match skip {
                    None => RecipientState::Pending,
                    Some(_) => RecipientState::Skipped,
                };
                campaign_recipients::ActiveModel {
                    id: NotSet,
                    campaign_id: Set(campaign.id),
                    zalo_user_id: Set(user.as_str().to_string()),
                    targeted: Set(skip.is_none()),
                    state: Set(state.as_str().to_string()),
                    skip_reason: Set(skip.map(|r| r.as_str().to_string())),
                    outbound_id: Set(None),
                    updated_at: Set(now),
                }
            });
            campaign_recipients::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(campaign.id)
    }

    pub async fn campaign(&self, id: i64) -> StoreResult<Option<Campaign>> {
        Ok(campaigns::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(campaign_of))
    }

    /// The newest `limit` campaigns, newest first (the console's list).
    pub async fn recent_campaigns(&self, limit: u64) -> StoreResult<Vec<Campaign>> {
        let rows = campaigns::Entity::find()
            .order_by_desc(campaigns::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(campaign_of).collect())
    }

    /// Campaigns not finished yet, oldest first.
    pub async fn open_campaigns(&self) -> StoreResult<Vec<Campaign>> {
        let rows = campaigns::Entity::find()
            .filter(campaigns::Column::FinishedAt.is_null())
            .order_by_asc(campaigns::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(campaign_of).collect())
    }

    /// Campaign parts handed to the sender and not sent yet (`queued` or `sending`), all campaigns.
    pub async fn campaign_parts_in_flight(&self) -> StoreResult<u64> {
        Ok(outbound_messages::Entity::find()
            .filter(outbound_messages::Column::CampaignId.is_not_null())
            .filter(outbound_messages::Column::State.is_in([
                OutboundState::Queued.as_str(),
                OutboundState::Sending.as_str(),
            ]))
            .count(&self.db)
            .await?)
    }

    /// Up to `limit` of a campaign's recipients still waiting, oldest first, with their users' standing now.
    pub async fn pending_recipients(
        &self,
        campaign: i64,
        limit: u64,
    ) -> StoreResult<Vec<PendingRecipient>> {
        let rows = campaign_recipients::Entity::find()
            .filter(campaign_recipients::Column::CampaignId.eq(campaign))
            .filter(campaign_recipients::Column::State.eq(RecipientState::Pending.as_str()))
            .order_by_asc(campaign_recipients::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let users: HashMap<String, UserStanding> = zalo_users::Entity::find()
            .filter(
                zalo_users::Column::ZaloUserId.is_in(rows.iter().map(|r| r.zalo_user_id.clone())),
            )
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(standing_of)
            .map(|s| (s.user.as_str().to_string(), s))
            .collect();
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let standing = users.get(&r.zalo_user_id).cloned();
                let user = UserId::parse(r.zalo_user_id).ok()?;
                Some(PendingRecipient {
                    id: r.id,
                    user,
                    standing,
                })
            })
            .collect())
    }

    /// Settles waiting recipients in one transaction: each one still `pending` becomes `skipped` (with its
    /// reason) or `queued` with its one part, `text` with the campaign's image. A recipient settled
    /// meanwhile (by another process) is left alone. The parts created, for the sender.
    pub async fn settle_recipients(
        &self,
        campaign: &Campaign,
        text: &str,
        settled: &[(i64, UserId, Option<SkipReason>)],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<QueuedOutbound>> {
        let txn = self.begin_write().await?;
        let mut parts = Vec::new();
        for (id, user, skip) in settled {
            let state = match skip {
                None => RecipientState::Queued,
                Some(_) => RecipientState::Skipped,
            };
            let claimed = campaign_recipients::Entity::update_many()
                .col_expr(
                    campaign_recipients::Column::State,
                    Expr::value(state.as_str()),
                )
                .col_expr(
                    campaign_recipients::Column::SkipReason,
                    Expr::value(skip.map(|r| r.as_str().to_string())),
                )
                .col_expr(campaign_recipients::Column::UpdatedAt, Expr::value(now))
                .filter(campaign_recipients::Column::Id.eq(*id))
                .filter(campaign_recipients::Column::State.eq(RecipientState::Pending.as_str()))
                .exec(&txn)
                .await?;
            if claimed.rows_affected != 1 || skip.is_some() {
                continue;
            }
            let part = outbound_messages::ActiveModel {
                id: NotSet,
                zalo_user_id: Set(user.as_str().to_string()),
                text: Set(text.to_string()),
                state: Set(OutboundState::Queued.as_str().to_string()),
                source_event_key: Set(None),
                part_index: Set(0),
                attempts: Set(0),
                zalo_message_id: Set(None),
                error_code: Set(None),
                error_message: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                campaign_id: Set(Some(campaign.id)),
                image_url: Set(campaign.image_url.clone()),
                partition: Set(Some(Partition::of(user, DEFAULT_PARTITIONS).as_i16())),
                claim_epoch: Set(None),
            }
            .insert(&txn)
            .await?;
            campaign_recipients::Entity::update_many()
                .col_expr(
                    campaign_recipients::Column::OutboundId,
                    Expr::value(part.id),
                )
                .filter(campaign_recipients::Column::Id.eq(*id))
                .exec(&txn)
                .await?;
            insert_message(&txn, user, text, false, HISTORY_TYPE, None, now).await?;
            parts.push(QueuedOutbound {
                id: part.id,
                user: user.clone(),
                text: part.text,
                source_event_key: None,
                part_index: 0,
                part_count: 1,
                campaign_id: part.campaign_id,
                image_url: part.image_url,
            });
        }
        txn.commit().await?;
        Ok(parts)
    }

    /// Marks a campaign finished (nothing pending, nothing in flight: the caller checked).
    pub async fn finish_campaign(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        campaigns::Entity::update_many()
            .col_expr(campaigns::Column::FinishedAt, Expr::value(now))
            .filter(campaigns::Column::Id.eq(id))
            .filter(campaigns::Column::FinishedAt.is_null())
            .exec(&self.writer)
            .await?;
        Ok(())
    }

    /// A campaign's recipients and parts, counted.
    pub async fn campaign_counts(&self, id: i64) -> StoreResult<CampaignCounts> {
        let recipients: Vec<(String, Option<String>, bool, i64)> =
            campaign_recipients::Entity::find()
                .select_only()
                .column(campaign_recipients::Column::State)
                .column(campaign_recipients::Column::SkipReason)
                .column(campaign_recipients::Column::Targeted)
                .column_as(campaign_recipients::Column::Id.count(), "n")
                .filter(campaign_recipients::Column::CampaignId.eq(id))
                .group_by(campaign_recipients::Column::State)
                .group_by(campaign_recipients::Column::SkipReason)
                .group_by(campaign_recipients::Column::Targeted)
                .into_tuple()
                .all(&self.db)
                .await?;
        let mut counts = CampaignCounts::default();
        for (state, reason, targeted, n) in recipients {
            let n = u64::try_from(n).unwrap_or(0);
            if targeted {
                counts.targeted += n;
            }
            match RecipientState::parse(&state) {
                Some(RecipientState::Pending) => counts.pending += n,
                Some(RecipientState::Skipped) => {
                    if let Some(reason) = reason.as_deref().and_then(SkipReason::parse) {
                        *counts.skipped.entry(reason).or_default() += n;
                    }
                }
                Some(RecipientState::Queued) | None => {}
            }
        }
        let parts: Vec<(String, Option<i64>, i64)> = outbound_messages::Entity::find()
            .select_only()
            .column(outbound_messages::Column::State)
            .column(outbound_messages::Column::ErrorCode)
            .column_as(outbound_messages::Column::Id.count(), "n")
            .filter(outbound_messages::Column::CampaignId.eq(id))
            .group_by(outbound_messages::Column::State)
            .group_by(outbound_messages::Column::ErrorCode)
            .into_tuple()
            .all(&self.db)
            .await?;
        counts.parts = parts
            .into_iter()
            .filter_map(|(state, code, n)| {
                Some((OutboundState::parse(&state)?, code, u64::try_from(n).ok()?))
            })
            .collect();
        Ok(counts)
    }

    /// Records that `user` wants campaigns (`false`) or not (`true`), creating their row if need be.
    pub async fn set_alerts_opt_out(
        &self,
        user: &UserId,
        opted_out: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let model = zalo_users::ActiveModel {
            zalo_user_id: Set(user.as_str().to_string()),
            followed: Set(false),
            first_seen_at: Set(now),
            last_seen_at: Set(now),
            followed_at: Set(None),
            unfollowed_at: Set(None),
            alerts_opted_out_at: Set(opted_out.then_some(now)),
        };
        zalo_users::Entity::insert(model)
            .on_conflict(
                OnConflict::column(zalo_users::Column::ZaloUserId)
                    .update_column(zalo_users::Column::AlertsOptedOutAt)
                    .to_owned(),
            )
            .exec_without_returning(&self.writer)
            .await?;
        Ok(())
    }
}

fn standing_of(row: zalo_users::Model) -> Option<UserStanding> {
    Some(UserStanding {
        user: UserId::parse(row.zalo_user_id).ok()?,
        last_interaction: row.last_seen_at,
        opted_out: row.alerts_opted_out_at.is_some(),
        unfollowed: !row.followed && row.unfollowed_at.is_some(),
    })
}

fn campaign_of(row: campaigns::Model) -> Campaign {
    Campaign {
        id: row.id,
        text: row.text,
        image_url: row.image_url,
        created_at: row.created_at,
        finished_at: row.finished_at,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::store::group_commit::inbox::tests::stores;

    /// A recipient is settled once: a second settle of the same rows (another feeder, a retry) queues
    /// nothing; the counts follow the rows and their parts; an opt-out is kept on the user.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_recipient_gets_one_part_however_often_it_is_settled() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let now = Utc::now();
            let users: Vec<UserId> = (0..3)
                .map(|i| UserId::parse(format!("700000000000000090{i}")).unwrap())
                .collect();
            for user in &users {
                store
                    .touch_user(user, now - Duration::hours(1))
                    .await
                    .unwrap();
            }
            store
                .set_alerts_opt_out(&users[2], true, now)
                .await
                .unwrap();
            let standings = loop {
                let standings = store.user_standings().await.unwrap();
                if standings.len() == 3 {
                    break standings;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            };
            assert_eq!(
                standings.iter().map(|s| s.opted_out).collect::<Vec<_>>(),
                [false, false, true]
            );
            assert!(standings.iter().all(|s| !s.unfollowed));
            let recipients = vec![
                (users[0].clone(), None),
                (users[1].clone(), None),
                (users[2].clone(), Some(SkipReason::OptedOut)),
            ];
            let id = store
                .create_campaign(
                    "Cảnh báo",
                    Some("https://cdn.example.vn/a.jpg"),
                    &recipients,
                    now,
                )
                .await
                .unwrap();
            let campaign = store.campaign(id).await.unwrap().unwrap();
            let pending = store.pending_recipients(id, 10).await.unwrap();
            assert_eq!(pending.len(), 2);
            let settled: Vec<_> = pending
                .iter()
                .zip([None, Some(SkipReason::OutsideWindow)])
                .map(|(p, skip)| (p.id, p.user.clone(), skip))
                .collect();
            let parts = store
                .settle_recipients(&campaign, "Cảnh báo!", &settled, now)
                .await
                .unwrap();
            assert_eq!(parts.len(), 1);
            assert_eq!(parts[0].campaign_id, Some(id));
            assert_eq!(
                parts[0].image_url.as_deref(),
                Some("https://cdn.example.vn/a.jpg")
            );
            let again = store
                .settle_recipients(&campaign, "Cảnh báo!", &settled, now)
                .await
                .unwrap();
            assert!(again.is_empty(), "settled once");
            assert!(store.pending_recipients(id, 10).await.unwrap().is_empty());
            assert_eq!(store.campaign_parts_in_flight().await.unwrap(), 1);
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
            store
                .mark_unsent(parts[0].id, OutboundState::Failed, Some(-230), "window")
                .await
                .unwrap();
            let counts = store.campaign_counts(id).await.unwrap();
            assert_eq!(counts.targeted, 2);
            assert_eq!(counts.pending, 0);
            assert_eq!(
                counts.skipped,
                HashMap::from([(SkipReason::OptedOut, 1), (SkipReason::OutsideWindow, 1)])
            );
            assert_eq!(counts.parts, [(OutboundState::Failed, Some(-230), 1)]);
            assert_eq!(store.open_campaigns().await.unwrap().len(), 1);
            assert_eq!(
                store.recent_campaigns(5).await.unwrap(),
                vec![campaign.clone()]
            );
            store.finish_campaign(id, now).await.unwrap();
            assert!(store.open_campaigns().await.unwrap().is_empty());

            store
                .set_alerts_opt_out(&users[2], false, now)
                .await
                .unwrap();
            let standings = store.user_standings().await.unwrap();
            assert!(standings.iter().all(|s| !s.opted_out), "opted back in");
        }
    }

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
