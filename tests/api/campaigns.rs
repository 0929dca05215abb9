//! Campaigns: an admin's scam alert reaches only users inside Zalo's window who did not opt out or unfollow;
//! users opt out and back in by chat; nothing goes between 22:00 and 06:00 Vietnam time (an injected clock);
//! the stats count what became of each recipient; and a restart mid-campaign sends nobody anything twice.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, Utc};
use serde_json::{Value, json};
use testkit::both_backends;
use testkit::zalo::record_sends;
use tradesphere::clock::{Clock, ManualClock};
use tradesphere::domain::UserId;
use tradesphere::reply::templates;

use crate::helpers::*;

/// A clock standing at `hour`:00 Vietnam time today (earlier or later than now).
fn clock_at_vietnam(hour: u32) -> ManualClock {
    let clock = ManualClock::starting_now();
    let local = (clock.now() + chrono::Duration::hours(7)).date_naive();
    let target = local
        .and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap())
        .and_utc()
        - chrono::Duration::hours(7);
    clock.advance(target - clock.now());
    clock
}

async fn campaign_app(
    backend: &Backend,
    clock: &ManualClock,
    extra: Vec<(&'static str, String)>,
) -> TestApp {
    let mut extra_env = vec![("TRADESPHERE__CAMPAIGNS__TICK_MS", "100".to_string())];
    extra_env.extend(extra);
    spawn_app_with(
        backend,
        TestOptions {
            admin_token: true,
            zalo: true,
            clock: Some(clock.clone()),
            extra_env,
            ..Default::default()
        },
    )
    .await
}

async fn create(app: &TestApp, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/api/v1/campaigns", app.address))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn stats(app: &TestApp, id: i64) -> Value {
    let response = app
        .client
        .get(format!("{}/api/v1/campaigns/{id}", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Waits until the campaign's stats satisfy `done`, and returns them.
async fn stats_when(app: &TestApp, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    wait_until(what, || async {
        let stats = stats(app, id).await;
        done(&stats).then_some(stats)
    })
    .await
}

/// The users the Zalo fake got a message with `text` for, and how many each.
async fn recipients_of(app: &TestApp, text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for body in app.zalo_sends().await {
        if body["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains(text))
        {
            let user = body["recipient"]["user_id"].as_str().unwrap().to_string();
            *counts.entry(user).or_default() += 1;
        }
    }
    counts
}

/// Sends `text` from `user` and waits for its reply (the user's `nth` part, counting from 1).
async fn chat(app: &TestApp, user: &str, text: &str, nth: usize) -> String {
    app.post_event(&text_event(user, text)).await;
    app.replies_for(user, nth).await[nth - 1].text.clone()
}

async fn all_handled(app: &TestApp) {
    wait_until("every event handled", || async {
        (app.store().pending_event_count().await.ok()? == 0).then_some(())
    })
    .await;
}

const ALERT: &str = "Cảnh báo: kẻ gian giả danh nhân viên điện lực gọi điện đòi tiền.";

async fn only_users_in_the_window_who_still_want_alerts_get_a_campaign(backend: Backend) {
    let clock = clock_at_vietnam(10);
    let app = campaign_app(
        &backend,
        &clock,
        vec![("TRADESPHERE__CAMPAIGNS__WINDOW_HOURS", "1".into())],
    )
    .await;
    let (early, active, stopped, gone, back) =
        (user_id(), user_id(), user_id(), user_id(), user_id());
    chat(&app, &early, "chào bạn", 1).await;
    // The window here is one hour: `early` last wrote two hours before the campaign.
    clock.advance(chrono::Duration::hours(2));
    chat(&app, &active, "chào bạn", 1).await;
    chat(&app, &stopped, "chào bạn", 1).await;
    assert_eq!(
        chat(&app, &stopped, "Dừng nhận tin", 2).await,
        templates::ALERTS_STOPPED
    );
    assert_eq!(
        chat(&app, &back, "/stop", 1).await,
        templates::ALERTS_STOPPED
    );
    let started = chat(&app, &back, "/start", 2).await;
    assert!(
        started.starts_with(templates::ALERTS_STARTED) && started.contains("HƯỚNG DẪN"),
        "/start opts back in and still shows the help: {started}"
    );
    let follow = json!({"app_id": APP_ID, "oa_id": OA_ID, "event_name": "follow", "follower": {"id": gone},
        "user_id_by_app": "1", "source": "oa_profile", "timestamp": now_ms()});
    app.post_event(&follow).await;
    app.replies_for(&gone, 1).await;
    let unfollow = json!({"app_id": APP_ID, "oa_id": OA_ID, "event_name": "unfollow", "follower": {"id": gone},
        "timestamp": now_ms()});
    app.post_event(&unfollow).await;
    all_handled(&app).await;

    let counted = |text: &str, result: &str| {
        testkit::metrics::value(
            text,
            &format!("tradesphere_campaign_sends_total{{result=\"{result}\"}}"),
        )
    };
    let results = ["sent", "opted_out", "outside_window", "unfollowed"];
    let before = testkit::metrics::scrape(&app.address).await;
    let before: Vec<f64> = results.iter().map(|r| counted(&before, r)).collect();
    let body = json!({"text": ALERT});
    assert_eq!(create(&app, None, body.clone()).await.status(), 401);
    assert_eq!(
        create(&app, Some("wrong"), body.clone()).await.status(),
        401
    );
    let response = create(&app, Some(ADMIN_TOKEN), body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["id"]
        .as_i64()
        .expect("the answer carries the campaign's id");
    assert_eq!(created["targeted"], 2, "{created}");
    assert_eq!(
        created["skipped"],
        json!({"opted_out": 1, "outside_window": 1, "unfollowed": 1})
    );

    let done = stats_when(&app, id, "both targeted users reached", |s| s["sent"] == 2).await;
    assert_eq!(done["targeted"], 2);
    assert_eq!(done["waiting"], 0);
    assert_eq!(done["failed"], json!({}));
    assert_eq!(
        done["skipped"],
        json!({"opted_out": 1, "outside_window": 1, "unfollowed": 1})
    );
    let reached = recipients_of(&app, ALERT).await;
    assert_eq!(
        reached,
        HashMap::from([(active.clone(), 1), (back.clone(), 1)]),
        "only the users in the window who want alerts, once each"
    );
    let sent = app.zalo_sends().await;
    let text = sent
        .iter()
        .find_map(|b| b["message"]["text"].as_str().filter(|t| t.contains(ALERT)))
        .unwrap();
    assert!(
        text.ends_with(templates::CAMPAIGN_FOOTER),
        "says how to stop: {text}"
    );
    stats_when(&app, id, "the campaign finished", |s| {
        !s["finished_at"].is_null()
    })
    .await;

    // Other tests in this process count too, so at least this campaign's.
    let after = testkit::metrics::scrape(&app.address).await;
    for ((result, before), expected) in results.iter().zip(before).zip([2.0, 1.0, 1.0, 1.0]) {
        let delta = counted(&after, result) - before;
        assert!(delta >= expected, "{result}: {delta}");
    }
    app.shutdown().await;
}

async fn nothing_goes_at_night_and_the_campaign_waits_until_06_00(backend: Backend) {
    let clock = clock_at_vietnam(23);
    let app = campaign_app(&backend, &clock, Vec::new()).await;
    let user = user_id();
    // Replies to a user who just wrote still go at night.
    chat(&app, &user, "chào bạn", 1).await;
    let response = create(&app, Some(ADMIN_TOKEN), json!({"text": ALERT})).await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    // Many ticks of the campaigns actor pass at 23:00.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        recipients_of(&app, ALERT).await.is_empty(),
        "nothing sent at night"
    );
    let waiting = stats(&app, id).await;
    assert_eq!(waiting["waiting"], 1);
    assert_eq!(waiting["sent"], 0);
    let morning: DateTime<Utc> = waiting["next_send_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        morning,
        clock.now() + chrono::Duration::hours(7),
        "queued until 06:00 Vietnam time"
    );

    clock.advance(chrono::Duration::hours(6) + chrono::Duration::minutes(59));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        recipients_of(&app, ALERT).await.is_empty(),
        "05:59 is still night"
    );
    clock.advance(chrono::Duration::minutes(1));
    stats_when(&app, id, "sent at 06:00", |s| s["sent"] == 1).await;
    assert_eq!(
        recipients_of(&app, ALERT).await,
        HashMap::from([(user.clone(), 1)])
    );
    app.shutdown().await;
}

async fn the_stats_count_zalo_refusals_by_code_and_an_image_goes_with_its_text(backend: Backend) {
    let clock = clock_at_vietnam(9);
    let app = campaign_app(&backend, &clock, Vec::new()).await;
    let (reached, refused) = (user_id(), user_id());
    chat(&app, &reached, "chào bạn", 1).await;

    for (body, code) in [
        (json!({"text": "  "}), "empty_text"),
        (
            json!({"text": "x", "image_url": "http://cdn.example.vn/a.jpg"}),
            "bad_image_url",
        ),
        (json!({"text": "x".repeat(2000)}), "text_too_long"),
    ] {
        let response = create(&app, Some(ADMIN_TOKEN), body).await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.json::<Value>().await.unwrap()["error"], code);
    }
    let missing = app
        .client
        .get(format!("{}/api/v1/campaigns/999999", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let image = "https://cdn.example.vn/canh-bao.jpg";
    let response = create(
        &app,
        Some(ADMIN_TOKEN),
        json!({"text": ALERT, "image_url": image}),
    )
    .await;
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    stats_when(&app, id, "the first campaign sent", |s| s["sent"] == 1).await;
    let body = app
        .zalo_sends()
        .await
        .into_iter()
        .find(|b| {
            b["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains(ALERT))
        })
        .unwrap();
    let element = &body["message"]["attachment"]["payload"]["elements"][0];
    assert_eq!(element["media_type"], "image");
    assert_eq!(element["url"], image);

    chat(&app, &refused, "chào bạn", 1).await;
    app.zalo_fails_with(-230).await;
    let second = "Cảnh báo: tin nhắn giả ngân hàng yêu cầu cập nhật sinh trắc học.";
    let response = create(&app, Some(ADMIN_TOKEN), json!({"text": second})).await;
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let done = stats_when(&app, id, "both refused", |s| s["failed_total"] == 2).await;
    assert_eq!(done["failed"], json!({"-230": 2}), "{done}");
    assert_eq!(done["sent"], 0);
    assert_eq!(done["targeted"], 2);
    // The console's list: newest first, with the same counts.
    let recent = tradesphere::campaigns::recent(app.store(), 10, clock.now())
        .await
        .unwrap();
    assert_eq!(
        recent
            .iter()
            .map(|s| (s.campaign.id, s.sent))
            .collect::<Vec<_>>(),
        [(id, 0), (id - 1, 1)]
    );
    app.shutdown().await;
}

async fn a_restart_mid_campaign_sends_nobody_anything_twice(backend: Backend) {
    let clock = clock_at_vietnam(14);
    let batch = vec![("TRADESPHERE__CAMPAIGNS__BATCH", "1".to_string())];
    let mut first = campaign_app(&backend, &clock, batch.clone()).await;
    let users: Vec<String> = (0..5).map(|_| user_id()).collect();
    for user in &users {
        chat(&first, user, "chào bạn", 1).await;
    }
    first.zalo.reset().await;
    let before = record_sends(&first.zalo, Duration::from_millis(300)).await;
    let response = create(&first, Some(ADMIN_TOKEN), json!({"text": ALERT})).await;
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    wait_until("the campaign under way", || async {
        (!before.lock().unwrap().is_empty()).then_some(())
    })
    .await;
    first.stop().await;
    let sent_before: Vec<String> = before
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.user.clone())
        .collect();
    assert!(
        sent_before.len() < users.len(),
        "stopped mid-campaign: {sent_before:?}"
    );

    let second = spawn_app_with(
        &backend,
        TestOptions {
            admin_token: true,
            zalo: true,
            clock: Some(clock.clone()),
            database_url: Some(first.database_url.clone()),
            extra_env: [
                vec![("TRADESPHERE__CAMPAIGNS__TICK_MS", "100".to_string())],
                batch,
            ]
            .concat(),
            ..Default::default()
        },
    )
    .await;
    let done = stats_when(&second, id, "the rest sent after the restart", |s| {
        s["sent"].as_u64().unwrap_or(0) + s["ambiguous"].as_u64().unwrap_or(0) == 5
    })
    .await;
    assert_eq!(done["waiting"], 0);
    let mut everyone = sent_before.clone();
    everyone.extend(recipients_of(&second, ALERT).await.into_keys());
    everyone.sort();
    let mut expected = users.clone();
    expected.sort();
    assert_eq!(
        everyone, expected,
        "each user exactly once across both runs"
    );

    // Running the feed again finds nobody left to queue.
    let settings = tradesphere::config::Settings::from_env_map(
        [("DATABASE_URL".to_string(), second.database_url.clone())].into(),
    )
    .unwrap();
    let again = tradesphere::campaigns::feed(second.store(), &settings, clock.now())
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    for user in &users {
        let uid = UserId::parse(user).unwrap();
        let parts = second.store().outbound_for(&uid).await.unwrap();
        assert_eq!(
            parts.iter().filter(|p| p.text.contains(ALERT)).count(),
            1,
            "one part for {user}"
        );
    }
    second.shutdown().await;
    drop(first);
}

both_backends!(
    only_users_in_the_window_who_still_want_alerts_get_a_campaign,
    nothing_goes_at_night_and_the_campaign_waits_until_06_00,
    the_stats_count_zalo_refusals_by_code_and_an_image_goes_with_its_text,
    a_restart_mid_campaign_sends_nobody_anything_twice,
);
