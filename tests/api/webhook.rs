//! The webhook contract: signature, persistence before the 200, dedupe, bad input.

use serde_json::json;
use testkit::both_backends;
use testkit::zalo::signature;
use tradesphere::domain::UserId;

use crate::helpers::*;

async fn signed_event_is_accepted_and_answered(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            signed: true,
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    let response = app.post_event(&text_event(&user, "xin chào")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let replies = app.replies_for(&user, 1).await;
    assert_eq!(replies.len(), 1);
    app.shutdown().await;
}

async fn wrong_or_missing_signature_is_401_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            signed: true,
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    let event = text_event(&user, "xin chào");
    let body = serde_json::to_vec(&event).unwrap();
    let ts = event["timestamp"].as_str().unwrap();

    let wrong_secret = signature(APP_ID, &body, ts, "not-the-secret");
    let bad_ts = signature(APP_ID, &body, "1", OA_SECRET);
    let app_secret_confusion = signature("0", &body, ts, OA_SECRET);
    for sig in [
        Some(wrong_secret.as_str()),
        Some(bad_ts.as_str()),
        Some(app_secret_confusion.as_str()),
        Some("mac=zz"),
        Some(""),
        None,
    ] {
        let response = app.post_raw(body.clone(), sig).await;
        assert_eq!(response.status(), 401, "signature {sig:?}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["error"], "invalid_signature");
    }
    // A body changed after signing fails too.
    let good = signature(APP_ID, &body, ts, OA_SECRET);
    let mut tampered = event.clone();
    tampered["message"]["text"] = json!("chuyển tiền ngay");
    assert_eq!(
        app.post_raw(serde_json::to_vec(&tampered).unwrap(), Some(&good))
            .await
            .status(),
        401
    );

    // Unsigned garbage is refused as unauthenticated before it is parsed.
    assert_eq!(app.post_raw("{not json", None).await.status(), 401);
    assert_eq!(app.store().pending_event_count().await.unwrap(), 0);
    let uid = UserId::parse(user).unwrap();
    assert!(app.store().messages_for(&uid).await.unwrap().is_empty());
    // The correctly signed body is still accepted afterwards.
    assert_eq!(app.post_raw(body, Some(&good)).await.status(), 200);
    app.shutdown().await;
}

async fn unsigned_events_are_accepted_without_a_secret_and_probe_is_200(backend: Backend) {
    let app = spawn_app(&backend).await;
    let user = user_id();
    assert_eq!(app.post_raw("", None).await.status(), 200, "empty probe");
    assert_eq!(
        app.post_event(&text_event(&user, "alo")).await.status(),
        200
    );
    app.replies_for(&user, 1).await;
    app.shutdown().await;
}

/// Posts `event` `times` times at once; every answer is a 200, and their `status` fields are returned.
async fn post_concurrently(app: &TestApp, event: &serde_json::Value, times: usize) -> Vec<String> {
    let responses = futures_util::future::join_all((0..times).map(|_| app.post_event(event))).await;
    let mut statuses = Vec::new();
    for r in responses {
        assert_eq!(r.status(), 200);
        let body = r.json::<serde_json::Value>().await.unwrap();
        statuses.push(body["status"].as_str().unwrap().to_string());
    }
    statuses
}

async fn duplicate_deliveries_are_answered_once(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            signed: true,
            zalo: true,
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    let event = text_event(&user, "/help");
    let statuses = post_concurrently(&app, &event, 10).await;
    assert_eq!(
        statuses.iter().filter(|s| *s == "ok").count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| *s == "duplicate").count(), 9);
    let replies = app.replies_for(&user, 1).await;
    assert_eq!(replies.len(), 1);
    // A late redelivery (Zalo's retry ladder) changes nothing either.
    assert_eq!(
        app.post_event(&event)
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["status"],
        "duplicate"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.store()
            .outbound_for(&UserId::parse(&user).unwrap())
            .await
            .unwrap()
            .len(),
        1
    );
    let sends = app.zalo_sends().await;
    assert_eq!(
        sends
            .iter()
            .filter(|b| b["recipient"]["user_id"] == user.as_str())
            .count(),
        1
    );
    let history = app
        .store()
        .messages_for(&UserId::parse(&user).unwrap())
        .await
        .unwrap();
    assert_eq!(history.len(), 2, "one user line and one bot line");
    app.shutdown().await;
}

