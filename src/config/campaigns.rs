//! The `[campaigns]` section: how scam alerts reach the users who follow the OA.

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, invalid};

#[derive(Debug, Clone)]
pub struct CampaignSettings {
    /// Zalo's customer-service window: a user whose last interaction is older is not sent a campaign.
    pub window: Duration,
    /// How often the queue of campaign recipients is looked at (and the morning noticed).
    pub tick: Duration,
    /// Campaign messages handed to the sender at once, so a big campaign never crowds out replies.
    pub batch: u64,
}

#[derive(Deserialize)]
pub(super) struct RawCampaigns {
    window_hours: u64,
    tick_ms: u64,
    batch: u64,
}

impl RawCampaigns {
    pub(super) fn parse(self) -> Result<CampaignSettings, ConfigError> {
        if self.window_hours == 0 {
            return Err(invalid("campaigns.window_hours", "must be at least 1"));
        }
        if self.tick_ms == 0 {
            return Err(invalid("campaigns.tick_ms", "must be at least 1"));
        }
        if self.batch == 0 {
            return Err(invalid("campaigns.batch", "must be at least 1"));
        }
        Ok(CampaignSettings {
            window: Duration::from_secs(self.window_hours * 3600),
            tick: Duration::from_millis(self.tick_ms),
            batch: self.batch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_env_map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_window_is_zalos_week_by_default_and_zero_is_refused() {
        let s = load(&[]).unwrap();
        assert_eq!(s.campaigns.window, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(s.campaigns.batch, 50);
        let s = load(&[("TRADESPHERE__CAMPAIGNS__TICK_MS", "100")]).unwrap();
        assert_eq!(s.campaigns.tick, Duration::from_millis(100));
        for key in [
            "TRADESPHERE__CAMPAIGNS__WINDOW_HOURS",
            "TRADESPHERE__CAMPAIGNS__TICK_MS",
            "TRADESPHERE__CAMPAIGNS__BATCH",
        ] {
            let err = load(&[(key, "0")]).unwrap_err().to_string();
            assert!(err.contains("campaigns."), "{key}: {err}");
        }
    }
}
