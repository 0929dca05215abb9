//! `spawn_app()`: the real service on port 0 with its own database (SQLite file or a fresh PostgreSQL
//! database), wiremock servers speaking Zalo's and OpenAI's wire formats, and helpers to send signed events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tradesphere::config::Settings;
use tradesphere::domain::{OutboundState, UserId};
use tradesphere::faults::Faults;
use tradesphere::startup::{Application, BuildOptions};
use tradesphere::store::{OutboundRecord, Store};
use tradesphere::zalo::signature;
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const APP_ID: &str = "360846524940903967";
pub const OA_SECRET: &str = "test-oa-secret-key";
pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const ZALO_TOKEN: &str = "test-zalo-access-token";
pub const OA_ID: &str = "579745863508352884";

/// Which database a test runs against.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// A PostgreSQL server for tests: `TEST_DATABASE_URL` when given, else a throwaway cluster started
    /// with Debian's `initdb`/`pg_ctl`. None (the test is skipped, loudly) when neither is available,
    /// unless `TRADESPHERE_REQUIRE_POSTGRES=1`, which turns a missing server into a failure (CI sets it).
    pub async fn postgres() -> Option<Backend> {
        static ADMIN_URL: OnceCell<Option<String>> = OnceCell::const_new();
        let admin = ADMIN_URL
            .get_or_init(|| async {
                if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
                    return Some(url);
                }
                tokio::task::spawn_blocking(start_throwaway_cluster)
                    .await
                    .ok()
                    .flatten()
            })
            .await
            .clone();
        match admin {
            Some(url) => Some(Backend::Postgres(url)),
            None if std::env::var("TRADESPHERE_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
                panic!(
                    "PostgreSQL is required (TRADESPHERE_REQUIRE_POSTGRES=1) but none is available"
                )
            }
            None => {
                eprintln!(
                    "SKIPPED: PostgreSQL not available (no TEST_DATABASE_URL, no initdb/pg_ctl)"
                );
                None
            }
        }
    }

    /// A fresh, empty database URL for one test.
    pub async fn fresh_database(&self, dir: &tempfile::TempDir) -> String {
        match self {
            Backend::Sqlite => {
                format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display())
            }
            Backend::Postgres(admin) => {
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                let conn = Database::connect(admin.as_str())
                    .await
                    .expect("connect to PostgreSQL");
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let mut url = url::Url::parse(admin).expect("admin URL");
                url.set_path(&name);
                url.to_string()
            }
        }
    }
}

/// Starts the shared PostgreSQL cluster (a watchdog stops it when this process exits). Many tests use it at
/// once, hence the connection limit.
fn start_throwaway_cluster() -> Option<String> {
    match crate::pgcluster::PgCluster::try_start("-c max_connections=300") {
        Ok(cluster) => {
            let url = cluster.url("postgres");
            eprintln!("started a throwaway PostgreSQL at {url}");
            Some(url)
        }
        Err(reason) => {
            eprintln!("no throwaway PostgreSQL: {reason}");
            None
        }
    }
}

