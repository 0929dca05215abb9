//! Campaigns: scam alerts sent to the users inside Zalo's customer-service window. A user's opt-out lives on
//! `zalo_users`; each campaign has one row per user it considered (targeted or skipped, and why), and each
//! targeted row gets exactly one outbound part, which names its campaign (and may carry an image).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes no more.
        manager
            .alter_table(
                Table::alter()
                    .table(ZaloUsers::Table)
                    .add_column(timestamp_with_time_zone_null(ZaloUsers::AlertsOptedOutAt))
                    .to_owned(),
            )
            .await?;
        for mut column in [
            big_integer_null(OutboundMessages::CampaignId),
            text_null(OutboundMessages::ImageUrl),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OutboundMessages::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_outbound_campaign")
                    .table(OutboundMessages::Table)
                    .col(OutboundMessages::CampaignId)
                    .col(OutboundMessages::State)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Campaigns::Id))
                    .col(text(Campaigns::Text))
                    .col(text_null(Campaigns::ImageUrl))
                    .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                    .col(timestamp_with_time_zone_null(Campaigns::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CampaignRecipients::Table)
                    .if_not_exists()
                    .col(big_pk_auto(CampaignRecipients::Id))
                    .col(big_integer(CampaignRecipients::CampaignId))
                    .col(string(CampaignRecipients::ZaloUserId))
                    .col(boolean(CampaignRecipients::Targeted))
                    .col(string(CampaignRecipients::State))
                    .col(string_null(CampaignRecipients::SkipReason))
                    .col(big_integer_null(CampaignRecipients::OutboundId))
                    .col(timestamp_with_time_zone(CampaignRecipients::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // A user is considered once per campaign: the database decides.
        manager
            .create_index(
                Index::create()
                    .name("uq_campaign_recipient")
                    .table(CampaignRecipients::Table)
                    .col(CampaignRecipients::CampaignId)
                    .col(CampaignRecipients::ZaloUserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_campaign_recipients_state")
                    .table(CampaignRecipients::Table)
                    .col(CampaignRecipients::CampaignId)
                    .col(CampaignRecipients::State)
                    .col(CampaignRecipients::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CampaignRecipients::Table.into_iden(),
            Campaigns::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_outbound_campaign")
                    .table(OutboundMessages::Table)
                    .to_owned(),
            )
            .await?;
        for column in [OutboundMessages::CampaignId, OutboundMessages::ImageUrl] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OutboundMessages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ZaloUsers::Table)
                    .drop_column(ZaloUsers::AlertsOptedOutAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ZaloUsers {
    Table,
    AlertsOptedOutAt,
}

#[derive(DeriveIden)]
enum OutboundMessages {
    Table,
    State,
    CampaignId,
    ImageUrl,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    Text,
    ImageUrl,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum CampaignRecipients {
    Table,
    Id,
    CampaignId,
    ZaloUserId,
    Targeted,
    State,
    SkipReason,
    OutboundId,
    UpdatedAt,
}
