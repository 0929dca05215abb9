//! One user's conversation: handles that user's events strictly in order, decides the reply (usage guide,
//! scam check, LLM answer), and commits both sides of the chat plus the queued reply in one transaction.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, DerivedActorRef};

use super::llm::{AnswerSource, LlmAnswer, LlmMsg};
use super::outbound::OutboundMsg;
use super::scam::ScamMsg;
use super::{Deps, ask};
use crate::domain::HistoryTurn;
use crate::domain::{Admission, InboundLimiter, UserId};
use crate::faults::FaultPoint;
use crate::llm::prompt::Facts;
use crate::pipeline::{Inbound, Outcome, Role};
use crate::reply::{split::split_message, templates};
use crate::scam::check::CheckOutcome;
use crate::scam::signals::find_signals;
use crate::scam::user_report::{ReportCommand, parse_report_command};
use crate::store::{
    ChatLine, Completed, Completion, NewUserReport, QueuedOutbound, UserReportOutcome,
};
use crate::telemetry;
use crate::zalo::events::{EventKind, UserMessageKind};
use sha2::{Digest, Sha256};

/// Remembered inbox ids, to skip a re-dispatched duplicate without a database round trip.
const RECENT_IDS: usize = 64;
const SCAM_TIMEOUT: Duration = Duration::from_secs(10);

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
    processed: u64,
    recent: VecDeque<i64>,
    /// Messages waiting for the debounce window to close, answered together with one model call.
    burst: Vec<BurstMessage>,
    burst_started: Option<Instant>,
    /// Only the newest scheduled flush fires, so each new message extends the window.
    flush_seq: u64,
    /// The user's latest scam check, given to the model as facts for follow-up questions ("so what now?").
    last_findings: Option<(Instant, CheckOutcome)>,
    /// Per-user inbound rate limit: a flood from one user cannot starve the others or burn the model budget.
    limiter: InboundLimiter,
    /// When the last event was handled, and whether the idle timer is running.
    last_active: Instant,
    /// The pending idle check, aborted when the actor stops: a timer task holds the actor's cell (mailbox and
    /// all) until it fires, so 100,000 actors stopped early by the live cap would otherwise stay in memory for
    /// the whole idle timeout (measured: 722 MB peak instead of the cap's worth; BENCHMARKS.md).
    idle_timer: Option<IdleTimer>,
    /// When this actor last recorded the user as seen: `last_seen_at` is kept to the minute, not written
    /// with every message.
    touched_at: Option<Instant>,
    /// When the handoff pause was last found clear for this user.
    pause_clear_at: Option<Instant>,
    /// When this actor last wrote the user's pause (an admin's message): attempts read before it miss it.
    pause_written_at: Option<Instant>,
    /// The user's recent chat, kept in step with the lines this actor writes, so that a model answer does not
    /// read it from the database every time (measured: the read, with the pause check the attempt now does,
    /// cost ~17 % of the CPU per message; BENCHMARKS.md).
    history: Option<CachedHistory>,
    /// The id of the user's newest chat line as the latest attempt read it: when it is not the cache's, someone
    /// else wrote (an admin's message, another process), and the cache is read again.
    newest_message: Option<i64>,
}

struct CachedHistory {
    /// The id of the newest line in `turns` (None: the user had no lines).
    upto: Option<i64>,
    turns: VecDeque<HistoryTurn>,
    loaded_at: Instant,
}

/// A cached history is read again after this long whatever the ids say: a backstop for a write the id check
/// cannot see (a line committed with a lower id after a newer one, on PostgreSQL).
const HISTORY_REFRESH: Duration = Duration::from_secs(60);

/// How stale `zalo_users.last_seen_at` may get while a user keeps chatting.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// A pause check this recent needs no repeat before answering (an answer sent at once after its check).
const PAUSE_CHECK_FRESH: Duration = Duration::from_millis(100);

/// How long a scam check stays relevant as facts for the conversation.
const FINDINGS_RELEVANCE: Duration = Duration::from_secs(30 * 60);

struct BurstMessage {
    inbox_id: i64,
    event_key: String,
    line: ChatLine,
    text: String,
    /// Scam-check results of this message: facts for the model, and the templated answer if it fails.
    check: CheckOutcome,
}

