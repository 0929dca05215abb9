//! The load harness: signed Zalo events over loopback against the real service binary, with an instant fake
//! model and a fake Zalo API that times each reply.
//!
//! `cargo bench --bench loadtest` runs every scenario on SQLite and on a private PostgreSQL cluster (fsync
//! on) and prints a table; `-- --json FILE` also writes the figures as JSON; `-- --smoke` runs each scenario
//! for a couple of seconds (CI, so the harness cannot rot; nothing is asserted). The README points to how it is run and what it reached.
//!
//! Scenarios (each on a fresh database and a fresh service process):
//! - `baseline`: a bare warp handler answering 200 on the webhook route, the ceiling of the HTTP stack;
//! - `intake`: as fast as possible from `--concurrency` keep-alive connections (closed loop);
//! - `ack`: `--ack-rate` events/s for `--ack-secs` (open loop): acknowledgement latency;
//! - `e2e`: `--e2e-rate` messages/s for `--e2e-secs`: webhook → reply at the fake Zalo;
//! - `users`: `--users` distinct users, one message each, at `--users-rate`/s: peak RSS and eviction, then a
//!   restart on that database: start to ready and idle RSS.
//!
//! `--targets a,b,c` drives replicas started elsewhere instead (several `tradesphere serve` on one
//! PostgreSQL): `intake`, `ack` and `e2e` round-robin across them, a 503 or a connection error retried on the
//! next target as a load balancer would; see `targets.rs` and docs/scaling.md.

mod client;
mod fakes;
mod targets;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use fakes::{Slot, Tracker};
use targets::{Pool, Replicas};

const WEBHOOK: &str = "/api/v1/zalo/webhook";
const APP_ID: &str = "4318765200193847562";
const OA_SECRET: &str = "loadtest-oa-secret-key";

#[derive(Parser, Debug, Clone)]
#[command(about = "TradeSphere load harness (see BENCHMARKS.md)")]
struct Args {
    /// A couple of seconds per scenario, small rates: checks the harness works, measures nothing.
    #[arg(long)]
    smoke: bool,
    /// Backends to run: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backend: Vec<String>,
    /// Scenarios to run: baseline, intake, ack, e2e, users.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "baseline,intake,ack,e2e,users"
    )]
    scenario: Vec<String>,
    /// Keep-alive connections of the closed-loop intake run (and of the baseline).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    #[arg(long, default_value_t = 10)]
    intake_secs: u64,
    /// Intake event kinds: text (answered), receipts (stored, no answer).
    #[arg(long, value_delimiter = ',', default_value = "text,receipts")]
    intake_kinds: Vec<String>,
    /// Distinct users the intake and ack runs' events come from.
    #[arg(long, default_value_t = 10_000)]
    intake_users: usize,
    #[arg(long, default_value_t = 2_000)]
    ack_rate: u64,
    /// Ack run event kinds: text (every event answered), mixed (Zalo's traffic for an answered chat: each
    /// text followed by its reply's delivery and read receipts, one answered event in three).
    #[arg(long, value_delimiter = ',', default_value = "text,mixed")]
    ack_kinds: Vec<String>,
    #[arg(long, default_value_t = 60)]
    ack_secs: u64,
    #[arg(long, default_value_t = 1_000)]
    e2e_rate: u64,
    #[arg(long, default_value_t = 30)]
    e2e_secs: u64,
    /// Distinct users of the e2e run.
    #[arg(long, default_value_t = 1_000)]
    e2e_users: usize,
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    #[arg(long, default_value_t = 2_000)]
    users_rate: u64,
    /// Connections of the open-loop (fixed-rate) runs.
    #[arg(long, default_value_t = 64)]
    open_loop_connections: usize,
    /// Where to write the results as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Keep the SQLite databases in this directory (default: a temporary one, removed at the end).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// The service binary (default: the one cargo built beside this harness).
    #[arg(long)]
    service_bin: Option<PathBuf>,
    /// Extra `KEY=VALUE` environment for the service (e.g. to compare a setting).
    #[arg(long = "service-env")]
    service_env: Vec<String>,
    /// Save the service's /metrics at the end of each e2e/users run into this directory (for diagnosis).
    #[arg(long)]
    metrics_dir: Option<PathBuf>,
    /// Internal: serve the bare warp baseline on this address (run as a child process).
    #[arg(long, hide = true)]
    serve_bare: Option<SocketAddr>,
    /// Replicas of the service the harness starts on each run's database (PostgreSQL only), load round robin
    /// across them as with --targets.
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    /// Replicas already running (`host:port` or `http://host:port`, comma-separated): no service or database
    /// is started; `intake`, `ack` and `e2e` go round robin across them. Start them with the environment
    /// the harness prints (its fake model and Zalo, the signing secret).
    #[arg(long, value_delimiter = ',')]
    targets: Vec<String>,
    /// Tries per request across the targets: a 503 or a connection error goes to the next target.
    #[arg(long, default_value_t = 2)]
    tries: usize,
    /// Where the fake model and the fake Zalo API listen (one address for both; port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    fakes_listen: SocketAddr,
    /// The fake model answers after this long (a model-bound run: capacity ≈ replicas × concurrency / latency).
    #[arg(long, default_value_t = 0)]
    llm_latency_ms: u64,
    /// Text of the e2e messages: chat (a question for the model) or scam (a phone number to check).
    #[arg(long, default_value = "chat")]
    e2e_text: String,
    /// With --targets: processes whose CPU time is reported per run (the replicas), children included.
    #[arg(long, value_delimiter = ',')]
    watch_pids: Vec<u32>,
    /// With --targets: PostgreSQL's postmaster, for the database's CPU per request (all its children).
    #[arg(long)]
    pg_pid: Option<u32>,
    /// With --targets: a PostgreSQL URL to read commits per second from (pg_stat_database, all databases).
    #[arg(long)]
    pg_url: Option<String>,
    /// With --targets: the `backend` column of the rows (default: "N replicas").
    #[arg(long)]
    label: Option<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if let Some(addr) = args.serve_bare {
        return serve_bare(addr);
    }
    if args.smoke {
        args.intake_secs = 2;
        args.intake_users = 500;
        args.concurrency = args.concurrency.min(16);
        args.ack_rate = 200;
        args.ack_secs = 2;
        args.e2e_rate = 100;
        args.e2e_secs = 2;
        args.e2e_users = 50;
        args.users = 1_000;
        args.users_rate = 500;
        args.open_loop_connections = 16;
    }
    let runtime = tokio::runtime::Runtime::new()?;
    if !args.targets.is_empty() {
        return runtime.block_on(targets::run(args));
    }
    runtime.block_on(run(args))
}

