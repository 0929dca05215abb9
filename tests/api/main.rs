//! The API tests (zero2prod style): every test starts the service in process with `spawn_app()`, talks to it
//! over HTTP with Zalo and the model faked, and most run twice, against SQLite and against PostgreSQL. The
//! real binary and the external tools are exercised by the `system` tests.

mod helpers;

mod admin;
mod backpressure;
mod campaigns;
mod cluster;
mod console;
mod conversation;
mod health;
mod hostile;
mod images;
mod llm;
mod ops;
mod outbound;
mod recovery;
mod reliability;
mod scam;
mod scam_corpus;
mod supervision;
mod token;
mod trust;
mod webhook;
