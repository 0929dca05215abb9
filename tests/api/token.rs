//! Token keeper: refresh schedule and rotation over several 25 h lifetimes (manual clock), single flight,
//! one refresher across processes, refused grants, backoff, a crash before the commit, and PKCE
//! re-authorisation end to end.

use std::time::Duration;

use base64::Engine;
use sha2::Digest;
use testkit::{both_backends, zalo};
use tradesphere::clock::{Clock, ManualClock};
use tradesphere::domain::OutboundState;
use tradesphere::faults::{FaultPoint, Faults};
use tradesphere::store::NewTokenPair;
use wiremock::ResponseTemplate;

use crate::helpers::*;

fn hours(h: i64) -> chrono::Duration {
    chrono::Duration::hours(h)
}

/// A Zalo OAuth fake, started before the app so the keeper's first tick already reaches it.
async fn oauth_server(valid_refresh: &str, delay: Duration) -> (wiremock::MockServer, FakeOAuth) {
    let server = wiremock::MockServer::start().await;
    let fake = FakeOAuth::mount(&server, valid_refresh, delay).await;
    (server, fake)
}

/// Options for an app holding the bootstrap pair (acc-0, ref-0) that expires `lifetime_secs` after start.
fn with_tokens(
    clock: &ManualClock,
    lifetime_secs: u64,
    oauth: &wiremock::MockServer,
) -> TestOptions {
    TestOptions {
        zalo: true,
        clock: Some(clock.clone()),
        extra_env: vec![
            ("ZALO_ACCESS_TOKEN", "acc-0".into()),
            ("ZALO_REFRESH_TOKEN", "ref-0".into()),
            (
                "TRADESPHERE__ZALO__BOOTSTRAP_TOKEN_LIFETIME_SECS",
                lifetime_secs.to_string(),
            ),
            ("ZALO_OAUTH_URL", oauth.uri()),
        ],
        ..Default::default()
    }
}

async fn wait_for_version(app: &TestApp, version: i64) -> tradesphere::token::TokenStatus {
    wait_until(&format!("token version {version}"), || async {
        let status = app.token_status().await;
        (status.version >= version).then_some(status)
    })
    .await
}

/// Lets the keeper tick a few times (a negative check: nothing may happen).
async fn let_it_tick() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

async fn refresh_rotates_through_several_lifetimes_and_restarts(backend: Backend) {
    let clock = ManualClock::starting_now();
    let (server, oauth) = oauth_server("ref-0", Duration::ZERO).await;
    let mut app = spawn_app_with(&backend, with_tokens(&clock, 90_000, &server)).await;
    let start = app.token_status().await;
    assert_eq!(start.version, 1);
    let_it_tick().await;
    assert!(
        oauth.requests().is_empty(),
        "no refresh while more than the margin is left"
    );

    // ~20 h into the 25 h token: refresh, with the refresh token stored last time.
    clock.advance(hours(20) + chrono::Duration::minutes(1));
    let status = wait_for_version(&app, 2).await;
    assert_eq!(oauth.refresh_requests(), ["ref-0"]);
    assert_eq!(status.last_refresh_result.as_deref(), Some("ok"));
    assert!(status.expires_at.unwrap() > clock.now() + hours(24));
    assert!(!status.reauth_required);

    clock.advance(hours(20) + chrono::Duration::minutes(1));
    wait_for_version(&app, 3).await;
    assert_eq!(
        oauth.refresh_requests(),
        ["ref-0", "ref-1"],
        "the rotated token is the one used next"
    );

    // After a restart the stored (rotated) pair is used, not the environment's bootstrap pair.
    app.stop().await;
    let restarted = spawn_app_with(
        &backend,
        TestOptions {
            database_url: Some(app.database_url.clone()),
            ..with_tokens(&clock, 90_000, &server)
        },
    )
    .await;
    assert_eq!(restarted.token_status().await.version, 3);
    clock.advance(hours(20) + chrono::Duration::minutes(1));
    wait_for_version(&restarted, 4).await;
    assert_eq!(oauth.refresh_requests(), ["ref-0", "ref-1", "ref-2"]);

    // Outbound uses the newest access token at once, without a restart.
    let user = user_id();
    restarted.post_event(&text_event(&user, "/help")).await;
    restarted.replies_for(&user, 1).await;
    let sends = zalo::send_requests(&restarted.zalo).await;
    let send = sends.first().unwrap();
    assert_eq!(send.headers.get("access_token").unwrap(), "acc-3");
    restarted.shutdown().await;
}

