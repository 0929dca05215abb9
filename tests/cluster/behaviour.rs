//! What a user sees must not depend on which replica took the webhook: the steady state (with deliveries
//! duplicated to another replica, with and without the NOTIFY hint), a debounce burst spread over three
//! replicas, a poison event across a takeover, and one token refresh for the whole cluster.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use testkit::zalo::{self, FakeOAuth, text_event};
use testkit::{knob, wait_until};
use tradesphere::store::NewTokenPair;

use crate::harness::{Cluster, partition_of};
use crate::load::{
    Balancer, Delivered, Driven, Load, deliver_one, drive, marker, parse_marker, text,
};
use crate::service::{Fakes, store_at};
use crate::verdict::{Breach, Expect, judge};
use crate::{ms, serial, users};

const FAKES: Fakes = Fakes {
    zalo: ms(20),
    model: ms(150),
};

async fn steady(notify: bool, load: Load, scenario: &str) {
    let _serial = serial().await;
    let notify = notify.to_string();
    let extra = [("TRADESPHERE__CLUSTER__NOTIFY", notify.as_str())];
    let Some(mut cluster) = Cluster::new(3, |_| FAKES, &extra).await else {
        return;
    };
    cluster.start_all().await;
    cluster.settled().await;
    let balancer = Balancer::new(cluster.addresses());
    let driven = drive(&balancer, &users(load.users), 0, load).await;
    let verdict = judge(&mut cluster, &driven, &Expect::default()).await;
    verdict.assert_clean(&cluster, scenario);
}

/// Three replicas under steady signed load, one delivery in twenty also posted to another replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_state_with_duplicates_to_another_replica() {
    let load = Load {
        users: knob("CLUSTER_USERS", 40) as usize,
        per_user: knob("CLUSTER_MESSAGES", 6),
        rate: knob("CLUSTER_RATE", 20) as f64,
        duplicate_one_in: 20,
    };
    steady(true, load, "steady_state").await;
}

/// The same without the NOTIFY hint: events taken by a replica that does not own them reach their owner
/// through its poll alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_state_without_notify() {
    let load = Load {
        users: 20,
        per_user: 4,
        rate: 20.0,
        duplicate_one_in: 20,
    };
    steady(false, load, "steady_state_without_notify").await;
}

/// With debounce on, a burst of five messages posted round-robin to three replicas is answered by one
/// model call and one reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debounce_burst_across_replicas_is_one_model_call() {
    let _serial = serial().await;
    let extra = [("TRADESPHERE__LLM__DEBOUNCE_MS", "1500")];
    let Some(mut cluster) = Cluster::new(3, |_| FAKES, &extra).await else {
        return;
    };
    cluster.start_all().await;
    cluster.settled().await;
    let load = Load {
        users: 3,
        per_user: 5,
        rate: 100.0,
        duplicate_one_in: 0,
    };
    let balancer = Balancer::new(cluster.addresses());
    let driven = drive(&balancer, &users(load.users), 0, load).await;
    let mut verdict = judge(&mut cluster, &driven, &Expect::default()).await;
    let calls = cluster.calls();
    for u in 0..load.users {
        let made: Vec<String> = calls
            .iter()
            .filter(|(_, c)| parse_marker(&c.tag).is_some_and(|(user, _)| user == u))
            .map(|(r, c)| format!("{} by r{}", c.tag, r + 1))
            .collect();
        if made.len() != 1 {
            verdict.breach(
                Breach::Scenario,
                format!(
                    "user {u}'s burst of 5 made {} model calls: {made:?}",
                    made.len()
                ),
            );
        }
        let replicas: Vec<usize> = driven
            .delivered
            .iter()
            .filter(|d| parse_marker(&d.marker).is_some_and(|(user, _)| user == u))
            .map(|d| d.replica + 1)
            .collect();
        verdict
            .notes
            .push(format!("user {u}'s burst was taken by r{replicas:?}"));
    }
    verdict.assert_clean(&cluster, "debounce_across_replicas");
}

