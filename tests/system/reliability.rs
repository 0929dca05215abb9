//! The real binary under faults: a PostgreSQL restart mid-run, `kill -9` under load, SIGTERM under load, in a
//! backlog and in a debounce window, a child that keeps failing, and a soak run. Each test is bounded in count
//! and time and uses loopback only; sizes can be raised through environment variables (see
//! docs/reliability.md).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use testkit::ledger::{Ledger, assert_exactly_once, quiet_ledger};
use testkit::zalo::{event_key, text_event, user_id};
use testkit::{Backend, PgCluster, both_backends, knob, metrics, wait_until};

use crate::service::{Fakes, Load, Scenario, drive, keys};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// PostgreSQL restarted mid-run: while it is down the webhook answers 503 (so Zalo retries) and `/readyz`
/// is 503; when it is back, the service recovers by itself and every event, accepted before or retried
/// after, is answered exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_run_loses_nothing() {
    let Some(cluster) = PgCluster::start_if_available() else {
        return;
    };
    let mut run = Scenario::on(
        cluster.create_database().await,
        Fakes {
            zalo: ms(5),
            model: Duration::ZERO,
        },
        &[("TRADESPHERE__DATABASE__ACQUIRE_TIMEOUT_SECS", "1")],
    )
    .await;
    run.service.start().await;
    let user = user_id();
    let mut accepted = Vec::new();
    let post = || {
        let event = text_event(&user, "/help");
        let key = event_key(&event);
        (event, key)
    };
    for _ in 0..5 {
        let (event, key) = post();
        assert_eq!(run.service.post_event(&event).await.status(), 200);
        accepted.push((key, user.clone()));
    }
    cluster.stop();
    let mut refused = Vec::new();
    for _ in 5..10 {
        let (event, key) = post();
        let status = run.service.post_event(&event).await.status();
        assert_eq!(status, 503, "database down: Zalo must retry");
        refused.push((event, key));
    }
    assert_eq!(run.service.get("/readyz").await.status(), 503);
    cluster.start();
    wait_until("the service is ready again", || async {
        (run.service.get("/readyz").await.status() == 200).then_some(())
    })
    .await;
    // Zalo's retries of the refused deliveries.
    for (event, key) in refused {
        assert_eq!(run.service.post_event(&event).await.status(), 200);
        accepted.push((key, user.clone()));
    }
    let ledger = quiet_ledger(&run.database_url, Duration::from_secs(60)).await;
    let sends = run.sends();
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
    assert!(
        run.service.is_running(),
        "the actor system survived the outage"
    );
    run.service.terminate().await;
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
    // Real round trips, so that kills land while sends and model calls are in flight.
    let fakes = Fakes {
        zalo: ms(40),
        model: ms(60),
    };
    let mut run = Scenario::new(&backend, fakes, &[]).await;
    run.service.start().await;
    let duration = (load.users * load.per_user) as f64 / load.rate;
    let address = run.service.address.clone();
    let killer = async {
        let start = Instant::now();
        for k in 1..=kills {
            let at = Duration::from_secs_f64(duration * k as f64 / (kills + 1) as f64);
            tokio::time::sleep_until((start + at).into()).await;
            run.service.kill9().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            run.service.start().await;
        }
    };
    let (accepted, ()) = tokio::join!(drive(&address, load, "k"), killer);
    let ledger = quiet_ledger(&run.database_url, Duration::from_secs(120)).await;
    let sends = run.sends();
    let ambiguous = assert_exactly_once(&ledger, &keys(&accepted), &sends);
    assert_eq!(run.service.starts as u64, kills + 1);
    eprintln!(
        "kill -9 ({}): {} events accepted from {} users over {duration:.0} s, {kills} kills, \
         parts {:?}, {ambiguous} ambiguous, {} Zalo requests",
        backend.label(),
        accepted.len(),
        load.users,
        ledger.states(),
        sends.len()
    );
    run.service.terminate().await;
}

/// SIGTERM under load: intake stops (503, so Zalo retries), the actors drain, the process exits 0, and
/// nothing accepted is left unanswered; a restarted service takes the retried deliveries.
async fn sigterm_under_load_drains_and_exits_zero(backend: Backend) {
    let load = Load {
        users: 20,
        per_user: 10,
        rate: 40.0,
    };
    let fakes = Fakes {
        zalo: ms(40),
        model: ms(200),
    };
    let mut run = Scenario::new(&backend, fakes, &[]).await;
    run.service.start().await;
    let address = run.service.address.clone();
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let status = run.service.terminate().await;
        assert!(status.success(), "SIGTERM exits 0: {status}");
        // What the stopped process accepted is all answered, before any restart.
        let ledger = Ledger::read(&run.database_url).await;
        assert_eq!(
            ledger.pending(),
            0,
            "left behind at exit: {:?}",
            ledger.states()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        run.service.start().await;
    };
    let (accepted, ()) = tokio::join!(drive(&address, load, "t"), stopper);
    let ledger = quiet_ledger(&run.database_url, Duration::from_secs(60)).await;
    let sends = run.sends();
    let ambiguous = assert_exactly_once(&ledger, &keys(&accepted), &sends);
    assert_eq!(ambiguous, 0, "a graceful stop cuts no send off");
    let log = run.service.log_text();
    assert!(log.contains("\"stopped\""), "the stop is logged");
    run.service.terminate().await;
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
    let mut run = Scenario::new(
        &backend,
        Fakes::INSTANT,
        &[
            ("TRADESPHERE__INTAKE__MAX_IN_FLIGHT", "2"),
            // 75 messages per user in a few seconds: the per-user limits would (rightly) refuse most.
            ("TRADESPHERE__CONVERSATION__MAX_MESSAGES_PER_WINDOW", "1000"),
            ("TRADESPHERE__LLM__USER_REQUESTS_PER_MINUTE", "1000"),
        ],
    )
    .await;
    let mut accepted = Vec::new();
    for flood in ["x", "y", "z"] {
        run.service.start().await;
        accepted.extend(drive(&run.service.address, load, flood).await);
        let status = run.service.terminate().await;
        assert!(status.success(), "SIGTERM exits 0: {status}");
    }
    let log = run.service.log_text();
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
    run.service.start().await;
    let ledger = quiet_ledger(&run.database_url, Duration::from_secs(60)).await;
    assert_eq!(
        assert_exactly_once(&ledger, &keys(&accepted), &run.sends()),
        0
    );
    run.service.terminate().await;
}

