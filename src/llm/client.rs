//! A thin client for OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, llama.cpp server).
//! Chosen over a full SDK: one endpoint, a stable wire shape, and our own reqwest client and timeouts.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::prompt::ChatMessage;
use crate::config::LlmSettings;

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model did not answer within the timeout")]
    Timeout,
    #[error("model API answered HTTP {status}")]
    Http { status: u16 },
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
}

impl LlmClient {
    /// None when no API key is configured (the service then answers from templates).
    pub fn from_settings(http: reqwest::Client, settings: &LlmSettings) -> Option<Self> {
        Some(Self {
            http,
            url: crate::config::endpoint(&settings.base_url, "/chat/completions"),
            api_key: settings.api_key.clone()?,
            model: settings.model.clone(),
            max_tokens: settings.max_tokens,
            temperature: settings.temperature,
            timeout: settings.timeout,
        })
    }

    pub async fn complete(&self, messages: &[ChatMessage]) -> Result<String, LlmError> {
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
            return Err(LlmError::Http {
                status: status.as_u16(),
            });
        }
        let body: ChatResponse = response.json().await.map_err(map_error)?;
        body.choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| LlmError::InvalidResponse("no choices[0].message.content".into()))
    }
}

fn map_error(err: reqwest::Error) -> LlmError {
    if err.is_timeout() {
        LlmError::Timeout
    } else if err.is_decode() {
        LlmError::InvalidResponse(err.to_string())
    } else {
        LlmError::Network(err.to_string())
    }
}
