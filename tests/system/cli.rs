//! The `tradesphere` binary: chat, send, token status, scam import/check, config errors, --help.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::service::store_at;

fn tradesphere(
    dir: &tempfile::TempDir,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    tradesphere_in(dir.path(), args, stdin, env)
}

/// Runs the binary in `dir` with a clean environment, an SQLite database there and `env` on top.
fn tradesphere_in(
    dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let db = format!("sqlite://{}?mode=rwc", dir.join("cli.db").display());
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradesphere"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("run tradesphere");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

/// [`tradesphere_in`], off the async runtime's worker threads.
async fn tradesphere_blocking(
    dir: &std::path::Path,
    args: &[&'static str],
    stdin: Option<&'static str>,
    env: Vec<(&'static str, String)>,
) -> Output {
    let (dir, args) = (dir.to_path_buf(), args.to_vec());
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        tradesphere_in(&dir, &args, stdin, &env)
    })
    .await
    .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn chat_talks_through_the_real_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let output = tradesphere(
        &dir,
        &["chat"],
        Some("/help\nsố 0912 345 678 có lừa đảo không?\nxin chào\n/quit\n"),
        &[
            ("ZALO_OA_SECRET_KEY", "chat-secret"),
            ("ZALO_APP_ID", "123"),
        ],
    );
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("HƯỚNG DẪN SỬ DỤNG"), "{out}");
    assert!(
        out.contains("Số điện thoại 0912 345 678"),
        "shown as typed: {out}"
    );
    assert_eq!(out.matches("Bot:").count(), 3, "{out}");
    // The conversation was stored like any other.
    let status = tradesphere(&dir, &["token", "status"], None, &[]);
    assert!(
        stdout(&status).contains("token: none"),
        "{}",
        stdout(&status)
    );
}

#[test]
fn scam_import_then_check() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("domains.txt");
    std::fs::write(
        &list,
        "# a comment\nvietcombank-xacminh.com\nWWW.Lua-Dao.vn\n\nnot a domain\n",
    )
    .unwrap();
    let import = || {
        tradesphere(
            &dir,
            &[
                "scam",
                "import",
                list.to_str().unwrap(),
                "--category",
                "phishing",
            ],
            None,
            &[],
        )
    };
    let output = import();
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("read 2 report(s)"), "{out}");
    assert!(out.contains("2 new or changed"), "{out}");
    assert!(out.contains("skipped 1"), "{out}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(":5: skipped: not a domain"),
        "bad line reported with its number"
    );
    // Importing the same list again changes nothing.
    let again = import();
    assert!(
        stdout(&again).contains("0 new or changed"),
        "{}",
        stdout(&again)
    );

    let check = tradesphere(
        &dir,
        &["scam", "check", "vào", "lua-dao[.]vn/nhan-thuong", "ngay"],
        None,
        &[],
    );
    let out = stdout(&check);
    assert!(check.status.success());
    assert!(
        out.contains("lua-dao[.]vn") && out.starts_with("🚨"),
        "{out}"
    );
    // --json: the machine-readable shape.
    let json = tradesphere(
        &dir,
        &[
            "scam",
            "check",
            "--json",
            "gọi 0912.345.678 hoặc vào lua-dao[.]vn",
        ],
        None,
        &[],
    );
    let body: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON on stdout");
    assert_eq!(body["entities"][0]["kind"], "phone");
    assert_eq!(body["entities"][0]["value"], "+84912345678");
    assert_eq!(body["entities"][0]["raw"], "0912.345.678");
    assert_eq!(body["entities"][0]["start"], "gọi ".len());
    assert_eq!(body["entities"][0]["verdict"], "no_reports");
    assert_eq!(body["entities"][1]["value"], "lua-dao.vn");
    assert_eq!(body["entities"][1]["verdict"], "verified");
    assert_eq!(body["entities"][1]["level"], "danger");
    assert_eq!(body["entities"][1]["reasons"][0]["kind"], "reported");
    assert_eq!(
        body["entities"][1]["reasons"][0]["evidence"],
        "lua-dao[.]vn"
    );
    assert_eq!(body["level"], "danger");
    assert_eq!(body["reasons"][0]["kind"], "reported");
    assert!(body["signals"].is_array());
    let miss = tradesphere(
        &dir,
        &["scam", "check", "an-toan-chua-bao-cao.vn"],
        None,
        &[],
    );
    assert!(
        stdout(&miss).starts_with("ℹ️") && stdout(&miss).contains("chưa có ai báo cáo"),
        "{}",
        stdout(&miss)
    );
}

#[test]
fn send_without_credentials_prints_to_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let output = tradesphere(
        &dir,
        &["send", "5521772797", "Xin chào từ TradeSphere"],
        None,
        &[],
    );
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("Xin chào từ TradeSphere"), "{out}");
    assert!(out.contains(": sent"), "{out}");
}

