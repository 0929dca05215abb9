//! Hostile input over HTTP: every malformed, oversized, forged or slow request gets the right status and stores nothing.
//!
//! "Stores nothing" is checked on the database itself (rows in `inbox_events`) and on the Zalo fake (no reply
//! sent). Slow and oversized bodies go over a raw `TcpStream`, because an HTTP client would not dribble or would
//! give up writing; those tests also check that the server closes the connection instead of holding it.
//!
//! Zalo documents no replay window for the signed `timestamp`, so none is enforced:
//! a correctly signed old event is accepted, and a replay is absorbed by the inbox's unique `event_key`.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use testkit::both_backends;
use testkit::zalo::signature;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

// ----- helpers -----

/// Rows in `inbox_events`, read through a connection of our own (not the service's store).
async fn inbox_rows(app: &TestApp) -> i64 {
    let db = Database::connect(app.database_url.as_str())
        .await
        .expect("connect to the test database");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM inbox_events",
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    db.close().await.ok();
    n
}

/// Sends to the Zalo fake addressed to `user`.
async fn sends_to(app: &TestApp, user: &str) -> usize {
    app.zalo_sends()
        .await
        .iter()
        .filter(|b| b["recipient"]["user_id"] == user)
        .count()
}

fn signed(event: &Value) -> (Vec<u8>, String) {
    let body = serde_json::to_vec(event).unwrap();
    let ts = event["timestamp"].as_str().unwrap().to_string();
    let sig = signature(APP_ID, &body, &ts, OA_SECRET);
    (body, sig)
}

fn host(address: &str) -> &str {
    address.trim_start_matches("http://")
}

/// Reads what the server sends until it closes the connection (EOF or reset), at most for `limit`.
/// Returns the bytes received and whether the connection was closed within the limit.
async fn read_until_closed(
    reader: &mut tokio::net::tcp::OwnedReadHalf,
    limit: Duration,
) -> (Vec<u8>, bool) {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, reader.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (received, true),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => return (received, false),
        }
    }
}

