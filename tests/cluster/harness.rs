//! The private PostgreSQL, the replicas with their own fakes, the faults a scenario injects, and what the
//! database says about ownership.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use sha2::{Digest, Sha256};
use testkit::openai::{self, ModelCall, ModelCalls};
use testkit::zalo::{self, Sends, ZaloSend};
use testkit::{PgCluster, metrics};
use wiremock::MockServer;

use crate::service::{Fakes, Service, store_at};

pub const PARTITIONS: usize = 256;
pub const MEMBER_TTL: Duration = Duration::from_millis(1500);
pub const REBALANCE: Duration = Duration::from_millis(200);

/// The longest a partition of a replica that died or froze may stay without a live owner.
pub fn takeover_bound() -> Duration {
    MEMBER_TTL + 2 * REBALANCE + Duration::from_secs(1)
}

/// Short leases, so that a takeover takes seconds in a test.
const TIMINGS: [(&str, &str); 6] = [
    ("TRADESPHERE__CLUSTER__HEARTBEAT_INTERVAL_MS", "200"),
    ("TRADESPHERE__CLUSTER__MEMBER_TTL_MS", "1500"),
    ("TRADESPHERE__CLUSTER__TRUST_MARGIN_MS", "300"),
    ("TRADESPHERE__CLUSTER__REBALANCE_INTERVAL_MS", "200"),
    ("TRADESPHERE__CLUSTER__MIN_MEMBER_AGE_MS", "500"),
    ("TRADESPHERE__CLUSTER__DRAIN_TIMEOUT_MS", "5000"),
];

/// What every replica is given besides its timings: the admin token (for `/api/v1/cluster`), limits
/// raised so that the driver's pace is never refused as a flood, and a database that gives up quickly
/// (a webhook answers 503 at once while PostgreSQL is away).
const COMMON: [(&str, &str); 11] = [
    ("ADMIN_TOKEN", testkit::ADMIN_TOKEN),
    ("ZALO_APP_SECRET", zalo::APP_SECRET),
    ("TRADESPHERE__CONVERSATION__MAX_MESSAGES_PER_WINDOW", "1000"),
    ("TRADESPHERE__LLM__USER_REQUESTS_PER_MINUTE", "1000"),
    ("TRADESPHERE__LLM__TIMEOUT_SECS", "10"),
    ("TRADESPHERE__DATABASE__ACQUIRE_TIMEOUT_SECS", "1"),
    ("TRADESPHERE__DATABASE__MAX_CONNECTIONS", "8"),
    ("TRADESPHERE__TOKEN__REFRESH_JITTER_SECS", "0"),
    ("TRADESPHERE__TOKEN__CHECK_INTERVAL_MS", "200"),
    ("TRADESPHERE__LINKS__EXPAND", "false"),
    ("TRADESPHERE__SUPERVISOR__MAX_RESTARTS", "100"),
];

/// One `tradesphere serve` process, named `r<i>`, and the fakes only it talks to.
pub struct Replica {
    pub name: String,
    pub service: Service,
    /// Its Zalo fake (send API and OAuth token endpoint).
    pub zalo: MockServer,
    pub sends: Sends,
    pub calls: ModelCalls,
    pub model_latency: Duration,
    /// Stopped with SIGSTOP and not continued yet.
    pub frozen: bool,
    /// Stopped on purpose (killed or terminated) and not started again.
    pub down: bool,
    _model: MockServer,
    _dir: tempfile::TempDir,
}

/// A fault injected into one replica (`None`: all of them), over `from..=to`. `sending` is how many
/// parts were `sending` in the database when it began: the most that may end `ambiguous` because of it.
pub struct Fault {
    pub what: String,
    pub replica: Option<usize>,
    pub from: Instant,
    pub to: Instant,
    pub sending: usize,
}

/// Partitions of a replica that stopped answering, and how long until live replicas held all of them.
pub struct Takeover {
    pub what: String,
    pub partitions: usize,
    pub took: Duration,
}

/// A member as the database lists it.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub owned: Vec<i16>,
}

/// A partition's owner: its replica's name and when it claimed the partition (milliseconds since the epoch,
/// on the database clock), `None` when no live member holds it.
#[derive(Debug, Clone)]
pub struct Owner {
    pub partition: i16,
    pub holder: Option<(String, f64)>,
}

pub struct Cluster {
    pub pg: PgCluster,
    pub url: String,
    pub db: DatabaseConnection,
    pub replicas: Vec<Replica>,
    pub faults: Vec<Fault>,
    pub takeovers: Vec<Takeover>,
    /// Sends of replica `.0` recorded between `.1` and `.2` are stale (set by a scenario that knows nothing
    /// is left for that replica to send then).
    pub stale: Vec<(usize, Instant, Instant)>,
    origin: (Instant, f64),
}

