//! The cluster member (PostgreSQL only; idle on SQLite): keeps this replica's lease alive with a heartbeat on
//! the database clock, trusts it locally until the heartbeat's send instant plus the TTL minus a margin,
//! claims free partitions up to the fair share and hands over its excess after draining it, runs the
//! takeover housekeeping of every partition it gains, and tells intake, the conversations and outbound what
//! it gained and lost. Started first and stopped last, so it releases its partitions after the drain.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::conversations::ManagerMsg;
use super::intake::IntakeMsg;
use super::outbound::OutboundMsg;
use super::{Deps, Directory};
use crate::cluster::plan::{self, MemberLoad, Step};
use crate::cluster::{FencedOp, Lease, LossReason, MemberId, Ownership, Partition};
use crate::config::ClusterSettings;
use crate::pipeline::Role;
use crate::store::{ClusterDb, LiveMember, StoreResult};
use crate::telemetry;

pub struct ClusterActor;

pub struct ClusterState {
    deps: Deps,
    /// Partitions being handed over, since when.
    shedding: HashMap<Partition, Instant>,
    /// The live members as the last rebalance read them.
    members: Vec<LiveMember>,
    /// The NOTIFY listener's task, then the heartbeat's.
    listener: Option<tokio::task::JoinHandle<()>>,
    beat: Option<tokio::task::JoinHandle<()>>,
    /// Whether the last look found the leases trusted (to count a lapse once).
    trusted: bool,
}

pub enum ClusterMsg {
    /// Look at the lease: a lapse of trust, partitions found fenced. (The heartbeat itself runs on a task of
    /// its own, so a slow rebalance never delays it.)
    Heartbeat,
    /// The heartbeat found this member's lease expired: everything is lost; join again as a new member.
    Expired,
    /// Claim free partitions, or hand over the excess.
    Rebalance,
    /// What this replica owns and which members are live.
    Status(RpcReplyPort<ClusterStatus>),
}

/// This replica's view of the cluster, for `/readyz`, `/api/v1/cluster` and the tests.
#[derive(Debug, Clone)]
pub struct ClusterStatus {
    /// None: solo (SQLite).
    pub member: Option<(MemberId, String)>,
    pub partitions: u16,
    pub owned: Vec<Lease>,
    pub members: Vec<LiveMember>,
}

impl Directory {
    pub fn cluster(&self) -> Option<ActorRef<ClusterMsg>> {
        self.lookup(Role::Cluster)
    }
}

