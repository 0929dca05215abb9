//! Which database a test runs against, and `both_backends!`, which runs a test body on each.

use sea_orm::{ConnectionTrait, Database};
use tokio::sync::OnceCell;

use crate::PgCluster;

/// Which database a test runs against.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// The admin URL of a PostgreSQL server; each test creates a database of its own on it.
    Postgres(String),
}

impl Backend {
    /// A PostgreSQL server for tests: `TEST_DATABASE_URL` when given, else a throwaway cluster started
    /// with Debian's `initdb`/`pg_ctl`. None (the test is skipped, loudly) when neither is available,
    /// unless `TRADESPHERE_REQUIRE_POSTGRES=1`, which turns a missing server into a failure (CI sets it).
    pub async fn postgres() -> Option<Backend> {
        static ADMIN_URL: OnceCell<Option<String>> = OnceCell::const_new();
        let admin = ADMIN_URL
            .get_or_init(|| async {
                if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
                    return Some(url);
                }
                tokio::task::spawn_blocking(start_throwaway_cluster)
                    .await
                    .ok()
                    .flatten()
            })
            .await
            .clone();
        match admin {
            Some(url) => Some(Backend::Postgres(url)),
            None if std::env::var("TRADESPHERE_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
                panic!(
                    "PostgreSQL is required (TRADESPHERE_REQUIRE_POSTGRES=1) but none is available"
                )
            }
            None => {
                eprintln!(
                    "SKIPPED: PostgreSQL not available (no TEST_DATABASE_URL, no initdb/pg_ctl)"
                );
                None
            }
        }
    }

    /// A fresh, empty database URL for one test.
    pub async fn fresh_database(&self, dir: &tempfile::TempDir) -> String {
        match self {
            Backend::Sqlite => {
                format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display())
            }
            Backend::Postgres(admin) => {
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                let conn = Database::connect(admin.as_str())
                    .await
                    .expect("connect to PostgreSQL");
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let mut url = url::Url::parse(admin).expect("admin URL");
                url.set_path(&name);
                url.to_string()
            }
        }
    }

    /// "SQLite" or "PostgreSQL", for a test's report.
    pub fn label(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

/// Starts the shared PostgreSQL cluster (a watchdog stops it when this process exits). Many tests use it at
/// once, hence the connection limit.
fn start_throwaway_cluster() -> Option<String> {
    match PgCluster::try_start("-c max_connections=300") {
        Ok(cluster) => {
            let url = cluster.url("postgres");
            eprintln!("started a throwaway PostgreSQL at {url}");
            Some(url)
        }
        Err(reason) => {
            eprintln!("no throwaway PostgreSQL: {reason}");
            None
        }
    }
}

/// Runs a test body against SQLite and PostgreSQL: `both_backends!(name);` expects
/// `async fn name(backend: Backend)` and makes the tests `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = $crate::Backend::postgres().await {
                        super::$name(backend).await;
                    }
                }
            )*
        }
    };
}
