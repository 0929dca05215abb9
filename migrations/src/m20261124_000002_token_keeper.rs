//! Token keeper: refresh bookkeeping and the cross-process refresh lease on `zalo_tokens`, and the PKCE
//! `oauth_states` used by re-authorisation.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one ALTER option per statement.
        let columns = [
            timestamp_with_time_zone_null(ZaloTokens::LastRefreshAt),
            string_null(ZaloTokens::LastRefreshResult),
            text_null(ZaloTokens::LastRefreshError),
            timestamp_with_time_zone_null(ZaloTokens::LastRefreshSuccessAt),
            boolean(ZaloTokens::ReauthRequired).default(false).take(),
            string_null(ZaloTokens::LeaseOwner),
            timestamp_with_time_zone_null(ZaloTokens::LeaseUntil),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(ZaloTokens::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(OauthStates::Table)
                    .if_not_exists()
                    .col(string(OauthStates::State).primary_key())
                    .col(text(OauthStates::CodeVerifier))
                    .col(timestamp_with_time_zone(OauthStates::CreatedAt))
                    .col(timestamp_with_time_zone(OauthStates::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthStates::UsedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(OauthStates::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        for column in [
            ZaloTokens::LastRefreshAt,
            ZaloTokens::LastRefreshResult,
            ZaloTokens::LastRefreshError,
            ZaloTokens::LastRefreshSuccessAt,
            ZaloTokens::ReauthRequired,
            ZaloTokens::LeaseOwner,
            ZaloTokens::LeaseUntil,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ZaloTokens::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ZaloTokens {
    Table,
    LastRefreshAt,
    LastRefreshResult,
    LastRefreshError,
    LastRefreshSuccessAt,
    ReauthRequired,
    LeaseOwner,
    LeaseUntil,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    State,
    CodeVerifier,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}
