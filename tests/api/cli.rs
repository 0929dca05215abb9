//! The `tradesphere` binary: chat, send, token status, scam import/check, config errors, --help.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn tradesphere(
    dir: &tempfile::TempDir,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradesphere"));
    command
        .args(args)
        .current_dir(dir.path())
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
    assert!(out.contains("+84912345678"), "{out}");
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
    let output = tradesphere(
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
    );
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("imported 2 domain report(s)"), "{out}");
    assert!(out.contains("skipped 1"), "{out}");

    let check = tradesphere(
        &dir,
        &["scam", "check", "vào", "lua-dao[.]vn/nhan-thuong", "ngay"],
        None,
        &[],
    );
    let out = stdout(&check);
    assert!(check.status.success());
    assert!(out.contains("lua-dao.vn") && out.contains('⚠'), "{out}");
    let miss = tradesphere(
        &dir,
        &["scam", "check", "an-toan-chua-bao-cao.vn"],
        None,
        &[],
    );
    assert!(
        stdout(&miss).contains("không có báo cáo ≠ an toàn"),
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
    ] {
        let output = tradesphere(&dir, &args, None, &[]);
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage"), "{args:?}");
    }
}