async fn refreshes_at_once_when_started_inside_the_margin(backend: Backend) {
    let clock = ManualClock::starting_now();
    let (server, oauth) = oauth_server("ref-0", Duration::ZERO).await;
    let app = spawn_app_with(&backend, with_tokens(&clock, 3600, &server)).await;
    wait_for_version(&app, 2).await;
    assert_eq!(oauth.refresh_requests(), ["ref-0"]);
    let request = &oauth.requests()[0];
    assert_eq!(request["grant_type"], "refresh_token");
    assert_eq!(request["app_id"], APP_ID);
    assert!(
        !request.contains_key("app_secret"),
        "the secret travels in the header only"
    );
    app.shutdown().await;
}

async fn many_rejections_cause_exactly_one_refresh(backend: Backend) {
    let clock = ManualClock::starting_now();
    let (server, oauth) = oauth_server("ref-0", Duration::from_millis(200)).await;
    let app = spawn_app_with(&backend, with_tokens(&clock, 90_000, &server)).await;
    // Zalo no longer accepts acc-0 (revoked early): every send with it gets -216 in an HTTP 200.
    zalo::rejects_token("acc-0")
        .with_priority(1)
        .mount(&app.zalo)
        .await;
    let users: Vec<String> = (0..50).map(|_| user_id()).collect();
    let events: Vec<_> = users.iter().map(|u| text_event(u, "/help")).collect();
    let posts = events.iter().map(|e| app.post_event(e));
    for response in futures_util::future::join_all(posts).await {
        assert_eq!(response.status(), 200);
    }
    for user in &users {
        let part = &app.replies_for(user, 1).await[0];
        assert_eq!(
            part.state,
            OutboundState::Sent,
            "retried once with the fresh token"
        );
    }
    assert_eq!(
        oauth.refresh_requests(),
        ["ref-0"],
        "50 rejections, one refresh"
    );
    assert_eq!(app.token_status().await.version, 2);
    app.shutdown().await;
}

async fn two_instances_on_one_database_refresh_once(backend: Backend) {
    let clock = ManualClock::starting_now();
    // Seed the database with a pair inside the refresh margin, then start two instances together.
    let mut seed = spawn_app(&backend).await;
    let url = seed.database_url.clone();
    seed.stop().await;
    let store = store_at(&url).await;
    store
        .save_token(
            &NewTokenPair {
                access_token: "acc-0".to_string().into(),
                refresh_token: Some("ref-0".to_string().into()),
                access_expires_at: Some(clock.now() + hours(1)),
            },
            "import",
            clock.now(),
        )
        .await
        .unwrap();
    store.close().await;

    // One OAuth server for both, slow enough that both instances try while the first refresh is in flight.
    let shared = wiremock::MockServer::start().await;
    let oauth = FakeOAuth::mount(&shared, "ref-0", Duration::from_millis(300)).await;
    let options = || TestOptions {
        clock: Some(clock.clone()),
        database_url: Some(url.clone()),
        extra_env: vec![("ZALO_OAUTH_URL", shared.uri())],
        ..Default::default()
    };
    let (a, b) = tokio::join!(
        spawn_app_with(&backend, options()),
        spawn_app_with(&backend, options())
    );
    let (sa, sb) = tokio::join!(wait_for_version(&a, 2), wait_for_version(&b, 2));
    let_it_tick().await;
    assert_eq!(
        oauth.refresh_requests(),
        ["ref-0"],
        "exactly one process spent the refresh token"
    );
    assert_eq!((sa.version, sb.version), (2, 2));
    assert_eq!(a.token_status().await.version, 2);
    assert_eq!(b.token_status().await.version, 2);
    a.shutdown().await;
    b.shutdown().await;
    drop(seed);
}

