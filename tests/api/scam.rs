//! Scam detection through the running service: the admin check endpoint, reports filed by admins and by
//! users in chat, moderation changing the verdict, signals without entities, and the scheduled list sync.

use serde_json::{Value, json};
use testkit::both_backends;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

fn admin_app() -> TestOptions {
    TestOptions {
        admin_token: true,
        ..Default::default()
    }
}

async fn check(app: &TestApp, text: &str, token: Option<&str>) -> reqwest::Response {
    let mut url = url::Url::parse(&format!("{}/api/v1/scam/check", app.address)).unwrap();
    url.query_pairs_mut().append_pair("q", text);
    let mut request = app.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn check_json(app: &TestApp, text: &str) -> Value {
    let response = check(app, text, Some(ADMIN_TOKEN)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn admin_check_returns_entities_verdicts_and_signals(backend: Backend) {
    let app = spawn_app_with(&backend, admin_app()).await;
    app.store()
        .upsert_reports(&[tradesphere::store::NewReport {
            kind: tradesphere::scam::EntityKind::BankAccount,
            value: "190366888888".into(),
            category: "giả danh ngân hàng".into(),
            source: "test".into(),
            report_count: 3,
            verified: false,
            bank_bin: Some("970407".into()),
            first_reported: None,
            last_reported: None,
        }])
        .await
        .unwrap();
    let text = "chị ơi chuyển khoản vào STK 1903 6688 8888 Techcombank, gọi 0912.345.678 hoặc vào vietcombank-xacminh[.]com, công an thông báo đọc mã OTP";
    assert_eq!(check(&app, text, None).await.status(), 401);
    assert_eq!(check(&app, text, Some("wrong")).await.status(), 401);
    let body = check_json(&app, text).await;
    let entities = body["entities"].as_array().unwrap();
    assert_eq!(entities.len(), 3, "{body}");
    assert_eq!(entities[0]["kind"], "bank_account");
    assert_eq!(entities[0]["value"], "190366888888");
    assert_eq!(entities[0]["raw"], "1903 6688 8888");
    assert_eq!(entities[0]["bank"]["bin"], "970407");
    assert_eq!(entities[0]["verdict"], "reported");
    assert_eq!(entities[0]["reports"], 3);
    assert_eq!(entities[1]["value"], "+84912345678");
    assert_eq!(entities[1]["verdict"], "no_reports");
    assert_eq!(entities[2]["value"], "vietcombank-xacminh.com");
    let start = entities[1]["start"].as_u64().unwrap() as usize;
    let end = entities[1]["end"].as_u64().unwrap() as usize;
    assert_eq!(&text[start..end], "0912.345.678");
    let scenarios: Vec<&str> = body["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scenario"].as_str().unwrap())
        .collect();
    assert!(scenarios.contains(&"otp_request"), "{body}");
    assert_eq!(body["level"], "danger", "{body}");
    let reasons = body["reasons"].as_array().unwrap();
    for reason in reasons {
        let (start, end) = (
            reason["start"].as_u64().unwrap() as usize,
            reason["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[start..end], reason["evidence"], "{reason}");
        assert!(!reason["label"].as_str().unwrap().is_empty());
    }
    assert!(
        reasons
            .iter()
            .any(|r| r["kind"] == "reported" && r["evidence"] == "1903 6688 8888"),
        "{body}"
    );
    assert_eq!(entities[0]["level"], "danger");
    let missing = app
        .client
        .get(format!("{}/api/v1/scam/check", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    app.shutdown().await;
}

/// An admin POST to `url` (bearer token), with a JSON body when given.
async fn admin_post(app: &TestApp, url: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = app.client.post(url).bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn admin_report_is_pending_until_verified(backend: Backend) {
    let app = spawn_app_with(&backend, admin_app()).await;
    let url = format!("{}/api/v1/scam/reports", app.address);
    let unauthorized = app
        .client
        .post(&url)
        .json(&json!({"value": "0987 654 321"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    let bad = admin_post(
        &app,
        &url,
        Some(json!({"value": "không có gì", "note": "x"})),
    )
    .await;
    assert_eq!(bad.status(), 400);
    let created: Value = admin_post(
        &app,
        &url,
        Some(json!({"value": "0987 654 321", "category": "giả danh công an", "note": "gọi đòi chuyển tiền"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(created["status"], "pending", "{created}");
    assert_eq!(created["value"], "+84987654321");
    let id = created["id"].as_i64().unwrap();

    let body = check_json(&app, "số 0987654321 này là ai").await;
    assert_eq!(
        body["entities"][0]["verdict"], "no_reports",
        "pending reports do not count: {body}"
    );

    let listed: Value = app
        .client
        .get(&url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["reports"][0]["id"], id, "{listed}");

    let verified = admin_post(&app, &format!("{url}/{id}/verify"), None).await;
    assert_eq!(verified.status(), 200);
    let body = check_json(&app, "số 0987654321 này là ai").await;
    assert_eq!(body["entities"][0]["verdict"], "verified", "{body}");
    assert_eq!(body["entities"][0]["category"], "giả danh công an");

    let rejected = admin_post(&app, &format!("{url}/{id}/reject"), None).await;
    assert_eq!(rejected.status(), 200);
    let body = check_json(&app, "số 0987654321 này là ai").await;
    assert_eq!(
        body["entities"][0]["verdict"], "no_reports",
        "withdrawn: {body}"
    );
    let unknown = admin_post(&app, &format!("{url}/999999/verify"), None).await;
    assert_eq!(unknown.status(), 404);
    app.shutdown().await;
}

async fn users_report_by_chat_once_per_entity(backend: Backend) {
    let app = spawn_app(&backend).await;
    let user = user_id();
    app.post_event(&text_event(
        &user,
        "Báo cáo 0912.345.678 giả danh công an đòi chuyển tiền",
    ))
    .await;
    let reply = &app.replies_for(&user, 1).await[0].text;
    assert!(reply.contains("Cảm ơn bạn đã báo cáo"), "{reply}");
    assert!(reply.contains("0912.345.678"), "{reply}");
    assert!(reply.contains("chờ quản trị viên xác minh"), "{reply}");
    app.post_event(&text_event(&user, "bao cao 0912345678 lua dao"))
        .await;
    let replies = app.replies_for(&user, 2).await;
    assert!(replies[1].text.contains("trước đó"), "{}", replies[1].text);
    let pending = app.store().user_reports(Some("pending"), 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].value, "+84912345678");
    assert_eq!(
        pending[0].category,
        "giả danh công an, viện kiểm sát hoặc tòa án"
    );
    app.post_event(&text_event(&user, "báo cáo")).await;
    let replies = app.replies_for(&user, 3).await;
    assert!(
        replies[2].text.contains("báo cáo <số điện thoại"),
        "{}",
        replies[2].text
    );
    app.shutdown().await;
}

async fn signals_alone_get_a_warning(backend: Backend) {
    let app = spawn_app(&backend).await;
    let user = user_id();
    app.post_event(&text_event(
        &user,
        "Có người nhắn tuyển CTV việc nhẹ lương cao, làm nhiệm vụ nhận hoa hồng, có nên tham gia không?",
    ))
    .await;
    let reply = &app.replies_for(&user, 1).await[0].text;
    // A question about a scam asks nothing of the reader: a caution, not a danger.
    assert!(reply.starts_with("⚠️"), "{reply}");
    assert!(
        reply.contains("“việc nhẹ lương cao”"),
        "evidence quoted: {reply}"
    );
    app.shutdown().await;
}

async fn a_short_link_is_answered_with_where_it_leads(backend: Backend) {
    // A shortener on loopback that sends its link to a look-alike bank site over plain http, which is
    // named in the reply and judged by its name, never contacted.
    let short = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/3abc"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", "http://vietcombank-xacminh.top/dang-nhap"),
        )
        .expect(1)
        .mount(&short)
        .await;
    let host = short.address().to_string();
    let app = spawn_app_with(
        &backend,
        TestOptions {
            extra_env: vec![
                ("TRADESPHERE__LINKS__EXPAND", "true".into()),
                ("TRADESPHERE__LINKS__EXTRA_SHORTENERS", host.clone()),
                ("TRADESPHERE__NET__ALLOW_HOSTS", host.clone()),
            ],
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    let link = format!("http://{host}/3abc");
    app.post_event(&text_event(&user, &format!("Xem ảnh tại {link}")))
        .await;
    let reply = &app.replies_for(&user, 1).await[0].text;
    assert!(reply.starts_with("🚨"), "{reply}");
    assert!(
        reply.contains(&format!(
            "↪ {link} dẫn tới vietcombank-xacminh[.]top/dang-nhap (trang không dùng kết nối bảo mật, mình không mở)."
        )),
        "{reply}"
    );
    assert!(
        reply.contains("tên miền giả mạo Vietcombank"),
        "the end of the chain gets the domain checks: {reply}"
    );
    assert!(!reply.contains("vietcombank-xacminh.top"), "{reply}");
    let followed = metric_value(
        &app,
        "tradesphere_link_expansions_total{result=\"not_https\"}",
    )
    .await;
    assert!(followed >= 1.0, "{followed}");
    app.shutdown().await;
}

both_backends!(
    a_short_link_is_answered_with_where_it_leads,
    admin_check_returns_entities_verdicts_and_signals,
    admin_report_is_pending_until_verified,
    users_report_by_chat_once_per_entity,
    signals_alone_get_a_warning,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_list_is_synced_on_schedule() {
    let lists = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/blacklist.txt"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "# chongluadao\nvietcombank-xacminh.com\n*.lua-dao.vn\nnot a domain\n",
        ))
        .mount(&lists)
        .await;
    let mut options = admin_app();
    options
        .extra_env
        .push(("SCAM_SYNC_URL", format!("{}/blacklist.txt", lists.uri())));
    // The list is fetched like any outside feed: a loopback mirror must be allow-listed.
    options
        .extra_env
        .push(("TRADESPHERE__NET__ALLOW_HOSTS", "127.0.0.1".to_string()));
    let app = spawn_app_with(&Backend::Sqlite, options).await;
    wait_until("list synced", || async {
        (app.store().report_count().await.ok()? == 2).then_some(())
    })
    .await;
    let body = check_json(&app, "vào https://login.lua-dao.vn/nhan-qua").await;
    assert_eq!(body["entities"][0]["verdict"], "verified", "{body}");
    assert_eq!(
        body["entities"][0]["matched"]["value"], "lua-dao.vn",
        "{body}"
    );
    app.shutdown().await;
}
