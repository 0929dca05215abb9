//! What this replica owns right now, shared by the actors that act on ownership.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::domain::{Partition, UserId};

/// One process incarnation in `cluster_members`: a restart is a new member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemberId(String);

impl MemberId {
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// As read back from `cluster_members` or `partition_owners`.
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A partition held at an epoch: the fencing token a write acting on that partition must present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub partition: Partition,
    pub epoch: i64,
}

/// The ownership snapshot: cheap to clone, read on every dispatch, claim and completion.
#[derive(Clone)]
pub struct Ownership(Arc<Inner>);

struct Inner {
    /// None: solo (SQLite, a side instance): everything owned at epoch 0, nothing fenced. The id changes
    /// when an expired member registers again as a new incarnation.
    member: Option<(RwLock<MemberId>, String)>,
    partitions: u16,
    /// Test-only (`TRADESPHERE_FAULTS=cluster_no_fence`): writes and sends ignore ownership, so the
    /// tests can show they would catch a missing fence.
    no_fence: bool,
    held: RwLock<Held>,
    /// Partitions a write found taken by another replica, for the cluster actor to drop.
    fenced: Mutex<Vec<Partition>>,
}

#[derive(Default)]
struct Held {
    epochs: BTreeMap<Partition, i64>,
    /// Partitions being handed over: still held (their in-flight work may finish) but not dispatched.
    shedding: BTreeMap<Partition, ()>,
    /// The leases are trusted until then (the heartbeat's send instant plus the TTL minus a margin), on the
    /// monotonic clock, so no other machine's clock is compared.
    trusted_until: Option<Instant>,
}

impl std::fmt::Debug for Ownership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ownership")
            .field("cluster", &self.is_cluster())
            .field("owned", &self.owned_count())
            .finish()
    }
}

impl Ownership {
    /// Single process: every partition owned, forever, at epoch 0.
    pub fn solo(partitions: u16) -> Self {
        Self::build(None, partitions, false)
    }

    /// A cluster member that owns nothing until the cluster actor publishes its claims.
    pub fn cluster(member: MemberId, name: String, partitions: u16, no_fence: bool) -> Self {
        Self::build(Some((RwLock::new(member), name)), partitions, no_fence)
    }

    fn build(member: Option<(RwLock<MemberId>, String)>, partitions: u16, no_fence: bool) -> Self {
        Self(Arc::new(Inner {
            member,
            partitions,
            no_fence,
            held: RwLock::new(Held::default()),
            fenced: Mutex::new(Vec::new()),
        }))
    }

    pub fn is_cluster(&self) -> bool {
        self.0.member.is_some()
    }

    /// Whether writes and sends check ownership: a cluster member without the test-only switch.
    pub fn fences(&self) -> bool {
        self.is_cluster() && !self.0.no_fence
    }

    pub fn member(&self) -> Option<MemberId> {
        self.0
            .member
            .as_ref()
            .map(|(id, _)| id.read().expect("member lock").clone())
    }

    /// A new incarnation after the old one's lease expired (nothing is held any more).
    pub fn renew_member(&self, member: MemberId) {
        if let Some((id, _)) = &self.0.member {
            *id.write().expect("member lock") = member;
        }
    }

    pub fn member_name(&self) -> Option<&str> {
        self.0.member.as_ref().map(|(_, name)| name.as_str())
    }

    pub fn partitions(&self) -> u16 {
        self.0.partitions
    }

    pub fn partition_of(&self, user: &UserId) -> Partition {
        Partition::of(user, self.0.partitions)
    }

    /// The lease to present for a write on `partition`: held and trusted now (always, solo).
    pub fn lease(&self, partition: Partition) -> Option<Lease> {
        if !self.fences() {
            return Some(Lease {
                partition,
                epoch: self.epoch_of(partition).unwrap_or(0),
            });
        }
        let held = self.0.held.read().expect("ownership lock");
        let trusted = held
            .trusted_until
            .is_some_and(|until| Instant::now() < until);
        let epoch = *held.epochs.get(&partition)?;
        trusted.then_some(Lease { partition, epoch })
    }

    fn epoch_of(&self, partition: Partition) -> Option<i64> {
        self.0
            .held
            .read()
            .expect("ownership lock")
            .epochs
            .get(&partition)
            .copied()
    }

    /// Whether this replica may start new work (dispatch an event, send a part) for `partition`.
    pub fn dispatches(&self, partition: Partition) -> bool {
        if !self.fences() {
            return !self.is_cluster() || self.epoch_of(partition).is_some();
        }
        let shedding = self
            .0
            .held
            .read()
            .expect("ownership lock")
            .shedding
            .contains_key(&partition);
        !shedding && self.lease(partition).is_some()
    }

    pub fn dispatches_user(&self, user: &UserId) -> bool {
        self.dispatches(self.partition_of(user))
    }

    /// The partitions whose pending work this replica picks up: None = all of them (solo, or a member
    /// holding every partition, so reads need no partition filter).
    pub fn dispatched(&self) -> Option<Vec<Partition>> {
        if !self.is_cluster() {
            return None;
        }
        let held = self.0.held.read().expect("ownership lock");
        let trusted = !self.fences() || held.trusted_until.is_some_and(|u| Instant::now() < u);
        if trusted
            && held.shedding.is_empty()
            && held.epochs.len() == usize::from(self.0.partitions)
        {
            return None;
        }
        Some(if trusted {
            held.epochs
                .keys()
                .filter(|p| !held.shedding.contains_key(p))
                .copied()
                .collect()
        } else {
            Vec::new()
        })
    }

    /// Held partitions and their epochs (solo: none, it holds no leases).
    pub fn held(&self) -> Vec<Lease> {
        self.0
            .held
            .read()
            .expect("ownership lock")
            .epochs
            .iter()
            .map(|(partition, epoch)| Lease {
                partition: *partition,
                epoch: *epoch,
            })
            .collect()
    }