async fn refused_refresh_token_requires_reauthorisation_without_a_retry_storm(backend: Backend) {
    let clock = ManualClock::starting_now();
    // The fake knows no valid refresh token: ref-0 is refused with -14014.
    let (server, oauth) = oauth_server("something-else", Duration::ZERO).await;
    let app = spawn_app_with(&backend, with_tokens(&clock, 3600, &server)).await;
    let status = wait_until("re-authorisation required", || async {
        let s = app.token_status().await;
        s.reauth_required.then_some(s)
    })
    .await;
    assert_eq!(status.last_refresh_result.as_deref(), Some("invalid_grant"));
    assert!(
        status
            .last_refresh_error
            .as_deref()
            .unwrap()
            .contains("-14014")
    );
    for _ in 0..5 {
        clock.advance(hours(1));
        let_it_tick().await;
    }
    assert_eq!(oauth.refresh_requests().len(), 1, "no retry storm");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("tradesphere_zalo_token_reauthorization_required"));
    assert!(metrics.contains("tradesphere_zalo_token_refresh_total{result=\"invalid_grant\"}"));
    app.shutdown().await;
}

async fn transient_failures_back_off(backend: Backend) {
    let clock = ManualClock::starting_now();
    let (server, oauth) = oauth_server("ref-0", Duration::ZERO).await;
    // A proxy's 404 and an outage's 503: neither is Zalo refusing the grant.
    zalo::token_api()
        .respond_with(ResponseTemplate::new(404))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    zalo::token_api()
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let app = spawn_app_with(&backend, with_tokens(&clock, 3600, &server)).await;
    let token_requests = || async {
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == zalo::TOKEN_PATH)
            .count()
    };
    wait_until("first attempt", || async {
        (token_requests().await == 1).then_some(())
    })
    .await;
    let_it_tick().await;
    clock.advance(chrono::Duration::seconds(4));
    let_it_tick().await;
    assert_eq!(
        token_requests().await,
        1,
        "never faster than retry_min (5 s)"
    );
    clock.advance(chrono::Duration::seconds(2));
    wait_until("second attempt", || async {
        (token_requests().await == 2).then_some(())
    })
    .await;
    clock.advance(chrono::Duration::seconds(8));
    let_it_tick().await;
    assert_eq!(token_requests().await, 2, "the second backoff is 10 s");
    clock.advance(chrono::Duration::seconds(3));
    let status = wait_for_version(&app, 2).await;
    assert!(!status.reauth_required);
    assert_eq!(oauth.refresh_requests(), ["ref-0"]);
    app.shutdown().await;
}

async fn crash_between_answer_and_commit_is_visible(backend: Backend) {
    let clock = ManualClock::starting_now();
    let faults = Faults::default();
    faults.arm(FaultPoint::TokenCommit, 1);
    let probe = spawn_app(&backend).await;
    let interrupted_before =
        metric_value(&probe, "tradesphere_zalo_token_refresh_interrupted_total").await;
    probe.shutdown().await;
    let (server, oauth) = oauth_server("ref-0", Duration::ZERO).await;
    let app = spawn_app_with(
        &backend,
        TestOptions {
            faults: faults.clone(),
            ..with_tokens(&clock, 3600, &server)
        },
    )
    .await;
    // The counter is shared by the process (another test may raise it); the fake's request is this app's.
    wait_until("the interrupted refresh is reported", || async {
        let now = metric_value(&app, "tradesphere_zalo_token_refresh_interrupted_total").await;
        (now > interrupted_before && oauth.refresh_requests().len() == 1).then_some(())
    })
    .await;
    assert_eq!(
        app.token_status().await.version,
        1,
        "the uncommitted pair is never used"
    );
    // Zalo rotated ref-0 although we lost the answer: the next attempt (after the backoff) finds it spent,
    // and the keeper asks for a human instead of hammering.
    clock.advance(chrono::Duration::seconds(6));
    wait_until("re-authorisation required", || async {
        app.token_status().await.reauth_required.then_some(())
    })
    .await;
    assert_eq!(oauth.refresh_requests(), ["ref-0", "ref-0"]);
    app.shutdown().await;
}