#[test]
fn invalid_config_fails_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = tradesphere(
        &dir,
        &["migrate"],
        None,
        &[("TRADESPHERE_LISTEN", "nowhere")],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("server.listen"));
    let output = tradesphere(
        &dir,
        &["migrate"],
        None,
        &[("TRADESPHERE__OUTBOUND__RATE_PER_MINUTE", "lots")],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("rate_per_minute"));
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["chat", "--help"],
        vec!["send", "--help"],
        vec!["token", "status", "--help"],
        vec!["scam", "import", "--help"],
        vec!["scam", "check", "--help"],
        vec!["token", "refresh", "--help"],
        vec!["token", "import", "--help"],
        vec!["token", "authorize-url", "--help"],
        vec!["handoff", "list", "--help"],
        vec!["handoff", "clear", "--help"],
    ] {
        let output = tradesphere(&dir, &args, None, &[]);
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage"), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_commands_import_status_refresh_and_authorize_url() {
    use wiremock::{MockServer, ResponseTemplate};
    let dir = tempfile::tempdir().unwrap();
    let oauth = MockServer::start().await;
    testkit::zalo::token_api()
        .and(wiremock::matchers::header("secret_key", "cli-secret"))
        .and(wiremock::matchers::body_string_contains("refresh_token=imported-refresh"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "fresh-access", "refresh_token": "fresh-refresh", "expires_in": 90000})))
        .expect(1)
        .mount(&oauth)
        .await;
    let env = [
        ("ZALO_OAUTH_URL", oauth.uri()),
        ("ZALO_APP_ID", "123".to_string()),
        ("ZALO_APP_SECRET", "cli-secret".to_string()),
    ];
    let run = |args: Vec<&'static str>, extra: Vec<(&'static str, String)>| {
        let mut all: Vec<(&'static str, String)> = env.to_vec();
        all.extend(extra);
        let dir = dir.path().to_path_buf();
        async move { tradesphere_blocking(&dir, &args, None, all).await }
    };
    let status = run(vec!["token", "status"], vec![]).await;
    assert!(
        stdout(&status).contains("token: none"),
        "{}",
        stdout(&status)
    );

    let import = run(
        vec![
            "token",
            "import",
            "--access-token",
            "imported-access",
            "--refresh-token",
            "imported-refresh",
        ],
        vec![],
    )
    .await;
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    assert!(stdout(&import).contains("imported: version 1"));
    assert!(
        !stdout(&import).contains("imported-access"),
        "secrets are not echoed"
    );

    let refresh = run(vec!["token", "refresh"], vec![]).await;
    assert!(
        refresh.status.success(),
        "{}{}",
        stdout(&refresh),
        String::from_utf8_lossy(&refresh.stderr)
    );
    let status = run(vec!["token", "status"], vec![]).await;
    let out = stdout(&status);
    assert!(
        out.contains("version 2") && out.contains("source refresh"),
        "{out}"
    );
    assert!(
        out.contains("last refresh:") && out.contains("(ok"),
        "{out}"
    );
    assert!(out.contains("state: ok"), "{out}");
    assert!(!out.contains("fresh-access"), "no secret in the status");

    let no_redirect = run(vec!["token", "authorize-url"], vec![]).await;
    assert!(!no_redirect.status.success());
    assert!(String::from_utf8_lossy(&no_redirect.stderr).contains("redirect_uri"));
    let url = run(
        vec!["token", "authorize-url"],
        vec![(
            "ZALO_REDIRECT_URI",
            "https://bot.example/api/v1/zalo/oauth/callback".into(),
        )],
    )
    .await;
    let out = stdout(&url);
    assert!(
        out.contains("/v4/oa/permission?app_id=123&redirect_uri="),
        "{out}"
    );
    assert!(
        out.contains("code_challenge=") && out.contains("state="),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_pauses_can_be_listed_and_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let store = store_at(&url).await;
    store.migrate().await.unwrap();
    let user = tradesphere::domain::UserId::parse("5521772797000001").unwrap();
    let now = chrono::Utc::now();
    store
        .pause_user(
            &user,
            now + chrono::Duration::minutes(30),
            "admin_reply",
            now,
        )
        .await
        .unwrap();
    store.close().await;

    let run = |args: &'static [&'static str]| tradesphere_blocking(dir.path(), args, None, vec![]);
    let list = run(&["handoff", "list"]).await;
    assert!(
        stdout(&list).contains("5521772797000001") && stdout(&list).contains("admin_reply"),
        "{}",
        stdout(&list)
    );
    let clear = run(&["handoff", "clear", "5521772797000001"]).await;
    assert!(stdout(&clear).contains("pause cleared"));
    let list = run(&["handoff", "list"]).await;
    assert!(
        stdout(&list).contains("no active pauses"),
        "{}",
        stdout(&list)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_then_stops_cleanly_on_sigterm() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("serve.db").display()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradesphere"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db)
        .env("TRADESPHERE_LISTEN", "127.0.0.1:0")
        .env("TRADESPHERE_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let address = loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the service logs its address");
        let json: serde_json::Value = serde_json::from_str(&line).expect("JSON log lines");
        assert!(
            json["level"].is_string() && json["message"].is_string(),
            "{line}"
        );
        if json["message"] == "listening" {
            break json["address"].as_str().unwrap().to_string();
        }
    };
    let client = reqwest::Client::new();
    let ready = client
        .get(format!("http://{address}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let event = serde_json::json!({"app_id": "1", "event_name": "user_send_text", "sender": {"id": "42"},
        "message": {"msg_id": "sigterm-1", "text": "/help"}, "timestamp": "1700000000000"});
    let response = client
        .post(format!("http://{address}/api/v1/zalo/webhook"))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(
        exit.success(),
        "SIGTERM ends the service with exit code 0: {exit:?}"
    );
    let mut lines = Vec::new();
    // The reader's sender is dropped at the end of the stream, which ends this loop.
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(10)) {
        lines.push(line);
    }
    assert!(
        lines.iter().any(|l| l.contains("\"stopped\"")),
        "graceful stop logged: {lines:?}"
    );

    // Nothing accepted was lost: the event was persisted (and answered) before the exit.
    let store = store_at(&db).await;
    let user = tradesphere::domain::UserId::parse("42").unwrap();
    let history = store.messages_for(&user).await.unwrap();
    assert_eq!(
        history.len(),
        2,
        "the message and its answer are stored: {history:?}"
    );
    assert_eq!(store.pending_event_count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_leaves_the_services_pending_work_alone() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let store = store_at(&url).await;
    store.migrate().await.unwrap();
    let customer = tradesphere::domain::UserId::parse("5521772797000777").unwrap();
    let queued = store
        .enqueue_proactive(&customer, &["a reply the service owes".into()])
        .await
        .unwrap();
    store.close().await;

    let output = tradesphere_blocking(dir.path(), &["chat"], Some("/help\n/quit\n"), vec![]).await;
    assert!(stdout(&output).contains("HƯỚNG DẪN"), "{}", stdout(&output));

    let store = store_at(&url).await;
    let rows = store.outbound_for(&customer).await.unwrap();
    assert_eq!(rows[0].id, queued[0].id);
    assert_eq!(
        rows[0].state,
        tradesphere::domain::OutboundState::Queued,
        "chat did not take the service's reply"
    );
}

