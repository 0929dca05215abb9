//! Secrets and personal numbers never reach the logs: the real binary runs with known secret values, at
//! debug level, through the paths that log the most (a token rejected and refreshed, the model refusing the
//! key and echoing it, bad signatures, malformed bodies, admin calls with a wrong and a right bearer, the
//! database going away), and the whole log is searched for every secret and every full number.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::ledger::quiet_ledger;
use testkit::zalo::{APP_ID, signature, text_event, user_id};
use testkit::{PgCluster, openai, zalo};
use wiremock::matchers::header;
use wiremock::{MockServer, Request, ResponseTemplate};

use crate::service::Service;

const OA_SECRET_VALUE: &str = "oa-SECRET-4b7f2c9e1d";
const APP_SECRET_VALUE: &str = "app-SECRET-8c1e5a3f77";
const ACCESS_0: &str = "acc-SECRET-initial-5d2a9b";
const REFRESH_0: &str = "ref-SECRET-initial-3e8c1f";
const ACCESS_1: &str = "acc-SECRET-rotated-9a4d7e";
const REFRESH_1: &str = "ref-SECRET-rotated-2f6b8c";
const OPENAI_KEY: &str = "sk-SECRET-openai-7c3e9a1b";
const ADMIN_BEARER: &str = "adm-SECRET-bearer-6e2d4a";
const DB_PASSWORD: &str = "dbSECRETpass71";
/// 32 bytes, base64: "SECRETKEYSECRETKEYSECRETKEY12345".
const TOKEN_KEY: &str = "U0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVUS0VZMTIzNDU=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_full_number_reaches_the_logs() {
    let Some(cluster) = PgCluster::start_if_available() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Trust authentication ignores the password, so it can be a known secret that must never be logged.
    let mut database_url = url::Url::parse(&cluster.create_database().await).unwrap();
    database_url.set_password(Some(DB_PASSWORD)).unwrap();
    let database_url = database_url.to_string();

    let (zalo, openai) = (MockServer::start().await, MockServer::start().await);
    // The first access token has been revoked: Zalo answers -216 until the rotated one is used.
    zalo::rejects_token(ACCESS_0)
        .with_priority(1)
        .mount(&zalo)
        .await;
    let sends = zalo::record_sends(&zalo, Duration::ZERO).await;
    zalo::token_api()
        .and(header("secret_key", APP_SECRET_VALUE))
        .respond_with(move |req: &Request| {
            let body = String::from_utf8_lossy(&req.body);
            if body.contains(REFRESH_0) {
                ResponseTemplate::new(200).set_body_json(zalo::tokens_body(ACCESS_1, REFRESH_1))
            } else {
                zalo::invalid_grant()
            }
        })
        .mount(&zalo)
        .await;
    // The model refuses the key and, like OpenAI, quotes it in the error body.
    openai::chat_api()
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": format!("Incorrect API key provided: {OPENAI_KEY}. You can find your API key at https://platform.openai.com/account/api-keys."),
            "type": "invalid_request_error", "code": "invalid_api_key"}})))
        .mount(&openai)
        .await;

    let mut service = Service::new(
        dir.path(),
        &database_url,
        &zalo,
        &openai,
        &[
            ("RUST_LOG", "debug"),
            ("ZALO_OA_SECRET_KEY", OA_SECRET_VALUE),
            ("ZALO_APP_SECRET", APP_SECRET_VALUE),
            ("ZALO_ACCESS_TOKEN", ACCESS_0),
            ("ZALO_REFRESH_TOKEN", REFRESH_0),
            ("OPENAI_API_KEY", OPENAI_KEY),
            ("ADMIN_TOKEN", ADMIN_BEARER),
            ("TRADESPHERE_TOKEN_KEY", TOKEN_KEY),
            ("TRADESPHERE__DATABASE__ACQUIRE_TIMEOUT_SECS", "1"),
        ],
    );
    service.start().await;
    let address = service.address.clone();
    let client = reqwest::Client::new();
    let user = user_id();
    let webhook = format!("{address}/api/v1/zalo/webhook");
    let signed = |event: &Value| {
        let body = serde_json::to_vec(event).unwrap();
        let ts = event["timestamp"].as_str().unwrap().to_string();
        let mac = signature(APP_ID, &body, &ts, OA_SECRET_VALUE);
        (body, mac)
    };

    // A message full of numbers: scam check, the model (refused), a templated answer, a rejected token, a
    // refresh with the app secret, and the resend.
    let text = "Số 0912 345 678 bảo mình chuyển tiền vào STK 1903 6789 0123 Techcombank, link vietcombank-xacminh.com";
    let event = text_event(&user, text);
    let (body, mac) = signed(&event);
    let response = client
        .post(&webhook)
        .header("X-ZEvent-Signature", &mac)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // A forged signature (401), and the MAC the service would have expected must not be logged either.
    let forged = text_event(&user, "0987 654 321");
    let (forged_body, forged_mac) = signed(&forged);
    let response = client
        .post(&webhook)
        .header(
            "X-ZEvent-Signature",
            "mac=0000000000000000000000000000000000000000000000000000000000000000",
        )
        .body(forged_body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // Malformed JSON carrying a number.
    let response = client
        .post(&webhook)
        .header("X-ZEvent-Signature", &mac)
        .body("{\"message\": \"0987654321\"")
        .send()
        .await
        .unwrap();
    assert!(response.status() == 400 || response.status() == 401);
    // Admin calls: a wrong bearer, then the right one sending a number and checking one.
    let response = client
        .post(format!("{address}/api/v1/zalo/send"))
        .bearer_auth("adm-WRONG-guess")
        .json(&json!({"user_id": user, "message": "0912345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = client
        .post(format!("{address}/api/v1/zalo/send"))
        .bearer_auth(ADMIN_BEARER)
        .json(&json!({"user_id": user, "message": "Cảnh báo: số 0912345678 đã bị báo cáo."}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let response = client
        .get(format!("{address}/api/v1/scam/check?q=0912345678"))
        .bearer_auth(ADMIN_BEARER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let store_url = database_url.clone();
    let ledger = quiet_ledger(&store_url, Duration::from_secs(60)).await;
    assert!(
        ledger.states().get("sent").copied().unwrap_or(0) >= 2,
        "the reply and the admin message went out after the refresh: {:?}",
        ledger.states()
    );
    assert!(
        sends
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.text.contains("0912")),
        "the real reply does carry the number: masking is for logs only"
    );

    // The database goes away and comes back: errors are logged, connection strings are not.
    cluster.stop();
    let late = text_event(&user, "/help");
    let (late_body, late_mac) = signed(&late);
    let response = client
        .post(&webhook)
        .header("X-ZEvent-Signature", &late_mac)
        .body(late_body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.start();
    let status = service.terminate().await;
    assert!(status.success(), "{status}");

    let log = service.log_text();
    if let Ok(path) = std::env::var("SECRETS_LOG_COPY") {
        std::fs::write(path, &log).unwrap();
    }
    // The paths were really taken, so the search below looks at their log lines.
    for path in [
        "Zalo rejected the access token",
        "Zalo token refreshed",
        "webhook signature rejected",
        "model call failed",
        "answering 503",
        "proactive message queued",
    ] {
        assert!(log.contains(path), "no `{path}` in the log:\n{log}");
    }
    let mut leaks = Vec::new();
    for (what, secret) in [
        ("OA secret", OA_SECRET_VALUE),
        ("app secret", APP_SECRET_VALUE),
        ("initial access token", ACCESS_0),
        ("initial refresh token", REFRESH_0),
        ("rotated access token", ACCESS_1),
        ("rotated refresh token", REFRESH_1),
        ("OpenAI key", OPENAI_KEY),
        ("admin bearer", ADMIN_BEARER),
        ("database password", DB_PASSWORD),
        ("token encryption key", TOKEN_KEY),
        ("expected MAC of the forged request", forged_mac.as_str()),
        ("phone, as typed", "0912 345 678"),
        ("phone, digits", "0912345678"),
        ("phone, national digits", "912345678"),
        ("phone of the forged request", "0987 654 321"),
        ("phone in the malformed body", "0987654321"),
        ("account, as typed", "1903 6789 0123"),
        ("account, digits", "190367890123"),
        ("user id", user.as_str()),
    ] {
        if log.contains(secret) {
            let line = log.lines().find(|l| l.contains(secret)).unwrap_or_default();
            leaks.push(format!("{what}: {line}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "leaked into the logs:\n{}",
        leaks.join("\n")
    );
}
