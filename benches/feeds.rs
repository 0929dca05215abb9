//! Outside scam feeds at scale: a 1,000,000-entry feed synced from a loopback server into SQLite (download,
//! streaming parse, guards, write), then its 304 and an unchanged forced re-import; and the report index
//! with 2,000,000 reports from two feeds: lookup time (criterion) and the resident memory it adds.
//! Run with `cargo bench --bench feeds`; a filter (`import`, `lookup`, `rss`) runs only those cases.

use std::hint::black_box;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tradesphere::config::{FeedFormat, FeedSettings, NetSettings, Settings};
use tradesphere::feeds::SyncResult;
use tradesphere::reports::sync_feed;
use tradesphere::scam::EntityKind;
use tradesphere::scam::index::{ReportIndex, ReportRow};
use tradesphere::store::Store;

// The service's allocator, so the memory figures are the service's.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const IMPORT_ENTRIES: usize = 1_000_000;
const INDEX_REPORTS: usize = 2_000_000;

fn domain(i: usize) -> String {
    format!(
        "lua-dao-{:07x}.com",
        i.wrapping_mul(2_654_435_761) % 0x1000_0000
    )
}

/// A URL-per-line feed body (the OpenPhish shape; each URL parsed down to its host).
fn feed_body(entries: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(entries * 40);
    for i in 0..entries {
        writeln!(body, "https://{}/dang-nhap?id={i}", domain(i)).unwrap();
    }
    body
}

/// Serves `body` with an ETag, and a 304 to a request that sends it back.
async fn serve(body: Arc<Vec<u8>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = Arc::clone(&body);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let answer = if head.contains("if-none-match: \"v1\"") {
                    "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n"
                        .to_string()
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"v1\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                };
                let _ = stream.write_all(answer.as_bytes()).await;
                if answer.starts_with("HTTP/1.1 200") {
                    let _ = stream.write_all(&body).await;
                }
            });
        }
    });
    addr
}

fn import(rt: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("feeds.db").display()
    );
    let settings = Settings::from_env_map([("DATABASE_URL".to_string(), url)].into()).unwrap();
    let body = Arc::new(feed_body(IMPORT_ENTRIES));
    let megabytes = body.len() / (1024 * 1024);
    let started = Instant::now();
    let defaults = tradesphere::feeds::FeedDefaults {
        source: "bench".into(),
        category: "trang lừa đảo".into(),
        verified: true,
    };
    let parsed =
        tradesphere::feeds::parse(FeedFormat::OpenphishTxt, body.as_slice(), &defaults).unwrap();
    println!(
        "feeds/import_1m parse only: {:.1?} ({} entries)",
        started.elapsed(),
        parsed.len()
    );
    drop(parsed);
    rt.block_on(async {
        let store = Store::connect(&settings.database).await.unwrap();
        store.migrate().await.unwrap();
        let addr = serve(Arc::clone(&body)).await;
        let net = NetSettings {
            allow_hosts: vec![addr.to_string().parse().unwrap()],
        };
        let feed = FeedSettings {
            name: "bench".into(),
            title: "Bench".into(),
            url: url::Url::parse(&format!("http://{addr}/feed.txt")).unwrap(),
            format: FeedFormat::OpenphishTxt,
            category: "trang lừa đảo".into(),
            refresh: Duration::from_secs(3600),
            enabled: true,
            api_key: None,
            verified: true,
            max_bytes: 512 * 1024 * 1024,
            timeout: Duration::from_secs(300),
        };
        for (what, force) in [
            ("first sync", false),
            ("unchanged, 304", false),
            ("unchanged, forced", true),
        ] {
            let started = Instant::now();
            let outcome = sync_feed(&store, &net, &feed, force, Utc::now()).await;
            let took = started.elapsed();
            assert!(outcome.result.is_success(), "{outcome}");
            if what == "first sync" {
                assert_eq!(outcome.result, SyncResult::Ok);
                assert_eq!(outcome.entries, IMPORT_ENTRIES, "{outcome}");
            }
            println!(
                "feeds/import_1m {what}: {took:.1?} ({megabytes} MiB body, {} entries, {} written; budget 60 s)",
                outcome.entries, outcome.written
            );
        }
        store.close().await;
    });
}

fn row(value: String, source: &str) -> ReportRow {
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    ReportRow {
        kind: EntityKind::Domain,
        value,
        source: source.into(),
        bank_bin: None,
        category: "trang lừa đảo".into(),
        report_count: 1,
        first_reported: at,
        last_reported: at,
        verified: true,
        active: true,
    }
}

/// 2,000,000 reports: two feeds of 1,000,000 domains each, a tenth of them listed by both.
fn index_of_two_feeds() -> ReportIndex {
    let mut index = ReportIndex::new();
    index.set_source_title("feed_a", "Feed A");
    index.set_source_title("feed_b", "Feed B");
    let half = INDEX_REPORTS / 2;
    for i in 0..half {
        index.apply(&row(domain(i), "feed_a"));
        let shared = i % 10 == 0;
        let j = if shared { i } else { half + i };
        index.apply(&row(domain(j), "feed_b"));
    }
    index
}

/// A field of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn rss() -> ReportIndex {
    let before = status_kib("VmRSS:").unwrap_or(0);
    let started = Instant::now();
    let index = index_of_two_feeds();
    let took = started.elapsed();
    let after = status_kib("VmRSS:").unwrap_or(0);
    println!(
        "feeds/rss_2m: {} distinct domains from {INDEX_REPORTS} reports in {took:.1?}; RSS {} MiB -> {} MiB: +{} MiB (budget +300 MiB)",
        index.len(EntityKind::Domain),
        before / 1024,
        after / 1024,
        after.saturating_sub(before) / 1024
    );
    index
}

fn lookups(criterion: &mut Criterion, index: &ReportIndex) {
    let hits: Vec<String> = (0..1024).map(|i| domain(i * 977)).collect();
    let misses: Vec<String> = (0..1024).map(|i| format!("khong-co-{i}.vn")).collect();
    let mut group = criterion.benchmark_group("feeds/lookup_2m");
    group.throughput(Throughput::Elements(1));
    let mut at = 0;
    group.bench_function("hit", |b| {
        b.iter(|| {
            at = (at + 1) % hits.len();
            black_box(index.lookup(EntityKind::Domain, black_box(&hits[at])))
        });
    });
    group.bench_function("miss", |b| {
        b.iter(|| {
            at = (at + 1) % misses.len();
            black_box(index.lookup(EntityKind::Domain, black_box(&misses[at])))
        });
    });
    group.finish();
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut criterion = Criterion::default().configure_from_args();
    if wanted("feeds/rss_2m") || wanted("feeds/lookup_2m") {
        let index = rss();
        if wanted("feeds/lookup_2m") {
            lookups(&mut criterion, &index);
        }
    }
    if wanted("feeds/import_1m") {
        import(&rt);
    }
    criterion.final_summary();
}
