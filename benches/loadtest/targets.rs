//! Several replicas as targets: the round robin every run uses, the harness's own replicas (`--replicas N`
//! on one PostgreSQL database), and `--targets`, which drives replicas started elsewhere instead.
//!
//! With `--targets` the harness starts its fakes (model and Zalo API on `--fakes-listen`), prints the
//! environment the replicas need to use them, waits until every target's `/readyz` answers 200, then runs
//! `intake`, `ack` and `e2e` in turn. Between runs it waits until the replicas have gone quiet (no reply for
//! two seconds), so the replies of one run are not counted in the next. A request that gets a 503 or a
//! connection error goes to the next target with the same body, as a load balancer would (`--tries` in all);
//! the webhook is idempotent by event key, so a retried event is stored once.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::client::Connection;
use crate::fakes::{self, Slot, Tracker};
use crate::{Args, EventKind, EventSource, Fakes, Report, Row, Service};

/// One worker's keep-alive connections, one per target.
pub struct Pool {
    conns: Vec<Connection>,
    tries: usize,
}

/// How one request ended: the last answer (or error), the target that gave it, and the tries it took.
pub struct Sent {
    pub result: std::io::Result<u16>,
    pub target: usize,
    pub tries: usize,
}

impl Pool {
    pub fn new(targets: &[SocketAddr], tries: usize) -> Self {
        Self {
            conns: targets.iter().map(|a| Connection::new(*a)).collect(),
            tries: tries.clamp(1, targets.len().max(1)),
        }
    }

    /// Posts request `n` to target `n mod targets`; a 503 or a connection error sends the same body to the
    /// next target, up to `tries` in all.
    pub async fn post(&mut self, n: usize, path: &str, header: (&str, &str), body: &[u8]) -> Sent {
        let count = self.conns.len();
        let mut tries = 0;
        loop {
            let target = (n + tries) % count;
            tries += 1;
            let result = self.conns[target].post(path, header, body).await;
            let retry = matches!(result, Ok(503) | Err(_));
            if !retry || tries >= self.tries {
                return Sent {
                    result,
                    target,
                    tries,
                };
            }
        }
    }
}

/// The harness's own replicas of the service on one database (`--replicas`; one unless asked).
pub struct Replicas {
    services: Vec<Service>,
}

impl Replicas {
    /// Starts them one after the other, so only the first applies migrations.
    pub async fn start(args: &Args, bin: &Path, url: &str, fakes: &Fakes) -> anyhow::Result<Self> {
        let count = args.replicas.max(1);
        anyhow::ensure!(
            count == 1 || !url.starts_with("sqlite"),
            "--replicas {count}: SQLite is single-process; use --backend postgres"
        );
        let mut services = Vec::new();
        for i in 1..=count {
            let member = (count > 1).then(|| format!("loadtest-{i}"));
            services.push(Service::start(args, bin, url, fakes, member.as_deref()).await?);
        }
        Ok(Self { services })
    }

