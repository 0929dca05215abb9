//! Intake backpressure: past `intake.max_in_flight` events wait in the inbox and are taken in order.

use std::time::Duration;

use testkit::both_backends;
use testkit::openai;
use tradesphere::domain::{OutboundState, UserId};

use crate::helpers::*;

const USERS: usize = 8;
const PER_USER: usize = 4;

/// Two slots for 32 events from 8 users, with a model that takes 40 ms: nearly every event finds the
/// conversations saturated and waits in the inbox. All are answered once, each user's in the order sent.
async fn a_flood_past_the_in_flight_limit_waits_in_the_inbox_and_is_answered_in_order(
    backend: Backend,
) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            llm: true,
            zalo: true,
            extra_env: vec![("TRADESPHERE__INTAKE__MAX_IN_FLIGHT", "2".into())],
            ..Default::default()
        },
    )
    .await;
    openai::answers_after(Duration::from_millis(40), "Bạn cứ yên tâm nhé.")
        .mount(&app.openai)
        .await;
    let users: Vec<String> = (0..USERS).map(|_| user_id()).collect();
    let posts = users.iter().map(|user| {
        let app = &app;
        async move {
            for i in 0..PER_USER {
                let response = app
                    .post_event(&text_event(user, &format!("tin nhắn số {i}")))
                    .await;
                assert_eq!(response.status(), 200, "every event is acknowledged");
            }
        }
    });
    futures_util::future::join_all(posts).await;

    for user in &users {
        app.replies_for(user, PER_USER).await;
    }
    wait_until("the inbox backlog drained", || async {
        (app.store().pending_event_count().await.ok()? == 0).then_some(())
    })
    .await;
    for user in &users {
        let id = UserId::parse(user).unwrap();
        let sent: Vec<String> = app
            .store()
            .messages_for(&id)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.is_from_user)
            .map(|m| m.content)
            .collect();
        let expected: Vec<String> = (0..PER_USER).map(|i| format!("tin nhắn số {i}")).collect();
        assert_eq!(sent, expected, "one user's messages are handled in order");
        let parts = app.store().outbound_for(&id).await.unwrap();
        assert_eq!(parts.len(), PER_USER, "one answer per message");
        assert!(parts.iter().all(|p| p.state == OutboundState::Sent));
    }
    assert_eq!(
        app.zalo_sends().await.len(),
        USERS * PER_USER,
        "Zalo got each answer once"
    );
    app.shutdown().await;
}

/// A backlog found at start (events stored, never routed) is drained page by page within the limit, each
/// user's events in inbox order: a page holds several events of one user here.
async fn a_backlog_found_at_start_is_drained_in_order_within_the_limit(backend: Backend) {
    let options = || TestOptions {
        extra_env: vec![("TRADESPHERE__INTAKE__MAX_IN_FLIGHT", "3".into())],
        ..Default::default()
    };
    let mut app = spawn_app_with(&backend, options()).await;
    app.stop().await;
    let users: Vec<String> = (0..USERS).map(|_| user_id()).collect();
    // Stored straight into the inbox, user after user, without telling intake (as if it had crashed), while
    // no service runs: only the next start's drain can handle them.
    let store = store_at(&app.database_url).await;
    for user in &users {
        for i in 0..PER_USER {
            let event = text_event(user, &format!("tin nhắn số {i}"));
            let inserted = store
                .insert_inbox(tradesphere::store::NewInboxEvent {
                    event_key: format!("backlog-{user}-{i}"),
                    event_name: "user_send_text".into(),
                    user_id: Some(UserId::parse(user).unwrap()),
                    payload: event.to_string(),
                    handled_as: None,
                })
                .await
                .unwrap();
            assert!(matches!(
                inserted,
                tradesphere::store::InboxInsert::Inserted { .. }
            ));
        }
    }
    store.close().await;
    let app = spawn_app_with(
        &backend,
        TestOptions {
            database_url: Some(app.database_url.clone()),
            ..options()
        },
    )
    .await;
    for user in &users {
        app.replies_for(user, PER_USER).await;
        let id = UserId::parse(user).unwrap();
        let sent: Vec<String> = app
            .store()
            .messages_for(&id)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.is_from_user)
            .map(|m| m.content)
            .collect();
        let expected: Vec<String> = (0..PER_USER).map(|i| format!("tin nhắn số {i}")).collect();
        assert_eq!(sent, expected, "one user's backlog is handled in order");
    }
    app.shutdown().await;
}

/// Receipts need no answer: intake closes them in batches, without a conversation for their users.
async fn receipts_are_closed_in_batches_without_conversations(backend: Backend) {
    let app = spawn_app(&backend).await;
    let posts = (0..40).map(|i| {
        let app = &app;
        async move {
            let user = user_id();
            let seen = serde_json::json!({"app_id": APP_ID, "event_name": "user_seen_message",
                "sender": {"id": OA_ID}, "recipient": {"id": user},
                "message": {"msg_ids": [format!("seen-{i}-{user}")]}, "timestamp": now_ms()});
            assert_eq!(app.post_event(&seen).await.status(), 200);
        }
    });
    futures_util::future::join_all(posts).await;
    wait_until("every receipt closed", || async {
        (app.store().pending_event_count().await.ok()? == 0).then_some(())
    })
    .await;
    assert_eq!(
        crate::supervision::live_conversations(&app).await,
        0,
        "no conversation was started for a receipt"
    );
    app.shutdown().await;
}

both_backends!(
    receipts_are_closed_in_batches_without_conversations,
    a_flood_past_the_in_flight_limit_waits_in_the_inbox_and_is_answered_in_order,
    a_backlog_found_at_start_is_drained_in_order_within_the_limit,
);