#[derive(Serialize, Default, Clone)]
struct Row {
    scenario: String,
    backend: String,
    /// "c64" for a closed loop, "2000/s" for a fixed rate.
    load: String,
    seconds: f64,
    requests: u64,
    throughput_per_s: f64,
    /// Throughput as a share of the bare-warp baseline at the same concurrency (intake only).
    of_baseline: Option<f64>,
    ack_p50_ms: f64,
    ack_p90_ms: f64,
    ack_p99_ms: f64,
    ack_max_ms: f64,
    /// Ack latency measured from each request's scheduled time (open loop; includes generator lag).
    ack_p99_from_schedule_ms: Option<f64>,
    non_200: u64,
    errors: u64,
    e2e_p50_ms: Option<f64>,
    e2e_p90_ms: Option<f64>,
    e2e_p99_ms: Option<f64>,
    e2e_max_ms: Option<f64>,
    answered: Option<u64>,
    unanswered: Option<u64>,
    peak_rss_mb: Option<f64>,
    /// CPU time (user + system) the service process used per accepted request.
    cpu_us_per_request: Option<f64>,
    conversation_actors_at_end: Option<f64>,
    start_to_ready_ms: Option<f64>,
    idle_rss_mb: Option<f64>,
    /// With several targets: requests that needed a second target, and 200s per target.
    retried: Option<u64>,
    accepted_by_target: Option<Vec<u64>>,
    /// With --targets: CPU seconds each watched process (and its children) used during the run.
    cpu_s_by_pid: Option<BTreeMap<u32, f64>>,
    pg_cpu_us_per_request: Option<f64>,
    pg_commits_per_s: Option<f64>,
    llm_latency_ms: Option<u64>,
    note: String,
}

