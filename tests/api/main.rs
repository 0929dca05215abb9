//! One integration test binary (zero2prod style): every test starts the real service with `spawn_app()`,
//! and most run twice, against SQLite and against PostgreSQL.

mod helpers;

mod llm;

mod admin;
mod backpressure;
mod cli;
mod conversation;
mod dashboards;
mod health;
mod hostile;
mod ops;
mod outbound;
mod reliability;
mod scam;
mod scam_corpus;
mod secrets;
mod supervision;
mod token;
mod webhook;