pub enum ConversationMsg {
    Handle(Box<Inbound>),
    /// The idle timer: if nothing was handled for `idle_timeout`, the manager is told (one timer per actor,
    /// re-armed for the time left, not one per message: 100,000 users would otherwise leave as many
    /// sleeping timers behind).
    IdleCheck,
    /// The debounce window of the burst numbered so has closed.
    Flush(u64),
}

/// A burst is answered at the latest after this many messages or this many debounce windows.
const MAX_BURST: usize = 8;
const MAX_BURST_WINDOWS: u32 = 4;

/// What to answer, and how the event is recorded.
enum Decision {
    Now {
        user_message: Option<ChatLine>,
        reply: Option<String>,
        outcome: Outcome,
    },
    /// Goes to the model, together with the rest of a quick burst.
    Model {
        line: ChatLine,
        text: String,
        check: CheckOutcome,
    },
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
            deps: args.deps,
            status: args.status,
            processed: 0,
            recent: VecDeque::with_capacity(RECENT_IDS),
            burst: Vec::new(),
            burst_started: None,
            flush_seq: 0,
            last_findings: None,
            limiter,
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
        if !state.burst.is_empty() {
            flush_burst(state).await?;
        }
        Ok(())
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
                state
                    .status
                    .burst_waiting
                    .store(!state.burst.is_empty(), Ordering::Release);
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
                if seq == state.flush_seq {
                    flush_burst(state).await?;
                    state
                        .status
                        .burst_waiting
                        .store(!state.burst.is_empty(), Ordering::Release);
                }
            }
            ConversationMsg::IdleCheck => {
                let timeout = state.deps.settings.conversation.idle_timeout;
                let idle_for = state.last_active.elapsed();
                if !state.burst.is_empty() || idle_for < timeout {
                    // Active since the timer was set, or a burst waits: look again when it could be idle.
                    let wait = if state.burst.is_empty() {
                        timeout - idle_for
                    } else {
                        timeout
                    };
                    state.idle_timer = Some(myself.send_after(wait, || ConversationMsg::IdleCheck));
                } else {
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
        Ok(())
    }
}

