//! Outside scam feeds: what each sync remembers (validators for the next conditional GET, the last success
//! and result, the entry count), and an index to find one source's rows when its new snapshot replaces them.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScamFeeds::Table)
                    .if_not_exists()
                    .col(string(ScamFeeds::Name).primary_key())
                    .col(string(ScamFeeds::Title))
                    .col(string_null(ScamFeeds::Etag))
                    .col(string_null(ScamFeeds::LastModified))
                    .col(timestamp_with_time_zone_null(ScamFeeds::LastAttemptAt))
                    .col(timestamp_with_time_zone_null(ScamFeeds::LastSuccessAt))
                    .col(string_null(ScamFeeds::LastResult))
                    .col(big_integer(ScamFeeds::Entries).default(0))
                    .col(big_integer(ScamFeeds::BadRows).default(0))
                    .col(integer(ScamFeeds::Failures).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scam_reports_source_status")
                    .table(ScamReports::Table)
                    .col(ScamReports::Source)
                    .col(ScamReports::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_scam_reports_source_status")
                    .table(ScamReports::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ScamFeeds::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ScamFeeds {
    Table,
    Name,
    Title,
    Etag,
    LastModified,
    LastAttemptAt,
    LastSuccessAt,
    LastResult,
    Entries,
    BadRows,
    Failures,
}

#[derive(DeriveIden)]
enum ScamReports {
    Table,
    Source,
    Status,
}
