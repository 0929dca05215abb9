//! Scam detection benchmarks: extraction throughput on the labelled corpus, the full check (extraction,
//! lookups, signals), and in-memory index lookups with the 16.8k-domain chongluadao list and with 1,000,000
//! synthetic phone/account reports. Run with `cargo bench --bench scam`.
//!
//! The domain list is read from `../shared/data/vn-badsite-domains.txt` (or `$SCAM_DOMAIN_LIST`); those
//! benchmarks are skipped, with a note, when it is not there.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tradesphere::scam::EntityKind;
use tradesphere::scam::check::check;
use tradesphere::scam::extract::extract;
use tradesphere::scam::import::{ListDefaults, parse_domain_list};
use tradesphere::scam::index::{ReportIndex, ReportRow};

/// The service's allocator (src/main.rs): detection allocates per message, and its cost is the service's.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const CORPUS: &str = include_str!("../tests/corpus/scam_messages.jsonl");
const SMS: &str = include_str!("../tests/corpus/sms.jsonl");
const SYNTHETIC_REPORTS: u64 = 1_000_000;

fn corpus_texts() -> Vec<String> {
    texts_of(CORPUS)
}

fn texts_of(corpus: &str) -> Vec<String> {
    corpus
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect()
}

fn row(kind: EntityKind, value: String, count: i64) -> ReportRow {
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    ReportRow {
        kind,
        value,
        source: "synthetic".into(),
        bank_bin: None,
        category: "lừa đảo".into(),
        report_count: count,
        first_reported: at,
        last_reported: at,
        verified: false,
        active: true,
    }
}

/// Half phones (`+849xxxxxxxx`), half 12-digit accounts, deterministic.
fn synthetic_index() -> ReportIndex {
    let mut index = ReportIndex::new();
    for i in 0..SYNTHETIC_REPORTS {
        let n = i.wrapping_mul(2_654_435_761) % 100_000_000;
        if i % 2 == 0 {
            index.apply(&row(EntityKind::Phone, format!("+849{n:08}"), 2));
        } else {
            index.apply(&row(EntityKind::BankAccount, format!("1903{n:08}"), 2));
        }
    }
    index
}

fn domain_index() -> Option<ReportIndex> {
    let path = std::env::var("SCAM_DOMAIN_LIST")
        .unwrap_or_else(|_| "../shared/data/vn-badsite-domains.txt".to_string());
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("{path} not found: domain-list benchmarks skipped");
        return None;
    };
    let parsed = parse_domain_list(
        &text,
        &ListDefaults {
            source: "chongluadao".into(),
            category: "trang web lừa đảo".into(),
            verified: true,
        },
    );
    let mut index = ReportIndex::new();
    for record in parsed.records {
        index.apply(&ReportRow {
            kind: record.kind,
            value: record.value,
            source: record.source,
            bank_bin: None,
            category: record.category,
            report_count: 1,
            first_reported: Utc::now(),
            last_reported: Utc::now(),
            verified: true,
            active: true,
        });
    }
    Some(index)
}

fn bench(c: &mut Criterion) {
    let texts = corpus_texts();
    let bytes: usize = texts.iter().map(String::len).sum();

    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(
        BenchmarkId::new("extract", format!("{} messages", texts.len())),
        |b| {
            b.iter(|| {
                for text in &texts {
                    black_box(extract(black_box(text)));
                }
            });
        },
    );
    let empty = ReportIndex::new();
    let now = Utc::now();
    group.bench_function(BenchmarkId::new("check", "extract+lookup+signals"), |b| {
        b.iter(|| {
            for text in &texts {
                black_box(check(&empty, black_box(text), now));
            }
        });
    });
    group.finish();

    // The SMS evaluation corpus: extraction, and extraction plus scoring (link, number and text reasons,
    // the level), with an empty report index.
    let sms = texts_of(SMS);
    let mut group = c.benchmark_group("sms");
    group.throughput(Throughput::Bytes(
        sms.iter().map(String::len).sum::<usize>() as u64,
    ));
    group.bench_function(
        BenchmarkId::new("extract", format!("{} messages", sms.len())),
        |b| {
            b.iter(|| {
                for text in &sms {
                    black_box(extract(black_box(text)));
                }
            });
        },
    );
    group.bench_function(BenchmarkId::new("check", "extract+score"), |b| {
        b.iter(|| {
            for text in &sms {
                black_box(check(&empty, black_box(text), now));
            }
        });
    });
    group.finish();

    let mut group = c.benchmark_group("lookup");
    let synthetic = synthetic_index();
    group.bench_function("1M_reports/phone_hit", |b| {
        b.iter(|| black_box(synthetic.lookup(EntityKind::Phone, black_box("+84900000000"))));
    });
    group.bench_function("1M_reports/account_miss", |b| {
        b.iter(|| black_box(synthetic.lookup(EntityKind::BankAccount, black_box("999999999999"))));
    });
    let entity = extract("gọi 0912 345 678").remove(0);
    group.bench_function("1M_reports/mobile_both_keys", |b| {
        b.iter(|| {
            for (kind, value) in black_box(&entity).lookup_keys() {
                black_box(synthetic.lookup(kind, &value));
            }
        });
    });
    if let Some(domains) = domain_index() {
        let host = extract("vào https://login.secure.example-not-listed.com.vn/otp").remove(0);
        group.bench_function("16.8k_domains/host_and_parents", |b| {
            b.iter(|| {
                for (kind, value) in black_box(&host).lookup_keys() {
                    black_box(domains.lookup(kind, &value));
                }
            });
        });
        group.bench_function("16.8k_domains/hit", |b| {
            b.iter(|| black_box(domains.lookup(EntityKind::Domain, black_box("1217.cc"))));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
