//! The LLM actor: turns a user's message(s), history and database facts into an answer, within bounds.
//!
//! Every request gets an answer: the model's, or a templated Vietnamese one when the model is not
//! configured, a cost limit is hit, the circuit breaker is open, or the call fails. Limits and the breaker
//! are checked here, before any call, and live in this actor's state; each call runs in its own task
//! (bounded by a semaphore) and reports back with `Settle`, so a slow completion never blocks others.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::Semaphore;

use super::{Deps, Directory};
use crate::domain::time::vietnam_day;
use crate::domain::{HistoryTurn, UserId};
use crate::faults::FaultPoint;
use crate::llm::answer::sanitize_answer;
use crate::llm::breaker::{CircuitBreaker, Permit};
use crate::llm::budget::{Budget, LimitHit, Usage};
use crate::llm::client::LlmClient;
use crate::llm::prompt::{Facts, PromptInput, allowed_urls, build_messages};
use crate::pipeline::Role;
use crate::reply::templates;
use crate::store::{LlmUsageRow, StoreError};
use crate::telemetry;

pub struct LlmActor;

/// Sites the model may always name: the official lookup and report pages.
const OFFICIAL_SITES: &[&str] = &["tinnhiemmang.vn", "chongluadao.vn"];

pub struct LlmState {
    deps: Deps,
    client: Option<LlmClient>,
    permits: Arc<Semaphore>,
    breaker: CircuitBreaker,
    budget: Budget,
    /// Usage counted since the last save (the budget above already includes it); written about once a
    /// second in one transaction. A crash loses at most that second of the bill's history, never a limit.
    unsaved: HashMap<(NaiveDate, UserId), LlmUsageRow>,
    /// Requests of users whose total for the day is being read (one read at a time, for all of them).
    reading: Vec<(NaiveDate, CompleteRequest)>,
    reading_users: HashSet<UserId>,
    /// Requests of users first seen while a read was out: the next read covers them all.
    unread: Vec<(NaiveDate, CompleteRequest)>,
}

