//! The foundation schema: users, the raw-event inbox, chat history (`zalo_messages`, whose column names ops
//! queries rely on), outbound messages with their delivery state, the OAuth token pair and scam reports.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ZaloUsers::Table)
                    .if_not_exists()
                    .col(string(ZaloUsers::ZaloUserId).primary_key())
                    .col(boolean(ZaloUsers::Followed).default(false))
                    .col(timestamp_with_time_zone(ZaloUsers::FirstSeenAt))
                    .col(timestamp_with_time_zone(ZaloUsers::LastSeenAt))
                    .col(timestamp_with_time_zone_null(ZaloUsers::FollowedAt))
                    .col(timestamp_with_time_zone_null(ZaloUsers::UnfollowedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboxEvents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(InboxEvents::Id))
                    .col(string_uniq(InboxEvents::EventKey))
                    .col(string(InboxEvents::EventName))
                    .col(string_null(InboxEvents::ZaloUserId))
                    .col(text(InboxEvents::Payload))
                    .col(timestamp_with_time_zone(InboxEvents::ReceivedAt))
                    .col(integer(InboxEvents::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(InboxEvents::HandledAt))
                    .col(string_null(InboxEvents::Outcome))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_inbox_events_pending")
                    .table(InboxEvents::Table)
                    .col(InboxEvents::HandledAt)
                    .col(InboxEvents::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ZaloMessages::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ZaloMessages::Id))
                    .col(string(ZaloMessages::ZaloUserId))
                    .col(text(ZaloMessages::MessageContent))
                    .col(boolean(ZaloMessages::IsFromUser))
                    .col(timestamp_with_time_zone(ZaloMessages::SentAt))
                    .col(string(ZaloMessages::MessageType).default("text"))
                    .col(string_null(ZaloMessages::EventKey))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_zalo_messages_user")
                    .table(ZaloMessages::Table)
                    .col(ZaloMessages::ZaloUserId)
                    .col(ZaloMessages::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OutboundMessages::Table)
                    .if_not_exists()
                    .col(big_pk_auto(OutboundMessages::Id))
                    .col(string(OutboundMessages::ZaloUserId))
                    .col(text(OutboundMessages::Text))
                    .col(string(OutboundMessages::State))
                    .col(string_null(OutboundMessages::SourceEventKey))
                    .col(integer(OutboundMessages::PartIndex).default(0))
                    .col(integer(OutboundMessages::Attempts).default(0))
                    .col(string_null(OutboundMessages::ZaloMessageId))
                    .col(big_integer_null(OutboundMessages::ErrorCode))
                    .col(text_null(OutboundMessages::ErrorMessage))
                    .col(timestamp_with_time_zone(OutboundMessages::CreatedAt))
                    .col(timestamp_with_time_zone(OutboundMessages::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // A reply part is enqueued at most once per source event: the database decides, not a check-then-insert.
        manager
            .create_index(
                Index::create()
                    .name("uq_outbound_source_part")
                    .table(OutboundMessages::Table)
                    .col(OutboundMessages::SourceEventKey)
                    .col(OutboundMessages::PartIndex)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbound_zalo_message_id")
                    .table(OutboundMessages::Table)
                    .col(OutboundMessages::ZaloMessageId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbound_state")
                    .table(OutboundMessages::Table)
                    .col(OutboundMessages::State)
                    .col(OutboundMessages::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ZaloTokens::Table)
                    .if_not_exists()
                    .col(integer(ZaloTokens::Id).primary_key())
                    .col(text(ZaloTokens::AccessToken))
                    .col(text_null(ZaloTokens::RefreshToken))
                    .col(timestamp_with_time_zone_null(ZaloTokens::AccessExpiresAt))
                    .col(timestamp_with_time_zone_null(ZaloTokens::RefreshIssuedAt))
                    .col(big_integer(ZaloTokens::Version).default(0))
                    .col(string(ZaloTokens::Source))
                    .col(timestamp_with_time_zone(ZaloTokens::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ScamReports::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ScamReports::Id))
                    .col(string(ScamReports::Kind))
                    .col(string(ScamReports::Value))
                    .col(string_null(ScamReports::BankBin))
                    .col(string(ScamReports::Category))
                    .col(big_integer(ScamReports::ReportCount).default(1))
                    .col(timestamp_with_time_zone(ScamReports::FirstReportedAt))
                    .col(timestamp_with_time_zone(ScamReports::LastReportedAt))
                    .col(string(ScamReports::Source))
                    .col(boolean(ScamReports::Verified).default(false))
                    .col(string(ScamReports::Status).default("active"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_scam_reports_kind_value_source")
                    .table(ScamReports::Table)
                    .col(ScamReports::Kind)
                    .col(ScamReports::Value)
                    .col(ScamReports::Source)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ScamReports::Table.into_iden(),
            ZaloTokens::Table.into_iden(),
            OutboundMessages::Table.into_iden(),
            ZaloMessages::Table.into_iden(),
            InboxEvents::Table.into_iden(),
            ZaloUsers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ZaloUsers {
    Table,
    ZaloUserId,
    Followed,
    FirstSeenAt,
    LastSeenAt,
    FollowedAt,
    UnfollowedAt,
}

#[derive(DeriveIden)]
enum InboxEvents {
    Table,
    Id,
    EventKey,
    EventName,
    ZaloUserId,
    Payload,
    ReceivedAt,
    Attempts,
    HandledAt,
    Outcome,
}

#[derive(DeriveIden)]
enum ZaloMessages {
    Table,
    Id,
    ZaloUserId,
    MessageContent,
    IsFromUser,
    SentAt,
    MessageType,
    EventKey,
}

#[derive(DeriveIden)]
enum OutboundMessages {
    Table,
    Id,
    ZaloUserId,
    Text,
    State,
    SourceEventKey,
    PartIndex,
    Attempts,
    ZaloMessageId,
    ErrorCode,
    ErrorMessage,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ZaloTokens {
    Table,
    Id,
    AccessToken,
    RefreshToken,
    AccessExpiresAt,
    RefreshIssuedAt,
    Version,
    Source,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScamReports {
    Table,
    Id,
    Kind,
    Value,
    BankBin,
    Category,
    ReportCount,
    FirstReportedAt,
    LastReportedAt,
    Source,
    Verified,
    Status,
}