#[derive(Serialize)]
struct Report {
    machine: BTreeMap<&'static str, String>,
    smoke: bool,
    rows: Vec<Row>,
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = args
        .service_bin
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tradesphere")));
    let temp = tempfile::tempdir()?;
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&work_dir)?;
    let mut rows = Vec::new();
    let wants = |s: &str| args.scenario.iter().any(|x| x == s);

    let mut baseline_throughput = None;
    if wants("baseline") {
        let row = baseline(&args).await?;
        baseline_throughput = Some(row.throughput_per_s);
        print_row(&row);
        rows.push(row);
    }
    for backend in &args.backend {
        let pg = if backend == "postgres" {
            Some(
                testkit::PgCluster::try_start("-c fsync=on -c max_connections=200")
                    .map_err(|e| anyhow::anyhow!("PostgreSQL: {e}"))?,
            )
        } else {
            None
        };
        let mut fresh_db = {
            let mut count = 0;
            let work = work_dir.clone();
            let pg = pg.as_ref();
            move || {
                count += 1;
                let name = format!("lt{count}");
                let work = work.clone();
                async move {
                    match pg {
                        Some(pg) => {
                            let url = pg.url("postgres");
                            let db = sea_orm::Database::connect(url.as_str()).await?;
                            sea_orm::ConnectionTrait::execute_unprepared(
                                &db,
                                &format!("CREATE DATABASE {name}"),
                            )
                            .await?;
                            db.close().await?;
                            anyhow::Ok(pg.url(&name))
                        }
                        None => Ok(format!(
                            "sqlite://{}?mode=rwc",
                            work.join(format!("{name}.db")).display()
                        )),
                    }
                }
            }
        };
        if wants("intake") {
            for kind in EventKind::chosen(&args.intake_kinds, [EventKind::Text, EventKind::Receipt])
            {
                let url = fresh_db().await?;
                let mut row = intake(&args, &bin, &url, kind).await?;
                row.backend = replicas_label(backend, args.replicas);
                row.of_baseline = baseline_throughput.map(|b| row.throughput_per_s / b);
                print_row(&row);
                rows.push(row);
            }
        }
        if wants("ack") {
            for kind in EventKind::chosen(&args.ack_kinds, [EventKind::Text, EventKind::Mixed]) {
                let url = fresh_db().await?;
                let mut row = ack(&args, &bin, &url, kind).await?;
                row.backend = replicas_label(backend, args.replicas);
                print_row(&row);
                rows.push(row);
            }
        }
        if wants("e2e") {
            let url = fresh_db().await?;
            let mut row = end_to_end(
                &args,
                &bin,
                &url,
                "e2e",
                args.e2e_rate,
                args.e2e_secs * args.e2e_rate,
                args.e2e_users,
            )
            .await?;
            row.backend = replicas_label(backend, args.replicas);
            print_row(&row);
            rows.push(row);
        }
        if wants("users") {
            let url = fresh_db().await?;
            let users = args.users as u64;
            let mut row = end_to_end(
                &args,
                &bin,
                &url,
                "users",
                args.users_rate,
                users,
                args.users,
            )
            .await?;
            row.backend = replicas_label(backend, args.replicas);
            // Start to ready and idle RSS on the database the run just filled.
            let (start_ms, idle_mb) = restart_on(&args, &bin, &url).await?;
            row.start_to_ready_ms = Some(start_ms);
            row.idle_rss_mb = Some(idle_mb);
            print_row(&row);
            rows.push(row);
        }
    }
    let report = Report {
        machine: machine(),
        smoke: args.smoke,
        rows,
    };
    println!();
    print_table(&report.rows);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        println!("\nJSON written to {}", path.display());
    }
    Ok(())
}

/// "postgres", or "postgres ×2" for two replicas.
fn replicas_label(backend: &str, replicas: usize) -> String {
    match replicas {
        0 | 1 => backend.to_string(),
        n => format!("{backend} ×{n}"),
    }
}

// ===== Scenarios =====

async fn baseline(args: &Args) -> anyhow::Result<Row> {
    let addr = free_addr();
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--serve-bare")
        .arg(addr.to_string())
        .stdin(Stdio::null())
        .spawn()?;
    let pid = child.id();
    wait_listening(addr).await?;
    let source = Arc::new(EventSource::new(args.intake_users, None, EventKind::Text));
    let result = closed_loop(&[addr], 1, source, args.concurrency, args.intake_secs).await;
    let peak = rss_mb(pid, "VmHWM");
    let _ = child.kill();
    let _ = child.wait();
    let mut row = result.row("baseline", format!("c{}", args.concurrency));
    row.backend = "bare warp".into();
    row.peak_rss_mb = peak;
    Ok(row)
}

