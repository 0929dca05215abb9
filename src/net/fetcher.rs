//! The guarded HTTP client: every hop checked by `policy`, resolved once and pinned, redirects followed by
//! hand, one deadline over the whole fetch and a size cap enforced while the body streams in.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use reqwest::{Response, StatusCode};
use tokio::time::Instant;
use url::{Host, Url};

use super::{FetchError, policy};
use crate::config::NetSettings;

const USER_AGENT: &str = concat!("TradeSphere/", env!("CARGO_PKG_VERSION"));

/// The bounds of one fetch. The defaults are the production ones; tests use smaller ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Per connection attempt.
    pub connect_timeout: Duration,
    /// The whole fetch: every DNS lookup, connection, redirect and the body.
    pub total_timeout: Duration,
    /// The largest body read; a larger declared length is refused before reading.
    pub max_bytes: u64,
    /// Redirects followed at most; one more is [`FetchError::TooManyRedirects`].
    pub max_redirects: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            connect_timeout: Duration::from_secs(3),
            total_timeout: Duration::from_secs(10),
            max_bytes: 10 * 1024 * 1024,
            max_redirects: 3,
        }
    }
}

/// A body fetched within the limits.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// Where the body came from, after redirects.
    pub final_url: Url,
    /// What the server claimed; media decisions use the magic bytes, never this.
    pub content_type_header: Option<String>,
}

/// A redirect chain walked without reading bodies (link expansion).
#[derive(Debug, Clone)]
pub struct Chain {
    /// Every URL met, the one asked for first. When `end` is a refusal (scheme, address, too many
    /// redirects), the last one is the refused target, which was never contacted.
    pub hops: Vec<Url>,
    /// The status of the first answer that is not a redirect, or why the walk stopped.
    pub end: Result<StatusCode, FetchError>,
}

/// One request of a walk done by the caller (link expansion, which rate-limits and caches each hop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A redirect to this target, which has not been contacted.
    Redirect(Url),
    /// An answer that is not a redirect; its body is not read.
    Answer(StatusCode),
}

/// Fetches outside URLs under the address policy and the limits. Cheap to clone; holds no connection.
#[derive(Debug, Clone)]
pub struct GuardedFetcher {
    net: Arc<NetSettings>,
    limits: FetchLimits,
}

impl GuardedFetcher {
    pub fn new(net: &NetSettings, limits: FetchLimits) -> Self {
        GuardedFetcher {
            net: Arc::new(net.clone()),
            limits,
        }
    }

    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    /// GETs `url`, following up to `max_redirects` redirects, and reads the body under the size cap, all
    /// within `total_timeout`. Any status but 2xx after the redirects is [`FetchError::HttpStatus`].
    pub async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        let deadline = Instant::now() + self.limits.total_timeout;
        let (_, end) = self
            .walk(url, self.limits.max_redirects, deadline, &HeaderMap::new())
            .await;
        let mut response = end?;
        if !response.status().is_success() {
            return Err(FetchError::HttpStatus);
        }
        let final_url = response.url().clone();
        let content_type_header = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = read_capped(&mut response, self.limits.max_bytes, deadline).await?;
        Ok(Fetched {
            bytes,
            final_url,
            content_type_header,
        })
    }

    /// Walks `url`'s redirects, at most `max_hops` of them, each hop checked like [`GuardedFetcher::get`]'s
    /// and none of the bodies read, until an answer that is not a redirect or `deadline`.
    pub async fn follow(&self, url: &str, max_hops: usize, deadline: Instant) -> Chain {
        let (hops, end) = self.walk(url, max_hops, deadline, &HeaderMap::new()).await;
        Chain {
            hops,
            end: end.map(|response| response.status()),
        }
    }

    /// One request to `url` under the same checks as every hop of [`GuardedFetcher::follow`], its body
    /// unread: where it redirects, or the status it answers. The caller walks the chain, so it can decide
    /// before each request (a rate limit, a cache).
    pub async fn step(&self, url: &Url, deadline: Instant) -> Result<Step, FetchError> {
        let response = self.hop(url, deadline, &HeaderMap::new()).await?;
        match redirect_target(url, &response) {
            None => Ok(Step::Answer(response.status())),
            Some(target) => target.map(Step::Redirect),
        }
    }

    /// The hops visited (and a refused last target), and the first answer that is not a redirect. Each
    /// request carries `headers` (a feed's validators).
    pub(super) async fn walk(
        &self,
        url: &str,
        max_redirects: usize,
        deadline: Instant,
        headers: &HeaderMap,
    ) -> (Vec<Url>, Result<Response, FetchError>) {
        let mut hops = Vec::new();
        let mut url = match Url::parse(url) {
            Ok(url) => url,
            Err(_) => return (hops, Err(FetchError::BadUrl)),
        };
        loop {
            hops.push(url.clone());
            let response = match self.hop(&url, deadline, headers).await {
                Ok(response) => response,
                Err(e) => return (hops, Err(e)),
            };
            let next = match redirect_target(&url, &response) {
                None => return (hops, Ok(response)),
                Some(Err(e)) => return (hops, Err(e)),
                Some(Ok(next)) => next,
            };
            if hops.len() > max_redirects {
                hops.push(next);
                return (hops, Err(FetchError::TooManyRedirects));
            }
            url = next;
        }
    }

    /// One request: the scheme and every address checked, then a connection to those addresses only.
    async fn hop(
        &self,
        url: &Url,
        deadline: Instant,
        headers: &HeaderMap,
    ) -> Result<Response, FetchError> {
        let allow_listed = self.net.allows(url);
        policy::check_scheme(url, allow_listed)?;
        let port = url.port_or_known_default().ok_or(FetchError::BadUrl)?;
        let mut client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .referer(false)
            // The cap counts the bytes that arrive, whatever features other crates turn on in reqwest.
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .connect_timeout(self.limits.connect_timeout)
            .user_agent(USER_AGENT)
            .dns_resolver(Arc::new(NoResolver));
        match url.host().ok_or(FetchError::BadUrl)? {
            Host::Ipv4(ip) => policy::check_address(IpAddr::V4(ip), allow_listed)?,
            Host::Ipv6(ip) => policy::check_address(IpAddr::V6(ip), allow_listed)?,
            Host::Domain(name) => {
                let addrs = within(deadline, resolve(name, port)).await??;
                let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
                policy::check_addresses(&ips, allow_listed)?;
                client = client.resolve_to_addrs(name, &addrs);
            }
        }
        let client = client.build().map_err(|_| FetchError::Unreachable)?;
        let request = client.get(url.clone()).headers(headers.clone());
        let sent = within(deadline, request.send()).await?;
        sent.map_err(classify)
    }
}

