//! Sending to Zalo: errors inside HTTP 200 answers, retries of transient errors, token rejection.

use serde_json::json;
use testkit::{both_backends, zalo};
use tradesphere::domain::OutboundState;
use wiremock::ResponseTemplate;

use crate::helpers::*;

async fn zalo_error_in_a_200_is_a_failure_and_not_retried(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            zalo: true,
            ..Default::default()
        },
    )
    .await;
    app.zalo_fails_with(-230).await;
    let user = user_id();
    app.post_event(&text_event(&user, "/help")).await;
    let part = &app.replies_for(&user, 1).await[0];
    assert_eq!(part.state, OutboundState::Failed);
    assert_eq!(part.error_code, Some(-230));
    assert_eq!(part.zalo_message_id, None);
    assert_eq!(
        app.zalo_sends().await.len(),
        1,
        "a closed window is not retried"
    );
    app.shutdown().await;
}

async fn transient_errors_are_retried_then_sent_once(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            zalo: true,
            ..Default::default()
        },
    )
    .await;
    zalo::fails_with(-32)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.zalo)
        .await;
    zalo::send_api()
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&app.zalo)
        .await;
    let user = user_id();
    app.post_event(&text_event(&user, "/help")).await;
    let part = &app.replies_for(&user, 1).await[0];
    assert_eq!(part.state, OutboundState::Sent);
    assert!(
        part.zalo_message_id
            .as_deref()
            .unwrap()
            .starts_with("zmsg-")
    );
    assert_eq!(
        app.zalo_sends().await.len(),
        3,
        "-32, then 502, then success"
    );
    app.shutdown().await;
}

async fn rejected_token_without_a_refresh_token_fails_and_raises_the_alarm(backend: Backend) {
    // Only an access token was configured: when Zalo rejects it, there is nothing to refresh with.
    let app = spawn_app_with(
        &backend,
        TestOptions {
            zalo: true,
            ..Default::default()
        },
    )
    .await;
    app.zalo_fails_with(-216).await;
    let user = user_id();
    app.post_event(&text_event(&user, "/help")).await;
    let part = &app.replies_for(&user, 1).await[0];
    assert_eq!(part.state, OutboundState::Failed);
    assert_eq!(part.error_code, Some(-216));
    assert_eq!(
        app.zalo_sends().await.len(),
        1,
        "no resend without a newer token"
    );
    let status = app.token_status().await;
    assert!(status.reauth_required, "the keeper asks for a human");
    app.shutdown().await;
}

async fn timeouts_are_ambiguous_and_never_resent(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            zalo: true,
            extra_env: vec![("TRADESPHERE__OUTBOUND__REQUEST_TIMEOUT_SECS", "1".into())],
            ..Default::default()
        },
    )
    .await;
    zalo::send_api()
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(std::time::Duration::from_secs(3))
                .set_body_json(json!({"error": 0})),
        )
        .with_priority(1)
        .mount(&app.zalo)
        .await;
    let user = user_id();
    app.post_event(&text_event(&user, "/help")).await;
    let part = &app.replies_for(&user, 1).await[0];
    assert_eq!(part.state, OutboundState::Ambiguous);
    assert_eq!(app.zalo_sends().await.len(), 1);
    app.shutdown().await;
}

both_backends!(
    zalo_error_in_a_200_is_a_failure_and_not_retried,
    transient_errors_are_retried_then_sent_once,
    rejected_token_without_a_refresh_token_fails_and_raises_the_alarm,
    timeouts_are_ambiguous_and_never_resent,
);
