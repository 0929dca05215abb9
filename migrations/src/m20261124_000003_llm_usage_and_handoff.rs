//! LLM cost control (token usage per user and day) and human handoff pauses.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LlmUsage::Table)
                    .if_not_exists()
                    .col(string(LlmUsage::Day))
                    .col(string(LlmUsage::ZaloUserId))
                    .col(big_integer(LlmUsage::Requests).default(0))
                    .col(big_integer(LlmUsage::PromptTokens).default(0))
                    .col(big_integer(LlmUsage::CompletionTokens).default(0))
                    .primary_key(Index::create().col(LlmUsage::Day).col(LlmUsage::ZaloUserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HandoffPauses::Table)
                    .if_not_exists()
                    .col(string(HandoffPauses::ZaloUserId).primary_key())
                    .col(timestamp_with_time_zone(HandoffPauses::PausedUntil))
                    .col(timestamp_with_time_zone(HandoffPauses::CreatedAt))
                    .col(string(HandoffPauses::Reason))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(HandoffPauses::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(LlmUsage::Table).if_exists().to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LlmUsage {
    Table,
    Day,
    ZaloUserId,
    Requests,
    PromptTokens,
    CompletionTokens,
}

#[derive(DeriveIden)]
enum HandoffPauses {
    Table,
    ZaloUserId,
    PausedUntil,
    CreatedAt,
    Reason,
}
