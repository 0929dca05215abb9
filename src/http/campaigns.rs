//! `POST /api/v1/campaigns` `{"text", "image_url"?}` creates a scam alert for the OA's followers (201 with its
//! `id`); `GET /api/v1/campaigns/{id}` shows what became of it. Both behind the admin bearer.

use serde::Deserialize;
use serde_json::json;
use warp::http::{HeaderMap, StatusCode};

use super::admin::{admin_json, refuse_unless_admin};
use super::{HttpState, error_reply, json_reply};
use crate::campaigns::{CampaignStats, CreateError, NewCampaign};

#[derive(Deserialize)]
struct CreateRequest {
    text: String,
    #[serde(default)]
    image_url: Option<String>,
}

pub(super) async fn create<S, B>(
    headers: HeaderMap,
    body: S,
    state: HttpState,
) -> warp::reply::Response
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    let request: CreateRequest = match admin_json(&headers, body, &state).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let campaign = NewCampaign {
        text: request.text,
        image_url: request.image_url.filter(|u| !u.trim().is_empty()),
    };
    let now = state.clock.now();
    match crate::campaigns::create(&state.store, &state.settings, campaign, now).await {
        Ok(created) => {
            state.directory.nudge_campaigns();
            let skipped: serde_json::Map<_, _> = created
                .skipped
                .iter()
                .map(|(reason, n)| (reason.as_str().to_string(), json!(n)))
                .collect();
            json_reply(
                StatusCode::CREATED,
                json!({"id": created.id, "targeted": created.targeted, "skipped": skipped}),
            )
        }
        Err(CreateError::Store(err)) => {
            tracing::error!(error = %err, "could not create a campaign");
            error_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "storage unavailable; retry later",
            )
        }
        Err(err) => error_reply(StatusCode::BAD_REQUEST, err.code(), &err.to_string()),
    }
}

pub(super) async fn show(id: i64, headers: HeaderMap, state: HttpState) -> warp::reply::Response {
    if let Some(denied) = refuse_unless_admin(&headers, &state) {
        return denied;
    }
    match crate::campaigns::stats(&state.store, id, state.clock.now()).await {
        Ok(Some(stats)) => json_reply(StatusCode::OK, stats_json(&stats)),
        Ok(None) => error_reply(StatusCode::NOT_FOUND, "not_found", "no such campaign"),
        Err(err) => {
            tracing::error!(error = %err, "could not read a campaign");
            error_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "storage unavailable; retry later",
            )
        }
    }
}

fn stats_json(stats: &CampaignStats) -> serde_json::Value {
    let failed: serde_json::Map<_, _> = stats
        .failed
        .iter()
        .map(|(code, n)| {
            let key = code.map_or_else(|| "no_code".to_string(), |c| c.to_string());
            (key, json!(n))
        })
        .collect();
    let skipped: serde_json::Map<_, _> = crate::domain::campaign::SkipReason::ALL
        .iter()
        .map(|reason| {
            let n = stats.skipped.get(reason).copied().unwrap_or(0);
            (reason.as_str().to_string(), json!(n))
        })
        .collect();
    let campaign = &stats.campaign;
    json!({
        "id": campaign.id,
        "text": campaign.text,
        "image_url": campaign.image_url,
        "created_at": campaign.created_at.to_rfc3339(),
        "finished_at": campaign.finished_at.map(|t| t.to_rfc3339()),
        "next_send_at": stats.next_send_at.map(|t| t.to_rfc3339()),
        "targeted": stats.targeted,
        "waiting": stats.waiting,
        "sent": stats.sent,
        "failed": failed,
        "failed_total": stats.failed.values().sum::<u64>(),
        "ambiguous": stats.ambiguous,
        "skipped": skipped,
    })
}