/// Intake at full speed. `Text` events are answered (the whole pipeline runs behind the webhook and shares
/// the two cores); `Receipt` events (`user_seen_message`, which Zalo sends for every message read) are stored
/// and acknowledged with no answer: the ceiling of the webhook path itself.
async fn intake(args: &Args, bin: &Path, url: &str, kind: EventKind) -> anyhow::Result<Row> {
    let (tracker, fakes) = start_fakes(args, 0, 0).await;
    let service = Replicas::start(args, bin, url, &fakes).await?;
    let source = Arc::new(EventSource::new(args.intake_users, Some(tracker), kind));
    let cpu_before = service.cpu_seconds();
    let result = closed_loop(
        &service.addrs(),
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
    let mut row = result.row(name, format!("c{}", args.concurrency));
    row.cpu_us_per_request = service.cpu_per_request(cpu_before, result.ok);
    row.peak_rss_mb = service.peak_rss_mb();
    row.start_to_ready_ms = Some(service.first().start_to_ready.as_secs_f64() * 1e3);
    service.stop();
    Ok(row)
}

async fn ack(args: &Args, bin: &Path, url: &str, kind: EventKind) -> anyhow::Result<Row> {
    let total = args.ack_rate * args.ack_secs;
    let (tracker, fakes) = start_fakes(args, total as usize, args.intake_users).await;
    let service = Replicas::start(args, bin, url, &fakes).await?;
    let source = Arc::new(EventSource::new(args.intake_users, Some(tracker), kind));
    let cpu_before = service.cpu_seconds();
    let result = fixed_rate(
        &service.addrs(),
        args.tries,
        source,
        args.ack_rate,
        total,
        args.open_loop_connections,
    )
    .await;
    let name = match kind {
        EventKind::Mixed => "ack (mixed)",
        _ => "ack",
    };
    let mut row = result.row(name, format!("{}/s", args.ack_rate));
    row.cpu_us_per_request = service.cpu_per_request(cpu_before, result.ok);
    row.peak_rss_mb = service.peak_rss_mb();
    service.stop();
    Ok(row)
}

/// A fixed-rate run whose replies are timed at the fake Zalo (`e2e`, and `users` with one message per user).
async fn end_to_end(
    args: &Args,
    bin: &Path,
    url: &str,
    name: &str,
    rate: u64,
    total: u64,
    users: usize,
) -> anyhow::Result<Row> {
    let (tracker, fakes) = start_fakes(args, total as usize, users).await;
    let service = Replicas::start(args, bin, url, &fakes).await?;
    let source =
        Arc::new(EventSource::new(users, Some(tracker.clone()), EventKind::Text).with_text(args)?);
    let cpu_before = service.cpu_seconds();
    let result = fixed_rate(
        &service.addrs(),
        args.tries,
        source,
        rate,
        total,
        args.open_loop_connections,
    )
    .await;
    wait_answered(&tracker, result.ok).await;
    let mut row = result.row(name, format!("{rate}/s"));
    row.cpu_us_per_request = service.cpu_per_request(cpu_before, result.ok);
    replies_into(&mut row, &tracker, result.ok);
    row.peak_rss_mb = service.peak_rss_mb();
    row.conversation_actors_at_end =
        metric(service.first().addr, "tradesphere_conversation_actors").await;
    if let Some(dir) = &args.metrics_dir
        && let Some((_, body)) = http_get(service.first().addr, "/metrics").await
    {
        std::fs::create_dir_all(dir)?;
        let scheme = url.split(':').next().unwrap_or("db");
        std::fs::write(dir.join(format!("{name}-{scheme}.prom")), body)?;
    }
    service.stop();
    Ok(row)
}

/// Replies still on their way: waits until every accepted message is answered, or gives up after 60 s.
async fn wait_answered(tracker: &Tracker, accepted: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tracker.answered_count.load(Ordering::Relaxed) < accepted && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// End-to-end latency and answer counts of a run into its row.
fn replies_into(row: &mut Row, tracker: &Tracker, accepted: u64) {
    let e2e = tracker.latency.lock().expect("latency lock").clone();
    let answered = tracker.answered_count.load(Ordering::Relaxed);
    row.e2e_p50_ms = Some(ms(e2e.value_at_quantile(0.5)));
    row.e2e_p90_ms = Some(ms(e2e.value_at_quantile(0.9)));
    row.e2e_p99_ms = Some(ms(e2e.value_at_quantile(0.99)));
    row.e2e_max_ms = Some(ms(e2e.max()));
    row.answered = Some(answered);
    row.unanswered = Some(accepted.saturating_sub(answered));
    let unmatched = tracker.unmatched.load(Ordering::Relaxed);
    if unmatched > 0 {
        row.note = format!("{unmatched} replies without a marker");
    }
}

/// Starts the service again on an existing database: time to ready, and resident memory once idle.
async fn restart_on(args: &Args, bin: &Path, url: &str) -> anyhow::Result<(f64, f64)> {
    let (_tracker, fakes) = start_fakes(args, 0, 0).await;
    let service = Service::start(args, bin, url, &fakes, None).await?;
    let start_ms = service.start_to_ready.as_secs_f64() * 1e3;
    tokio::time::sleep(Duration::from_secs(if args.smoke { 1 } else { 5 })).await;
    let idle = rss_mb(service.pid, "VmRSS").unwrap_or(f64::NAN);
    service.stop();
    Ok((start_ms, idle))
}

// ===== Load =====

#[derive(Clone, Copy)]
enum EventKind {
    Text,
    Receipt,
    /// A text, then the delivery and read receipts of its reply: events 3k, 3k+1, 3k+2 all concern text k.
    Mixed,
}

impl EventKind {
    /// The kinds of `offered` that the command line asked for (by label), in `offered`'s order.
    fn chosen(asked: &[String], offered: [EventKind; 2]) -> impl Iterator<Item = EventKind> + '_ {
        offered
            .into_iter()
            .filter(|kind| asked.iter().any(|k| k == kind.label()))
    }

    fn label(self) -> &'static str {
        match self {
            EventKind::Text => "text",
            EventKind::Receipt => "receipts",
            EventKind::Mixed => "mixed",
        }
    }
}

