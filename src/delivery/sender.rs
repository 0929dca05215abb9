//! Sends one part: claims its row, sends with retries under the app-wide rate limit (Zalo allows 4,000 calls
//! per minute per app), records the result and publishes it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::broadcast;

use super::result::{NextStep, Requeue, SendResult, next_step};
use super::{Delivery, OutboundEvent, TokenSource};
use crate::clock::SharedClock;
use crate::cluster::Ownership;
use crate::config::Settings;
use crate::domain::OutboundState;
use crate::domain::campaign::CampaignSend;
use crate::store::{QueuedOutbound, Store, StoreError};
use crate::telemetry;
use crate::zalo::api::ZaloApi;

/// How long a known send result is retried against an unavailable database before it is given up.
const RECORD_PATIENCE: Duration = Duration::from_secs(120);

/// Delivers one part: claims its row, sends with retries, records the outcome, publishes an event.
pub struct PartSender<T> {
    store: Store,
    api: ZaloApi,
    delivery: Delivery,
    /// Zalo's app-wide rate, and this replica's share of it as the limiter was last built for.
    rate_per_minute: std::num::NonZeroU32,
    limiter: Mutex<(u32, Arc<DefaultDirectRateLimiter>)>,
    max_retries: u32,
    retry_base: Duration,
    tokens: T,
    events: broadcast::Sender<OutboundEvent>,
    /// Tells the night, when campaign parts wait.
    clock: SharedClock,
    /// In a cluster: a part is sent only while this replica trusts its lease on the user's partition, and the
    /// app-wide rate is split by owned share.
    ownership: Option<Ownership>,
}

impl<T: TokenSource> PartSender<T> {
    pub fn new(
        store: Store,
        http: reqwest::Client,
        settings: &Settings,
        delivery: Delivery,
        events: broadcast::Sender<OutboundEvent>,
        tokens: T,
    ) -> Self {
        let outbound = &settings.outbound;
        Self {
            store,
            api: ZaloApi::new(
                http,
                settings.zalo.api_url.clone(),
                outbound.request_timeout,
            ),
            delivery,
            rate_per_minute: outbound.rate_per_minute,
            limiter: Mutex::new((
                outbound.rate_per_minute.get(),
                Arc::new(RateLimiter::direct(Quota::per_minute(
                    outbound.rate_per_minute,
                ))),
            )),
            max_retries: outbound.max_retries,
            retry_base: outbound.retry_base,
            tokens,
            events,
            clock: crate::clock::system(),
            ownership: None,
        }
    }

    /// Sends only what this replica owns, at its share of the app-wide rate.
    #[must_use]
    pub fn with_ownership(mut self, ownership: Ownership) -> Self {
        self.ownership = Some(ownership).filter(Ownership::is_cluster);
        self
    }

    /// Whether this replica may send to `part`'s user now: always outside a cluster, else only while it
    /// trusts its lease on the user's partition.
    fn trusted(&self, part: &QueuedOutbound) -> bool {
        match &self.ownership {
            Some(ownership) if ownership.fences() => ownership
                .lease(ownership.partition_of(&part.user))
                .is_some(),
            _ => true,
        }
    }

    /// The rate limiter for this replica's current share (rebuilt when the share changed), so the replicas'
    /// sends together stay under Zalo's app-wide limit.
    fn limiter(&self) -> Arc<DefaultDirectRateLimiter> {
        let full = self.rate_per_minute.get();
        let rate = match &self.ownership {
            Some(ownership) => ((f64::from(full) * ownership.share()).ceil() as u32).clamp(1, full),
            None => full,
        };
        let mut current = self.limiter.lock().expect("limiter lock");
        if current.0 != rate {
            let quota = Quota::per_minute(std::num::NonZeroU32::new(rate).expect("at least 1"));
            *current = (rate, Arc::new(RateLimiter::direct(quota)));
        }
        current.1.clone()
    }