/// SIGTERM while messages wait in a debounce window: they are answered before the process exits.
async fn sigterm_answers_messages_waiting_for_their_debounce(backend: Backend) {
    let mut run = Scenario::new(
        &backend,
        Fakes::INSTANT,
        &[("TRADESPHERE__LLM__DEBOUNCE_MS", "5000")],
    )
    .await;
    run.service.start().await;
    let load = Load {
        users: 3,
        per_user: 2,
        rate: 100.0,
    };
    let accepted = drive(&run.service.address.clone(), load, "d").await;
    let status = run.service.terminate().await;
    assert!(status.success(), "{status}");
    let ledger = Ledger::read(&run.database_url).await;
    assert_eq!(
        ledger.pending(),
        0,
        "answered before the exit: {:?}",
        ledger.states()
    );
    // Every message was answered (a burst's reply carries the others, outcome llm_merged), and each
    // reply reached Zalo exactly once.
    assert_eq!(
        assert_exactly_once(&ledger, &keys(&accepted), &run.sends()),
        0
    );
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
/// latency) for `SOAK_SECS` (20 s in CI; `scripts/reliability.sh soak` runs 10 minutes). Prints RSS, open files,
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
    // Zalo answers in ~100 ms, the model in ~800 ms.
    let fakes = Fakes {
        zalo: ms(100),
        model: ms(800),
    };
    let mut run = Scenario::new(
        &Backend::Sqlite,
        fakes,
        &[("TRADESPHERE__CONVERSATION__IDLE_TIMEOUT_SECS", "30")],
    )
    .await;
    run.service.start().await;
    let pid = run.service.pid();
    let address = run.service.address.clone();
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
    let ledger = quiet_ledger(&run.database_url, Duration::from_secs(120)).await;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let rows = sampler.await.unwrap();
    let sends = run.sends();
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
    run.service.terminate().await;
}

/// A child that keeps failing (the scam actor panics on every message) exhausts the restart budget: the
/// process stops with a non-zero exit instead of running half-alive, and the event it could not handle is
/// still in the inbox, answered by the next start.
async fn a_child_that_keeps_failing_stops_the_process_non_zero(backend: Backend) {
    let mut run = Scenario::new(
        &backend,
        Fakes::INSTANT,
        &[
            ("TRADESPHERE_CHAOS", "scam:1"),
            ("TRADESPHERE__SUPERVISOR__MAX_RESTARTS", "3"),
            ("TRADESPHERE__SUPERVISOR__BACKOFF_BASE_MS", "10"),
        ],
    )
    .await;
    run.service.start().await;
    let user = user_id();
    let event = text_event(&user, "[f1] số 0912 345 678 có lừa đảo không?");
    assert_eq!(run.service.post_event(&event).await.status(), 200);
    let status = run.service.exited_within(Duration::from_secs(60)).await;
    assert!(!status.success(), "gave up: exit {status}");
    assert!(
        run.service
            .log_text()
            .contains("exhausting its restart budget"),
        "the reason is logged"
    );
    let key = event_key(&event);
    let ledger = Ledger::read(&run.database_url).await;
    assert!(
        !ledger.inbox[&key].1,
        "the failed event stays pending, not lost"
    );

    // Fixed (no more faults): the next start answers it.
    run.service.set_env("TRADESPHERE_CHAOS", None);
    run.service.start().await;
    let ledger = quiet_ledger(&run.database_url, Duration::from_secs(60)).await;
    assert_eq!(
        assert_exactly_once(&ledger, &[(key, user)], &run.sends()),
        0
    );
    run.service.terminate().await;
}

both_backends!(
    a_child_that_keeps_failing_stops_the_process_non_zero,
    sigterm_answers_messages_waiting_for_their_debounce,
    kill_9_under_load_loses_nothing_and_doubles_nothing,
    sigterm_under_load_drains_and_exits_zero,
    a_stop_during_an_inbox_backlog_is_not_a_crash,
);
