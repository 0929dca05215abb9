//! The load driver, playing Zalo and a load balancer that is not sticky: signed webhooks round-robin
//! across the replicas; a 503, a refused connection or a timeout is retried with the same body on the next
//! replica; some deliveries are sent a second time, at once, to another replica. Each user's next message
//! is posted only after the previous one was acknowledged, so every user's order is defined.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use testkit::zalo::{self, OA_SECRET, text_event};

/// How long the balancer waits for a replica before trying the next (under Zalo's own 2 s).
const UPSTREAM_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long one message may take to be accepted by some replica before the driver gives up on it.
const ACCEPT_PATIENCE: Duration = Duration::from_secs(120);

/// `users` users each sending `per_user` messages, `rate` messages per second overall; one delivery in
/// `duplicate_one_in` (0: none) is also posted to another replica at the same time.
#[derive(Clone, Copy)]
pub struct Load {
    pub users: usize,
    pub per_user: u64,
    pub rate: f64,
    pub duplicate_one_in: u64,
}

impl Load {
    /// How long the driver takes to post everything, at its rate.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.users as f64 * self.per_user as f64 / self.rate)
    }
}

/// The marker a message starts with, echoed by the model fake and so found again in the reply.
pub fn marker(user: usize, seq: u64) -> String {
    format!("u{user}#{seq}")
}

/// The (user index, sequence number) a marker names.
pub fn parse_marker(marker: &str) -> Option<(usize, u64)> {
    let (user, seq) = marker.strip_prefix('u')?.split_once('#')?;
    Some((user.parse().ok()?, seq.parse().ok()?))
}

/// The marker a reply carries ("Đã nhận <marker>").
pub fn marker_of_reply(text: &str) -> Option<&str> {
    text.split_whitespace()
        .nth(2)
        .filter(|m| parse_marker(m).is_some())
}

/// A message for the model (no phone number, link or command in it).
pub fn text(marker: &str) -> String {
    format!("{marker} mình muốn hỏi cách nhận biết tin nhắn giả mạo ngân hàng")
}

/// One message some replica acknowledged with 200.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub event_key: String,
    pub user: String,
    pub seq: u64,
    pub marker: String,
    /// The replica that acknowledged it.
    pub replica: usize,
    pub posted: Instant,
}

/// What the driver saw.
#[derive(Debug, Default)]
pub struct Driven {
    pub delivered: Vec<Delivered>,
    /// 503s per replica.
    pub refused: Vec<u64>,
    /// Refused connections and timeouts per replica.
    pub unreachable: Vec<u64>,
    /// Answers a balancer does not expect (neither 200 nor 503).
    pub odd: Vec<String>,
}

impl Driven {
    pub fn keys(&self) -> Vec<(String, String)> {
        self.delivered
            .iter()
            .map(|d| (d.event_key.clone(), d.user.clone()))
            .collect()
    }

    pub fn extend(&mut self, other: Driven) {
        self.delivered.extend(other.delivered);
        grow(&mut self.refused, &other.refused);
        grow(&mut self.unreachable, &other.unreachable);
        self.odd.extend(other.odd);
    }
}