#[test]
fn scam_import_csv_reports_bad_rows_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("reports.csv");
    std::fs::write(
        &csv,
        "kind,value,category,report_count,source\n\
         phone,0912.345.678,giả danh công an,3,community\n\
         bank_account,1903 6688 8888,lừa đảo,2,community\n\
         domain,HTTPS://Evil-Shop.COM/x,phishing,1,feed\n\
         phone,12345,x,1,community\n\
         fax,1,x,1,community\n",
    )
    .unwrap();
    let args = ["scam", "import", "--format", "csv", csv.to_str().unwrap()];
    let first = tradesphere(&dir, &args, None, &[]);
    let out = stdout(&first);
    let err = String::from_utf8_lossy(&first.stderr).to_string();
    assert!(first.status.success(), "{out}{err}");
    assert!(out.contains("read 3 report(s)"), "{out}");
    assert!(out.contains("3 new or changed"), "{out}");
    assert!(out.contains("skipped 2 invalid line(s)"), "{out}");
    assert!(
        err.contains("reports.csv:5: skipped: not a valid phone"),
        "{err}"
    );
    assert!(
        err.contains("reports.csv:6: skipped: unknown kind"),
        "{err}"
    );
    let second = tradesphere(&dir, &args, None, &[]);
    assert!(
        stdout(&second).contains("0 new or changed"),
        "{}",
        stdout(&second)
    );
    assert!(
        stdout(&second).contains("3 active report(s)"),
        "{}",
        stdout(&second)
    );

    let check = tradesphere(
        &dir,
        &["scam", "check", "--json", "STK 1903 6688 8888"],
        None,
        &[],
    );
    let body: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(body["entities"][0]["verdict"], "reported", "{body}");
    assert_eq!(body["entities"][0]["reports"], 2);

    let header = dir.path().join("bad.csv");
    std::fs::write(&header, "kind,value\nphone,0912345678\n").unwrap();
    let refused = tradesphere(
        &dir,
        &[
            "scam",
            "import",
            "--format",
            "csv",
            header.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("category"));
}

