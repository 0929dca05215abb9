//! The counts that must hold after every scenario once the system is quiet: nothing lost, no reply
//! doubled, model calls doubled only where a fault cut one off, every user's replies in order, no send from
//! a replica that no longer held the user's partition, all partitions held by live replicas, takeovers
//! within their bound. Breaches are collected, not panicked on, so a test can also assert that a broken
//! build is caught.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use testkit::ledger::{Ledger, assert_exactly_once};

use crate::harness::{Cluster, Member, Owner, PARTITIONS, partition_of, takeover_bound};
use crate::load::{Driven, marker_of_reply, parse_marker};

/// Slack around a fault's window for a model call to count as cut off by it (scheduling on a busy machine).
const FAULT_SLACK: Duration = Duration::from_millis(500);
/// A send recorded this soon after a new owner's claim was on the wire before it: reported, not a breach.
const ON_THE_WIRE: f64 = 250.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Breach {
    /// An acknowledged event not handled, a reply not sent, or the database and the fakes disagree.
    Lost,
    /// One reply part received twice over all Zalo fakes.
    DoubledReply,
    /// A model call repeated where no fault explains it.
    DoubledModelCall,
    /// A user's replies arrived out of order.
    Order,
    /// A send from a replica that no longer held the user's partition.
    StaleSend,
    /// Not every partition held by a live replica, or shares uneven.
    Ownership,
    /// A takeover slower than its bound.
    Takeover,
    /// More `ambiguous` parts than sends cut off by faults could explain.
    Ambiguous,
    /// A replica stopped that should run, or a scenario's own expectation failed.
    Scenario,
    /// The balancer got an answer it does not expect.
    Driver,
}

#[derive(Default)]
pub struct Verdict {
    pub breaches: Vec<(Breach, String)>,
    pub notes: Vec<String>,
    pub ambiguous: usize,
}

impl Verdict {
    pub fn breach(&mut self, kind: Breach, what: impl Into<String>) {
        self.breaches.push((kind, what.into()));
    }

    pub fn has(&self, kind: Breach) -> bool {
        self.breaches.iter().any(|(k, _)| *k == kind)
    }

