//! Where the time of a full check goes, stage by stage, on the SMS corpus (release build):
//! `cargo run --release --example profile_check`.
use std::hint::black_box;
use std::time::Instant;

use tradesphere::scam::check::check;
use tradesphere::scam::extract::extract;
use tradesphere::scam::index::ReportIndex;
use tradesphere::scam::link::link_reasons;
use tradesphere::scam::signals::text_signals;
use tradesphere::scam::words::Words;

/// The service's allocator (src/main.rs): detection allocates per message, and its cost is the service's.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The measured loop, apart so that `valgrind --tool=callgrind --toggle-collect='*timed*'` counts it alone.
#[inline(never)]
fn timed(rounds: usize, texts: &[String], f: &dyn Fn(&str, usize) -> usize) {
    for _ in 0..rounds {
        for (i, t) in texts.iter().enumerate() {
            black_box(f(t, i));
        }
    }
}

fn main() {
    let corpus = include_str!("../tests/corpus/sms.jsonl");
    // `TEXT=…` profiles one message instead of the corpus (its fixed cost, say).
    let one = std::env::var("TEXT").ok();
    let texts: Vec<String> = corpus
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect();
    let texts = one.map_or(texts, |t| vec![t]);
    let bytes: usize = texts.iter().map(String::len).sum();
    // `ROUNDS=2` under callgrind, whose instruction counts are steady on a busy machine.
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100);
    let index = ReportIndex::new();
    let now = chrono::Utc::now();
    let entities: Vec<_> = texts.iter().map(|t| extract(t)).collect();
    // `STAGE=check` runs one stage only, for `perf record`.
    let only = std::env::var("STAGE").ok();
    let run = |name: &str, f: &dyn Fn(&str, usize) -> usize| {
        if only.as_deref().is_some_and(|o| o != name) {
            return;
        }
        for (i, t) in texts.iter().enumerate() {
            black_box(f(t, i));
        }
        let started = Instant::now();
        timed(rounds, &texts, f);
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{name:>14}: {:7.1} MB/s, {:6.2} µs/message",
            (bytes * rounds) as f64 / secs / 1e6,
            secs * 1e6 / (texts.len() * rounds) as f64
        );
    };
    run("words", &|t, _| Words::new(t).line().len());
    run("text_signals", &|t, _| text_signals(t).reasons.len());
    run("extract", &|t, _| extract(t).len());
    run("link_reasons", &|t, i| {
        entities[i]
            .iter()
            .filter(|e| e.kind == tradesphere::scam::EntityKind::Domain)
            .map(|e| link_reasons(t, e).len())
            .sum()
    });
    run("check", &|t, _| check(&index, t, now).reasons.len());
}
