//! The HTTP surface (warp): the Zalo webhook, the admin endpoints (send, scam check and reports, token, alerts,
//! campaigns),
//! health, readiness and metrics.
//! Only this module knows warp (and the hyper connection settings under it). Handlers translate between HTTP and
//! the store/actors, nothing more.
//!
//! **Listeners.** With `server.admin_listen` unset, one listener serves every route ([`Surface::All`]). With it
//! set, the public listener ([`Surface::Public`]) serves only what the internet may reach (the webhook, the OAuth
//! callback, `/healthz`, `/readyz`) and answers 404 for the rest; the admin listener ([`Surface::Admin`]) serves
//! the admin API, `/metrics`, `/healthz` and `/readyz`.
//!
//! **Admin gate.** Every admin route passes [`admin_gate`] right after its path and method matched: 404 when no
//! admin token is configured, then the per-caller rate limit (429), then the bearer (401, constant time). The
//! OAuth callback is deliberately not behind it: Zalo sends the OA admin's browser there without a bearer, and
//! it is protected by its own single-use, 10-minute, 192-bit `state` instead.
//!
//! **Console.** The moderation console's pages under `/admin` ([`console`]) are served where the admin API is,
//! behind a session cookie obtained with the admin token rather than the bearer.
//!
//! **Slow clients.** Headers must arrive within `server.header_read_timeout_secs` (hyper's
//! `header_read_timeout`, which needs a timer, so the connections are served here rather than by
//! `warp::serve`, which sets none), and a body within `server.body_read_timeout_secs` ([`read_body`], 408).

mod admin;
mod alerts;
mod campaigns;
mod cluster;
pub mod console;
pub mod gate;
mod health;
pub mod limit;
mod moderation;
mod scam;
mod token;
mod webhook;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use ractor::ActorRef;
use serde_json::json;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::actors::Directory;
use crate::actors::supervisor::SupervisorMsg;
use crate::config::Settings;
use crate::store::Store;
use crate::telemetry;
use limit::CallerLimiter;

/// What the handlers need: one shared [`HttpParts`]. The route filters clone it for every request, so a
/// clone is one reference count, not one per field.
#[derive(Clone)]
pub struct HttpState(Arc<HttpParts>);

impl HttpState {
    pub fn new(parts: HttpParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for HttpState {
    type Target = HttpParts;

    fn deref(&self) -> &HttpParts {
        &self.0
    }
}

pub struct HttpParts {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub directory: Directory,
    pub root: ActorRef<SupervisorMsg>,
    pub metrics: PrometheusHandle,
    pub http: reqwest::Client,
    pub clock: crate::clock::SharedClock,
    /// Reads images; `/readyz` tells whether its OCR is on.
    pub images: Arc<crate::media::ImageReader>,
    /// Closed once shutdown has begun: the webhook answers 503 so Zalo redelivers to the next instance.
    pub intake: Arc<gate::IntakeGate>,
    /// The per-caller admin API limit, shared by every listener.
    pub admin_limiter: Arc<CallerLimiter>,
    /// The moderation console's session key.
    pub console: console::Console,
    /// What this replica owns (`/readyz`, `/api/v1/cluster`).
    pub ownership: crate::cluster::Ownership,
}

/// Which routes a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Everything (no separate admin listener).
    All,
    /// The internet-facing part: webhook, OAuth callback, `/healthz`, `/readyz`.
    Public,
    /// The internal part: admin API, `/metrics`, `/healthz`, `/readyz`.
    Admin,
}

impl Surface {
    fn public(self) -> bool {
        matches!(self, Surface::All | Surface::Public)
    }