#[derive(Clone, Copy)]
enum Body {
    Text,
    Received,
    Seen,
}

/// Builds signed `user_send_text` events (message n comes from user n mod `users` and carries marker n),
/// `user_seen_message` receipts, or the two interleaved as Zalo sends them for an answered chat.
struct EventSource {
    users: usize,
    run: u64,
    tracker: Option<Arc<Tracker>>,
    kind: EventKind,
    /// The text asks to check a phone number (answered from the scam index) instead of a chat question.
    scam: bool,
}

impl EventSource {
    fn new(users: usize, tracker: Option<Arc<Tracker>>, kind: EventKind) -> Self {
        Self {
            users: users.max(1),
            run: rand::random::<u32>() as u64,
            tracker,
            kind,
            scam: false,
        }
    }

    /// The text `--e2e-text` asks for.
    fn with_text(mut self, args: &Args) -> anyhow::Result<Self> {
        self.scam = match args.e2e_text.as_str() {
            "chat" => false,
            "scam" => true,
            other => anyhow::bail!("--e2e-text {other}: chat or scam"),
        };
        Ok(self)
    }

    /// A message id shaped like Zalo's (19 hex digits, e.g. `96d3cdf3af150460909`) and as scattered:
    /// sequential ids would make every inbox insert land at the end of the unique key index, which real
    /// traffic does not do. Unique per run, event number and `salt`: the mix is a bijection of the 64-bit
    /// input.
    fn msg_id(&self, n: usize, salt: u64) -> String {
        let input = (self.run << 33) ^ (salt << 32) ^ n as u64;
        format!("{:016x}{:03x}", splitmix64(input), n & 0xfff)
    }

    fn build(&self, n: usize) -> (Vec<u8>, String) {
        let timestamp = chrono::Utc::now().timestamp_millis().to_string();
        let (body, n) = match self.kind {
            EventKind::Text => (Body::Text, n),
            EventKind::Receipt => (Body::Seen, n),
            EventKind::Mixed => ([Body::Text, Body::Received, Body::Seen][n % 3], n / 3),
        };
        let user = fakes::USER_BASE + (n % self.users) as u64;
        let question = if self.scam {
            "Số 0912 345 678 gọi bảo mình chuyển tiền, có phải lừa đảo không? Mã"
        } else {
            "Chào bạn, cho mình hỏi về"
        };
        let body = match body {
            Body::Text => format!(
                r#"{{"app_id":"{APP_ID}","user_id_by_app":"{user}","event_name":"user_send_text","sender":{{"id":"{user}"}},"recipient":{{"id":"579745863508352884"}},"message":{{"msg_id":"{msg_id}","text":"{question} {marker} với ạ?"}},"timestamp":"{timestamp}"}}"#,
                msg_id = self.msg_id(n, 0),
                marker = fakes::marker(n),
            ),
            Body::Seen => format!(
                r#"{{"app_id":"{APP_ID}","event_name":"user_seen_message","sender":{{"id":"579745863508352884"}},"recipient":{{"id":"{user}"}},"message":{{"msg_ids":["{msg_id}"]}},"timestamp":"{timestamp}"}}"#,
                msg_id = self.msg_id(n, 0),
            ),
            Body::Received => format!(
                r#"{{"app_id":"{APP_ID}","event_name":"user_received_message","sender":{{"id":"579745863508352884"}},"recipient":{{"id":"{user}"}},"message":{{"msg_id":"{msg_id}"}},"timestamp":"{timestamp}"}}"#,
                msg_id = self.msg_id(n, 1),
            ),
        };
        let signature = testkit::zalo::signature(APP_ID, body.as_bytes(), &timestamp, OA_SECRET);
        (body.into_bytes(), signature)
    }
}

struct LoadResult {
    ok: u64,
    non_200: u64,
    errors: u64,
    retried: u64,
    by_target: Vec<u64>,
    elapsed: Duration,
    latency: Histogram<u64>,
    from_schedule: Option<Histogram<u64>>,
}

