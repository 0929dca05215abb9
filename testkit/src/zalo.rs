//! Zalo as the service meets it: signed webhook events coming in, and fakes of the OA API (the send API and
//! the OAuth token endpoint) answering in Zalo's own JSON.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

pub const APP_ID: &str = "360846524940903967";
pub const OA_ID: &str = "579745863508352884";
/// The OA secret key webhook events are signed with.
pub const OA_SECRET: &str = "test-oa-secret-key";
/// The app secret the token endpoint expects in its `secret_key` header.
pub const APP_SECRET: &str = "test-app-secret";
/// The OA access token a test service starts with.
pub const ACCESS_TOKEN: &str = "test-zalo-access-token";

/// The header a signed webhook event carries.
pub const SIGNATURE_HEADER: &str = "X-ZEvent-Signature";
/// The send API (customer-service messages).
pub const SEND_PATH: &str = "/v3.0/oa/message/cs";
/// The OAuth token endpoint (refresh and authorization-code grants).
pub const TOKEN_PATH: &str = "/v4/oa/access_token";

// ---------------------------------------------------------------------------------------------------------
// Webhook events.

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A unique Zalo-style message id.
pub fn msg_id() -> String {
    format!(
        "msg{:016x}{}",
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::process::id()
    )
}

/// A unique Zalo-style user id (digits, like real ones).
pub fn user_id() -> String {
    format!(
        "55217727971{:07}",
        COUNTER.fetch_add(1, Ordering::SeqCst) % 10_000_000
    )
}

/// Now, in milliseconds since the epoch, as Zalo writes its timestamps.
pub fn now_ms() -> String {
    chrono::Utc::now().timestamp_millis().to_string()
}

/// A `user_send_text` event exactly as Zalo sends it.
pub fn text_event(user: &str, text: &str) -> Value {
    json!({
        "app_id": APP_ID,
        "user_id_by_app": "1",
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": OA_ID},
        "message": {"msg_id": msg_id(), "text": text},
        "timestamp": now_ms(),
    })
}

/// A user event carrying one attachment (`image`, `link`, `sticker`, `file`, `location`).
pub fn attachment_event(user: &str, kind: &str, payload: Value) -> Value {
    json!({
        "app_id": APP_ID,
        "event_name": format!("user_send_{kind}"),
        "sender": {"id": user},
        "recipient": {"id": OA_ID},
        "message": {"msg_id": msg_id(), "attachments": [{"type": kind, "payload": payload}]},
        "timestamp": now_ms(),
    })
}

/// The inbox key the service stores a `user_send_text` event under.
pub fn event_key(event: &Value) -> String {
    format!(
        "user_send_text:{}",
        event["message"]["msg_id"]
            .as_str()
            .expect("a message event")
    )
}

/// A message text starting with a unique tag; a third of them carry a phone number, so they go through the
/// scam check too.
pub fn tagged_text(tag: &str, n: u64) -> String {
    if n.is_multiple_of(3) {
        format!("{tag} số 0912 345 {:03} có phải lừa đảo không?", n % 1000)
    } else {
        format!("{tag} mình muốn hỏi cách nhận biết tin nhắn giả mạo ngân hàng")
    }
}

/// The `X-ZEvent-Signature` value Zalo sends: `mac=` and the hex SHA-256 of app id, raw body, timestamp and
/// OA secret key, concatenated (a plain hash, not an HMAC).
pub fn signature(app_id: &str, body: &[u8], timestamp: &str, oa_secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(app_id.as_bytes());
    hasher.update(body);
    hasher.update(timestamp.as_bytes());
    hasher.update(oa_secret.as_bytes());
    format!("mac={}", hex::encode(hasher.finalize()))
}

/// The body of `event` and the signature header Zalo would send with it, signed with `oa_secret`.
pub fn signed(event: &Value, oa_secret: &str) -> (Vec<u8>, String) {
    let body = serde_json::to_vec(event).expect("JSON");
    let timestamp = event["timestamp"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| event["timestamp"].to_string());
    let mac = signature(APP_ID, &body, &timestamp, oa_secret);
    (body, mac)
}

// ---------------------------------------------------------------------------------------------------------
// The send API.

/// Requests to the send API; finish with `respond_with`.
pub fn send_api() -> MockBuilder {
    Mock::given(method("POST")).and(path(SEND_PATH))
}

/// Zalo's answer to a send it accepted.
pub fn sent_body(message_id: &str, user_id: &Value) -> Value {
    json!({
        "data": {
            "message_id": message_id,
            "user_id": user_id,
            "sent_time": now_ms(),
            "quota": {"quota_type": "reply", "remain": "8", "total": "8"}
        },
        "error": 0,
        "message": "Success"
    })
}

/// Success for the send in `request`, with a fresh `message_id` (`zmsg-…`).
pub fn accept(request: &Request) -> ResponseTemplate {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let message_id = format!("zmsg-{}", uuid::Uuid::new_v4().simple());
    ResponseTemplate::new(200).set_body_json(sent_body(&message_id, &body["recipient"]["user_id"]))
}

/// Every send that carries an access token succeeds.
pub fn accepts() -> Mock {
    send_api()
        .and(header_exists("access_token"))
        .respond_with(accept)
}

/// An API error the way Zalo reports one: HTTP 200 and `{"error": code, "message": …}`.
pub fn error(code: i64) -> ResponseTemplate {
    let message = match code {
        -32 => "Your application reached limit call api",
        -216 => "Access token is invalid",
        -230 => "User has not interacted with the OA in the past 7 days",
        _ => "Error",
    };
    ResponseTemplate::new(200).set_body_json(json!({"error": code, "message": message}))
}