    /// Panics with every breach and the replicas' warnings when anything was breached.
    pub fn assert_clean(&self, cluster: &Cluster, scenario: &str) {
        eprintln!("{scenario}: {self}");
        if !self.breaches.is_empty() {
            panic!("{scenario}: {self}\n{}", cluster.log_excerpt(scenario));
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} breach(es), {} ambiguous",
            self.breaches.len(),
            self.ambiguous
        )?;
        for (kind, what) in &self.breaches {
            writeln!(f, "  BREACH {kind:?}: {what}")?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}

/// What a scenario expects besides the counts every scenario shares.
#[derive(Default)]
pub struct Expect {
    /// Accepted events that must end `dead_letter` (and have no reply) instead of being answered.
    pub dead_letters: Vec<String>,
    /// How long the system may take to become quiet.
    pub quiet_within: Option<Duration>,
}

/// Waits until the system is quiet, then checks every count.
pub async fn judge(cluster: &mut Cluster, driven: &Driven, expect: &Expect) -> Verdict {
    let mut verdict = Verdict::default();
    for odd in &driven.odd {
        verdict.breach(Breach::Driver, odd.clone());
    }
    let ledger = quiet(
        cluster,
        expect.quiet_within.unwrap_or(Duration::from_secs(60)),
        &mut verdict,
    )
    .await;
    // A send whose row is `sent` was recorded by its fake before the answer; let late requests land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sends = cluster.sends();
    exactly_once(&ledger, driven, expect, &sends, &mut verdict);
    doubled_replies(&sends, &mut verdict);
    model_calls(cluster, &mut verdict);
    order(driven, &sends, &mut verdict);
    let owners = cluster.owners().await;
    stale_sends(cluster, &owners, driven, &sends, &mut verdict);
    ownership(cluster, &mut verdict).await;
    takeovers(cluster, &mut verdict);
    let allowance: usize = cluster.faults.iter().map(|f| f.sending).sum();
    if verdict.ambiguous > allowance {
        verdict.breach(
            Breach::Ambiguous,
            format!(
                "{} parts ambiguous, but only {allowance} were sending when faults struck: {}",
                verdict.ambiguous,
                ambiguous_parts(cluster, &sends).await
            ),
        );
    }
    counters(cluster, &mut verdict).await;
    for fault in &cluster.faults {
        verdict.notes.push(format!(
            "fault: {} for {} ms, {} parts sending as it began",
            fault.what,
            fault.to.duration_since(fault.from).as_millis(),
            fault.sending
        ));
    }
    verdict.notes.push(latencies(driven, &sends));
    verdict.notes.push(format!(
        "{} events acknowledged, {} sends, {} model calls, 503s per replica {:?}, unreachable {:?}",
        driven.delivered.len(),
        sends.len(),
        cluster.calls().len(),
        driven.refused,
        driven.unreachable
    ));
    verdict
}

/// The ledger once nothing is pending (bounded): a breach, with what is left, when that never happens.
async fn quiet(cluster: &Cluster, within: Duration, verdict: &mut Verdict) -> Ledger {
    let deadline = Instant::now() + within;
    loop {
        let ledger = Ledger::read(&cluster.url).await;
        if ledger.pending() == 0 {
            return ledger;
        }
        if Instant::now() > deadline {
            verdict.breach(
                Breach::Lost,
                format!(
                    "still pending after {within:?}: {} (parts {:?}); open: {}",
                    ledger.pending(),
                    ledger.states(),
                    open_work(cluster).await
                ),
            );
            return ledger;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The events and parts still open, with their partition's holder (for the report of a breach).
async fn open_work(cluster: &Cluster) -> String {
    let sql = "SELECT 'event ' || e.event_key || ' partition ' || coalesce(e.partition::text, '-') \
                      || ' attempts ' || e.attempts || ' held by ' || coalesce(m.name, 'nobody') AS line \
                 FROM inbox_events e LEFT JOIN partition_owners po ON po.partition = e.partition \
                 LEFT JOIN cluster_members m ON m.member_id = po.owner_id AND m.lease_until > now() \
                WHERE e.handled_at IS NULL \
               UNION ALL \
               SELECT 'part ' || o.id || ' (' || o.state || ', claim epoch ' || coalesce(o.claim_epoch::text, '-') \
                      || ') partition ' || coalesce(o.partition::text, '-') || ' epoch ' || coalesce(po.epoch::text, '-') \
                      || ' held by ' || coalesce(m.name, 'nobody') AS line \
                 FROM outbound_messages o LEFT JOIN partition_owners po ON po.partition = o.partition \
                 LEFT JOIN cluster_members m ON m.member_id = po.owner_id AND m.lease_until > now() \
                WHERE o.state IN ('queued', 'sending') \
                LIMIT 12";
    let lines: Vec<String> = cluster
        .rows(sql)
        .await
        .into_iter()
        .filter_map(|r| r.try_get("", "line").ok())
        .collect();
    lines.join("; ")
}

/// The ambiguous parts: partition, the epoch they were claimed under against the partition's, its holder,
/// and which fakes received them (for the report of a breach).
async fn ambiguous_parts(cluster: &Cluster, sends: &[(usize, testkit::zalo::ZaloSend)]) -> String {
    let sql = "SELECT o.text, o.partition, o.claim_epoch, po.epoch, coalesce(m.name, 'nobody') AS holder, \
                      (extract(epoch FROM o.updated_at) * 1000)::float8 AS updated \
                 FROM outbound_messages o LEFT JOIN partition_owners po ON po.partition = o.partition \
                 LEFT JOIN cluster_members m ON m.member_id = po.owner_id AND m.lease_until > now() \
                WHERE o.state = 'ambiguous' ORDER BY o.id LIMIT 12";
    let mut lines = Vec::new();
    for row in cluster.rows(sql).await {
        let text: String = row.try_get("", "text").unwrap_or_default();
        let marker = marker_of_reply(&text).unwrap_or("?");
        let received: Vec<usize> = sends
            .iter()
            .filter(|(_, s)| marker_of_reply(&s.text) == Some(marker))
            .map(|(r, _)| r + 1)
            .collect();
        let partition: Option<i16> = row.try_get("", "partition").unwrap_or(None);
        let claimed: Option<i64> = row.try_get("", "claim_epoch").unwrap_or(None);
        let epoch: Option<i64> = row.try_get("", "epoch").unwrap_or(None);
        let holder: String = row.try_get("", "holder").unwrap_or_default();
        let updated: f64 = row.try_get("", "updated").unwrap_or(0.0);
        let ago = cluster.wall_ms(Instant::now()) - updated;
        lines.push(format!(
            "{marker} (partition {partition:?}, claimed at epoch {claimed:?}, now {epoch:?} held by \
             {holder}; marked {ago:.0} ms before the check; received by r{received:?})"
        ));
    }
    lines.join("; ")
}

/// The cluster counters of each live replica, for the report.
async fn counters(cluster: &mut Cluster, verdict: &mut Verdict) {
    for i in cluster.live() {
        let text = testkit::metrics::scrape(&cluster.replicas[i].service.address).await;
        let value = |name: &str| testkit::metrics::sum(&text, name);
        verdict.notes.push(format!(
            "{}: takeovers {}, losses {}, fenced writes {}, abandoned sends {}",
            cluster.replicas[i].name,
            value("tradesphere_cluster_takeovers_total"),
            value("tradesphere_cluster_partition_losses_total"),
            value("tradesphere_cluster_fenced_writes_total"),
            value("tradesphere_outbound_abandoned_total"),
        ));
    }
}

/// Every acknowledged event handled and answered once, and the fakes agree with the database (the shared
/// exactly-once check, over every replica's sends together).
fn exactly_once(
    ledger: &Ledger,
    driven: &Driven,
    expect: &Expect,
    sends: &[(usize, testkit::zalo::ZaloSend)],
    verdict: &mut Verdict,
) {
    let answered: Vec<(String, String)> = driven
        .keys()
        .into_iter()
        .filter(|(key, _)| !expect.dead_letters.contains(key))
        .collect();
    for key in &expect.dead_letters {
        match ledger.inbox.get(key) {
            Some((_, true, outcome)) if outcome == "dead_letter" => {}
            other => verdict.breach(
                Breach::Lost,
                format!("{key} should be dead-lettered: {other:?}"),
            ),
        }
        if ledger.parts.contains_key(key) {
            verdict.breach(Breach::Lost, format!("{key} dead-lettered yet answered"));
        }
    }
    let all: Vec<_> = sends.iter().map(|(_, s)| s.clone()).collect();
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_exactly_once(ledger, &answered, &all)
    }));
    match checked {
        Ok(ambiguous) => verdict.ambiguous = ambiguous,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            verdict.breach(Breach::Lost, message);
            verdict.ambiguous = ledger.states().get("ambiguous").copied().unwrap_or(0);
        }
    }
}

