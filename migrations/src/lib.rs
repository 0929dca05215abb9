//! Schema migrations for TradeSphere (sea-orm-migration). Applied by `tradesphere serve` at start and by
//! `tradesphere migrate`. One file per migration; never edit a migration that has shipped, add a new one.
pub use sea_orm_migration::prelude::*;

mod m20261124_000001_initial;
mod m20261124_000002_token_keeper;
mod m20261124_000003_llm_usage_and_handoff;
mod m20261124_000004_scam_detection;
mod m20261207_000005_image_reads;
mod m20261207_000006_scam_feeds;
mod m20261207_000007_report_trust;
mod m20261207_000008_campaigns;
mod m20261207_000009_cluster;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_initial::Migration),
            Box::new(m20261124_000002_token_keeper::Migration),
            Box::new(m20261124_000003_llm_usage_and_handoff::Migration),
            Box::new(m20261124_000004_scam_detection::Migration),
            Box::new(m20261207_000005_image_reads::Migration),
            Box::new(m20261207_000006_scam_feeds::Migration),
            Box::new(m20261207_000007_report_trust::Migration),
            Box::new(m20261207_000008_campaigns::Migration),
            Box::new(m20261207_000009_cluster::Migration),
        ]
    }
}
