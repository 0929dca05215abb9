//! Moderation from the command line: `scam appeals` lists an owner's appeal, `scam appeals decide` accepts it
//! (withdrawing the user reports), a second decision is refused, and `scam audit` shows who decided what.

use std::process::{Command, Output};

use tradesphere::domain::UserId;
use tradesphere::scam::EntityKind;
use tradesphere::store::{AppealFiled, NewUserReport};

use crate::service::store_at;

async fn tradesphere(dir: &std::path::Path, args: &[&str]) -> Output {
    let db = format!("sqlite://{}?mode=rwc", dir.join("cli.db").display());
    let args: Vec<String> = args.iter().map(|a| (*a).to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_tradesphere"))
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", db)
            .output()
            .expect("run tradesphere")
    })
    .await
    .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appeals_are_listed_decided_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let store = store_at(&url).await;
    store.migrate().await.unwrap();
    let now = chrono::Utc::now();
    for reporter in ["5521772797000011", "5521772797000012"] {
        let report = NewUserReport {
            kind: EntityKind::Phone,
            value: "+84912345678".into(),
            bank_bin: None,
            category: "lừa đảo".into(),
            note: String::new(),
            reporter_hash: reporter.into(),
        };
        let user = UserId::parse(reporter).unwrap();
        store
            .file_user_report(&report, Some(&user), now)
            .await
            .unwrap();
    }
    let owner = UserId::parse("5521772797000013").unwrap();
    let filed = store
        .file_appeal(
            EntityKind::Phone,
            "+84912345678",
            &owner,
            "số này của tôi",
            now,
        )
        .await
        .unwrap();
    let AppealFiled::Filed(id) = filed else {
        panic!("an appeal: {filed:?}");
    };
    store.close().await;
    let id = id.to_string();

    let listed = tradesphere(dir.path(), &["scam", "appeals"]).await;
    assert!(listed.status.success(), "{listed:?}");
    let out = stdout(&listed);
    assert!(
        out.contains(&format!("#{id}"))
            && out.contains("+84912345678")
            && out.contains("[pending]"),
        "{out}"
    );
    let no_reason = tradesphere(dir.path(), &["scam", "appeals", "decide", &id, "accept"]).await;
    assert!(!no_reason.status.success(), "a decision says why");
    let decided = tradesphere(
        dir.path(),
        &[
            "scam",
            "appeals",
            "decide",
            &id,
            "accept",
            "--reason",
            "SIM contract shown",
        ],
    )
    .await;
    assert!(decided.status.success(), "{decided:?}");
    assert!(
        stdout(&decided).contains("is now accepted"),
        "{}",
        stdout(&decided)
    );
    let again = tradesphere(
        dir.path(),
        &[
            "scam", "appeals", "decide", &id, "reject", "--reason", "changed",
        ],
    )
    .await;
    assert!(!again.status.success(), "decided once");

    let audit = stdout(&tradesphere(dir.path(), &["scam", "audit"]).await);
    assert!(audit.contains("cli appeal_accept"), "{audit}");
    assert_eq!(audit.matches("cli report_reject").count(), 2, "{audit}");
    assert!(audit.contains("SIM contract shown"), "{audit}");
    let rejected =
        stdout(&tradesphere(dir.path(), &["scam", "reports", "--status", "rejected"]).await);
    assert_eq!(rejected.matches("[rejected]").count(), 2, "{rejected}");
}