/// How often counted usage is written to the database.
const USAGE_SAVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Why an answer is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerSource {
    Model,
    NotConfigured,
    Limited(LimitHit),
    BreakerOpen,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmAnswer {
    pub text: String,
    pub source: AnswerSource,
}

impl LlmAnswer {
    pub fn from_model(&self) -> bool {
        self.source == AnswerSource::Model
    }
}

pub enum LlmMsg {
    Complete {
        user: UserId,
        history: Vec<HistoryTurn>,
        /// One message, or a debounced burst (oldest first).
        user_messages: Vec<String>,
        facts: Facts,
        reply: RpcReplyPort<LlmAnswer>,
    },
    /// The totals of the users in the read that was out (`LlmState::reading`), read off the actor's path
    /// on their first request of the day: seed the budget with them, then handle the requests that waited.
    Seeded {
        tokens: Result<HashMap<(NaiveDate, String), u64>, StoreError>,
    },
    /// A call finished: update the breaker and the bill.
    Settle {
        user: UserId,
        day: NaiveDate,
        result: Result<Usage, ()>,
    },
    /// Periodic: forget per-user state nobody needs any more.
    Prune,
    /// Periodic: write the usage counted since the last save.
    SaveUsage,
    /// Cluster: today's global total as the database has it, and this replica's share of what is left.
    Shared {
        day: NaiveDate,
        total: u64,
        share: f64,
    },
}

impl Directory {
    pub fn llm(&self) -> Option<ActorRef<LlmMsg>> {
        self.lookup(Role::Llm)
    }
}

/// The fields of [`LlmMsg::Complete`], kept while the user's daily total is read (`LlmState::reading`).
struct CompleteRequest {
    user: UserId,
    history: Vec<HistoryTurn>,
    user_messages: Vec<String>,
    facts: Facts,
    reply: RpcReplyPort<LlmAnswer>,
}

impl Actor for LlmActor {
    type Msg = LlmMsg;
    type State = LlmState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Llm);
        let settings = &deps.settings.llm;
        let client = LlmClient::from_settings(deps.http.clone(), settings);
        let permits = Arc::new(Semaphore::new(settings.max_concurrency));
        let mut budget = Budget::new(settings.budget);
        // Today's spending survives restarts: the bill is in the database.
        let day = vietnam_day(deps.clock.now());
        // Only the day's total: a user's own total is read when that user first asks today (`Seeded`).
        let global = deps.store.llm_tokens_for_day(day).await?;
        budget.seed(day, global, std::iter::empty());
        metrics::gauge!(telemetry::LLM_BUDGET_REMAINING).set(budget.global_remaining(day) as f64);
        Ok(LlmState {
            breaker: CircuitBreaker::new(settings.breaker),
            deps,
            client,
            permits,
            budget,
            unsaved: HashMap::new(),
            reading: Vec::new(),
            reading_users: HashSet::new(),
            unread: Vec::new(),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        super::send_interval_counted(
            Role::Llm,
            &myself,
            std::time::Duration::from_secs(60),
            || LlmMsg::Prune,
        );
        super::send_interval_counted(Role::Llm, &myself, USAGE_SAVE_INTERVAL, || {
            LlmMsg::SaveUsage
        });
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        save_usage(state).await;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::Llm);
        match msg {
            LlmMsg::Complete {
                user,
                history,
                user_messages,
                facts,
                reply,
            } => {
                state.deps.faults.trip(FaultPoint::Llm);
                let request = CompleteRequest {
                    user,
                    history,
                    user_messages,
                    facts,
                    reply,
                };
                let day = vietnam_day(state.deps.clock.now());
                if state.client.is_some() && !state.budget.knows(request.user.as_str(), day) {
                    // The user's first request today: their total is read off the actor's path, and the
                    // request handled when it is back (`Seeded`). Read inline, it held every other request
                    // up for one database round trip per new user; read in a task per user, thousands of
                    // new users a second took the pool's connections from the pipeline's writes.
                    // So one read at a time, for every user waiting.
                    if state.reading_users.contains(&request.user) {
                        state.reading.push((day, request));
                    } else {
                        state.unread.push((day, request));
                    }
                    if state.reading.is_empty() {
                        start_read(state, myself);
                    }
                    return Ok(());
                }
                answer(state, myself, request, day);
            }
            LlmMsg::Seeded { tokens } => {
                if let Err(err) = &tokens {
                    // Not remembered, so the next call asks again; the global budget still holds.
                    tracing::warn!(error = %err, "cannot read users' LLM usage; checking without it");
                }
                state.reading_users.clear();
                for (day, request) in std::mem::take(&mut state.reading) {
                    if let Ok(totals) = &tokens {
                        let key = (day, request.user.as_str().to_string());
                        // Never lowers a total counted meanwhile, so a late seed neither loses nor doubles
                        // usage.
                        let spent = totals.get(&key).copied().unwrap_or(0);
                        state.budget.seed_user(day, request.user.as_str(), spent);
                    }
                    answer(state, myself.clone(), request, day);
                }
                if !state.unread.is_empty() {
                    start_read(state, myself);
                }
            }
            LlmMsg::Settle { user, day, result } => {
                let now = Instant::now();
                match result {
                    Ok(usage) => {
                        state.breaker.on_success(now);
                        state.budget.record(user.as_str(), day, usage);
                        metrics::counter!(telemetry::LLM_TOKENS, "kind" => "prompt")
                            .increment(usage.prompt_tokens);
                        metrics::counter!(telemetry::LLM_TOKENS, "kind" => "completion")
                            .increment(usage.completion_tokens);
                        let row = state.unsaved.entry((day, user)).or_default();
                        row.requests += 1;
                        row.prompt_tokens += usage.prompt_tokens;
                        row.completion_tokens += usage.completion_tokens;
                    }
                    Err(()) => state.breaker.on_failure(now),
                }
                metrics::gauge!(telemetry::LLM_BUDGET_REMAINING)
                    .set(state.budget.global_remaining(day) as f64);
            }
            LlmMsg::SaveUsage => {
                // Written off the actor's path: model calls never wait for the bill.
                let rows = take_unsaved(state);
                let store = state.deps.store.clone();
                let ownership = state.deps.ownership.clone();
                let day = vietnam_day(state.deps.clock.now());
                tokio::spawn(async move {
                    if !rows.is_empty()
                        && let Err(err) = store.record_llm_usage(&rows).await
                    {
                        tracing::warn!(error = %err, "could not record LLM usage");
                    }
                    // Replicas share the global budget: each learns what all have spent, and its share.
                    if ownership.is_cluster()
                        && let Ok(total) = store.llm_tokens_for_day(day).await
                    {
                        let _ = super::tell(
                            Role::Llm,
                            &myself,
                            LlmMsg::Shared {
                                day,
                                total,
                                share: ownership.share(),
                            },
                        );
                    }
                });
            }
            LlmMsg::Shared { day, total, share } => {
                state.budget.share_global(day, total, share);
            }
            LlmMsg::Prune => {
                let day = vietnam_day(state.deps.clock.now());
                state.budget.prune(day, Instant::now());
            }
        }
        Ok(())
    }
}

