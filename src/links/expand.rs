//! Walking one link's redirects, hop by hop, through the guarded fetcher: each hop is answered from the
//! cache or, when its host is within its rate limit, asked once with its body unread. Counts every walk.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::time::Instant;
use url::Url;

use super::cache::{CAPACITY, HostLimiter, TtlCache, ttl_of};
use super::plan::Planned;
use super::walk::{Move, next_move};
use crate::config::{LinksSettings, NetSettings};
use crate::net::{FetchError, FetchLimits, GuardedFetcher, Step};
use crate::scam::followed::{ChainEnd, LinkChain};
use crate::telemetry;

/// Follows links; cheap to share behind an `Arc`. Its cache and limiter are its own, held only between
/// awaits, never across one.
#[derive(Debug)]
pub struct LinkExpander {
    fetcher: GuardedFetcher,
    max_hops: usize,
    timeout: Duration,
    cache_ttl: Duration,
    memory: Mutex<Memory>,
}

#[derive(Debug)]
struct Memory {
    hops: TtlCache<Url, Result<Step, FetchError>>,
    limiter: HostLimiter,
}

/// How a hop is answered.
enum Source {
    Cached(Result<Step, FetchError>),
    Ask,
    Throttled,
}

impl LinkExpander {
    #[must_use]
    pub fn new(links: &LinksSettings, net: &NetSettings) -> Self {
        let limits = FetchLimits {
            total_timeout: links.timeout,
            max_redirects: links.max_hops,
            // No body is read; nothing bigger than headers is ever held.
            max_bytes: 0,
            ..FetchLimits::default()
        };
        LinkExpander {
            fetcher: GuardedFetcher::new(net, limits),
            max_hops: links.max_hops,
            timeout: links.timeout,
            cache_ttl: links.cache_ttl,
            memory: Mutex::new(Memory {
                hops: TtlCache::new(CAPACITY),
                limiter: HostLimiter::new(links.per_host_per_minute, CAPACITY),
            }),
        }
    }

    /// Follows each link at once, each within its own time.
    pub async fn expand_all(&self, planned: &[Planned]) -> Vec<LinkChain> {
        join_all(planned.iter().map(|p| self.expand(p))).await
    }

    /// Walks `planned`'s redirects: at most `links.max_hops`, within `links.timeout`, every hop checked by
    /// the fetcher's address policy before any connection.
    pub async fn expand(&self, planned: &Planned) -> LinkChain {
        let deadline = Instant::now() + self.timeout;
        let mut hops = vec![planned.url.clone()];
        let end = loop {
            let url = hops.last().expect("a walk starts with its link").clone();
            let answer = match self.source(&url) {
                Source::Cached(answer) => answer,
                Source::Throttled => break ChainEnd::Throttled,
                Source::Ask => {
                    let answer = self.fetcher.step(&url, deadline).await;
                    self.remember(url, &answer);
                    answer
                }
            };
            match next_move(&hops, answer, self.max_hops) {
                Move::Visit(next) => hops.push(next),
                Move::Stop(end, named) => {
                    hops.extend(named);
                    break end;
                }
            }
        };
        let chain = LinkChain {
            span: planned.span.clone(),
            raw: planned.raw.clone(),
            hops,
            end,
        };
        metrics::counter!(telemetry::LINK_EXPANSIONS, "result" => end.as_str()).increment(1);
        metrics::histogram!(telemetry::LINK_EXPANSION_HOPS).record(chain.redirects() as f64);
        chain
    }

    fn source(&self, url: &Url) -> Source {
        let now = std::time::Instant::now();
        let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(answer) = memory.hops.get(url, now) {
            return Source::Cached(answer);
        }
        // A URL the fetcher will not ask (another scheme) spends no allowance.
        let Some(host) = url
            .host_str()
            .filter(|_| matches!(url.scheme(), "http" | "https"))
        else {
            return Source::Ask;
        };
        if memory.limiter.admit(host, now) {
            Source::Ask
        } else {
            Source::Throttled
        }
    }

    fn remember(&self, url: Url, answer: &Result<Step, FetchError>) {
        let ttl = ttl_of(answer, self.cache_ttl);
        let now = std::time::Instant::now();
        let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        memory.hops.insert(url, answer.clone(), ttl, now);
    }
}