/// No reply (its marker) received twice, counted over all replicas' fakes.
fn doubled_replies(sends: &[(usize, testkit::zalo::ZaloSend)], verdict: &mut Verdict) {
    let mut by_marker: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (replica, send) in sends {
        if let Some(marker) = marker_of_reply(&send.text) {
            by_marker.entry(marker).or_default().push(replica + 1);
        }
    }
    for (marker, replicas) in by_marker {
        if replicas.len() > 1 {
            verdict.breach(
                Breach::DoubledReply,
                format!(
                    "reply {marker} received {} times, from r{replicas:?}",
                    replicas.len()
                ),
            );
        }
    }
}

/// For each marker, the model calls made beyond the first are at most those a fault cut off on the replica
/// that made them.
fn model_calls(cluster: &Cluster, verdict: &mut Verdict) {
    let mut by_marker: BTreeMap<String, (usize, usize, Vec<usize>)> = BTreeMap::new();
    for (replica, call) in cluster.calls() {
        if parse_marker(&call.tag).is_none() {
            continue;
        }
        let latency = cluster.replicas[replica].model_latency;
        let cut = cluster.faults.iter().any(|f| {
            f.replica.is_none_or(|r| r == replica)
                && call.at <= f.to + FAULT_SLACK
                && call.at + latency + FAULT_SLACK >= f.from
        });
        let entry = by_marker.entry(call.tag).or_default();
        entry.0 += 1;
        entry.1 += usize::from(cut);
        entry.2.push(replica + 1);
    }
    let mut repeated = 0;
    for (marker, (calls, cut, replicas)) in by_marker {
        repeated += calls - 1;
        if calls > 1 + cut {
            verdict.breach(
                Breach::DoubledModelCall,
                format!(
                    "{marker}: {calls} model calls (from r{replicas:?}), only {cut} cut off by a fault"
                ),
            );
        }
    }
    if repeated > 0 {
        verdict
            .notes
            .push(format!("{repeated} model call(s) repeated"));
    }
}

