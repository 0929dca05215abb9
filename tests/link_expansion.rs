//! Links followed against real loopback servers speaking HTTP/1.1 by hand, acting as shorteners and as
//! what they lead to: chains, loops, too many hops, redirects to addresses that must never be contacted
//! (proved by listeners that count connections), the per-host rate limit, the cache, a walk out of time,
//! and the RDAP domain age against a fake bootstrap file and a fake registry. Each test counts its
//! metrics on a recorder local to it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tradesphere::config::{LinksSettings, NetSettings};
use tradesphere::links::LinkFollower;
use tradesphere::reply::verdict::scam_reply;
use tradesphere::scam::ReasonKind;
use tradesphere::scam::check::{CheckOutcome, check, check_followed};
use tradesphere::scam::extract::extract;
use tradesphere::scam::followed::{ChainEnd, Followed};
use tradesphere::scam::index::ReportIndex;

/// What a server answers to one request path.
#[derive(Clone)]
enum Answer {
    /// `302` to this location.
    Redirect(String),
    /// A status and a small HTML body (never read by the walk).
    Status(u16),
    /// `200` with this JSON.
    Json(String),
    /// Accept, read the request, never answer.
    Silent,
}

type Routes = Arc<dyn Fn(&str) -> Answer + Send + Sync>;

/// A loopback server: what it answers, and what it saw.
struct Server {
    addr: SocketAddr,
    connections: Arc<AtomicU64>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start(routes: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Server {
        Self::start_on("127.0.0.1:0", Arc::new(routes)).await
    }

    async fn start_on(bind: &str, routes: Routes) -> Server {
        let listener = TcpListener::bind(bind).await.unwrap();
        let server = Server {
            addr: listener.local_addr().unwrap(),
            connections: Arc::default(),
            paths: Arc::default(),
        };
        let (connections, paths) = (server.connections.clone(), server.paths.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                let (routes, paths) = (routes.clone(), paths.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head);
                    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                    paths.lock().unwrap().push(path.clone());
                    let close = "Connection: close\r\n";
                    let reply = match routes(&path) {
                        Answer::Redirect(to) => format!(
                            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n{close}\r\n"
                        ),
                        Answer::Status(code) => {
                            let body = "<html>trang đích</html>";
                            format!(
                                "HTTP/1.1 {code} X\r\nContent-Type: text/html\r\nContent-Length: {}\r\n{close}\r\n{body}",
                                body.len()
                            )
                        }
                        Answer::Json(json) => format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/rdap+json\r\nContent-Length: {}\r\n{close}\r\n{json}",
                            json.len()
                        ),
                        Answer::Silent => {
                            let _ = stream.read(&mut byte).await;
                            return;
                        }
                    };
                    let _ = stream.write_all(reply.as_bytes()).await;
                });
            }
        });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn rule(&self) -> String {
        self.addr.to_string()
    }

    fn requests(&self) -> usize {
        self.paths.lock().unwrap().len()
    }

    fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Settings that let these servers in: `allowed` on `net.allow_hosts`, `shorteners` as extra shorteners.