/// Knobs a test may turn before the app starts.
#[derive(Default)]
pub struct TestOptions {
    /// Verify webhook signatures with [`OA_SECRET`].
    pub signed: bool,
    pub admin_token: bool,
    /// Configure the LLM (pointed at the OpenAI fake).
    pub llm: bool,
    /// Give a Zalo access token, so replies go to the Zalo fake (else the console).
    pub zalo: bool,
    pub faults: Faults,
    /// Reuse this database instead of a fresh one (restart scenarios).
    pub database_url: Option<String>,
    /// The wall clock the token keeper schedules by.
    pub clock: Option<tradesphere::clock::ManualClock>,
    pub extra_env: Vec<(&'static str, String)>,
    /// Serve the admin API and /metrics on a separate listener (`TRADESPHERE_ADMIN_LISTEN=127.0.0.1:0`).
    pub admin_listen: bool,
}

pub struct TestApp {
    pub app: Option<Application>,
    pub address: String,
    pub database_url: String,
    pub zalo: MockServer,
    pub openai: MockServer,
    pub client: reqwest::Client,
    pub signed: bool,
    /// `http://…` of the admin listener, when `TestOptions::admin_listen` was set.
    pub admin_address: Option<String>,
    _dir: tempfile::TempDir,
}

static MSG_COUNTER: AtomicU64 = AtomicU64::new(1);

/// A unique Zalo-style message id.
pub fn msg_id() -> String {
    format!(
        "msg{:016x}{}",
        MSG_COUNTER.fetch_add(1, Ordering::SeqCst),
        std::process::id()
    )
}

/// A unique Zalo-style user id (digits, like real ones).
pub fn user_id() -> String {
    format!(
        "55217727971{:07}",
        MSG_COUNTER.fetch_add(1, Ordering::SeqCst) % 10_000_000
    )
}

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

pub async fn spawn_app(backend: &Backend) -> TestApp {
    spawn_app_with(backend, TestOptions::default()).await
}

pub async fn spawn_app_with(backend: &Backend, options: TestOptions) -> TestApp {
    init_test_logging();
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match &options.database_url {
        Some(url) => url.clone(),
        None => backend.fresh_database(&dir).await,
    };
    let zalo = MockServer::start().await;
    mount_zalo_success(&zalo).await;
    let openai = MockServer::start().await;

    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("DATABASE_URL".into(), database_url.clone());
    env.insert("TRADESPHERE_LISTEN".into(), "127.0.0.1:0".into());
    env.insert("ZALO_APP_ID".into(), APP_ID.into());
    env.insert("ZALO_API_URL".into(), zalo.uri());
    env.insert("ZALO_OAUTH_URL".into(), zalo.uri());
    env.insert("ZALO_APP_SECRET".into(), APP_SECRET.into());
    env.insert("TRADESPHERE__TOKEN__CHECK_INTERVAL_MS".into(), "50".into());
    env.insert("TRADESPHERE__TOKEN__REFRESH_JITTER_SECS".into(), "0".into());
    env.insert("OPENAI_BASE_URL".into(), format!("{}/v1", openai.uri()));
    env.insert("TRADESPHERE__OUTBOUND__RETRY_BASE_MS".into(), "10".into());
    env.insert(
        "TRADESPHERE__SUPERVISOR__BACKOFF_BASE_MS".into(),
        "10".into(),
    );
    env.insert(
        "TRADESPHERE__INTAKE__REDISPATCH_AFTER_SECS".into(),
        "3".into(),
    );
    env.insert(
        "TRADESPHERE__INTAKE__SWEEP_INTERVAL_SECS".into(),
        "1".into(),
    );
    env.insert("TRADESPHERE__LLM__TIMEOUT_SECS".into(), "5".into());
    // Reports written by a test straight into the store are seen by the next check.
    env.insert("TRADESPHERE__SCAM__INDEX_REFRESH_SECS".into(), "0".into());
    // Most tests send one message at a time; the debounce has tests of its own.
    env.insert("TRADESPHERE__LLM__DEBOUNCE_MS".into(), "0".into());
    env.insert("TRADESPHERE__LLM__RETRY_BASE_MS".into(), "10".into());
    if options.signed {
        env.insert("ZALO_OA_SECRET_KEY".into(), OA_SECRET.into());
    }
    if options.admin_token {
        env.insert("ADMIN_TOKEN".into(), ADMIN_TOKEN.into());
    }
    if options.llm {
        env.insert("OPENAI_API_KEY".into(), "sk-test".into());
    }
    if options.zalo {
        env.insert("ZALO_ACCESS_TOKEN".into(), ZALO_TOKEN.into());
    }
    if options.admin_listen {
        env.insert("TRADESPHERE_ADMIN_LISTEN".into(), "127.0.0.1:0".into());
    }
    for (key, value) in &options.extra_env {
        env.insert((*key).into(), value.clone());
    }
    let settings = Settings::from_env_map(env).expect("test settings");
    let app = Application::build(
        settings,
        BuildOptions {
            faults: options.faults,
            delivery: None,
            clock: options
                .clock
                .map(|c| std::sync::Arc::new(c) as tradesphere::clock::SharedClock),
            side_instance: false,
        },
    )
    .await
    .expect("the application starts");
    TestApp {
        address: format!("http://{}", app.address()),
        admin_address: app.admin_address().map(|a| format!("http://{a}")),
        app: Some(app),
        database_url,
        zalo,
        openai,
        client: reqwest::Client::new(),
        signed: options.signed,
        _dir: dir,
    }
}

/// Zalo's send API answering success, with a fresh `message_id` per call.
pub async fn mount_zalo_success(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v3.0/oa/message/cs"))
        .and(header_exists("access_token"))
        .respond_with(|req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            ResponseTemplate::new(200).set_body_json(json!({
                "data": {
                    "message_id": format!("zmsg-{}", uuid::Uuid::new_v4().simple()),
                    "user_id": body["recipient"]["user_id"],
                    "sent_time": now_ms(),
                    "quota": {"quota_type": "reply", "remain": "8", "total": "8"}
                },
                "error": 0,
                "message": "Success"
            }))
        })
        .mount(server)
        .await;
}

/// An OpenAI-style chat completion answer.
pub fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}
    })
}

impl TestApp {
    pub fn app(&self) -> &Application {
        self.app.as_ref().expect("app running")
    }

    pub fn store(&self) -> &Store {
        self.app().store()
    }

    /// The token keeper's view of the token.
    pub async fn token_status(&self) -> tradesphere::token::TokenStatus {
        use tradesphere::actors::token_keeper::TokenKeeperMsg;
        let keeper = self
            .app()
            .directory()
            .token_keeper()
            .expect("token keeper running");
        match keeper
            .call(TokenKeeperMsg::Status, Some(Duration::from_secs(5)))
            .await
            .unwrap()
        {
            ractor::rpc::CallResult::Success(status) => status,
            _ => panic!("no answer from the token keeper"),
        }
    }

