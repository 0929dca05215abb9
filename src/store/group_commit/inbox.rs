//! The webhook inbox's group commit.
//!
//! Every 200 of the webhook means "committed", and a commit costs far more than an insert, so the webhook's
//! events share commits ([`GroupCommit`](super::GroupCommit)): each batch, up to [`InboxWriter::MAX_BATCH`]
//! events, is one multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING` (one statement, so one transaction
//! without BEGIN and COMMIT). Each caller is answered only after its batch committed.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveValue::NotSet, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    QueryTrait, Set,
};

use super::ops::{NEWEST_MESSAGE_OF_EVENT_USER, PAUSE_OF_EVENT_USER};
use super::{BatchWrite, OnFailure};
use crate::domain::{DEFAULT_PARTITIONS, Partition};
use crate::store::ClusterHandle;
use crate::store::entities::inbox_events;
use crate::store::{Attempt, InboxInsert, NewInboxEvent, StoreResult};

use crate::telemetry::INBOX_BATCH_SIZE;

/// Writes the webhook's events, one statement per batch.
pub(in crate::store) struct InboxWriter {
    /// On PostgreSQL a connection of its own, so a webhook never waits for the pool.
    db: DatabaseConnection,
    /// In a cluster, the owners of other replicas' partitions are hinted after each batch.
    cluster: ClusterHandle,
}

impl InboxWriter {
    pub(in crate::store) fn new(db: DatabaseConnection, cluster: ClusterHandle) -> Self {
        Self { db, cluster }
    }

    /// The partition of each of `events` whose owner is another replica (open events only), when NOTIFY
    /// hints are on: read before the batch is written, which consumes the events.
    fn owned_elsewhere(&self, events: &[NewInboxEvent]) -> Option<Vec<Option<Partition>>> {
        let ownership = self.cluster.notifying()?;
        Some(
            events
                .iter()
                .map(|event| {
                    let user = event
                        .user_id
                        .as_ref()
                        .filter(|_| event.handled_as.is_none())?;
                    let partition = ownership.partition_of(user);
                    (!ownership.dispatches(partition)).then_some(partition)
                })
                .collect(),
        )
    }

    /// Hints the owners of the inserted events this replica does not dispatch itself: a NOTIFY, off the
    /// webhook's path (its 200 does not wait for it). Lost hints are found by the owners' poll.
    fn notify_owners(&self, elsewhere: Vec<Option<Partition>>, answers: &[InboxInsert]) {
        let mut partitions: Vec<Partition> = elsewhere
            .into_iter()
            .zip(answers)
            .filter(|(_, answer)| matches!(answer, InboxInsert::Inserted { .. }))
            .filter_map(|(partition, _)| partition)
            .collect();
        if partitions.is_empty() {
            return;
        }
        partitions.sort_unstable();
        partitions.dedup();
        let db = self.db.clone();
        tokio::spawn(async move {
            if let Err(err) = crate::store::cluster::notify_inbox(&db, &partitions).await {
                tracing::debug!(error = %err, "inbox hint not sent; the owners' poll finds the events");
            }
        });
    }
}

impl BatchWrite for InboxWriter {
    type Request = NewInboxEvent;
    type Answer = InboxInsert;
    const NAME: &'static str = "inbox";
    /// 8 bind parameters per row keeps a full batch (4,096) far below SQLite's and PostgreSQL's limits, and a
    /// commit's cost is already spread thin at this size.
    const MAX_BATCH: usize = 512;
    const QUEUE_CAPACITY: usize = 8 * Self::MAX_BATCH;
    const BATCH_SIZE_METRIC: &'static str = INBOX_BATCH_SIZE;
    /// A batch is one statement whose key conflicts do nothing, so its error is the database's, not one
    /// event's: retrying event by event would only multiply the failing round trips.
    const ON_FAILURE: OnFailure = OnFailure::FailAll;
    const OWN_TASK_PER_BATCH: bool = false;

