//! OAuth re-authorisation and token administration:
//! - `GET /api/v1/zalo/oauth/callback?code&state` — where Zalo sends the OA admin after consent;
//! - `POST /api/v1/zalo/token/authorize-url`, `POST /api/v1/zalo/token/refresh`, `GET /api/v1/zalo/token/status`
//!   — admin (bearer `ADMIN_TOKEN`).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Reply;

use super::admin::refuse_unless_admin;
use super::{HttpState, error_reply, json_reply};
use crate::actors::ask;
use crate::actors::token_keeper::TokenKeeperMsg;
use crate::pipeline::Role;
use crate::token::{
    AuthorizationError, TokenStatus, begin_authorization, complete_authorization, oauth_client,
};

pub(super) async fn callback(
    query: HashMap<String, String>,
    state: HttpState,
) -> warp::reply::Response {
    let (Some(code), Some(oauth_state)) = (query.get("code"), query.get("state")) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Thiếu mã ủy quyền",
            "Đường dẫn thiếu tham số code hoặc state.",
        );
    };
    let oauth = oauth_client(&state.http, &state.settings.zalo);
    match complete_authorization(&state.store, &oauth, oauth_state, code, state.clock.now()).await {
        Ok(stored) => {
            if let Some(keeper) = state.directory.token_keeper() {
                let _ = crate::actors::tell(Role::TokenKeeper, &keeper, TokenKeeperMsg::Reload);
            }
            tracing::info!(
                version = stored.version,
                "OA re-authorised; new tokens stored"
            );
            page(
                StatusCode::OK,
                "Đã kết nối lại Zalo OA",
                "Ủy quyền thành công. TradeSphere đã lưu token mới và sẽ tự gia hạn. Bạn có thể đóng trang này.",
            )
        }
        Err(AuthorizationError::BadState) => page(
            StatusCode::BAD_REQUEST,
            "Liên kết không hợp lệ",
            "Liên kết ủy quyền không hợp lệ, đã dùng hoặc đã hết hạn (10 phút). Hãy tạo liên kết mới bằng lệnh \
             tradesphere token authorize-url.",
        ),
        Err(err @ AuthorizationError::Exchange(_)) => {
            tracing::error!(error = %err, "OAuth code exchange failed");
            page(
                StatusCode::BAD_GATEWAY,
                "Zalo từ chối ủy quyền",
                "Zalo không chấp nhận mã ủy quyền. Hãy thử lại với liên kết mới.",
            )
        }
        Err(err) => {
            tracing::error!(error = %err, "OAuth callback failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Lỗi tạm thời",
                "Không lưu được token. Hãy thử lại sau ít phút.",
            )
        }
    }
}

pub(super) async fn authorize_url(headers: HeaderMap, state: HttpState) -> warp::reply::Response {
    if let Some(denied) = refuse_unless_admin(&headers, &state) {
        return denied;
    }
    let settings = &state.settings;
    match begin_authorization(
        &state.store,
        &settings.zalo,
        &settings.token,
        state.clock.now(),
    )
    .await
    {
        Ok(auth) => json_reply(
            StatusCode::OK,
            json!({"url": auth.url, "state": auth.state, "expires_at": auth.expires_at}),
        ),
        Err(err @ (AuthorizationError::NoRedirectUri | AuthorizationError::NoAppId)) => {
            error_reply(StatusCode::CONFLICT, "not_configured", &err.to_string())
        }
        Err(err) => error_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &err.to_string(),
        ),
    }
}

pub(super) async fn refresh(headers: HeaderMap, state: HttpState) -> warp::reply::Response {
    if let Some(denied) = refuse_unless_admin(&headers, &state) {
        return denied;
    }
    let directory = state.directory.clone();
    let answer = ask(
        || directory.token_keeper(),
        Role::TokenKeeper,
        TokenKeeperMsg::RefreshNow,
        Duration::from_secs(60),
    )
    .await;
    match answer {
        Ok(Ok(status)) => json_reply(StatusCode::OK, status_json(&status)),
        Ok(Err(error)) => error_reply(StatusCode::BAD_GATEWAY, "refresh_failed", &error),
        Err(err) => error_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &err.to_string(),
        ),
    }
}

pub(super) async fn status(headers: HeaderMap, state: HttpState) -> warp::reply::Response {
    if let Some(denied) = refuse_unless_admin(&headers, &state) {
        return denied;
    }
    let directory = state.directory.clone();
    match ask(
        || directory.token_keeper(),
        Role::TokenKeeper,
        TokenKeeperMsg::Status,
        Duration::from_secs(5),
    )
    .await
    {
        Ok(status) => json_reply(StatusCode::OK, status_json(&status)),
        Err(err) => error_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &err.to_string(),
        ),
    }
}

fn status_json(status: &TokenStatus) -> serde_json::Value {
    json!({
        "present": status.present,
        "version": status.version,
        "source": status.source,
        "expires_at": status.expires_at,
        "refresh_token_present": status.refresh_token_present,
        "refresh_expires_at": status.refresh_expires_at,
        "last_refresh_at": status.last_refresh_at,
        "last_refresh_result": status.last_refresh_result,
        "last_refresh_error": status.last_refresh_error,
        "last_refresh_success_at": status.last_refresh_success_at,
        "reauthorization_required": status.reauth_required,
    })
}

/// A short, self-contained Vietnamese page for the OA admin's browser.
fn page(status: StatusCode, title: &str, body: &str) -> warp::reply::Response {
    let html = format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>{title}</title></head><body style=\"font-family:sans-serif;\
         max-width:36em;margin:3em auto;padding:0 1em\"><h1>{title}</h1><p>{body}</p></body></html>"
    );
    warp::reply::with_status(warp::reply::html(html), status).into_response()
}
