//! Several replicas on one PostgreSQL: users hash into partitions, stored on the inbox and outbound rows; on
//! PostgreSQL replicas own partitions through leases on the database clock (`cluster_members`) and an epoch per
//! partition that fences every write acting on ownership (`partition_owners`). SQLite is single-process: it
//! gets the partition columns (one data model) and no cluster tables.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Partitions a database is created with; a replica configured otherwise refuses to start.
const PARTITIONS: i32 = 256;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Sqlite {
            // One column per ALTER: SQLite takes no more.
            for sql in [
                "ALTER TABLE inbox_events ADD COLUMN partition smallint",
                "ALTER TABLE outbound_messages ADD COLUMN partition smallint",
                "ALTER TABLE outbound_messages ADD COLUMN claim_epoch bigint",
            ] {
                db.execute_unprepared(sql).await?;
            }
            return Ok(());
        }
        db.execute_unprepared(&format!(
            "CREATE TABLE cluster_config (
                 id smallint PRIMARY KEY CHECK (id = 1),
                 partitions smallint NOT NULL
             );
             INSERT INTO cluster_config (id, partitions) VALUES (1, {PARTITIONS});
             CREATE TABLE cluster_members (
                 member_id text PRIMARY KEY,
                 name text NOT NULL,
                 started_at timestamptz NOT NULL DEFAULT now(),
                 heartbeat_at timestamptz NOT NULL DEFAULT now(),
                 lease_until timestamptz NOT NULL,
                 draining boolean NOT NULL DEFAULT false
             );
             CREATE TABLE partition_owners (
                 partition smallint PRIMARY KEY,
                 owner_id text NULL,
                 epoch bigint NOT NULL DEFAULT 0,
                 owned_since timestamptz NULL
             );
             INSERT INTO partition_owners (partition)
                 SELECT generate_series(0, {PARTITIONS} - 1);
             ALTER TABLE inbox_events ADD COLUMN partition smallint;
             ALTER TABLE outbound_messages ADD COLUMN partition smallint,
                                           ADD COLUMN claim_epoch bigint;
             CREATE INDEX idx_inbox_pending_by_partition ON inbox_events (partition, id)
                 WHERE handled_at IS NULL;
             CREATE INDEX idx_outbound_open_by_partition ON outbound_messages (partition, id)
                 WHERE state IN ('queued', 'sending');
             UPDATE inbox_events
                SET partition = get_byte(sha256(convert_to(zalo_user_id, 'UTF8')), 0)
              WHERE handled_at IS NULL AND zalo_user_id IS NOT NULL;
             UPDATE outbound_messages
                SET partition = get_byte(sha256(convert_to(zalo_user_id, 'UTF8')), 0)
              WHERE state IN ('queued', 'sending');"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Sqlite {
            for sql in [
                "ALTER TABLE inbox_events DROP COLUMN partition",
                "ALTER TABLE outbound_messages DROP COLUMN partition",
                "ALTER TABLE outbound_messages DROP COLUMN claim_epoch",
            ] {
                db.execute_unprepared(sql).await?;
            }
            return Ok(());
        }
        db.execute_unprepared(
            "DROP INDEX IF EXISTS idx_inbox_pending_by_partition;
             DROP INDEX IF EXISTS idx_outbound_open_by_partition;
             ALTER TABLE inbox_events DROP COLUMN partition;
             ALTER TABLE outbound_messages DROP COLUMN partition, DROP COLUMN claim_epoch;
             DROP TABLE partition_owners;
             DROP TABLE cluster_members;
             DROP TABLE cluster_config;",
        )
        .await?;
        Ok(())
    }
}