    /// One batch at a time on both backends. SQLite has one writer anyway. On PostgreSQL a second batch in
    /// flight measured no faster (the batch simply grows to cover a commit's latency: 512 events per commit
    /// is far above the target rate even at 5 ms a commit), and serial batches keep two promises: ids are
    /// committed in increasing order, so `pending_events` paging by id never skips a row committed late, and
    /// two batches never deadlock on each other's keys.
    fn parallel(&self) -> usize {
        1
    }

    async fn write_together(&self, events: Vec<NewInboxEvent>) -> StoreResult<Vec<InboxInsert>> {
        let elsewhere = self.owned_elsewhere(&events);
        let answers = write_batch(&self.db, events).await?;
        if let Some(elsewhere) = elsewhere {
            self.notify_owners(elsewhere, &answers);
        }
        Ok(answers)
    }
}

/// Whether an open event's user has an older event still unhandled, read by the insert itself (its snapshot:
/// rows committed before it, such as a message another replica acknowledged before this one was sent),
/// through the partition's index of pending events. PostgreSQL only.
const OLDER_PENDING_OF_EVENT_USER: &str = "CASE WHEN inbox_events.handled_at IS NULL THEN EXISTS (
        SELECT 1 FROM inbox_events older
         WHERE older.partition = inbox_events.partition AND older.handled_at IS NULL
           AND older.id < inbox_events.id AND older.zalo_user_id = inbox_events.zalo_user_id
    ) END AS older_pending";

/// One statement for the batch. Returns one outcome per event, in order: `Inserted` for the first event of
/// a key the database did not hold yet, `Duplicate` for the rest (repeats inside the batch are removed first:
/// the database would skip them too, but their ids could not be told apart).
async fn write_batch(
    db: &DatabaseConnection,
    events: Vec<NewInboxEvent>,
) -> Result<Vec<InboxInsert>, DbErr> {
    #[cfg(test)]
    if events.iter().any(|e| e.event_key == tests::PANIC_KEY) {
        panic!("test: a panic while writing a batch");
    }
    let keys: Vec<String> = events.iter().map(|e| e.event_key.clone()).collect();
    let mut first_of_key: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        first_of_key.entry(key.as_str()).or_insert(index);
    }
    let received_at = Utc::now();
    let models = events
        .into_iter()
        .enumerate()
        .filter(|(index, event)| first_of_key[event.event_key.as_str()] == *index)
        .map(|(_, event)| inbox_events::ActiveModel {
            id: NotSet,
            event_key: Set(event.event_key),
            event_name: Set(event.event_name),
            partition: Set(event
                .user_id
                .as_ref()
                .map(|u| Partition::of(u, DEFAULT_PARTITIONS).as_i16())),
            zalo_user_id: Set(event.user_id.map(|u| u.as_str().to_string())),
            payload: Set(event.payload),
            received_at: Set(received_at),
            // An open event's live delivery is its first attempt (see `InboxInsert::Inserted`).
            attempts: Set(if event.handled_as.is_none() { 1 } else { 0 }),
            handled_at: Set(event.handled_as.map(|_| received_at)),
            outcome: Set(event.handled_as.map(|o| o.as_str().to_string())),
        });
    let mut insert = inbox_events::Entity::insert_many(models)
        .on_conflict(
            OnConflict::column(inbox_events::Column::EventKey)
                .do_nothing()
                .to_owned(),
        )
        .into_query();
    // Only open events need their user's pause and newest line (CASE evaluates the subqueries for those only).
    insert.returning(Query::returning().exprs([
        Expr::col(inbox_events::Column::Id),
        Expr::col(inbox_events::Column::EventKey),
        Expr::col(inbox_events::Column::Attempts),
        Expr::cust(format!(
            "CASE WHEN inbox_events.handled_at IS NULL THEN {PAUSE_OF_EVENT_USER} END AS paused_until"
        )),
        Expr::cust(format!(
            "CASE WHEN inbox_events.handled_at IS NULL THEN {NEWEST_MESSAGE_OF_EVENT_USER} END AS newest_message"
        )),
        Expr::cust("inbox_events.handled_at IS NULL AS is_open"),
        Expr::cust(if db.get_database_backend() == DbBackend::Postgres {
            OLDER_PENDING_OF_EVENT_USER
        } else {
            // One process: its own live deliveries keep each user's order.
            "NULL AS older_pending"
        }),
    ]));

    // One statement is its own transaction on both backends: no BEGIN and COMMIT round trips (on SQLite's
    // single writer connection they were two of every small batch's three). Should reading the ids fail
    // after the commit, every caller gets an error (503) and Zalo's retry finds a duplicate; the committed
    // events are not lost: the intake sweep dispatches whatever stays unhandled.
    let rows = db.query_all(&insert).await?;
    let read_at = std::time::Instant::now();
    let mut inserted: HashMap<String, (i64, Option<Attempt>)> = HashMap::with_capacity(rows.len());
    for row in rows {
        let open: bool = row.try_get("", "is_open")?;
        let first_attempt = if open {
            Some(Attempt {
                number: row.try_get("", "attempts")?,
                paused_until: row.try_get("", "paused_until")?,
                newest_message: row.try_get("", "newest_message")?,
                read_at,
                older_pending: row
                    .try_get::<Option<bool>>("", "older_pending")?
                    .unwrap_or(false),
            })
        } else {
            None
        };
        inserted.insert(
            row.try_get("", "event_key")?,
            (row.try_get("", "id")?, first_attempt),
        );
    }

    Ok(keys
        .iter()
        .enumerate()
        .map(|(index, key)| match inserted.get(key) {
            Some(&(id, first_attempt)) if first_of_key[key.as_str()] == index => {
                InboxInsert::Inserted { id, first_attempt }
            }
            _ => InboxInsert::Duplicate,
        })
        .collect())
}

