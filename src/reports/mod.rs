//! The scam-report table as the detector sees it: the in-memory index kept in step with the table, and the
//! scheduled download of the configured scam-domain list into it. Used by the scam actor and the CLI.

mod index_sync;
mod list_sync;

pub use index_sync::IndexSync;
pub use list_sync::{SyncError, SyncSummary, redacted_url, sync_once};
