//! The `[llm]` section: the model endpoint, the prompt, and the cost limits and circuit breaker around it.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::{ConfigError, base_url, invalid, secret};

#[derive(Debug, Clone)]
pub struct LlmSettings {
    pub api_key: Option<SecretString>,
    pub base_url: url::Url,
    pub model: String,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_tokens: u32,
    pub temperature: f32,
    pub history_messages: usize,
    pub history_token_budget: usize,
    pub max_concurrency: usize,
    pub system_prompt: String,
    pub max_retries: u32,
    pub retry_base: Duration,
    pub debounce: Duration,
    pub max_answer_chars: usize,
    pub budget: BudgetSettings,
    pub breaker: BreakerSettings,
}

impl LlmSettings {
    /// The longest one answer may take, queueing and retries included; after it, a templated answer.
    pub fn deadline(&self) -> Duration {
        self.timeout * (self.max_retries + 2)
    }
}

/// The language model's cost limits. Every 0 means "nothing allowed", not "unlimited".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetSettings {
    /// Requests one user may start in any 60-second window.
    pub user_requests_per_minute: u32,
    /// Tokens one user may use per day.
    pub user_tokens_per_day: u64,
    /// Tokens all users together may use per day.
    pub global_tokens_per_day: u64,
}

/// How eagerly the language model's circuit breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failures (while closed) that open the breaker. 0 behaves like 1.
    pub failure_threshold: u32,
    /// How long the breaker stays open before a probe is allowed.
    pub cooldown: Duration,
}

#[derive(Deserialize)]
pub(super) struct RawLlm {
    api_key: String,
    base_url: String,
    model: String,
    timeout_secs: u64,
    connect_timeout_secs: u64,
    max_tokens: u32,
    temperature: f32,
    history_messages: usize,
    history_token_budget: usize,
    max_concurrency: usize,
    system_prompt: String,
    max_retries: u32,
    retry_base_ms: u64,
    debounce_ms: u64,
    max_answer_chars: usize,
    user_requests_per_minute: u32,
    user_tokens_per_day: u64,
    global_tokens_per_day: u64,
    breaker_failure_threshold: u32,
    breaker_cooldown_secs: u64,
}

impl RawLlm {
    pub(super) fn parse(self) -> Result<LlmSettings, ConfigError> {
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(invalid("llm.temperature", "must be between 0 and 2"));
        }
        if self.max_concurrency == 0 {
            return Err(invalid("llm.max_concurrency", "must be at least 1"));
        }
        if self.model.trim().is_empty() {
            return Err(invalid("llm.model", "must not be empty"));
        }
        Ok(LlmSettings {
            api_key: secret(self.api_key),
            base_url: base_url("llm.base_url", &self.base_url)?,
            model: self.model.trim().to_string(),
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
            connect_timeout: Duration::from_secs(self.connect_timeout_secs.max(1)),
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            history_messages: self.history_messages,
            history_token_budget: self.history_token_budget,
            max_concurrency: self.max_concurrency,
            system_prompt: self.system_prompt.trim().to_string(),
            max_retries: self.max_retries,
            retry_base: Duration::from_millis(self.retry_base_ms),
            debounce: Duration::from_millis(self.debounce_ms),
            max_answer_chars: self.max_answer_chars.max(100),
            budget: BudgetSettings {
                user_requests_per_minute: self.user_requests_per_minute,
                user_tokens_per_day: self.user_tokens_per_day,
                global_tokens_per_day: self.global_tokens_per_day,
            },
            breaker: BreakerSettings {
                failure_threshold: self.breaker_failure_threshold.max(1),
                cooldown: Duration::from_secs(self.breaker_cooldown_secs),
            },
        })
    }
}
