//! Everything that knows Zalo's wire format: webhook events, the MAC signature, the OA send API.
//!
//! Architecture Invariant: no other module parses or builds Zalo JSON. Callers get plain Rust types.

pub mod api;
pub mod events;
pub mod oauth;
pub mod signature;

/// Joins a base URL and a path that starts with `/`.
pub fn endpoint(base: &url::Url, path: &str) -> String {
    format!("{}{}", base.as_str().trim_end_matches('/'), path)
}