impl Actor for ClusterActor {
    type Msg = ClusterMsg;
    type State = ClusterState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Cluster);
        Ok(ClusterState {
            deps,
            shedding: HashMap::new(),
            members: Vec::new(),
            listener: None,
            beat: None,
            trusted: true,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if state.deps.cluster_db.is_none() {
            return Ok(());
        }
        let settings = &state.deps.settings.cluster;
        metrics::gauge!(telemetry::CLUSTER_PARTITIONS).set(f64::from(settings.partitions));
        super::send_interval_counted(Role::Cluster, &myself, settings.heartbeat_interval, || {
            ClusterMsg::Heartbeat
        });
        super::send_interval_counted(Role::Cluster, &myself, settings.rebalance_interval, || {
            ClusterMsg::Rebalance
        });
        super::tell(Role::Cluster, &myself, ClusterMsg::Rebalance)?;
        state.beat = Some(tokio::spawn(beat(state.deps.clone(), myself.clone())));
        if settings.notify
            && let Some(db) = &state.deps.cluster_db
        {
            let directory = state.deps.directory.clone();
            let ownership = state.deps.ownership.clone();
            state.listener = Some(db.listen_inbox(move |partitions| {
                let mine = partitions.iter().any(|&n| {
                    crate::cluster::Partition::new(i64::from(n), ownership.partitions())
                        .is_some_and(|p| ownership.dispatches(p))
                });
                if mine && let Some(intake) = directory.intake() {
                    let _ = super::tell(Role::Intake, &intake, IntakeMsg::Poll);
                }
            }));
        }
        Ok(())
    }

    /// A graceful stop: everything else has drained by now (this actor stops last), so every partition is
    /// released and the member leaves, for the others to claim at once instead of after the TTL.
    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        for task in [state.listener.take(), state.beat.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        let (Some(db), Some(member)) = (&state.deps.cluster_db, state.deps.ownership.member())
        else {
            return Ok(());
        };
        let _ = db.set_draining(&member).await;
        let held = state.deps.ownership.held();
        match db.release(&member, &held).await {
            Ok(released) => {
                count_losses(LossReason::Shutdown, released.len());
                tracing::info!(released = released.len(), "partitions released on stop");
            }
            Err(err) => {
                tracing::warn!(error = %err, "partitions not released; others take them after the lease")
            }
        }
        state.deps.ownership.lose_all();
        metrics::gauge!(telemetry::CLUSTER_OWNED_PARTITIONS).set(0.0);
        let _ = db.deregister(&member).await;
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::Cluster);
        match msg {
            ClusterMsg::Heartbeat => look(state),
            ClusterMsg::Expired => rejoin(state).await,
            ClusterMsg::Rebalance => rebalance(state).await,
            ClusterMsg::Status(reply) => {
                let ownership = &state.deps.ownership;
                let _ = reply.send(ClusterStatus {
                    member: ownership
                        .member()
                        .zip(ownership.member_name().map(str::to_string)),
                    partitions: ownership.partitions(),
                    owned: ownership.held(),
                    members: state.members.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Renews the lease every heartbeat interval, on the cluster's own connection, and moves the local trust
/// deadline on: the database's lease runs from when it ran the statement, which is after `sent`.
async fn beat(deps: Deps, cluster: ActorRef<ClusterMsg>) {
    let (Some(db), settings) = (deps.cluster_db.clone(), deps.settings.cluster.clone()) else {
        return;
    };
    let mut ticks = tokio::time::interval(settings.heartbeat_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(member) = deps.ownership.member() else {
            return;
        };
        let sent = Instant::now();
        match db.heartbeat(&member, settings.member_ttl).await {
            Ok(true) => {
                metrics::histogram!(telemetry::CLUSTER_HEARTBEAT_DURATION)
                    .record(sent.elapsed().as_secs_f64());
                deps.ownership
                    .trust_until(sent + settings.member_ttl - settings.trust_margin);
            }
            Ok(false) => {
                let _ = super::tell(Role::Cluster, &cluster, ClusterMsg::Expired);
            }
            Err(err) => {
                tracing::warn!(error = %err, "cluster heartbeat failed; the lease is trusted until its deadline only")
            }
        }
    }
}

/// The lease expired in the database (this replica was paused or cut off): every partition is gone, and the
/// replica joins again as a new member, claiming a share through the normal rebalance.
async fn rejoin(state: &mut ClusterState) {
    let (Some(db), ownership) = (state.deps.cluster_db.clone(), state.deps.ownership.clone())
    else {
        return;
    };
    let settings = state.deps.settings.cluster.clone();
    // A heartbeat already sent for the old member may report its expiry more than once.
    if let Some(member) = ownership.member()
        && matches!(db.heartbeat(&member, settings.member_ttl).await, Ok(true))
    {
        return;
    }
    let lost = ownership.lose_all();
    tracing::warn!(
        lost = lost.len(),
        "this replica's lease expired (it was paused or cut off): its partitions are gone; joining again as a new member"
    );
    count_losses(LossReason::Heartbeat, lost.len());
    stop_work(&state.deps, &lost);
    state.shedding.clear();
    let fresh = MemberId::random();
    let name = ownership.member_name().unwrap_or_default().to_string();
    let registered = Instant::now();
    match db.register(&fresh, &name, settings.member_ttl).await {
        Ok(()) => {
            ownership.renew_member(fresh);
            ownership.trust_until(registered + settings.member_ttl - settings.trust_margin);
        }
        Err(err) => tracing::warn!(error = %err, "cannot register again yet"),
    }
    metrics::gauge!(telemetry::CLUSTER_OWNED_PARTITIONS).set(0.0);
}

/// Notices a lapse of trust (work on every partition stops until a heartbeat succeeds) and drops the
/// partitions a write found owned by another replica.
fn look(state: &mut ClusterState) {
    if state.deps.cluster_db.is_none() {
        return;
    }
    let ownership = state.deps.ownership.clone();
    let trusted = ownership.trust_left().is_some();
    if state.trusted && !trusted {
        let held: Vec<Partition> = ownership.held().iter().map(|l| l.partition).collect();
        tracing::warn!(
            held = held.len(),
            "past the lease's trust deadline: model calls and sends stop until a heartbeat succeeds"
        );
        count_losses(LossReason::Deadline, held.len());
        stop_work(&state.deps, &held);
    }
    state.trusted = trusted;
    let fenced = ownership.take_fenced();
    if !fenced.is_empty() {
        let held: Vec<Partition> = ownership.held().iter().map(|l| l.partition).collect();
        let lost: Vec<Partition> = fenced.into_iter().filter(|p| held.contains(p)).collect();
        if !lost.is_empty() {
            tracing::warn!(
                lost = lost.len(),
                "another replica owns partitions this one thought it held"
            );
            ownership.lose(&lost);
            count_losses(LossReason::Fenced, lost.len());
            stop_work(&state.deps, &lost);
        }
    }
    metrics::gauge!(telemetry::CLUSTER_OWNED_PARTITIONS).set(ownership.held().len() as f64);
}

async fn rebalance(state: &mut ClusterState) {
    let Some(db) = state.deps.cluster_db.clone() else {
        return;
    };
    let ownership = state.deps.ownership.clone();
    let Some(member) = ownership.member() else {
        return;
    };
    if ownership.trust_left().is_none() {
        return;
    }
    let settings = state.deps.settings.cluster.clone();
    let view = match db.view(settings.min_member_age).await {
        Ok(view) => view,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the cluster's members");
            return;
        }
    };
    metrics::gauge!(telemetry::CLUSTER_MEMBERS).set(view.members.len() as f64);
    let loads = loads(&view.members, &member, &ownership);
    state.members = view.members;
    match plan::rebalance(usize::from(settings.partitions), view.free, &loads) {
        Step::Claim(want) => {
            let offset = member_offset(&member, settings.partitions);
            match db.claim(&member, want, offset, settings.partitions).await {
                Ok(leases) if !leases.is_empty() => gained(state, &db, &member, leases).await,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "cannot claim partitions"),
            }
        }
        Step::Shed(count) => {
            let candidates: Vec<Partition> = ownership
                .held()
                .iter()
                .map(|l| l.partition)
                .filter(|p| !state.shedding.contains_key(p))
                .rev()
                .take(count.saturating_sub(state.shedding.len()))
                .collect();
            if !candidates.is_empty() {
                tracing::info!(
                    count = candidates.len(),
                    "handing partitions over to even out the shares"
                );
                ownership.shed(&candidates);
                let now = Instant::now();
                for partition in candidates {
                    state.shedding.insert(partition, now);
                }
            }
        }
        Step::Hold => {}
    }
    release_drained(state, &db, &member, settings.drain_timeout).await;
    metrics::gauge!(telemetry::CLUSTER_OWNED_PARTITIONS).set(ownership.held().len() as f64);
}

/// The live members as the plan weighs them; this replica's own count is what it holds now.
fn loads(members: &[LiveMember], me: &MemberId, ownership: &Ownership) -> Vec<MemberLoad> {
    members
        .iter()
        .map(|m| {
            let is_me = m.member == *me;
            MemberLoad {
                is_me,
                owned: if is_me {
                    ownership.held().len()
                } else {
                    m.owned
                },
                counted: (m.mature || is_me) && !m.draining,
            }
        })
        .collect()
}

/// Claims this replica's first share before anything is dispatched (a lone replica takes all at once), with
/// the takeover housekeeping, so intake's start-up replay and outbound's resume already see them. The
/// actor keeps rebalancing from there.
pub(crate) async fn claim_first_share(
    db: &ClusterDb,
    ownership: &Ownership,
    settings: &ClusterSettings,
) -> StoreResult<()> {
    let member = ownership.member().expect("a cluster member");
    let view = db.view(settings.min_member_age).await?;
    let loads = loads(&view.members, &member, ownership);
    if let Step::Claim(want) = plan::rebalance(usize::from(settings.partitions), view.free, &loads)
    {
        let offset = member_offset(&member, settings.partitions);
        let leases = db.claim(&member, want, offset, settings.partitions).await?;
        take_over(db, ownership, &member, &leases).await?;
    }
    Ok(())
}

/// The takeover housekeeping of newly claimed partitions (parts their previous owner left `sending` become
/// `ambiguous`), then the partitions are published as held.
async fn take_over(
    db: &ClusterDb,
    ownership: &Ownership,
    member: &MemberId,
    leases: &[Lease],
) -> StoreResult<()> {
    let ambiguous = db.take_over(member, leases).await?;
    if ambiguous > 0 {
        tracing::warn!(
            count = ambiguous,
            "reply parts a previous owner was sending are marked ambiguous"
        );
        metrics::counter!(telemetry::OUTBOUND_SENDS, "result" => "ambiguous").increment(ambiguous);
    }
    ownership.gain(leases);
    metrics::counter!(telemetry::CLUSTER_TAKEOVERS).increment(leases.len() as u64);
    Ok(())
}

/// Takes over newly claimed partitions, then picks up their waiting events and replies.
async fn gained(state: &mut ClusterState, db: &ClusterDb, member: &MemberId, leases: Vec<Lease>) {
    if let Err(err) = take_over(db, &state.deps.ownership, member, &leases).await {
        tracing::warn!(error = %err, "takeover housekeeping failed; the partitions are released again");
        let _ = db.release(member, &leases).await;
        return;
    }
    tracing::info!(
        gained = leases.len(),
        owned = state.deps.ownership.held().len(),
        "partitions taken over"
    );
    if let Some(intake) = state.deps.directory.intake() {
        // A drain, not a poll: a gained partition may hold a backlog, dispatched as fast as slots free up.
        let _ = super::tell(Role::Intake, &intake, IntakeMsg::Sweep { all: true });
    }
    if let Some(outbound) = state.deps.directory.outbound() {
        let _ = super::tell(Role::Outbound, &outbound, OutboundMsg::Resume);
    }
}

/// Releases the partitions being handed over whose in-flight events are done, or that waited
/// `drain_timeout` (their late completions are fenced).
async fn release_drained(
    state: &mut ClusterState,
    db: &ClusterDb,
    member: &MemberId,
    drain_timeout: Duration,
) {
    if state.shedding.is_empty() {
        return;
    }
    // Events still in a conversation here, and replies still sending or waiting here: a partition is handed
    // over once both are done, or its successor would take the replies for ambiguous.
    // Unknown (an actor did not answer): every partition counts as busy until the timeout.
    let intake = super::ask(
        || state.deps.directory.intake(),
        Role::Intake,
        IntakeMsg::InFlight,
        Duration::from_secs(2),
    )
    .await;
    let outbound = super::ask(
        || state.deps.directory.outbound(),
        Role::Outbound,
        OutboundMsg::Busy,
        Duration::from_secs(2),
    )
    .await;
    let busy: Option<Vec<Partition>> = match (intake, outbound) {
        (Ok(mut events), Ok(replies)) => {
            events.extend(replies);
            Some(events)
        }
        _ => None,
    };
    let ready: Vec<Lease> = state
        .deps
        .ownership
        .held()
        .into_iter()
        .filter(|l| {
            state.shedding.get(&l.partition).is_some_and(|since| {
                let idle = busy
                    .as_ref()
                    .is_some_and(|busy| !busy.contains(&l.partition));
                idle || since.elapsed() >= drain_timeout
            })
        })
        .collect();
    if ready.is_empty() {
        return;
    }
    match db.release(member, &ready).await {
        Ok(released) => {
            let fenced = ready.len() - released.len();
            if fenced > 0 {
                metrics::counter!(telemetry::CLUSTER_FENCED_WRITES, "op" => FencedOp::Release.as_str())
                    .increment(fenced as u64);
            }
            for partition in &ready {
                state.shedding.remove(&partition.partition);
            }
            state.deps.ownership.lose(&released);
            count_losses(LossReason::Shed, released.len());
            stop_work(&state.deps, &released);
        }
        Err(err) => tracing::warn!(error = %err, "cannot hand partitions over yet"),
    }
}

/// Stops this replica's work on `partitions`: their conversations (and so their model calls) and their
/// queued replies; their rows stay for the next owner.
fn stop_work(deps: &Deps, partitions: &[Partition]) {
    if partitions.is_empty() {
        return;
    }
    if let Some(manager) = deps.directory.conversations() {
        let _ = super::tell(
            Role::Conversations,
            &manager,
            ManagerMsg::Release(partitions.to_vec()),
        );
    }
    if let Some(outbound) = deps.directory.outbound() {
        let _ = super::tell(
            Role::Outbound,
            &outbound,
            OutboundMsg::Release(partitions.to_vec()),
        );
    }
}

fn count_losses(reason: LossReason, count: usize) {
    if count > 0 {
        metrics::counter!(telemetry::CLUSTER_LOSSES, "reason" => reason.as_str())
            .increment(count as u64);
    }
}

/// Where a member starts looking for free partitions, so members claiming at once mostly skip each other.
fn member_offset(member: &MemberId, partitions: u16) -> u16 {
    let hash = member
        .as_str()
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    (hash % u32::from(partitions.max(1))) as u16
}
