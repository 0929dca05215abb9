//! A throwaway PostgreSQL cluster: Debian's `initdb`/`pg_ctl` in a temp dir on a free port. A test that stops
//! and starts its server gets a cluster of its own; the shared one behind [`crate::Backend::postgres`] must
//! never go down under other tests.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use sea_orm::{ConnectionTrait, Database};

pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    /// Extra server options (`-c name=value …`).
    options: String,
}

impl PgCluster {
    /// A fresh cluster on a free port, or None (skipped loudly) when PostgreSQL's binaries are missing,
    /// unless `TRADESPHERE_REQUIRE_POSTGRES=1`, which makes that a failure.
    pub fn start_if_available() -> Option<PgCluster> {
        Self::start_with_if_available("")
    }

    /// As [`PgCluster::start_if_available`], with `options` (`-c name=value …`) on the server's command line.
    pub fn start_with_if_available(options: &str) -> Option<PgCluster> {
        match Self::try_start(options) {
            Ok(cluster) => Some(cluster),
            Err(reason) => {
                assert_ne!(
                    std::env::var("TRADESPHERE_REQUIRE_POSTGRES").as_deref(),
                    Ok("1"),
                    "PostgreSQL is required but a private cluster could not start: {reason}"
                );
                eprintln!("SKIPPED: no private PostgreSQL cluster: {reason}");
                None
            }
        }
    }

    /// Creates and starts a cluster in a temp dir on a free port, with `options` added to the server's
    /// command line. A watchdog stops it and removes its files when this test process exits.
    pub fn try_start(options: &str) -> Result<PgCluster, String> {
        let bin = find_pg_bin().ok_or("no initdb/pg_ctl under /usr/lib/postgresql")?;
        let dir =
            std::env::temp_dir().join(format!("tradesphere-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if as_postgres {
            // initdb refuses to run as root: the server runs as the `postgres` user then.
            let _ = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status();
        }
        let cluster = PgCluster {
            bin,
            dir,
            port,
            as_postgres,
            options: options.to_string(),
        };
        let data = cluster.data();
        if !cluster.run("initdb", &["-D", &data, "-A", "trust", "-U", "postgres"]) {
            return Err("initdb failed".into());
        }
        // Stop it when this test process exits, whatever happens to the test.
        let watchdog = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            stop = cluster.command_line("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]),
            dir = cluster.dir.display()
        );
        // Never waited on, on purpose: it outlives this process to clean up after it.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &watchdog])
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        if !cluster.run_start() {
            return Err("pg_ctl start failed".into());
        }
        Ok(cluster)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub async fn create_database(&self) -> String {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let conn = Database::connect(self.url("postgres").as_str())
            .await
            .expect("connect to the private cluster");
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        conn.close().await.ok();
        self.url(&name)
    }

    /// Starts (or restarts) the server and waits until it accepts connections.
    pub fn start(&self) {
        assert!(self.run_start(), "pg_ctl start failed");
    }

    fn run_start(&self) -> bool {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off {}",
            self.port,
            self.dir.display(),
            self.options
        );
        let log = self.dir.join("log").display().to_string();
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", &data, "-o", &options, "-w", "-l", &log, "start"],
        )
    }

    /// Stops the server the way a crash or an operator restart would: connections are cut.
    pub fn stop(&self) {
        assert!(
            self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]),
            "pg_ctl stop failed"
        );
    }

    /// Stops the server at once, without waiting for clients; false when it was not running. For a test's
    /// clean-up, which must not panic.
    pub fn stop_now(&self) -> bool {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        )
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) -> bool {
        Command::new("sh")
            .args(["-c", &self.command_line(program, args)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn command_line(&self, program: &str, args: &[&str]) -> String {
        let program = self.bin.join(program).display().to_string();
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let line = format!("{program} {}", quoted.join(" "));
        if self.as_postgres {
            format!("runuser -u postgres -- {line}")
        } else {
            line
        }
    }
}

fn find_pg_bin() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    candidates.sort();
    candidates.reverse();
    candidates
        .into_iter()
        .find(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
}
