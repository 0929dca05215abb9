//! One user's conversation: handles that user's events strictly in order, runs the pure decisions of
//! [`crate::conversation`] (usage guide, scam check, model answer, burst), and commits both sides of the
//! chat plus the queued reply in one transaction.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, DerivedActorRef};

use super::llm::{AnswerSource, LlmAnswer, LlmMsg};
use super::media::MediaMsg;
use super::outbound::OutboundMsg;
use super::scam::ScamMsg;
use super::{AskError, Deps, ask};
use crate::conversation::burst::{self, Burst, BurstMessage, Join};
use crate::conversation::decide::{self, Answer, Decision, ImageStep, Message};
use crate::conversation::{Now, Policy, UserView};
use crate::domain::{HistoryTurn, InboundLimiter, UserId};
use crate::faults::FaultPoint;
use crate::net::FetchError;
use crate::pipeline::{Attempt, Inbound, Outcome, Role};
use crate::reply::{split::split_message, templates};
use crate::reports::{moderation, notices};
use crate::scam::Entity;
use crate::scam::check::CheckOutcome;
use crate::store::{ChatLine, Completed, Completion, QueuedOutbound};
use crate::telemetry;
use crate::zalo::events::{EventKind, UserMessageKind};

/// Remembered inbox ids, to skip a re-dispatched duplicate without a database round trip.
const RECENT_IDS: usize = 64;
const SCAM_TIMEOUT: Duration = Duration::from_secs(10);
/// Fetching (10 s at most), then OCR (8 s by default), plus a wait for a permit when many images arrive.
const IMAGE_TIMEOUT: Duration = Duration::from_secs(40);
/// A cached history is read again after this long whatever the ids say: a backstop for a write the id check
/// cannot see (a line committed with a lower id after a newer one, on PostgreSQL).
const HISTORY_REFRESH: Duration = Duration::from_secs(60);
/// How stale `zalo_users.last_seen_at` may get while a user keeps chatting.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

pub struct ConversationActor;

pub struct ConversationArgs {
    pub user: UserId,
    pub manager: DerivedActorRef<Idle>,
    pub deps: Deps,
    pub status: Arc<ChildStatus>,
}

/// What the manager may read of a child without a message round trip: whether it could be stopped now.
#[derive(Debug, Default)]
pub struct ChildStatus {
    /// Events handled so far (the manager compares it with the events it delivered).
    processed: AtomicU64,
    /// A debounced burst waits for its answer.
    burst_waiting: AtomicBool,
}

impl ChildStatus {
    /// Nothing in flight: every delivered event handled, no burst waiting.
    pub fn is_idle(&self, delivered: u64) -> bool {
        self.processed.load(Ordering::Acquire) == delivered
            && !self.burst_waiting.load(Ordering::Acquire)
    }
}

/// A child's report to its manager that it has been idle; `processed` is how many events it has handled.
#[derive(Debug)]
pub struct Idle {
    pub user: UserId,
    pub child: ActorId,
    pub processed: u64,
}

type IdleTimer = ractor::concurrency::JoinHandle<Result<(), ractor::MessagingErr<ConversationMsg>>>;

pub struct ConversationState {
    user: UserId,
    manager: DerivedActorRef<Idle>,
    deps: Deps,
    status: Arc<ChildStatus>,
    policy: Policy,
    /// Events handled, published through `status`.
    processed: u64,
    /// The latest inbox ids handled, oldest first.
    recent: VecDeque<i64>,
    /// Messages waiting to be answered together by the model.
    burst: Burst,
    /// Pause, rate limit and recent findings, as the decisions read them.
    view: UserView,
    /// When the last event was handled.
    last_active: Instant,
    /// The pending idle check, aborted on stop: until it fires, a timer task keeps the actor's cell alive.
    idle_timer: Option<IdleTimer>,
    /// When the user was last recorded as seen.
    touched_at: Option<Instant>,
    /// When the handoff pause was last found clear.
    pause_clear_at: Option<Instant>,
    /// When this actor last wrote the pause (an admin's message): attempts read before it miss it.
    pause_written_at: Option<Instant>,
    /// The user's recent chat, kept in step with this actor's writes so the model path need not read it.
    history: Option<CachedHistory>,
    /// The id of the user's newest chat line as last read; when it is not the cache's, someone else wrote.
    newest_message: Option<i64>,
}

struct CachedHistory {
    /// The id of the newest line in `turns` (None: the user had no lines).
    upto: Option<i64>,
    turns: VecDeque<HistoryTurn>,
    loaded_at: Instant,
}

