//! Where extraction time goes, stage by stage, on the labelled corpus (release build):
//! `cargo run --release --example profile_extract`.
use std::time::Instant;

fn main() {
    let corpus = include_str!("../tests/corpus/scam_messages.jsonl");
    let texts: Vec<String> = corpus
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let args: Vec<String> = std::env::args().collect();
    // `--rounds N` shortens runs under valgrind.
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(200);
    if args.iter().any(|a| a == "--extract-only") {
        // One warm-up round first, so lazy tables and memos are built outside `extract_rounds`; under
        // callgrind, `--toggle-collect='*extract_rounds*'` then counts steady-state work only.
        for t in &texts {
            std::hint::black_box(tradesphere::scam::extract::extract(t));
        }
        println!("{}", extract_rounds(&texts, rounds * 3));
        return;
    }
    let run = |name: &str, texts: &[String], f: &dyn Fn(&str) -> usize| {
        let started = Instant::now();
        let mut n = 0;
        for _ in 0..rounds {
            for t in texts {
                n += f(t);
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{name:<28} {:>8.1} MB/s  ({n})",
            (bytes * rounds) as f64 / secs / 1e6
        );
    };
    run("normalize", &texts, &|t| {
        tradesphere::scam::text::PreparedText::new(t)
            .normalized()
            .len()
    });
    run("extract", &texts, &|t| {
        tradesphere::scam::extract::extract(t).len()
    });
    let no_digits: Vec<String> = texts
        .iter()
        .map(|t| t.replace(|c: char| c.is_ascii_digit(), "x"))
        .collect();
    run("extract (digits removed)", &no_digits, &|t| {
        tradesphere::scam::extract::extract(t).len()
    });
    let no_dots: Vec<String> = texts.iter().map(|t| t.replace('.', ",")).collect();
    run("extract (dots removed)", &no_dots, &|t| {
        tradesphere::scam::extract::extract(t).len()
    });
    run("signals", &texts, &|t| {
        tradesphere::scam::signals::find_signals(t).len()
    });
}

/// Extracts every text `rounds` times; the number of entities found.
#[inline(never)]
fn extract_rounds(texts: &[String], rounds: usize) -> usize {
    let mut n = 0;
    for _ in 0..rounds {
        for t in texts {
            n += tradesphere::scam::extract::extract(t).len();
        }
    }
    n
}
