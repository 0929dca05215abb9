//! Images read per user and day, for the per-user daily image budget.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ImageReads::Table)
                    .if_not_exists()
                    .col(string(ImageReads::Day))
                    .col(string(ImageReads::ZaloUserId))
                    .col(big_integer(ImageReads::Images).default(0))
                    .primary_key(
                        Index::create()
                            .col(ImageReads::Day)
                            .col(ImageReads::ZaloUserId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ImageReads::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ImageReads {
    Table,
    Day,
    ZaloUserId,
    Images,
}
