//! Outside scam feeds against real loopback servers speaking HTTP/1.1 by hand: each format with its ETag
//! and Last-Modified (then a 304), gzip both as a content encoding and as a `.gz` file, HTML answers,
//! empty bodies and halving snapshots refused, oversized and dripping feeds cut off, a local file, and a
//! new snapshot replacing the feed's entries on SQLite and PostgreSQL.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use metrics_exporter_prometheus::PrometheusBuilder;
use testkit::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tradesphere::config::{FeedFormat, FeedSettings, NetSettings, Settings};
use tradesphere::feeds::SyncResult;
use tradesphere::reports::{IndexSync, sync_feed};
use tradesphere::scam::EntityKind;
use tradesphere::scam::check::CheckReport;
use tradesphere::store::Store;

/// What the server answers; changed between syncs.
#[derive(Clone, Default)]
struct Answer {
    body: Vec<u8>,
    content_type: &'static str,
    etag: Option<String>,
    last_modified: Option<String>,
    /// Sent with `Content-Encoding: gzip`, compressed on the way out.
    gzip_encoding: bool,
    /// Declares this length, sends nothing.
    declares: Option<u64>,
    /// Chunked and endless.
    endless: bool,
    /// One byte per this long.
    drip: Option<Duration>,
}

struct Server {
    addr: SocketAddr,
    answer: Arc<Mutex<Answer>>,
    /// Each request's headers, lowercased names.
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl Server {
    async fn start(answer: Answer) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Server {
            addr: listener.local_addr().unwrap(),
            answer: Arc::new(Mutex::new(answer)),
            requests: Arc::default(),
        };
        let (answer, requests) = (server.answer.clone(), server.requests.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let answer = answer.lock().unwrap().clone();
                let requests = requests.clone();
                tokio::spawn(async move { handle(stream, answer, requests).await });
            }
        });
        server
    }

    fn set(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn net(&self) -> NetSettings {
        NetSettings {
            allow_hosts: vec![self.addr.to_string().parse().unwrap()],
        }
    }

    fn last_request(&self) -> HashMap<String, String> {
        self.requests.lock().unwrap().last().cloned().unwrap()
    }
}

