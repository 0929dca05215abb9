//! Domain registration dates asked by RDAP through the guarded fetcher: the IANA bootstrap file and each
//! answer cached, each request within `links.rdap_timeout`. Counts every lookup made.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use url::Url;

use super::cache::{CAPACITY, TtlCache};
use super::rdap::{Bootstrap, domain_url, registration_date};
use crate::config::{LinksSettings, NetSettings};
use crate::net::{FetchLimits, GuardedFetcher};
use crate::scam::followed::RdapResult;
use crate::telemetry;

/// A registration date does not change; the bootstrap file changes a few times a year.
const ANSWER_TTL: Duration = Duration::from_secs(24 * 3600);
/// A failed lookup is tried again after this long, so a registry that is down is not asked per message.
const FAILURE_TTL: Duration = Duration::from_secs(600);
/// Bootstrap files and RDAP answers are a few kilobytes; IANA's DNS file is under 100.
const MAX_BYTES: u64 = 1024 * 1024;

/// Asks registries when domains were registered. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct RdapClient {
    fetcher: GuardedFetcher,
    bootstrap_url: Url,
    memory: Mutex<Memory>,
    /// One bootstrap download at a time: the lookups of one message start together.
    bootstrap_gate: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Memory {
    /// The bootstrap, or `None` after a failure (kept briefly).
    bootstrap: TtlCache<(), Option<Arc<Bootstrap>>>,
    answers: TtlCache<String, Option<DateTime<Utc>>>,
}

impl RdapClient {
    #[must_use]
    pub fn new(links: &LinksSettings, net: &NetSettings) -> Self {
        let limits = FetchLimits {
            total_timeout: links.rdap_timeout,
            max_bytes: MAX_BYTES,
            ..FetchLimits::default()
        };
        RdapClient {
            fetcher: GuardedFetcher::new(net, limits),
            bootstrap_url: links.rdap_bootstrap_url.clone(),
            memory: Mutex::new(Memory {
                bootstrap: TtlCache::new(1),
                answers: TtlCache::new(CAPACITY),
            }),
            bootstrap_gate: tokio::sync::Mutex::new(()),
        }
    }

    /// When `domain` (a registrable domain, lowercase ASCII) was registered, if its registry says.
    pub async fn registered(&self, domain: &str) -> Option<DateTime<Utc>> {
        if let Some(known) = self
            .memory()
            .answers
            .get(&domain.to_string(), Instant::now())
        {
            return known;
        }
        let (result, date) = self.ask(domain).await;
        metrics::counter!(telemetry::RDAP_LOOKUPS, "result" => result.as_str()).increment(1);
        let ttl = match result {
            RdapResult::Failed => FAILURE_TTL,
            RdapResult::Registered | RdapResult::NoDate | RdapResult::NoService => ANSWER_TTL,
        };
        self.memory()
            .answers
            .insert(domain.to_string(), date, ttl, Instant::now());
        date
    }

    async fn ask(&self, domain: &str) -> (RdapResult, Option<DateTime<Utc>>) {
        let Some(bootstrap) = self.bootstrap().await else {
            return (RdapResult::Failed, None);
        };
        let Some(url) = bootstrap
            .server_for(domain)
            .and_then(|base| domain_url(base, domain))
        else {
            return (RdapResult::NoService, None);
        };
        let Ok(answer) = self.fetcher.get(url.as_str()).await else {
            return (RdapResult::Failed, None);
        };
        match registration_date(&answer.bytes) {
            Ok(Some(date)) => (RdapResult::Registered, Some(date)),
            Ok(None) => (RdapResult::NoDate, None),
            Err(_) => (RdapResult::Failed, None),
        }
    }

    async fn bootstrap(&self) -> Option<Arc<Bootstrap>> {
        let _gate = self.bootstrap_gate.lock().await;
        if let Some(known) = self.memory().bootstrap.get(&(), Instant::now()) {
            return known;
        }
        let fetched = self.fetcher.get(self.bootstrap_url.as_str()).await;
        let parsed = fetched
            .ok()
            .and_then(|f| Bootstrap::parse(&f.bytes).ok())
            .map(Arc::new);
        if parsed.is_none() {
            tracing::warn!(
                "the RDAP bootstrap file could not be read; domain ages are unknown for now"
            );
        }
        let ttl = if parsed.is_some() {
            ANSWER_TTL
        } else {
            FAILURE_TTL
        };
        self.memory()
            .bootstrap
            .insert((), parsed.clone(), ttl, Instant::now());
        parsed
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }
}