#[cfg(test)]
pub(in crate::store) mod tests {

    use std::collections::HashSet;
    use std::time::Duration;

    use sea_orm::TransactionTrait;
    use secrecy::SecretString;
    use tokio::sync::mpsc;

    use super::super::{GroupCommit, Queued};
    use super::*;
    use crate::config::DatabaseSettings;
    use crate::domain::UserId;
    use crate::store::{Store, StoreError};

    /// An event with this key makes `write_batch` panic.
    pub(super) const PANIC_KEY: &str = "test-panic-in-batch";

    /// The PostgreSQL server of the store's unit tests: `TEST_DATABASE_URL`, else a throwaway cluster
    /// (Debian's `initdb`/`pg_ctl`, as in the API tests), else none (skipped loudly), unless
    /// `TRADESPHERE_REQUIRE_POSTGRES=1` turns that into a failure.
    pub(in crate::store) fn postgres_admin_url() -> Option<String> {
        static ADMIN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        ADMIN
            .get_or_init(|| {
                if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
                    return Some(url);
                }
                // A watchdog stops the cluster when the test process exits.
                match testkit::PgCluster::try_start("-c max_connections=200")
                    .map(|cluster| cluster.url("postgres"))
                {
                    Ok(url) => Some(url),
                    Err(_) if std::env::var("TRADESPHERE_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
                        panic!("PostgreSQL is required (TRADESPHERE_REQUIRE_POSTGRES=1) but none is available")
                    }
                    Err(reason) => {
                        eprintln!("SKIPPED PostgreSQL in store unit tests: {reason}");
                        None
                    }
                }
            })
            .clone()
    }

    /// A migrated SQLite store in `dir`, plus a PostgreSQL one (see [`postgres_admin_url`]).
    pub(in crate::store) async fn stores(dir: &tempfile::TempDir) -> Vec<Store> {
        let mut urls = vec![format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("inbox.db").display()
        )];
        if let Some(admin) = postgres_admin_url() {
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let conn = sea_orm::Database::connect(admin.as_str()).await.unwrap();
            conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            conn.close().await.ok();
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&name);
            urls.push(url.to_string());
        }
        let mut stores = Vec::new();
        for url in urls {
            let store = Store::connect(&DatabaseSettings {
                url: SecretString::from(url),
                max_connections: 8,
                acquire_timeout: Duration::from_secs(2),
                token_key: None,
                application_name: None,
            })
            .await
            .unwrap();
            store.migrate().await.unwrap();
            stores.push(store);
        }
        stores
    }

    /// Stores a new event of `user`, as the webhook stores a user's message: its inbox id.
    pub(in crate::store) async fn user_event(store: &Store, key: &str, user: &UserId) -> i64 {
        let new = NewInboxEvent {
            user_id: Some(user.clone()),
            ..event(key)
        };
        match store.insert_inbox(new).await.unwrap() {
            InboxInsert::Inserted { id, .. } => id,
            InboxInsert::Duplicate => panic!("{key} is new"),
        }
    }

    pub(in crate::store) fn event(key: &str) -> NewInboxEvent {
        NewInboxEvent {
            event_key: key.to_string(),
            event_name: "user_send_text".into(),
            user_id: None,
            payload: format!(r#"{{"key":"{key}"}}"#),
            handled_as: None,
        }
    }

    /// `count` inserts of `make(i)` at once, each from its own task, as concurrent webhooks make them.
    pub(in crate::store) async fn insert_all(
        store: &Store,
        count: usize,
        make: impl Fn(usize) -> NewInboxEvent,
    ) -> Vec<StoreResult<InboxInsert>> {
        let tasks: Vec<_> = (0..count)
            .map(|i| {
                let store = store.clone();
                let event = make(i);
                tokio::spawn(async move { store.insert_inbox(event).await })
            })
            .collect();
        let mut results = Vec::with_capacity(count);
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_distinct_events_are_all_inserted_with_distinct_ids() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let results = insert_all(&store, 2_000, |i| event(&format!("distinct-{i}"))).await;
            let ids: HashSet<i64> = results
                .iter()
                .map(|r| match r {
                    Ok(InboxInsert::Inserted { id, .. }) => *id,
                    other => panic!("expected Inserted, got {other:?}"),
                })
                .collect();
            assert_eq!(ids.len(), 2_000);
            assert_eq!(store.pending_event_count().await.unwrap(), 2_000);
            let rows = store.pending_events(None, 0, 5_000, None).await.unwrap();
            let stored: HashSet<i64> = rows.iter().map(|r| r.id).collect();
            assert_eq!(stored, ids);
            for row in &rows {
                assert_eq!(row.payload, format!(r#"{{"key":"{}"}}"#, row.event_key));
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn duplicates_within_and_across_batches_insert_one_row() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            // 20 keys, 50 deliveries each, all at once: repeats land in the same batch and in later ones.
            let results = insert_all(&store, 1_000, |i| event(&format!("dup-{}", i % 20))).await;
            let mut ids_by_key: HashMap<String, Vec<i64>> = HashMap::new();
            let mut duplicates = 0;
            for (i, result) in results.into_iter().enumerate() {
                match result.unwrap() {
                    InboxInsert::Inserted { id, .. } => ids_by_key
                        .entry(format!("dup-{}", i % 20))
                        .or_default()
                        .push(id),
                    InboxInsert::Duplicate => duplicates += 1,
                }
            }
            assert_eq!(ids_by_key.len(), 20);
            assert!(ids_by_key.values().all(|ids| ids.len() == 1));
            assert_eq!(duplicates, 980);
            assert_eq!(store.pending_event_count().await.unwrap(), 20);
            // A later, lone delivery is a duplicate too.
            assert_eq!(
                store.insert_inbox(event("dup-3")).await.unwrap(),
                InboxInsert::Duplicate
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn repeats_inside_one_batch_are_duplicates_after_the_first() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let answers = write_batch(
                &store.db,
                vec![event("a"), event("b"), event("a"), event("a")],
            )
            .await
            .unwrap();
            assert!(matches!(answers[0], InboxInsert::Inserted { .. }));
            assert!(matches!(answers[1], InboxInsert::Inserted { .. }));
            assert_eq!(answers[2..], [InboxInsert::Duplicate; 2]);
            assert_eq!(store.pending_event_count().await.unwrap(), 2);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_closed_database_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            store.clone().close().await;
            let result = tokio::time::timeout(
                Duration::from_secs(10),
                store.insert_inbox(event("after-close")),
            )
            .await
            .expect("insert_inbox must not hang on a closed pool");
            assert!(result.is_err());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_batch_fails_its_requests_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let result = store.insert_inbox(event(PANIC_KEY)).await;
            let err: StoreError = result.unwrap_err();
            assert!(err.to_string().contains("panicked"), "{err}");
            assert!(matches!(
                store.insert_inbox(event("after-panic")).await.unwrap(),
                InboxInsert::Inserted { .. }
            ));
        }
    }

    /// The live delivery needs no attempt write: the insert counts the first attempt of an open event and reads
    /// what its conversation must know (the user's pause and newest chat line); a replay counts on from it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_open_event_is_stored_as_its_first_attempt_with_its_users_state() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let paused = crate::domain::UserId::parse("7000000000000000001").unwrap();
            let fresh = crate::domain::UserId::parse("7000000000000000002").unwrap();
            let now = Utc::now();
            let until = chrono::DateTime::from_timestamp(now.timestamp() + 600, 0).unwrap();
            store.pause_user(&paused, until, "test", now).await.unwrap();
            store
                .enqueue_proactive(&paused, &["Thông báo.".to_string()])
                .await
                .unwrap();
            let newest = store.recent_history(&paused, 5).await.unwrap().newest;
            assert!(newest.is_some());

            let of = |user: &crate::domain::UserId, key: &str| NewInboxEvent {
                user_id: Some(user.clone()),
                ..event(key)
            };
            let before = std::time::Instant::now();
            let InboxInsert::Inserted {
                id,
                first_attempt: Some(first),
            } = store
                .insert_inbox(of(&paused, "first-paused"))
                .await
                .unwrap()
            else {
                panic!("an open event is inserted with its first attempt");
            };
            assert_eq!(first.number, 1);
            assert_eq!(first.paused_until, Some(until));
            assert_eq!(first.newest_message, newest);
            assert!(first.read_at >= before);

            let InboxInsert::Inserted {
                first_attempt: Some(other),
                ..
            } = store.insert_inbox(of(&fresh, "first-fresh")).await.unwrap()
            else {
                panic!("an open event is inserted with its first attempt");
            };
            assert_eq!(
                (other.number, other.paused_until, other.newest_message),
                (1, None, None)
            );

            let closed = NewInboxEvent {
                handled_as: Some(crate::pipeline::Outcome::Ignored),
                ..of(&paused, "closed-receipt")
            };
            assert!(matches!(
                store.insert_inbox(closed).await.unwrap(),
                InboxInsert::Inserted {
                    first_attempt: None,
                    ..
                }
            ));

            let replay = store.begin_attempt(id).await.unwrap().unwrap();
            assert_eq!(replay.number, 2, "a replay counts on from the insert's");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_webhook_insert_never_waits_for_the_shared_pool() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            // Every pooled connection held, as by the pipeline's batches and reads under load.
            let mut held = Vec::new();
            for _ in 0..8 {
                held.push(store.db.begin().await.unwrap());
            }
            // With the inbox on the shared pool this would fail after the 2 s acquire timeout.
            let inserted = store.insert_inbox(event("while-the-pool-is-busy")).await;
            assert!(
                matches!(inserted, Ok(InboxInsert::Inserted { .. })),
                "sqlite {}: {inserted:?}",
                store.is_sqlite()
            );
            for txn in held {
                txn.rollback().await.unwrap();
            }
        }
    }

    #[tokio::test]
    async fn a_stopped_writer_is_an_error() {
        // No task: the receiver is gone before the send.
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let writer = GroupCommit::<InboxWriter> { tx };
        let err = writer.write(event("k")).await.unwrap_err();
        assert!(err.to_string().contains("inbox writer stopped"), "{err}");

        // A task that drops the request unanswered.
        let (tx, mut rx) = mpsc::channel::<Queued<InboxWriter>>(1);
        tokio::spawn(async move { drop(rx.recv().await) });
        let writer = GroupCommit::<InboxWriter> { tx };
        let err = writer.write(event("k")).await.unwrap_err();
        assert!(err.to_string().contains("inbox writer stopped"), "{err}");
    }
}