/// Reads the totals of every user in `unread` in one task (a query per day, almost always one), which
/// reports back with `Seeded`.
fn start_read(state: &mut LlmState, myself: ActorRef<LlmMsg>) {
    state.reading = std::mem::take(&mut state.unread);
    let mut wanted: HashMap<NaiveDate, HashSet<String>> = HashMap::new();
    for (day, request) in &state.reading {
        state.reading_users.insert(request.user.clone());
        wanted
            .entry(*day)
            .or_default()
            .insert(request.user.as_str().to_string());
    }
    let store = state.deps.store.clone();
    tokio::spawn(async move {
        let mut totals = HashMap::new();
        let mut outcome = Ok(());
        for (day, users) in wanted {
            let users: Vec<String> = users.into_iter().collect();
            match store.llm_tokens_of_users(day, &users).await {
                Ok(found) => totals.extend(found.into_iter().map(|(user, t)| ((day, user), t))),
                Err(err) => {
                    outcome = Err(err);
                    break;
                }
            }
        }
        // Fails only if this actor stopped: the waiting requests' reply ports went with it, and their
        // callers' `ask` tries the successor.
        let _ = super::tell(
            Role::Llm,
            &myself,
            LlmMsg::Seeded {
                tokens: outcome.map(|()| totals),
            },
        );
    });
}

