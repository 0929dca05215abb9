//! User-facing reply text: Vietnamese templates and splitting long replies
//! into messages that fit the platform's length limit.

pub mod split;
pub mod templates;
