//! The scam-report table as the detector sees it: the in-memory index kept in step with the table, and the
//! scheduled download of the configured scam-domain list into it. Used by the scam actor and the CLI.
//! `moderation` decides user reports and appeals (and files them), `notices` tells people the outcome.

mod index_sync;
mod list_sync;
pub mod moderation;
pub mod notices;

pub use index_sync::IndexSync;
pub use list_sync::{SyncError, SyncSummary, redacted_url, sync_once};
