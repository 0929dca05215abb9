//! `/readyz`: the database answers, every migration is applied, every singleton actor runs, and the
//! service is not shutting down.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ractor::rpc::CallResult;
use serde_json::json;
use warp::http::StatusCode;

use super::{HttpState, json_reply};
use crate::actors::Role;
use crate::actors::supervisor::SupervisorMsg;

pub(super) async fn readyz(state: HttpState) -> warp::reply::Response {
    let accepting = state.accepting.load(Ordering::SeqCst);
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
            }
        }),
    )
}