    pub fn first(&self) -> &Service {
        &self.services[0]
    }

    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.services.iter().map(|s| s.addr).collect()
    }

    /// CPU seconds all replicas used so far.
    pub fn cpu_seconds(&self) -> Option<f64> {
        self.services
            .iter()
            .map(|s| crate::cpu_seconds(s.pid))
            .sum()
    }

    pub fn cpu_per_request(&self, before: Option<f64>, requests: u64) -> Option<f64> {
        let used = self.cpu_seconds()? - before?;
        (requests > 0).then(|| used * 1e6 / requests as f64)
    }

    /// The largest peak resident memory among the replicas.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        self.services
            .iter()
            .filter_map(|s| crate::rss_mb(s.pid, "VmHWM"))
            .reduce(f64::max)
    }

    /// SIGTERM to all at once (no hand-over churn between them), then waits for each.
    pub fn stop(self) {
        for service in &self.services {
            service.terminate();
        }
        for service in self.services {
            service.reap();
        }
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let targets = resolve(&args.targets)?;
    let slot: Slot = Arc::new(RwLock::new(Arc::new(Tracker::new(0, 0))));
    let (llm_url, zalo_url) = fakes::start(
        slot.clone(),
        args.fakes_listen,
        Duration::from_millis(args.llm_latency_ms),
    )
    .await;
    let fakes = Fakes { llm_url, zalo_url };
    eprintln!("Start each replica with (plus its DATABASE_URL, listen address and member name):");
    for (key, value) in crate::service_env(&fakes) {
        eprintln!("  {key}={value}");
    }
    for target in &targets {
        wait_ready(*target).await?;
    }
    let label = args.label.clone().unwrap_or_else(|| match targets.len() {
        1 => "1 replica".to_string(),
        n => format!("{n} replicas"),
    });
    let wants = |s: &str| args.scenario.iter().any(|x| x == s);
    let mut rows = Vec::new();
    let mut runs: Vec<(&str, EventKind)> = Vec::new();
    if wants("intake") {
        let kinds = EventKind::chosen(&args.intake_kinds, [EventKind::Text, EventKind::Receipt]);
        runs.extend(kinds.map(|k| ("intake", k)));
    }
    if wants("ack") {
        let kinds = EventKind::chosen(&args.ack_kinds, [EventKind::Text, EventKind::Mixed]);
        runs.extend(kinds.map(|k| ("ack", k)));
    }
    if wants("e2e") {
        runs.push(("e2e", EventKind::Text));
    }
    for (scenario, kind) in runs {
        quiet(&slot).await;
        let (messages, users) = match scenario {
            "e2e" => ((args.e2e_rate * args.e2e_secs) as usize, args.e2e_users),
            "ack" => ((args.ack_rate * args.ack_secs) as usize, args.intake_users),
            _ => (0, 0),
        };
        let tracker = Arc::new(Tracker::new(messages, users));
        *slot.write().expect("tracker slot") = tracker.clone();
        let source = match scenario {
            "e2e" => EventSource::new(users, Some(tracker.clone()), kind).with_text(&args)?,
            _ => EventSource::new(args.intake_users, Some(tracker.clone()), kind),
        };
        let source = Arc::new(source);
        let watch = Watch::start(&args).await;
        let mut row = match scenario {
            "intake" => {
                let result = crate::closed_loop(
                    &targets,
                    args.tries,
                    source,
                    args.concurrency,
                    args.intake_secs,
                )
                .await;
                let name = match kind {
                    EventKind::Receipt => "intake (receipts)",
                    _ => "intake",
                };
                let row = result.row(name, format!("c{}", args.concurrency));
                watch.finish(row, result.ok).await
            }
            _ => {
                let rate = if scenario == "e2e" {
                    args.e2e_rate
                } else {
                    args.ack_rate
                };
                let total = messages as u64;
                let result = crate::fixed_rate(
                    &targets,
                    args.tries,
                    source,
                    rate,
                    total,
                    args.open_loop_connections,
                )
                .await;
                let name = match (scenario, kind) {
                    ("ack", EventKind::Mixed) => "ack (mixed)",
                    _ => scenario,
                };
                let mut row = result.row(name, format!("{rate}/s"));
                if scenario == "e2e" {
                    crate::wait_answered(&tracker, result.ok).await;
                    crate::replies_into(&mut row, &tracker, result.ok);
                }
                watch.finish(row, result.ok).await
            }
        };
        row.backend = label.clone();
        row.llm_latency_ms = Some(args.llm_latency_ms);
        crate::print_row(&row);
        rows.push(row);
    }
    let report = Report {
        machine: crate::machine(),
        smoke: args.smoke,
        rows,
    };
    println!();
    crate::print_table(&report.rows);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        println!("\nJSON written to {}", path.display());
    }
    Ok(())
}

/// `host:port` or `http://host:port[/]`, resolved once.
fn resolve(targets: &[String]) -> anyhow::Result<Vec<SocketAddr>> {
    targets
        .iter()
        .map(|t| {
            let bare = t.trim().trim_start_matches("http://").trim_end_matches('/');
            bare.to_socket_addrs()?
                .next()
                .ok_or_else(|| anyhow::anyhow!("{t}: no address"))
        })
        .collect()
}