async fn handle_event(
    myself: &ActorRef<ConversationMsg>,
    state: &mut ConversationState,
    inbound: &Inbound,
) -> Result<(), ActorProcessingErr> {
    let store = state.deps.store.clone();
    let user = state.user.clone();
    let (store, user) = (&store, &user);
    let attempt = match inbound.first_attempt {
        // Delivered live: counted and read by the webhook's insert a moment ago; the ids only grow, so an
        // older read than this actor's own writes is no news.
        Some(first) => {
            state.newest_message = Ord::max(state.newest_message, first.newest_message);
            first
        }
        None => {
            let Some(attempt) = store.begin_attempt(inbound.inbox_id).await? else {
                return Ok(()); // handled already (a re-delivered duplicate)
            };
            state.newest_message = attempt.newest_message;
            attempt
        }
    };
    if attempt.number > state.deps.settings.conversation.max_attempts as i32 {
        tracing::error!(
            user = %user.short_hash(),
            inbox_id = inbound.inbox_id,
            attempt = attempt.number,
            "event failed too many times; dead-lettered (left in the inbox for a person to look at)"
        );
        store
            .finish_event(inbound.inbox_id, Outcome::DeadLetter)
            .await?;
        metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => Outcome::DeadLetter.as_str())
            .increment(1);
        return Ok(());
    }

    let event = &inbound.event;
    let decision = match &event.kind {
        EventKind::UserMessage(kind) => {
            if state
                .touched_at
                .is_none_or(|at| at.elapsed() >= TOUCH_EVERY)
            {
                store.note_user_seen(user).await?;
                state.touched_at = Some(Instant::now());
            }
            // A pause this actor wrote after the attempt's read is not in it.
            let paused_until = if state
                .pause_written_at
                .is_some_and(|at| at >= attempt.read_at)
            {
                store.paused_until(user, state.deps.clock.now()).await?
            } else {
                attempt.paused_until
            };
            decide_user_message(state, *kind, inbound, paused_until).await?
        }
        EventKind::Follow => {
            store.record_follow(user, true).await?;
            Decision::Now {
                user_message: None,
                reply: Some(templates::WELCOME.to_string()),
                outcome: Outcome::Welcome,
            }
        }
        EventKind::Unfollow => {
            store.record_follow(user, false).await?;
            finish(state, inbound, Outcome::Unfollow).await?;
            return Ok(());
        }
        EventKind::OaEcho => {
            // Ours when Zalo's id matches a send of ours, or (no admin marker) when it repeats a part whose
            // send is unconfirmed (timed out after leaving, or interrupted): its id was never recorded.
            let text = event.text.clone().unwrap_or_default();
            let ours = match &event.msg_id {
                Some(id) => store.is_our_message(id).await?,
                None => false,
            } || (!event.from_admin && store.has_unconfirmed_part(user, &text).await?);
            if ours {
                finish(state, inbound, Outcome::OwnEcho).await?;
            } else {
                // Typed by an OA admin in the Zalo OA chat: part of the conversation history, and the bot
                // steps back for a while so bot and human do not talk over each other.
                let now = state.deps.clock.now();
                let until = now + chrono::Duration::from_std(state.deps.settings.handoff.pause)?;
                state.pause_clear_at = None;
                let recorded = store
                    .record_admin_message(
                        user,
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
                    tracing::info!(user = %user.short_hash(), %until, "an OA admin answered; the bot is paused for this user");
                }
                metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => Outcome::AdminEcho.as_str())
                    .increment(1);
            }
            return Ok(());
        }
        EventKind::Other => {
            finish(state, inbound, Outcome::Ignored).await?;
            return Ok(());
        }
    };

    let (user_message, reply, outcome) = match decision {
        Decision::Model { line, text, check } => {
            state.burst.push(BurstMessage {
                inbox_id: inbound.inbox_id,
                event_key: inbound.event_key.clone(),
                line,
                text,
                check,
            });
            let started = *state.burst_started.get_or_insert_with(Instant::now);
            let debounce = state.deps.settings.llm.debounce;
            if debounce.is_zero()
                || state.burst.len() >= MAX_BURST
                || started.elapsed() >= debounce * MAX_BURST_WINDOWS
            {
                flush_burst(state).await?;
            } else {
                state.flush_seq += 1;
                let seq = state.flush_seq;
                myself.send_after(debounce, move || ConversationMsg::Flush(seq));
            }
            return Ok(());
        }
        Decision::Now {
            user_message,
            reply,
            outcome,
        } => (user_message, reply, outcome),
    };
    // Anything answered now must not overtake messages still waiting in a burst.
    flush_burst(state).await?;
    let reply_parts = reply
        .as_deref()
        .map(|r| split_message(r, state.deps.settings.outbound.max_message_chars))
        .unwrap_or_default();
    let completion = Completion {
        inbox_id: inbound.inbox_id,
        event_key: inbound.event_key.clone(),
        user: user.clone(),
        user_message,
        reply_parts,
        outcome,
    };
    let completed = store.complete_events(vec![completion]).await?;
    let queued = remember_written(state, completed).pop().flatten();
    if let Some(queued) = queued {
        metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => outcome.as_str()).increment(1);
        tracing::info!(user = %user.short_hash(), %outcome, parts = queued.len(), "event handled");
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
    state.burst_started = None;
    let burst = std::mem::take(&mut state.burst);
    // An OA admin may have taken over while the burst waited (not when it was checked just now).
    let fresh = state
        .pause_clear_at
        .is_some_and(|at| at.elapsed() < PAUSE_CHECK_FRESH);
    let paused = !fresh
        && state
            .deps
            .store
            .paused_until(&state.user, state.deps.clock.now())
            .await?
            .is_some();
    if paused {
        let completions = burst
            .into_iter()
            .map(|m| Completion {
                inbox_id: m.inbox_id,
                event_key: m.event_key,
                user: state.user.clone(),
                user_message: Some(m.line),
                reply_parts: Vec::new(),
                outcome: Outcome::HandoffPaused,
            })
            .collect();
        let completed = state.deps.store.complete_events(completions).await?;
        remember_written(state, completed);
        metrics::counter!(telemetry::HANDOFF_PAUSED).increment(1);
        return Ok(());
    }
    let history = current_history(state).await?;
    // The LLM actor answers by its own deadline; this margin only covers a dead or restarting actor.
    let llm_timeout = state.deps.settings.llm.deadline() + Duration::from_secs(10);
    let user_messages: Vec<String> = burst.iter().map(|m| m.text.clone()).collect();
    let user = state.user.clone();
    // Facts: this burst's own scam checks, else the user's latest check (for follow-up questions).
    let mut burst_check = CheckOutcome::default();
    for message in &burst {
        burst_check
            .findings
            .extend(message.check.findings.iter().cloned());
        for signal in &message.check.signals {
            if !burst_check
                .signals
                .iter()
                .any(|s| s.scenario == signal.scenario)
            {
                burst_check.signals.push(signal.clone());
            }
        }
    }
    let fact_source = if burst_check.findings.is_empty() && burst_check.signals.is_empty() {
        state
            .last_findings
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FINDINGS_RELEVANCE)
            .map(|(_, check)| check.clone())
            .unwrap_or_default()
    } else {
        burst_check.clone()
    };
    let facts = Facts {
        findings: fact_source.findings,
        signals: fact_source
            .signals
            .iter()
            .map(|s| s.scenario.label_vi().to_string())
            .collect(),
    };
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
    let (text, outcome) = match answer.source {
        AnswerSource::Model => (answer.text, Outcome::Llm),
        // A scam check never depends on the model: its verdict is answered from the template.
        _ if !burst_check.findings.is_empty() || !burst_check.signals.is_empty() => {
            (templates::scam_reply(&burst_check), Outcome::ScamCheck)
        }
        AnswerSource::Limited(_) => (answer.text, Outcome::LlmLimited),
        _ => (answer.text, Outcome::LlmFallback),
    };
    let parts = split_message(&text, state.deps.settings.outbound.max_message_chars);
    let last = burst.len() - 1;
    let completions = burst
        .into_iter()
        .enumerate()
        .map(|(i, m)| Completion {
            inbox_id: m.inbox_id,
            event_key: m.event_key,
            user: user.clone(),
            user_message: Some(m.line),
            reply_parts: if i == last { parts.clone() } else { Vec::new() },
            outcome: if i == last {
                outcome
            } else {
                Outcome::LlmMerged
            },
        })
        .collect::<Vec<_>>();
    let merged = completions.len();
    let completed = state.deps.store.complete_events(completions).await?;
    for (queued, outcome) in remember_written(state, completed)
        .into_iter()
        .zip((0..merged).map(|i| {
            if i == last {
                outcome
            } else {
                Outcome::LlmMerged
            }
        }))
    {
        if let Some(queued) = queued {
            metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => outcome.as_str())
                .increment(1);
            send(state, queued);
        }
    }
    tracing::info!(user = %user.short_hash(), messages = merged, %outcome, "answered by the model path");
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
        metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => outcome.as_str()).increment(1);
    }
    Ok(())
}

