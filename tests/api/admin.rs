//! `POST /api/v1/zalo/send`: disabled without a token, 401 on a wrong one, queued and sent with the right one.

use serde_json::json;
use testkit::both_backends;
use tradesphere::domain::{OutboundState, UserId};

use crate::helpers::*;

async fn send(app: &TestApp, token: Option<&str>, body: serde_json::Value) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/api/v1/zalo/send", app.address))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn admin_send_is_disabled_without_a_token(backend: Backend) {
    let app = spawn_app(&backend).await;
    let response = send(
        &app,
        Some("anything"),
        json!({"user_id": "1", "message": "hi"}),
    )
    .await;
    assert_eq!(response.status(), 404);
    app.shutdown().await;
}

async fn admin_send_requires_the_right_token(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            admin_token: true,
            zalo: true,
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    let body = json!({"user_id": user, "message": "Thông báo: hệ thống bảo trì lúc 23h."});
    assert_eq!(send(&app, None, body.clone()).await.status(), 401);
    assert_eq!(send(&app, Some("wrong"), body.clone()).await.status(), 401);
    assert_eq!(
        send(
            &app,
            Some(ADMIN_TOKEN),
            json!({"user_id": "", "message": "x"})
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        send(
            &app,
            Some(ADMIN_TOKEN),
            json!({"user_id": "1", "message": "  "})
        )
        .await
        .status(),
        400
    );
    assert!(app.zalo_sends().await.is_empty());

    let response = send(&app, Some(ADMIN_TOKEN), body).await;
    assert_eq!(response.status(), 202);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["status"], "queued");
    let part = &app.replies_for(&user, 1).await[0];
    assert_eq!(part.state, OutboundState::Sent);
    let sent = app.zalo_sends().await;
    assert_eq!(
        sent[0]["message"]["text"],
        "Thông báo: hệ thống bảo trì lúc 23h."
    );
    assert_eq!(sent[0]["recipient"]["user_id"], user.as_str());
    let history = app
        .store()
        .messages_for(&UserId::parse(&user).unwrap())
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert!(!history[0].is_from_user);
    app.shutdown().await;
}

/// With `admin_listen`, the admin API and /metrics live only on the admin listener: the public one answers 404
/// for them (whatever the bearer) and keeps the webhook, the OAuth callback and health; shutdown closes both.
async fn admin_routes_live_only_on_the_admin_listener(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            admin_token: true,
            admin_listen: true,
            ..Default::default()
        },
    )
    .await;
    let admin = app.admin_address.clone().expect("an admin listener");
    assert_ne!(admin, app.address);
    let get = |url: String, bearer: bool| {
        let mut request = app.client.get(url);
        if bearer {
            request = request.bearer_auth(ADMIN_TOKEN);
        }
        async move { request.send().await.unwrap() }
    };

    // Public listener.
    for route in [
        "/api/v1/zalo/token/status",
        "/api/v1/scam/reports",
        "/metrics",
    ] {
        let response = get(format!("{}{route}", app.address), true).await;
        assert_eq!(response.status(), 404, "public {route}");
    }
    let user = user_id();
    let body = json!({"user_id": user, "message": "hi"});
    assert_eq!(
        send(&app, Some(ADMIN_TOKEN), body.clone()).await.status(),
        404,
        "public send"
    );
    for route in ["/healthz", "/readyz"] {
        assert_eq!(app.get(route).await.status(), 200, "public {route}");
    }
    assert_eq!(
        app.post_event(&text_event(&user_id(), "alo"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/zalo/oauth/callback").await.status(),
        400,
        "the callback stays public (it has its own one-time state)"
    );

    // Admin listener.
    let status = get(format!("{admin}/api/v1/zalo/token/status"), true).await;
    assert_eq!(status.status(), 200);
    assert_eq!(
        get(format!("{admin}/api/v1/zalo/token/status"), false)
            .await
            .status(),
        401
    );
    let metrics = get(format!("{admin}/metrics"), false).await;
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("tradesphere_admin_rate_limited_total")
    );
    for route in ["/healthz", "/readyz"] {
        assert_eq!(
            get(format!("{admin}{route}"), false).await.status(),
            200,
            "admin {route}"
        );
    }
    let webhook = app
        .client
        .post(format!("{admin}/api/v1/zalo/webhook"))
        .body(serde_json::to_vec(&text_event(&user_id(), "alo")).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(webhook.status(), 404, "no webhook on the admin listener");
    let queued = app
        .client
        .post(format!("{admin}/api/v1/zalo/send"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 202);
    app.replies_for(&user, 1).await;

    let (public, admin) = (
        app.address.trim_start_matches("http://").to_string(),
        admin.trim_start_matches("http://").to_string(),
    );
    app.shutdown().await;
    for address in [public, admin] {
        assert!(
            tokio::net::TcpStream::connect(&address).await.is_err(),
            "{address} still accepts connections after shutdown"
        );
    }
}

both_backends!(
    admin_send_is_disabled_without_a_token,
    admin_send_requires_the_right_token,
    admin_routes_live_only_on_the_admin_listener,
);
