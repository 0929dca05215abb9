//! Outbound: sends queued reply parts to Zalo (or the console), one at a time per user so each user's
//! parts arrive in order, different users in parallel, all under one app-wide rate limit (Zalo allows
//! 4,000 calls per minute per app). Every part is a database row moving `queued → sending → sent | failed |
//! ambiguous`; parts still queued after a crash or restart are picked up again from the database. A reply's
//! first part arrives already `sending` (the pipeline's commit claimed it, `Store::take_pre_claimed`); one a
//! crashed predecessor held is released to `queued` by the resume.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use secrecy::SecretString;

use super::token_keeper::{AccessToken, TokenKeeperMsg};
use super::{Delivery, Deps, Directory, OutboundEvent, ask};
use crate::domain::{OutboundState, UserId};
use crate::faults::FaultPoint;
use crate::pipeline::Role;
use crate::store::{QueuedOutbound, Store};
use crate::telemetry;
use crate::zalo::api::{ErrorClass, ZaloApi};

const RESUME_PAGE: u64 = 1000;
/// Parts that could not be claimed (database hiccup) stay `queued`; a periodic resume picks them up.
const RESUME_INTERVAL: Duration = Duration::from_secs(30);
/// How long a graceful stop may take to finish the sends under way and those still queued.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

pub struct OutboundActor;

pub struct OutboundActorState {
    deps: Deps,
    sender: Arc<PartSender>,
    queues: HashMap<UserId, VecDeque<QueuedOutbound>>,
    busy: HashSet<UserId>,
    /// Deliveries in flight, awaited (with a deadline) when the actor stops, so a shutdown finishes them.
    in_flight: HashMap<i64, tokio::task::JoinHandle<()>>,
    /// Ids queued here or in flight, so a resume from the database does not take them twice.
    known: HashSet<i64>,
    /// Whether this actor's first resume ran: it releases every pre-claimed part not yet started (a
    /// predecessor that crashed may have held them), later ones only those that waited a whole interval.
    resumed: bool,
}

pub enum OutboundMsg {
    Enqueue(Vec<QueuedOutbound>),
    /// A user's in-flight part is done; start their next one.
    Finished {
        user: UserId,
        id: i64,
    },
    /// Load parts left queued in the database.
    Resume,
}

impl Directory {
    pub fn outbound(&self) -> Option<ActorRef<OutboundMsg>> {
        self.lookup(Role::Outbound)
    }
}

impl Actor for OutboundActor {
    type Msg = OutboundMsg;
    type State = OutboundActorState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Outbound);
        let sender = Arc::new(PartSender::new(
            &deps,
            TokenSource::Keeper(deps.directory.clone()),
        ));
        Ok(OutboundActorState {
            deps,
            sender,
            queues: HashMap::new(),
            busy: HashSet::new(),
            in_flight: HashMap::new(),
            known: HashSet::new(),
            resumed: false,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if state.deps.recovery {
            super::tell(Role::Outbound, &myself, OutboundMsg::Resume)?;
            super::send_interval_counted(Role::Outbound, &myself, RESUME_INTERVAL, || {
                OutboundMsg::Resume
            });
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // A graceful stop: let sends under way finish and record their result, then send what is still
        // queued here (each user's parts in order, users side by side), all within one deadline. Whatever
        // is left when it passes stays in the database: `queued` is resumed at the next start, and a send
        // cut off mid-flight stays `sending`, which the next start turns into `ambiguous`.
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        let pending: Vec<_> = state.in_flight.drain().map(|(_, h)| h).collect();
        let _ = tokio::time::timeout_at(deadline, futures_util::future::join_all(pending)).await;
        let flushes = std::mem::take(&mut state.queues)
            .into_values()
            .map(|queue| {
                let sender = state.sender.clone();
                async move {
                    for part in queue {
                        sender.deliver(part).await;
                    }
                }
            });
        let _ = tokio::time::timeout_at(deadline, futures_util::future::join_all(flushes)).await;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::Outbound);
        match msg {
            OutboundMsg::Enqueue(parts) => {
                state.deps.faults.trip(FaultPoint::Outbound);
                enqueue(&myself, state, parts);
            }
            OutboundMsg::Finished { user, id } => {
                state.in_flight.remove(&id);
                state.busy.remove(&user);
                state.known.remove(&id);
                start_next(&myself, state, &user);
            }
            OutboundMsg::Resume => {
                let age = if state.resumed {
                    RESUME_INTERVAL
                } else {
                    Duration::ZERO
                };
                state.resumed = true;
                match state.deps.store.release_pre_claimed(age).await {
                    Ok(0) => {}
                    Ok(released) => {
                        tracing::info!(
                            released,
                            "pre-claimed reply parts not sent yet released to the queue"
                        )
                    }
                    // They stay registered; the next resume tries again.
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot release pre-claimed reply parts yet")
                    }
                }
                let parts = match state.deps.store.queued_outbound(RESUME_PAGE).await {
                    Ok(parts) => parts,
                    Err(err) => {
                        // Queued parts are safe in the database; the next periodic resume tries again.
                        tracing::warn!(error = %err, "cannot read queued outbound messages yet");
                        return Ok(());
                    }
                };
                if !parts.is_empty() {
                    tracing::info!(count = parts.len(), "resuming queued outbound messages");
                }
                enqueue(&myself, state, parts);
            }
        }
        Ok(())
    }
}

