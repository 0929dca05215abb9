//! Outcome notices on their way to their users: sent when the user's customer-service window is open
//! outside the quiet hours, kept waiting otherwise, and expired unsent when their time runs out (the rule
//! is [`crate::domain::notice::notice_step`]). Three moments look at them: right after the decision, when
//! the user writes again, and the outbound actor's periodic resume (the end of the quiet hours, expiry).

use chrono::{DateTime, Utc};

use crate::delivery::Dispatch;
use crate::domain::UserId;
use crate::domain::notice::{NoticeStatus, NoticeStep, notice_step};
use crate::reply::split::split_message;
use crate::store::{QueuedOutbound, Store, StoreError};
use crate::telemetry;

/// Waiting notices looked at per pass.
const PAGE: u64 = 500;

/// What a decision needs around it: the store, where queued notices are handed for sending (the outbound
/// actor; the CLI's `Deferred` leaves them to the running service), the time, and the part size.
pub struct Moderation<'a, D> {
    pub store: &'a Store,
    pub dispatch: &'a D,
    pub now: DateTime<Utc>,
    pub max_message_chars: usize,
}

/// Leaves queued notices in the database for the running service's outbound resume (the CLI).
pub struct Deferred;

impl Dispatch for Deferred {
    fn dispatch(&self, _parts: Vec<QueuedOutbound>) -> bool {
        false
    }
}

/// Sends or expires the waiting notices (of `user` only, when given) whose time has come; `wrote_at` is
/// an interaction the store may not have recorded yet (the message being handled). Returns how many
/// were sent.
pub async fn deliver_waiting<D: Dispatch>(
    cx: &Moderation<'_, D>,
    user: Option<&UserId>,
    wrote_at: Option<DateTime<Utc>>,
) -> Result<usize, StoreError> {
    let mut sent = 0;
    for notice in cx.store.waiting_notices(user, PAGE).await? {
        let last = notice.last_interaction.max(wrote_at);
        match notice_step(cx.now, notice.expires_at, last) {
            NoticeStep::Send => {
                let parts = split_message(&notice.text, cx.max_message_chars);
                let queued = cx.store.release_notice(&notice, &parts, cx.now).await?;
                if queued.is_empty() {
                    continue; // another pass sent it
                }
                sent += 1;
                count(NoticeStatus::Sent);
                tracing::info!(user = %notice.user.short_hash(), notice = notice.id, "outcome notice queued");
                cx.dispatch.dispatch(queued);
            }
            NoticeStep::Expire => {
                if cx.store.expire_notice(notice.id).await? {
                    count(NoticeStatus::Expired);
                    tracing::info!(user = %notice.user.short_hash(), notice = notice.id, "outcome notice expired unsent");
                }
            }
            NoticeStep::WaitUntil(_) | NoticeStep::WaitForUser => {}
        }
    }
    Ok(sent)
}

/// The user just wrote: their window is open again.
pub async fn on_user_message<D: Dispatch>(
    cx: &Moderation<'_, D>,
    user: &UserId,
) -> Result<usize, StoreError> {
    deliver_waiting(cx, Some(user), Some(cx.now)).await
}

/// Every waiting notice: the periodic pass.
pub async fn sweep<D: Dispatch>(cx: &Moderation<'_, D>) -> Result<usize, StoreError> {
    deliver_waiting(cx, None, None).await
}

fn count(status: NoticeStatus) {
    metrics::counter!(telemetry::MODERATION_NOTICES, "result" => status.as_str()).increment(1);
}
