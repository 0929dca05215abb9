//! Every corpus message's check as one JSON line (level, reasons, entities, signals, and the words), to
//! compare the detector's output before and after a change that should not alter it:
//! `cargo run --release --example dump_checks > before.jsonl`. Given a path, reads that JSON-lines file (a
//! `text` per line) instead of the corpora.
use tradesphere::scam::check::{CheckReport, check};
use tradesphere::scam::index::ReportIndex;
use tradesphere::scam::words::Words;

fn main() {
    let given = std::env::args()
        .nth(1)
        .map(|path| std::fs::read_to_string(path).expect("a readable JSON-lines file"));
    let corpora = match &given {
        Some(file) => vec![file.as_str()],
        None => vec![
            include_str!("../tests/corpus/sms.jsonl"),
            include_str!("../tests/corpus/scam_messages.jsonl"),
        ],
    };
    let index = ReportIndex::new();
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .expect("a fixed time")
        .to_utc();
    for corpus in corpora {
        for line in corpus.lines() {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let Some(text) = value["text"].as_str() else {
                continue;
            };
            let report = CheckReport::from(&check(&index, text, now));
            let words = Words::new(text);
            println!(
                "{}",
                serde_json::json!({ "text": text, "check": report, "words": words.line() })
            );
        }
    }
}