fn enqueue(
    myself: &ActorRef<OutboundMsg>,
    state: &mut OutboundActorState,
    parts: Vec<QueuedOutbound>,
) {
    let mut users = Vec::new();
    for part in parts {
        if !state.known.insert(part.id) {
            continue;
        }
        if !users.contains(&part.user) {
            users.push(part.user.clone());
        }
        state
            .queues
            .entry(part.user.clone())
            .or_default()
            .push_back(part);
    }
    for user in users {
        start_next(myself, state, &user);
    }
}

fn start_next(myself: &ActorRef<OutboundMsg>, state: &mut OutboundActorState, user: &UserId) {
    if state.busy.contains(user) {
        return;
    }
    let Some(queue) = state.queues.get_mut(user) else {
        return;
    };
    let Some(part) = queue.pop_front() else {
        state.queues.remove(user);
        return;
    };
    if queue.is_empty() {
        state.queues.remove(user);
    }
    state.busy.insert(user.clone());
    let sender = state.sender.clone();
    let myself = myself.clone();
    let user = user.clone();
    let id = part.id;
    let handle = tokio::spawn(async move {
        // A panic inside one delivery must not leave this user marked busy forever.
        let _ = tokio::spawn(async move { sender.deliver(part).await }).await;
        // If this actor was restarted meanwhile, the message is dropped: the successor does not track
        // this user as busy, and the part's row is no longer `queued`, so nothing is sent twice.
        let _ = super::tell(Role::Outbound, &myself, OutboundMsg::Finished { user, id });
    });
    state.in_flight.insert(id, handle);
}

/// Where the access token comes from: the token keeper actor, or (for one-shot CLI sends) a fixed value.
#[derive(Clone)]
pub enum TokenSource {
    Keeper(Directory),
    Fixed(Option<SecretString>),
}

impl TokenSource {
    async fn current(&self) -> Option<AccessToken> {
        match self {
            TokenSource::Keeper(directory) => ask(
                || directory.token_keeper(),
                Role::TokenKeeper,
                TokenKeeperMsg::Get,
                Duration::from_secs(5),
            )
            .await
            .ok()
            .flatten(),
            TokenSource::Fixed(token) => {
                token.clone().map(|token| AccessToken { token, version: 0 })
            }
        }
    }

    /// Reports `rejected` to the keeper and returns a newer token, if one can be had (the keeper refreshes
    /// at most once however many senders report the same version).
    async fn newer_than(&self, rejected: &AccessToken) -> Option<AccessToken> {
        let TokenSource::Keeper(directory) = self else {
            return None;
        };
        let version = rejected.version;
        let fresh = ask(
            || directory.token_keeper(),
            Role::TokenKeeper,
            |reply| TokenKeeperMsg::Rejected { version, reply },
            Duration::from_secs(60),
        )
        .await
        .ok()
        .flatten()?;
        (fresh.version > version).then_some(fresh)
    }
}

/// Delivers one part: claims its row, sends with retries, records the outcome, publishes an event.
pub struct PartSender {
    store: Store,
    api: ZaloApi,
    delivery: Delivery,
    limiter: DefaultDirectRateLimiter,
    max_retries: u32,
    retry_base: Duration,
    tokens: TokenSource,
    events: tokio::sync::broadcast::Sender<OutboundEvent>,
}

impl PartSender {
    pub fn new(deps: &Deps, tokens: TokenSource) -> Self {
        let settings = &deps.settings.outbound;
        Self {
            store: deps.store.clone(),
            api: ZaloApi::new(
                deps.http.clone(),
                deps.settings.zalo.api_url.clone(),
                settings.request_timeout,
            ),
            delivery: deps.delivery,
            limiter: RateLimiter::direct(Quota::per_minute(settings.rate_per_minute)),
            max_retries: settings.max_retries,
            retry_base: settings.retry_base,
            tokens,
            events: deps.outbound_events.clone(),
        }
    }