async fn malformed_and_oversize_bodies_are_rejected(backend: Backend) {
    let app = spawn_app(&backend).await;
    let response = app.post_raw("{not json", None).await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "malformed_json");
    assert_eq!(app.post_raw("[1,2,3]", None).await.status(), 400);
    assert_eq!(
        app.post_raw(r#"{"app_id":"1"}"#, None).await.status(),
        400,
        "no event_name"
    );

    let big_text = "a".repeat(70 * 1024);
    let response = app.post_event(&text_event(&user_id(), &big_text)).await;
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "too_large"
    );
    // Chunked (no Content-Length) oversize bodies are refused as well.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..80).map(|_| Ok(vec![b' '; 1024])).collect();
    let stream = futures_util::stream::iter(chunks);
    let response = app.post_raw(reqwest::Body::wrap_stream(stream), None).await;
    assert_eq!(response.status(), 413);
    assert_eq!(app.store().pending_event_count().await.unwrap(), 0);
    app.shutdown().await;
}

/// Follows carry no `msg_id`: their key is the body's hash, led by its timestamp. Redeliveries of the same
/// body are duplicates; a later follow (another body, another timestamp) is a new event.
async fn events_without_a_msg_id_are_deduplicated_by_their_body(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            signed: true,
            zalo: true,
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    let follow = |ts: &str| {
        json!({"app_id": APP_ID, "oa_id": OA_ID, "event_name": "follow", "follower": {"id": user},
            "source": "oa_profile", "timestamp": ts})
    };
    let first = follow("1733450000123");
    let statuses = post_concurrently(&app, &first, 5).await;
    assert_eq!(
        statuses.iter().filter(|s| *s == "ok").count(),
        1,
        "{statuses:?}"
    );
    app.replies_for(&user, 1).await;
    assert_eq!(
        app.post_event(&first)
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["status"],
        "duplicate"
    );
    assert_eq!(
        app.post_event(&follow("1733450999000"))
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["status"],
        "ok",
        "a new follow is a new event"
    );
    let keys: Vec<String> = sql_rows(
        &app.database_url,
        "SELECT event_key FROM inbox_events WHERE event_name = 'follow' ORDER BY id",
    )
    .await
    .iter()
    .map(|row| row.try_get_by_index(0).unwrap())
    .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys[0].starts_with("sha256:1733450000123:"), "{keys:?}");
    assert!(keys[1].starts_with("sha256:1733450999000:"), "{keys:?}");
    app.shutdown().await;
}

async fn unknown_events_are_stored_and_acknowledged(backend: Backend) {
    let app = spawn_app(&backend).await;
    let event = json!({"app_id": APP_ID, "event_name": "brand_new_event_2027", "timestamp": now_ms(), "data": {"x": 1}});
    assert_eq!(app.post_event(&event).await.status(), 200);
    // A receipt for a user: stored, no answer.
    let user = user_id();
    let seen = json!({"app_id": APP_ID, "event_name": "user_seen_message", "sender": {"id": OA_ID},
        "recipient": {"id": user}, "message": {"msg_ids": ["a"]}, "timestamp": now_ms()});
    assert_eq!(app.post_event(&seen).await.status(), 200);
    wait_until("both events handled", || async {
        (app.store().pending_event_count().await.ok()? == 0).then_some(())
    })
    .await;
    assert!(
        app.store()
            .outbound_for(&UserId::parse(&user).unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    app.shutdown().await;
}

async fn numeric_ids_and_timestamps_are_accepted(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            signed: true,
            ..Default::default()
        },
    )
    .await;
    let user: u64 = 5521772797175877;
    let event = json!({"app_id": APP_ID.parse::<u64>().unwrap(), "event_name": "user_send_text",
        "sender": {"id": user}, "recipient": {"id": 1}, "message": {"msg_id": 987654321, "text": "/help"},
        "timestamp": chrono::Utc::now().timestamp_millis()});
    let body = serde_json::to_vec(&event).unwrap();
    let sig = signature(APP_ID, &body, &event["timestamp"].to_string(), OA_SECRET);
    assert_eq!(app.post_raw(body, Some(&sig)).await.status(), 200);
    let replies = app.replies_for(&user.to_string(), 1).await;
    assert!(replies[0].text.contains("HƯỚNG DẪN"));
    app.shutdown().await;
}

async fn database_down_answers_503(backend: Backend) {
    let app = spawn_app(&backend).await;
    app.store().clone().close().await;
    let response = app.post_event(&text_event(&user_id(), "alo")).await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "unavailable"
    );
    assert_eq!(app.get("/readyz").await.status(), 503);
}

both_backends!(
    signed_event_is_accepted_and_answered,
    wrong_or_missing_signature_is_401_and_nothing_is_stored,
    unsigned_events_are_accepted_without_a_secret_and_probe_is_200,
    duplicate_deliveries_are_answered_once,
    events_without_a_msg_id_are_deduplicated_by_their_body,
    malformed_and_oversize_bodies_are_rejected,
    unknown_events_are_stored_and_acknowledged,
    numeric_ids_and_timestamps_are_accepted,
    database_down_answers_503,
);
