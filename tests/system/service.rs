//! The real `tradesphere` binary as a deployment runs it, the set-up every process-level scenario shares, and
//! the load driver that posts to it the way Zalo does.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::Backend;
use testkit::openai;
use testkit::zalo::{self, APP_ID, OA_SECRET, Sends, ZaloSend, tagged_text, text_event, user_id};
use tradesphere::config::Settings;
use tradesphere::store::Store;
use wiremock::MockServer;

/// The `tradesphere` executable serving on a fixed loopback port (kept across restarts, as a deployment's
/// would be), signed webhooks, Zalo and the model stood in for by this test's fakes, JSON logs to a file.
pub struct Service {
    child: Option<tokio::process::Child>,
    env: Vec<(String, String)>,
    pub address: String,
    log: PathBuf,
    pub starts: u32,
    client: reqwest::Client,
}

impl Service {
    /// The service on `database_url` and the given fakes, not started; `extra` overrides the defaults.
    pub fn new(
        dir: &Path,
        database_url: &str,
        zalo: &MockServer,
        openai: &MockServer,
        extra: &[(&str, &str)],
    ) -> Service {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let env: Vec<(String, String)> = [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("DATABASE_URL", database_url.to_string()),
            ("TRADESPHERE_LISTEN", format!("127.0.0.1:{port}")),
            ("TRADESPHERE_LOG_FORMAT", "json".into()),
            ("RUST_LOG", "info".into()),
            ("ZALO_APP_ID", APP_ID.into()),
            ("ZALO_OA_SECRET_KEY", OA_SECRET.into()),
            ("ZALO_ACCESS_TOKEN", zalo::ACCESS_TOKEN.into()),
            ("ZALO_API_URL", zalo.uri()),
            ("ZALO_OAUTH_URL", zalo.uri()),
            ("OPENAI_API_KEY", "sk-test".into()),
            ("OPENAI_BASE_URL", format!("{}/v1", openai.uri())),
            ("TRADESPHERE__LLM__DEBOUNCE_MS", "0".into()),
            ("TRADESPHERE__INTAKE__REDISPATCH_AFTER_SECS", "3".into()),
            ("TRADESPHERE__INTAKE__SWEEP_INTERVAL_SECS", "1".into()),
            ("TRADESPHERE__OUTBOUND__RETRY_BASE_MS", "50".into()),
            ("TRADESPHERE__DATABASE__MAX_CONNECTIONS", "16".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut service = Service {
            child: None,
            env,
            address: format!("http://127.0.0.1:{port}"),
            log: dir.join("service.log"),
            starts: 0,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        };
        for (key, value) in extra {
            service.set_env(key, Some(value));
        }
        service
    }

    /// Posts `event` to the webhook, signed as Zalo signs it.
    pub async fn post_event(&self, event: &Value) -> reqwest::Response {
        let (body, mac) = zalo::signed(event, OA_SECRET);
        self.client
            .post(format!("{}/api/v1/zalo/webhook", self.address))
            .header("content-type", "application/json")
            .header(zalo::SIGNATURE_HEADER, mac)
            .body(body)
            .send()
            .await
            .expect("webhook request")
    }

    pub async fn get(&self, route: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{route}", self.address))
            .send()
            .await
            .expect("GET")
    }

    /// Whether the process is still running (it exits when its actor system gives up).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Starts the binary and waits (bounded) until `/readyz` says 200.
    pub async fn start(&mut self) {
        if let Err(status) = self.try_start().await {
            panic!(
                "the service exited during start ({status}); see {}",
                self.log.display()
            );
        }
    }

    /// Starts the binary and waits (bounded) until `/readyz` says 200, or until it exits (its status).
    pub async fn try_start(&mut self) -> Result<(), std::process::ExitStatus> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tradesphere"));
        command
            .arg("serve")
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start tradesphere");
        self.starts += 1;
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return Err(status);
            }
            let ready = client
                .get(format!("{}/readyz", self.address))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "the service never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.child = Some(child);
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().and_then(|c| c.id()).expect("running")
    }