impl LoadResult {
    fn row(&self, scenario: &str, load: String) -> Row {
        let requests = self.ok + self.non_200 + self.errors;
        Row {
            scenario: scenario.into(),
            load,
            seconds: self.elapsed.as_secs_f64(),
            requests,
            throughput_per_s: self.ok as f64 / self.elapsed.as_secs_f64(),
            ack_p50_ms: ms(self.latency.value_at_quantile(0.5)),
            ack_p90_ms: ms(self.latency.value_at_quantile(0.9)),
            ack_p99_ms: ms(self.latency.value_at_quantile(0.99)),
            ack_max_ms: ms(self.latency.max()),
            ack_p99_from_schedule_ms: self
                .from_schedule
                .as_ref()
                .map(|h| ms(h.value_at_quantile(0.99))),
            non_200: self.non_200,
            errors: self.errors,
            retried: (self.by_target.len() > 1).then_some(self.retried),
            accepted_by_target: (self.by_target.len() > 1).then(|| self.by_target.clone()),
            ..Row::default()
        }
    }
}

struct Counts {
    ok: AtomicU64,
    non_200: AtomicU64,
    errors: AtomicU64,
    retried: AtomicU64,
    by_target: Vec<AtomicU64>,
}

impl Counts {
    fn new(targets: usize) -> Self {
        Self {
            ok: AtomicU64::new(0),
            non_200: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            by_target: (0..targets).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn count(&self, sent: &targets::Sent) {
        let slot = match sent.result {
            Ok(200) => {
                self.by_target[sent.target].fetch_add(1, Ordering::Relaxed);
                &self.ok
            }
            Ok(_) => &self.non_200,
            Err(_) => &self.errors,
        };
        slot.fetch_add(1, Ordering::Relaxed);
        if sent.tries > 1 {
            self.retried.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn result(
        &self,
        elapsed: Duration,
        latency: Histogram<u64>,
        from_schedule: Option<Histogram<u64>>,
    ) -> LoadResult {
        LoadResult {
            ok: self.ok.load(Ordering::Relaxed),
            non_200: self.non_200.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            by_target: self
                .by_target
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            elapsed,
            latency,
            from_schedule,
        }
    }
}

/// As fast as possible: `concurrency` workers, each sending its next event when the last is answered (event n
/// to target n mod the number of targets, keep-alive connections to each). The first second (a tenth of the
/// run in smoke mode) warms up and is not counted.
async fn closed_loop(
    targets: &[SocketAddr],
    tries: usize,
    source: Arc<EventSource>,
    concurrency: usize,
    secs: u64,
) -> LoadResult {
    let warmup = Duration::from_millis((secs * 100).min(1_000));
    let started = Instant::now();
    let measure_from = started + warmup;
    let end = measure_from + Duration::from_secs(secs);
    let next = Arc::new(AtomicUsize::new(0));
    let counts = Arc::new(Counts::new(targets.len()));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (source, next, counts) = (source.clone(), next.clone(), counts.clone());
        let mut pool = Pool::new(targets, tries);
        workers.push(tokio::spawn(async move {
            let mut latency = histogram();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let (body, signature) = source.build(n);
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let result = pool
                    .post(n, WEBHOOK, ("x-zevent-signature", &signature), &body)
                    .await;
                if sent >= measure_from {
                    latency.saturating_record(sent.elapsed().as_micros() as u64);
                    counts.count(&result);
                }
                if result.result.is_err() {
                    // Do not spin on a dead server.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            latency
        }));
    }
    let mut latency = histogram();
    for worker in workers {
        latency
            .add(worker.await.expect("worker"))
            .expect("same bounds");
    }
    counts.result(Duration::from_secs(secs), latency, None)
}

/// Open loop: event k is due at k / rate seconds, whatever happened to the others; `connections` workers share
/// them round-robin (event k to target k mod the number of targets). Latency is measured from the send, and
/// also from the due time (which adds any lag of the generator or a connection still busy: no coordinated
/// omission hides there).
async fn fixed_rate(
    targets: &[SocketAddr],
    tries: usize,
    source: Arc<EventSource>,
    rate: u64,
    total: u64,
    connections: usize,
) -> LoadResult {
    let started = tokio::time::Instant::now() + Duration::from_millis(50);
    let counts = Arc::new(Counts::new(targets.len()));
    let mut workers = Vec::new();
    for worker in 0..connections {
        let (source, counts) = (source.clone(), counts.clone());
        let mut pool = Pool::new(targets, tries);
        workers.push(tokio::spawn(async move {
            let mut latency = histogram();
            let mut from_schedule = histogram();
            let mut k = worker as u64;
            while k < total {
                let due = started + Duration::from_nanos(k * 1_000_000_000 / rate);
                tokio::time::sleep_until(due).await;
                let (body, signature) = source.build(k as usize);
                let sent = Instant::now();
                if let Some(tracker) = &source.tracker {
                    tracker.sent(k as usize, sent);
                }
                let result = pool
                    .post(
                        k as usize,
                        WEBHOOK,
                        ("x-zevent-signature", &signature),
                        &body,
                    )
                    .await;
                latency.saturating_record(sent.elapsed().as_micros() as u64);
                from_schedule.saturating_record(due.elapsed().as_micros() as u64);
                counts.count(&result);
                k += connections as u64;
            }
            (latency, from_schedule)
        }));
    }
    let mut latency = histogram();
    let mut from_schedule = histogram();
    for worker in workers {
        let (l, s) = worker.await.expect("worker");
        latency.add(l).expect("same bounds");
        from_schedule.add(s).expect("same bounds");
    }
    counts.result(started.elapsed(), latency, Some(from_schedule))
}

// ===== The service process =====

struct Fakes {
    llm_url: String,
    zalo_url: String,
}

async fn start_fakes(args: &Args, messages: usize, users: usize) -> (Arc<Tracker>, Fakes) {
    let tracker = Arc::new(Tracker::new(messages, users));
    let slot: Slot = Arc::new(std::sync::RwLock::new(tracker.clone()));
    let (llm_url, zalo_url) = fakes::start(
        slot,
        "127.0.0.1:0".parse().expect("an address"),
        Duration::from_millis(args.llm_latency_ms),
    )
    .await;
    (tracker, Fakes { llm_url, zalo_url })
}

/// The service's environment for a run against the fakes (also printed for replicas started by hand).
fn service_env(fakes: &Fakes) -> Vec<(&'static str, String)> {
    let fixed = [
        ("RUST_LOG", "warn"),
        ("ZALO_APP_ID", APP_ID),
        ("ZALO_OA_SECRET_KEY", OA_SECRET),
        ("ZALO_ACCESS_TOKEN", "loadtest-access-token"),
        ("TRADESPHERE_OUTBOUND", "zalo"),
        ("OPENAI_API_KEY", "loadtest-model-key"),
        // Answer each message on its own, at once (the default waits 1.5 s to merge a burst).
        ("TRADESPHERE__LLM__DEBOUNCE_MS", "0"),
        // The real Zalo allows 4,000 sends a minute; the fake has no limit, and the run measures the
        // pipeline, not the throttle. Per-user and budget limits likewise stay out of the way.
        ("TRADESPHERE__OUTBOUND__RATE_PER_MINUTE", "100000000"),
        (
            "TRADESPHERE__CONVERSATION__MAX_MESSAGES_PER_WINDOW",
            "1000000",
        ),
        ("TRADESPHERE__LLM__USER_REQUESTS_PER_MINUTE", "1000000"),
        ("TRADESPHERE__LLM__USER_TOKENS_PER_DAY", "1000000000000"),
        ("TRADESPHERE__LLM__GLOBAL_TOKENS_PER_DAY", "1000000000000"),
    ];
    let mut env: Vec<_> = fixed.into_iter().map(|(k, v)| (k, v.to_string())).collect();
    env.push(("ZALO_API_URL", fakes.zalo_url.clone()));
    env.push(("ZALO_OAUTH_URL", fakes.zalo_url.clone()));
    env.push(("OPENAI_BASE_URL", fakes.llm_url.clone()));
    env
}

struct Service {
    child: Child,
    pid: u32,
    addr: SocketAddr,
    start_to_ready: Duration,
}

impl Service {
    /// Starts the release binary as in production, pointed at the fakes, and waits for `/readyz`.
    async fn start(
        args: &Args,
        bin: &Path,
        url: &str,
        fakes: &Fakes,
        member: Option<&str>,
    ) -> anyhow::Result<Service> {
        let addr = free_addr();
        let mut command = Command::new(bin);
        command
            .arg("serve")
            .envs(service_env(fakes))
            .env("DATABASE_URL", url)
            .env("TRADESPHERE_LISTEN", addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(member) = member {
            command.env("TRADESPHERE__CLUSTER__MEMBER_NAME", member);
        }
        for pair in &args.service_env {
            if let Some((k, v)) = pair.split_once('=') {
                command.env(k, v);
            }
        }
        let started = Instant::now();
        let child = command.spawn()?;
        let pid = child.id();
        let deadline = started + Duration::from_secs(30);
        loop {
            if let Some((200, _)) = http_get(addr, "/readyz").await {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the service was not ready in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(Service {
            child,
            pid,
            addr,
            start_to_ready: started.elapsed(),
        })
    }

    /// SIGTERM (a graceful drain), then SIGKILL if it is still there after 40 s.
    fn stop(self) {
        self.terminate();
        self.reap();
    }

    fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
    }

    fn reap(mut self) {
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bare HTTP stack: warp answering 200 on the webhook route, reading the body and nothing else.
fn serve_bare(addr: SocketAddr) -> anyhow::Result<()> {
    use warp::Filter;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let route = warp::post()
            .and(warp::path!("api" / "v1" / "zalo" / "webhook"))
            .and(warp::body::bytes())
            .map(|_body: bytes::Bytes| warp::reply::json(&serde_json::json!({"status": "ok"})));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        warp::serve(route).incoming(listener).run().await;
        anyhow::Ok(())
    })
}

// ===== Small helpers =====

pub fn histogram() -> Histogram<u64> {
    // Microseconds, 1 µs to 10 min, 3 significant figures.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds")
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1_000.0
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

async fn wait_listening(addr: SocketAddr) -> anyhow::Result<()> {
    for _ in 0..1_000 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    anyhow::bail!("nothing listens on {addr}")
}

/// A one-shot GET; None when the connection fails.
async fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.get(9..12)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

async fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    let (_, body) = http_get(addr, "/metrics").await?;
    body.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// User + system CPU seconds of a process so far (all its threads), from /proc/PID/stat.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let ticks = 100.0; // USER_HZ on Linux
    Some((utime + stime) / ticks)
}

/// A field of /proc/PID/status in MB (VmRSS: now; VmHWM: the peak so far).
fn rss_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1_000.0)
}

fn machine() -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    if let Some(model) = cpuinfo.lines().find(|l| l.starts_with("model name")) {
        m.insert(
            "cpu",
            model.split(':').nth(1).unwrap_or("").trim().to_string(),
        );
    }
    m.insert(
        "cores",
        std::thread::available_parallelism()
            .map(|n| n.to_string())
            .unwrap_or_default(),
    );
    if let Ok(kernel) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        m.insert("kernel", kernel.trim().to_string());
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    if let Some(total) = meminfo.lines().next() {
        m.insert(
            "memory",
            total.trim_start_matches("MemTotal:").trim().to_string(),
        );
    }
    if let Ok(out) = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
    {
        m.insert(
            "commit",
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        );
    }
    m
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into())
}

fn print_row(row: &Row) {
    eprintln!(
        "[{} {} {}] {:.0}/s ack p50 {:.2} p99 {:.2} ms, e2e p50 {} p99 {} ms, rss {} MB, cpu {} µs/req, non-200 {}, errors {} {}",
        row.scenario,
        row.backend,
        row.load,
        row.throughput_per_s,
        row.ack_p50_ms,
        row.ack_p99_ms,
        fmt_opt(row.e2e_p50_ms),
        fmt_opt(row.e2e_p99_ms),
        fmt_opt(row.peak_rss_mb),
        row.cpu_us_per_request
            .map(|v| format!("{v:.0}"))
            .unwrap_or_else(|| "-".into()),
        row.non_200,
        row.errors,
        row.note
    );
}

fn print_table(rows: &[Row]) {
    println!(
        "| scenario | backend | load | req/s | of baseline | ack p50 / p90 / p99 / max ms | e2e p50 / p99 / max ms | answered | non-200 / errors | peak RSS MB | start ms | idle RSS MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let e2e = match (r.e2e_p50_ms, r.e2e_p99_ms, r.e2e_max_ms) {
            (Some(a), Some(b), Some(c)) => format!("{a:.2} / {b:.2} / {c:.1}"),
            _ => "-".into(),
        };
        let answered = match (r.answered, r.unanswered) {
            (Some(a), Some(u)) => format!("{a} ({u} missing)"),
            _ => "-".into(),
        };
        println!(
            "| {} | {} | {} | {:.0} | {} | {:.2} / {:.2} / {:.2} / {:.1} | {} | {} | {} / {} | {} | {} | {} |",
            r.scenario,
            r.backend,
            r.load,
            r.throughput_per_s,
            r.of_baseline
                .map(|x| format!("{:.0} %", x * 100.0))
                .unwrap_or_else(|| "-".into()),
            r.ack_p50_ms,
            r.ack_p90_ms,
            r.ack_p99_ms,
            r.ack_max_ms,
            e2e,
            answered,
            r.non_200,
            r.errors,
            fmt_opt(r.peak_rss_mb),
            fmt_opt(r.start_to_ready_ms),
            fmt_opt(r.idle_rss_mb),
        );
    }
}

/// SplitMix64's finaliser: a bijection of u64 that scatters consecutive inputs.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