/// Each user's replies arrive in the order of their messages, over all fakes.
fn order(driven: &Driven, sends: &[(usize, testkit::zalo::ZaloSend)], verdict: &mut Verdict) {
    let seqs: HashMap<(&str, &str), u64> = driven
        .delivered
        .iter()
        .map(|d| ((d.user.as_str(), d.marker.as_str()), d.seq))
        .collect();
    let mut arrivals: HashMap<&str, Vec<(u64, usize)>> = HashMap::new();
    for (replica, send) in sends {
        let marker = marker_of_reply(&send.text).unwrap_or_default();
        if let Some(seq) = seqs.get(&(send.user.as_str(), marker)) {
            arrivals
                .entry(send.user.as_str())
                .or_default()
                .push((*seq, replica + 1));
        }
    }
    for (user, seqs) in arrivals {
        if seqs.windows(2).any(|w| w[1].0 <= w[0].0) {
            verdict.breach(
                Breach::Order,
                format!("user {user}: replies arrived as (seq, replica) {seqs:?}"),
            );
        }
    }
}

/// No send for a user from a replica other than the current holder of the user's partition after that
/// holder claimed it (the holder has held it ever since); and none from a replica within a window the
/// scenario marked (`Cluster::stale`).
fn stale_sends(
    cluster: &Cluster,
    owners: &[Owner],
    driven: &Driven,
    sends: &[(usize, testkit::zalo::ZaloSend)],
    verdict: &mut Verdict,
) {
    let holders: HashMap<i16, &(String, f64)> = owners
        .iter()
        .filter_map(|o| Some((o.partition, o.holder.as_ref()?)))
        .collect();
    let users: HashMap<&str, ()> = driven
        .delivered
        .iter()
        .map(|d| (d.user.as_str(), ()))
        .collect();
    let mut on_the_wire = 0;
    for (replica, send) in sends {
        if !users.contains_key(send.user.as_str()) {
            continue;
        }
        let name = &cluster.replicas[*replica].name;
        let at = cluster.wall_ms(send.at);
        if let Some((holder, since)) = holders.get(&partition_of(&send.user))
            && holder != name
            && at > *since
        {
            let late = at - since;
            if late <= ON_THE_WIRE {
                on_the_wire += 1;
            } else {
                verdict.breach(
                    Breach::StaleSend,
                    format!(
                        "{name} sent {:?} to {} {late:.0} ms after {holder} claimed its partition",
                        send.text, send.user
                    ),
                );
            }
        }
        for (stale, from, to) in &cluster.stale {
            if stale == replica && send.at > *from && send.at < *to {
                verdict.breach(
                    Breach::StaleSend,
                    format!(
                        "{name} sent {:?} to {} {} ms after it was frozen past its lease",
                        send.text,
                        send.user,
                        send.at.duration_since(*from).as_millis()
                    ),
                );
            }
        }
    }
    if on_the_wire > 0 {
        verdict.notes.push(format!(
            "{on_the_wire} send(s) recorded within {ON_THE_WIRE} ms after a new owner's claim (on the wire)"
        ));
    }
}

