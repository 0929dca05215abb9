//! Scam detection: a change stamp on reports (the service's in-memory index reloads what changed), user
//! reports awaiting moderation, and the backup log that feeds the stale-backup alert.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Existing rows get the epoch: the index loads everything at start anyway.
        manager
            .alter_table(
                Table::alter()
                    .table(ScamReports::Table)
                    .add_column(
                        timestamp_with_time_zone(ScamReports::UpdatedAt)
                            .default("1970-01-01 00:00:00+00:00"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scam_reports_updated_at")
                    .table(ScamReports::Table)
                    .col(ScamReports::UpdatedAt)
                    .col(ScamReports::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScamUserReports::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ScamUserReports::Id))
                    .col(string(ScamUserReports::Kind))
                    .col(string(ScamUserReports::Value))
                    .col(string_null(ScamUserReports::BankBin))
                    .col(string(ScamUserReports::Category))
                    .col(text(ScamUserReports::Note))
                    // SHA-256 of the reporter's id: enough to count independent reporters, not to identify one.
                    .col(string(ScamUserReports::ReporterHash))
                    .col(string(ScamUserReports::Status).default("pending"))
                    .col(timestamp_with_time_zone(ScamUserReports::CreatedAt))
                    .col(timestamp_with_time_zone_null(ScamUserReports::ReviewedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_scam_user_reports_entity_reporter")
                    .table(ScamUserReports::Table)
                    .col(ScamUserReports::Kind)
                    .col(ScamUserReports::Value)
                    .col(ScamUserReports::ReporterHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scam_user_reports_status")
                    .table(ScamUserReports::Table)
                    .col(ScamUserReports::Status)
                    .col(ScamUserReports::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BackupRuns::Table)
                    .if_not_exists()
                    .col(big_pk_auto(BackupRuns::Id))
                    .col(timestamp_with_time_zone(BackupRuns::FinishedAt))
                    .col(string(BackupRuns::File))
                    .col(big_integer(BackupRuns::Bytes))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(BackupRuns::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(ScamUserReports::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_scam_reports_updated_at")
                    .table(ScamReports::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ScamReports::Table)
                    .drop_column(ScamReports::UpdatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ScamReports {
    Table,
    Id,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScamUserReports {
    Table,
    Id,
    Kind,
    Value,
    BankBin,
    Category,
    Note,
    ReporterHash,
    Status,
    CreatedAt,
    ReviewedAt,
}

#[derive(DeriveIden)]
enum BackupRuns {
    Table,
    Id,
    FinishedAt,
    File,
    Bytes,
}