    fn admin(self) -> bool {
        matches!(self, Surface::All | Surface::Admin)
    }
}

/// The TCP peer of a request, put into its extensions by [`serve`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerAddr(pub SocketAddr);

/// Why [`admin_gate`] refused a request.
#[derive(Debug)]
enum AdminRefusal {
    /// No admin token configured: the admin API does not exist.
    Disabled,
    RateLimited(Duration),
    Unauthorized,
}

impl warp::reject::Reject for AdminRefusal {}

/// Lets a request through to an admin handler, or refuses it (see the module comment for the order).
///
/// The limit is counted BEFORE the bearer check, on purpose: a request with a wrong or missing token costs the
/// caller as much as a good one, so the token cannot be guessed faster than `server.admin_rate_per_minute`,
/// and a flood of bad tokens is refused without even the constant-time comparison. The price is that a caller
/// who floods with bad tokens also locks out good requests from its own address until its bucket refills,
/// which is the point. Nothing is counted while the admin API is disabled (it does not exist then).
fn admin_gate(state: HttpState) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::ext::optional::<PeerAddr>()
        .and(warp::header::headers_cloned())
        .and(warp::any().map(move || state.clone()))
        .and_then(
            |peer: Option<PeerAddr>, headers: warp::http::HeaderMap, state: HttpState| async move {
                if state.settings.server.admin_token.is_none() {
                    return Err(warp::reject::custom(AdminRefusal::Disabled));
                }
                if let Err(wait) = state.admin_limiter.check(peer.map(|p| p.0)) {
                    metrics::counter!(telemetry::ADMIN_RATE_LIMITED).increment(1);
                    if state.admin_limiter.should_log() {
                        tracing::warn!(
                            peer = ?peer.map(|p| p.0.ip()),
                            "admin API rate limit exceeded (logged at most every 10 s; \
                             tradesphere_admin_rate_limited_total counts every refusal)"
                        );
                    }
                    return Err(warp::reject::custom(AdminRefusal::RateLimited(wait)));
                }
                if admin::refuse_unless_admin(&headers, &state).is_some() {
                    return Err(warp::reject::custom(AdminRefusal::Unauthorized));
                }
                Ok(())
            },
        )
        .untuple_one()
}

pub fn routes(
    state: HttpState,
    surface: Surface,
) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let with_state = warp::any().map({
        let state = state.clone();
        move || state.clone()
    });
    // The moderation console has its own gate (a session cookie instead of the bearer).
    let console = console::routes(state.clone());
    let gate = admin_gate(state);

    let webhook = warp::path!("api" / "v1" / "zalo" / "webhook")
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(webhook::handle)
        .boxed();

    let send = warp::path!("api" / "v1" / "zalo" / "send")
        .and(warp::post())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(admin::send)
        .boxed();

    let scam_check = warp::path!("api" / "v1" / "scam" / "check")
        .and(warp::get())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(with_state.clone())
        .then(scam::check)
        .boxed();
    let scam_report = warp::path!("api" / "v1" / "scam" / "reports")
        .and(warp::post())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(scam::create_report)
        .boxed();
    let scam_reports = warp::path!("api" / "v1" / "scam" / "reports")
        .and(warp::get())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(with_state.clone())
        .then(scam::list_reports)
        .boxed();
    let scam_review = warp::path!("api" / "v1" / "scam" / "reports" / i64 / String)
        .and(warp::post())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(moderation::review_report)
        .boxed();

    // Not behind the gate: see the module comment.
    let appeals = warp::path!("api" / "v1" / "admin" / "appeals")
        .and(warp::get())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(with_state.clone())
        .then(moderation::list_appeals)
        .boxed();
    let appeal_decision = warp::path!("api" / "v1" / "admin" / "appeals" / i64 / String)
        .and(warp::post())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(moderation::decide)
        .boxed();
    let audit = warp::path!("api" / "v1" / "admin" / "audit")
        .and(warp::get())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(with_state.clone())
        .then(moderation::audit)
        .boxed();
    let oauth_callback = warp::path!("api" / "v1" / "zalo" / "oauth" / "callback")
        .and(warp::get())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(with_state.clone())
        .then(token::callback)
        .boxed();
    let authorize_url = warp::path!("api" / "v1" / "zalo" / "token" / "authorize-url")
        .and(warp::post())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(with_state.clone())
        .then(token::authorize_url)
        .boxed();
    let token_refresh = warp::path!("api" / "v1" / "zalo" / "token" / "refresh")
        .and(warp::post())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(with_state.clone())
        .then(token::refresh)
        .boxed();
    let token_status = warp::path!("api" / "v1" / "zalo" / "token" / "status")
        .and(warp::get())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(with_state.clone())
        .then(token::status)
        .boxed();
    let cluster_status = warp::path!("api" / "v1" / "cluster")
        .and(warp::get())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(with_state.clone())
        .then(cluster::show)
        .boxed();
    let campaign_create = warp::path!("api" / "v1" / "campaigns")
        .and(warp::post())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(campaigns::create)
        .boxed();
    let campaign_show = warp::path!("api" / "v1" / "campaigns" / i64)
        .and(warp::get())
        .and(gate.clone())
        .and(warp::header::headers_cloned())
        .and(with_state.clone())
        .then(campaigns::show)
        .boxed();
    let alerts = warp::path!("api" / "v1" / "alerts")
        .and(warp::post())
        .and(gate)
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(alerts::receive)
        .boxed();

    let healthz = warp::path!("healthz")
        .and(warp::get())
        .map(|| json_reply(StatusCode::OK, json!({"status": "alive"})))
        .boxed();
    let readyz = warp::path!("readyz")
        .and(warp::get())
        .and(with_state.clone())
        .then(health::readyz)
        .boxed();
    // Operational detail (queue depths, token expiry): internal, so on the admin side when that is separate.
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_state)
        .then(health::metrics)
        .boxed();

    // The webhook first: it carries nearly all the traffic, and the chain tries routes in order.
    let mut selected: Vec<BoxedFilter<(warp::reply::Response,)>> = Vec::new();
    if surface.public() {
        selected.push(webhook);
    }
    selected.extend([healthz, readyz]);
    if surface.public() {
        selected.push(oauth_callback);
    }
    if surface.admin() {
        selected.extend([
            send,
            scam_check,
            scam_report,
            scam_reports,
            scam_review,
            appeals,
            appeal_decision,
            audit,
            authorize_url,
            token_refresh,
            token_status,
            cluster_status,
            alerts,
            campaign_create,
            campaign_show,
            metrics,
            console,
        ]);
    }
    // Every route is boxed, and so is each step of the chain: unboxed, the nested future of this many `or`s
    // outgrows a worker thread's stack in debug builds. Folded from the right, so the first route sits at the
    // top of the chain: a webhook request is matched through one `or`, not through every route's (about 4 %
    // more webhook requests per second on SQLite).
    let mut chain = selected.into_iter().rev();
    let last = chain.next().expect("at least the health routes");
    chain
        .fold(last, |rest, route| route.or(rest).unify().boxed())
        .recover(handle_rejection)
}

