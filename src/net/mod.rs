//! Fetching outside URLs safely: the images users send (through `media`) and link expansion (`links`).
//!
//! [`GuardedFetcher`] reaches only public addresses over https, except the hosts of `net.allow_hosts`.
//! Each hop's host is resolved once, every address checked by [`policy`], and the connection pinned to
//! exactly those addresses (the client's own resolver refuses every name), so DNS cannot answer
//! differently between the check and the connect. Redirects are followed by hand, each target checked
//! afresh. One deadline covers the whole fetch, and the body is capped while it streams. This module
//! counts nothing: callers count their outcomes under their own names, labelled by
//! [`FetchError::as_str`]. See docs/media.md.

mod error;
mod fetcher;
pub mod policy;
mod stream;

pub use error::FetchError;
pub use fetcher::{Chain, FetchLimits, Fetched, GuardedFetcher, Step};
pub use stream::{BodyStream, Conditional, Validators};
