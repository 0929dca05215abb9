//! The scam-report table as the detector sees it: the in-memory index kept in step with the table, and the
//! outside feeds synced into it. Used by the scam and feeds actors and the CLI.
//! `moderation` decides user reports and appeals (and files them), `notices` tells people the outcome.

mod feed_sync;
mod index_sync;
pub mod moderation;
pub mod notices;

pub use feed_sync::{FeedOutcome, publish, sync_feed, sync_feeds};
pub use index_sync::IndexSync;
