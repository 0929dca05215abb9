//! The pipeline's writes other than completions, one statement per kind of write for a whole batch.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait, Set};

use crate::domain::OutboundState;
use crate::store::entities::{inbox_events, outbound_messages, zalo_users};
use crate::store::{Attempt, StoreResult};

/// Records users' interactions, each at its own time (creating their rows on first contact): one upsert.
pub(super) async fn touch_users<C: ConnectionTrait>(
    conn: &C,
    users: &[(&str, DateTime<Utc>)],
) -> StoreResult<()> {
    let rows = users.iter().map(|(user, at)| zalo_users::ActiveModel {
        zalo_user_id: Set(user.to_string()),
        followed: Set(false),
        first_seen_at: Set(*at),
        last_seen_at: Set(*at),
        followed_at: Set(None),
        unfollowed_at: Set(None),
        alerts_opted_out_at: Set(None),
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
pub(super) async fn count_attempts<C: ConnectionTrait>(
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
                // A replay: intake routes replays in inbox order itself.
                older_pending: false,
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

pub(super) fn newest_message_of_event_user() -> Expr {
    Expr::cust(format!("{NEWEST_MESSAGE_OF_EVENT_USER} AS newest_message"))
}

/// Claims each part still queued: the ids claimed. `fenced`: the batch holds the parts' owner rows, whose
/// epochs the claims record.
pub(super) async fn claim_parts<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
    now: DateTime<Utc>,
    fenced: bool,
) -> StoreResult<HashSet<i64>> {
    let mut update = outbound_messages::Entity::update_many();
    if fenced {
        update = update.col_expr(
            outbound_messages::Column::ClaimEpoch,
            Expr::cust(
                "(SELECT epoch FROM partition_owners \
                  WHERE partition_owners.partition = outbound_messages.partition)",
            ),
        );
    }
    let mut update = update
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
pub(super) async fn record_sent<C: ConnectionTrait>(
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