pub enum ConversationMsg {
    Handle(Box<Inbound>),
    /// The idle timer: one per actor, re-armed for the time left, so idle users leave no sleeping timers.
    IdleCheck,
    /// The debounce window of the burst flush numbered so has closed.
    Flush(u64),
}

impl Actor for ConversationActor {
    type Msg = ConversationMsg;
    type State = ConversationState;
    type Arguments = ConversationArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: ConversationArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        // Kept cheap: the manager awaits this. History is read from the database when needed.
        let rate = &args.deps.settings.conversation;
        let limiter = InboundLimiter::new(rate.max_messages_per_window, rate.rate_window);
        Ok(ConversationState {
            user: args.user,
            manager: args.manager,
            policy: Policy::from_settings(&args.deps.settings),
            deps: args.deps,
            status: args.status,
            processed: 0,
            recent: VecDeque::with_capacity(RECENT_IDS),
            burst: Burst::default(),
            view: UserView::new(limiter),
            touched_at: None,
            pause_clear_at: None,
            pause_written_at: None,
            last_active: Instant::now(),
            idle_timer: None,
            history: None,
            newest_message: None,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(timer) = state.idle_timer.take() {
            timer.abort();
        }
        // Stopping with a burst still inside its debounce window (a graceful shutdown): answer it now rather
        // than leave it to the next start. If this fails, the events are still pending in the inbox.
        flush_burst(state).await
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ConversationMsg::Handle(inbound) => {
                state.deps.faults.trip(FaultPoint::Conversation);
                if !state.recent.contains(&inbound.inbox_id) {
                    handle_event(&myself, state, &inbound).await?;
                    if state.recent.len() == RECENT_IDS {
                        state.recent.pop_front();
                    }
                    state.recent.push_back(inbound.inbox_id);
                }
                state.processed += 1;
                // The burst flag first: the manager reads `processed`, then the flag.
                publish_burst_waiting(state);
                state
                    .status
                    .processed
                    .store(state.processed, Ordering::Release);
                state.last_active = Instant::now();
                if state.idle_timer.is_none() {
                    state.idle_timer = Some(
                        myself.send_after(state.deps.settings.conversation.idle_timeout, || {
                            ConversationMsg::IdleCheck
                        }),
                    );
                }
            }
            ConversationMsg::Flush(seq) => {
                if state.burst.is_due(seq) {
                    flush_burst(state).await?;
                    publish_burst_waiting(state);
                }
            }
            ConversationMsg::IdleCheck => {
                let timeout = state.deps.settings.conversation.idle_timeout;
                let idle_for = state.last_active.elapsed();
                match crate::conversation::idle_recheck(!state.burst.is_empty(), idle_for, timeout)
                {
                    Some(wait) => {
                        state.idle_timer =
                            Some(myself.send_after(wait, || ConversationMsg::IdleCheck));
                    }
                    None => {
                        state.idle_timer = None;
                        let _ = super::tell(
                            Role::Conversations,
                            &state.manager,
                            Idle {
                                user: state.user.clone(),
                                child: myself.get_id(),
                                processed: state.processed,
                            },
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

fn publish_burst_waiting(state: &ConversationState) {
    state
        .status
        .burst_waiting
        .store(!state.burst.is_empty(), Ordering::Release);
}

fn now_of(state: &ConversationState) -> Now {
    Now {
        at: state.deps.clock.now(),
        instant: Instant::now(),
    }
}

fn count(outcome: Outcome) {
    metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => outcome.as_str()).increment(1);
}

async fn handle_event(
    myself: &ActorRef<ConversationMsg>,
    state: &mut ConversationState,
    inbound: &Inbound,
) -> Result<(), ActorProcessingErr> {
    let attempt = match inbound.first_attempt {
        // Delivered live: counted and read by the webhook's insert a moment ago; the ids only grow, so an
        // older read than this actor's own writes is no news.
        Some(first) => {
            state.newest_message = Ord::max(state.newest_message, first.newest_message);
            first
        }
        None => {
            let Some(attempt) = state.deps.store.begin_attempt(inbound.inbox_id).await? else {
                return Ok(()); // handled already (a re-delivered duplicate)
            };
            state.newest_message = attempt.newest_message;
            attempt
        }
    };
    if decide::dead_lettered(
        attempt.number,
        state.deps.settings.conversation.max_attempts,
    ) {
        tracing::error!(
            user = %state.user.short_hash(),
            inbox_id = inbound.inbox_id,
            attempt = attempt.number,
            "event failed too many times; dead-lettered (left in the inbox for a person to look at)"
        );
        state
            .deps
            .store
            .finish_event(inbound.inbox_id, Outcome::DeadLetter)
            .await?;
        count(Outcome::DeadLetter);
        return Ok(());
    }
    match &inbound.event.kind {
        EventKind::UserMessage(kind) => user_message(myself, state, inbound, *kind, attempt).await,
        EventKind::Follow => {
            let now = state.deps.clock.now();
            state
                .deps
                .store
                .record_follow(&state.user, true, now)
                .await?;
            let welcome = Answer {
                reply: Some(templates::WELCOME.to_string()),
                outcome: Outcome::Welcome,
            };
            answer_now(state, inbound, None, welcome).await
        }
        EventKind::Unfollow => {
            let now = state.deps.clock.now();
            state
                .deps
                .store
                .record_follow(&state.user, false, now)
                .await?;
            finish(state, inbound, Outcome::Unfollow).await
        }
        EventKind::OaEcho => echo(state, inbound).await,
        EventKind::Other => finish(state, inbound, Outcome::Ignored).await,
    }
}

async fn user_message(
    myself: &ActorRef<ConversationMsg>,
    state: &mut ConversationState,
    inbound: &Inbound,
    kind: UserMessageKind,
    attempt: Attempt,
) -> Result<(), ActorProcessingErr> {
    let store = state.deps.store.clone();
    if state
        .touched_at
        .is_none_or(|at| at.elapsed() >= TOUCH_EVERY)
    {
        store
            .touch_user(&state.user, state.deps.clock.now())
            .await?;
        state.touched_at = Some(Instant::now());
        // Back after a while (a user outside the window has been away for days): an outcome notice may
        // wait for them. Beside the answer, not before it.
        deliver_notices(state);
    }
    // The pause as the attempt read it, unless this actor wrote one after that read.
    state.view.paused_until = if state
        .pause_written_at
        .is_some_and(|at| at >= attempt.read_at)
    {
        store
            .paused_until(&state.user, state.deps.clock.now())
            .await?
    } else {
        attempt.paused_until
    };
    let event = &inbound.event;
    let message = Message::new(kind, event.text.as_deref(), &event.attachment_urls);
    let line = message.line();
    let now = now_of(state);
    let mut decision = decide::decide(&message, &mut state.view, &state.policy, now);
    if let Decision::Signals(check) | Decision::Converse(check) = &decision {
        // Checks with entities are counted by the scam actor that looks them up.
        telemetry::count_check(check);
    }
    if let Some(change) = decide::unanswered_subscription(&decision, &message.text) {
        store
            .set_alerts_opt_out(&state.user, change.opts_out(), now.at)
            .await?;
    }
    match &decision {
        Decision::Paused => metrics::counter!(telemetry::HANDOFF_PAUSED).increment(1),
        _ => state.pause_clear_at = Some(now.instant),
    }
    if let Decision::RateLimited { first } = decision {
        metrics::counter!(telemetry::INBOUND_RATE_LIMITED).increment(1);
        if first {
            tracing::warn!(user = %state.user.short_hash(), "user over the inbound rate limit; further messages are recorded unanswered");
        }
    }
    if let Decision::Check(entities) = decision {
        let check = scam_check(state, &message.text, entities).await?;
        let now = now_of(state);
        decision = decide::checked(check, &mut state.view, &state.policy, now);
    }
    if let Decision::Recovery { book, entities } = &decision
        && !entities.is_empty()
    {
        let check = scam_check(state, &message.text, entities.clone()).await?;
        let now = now_of(state);
        let answer = decide::recovered(book, &check, &mut state.view, now);
        return answer_now(state, inbound, Some(line), answer).await;
    }
    match decision {
        Decision::ReadImage(url) => read_image(state, inbound, &message, url).await,
        Decision::Subscription(change) => {
            let now = state.deps.clock.now();
            store
                .set_alerts_opt_out(&state.user, change.opts_out(), now)
                .await?;
            let answer = decide::subscribed(change);
            answer_now(state, inbound, Some(line), answer).await
        }
        Decision::Report(command) => {
            let reports = decide::user_reports(&state.user, &command);
            let reply =
                moderation::file_user_reports(&store, &state.user, &command, &reports, now.at)
                    .await?;
            refresh_index(state);
            let answer = Answer {
                reply: Some(reply),
                outcome: Outcome::ScamReport,
            };
            answer_now(state, inbound, Some(line), answer).await
        }
        Decision::Appeal(entities) => {
            let reply =
                moderation::file_appeals(&store, &state.user, &entities, &message.text, now.at)
                    .await?;
            refresh_index(state);
            let answer = Answer {
                reply: Some(reply),
                outcome: Outcome::ScamReport,
            };
            answer_now(state, inbound, Some(line), answer).await
        }
        Decision::Converse(check) => {
            let message = BurstMessage {
                inbox_id: inbound.inbox_id,
                event_key: inbound.event_key.clone(),
                line,
                text: message.text,
                check,
            };
            match state
                .burst
                .join(message, state.policy.debounce, Instant::now())
            {
                Join::Flush => flush_burst(state).await,
                Join::Wait(seq) => {
                    myself.send_after(state.policy.debounce, move || ConversationMsg::Flush(seq));
                    Ok(())
                }
            }
        }
        decided => {
            let answer = decided
                .answer()
                .ok_or("a checked message is decided again, never left as a check")?;
            answer_now(state, inbound, Some(line), answer).await
        }
    }
}

/// Looks `entities` up with the scam actor. The waiting burst is answered first, so a failing check can never
/// cost those messages their answer (or their order).
async fn scam_check(
    state: &mut ConversationState,
    text: &str,
    entities: Vec<Entity>,
) -> Result<CheckOutcome, ActorProcessingErr> {
    flush_burst(state).await?;
    ask(
        || state.deps.directory.scam(),
        Role::Scam,
        |reply| ScamMsg::Check {
            text: text.to_string(),
            entities: entities.clone(),
            reply,
        },
        SCAM_TIMEOUT,
    )
    .await
    .map_err(Into::into)
}

/// Reads an image within the user's daily budget, checks what it holds with its caption, and answers: what
/// was read, then the verdict. Only the image's hash and the text read are kept.
async fn read_image(
    state: &mut ConversationState,
    inbound: &Inbound,
    message: &Message,
    url: String,
) -> Result<(), ActorProcessingErr> {
    // Answer a waiting burst first: reading takes seconds, and nothing answered now may overtake it.
    flush_burst(state).await?;
    let line = |content: String| ChatLine {
        content,
        message_type: message.kind.as_str().to_string(),
    };
    let day = crate::domain::time::vietnam_day(state.deps.clock.now());
    let budget = state.deps.settings.image.daily_budget_per_user;
    if !state
        .deps
        .store
        .take_image_read(&state.user, day, budget)
        .await?
    {
        let answer = Answer {
            reply: Some(crate::reply::image::IMAGE_BUDGET.to_string()),
            outcome: Outcome::ImageUnread,
        };
        return answer_now(state, inbound, Some(message.line()), answer).await;
    }
    let reading = match ask(
        || state.deps.directory.media(),
        Role::Media,
        |reply| MediaMsg::Read {
            url: url.clone(),
            reply,
        },
        IMAGE_TIMEOUT,
    )
    .await
    {
        Ok(reading) => reading,
        // Out of time: the user hears so now, rather than a retry reading it all again.
        Err(AskError::Timeout(_)) => Err(FetchError::Timeout),
        Err(e) => return Err(e.into()),
    };
    let ocr_on = state.deps.images.ocr_status().enabled;
    let recorded = match &reading {
        Ok(reading) => line(decide::image_line(&message.text, &reading.record())),
        Err(_) => message.line(),
    };
    let answer = match decide::image_read(&message.text, reading.as_ref().map_err(|e| *e), ocr_on) {
        ImageStep::Answer(answer) => answer,
        ImageStep::Check { text, entities } => {
            let check: CheckOutcome = ask(
                || state.deps.directory.scam(),
                Role::Scam,
                |reply| ScamMsg::Check {
                    text: text.clone(),
                    entities: entities.clone(),
                    reply,
                },
                SCAM_TIMEOUT,
            )
            .await?;
            let reading = reading.as_ref().map_err(|e| *e)?;
            let now = now_of(state);
            decide::image_checked(reading, &check, &mut state.view, now)
        }
    };
    answer_now(state, inbound, Some(recorded), answer).await
}

/// An echo of a message the OA sent: ours when Zalo's id matches a send of ours, or (no admin marker) when
/// it repeats a part whose send is unconfirmed (its id was never recorded). Otherwise an OA admin typed it
/// in the Zalo OA chat: it joins the history, and the bot steps back for a while so they do not talk over
/// each other.
async fn echo(state: &mut ConversationState, inbound: &Inbound) -> Result<(), ActorProcessingErr> {
    let store = state.deps.store.clone();
    let event = &inbound.event;
    let text = event.text.clone().unwrap_or_default();
    let ours = match &event.msg_id {
        Some(id) => store.is_our_message(id).await?,
        None => false,
    } || (!event.from_admin && store.has_unconfirmed_part(&state.user, &text).await?);
    if ours {
        return finish(state, inbound, Outcome::OwnEcho).await;
    }
    let now = state.deps.clock.now();
    let until = now + chrono::Duration::from_std(state.deps.settings.handoff.pause)?;
    state.pause_clear_at = None;
    let recorded = store
        .record_admin_message(
            &state.user,
            &text,
            &inbound.event_key,
            inbound.inbox_id,
            until,
            now,
        )
        .await?;
    // Once committed: an attempt read before this may not hold the pause.
    state.pause_written_at = Some(Instant::now());
    // A line this actor does not keep in its cache.
    state.history = None;
    if recorded {
        tracing::info!(user = %state.user.short_hash(), %until, "an OA admin answered; the bot is paused for this user");
    }
    count(Outcome::AdminEcho);
    Ok(())
}

/// Records the event and its answer now, after any burst still waiting: nothing answered now overtakes it.
async fn answer_now(
    state: &mut ConversationState,
    inbound: &Inbound,
    user_message: Option<ChatLine>,
    answer: Answer,
) -> Result<(), ActorProcessingErr> {
    flush_burst(state).await?;
    let Answer { reply, outcome } = answer;
    let reply_parts = reply
        .as_deref()
        .map(|r| split_message(r, state.deps.settings.outbound.max_message_chars))
        .unwrap_or_default();
    let completion = Completion {
        inbox_id: inbound.inbox_id,
        event_key: inbound.event_key.clone(),
        user: state.user.clone(),
        user_message,
        reply_parts,
        outcome,
    };
    let completed = state.deps.store.complete_events(vec![completion]).await?;
    if let Some(queued) = remember_written(state, completed).pop().flatten() {
        count(outcome);
        tracing::info!(user = %state.user.short_hash(), outcome = outcome.as_str(), parts = queued.len(), "event handled");
        send(state, queued);
    }
    Ok(())
}

fn send(state: &ConversationState, queued: Vec<QueuedOutbound>) {
    if queued.is_empty() {
        return;
    }
    match state.deps.directory.outbound() {
        Some(outbound) => {
            let _ = super::tell(Role::Outbound, &outbound, OutboundMsg::Enqueue(queued));
        }
        // Queued in the database: the outbound actor sends it when it (re)starts.
        None => tracing::warn!(
            "outbound actor not running; the reply waits in the database for its resume"
        ),
    }
}

/// Answers the waiting burst with one model call: every message is recorded, the last one carries the reply.
async fn flush_burst(state: &mut ConversationState) -> Result<(), ActorProcessingErr> {
    if state.burst.is_empty() {
        return Ok(());
    }
    let messages = state.burst.take();
    let user = state.user.clone();
    let store = state.deps.store.clone();
    // An OA admin may have taken over while the burst waited.
    let paused = burst::needs_pause_check(state.pause_clear_at, Instant::now())
        && store
            .paused_until(&user, state.deps.clock.now())
            .await?
            .is_some();
    if paused {
        let completed = store
            .complete_events(burst::paused(messages, &user))
            .await?;
        remember_written(state, completed);
        metrics::counter!(telemetry::HANDOFF_PAUSED).increment(1);
        return Ok(());
    }
    let history = current_history(state).await?;
    // The LLM actor answers by its own deadline; this margin only covers a dead or restarting actor.
    let llm_timeout = state.deps.settings.llm.deadline() + Duration::from_secs(10);
    let user_messages: Vec<String> = messages.iter().map(|m| m.text.clone()).collect();
    let merged = burst::merged_check(&messages);
    let facts = burst::facts(&merged, state.view.recent_findings(Instant::now()));
    let answer: LlmAnswer = ask(
        || state.deps.directory.llm(),
        Role::Llm,
        |reply| LlmMsg::Complete {
            user: user.clone(),
            history: history.clone(),
            user_messages: user_messages.clone(),
            facts: facts.clone(),
            reply,
        },
        llm_timeout,
    )
    .await
    .unwrap_or_else(|err| {
        // Never leave the user without an answer because the model path is down.
        tracing::warn!(error = %err, "LLM actor unavailable; templated answer");
        LlmAnswer {
            text: templates::fallback_answer(&user_messages.join("\n")),
            source: AnswerSource::Failed,
        }
    });
    let answered = match answer.source {
        AnswerSource::Model => Outcome::Llm,
        AnswerSource::Limited(_) => Outcome::LlmLimited,
        _ => Outcome::LlmFallback,
    };
    let (text, outcome) = burst::reply(answer.text, answered, &merged);
    let parts = split_message(&text, state.deps.settings.outbound.max_message_chars);
    let completions = burst::answered(messages, &user, &parts, outcome);
    let outcomes: Vec<Outcome> = completions.iter().map(|c| c.outcome).collect();
    let completed = store.complete_events(completions).await?;
    for (queued, outcome) in remember_written(state, completed)
        .into_iter()
        .zip(&outcomes)
    {
        if let Some(queued) = queued {
            count(*outcome);
            send(state, queued);
        }
    }
    tracing::info!(user = %user.short_hash(), messages = outcomes.len(), outcome = outcome.as_str(), "answered by the model path");
    Ok(())
}

/// The user's recent chat for the model: the cache while the database has nothing newer, else read.
async fn current_history(
    state: &mut ConversationState,
) -> Result<Vec<HistoryTurn>, ActorProcessingErr> {
    let limit = state.deps.settings.llm.history_messages;
    if limit == 0 {
        return Ok(Vec::new());
    }
    if let Some(cache) = &state.history
        && cache.upto == state.newest_message
        && cache.loaded_at.elapsed() < HISTORY_REFRESH
    {
        return Ok(cache.turns.iter().cloned().collect());
    }
    if state.newest_message.is_none() {
        // The user has no chat line at all, as the attempt read it (a first message): nothing to read.
        state.history = Some(CachedHistory {
            upto: None,
            turns: VecDeque::new(),
            loaded_at: Instant::now(),
        });
        return Ok(Vec::new());
    }
    let read = state
        .deps
        .store
        .recent_history(&state.user, limit as u64)
        .await?;
    state.newest_message = read.newest;
    state.history = Some(CachedHistory {
        upto: read.newest,
        turns: read.turns.iter().cloned().collect(),
        loaded_at: Instant::now(),
    });
    Ok(read.turns)
}

/// Keeps the cached history in step with the lines a completion wrote; returns its queued parts.
fn remember_written(
    state: &mut ConversationState,
    completed: Completed,
) -> Vec<Option<Vec<QueuedOutbound>>> {
    if let Some(written) = completed.history {
        let limit = state.deps.settings.llm.history_messages;
        match &mut state.history {
            // Nobody else wrote since the cache: these lines follow it.
            Some(cache) if cache.upto == written.newest_before => {
                cache.turns.extend(written.turns);
                while cache.turns.len() > limit {
                    cache.turns.pop_front();
                }
                cache.upto = written.newest_after.or(cache.upto);
            }
            _ => state.history = None,
        }
        state.newest_message = written.newest_after.or(written.newest_before);
    }
    completed.parts
}

async fn finish(
    state: &ConversationState,
    inbound: &Inbound,
    outcome: Outcome,
) -> Result<(), ActorProcessingErr> {
    if state
        .deps
        .store
        .finish_event(inbound.inbox_id, outcome)
        .await?
    {
        count(outcome);
    }
    Ok(())
}

/// A report can make an entity warn, and an appeal puts it under review: the scam actor syncs now.
fn refresh_index(state: &ConversationState) {
    if let Some(scam) = state.deps.directory.scam() {
        let _ = super::tell(Role::Scam, &scam, ScamMsg::Refresh);
    }
}

/// Sends the user's waiting outcome notices, in a task of their own; a failure leaves them waiting.
fn deliver_notices(state: &ConversationState) {
    let store = state.deps.store.clone();
    let directory = state.deps.directory.clone();
    let user = state.user.clone();
    let now = state.deps.clock.now();
    let max_message_chars = state.deps.settings.outbound.max_message_chars;
    tokio::spawn(async move {
        let cx = moderation::Moderation {
            store: &store,
            dispatch: &directory,
            now,
            max_message_chars,
        };
        if let Err(e) = notices::on_user_message(&cx, &user).await {
            tracing::warn!(error = %e, user = %user.short_hash(), "waiting outcome notices not sent yet");
        }
    });
}
