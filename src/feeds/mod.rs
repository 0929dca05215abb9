//! Outside scam feeds, the pure half: each format's parser (`format`), what a parse collects (`entries`),
//! the guards that keep a bad download from wiping a feed (`guard`), and the schedule (`plan`). The
//! download and the write are `reports::feed_sync`; the schedule runs in `actors::feeds`. See docs/feeds.md.

pub mod entries;
pub mod format;
pub mod guard;
pub mod plan;

pub use entries::{FeedDefaults, FeedEntries};
pub use format::{FormatError, parse};
pub use guard::{SyncResult, check_snapshot, looks_like_html};
pub use plan::{FeedState, Stored, after_sync, next_run, validators};