/// Resolves once; the answer is both what the policy checks and what the client connects to.
async fn resolve(name: &str, port: u16) -> Result<Vec<SocketAddr>, FetchError> {
    let found = tokio::net::lookup_host((name, port))
        .await
        .map_err(|_| FetchError::Unreachable)?;
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for addr in found {
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    Ok(addrs)
}

/// The client's own resolver: it refuses every name, so the client can reach only the pinned addresses
/// (`resolve_to_addrs` answers before a resolver is asked) and never looks a name up a second time.
struct NoResolver;

impl Resolve for NoResolver {
    fn resolve(&self, _: Name) -> Resolving {
        Box::pin(std::future::ready(Err("no lookup past the guard".into())))
    }
}

/// Where a redirect points, when `response` is one with a `Location`.
fn redirect_target(from: &Url, response: &Response) -> Option<Result<Url, FetchError>> {
    let redirect = matches!(
        response.status(),
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    );
    let location = response.headers().get(LOCATION).filter(|_| redirect)?;
    let target = location.to_str().ok().and_then(|l| from.join(l).ok());
    Some(target.ok_or(FetchError::BadUrl))
}

/// Reads the body into memory, refusing a declared length over `max` before reading and cutting off a
/// body that grows past it, so at most `max` bytes (plus one network chunk) are ever held.
async fn read_capped(
    response: &mut Response,
    max: u64,
    deadline: Instant,
) -> Result<Vec<u8>, FetchError> {
    let declared = response.content_length();
    if declared.is_some_and(|n| n > max) {
        return Err(FetchError::TooLarge);
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = within(deadline, response.chunk())
        .await?
        .map_err(classify)?
    {
        if (bytes.len() + chunk.len()) as u64 > max {
            return Err(FetchError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

pub(super) async fn within<T>(
    deadline: Instant,
    fut: impl Future<Output = T>,
) -> Result<T, FetchError> {
    tokio::time::timeout_at(deadline, fut)
        .await
        .map_err(|_| FetchError::Timeout)
}

/// A connection that failed or broke off (connect timeouts included) is unreachable; the whole-fetch
/// deadline is [`within`]'s.
pub(super) fn classify(e: reqwest::Error) -> FetchError {
    if e.is_timeout() && !e.is_connect() {
        FetchError::Timeout
    } else {
        FetchError::Unreachable
    }
}
