//! Links followed to where they lead, and how old their domains are: the network side of
//! `scam::followed`.
//!
//! [`LinkFollower::follow`] takes a message already checked and returns a [`crate::scam::followed::Followed`]
//! for `scam::check::check_followed`. Which links are followed ([`plan`]: shorteners, then links on
//! unknown hosts in a message that already has scam signs), where each walk stops ([`walk`]), what is
//! cached and rate-limited ([`cache`]) and how RDAP answers read ([`rdap`]) are pure decisions; `expand`,
//! `rdap_client` and `follower` are the thin effects, through `net::GuardedFetcher`. See docs/links.md.

pub mod cache;
mod expand;
mod follower;
pub mod plan;
pub mod rdap;
mod rdap_client;
pub mod shorteners;
pub mod walk;

pub use expand::LinkExpander;
pub use follower::LinkFollower;
pub use rdap_client::RdapClient;
