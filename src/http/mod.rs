//! The HTTP surface (warp): the Zalo webhook, the admin endpoints (send, scam check and reports, token), health,
//! readiness and metrics.
//! Only this module knows warp. Handlers translate between HTTP and the store/actors, nothing more.

mod admin;
mod alerts;
mod health;
mod scam;
mod token;
mod webhook;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use metrics_exporter_prometheus::PrometheusHandle;
use ractor::ActorRef;
use serde_json::json;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::actors::Directory;
use crate::actors::supervisor::SupervisorMsg;
use crate::config::Settings;
use crate::store::Store;

/// What the handlers need. Cheap to clone.
#[derive(Clone)]
pub struct HttpState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub directory: Directory,
    pub root: ActorRef<SupervisorMsg>,
    pub metrics: PrometheusHandle,
    pub http: reqwest::Client,
    pub clock: crate::clock::SharedClock,
    /// False once shutdown has begun: the webhook answers 503 so Zalo redelivers to the next instance.
    pub accepting: Arc<AtomicBool>,
}

pub fn routes(
    state: HttpState,
) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let with_state = warp::any().map(move || state.clone());

    let webhook = warp::path!("api" / "v1" / "zalo" / "webhook")
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(webhook::handle)
        .boxed();

    let send = warp::path!("api" / "v1" / "zalo" / "send")
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(admin::send)
        .boxed();

    let scam_check = warp::path!("api" / "v1" / "scam" / "check")
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(with_state.clone())
        .then(scam::check)
        .boxed();
    let scam_report = warp::path!("api" / "v1" / "scam" / "reports")
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(scam::create_report)
        .boxed();
    let scam_reports = warp::path!("api" / "v1" / "scam" / "reports")
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(with_state.clone())
        .then(scam::list_reports)
        .boxed();
    let scam_review = warp::path!("api" / "v1" / "scam" / "reports" / i64 / String)
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(with_state.clone())
        .then(scam::review)
        .boxed();

    let oauth_callback = warp::path!("api" / "v1" / "zalo" / "oauth" / "callback")
        .and(warp::get())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(with_state.clone())
        .then(token::callback)
        .boxed();
    let authorize_url = warp::path!("api" / "v1" / "zalo" / "token" / "authorize-url")
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(with_state.clone())
        .then(token::authorize_url)
        .boxed();
    let token_refresh = warp::path!("api" / "v1" / "zalo" / "token" / "refresh")
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(with_state.clone())
        .then(token::refresh)
        .boxed();
    let token_status = warp::path!("api" / "v1" / "zalo" / "token" / "status")
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .and(with_state.clone())
        .then(token::status)
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
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_state.clone())
        .then(health::metrics)
        .boxed();
    let alerts = warp::path!("api" / "v1" / "alerts")
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state)
        .then(alerts::receive)
        .boxed();

    // Every route is boxed: unboxed, the nested future of this many `or`s outgrows a worker thread's stack in
    // debug builds.
    webhook
        .or(send)
        .unify()
        .or(scam_check)
        .unify()
        .or(scam_report)
        .unify()
        .or(scam_reports)
        .unify()
        .or(scam_review)
        .unify()
        .or(oauth_callback)
        .unify()
        .or(authorize_url)
        .unify()
        .or(token_refresh)
        .unify()
        .or(token_status)
        .unify()
        .or(healthz)
        .unify()
        .or(readyz)
        .unify()
        .or(metrics)
        .unify()
        .or(alerts)
        .unify()
        .recover(handle_rejection)
}

/// Serves the routes on an already bound listener until `stop` resolves (then finishes in-flight requests).
pub fn serve(
    listener: tokio::net::TcpListener,
    state: HttpState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        warp::serve(routes(state))
            .incoming(listener)
            .graceful(stop)
            .run()
            .await;
    })
}

/// A JSON body with a status code.
pub(crate) fn json_reply(status: StatusCode, body: serde_json::Value) -> warp::reply::Response {
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

pub(crate) fn error_reply(status: StatusCode, code: &str, message: &str) -> warp::reply::Response {
    json_reply(status, json!({"error": code, "message": message}))
}

async fn handle_rejection(rejection: Rejection) -> Result<warp::reply::Response, Infallible> {
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
}

/// Reads a request body up to `limit` bytes, refusing early when `Content-Length` already says it is too big
/// (so an attacker cannot make us buffer a large chunked body either).
pub(crate) async fn read_body<S, B>(
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
