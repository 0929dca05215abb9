//! `POST /api/v1/zalo/send`: disabled without a token, 401 on a wrong one, queued and sent with the right one.

use serde_json::json;
use tradesphere::domain::{OutboundState, UserId};

use crate::both_backends;
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

both_backends!(
    admin_send_is_disabled_without_a_token,
    admin_send_requires_the_right_token
);
