//! A fake of OpenAI's chat-completions API, answering in its JSON. Each helper returns an unmounted
//! [`Mock`], so a test can still say how often (`up_to_n_times`) and before what (`with_priority`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

/// The chat-completions endpoint, under the base URL the service is given (`…/v1`).
pub const CHAT_PATH: &str = "/v1/chat/completions";

/// Requests to the chat-completions endpoint; finish with `respond_with`.
pub fn chat_api() -> MockBuilder {
    Mock::given(method("POST")).and(path(CHAT_PATH))
}

/// A chat completion whose answer is `content`.
pub fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}
    })
}

/// The model answers `content`.
pub fn answers(content: &str) -> Mock {
    chat_api().respond_with(ResponseTemplate::new(200).set_body_json(completion(content)))
}

/// The model answers `content`, after `delay`.
pub fn answers_after(delay: Duration, content: &str) -> Mock {
    chat_api().respond_with(
        ResponseTemplate::new(200)
            .set_delay(delay)
            .set_body_json(completion(content)),
    )
}

/// The model answers with HTTP `status` and no body.
pub fn fails_with(status: u16) -> Mock {
    chat_api().respond_with(ResponseTemplate::new(status))
}

/// The model answers "Đã nhận <tag>", after `delay`, where the tag is the first word of the newest user
/// message: every reply is unique and can be matched to its message (see [`crate::zalo::tagged_text`]).
pub fn echoes(delay: Duration) -> Mock {
    chat_api().respond_with(move |request: &Request| echo(request, delay))
}

fn echo(request: &Request, delay: Duration) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_delay(delay)
        .set_body_json(completion(&format!("Đã nhận {}", tag_of(request))))
}

/// The first word of the newest user message in a chat-completion request.
fn tag_of(request: &Request) -> String {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let text = newest_user_text(&body);
    text.split_whitespace().next().unwrap_or("?").to_string()
}

/// One chat completion the model fake was asked for: the tag it echoed and when the request arrived.
#[derive(Debug, Clone)]
pub struct ModelCall {
    pub tag: String,
    pub at: Instant,
}

pub type ModelCalls = Arc<Mutex<Vec<ModelCall>>>;

/// Mounts [`echoes`] on `server`, recording every call as it arrives (whether or not its caller is still
/// there to read the answer), so a test can tell which process asked for which message and when.
pub async fn record_echoes(server: &MockServer, delay: Duration) -> ModelCalls {
    let calls: ModelCalls = Arc::default();
    let record = calls.clone();
    chat_api()
        .respond_with(move |request: &Request| {
            record.lock().unwrap().push(ModelCall {
                tag: tag_of(request),
                at: Instant::now(),
            });
            echo(request, delay)
        })
        .mount(server)
        .await;
    calls
}

/// The user's own words of the newest message in a chat-completion request (between the prompt markers).
fn newest_user_text(body: &Value) -> String {
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    last.split("<<<TIN_NHAN_NGUOI_DUNG>>>\n")
        .nth(1)
        .and_then(|rest| rest.split("\n<<<HET_TIN_NHAN>>>").next())
        .unwrap_or_default()
        .to_string()
}

/// The JSON bodies of every request `server` received, in order.
pub async fn requests(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_newest_user_text_is_read_between_the_markers() {
        let body = serde_json::json!({"messages": [
            {"role": "system", "content": "…"},
            {"role": "user", "content": "Tin nhắn:\n<<<TIN_NHAN_NGUOI_DUNG>>>\n[k1-2] cho hỏi\n<<<HET_TIN_NHAN>>>"}
        ]});
        assert_eq!(super::newest_user_text(&body), "[k1-2] cho hỏi");
    }
}