fn settings(allowed: &[&Server], shorteners: &[&Server]) -> (LinksSettings, NetSettings) {
    let rules = |servers: &[&Server]| servers.iter().map(|s| s.rule().parse().unwrap()).collect();
    let links = LinksSettings {
        extra_shorteners: rules(shorteners),
        ..LinksSettings::default()
    };
    let net = NetSettings {
        allow_hosts: rules(allowed),
    };
    (links, net)
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Checks `text`, follows its links with `follower`, and checks again with what they led to.
async fn follow(follower: &LinkFollower, text: &str) -> (Followed, CheckOutcome) {
    let index = ReportIndex::new();
    let first = check(&index, text, now());
    let followed = follower.follow(text, &first).await;
    let outcome = check_followed(&index, text, extract(text), &followed, now());
    (followed, outcome)
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

/// The value of the sample `name` (labels included, as rendered) in `text`.
fn sample(text: &str, name: &str) -> u64 {
    let prefix = format!("{name} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map_or(0, |v| v.trim().parse().unwrap())
}

fn expansions(text: &str, end: ChainEnd) -> u64 {
    sample(
        text,
        &format!(
            "tradesphere_link_expansions_total{{result=\"{}\"}}",
            end.as_str()
        ),
    )
}

fn hops(followed: &Followed) -> Vec<String> {
    followed.chains[0]
        .hops
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_short_link_is_followed_through_its_chain_without_reading_bodies() {
    let (_, text) = counted(async {
        let landing = Server::start(|_| Answer::Status(200)).await;
        let landing_url = landing.url("/khuyen-mai");
        let middle = Server::start(move |_| Answer::Redirect(landing_url.clone())).await;
        let middle_url = middle.url("/m");
        let short = Server::start(move |_| Answer::Redirect(middle_url.clone())).await;
        let (links, net) = settings(&[&short, &middle, &landing], &[&short]);
        let follower = LinkFollower::new(&links, &net).unwrap();
        let message = format!("Xem ảnh tại {}", short.url("/3abc"));
        let (followed, outcome) = follow(&follower, &message).await;
        assert_eq!(
            hops(&followed),
            [
                short.url("/3abc"),
                middle.url("/m"),
                landing.url("/khuyen-mai")
            ]
        );
        assert_eq!(followed.chains[0].end, ChainEnd::Reached);
        assert_eq!(outcome.links, followed.chains);
        // Every hop's host got the domain checks: here an IP address each time, said once.
        let reasons = &outcome.findings[0].reasons;
        assert_eq!(
            reasons
                .iter()
                .filter(|r| r.kind == ReasonKind::IpLiteral)
                .count(),
            1,
            "{reasons:?}"
        );
        let reply = scam_reply(&outcome);
        let shown = format!("127[.]0[.]0[.]1:{}", landing.addr.port());
        assert!(
            reply.contains(&format!(
                "dẫn tới {shown}/khuyen-mai (qua 127[.]0[.]0[.]1:{})",
                middle.addr.port()
            )),
            "{reply}"
        );
        assert_eq!(
            (short.requests(), middle.requests(), landing.requests()),
            (1, 1, 1)
        );
    });
    assert_eq!(expansions(&text, ChainEnd::Reached), 1, "{text}");
    assert_eq!(sample(&text, "tradesphere_link_expansion_hops_count"), 1);
    assert_eq!(sample(&text, "tradesphere_link_expansion_hops_sum"), 2);
}

#[test]
fn the_final_host_is_judged_by_the_location_that_named_it() {
    let (_, text) = counted(async {
        // Plain http on a public name: never contacted, never even looked up.
        let short =
            Server::start(|_| Answer::Redirect("http://vietcombank-xacminh.top/dang-nhap".into()))
                .await;
        let (links, net) = settings(&[&short], &[&short]);
        let follower = LinkFollower::new(&links, &net).unwrap();
        let message = format!("Xem ảnh tại {}", short.url("/vcb"));
        let (followed, outcome) = follow(&follower, &message).await;
        assert_eq!(followed.chains[0].end, ChainEnd::NotHttps);
        assert_eq!(
            hops(&followed).last().unwrap(),
            "http://vietcombank-xacminh.top/dang-nhap"
        );
        let kinds: Vec<ReasonKind> = outcome.findings[0].reasons.iter().map(|r| r.kind).collect();
        assert!(kinds.contains(&ReasonKind::BrandImpersonation), "{kinds:?}");
        assert!(kinds.contains(&ReasonKind::RiskyTld), "{kinds:?}");
        assert_eq!(outcome.level, tradesphere::scam::Level::Danger);
        let reply = scam_reply(&outcome);
        assert!(
            reply.contains(
                "dẫn tới vietcombank-xacminh[.]top/dang-nhap (trang không dùng kết nối bảo mật, mình không mở)"
            ),
            "{reply}"
        );
    });
    assert_eq!(expansions(&text, ChainEnd::NotHttps), 1, "{text}");
}

#[test]
fn a_hop_to_a_forbidden_address_is_never_contacted() {
    let (_, text) = counted(async {
        // Listeners on loopback addresses that are not allow-listed (another port, another address):
        // any connection to them would be counted.
        let trap = Server::start(|_| Answer::Status(200)).await;
        let trap2 = Server::start_on("127.0.0.2:0", Arc::new(|_| Answer::Status(200))).await;
        let targets = [
            format!("https://{}/secret", trap.addr),
            format!("https://localhost:{}/secret", trap.addr.port()),
            format!("https://{}/secret", trap2.addr),
            format!("http://{}/secret", trap2.addr),
            "https://169.254.169.254/latest/meta-data/".to_string(),
            "https://[::1]/x".to_string(),
        ];
        for (i, target) in targets.iter().enumerate() {
            let to = target.clone();
            let short = Server::start(move |_| Answer::Redirect(to.clone())).await;
            let (links, net) = settings(&[&short], &[&short]);
            let follower = LinkFollower::new(&links, &net).unwrap();
            let message = format!("Xem ảnh tại {}", short.url(&format!("/{i}")));
            let (followed, _) = follow(&follower, &message).await;
            let chain = &followed.chains[0];
            let expected = if target.starts_with("http://") {
                ChainEnd::NotHttps
            } else {
                ChainEnd::ForbiddenAddress
            };
            assert_eq!(chain.end, expected, "{target}");
            assert_eq!(chain.hops.len(), 2, "{target}: named, last");
        }
        assert_eq!(trap.connections(), 0, "never contacted");
        assert_eq!(trap2.connections(), 0, "never contacted");
    });
    assert_eq!(expansions(&text, ChainEnd::ForbiddenAddress), 5, "{text}");
    assert_eq!(expansions(&text, ChainEnd::NotHttps), 1, "{text}");
}

#[test]
fn a_loop_is_stopped_and_nothing_is_asked_twice() {
    let (_, text) = counted(async {
        let a_url = Arc::new(Mutex::new(String::new()));
        let to_a = a_url.clone();
        let b = Server::start(move |_| Answer::Redirect(to_a.lock().unwrap().clone())).await;
        let b_url = b.url("/b");
        let a = Server::start(move |_| Answer::Redirect(b_url.clone())).await;
        *a_url.lock().unwrap() = a.url("/a");
        let (links, net) = settings(&[&a, &b], &[&a]);
        let follower = LinkFollower::new(&links, &net).unwrap();
        let (followed, outcome) = follow(&follower, &format!("xem {}", a.url("/a"))).await;
        assert_eq!(followed.chains[0].end, ChainEnd::Loop);
        assert_eq!(hops(&followed), [a.url("/a"), b.url("/b")]);
        assert_eq!((a.requests(), b.requests()), (1, 1));
        let reply = scam_reply(&outcome);
        assert!(
            reply.contains("chuyển vòng quanh, mình dừng ở đây"),
            "{reply}"
        );
    });
    assert_eq!(expansions(&text, ChainEnd::Loop), 1, "{text}");
}

#[test]
fn too_many_hops_are_cut_at_the_limit() {
    let (_, text) = counted(async {
        let endless = Server::start(|path| {
            let n: u64 = path.trim_start_matches("/hop/").parse().unwrap_or(0);
            Answer::Redirect(format!("/hop/{}", n + 1))
        })
        .await;
        let (links, net) = settings(&[&endless], &[&endless]);
        assert_eq!(links.max_hops, 5);
        let follower = LinkFollower::new(&links, &net).unwrap();
        let (followed, _) = follow(&follower, &format!("xem {}", endless.url("/hop/0"))).await;
        let chain = &followed.chains[0];
        assert_eq!(chain.end, ChainEnd::TooManyHops);
        assert_eq!(endless.requests(), 6, "the link and five redirects");
        assert_eq!(chain.hops.len(), 7, "the sixth redirect named, not visited");
        assert_eq!(chain.hops[6].path(), "/hop/6");
    });
    assert_eq!(expansions(&text, ChainEnd::TooManyHops), 1, "{text}");
}

#[test]
fn each_host_is_asked_within_its_rate_limit_and_answers_are_cached() {
    let (_, text) = counted(async {
        let short = Server::start(|path| {
            Answer::Redirect(format!(
                "http://qua-tang{}.top/",
                path.trim_start_matches('/')
            ))
        })
        .await;
        let (mut links, net) = settings(&[&short], &[&short]);
        links.per_host_per_minute = 2;
        let follower = LinkFollower::new(&links, &net).unwrap();
        for path in ["/a", "/b"] {
            let (followed, _) = follow(&follower, &format!("xem {}", short.url(path))).await;
            assert_eq!(followed.chains[0].end, ChainEnd::NotHttps);
        }
        assert_eq!(short.requests(), 2);
        // The same links again: from the cache, asking nobody, however spent the allowance.
        for path in ["/a", "/b"] {
            let (followed, _) = follow(&follower, &format!("xem {}", short.url(path))).await;
            assert_eq!(followed.chains[0].end, ChainEnd::NotHttps);
            assert_eq!(
                followed.chains[0].hops[1].as_str(),
                format!("http://qua-tang{}.top/", &path[1..])
            );
        }
        assert_eq!(short.requests(), 2);
        // A third link on the host within the minute: not followed, and the link still judged.
        let (followed, outcome) = follow(&follower, &format!("xem {}", short.url("/c"))).await;
        assert_eq!(followed.chains[0].end, ChainEnd::Throttled);
        assert_eq!(short.requests(), 2);
        assert!(
            scam_reply(&outcome).contains("dẫn tới đâu (hãy hỏi lại sau ít phút)"),
            "{outcome:?}"
        );
    });
    assert_eq!(expansions(&text, ChainEnd::NotHttps), 4, "{text}");
    assert_eq!(expansions(&text, ChainEnd::Throttled), 1, "{text}");
}

#[test]
fn a_walk_that_runs_out_of_time_ends_on_time() {
    let (_, text) = counted(async {
        let silent = Server::start(|_| Answer::Silent).await;
        let (mut links, net) = settings(&[&silent], &[&silent]);
        links.timeout = Duration::from_millis(300);
        let follower = LinkFollower::new(&links, &net).unwrap();
        let started = std::time::Instant::now();
        let (followed, _) = follow(&follower, &format!("xem {}", silent.url("/x"))).await;
        assert_eq!(followed.chains[0].end, ChainEnd::Timeout);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    });
    assert_eq!(expansions(&text, ChainEnd::Timeout), 1, "{text}");
}

#[test]
fn following_can_be_turned_off_and_unknown_links_need_scam_signs() {
    counted(async {
        let short = Server::start(|_| Answer::Redirect("https://example.com/".into())).await;
        let (mut links, net) = settings(&[&short], &[&short]);
        links.expand = false;
        assert!(LinkFollower::new(&links, &net).is_none(), "nothing to do");
        // Not on any shortener list: followed only in a message with scam signs (a link to an IP address
        // is one; a calm message with an unknown host is left alone, see `links::plan`).
        let (links, net) = settings(&[&short], &[]);
        let follower = LinkFollower::new(&links, &net).unwrap();
        assert_eq!(short.requests(), 0);
        // The same unknown link in a message that has scam signs: followed.
        let scam = format!(
            "Tài khoản của bạn bị khóa, xác minh ngay tại {} kẻo mất tiền",
            short.url("/x")
        );
        let (followed, _) = follow(&follower, &scam).await;
        assert_eq!(followed.chains.len(), 1);
        assert_eq!(short.requests(), 1);
        // Dating domains alone follows no link.
        let (mut links, net) = settings(&[&short], &[&short]);
        links.expand = false;
        links.rdap = true;
        let follower = LinkFollower::new(&links, &net).unwrap();
        let (followed, _) = follow(&follower, &format!("xem {}", short.url("/y"))).await;
        assert!(followed.chains.is_empty());
        assert_eq!(short.requests(), 1);
    });
}

/// An RDAP answer for `domain`, registered `days` ago, in the shape registries give.
fn rdap_answer(domain: &str, registered: DateTime<Utc>) -> String {
    let at = registered.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        r#"{{"objectClassName":"domain","ldhName":"{}","rdapConformance":["rdap_level_0"],
        "status":["client transfer prohibited"],
        "events":[{{"eventAction":"expiration","eventDate":"2027-12-01T00:00:00Z"}},
        {{"eventAction":"registration","eventDate":"{at}"}},
        {{"eventAction":"last update of RDAP database","eventDate":"{at}"}}]}}"#,
        domain.to_ascii_uppercase()
    )
}

#[test]
fn a_domain_registered_days_ago_is_reported_new_by_rdap() {
    let (_, text) = counted(async {
        let registered = Utc::now() - chrono::Duration::days(3);
        let old = Utc::now() - chrono::Duration::days(4000);
        let registry = Server::start(move |path| match path {
            "/rdap/domain/vcb-moi.top" => Answer::Json(rdap_answer("vcb-moi.top", registered)),
            "/rdap/domain/lau-doi.top" => Answer::Json(rdap_answer("lau-doi.top", old)),
            _ => Answer::Status(404),
        })
        .await;
        let registry_base = registry.url("/rdap/");
        let iana = Server::start(move |_| {
            Answer::Json(format!(
                r#"{{"description":"RDAP bootstrap file for Domain Name System registrations",
                "publication":"2026-12-01T00:00:00Z",
                "services":[[["top","xyz"],["{registry_base}"]],[["com"],["https://rdap.invalid/com/"]]],
                "version":"1.0"}}"#
            ))
        })
        .await;
        let (mut links, net) = settings(&[&registry, &iana], &[]);
        links.expand = false;
        links.rdap = true;
        links.rdap_bootstrap_url = iana.url("/dns.json").parse().unwrap();
        let follower = LinkFollower::new(&links, &net).unwrap();
        let (followed, outcome) = follow(&follower, "vào vcb-moi.top hoặc lau-doi.top nhé").await;
        assert_eq!(followed.registered.len(), 2);
        let reasons = &outcome.findings[0].reasons;
        let new = reasons
            .iter()
            .find(|r| r.kind == ReasonKind::NewDomain)
            .unwrap();
        assert_eq!(new.label, "tên miền mới đăng ký 3 ngày");
        assert_eq!(new.evidence, "vcb-moi.top");
        assert!(
            outcome.findings[1]
                .reasons
                .iter()
                .all(|r| r.kind != ReasonKind::NewDomain),
            "an old domain is not new"
        );
        assert!(scam_reply(&outcome).contains("tên miền mới đăng ký 3 ngày"));
        // Asked again: the bootstrap and both answers come from the cache.
        let _ = follow(&follower, "vào vcb-moi.top hoặc lau-doi.top nhé").await;
        assert_eq!((iana.requests(), registry.requests()), (1, 2));
        // A TLD the bootstrap does not serve asks no registry; an unknown domain answers 404.
        let (followed, _) = follow(&follower, "vào shop-moi.vn hoặc khong-co.xyz nhé").await;
        assert!(followed.registered.is_empty());
        assert_eq!(registry.requests(), 3);
    });
    let rdap = |result: &str| {
        sample(
            &text,
            &format!("tradesphere_rdap_lookups_total{{result=\"{result}\"}}"),
        )
    };
    assert_eq!(rdap("registered"), 2, "{text}");
    assert_eq!(rdap("no_service"), 1, "{text}");
    assert_eq!(rdap("failed"), 1, "a 404 is no answer: {text}");
}

