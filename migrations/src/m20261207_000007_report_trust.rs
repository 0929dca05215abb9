//! Reports people can trust: who filed a user report (to tell them the outcome), appeals by the owners of
//! reported entities, the moderation audit log, and the outcome notices waiting for a user's window.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The Zalo user to tell the outcome; null for reports filed by an admin.
        manager
            .alter_table(
                Table::alter()
                    .table(ScamUserReports::Table)
                    .add_column(string_null(ScamUserReports::ReporterId))
                    .to_owned(),
            )
            .await?;
        // The daily cap and a reporter's weight are read by reporter.
        manager
            .create_index(
                Index::create()
                    .name("idx_scam_user_reports_reporter")
                    .table(ScamUserReports::Table)
                    .col(ScamUserReports::ReporterHash)
                    .col(ScamUserReports::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportAppeals::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ReportAppeals::Id))
                    .col(string(ReportAppeals::Kind))
                    .col(string(ReportAppeals::Value))
                    .col(string(ReportAppeals::AppellantId))
                    .col(text(ReportAppeals::Note))
                    .col(string(ReportAppeals::Status).default("pending"))
                    .col(timestamp_with_time_zone(ReportAppeals::CreatedAt))
                    .col(timestamp_with_time_zone_null(ReportAppeals::DecidedAt))
                    .col(string_null(ReportAppeals::DecidedBy))
                    .col(text_null(ReportAppeals::Reason))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_report_appeals_status")
                    .table(ReportAppeals::Table)
                    .col(ReportAppeals::Status)
                    .col(ReportAppeals::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ModerationAudit::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ModerationAudit::Id))
                    .col(timestamp_with_time_zone(ModerationAudit::At))
                    .col(string(ModerationAudit::Moderator))
                    .col(string(ModerationAudit::Action))
                    .col(big_integer(ModerationAudit::SubjectId))
                    .col(string(ModerationAudit::Kind))
                    .col(string(ModerationAudit::Value))
                    .col(text(ModerationAudit::Reason))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ModerationNotices::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ModerationNotices::Id))
                    .col(string(ModerationNotices::ZaloUserId))
                    .col(string(ModerationNotices::Kind))
                    .col(big_integer(ModerationNotices::SubjectId))
                    .col(text(ModerationNotices::Text))
                    .col(string(ModerationNotices::Status).default("waiting"))
                    .col(timestamp_with_time_zone(ModerationNotices::CreatedAt))
                    .col(timestamp_with_time_zone(ModerationNotices::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ModerationNotices::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_moderation_notices_status")
                    .table(ModerationNotices::Table)
                    .col(ModerationNotices::Status)
                    .col(ModerationNotices::ZaloUserId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ModerationNotices::Table.into_iden(),
            ModerationAudit::Table.into_iden(),
            ReportAppeals::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_scam_user_reports_reporter")
                    .table(ScamUserReports::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ScamUserReports::Table)
                    .drop_column(ScamUserReports::ReporterId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ScamUserReports {
    Table,
    ReporterId,
    ReporterHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReportAppeals {
    Table,
    Id,
    Kind,
    Value,
    AppellantId,
    Note,
    Status,
    CreatedAt,
    DecidedAt,
    DecidedBy,
    Reason,
}

#[derive(DeriveIden)]
enum ModerationAudit {
    Table,
    Id,
    At,
    Moderator,
    Action,
    SubjectId,
    Kind,
    Value,
    Reason,
}

#[derive(DeriveIden)]
enum ModerationNotices {
    Table,
    Id,
    ZaloUserId,
    Kind,
    SubjectId,
    Text,
    Status,
    CreatedAt,
    ExpiresAt,
    SentAt,
}