async fn pkce_reauthorisation_end_to_end(backend: Backend) {
    let clock = ManualClock::starting_now();
    let (server, oauth) = oauth_server("dead", Duration::ZERO).await;
    let app = spawn_app_with(
        &backend,
        TestOptions {
            admin_token: true,
            extra_env: vec![
                ("ZALO_OAUTH_URL", server.uri()),
                (
                    "ZALO_REDIRECT_URI",
                    "https://bot.example/api/v1/zalo/oauth/callback".into(),
                ),
                (
                    "TRADESPHERE__ZALO__BOOTSTRAP_TOKEN_LIFETIME_SECS",
                    "3600".into(),
                ),
                ("ZALO_ACCESS_TOKEN", "acc-0".into()),
                ("ZALO_REFRESH_TOKEN", "ref-0".into()),
            ],
            clock: Some(clock.clone()),
            ..Default::default()
        },
    )
    .await;
    // The stored refresh token is dead: the keeper raises the alarm.
    wait_until("re-authorisation required", || async {
        app.token_status().await.reauth_required.then_some(())
    })
    .await;

    let create = || async {
        let response = app
            .client
            .post(format!("{}/api/v1/zalo/token/authorize-url", app.address))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        let url = url::Url::parse(body["url"].as_str().unwrap()).unwrap();
        let params: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        (url, params)
    };
    let (url, params) = create().await;
    assert_eq!(url.path(), "/v4/oa/permission");
    assert_eq!(params["app_id"], APP_ID);
    assert_eq!(
        params["redirect_uri"],
        "https://bot.example/api/v1/zalo/oauth/callback"
    );
    assert_eq!(params["code_challenge"].len(), 43);

    let callback = |code: &str, state: &str| {
        let url = format!(
            "{}/api/v1/zalo/oauth/callback?code={code}&oa_id={OA_ID}&state={state}",
            app.address
        );
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    assert_eq!(callback("c1", "unknown-state").await.status(), 400);
    assert_eq!(
        app.token_status().await.version,
        1,
        "nothing stored for a bad state"
    );

    oauth.accept_code("good-code");
    let response = callback("good-code", &params["state"]).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("thành công"));
    let exchange = oauth
        .requests()
        .into_iter()
        .find(|f| f["grant_type"] == "authorization_code")
        .unwrap();
    assert_eq!(exchange["code"], "good-code");
    let verifier = &exchange["code_verifier"];
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    assert_eq!(
        challenge, params["code_challenge"],
        "challenge = base64url-no-pad(SHA-256(verifier))"
    );
    let status = wait_for_version(&app, 2).await;
    assert!(!status.reauth_required, "the alarm is cleared");
    assert_eq!(status.source.as_deref(), Some("authorization"));

    // A state works once, and not after 10 minutes.
    oauth.accept_code("again");
    assert_eq!(callback("again", &params["state"]).await.status(), 400);
    let (_, later) = create().await;
    clock.advance(chrono::Duration::minutes(11));
    assert_eq!(callback("again", &later["state"]).await.status(), 400);
    assert_eq!(app.token_status().await.version, 2);

    // Admin token endpoints are protected.
    let denied = app
        .client
        .post(format!("{}/api/v1/zalo/token/refresh", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
    app.shutdown().await;
}

async fn tokens_can_be_encrypted_at_rest(backend: Backend) {
    let key = tradesphere::token_cipher::TokenCipher::generate_key();
    let clock = ManualClock::starting_now();
    let (server, oauth) = oauth_server("ref-0", Duration::ZERO).await;
    let mut options = with_tokens(&clock, 3600, &server);
    options.extra_env.push(("TRADESPHERE_TOKEN_KEY", key));
    let app = spawn_app_with(&backend, options).await;
    wait_for_version(&app, 2).await;
    assert_eq!(
        oauth.refresh_requests(),
        ["ref-0"],
        "the decrypted refresh token was sent"
    );
    let db = sea_orm::Database::connect(app.database_url.as_str())
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT access_token, refresh_token FROM zalo_tokens",
        ))
        .await
        .unwrap()
        .unwrap();
    let access: String = row.try_get("", "access_token").unwrap();
    let refresh: String = row.try_get("", "refresh_token").unwrap();
    assert!(access.starts_with("enc:v1:") && refresh.starts_with("enc:v1:"));
    assert!(!access.contains("acc-1") && !refresh.contains("ref-1"));
    let user = user_id();
    app.post_event(&text_event(&user, "/help")).await;
    app.replies_for(&user, 1).await;
    let sends = zalo::send_requests(&app.zalo).await;
    let send = sends.first().unwrap();
    assert_eq!(send.headers.get("access_token").unwrap(), "acc-1");
    app.shutdown().await;
}

both_backends!(
    tokens_can_be_encrypted_at_rest,
    refresh_rotates_through_several_lifetimes_and_restarts,
    refreshes_at_once_when_started_inside_the_margin,
    many_rejections_cause_exactly_one_refresh,
    two_instances_on_one_database_refresh_once,
    refused_refresh_token_requires_reauthorisation_without_a_retry_storm,
    transient_failures_back_off,
    crash_between_answer_and_commit_is_visible,
    pkce_reauthorisation_end_to_end,
);
