//! `POST /api/v1/zalo/send` `{"user_id","message"}` with `Authorization: Bearer $ADMIN_TOKEN`: a proactive
//! message. Without a configured admin token the endpoint does not exist (404).

use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use warp::http::{HeaderMap, StatusCode};

use super::{HttpState, error_reply, json_reply, read_body};
use crate::actors::outbound::OutboundMsg;
use crate::domain::UserId;
use crate::pipeline::Role;
use crate::reply::split::split_message;

/// Admin endpoints exist only with a configured `ADMIN_TOKEN` (else 404) and need it as a bearer token
/// (else 401), compared in constant time. Returns the refusal to send, if any.
///
/// The routes already pass `admin_gate` (which also rate-limits, and uses this check); every admin handler
/// calls it again, so a route wired without the gate still cannot skip the bearer.
pub(super) fn refuse_unless_admin(
    headers: &HeaderMap,
    state: &HttpState,
) -> Option<warp::reply::Response> {
    let Some(expected) = &state.settings.server.admin_token else {
        return Some(error_reply(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such endpoint",
        ));
    };
    // The auth scheme is case-insensitive (RFC 9110); the token is compared as SHA-256 digests in constant
    // time, so neither its content nor its length shows in the timing.
    let given = headers
        .get(warp::http::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .and_then(|v| (v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ")).then(|| &v[7..]))
        .unwrap_or_default();
    let (given, expected) = (
        Sha256::digest(given),
        Sha256::digest(expected.expose_secret().as_bytes()),
    );
    if bool::from(given[..].ct_eq(&expected[..])) {
        None
    } else {
        Some(error_reply(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token",
        ))
    }
}

/// The common start of every admin POST: the bearer check, the size- and time-limited body, and its JSON. `Err`
/// is the response to send instead (404/401, 408, 413, 400 with a JSON error body).
pub(super) async fn admin_json<T, S, B>(
    headers: &HeaderMap,
    body: S,
    state: &HttpState,
) -> Result<T, warp::reply::Response>
where
    T: serde::de::DeserializeOwned,
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    if let Some(denied) = refuse_unless_admin(headers, state) {
        return Err(denied);
    }
    let raw = read_body(headers, body, &state.settings.server)
        .await
        .map_err(|err| err.reply())?;
    serde_json::from_slice(&raw)
        .map_err(|err| error_reply(StatusCode::BAD_REQUEST, "malformed_json", &err.to_string()))
}

#[derive(Deserialize)]
struct SendRequest {
    user_id: serde_json::Value,
    message: String,
}

pub(super) async fn send<S, B>(
    headers: HeaderMap,
    body: S,
    state: HttpState,
) -> warp::reply::Response
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    let request: SendRequest = match admin_json(&headers, body, &state).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let user_id = match &request.user_id {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let user = match UserId::parse(user_id) {
        Ok(user) => user,
        Err(reason) => return error_reply(StatusCode::BAD_REQUEST, "invalid_user_id", &reason),
    };
    let parts = split_message(&request.message, state.settings.outbound.max_message_chars);
    if parts.is_empty() {
        return error_reply(StatusCode::BAD_REQUEST, "empty_message", "message is empty");
    }
    match state.store.enqueue_proactive(&user, &parts).await {
        Ok(queued) => {
            let ids: Vec<i64> = queued.iter().map(|q| q.id).collect();
            if let Some(outbound) = state.directory.outbound() {
                let _ =
                    crate::actors::tell(Role::Outbound, &outbound, OutboundMsg::Enqueue(queued));
            }
            tracing::info!(user = %user.short_hash(), parts = ids.len(), "proactive message queued");
            json_reply(
                StatusCode::ACCEPTED,
                json!({"status": "queued", "outbound_ids": ids}),
            )
        }
        Err(err) => {
            tracing::error!(error = %err, "could not queue a proactive message");
            error_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "storage unavailable; retry later",
            )
        }
    }
}