    /// Sends one part and returns its final state (None when another sender had already claimed it).
    pub async fn deliver(&self, part: QueuedOutbound) -> Option<OutboundState> {
        // A reply's first part comes claimed by the commit that queued it (`Store::take_pre_claimed`).
        if !self.store.take_pre_claimed(part.id) {
            match self.store.mark_sending(part.id).await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(err) => {
                    tracing::warn!(error = %err, "could not claim an outbound part; it stays queued");
                    return None;
                }
            }
        }
        let outcome = match self.delivery {
            Delivery::Console { print } => {
                if print {
                    // Under Docker stdout is a log: phone and account numbers are masked there.
                    println!(
                        "[bot → {}] {}",
                        part.user.short_hash(),
                        crate::reply::mask_numbers(&part.text)
                    );
                }
                metrics::counter!(telemetry::OUTBOUND_SENDS, "result" => "console").increment(1);
                Outcome::Sent(None)
            }
            Delivery::Zalo => self.send_to_zalo(&part).await,
        };
        if let Outcome::Requeue(reason) = &outcome {
            tracing::warn!(reason = %reason, "outbound part re-queued");
            let _ = record_patiently("re-queue", || self.store.requeue(part.id)).await;
            return None;
        }
        let (state, recorded) = match &outcome {
            Outcome::Sent(message_id) => (
                OutboundState::Sent,
                record_patiently("sent", || {
                    self.store.mark_sent(part.id, message_id.as_deref())
                })
                .await,
            ),
            Outcome::Requeue(_) => unreachable!("handled above"),
            Outcome::Unsent {
                state,
                code,
                message,
            } => {
                let label = if *state == OutboundState::Ambiguous {
                    "ambiguous"
                } else {
                    "failed"
                };
                metrics::counter!(telemetry::OUTBOUND_SENDS, "result" => label).increment(1);
                tracing::error!(user = %part.user.short_hash(), state = label, error = %message, "outbound message not delivered");
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
}

/// How long a known send result is retried against an unavailable database before it is given up.
const RECORD_PATIENCE: Duration = Duration::from_secs(120);

/// Writes a send's result, retrying while the database is unavailable (a restart, a failover): the result is
/// known now and cannot be learnt again, and a part left `sending` would have to become `ambiguous`.
async fn record_patiently<T, F, Fut>(
    what: &str,
    mut write: F,
) -> Result<T, crate::store::StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::store::StoreError>>,
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

impl PartSender {
    async fn send_to_zalo(&self, part: &QueuedOutbound) -> Outcome {
        let Some(mut token) = self.tokens.current().await else {
            // The keeper may be restarting: the part goes back to the queue for the next resume.
            return Outcome::Requeue("no Zalo access token available right now".into());
        };
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            self.limiter.until_ready().await;
            let started = Instant::now();
            let result = self
                .api
                .send_text(&token.token, part.user.as_str(), &part.text)
                .await;
            metrics::histogram!(telemetry::OUTBOUND_DURATION)
                .record(started.elapsed().as_secs_f64());
            let err = match result {
                Ok(sent) => {
                    metrics::counter!(telemetry::OUTBOUND_SENDS, "result" => "sent").increment(1);
                    return Outcome::Sent(sent.message_id);
                }
                Err(err) => err,
            };
            match err.class() {
                ErrorClass::Transient if attempt < self.max_retries => {
                    attempt += 1;
                    metrics::counter!(telemetry::OUTBOUND_SENDS, "result" => "retried")
                        .increment(1);
                    tracing::warn!(error = %err, attempt, "transient Zalo error; retrying");
                    tokio::time::sleep(backoff(self.retry_base, attempt)).await;
                }
                ErrorClass::TokenInvalid if !refreshed => {
                    refreshed = true;
                    tracing::warn!(error = %err, "Zalo rejected the access token; retrying once with a fresh one");
                    match self.tokens.newer_than(&token).await {
                        Some(fresh) => token = fresh,
                        None => {
                            return Outcome::unsent(
                                OutboundState::Failed,
                                err.code(),
                                &err.to_string(),
                            );
                        }
                    }
                }
                ErrorClass::Ambiguous => {
                    return Outcome::unsent(OutboundState::Ambiguous, err.code(), &err.to_string());
                }
                _ => return Outcome::unsent(OutboundState::Failed, err.code(), &err.to_string()),
            }
        }
    }
}

/// How a delivery ended.
enum Outcome {
    /// Not attempted: back to `queued` (picked up by the periodic resume).
    Requeue(String),
    /// Delivered; Zalo's `message_id` when it gave one.
    Sent(Option<String>),
    Unsent {
        state: OutboundState,
        code: Option<i64>,
        message: String,
    },
}

impl Outcome {
    fn unsent(state: OutboundState, code: Option<i64>, message: &str) -> Self {
        Outcome::Unsent {
            state,
            code,
            message: message.to_string(),
        }
    }
}

/// Exponential backoff with up to 50% jitter.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << attempt.min(10));
    let jitter = rand::random_range(0.0..0.5);
    exp + exp.mul_f64(jitter)
}
