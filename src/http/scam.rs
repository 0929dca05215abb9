//! Admin scam endpoints (bearer `ADMIN_TOKEN`, 404 without one):
//! - `GET /api/v1/scam/check?q=TEXT`: the same JSON as `tradesphere scam check --json`;
//! - `POST /api/v1/scam/reports` `{"value", "kind"?, "category"?, "note"?, "verified"?}`: files a report
//!   (pending, or published at once with `"verified": true`);
//! - `GET /api/v1/scam/reports?status=pending|verified|rejected|all`: user reports;
//! - `POST /api/v1/scam/reports/{id}/verify` and `/reject`: moderation (in `moderation`).

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use warp::http::{HeaderMap, StatusCode};

use super::admin::{admin_json, refuse_unless_admin};
use super::{HttpState, error_reply, json_reply};
use crate::actors::ask;
use crate::actors::scam::ScamMsg;
use crate::pipeline::Role;
use crate::reports::moderation::{Moderation, ModerationError, Moderator, verify_report};
use crate::scam::check::{CheckOutcome, CheckReport};
use crate::scam::extract::extract;
use crate::scam::trust::ReportResult;
use crate::scam::{EntityKind, normalize_value};
use crate::store::{NewUserReport, UserReportOutcome};
use crate::telemetry;

const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest text `GET /api/v1/scam/check` accepts, in characters.
const MAX_CHECK_CHARS: usize = 10_000;
/// Reports filed through the admin API share one reporter identity.
const ADMIN_REPORTER: &str = "admin-api";

pub(super) async fn check(
    headers: HeaderMap,
    query: HashMap<String, String>,
    state: HttpState,
) -> warp::reply::Response {
    if let Some(denied) = refuse_unless_admin(&headers, &state) {
        return denied;
    }
    let Some(text) = query.get("q").filter(|q| !q.trim().is_empty()) else {
        return error_reply(
            StatusCode::BAD_REQUEST,
            "missing_query",
            "give the text to check as ?q=",
        );
    };
    if text.chars().count() > MAX_CHECK_CHARS {
        return error_reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the text is too long",
        );
    }
    let directory = state.directory.clone();
    let outcome: Result<CheckOutcome, _> = ask(
        || directory.scam(),
        Role::Scam,
        |reply| ScamMsg::Check {
            text: text.clone(),
            entities: crate::scam::extract::extract(text),
            reply,
        },
        CHECK_TIMEOUT,
    )
    .await;
    match outcome {
        Ok(outcome) => match serde_json::to_value(CheckReport::from(&outcome)) {
            Ok(body) => json_reply(StatusCode::OK, body),
            Err(e) => error_reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                &e.to_string(),
            ),
        },
        Err(e) => {
            tracing::warn!(error = %e, "scam check unavailable");
            unavailable()
        }
    }
}

#[derive(Deserialize)]
struct ReportRequest {
    value: String,
    kind: Option<String>,
    category: Option<String>,
    note: Option<String>,
    #[serde(default)]
    verified: bool,
}

pub(super) async fn create_report<S, B>(
    headers: HeaderMap,
    body: S,
    state: HttpState,
) -> warp::reply::Response
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    let request: ReportRequest = match admin_json(&headers, body, &state).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let (kind, value, bank_bin) = match &request.kind {
        Some(kind_text) => {
            let Some(kind) = EntityKind::parse(kind_text) else {
                return error_reply(
                    StatusCode::BAD_REQUEST,
                    "invalid_kind",
                    "kind must be phone, bank_account or domain",
                );
            };
            match normalize_value(kind, &request.value) {
                Some(value) => (kind, value, None),
                None => {
                    return error_reply(
                        StatusCode::BAD_REQUEST,
                        "invalid_value",
                        &format!("not a valid {kind}"),
                    );
                }
            }
        }
        None => match extract(&request.value).into_iter().next() {
            Some(entity) => (entity.kind, entity.value, entity.bank_bin),
            None => {
                return error_reply(
                    StatusCode::BAD_REQUEST,
                    "no_entity",
                    "no phone number, account number or domain in value",
                );
            }
        },
    };
    let now = state.clock.now();
    let report = NewUserReport {
        kind,
        value: value.clone(),
        bank_bin,
        category: request
            .category
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| "lừa đảo".to_string()),
        note: request.note.unwrap_or_default(),
        reporter_hash: ADMIN_REPORTER.to_string(),
    };
    let (id, created) = match state.store.submit_user_report(&report, now).await {
        Ok(UserReportOutcome::Created(id)) => (id, true),
        Ok(UserReportOutcome::AlreadyReported(id)) => (id, false),
        Err(e) => {
            tracing::error!(error = %e, "could not file a report");
            return unavailable();
        }
    };
    let result = if created {
        ReportResult::Created
    } else {
        ReportResult::Duplicate
    };
    metrics::counter!(telemetry::SCAM_USER_REPORTS, "result" => result.as_str()).increment(1);
    let mut status = "pending".to_string();
    if request.verified {
        let cx = Moderation {
            store: &state.store,
            dispatch: &state.directory,
            now,
            max_message_chars: state.settings.outbound.max_message_chars,
        };
        match verify_report(&cx, id, Moderator::AdminToken, "filed verified").await {
            Ok(reviewed) => status = reviewed.status,
            Err(ModerationError::NotFound) => {}
            Err(e) => {
                tracing::error!(error = %e, "could not verify a report");
                return unavailable();
            }
        }
    }
    // A second independent reporter may have made it warn, as may a verification.
    super::moderation::refresh_index(&state);
    json_reply(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        json!({"id": id, "kind": kind.as_str(), "value": value, "status": status, "created": created}),
    )
}

pub(super) async fn list_reports(
    headers: HeaderMap,
    query: HashMap<String, String>,
    state: HttpState,
) -> warp::reply::Response {
    if let Some(denied) = refuse_unless_admin(&headers, &state) {
        return denied;
    }
    let status = query.get("status").map_or("pending", String::as_str);
    let filter = (status != "all").then_some(status);
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(100)
        .min(1_000);
    match state.store.user_reports(filter, limit).await {
        Ok(reports) => json_reply(StatusCode::OK, json!({"reports": reports})),
        Err(e) => {
            tracing::error!(error = %e, "could not list reports");
            unavailable()
        }
    }
}

fn unavailable() -> warp::reply::Response {
    error_reply(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "temporarily unavailable; retry later",
    )
}
