//! The ops pack, in process: backup and restore (a restore drill on both backends), the metrics the alerts
//! read, and the Alertmanager → Zalo receiver. (The static checks of rules, routing, compose and dashboards
//! run the tools themselves, in the `system` tests.)

use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use testkit::both_backends;
use tradesphere::config::DatabaseSettings;
use tradesphere::scam::EntityKind;
use tradesphere::store::{NewReport, NewUserReport, Store};

use crate::helpers::*;

fn database(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: SecretString::from(url.to_string()),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(5),
        token_key: None,
        application_name: None,
    }
}

fn report(value: &str) -> NewReport {
    NewReport {
        kind: EntityKind::Domain,
        value: value.into(),
        category: "lừa đảo".into(),
        source: "drill".into(),
        report_count: 2,
        verified: false,
        bank_bin: None,
        first_reported: None,
        last_reported: None,
    }
}

async fn counts(url: &str) -> (u64, usize) {
    let store = Store::connect(&database(url)).await.unwrap();
    let reports = store.report_count().await.unwrap();
    let user_reports = store.user_reports(None, 1000).await.unwrap().len();
    store.close().await;
    (reports, user_reports)
}

async fn backup_then_restore_into_a_fresh_database(backend: Backend) {
    let source = spawn_app(&backend).await;
    source
        .store()
        .upsert_reports(&[
            report("a-lua-dao.vn"),
            report("b-lua-dao.vn"),
            report("c-lua-dao.vn"),
        ])
        .await
        .unwrap();
    source
        .store()
        .submit_user_report(
            &NewUserReport {
                kind: EntityKind::Phone,
                value: "+84912345678".into(),
                bank_bin: None,
                category: "giả danh công an".into(),
                note: "drill".into(),
                reporter_hash: "r".into(),
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("drill.backup");
    // Taken while the service runs.
    let bytes = tradesphere::backup::backup(&database(&source.database_url), &file)
        .await
        .unwrap();
    assert!(bytes > 0);
    assert!(
        tradesphere::backup::backup(&database(&source.database_url), &file)
            .await
            .is_err(),
        "a backup never overwrites a file"
    );
    let metrics = source.get("/metrics").await.text().await.unwrap();
    let stamp = metrics
        .lines()
        .find(|l| l.starts_with("tradesphere_backup_last_success_timestamp_seconds "))
        .expect("backup timestamp exported");
    let at: f64 = stamp.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(at > 1.7e9, "{stamp}");
    assert!(metrics.contains("tradesphere_inbox_oldest_pending_age_seconds"));
    assert!(metrics.contains("tradesphere_db_pool_connections{state=\"in_use\"}"));
    let expected = counts(&source.database_url).await;
    assert_eq!(expected, (3, 1));
    source.shutdown().await;

    // A fresh database of the same backend, migrated and written to, then overwritten by the restore.
    // (SQLite: a file outside the app's own temporary directory, which goes away with the app.)
    let target_options = match backend {
        Backend::Sqlite => TestOptions {
            database_url: Some(format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("target.db").display()
            )),
            ..Default::default()
        },
        Backend::Postgres(_) => TestOptions::default(),
    };
    let target = spawn_app_with(&backend, target_options).await;
    target
        .store()
        .upsert_reports(&[report("other.vn")])
        .await
        .unwrap();
    let target_url = target.database_url.clone();
    target.shutdown().await;
    tradesphere::backup::restore(&database(&target_url), &file)
        .await
        .unwrap();
    assert_eq!(
        counts(&target_url).await,
        expected,
        "row counts after the restore"
    );
}

async fn alerts_are_forwarded_to_admins_on_zalo(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            admin_token: true,
            zalo: true,
            extra_env: vec![("ALERT_ZALO_USER_IDS", "7001, 7002".to_string())],
            ..Default::default()
        },
    )
    .await;
    let notification = json!({
        "version": "4",
        "status": "firing",
        "receiver": "tradesphere-zalo",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "ZaloAccessTokenExpiringSoon", "severity": "warning"},
            "annotations": {"summary": "Zalo OA access token expires in 2h 40m", "runbook": "tradesphere token refresh"}
        }]
    });
    let url = format!("{}/api/v1/alerts", app.address);
    let denied = app
        .client
        .post(&url)
        .json(&notification)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
    let malformed = app
        .client
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let accepted = app
        .client
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .json(&notification)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let sends = wait_until("both admins messaged", || async {
        let sends = app.zalo_sends().await;
        (sends.len() >= 2).then_some(sends)
    })
    .await;
    let recipients: Vec<&str> = sends
        .iter()
        .map(|s| s["recipient"]["user_id"].as_str().unwrap_or_default())
        .collect();
    assert!(
        recipients.contains(&"7001") && recipients.contains(&"7002"),
        "{sends:?}"
    );
    let text = sends[0]["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("ZaloAccessTokenExpiringSoon") && text.contains("2h 40m"),
        "{text}"
    );
    app.shutdown().await;
}

both_backends!(
    backup_then_restore_into_a_fresh_database,
    alerts_are_forwarded_to_admins_on_zalo,
);
