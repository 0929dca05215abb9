//! Reliability under faults: random actor panics during a load run, dependencies failing in every way Zalo and
//! the model can fail, a PostgreSQL restart mid-run, `kill -9` of the real binary under load, SIGTERM under
//! load, and a soak run. Each test is bounded in count and time and uses loopback only; sizes can be raised
//! through environment variables (see docs/reliability.md), which is how the longer runs there were made.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::ledger::{Ledger, assert_exactly_once, quiet_ledger};
use testkit::zalo::{record_sends, tagged_text};
use testkit::{PgCluster, both_backends, metrics, openai, zalo};
use tradesphere::faults::{FaultPoint, Faults};
use wiremock::{MockServer, Request, ResponseTemplate};

use crate::helpers::*;

/// A size knob: the environment variable when set (longer local runs), else the CI default.
fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------------------------
// In-process tests.

/// Random panics in the conversation, scam, LLM and outbound actors during a load run: every message is
/// still answered exactly once, and every injected panic shows up as a counted restart.
async fn random_actor_panics_lose_nothing_and_double_nothing(backend: Backend) {
    let users = knob("CHAOS_USERS", 24);
    let per_user = knob("CHAOS_MESSAGES_PER_USER", 5);
    let one_in = u32::try_from(knob("CHAOS_ONE_IN", 12)).unwrap();
    let faults = Faults::default();
    faults.seed(knob("CHAOS_SEED", 20261125));
    let app = spawn_app_with(
        &backend,
        TestOptions {
            zalo: true,
            llm: true,
            faults: faults.clone(),
            extra_env: vec![
                // Restarts are expected here by the dozen; the budget's escalation has a test of its own.
                ("TRADESPHERE__SUPERVISOR__MAX_RESTARTS", "100000".into()),
                ("TRADESPHERE__CONVERSATION__MAX_ATTEMPTS", "20".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    app.zalo.reset().await;
    let sends = record_sends(&app.zalo, Duration::from_millis(5)).await;
    openai::echoes(Duration::from_millis(5))
        .mount(&app.openai)
        .await;
    let restarts_before = metrics::sum(
        &metrics::scrape(&app.address).await,
        "tradesphere_actor_restarts_total",
    );
    for point in [
        FaultPoint::Conversation,
        FaultPoint::Scam,
        FaultPoint::Llm,
        FaultPoint::Outbound,
    ] {
        faults.chaos(point, one_in);
    }

    let mut tasks = Vec::new();
    for u in 0..users {
        let app_address = app.address.clone();
        let client = app.client.clone();
        tasks.push(tokio::spawn(async move {
            let user = user_id();
            let mut accepted = Vec::new();
            for i in 0..per_user {
                let tag = format!("[c{u}-{i}]");
                let event = text_event(&user, &tagged_text(&tag, u * per_user + i));
                let response = client
                    .post(format!("{app_address}/api/v1/zalo/webhook"))
                    .json(&event)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let key = format!(
                    "user_send_text:{}",
                    event["message"]["msg_id"].as_str().unwrap()
                );
                accepted.push((key, user.clone()));
            }
            accepted
        }));
    }
    let mut accepted = Vec::new();
    for task in tasks {
        accepted.extend(task.await.unwrap());
    }
    // Restarts back off (doubling up to 5 s within the window), so a long run needs a longer wait.
    let within = Duration::from_secs(90) + Duration::from_millis(200) * (users * per_user) as u32;
    let ledger = quiet_ledger(&app.database_url, within).await;
    faults.calm();
    let sends = sends.lock().unwrap().clone();
    let ambiguous = assert_exactly_once(&ledger, &accepted, &sends);
    assert_eq!(ambiguous, 0, "nothing timed out, so nothing is ambiguous");
    let fired = faults.fired();
    assert!(fired > 0, "the run injected no panic: raise the rate");
    let restarts = metrics::sum(
        &metrics::scrape(&app.address).await,
        "tradesphere_actor_restarts_total",
    ) - restarts_before;
    assert!(
        restarts >= fired as f64,
        "each of the {fired} panics is a counted restart (counted {restarts})"
    );
    wait_until(
        "every actor back up after the last injected panic",
        || async { (app.get("/readyz").await.status() == 200).then_some(()) },
    )
    .await;
    assert!(app.app().is_alive());
    eprintln!(
        "chaos ({}): {} messages, {fired} injected panics, {restarts} restarts counted, parts {:?}",
        backend.label(),
        accepted.len(),
        ledger.states()
    );
    app.shutdown().await;
}

/// Zalo failing in each documented way, per user: `-230` (window closed: failed, not retried), `-32` and
/// HTTP 502 once (retried, then sent once), a timeout (ambiguous, never resent); and the model down
/// (templated answers). Each user's messages end in the state their failure calls for.
async fn failing_dependencies_end_in_the_right_state(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            zalo: true,
            llm: true,
            extra_env: vec![
                ("TRADESPHERE__OUTBOUND__REQUEST_TIMEOUT_SECS", "1".into()),
                ("TRADESPHERE__LLM__MAX_RETRIES", "0".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    app.zalo.reset().await;
    let (closed, rate_limited, bad_gateway, slow, fine) =
        (user_id(), user_id(), user_id(), user_id(), user_id());
    let calls: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let seen = calls.clone();
    let (c, r, b, s) = (
        closed.clone(),
        rate_limited.clone(),
        bad_gateway.clone(),
        slow.clone(),
    );
    zalo::send_api()
        .respond_with(move |req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let user = body["recipient"]["user_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let n = {
                let mut calls = seen.lock().unwrap();
                let n = calls.entry(user.clone()).or_default();
                *n += 1;
                *n
            };
            if user == c {
                zalo::error(-230)
            } else if user == r && n == 1 {
                zalo::error(-32)
            } else if user == b && n == 1 {
                ResponseTemplate::new(502)
            } else if user == s {
                zalo::accept(req).set_delay(Duration::from_secs(3))
            } else {
                zalo::accept(req)
            }
        })
        .mount(&app.zalo)
        .await;
    // The model is down: every answer comes from the templates.
    app.model_fails_with(503).await;
    for user in [&closed, &rate_limited, &bad_gateway, &slow, &fine] {
        assert_eq!(
            app.post_event(&text_event(user, "xin chào, cho mình hỏi"))
                .await
                .status(),
            200
        );
    }
    let ledger = quiet_ledger(&app.database_url, Duration::from_secs(30)).await;
    let state_of = |user: &str| -> Vec<String> {
        ledger
            .parts
            .values()
            .flatten()
            .filter(|(u, _, _)| u == user)
            .map(|(_, s, _)| s.clone())
            .collect()
    };
    assert!(
        state_of(&closed).iter().all(|s| s == "failed"),
        "{:?}",
        state_of(&closed)
    );
    assert!(state_of(&rate_limited).iter().all(|s| s == "sent"));
    assert!(state_of(&bad_gateway).iter().all(|s| s == "sent"));
    assert!(
        state_of(&slow).iter().all(|s| s == "ambiguous"),
        "{:?}",
        state_of(&slow)
    );
    assert!(state_of(&fine).iter().all(|s| s == "sent"));
    let parts = |user: &str| state_of(user).len();
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls[&closed], parts(&closed), "-230 is not retried");
    assert_eq!(
        calls[&rate_limited],
        parts(&rate_limited) + 1,
        "-32 retried once"
    );
    assert_eq!(
        calls[&bad_gateway],
        parts(&bad_gateway) + 1,
        "502 retried once"
    );
    assert_eq!(
        calls[&slow],
        parts(&slow),
        "a timed-out send is never resent"
    );
    let outcomes: Vec<&str> = ledger.inbox.values().map(|(_, _, o)| o.as_str()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "llm_fallback").count(),
        5,
        "the model being down gives templated answers: {outcomes:?}"
    );
    let failed = ledger
        .parts
        .values()
        .flatten()
        .filter(|(u, _, _)| *u == closed)
        .count();
    assert!(failed > 0);
    app.shutdown().await;
}

/// PostgreSQL restarted mid-run: while it is down the webhook answers 503 (so Zalo retries) and `/readyz`
/// is 503; when it is back, the service recovers by itself and every event, accepted before or retried
/// after, is answered exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_run_loses_nothing() {
    let Some(cluster) = PgCluster::start_if_available() else {
        return;
    };
    let database_url = cluster.create_database().await;
    let app = spawn_app_with(
        &Backend::Sqlite,
        TestOptions {
            zalo: true,
            database_url: Some(database_url.clone()),
            extra_env: vec![("TRADESPHERE__DATABASE__ACQUIRE_TIMEOUT_SECS", "1".into())],
            ..Default::default()
        },
    )
    .await;
    app.zalo.reset().await;
    let sends = record_sends(&app.zalo, Duration::from_millis(5)).await;
    let user = user_id();
    let mut accepted = Vec::new();
    let post = || {
        let event = text_event(&user, "/help");
        let key = format!(
            "user_send_text:{}",
            event["message"]["msg_id"].as_str().unwrap()
        );
        (event, key)
    };
    for _ in 0..5 {
        let (event, key) = post();
        assert_eq!(app.post_event(&event).await.status(), 200);
        accepted.push((key, user.clone()));
    }
    cluster.stop();
    let mut refused = Vec::new();
    for _ in 5..10 {
        let (event, key) = post();
        let status = app.post_event(&event).await.status();
        assert_eq!(status, 503, "database down: Zalo must retry");
        refused.push((event, key));
    }
    assert_eq!(app.get("/readyz").await.status(), 503);
    cluster.start();
    wait_until("the service is ready again", || async {
        (app.get("/readyz").await.status() == 200).then_some(())
    })
    .await;
    // Zalo's retries of the refused deliveries.
    for (event, key) in refused {
        assert_eq!(app.post_event(&event).await.status(), 200);
        accepted.push((key, user.clone()));
    }
    let ledger = quiet_ledger(&database_url, Duration::from_secs(60)).await;
    let sends = sends.lock().unwrap().clone();
    // The help text is the same for every message: count the sends instead of matching texts.
    assert_eq!(ledger.inbox.len(), 10);
    for (key, _) in &accepted {
        let (_, handled, outcome) = &ledger.inbox[key];
        assert!(*handled && outcome == "help", "{key}: {outcome}");
    }
    let parts: usize = ledger.parts.values().map(Vec::len).sum();
    assert_eq!(
        ledger.states().get("sent"),
        Some(&parts),
        "{:?}",
        ledger.states()
    );
    assert_eq!(sends.len(), parts, "each part sent exactly once");
    assert!(app.app().is_alive(), "the actor system survived the outage");
    app.shutdown().await;
}

// ---------------------------------------------------------------------------------------------------------
// The real binary under load: kill -9, SIGTERM, soak.

/// The `tradesphere` executable serving on a fixed loopback port (kept across restarts, as a deployment's
/// would be), signed webhooks, Zalo and the model stood in for by this test's fakes, JSON logs to a file.
pub(crate) struct Service {
    child: Option<tokio::process::Child>,
    env: Vec<(String, String)>,
    pub(crate) address: String,
    log: PathBuf,
    starts: u32,
}

impl Service {
    pub(crate) fn new(
        dir: &std::path::Path,
        database_url: &str,
        zalo: &MockServer,
        openai: &MockServer,
        extra: &[(&str, &str)],
    ) -> Service {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut env: Vec<(String, String)> = [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("DATABASE_URL", database_url.to_string()),
            ("TRADESPHERE_LISTEN", format!("127.0.0.1:{port}")),
            ("TRADESPHERE_LOG_FORMAT", "json".into()),
            ("RUST_LOG", "info".into()),
            ("ZALO_APP_ID", APP_ID.into()),
            ("ZALO_OA_SECRET_KEY", OA_SECRET.into()),
            ("ZALO_ACCESS_TOKEN", testkit::zalo::ACCESS_TOKEN.into()),
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
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Service {
            child: None,
            env,
            address: format!("http://127.0.0.1:{port}"),
            log: dir.join("service.log"),
            starts: 0,
        }
    }

    /// Starts the binary and waits (bounded) until `/readyz` says 200.
    pub(crate) async fn start(&mut self) {
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
                panic!(
                    "the service exited during start ({status}); see {}",
                    self.log.display()
                );
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
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().and_then(|c| c.id()).expect("running")
    }

    /// SIGKILL: no shutdown code runs at all.
    async fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().await.unwrap();
    }

    /// SIGTERM, then waits (bounded) for the exit.
    pub(crate) async fn terminate(&mut self) -> std::process::ExitStatus {
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
    async fn exited_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        tokio::time::timeout(limit, child.wait())
            .await
            .expect("the service exits on its own")
            .unwrap()
    }

    fn set_env(&mut self, key: &str, value: Option<&str>) {
        self.env.retain(|(k, _)| k != key);
        if let Some(value) = value {
            self.env.push((key.to_string(), value.to_string()));
        }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// What the load driver sends: `users` users, each sending `per_user` messages, `rate` messages per second
/// overall, every one signed like Zalo signs it.
#[derive(Clone, Copy)]
struct Load {
    users: u64,
    per_user: u64,
    rate: f64,
}

/// One message the service accepted (200), with when it was first posted.
#[derive(Clone)]
struct Accepted {
    event_key: String,
    user: String,
    tag: String,
    posted: Instant,
}

/// Drives the load against `address`. A delivery that fails (connection refused while the service is down,
/// 503 while it stops, a reset) is retried every 100 ms, as Zalo retries, until a 200; every 200 is recorded.
async fn drive(address: &str, load: Load, prefix: &str) -> Vec<Accepted> {
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
                let body = serde_json::to_vec(&event).unwrap();
                let ts = event["timestamp"].as_str().unwrap().to_string();
                let mac = testkit::zalo::signature(APP_ID, &body, &ts, OA_SECRET);
                let posted = Instant::now();
                let deadline = posted + Duration::from_secs(180);
                loop {
                    let response = client
                        .post(format!("{address}/api/v1/zalo/webhook"))
                        .header("content-type", "application/json")
                        .header("X-ZEvent-Signature", &mac)
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
                let msg_id = event["message"]["msg_id"].as_str().unwrap();
                accepted.push(Accepted {
                    event_key: format!("user_send_text:{msg_id}"),
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

fn keys(accepted: &[Accepted]) -> Vec<(String, String)> {
    accepted
        .iter()
        .map(|a| (a.event_key.clone(), a.user.clone()))
        .collect()
}

/// `kill -9` under load, several times: every accepted event is in the database and answered exactly once;
/// replies whose send was cut off are `ambiguous`, counted, and never resent.
async fn kill_9_under_load_loses_nothing_and_doubles_nothing(backend: Backend) {
    let load = Load {
        users: knob("KILL9_USERS", 40),
        per_user: knob("KILL9_MESSAGES_PER_USER", 12),
        rate: knob("KILL9_RATE", 40) as f64,
    };
    let kills = knob("KILL9_KILLS", 3);
    let dir = tempfile::tempdir().unwrap();
    let database_url = backend.fresh_database(&dir).await;
    let (zalo, openai) = (MockServer::start().await, MockServer::start().await);
    // Real round trips, so that kills land while sends and model calls are in flight.
    let sends = record_sends(&zalo, Duration::from_millis(40)).await;
    openai::echoes(Duration::from_millis(60))
        .mount(&openai)
        .await;
    let mut service = Service::new(dir.path(), &database_url, &zalo, &openai, &[]);
    service.start().await;
    let duration = (load.users * load.per_user) as f64 / load.rate;
    let address = service.address.clone();
    let killer = async {
        let start = Instant::now();
        for k in 1..=kills {
            let at = Duration::from_secs_f64(duration * k as f64 / (kills + 1) as f64);
            tokio::time::sleep_until((start + at).into()).await;
            service.kill9().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            service.start().await;
        }
    };
    let (accepted, ()) = tokio::join!(drive(&address, load, "k"), killer);
    let ledger = quiet_ledger(&database_url, Duration::from_secs(120)).await;
    let sends = sends.lock().unwrap().clone();
    let ambiguous = assert_exactly_once(&ledger, &keys(&accepted), &sends);
    assert_eq!(service.starts as u64, kills + 1);
    eprintln!(
        "kill -9 ({}): {} events accepted from {} users over {duration:.0} s, {kills} kills, \
         parts {:?}, {ambiguous} ambiguous, {} Zalo requests",
        backend.label(),
        accepted.len(),
        load.users,
        ledger.states(),
        sends.len()
    );
    service.terminate().await;
}

/// SIGTERM under load: intake stops (503, so Zalo retries), the actors drain, the process exits 0, and
/// nothing accepted is left unanswered; a restarted service takes the retried deliveries.
async fn sigterm_under_load_drains_and_exits_zero(backend: Backend) {
    let load = Load {
        users: 20,
        per_user: 10,
        rate: 40.0,
    };
    let dir = tempfile::tempdir().unwrap();
    let database_url = backend.fresh_database(&dir).await;
    let (zalo, openai) = (MockServer::start().await, MockServer::start().await);
    let sends = record_sends(&zalo, Duration::from_millis(40)).await;
    openai::echoes(Duration::from_millis(200))
        .mount(&openai)
        .await;
    let mut service = Service::new(dir.path(), &database_url, &zalo, &openai, &[]);
    service.start().await;
    let address = service.address.clone();
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let status = service.terminate().await;
        assert!(status.success(), "SIGTERM exits 0: {status}");
        // What the stopped process accepted is all answered, before any restart.
        let ledger = Ledger::read(&database_url).await;
        assert_eq!(
            ledger.pending(),
            0,
            "left behind at exit: {:?}",
            ledger.states()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        service.start().await;
    };
    let (accepted, ()) = tokio::join!(drive(&address, load, "t"), stopper);
    let ledger = quiet_ledger(&database_url, Duration::from_secs(60)).await;
    let sends = sends.lock().unwrap().clone();
    let ambiguous = assert_exactly_once(&ledger, &keys(&accepted), &sends);
    assert_eq!(ambiguous, 0, "a graceful stop cuts no send off");
    let log = service.log_text();
    assert!(log.contains("\"stopped\""), "the stop is logged");
    service.terminate().await;
}

/// SIGTERM while intake drains an inbox backlog (conversations saturated, so new events wait in the inbox and
/// intake routes them as slots free up): intake's next drain step can no longer be queued once its mailbox is
/// closed, and that is the stop, not a crash. Three floods, each stopped while its backlog drains: every
/// stop exits 0 without logging an actor failure or a restart, and the next start answers the rest of the
/// backlog, each event once. Three floods, because a stop has to land while a drain step is under way.
async fn a_stop_during_an_inbox_backlog_is_not_a_crash(backend: Backend) {
    let load = Load {
        users: 40,
        per_user: 25,
        rate: 2000.0,
    };
    let dir = tempfile::tempdir().unwrap();
    let database_url = backend.fresh_database(&dir).await;
    let (zalo, openai) = (MockServer::start().await, MockServer::start().await);
    let sends = record_sends(&zalo, Duration::ZERO).await;
    openai::echoes(Duration::ZERO).mount(&openai).await;
    let mut service = Service::new(
        dir.path(),
        &database_url,
        &zalo,
        &openai,
        &[
            ("TRADESPHERE__INTAKE__MAX_IN_FLIGHT", "2"),
            // 75 messages per user in a few seconds: the per-user limits would (rightly) refuse most.
            ("TRADESPHERE__CONVERSATION__MAX_MESSAGES_PER_WINDOW", "1000"),
            ("TRADESPHERE__LLM__USER_REQUESTS_PER_MINUTE", "1000"),
        ],
    );
    let mut accepted = Vec::new();
    for flood in ["x", "y", "z"] {
        service.start().await;
        accepted.extend(drive(&service.address, load, flood).await);
        let status = service.terminate().await;
        assert!(status.success(), "SIGTERM exits 0: {status}");
    }
    let log = service.log_text();
    assert!(
        log.contains("conversations are saturated"),
        "the floods put intake in backlog mode"
    );
    assert!(
        !log.contains("actor failed") && !log.contains("restarting"),
        "a stop during a backlog is no crash: {}",
        log.lines()
            .filter(|l| l.contains("actor failed") || l.contains("restarting"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    service.start().await;
    let ledger = quiet_ledger(&database_url, Duration::from_secs(60)).await;
    let sends = sends.lock().unwrap().clone();
    assert_eq!(assert_exactly_once(&ledger, &keys(&accepted), &sends), 0);
    service.terminate().await;
}

/// Graceful shutdown, step by step: while the actors drain (here: a model answer still on its way), the
/// webhook answers 503 and `/readyz` says not ready; the answer under way is still sent before the stop.
async fn shutdown_refuses_intake_with_503_while_it_drains(backend: Backend) {
    let mut app = spawn_app_with(
        &backend,
        TestOptions {
            zalo: true,
            llm: true,
            extra_env: vec![("TRADESPHERE__LLM__TIMEOUT_SECS", "10".into())],
            ..Default::default()
        },
    )
    .await;
    app.zalo.reset().await;
    let sends = record_sends(&app.zalo, Duration::ZERO).await;
    // Slow enough that the gate closes and `/readyz` answers while the drain still waits, on a loaded machine.
    openai::echoes(Duration::from_secs(4))
        .mount(&app.openai)
        .await;
    let user = user_id();
    let first = text_event(&user, "[g1] cho mình hỏi một chút");
    assert_eq!(app.post_event(&first).await.status(), 200);
    wait_until("the model call is under way", || async {
        (!app.openai.received_requests().await?.is_empty()).then_some(())
    })
    .await;
    let application = app.app.take().unwrap();
    let stopping = tokio::spawn(application.shutdown());
    // Deliveries racing the start of the shutdown are accepted (and must be answered) until the gate
    // closes; from then on each is refused.
    let mut accepted = vec![first.clone()];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let late = text_event(&user, &format!("[g{}] còn tin này nữa", accepted.len() + 1));
        match app.post_event(&late).await.status().as_u16() {
            200 => accepted.push(late),
            503 => break,
            other => panic!("unexpected {other}"),
        }
        assert!(Instant::now() < deadline, "the intake never closed");
    }
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert!(
        !stopping.is_finished(),
        "the drain was still waiting for the model"
    );
    tokio::time::timeout(Duration::from_secs(60), stopping)
        .await
        .expect("shutdown within its deadlines")
        .unwrap();
    let ledger = Ledger::read(&app.database_url).await;
    let keys: Vec<(String, String)> = accepted
        .iter()
        .map(|e| {
            let key = format!(
                "user_send_text:{}",
                e["message"]["msg_id"].as_str().unwrap()
            );
            (key, user.clone())
        })
        .collect();
    let sends = sends.lock().unwrap().clone();
    assert_eq!(
        assert_exactly_once(&ledger, &keys, &sends),
        0,
        "all answered before the stop"
    );
    assert_eq!(
        ledger.inbox.len(),
        accepted.len(),
        "the refused event was not stored"
    );
}

/// SIGTERM while messages wait in a debounce window: they are answered before the process exits.
async fn sigterm_answers_messages_waiting_for_their_debounce(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = backend.fresh_database(&dir).await;
    let (zalo, openai) = (MockServer::start().await, MockServer::start().await);
    let sends = record_sends(&zalo, Duration::ZERO).await;
    openai::echoes(Duration::ZERO).mount(&openai).await;
    let mut service = Service::new(dir.path(), &database_url, &zalo, &openai, &[]);
    service.set_env("TRADESPHERE__LLM__DEBOUNCE_MS", Some("5000"));
    service.start().await;
    let load = Load {
        users: 3,
        per_user: 2,
        rate: 100.0,
    };
    let accepted = drive(&service.address.clone(), load, "d").await;
    let status = service.terminate().await;
    assert!(status.success(), "{status}");
    let ledger = Ledger::read(&database_url).await;
    assert_eq!(
        ledger.pending(),
        0,
        "answered before the exit: {:?}",
        ledger.states()
    );
    // Every message was answered (a burst's reply carries the others, outcome llm_merged), and each
    // reply reached Zalo exactly once.
    let sends = sends.lock().unwrap().clone();
    assert_eq!(assert_exactly_once(&ledger, &keys(&accepted), &sends), 0);
    assert_eq!(accepted.len(), 6);
}

/// Resident memory (kB) and open file descriptors of a process, from /proc.
fn process_footprint(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (rss, fds)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Soak: the service at a steady, realistic rate (many users, mixed messages, fakes with realistic
/// latency) for `SOAK_SECS` (20 s in CI; `scripts/soak.sh` runs 10 minutes). Prints RSS, open files,
/// conversation actors and reply latency per interval, and checks they stay flat and nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_stays_flat_and_loses_nothing() {
    let secs = knob("SOAK_SECS", 20);
    let rate = knob("SOAK_RATE", 10) as f64;
    let users = knob("SOAK_USERS", 150);
    let sample = Duration::from_secs(knob("SOAK_SAMPLE_SECS", if secs > 120 { 30 } else { 4 }));
    let load = Load {
        users,
        per_user: ((secs as f64 * rate) / users as f64).ceil().max(1.0) as u64,
        rate,
    };
    let dir = tempfile::tempdir().unwrap();
    let database_url = Backend::Sqlite.fresh_database(&dir).await;
    let (zalo, openai) = (MockServer::start().await, MockServer::start().await);
    // Zalo answers in ~100 ms, the model in ~800 ms.
    let sends = record_sends(&zalo, Duration::from_millis(100)).await;
    openai::echoes(Duration::from_millis(800))
        .mount(&openai)
        .await;
    let mut service = Service::new(
        dir.path(),
        &database_url,
        &zalo,
        &openai,
        &[("TRADESPHERE__CONVERSATION__IDLE_TIMEOUT_SECS", "30")],
    );
    service.start().await;
    let pid = service.pid();
    let address = service.address.clone();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (done, address) = (done.clone(), address.clone());
        tokio::spawn(async move {
            let mut rows = Vec::new();
            let start = Instant::now();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(sample).await;
                let (rss, fds) = process_footprint(pid);
                let actors = metrics::sum(
                    &metrics::scrape(&address).await,
                    "tradesphere_conversation_actors",
                );
                rows.push((start.elapsed(), rss, fds, actors));
            }
            rows
        })
    };
    let accepted = drive(&address, load, "s").await;
    let ledger = quiet_ledger(&database_url, Duration::from_secs(120)).await;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let rows = sampler.await.unwrap();
    let sends = sends.lock().unwrap().clone();
    assert_eq!(assert_exactly_once(&ledger, &keys(&accepted), &sends), 0);

    // Latency from the webhook POST to Zalo receiving the reply, per sampling interval.
    let posted: HashMap<&str, Instant> = accepted
        .iter()
        .map(|a| (a.tag.as_str(), a.posted))
        .collect();
    let started = accepted.iter().map(|a| a.posted).min().unwrap();
    let mut by_interval: BTreeMap<u64, Vec<Duration>> = BTreeMap::new();
    for send in &sends {
        let Some(tag) = send.text.split_whitespace().nth(2) else {
            continue;
        };
        if let Some(at) = posted.get(tag) {
            let interval = at.duration_since(started).as_secs() / sample.as_secs().max(1);
            by_interval
                .entry(interval)
                .or_default()
                .push(send.at.duration_since(*at));
        }
    }
    println!(
        "soak: {secs} s at {rate}/s, {users} users, {} messages",
        accepted.len()
    );
    println!(
        "{:>8} {:>10} {:>6} {:>7} {:>9} {:>9} {:>9}",
        "t(s)", "rss(kB)", "fds", "actors", "p50(ms)", "p95(ms)", "max(ms)"
    );
    for (i, (t, rss, fds, actors)) in rows.iter().enumerate() {
        let mut lat = by_interval.get(&(i as u64)).cloned().unwrap_or_default();
        lat.sort();
        println!(
            "{:>8.0} {rss:>10} {fds:>6} {actors:>7} {:>9} {:>9} {:>9}",
            t.as_secs_f64(),
            percentile(&lat, 0.5).as_millis(),
            percentile(&lat, 0.95).as_millis(),
            lat.last().copied().unwrap_or_default().as_millis()
        );
    }
    // Flat: after the first quarter (warm-up), memory and descriptors do not keep climbing.
    let warm = rows.len() / 4;
    if rows.len() >= 4 {
        let (_, rss_warm, fds_warm, _) = rows[warm];
        let rss_max = rows[warm..].iter().map(|r| r.1).max().unwrap();
        let fds_max = rows[warm..].iter().map(|r| r.2).max().unwrap();
        assert!(
            rss_max <= rss_warm * 3 / 2 + 20_000,
            "RSS grew: {rss_warm} → {rss_max} kB"
        );
        assert!(
            fds_max <= fds_warm + 64,
            "open files grew: {fds_warm} → {fds_max}"
        );
    }
    let actors_max = rows.iter().map(|r| r.3).fold(0.0, f64::max);
    assert!(
        actors_max <= users as f64,
        "one conversation actor per user at most: {actors_max}"
    );
    service.terminate().await;
}

/// A child that keeps failing (the scam actor panics on every message) exhausts the restart budget: the
/// process stops with a non-zero exit instead of running half-alive, and the event it could not handle is
/// still in the inbox, answered by the next start.
async fn a_child_that_keeps_failing_stops_the_process_non_zero(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = backend.fresh_database(&dir).await;
    let (zalo, openai) = (MockServer::start().await, MockServer::start().await);
    let sends = record_sends(&zalo, Duration::ZERO).await;
    openai::echoes(Duration::ZERO).mount(&openai).await;
    let mut service = Service::new(
        dir.path(),
        &database_url,
        &zalo,
        &openai,
        &[
            ("TRADESPHERE_CHAOS", "scam:1"),
            ("TRADESPHERE__SUPERVISOR__MAX_RESTARTS", "3"),
            ("TRADESPHERE__SUPERVISOR__BACKOFF_BASE_MS", "10"),
        ],
    );
    service.start().await;
    let user = user_id();
    let event = text_event(&user, "[f1] số 0912 345 678 có lừa đảo không?");
    let body = serde_json::to_vec(&event).unwrap();
    let ts = event["timestamp"].as_str().unwrap().to_string();
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/zalo/webhook", service.address))
        .header(
            "X-ZEvent-Signature",
            testkit::zalo::signature(APP_ID, &body, &ts, OA_SECRET),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let status = service.exited_within(Duration::from_secs(60)).await;
    assert!(!status.success(), "gave up: exit {status}");
    assert!(
        service.log_text().contains("exhausting its restart budget"),
        "the reason is logged"
    );
    let key = format!(
        "user_send_text:{}",
        event["message"]["msg_id"].as_str().unwrap()
    );
    let ledger = Ledger::read(&database_url).await;
    assert!(
        !ledger.inbox[&key].1,
        "the failed event stays pending, not lost"
    );

    // Fixed (no more faults): the next start answers it.
    service.set_env("TRADESPHERE_CHAOS", None);
    service.start().await;
    let ledger = quiet_ledger(&database_url, Duration::from_secs(60)).await;
    let sends = sends.lock().unwrap().clone();
    assert_eq!(assert_exactly_once(&ledger, &[(key, user)], &sends), 0);
    service.terminate().await;
}

both_backends!(
    random_actor_panics_lose_nothing_and_double_nothing,
    a_child_that_keeps_failing_stops_the_process_non_zero,
    sigterm_answers_messages_waiting_for_their_debounce,
    shutdown_refuses_intake_with_503_while_it_drains,
    failing_dependencies_end_in_the_right_state,
    kill_9_under_load_loses_nothing_and_doubles_nothing,
    sigterm_under_load_drains_and_exits_zero,
    a_stop_during_an_inbox_backlog_is_not_a_crash,
);
