//! The `[cluster]` section: several replicas on one PostgreSQL (SQLite is always a single process).

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, invalid};

#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// This replica's name: for people, the dashboards and PostgreSQL's `application_name`.
    pub member_name: String,
    /// Partitions users hash into; must equal the database's (never changed in place).
    pub partitions: u16,
    pub heartbeat_interval: Duration,
    /// A member whose heartbeat is older than this is dead, and its partitions free.
    pub member_ttl: Duration,
    /// Local trust in the leases ends this long before the database-side lease does.
    pub trust_margin: Duration,
    /// How often a replica claims free partitions or hands over its excess.
    pub rebalance_interval: Duration,
    /// A member younger than this is not given partitions by the others (a crash loop must not churn).
    pub min_member_age: Duration,
    /// How long a partition being handed over may finish its in-flight work.
    pub drain_timeout: Duration,
    /// Send a NOTIFY hint to the owner of an event received by another replica (polling is always on).
    pub notify: bool,
    /// How often the inbox of the owned partitions is polled for events received elsewhere.
    pub poll_interval: Duration,
}

#[derive(Deserialize)]
pub(super) struct RawCluster {
    member_name: String,
    partitions: u16,
    heartbeat_interval_ms: u64,
    member_ttl_ms: u64,
    trust_margin_ms: u64,
    rebalance_interval_ms: u64,
    min_member_age_ms: u64,
    drain_timeout_ms: u64,
    notify: bool,
    poll_interval_ms: u64,
}

impl RawCluster {
    pub(super) fn parse(self) -> Result<ClusterSettings, ConfigError> {
        if !(1..=256).contains(&self.partitions) {
            return Err(invalid("cluster.partitions", "must be 1 to 256"));
        }
        for (key, value) in [
            ("cluster.heartbeat_interval_ms", self.heartbeat_interval_ms),
            ("cluster.rebalance_interval_ms", self.rebalance_interval_ms),
            ("cluster.poll_interval_ms", self.poll_interval_ms),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if self.member_ttl_ms < 3 * self.heartbeat_interval_ms {
            return Err(invalid(
                "cluster.member_ttl_ms",
                "must be at least 3 × cluster.heartbeat_interval_ms",
            ));
        }
        if self.trust_margin_ms >= self.member_ttl_ms - self.heartbeat_interval_ms {
            return Err(invalid(
                "cluster.trust_margin_ms",
                "must be below cluster.member_ttl_ms minus one heartbeat interval",
            ));
        }
        let name = self.member_name.trim();
        let member_name = if name.is_empty() {
            format!("{}-{}", hostname(), std::process::id())
        } else if name.len() > 48 || name.chars().any(|c| c.is_control()) {
            return Err(invalid(
                "cluster.member_name",
                "must be at most 48 printable characters",
            ));
        } else {
            name.to_string()
        };
        Ok(ClusterSettings {
            member_name,
            partitions: self.partitions,
            heartbeat_interval: Duration::from_millis(self.heartbeat_interval_ms),
            member_ttl: Duration::from_millis(self.member_ttl_ms),
            trust_margin: Duration::from_millis(self.trust_margin_ms),
            rebalance_interval: Duration::from_millis(self.rebalance_interval_ms),
            min_member_age: Duration::from_millis(self.min_member_age_ms),
            drain_timeout: Duration::from_millis(self.drain_timeout_ms),
            notify: self.notify,
            poll_interval: Duration::from_millis(self.poll_interval_ms),
        })
    }
}

/// The machine's name, for the default member name (containers set it to their id).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().chars().take(32).collect::<String>())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "tradesphere".to_string())
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
    fn defaults_name_the_host_and_process_and_follow_the_design_timings() {
        let cluster = load(&[]).unwrap().cluster;
        assert!(
            cluster
                .member_name
                .ends_with(&format!("-{}", std::process::id()))
        );
        assert_eq!(cluster.partitions, 256);
        assert_eq!(cluster.heartbeat_interval, Duration::from_secs(1));
        assert_eq!(cluster.member_ttl, Duration::from_secs(5));
        assert_eq!(cluster.poll_interval, Duration::from_millis(250));
        assert!(cluster.notify);
    }

    #[test]
    fn environment_variables_set_each_key() {
        let settings = load(&[
            ("TRADESPHERE__CLUSTER__MEMBER_NAME", "r1"),
            ("TRADESPHERE__CLUSTER__MEMBER_TTL_MS", "1500"),
            ("TRADESPHERE__CLUSTER__HEARTBEAT_INTERVAL_MS", "200"),
            ("TRADESPHERE__CLUSTER__TRUST_MARGIN_MS", "300"),
        ])
        .unwrap();
        assert_eq!(settings.cluster.member_name, "r1");
        assert_eq!(settings.cluster.member_ttl, Duration::from_millis(1500));
        assert_eq!(
            settings.database.application_name.as_deref(),
            Some("tradesphere/r1")
        );
    }

    #[test]
    fn a_lease_shorter_than_three_heartbeats_or_a_margin_eating_it_is_refused() {
        let err = load(&[("TRADESPHERE__CLUSTER__MEMBER_TTL_MS", "2000")]).unwrap_err();
        assert!(err.to_string().contains("cluster.member_ttl_ms"), "{err}");
        let err = load(&[("TRADESPHERE__CLUSTER__TRUST_MARGIN_MS", "4500")]).unwrap_err();
        assert!(err.to_string().contains("cluster.trust_margin_ms"), "{err}");
        let err = load(&[("TRADESPHERE__CLUSTER__PARTITIONS", "0")]).unwrap_err();
        assert!(err.to_string().contains("cluster.partitions"), "{err}");
    }
}
