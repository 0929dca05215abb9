//! The fence of a pipeline batch: the owner rows of the partitions its completions and claims act on, locked
//! `FOR SHARE` as the transaction's first statement and compared with the epochs this replica holds. A
//! takeover's `UPDATE` of an owner row conflicts with that lock, so either the batch commits first (and the
//! new owner sees its writes) or the takeover does (and the batch writes nothing for that partition).

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, Statement, Value};

use crate::cluster::{FencedOp, Ownership};
use crate::domain::Partition;
use crate::store::{Completion, StoreResult};
use crate::telemetry;

/// What a batch may write: everything (no fence: SQLite, solo, the test switch) or the partitions held.
#[derive(Debug, Default)]
pub(in crate::store) struct Fenced {
    on: bool,
    partitions: u16,
    /// Held partitions and their epochs.
    held: HashMap<Partition, i64>,
}

impl Fenced {
    pub(super) fn is_on(&self) -> bool {
        self.on
    }

    pub(super) fn holds(&self, partition: Partition) -> bool {
        !self.on || self.held.contains_key(&partition)
    }

    /// A conversation's group: one user, so one partition.
    pub(super) fn holds_all(&self, group: &[Completion]) -> bool {
        !self.on
            || group
                .iter()
                .all(|c| self.holds(Partition::of(&c.user, self.partitions)))
    }

    /// The epoch a reply part of `partition` is claimed under (None without a fence).
    pub(super) fn epoch(&self, partition: Partition) -> Option<i64> {
        self.held.get(&partition).copied()
    }

    pub(super) fn partition_of(&self, completion: &Completion) -> Partition {
        Partition::of(&completion.user, self.partitions)
    }
}

/// Locks the owner rows a batch acts on (`wanted`: the partition of each completion and claim, from the
/// partition count) and tells which are held at this replica's epochs. Partitions not held
/// are counted, and those this replica believed it held are reported to `ownership` (the cluster actor drops
/// them).
pub(super) async fn fence<C: ConnectionTrait>(
    conn: &C,
    ownership: Option<&Ownership>,
    wanted: impl FnOnce(u16) -> BTreeSet<(Partition, FencedOp)>,
) -> StoreResult<Fenced> {
    let Some(ownership) = ownership.filter(|o| o.fences()) else {
        return Ok(Fenced {
            partitions: ownership.map_or(crate::domain::DEFAULT_PARTITIONS, Ownership::partitions),
            ..Fenced::default()
        });
    };
    let partitions = ownership.partitions();
    let wanted = wanted(partitions);
    let mut fenced = Fenced {
        on: true,
        partitions,
        held: HashMap::new(),
    };
    if wanted.is_empty() {
        return Ok(fenced);
    }
    // Only partitions this replica still trusts are asked for; the rest are refused without a query.
    let local: HashMap<Partition, i64> = wanted
        .iter()
        .filter_map(|(p, _)| ownership.lease(*p).map(|l| (*p, l.epoch)))
        .collect();
    if !local.is_empty() {
        let mut numbers: Vec<i16> = local.keys().map(|p| p.as_i16()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        let member = ownership.member().expect("a fencing member");
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                conn.get_database_backend(),
                "SELECT partition, epoch FROM partition_owners
                  WHERE owner_id = $1 AND partition = ANY($2::smallint[])
                  ORDER BY partition
                    FOR SHARE",
                vec![Value::from(member.as_str().to_string()), numbers.into()],
            ))
            .await?;
        for row in rows {
            let number: i16 = row.try_get("", "partition")?;
            let epoch: i64 = row.try_get("", "epoch")?;
            if let Some(partition) = Partition::new(i64::from(number), partitions)
                && local.get(&partition) == Some(&epoch)
            {
                fenced.held.insert(partition, epoch);
            }
        }
    }
    let mut reported = BTreeSet::new();
    for (partition, op) in wanted {
        if fenced.held.contains_key(&partition) {
            continue;
        }
        metrics::counter!(telemetry::CLUSTER_FENCED_WRITES, "op" => op.as_str()).increment(1);
        tracing::debug!(%partition, op = op.as_str(), "write fenced: the partition is not held here");
        // Held and trusted here, yet the database gives it to another replica: lost. (Untrusted ones are
        // the cluster actor's to settle at its next heartbeat.)
        if local.contains_key(&partition) && reported.insert(partition) {
            ownership.report_fenced(partition);
        }
    }
    Ok(fenced)
}
