//! Reports people can trust, through the running service: two independent reporters (or a moderator) before
//! anyone is warned, the daily cap, a rejected reporter's weight, outcome notices reaching the Zalo fake (at
//! once, after the user's return, or never once expired), appeals putting an entity under review, and the
//! audit log. The wall clock is a manual one set to a Vietnamese morning, outside the quiet hours.

use serde_json::{Value, json};
use testkit::both_backends;
use tradesphere::clock::ManualClock;
use tradesphere::domain::UserId;
use tradesphere::domain::notice::NoticeStatus;

use crate::helpers::*;

fn morning_clock() -> ManualClock {
    ManualClock::next_vietnam_morning()
}

async fn trust_app(backend: &Backend, clock: &ManualClock) -> TestApp {
    spawn_app_with(
        backend,
        TestOptions {
            admin_token: true,
            zalo: true,
            clock: Some(clock.clone()),
            // A user who comes back finds a fresh conversation, as one away for days does.
            extra_env: vec![("TRADESPHERE__CONVERSATION__IDLE_TIMEOUT_SECS", "1".into())],
            ..Default::default()
        },
    )
    .await
}

/// Sends `text` as `user` and waits for the `nth` (1-based) final reply part to them; returns its text.
async fn say(app: &TestApp, user: &str, text: &str, nth: usize) -> String {
    app.post_event(&text_event(user, text)).await;
    app.replies_for(user, nth).await[nth - 1].text.clone()
}