fn status_line(response: &[u8]) -> String {
    String::from_utf8_lossy(response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The value of the unlabelled counter `name` in a Prometheus exposition (0 when absent).
fn counter(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

fn signed_app() -> TestOptions {
    TestOptions {
        signed: true,
        zalo: true,
        ..Default::default()
    }
}

// ----- signatures, replays, duplicates -----

async fn forged_signatures_are_401_and_store_nothing(backend: Backend) {
    let app = spawn_app_with(&backend, signed_app()).await;
    let user = user_id();
    let event = text_event(&user, "xin chào");
    let (body, good) = signed(&event);
    let ts = event["timestamp"].as_str().unwrap();
    let wrong = signature(APP_ID, &body, ts, "another-secret");
    let good_hex = good.trim_start_matches("mac=").to_string();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty", Some(String::new())),
        ("wrong mac", Some(wrong.clone())),
        ("wrong mac, upper-case hex", Some(wrong.to_uppercase())),
        ("short", Some(format!("mac={}", &good_hex[..32]))),
        ("one digit short", Some(format!("mac={}", &good_hex[..63]))),
        ("one digit long", Some(format!("{good}0"))),
        ("non-hex", Some(format!("mac={}", "zz".repeat(32)))),
        ("upper-case prefix", Some(format!("MAC={good_hex}"))),
        ("other prefix", Some(format!("sha256={good_hex}"))),
        ("two macs", Some(format!("{good},{good}"))),
    ];
    for (case, sig) in &cases {
        let response = app.post_raw(body.clone(), sig.as_deref()).await;
        assert_eq!(response.status(), 401, "{case}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], "invalid_signature", "{case}");
    }
    // A signature that is not even a valid header string.
    let response = app
        .client
        .post(format!("{}/api/v1/zalo/webhook", app.address))
        .header(
            "X-ZEvent-Signature",
            reqwest::header::HeaderValue::from_bytes(b"mac=\xff\xfe").unwrap(),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "non-UTF-8 header");
    assert_eq!(inbox_rows(&app).await, 0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sends_to(&app, &user).await, 0);

    // The same MAC in upper-case hex is the same 256-bit value: zalo::signature::verify accepts either hex case
    // (and header names are case-insensitive in HTTP), so this is not a forgery.
    let response = app
        .client
        .post(format!("{}/api/v1/zalo/webhook", app.address))
        .header(
            "x-zevent-signature",
            format!("mac={}", good_hex.to_uppercase()),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(inbox_rows(&app).await, 1);
    app.replies_for(&user, 1).await;
    app.shutdown().await;
}

async fn replayed_event_is_one_row_and_one_answer(backend: Backend) {
    let app = spawn_app_with(&backend, signed_app()).await;
    let user = user_id();
    let event = text_event(&user, "/help");
    let (body, sig) = signed(&event);
    let first = app.post_raw(body.clone(), Some(&sig)).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.json::<Value>().await.unwrap()["status"], "ok");
    app.replies_for(&user, 1).await;
    // A captured request replayed later, byte for byte.
    for _ in 0..3 {
        let replay = app.post_raw(body.clone(), Some(&sig)).await;
        assert_eq!(replay.status(), 200);
        assert_eq!(replay.json::<Value>().await.unwrap()["status"], "duplicate");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox_rows(&app).await, 1);
    assert_eq!(sends_to(&app, &user).await, 1);
    app.shutdown().await;
}

/// Zalo documents no replay window, so an old (but correctly signed) timestamp is not a reason to refuse.
async fn stale_signed_timestamp_is_accepted_without_a_replay_window(backend: Backend) {
    let app = spawn_app_with(&backend, signed_app()).await;
    let user = user_id();
    let mut event = text_event(&user, "/help");
    let year_ago = chrono::Utc::now() - chrono::Duration::days(365);
    event["timestamp"] = json!(year_ago.timestamp_millis().to_string());
    let (body, sig) = signed(&event);
    assert_eq!(app.post_raw(body, Some(&sig)).await.status(), 200);
    assert_eq!(inbox_rows(&app).await, 1);
    app.replies_for(&user, 1).await;
    app.shutdown().await;
}

async fn concurrent_duplicates_make_one_row_and_one_answer(backend: Backend) {
    let app = spawn_app_with(&backend, signed_app()).await;
    let user = user_id();
    let event = text_event(&user, "/help");
    let (body, sig) = signed(&event);
    let requests = (0..10).map(|_| app.post_raw(body.clone(), Some(&sig)));
    let responses = futures_util::future::join_all(requests).await;
    let mut statuses = Vec::new();
    for response in responses {
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        statuses.push(answer["status"].as_str().unwrap().to_string());
    }
    statuses.sort();
    let mut expected = vec!["duplicate".to_string(); 9];
    expected.push("ok".to_string());
    assert_eq!(statuses, expected, "one accepted, nine duplicates");
    app.replies_for(&user, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox_rows(&app).await, 1);
    assert_eq!(sends_to(&app, &user).await, 1);
    app.shutdown().await;
}

// ----- oversized and malformed bodies -----

/// 10 MiB, declared or chunked: 413 and the connection is closed, not drained.
async fn ten_mebibyte_bodies_are_413_and_the_connection_is_closed(backend: Backend) {
    const TEN_MIB: usize = 10 << 20;
    let app = spawn_app_with(&backend, signed_app()).await;
    for chunked in [false, true] {
        let stream = TcpStream::connect(host(&app.address)).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let framing = if chunked {
            "Transfer-Encoding: chunked".to_string()
        } else {
            format!("Content-Length: {TEN_MIB}")
        };
        let head = format!(
            "POST /api/v1/zalo/webhook HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
        );
        writer.write_all(head.as_bytes()).await.unwrap();
        let sender = tokio::spawn(async move {
            let piece = vec![b' '; 64 * 1024];
            for _ in 0..TEN_MIB / piece.len() {
                let written = if chunked {
                    let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
                    framed.extend_from_slice(&piece);
                    framed.extend_from_slice(b"\r\n");
                    writer.write_all(&framed).await
                } else {
                    writer.write_all(&piece).await
                };
                if written.is_err() {
                    return;
                }
            }
            let _ = writer
                .write_all(if chunked { b"0\r\n\r\n" } else { b"" })
                .await;
        });
        let (response, closed) = read_until_closed(&mut reader, Duration::from_secs(10)).await;
        assert!(
            status_line(&response).starts_with("HTTP/1.1 413"),
            "chunked={chunked}: {}",
            status_line(&response)
        );
        assert!(closed, "chunked={chunked}: the connection is not held");
        sender.abort();
    }
    assert_eq!(inbox_rows(&app).await, 0);
    app.shutdown().await;
}

async fn malformed_json_is_400_and_never_a_crash(backend: Backend) {
    // A 1 MiB body limit, so the deepest documents reach the JSON parser instead of getting 413.
    let app = spawn_app_with(
        &backend,
        TestOptions {
            extra_env: vec![(
                "TRADESPHERE__SERVER__BODY_LIMIT_BYTES",
                (1 << 20).to_string(),
            )],
            ..Default::default()
        },
    )
    .await;
    let deep_arrays = "[".repeat(100_000);
    let deep_objects = "{\"a\":".repeat(100_000);
    let nested_event = format!(
        "{{\"event_name\":\"user_send_text\",\"message\":{}1{}}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let invalid_utf8 =
        b"{\"event_name\":\"user_send_text\",\"message\":{\"text\":\"\xff\xfe\xc3\"}}".to_vec();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("100k [", deep_arrays.into_bytes()),
        ("100k {", deep_objects.into_bytes()),
        ("deep value in an event", nested_event.into_bytes()),
        ("invalid UTF-8", invalid_utf8),
        (
            "lone surrogate escape",
            br#"{"event_name":"\ud800"#.to_vec(),
        ),
        ("not an object", b"[1,2,3]".to_vec()),
        ("null", b"null".to_vec()),
        ("a bare string", b"\"user_send_text\"".to_vec()),
        (
            "truncated",
            br#"{"event_name":"user_send_text","message":{"#.to_vec(),
        ),
        (
            "no event_name",
            br#"{"app_id":"1","timestamp":"1"}"#.to_vec(),
        ),
        ("event_name not a string", br#"{"event_name":42}"#.to_vec()),
        ("blank event_name", br#"{"event_name":"   "}"#.to_vec()),
        ("NUL bytes", b"\0\0\0\0".to_vec()),
        (
            "number out of range",
            br#"{"event_name":"x","n":1e400}"#.to_vec(),
        ),
    ];
    for (case, body) in cases {
        let response = app.post_raw(body, None).await;
        assert_eq!(response.status(), 400, "{case}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["error"] == "malformed_json" || error["error"] == "malformed_event",
            "{case}: {error}"
        );
    }
    assert_eq!(app.get("/healthz").await.status(), 200, "still alive");
    assert_eq!(inbox_rows(&app).await, 0);
    app.shutdown().await;
}

/// Ids as huge numbers, missing fields, unknown events and empty probes: the decoder's documented tolerance
/// (ids as string or number, everything but `event_name` optional, unknown events stored and acknowledged).
async fn odd_but_valid_events_are_tolerated(backend: Backend) {
    let app = spawn_app(&backend).await;
    let mut stored = 0;

    // Huge numeric ids: serde_json reads an integer past u64 as a float and refuses 1e400 (out of range).
    for (case, body) in [
        (
            "30-digit sender",
            format!(
                r#"{{"event_name":"user_send_text","sender":{{"id":123456789012345678901234567890}},"message":{{"msg_id":{},"text":"alo"}},"timestamp":"{}"}}"#,
                987654321012345678u64,
                now_ms()
            ),
        ),
        (
            "30-digit msg_id",
            format!(
                r#"{{"event_name":"user_send_text","sender":{{"id":"{}"}},"message":{{"msg_id":123456789012345678901234567890,"text":"alo"}},"timestamp":"{}"}}"#,
                user_id(),
                now_ms()
            ),
        ),
        (
            "1e400 sender",
            format!(
                r#"{{"event_name":"user_send_text","sender":{{"id":1e400}},"message":{{"msg_id":"{}","text":"alo"}}}}"#,
                msg_id()
            ),
        ),
        (
            "negative float ids",
            r#"{"event_name":"user_send_text","sender":{"id":-1.5e300},"message":{"msg_id":-0.0,"text":"alo"},"timestamp":-1}"#
                .to_string(),
        ),
    ] {
        let response = app.post_raw(body, None).await;
        let status = response.status().as_u16();
        assert!(status == 200 || status == 400, "{case}: {status}");
        if status == 200 {
            stored += 1;
        }
    }

    // Only event_name: stored and acknowledged (nothing else is required), no answer (no user).
    for event in [
        json!({"event_name": "user_send_text"}),
        json!({"event_name": "user_send_text", "sender": {}, "message": {"text": null}, "timestamp": now_ms()}),
        json!({"event_name": "user_send_text", "sender": {"id": ""}, "message": "not an object"}),
        json!({"event_name": "follow", "follower": {"id": [1, 2]}}),
    ] {
        assert_eq!(app.post_event(&event).await.status(), 200, "{event}");
        stored += 1;
    }
    // Unknown event names: stored and acknowledged.
    for name in [
        "brand_new_event_2099",
        "user_send_hologram",
        "oa_send_nothing",
    ] {
        let event = json!({"app_id": APP_ID, "event_name": name, "timestamp": now_ms(), "message": {"msg_id": msg_id()}});
        assert_eq!(app.post_event(&event).await.status(), 200, "{name}");
        stored += 1;
    }
    // Empty probes: answered, not stored.
    for probe in ["", " ", "\r\n\t "] {
        let response = app.post_raw(probe, None).await;
        assert_eq!(response.status(), 200, "probe {probe:?}");
    }
    assert_eq!(inbox_rows(&app).await, stored);
    wait_until("every stored event handled", || async {
        (app.store().pending_event_count().await.ok()? == 0).then_some(())
    })
    .await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.shutdown().await;
}

/// With a secret configured, an empty body without a signature is still a probe (200), but with one it is an
/// event to verify (400: not JSON); neither is stored.
async fn signed_app_probes_and_empty_signed_bodies(backend: Backend) {
    let app = spawn_app_with(&backend, signed_app()).await;
    assert_eq!(app.post_raw("", None).await.status(), 200);
    let sig = signature(APP_ID, b"", "", OA_SECRET);
    assert_eq!(app.post_raw("", Some(&sig)).await.status(), 400);
    assert_eq!(inbox_rows(&app).await, 0);
    app.shutdown().await;
}

// ----- slow clients -----

/// Headers, then a body dribbled a few bytes at a time: 408 once `body_read_timeout_secs` has passed, the
/// connection closed, nothing stored.
async fn slow_loris_body_is_408_within_the_deadline(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            signed: true,
            zalo: true,
            extra_env: vec![(
                "TRADESPHERE__SERVER__BODY_READ_TIMEOUT_SECS",
                "1".to_string(),
            )],
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    let (body, sig) = signed(&text_event(&user, "xin chào"));
    let stream = TcpStream::connect(host(&app.address)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /api/v1/zalo/webhook HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nX-ZEvent-Signature: {sig}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let dribble = tokio::spawn(async move {
        for piece in body.chunks(3) {
            if writer.write_all(piece).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let (response, closed) = read_until_closed(&mut reader, Duration::from_secs(6)).await;
    let elapsed = started.elapsed();
    assert!(
        status_line(&response).starts_with("HTTP/1.1 408"),
        "{}",
        status_line(&response)
    );
    assert!(closed, "the connection is closed after the 408");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "answered after {elapsed:?}"
    );
    dribble.abort();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(inbox_rows(&app).await, 0);
    assert_eq!(sends_to(&app, &user).await, 0);
    app.shutdown().await;
}

/// Headers dribbled a line at a time never reach a handler: the connection is closed once
/// `header_read_timeout_secs` has passed.
async fn slow_headers_are_cut_off(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            extra_env: vec![(
                "TRADESPHERE__SERVER__HEADER_READ_TIMEOUT_SECS",
                "1".to_string(),
            )],
            ..Default::default()
        },
    )
    .await;
    let stream = TcpStream::connect(host(&app.address)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(b"POST /api/v1/zalo/webhook HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let dribble = tokio::spawn(async move {
        for i in 0..100 {
            if writer
                .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let (response, closed) = read_until_closed(&mut reader, Duration::from_secs(6)).await;
    assert!(closed, "the connection is closed");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "closed after {:?}",
        started.elapsed()
    );
    // hyper may say 408 before closing; it never lets the request through.
    let status = status_line(&response);
    assert!(
        status.is_empty() || status.starts_with("HTTP/1.1 408"),
        "{status}"
    );
    dribble.abort();
    assert_eq!(inbox_rows(&app).await, 0);
    app.shutdown().await;
}

// ----- admin API -----

const ADMIN_ROUTES: [(&str, &str); 9] = [
    ("POST", "/api/v1/zalo/send"),
    ("GET", "/api/v1/scam/check?q=0912345678"),
    ("POST", "/api/v1/scam/reports"),
    ("GET", "/api/v1/scam/reports"),
    ("POST", "/api/v1/scam/reports/1/verify"),
    ("POST", "/api/v1/zalo/token/authorize-url"),
    ("POST", "/api/v1/zalo/token/refresh"),
    ("GET", "/api/v1/zalo/token/status"),
    ("POST", "/api/v1/alerts"),
];

async fn admin_request(
    app: &TestApp,
    base: &str,
    method: &str,
    route: &str,
    authorization: Option<&str>,
) -> reqwest::Response {
    let url = format!("{base}{route}");
    let mut request = match method {
        "GET" => app.client.get(url),
        _ => app.client.post(url).json(&json!({})),
    };
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.unwrap()
}

async fn admin_routes_refuse_missing_and_wrong_bearers(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            admin_token: true,
            ..Default::default()
        },
    )
    .await;
    let long_wrong = "x".repeat(10_000);
    let good = format!("Bearer {ADMIN_TOKEN}");
    let refusals: Vec<(&str, Option<String>)> = vec![
        ("none", None),
        ("empty", Some(String::new())),
        ("scheme only", Some("Bearer ".into())),
        ("no scheme", Some(ADMIN_TOKEN.into())),
        ("basic", Some(format!("Basic {ADMIN_TOKEN}"))),
        ("wrong", Some("Bearer wrong".into())),
        ("prefix", Some(format!("Bearer {}", &ADMIN_TOKEN[..5]))),
        ("extended", Some(format!("{good}x"))),
        ("very long", Some(format!("Bearer {long_wrong}"))),
    ];
    // Fewer than the default burst (20) per route... but all routes share one caller budget, so check a few
    // routes with every refusal and every route with one.
    for (method, route) in &ADMIN_ROUTES[..1] {
        for (case, value) in &refusals {
            let response = admin_request(&app, &app.address, method, route, value.as_deref()).await;
            assert_eq!(response.status(), 401, "{method} {route} ({case})");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"], "unauthorized");
        }
    }
    for (method, route) in &ADMIN_ROUTES {
        let response = admin_request(&app, &app.address, method, route, Some("Bearer nope")).await;
        assert_eq!(response.status(), 401, "{method} {route}");
    }
    // The scheme is case-insensitive (RFC 9110).
    let response = admin_request(
        &app,
        &app.address,
        "GET",
        "/api/v1/scam/reports",
        Some(&format!("bearer {ADMIN_TOKEN}")),
    )
    .await;
    assert_eq!(response.status(), 200);
    // The OAuth callback needs no bearer: its one-time state protects it (here: none, so 400 and nothing).
    let callback = app
        .get("/api/v1/zalo/oauth/callback?code=c&state=guessed")
        .await;
    assert_eq!(callback.status(), 400);
    assert!(app.zalo_sends().await.is_empty());
    app.shutdown().await;
}

async fn admin_api_is_404_without_a_token_and_not_limited(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            extra_env: vec![
                ("TRADESPHERE__SERVER__ADMIN_RATE_PER_MINUTE", "1".into()),
                ("TRADESPHERE__SERVER__ADMIN_RATE_BURST", "1".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    for (method, route) in ADMIN_ROUTES {
        for authorization in [None, Some("Bearer anything")] {
            let response = admin_request(&app, &app.address, method, route, authorization).await;
            assert_eq!(response.status(), 404, "{method} {route}");
        }
    }
    app.shutdown().await;
}

/// Bad bearers spend the caller's budget like good ones; past it every admin route answers 429 with
/// Retry-After and a JSON body, the counter goes up, and the webhook is not affected.
async fn admin_burst_over_the_limit_is_429(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            admin_token: true,
            extra_env: vec![
                // One request per 10 s after a burst of 5: nothing refills during the test.
                ("TRADESPHERE__SERVER__ADMIN_RATE_PER_MINUTE", "6".into()),
                ("TRADESPHERE__SERVER__ADMIN_RATE_BURST", "5".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    let before = counter(
        &app.get("/metrics").await.text().await.unwrap(),
        "tradesphere_admin_rate_limited_total",
    );
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = admin_request(
            &app,
            &app.address,
            "GET",
            "/api/v1/zalo/token/status",
            Some("Bearer guess"),
        )
        .await;
        let status = response.status().as_u16();
        if status == 429 {
            let retry_after: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=10).contains(&retry_after), "Retry-After {retry_after}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"], "rate_limited");
        }
        statuses.push(status);
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert_eq!(&statuses[5..], &[429; 7], "{statuses:?}");
    // The right token does not skip the limit, on any admin route.
    for (method, route) in [
        ("GET", "/api/v1/zalo/token/status"),
        ("POST", "/api/v1/zalo/send"),
    ] {
        let response = admin_request(
            &app,
            &app.address,
            method,
            route,
            Some(&format!("Bearer {ADMIN_TOKEN}")),
        )
        .await;
        assert_eq!(response.status(), 429, "{method} {route}");
    }
    let after = counter(
        &app.get("/metrics").await.text().await.unwrap(),
        "tradesphere_admin_rate_limited_total",
    );
    assert!(after >= before + 9.0, "counter {before} → {after}");
    // The webhook, health and metrics are not admin routes.
    assert_eq!(
        app.post_event(&text_event(&user_id(), "alo"))
            .await
            .status(),
        200
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.shutdown().await;
}

both_backends!(
    forged_signatures_are_401_and_store_nothing,
    replayed_event_is_one_row_and_one_answer,
    stale_signed_timestamp_is_accepted_without_a_replay_window,
    concurrent_duplicates_make_one_row_and_one_answer,
    ten_mebibyte_bodies_are_413_and_the_connection_is_closed,
    malformed_json_is_400_and_never_a_crash,
    odd_but_valid_events_are_tolerated,
    signed_app_probes_and_empty_signed_bodies,
    slow_loris_body_is_408_within_the_deadline,
    slow_headers_are_cut_off,
    admin_routes_refuse_missing_and_wrong_bearers,
    admin_api_is_404_without_a_token_and_not_limited,
    admin_burst_over_the_limit_is_429,
);
