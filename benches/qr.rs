//! Image benchmarks: QR decoding of a phone screenshot (1080×2400) holding one code and holding none,
//! the latter the worst case (a second, contrast-stretched pass). Run with `cargo bench --bench qr`.
//!
//! Criterion reports means; the budget is a p95, so after it each case is also timed call by call and
//! its percentiles printed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use image::GrayImage;
use testkit::images::qr::{phone_screenshot, phone_screenshot_with_qr};
use tradesphere::media::qr::decode_qr;

/// Calls timed one by one for the percentiles.
const TIMED_CALLS: usize = 200;

fn cases() -> Vec<(&'static str, GrayImage)> {
    let with_code = phone_screenshot_with_qr(7);
    assert_eq!(decode_qr(&with_code.image), with_code.payloads);
    let without = phone_screenshot(7);
    assert!(decode_qr(&without).is_empty());
    vec![
        ("qr/decode_1080x2400/one_code", with_code.image),
        ("qr/decode_1080x2400/no_code", without),
    ]
}

fn bench(c: &mut Criterion, cases: &[(&'static str, GrayImage)]) {
    let mut group = c.benchmark_group("qr");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(10));
    for (name, image) in cases {
        let id = name.trim_start_matches("qr/");
        group.bench_function(id, |b| b.iter(|| black_box(decode_qr(black_box(image)))));
    }
    group.finish();
}

/// p50, p95, p99 and the maximum of `TIMED_CALLS` single calls.
fn percentiles(name: &str, image: &GrayImage) {
    let mut times: Vec<Duration> = (0..TIMED_CALLS)
        .map(|_| {
            let started = Instant::now();
            black_box(decode_qr(black_box(image)));
            started.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "{name}: p50 {:.1?}, p95 {:.1?}, p99 {:.1?}, max {:.1?} over {TIMED_CALLS} calls",
        at(0.50),
        at(0.95),
        at(0.99),
        times[times.len() - 1],
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; `cargo test --benches` runs each case once and times nothing.
    let timing = args.iter().any(|a| a == "--bench");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let cases = cases();
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion, &cases);
    criterion.final_summary();
    for (name, image) in cases.iter().filter(|_| timing) {
        if filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())) {
            percentiles(name, image);
        }
    }
}