/// Answers one request whose user's total for `day` is known (or could not be read): checks the limits
/// and the breaker, then calls the model in a task of its own, which reports back with `Settle`.
fn answer(
    state: &mut LlmState,
    myself: ActorRef<LlmMsg>,
    request: CompleteRequest,
    day: NaiveDate,
) {
    let CompleteRequest {
        user,
        history,
        user_messages,
        facts,
        reply,
    } = request;
    let text = user_messages.join("\n");
    let Some(client) = state.client.clone() else {
        count("not_configured");
        let _ = reply.send(templated(&text, AnswerSource::NotConfigured));
        return;
    };
    let now = Instant::now();
    if let Err(limit) = state.budget.check(user.as_str(), day, now) {
        count(match limit {
            LimitHit::UserRate => "rate_limited",
            LimitHit::UserDailyTokens | LimitHit::GlobalDailyTokens => "budget_exhausted",
        });
        tracing::info!(user = %user.short_hash(), %limit, "LLM limit hit; templated answer");
        let _ = reply.send(templated(&text, AnswerSource::Limited(limit)));
        return;
    }
    let Some(permit) = state.breaker.try_acquire(now) else {
        count("breaker_open");
        let _ = reply.send(templated(&text, AnswerSource::BreakerOpen));
        return;
    };
    let settings = &state.deps.settings.llm;
    let messages = build_messages(&PromptInput {
        system_prompt: &settings.system_prompt,
        history: &history,
        user_messages: &user_messages,
        facts: &facts,
        history_token_budget: settings.history_token_budget,
    });
    let mut allowed = allowed_urls(&facts);
    // The official places to check and report are always fine to mention.
    allowed.extend(OFFICIAL_SITES.iter().map(|s| s.to_string()));
    let max_chars = settings.max_answer_chars;
    let permits = state.permits.clone();
    let deadline = settings.deadline();
    let ownership = state.deps.ownership.clone();
    let partition = ownership.partition_of(&user);
    let fallback_text = text.clone();
    tokio::spawn(async move {
        let attempt = tokio::spawn(async move {
            let work = async {
                let _permit = permits.acquire_owned().await.ok();
                let started = Instant::now();
                // A probe after the breaker opened is one plain attempt.
                let result = client
                    .complete_with_retries(&messages, permit == Permit::Normal)
                    .await;
                metrics::histogram!(telemetry::LLM_DURATION)
                    .record(started.elapsed().as_secs_f64());
                match result {
                    Ok(completion) => {
                        match sanitize_answer(&completion.text, &allowed, max_chars) {
                            Some(text) => {
                                count("ok");
                                let answer = LlmAnswer {
                                    text,
                                    source: AnswerSource::Model,
                                };
                                (answer, Ok(completion.usage))
                            }
                            None => {
                                count("error");
                                tracing::warn!("model returned nothing usable; templated answer");
                                (templated(&text, AnswerSource::Failed), Ok(completion.usage))
                            }
                        }
                    }
                    Err(err) => {
                        count(err.label());
                        tracing::warn!(error = %err, "model call failed; templated answer");
                        (templated(&text, AnswerSource::Failed), Err(()))
                    }
                }
            };
            // One deadline for queueing, retries and waits, shorter than the caller's patience. In a
            // cluster the call ends as soon as this replica stops trusting its lease on the user: another
            // replica may own the user by then, and this answer could only be fenced.
            tokio::select! {
                done = tokio::time::timeout(deadline, work) => match done {
                    Ok(done) => done,
                    Err(_) => {
                        count("timeout");
                        tracing::warn!("model answer not ready by the deadline; templated answer");
                        (templated(&text, AnswerSource::Failed), Err(()))
                    }
                },
                () = lease_lost(ownership, partition) => {
                    count("cancelled");
                    (templated(&text, AnswerSource::Failed), Ok(Usage::default()))
                }
            }
        });
        // Even a panic inside the attempt answers the user and settles the breaker.
        let (answer, settled) = attempt.await.unwrap_or_else(|_| {
            count("error");
            (templated(&fallback_text, AnswerSource::Failed), Err(()))
        });
        let _ = reply.send(answer);
        let _ = super::tell(
            Role::Llm,
            &myself,
            LlmMsg::Settle {
                user,
                day,
                result: settled,
            },
        );
    });
}

fn count(result: &'static str) {
    metrics::counter!(telemetry::LLM_REQUESTS, "result" => result).increment(1);
}

fn templated(user_text: &str, source: AnswerSource) -> LlmAnswer {
    let text = match source {
        AnswerSource::Limited(_) => templates::LIMITED_ANSWER.to_string(),
        _ => templates::fallback_answer(user_text),
    };
    LlmAnswer { text, source }
}

fn take_unsaved(state: &mut LlmState) -> Vec<(NaiveDate, UserId, LlmUsageRow)> {
    state
        .unsaved
        .drain()
        .map(|((day, user), row)| (day, user, row))
        .collect()
}

/// Writes what is still unsaved, waiting for it (on stop).
async fn save_usage(state: &mut LlmState) {
    let rows = take_unsaved(state);
    if let Err(err) = state.deps.store.record_llm_usage(&rows).await {
        tracing::warn!(error = %err, "could not record LLM usage");
    }
}

/// Resolves once this replica no longer trusts its lease on `partition` (never, outside a cluster).
async fn lease_lost(ownership: crate::cluster::Ownership, partition: crate::cluster::Partition) {
    if !ownership.fences() {
        return std::future::pending().await;
    }
    loop {
        tokio::time::sleep(LEASE_CHECK).await;
        if ownership.lease(partition).is_none() {
            return;
        }
    }
}