/// The text a user message carries for checking: its text plus any attached URL (a shared link).
fn message_text(inbound: &Inbound) -> String {
    let mut text = inbound.event.text.clone().unwrap_or_default();
    for url in &inbound.event.attachment_urls {
        if !text.contains(url.as_str()) {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(url);
        }
    }
    text
}

async fn decide_user_message(
    state: &mut ConversationState,
    kind: UserMessageKind,
    inbound: &Inbound,
    paused_until: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Decision, ActorProcessingErr> {
    let text = match kind {
        UserMessageKind::Text | UserMessageKind::Link => message_text(inbound),
        // Media: only a caption (if any) can be checked.
        _ => inbound.event.text.clone().unwrap_or_default(),
    };
    let record = ChatLine {
        content: if text.trim().is_empty() {
            format!("[{}]", kind.as_str())
        } else {
            text.clone()
        },
        message_type: kind.as_str().to_string(),
    };
    // The pause as the attempt read it, a moment ago: no read of its own.
    let now = state.deps.clock.now();
    if paused_until.is_some_and(|until| until > now) {
        // An OA admin is talking to this user: record, stay silent.
        metrics::counter!(telemetry::HANDOFF_PAUSED).increment(1);
        return Ok(Decision::Now {
            user_message: Some(record),
            reply: None,
            outcome: Outcome::HandoffPaused,
        });
    }
    state.pause_clear_at = Some(Instant::now());
    let admission = state.limiter.admit(Instant::now());
    if admission != Admission::Allowed {
        // Stored and acknowledged like any message (nothing is lost), but no check and no model call.
        metrics::counter!(telemetry::INBOUND_RATE_LIMITED).increment(1);
        if admission == Admission::LimitedFirst {
            tracing::warn!(user = %state.user.short_hash(), "user over the inbound rate limit; further messages are recorded unanswered");
        }
        return Ok(Decision::Now {
            user_message: Some(record),
            reply: (admission == Admission::LimitedFirst)
                .then(|| templates::RATE_LIMITED.to_string()),
            outcome: Outcome::RateLimited,
        });
    }
    if text.trim().is_empty() {
        return Ok(Decision::Now {
            user_message: Some(record),
            reply: Some(templates::UNSUPPORTED_MEDIA.to_string()),
            outcome: Outcome::Unsupported,
        });
    }
    if templates::is_help_command(&text) {
        return Ok(Decision::Now {
            user_message: Some(record),
            reply: Some(templates::HELP.to_string()),
            outcome: Outcome::Help,
        });
    }
    if let Some(command) = parse_report_command(&text) {
        let reply = file_user_reports(state, &command).await?;
        return Ok(Decision::Now {
            user_message: Some(record),
            reply: Some(reply),
            outcome: Outcome::ScamReport,
        });
    }
    // No entity, no lookup: only messages with something to check wait on the scam actor.
    let has_entities = !crate::scam::extract::extract(&text).is_empty();
    if !has_entities {
        let check = CheckOutcome {
            findings: Vec::new(),
            signals: find_signals(&text),
        };
        if !check.signals.is_empty() && state.deps.settings.llm.api_key.is_none() {
            // No model to talk it through: the templated warning about the scam signals answers.
            return Ok(Decision::Now {
                user_message: Some(record),
                reply: Some(templates::scam_reply(&check)),
                outcome: Outcome::ScamSignals,
            });
        }
        return Ok(Decision::Model {
            line: record,
            text,
            check,
        });
    }
    if !state.burst.is_empty() {
        // This message gets a scam check now: answer the waiting burst first, so a failing check can
        // never cost those messages their answer (or their order).
        flush_burst(state).await?;
    }
    let check: CheckOutcome = ask(
        || state.deps.directory.scam(),
        Role::Scam,
        |reply| ScamMsg::Check {
            text: text.clone(),
            reply,
        },
        SCAM_TIMEOUT,
    )
    .await?;
    if !check.findings.is_empty() {
        state.last_findings = Some((Instant::now(), check.clone()));
        // With a model, it phrases the answer from the database's findings (it never decides the verdict);
        // without one, or when it fails, the templated verdict answers.
        if state.deps.settings.llm.api_key.is_some() {
            return Ok(Decision::Model {
                line: record,
                text,
                check,
            });
        }
        return Ok(Decision::Now {
            user_message: Some(record),
            reply: Some(templates::scam_reply(&check)),
            outcome: Outcome::ScamCheck,
        });
    }
    Ok(Decision::Model {
        line: record,
        text,
        check,
    })
}

/// Files one pending report per entity the user named, and says what happens next.
async fn file_user_reports(
    state: &ConversationState,
    command: &ReportCommand,
) -> Result<String, ActorProcessingErr> {
    if command.entities.is_empty() {
        return Ok(templates::REPORT_USAGE.to_string());
    }
    let reporter_hash = hex::encode(Sha256::digest(state.user.as_str().as_bytes()));
    let signals = find_signals(&command.note);
    let category = signals.first().map_or_else(
        || "người dùng báo cáo".to_string(),
        |s| s.scenario.label_vi().to_string(),
    );
    let now = state.deps.clock.now();
    let mut filed = Vec::new();
    for entity in &command.entities {
        let outcome = state
            .deps
            .store
            .submit_user_report(
                &NewUserReport {
                    kind: entity.kind,
                    value: entity.value.clone(),
                    bank_bin: entity.bank_bin.clone(),
                    category: category.clone(),
                    note: command.note.clone(),
                    reporter_hash: reporter_hash.clone(),
                },
                now,
            )
            .await?;
        let (result, new) = match outcome {
            UserReportOutcome::Created(_) => ("created", true),
            UserReportOutcome::AlreadyReported(_) => ("duplicate", false),
        };
        metrics::counter!(telemetry::SCAM_USER_REPORTS, "result" => result).increment(1);
        filed.push((entity.raw.clone(), new));
    }
    Ok(templates::report_received(&filed))
}
