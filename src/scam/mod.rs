//! Scam detection: the entities a message names, the report index they are checked against, the
//! verdict on each, and the scam scenarios its words suggest.
//!
//! Everything here is pure: no IO, no logging. Entity values are personal data
//! (phone numbers, account numbers), so callers must log [`Entity::masked`],
//! never [`Entity::value`].
//!
//! This file only declares the modules and re-exports what callers use. It defines nothing itself, so a
//! module that imports through it never closes a cycle.

pub mod appeal;
mod ascii_link;
pub mod assess;
pub mod banks;
pub mod check;
mod cues;
mod entity;
pub mod extract;
pub mod followed;
pub mod import;
pub mod index;
mod lexicon;
pub mod link;
pub mod mention;
mod numbers;
pub mod reason;
mod report;
mod scan;
mod scenario;
pub mod signals;
pub mod text;
pub mod trust;
pub mod user_report;
pub mod verdict;
pub mod vietqr;
mod walk;
pub mod words;

pub use entity::{Entity, EntityKind};
pub use extract::normalize_value;
pub use reason::{Level, Reason, ReasonKind, Weight};
pub use report::{Attribution, ReportSummary, vietnam_date};
pub use verdict::Finding;
