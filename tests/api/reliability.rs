//! Reliability under faults, in process: random actor panics during a load run, dependencies failing in every
//! way Zalo and the model can fail, and the webhook's gate during a graceful shutdown. (The real binary under
//! kill -9, SIGTERM, a PostgreSQL restart and a soak is in the `system` tests.) Each test is bounded in count
//! and time; sizes can be raised through environment variables (see docs/reliability.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::ledger::{Ledger, assert_exactly_once, quiet_ledger};
use testkit::zalo::{record_sends, tagged_text};
use testkit::{both_backends, knob, metrics, openai, zalo};
use tradesphere::faults::{FaultPoint, Faults};
use wiremock::{Request, ResponseTemplate};

use crate::helpers::*;

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

both_backends!(
    random_actor_panics_lose_nothing_and_double_nothing,
    shutdown_refuses_intake_with_503_while_it_drains,
    failing_dependencies_end_in_the_right_state,
);