/// Every send gets the API error `code`.
pub fn fails_with(code: i64) -> Mock {
    send_api().respond_with(error(code))
}

/// Every send made with `token` gets -216 (the token was revoked).
pub fn rejects_token(token: &str) -> Mock {
    send_api()
        .and(header("access_token", token))
        .respond_with(error(-216))
}

/// One send the Zalo fake received.
#[derive(Debug, Clone)]
pub struct ZaloSend {
    pub user: String,
    pub text: String,
    /// When the request arrived.
    pub at: Instant,
}

pub type Sends = Arc<Mutex<Vec<ZaloSend>>>;

/// Mounts a send API that answers success after `delay` (a realistic round trip) and records every request
/// as it arrives, that is, as Zalo would see it even if the answer never makes it back.
pub async fn record_sends(server: &MockServer, delay: Duration) -> Sends {
    let sends: Sends = Arc::default();
    let record = sends.clone();
    send_api()
        .respond_with(move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            record.lock().unwrap().push(ZaloSend {
                user: body["recipient"]["user_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                text: body["message"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                at: Instant::now(),
            });
            accept(request).set_delay(delay)
        })
        .mount(server)
        .await;
    sends
}

/// The requests `server` received on the send API.
pub async fn send_requests(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == SEND_PATH)
        .collect()
}

/// The JSON bodies `server` received on the send API.
pub async fn sends(server: &MockServer) -> Vec<Value> {
    send_requests(server)
        .await
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// The OAuth token endpoint.

/// Requests to the token endpoint; finish with `respond_with`.
pub fn token_api() -> MockBuilder {
    Mock::given(method("POST")).and(path(TOKEN_PATH))
}

/// A token grant as Zalo answers it.
pub fn tokens_body(access: &str, refresh: &str) -> Value {
    json!({"access_token": access, "refresh_token": refresh, "expires_in": "90000"})
}

/// The token endpoint's refusal of a refresh token or code: `{"error":-14014}` in an HTTP 200.
pub fn invalid_grant() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"error": -14014, "error_name": "Invalid refresh token"}))
}

/// A fake Zalo OAuth server that rotates refresh tokens like the real one: each refresh token works once;
/// using a spent or unknown one gets `{"error":-14014}` in an HTTP 200.
#[derive(Clone, Default)]
pub struct FakeOAuth {
    inner: Arc<Mutex<FakeOAuthState>>,
}

#[derive(Default)]
struct FakeOAuthState {
    valid_refresh: HashSet<String>,
    issued: u32,
    /// Form bodies of every token request, in order.
    requests: Vec<HashMap<String, String>>,
    /// Authorization codes accepted, with the challenge their verifier must match.
    codes: HashMap<String, ()>,
}

impl FakeOAuth {
    /// Mounts the token endpoint on `server`, with `initial_refresh` as the one valid refresh token.
    pub async fn mount(server: &MockServer, initial_refresh: &str, delay: Duration) -> Self {
        let fake = FakeOAuth::default();
        fake.inner
            .lock()
            .unwrap()
            .valid_refresh
            .insert(initial_refresh.to_string());
        let state = fake.clone();
        token_api()
            .and(header("secret_key", APP_SECRET))
            .respond_with(move |req: &Request| {
                let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
                    .into_owned()
                    .collect();
                let mut s = state.inner.lock().unwrap();
                s.requests.push(form.clone());
                let ok = match form.get("grant_type").map(String::as_str) {
                    Some("refresh_token") => form
                        .get("refresh_token")
                        .is_some_and(|r| s.valid_refresh.remove(r)),
                    Some("authorization_code") => form
                        .get("code")
                        .is_some_and(|c| s.codes.remove(c).is_some()),
                    _ => false,
                };
                if !ok || form.get("app_id").map(String::as_str) != Some(APP_ID) {
                    return invalid_grant().set_delay(delay);
                }
                s.issued += 1;
                let n = s.issued;
                s.valid_refresh.insert(format!("ref-{n}"));
                ResponseTemplate::new(200)
                    .set_delay(delay)
                    .set_body_json(tokens_body(&format!("acc-{n}"), &format!("ref-{n}")))
            })
            .mount(server)
            .await;
        fake
    }

    pub fn accept_code(&self, code: &str) {
        self.inner
            .lock()
            .unwrap()
            .codes
            .insert(code.to_string(), ());
    }

    pub fn requests(&self) -> Vec<HashMap<String, String>> {
        self.inner.lock().unwrap().requests.clone()
    }

    pub fn refresh_requests(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|f| f.get("grant_type").map(String::as_str) == Some("refresh_token"))
            .filter_map(|f| f.get("refresh_token").cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_the_sha256_of_app_id_body_timestamp_and_secret() {
        // Computed independently: printf '%s' '1<body>1699003881354key' | sha256sum
        let body = br#"{"app_id":"1","event_name":"user_send_text","timestamp":"1699003881354"}"#;
        assert_eq!(
            signature("1", body, "1699003881354", "key"),
            "mac=fe856fc363f6fef6cfcfd33c2422ac031703a1e560f62c6b16db48b2cb364d23"
        );
    }

    #[test]
    fn tagged_texts_start_with_their_tag() {
        assert!(tagged_text("[a1-0]", 0).starts_with("[a1-0] số 0912 345 000"));
        assert!(tagged_text("[a1-1]", 1).starts_with("[a1-1] mình"));
    }
}
