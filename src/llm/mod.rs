//! The language model: a thin typed client for any OpenAI-compatible `/chat/completions` endpoint, the
//! pure prompt assembly before it and the pure answer hygiene after it.

pub mod answer;
pub mod breaker;
pub mod budget;
pub mod client;
pub mod prompt;