/// A message whose handling always panics (every scam check panics, and only this message needs one) is
/// tried `max_attempts` times, counted in the database across a takeover of its partition, then
/// dead-lettered; the user's later messages and everyone else's are answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_event_is_dead_lettered_across_a_takeover() {
    let _serial = serial().await;
    let extra = [
        ("TRADESPHERE_CHAOS", "scam:1"),
        ("TRADESPHERE__SUPERVISOR__BACKOFF_BASE_MS", "700"),
        ("TRADESPHERE__CONVERSATION__MAX_ATTEMPTS", "3"),
    ];
    let Some(mut cluster) = Cluster::new(3, |_| FAKES, &extra).await else {
        return;
    };
    cluster.start_all().await;
    cluster.settled().await;
    let load = Load {
        users: 12,
        per_user: 4,
        rate: 8.0,
        duplicate_one_in: 20,
    };
    let people = users(load.users + 1);
    let poisoned = people[load.users].clone();
    let balancer = Balancer::new(cluster.addresses());
    let background = {
        let (balancer, people) = (balancer.clone(), people.clone());
        tokio::spawn(async move { drive(&balancer, &people, 0, load).await })
    };
    let u = load.users;
    let texts = [
        text(&marker(u, 0)),
        format!("{} số 0912 345 678 có lừa đảo không?", marker(u, 1)),
        text(&marker(u, 2)),
        text(&marker(u, 3)),
    ];
    let mut mine = Driven::default();
    let mut poison_key = String::new();
    for (seq, body) in texts.iter().enumerate() {
        let event = text_event(&poisoned, body);
        let posted = Instant::now();
        let replica = deliver_one(&balancer, &event).await;
        let key = zalo::event_key(&event);
        if seq == 1 {
            poison_key = key.clone();
        }
        mine.delivered.push(Delivered {
            event_key: key,
            user: poisoned.clone(),
            seq: seq as u64,
            marker: marker(u, seq as u64),
            replica,
            posted,
        });
        if seq == 1 {
            // Its first attempt has failed: the owner of its partition dies, another one goes on counting.
            wait_until("the poison event's first attempt", || async {
                let (outcome, attempts) = cluster.event(&poison_key).await?;
                (outcome.is_none() && attempts >= 1).then_some(())
            })
            .await;
            let partition = partition_of(&poisoned);
            let owner = cluster
                .members()
                .await
                .into_iter()
                .find(|m| m.owned.contains(&partition))
                .expect("the poisoned user's partition has an owner");
            let i = cluster
                .replicas
                .iter()
                .position(|r| r.name == owner.name)
                .unwrap();
            cluster.kill9(i).await;
            cluster.start(i).await;
        }
    }
    let mut driven = background.await.unwrap();
    driven.extend(mine);
    let expect = Expect {
        dead_letters: vec![poison_key.clone()],
        ..Expect::default()
    };
    let mut verdict = judge(&mut cluster, &driven, &expect).await;
    let (outcome, attempts) = cluster.event(&poison_key).await.unwrap_or_default();
    if attempts < 3 {
        verdict.breach(
            Breach::Scenario,
            format!("the poison event was tried {attempts} times (outcome {outcome:?}), expected 3 or more"),
        );
    }
    verdict.notes.push(format!(
        "poison event: {outcome:?} after {attempts} attempts"
    ));
    verdict.assert_clean(&cluster, "poison_event");
}

/// Three replicas holding a token inside its refresh margin, while Zalo rejects it (-216) on every
/// replica's sends at once: one refresh for the whole cluster, and every reply sent with the new token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_refresh_the_token_once() {
    let _serial = serial().await;
    let Some(mut cluster) = Cluster::new(3, |_| FAKES, &[]).await else {
        return;
    };
    let store = store_at(&cluster.url).await;
    store
        .save_token(
            &NewTokenPair {
                access_token: SecretString::from("acc-0"),
                refresh_token: Some(SecretString::from("ref-0")),
                access_expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            },
            "import",
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    store.close().await;
    // Each replica's OAuth fake accepts ref-0 once: two refreshes anywhere would both succeed, and show.
    let mut oauth = Vec::new();
    for r in &cluster.replicas {
        oauth.push(FakeOAuth::mount(&r.zalo, "ref-0", Duration::from_secs(2)).await);
        zalo::rejects_token("acc-0")
            .with_priority(1)
            .mount(&r.zalo)
            .await;
    }
    cluster.start_together().await;
    cluster.settled().await;
    let load = Load {
        users: 30,
        per_user: 1,
        rate: 300.0,
        duplicate_one_in: 0,
    };
    let balancer = Balancer::new(cluster.addresses());
    let driven = drive(&balancer, &users(load.users), 0, load).await;
    let mut verdict = judge(&mut cluster, &driven, &Expect::default()).await;
    let refreshes: Vec<usize> = oauth.iter().map(|o| o.refresh_requests().len()).collect();
    if refreshes.iter().sum::<usize>() != 1 {
        verdict.breach(
            Breach::Scenario,
            format!("refresh requests per replica {refreshes:?}, expected one in all"),
        );
    }
    let mut rejected = 0;
    for r in &cluster.replicas {
        for request in zalo::send_requests(&r.zalo).await {
            match request
                .headers
                .get("access_token")
                .and_then(|v| v.to_str().ok())
            {
                Some("acc-0") => rejected += 1,
                Some("acc-1") => {}
                other => verdict.breach(
                    Breach::Scenario,
                    format!("{} sent with access token {other:?}", r.name),
                ),
            }
        }
    }
    verdict.notes.push(format!(
        "refreshes per replica {refreshes:?}; {rejected} sends rejected with -216 first"
    ));
    verdict.assert_clean(&cluster, "token_refresh");
}
