//! TradeSphere: a Zalo Official Account anti-scam assistant. See ARCHITECTURE.md for the map.

pub mod actors;
pub mod backup;
pub mod campaigns;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conversation;
pub mod delivery;
pub mod domain;
pub mod faults;
pub mod http;
pub mod links;
pub mod llm;
pub mod media;
pub mod net;
pub mod pipeline;
pub mod recovery;
pub mod reply;
pub mod reports;
pub mod scam;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod token;
pub mod token_cipher;
pub mod zalo;