    /// SIGKILL: no shutdown code runs at all.
    pub async fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().await.unwrap();
    }

    /// SIGTERM, then waits (bounded) for the exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().unwrap().to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        tokio::time::timeout(Duration::from_secs(90), child.wait())
            .await
            .expect("the service exits within 90 s of SIGTERM")
            .unwrap()
    }

    /// Waits (bounded) for the process to exit on its own.
    pub async fn exited_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        tokio::time::timeout(limit, child.wait())
            .await
            .expect("the service exits on its own")
            .unwrap()
    }

    pub fn set_env(&mut self, key: &str, value: Option<&str>) {
        self.env.retain(|(k, _)| k != key);
        if let Some(value) = value {
            self.env.push((key.to_string(), value.to_string()));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// What the load driver sends: `users` users, each sending `per_user` messages, `rate` messages per second
/// overall, every one signed like Zalo signs it.
#[derive(Clone, Copy)]
pub struct Load {
    pub users: u64,
    pub per_user: u64,
    pub rate: f64,
}

/// One message the service accepted (200), with when it was first posted.
#[derive(Clone)]
pub struct Accepted {
    pub event_key: String,
    pub user: String,
    pub tag: String,
    pub posted: Instant,
}

/// Drives the load against `address`. A delivery that fails (connection refused while the service is down,
/// 503 while it stops, a reset) is retried every 100 ms, as Zalo retries, until a 200; every 200 is recorded.
pub async fn drive(address: &str, load: Load, prefix: &str) -> Vec<Accepted> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for u in 0..load.users {
        let (client, address, prefix) = (client.clone(), address.to_string(), prefix.to_string());
        tasks.push(tokio::spawn(async move {
            let user = user_id();
            let mut accepted = Vec::new();
            for i in 0..load.per_user {
                let slot = (i * load.users + u) as f64 / load.rate;
                tokio::time::sleep_until((start + Duration::from_secs_f64(slot)).into()).await;
                let tag = format!("[{prefix}{u}-{i}]");
                let event = text_event(&user, &tagged_text(&tag, u * load.per_user + i));
                let (body, mac) = zalo::signed(&event, OA_SECRET);
                let posted = Instant::now();
                let deadline = posted + Duration::from_secs(180);
                loop {
                    let response = client
                        .post(format!("{address}/api/v1/zalo/webhook"))
                        .header("content-type", "application/json")
                        .header(zalo::SIGNATURE_HEADER, &mac)
                        .body(body.clone())
                        .send()
                        .await;
                    match response {
                        Ok(r) if r.status() == 200 => break,
                        Ok(r) => assert_eq!(r.status(), 503, "only 503 asks Zalo to retry"),
                        Err(_) => {} // down or restarting
                    }
                    assert!(Instant::now() < deadline, "{tag} never accepted");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                accepted.push(Accepted {
                    event_key: zalo::event_key(&event),
                    user: user.clone(),
                    tag,
                    posted,
                });
            }
            accepted
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

pub fn keys(accepted: &[Accepted]) -> Vec<(String, String)> {
    accepted
        .iter()
        .map(|a| (a.event_key.clone(), a.user.clone()))
        .collect()
}

/// How long the fakes take to answer.
#[derive(Clone, Copy)]
pub struct Fakes {
    pub zalo: Duration,
    pub model: Duration,
}

impl Fakes {
    pub const INSTANT: Fakes = Fakes {
        zalo: Duration::ZERO,
        model: Duration::ZERO,
    };
}

/// What a process-level scenario starts from: its own database, a Zalo fake that records every send and a
/// model that echoes each message's tag (both answering after their [`Fakes`] round trip), and the service
/// pointed at them, not started yet.
pub struct Scenario {
    pub service: Service,
    pub database_url: String,
    sends: Sends,
    _fakes: (MockServer, MockServer),
    _dir: tempfile::TempDir,
}

impl Scenario {
    /// On a fresh database of `backend`.
    pub async fn new(backend: &Backend, fakes: Fakes, extra: &[(&str, &str)]) -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let database_url = backend.fresh_database(&dir).await;
        Self::with_database(dir, database_url, fakes, extra).await
    }

    /// On the database at `database_url`.
    pub async fn on(database_url: String, fakes: Fakes, extra: &[(&str, &str)]) -> Scenario {
        Self::with_database(tempfile::tempdir().unwrap(), database_url, fakes, extra).await
    }

    async fn with_database(
        dir: tempfile::TempDir,
        database_url: String,
        fakes: Fakes,
        extra: &[(&str, &str)],
    ) -> Scenario {
        let (zalo, model) = (MockServer::start().await, MockServer::start().await);
        let sends = zalo::record_sends(&zalo, fakes.zalo).await;
        openai::echoes(fakes.model).mount(&model).await;
        let service = Service::new(dir.path(), &database_url, &zalo, &model, extra);
        Scenario {
            service,
            database_url,
            sends,
            _fakes: (zalo, model),
            _dir: dir,
        }
    }

    /// Every send Zalo received so far.
    pub fn sends(&self) -> Vec<ZaloSend> {
        self.sends.lock().unwrap().clone()
    }
}

/// A store on `database_url` of its own, outside the service (to seed a database or read it after a stop).
pub async fn store_at(database_url: &str) -> Store {
    let settings =
        Settings::from_env_map([("DATABASE_URL".to_string(), database_url.to_string())].into())
            .unwrap();
    Store::connect(&settings.database).await.unwrap()
}