    /// Posts an event as Zalo would: signed when the app verifies signatures.
    pub async fn post_event(&self, event: &Value) -> reqwest::Response {
        let body = serde_json::to_vec(event).unwrap();
        let mut request = self
            .client
            .post(format!("{}/api/v1/zalo/webhook", self.address))
            .header("content-type", "application/json");
        if self.signed {
            let ts = event["timestamp"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| event["timestamp"].to_string());
            request = request.header(
                "X-ZEvent-Signature",
                signature::header_value(APP_ID, &body, &ts, OA_SECRET),
            );
        }
        request.body(body).send().await.expect("webhook request")
    }

    pub async fn post_raw(
        &self,
        body: impl Into<reqwest::Body>,
        signature: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/api/v1/zalo/webhook", self.address))
            .header("content-type", "application/json");
        if let Some(sig) = signature {
            request = request.header("X-ZEvent-Signature", sig);
        }
        request.body(body).send().await.expect("webhook request")
    }

    pub async fn get(&self, route: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{route}", self.address))
            .send()
            .await
            .expect("GET")
    }

    /// Waits (bounded) until `user` has `count` outbound parts in a final state, and returns all of them.
    pub async fn replies_for(&self, user: &str, count: usize) -> Vec<OutboundRecord> {
        let user = UserId::parse(user).unwrap();
        let store = self.store();
        wait_until(&format!("{count} final outbound part(s)"), || async {
            let rows = store.outbound_for(&user).await.ok()?;
            let done = rows.iter().filter(|r| is_final(r.state)).count();
            (done >= count).then_some(rows)
        })
        .await
    }

    /// Requests the Zalo fake received on the send endpoint, as JSON bodies.
    pub async fn zalo_sends(&self) -> Vec<Value> {
        self.zalo
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == "/v3.0/oa/message/cs")
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }

    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    /// Stops the service but keeps its database (and temp dir) for a restart.
    pub async fn stop(&mut self) {
        if let Some(app) = self.app.take() {
            app.shutdown().await;
        }
    }
}

/// A store on `database_url` of its own, outside any running app (to seed a database or read it after a stop).
pub async fn store_at(database_url: &str) -> Store {
    let settings =
        Settings::from_env_map([("DATABASE_URL".to_string(), database_url.to_string())].into())
            .unwrap();
    Store::connect(&settings.database).await.unwrap()
}

/// Rows of `sql`, read on a connection of its own: what the ops queries see.
pub async fn sql_rows(database_url: &str, sql: &str) -> Vec<sea_orm::QueryResult> {
    let db = Database::connect(database_url).await.unwrap();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap();
    db.close().await.ok();
    rows
}

pub fn is_final(state: OutboundState) -> bool {
    matches!(
        state,
        OutboundState::Sent | OutboundState::Failed | OutboundState::Ambiguous
    )
}

/// Polls `check` until it yields a value. Bounded (20 s) so a broken pipeline fails instead of hanging;
/// this is a wait for an asynchronous effect, not a timing assertion.
pub async fn wait_until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn init_test_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tradesphere::telemetry::init_tracing(tradesphere::config::LogFormat::Text);
        }
    });
}

/// Runs a test body against SQLite and PostgreSQL: `both_backends!(name);` expects `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = $crate::helpers::Backend::postgres().await {
                        super::$name(backend).await;
                    }
                }
            )*
        }
    };
}

pub const APP_SECRET: &str = "test-app-secret";

/// A fake Zalo OAuth server that rotates refresh tokens like the real one: each refresh token works once;
/// using a spent or unknown one gets `{"error":-14014}` in an HTTP 200.
#[derive(Clone, Default)]
pub struct FakeOAuth {
    inner: std::sync::Arc<std::sync::Mutex<FakeOAuthState>>,
}

#[derive(Default)]
struct FakeOAuthState {
    valid_refresh: std::collections::HashSet<String>,
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
        Mock::given(method("POST"))
            .and(path("/v4/oa/access_token"))
            .and(wiremock::matchers::header("secret_key", APP_SECRET))
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
                    return ResponseTemplate::new(200).set_delay(delay).set_body_json(
                        json!({"error": -14014, "error_name": "Invalid refresh token"}),
                    );
                }
                s.issued += 1;
                let n = s.issued;
                s.valid_refresh.insert(format!("ref-{n}"));
                ResponseTemplate::new(200)
                    .set_delay(delay)
                    .set_body_json(json!({
                        "access_token": format!("acc-{n}"),
                        "refresh_token": format!("ref-{n}"),
                        "expires_in": "90000"
                    }))
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

/// The value of an unlabelled metric on `/metrics` (0 when absent).
pub async fn metric_value(app: &TestApp, name: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