impl Cluster {
    /// A private PostgreSQL (None, the test skipped, when none can start and it is not required) and `n`
    /// replicas on one database, not started; `fakes(i)` sets replica `i`'s fakes, `extra` every replica's
    /// settings.
    pub async fn new(
        n: usize,
        fakes: impl Fn(usize) -> Fakes,
        extra: &[(&str, &str)],
    ) -> Option<Cluster> {
        let cluster = Self::unmigrated(n, fakes, extra).await?;
        // Migrated once beforehand, as a deployment step would (`tradesphere migrate`).
        let store = store_at(&cluster.url).await;
        store.migrate().await.expect("migrate the test database");
        store.close().await;
        Some(cluster)
    }

    /// As [`Cluster::new`], on an empty database: the replicas migrate it as they start.
    pub async fn unmigrated(
        n: usize,
        fakes: impl Fn(usize) -> Fakes,
        extra: &[(&str, &str)],
    ) -> Option<Cluster> {
        // A frozen replica's open transaction must not hold owner rows past a few seconds.
        let pg = PgCluster::start_with_if_available(
            "-c max_connections=300 -c idle_in_transaction_session_timeout=10s",
        )?;
        let url = pg.create_database().await;
        let db = Database::connect(url.as_str())
            .await
            .expect("connect to the test database");
        let mut cluster = Cluster {
            pg,
            url,
            db,
            replicas: Vec::new(),
            faults: Vec::new(),
            takeovers: Vec::new(),
            stale: Vec::new(),
            origin: (Instant::now(), wall_now_ms()),
        };
        for i in 0..n {
            cluster.add_replica(fakes(i), extra).await;
        }
        Some(cluster)
    }

    /// Adds replica `r<len+1>`, not started.
    pub async fn add_replica(&mut self, fakes: Fakes, extra: &[(&str, &str)]) -> usize {
        let i = self.replicas.len();
        let name = format!("r{}", i + 1);
        let dir = tempfile::tempdir().unwrap();
        let (zalo, model) = (MockServer::start().await, MockServer::start().await);
        let sends = zalo::record_sends(&zalo, fakes.zalo).await;
        let calls = openai::record_echoes(&model, fakes.model).await;
        let mut service = Service::new(dir.path(), &self.url, &zalo, &model, &[]);
        service.set_env("TRADESPHERE__CLUSTER__MEMBER_NAME", Some(&name));
        for (key, value) in TIMINGS.iter().chain(COMMON.iter()).chain(extra) {
            service.set_env(key, Some(value));
        }
        self.replicas.push(Replica {
            name,
            service,
            zalo,
            sends,
            calls,
            model_latency: fakes.model,
            frozen: false,
            down: false,
            _model: model,
            _dir: dir,
        });
        i
    }

    pub fn set_env(&mut self, i: usize, key: &str, value: Option<&str>) {
        self.replicas[i].service.set_env(key, value);
    }

    pub fn addresses(&self) -> Vec<String> {
        self.replicas
            .iter()
            .map(|r| r.service.address.clone())
            .collect()
    }

    pub async fn start(&mut self, i: usize) {
        let started = self.replicas[i].service.try_start().await;
        self.started(i, started);
    }

    /// Starts r1, then every other replica at once (r1 stores the bootstrap token first).
    pub async fn start_all(&mut self) {
        self.start(0).await;
        let starts = self.replicas[1..].iter_mut().map(|r| r.service.try_start());
        let started = futures_util::future::join_all(starts).await;
        for (i, started) in started.into_iter().enumerate() {
            self.started(i + 1, started);
        }
    }

    /// Starts every replica at once.
    pub async fn start_together(&mut self) {
        let starts = self.replicas.iter_mut().map(|r| r.service.try_start());
        let started = futures_util::future::join_all(starts).await;
        for (i, started) in started.into_iter().enumerate() {
            self.started(i, started);
        }
    }

    fn started(&mut self, i: usize, started: Result<(), std::process::ExitStatus>) {
        let r = &mut self.replicas[i];
        if let Err(status) = started {
            panic!(
                "{} exited during start ({status}):\n{}",
                r.name,
                r.service.log_text()
            );
        }
        r.down = false;
    }

    /// SIGTERM, and the exit status.
    pub async fn terminate(&mut self, i: usize) -> std::process::ExitStatus {
        self.replicas[i].down = true;
        self.replicas[i].service.terminate().await
    }