    /// The wall clock that tells when campaign parts must wait for the morning.
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Sends one part and returns its final state (None when another sender had already claimed it).
    pub async fn deliver(&self, part: QueuedOutbound) -> Option<OutboundState> {
        // Zalo refuses these at night: the part stays queued, and a resume after 06:00 sends it.
        if part.campaign_id.is_some() && crate::domain::time::is_quiet_hour(self.clock.now()) {
            return None;
        }
        // A reply's first part comes claimed by the commit that queued it (`Store::take_pre_claimed`).
        if !self.store.take_pre_claimed(part.id) {
            match self.store.mark_sending(part.id, &part.user).await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(err) => {
                    tracing::warn!(error = %err, "could not claim an outbound part; it stays queued");
                    return None;
                }
            }
        }
        // Past this replica's trust in its lease another one may own the user by now: the part was not sent,
        // so it goes back to the queue, for whoever owns it (a takeover has marked it ambiguous already).
        if !self.trusted(&part) {
            metrics::counter!(telemetry::OUTBOUND_ABANDONED).increment(1);
            let _ = self.store.requeue(part.id).await;
            return None;
        }
        let result = match self.delivery {
            Delivery::Console { print } => {
                if print {
                    // Under Docker stdout is a log: phone and account numbers are masked there.
                    println!(
                        "[bot → {}] {}",
                        part.user.short_hash(),
                        crate::reply::mask_numbers(&part.text)
                    );
                }
                count(&part, "console", CampaignSend::Sent);
                Ok(SendResult::Sent(None))
            }
            Delivery::Zalo => self.send_to_zalo(&part).await,
        };
        let result = match result {
            Ok(result) => result,
            Err(Requeue(reason)) => {
                tracing::warn!(reason = %reason, "outbound part re-queued");
                let _ = record_patiently("re-queue", || self.store.requeue(part.id)).await;
                return None;
            }
        };
        let (state, recorded) = match &result {
            SendResult::Sent(message_id) => (
                OutboundState::Sent,
                record_patiently("sent", || {
                    self.store.mark_sent(part.id, message_id.as_deref())
                })
                .await,
            ),
            SendResult::Unsent {
                state,
                code,
                message,
            } => {
                let (label, send) = if *state == OutboundState::Ambiguous {
                    ("ambiguous", CampaignSend::Ambiguous)
                } else {
                    ("failed", CampaignSend::Failed)
                };
                count(&part, label, send);
                if part.campaign_id.is_some() {
                    // Expected for some of a campaign's users (the window closed, a block): counted, not alarming.
                    tracing::warn!(user = %part.user.short_hash(), state = label, error = %message, "campaign message not delivered");
                } else {
                    tracing::error!(user = %part.user.short_hash(), state = label, error = %message, "outbound message not delivered");
                }
                (
                    *state,
                    record_patiently("unsent", || {
                        self.store.mark_unsent(part.id, *state, *code, message)
                    })
                    .await,
                )
            }
        };
        if let Err(err) = recorded {
            tracing::error!(error = %err, "could not record an outbound result; the part stays `sending` and becomes `ambiguous` at the next start");
        }
        let _ = self.events.send(OutboundEvent {
            user: part.user.clone(),
            text: part.text.clone(),
            source_event_key: part.source_event_key.clone(),
            part_index: part.part_index,
            part_count: part.part_count,
            state,
        });
        Some(state)
    }

    async fn send_to_zalo(&self, part: &QueuedOutbound) -> Result<SendResult, Requeue> {
        let Some(mut token) = self.tokens.current().await else {
            // The keeper may be restarting: the part goes back to the queue for the next resume.
            return Err(Requeue("no Zalo access token available right now".into()));
        };
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            self.limiter().until_ready().await;
            if !self.trusted(part) {
                metrics::counter!(telemetry::OUTBOUND_ABANDONED).increment(1);
                return Err(Requeue(
                    "this replica no longer trusts its lease on the user".into(),
                ));
            }
            let started = Instant::now();
            let result = match &part.image_url {
                Some(image) => {
                    self.api
                        .send_image(&token.token, part.user.as_str(), image, &part.text)
                        .await
                }
                None => {
                    self.api
                        .send_text(&token.token, part.user.as_str(), &part.text)
                        .await
                }
            };
            metrics::histogram!(telemetry::OUTBOUND_DURATION)
                .record(started.elapsed().as_secs_f64());
            let err = match result {
                Ok(sent) => {
                    count(part, "sent", CampaignSend::Sent);
                    return Ok(SendResult::Sent(sent.message_id));
                }
                Err(err) => err,
            };
            match next_step(err.class(), attempt, self.max_retries, refreshed) {
                NextStep::Retry => {
                    attempt += 1;
                    metrics::counter!(telemetry::OUTBOUND_SENDS, "result" => "retried")
                        .increment(1);
                    tracing::warn!(error = %err, attempt, "transient Zalo error; retrying");
                    tokio::time::sleep(backoff(self.retry_base, attempt)).await;
                }
                NextStep::RefreshToken => {
                    refreshed = true;
                    tracing::warn!(error = %err, "Zalo rejected the access token; retrying once with a fresh one");
                    match self.tokens.newer_than(&token).await {
                        Some(fresh) => token = fresh,
                        None => {
                            return Ok(SendResult::unsent(
                                OutboundState::Failed,
                                err.code(),
                                &err.to_string(),
                            ));
                        }
                    }
                }
                NextStep::GiveUp(state) => {
                    return Ok(SendResult::unsent(state, err.code(), &err.to_string()));
                }
            }
        }
    }
}