/// Serves the `surface` routes on an already bound listener until `stop` resolves (then stops accepting and
/// finishes in-flight requests).
///
/// Connections are driven by hyper directly (HTTP/1.1 only) rather than by `warp::serve`, which runs hyper
/// without a timer and so without any header read timeout: a client could hold a connection forever by sending
/// its headers a byte at a time. Here headers must arrive within `server.header_read_timeout`, after which
/// hyper closes the connection. Each request carries its peer address as a [`PeerAddr`] extension.
pub fn serve(
    listener: tokio::net::TcpListener,
    state: HttpState,
    surface: Surface,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;

    let header_read_timeout = state.settings.server.header_read_timeout;
    let filter = routes(state, surface);
    tokio::spawn(async move {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut stop = std::pin::pin!(stop);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        // Per-connection errors (reset before accept) are the client's business; anything else
                        // (e.g. out of file descriptors) is worth a log line and a pause, as hyper used to do.
                        if !matches!(
                            err.kind(),
                            std::io::ErrorKind::ConnectionRefused
                                | std::io::ErrorKind::ConnectionAborted
                                | std::io::ErrorKind::ConnectionReset
                        ) {
                            tracing::error!(error = %err, "accept failed");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        continue;
                    }
                },
                () = &mut stop => break,
            };
            let service = hyper_util::service::TowerToHyperService::new(WithPeer {
                inner: warp::service(filter.clone()),
                peer,
            });
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
                builder
                    .http1()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_read_timeout);
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                if let Err(err) = watcher.watch(connection).await {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
            });
        }
        drop(listener);
        graceful.shutdown().await;
    })
}

/// A tower service that records the connection's peer address in every request's extensions.
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    peer: SocketAddr,
}

impl<S, B> tower_service::Service<warp::http::Request<B>> for WithPeer<S>
where
    S: tower_service::Service<warp::http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: warp::http::Request<B>) -> Self::Future {
        request.extensions_mut().insert(PeerAddr(self.peer));
        self.inner.call(request)
    }
}

