//! Moderation over the admin API (bearer `ADMIN_TOKEN`, 404 without one), through the same service as the
//! CLI and the console ([`crate::reports::moderation`]); the audit log names the decider `admin_token`:
//! - `POST /api/v1/scam/reports/{id}/verify` and `/reject`, body `{"reason"}` optional;
//! - `GET /api/v1/admin/appeals?status=pending|accepted|rejected|all`;
//! - `POST /api/v1/admin/appeals/{id}/accept` and `/reject`, body `{"reason"}` required;
//! - `GET /api/v1/admin/audit?limit=N`: the moderation audit log, newest first.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;
use warp::http::{HeaderMap, StatusCode};

use super::admin::refuse_unless_admin;
use super::{HttpState, error_reply, json_reply, read_body};
use crate::actors::scam::ScamMsg;
use crate::pipeline::Role;
use crate::reports::moderation::{
    AppealDecision, Moderation, ModerationError, Moderator, decide_appeal, reject_report,
    verify_report,
};
use crate::scam::trust::AppealStatus;

#[derive(Deserialize, Default)]
struct DecisionBody {
    #[serde(default)]
    reason: String,
}

/// The bearer check and the optional `{"reason"}` body.
async fn reason_of<S, B>(
    headers: &HeaderMap,
    body: S,
    state: &HttpState,
) -> Result<String, warp::reply::Response>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    if let Some(denied) = refuse_unless_admin(headers, state) {
        return Err(denied);
    }
    let raw = read_body(headers, body, &state.settings.server)
        .await
        .map_err(|err| err.reply())?;
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(String::new());
    }
    serde_json::from_slice::<DecisionBody>(&raw)
        .map(|b| b.reason.trim().to_string())
        .map_err(|err| error_reply(StatusCode::BAD_REQUEST, "malformed_json", &err.to_string()))
}

pub(super) fn moderation(state: &HttpState) -> Moderation<'_, crate::actors::Directory> {
    Moderation {
        store: &state.store,
        dispatch: &state.directory,
        now: state.clock.now(),
        max_message_chars: state.settings.outbound.max_message_chars,
    }
}

pub(super) async fn review_report<S, B>(
    id: i64,
    action: String,
    headers: HeaderMap,
    body: S,
    state: HttpState,
) -> warp::reply::Response
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    let reason = match reason_of(&headers, body, &state).await {
        Ok(reason) => reason,
        Err(response) => return response,
    };
    let cx = moderation(&state);
    let decided = match action.as_str() {
        "verify" => verify_report(&cx, id, Moderator::AdminToken, &reason).await,
        "reject" => reject_report(&cx, id, Moderator::AdminToken, &reason).await,
        _ => return error_reply(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
    };
    match decided {
        Ok(report) => {
            refresh_index(&state);
            json_reply(StatusCode::OK, json!({"report": report}))
        }
        Err(e) => failure(&e),
    }
}

pub(super) async fn list_appeals(
    headers: HeaderMap,
    query: HashMap<String, String>,
    state: HttpState,
) -> warp::reply::Response {
    if let Some(denied) = refuse_unless_admin(&headers, &state) {
        return denied;
    }
    let status = match query.get("status").map_or("pending", String::as_str) {
        "all" => None,
        text => match AppealStatus::parse(text) {
            Some(status) => Some(status),
            None => {
                return error_reply(
                    StatusCode::BAD_REQUEST,
                    "invalid_status",
                    "status must be pending, accepted, rejected or all",
                );
            }
        },
    };
    match state.store.appeals(status, limit(&query)).await {
        Ok(appeals) => json_reply(StatusCode::OK, json!({"appeals": appeals})),
        Err(e) => failure(&e.into()),
    }
}

pub(super) async fn decide<S, B>(
    id: i64,
    action: String,
    headers: HeaderMap,
    body: S,
    state: HttpState,
) -> warp::reply::Response
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    let reason = match reason_of(&headers, body, &state).await {
        Ok(reason) => reason,
        Err(response) => return response,
    };
    let Some(decision) = AppealDecision::parse(&action) else {
        return error_reply(StatusCode::NOT_FOUND, "not_found", "no such endpoint");
    };
    if reason.is_empty() {
        return error_reply(
            StatusCode::BAD_REQUEST,
            "missing_reason",
            "say why in {\"reason\": \"…\"}",
        );
    }
    let cx = moderation(&state);
    match decide_appeal(&cx, id, decision, Moderator::AdminToken, &reason).await {
        Ok(appeal) => {
            refresh_index(&state);
            json_reply(StatusCode::OK, json!({"appeal": appeal}))
        }
        Err(e) => failure(&e),
    }
}

pub(super) async fn audit(
    headers: HeaderMap,
    query: HashMap<String, String>,
    state: HttpState,
) -> warp::reply::Response {
    if let Some(denied) = refuse_unless_admin(&headers, &state) {
        return denied;
    }
    match state.store.moderation_audit(limit(&query)).await {
        Ok(entries) => json_reply(StatusCode::OK, json!({"audit": entries})),
        Err(e) => failure(&e.into()),
    }
}

fn limit(query: &HashMap<String, String>) -> u64 {
    query
        .get("limit")
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(100)
        .min(1_000)
}

fn failure(error: &ModerationError) -> warp::reply::Response {
    match error {
        ModerationError::NotFound => {
            error_reply(StatusCode::NOT_FOUND, "not_found", "no such record")
        }
        ModerationError::AlreadyDecided(appeal) => json_reply(
            StatusCode::CONFLICT,
            json!({"error": "already_decided", "message": "this appeal was decided already", "appeal": appeal}),
        ),
        ModerationError::Store(e) => {
            tracing::error!(error = %e, "moderation unavailable");
            error_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "temporarily unavailable; retry later",
            )
        }
    }
}

/// The scam actor picks the change up at once instead of at its next periodic sync.
pub(super) fn refresh_index(state: &HttpState) {
    if let Some(scam) = state.directory.scam() {
        let _ = crate::actors::tell(Role::Scam, &scam, ScamMsg::Refresh);
    }
}
