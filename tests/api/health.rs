//! Health, readiness and the metrics exposition.

use testkit::both_backends;

use crate::helpers::*;

async fn healthz_and_readyz(backend: Backend) {
    let app = spawn_app(&backend).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(
        body["checks"]["actors_missing"].as_array().unwrap().len(),
        0
    );
    // OCR is reported either way; whether it is on depends on the machine's Tesseract.
    assert!(body["checks"]["ocr"]["enabled"].is_boolean(), "{body}");
    assert_eq!(app.get("/nope").await.status(), 404);
    app.shutdown().await;
}

/// With OCR off the service is still ready, and says why OCR is off.
async fn readyz_says_when_ocr_is_off(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            extra_env: vec![("TRADESPHERE__IMAGE__OCR", "false".to_string())],
            ..Default::default()
        },
    )
    .await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["ocr"]["enabled"], false, "{body}");
    assert!(
        !body["checks"]["ocr"]["detail"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{body}"
    );
    app.shutdown().await;
}

async fn metrics_expose_the_contract_names(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            zalo: true,
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    app.post_event(&text_event(&user, "gọi 0912 345 678 có sao không"))
        .await;
    app.replies_for(&user, 1).await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for name in [
        "tradesphere_webhook_events_total{event=\"user_send_text\",outcome=\"accepted\"}",
        "tradesphere_webhook_request_duration_seconds_bucket",
        "tradesphere_outbound_sends_total{result=\"sent\"}",
        "tradesphere_outbound_send_duration_seconds_bucket",
        "tradesphere_llm_requests_total",
        "tradesphere_scam_lookups_total{kind=\"phone\",verdict=\"no_reports\"}",
        "tradesphere_scam_lookup_duration_seconds_bucket",
        "tradesphere_scam_reports_indexed{kind=\"domain\"}",
        "tradesphere_scam_signals_total{scenario=\"otp_request\"}",
        "tradesphere_scam_checks_total{level=\"danger\"}",
        "tradesphere_scam_reasons_total{kind=\"brand_impersonation\"}",
        "tradesphere_actor_restarts_total{actor=\"conversation\"}",
        "tradesphere_conversation_actors",
        "tradesphere_conversations_stopped_total{reason=\"capacity\"}",
        "tradesphere_zalo_access_token_expiry_timestamp_seconds",
        "tradesphere_events_handled_total",
        "tradesphere_media_fetch_total{result=\"forbidden_address\"}",
        "tradesphere_image_qr_codes_total",
        "tradesphere_link_expansions_total{result=\"forbidden_address\"}",
        "tradesphere_rdap_lookups_total{result=\"registered\"}",
        "tradesphere_build_info",
    ] {
        assert!(text.contains(name), "missing {name}");
    }
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        assert!(line.starts_with("tradesphere_"), "foreign metric: {line}");
        assert!(!line.contains(&user), "user id leaked into a label: {line}");
        assert!(
            !line.contains("912345678"),
            "phone number leaked into a label: {line}"
        );
    }
    app.shutdown().await;
}

both_backends!(
    healthz_and_readyz,
    readyz_says_when_ocr_is_off,
    metrics_expose_the_contract_names
);

/// `promtool check metrics` (Prometheus' own linter) accepts the exposition after real traffic.
/// CI installs Debian's `prometheus` and sets TRADESPHERE_REQUIRE_PROMTOOL=1; elsewhere a missing promtool skips.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_the_metrics() {
    let Ok(status) = std::process::Command::new("promtool")
        .arg("--version")
        .output()
    else {
        assert_ne!(
            std::env::var("TRADESPHERE_REQUIRE_PROMTOOL").as_deref(),
            Ok("1"),
            "promtool is required but missing"
        );
        eprintln!("SKIPPED: promtool not installed");
        return;
    };
    assert!(status.status.success());
    let app = spawn_app_with(
        &Backend::Sqlite,
        TestOptions {
            zalo: true,
            llm: true,
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    app.post_event(&text_event(&user, "gọi 0912 345 678 có sao không"))
        .await;
    app.replies_for(&user, 1).await;
    let text = app.get("/metrics").await.text().await.unwrap();
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    app.shutdown().await;
}
