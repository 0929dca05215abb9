//! Proof that every Grafana panel shows data: Debian's Prometheus, on loopback, scrapes the real service while
//! traffic goes through it (webhooks, scam hits, model answers from the fake, a token refresh, a backup, a
//! forwarded alert); then every panel query (`python3 .ci/check_ops.py --list-queries`) is evaluated through
//! Prometheus's HTTP API and must succeed with at least one series.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::*;

/// Panels that may legitimately be empty on a live test service. Each entry: (dashboard uid, panel id, why).
const ALLOWED_EMPTY: &[(&str, u64, &str)] = &[];

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

async fn drive_traffic(app: &TestApp, round: usize) {
    let user = user_id();
    app.post_event(&text_event(&user, "số 0912 345 678 có lừa đảo không?"))
        .await;
    app.post_event(&text_event(&user, "vào vietcombank-xacminh[.]com nhận quà"))
        .await;
    app.post_event(&text_event(&user, &format!("xin chào, câu hỏi số {round}")))
        .await;
    // A request refused before decoding counts as an error on the webhook panels.
    let _ = app.post_raw("{not json", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_query_returns_series_from_a_live_prometheus() {
    let oauth = wiremock::MockServer::start().await;
    let _fake = FakeOAuth::mount(&oauth, "ref-0", Duration::from_millis(0)).await;
    let app = spawn_app_with(
        &Backend::Sqlite,
        TestOptions {
            zalo: true,
            llm: true,
            admin_token: true,
            extra_env: vec![
                ("ZALO_ACCESS_TOKEN", "acc-0".into()),
                ("ZALO_REFRESH_TOKEN", "ref-0".into()),
                ("ZALO_OAUTH_URL", oauth.uri()),
                ("ALERT_ZALO_USER_IDS", "7001".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    let target = app.address.trim_start_matches("http://").to_string();
    let Some(prometheus) = start_prometheus(&target) else {
        app.shutdown().await;
        return;
    };
    app.model_answers("Chào bạn, mình giúp được gì?").await;
    app.store()
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
    let client = reqwest::Client::new();
    wait_until("prometheus scrapes the service", || async {
        let up = try_query(&client, &prometheus.url, "up{job=\"tradesphere\"} == 1").await?;
        (!up["data"]["result"].as_array()?.is_empty()).then_some(())
    })
    .await;

    // Traffic over several scrapes, so rates and increases see a change.
    for round in 0..4 {
        drive_traffic(&app, round).await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    let refreshed = app
        .client
        .post(format!("{}/api/v1/zalo/token/refresh", app.address))
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
            url: SecretString::from(app.database_url.clone()),
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
            token_cipher: None,
        },
        &dir.path().join("proof.backup"),
    )
    .await
    .unwrap();
    let alert = app
        .client
        .post(format!("{}/api/v1/alerts", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"status": "firing", "alerts": [{"status": "firing", "labels": {"alertname": "Proof"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(alert.status(), 200);
    for round in 4..6 {
        drive_traffic(&app, round).await;
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
    app.shutdown().await;
    assert!(
        failures.is_empty(),
        "{} of {} panel queries failed:\n{}",
        failures.len(),
        queries.len(),
        failures.join("\n")
    );
}
