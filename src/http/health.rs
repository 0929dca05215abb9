//! `/readyz`: the database answers, every migration is applied, every singleton actor runs, and the
//! service is not shutting down.

use std::time::Duration;

use ractor::rpc::CallResult;
use serde_json::json;
use warp::http::StatusCode;

use super::{HttpState, json_reply};
use crate::actors::supervisor::SupervisorMsg;
use crate::pipeline::Role;
use crate::telemetry;

pub(super) async fn readyz(state: HttpState) -> warp::reply::Response {
    let accepting = state.intake.is_open();
    if !accepting {
        // Shutting down: say so at once. The root supervisor is busy draining and would answer `Running`
        // only after the drain, so asking it would hold this probe for the whole shutdown.
        return json_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "shutting_down", "checks": {"accepting": false}}),
        );
    }
    let database = state.store.ping().await.is_ok();
    let migrations = matches!(state.store.pending_migrations().await, Ok(0));
    let running = match state
        .root
        .call(SupervisorMsg::Running, Some(Duration::from_secs(2)))
        .await
    {
        Ok(CallResult::Success(roles)) => roles,
        _ => Vec::new(),
    };
    let missing: Vec<&str> = Role::START_ORDER
        .iter()
        .filter(|r| !running.contains(r))
        .map(|r| r.as_str())
        .collect();
    let ready = accepting && database && migrations && missing.is_empty();
    // OCR off is a reduced service, not an unready one: QR codes are still read.
    let ocr = state.images.ocr_status();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_reply(
        status,
        json!({
            "status": if ready { "ready" } else { "not_ready" },
            "checks": {
                "accepting": accepting,
                "database": database,
                "migrations": migrations,
                "actors_missing": missing,
                "ocr": ocr,
            },
            "cluster": super::cluster::readiness(&state.ownership),
        }),
    )
}

/// `GET /metrics`: refreshes the gauges read from the database (inbox age, last backup, pool), then renders.
/// A database that does not answer within a second leaves them as they were; the scrape still succeeds.
pub(super) async fn metrics(state: HttpState) -> warp::reply::Response {
    use warp::Reply;
    let refresh = async {
        let now = state.clock.now();
        if let Ok(oldest) = state.store.oldest_pending_received_at().await {
            let age = oldest.map_or(0.0, |at| {
                (now - at).num_milliseconds().max(0) as f64 / 1000.0
            });
            metrics::gauge!(telemetry::INBOX_OLDEST_AGE).set(age);
        }
        if let Ok(Some(at)) = state.store.last_backup_at().await {
            metrics::gauge!(telemetry::BACKUP_LAST_SUCCESS).set(at.timestamp() as f64);
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), refresh).await;
    let (open, idle) = state.store.pool_connections();
    metrics::gauge!(telemetry::DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    metrics::gauge!(telemetry::DB_POOL_CONNECTIONS, "state" => "in_use")
        .set(f64::from(open.saturating_sub(idle)));
    telemetry::publish_mailbox_depths();
    metrics::gauge!(telemetry::DB_POOL_MAX).set(f64::from(state.settings.database.max_connections));
    metrics::gauge!(telemetry::LLM_BUDGET_LIMIT)
        .set(state.settings.llm.budget.global_tokens_per_day as f64);
    warp::reply::with_header(
        state.metrics.render(),
        "content-type",
        "text/plain; version=0.0.4; charset=utf-8",
    )
    .into_response()
}