/// How often a model call in flight looks at the lease on its user.
const LEASE_CHECK: std::time::Duration = std::time::Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::actors::Directory;
    use crate::config::Settings;
    use crate::delivery::Delivery;
    use crate::store::Store;

    /// Each completion uses 70 tokens; a user may use 60 a day.
    async fn setup(dir: &tempfile::TempDir) -> (MockServer, Deps) {
        let openai = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": 1700000000,
                "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Vâng."},
                    "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}
            })))
            .mount(&openai)
            .await;
        let env = HashMap::from([
            (
                "DATABASE_URL".to_string(),
                format!("sqlite://{}?mode=rwc", dir.path().join("llm.db").display()),
            ),
            ("OPENAI_API_KEY".into(), "sk-test".into()),
            ("OPENAI_BASE_URL".into(), format!("{}/v1", openai.uri())),
            ("TRADESPHERE__LLM__USER_TOKENS_PER_DAY".into(), "60".into()),
        ]);
        let settings = Settings::from_env_map(env).unwrap();
        let store = Store::connect(&settings.database).await.unwrap();
        store.migrate().await.unwrap();
        let images = Arc::new(crate::media::ImageReader::new(&settings));
        let deps = Deps {
            images,
            settings: Arc::new(settings),
            store,
            directory: Directory::new(),
            http: reqwest::Client::new(),
            faults: Default::default(),
            outbound_events: tokio::sync::broadcast::channel(16).0,
            delivery: Delivery::Console { print: false },
            clock: crate::clock::system(),
            recovery: false,
            ownership: crate::cluster::Ownership::solo(256),
            cluster_db: None,
        };
        (openai, deps)
    }

    fn user(n: u32) -> UserId {
        UserId::parse(format!("{}", 2_000_000 + n)).unwrap()
    }

    async fn ask(llm: &ActorRef<LlmMsg>, user: &UserId) -> AnswerSource {
        let user = user.clone();
        let answer = llm
            .call(
                |reply| LlmMsg::Complete {
                    user: user.clone(),
                    history: Vec::new(),
                    user_messages: vec!["chào".into()],
                    facts: Facts::default(),
                    reply,
                },
                Some(std::time::Duration::from_secs(10)),
            )
            .await
            .unwrap()
            .unwrap();
        answer.source
    }

    /// A user who spent their day's tokens before this actor started is limited on their very first
    /// request, even when several of their requests race the read of their total; a user with nothing in
    /// the database is answered by the model meanwhile.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spending_in_the_database_limits_a_users_first_requests() {
        let dir = tempfile::tempdir().unwrap();
        let (openai, deps) = setup(&dir).await;
        let (heavy, light) = (user(1), user(2));
        let day = vietnam_day(deps.clock.now());
        let spent = LlmUsageRow {
            requests: 1,
            prompt_tokens: 50,
            completion_tokens: 20,
        };
        deps.store
            .record_llm_usage(&[(day, heavy.clone(), spent)])
            .await
            .unwrap();
        let (llm, handle) = Actor::spawn(None, LlmActor, deps).await.unwrap();

        let (first, second, third, fresh) = tokio::join!(
            ask(&llm, &heavy),
            ask(&llm, &heavy),
            ask(&llm, &heavy),
            ask(&llm, &light),
        );
        let limited = AnswerSource::Limited(LimitHit::UserDailyTokens);
        assert_eq!([first, second, third], [limited; 3]);
        assert_eq!(fresh, AnswerSource::Model);
        assert_eq!(
            ask(&llm, &heavy).await,
            limited,
            "now known: no read needed"
        );
        assert_eq!(openai.received_requests().await.unwrap().len(), 1);

        llm.stop(None);
        handle.await.unwrap();
    }

    /// When the user's total cannot be read, the request is checked without it, as before (the global
    /// budget, read at start, still holds).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreadable_total_is_checked_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let (openai, deps) = setup(&dir).await;
        let store = deps.store.clone();
        let spent = LlmUsageRow {
            requests: 1,
            prompt_tokens: 50,
            completion_tokens: 20,
        };
        let day = vietnam_day(deps.clock.now());
        store
            .record_llm_usage(&[(day, user(3), spent)])
            .await
            .unwrap();
        let (llm, handle) = Actor::spawn(None, LlmActor, deps).await.unwrap();
        store.close().await;
        // Had the read worked, the 70 tokens in the database would limit this user.
        assert_eq!(ask(&llm, &user(3)).await, AnswerSource::Model);
        assert_eq!(openai.received_requests().await.unwrap().len(), 1);
        llm.stop(None);
        handle.await.unwrap();
    }
}
