//! A thin client for OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, llama.cpp server).
//! Chosen over a full SDK: one endpoint, a stable wire shape, and our own reqwest client and timeouts.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::budget::Usage;
use super::prompt::ChatMessage;
use crate::config::LlmSettings;

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model did not answer within the timeout")]
    Timeout,
    #[error("model API answered HTTP {status}")]
    Http {
        status: u16,
        /// `Retry-After`, when the API sent one (429/503).
        retry_after: Option<Duration>,
    },
    #[error("could not reach the model API: {0}")]
    Network(String),
    #[error("unreadable model answer: {0}")]
    InvalidResponse(String),
}

impl LlmError {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            _ => "error",
        }
    }
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    max_tokens: u32,
    temperature: f32,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<ApiUsage>,
}

#[derive(Deserialize)]
struct ApiUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// A model answer with the token usage the API reported (zero when it reported none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub usage: Usage,
}

#[derive(Deserialize)]
struct Choice {
    message: ResponseMessage,
}

#[derive(Deserialize)]
struct ResponseMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    url: String,
    api_key: SecretString,
    model: String,
    max_tokens: u32,
    temperature: f32,
    timeout: Duration,
    max_retries: u32,
    retry_base: Duration,
}

impl LlmClient {
    /// None when no API key is configured (the service then answers from templates).
    pub fn from_settings(http: reqwest::Client, settings: &LlmSettings) -> Option<Self> {
        Some(Self {
            http,
            url: format!(
                "{}/chat/completions",
                settings.base_url.as_str().trim_end_matches('/')
            ),
            api_key: settings.api_key.clone()?,
            model: settings.model.clone(),
            max_tokens: settings.max_tokens,
            temperature: settings.temperature,
            timeout: settings.timeout,
            max_retries: settings.max_retries,
            retry_base: settings.retry_base,
        })
    }

    /// Completes, retrying 429 and 5xx answers with backoff and jitter (honouring `Retry-After`) when
    /// `retries` is true. A circuit-breaker probe passes false: one plain attempt.
    pub async fn complete_with_retries(
        &self,
        messages: &[ChatMessage],
        retries: bool,
    ) -> Result<Completion, LlmError> {
        let mut attempt = 0;
        loop {
            match self.complete(messages).await {
                Err(LlmError::Http {
                    status,
                    retry_after,
                }) if retries && attempt < self.max_retries && (status == 429 || status >= 500) => {
                    attempt += 1;
                    let backoff = self.retry_base.saturating_mul(1 << attempt.min(8));
                    let jitter = backoff.mul_f64(rand::random_range(0.0..0.5));
                    // Honour the server's wish, but never wait longer than one request may take.
                    let wait = retry_after.unwrap_or(backoff + jitter).min(self.timeout);
                    tracing::warn!(
                        status,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "model API busy; retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    /// One attempt.
    pub async fn complete(&self, messages: &[ChatMessage]) -> Result<Completion, LlmError> {
        let request = ChatRequest {
            model: &self.model,
            messages,
            max_tokens: self.max_tokens,
            temperature: self.temperature,
        };
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(self.api_key.expose_secret())
            .timeout(self.timeout)
            .json(&request)
            .send()
            .await
            .map_err(map_error)?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(LlmError::Http {
                status: status.as_u16(),
                retry_after,
            });
        }
        let body: ChatResponse = response.json().await.map_err(map_error)?;
        let usage = body
            .usage
            .map(|u| Usage {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
            })
            .unwrap_or_default();
        let text = body
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| LlmError::InvalidResponse("no choices[0].message.content".into()))?;
        Ok(Completion { text, usage })
    }
}

fn map_error(err: reqwest::Error) -> LlmError {
    // The URL may carry credentials (user:pass@ or ?api-key=): never let it reach a log line.
    let err = err.without_url();
    if err.is_timeout() {
        LlmError::Timeout
    } else if err.is_decode() {
        LlmError::InvalidResponse(err.to_string())
    } else {
        LlmError::Network(err.to_string())
    }
}