/// `tradesphere scam check` as an operator runs it: no outside request without `--expand`, the bot's
/// own following with it, and the chain in `--json`.
#[test]
fn scam_check_follows_links_only_with_expand() {
    counted(async {
        let short =
            Server::start(|_| Answer::Redirect("http://vietcombank-xacminh.top/dang-nhap".into()))
                .await;
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
        let link = short.url("/vcb");
        let run = |expand: bool| {
            let mut args = vec!["scam", "check", "--json"];
            if expand {
                args.push("--expand");
            }
            let text = format!("Xem ảnh tại {link}");
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tradesphere"));
            command
                .args(&args)
                .arg(text)
                .current_dir(dir.path())
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("DATABASE_URL", &db)
                .env("TRADESPHERE__LINKS__EXPAND", "false")
                .env("TRADESPHERE__LINKS__EXTRA_SHORTENERS", short.rule())
                .env("TRADESPHERE__NET__ALLOW_HOSTS", short.rule());
            tokio::task::spawn_blocking(move || command.output().unwrap())
        };
        let plain = run(false).await.unwrap();
        assert!(plain.status.success(), "{plain:?}");
        let body: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
        assert!(body["links"].is_null(), "{body}");
        assert_eq!(short.requests(), 0, "no outside request without --expand");

        let expanded = run(true).await.unwrap();
        assert!(expanded.status.success(), "{expanded:?}");
        let body: serde_json::Value = serde_json::from_slice(&expanded.stdout).unwrap();
        assert_eq!(body["links"][0]["end"], "not_https", "{body}");
        assert_eq!(
            body["links"][0]["hops"][1],
            "http://vietcombank-xacminh.top/dang-nhap"
        );
        assert_eq!(body["level"], "danger", "{body}");
        assert_eq!(short.requests(), 1);
    });
}