/// A JSON body with a status code.
pub(crate) fn json_reply(status: StatusCode, body: serde_json::Value) -> warp::reply::Response {
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

pub(crate) fn error_reply(status: StatusCode, code: &str, message: &str) -> warp::reply::Response {
    json_reply(status, json!({"error": code, "message": message}))
}

/// Marks a response as the last on its connection (after a refused or abandoned body, whose rest is unread).
pub(crate) fn closing(mut response: warp::reply::Response) -> warp::reply::Response {
    response.headers_mut().insert(
        warp::http::header::CONNECTION,
        warp::http::HeaderValue::from_static("close"),
    );
    response
}

/// The answer to a body that exceeds `server.body_limit_bytes`.
fn too_large_reply() -> warp::reply::Response {
    closing(error_reply(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "the body exceeds the size limit",
    ))
}

/// The answer to a body that did not arrive within `server.body_read_timeout`.
fn timeout_reply() -> warp::reply::Response {
    closing(error_reply(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "the body did not arrive in time",
    ))
}

async fn handle_rejection(rejection: Rejection) -> Result<warp::reply::Response, Infallible> {
    if let Some(refusal) = rejection.find::<AdminRefusal>() {
        return Ok(match refusal {
            AdminRefusal::Disabled => {
                error_reply(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
            }
            AdminRefusal::Unauthorized => error_reply(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or wrong bearer token",
            ),
            AdminRefusal::RateLimited(wait) => {
                let mut response = error_reply(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many admin requests from this address; retry later",
                );
                // Whole seconds, rounded up, at least 1.
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                response.headers_mut().insert(
                    warp::http::header::RETRY_AFTER,
                    warp::http::HeaderValue::from(secs.max(1)),
                );
                response
            }
        });
    }
    Ok(if rejection.is_not_found() {
        error_reply(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        error_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed",
        )
    } else {
        tracing::warn!(?rejection, "unhandled rejection");
        error_reply(StatusCode::BAD_REQUEST, "bad_request", "bad request")
    })
}

#[derive(Debug)]
pub(crate) enum BodyError {
    TooLarge,
    Read,
    /// The whole body did not arrive within the deadline (a slow or stalled sender).
    TimedOut,
}

impl BodyError {
    /// The answer to the sender: 413, 408 (both closing the connection, whose rest is unread) or 400.
    pub(crate) fn reply(&self) -> warp::reply::Response {
        match self {
            Self::TooLarge => too_large_reply(),
            Self::TimedOut => timeout_reply(),
            Self::Read => error_reply(
                StatusCode::BAD_REQUEST,
                "unreadable",
                "the body could not be read",
            ),
        }
    }

    /// The `outcome` label of `tradesphere_webhook_events_total`.
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::TimedOut => "timeout",
            Self::Read => "malformed",
        }
    }
}

/// Reads a request body up to `limit` bytes within `deadline`, refusing early when `Content-Length` already
/// says it is too big (so an attacker cannot make us buffer a large chunked body either). The deadline covers
/// the whole body, not each chunk, so a sender dribbling a byte a second cannot hold the handler.
/// Limit and deadline are `server.body_limit_bytes` and `server.body_read_timeout`.
pub(crate) async fn read_body<S, B>(
    headers: &warp::http::HeaderMap,
    body: S,
    server: &crate::config::ServerSettings,
) -> Result<bytes::Bytes, BodyError>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    let limit = server.body_limit_bytes;
    tokio::time::timeout(
        server.body_read_timeout,
        read_body_unbounded(headers, body, limit),
    )
    .await
    .unwrap_or(Err(BodyError::TimedOut))
}

async fn read_body_unbounded<S, B>(
    headers: &warp::http::HeaderMap,
    body: S,
    limit: usize,
) -> Result<bytes::Bytes, BodyError>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    use futures_util::StreamExt;

    let declared = headers
        .get(warp::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut collected =
        bytes::BytesMut::with_capacity(declared.unwrap_or(1024).min(limit as u64) as usize);
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|_| BodyError::Read)?;
        if collected.len() + chunk.remaining() > limit {
            return Err(BodyError::TooLarge);
        }
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            collected.extend_from_slice(piece);
            let n = piece.len();
            chunk.advance(n);
        }
    }
    Ok(collected.freeze())
}
