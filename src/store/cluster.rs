//! The cluster's statements (PostgreSQL only), on the database clock: members and their leases, partition
//! claims and releases with their epochs, and the takeover housekeeping of a gained partition. They run on
//! a connection of their own ([`ClusterDb`]), so a starved pool never looks like a dead replica.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement, Value};
use secrecy::ExposeSecret;

use super::{StoreError, StoreResult};
use crate::cluster::{Lease, MemberId};
use crate::config::DatabaseSettings;
use crate::domain::Partition;

/// A live member as the rebalance tick sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveMember {
    pub member: MemberId,
    pub name: String,
    pub owned: usize,
    /// Older than the minimum age the tick asked for.
    pub mature: bool,
    pub draining: bool,
    pub lease_remaining: Duration,
}

/// What a rebalance tick reads in one statement.
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub members: Vec<LiveMember>,
    /// Partitions with no live owner.
    pub free: usize,
}

/// Partition ownership as the database has it, for `/api/v1/cluster` and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionOwner {
    pub partition: i16,
    pub owner: Option<MemberId>,
    pub epoch: i64,
}

/// The cluster's own connection.
#[derive(Clone)]
pub struct ClusterDb {
    db: DatabaseConnection,
}

fn millis(d: Duration) -> Value {
    Value::from(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn member_value(member: &MemberId) -> Value {
    Value::from(member.as_str().to_string())
}

impl ClusterDb {
    /// Three connections: the NOTIFY listener holds one, and the heartbeat and the rebalance never wait for
    /// each other's slow statement.
    pub async fn connect(settings: &DatabaseSettings) -> StoreResult<Self> {
        let mut opts = ConnectOptions::new(settings.url.expose_secret().to_string());
        opts.max_connections(3)
            .min_connections(1)
            .acquire_timeout(settings.acquire_timeout)
            .connect_timeout(settings.acquire_timeout)
            .sqlx_logging(false);
        if let Some(name) = settings.application_name.clone() {
            opts.map_sqlx_postgres_opts(move |o| o.application_name(&name));
        }
        Ok(Self {
            db: Database::connect(opts).await?,
        })
    }

    async fn rows(&self, sql: &str, values: Vec<Value>) -> StoreResult<Vec<sea_orm::QueryResult>> {
        Ok(self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                self.db.get_database_backend(),
                sql,
                values,
            ))
            .await?)
    }

    /// The partitions the database was created with.
    pub async fn partitions(&self) -> StoreResult<u16> {
        let rows = self
            .rows("SELECT partitions FROM cluster_config WHERE id = 1", vec![])
            .await?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError(sea_orm::DbErr::Custom("no cluster_config row".into())))?;
        let partitions: i16 = row.try_get("", "partitions")?;
        Ok(partitions as u16)
    }

    /// Registers a new incarnation with a lease of `ttl` from the database's now.
    pub async fn register(&self, member: &MemberId, name: &str, ttl: Duration) -> StoreResult<()> {
        self.rows(
            "INSERT INTO cluster_members (member_id, name, lease_until)
             VALUES ($1, $2, now() + make_interval(secs => $3::bigint / 1000.0))
             RETURNING member_id",
            vec![member_value(member), name.into(), millis(ttl)],
        )
        .await?;
        Ok(())
    }

    /// Renews the member's lease, only while it has not expired: an expired member stays dead (it must
    /// re-register as a new one). False when the lease had expired.
    pub async fn heartbeat(&self, member: &MemberId, ttl: Duration) -> StoreResult<bool> {
        let rows = self
            .rows(
                "UPDATE cluster_members
                    SET heartbeat_at = now(),
                        lease_until = now() + make_interval(secs => $2::bigint / 1000.0)
                  WHERE member_id = $1 AND lease_until > now()
                  RETURNING member_id",
                vec![member_value(member), millis(ttl)],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// Live members with their owned counts, and how many partitions have no live owner. `min_age`: younger
    /// members are not `mature`.
    pub async fn view(&self, min_age: Duration) -> StoreResult<ClusterView> {
        let rows = self
            .rows(
                "SELECT m.member_id, m.name, m.draining,
                        m.started_at < now() - make_interval(secs => $1::bigint / 1000.0) AS mature,
                        GREATEST(0, (EXTRACT(EPOCH FROM (m.lease_until - now())) * 1000))::bigint
                            AS lease_remaining_ms,
                        (SELECT count(*) FROM partition_owners po WHERE po.owner_id = m.member_id)
                            AS owned,
                        (SELECT count(*) FROM partition_owners po
                          WHERE po.owner_id IS NULL OR po.owner_id NOT IN
                                (SELECT member_id FROM cluster_members WHERE lease_until > now()))
                            AS free
                   FROM cluster_members m
                  WHERE m.lease_until > now()
                  ORDER BY m.started_at, m.member_id",
                vec![millis(min_age)],
            )
            .await?;
        let mut free = None;
        let mut members = Vec::with_capacity(rows.len());
        for row in rows {
            let owned: i64 = row.try_get("", "owned")?;
            let remaining: i64 = row.try_get("", "lease_remaining_ms")?;
            free = Some(row.try_get::<i64>("", "free")?);
            members.push(LiveMember {
                member: MemberId::from_stored(row.try_get("", "member_id")?),
                name: row.try_get("", "name")?,
                owned: owned as usize,
                mature: row.try_get("", "mature")?,
                draining: row.try_get("", "draining")?,
                lease_remaining: Duration::from_millis(remaining.max(0) as u64),
            });
        }
        let free = match free {
            Some(free) => free,
            None => {
                let rows = self
                    .rows(
                        "SELECT count(*) AS free FROM partition_owners po
                          WHERE po.owner_id IS NULL OR po.owner_id NOT IN
                                (SELECT member_id FROM cluster_members WHERE lease_until > now())",
                        vec![],
                    )
                    .await?;
                rows.first()
                    .map(|r| r.try_get::<i64>("", "free"))
                    .transpose()?
                    .unwrap_or(0)
            }
        };
        Ok(ClusterView {
            members,
            free: free as usize,
        })
    }

    /// Claims up to `want` partitions whose owner is gone, starting at `offset` so members spread out, each
    /// with its epoch moved on. Rows a completion still holds are skipped (tried again next tick), and a
    /// member whose own lease expired claims nothing.
    pub async fn claim(
        &self,
        member: &MemberId,
        want: usize,
        offset: u16,
        partitions: u16,
    ) -> StoreResult<Vec<Lease>> {
        let rows = self
            .rows(
                "WITH me AS (
                     SELECT 1 FROM cluster_members WHERE member_id = $1 AND lease_until > now()
                 ), live AS (
                     SELECT member_id FROM cluster_members WHERE lease_until > now()
                 ), free AS (
                     SELECT po.partition FROM partition_owners po
                      WHERE EXISTS (SELECT 1 FROM me)
                        AND (po.owner_id IS NULL OR po.owner_id NOT IN (SELECT member_id FROM live))
                      ORDER BY (po.partition + $3) % $4
                      LIMIT $2
                        FOR UPDATE SKIP LOCKED
                 )
                 UPDATE partition_owners po
                    SET owner_id = $1, epoch = po.epoch + 1, owned_since = now()
                   FROM free
                  WHERE po.partition = free.partition
                 RETURNING po.partition, po.epoch",
                vec![
                    member_value(member),
                    Value::from(want as i64),
                    Value::from(i32::from(offset)),
                    Value::from(i32::from(partitions)),
                ],
            )
            .await?;
        leases(rows, partitions)
    }

    /// Gives up partitions held at these epochs (epoch moved on, owner cleared); the ones still ours.
    pub async fn release(
        &self,
        member: &MemberId,
        leases: &[Lease],
    ) -> StoreResult<Vec<Partition>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let parts: Vec<i16> = leases.iter().map(|l| l.partition.as_i16()).collect();
        let epochs: Vec<i64> = leases.iter().map(|l| l.epoch).collect();
        let rows = self
            .rows(
                "UPDATE partition_owners po
                    SET owner_id = NULL, epoch = po.epoch + 1, owned_since = NULL
                   FROM unnest($2::smallint[], $3::bigint[]) AS h(partition, epoch)
                  WHERE po.partition = h.partition AND po.epoch = h.epoch AND po.owner_id = $1
                 RETURNING po.partition",
                vec![member_value(member), parts.into(), epochs.into()],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let number: i16 = row.try_get("", "partition")?;
                Ok(Partition::new(i64::from(number), 256).expect("a stored partition"))
            })
            .collect()
    }

    /// A graceful leave: marks the member draining, so nobody counts it for the fair share.
    pub async fn set_draining(&self, member: &MemberId) -> StoreResult<()> {
        self.rows(
            "UPDATE cluster_members SET draining = true WHERE member_id = $1 RETURNING member_id",
            vec![member_value(member)],
        )
        .await?;
        Ok(())
    }

    /// The member's row goes, after its partitions were released.
    pub async fn deregister(&self, member: &MemberId) -> StoreResult<()> {
        self.rows(
            "DELETE FROM cluster_members WHERE member_id = $1 RETURNING member_id",
            vec![member_value(member)],
        )
        .await?;
        Ok(())
    }

    /// Takeover housekeeping, run once per gained partition before its events are dispatched: parts a
    /// previous owner left `sending` may have reached Zalo, so they become `ambiguous` (never resent). Fenced
    /// by the epoch just gained: a claim that lost the partition meanwhile changes nothing. The parts marked.
    pub async fn take_over(&self, member: &MemberId, leases: &[Lease]) -> StoreResult<u64> {
        if leases.is_empty() {
            return Ok(0);
        }
        let parts: Vec<i16> = leases.iter().map(|l| l.partition.as_i16()).collect();
        let epochs: Vec<i64> = leases.iter().map(|l| l.epoch).collect();
        let rows = self
            .rows(
                "WITH lease AS (
                     SELECT po.partition, po.epoch FROM partition_owners po
                       JOIN unnest($2::smallint[], $3::bigint[]) AS h(partition, epoch)
                         ON po.partition = h.partition AND po.epoch = h.epoch
                      WHERE po.owner_id = $1
                      ORDER BY po.partition
                        FOR SHARE OF po
                 )
                 UPDATE outbound_messages o
                    SET state = 'ambiguous', updated_at = now()
                   FROM lease
                  WHERE o.partition = lease.partition AND o.state = 'sending'
                    AND (o.claim_epoch IS NULL OR o.claim_epoch < lease.epoch)
                 RETURNING o.id",
                vec![member_value(member), parts.into(), epochs.into()],
            )
            .await?;
        Ok(rows.len() as u64)
    }

    /// Every partition's owner and epoch.
    pub async fn owners(&self) -> StoreResult<Vec<PartitionOwner>> {
        let rows = self
            .rows(
                "SELECT partition, owner_id, epoch FROM partition_owners ORDER BY partition",
                vec![],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(PartitionOwner {
                    partition: row.try_get("", "partition")?,
                    owner: row
                        .try_get::<Option<String>>("", "owner_id")?
                        .map(MemberId::from_stored),
                    epoch: row.try_get("", "epoch")?,
                })
            })
            .collect()
    }

    /// Hints the owners of these partitions that events are waiting (delivered at commit; lost ones are
    /// found by the owners' poll).
    pub async fn notify_inbox(&self, partitions: &[Partition]) -> StoreResult<()> {
        notify_inbox(&self.db, partitions).await
    }

    /// Listens for inbox hints on a connection of its own, calling `hint` with the partitions each names;
    /// reconnects after a lost connection (hints sent meanwhile are lost: the poll finds their events).
    pub fn listen_inbox(
        &self,
        hint: impl Fn(Vec<u16>) + Send + Sync + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let pool = self.db.get_postgres_connection_pool().clone();
        tokio::spawn(async move {
            loop {
                let listener = async {
                    let mut listener =
                        sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
                    listener.listen(INBOX_CHANNEL).await?;
                    loop {
                        let note = listener.recv().await?;
                        let partitions = note
                            .payload()
                            .split(',')
                            .filter_map(|p| p.trim().parse().ok())
                            .collect();
                        hint(partitions);
                    }
                    #[allow(unreachable_code)]
                    Ok::<(), sea_orm::sqlx::Error>(())
                };
                if let Err(err) = listener.await {
                    tracing::debug!(error = %err, "inbox hint listener lost its connection; reconnecting");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    }
}

/// The channel of the inbox hints.
pub const INBOX_CHANNEL: &str = "ts_inbox";

pub(super) async fn notify_inbox<C: ConnectionTrait>(
    db: &C,
    partitions: &[Partition],
) -> StoreResult<()> {
    let payload = partitions
        .iter()
        .map(|p| p.number().to_string())
        .collect::<Vec<_>>()
        .join(",");
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT pg_notify($1, $2)",
        vec![INBOX_CHANNEL.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

fn leases(rows: Vec<sea_orm::QueryResult>, partitions: u16) -> StoreResult<Vec<Lease>> {
    let mut leases = rows
        .into_iter()
        .map(|row| {
            let number: i16 = row.try_get("", "partition")?;
            Ok(Lease {
                partition: Partition::new(i64::from(number), partitions).ok_or_else(|| {
                    StoreError(sea_orm::DbErr::Custom(format!(
                        "partition {number} outside 0..{partitions}"
                    )))
                })?,
                epoch: row.try_get("", "epoch")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    leases.sort_by_key(|l| l.partition);
    Ok(leases)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use secrecy::SecretString;

    use super::*;
    use crate::cluster::Ownership;
    use crate::domain::{OutboundState, UserId};
    use crate::pipeline::Outcome;
    use crate::store::group_commit::inbox::tests::{postgres_admin_url, user_event};
    use crate::store::{ChatLine, Completion, Store};

    async fn fresh_database() -> Option<String> {
        let admin = postgres_admin_url()?;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let conn = Database::connect(admin.as_str()).await.unwrap();
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        conn.close().await.ok();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        Some(url.to_string())
    }

    fn settings(url: &str) -> DatabaseSettings {
        DatabaseSettings {
            url: SecretString::from(url.to_string()),
            max_connections: 4,
            acquire_timeout: Duration::from_secs(2),
            token_key: None,
            application_name: None,
        }
    }

    /// A replica: its store, fenced by its own ownership, holding what it claimed.
    async fn replica(url: &str, db: &ClusterDb, name: &str) -> (Store, Ownership) {
        let store = Store::connect(&settings(url)).await.unwrap();
        let member = MemberId::random();
        db.register(&member, name, Duration::from_secs(60))
            .await
            .unwrap();
        let ownership = Ownership::cluster(member.clone(), name.into(), 256, false);
        let leases = db.claim(&member, 256, 0, 256).await.unwrap();
        ownership.gain(&leases);
        ownership.trust_until(Instant::now() + Duration::from_secs(60));
        store.join_cluster(ownership.clone(), false);
        (store, ownership)
    }

    fn completion(inbox_id: i64, key: &str, user: &UserId) -> Completion {
        Completion {
            inbox_id,
            event_key: key.to_string(),
            user: user.clone(),
            user_message: Some(ChatLine {
                content: format!("question {key}"),
                message_type: "text".into(),
            }),
            reply_parts: vec![format!("answer {key} 1"), format!("answer {key} 2")],
            outcome: Outcome::Llm,
        }
    }

    /// The fence on a real PostgreSQL: after a replica's lease expired and another claimed its partitions,
    /// the stale replica's completion and part claim change nothing and report the partition lost, its
    /// heartbeat does not revive it, and the new owner's takeover turns the stale `sending` part ambiguous.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stale_owner_writes_nothing_once_another_replica_took_its_partitions() {
        let Some(url) = fresh_database().await else {
            return;
        };
        let setup = Store::connect(&settings(&url)).await.unwrap();
        setup.migrate().await.unwrap();
        let db = ClusterDb::connect(&settings(&url)).await.unwrap();
        assert_eq!(db.partitions().await.unwrap(), 256);

        let (old, old_owner) = replica(&url, &db, "r1").await;
        assert_eq!(
            old_owner.held().len(),
            256,
            "a lone replica claims everything"
        );
        let user = UserId::parse("7000000000000009001").unwrap();
        let first = user_event(&old, "f-1", &user).await;
        let parts = old
            .complete_event(completion(first, "f-1", &user))
            .await
            .unwrap()
            .expect("the owner completes");
        assert_eq!(parts.len(), 2);
        let second = user_event(&old, "f-2", &user).await;

        // r1 stops heartbeating (paused); its lease runs out; r2 joins and claims every partition.
        let member = old_owner.member().unwrap();
        db.rows(
            "UPDATE cluster_members SET lease_until = now() - interval '1 second' WHERE member_id = $1 \
             RETURNING member_id",
            vec![member_value(&member)],
        )
        .await
        .unwrap();
        let (new, new_owner) = replica(&url, &db, "r2").await;
        assert_eq!(new_owner.held().len(), 256);
        let partition = new_owner.partition_of(&user);
        assert_eq!(
            new_owner.lease(partition).unwrap().epoch,
            old_owner.lease(partition).unwrap().epoch + 1
        );

        // r1 still trusts its lease locally (the test switch of a frozen process): the database refuses.
        let fenced = old.complete_event(completion(second, "f-2", &user)).await;
        assert!(
            fenced.unwrap_err().to_string().contains("fenced"),
            "a fenced completion is an error, never \"handled already\""
        );
        assert!(
            new.messages_for(&user).await.unwrap().len() == 2,
            "nothing written for f-2"
        );
        assert!(old_owner.take_fenced().contains(&partition));
        assert!(
            !old.mark_sending(parts[1].id, &user).await.unwrap(),
            "a stale claim is refused"
        );
        assert!(
            !db.heartbeat(&member, Duration::from_secs(5)).await.unwrap(),
            "an expired lease is never revived"
        );

        // r2's takeover: the part r1 left `sending` may have reached Zalo, so it is never resent.
        let held = new_owner.held();
        assert_eq!(
            db.take_over(&new_owner.member().unwrap(), &held)
                .await
                .unwrap(),
            1
        );
        let rows = new.outbound_for(&user).await.unwrap();
        let state_of = |id: i64| rows.iter().find(|r| r.id == id).unwrap().state;
        assert_eq!(state_of(parts[0].id), OutboundState::Ambiguous);
        assert_eq!(state_of(parts[1].id), OutboundState::Queued);
        assert!(new.mark_sending(parts[1].id, &user).await.unwrap());
        let completed = new
            .complete_event(completion(second, "f-2", &user))
            .await
            .unwrap();
        assert!(
            completed.is_some(),
            "the owner completes what the stale one could not"
        );

        // A hand-over at the held epoch works once; a stale epoch releases nothing.
        let one = new_owner.lease(partition).unwrap();
        let released = db
            .release(&new_owner.member().unwrap(), &[one])
            .await
            .unwrap();
        assert_eq!(released, vec![partition]);
        assert!(
            db.release(&new_owner.member().unwrap(), &[one])
                .await
                .unwrap()
                .is_empty()
        );
    }
}