/// Eventually (bounded) every partition held by a live replica, the live members exactly the running
/// replicas, shares within one of an even split, and each replica's `/readyz` agreeing with the database.
async fn ownership(cluster: &mut Cluster, verdict: &mut Verdict) {
    for r in &mut cluster.replicas {
        if r.service.starts > 0 && !r.down && !r.frozen && !r.service.is_running() {
            verdict.breach(Breach::Scenario, format!("{} exited by itself", r.name));
        }
    }
    let live = cluster.live();
    let names: Vec<String> = live
        .iter()
        .map(|&i| cluster.replicas[i].name.clone())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let members = cluster.members().await;
        let mut problems = Vec::new();
        let member_names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        if member_names != names.iter().map(String::as_str).collect::<Vec<_>>() {
            problems.push(format!(
                "live members {member_names:?}, running replicas {names:?}"
            ));
        }
        let owned: usize = members.iter().map(|m| m.owned.len()).sum();
        if owned != PARTITIONS {
            problems.push(format!(
                "{owned} of {PARTITIONS} partitions held by live members"
            ));
        }
        let fair = PARTITIONS as f64 / names.len().max(1) as f64;
        for m in &members {
            if (m.owned.len() as f64 - fair).abs() > 1.0 {
                problems.push(format!(
                    "{} holds {} (fair {fair:.1})",
                    m.name,
                    m.owned.len()
                ));
            }
        }
        if problems.is_empty() {
            for &i in &live {
                problems.extend(own_view(cluster, i, &members).await);
            }
        }
        if problems.is_empty() {
            let shares: Vec<String> = members
                .iter()
                .map(|m| format!("{} {}", m.name, m.owned.len()))
                .collect();
            verdict.notes.push(format!("shares: {}", shares.join(", ")));
            return;
        }
        if Instant::now() > deadline {
            verdict.breach(Breach::Ownership, problems.join("; "));
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// From posting a message to its reply reaching Zalo: median and slowest (for the report, not asserted).
fn latencies(driven: &Driven, sends: &[(usize, testkit::zalo::ZaloSend)]) -> String {
    let posted: HashMap<&str, Instant> = driven
        .delivered
        .iter()
        .map(|d| (d.marker.as_str(), d.posted))
        .collect();
    let mut took: Vec<Duration> = sends
        .iter()
        .filter_map(|(_, s)| {
            let at = posted.get(marker_of_reply(&s.text)?)?;
            Some(s.at.saturating_duration_since(*at))
        })
        .collect();
    took.sort();
    match (took.get(took.len() / 2), took.last()) {
        (Some(median), Some(slowest)) => format!(
            "message to reply: median {} ms, slowest {} ms",
            median.as_millis(),
            slowest.as_millis()
        ),
        _ => "no reply matched a message".into(),
    }
}

/// What replica `i` says of the cluster (`/readyz` and `/api/v1/cluster`) against the database's `members`.
async fn own_view(cluster: &Cluster, i: usize, members: &[Member]) -> Vec<String> {
    let name = &cluster.replicas[i].name;
    let held = members.iter().find(|m| &m.name == name);
    let count = held.map(|m| m.owned.len() as u64);
    let mut problems = Vec::new();
    let said = cluster.ready_owned(i).await;
    if said != count {
        problems.push(format!(
            "{name}'s /readyz says it owns {said:?}, the database {count:?}"
        ));
        // The admin API is rate-limited: asked only once the cheap view agrees.
        return problems;
    }
    let Some(view) = cluster.cluster_view(i).await else {
        problems.push(format!("{name}'s /api/v1/cluster did not answer"));
        return problems;
    };
    let owned: Vec<i64> = view["owned"]
        .as_array()
        .map(|o| o.iter().filter_map(|p| p["partition"].as_i64()).collect())
        .unwrap_or_default();
    let expected: Vec<i64> = held
        .map(|m| m.owned.iter().map(|&p| i64::from(p)).collect())
        .unwrap_or_default();
    let mut sorted = owned.clone();
    sorted.sort_unstable();
    let listed: Vec<&str> = view["members"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["name"].as_str()).collect())
        .unwrap_or_default();
    let live: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    if view["mode"] != "cluster"
        || view["member"]["name"] != name.as_str()
        || view["partitions"] != PARTITIONS
        || sorted != expected
        || live.iter().any(|m| !listed.contains(m))
    {
        problems.push(format!(
            "{name}'s /api/v1/cluster disagrees with the database (live {live:?}, {} owned): {}",
            expected.len(),
            truncate_json(&view)
        ));
    }
    problems
}

fn truncate_json(view: &serde_json::Value) -> String {
    let text = view.to_string();
    text.chars().take(600).collect()
}

fn takeovers(cluster: &Cluster, verdict: &mut Verdict) {
    let bound = takeover_bound();
    for t in &cluster.takeovers {
        let line = format!(
            "{}: {} partition(s) held by live replicas {} ms after the fault",
            t.what,
            t.partitions,
            t.took.as_millis()
        );
        if t.took > bound {
            verdict.breach(
                Breach::Takeover,
                format!("{line} (bound {} ms)", bound.as_millis()),
            );
        } else {
            verdict.notes.push(line);
        }
    }
}
