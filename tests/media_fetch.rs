//! The guarded fetcher and the image path against real loopback servers speaking HTTP/1.1 by hand, one
//! per hostile behaviour: a lying content type, truncated and giant images, a 1 GB body, a drip, redirects
//! to forbidden addresses, a closed port, a redirect loop and plain http. Each case checks the error and
//! that `tradesphere_media_fetch_total{result}` counted it, on a recorder local to the test.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use testkit::pictures::{png, png_declaring};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tradesphere::config::{HostRule, NetSettings};
use tradesphere::media::{DecodeLimits, fetch_image};
use tradesphere::net::{FetchError, FetchLimits, GuardedFetcher};

const GIB: u64 = 1 << 30;

/// What a test server answers to every request.
#[derive(Clone)]
enum Reply {
    /// `200` with this content type and body.
    Body(&'static str, Vec<u8>),
    /// A status and no body.
    Status(u16),
    /// `302` to this location.
    Redirect(String),
    /// `302` to `/hop/{n+1}` from `/hop/{n}`: a loop without end.
    RedirectLoop,
    /// Declares a 1 GiB `Content-Length`, then sends nothing and keeps the connection open.
    DeclaresHuge,
    /// 1 GiB chunked with no length, written until the client stops reading.
    Endless,
    /// Declares 1000 bytes and sends one every 50 ms.
    Drip,
}

/// A loopback server and what it saw.
struct Server {
    addr: SocketAddr,
    connections: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    /// Body bytes written, and whether the writing has ended.
    written: Arc<AtomicU64>,
    finished: Arc<AtomicBool>,
}

impl Server {
    async fn start(reply: Reply) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Server {
            addr: listener.local_addr().unwrap(),
            connections: Arc::default(),
            requests: Arc::default(),
            written: Arc::default(),
            finished: Arc::default(),
        };
        let seen = server.clones();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                seen.0.fetch_add(1, Ordering::SeqCst);
                let (reply, seen) = (reply.clone(), seen.clone());
                tokio::spawn(async move { handle(stream, reply, seen).await });
            }
        });
        server
    }

    #[allow(clippy::type_complexity)]
    fn clones(
        &self,
    ) -> (
        Arc<AtomicU64>,
        Arc<AtomicU64>,
        Arc<AtomicU64>,
        Arc<AtomicBool>,
    ) {
        (
            self.connections.clone(),
            self.requests.clone(),
            self.written.clone(),
            self.finished.clone(),
        )
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A rule that allow-lists this server's host and port only.
    fn rule(&self) -> HostRule {
        self.addr.to_string().parse().unwrap()
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Waits for the body writer to stop (the client hung up), then the bytes it got out.
    async fn written_when_finished(&self) -> u64 {
        let give_up = Instant::now() + Duration::from_secs(10);
        while !self.finished.load(Ordering::SeqCst) && Instant::now() < give_up {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            self.finished.load(Ordering::SeqCst),
            "the server is still writing"
        );
        self.written.load(Ordering::SeqCst)
    }
}

async fn handle(
    mut stream: TcpStream,
    reply: Reply,
    (_, requests, written, finished): (
        Arc<AtomicU64>,
        Arc<AtomicU64>,
        Arc<AtomicU64>,
        Arc<AtomicBool>,
    ),
) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
    let close = "Connection: close\r\n";
    match reply {
        Reply::Body(content_type, body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{close}\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
        }
        Reply::Status(code) => {
            let head = format!("HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\n{close}\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
        }
        Reply::Redirect(location) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n{close}\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).await;
        }
        Reply::RedirectLoop => {
            let n: u64 = path.trim_start_matches("/hop/").parse().unwrap_or(0);
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: /hop/{}\r\nContent-Length: 0\r\n{close}\r\n",
                n + 1
            );
            let _ = stream.write_all(head.as_bytes()).await;
        }
        Reply::DeclaresHuge => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {GIB}\r\n{close}\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            // Nothing follows: a client that waited for the body would time out instead.
            let _ = stream.read(&mut byte).await;
        }
        Reply::Endless => {
            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n";
            let _ = stream
                .write_all(format!("{head}{close}\r\n").as_bytes())
                .await;
            let chunk = vec![0u8; 64 * 1024];
            let frame_head = format!("{:x}\r\n", chunk.len());
            while written.load(Ordering::SeqCst) < GIB {
                let sent = async {
                    stream.write_all(frame_head.as_bytes()).await?;
                    stream.write_all(&chunk).await?;
                    stream.write_all(b"\r\n").await
                };
                if sent.await.is_err() {
                    break;
                }
                written.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
        }
        Reply::Drip => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n{close}\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            for _ in 0..1000 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if stream.write_all(b"x").await.is_err() {
                    break;
                }
                written.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    finished.store(true, Ordering::SeqCst);
}

