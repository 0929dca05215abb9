//! The sections that pace the service itself: `[conversation]`, `[intake]`, `[supervisor]`, `[handoff]`,
//! `[scam]` and `[alerts]`.

use std::time::Duration;

use serde::Deserialize;

use super::feeds::{FeedSettings, LegacyList, RawFeed, parse_feeds};
use super::{ConfigError, invalid, optional_url};

#[derive(Debug, Clone)]
pub struct ConversationSettings {
    pub idle_timeout: Duration,
    /// Live conversation actors at most: past it, the least recently used idle ones are stopped early.
    pub max_live: usize,
    pub max_attempts: u32,
    /// Messages one user may send within `rate_window` before the rest are recorded unanswered.
    pub max_messages_per_window: u32,
    pub rate_window: Duration,
}

#[derive(Debug, Clone)]
pub struct IntakeSettings {
    pub redispatch_after: Duration,
    pub sweep_interval: Duration,
    pub max_in_flight: usize,
}

#[derive(Debug, Clone)]
pub struct SupervisorSettings {
    pub max_restarts: u32,
    pub window: Duration,
    pub backoff_base: Duration,
}

#[derive(Debug, Clone)]
pub struct HandoffSettings {
    pub pause: Duration,
}

#[derive(Debug, Clone)]
pub struct ScamSettings {
    /// How often the in-memory report index picks up rows changed by other processes.
    pub index_refresh: Duration,
    /// The list `scam sync` downloads (one domain per line, or chongluadao's JSON); `None` = sync off.
    pub sync_url: Option<url::Url>,
    pub sync_interval: Duration,
    pub sync_source: String,
    pub sync_category: String,
    /// Every feed, the old single list (`sync_url`) included as one; only the `enabled` ones sync.
    pub feeds: Vec<FeedSettings>,
}

#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Zalo users (OA admins who follow the OA) who get firing alerts from `POST /api/v1/alerts`.
    pub zalo_user_ids: Vec<String>,
}

#[derive(Deserialize)]
pub(super) struct RawConversation {
    idle_timeout_secs: u64,
    max_live: usize,
    max_attempts: u32,
    max_messages_per_window: u32,
    rate_window_secs: u64,
}

#[derive(Deserialize)]
pub(super) struct RawIntake {
    redispatch_after_secs: u64,
    sweep_interval_secs: u64,
    max_in_flight: usize,
}

#[derive(Deserialize)]
pub(super) struct RawSupervisor {
    max_restarts: u32,
    window_secs: u64,
    backoff_base_ms: u64,
}

#[derive(Deserialize)]
pub(super) struct RawHandoff {
    pause_minutes: u64,
}

#[derive(Deserialize)]
pub(super) struct RawScam {
    index_refresh_secs: u64,
    sync_url: String,
    sync_interval_hours: u64,
    sync_source: String,
    sync_category: String,
    #[serde(default)]
    feeds: Vec<RawFeed>,
    #[serde(default)]
    enable_feeds: String,
    #[serde(default)]
    disable_feeds: String,
}

#[derive(Deserialize)]
pub(super) struct RawAlerts {
    zalo_user_ids: String,
}

impl RawConversation {
    pub(super) fn parse(self) -> Result<ConversationSettings, ConfigError> {
        if self.max_live == 0 {
            return Err(invalid("conversation.max_live", "must be at least 1"));
        }
        if self.max_attempts == 0 {
            return Err(invalid("conversation.max_attempts", "must be at least 1"));
        }
        if self.max_messages_per_window == 0 {
            return Err(invalid(
                "conversation.max_messages_per_window",
                "must be at least 1",
            ));
        }
        if self.rate_window_secs == 0 {
            return Err(invalid(
                "conversation.rate_window_secs",
                "must be at least 1",
            ));
        }
        Ok(ConversationSettings {
            idle_timeout: Duration::from_secs(self.idle_timeout_secs.max(1)),
            max_live: self.max_live,
            max_attempts: self.max_attempts,
            max_messages_per_window: self.max_messages_per_window,
            rate_window: Duration::from_secs(self.rate_window_secs),
        })
    }
}

impl RawIntake {
    pub(super) fn parse(self) -> Result<IntakeSettings, ConfigError> {
        if self.max_in_flight == 0 {
            return Err(invalid("intake.max_in_flight", "must be at least 1"));
        }
        if self.sweep_interval_secs == 0 {
            return Err(invalid("intake.sweep_interval_secs", "must be at least 1"));
        }
        Ok(IntakeSettings {
            redispatch_after: Duration::from_secs(self.redispatch_after_secs),
            sweep_interval: Duration::from_secs(self.sweep_interval_secs),
            max_in_flight: self.max_in_flight,
        })
    }
}

impl RawSupervisor {
    pub(super) fn parse(self) -> Result<SupervisorSettings, ConfigError> {
        if self.window_secs == 0 {
            return Err(invalid("supervisor.window_secs", "must be at least 1"));
        }
        Ok(SupervisorSettings {
            max_restarts: self.max_restarts,
            window: Duration::from_secs(self.window_secs),
            backoff_base: Duration::from_millis(self.backoff_base_ms),
        })
    }
}

impl RawHandoff {
    pub(super) fn parse(self) -> HandoffSettings {
        HandoffSettings {
            pause: Duration::from_secs(self.pause_minutes * 60),
        }
    }
}

impl RawScam {
    pub(super) fn parse(self) -> Result<ScamSettings, ConfigError> {
        let sync_url = optional_url("scam.sync_url", &self.sync_url)?;
        let sync_interval = Duration::from_secs(self.sync_interval_hours.max(1) * 3600);
        let feeds = parse_feeds(
            self.feeds,
            LegacyList {
                url: sync_url.clone(),
                interval: sync_interval,
                source: self.sync_source.clone(),
                category: self.sync_category.clone(),
            },
            &self.enable_feeds,
            &self.disable_feeds,
        )?;
        Ok(ScamSettings {
            index_refresh: Duration::from_secs(self.index_refresh_secs),
            sync_url,
            sync_interval,
            sync_source: self.sync_source,
            sync_category: self.sync_category,
            feeds,
        })
    }
}

impl RawAlerts {
    pub(super) fn parse(self) -> AlertSettings {
        AlertSettings {
            zalo_user_ids: self
                .zalo_user_ids
                .split([',', ' '])
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}
