//! Proof that every Grafana panel shows data: Debian's Prometheus, on loopback, scrapes the real binary while
//! traffic goes through it (webhooks, scam hits, model answers from the fake, a token refresh, a backup, a
//! forwarded alert); then every panel query (`python3 .ci/check_ops.py --list-queries`) is evaluated through
//! Prometheus's HTTP API and must succeed with at least one series.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use testkit::zalo::{self, APP_SECRET, FakeOAuth, text_event, user_id};
use testkit::{ADMIN_TOKEN, Backend, openai, wait_until};
use wiremock::MockServer;

use crate::service::{Service, store_at};

/// Panels that may legitimately be empty on a live test service. Each entry: (dashboard uid, panel id, why).
const ALLOWED_EMPTY: &[(&str, u64, &str)] = &[
    (
        "tradesphere-overview",
        47,
        "unowned partitions: the partition count is exported in cluster mode only, and this service runs on SQLite",
    ),
    (
        "tradesphere-overview",
        52,
        "heartbeat p99: SQLite runs no heartbeat",
    ),
];

struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_prometheus(target: &str) -> Option<Prometheus> {
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("TRADESPHERE_REQUIRE_OPS_TOOLS").as_deref() != Ok("1"),
            "prometheus is required (TRADESPHERE_REQUIRE_OPS_TOOLS=1)"
        );
        eprintln!("SKIPPED: no prometheus binary");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: tradesphere\n    metrics_path: /metrics\n    static_configs:\n      - targets: [\"{target}\"]\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    Some(Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    })
}

async fn try_query(client: &reqwest::Client, prometheus: &str, expr: &str) -> Option<Value> {
    let mut url = url::Url::parse(&format!("{prometheus}/api/v1/query")).ok()?;
    url.query_pairs_mut().append_pair("query", expr);
    client.get(url).send().await.ok()?.json().await.ok()
}

async fn query(client: &reqwest::Client, prometheus: &str, expr: &str) -> Value {
    try_query(client, prometheus, expr)
        .await
        .unwrap_or_else(|| panic!("Prometheus did not answer {expr}"))
}

fn panel_queries() -> Vec<Value> {
    let output = Command::new("python3")
        .arg(format!("{}/.ci/check_ops.py", env!("CARGO_MANIFEST_DIR")))
        .arg("--list-queries")
        .output()
        .expect("python3 runs .ci/check_ops.py");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON list of queries")
}

/// Posts `body` to the webhook, unsigned (the service here verifies no signatures).
async fn post(client: &reqwest::Client, service: &Service, body: impl Into<reqwest::Body>) {
    let _ = client
        .post(format!("{}/api/v1/zalo/webhook", service.address))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
}