async fn handle(
    mut stream: TcpStream,
    answer: Answer,
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let headers: HashMap<String, String> = String::from_utf8_lossy(&head)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    requests.lock().unwrap().push(headers.clone());
    let close = "Connection: close\r\n";
    let mut validators = String::new();
    if let Some(etag) = &answer.etag {
        validators.push_str(&format!("ETag: {etag}\r\n"));
    }
    if let Some(at) = &answer.last_modified {
        validators.push_str(&format!("Last-Modified: {at}\r\n"));
    }
    let unchanged = answer
        .etag
        .as_ref()
        .is_some_and(|e| headers.get("if-none-match") == Some(e))
        || (answer.etag.is_none()
            && answer
                .last_modified
                .as_ref()
                .is_some_and(|at| headers.get("if-modified-since") == Some(at)));
    if unchanged {
        let head = format!("HTTP/1.1 304 Not Modified\r\n{validators}{close}\r\n");
        let _ = stream.write_all(head.as_bytes()).await;
        return;
    }
    if let Some(declared) = answer.declares {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n{close}\r\n");
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.read(&mut byte).await;
        return;
    }
    if answer.endless {
        let head = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n{close}\r\n");
        let _ = stream.write_all(head.as_bytes()).await;
        let line = b"evil.example\n".repeat(5_000);
        loop {
            let frame = async {
                stream
                    .write_all(format!("{:x}\r\n", line.len()).as_bytes())
                    .await?;
                stream.write_all(&line).await?;
                stream.write_all(b"\r\n").await
            };
            if frame.await.is_err() {
                return;
            }
        }
    }
    let (body, encoding) = if answer.gzip_encoding {
        (gzip(&answer.body), "Content-Encoding: gzip\r\n")
    } else {
        (answer.body.clone(), "")
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n{encoding}{validators}{close}\r\n",
        answer.content_type,
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    match answer.drip {
        None => {
            let _ = stream.write_all(&body).await;
        }
        Some(every) => {
            for b in body {
                tokio::time::sleep(every).await;
                if stream.write_all(&[b]).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn text(body: &str, etag: &str) -> Answer {
    Answer {
        body: body.as_bytes().to_vec(),
        content_type: "text/plain; charset=utf-8",
        etag: Some(format!("\"{etag}\"")),
        last_modified: Some("Mon, 07 Dec 2026 10:00:00 GMT".into()),
        ..Answer::default()
    }
}

fn feed(name: &str, url: &str, format: FeedFormat) -> FeedSettings {
    FeedSettings {
        name: name.into(),
        title: format!("{name} title"),
        url: url::Url::parse(url).unwrap(),
        format,
        category: "trang lừa đảo".into(),
        refresh: Duration::from_secs(3600),
        enabled: true,
        api_key: None,
        verified: true,
        max_bytes: 1024 * 1024,
        timeout: Duration::from_secs(5),
    }
}

async fn store(backend: &Backend, dir: &tempfile::TempDir) -> Store {
    let url = backend.fresh_database(dir).await;
    let settings = Settings::from_env_map([("DATABASE_URL".to_string(), url)].into()).unwrap();
    let store = Store::connect(&settings.database).await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (store(&Backend::Sqlite, &dir).await, dir)
}

async fn sync(store: &Store, server: &Server, feed: &FeedSettings, force: bool) -> SyncResult {
    let outcome = sync_feed(store, &server.net(), feed, force, chrono::Utc::now()).await;
    outcome.result
}

async fn listed(store: &Store, source: &str) -> Vec<String> {
    let mut values: Vec<String> = store
        .active_report_keys(source)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    values.sort();
    values
}

/// One body per format, and the entries each must give.
fn samples() -> Vec<(FeedFormat, &'static str, Vec<&'static str>)> {
    vec![
        (
            FeedFormat::Domains,
            "# list\nvcb-xacminh.example\n*.lua-dao.example\n",
            vec!["lua-dao.example", "vcb-xacminh.example"],
        ),
        (
            FeedFormat::Hosts,
            "127.0.0.1 localhost\n0.0.0.0 hosts-evil.example\n",
            vec!["hosts-evil.example"],
        ),
        (
            FeedFormat::UrlhausCsv,
            "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n\
             \"1\",\"2026-12-07 10:00:00\",\"http://mal.example/a.exe\",\"online\",\"\",\"malware_download\",\"\",\"\",\"x\"\n",
            vec!["mal.example"],
        ),
        (
            FeedFormat::OpenphishTxt,
            "https://phish.example/login\nhttps://phish2.example/x\n",
            vec!["phish.example", "phish2.example"],
        ),
        (
            FeedFormat::PhishtankCsv,
            "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n\
             1,https://pt.example/x,u,2026-12-06T01:00:00+00:00,yes,2026-12-06T02:00:00+00:00,yes,Other\n",
            vec!["pt.example"],
        ),
        (
            FeedFormat::PhishtankJson,
            r#"[{"phish_id":"1","url":"https://ptj.example/x","verified":"yes"}]"#,
            vec!["ptj.example"],
        ),
        (
            FeedFormat::Csv,
            "kind,value,category,report_count,source\nphone,0912345678,lừa đảo,2,x\ndomain,own.example,,1,x\n",
            vec!["+84912345678", "own.example"],
        ),
    ]
}

#[tokio::test]
async fn every_format_syncs_then_answers_304_to_its_validators() {
    let (store, _dir) = sqlite().await;
    for (format, body, expected) in samples() {
        let server = Server::start(text(body, format.as_str())).await;
        let feed = feed(format.as_str(), &server.url("/feed"), format);
        assert_eq!(
            sync(&store, &server, &feed, false).await,
            SyncResult::Ok,
            "{format:?}"
        );
        assert_eq!(
            listed(&store, format.as_str()).await,
            expected,
            "{format:?}"
        );
        let first = server.last_request();
        assert_eq!(
            first.get("accept-encoding").map(String::as_str),
            Some("gzip")
        );
        assert!(!first.contains_key("if-none-match"), "{format:?}");
        assert_eq!(
            sync(&store, &server, &feed, false).await,
            SyncResult::NotModified,
            "{format:?}"
        );
        let second = server.last_request();
        assert_eq!(
            second.get("if-none-match"),
            Some(&format!("\"{}\"", format.as_str()))
        );
        assert_eq!(
            second.get("if-modified-since").map(String::as_str),
            Some("Mon, 07 Dec 2026 10:00:00 GMT")
        );
        let state = store.feed_state(format.as_str()).await.unwrap().unwrap();
        assert_eq!(state.entries, expected.len() as i64);
        assert_eq!(state.last_result, Some(SyncResult::NotModified));
        assert!(state.last_success.is_some());
    }
}

#[tokio::test]
async fn last_modified_alone_is_sent_back() {
    let (store, _dir) = sqlite().await;
    let mut answer = text("a.example\n", "x");
    answer.etag = None;
    let server = Server::start(answer).await;
    let feed = feed("lm", &server.url("/"), FeedFormat::Domains);
    assert_eq!(sync(&store, &server, &feed, false).await, SyncResult::Ok);
    assert_eq!(
        sync(&store, &server, &feed, false).await,
        SyncResult::NotModified
    );
    assert!(!server.last_request().contains_key("if-none-match"));
    // --force asks for the whole feed again.
    assert_eq!(sync(&store, &server, &feed, true).await, SyncResult::Ok);
    assert!(!server.last_request().contains_key("if-modified-since"));
}

async fn replaces_and_attributes(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&backend, &dir).await;
    let a = Server::start(text(
        "one-lua-dao.vn\ntwo-lua-dao.vn\nthree-lua-dao.vn\nfour-lua-dao.vn\n",
        "a1",
    ))
    .await;
    let b = Server::start(text("https://two-lua-dao.vn/login\n", "b1")).await;
    let feed_a = feed("feed_a", &a.url("/a"), FeedFormat::Domains);
    let feed_b = feed("feed_b", &b.url("/b"), FeedFormat::OpenphishTxt);
    assert_eq!(sync(&store, &a, &feed_a, false).await, SyncResult::Ok);
    assert_eq!(sync(&store, &b, &feed_b, false).await, SyncResult::Ok);
    let mut index = IndexSync::new();
    index.sync(&store).await.unwrap();

    // A domain both feeds list names both, each with its title, in the JSON too.
    let outcome = index.check("vào two-lua-dao.vn nhé", chrono::Utc::now());
    let report = serde_json::to_value(CheckReport::from(&outcome)).unwrap();
    let sources: Vec<&str> = report["entities"][0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["source"].as_str())
        .collect();
    assert_eq!(sources.len(), 2, "{report}");
    assert!(
        sources.contains(&"feed_a") && sources.contains(&"feed_b"),
        "{report}"
    );
    let labels = report["entities"][0]["reasons"].to_string();
    assert!(
        labels.contains("feed_a title liệt kê là trang lừa đảo, ngày"),
        "{labels}"
    );
    assert_eq!(report["level"], "danger");

    // The next snapshot drops one entry and adds one: the dropped one is retired, its row kept.
    a.set(text(
        "one-lua-dao.vn\ntwo-lua-dao.vn\nthree-lua-dao.vn\nfive-lua-dao.vn\n",
        "a2",
    ));
    let outcome = sync_feed(&store, &a.net(), &feed_a, false, chrono::Utc::now()).await;
    assert_eq!(outcome.result, SyncResult::Ok, "{outcome}");
    assert_eq!((outcome.written, outcome.retired), (1, 1), "{outcome}");
    assert_eq!(
        listed(&store, "feed_a").await,
        [
            "five-lua-dao.vn",
            "one-lua-dao.vn",
            "three-lua-dao.vn",
            "two-lua-dao.vn"
        ]
    );
    let rows = store.changed_reports(None, None, 100).await.unwrap();
    let four = rows
        .iter()
        .find(|r| r.row.value == "four-lua-dao.vn")
        .unwrap();
    assert!(!four.row.active, "retired, not deleted");
    index.sync(&store).await.unwrap();
    assert!(
        index
            .index()
            .lookup(EntityKind::Domain, "four-lua-dao.vn")
            .is_none()
    );
    assert!(
        index
            .index()
            .lookup(EntityKind::Domain, "five-lua-dao.vn")
            .is_some()
    );
    // Listed again later, it comes back with its history.
    a.set(text(
        "one-lua-dao.vn\ntwo-lua-dao.vn\nthree-lua-dao.vn\nfour-lua-dao.vn\nfive-lua-dao.vn\n",
        "a3",
    ));
    assert_eq!(sync(&store, &a, &feed_a, false).await, SyncResult::Ok);
    index.sync(&store).await.unwrap();
    assert!(
        index
            .index()
            .lookup(EntityKind::Domain, "four-lua-dao.vn")
            .is_some()
    );
}

#[tokio::test]
async fn a_new_snapshot_replaces_the_feed_on_sqlite() {
    replaces_and_attributes(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_new_snapshot_replaces_the_feed_on_postgres() {
    if let Some(backend) = Backend::postgres().await {
        replaces_and_attributes(backend).await;
    }
}

#[tokio::test]
async fn html_empty_and_halving_snapshots_are_refused_unless_forced() {
    let (store, _dir) = sqlite().await;
    let server = Server::start(text("a.example\nb.example\nc.example\nd.example\n", "1")).await;
    let feed = feed("guarded", &server.url("/"), FeedFormat::Domains);
    assert_eq!(sync(&store, &server, &feed, false).await, SyncResult::Ok);
    let before = listed(&store, "guarded").await;

    let mut html = text(
        "<!DOCTYPE html><html><body>Please log in</body></html>",
        "2",
    );
    html.content_type = "text/plain";
    server.set(html);
    assert_eq!(sync(&store, &server, &feed, false).await, SyncResult::Html);
    let mut login = text("a.example\n", "3");
    login.content_type = "text/html";
    server.set(login);
    assert_eq!(sync(&store, &server, &feed, false).await, SyncResult::Html);
    server.set(text("", "4"));
    assert_eq!(sync(&store, &server, &feed, false).await, SyncResult::Empty);
    server.set(text("# nothing today\n", "5"));
    assert_eq!(sync(&store, &server, &feed, false).await, SyncResult::Empty);
    server.set(text("a.example\n", "6"));
    assert_eq!(
        sync(&store, &server, &feed, false).await,
        SyncResult::Shrink
    );
    assert_eq!(listed(&store, "guarded").await, before, "nothing wiped");
    let state = store.feed_state("guarded").await.unwrap().unwrap();
    assert_eq!(state.failures, 5);
    assert_eq!(
        state.etag.as_deref(),
        Some("\"1\""),
        "the stored snapshot's validators stay"
    );

    assert_eq!(sync(&store, &server, &feed, true).await, SyncResult::Ok);
    assert_eq!(listed(&store, "guarded").await, ["a.example"]);
}

#[tokio::test]
async fn gzip_as_an_encoding_and_as_a_gz_file() {
    let (store, _dir) = sqlite().await;
    let mut encoded = text("gz-one.example\ngz-two.example\n", "g");
    encoded.gzip_encoding = true;
    let server = Server::start(encoded).await;
    let feed_a = feed("gz_encoding", &server.url("/"), FeedFormat::Domains);
    assert_eq!(sync(&store, &server, &feed_a, false).await, SyncResult::Ok);
    assert_eq!(
        listed(&store, "gz_encoding").await,
        ["gz-one.example", "gz-two.example"]
    );

    let csv = "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n\
               1,https://gz-file.example/x,u,2026-12-06T01:00:00+00:00,yes,,yes,Other\n";
    let file = Answer {
        body: gzip(csv.as_bytes()),
        content_type: "application/x-gzip",
        ..Answer::default()
    };
    let server = Server::start(file).await;
    let feed_b = feed(
        "gz_file",
        &server.url("/online-valid.csv.gz"),
        FeedFormat::PhishtankCsv,
    );
    assert_eq!(sync(&store, &server, &feed_b, false).await, SyncResult::Ok);
    assert_eq!(listed(&store, "gz_file").await, ["gz-file.example"]);
}

#[tokio::test]
async fn oversized_and_slow_feeds_are_cut_off() {
    let (store, _dir) = sqlite().await;
    let mut small = feed("capped", "http://127.0.0.1:1/", FeedFormat::Domains);
    small.max_bytes = 64 * 1024;
    small.timeout = Duration::from_secs(1);

    let declared = Server::start(Answer {
        declares: Some(1 << 30),
        ..Answer::default()
    })
    .await;
    small.url = url::Url::parse(&declared.url("/")).unwrap();
    assert_eq!(
        sync(&store, &declared, &small, false).await,
        SyncResult::TooLarge
    );

    let endless = Server::start(Answer {
        endless: true,
        ..Answer::default()
    })
    .await;
    small.url = url::Url::parse(&endless.url("/")).unwrap();
    assert_eq!(
        sync(&store, &endless, &small, false).await,
        SyncResult::TooLarge
    );

    // A gzip bomb: small on the wire, past the cap once inflated.
    let mut bomb = text("", "b");
    bomb.body = "bomb.example\n".repeat(20_000).into_bytes();
    bomb.gzip_encoding = true;
    let bombs = Server::start(bomb).await;
    small.url = url::Url::parse(&bombs.url("/")).unwrap();
    assert_eq!(
        sync(&store, &bombs, &small, false).await,
        SyncResult::TooLarge
    );

    let mut drip = text("slow.example\nslower.example\n", "d");
    drip.drip = Some(Duration::from_millis(100));
    let slow = Server::start(drip).await;
    small.url = url::Url::parse(&slow.url("/")).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        sync(&store, &slow, &small, false).await,
        SyncResult::Timeout
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(listed(&store, "capped").await.is_empty());
}

#[tokio::test]
async fn malformed_rows_are_skipped_and_named_by_line() {
    let (store, _dir) = sqlite().await;
    let server = Server::start(text(
        "good.example\nnot a domain\n\nalso-good.example\n%%%\n",
        "m",
    ))
    .await;
    let feed = feed("messy", &server.url("/"), FeedFormat::Domains);
    let outcome = sync_feed(&store, &server.net(), &feed, false, chrono::Utc::now()).await;
    assert_eq!(outcome.result, SyncResult::Ok);
    assert_eq!(outcome.entries, 2);
    assert_eq!(outcome.bad_rows, 2);
    let lines: Vec<u64> = outcome.bad_lines.iter().map(|b| b.line).collect();
    assert_eq!(lines, [2, 5]);
    assert_eq!(
        store.feed_state("messy").await.unwrap().unwrap().bad_rows,
        2
    );
}

#[tokio::test]
async fn a_local_file_is_a_feed() {
    let (store, dir) = sqlite().await;
    let path = dir.path().join("local.csv");
    std::fs::write(
        &path,
        "kind,value,category,report_count,source\nbank_account,190366888888,giả danh,1,admin\n",
    )
    .unwrap();
    let url = url::Url::from_file_path(&path).unwrap();
    let local = feed("local", url.as_str(), FeedFormat::Csv);
    let outcome = sync_feed(
        &store,
        &NetSettings::default(),
        &local,
        false,
        chrono::Utc::now(),
    )
    .await;
    assert_eq!(outcome.result, SyncResult::Ok, "{outcome}");
    assert_eq!(listed(&store, "local").await, ["190366888888"]);
}

#[test]
fn syncs_are_counted_by_feed_and_result() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let (store, _dir) = sqlite().await;
            let server = Server::start(text("m1.example\nm2.example\n", "1")).await;
            let feed = feed("metered", &server.url("/"), FeedFormat::Domains);
            assert_eq!(sync(&store, &server, &feed, false).await, SyncResult::Ok);
            assert_eq!(
                sync(&store, &server, &feed, false).await,
                SyncResult::NotModified
            );
            server.set(text("<html>", "2"));
            assert_eq!(sync(&store, &server, &feed, false).await, SyncResult::Html);
        })
    });
    let text = handle.render();
    for line in [
        "tradesphere_scam_feed_syncs_total{feed=\"metered\",result=\"ok\"} 1",
        "tradesphere_scam_feed_syncs_total{feed=\"metered\",result=\"not_modified\"} 1",
        "tradesphere_scam_feed_syncs_total{feed=\"metered\",result=\"html\"} 1",
        "tradesphere_scam_feed_entries{feed=\"metered\"} 2",
    ] {
        assert!(text.contains(line), "{line} missing in:\n{text}");
    }
    assert!(
        text.contains("tradesphere_scam_feed_last_success_timestamp_seconds{feed=\"metered\"} 1"),
        "{text}"
    );
}