async fn wait_ready(target: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some((200, _)) = crate::http_get(target, "/readyz").await {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{target}: /readyz did not answer 200 within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until no reply has reached the fake Zalo for two seconds (at most two minutes): the previous run's
/// backlog is answered before the next run counts replies.
async fn quiet(slot: &Slot) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let replies = || {
        slot.read()
            .expect("tracker slot")
            .replies
            .load(Ordering::Relaxed)
    };
    let mut last = replies();
    let mut since = Instant::now();
    while Instant::now() < deadline && since.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = replies();
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
}

/// CPU of the watched processes and PostgreSQL's commits over one run.
struct Watch {
    pids: Vec<u32>,
    pg_pid: Option<u32>,
    pg_url: Option<String>,
    cpu: Vec<Option<f64>>,
    pg_cpu: Option<f64>,
    commits: Option<i64>,
    started: Instant,
}

impl Watch {
    async fn start(args: &Args) -> Self {
        let pg_url = args.pg_url.clone();
        let commits = match &pg_url {
            Some(url) => commits(url).await,
            None => None,
        };
        Self {
            cpu: args
                .watch_pids
                .iter()
                .map(|p| tree_cpu_seconds(*p))
                .collect(),
            pg_cpu: args.pg_pid.and_then(tree_cpu_seconds),
            pids: args.watch_pids.clone(),
            pg_pid: args.pg_pid,
            pg_url,
            commits,
            started: Instant::now(),
        }
    }

    async fn finish(self, mut row: Row, accepted: u64) -> Row {
        let seconds = self.started.elapsed().as_secs_f64();
        let used: BTreeMap<u32, f64> = self
            .pids
            .iter()
            .zip(&self.cpu)
            .filter_map(|(pid, before)| Some((*pid, tree_cpu_seconds(*pid)? - (*before)?)))
            .collect();
        if !used.is_empty() && accepted > 0 {
            row.cpu_us_per_request = Some(used.values().sum::<f64>() * 1e6 / accepted as f64);
        }
        if !used.is_empty() {
            row.cpu_s_by_pid = Some(used);
        }
        if let (Some(pid), Some(before)) = (self.pg_pid, self.pg_cpu)
            && let Some(after) = tree_cpu_seconds(pid)
            && accepted > 0
        {
            row.pg_cpu_us_per_request = Some((after - before) * 1e6 / accepted as f64);
        }
        if let (Some(url), Some(before)) = (&self.pg_url, self.commits)
            && let Some(after) = commits(url).await
        {
            row.pg_commits_per_s = Some((after - before) as f64 / seconds);
        }
        row
    }
}

/// Commits of every database so far (PostgreSQL's statistics, flushed by each backend within about a second).
async fn commits(url: &str) -> Option<i64> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let db = sea_orm::Database::connect(url).await.ok()?;
    let sql = "SELECT sum(xact_commit)::bigint AS c FROM pg_stat_database";
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .ok()??;
    let count = row.try_get::<i64>("", "c").ok();
    let _ = db.close().await;
    count
}

/// CPU seconds of a process and its direct children (PostgreSQL's backends are the postmaster's children).
fn tree_cpu_seconds(pid: u32) -> Option<f64> {
    let own = crate::cpu_seconds(pid)?;
    let children: f64 = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| parent(*child) == Some(pid))
        .filter_map(crate::cpu_seconds)
        .sum();
    Some(own + children)
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn targets_resolve_with_or_without_a_scheme() {
        let addrs =
            super::resolve(&["127.0.0.1:8081".into(), "http://127.0.0.1:8082/".into()]).unwrap();
        assert_eq!(addrs[0].port(), 8081);
        assert_eq!(addrs[1].port(), 8082);
        assert!(super::resolve(&["no-port".into()]).is_err());
    }
}
