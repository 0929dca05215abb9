//! The LLM actor: turns a user's message and history into an answer. Each request runs in its own task
//! (bounded by a semaphore), so one slow completion never blocks other users. Every request gets an
//! answer: the model's, or a templated Vietnamese fallback when the model is not configured or fails.

use std::sync::Arc;
use std::time::Instant;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::Semaphore;

use super::Deps;
use crate::domain::HistoryTurn;
use crate::faults::FaultPoint;
use crate::llm::client::LlmClient;
use crate::llm::prompt::{build_messages, clean_answer};
use crate::reply::templates;
use crate::telemetry;

pub struct LlmActor;

pub struct LlmState {
    deps: Deps,
    client: Option<LlmClient>,
    permits: Arc<Semaphore>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmAnswer {
    pub text: String,
    /// False when the text is a templated fallback.
    pub from_model: bool,
}

pub enum LlmMsg {
    Complete {
        history: Vec<HistoryTurn>,
        user_text: String,
        reply: RpcReplyPort<LlmAnswer>,
    },
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
        let client = LlmClient::from_settings(deps.http.clone(), &deps.settings.llm);
        let permits = Arc::new(Semaphore::new(deps.settings.llm.max_concurrency));
        Ok(LlmState {
            deps,
            client,
            permits,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            LlmMsg::Complete {
                history,
                user_text,
                reply,
            } => {
                state.deps.faults.trip(FaultPoint::Llm);
                let Some(client) = state.client.clone() else {
                    metrics::counter!(telemetry::LLM_REQUESTS, "result" => "not_configured")
                        .increment(1);
                    let _ = reply.send(fallback(&user_text));
                    return Ok(());
                };
                let messages =
                    build_messages(&state.deps.settings.llm.system_prompt, &history, &user_text);
                let permits = state.permits.clone();
                tokio::spawn(async move {
                    let Ok(_permit) = permits.acquire_owned().await else {
                        return;
                    };
                    let started = Instant::now();
                    let result = client.complete(&messages).await;
                    metrics::histogram!(telemetry::LLM_DURATION)
                        .record(started.elapsed().as_secs_f64());
                    let answer = match result.map(|raw| clean_answer(&raw)) {
                        Ok(Some(text)) => {
                            metrics::counter!(telemetry::LLM_REQUESTS, "result" => "ok")
                                .increment(1);
                            LlmAnswer {
                                text,
                                from_model: true,
                            }
                        }
                        Ok(None) => {
                            metrics::counter!(telemetry::LLM_REQUESTS, "result" => "error")
                                .increment(1);
                            tracing::warn!("model returned an empty answer; using the fallback");
                            fallback(&user_text)
                        }
                        Err(err) => {
                            metrics::counter!(telemetry::LLM_REQUESTS, "result" => err.label())
                                .increment(1);
                            tracing::warn!(error = %err, "model call failed; using the fallback");
                            fallback(&user_text)
                        }
                    };
                    let _ = reply.send(answer);
                });
            }
        }
        Ok(())
    }
}

fn fallback(user_text: &str) -> LlmAnswer {
    LlmAnswer {
        text: templates::fallback_answer(user_text),
        from_model: false,
    }
}
