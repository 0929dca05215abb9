//! The moderation console over plain HTTP (the browser test is `tests/console_browser.rs`): where it exists,
//! the login and its cookie, CSRF and the security headers, the queue's escaping and counts, a decision.

use testkit::both_backends;
use tradesphere::scam::EntityKind;
use tradesphere::store::{NewUserReport, UserReportOutcome};

use crate::helpers::*;

/// A client that shows redirects instead of following them, with the console cookie kept by hand.
struct Browser {
    client: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(base: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
            cookie: None,
        }
    }

    fn keep_cookie(&mut self, response: &reqwest::Response) {
        if let Some(set) = response.headers().get("set-cookie") {
            let set = set.to_str().unwrap();
            self.cookie = Some(set.split(';').next().unwrap().to_string());
        }
    }

    async fn get(&mut self, path: &str) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.post(format!("{}{path}", self.base)).form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        self.keep_cookie(&response);
        response
    }
}

fn csrf_in(page: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = page.find(marker).expect("a csrf_token field") + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

async fn console_is_absent_without_an_admin_token(backend: Backend) {
    let app = spawn_app(&backend).await;
    let mut browser = Browser::new(&app.address);
    assert_eq!(browser.get("/admin/login").await.status(), 404);
    assert_eq!(
        browser
            .post("/admin/login", &[("token", ADMIN_TOKEN)])
            .await
            .status(),
        404
    );
    app.shutdown().await;
}

async fn console_login_and_decisions_need_the_session_and_its_csrf_token(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            admin_token: true,
            admin_listen: true,
            ..Default::default()
        },
    )
    .await;
    let admin = app.admin_address.clone().unwrap();
    assert_eq!(
        Browser::new(&app.address)
            .get("/admin/login")
            .await
            .status(),
        404,
        "not on the public listener"
    );

    let mut browser = Browser::new(&admin);
    let first = browser.get("/admin/reports").await;
    assert_eq!(first.status(), 303);
    assert_eq!(location(&first), "/admin/login");
    let form = browser.get("/admin/login").await;
    assert_eq!(form.status(), 200);
    let csp = form.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert_eq!(form.headers()["x-frame-options"], "DENY");
    let cookie = form.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let login_csrf = csrf_in(&form.text().await.unwrap());

    let forged = browser
        .post("/admin/login", &[("token", ADMIN_TOKEN)])
        .await;
    assert_eq!(forged.status(), 403, "a login without its csrf_token");
    let wrong = browser
        .post(
            "/admin/login",
            &[("token", "not-the-token"), ("csrf_token", &login_csrf)],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let anonymous = browser.cookie.clone();
    let good = browser
        .post(
            "/admin/login",
            &[("token", ADMIN_TOKEN), ("csrf_token", &login_csrf)],
        )
        .await;
    assert_eq!(good.status(), 303);
    assert_eq!(location(&good), "/admin/reports");
    assert_ne!(browser.cookie, anonymous, "a fresh session after login");
    let again = browser.get("/admin/login").await;
    assert_eq!(location(&again), "/admin/reports", "already logged in");

    // Behind a TLS proxy the cookie is Secure.
    let proxied = Browser::new(&admin);
    let response = proxied
        .client
        .get(format!("{admin}/admin/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .ends_with("; Secure")
    );

    // Two people report one number, one of them with markup for evidence.
    let store = app.store();
    let mut ids = Vec::new();
    for (reporter, note) in [
        (
            "reporter-a",
            "<script>alert(1)</script><img src=x onerror=alert(2)>",
        ),
        ("reporter-b", "gọi bảo trúng thưởng"),
    ] {
        let outcome = store
            .submit_user_report(
                &NewUserReport {
                    kind: EntityKind::Phone,
                    value: "+84912345678".into(),
                    bank_bin: None,
                    category: "lừa đảo".into(),
                    note: note.into(),
                    reporter_hash: reporter.into(),
                },
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let UserReportOutcome::Created(id) = outcome else {
            panic!("{outcome:?}")
        };
        ids.push(id);
    }
    let queue = browser.get("/admin/reports").await;
    assert_eq!(queue.status(), 200);
    let page = queue.text().await.unwrap();
    assert!(
        !page.contains("<script>") && !page.contains("<img"),
        "{page}"
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("chờ duyệt: 2"), "reporters counted");
    let csrf = csrf_in(&page);
    assert_ne!(csrf, login_csrf);

    let verify = format!("/admin/reports/{}/verify", ids[1]);
    assert_eq!(browser.post(&verify, &[]).await.status(), 403);
    assert_eq!(
        browser
            .post(&verify, &[("csrf_token", &login_csrf)])
            .await
            .status(),
        403,
        "the login form's token is not the moderator session's"
    );
    assert_eq!(
        store.user_reports(Some("pending"), 10).await.unwrap().len(),
        2
    );
    let decided = browser.post(&verify, &[("csrf_token", &csrf)]).await;
    assert_eq!(decided.status(), 303);
    assert_eq!(location(&decided), "/admin/reports?done=verified");
    let verified = store.user_reports(Some("verified"), 10).await.unwrap();
    assert_eq!(verified.iter().map(|r| r.id).collect::<Vec<_>>(), [ids[1]]);
    let reject = format!("/admin/reports/{}/reject", ids[0]);
    let rejected = browser
        .post(
            &reject,
            &[("csrf_token", &csrf), ("reason", "không đủ bằng chứng")],
        )
        .await;
    assert_eq!(location(&rejected), "/admin/reports?done=rejected");
    let missing = browser
        .post("/admin/reports/999999/verify", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(location(&missing), "/admin/reports?done=missing");

    // The status page shows the source the verified report was published under.
    let status = browser.get("/admin/status").await;
    assert_eq!(status.status(), 200);
    let page = status.text().await.unwrap();
    assert!(
        page.contains(tradesphere::store::USER_REPORTS_SOURCE),
        "{page}"
    );
    for path in [
        "/admin/appeals",
        "/admin/pauses",
        "/admin/users",
        "/admin/users/12345",
    ] {
        assert_eq!(browser.get(path).await.status(), 200, "{path}");
    }
    assert_eq!(browser.get("/admin/users/not a user").await.status(), 404);

    let out = browser
        .post("/admin/logout", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    app.shutdown().await;
}

/// A browser logged in to the console on the admin listener.
async fn logged_in(admin: &str) -> Browser {
    let mut browser = Browser::new(admin);
    let form = browser.get("/admin/login").await;
    let csrf = csrf_in(&form.text().await.unwrap());
    let login = browser
        .post(
            "/admin/login",
            &[("token", ADMIN_TOKEN), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(location(&login), "/admin/reports");
    browser
}

async fn console_sends_a_campaign_and_shows_its_counts(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            admin_token: true,
            admin_listen: true,
            ..Default::default()
        },
    )
    .await;
    let follower = user_id();
    app.post_event(&text_event(&follower, "xin chào")).await;
    app.replies_for(&follower, 1).await;
    let mut browser = logged_in(app.admin_address.as_deref().unwrap()).await;
    let page = browser.get("/admin/campaigns").await;
    assert_eq!(page.status(), 200);
    let csrf = csrf_in(&page.text().await.unwrap());
    let text = "Cảnh báo: kẻ gian giả danh điện lực <b>gọi điện</b> đòi tiền";
    let forged = browser.post("/admin/campaigns", &[("text", text)]).await;
    assert_eq!(forged.status(), 403, "a campaign without its csrf_token");
    let refused = browser
        .post("/admin/campaigns", &[("text", " "), ("csrf_token", &csrf)])
        .await;
    assert_eq!(location(&refused), "/admin/campaigns?done=campaign_refused");
    let created = browser
        .post("/admin/campaigns", &[("text", text), ("csrf_token", &csrf)])
        .await;
    assert_eq!(location(&created), "/admin/campaigns?done=campaign");
    let page = browser
        .get("/admin/campaigns?done=campaign")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("&lt;b&gt;gọi điện&lt;/b&gt;"),
        "the text, escaped: {page}"
    );
    assert!(page.contains("Đã tạo cảnh báo"), "{page}");
    let campaigns: serde_json::Value = app
        .client
        .get(format!(
            "{}/api/v1/campaigns/1",
            app.admin_address.as_deref().unwrap()
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(campaigns["targeted"], 1, "{campaigns}");
    app.shutdown().await;
}

both_backends!(
    console_is_absent_without_an_admin_token,
    console_login_and_decisions_need_the_session_and_its_csrf_token,
    console_sends_a_campaign_and_shows_its_counts,
);
