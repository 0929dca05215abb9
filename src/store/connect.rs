//! Connecting: the backend's connections and pragmas, migrations, readiness, and write transactions.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseTransaction};
use sea_orm_migration::MigratorTrait;
use secrecy::ExposeSecret;

use super::group_commit::inbox::InboxWriter;
use super::group_commit::pipeline::PipelineWriter;
use super::group_commit::{GroupCommit, begin_write_on};
use super::{Store, StoreResult, checkpointer, pre_claims};
use crate::cluster::Ownership;
use crate::config::DatabaseSettings;
use crate::token_cipher::TokenCipher;

/// The advisory lock key replicas migrate under (any constant no other lock uses).
const MIGRATION_LOCK: i64 = 0x7473_6d69_6772;

/// SQLite: the size the WAL file is trimmed back to when it starts over (`journal_size_limit`).
const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

impl Store {
    pub async fn connect(settings: &DatabaseSettings) -> StoreResult<Self> {
        let url = settings.url.expose_secret().to_string();
        let sqlite = settings.is_sqlite();
        let mut opts = ConnectOptions::new(url);
        opts.max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_timeout(settings.acquire_timeout)
            .sqlx_logging(false);
        if sqlite {
            // WAL lets readers run beside the single writer; busy_timeout waits for the write lock instead of
            // failing. Pragmas are per connection, so they are set here, never in a migration.
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .create_if_missing(true)
                    // Checkpoints run beside the writes, not inside a commit (`checkpointer`); a WAL that
                    // grew under a burst is trimmed back to this size when it starts over.
                    .pragma("wal_autocheckpoint", "0")
                    .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
            });
        } else if let Some(name) = settings.application_name.clone() {
            opts.map_sqlx_postgres_opts(move |o| o.application_name(&name));
        }
        let db = Database::connect(opts.clone()).await?;
        let one_connection = || {
            let mut opts = opts.clone();
            opts.max_connections(1).min_connections(1);
            Database::connect(opts)
        };
        // SQLite: one writer connection for every write, and one that copies the WAL into the database file
        // beside it (`checkpointer`). PostgreSQL: the pool writes too, but the webhook's inserts get a
        // connection of their own (their writer is serial, one is all it uses), so a webhook never waits for a
        // pooled connection the pipeline's batches and reads hold (on the shared pool, acks at 2,000 events/s
        // measured a p50 30-50 % higher).
        let (writer, inbox_db, checkpoints) = if sqlite {
            let writer = one_connection().await?;
            let side = one_connection().await?;
            tokio::spawn(checkpointer::run(side.clone(), writer.clone()));
            (writer.clone(), writer, Some(side))
        } else {
            (db.clone(), one_connection().await?, None)
        };
        let cluster = super::ClusterHandle::default();
        let inbox = GroupCommit::spawn(InboxWriter::new(inbox_db.clone(), cluster.clone()));
        let pre_claims = std::sync::Arc::new(pre_claims::PreClaims::default());
        let pipeline = GroupCommit::spawn(PipelineWriter::new(
            writer.clone(),
            sqlite,
            pre_claims.clone(),
            cluster.clone(),
        ));
        Ok(Self {
            db,
            writer,
            inbox_db,
            checkpoints,
            sqlite,
            cipher: settings.token_key.as_ref().map(TokenCipher::new),
            inbox,
            pipeline,
            pre_claims,
            cluster,
        })
    }

    /// Joins a cluster: from now on completions and send claims are fenced by `ownership` (unless solo), and,
    /// with `notify`, the owners of events this replica receives for others are hinted. Once per store.
    pub fn join_cluster(&self, ownership: Ownership, notify: bool) {
        if self.cluster.0.set((ownership, notify)).is_err() {
            tracing::warn!("the store already follows a cluster ownership; ignored");
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// Applies pending migrations. On PostgreSQL under an advisory lock held on a connection of its own,
    /// so replicas starting together migrate one after the other (the later ones find nothing to do).
    pub async fn migrate(&self) -> StoreResult<()> {
        if self.sqlite {
            migrations::Migrator::up(&self.writer, None).await?;
            return Ok(());
        }
        let lock = self.inbox_db.clone();
        lock.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .await?;
        let migrated = migrations::Migrator::up(&self.writer, None).await;
        lock.execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .await?;
        Ok(migrated?)
    }

    /// Migrations known to the binary but not applied to this database (read-only; used by `/readyz`).
    pub async fn pending_migrations(&self) -> StoreResult<usize> {
        Ok(
            migrations::Migrator::get_pending_migrations_read_only(&self.db)
                .await?
                .len(),
        )
    }

    /// The pool answers, and on PostgreSQL the webhook inbox's own connection too: after a database restart
    /// that connection is re-established here, so "ready" means the webhook's connection works as well (with
    /// only the pool pinged, a post right after `/readyz` turned 200 was seen to get a 503).
    pub async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await?;
        if !self.sqlite {
            self.inbox_db.ping().await?;
        }
        Ok(())
    }

    /// Closes the pool shared by every clone (the inbox writer's too): a batch already writing finishes, later
    /// inserts fail with a `StoreError` instead of waiting.
    pub async fn close(self) {
        if let Some(checkpoints) = &self.checkpoints {
            let _ = checkpoints.close_by_ref().await;
        }
        if self.sqlite {
            let _ = self.writer.close().await;
        } else {
            let _ = self.inbox_db.close().await;
        }
        let _ = self.db.close().await;
    }

    /// A write transaction. On SQLite it takes the write lock up front (IMMEDIATE), so two writers never
    /// deadlock on the read-to-write upgrade.
    pub(super) async fn begin_write(&self) -> StoreResult<DatabaseTransaction> {
        Ok(begin_write_on(&self.writer, self.sqlite).await?)
    }

    /// Connections of the pool: `(open, idle)`.
    pub fn pool_connections(&self) -> (u32, u32) {
        if self.sqlite {
            let pool = self.db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        } else {
            let pool = self.db.get_postgres_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
    }
}