/// Runs `test` on its own runtime with a Prometheus recorder local to it; returns its output and the
/// recorder's text.
fn counted<T>(test: impl Future<Output = T>) -> (T, String) {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = metrics::with_local_recorder(&recorder, || runtime.block_on(test));
    (out, handle.render())
}

/// The count of `tradesphere_media_fetch_total{result="<label>"}` in `text`.
fn fetches(text: &str, label: &str) -> u64 {
    let prefix = format!("tradesphere_media_fetch_total{{result=\"{label}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// Exactly these results were counted, and nothing else.
fn assert_counted(text: &str, expected: &[(&str, u64)]) {
    let labels = FetchError::ALL.map(FetchError::as_str);
    for label in labels.iter().copied().chain([FetchError::OK_LABEL]) {
        let want = expected
            .iter()
            .find(|(l, _)| *l == label)
            .map_or(0, |e| e.1);
        assert_eq!(fetches(text, label), want, "result={label}\n{text}");
    }
}

fn fetcher(rules: &[HostRule], limits: FetchLimits) -> GuardedFetcher {
    let net = NetSettings {
        allow_hosts: rules.to_vec(),
    };
    GuardedFetcher::new(&net, limits)
}

#[test]
fn an_allowed_image_is_fetched_decoded_and_counted_ok() {
    let ((), text) = counted(async {
        let server = Server::start(Reply::Body("image/png", png(120, 80))).await;
        let fetcher = fetcher(&[server.rule()], FetchLimits::default());
        let image = fetch_image(&fetcher, &server.url("/a.png"), &DecodeLimits::default())
            .await
            .unwrap();
        assert_eq!(image.gray.dimensions(), (120, 80));
        let fetched = fetcher.get(&server.url("/a.png")).await.unwrap();
        assert_eq!(fetched.content_type_header.as_deref(), Some("image/png"));
        assert_eq!(fetched.final_url.as_str(), server.url("/a.png"));
    });
    assert_counted(&text, &[("ok", 1)]);
}

#[test]
fn a_non_image_and_a_truncated_image_are_refused() {
    let ((), text) = counted(async {
        let page = b"<!DOCTYPE html><html>login</html>".to_vec();
        // The header says PNG; the bytes say otherwise, and the bytes win.
        let liar = Server::start(Reply::Body("image/png", page)).await;
        let whole = png(200, 200);
        let cut = Server::start(Reply::Body("image/png", whole[..whole.len() / 2].to_vec())).await;
        let fetcher = fetcher(&[liar.rule(), cut.rule()], FetchLimits::default());
        let limits = DecodeLimits::default();
        let got = fetch_image(&fetcher, &liar.url("/x.png"), &limits).await;
        assert_eq!(got.unwrap_err(), FetchError::NotImage);
        let got = fetch_image(&fetcher, &cut.url("/x.png"), &limits).await;
        assert_eq!(got.unwrap_err(), FetchError::BadImage);
    });
    assert_counted(&text, &[("not_image", 1), ("bad_image", 1)]);
}

#[test]
fn a_png_declaring_50000_by_50000_is_refused_from_its_header() {
    let ((), text) = counted(async {
        let bomb = png_declaring(50_000, 50_000);
        assert!(bomb.len() < 100, "a few bytes declare 7.5 GB of pixels");
        let server = Server::start(Reply::Body("image/png", bomb)).await;
        let fetcher = fetcher(&[server.rule()], FetchLimits::default());
        let started = Instant::now();
        let got = fetch_image(&fetcher, &server.url("/bomb.png"), &DecodeLimits::default()).await;
        assert_eq!(got.unwrap_err(), FetchError::TooManyPixels);
        assert!(started.elapsed() < Duration::from_secs(2));
    });
    assert_counted(&text, &[("too_many_pixels", 1)]);
}

#[test]
fn a_declared_1_gib_body_is_refused_before_reading() {
    let ((), text) = counted(async {
        let server = Server::start(Reply::DeclaresHuge).await;
        let fetcher = fetcher(&[server.rule()], FetchLimits::default());
        let started = Instant::now();
        let got = fetch_image(&fetcher, &server.url("/big"), &DecodeLimits::default()).await;
        assert_eq!(got.unwrap_err(), FetchError::TooLarge);
        // No body ever comes: waiting for it would have ended at the 10 s deadline.
        assert!(started.elapsed() < Duration::from_secs(2));
    });
    assert_counted(&text, &[("too_large", 1)]);
}

#[test]
fn an_endless_1_gib_body_is_cut_at_the_cap() {
    let (written, text) = counted(async {
        let server = Server::start(Reply::Endless).await;
        let limits = FetchLimits::default();
        let fetcher = fetcher(&[server.rule()], limits);
        let got = fetch_image(&fetcher, &server.url("/endless"), &DecodeLimits::default()).await;
        assert_eq!(got.unwrap_err(), FetchError::TooLarge);
        let written = server.written_when_finished().await;
        assert!(written > limits.max_bytes, "the cap was reached: {written}");
        written
    });
    // What the server got out past the 10 MiB cap sat in socket buffers when the client hung up.
    assert!(
        written < GIB / 16,
        "the client kept reading: {written} bytes"
    );
    assert_counted(&text, &[("too_large", 1)]);
}

#[test]
fn a_dripping_server_hits_the_total_deadline() {
    let ((), text) = counted(async {
        let server = Server::start(Reply::Drip).await;
        let limits = FetchLimits {
            total_timeout: Duration::from_millis(500),
            ..FetchLimits::default()
        };
        let fetcher = fetcher(&[server.rule()], limits);
        let started = Instant::now();
        let got = fetch_image(&fetcher, &server.url("/drip"), &DecodeLimits::default()).await;
        assert_eq!(got.unwrap_err(), FetchError::Timeout);
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(500), "{took:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
        // Bytes kept arriving all along: no per-read timeout would have caught it.
        assert!(server.written_when_finished().await >= 5);
    });
    assert_counted(&text, &[("timeout", 1)]);
}

#[test]
fn redirects_to_loopback_and_metadata_addresses_are_refused_unvisited() {
    let ((), text) = counted(async {
        // The target listens for real, so a connection the guard let through would show up here.
        let target = Server::start(Reply::Body("image/png", png(10, 10))).await;
        let port = target.addr.port();
        let targets = [
            format!("https://127.0.0.1:{port}/"),
            format!("https://127.0.0.2:{port}/"),
            format!("https://localhost:{port}/"),
            format!("https://[::ffff:127.0.0.1]:{port}/"),
            format!("https://[::1]:{port}/"),
            format!("https://0x7f.1:{port}/"),
        ];
        let limits = DecodeLimits::default();
        for location in &targets {
            // Only the redirecting server is allow-listed: same host, another port.
            let redirector = Server::start(Reply::Redirect(location.clone())).await;
            let fetcher = fetcher(&[redirector.rule()], FetchLimits::default());
            let got = fetch_image(&fetcher, &redirector.url("/img"), &limits).await;
            assert_eq!(got.unwrap_err(), FetchError::ForbiddenAddress, "{location}");
            assert_eq!(redirector.requests(), 1, "{location}");
        }
        assert_eq!(target.connections.load(Ordering::SeqCst), 0);

        // The same path, proven above on a target that listens, to the metadata address.
        let redirector = Server::start(Reply::Redirect(
            "https://169.254.169.254/latest/meta-data/".into(),
        ))
        .await;
        let fetcher = fetcher(&[redirector.rule()], FetchLimits::default());
        let started = Instant::now();
        let got = fetch_image(&fetcher, &redirector.url("/img"), &limits).await;
        assert_eq!(got.unwrap_err(), FetchError::ForbiddenAddress);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused, not tried"
        );

        // Plain http to a target that is not allow-listed fails on the scheme first.
        let redirector = Server::start(Reply::Redirect(target.url("/"))).await;
        let fetcher = self::fetcher(&[redirector.rule()], FetchLimits::default());
        let got = fetch_image(&fetcher, &redirector.url("/img"), &limits).await;
        assert_eq!(got.unwrap_err(), FetchError::ForbiddenScheme);
        assert_eq!(target.connections.load(Ordering::SeqCst), 0);
    });
    assert_counted(&text, &[("forbidden_address", 7), ("forbidden_scheme", 1)]);
}

#[test]
fn an_unreachable_cdn_is_unreachable() {
    let ((), text) = counted(async {
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let rule: HostRule = addr.to_string().parse().unwrap();
        let fetcher = fetcher(&[rule], FetchLimits::default());
        let url = format!("http://{addr}/photo.jpg");
        let got = fetch_image(&fetcher, &url, &DecodeLimits::default()).await;
        assert_eq!(got.unwrap_err(), FetchError::Unreachable);
    });
    assert_counted(&text, &[("unreachable", 1)]);
}

#[test]
fn three_redirects_are_followed_and_a_fourth_is_refused() {
    let ((), text) = counted(async {
        let looping = Server::start(Reply::RedirectLoop).await;
        let fetcher = fetcher(&[looping.rule()], FetchLimits::default());
        let got = fetch_image(&fetcher, &looping.url("/hop/0"), &DecodeLimits::default()).await;
        assert_eq!(got.unwrap_err(), FetchError::TooManyRedirects);
        assert_eq!(
            looping.requests(),
            4,
            "the first request and three redirects"
        );

        // Three hops to the image are fine.
        let image = Server::start(Reply::Body("image/png", png(4, 4))).await;
        let third = Server::start(Reply::Redirect(image.url("/a.png"))).await;
        let second = Server::start(Reply::Redirect(third.url("/3"))).await;
        let first = Server::start(Reply::Redirect(second.url("/2"))).await;
        let rules = [&image, &third, &second, &first].map(Server::rule);
        let fetcher = self::fetcher(&rules, FetchLimits::default());
        let got = fetch_image(&fetcher, &first.url("/1"), &DecodeLimits::default()).await;
        assert_eq!(got.unwrap().gray.dimensions(), (4, 4));
    });
    assert_counted(&text, &[("too_many_redirects", 1), ("ok", 1)]);
}

#[test]
fn plain_http_is_refused_unless_the_host_and_port_are_allow_listed() {
    let ((), text) = counted(async {
        let server = Server::start(Reply::Body("image/png", png(4, 4))).await;
        let other_port: HostRule = format!("127.0.0.1:{}", server.addr.port() + 1)
            .parse()
            .unwrap();
        for rules in [vec![], vec![other_port]] {
            let fetcher = fetcher(&rules, FetchLimits::default());
            let got = fetch_image(&fetcher, &server.url("/a.png"), &DecodeLimits::default()).await;
            assert_eq!(got.unwrap_err(), FetchError::ForbiddenScheme);
        }
        // https to a loopback address that is not allow-listed: the address is refused.
        let https = format!("https://{}/a.png", server.addr);
        let got = fetch_image(
            &fetcher(&[], FetchLimits::default()),
            &https,
            &DecodeLimits::default(),
        )
        .await;
        assert_eq!(got.unwrap_err(), FetchError::ForbiddenAddress);
        assert_eq!(server.connections.load(Ordering::SeqCst), 0);
        let got = fetch_image(
            &fetcher(&[], FetchLimits::default()),
            "not a url",
            &DecodeLimits::default(),
        )
        .await;
        assert_eq!(got.unwrap_err(), FetchError::BadUrl);
    });
    assert_counted(
        &text,
        &[
            ("forbidden_scheme", 2),
            ("forbidden_address", 1),
            ("bad_url", 1),
        ],
    );
}

#[test]
fn an_error_status_is_http_status() {
    let ((), text) = counted(async {
        let server = Server::start(Reply::Status(404)).await;
        let fetcher = fetcher(&[server.rule()], FetchLimits::default());
        let got = fetch_image(&fetcher, &server.url("/gone"), &DecodeLimits::default()).await;
        assert_eq!(got.unwrap_err(), FetchError::HttpStatus);
    });
    assert_counted(&text, &[("http_status", 1)]);
}

#[test]
fn follow_walks_a_chain_without_reading_bodies_and_keeps_a_refused_target() {
    let ((), text) = counted(async {
        // The chain ends on an endless body that is never read.
        let end = Server::start(Reply::Endless).await;
        let second = Server::start(Reply::Redirect(end.url("/landing"))).await;
        let first = Server::start(Reply::Redirect(second.url("/b"))).await;
        let fetcher = fetcher(
            &[end.rule(), second.rule(), first.rule()],
            FetchLimits::default(),
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        let chain = fetcher.follow(&first.url("/a"), 3, deadline).await;
        let hops: Vec<&str> = chain.hops.iter().map(|u| u.as_str()).collect();
        let (a, b, landing) = (first.url("/a"), second.url("/b"), end.url("/landing"));
        assert_eq!(hops, [a.as_str(), b.as_str(), landing.as_str()]);
        assert_eq!(chain.end.unwrap().as_u16(), 200);
        assert!(
            end.written_when_finished().await < GIB / 16,
            "the body was left unread"
        );

        // Too few hops allowed: the next target is named but not visited.
        let chain = fetcher.follow(&first.url("/a"), 1, deadline).await;
        assert_eq!(chain.hops.len(), 3);
        assert_eq!(chain.end.unwrap_err(), FetchError::TooManyRedirects);
        assert_eq!(end.requests(), 1);

        // A refused target ends the chain, named, unvisited (a documentation address, refused twice over).
        let to_http = Server::start(Reply::Redirect("http://192.0.2.1/x".into())).await;
        let fetcher = self::fetcher(&[to_http.rule()], FetchLimits::default());
        let chain = fetcher.follow(&to_http.url("/s"), 3, deadline).await;
        assert_eq!(chain.hops.last().unwrap().as_str(), "http://192.0.2.1/x");
        assert_eq!(chain.end.unwrap_err(), FetchError::ForbiddenScheme);

        // A deadline in the past stops the walk at once.
        let chain = fetcher.follow(&to_http.url("/s"), 3, Instant::now()).await;
        assert_eq!(chain.end.unwrap_err(), FetchError::Timeout);
    });
    // Link expansion is not an image fetch.
    assert_counted(&text, &[]);
}
