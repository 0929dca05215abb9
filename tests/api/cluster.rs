//! Two replicas on one PostgreSQL database, in one process: they split the partitions, every user is
//! answered once by the replica that owns them wherever the webhook landed, `/readyz` and `/api/v1/cluster`
//! say who owns what, and a graceful stop hands everything to the other at once. (The real binaries under
//! kill -9, freezes and storms are in `tests/cluster/`.)

use std::collections::HashMap;

use serde_json::Value;
use testkit::zalo::{text_event, user_id};

use crate::helpers::{ADMIN_TOKEN, Backend, TestApp, TestOptions, spawn_app_with, wait_until};

/// Test timings: leases of 1.5 s renewed every 200 ms.
fn replica(name: &str, database_url: Option<String>) -> TestOptions {
    TestOptions {
        zalo: true,
        admin_token: true,
        database_url,
        extra_env: vec![
            ("TRADESPHERE__CLUSTER__MEMBER_NAME", name.to_string()),
            ("TRADESPHERE__CLUSTER__HEARTBEAT_INTERVAL_MS", "200".into()),
            ("TRADESPHERE__CLUSTER__MEMBER_TTL_MS", "1500".into()),
            ("TRADESPHERE__CLUSTER__TRUST_MARGIN_MS", "300".into()),
            ("TRADESPHERE__CLUSTER__REBALANCE_INTERVAL_MS", "200".into()),
            ("TRADESPHERE__CLUSTER__MIN_MEMBER_AGE_MS", "300".into()),
            ("TRADESPHERE__CLUSTER__POLL_INTERVAL_MS", "100".into()),
        ],
        ..Default::default()
    }
}

async fn readiness(app: &TestApp) -> Value {
    app.get("/readyz").await.json().await.unwrap()
}

async fn owned(app: &TestApp) -> u64 {
    readiness(app).await["cluster"]["owned_partitions"]
        .as_u64()
        .unwrap_or(0)
}

/// Replies the Zalo fakes of both replicas received, by recipient.
async fn replies(apps: &[&TestApp]) -> HashMap<String, Vec<String>> {
    let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
    for app in apps {
        for body in app.zalo_sends().await {
            let user = body["recipient"]["user_id"].as_str().unwrap().to_string();
            let text = body["message"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            by_user.entry(user).or_default().push(text);
        }
    }
    by_user
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_split_the_users_and_answer_each_once() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    let first = spawn_app_with(&backend, replica("r1", None)).await;
    let second = spawn_app_with(&backend, replica("r2", Some(first.database_url.clone()))).await;
    wait_until("the partitions split evenly", || async {
        let (a, b) = (owned(&first).await, owned(&second).await);
        (a == 128 && b == 128).then_some(())
    })
    .await;
    let ready = readiness(&first).await;
    assert_eq!(ready["cluster"]["mode"], "cluster");
    assert_eq!(ready["cluster"]["member"], "r1");
    assert_eq!(
        ready["cluster"]["partitions"].as_array().unwrap().len(),
        128
    );
    let status: Value = first
        .client
        .get(format!("{}/api/v1/cluster", first.address))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["partitions"], 256);
    assert_eq!(status["owned"].as_array().unwrap().len(), 128);
    let names: Vec<&str> = status["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"r1") && names.contains(&"r2"), "{names:?}");

    // Each user writes to both replicas in turn: the owner answers every message, once.
    let users: Vec<String> = (0..16).map(|_| user_id()).collect();
    for round in 0..2 {
        for (n, user) in users.iter().enumerate() {
            let app = if (n + round) % 2 == 0 {
                &first
            } else {
                &second
            };
            let sent = app.post_event(&text_event(user, "xin chào")).await;
            assert_eq!(sent.status(), 200);
        }
    }
    let answered = wait_until("every message answered", || async {
        let by_user = replies(&[&first, &second]).await;
        let firsts = |texts: &Vec<String>| texts.iter().filter(|t| !t.is_empty()).count();
        (users
            .iter()
            .all(|u| by_user.get(u).is_some_and(|t| firsts(t) >= 2)))
        .then_some(by_user)
    })
    .await;
    let first_sends = replies(&[&first]).await;
    let second_sends = replies(&[&second]).await;
    for user in &users {
        let (a, b) = (
            first_sends.contains_key(user),
            second_sends.contains_key(user),
        );
        assert!(a != b, "one replica answers a user, never both");
    }
    // The same reply twice to one user is the two messages' answers; a third would be a double.
    let parts_per_reply = answered[&users[0]].len() / 2;
    for user in &users {
        assert_eq!(answered[user].len(), 2 * parts_per_reply, "no doubled part");
    }

    // A graceful stop releases everything, and the other replica takes it at once.
    first.shutdown().await;
    wait_until("the survivor owns every partition", || async {
        (owned(&second).await == 256).then_some(())
    })
    .await;
    let late = user_id();
    assert_eq!(
        second
            .post_event(&text_event(&late, "xin chào"))
            .await
            .status(),
        200
    );
    wait_until("the survivor answers", || async {
        replies(&[&second]).await.contains_key(&late).then_some(())
    })
    .await;
}

/// A user's message stored by a replica that does not own them, then their next message at the owner
/// before any hint or poll could bring the first: the owner answers them in the order they were sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_answers_a_users_messages_in_order_wherever_they_landed() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    // No hint and no poll for a minute: only the owner's own reading of the inbox can bring the first.
    let slow = |name: &str, url: Option<String>| {
        let mut options = replica(name, url);
        options
            .extra_env
            .retain(|(key, _)| !key.ends_with("POLL_INTERVAL_MS"));
        options.extra_env.extend([
            (
                "TRADESPHERE__CLUSTER__POLL_INTERVAL_MS",
                "60000".to_string(),
            ),
            ("TRADESPHERE__CLUSTER__NOTIFY", "false".to_string()),
        ]);
        options
    };
    let owner = spawn_app_with(&backend, slow("r1", None)).await;
    let other = spawn_app_with(&backend, slow("r2", Some(owner.database_url.clone()))).await;
    wait_until("the partitions split evenly", || async {
        let (a, b) = (owned(&owner).await, owned(&other).await);
        (a == 128 && b == 128).then_some(())
    })
    .await;
    let held: Vec<u64> = readiness(&owner).await["cluster"]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    let user = std::iter::repeat_with(user_id)
        .find(|u| {
            let id = tradesphere::domain::UserId::parse(u).unwrap();
            let partition = tradesphere::domain::Partition::of(&id, 256);
            held.contains(&u64::from(partition.number()))
        })
        .unwrap();

    let first = "trang vietcombank-xacminh.top có phải lừa đảo không";
    let second = "còn trang shopee-khuyenmai.top thì sao";
    assert_eq!(
        other.post_event(&text_event(&user, first)).await.status(),
        200
    );
    assert_eq!(
        owner.post_event(&text_event(&user, second)).await.status(),
        200
    );
    let texts = wait_until("both messages answered", || async {
        let texts = replies(&[&owner, &other]).await.remove(&user)?;
        let at = |domain: &str| texts.iter().position(|t| t.contains(domain));
        at("vietcombank-xacminh")?;
        at("shopee-khuyenmai")?;
        Some(texts)
    })
    .await;
    let at = |domain: &str| texts.iter().position(|t| t.contains(domain)).unwrap();
    assert!(
        at("vietcombank-xacminh") < at("shopee-khuyenmai"),
        "the first message's answer came second: {texts:#?}"
    );
    assert!(
        !replies(&[&other]).await.contains_key(&user),
        "only the owner answers"
    );
}