async fn drive_traffic(
    client: &reqwest::Client,
    service: &Service,
    round: usize,
    picture: &str,
    short_link: &str,
) {
    let user = user_id();
    // A picture, for the image panels: fetched from the loopback CDN, decoded and read.
    let image = zalo::attachment_event(
        &user,
        "image",
        serde_json::json!({"url": picture, "thumbnail": picture}),
    );
    post(client, service, image.to_string()).await;
    for text in [
        "số 0912 345 678 có lừa đảo không?".to_string(),
        "vào vietcombank-xacminh[.]com nhận quà".to_string(),
        format!("xin chào, câu hỏi số {round}"),
        // A short link, followed to where it leads, for the link-expansion panels.
        format!("Xem ảnh tại {short_link}"),
    ] {
        post(client, service, text_event(&user, &text).to_string()).await;
    }
    // A request refused before decoding counts as an error on the webhook panels.
    post(client, service, "{not json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_query_returns_series_from_a_live_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = Backend::Sqlite.fresh_database(&dir).await;
    let (zalo, model, oauth) = (
        MockServer::start().await,
        MockServer::start().await,
        MockServer::start().await,
    );
    zalo::accepts().mount(&zalo).await;
    // The same loopback server plays the CDN the pictures users send are fetched from.
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/img.png"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_bytes(testkit::pictures::png(64, 64)),
        )
        .mount(&zalo)
        .await;
    // And a scam feed (the legacy `SCAM_SYNC_URL` list), for the feed panels.
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/feed.txt"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .set_body_string("# feed\nfeed-lua-dao.vn\n"),
        )
        .mount(&zalo)
        .await;
    // And a link shortener (an extra shortener on loopback) sending its links on to a look-alike site.
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/s/3abc"))
        .respond_with(
            wiremock::ResponseTemplate::new(302)
                .insert_header("Location", "http://vietcombank-xacminh.top/dang-nhap"),
        )
        .mount(&zalo)
        .await;
    let feed_url = format!("{}/feed.txt", zalo.uri());
    let short_link = format!("{}/s/3abc", zalo.uri());
    let picture = format!("{}/img.png", zalo.uri());
    let cdn = zalo.address().to_string();
    let _fake = FakeOAuth::mount(&oauth, "ref-0", Duration::from_millis(0)).await;
    let oauth_url = oauth.uri();
    let mut service = Service::new(
        dir.path(),
        &database_url,
        &zalo,
        &model,
        &[
            ("ADMIN_TOKEN", ADMIN_TOKEN),
            ("ZALO_APP_SECRET", APP_SECRET),
            ("ZALO_ACCESS_TOKEN", "acc-0"),
            ("ZALO_REFRESH_TOKEN", "ref-0"),
            ("ZALO_OAUTH_URL", &oauth_url),
            ("ALERT_ZALO_USER_IDS", "7001"),
            ("TRADESPHERE__TOKEN__CHECK_INTERVAL_MS", "50"),
            ("TRADESPHERE__TOKEN__REFRESH_JITTER_SECS", "0"),
            // A report written straight into the store is seen by the next check.
            ("TRADESPHERE__SCAM__INDEX_REFRESH_SECS", "0"),
            ("TRADESPHERE__NET__ALLOW_HOSTS", &cdn),
            ("TRADESPHERE__LINKS__EXTRA_SHORTENERS", &cdn),
            ("SCAM_SYNC_URL", &feed_url),
        ],
    );
    service.set_env("ZALO_OA_SECRET_KEY", None);
    service.start().await;
    let target = service.address.trim_start_matches("http://").to_string();
    let Some(prometheus) = start_prometheus(&target) else {
        service.terminate().await;
        return;
    };
    openai::answers("Chào bạn, mình giúp được gì?")
        .mount(&model)
        .await;
    let store = store_at(&database_url).await;
    store
        .upsert_reports(&[tradesphere::store::NewReport {
            kind: tradesphere::scam::EntityKind::Phone,
            value: "+84912345678".into(),
            category: "giả danh công an".into(),
            source: "test".into(),
            report_count: 3,
            verified: false,
            bank_bin: None,
            first_reported: None,
            last_reported: None,
        }])
        .await
        .unwrap();
    store.close().await;
    let client = reqwest::Client::new();
    wait_until("prometheus scrapes the service", || async {
        let up = try_query(&client, &prometheus.url, "up{job=\"tradesphere\"} == 1").await?;
        (!up["data"]["result"].as_array()?.is_empty()).then_some(())
    })
    .await;

    // Traffic over several scrapes, so rates and increases see a change.
    for round in 0..4 {
        drive_traffic(&client, &service, round, &picture, &short_link).await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    let refreshed = client
        .post(format!("{}/api/v1/zalo/token/refresh", service.address))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refreshed.status(),
        200,
        "{}",
        refreshed.text().await.unwrap_or_default()
    );
    let dir = tempfile::tempdir().unwrap();
    tradesphere::backup::backup(
        &tradesphere::config::DatabaseSettings {
            url: SecretString::from(database_url.clone()),
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
            token_key: None,
            application_name: None,
        },
        &dir.path().join("proof.backup"),
    )
    .await
    .unwrap();
    let alert = client
        .post(format!("{}/api/v1/alerts", service.address))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"status": "firing", "alerts": [{"status": "firing", "labels": {"alertname": "Proof"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(alert.status(), 200);
    for round in 4..6 {
        drive_traffic(&client, &service, round, &picture, &short_link).await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    // Two more scrapes after the last change.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let mut failures = Vec::new();
    let queries = panel_queries();
    assert!(queries.len() >= 40, "{} panel queries", queries.len());
    for panel in &queries {
        let uid = panel["dashboard"].as_str().unwrap_or_default();
        let id = panel["panel_id"].as_u64().unwrap_or_default();
        let expr = panel["resolved_expr"].as_str().unwrap_or_default();
        let answer = query(&client, &prometheus.url, expr).await;
        let series = answer["data"]["result"].as_array().map_or(0, Vec::len);
        let allowed = ALLOWED_EMPTY.iter().any(|(d, p, _)| *d == uid && *p == id);
        if answer["status"] != "success" {
            failures.push(format!("{uid} #{id} errors: {expr}\n    {answer}"));
        } else if series == 0 && !allowed {
            failures.push(format!(
                "{uid} #{id} ({}) has no series: {expr}",
                panel["title"]
            ));
        }
    }
    drop(prometheus);
    service.terminate().await;
    assert!(
        failures.is_empty(),
        "{} of {} panel queries failed:\n{}",
        failures.len(),
        queries.len(),
        failures.join("\n")
    );
}
