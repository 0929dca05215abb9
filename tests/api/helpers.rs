//! `spawn_app()`: the real service on port 0 with its own database (SQLite file or a fresh PostgreSQL
//! database), wiremock servers speaking Zalo's and OpenAI's wire formats, and helpers to send signed events.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use testkit::{openai, zalo};
use tradesphere::config::Settings;
use tradesphere::domain::{OutboundState, UserId};
use tradesphere::faults::Faults;
use tradesphere::startup::{Application, BuildOptions};
use tradesphere::store::{OutboundRecord, Store};
use wiremock::MockServer;

pub use testkit::ledger::sql_rows;
pub use testkit::zalo::{
    APP_ID, APP_SECRET, FakeOAuth, OA_ID, OA_SECRET, attachment_event, msg_id, now_ms, text_event,
    user_id,
};
pub use testkit::{ADMIN_TOKEN, Backend, wait_until};

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

impl TestOptions {
    /// The model configured (pointed at the OpenAI fake), nothing else changed.
    pub fn with_model() -> Self {
        TestOptions {
            llm: true,
            ..Default::default()
        }
    }
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
    zalo::accepts().mount(&zalo).await;
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
    // Tests never follow links out to the internet; a test that follows its own fakes turns this on.
    env.insert("TRADESPHERE__LINKS__EXPAND".into(), "false".into());
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
        env.insert("ZALO_ACCESS_TOKEN".into(), zalo::ACCESS_TOKEN.into());
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
            cluster_no_fence: false,
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
        let (body, mac) = zalo::signed(event, OA_SECRET);
        let mut request = self
            .client
            .post(format!("{}/api/v1/zalo/webhook", self.address))
            .header("content-type", "application/json");
        if self.signed {
            request = request.header(zalo::SIGNATURE_HEADER, mac);
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
            request = request.header(zalo::SIGNATURE_HEADER, sig);
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
        zalo::sends(&self.zalo).await
    }

    /// From now on Zalo answers every send with the API error `code` (ahead of the success set up at start).
    pub async fn zalo_fails_with(&self, code: i64) {
        zalo::fails_with(code)
            .with_priority(1)
            .mount(&self.zalo)
            .await;
    }

    /// The model answers every request with `text`.
    pub async fn model_answers(&self, text: &str) {
        openai::answers(text).mount(&self.openai).await;
    }

    /// The model answers every request with HTTP `status`.
    pub async fn model_fails_with(&self, status: u16) {
        openai::fails_with(status).mount(&self.openai).await;
    }

    /// The JSON bodies of the requests the model received, in order.
    pub async fn model_requests(&self) -> Vec<Value> {
        openai::requests(&self.openai).await
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

pub fn is_final(state: OutboundState) -> bool {
    matches!(
        state,
        OutboundState::Sent | OutboundState::Failed | OutboundState::Ambiguous
    )
}

fn init_test_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tradesphere::telemetry::init_tracing(tradesphere::config::LogFormat::Text);
        }
    });
}

/// The value of an unlabelled metric on `/metrics` (0 when absent).
pub async fn metric_value(app: &TestApp, name: &str) -> f64 {
    testkit::metrics::value(&testkit::metrics::scrape(&app.address).await, name)
}