    /// Indexes of the replicas running and not frozen.
    pub fn live(&mut self) -> Vec<usize> {
        (0..self.replicas.len())
            .filter(|&i| {
                let r = &mut self.replicas[i];
                !r.frozen && !r.down && r.service.is_running()
            })
            .collect()
    }

    /// Waits (bounded) until every running replica is a live member and live members hold every partition.
    pub async fn settled(&mut self) {
        let live = self.live().len();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let members = self.members().await;
            let owned: usize = members.iter().map(|m| m.owned.len()).sum();
            if members.len() == live
                && owned == PARTITIONS
                && members.iter().all(|m| !m.owned.is_empty())
            {
                return;
            }
            let shares: Vec<(String, usize)> = members
                .iter()
                .map(|m| (m.name.clone(), m.owned.len()))
                .collect();
            assert!(
                Instant::now() < deadline,
                "the cluster never settled: {live} replicas running, shares {shares:?}\n{}",
                self.log_excerpt("settle")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Milliseconds since the epoch of a test-clock instant (the database runs on this machine's clock).
    pub fn wall_ms(&self, at: Instant) -> f64 {
        let (instant, wall) = self.origin;
        if at >= instant {
            wall + at.duration_since(instant).as_secs_f64() * 1000.0
        } else {
            wall - instant.duration_since(at).as_secs_f64() * 1000.0
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Faults.

    /// `kill -9` of replica `i`; then waits (bounded) until live replicas hold every partition it held, and
    /// records that time.
    pub async fn kill9(&mut self, i: usize) {
        let held = self.member(&self.replicas[i].name).await;
        let before = self.sending_count().await;
        self.replicas[i].down = true;
        self.replicas[i].service.kill9().await;
        let at = Instant::now();
        // The dead replica's claimed parts stay `sending` until a takeover: counted after the kill too.
        let sending = before.max(self.sending_count().await);
        self.faults.push(Fault {
            what: format!("kill -9 {}", self.replicas[i].name),
            replica: Some(i),
            from: at,
            to: at,
            sending,
        });
        if let Some(held) = held {
            let what = format!("kill -9 {}", self.replicas[i].name);
            self.record_takeover(what, &held, at).await;
        }
    }

    /// SIGSTOP: the process keeps its sockets but runs nothing. Returns what it held.
    pub async fn freeze(&mut self, i: usize) -> (Instant, Option<Member>) {
        let held = self.member(&self.replicas[i].name).await;
        signal(self.replicas[i].service.pid(), "STOP");
        let at = Instant::now();
        self.replicas[i].frozen = true;
        (at, held)
    }

    /// SIGCONT, recording the freeze since `from` as a fault.
    pub async fn thaw(&mut self, i: usize, from: Instant, sending: usize) {
        signal(self.replicas[i].service.pid(), "CONT");
        self.replicas[i].frozen = false;
        self.faults.push(Fault {
            what: format!("SIGSTOP {}", self.replicas[i].name),
            replica: Some(i),
            from,
            to: Instant::now(),
            sending,
        });
    }

    /// Waits (bounded) until every partition of `held` has a live owner other than that incarnation, and
    /// records the time from `at` to the last of those claims.
    pub async fn record_takeover(&mut self, what: String, held: &Member, at: Instant) {
        if held.owned.is_empty() {
            return;
        }
        let list = in_list(&held.owned);
        let sql = format!(
            "SELECT count(*) AS moved, max(extract(epoch FROM po.owned_since) * 1000)::float8 AS last \
               FROM partition_owners po JOIN cluster_members m \
                 ON m.member_id = po.owner_id AND m.lease_until > now() \
              WHERE po.partition IN ({list}) AND po.owner_id::text <> '{}'",
            held.id.replace('\'', "")
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(row) = self.row(&sql).await {
                let moved: i64 = row.try_get("", "moved").unwrap_or(0);
                let last: Option<f64> = row.try_get("", "last").unwrap_or(None);
                if moved as usize == held.owned.len() {
                    let took = last.unwrap_or(0.0) - self.wall_ms(at);
                    self.takeovers.push(Takeover {
                        what,
                        partitions: held.owned.len(),
                        took: Duration::from_secs_f64(took.max(0.0) / 1000.0),
                    });
                    return;
                }
            }
            if Instant::now() > deadline {
                self.takeovers.push(Takeover {
                    what: format!("{what} (never completed)"),
                    partitions: held.owned.len(),
                    took: Duration::from_secs(30),
                });
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Terminates every session of replica `name` (the way a network cut from the database looks to it);
    /// returns how many there were.
    pub async fn terminate_sessions(&self, name: &str) -> usize {
        let sql = format!(
            "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity \
              WHERE application_name LIKE 'tradesphere/{name}%'"
        );
        self.rows(&sql).await.len()
    }

    // -----------------------------------------------------------------------------------------------------
    // What the database says.

    /// The live incarnation of replica `name` and the partitions it holds.
    pub async fn member(&self, name: &str) -> Option<Member> {
        let sql = format!(
            "SELECT m.member_id::text AS id, \
                    coalesce(string_agg(po.partition::text, ',' ORDER BY po.partition), '') AS owned \
               FROM cluster_members m LEFT JOIN partition_owners po ON po.owner_id = m.member_id \
              WHERE m.name = '{}' AND m.lease_until > now() \
              GROUP BY m.member_id, m.started_at ORDER BY m.started_at DESC LIMIT 1",
            name.replace('\'', "")
        );
        let row = self.row(&sql).await?;
        let owned: String = row.try_get("", "owned").ok()?;
        Some(Member {
            id: row.try_get("", "id").ok()?,
            name: name.to_string(),
            owned: owned.split(',').filter_map(|p| p.parse().ok()).collect(),
        })
    }

    /// The live members, by name, with the partitions each holds.
    pub async fn members(&self) -> Vec<Member> {
        let sql = "SELECT m.member_id::text AS id, m.name, \
                          coalesce(string_agg(po.partition::text, ',' ORDER BY po.partition), '') AS owned \
                     FROM cluster_members m LEFT JOIN partition_owners po ON po.owner_id = m.member_id \
                    WHERE m.lease_until > now() GROUP BY m.member_id, m.name ORDER BY m.name";
        self.rows(sql)
            .await
            .into_iter()
            .map(|row| {
                let owned: String = row.try_get("", "owned").unwrap_or_default();
                Member {
                    id: row.try_get("", "id").unwrap_or_default(),
                    name: row.try_get("", "name").unwrap_or_default(),
                    owned: owned.split(',').filter_map(|p| p.parse().ok()).collect(),
                }
            })
            .collect()
    }

    /// Every partition and its live owner, if any.
    pub async fn owners(&self) -> Vec<Owner> {
        let sql = "SELECT po.partition, m.name, \
                          (extract(epoch FROM po.owned_since) * 1000)::float8 AS since \
                     FROM partition_owners po LEFT JOIN cluster_members m \
                       ON m.member_id = po.owner_id AND m.lease_until > now() \
                    ORDER BY po.partition";
        self.rows(sql)
            .await
            .into_iter()
            .map(|row| {
                let name: Option<String> = row.try_get("", "name").unwrap_or(None);
                let since: Option<f64> = row.try_get("", "since").unwrap_or(None);
                Owner {
                    partition: row.try_get("", "partition").unwrap_or(-1),
                    holder: name.zip(since),
                }
            })
            .collect()
    }

    /// Reply parts in state `sending` now.
    pub async fn sending_count(&self) -> usize {
        let row = self
            .row("SELECT count(*) AS n FROM outbound_messages WHERE state = 'sending'")
            .await;
        row.and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(0) as usize
    }

    /// The most parts `sending` at once, counted every 10 ms until the database stops answering (bounded).
    pub fn sample_sending(&self) -> tokio::task::JoinHandle<usize> {
        let db = self.db.clone();
        tokio::spawn(async move {
            let sql = "SELECT count(*) AS n FROM outbound_messages WHERE state = 'sending'";
            let mut most = 0;
            for _ in 0..1000 {
                let statement = Statement::from_string(DbBackend::Postgres, sql.to_string());
                let Ok(Some(row)) = db.query_one_raw(statement).await else {
                    break;
                };
                most = most.max(row.try_get::<i64>("", "n").unwrap_or(0) as usize);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            most
        })
    }

    /// Texts of the parts in state `sending` in `partitions`.
    pub async fn sending_texts(&self, partitions: &[i16]) -> Vec<String> {
        if partitions.is_empty() {
            return Vec::new();
        }
        let sql = format!(
            "SELECT text FROM outbound_messages WHERE state = 'sending' AND partition IN ({})",
            in_list(partitions)
        );
        self.rows(&sql)
            .await
            .into_iter()
            .filter_map(|r| r.try_get("", "text").ok())
            .collect()
    }

    /// An inbox event's outcome (None while pending) and attempts.
    pub async fn event(&self, event_key: &str) -> Option<(Option<String>, i32)> {
        let sql = format!(
            "SELECT outcome, attempts FROM inbox_events WHERE event_key = '{}'",
            event_key.replace('\'', "")
        );
        let row = self.row(&sql).await?;
        Some((
            row.try_get("", "outcome").unwrap_or(None),
            row.try_get("", "attempts").unwrap_or(0),
        ))
    }

    pub async fn rows(&self, sql: &str) -> Vec<sea_orm::QueryResult> {
        match self
            .db
            .query_all_raw(Statement::from_string(DbBackend::Postgres, sql.to_string()))
            .await
        {
            Ok(rows) => rows,
            // PostgreSQL restarting or the test's own session cut: read again on the next poll.
            Err(err) => {
                eprintln!("cluster harness: query failed ({err}): {sql}");
                Vec::new()
            }
        }
    }

    async fn row(&self, sql: &str) -> Option<sea_orm::QueryResult> {
        self.rows(sql).await.into_iter().next()
    }

    // -----------------------------------------------------------------------------------------------------
    // What the replicas say, and what their fakes saw.

    /// Metric `name` of replica `i`, summed over its label sets.
    pub async fn metric(&self, i: usize, name: &str) -> f64 {
        metrics::sum(
            &metrics::scrape(&self.replicas[i].service.address).await,
            name,
        )
    }

    /// `cluster.owned_partitions` of replica `i`'s `/readyz`, when it answers.
    pub async fn ready_owned(&self, i: usize) -> Option<u64> {
        let response = self.replicas[i].service.get("/readyz").await;
        let body: serde_json::Value = response.json().await.ok()?;
        body["cluster"]["owned_partitions"].as_u64()
    }

    /// Replica `i`'s `GET /api/v1/cluster` (admin), when it answers.
    pub async fn cluster_view(&self, i: usize) -> Option<serde_json::Value> {
        let response = reqwest::Client::new()
            .get(format!(
                "{}/api/v1/cluster",
                self.replicas[i].service.address
            ))
            .bearer_auth(testkit::ADMIN_TOKEN)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        if response.status() != 200 {
            return None;
        }
        response.json().await.ok()
    }

    /// Every send, with the index of the replica whose fake received it.
    pub fn sends(&self) -> Vec<(usize, ZaloSend)> {
        let mut all: Vec<(usize, ZaloSend)> = Vec::new();
        for (i, r) in self.replicas.iter().enumerate() {
            all.extend(r.sends.lock().unwrap().iter().cloned().map(|s| (i, s)));
        }
        all.sort_by_key(|(_, s)| s.at);
        all
    }

    /// Every model call, with the index of the replica whose fake received it.
    pub fn calls(&self) -> Vec<(usize, ModelCall)> {
        let mut all: Vec<(usize, ModelCall)> = Vec::new();
        for (i, r) in self.replicas.iter().enumerate() {
            all.extend(r.calls.lock().unwrap().iter().cloned().map(|c| (i, c)));
        }
        all.sort_by_key(|(_, c)| c.at);
        all
    }

    /// The warnings and errors each replica logged (the last few), and where the full logs were kept.
    pub fn log_excerpt(&self, scenario: &str) -> String {
        let keep = std::env::temp_dir().join(format!(
            "tradesphere-cluster-{scenario}-{}",
            std::process::id()
        ));
        let _ = std::fs::create_dir_all(&keep);
        let mut out = format!("full logs in {}\n", keep.display());
        for r in &self.replicas {
            let log = r.service.log_text();
            let _ = std::fs::write(keep.join(format!("{}.log", r.name)), &log);
            let loud: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("\"level\":\"ERROR\"") || l.contains("\"level\":\"WARN\""))
                .collect();
            out += &format!("--- {} ({} warnings and errors)\n", r.name, loud.len());
            for line in &loud[loud.len().saturating_sub(12)..] {
                out += &format!("{}\n", truncate(line, 400));
            }
        }
        out
    }
}

impl Drop for Cluster {
    /// The replicas are killed as their handles drop; their PostgreSQL goes now rather than when the whole
    /// test process exits.
    fn drop(&mut self) {
        for r in &self.replicas {
            if r.frozen {
                signal_quietly(r.service.pid(), "CONT");
            }
        }
        self.pg.stop_now();
    }
}

/// The partition of a Zalo user: the first byte of the SHA-256 of its id (256 partitions).
pub fn partition_of(user: &str) -> i16 {
    i16::from(Sha256::digest(user.as_bytes())[0])
}

pub fn wall_now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

fn signal_quietly(pid: u32, name: &str) {
    let _ = std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status();
}

fn in_list(partitions: &[i16]) -> String {
    let list: Vec<String> = partitions.iter().map(i16::to_string).collect();
    list.join(",")
}

fn truncate(line: &str, max: usize) -> &str {
    match line.char_indices().nth(max) {
        Some((at, _)) => &line[..at],
        None => line,
    }
}
