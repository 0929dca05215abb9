//! The system tests: the real `tradesphere` binary, as a deployment runs it, and the tools an operator runs
//! beside it (Prometheus, promtool, amtool). Slower than the API tests: `kill -9` and SIGTERM under load, a
//! soak, a PostgreSQL restart, secrets in a debug log, every dashboard panel against a live Prometheus, the
//! ops checks and the CLI.

mod service;

mod cli;
mod dashboards;
mod moderation;
mod ops;
mod reliability;
mod secrets;