async fn verdict_of(app: &TestApp, text: &str) -> Value {
    let mut url = url::Url::parse(&format!("{}/api/v1/scam/check", app.address)).unwrap();
    url.query_pairs_mut().append_pair("q", text);
    let body: Value = app
        .client
        .get(url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["entities"][0]["verdict"].clone()
}

async fn admin_post(app: &TestApp, route: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}{route}", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn admin_get(app: &TestApp, route: &str) -> Value {
    let response = app
        .client
        .get(format!("{}{route}", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The id of `value`'s pending user report.
async fn report_id(app: &TestApp, value: &str) -> i64 {
    let reports = app
        .store()
        .user_reports(Some("pending"), 100)
        .await
        .unwrap();
    reports
        .iter()
        .find(|r| r.value == value)
        .unwrap_or_else(|| panic!("a pending report of {value}: {reports:?}"))
        .id
}

/// The texts the Zalo fake received for `user`.
async fn sent_to(app: &TestApp, user: &str) -> Vec<String> {
    app.zalo_sends()
        .await
        .iter()
        .filter(|s| s["recipient"]["user_id"] == user)
        .filter_map(|s| s["message"]["text"].as_str().map(str::to_string))
        .collect()
}

async fn wait_for_send(app: &TestApp, user: &str, marker: &str) -> String {
    wait_until(&format!("a send containing {marker:?}"), || async {
        sent_to(app, user)
            .await
            .into_iter()
            .find(|text| text.contains(marker))
    })
    .await
}

async fn notices_of(app: &TestApp, user: &str) -> Vec<NoticeStatus> {
    app.store()
        .notice_statuses(&UserId::parse(user).unwrap())
        .await
        .unwrap()
}

const PHONE: &str = "0912 345 678";
const STORED: &str = "+84912345678";
const VERIFIED_NOTICE: &str = "đã được quản trị viên xác minh là lừa đảo";
const REJECTED_NOTICE: &str = "chưa đủ căn cứ";

async fn two_distinct_reporters_are_needed(backend: Backend) {
    let clock = morning_clock();
    let app = trust_app(&backend, &clock).await;
    let (first, second) = (user_id(), user_id());
    let reply = say(
        &app,
        &first,
        &format!("báo cáo {PHONE} giả danh công an"),
        1,
    )
    .await;
    assert!(reply.contains("Cảm ơn bạn đã báo cáo"), "{reply}");
    assert!(reply.contains("mình sẽ nhắn cho bạn kết quả"), "{reply}");
    assert_eq!(verdict_of(&app, PHONE).await, "no_reports", "one reporter");
    // The same reporter again is not a second reporter.
    let again = say(&app, &first, &format!("bao cao {PHONE} lua dao"), 2).await;
    assert!(again.contains("trước đó"), "{again}");
    assert_eq!(
        verdict_of(&app, PHONE).await,
        "no_reports",
        "one reporter twice"
    );
    say(&app, &second, &format!("báo cáo {PHONE} lừa đảo"), 1).await;
    assert_eq!(verdict_of(&app, PHONE).await, "reported", "two reporters");
    app.shutdown().await;
}

async fn a_moderator_verify_warns_and_the_reporter_hears_it(backend: Backend) {
    let clock = morning_clock();
    let app = trust_app(&backend, &clock).await;
    let reporter = user_id();
    say(
        &app,
        &reporter,
        &format!("báo cáo {PHONE} giả danh ngân hàng"),
        1,
    )
    .await;
    assert_eq!(verdict_of(&app, PHONE).await, "no_reports");
    let id = report_id(&app, STORED).await;
    let verified = admin_post(
        &app,
        &format!("/api/v1/scam/reports/{id}/verify"),
        json!({"reason": "bank confirmed"}),
    )
    .await;
    assert_eq!(verified.status(), 200);
    assert_eq!(verdict_of(&app, PHONE).await, "verified");
    let notice = wait_for_send(&app, &reporter, VERIFIED_NOTICE).await;
    assert!(notice.contains("số điện thoại 0912345678"), "{notice}");
    assert_eq!(notices_of(&app, &reporter).await, [NoticeStatus::Sent]);
    let audit = admin_get(&app, "/api/v1/admin/audit").await;
    let row = &audit["audit"][0];
    assert_eq!(row["moderator"], "admin_token", "{audit}");
    assert_eq!(row["action"], "report_verify");
    assert_eq!(row["subject_id"], id);
    assert_eq!(row["reason"], "bank confirmed");
    assert!(row["at"].is_string());
    app.shutdown().await;
}

async fn the_eleventh_report_in_a_day_is_refused(backend: Backend) {
    let clock = morning_clock();
    let app = trust_app(&backend, &clock).await;
    let reporter = user_id();
    let ten: Vec<String> = (0..10).map(|n| format!("091234560{n}")).collect();
    let reply = say(
        &app,
        &reporter,
        &format!("báo cáo {} lừa đảo", ten.join(", ")),
        1,
    )
    .await;
    assert!(!reply.contains("tối đa"), "{reply}");
    let reply = say(&app, &reporter, "báo cáo 0987654321 lừa đảo", 2).await;
    assert!(reply.contains("tối đa 10 báo cáo"), "{reply}");
    assert!(reply.contains("ngày mai"), "{reply}");
    let filed = app.store().user_reports(None, 100).await.unwrap();
    assert_eq!(filed.len(), 10, "nothing filed over the cap");
    assert!(filed.iter().all(|r| r.value != "+84987654321"));
    // The next Vietnamese day the reporter may report again.
    clock.advance(chrono::Duration::days(1));
    let reply = say(&app, &reporter, "báo cáo 0987654321 lừa đảo", 3).await;
    assert!(reply.contains("Cảm ơn bạn đã báo cáo"), "{reply}");
    app.shutdown().await;
}

async fn a_rejected_reporter_counts_for_less(backend: Backend) {
    let clock = morning_clock();
    let app = trust_app(&backend, &clock).await;
    let (doubtful, second, third) = (user_id(), user_id(), user_id());
    say(&app, &doubtful, "báo cáo 0987654321 lừa đảo", 1).await;
    let id = report_id(&app, "+84987654321").await;
    let rejected = admin_post(
        &app,
        &format!("/api/v1/scam/reports/{id}/reject"),
        json!({"reason": "a shop's real number"}),
    )
    .await;
    assert_eq!(rejected.status(), 200);
    wait_for_send(&app, &doubtful, REJECTED_NOTICE).await;
    // Half a reporter and a whole one are not two.
    say(&app, &doubtful, &format!("báo cáo {PHONE} lừa đảo"), 3).await;
    say(&app, &second, &format!("báo cáo {PHONE} lừa đảo"), 1).await;
    assert_eq!(verdict_of(&app, PHONE).await, "no_reports");
    say(&app, &third, &format!("báo cáo {PHONE} lừa đảo"), 1).await;
    assert_eq!(verdict_of(&app, PHONE).await, "reported");
    app.shutdown().await;
}

async fn a_notice_outside_the_window_waits_for_the_user(backend: Backend) {
    let clock = morning_clock();
    let app = trust_app(&backend, &clock).await;
    let reporter = user_id();
    say(&app, &reporter, &format!("báo cáo {PHONE} lừa đảo"), 1).await;
    let id = report_id(&app, STORED).await;
    // Three days later (a morning again) the reporter's window has closed.
    clock.advance(chrono::Duration::days(3));
    let verified = admin_post(
        &app,
        &format!("/api/v1/scam/reports/{id}/verify"),
        json!({"reason": "confirmed"}),
    )
    .await;
    assert_eq!(verified.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(notices_of(&app, &reporter).await, [NoticeStatus::Waiting]);
    assert!(
        !sent_to(&app, &reporter)
            .await
            .iter()
            .any(|t| t.contains(VERIFIED_NOTICE)),
        "not sent outside the window"
    );
    // The reporter writes again: the window opens, and the notice goes.
    say(&app, &reporter, "chào bạn", 2).await;
    wait_for_send(&app, &reporter, VERIFIED_NOTICE).await;
    assert_eq!(notices_of(&app, &reporter).await, [NoticeStatus::Sent]);
    app.shutdown().await;
}

async fn an_expired_notice_is_never_sent(backend: Backend) {
    let clock = morning_clock();
    let app = trust_app(&backend, &clock).await;
    let reporter = user_id();
    say(&app, &reporter, &format!("báo cáo {PHONE} lừa đảo"), 1).await;
    let id = report_id(&app, STORED).await;
    clock.advance(chrono::Duration::days(3));
    let rejected = admin_post(
        &app,
        &format!("/api/v1/scam/reports/{id}/reject"),
        json!({"reason": "not enough evidence"}),
    )
    .await;
    assert_eq!(rejected.status(), 200);
    clock.advance(chrono::Duration::days(15));
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    say(&app, &reporter, "chào bạn", 2).await;
    wait_until("the notice expired", || async {
        (notices_of(&app, &reporter).await == [NoticeStatus::Expired]).then_some(())
    })
    .await;
    assert!(
        !sent_to(&app, &reporter)
            .await
            .iter()
            .any(|t| t.contains(REJECTED_NOTICE)),
        "an expired notice is never sent"
    );
    app.shutdown().await;
}

async fn an_appeal_puts_the_entity_under_review_until_decided(backend: Backend) {
    let clock = morning_clock();
    let app = trust_app(&backend, &clock).await;
    let (first, second, owner, asker) = (user_id(), user_id(), user_id(), user_id());
    say(&app, &first, &format!("báo cáo {PHONE} lừa đảo"), 1).await;
    say(&app, &second, &format!("báo cáo {PHONE} lừa đảo"), 1).await;
    assert_eq!(verdict_of(&app, PHONE).await, "reported");
    // The owner checks the number, then says it is theirs without repeating it.
    let checked = say(&app, &owner, &format!("số {PHONE} là của ai vậy"), 1).await;
    assert!(checked.contains("báo cáo"), "{checked}");
    let appealed = say(&app, &owner, "số này của tôi, bị báo cáo nhầm", 2).await;
    assert!(appealed.contains("ghi nhận khiếu nại"), "{appealed}");
    assert!(appealed.contains("0912345678"), "{appealed}");
    let listed = admin_get(&app, "/api/v1/admin/appeals").await;
    let appeal = &listed["appeals"][0];
    assert_eq!(appeal["value"], STORED, "{listed}");
    assert_eq!(appeal["status"], "pending");
    assert!(
        appeal.get("appellant").is_none(),
        "the owner's id is not listed"
    );
    let id = appeal["id"].as_i64().unwrap();
    let reply = say(&app, &asker, &format!("kiểm tra giúp số {PHONE}"), 1).await;
    assert!(reply.contains("đang được xem xét lại"), "{reply}");

    let missing = admin_post(
        &app,
        &format!("/api/v1/admin/appeals/{id}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(missing.status(), 400, "a decision says why");
    let accepted = admin_post(
        &app,
        &format!("/api/v1/admin/appeals/{id}/accept"),
        json!({"reason": "the owner sent the SIM contract"}),
    )
    .await;
    assert_eq!(accepted.status(), 200);
    let again = admin_post(
        &app,
        &format!("/api/v1/admin/appeals/{id}/reject"),
        json!({"reason": "changed my mind"}),
    )
    .await;
    assert_eq!(again.status(), 409);
    assert_eq!(verdict_of(&app, PHONE).await, "no_reports");
    let reply = say(&app, &asker, &format!("kiểm tra giúp số {PHONE}"), 2).await;
    assert!(!reply.contains("đang được xem xét lại"), "{reply}");
    wait_for_send(&app, &owner, "đã được chấp nhận").await;
    wait_for_send(&app, &first, REJECTED_NOTICE).await;
    wait_for_send(&app, &second, REJECTED_NOTICE).await;

    let audit = admin_get(&app, "/api/v1/admin/audit").await;
    let actions: Vec<&str> = audit["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "appeal_accept").count(),
        1,
        "{audit}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "report_reject").count(),
        2,
        "{audit}"
    );
    assert!(
        audit["audit"]
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["moderator"] == "admin_token"
                && row["reason"].as_str().unwrap().contains("SIM contract")),
        "{audit}"
    );
    let decided = admin_get(&app, "/api/v1/admin/appeals?status=accepted").await;
    assert_eq!(decided["appeals"][0]["decided_by"], "admin_token");
    app.shutdown().await;
}

both_backends!(
    two_distinct_reporters_are_needed,
    a_moderator_verify_warns_and_the_reporter_hears_it,
    the_eleventh_report_in_a_day_is_refused,
    a_rejected_reporter_counts_for_less,
    a_notice_outside_the_window_waits_for_the_user,
    an_expired_notice_is_never_sent,
    an_appeal_puts_the_entity_under_review_until_decided,
);