#[test]
fn scam_check_reads_a_picture_as_the_bot_does() {
    let dir = tempfile::tempdir().unwrap();
    let code = testkit::images::qr::code_image(
        &testkit::images::qr::vietqr("970436", "0071000123456", None, None),
        500,
        20,
        245,
    );
    let picture = dir.path().join("qr.png");
    code.save(&picture).unwrap();
    // OCR off, as on a machine without Tesseract: the QR code is still read.
    let off = [("TRADESPHERE__IMAGE__OCR", "false")];
    let json = tradesphere(
        &dir,
        &[
            "scam",
            "check",
            "--json",
            "--image",
            picture.to_str().unwrap(),
        ],
        None,
        &off,
    );
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON on stdout");
    assert_eq!(body["image"]["result"], "ok", "{body}");
    assert_eq!(body["image"]["ocr"]["enabled"], false, "{body}");
    assert!(
        body["image"]["qr"][0]
            .as_str()
            .unwrap()
            .starts_with("000201"),
        "{body}"
    );
    assert_eq!(body["image"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(body["entities"][0]["kind"], "bank_account", "{body}");
    assert_eq!(body["entities"][0]["value"], "0071000123456", "{body}");
    let text = tradesphere(
        &dir,
        &["scam", "check", "--image", picture.to_str().unwrap()],
        None,
        &off,
    );
    assert!(
        stdout(&text).starts_with("📷 Mình đọc được trong ảnh:"),
        "{}",
        stdout(&text)
    );
    // Not a picture: a polite reply, a failed exit.
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"not a picture").unwrap();
    let refused = tradesphere(
        &dir,
        &["scam", "check", "--image", junk.to_str().unwrap()],
        None,
        &off,
    );
    assert!(!refused.status.success());
    assert!(
        stdout(&refused).contains("không mở được"),
        "{}",
        stdout(&refused)
    );
}

/// `scam sync` and `scam feeds` against a loopback feed named in a config file: a sync, a 304, the listing,
/// an unknown feed refused, and a refused HTML answer failing the command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scam_sync_and_feeds_commands() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/feed.txt"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/feed.txt"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .set_body_string("# test feed\nfeed-lua-dao.vn\nfeed-gia-mao.vn\nnot a domain\n"),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/login"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html")
                .set_body_string("<html>đăng nhập</html>"),
        )
        .mount(&server)
        .await;
    let config = dir.path().join("feeds.toml");
    std::fs::write(
        &config,
        format!(
            "[[scam.feeds]]\nname = \"test_feed\"\ntitle = \"Test Feed\"\nurl = \"{0}/feed.txt\"\nformat = \"domains\"\nenabled = true\nverified = true\n\n\
             [[scam.feeds]]\nname = \"walled\"\nurl = \"{0}/login\"\nformat = \"openphish_txt\"\n",
            server.uri()
        ),
    )
    .unwrap();
    let env = vec![
        ("TRADESPHERE_CONFIG", config.display().to_string()),
        ("TRADESPHERE__NET__ALLOW_HOSTS", "127.0.0.1".to_string()),
    ];
    let run =
        |args: &'static [&'static str]| tradesphere_blocking(dir.path(), args, None, env.clone());

    let first = run(&["scam", "sync"]).await;
    let out = stdout(&first);
    assert!(
        first.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(out.contains("test_feed: ok (2 entries"), "{out}");
    assert!(
        String::from_utf8_lossy(&first.stderr).contains("test_feed:4: skipped"),
        "the malformed row, by line"
    );
    let second = run(&["scam", "sync", "--feed", "test_feed"]).await;
    assert!(
        stdout(&second).contains("test_feed: not_modified"),
        "{}",
        stdout(&second)
    );

    let listing = run(&["scam", "feeds"]).await;
    let out = stdout(&listing);
    assert!(out.contains("test_feed [domains] Test Feed"), "{out}");
    assert!(
        out.contains("entries: 2") && out.contains("ETag: \"v1\""),
        "{out}"
    );
    assert!(
        out.contains("walled") && out.contains("next run: disabled"),
        "{out}"
    );

    let check = run(&["scam", "check", "--json", "vào feed-lua-dao.vn"]).await;
    let body: serde_json::Value = serde_json::from_slice(&check.stdout).expect("JSON on stdout");
    assert_eq!(
        body["entities"][0]["reasons"][0]["source"], "test_feed",
        "{body}"
    );
    assert!(
        body["entities"][0]["reasons"][0]["label"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Test Feed liệt kê là"),
        "{body}"
    );

    let unknown = run(&["scam", "sync", "--feed", "nope"]).await;
    assert!(!unknown.status.success());
    let walled = run(&["scam", "sync", "--feed", "walled"]).await;
    assert!(!walled.status.success());
    assert!(
        stdout(&walled).contains("walled: html"),
        "{}",
        stdout(&walled)
    );
}