    pub fn owned_count(&self) -> usize {
        if self.is_cluster() {
            self.0.held.read().expect("ownership lock").epochs.len()
        } else {
            usize::from(self.0.partitions)
        }
    }

    /// The share of the app-wide limits (Zalo's send rate, the model's daily budget) this replica may use:
    /// its owned fraction of the partitions (1 solo).
    pub fn share(&self) -> f64 {
        self.owned_count() as f64 / f64::from(self.0.partitions.max(1))
    }

    /// The time left on the local trust (None solo or when nothing is trusted).
    pub fn trust_left(&self) -> Option<std::time::Duration> {
        let held = self.0.held.read().expect("ownership lock");
        held.trusted_until
            .and_then(|until| until.checked_duration_since(Instant::now()))
    }

    // Written by the cluster actor only.

    pub fn gain(&self, leases: &[Lease]) {
        let mut held = self.0.held.write().expect("ownership lock");
        for lease in leases {
            held.epochs.insert(lease.partition, lease.epoch);
            held.shedding.remove(&lease.partition);
        }
    }

    pub fn lose(&self, partitions: &[Partition]) {
        let mut held = self.0.held.write().expect("ownership lock");
        for partition in partitions {
            held.epochs.remove(partition);
            held.shedding.remove(partition);
        }
    }

    pub fn lose_all(&self) -> Vec<Partition> {
        let mut held = self.0.held.write().expect("ownership lock");
        held.shedding.clear();
        held.trusted_until = None;
        std::mem::take(&mut held.epochs).into_keys().collect()
    }

    pub fn shed(&self, partitions: &[Partition]) {
        let mut held = self.0.held.write().expect("ownership lock");
        for partition in partitions {
            if held.epochs.contains_key(partition) {
                held.shedding.insert(*partition, ());
            }
        }
    }

    pub fn trust_until(&self, until: Instant) {
        self.0.held.write().expect("ownership lock").trusted_until = Some(until);
    }

    /// Reported by the store when a write found `partition` held by someone else.
    pub fn report_fenced(&self, partition: Partition) {
        self.0.fenced.lock().expect("fenced lock").push(partition);
    }

    pub fn take_fenced(&self) -> Vec<Partition> {
        std::mem::take(&mut *self.0.fenced.lock().expect("fenced lock"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn p(n: i64) -> Partition {
        Partition::new(n, 256).unwrap()
    }

    #[test]
    fn solo_owns_every_partition_at_epoch_zero() {
        let solo = Ownership::solo(256);
        assert_eq!(
            solo.lease(p(7)),
            Some(Lease {
                partition: p(7),
                epoch: 0
            })
        );
        assert!(solo.dispatches(p(255)));
        assert_eq!(solo.dispatched(), None);
        assert_eq!(solo.share(), 1.0);
    }

    #[test]
    fn a_member_acts_only_on_held_and_trusted_partitions() {
        let member = Ownership::cluster(MemberId::random(), "r1".into(), 256, false);
        assert_eq!(member.lease(p(1)), None, "nothing held yet");
        member.gain(&[Lease {
            partition: p(1),
            epoch: 4,
        }]);
        assert_eq!(member.lease(p(1)), None, "held but not trusted yet");
        member.trust_until(Instant::now() + Duration::from_secs(60));
        assert_eq!(member.lease(p(1)).map(|l| l.epoch), Some(4));
        assert!(member.dispatches(p(1)));
        assert!(!member.dispatches(p(2)));
        assert_eq!(member.dispatched(), Some(vec![p(1)]));
        assert_eq!(member.share(), 1.0 / 256.0);

        member.shed(&[p(1)]);
        assert!(
            !member.dispatches(p(1)),
            "a partition being handed over takes no new work"
        );
        assert!(
            member.lease(p(1)).is_some(),
            "but its in-flight work may still finish"
        );

        member.trust_until(Instant::now() - Duration::from_millis(1));
        member.gain(&[Lease {
            partition: p(1),
            epoch: 5,
        }]);
        assert_eq!(
            member.lease(p(1)),
            None,
            "past the trust deadline nothing is written"
        );
        assert_eq!(member.dispatched(), Some(vec![]));
    }

    #[test]
    fn a_member_holding_every_partition_reads_without_a_filter() {
        let member = Ownership::cluster(MemberId::random(), "r1".into(), 4, false);
        let all: Vec<Lease> = (0..4)
            .map(|n| Lease {
                partition: Partition::new(n, 4).unwrap(),
                epoch: 1,
            })
            .collect();
        member.gain(&all);
        member.trust_until(Instant::now() + Duration::from_secs(60));
        assert_eq!(member.dispatched(), None);
        member.shed(&[Partition::new(0, 4).unwrap()]);
        assert_eq!(member.dispatched().map(|d| d.len()), Some(3));
    }

    #[test]
    fn the_test_switch_removes_the_fence_but_not_the_partitioning() {
        let member = Ownership::cluster(MemberId::random(), "r1".into(), 256, true);
        assert!(!member.fences());
        assert!(member.lease(p(3)).is_some(), "writes pass without a lease");
        assert!(!member.dispatches(p(3)), "dispatch still follows claims");
        member.gain(&[Lease {
            partition: p(3),
            epoch: 1,
        }]);
        assert!(member.dispatches(p(3)), "even without trust");
    }

    #[test]
    fn fenced_partitions_are_reported_once() {
        let member = Ownership::cluster(MemberId::random(), "r1".into(), 256, false);
        member.report_fenced(p(9));
        assert_eq!(member.take_fenced(), vec![p(9)]);
        assert!(member.take_fenced().is_empty());
    }
}
