//! Replicas joining and leaving under load, and a replica whose partition count differs from the
//! database's refusing to start.

use std::time::Instant;

use testkit::knob;

use crate::harness::Cluster;
use crate::load::{Balancer, Load, drive};
use crate::service::Fakes;
use crate::verdict::{Breach, Expect, judge};
use crate::{ms, serial, users};

/// r1 alone under load, then r2 and r3 join, then r1 leaves with SIGTERM: the partitions move to the
/// newcomers after their in-flight work is drained, and nothing is lost or doubled on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_and_leave_under_load() {
    let _serial = serial().await;
    let fakes = Fakes {
        zalo: ms(20),
        model: ms(250),
    };
    let Some(mut cluster) = Cluster::new(3, |_| fakes, &[]).await else {
        return;
    };
    cluster.start(0).await;
    cluster.settled().await;
    let load = Load {
        users: knob("CLUSTER_USERS", 24) as usize,
        per_user: knob("CLUSTER_MESSAGES", 8),
        rate: knob("CLUSTER_RATE", 12) as f64,
        duplicate_one_in: 20,
    };
    let (balancer, people) = (Balancer::new(cluster.addresses()), users(load.users));
    let driver = tokio::spawn(async move { drive(&balancer, &people, 0, load).await });
    let start = Instant::now();
    let at = |fraction: f64| (start + load.duration().mul_f64(fraction)).into();
    tokio::time::sleep_until(at(0.2)).await;
    cluster.start(1).await;
    tokio::time::sleep_until(at(0.45)).await;
    cluster.start(2).await;
    tokio::time::sleep_until(at(0.7)).await;
    let status = cluster.terminate(0).await;
    let driven = driver.await.unwrap();
    let mut verdict = judge(&mut cluster, &driven, &Expect::default()).await;
    if !status.success() {
        verdict.breach(
            Breach::Scenario,
            format!("r1 left with SIGTERM and exited {status}"),
        );
    }
    verdict.assert_clean(&cluster, "join_and_leave_under_load");
}

/// Three replicas started together on an empty database, as `docker compose up` would start them: they
/// all come up (the migrations and the bootstrap token are stored once), and share the partitions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_started_together_on_an_empty_database_all_come_up() {
    let _serial = serial().await;
    let Some(mut cluster) = Cluster::unmigrated(3, |_| Fakes::INSTANT, &[]).await else {
        return;
    };
    cluster.start_together().await;
    cluster.settled().await;
    let verdict = judge(&mut cluster, &Default::default(), &Expect::default()).await;
    verdict.assert_clean(&cluster, "started_together_on_an_empty_database");
}

/// A replica configured with 128 partitions against a database of 256 refuses to start, saying both, and
/// the running replica is not disturbed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_partition_count_refuses_to_start() {
    let _serial = serial().await;
    let Some(mut cluster) = Cluster::new(2, |_| Fakes::INSTANT, &[]).await else {
        return;
    };
    cluster.start(0).await;
    cluster.settled().await;
    cluster.set_env(1, "TRADESPHERE__CLUSTER__PARTITIONS", Some("128"));
    cluster.replicas[1].down = true;
    let outcome = cluster.replicas[1].service.try_start().await;
    let log = cluster.replicas[1].service.log_text();
    match outcome {
        Ok(()) => panic!(
            "r2 started with 128 partitions against a database of 256\n{}",
            cluster.log_excerpt("wrong_partitions")
        ),
        Err(status) => assert!(!status.success(), "exit {status}"),
    }
    let said = log
        .lines()
        .find(|l| l.to_lowercase().contains("partition") && l.contains("128") && l.contains("256"))
        .map(str::to_string);
    assert!(
        said.is_some(),
        "the refusal names both partition counts; r2 logged:\n{log}"
    );
    let members = cluster.members().await;
    assert_eq!(
        members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["r1"],
        "the refused replica never joined"
    );
    assert_eq!(members[0].owned.len(), crate::harness::PARTITIONS);
}
