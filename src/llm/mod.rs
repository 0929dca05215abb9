//! The language model: a thin typed client for any OpenAI-compatible `/chat/completions` endpoint, and the
//! pure prompt assembly and answer cleaning around it.

pub mod breaker;
pub mod budget;
pub mod client;
pub mod prompt;