/// Counts a part's end: a reply's in the outbound metric, a campaign part's in the campaign metric only, so a
/// campaign's unreachable users do not look like failing replies to the alerts.
fn count(part: &QueuedOutbound, label: &'static str, campaign: CampaignSend) {
    if part.campaign_id.is_some() {
        metrics::counter!(telemetry::CAMPAIGN_SENDS, "result" => campaign.as_str()).increment(1);
    } else {
        metrics::counter!(telemetry::OUTBOUND_SENDS, "result" => label).increment(1);
    }
}

/// Writes a send's result, retrying while the database is unavailable (a restart, a failover): the result is
/// known now and cannot be learnt again, and a part left `sending` would have to become `ambiguous`.
async fn record_patiently<R, F, Fut>(what: &str, mut write: F) -> Result<R, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<R, StoreError>>,
{
    let deadline = Instant::now() + RECORD_PATIENCE;
    let mut delay = Duration::from_millis(100);
    loop {
        match write().await {
            Ok(value) => return Ok(value),
            Err(err) if Instant::now() + delay < deadline => {
                tracing::warn!(error = %err, what, "could not record an outbound result yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(err) => return Err(err),
        }
    }
}

/// Exponential backoff with up to 50% jitter.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << attempt.min(10));
    let jitter = rand::random_range(0.0..0.5);
    exp + exp.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::delivery::FixedToken;
    use crate::domain::UserId;
    use std::sync::Arc;

    /// A campaign part met at night (queued before 22:00, or resumed after a restart) stays queued, untouched,
    /// and goes once the morning comes; a reply is never held.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_campaign_part_waits_out_the_night_and_a_reply_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
        let settings = Settings::from_env_map([("DATABASE_URL".to_string(), url)].into()).unwrap();
        let store = Store::connect(&settings.database).await.unwrap();
        store.migrate().await.unwrap();
        let clock = ManualClock::starting_now();
        // 23:30 in Vietnam.
        let night = Utc.with_ymd_and_hms(2026, 12, 7, 16, 30, 0).unwrap();
        clock.advance(night - clock.now());
        let (events, _) = broadcast::channel(8);
        let sender = PartSender::new(
            store.clone(),
            reqwest::Client::new(),
            &settings,
            Delivery::Console { print: false },
            events,
            FixedToken(None),
        )
        .with_clock(Arc::new(clock.clone()));
        let user = UserId::parse("7000000000000000951").unwrap();
        let id = store
            .create_campaign("Cảnh báo", None, &[(user.clone(), None)], night)
            .await
            .unwrap();
        let campaign = store.campaign(id).await.unwrap().unwrap();
        let pending = store.pending_recipients(id, 1).await.unwrap();
        let part = store
            .settle_recipients(
                &campaign,
                "Cảnh báo",
                &[(pending[0].id, user.clone(), None)],
                night,
            )
            .await
            .unwrap()
            .remove(0);
        assert_eq!(sender.deliver(part.clone()).await, None, "held at night");
        assert_eq!(
            store.queued_outbound(10, None).await.unwrap().len(),
            1,
            "still queued"
        );
        let reply = store
            .enqueue_proactive(&user, &["chào".to_string()])
            .await
            .unwrap();
        assert_eq!(
            sender.deliver(reply[0].clone()).await,
            Some(OutboundState::Sent),
            "a reply goes at night"
        );
        clock.advance(chrono::Duration::hours(6) + chrono::Duration::minutes(30));
        assert_eq!(
            sender.deliver(part).await,
            Some(OutboundState::Sent),
            "06:00"
        );
    }

    #[test]
    fn backoff_doubles_per_attempt_with_up_to_half_again_of_jitter() {
        let base = Duration::from_millis(100);
        for (attempt, exp) in [(1, 200), (3, 800), (10, 102_400), (30, 102_400)] {
            let exp = Duration::from_millis(exp);
            let delay = backoff(base, attempt);
            assert!(
                delay >= exp && delay < exp.mul_f64(1.5),
                "{attempt}: {delay:?}"
            );
        }
    }
}
