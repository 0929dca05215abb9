//! One user's conversation: handles that user's events strictly in order, decides the reply (usage guide,
//! scam check, LLM answer), and commits both sides of the chat plus the queued reply in one transaction.

use std::collections::VecDeque;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::conversations::{ConversationsMsg, Inbound};
use super::llm::{LlmAnswer, LlmMsg};
use super::outbound::OutboundMsg;
use super::scam::ScamMsg;
use super::{Deps, ask};
use crate::domain::UserId;
use crate::faults::FaultPoint;
use crate::reply::{split::split_message, templates};
use crate::scam::Finding;
use crate::store::{ChatLine, Completion};
use crate::telemetry;
use crate::zalo::events::{EventKind, UserMessageKind};

/// Remembered inbox ids, to skip a re-dispatched duplicate without a database round trip.
const RECENT_IDS: usize = 64;
const SCAM_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ConversationActor;

pub struct ConversationArgs {
    pub user: UserId,
    pub manager: ActorRef<ConversationsMsg>,
    pub deps: Deps,
}

pub struct ConversationState {
    user: UserId,
    manager: ActorRef<ConversationsMsg>,
    deps: Deps,
    processed: u64,
    recent: VecDeque<i64>,
}

pub enum ConversationMsg {
    Handle(Box<Inbound>),
    /// Sent `idle_timeout` after an event; if nothing was processed since, the manager is told.
    IdleCheck(u64),
}

/// What to answer, and how the event is recorded.
struct Decision {
    user_message: Option<ChatLine>,
    reply: Option<String>,
    outcome: &'static str,
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
        Ok(ConversationState {
            user: args.user,
            manager: args.manager,
            deps: args.deps,
            processed: 0,
            recent: VecDeque::with_capacity(RECENT_IDS),
        })
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
                    handle_event(state, &inbound).await?;
                    if state.recent.len() == RECENT_IDS {
                        state.recent.pop_front();
                    }
                    state.recent.push_back(inbound.inbox_id);
                }
                state.processed += 1;
                let processed = state.processed;
                myself.send_after(state.deps.settings.conversation.idle_timeout, move || {
                    ConversationMsg::IdleCheck(processed)
                });
            }
            ConversationMsg::IdleCheck(processed) => {
                if processed == state.processed {
                    let _ = state.manager.cast(ConversationsMsg::Idle {
                        user: state.user.clone(),
                        child: myself.get_id(),
                        processed,
                    });
                }
            }
        }
        Ok(())
    }
}

async fn handle_event(
    state: &mut ConversationState,
    inbound: &Inbound,
) -> Result<(), ActorProcessingErr> {
    let store = &state.deps.store;
    let user = &state.user;
    let Some(attempt) = store.begin_attempt(inbound.inbox_id).await? else {
        return Ok(()); // handled already (a re-delivered duplicate)
    };
    if attempt > state.deps.settings.conversation.max_attempts as i32 {
        tracing::error!(
            user = %user.short_hash(),
            inbox_id = inbound.inbox_id,
            attempt,
            "event failed too many times; dead-lettered (left in the inbox with outcome dead_letter)"
        );
        store.finish_event(inbound.inbox_id, "dead_letter").await?;
        metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => "dead_letter").increment(1);
        return Ok(());
    }

    let event = &inbound.event;
    let decision = match &event.kind {
        EventKind::UserMessage(kind) => {
            store.touch_user(user, None).await?;
            decide_user_message(state, *kind, inbound).await?
        }
        EventKind::Follow => {
            store.touch_user(user, Some(true)).await?;
            Decision {
                user_message: None,
                reply: Some(templates::WELCOME.to_string()),
                outcome: "welcome",
            }
        }
        EventKind::Unfollow => {
            store.touch_user(user, Some(false)).await?;
            finish(state, inbound, "unfollow").await?;
            return Ok(());
        }
        EventKind::OaEcho => {
            let ours = match &event.msg_id {
                Some(id) => store.is_our_message(id).await?,
                None => false,
            };
            if ours {
                finish(state, inbound, "own_echo").await?;
            } else {
                // Typed by an OA admin in the Zalo OA chat: part of the conversation history.
                let text = event.text.clone().unwrap_or_default();
                store
                    .record_admin_message(user, &text, &inbound.event_key, inbound.inbox_id)
                    .await?;
                metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => "admin_echo")
                    .increment(1);
            }
            return Ok(());
        }
        EventKind::Other => {
            finish(state, inbound, "ignored").await?;
            return Ok(());
        }
    };

    let reply_parts = decision
        .reply
        .as_deref()
        .map(|r| split_message(r, state.deps.settings.outbound.max_message_chars))
        .unwrap_or_default();
    let completion = Completion {
        inbox_id: inbound.inbox_id,
        event_key: inbound.event_key.clone(),
        user: user.clone(),
        user_message: decision.user_message,
        reply_parts,
        outcome: decision.outcome,
    };
    if let Some(queued) = store.complete_event(completion).await? {
        metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => decision.outcome).increment(1);
        tracing::info!(user = %user.short_hash(), outcome = decision.outcome, parts = queued.len(), "event handled");
        if !queued.is_empty() {
            match state.deps.directory.outbound() {
                Some(outbound) => {
                    let _ = outbound.cast(OutboundMsg::Enqueue(queued));
                }
                // Queued in the database: the outbound actor sends it when it (re)starts.
                None => tracing::warn!("outbound actor not running; reply stays queued"),
            }
        }
    }
    Ok(())
}

async fn finish(
    state: &ConversationState,
    inbound: &Inbound,
    outcome: &'static str,
) -> Result<(), ActorProcessingErr> {
    if state
        .deps
        .store
        .finish_event(inbound.inbox_id, outcome)
        .await?
    {
        metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => outcome).increment(1);
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
    state: &ConversationState,
    kind: UserMessageKind,
    inbound: &Inbound,
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
    if text.trim().is_empty() {
        return Ok(Decision {
            user_message: Some(record),
            reply: Some(templates::UNSUPPORTED_MEDIA.to_string()),
            outcome: "unsupported",
        });
    }
    if templates::is_help_command(&text) {
        return Ok(Decision {
            user_message: Some(record),
            reply: Some(templates::HELP.to_string()),
            outcome: "help",
        });
    }
    let findings: Vec<Finding> = ask(
        || state.deps.directory.scam(),
        "scam",
        |reply| ScamMsg::Check {
            text: text.clone(),
            reply,
        },
        SCAM_TIMEOUT,
    )
    .await?;
    if !findings.is_empty() {
        return Ok(Decision {
            user_message: Some(record),
            reply: Some(templates::scam_reply(&findings)),
            outcome: "scam_check",
        });
    }
    let limit = state.deps.settings.llm.history_messages as u64;
    let history = state.deps.store.recent_history(&state.user, limit).await?;
    let llm_timeout = state.deps.settings.llm.timeout * 2 + Duration::from_secs(5);
    let answer: LlmAnswer = ask(
        || state.deps.directory.llm(),
        "llm",
        |reply| LlmMsg::Complete {
            history: history.clone(),
            user_text: text.clone(),
            reply,
        },
        llm_timeout,
    )
    .await?;
    Ok(Decision {
        user_message: Some(record),
        outcome: if answer.from_model {
            "llm"
        } else {
            "llm_fallback"
        },
        reply: Some(answer.text),
    })
}