fn grow(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

/// The balancer: the replicas' addresses and a shared round-robin position.
#[derive(Clone)]
pub struct Balancer {
    targets: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    client: reqwest::Client,
}

/// Where a delivery is tried first.
#[derive(Clone, Copy)]
enum First {
    /// The balancer's next replica in turn.
    InTurn,
    /// This replica (modulo their number): the driver rotates each user's messages over the replicas, so
    /// that a user's consecutive messages never land on one replica by coincidence.
    At(usize),
}

/// The result of one delivery: who acknowledged it, and what the others answered on the way.
struct Outcome {
    replica: usize,
    refused: Vec<u64>,
    unreachable: Vec<u64>,
    odd: Vec<String>,
}

impl Balancer {
    pub fn new(targets: Vec<String>) -> Balancer {
        Balancer {
            targets: Arc::new(targets),
            next: Arc::default(),
            client: reqwest::Client::builder()
                .timeout(UPSTREAM_TIMEOUT)
                .build()
                .unwrap(),
        }
    }

    /// Posts `event` to replica after replica until one acknowledges it with 200.
    async fn deliver(&self, event: &serde_json::Value, duplicate: bool, first: First) -> Outcome {
        let (body, mac) = zalo::signed(event, OA_SECRET);
        let n = self.targets.len();
        let mut outcome = Outcome {
            replica: 0,
            refused: vec![0; n],
            unreachable: vec![0; n],
            odd: Vec::new(),
        };
        let deadline = Instant::now() + ACCEPT_PATIENCE;
        let mut failures_in_a_row = 0;
        let mut at = match first {
            First::InTurn => self.next.fetch_add(1, Ordering::Relaxed),
            First::At(i) => i,
        };
        loop {
            let i = at % n;
            at += 1;
            if duplicate {
                // The same delivery again, at once, to another replica (Zalo retrying while the first is
                // still in flight, or a balancer hedging): it must be a no-op.
                let (client, target) = (self.client.clone(), self.targets[(i + 1) % n].clone());
                let (body, mac) = (body.clone(), mac.clone());
                tokio::spawn(async move { post(&client, &target, body, &mac).await });
            }
            match post(&self.client, &self.targets[i], body.clone(), &mac).await {
                Ok(200) => {
                    outcome.replica = i;
                    return outcome;
                }
                Ok(503) => outcome.refused[i] += 1,
                Ok(status) => outcome.odd.push(format!(
                    "replica {} answered {status} to a signed webhook",
                    i + 1
                )),
                Err(_) => outcome.unreachable[i] += 1,
            }
            assert!(
                Instant::now() < deadline,
                "no replica accepted a delivery within {ACCEPT_PATIENCE:?}"
            );
            failures_in_a_row += 1;
            if failures_in_a_row % n == 0 {
                // Every replica refused: back off a little, as a balancer with no healthy upstream does.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn post(
    client: &reqwest::Client,
    target: &str,
    body: Vec<u8>,
    mac: &str,
) -> Result<u16, reqwest::Error> {
    let response = client
        .post(format!("{target}/api/v1/zalo/webhook"))
        .header("content-type", "application/json")
        .header(zalo::SIGNATURE_HEADER, mac)
        .body(body)
        .send()
        .await?;
    Ok(response.status().as_u16())
}

/// Drives `load` through `balancer` for `users` (their index in that list names them in markers), their
/// messages numbered from `first_seq`; user `u`'s message `seq` goes to replica `u + seq` first.
pub async fn drive(balancer: &Balancer, users: &[String], first_seq: u64, load: Load) -> Driven {
    assert!(users.len() >= load.users);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (u, user) in users.iter().take(load.users).enumerate() {
        let (balancer, user) = (balancer.clone(), user.clone());
        tasks.push(tokio::spawn(async move {
            let mut driven = Driven::default();
            for i in 0..load.per_user {
                let slot = (i as f64 * load.users as f64 + u as f64) / load.rate;
                tokio::time::sleep_until((start + Duration::from_secs_f64(slot)).into()).await;
                let seq = first_seq + i;
                let marker = marker(u, seq);
                let event = text_event(&user, &text(&marker));
                let duplicate = load.duplicate_one_in != 0
                    && spread(u as u64 * 7919 + seq).is_multiple_of(load.duplicate_one_in);
                let posted = Instant::now();
                let first = First::At(u + seq as usize);
                let outcome = balancer.deliver(&event, duplicate, first).await;
                driven.delivered.push(Delivered {
                    event_key: zalo::event_key(&event),
                    user: user.clone(),
                    seq,
                    marker,
                    replica: outcome.replica,
                    posted,
                });
                grow(&mut driven.refused, &outcome.refused);
                grow(&mut driven.unreachable, &outcome.unreachable);
                driven.odd.extend(outcome.odd);
            }
            driven
        }));
    }
    let mut all = Driven::default();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

/// Posts one prepared event through the balancer (a burst, a poison message): the replica that took it.
pub async fn deliver_one(balancer: &Balancer, event: &serde_json::Value) -> usize {
    let outcome = balancer.deliver(event, false, First::InTurn).await;
    assert!(outcome.odd.is_empty(), "{:?}", outcome.odd);
    outcome.replica
}

/// A cheap, well-mixed hash: which deliveries are duplicated, the same in every run.
fn spread(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    #[test]
    fn markers_are_found_again_in_replies() {
        let m = super::marker(12, 3);
        assert_eq!(super::parse_marker(&m), Some((12, 3)));
        assert_eq!(
            super::marker_of_reply(&format!("Đã nhận {m}")),
            Some("u12#3")
        );
        assert_eq!(super::marker_of_reply("Đã nhận tin của bạn"), None);
    }
}
