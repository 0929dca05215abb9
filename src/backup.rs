//! `tradesphere backup FILE` and `tradesphere restore FILE`. SQLite: a consistent copy with `VACUUM INTO` (safe
//! while the service runs); restore copies it back (stop the service first). PostgreSQL: `pg_dump --format=custom`
//! and `pg_restore --clean --if-exists`; the password goes through `PGPASSWORD`, never the command line.
//! A finished backup is logged in `backup_runs`, which feeds `tradesphere_backup_last_success_timestamp_seconds`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use secrecy::ExposeSecret;

use crate::config::DatabaseSettings;
use crate::store::{BackupRun, Store};

/// Backs the database up into `file` (which must not exist yet) and logs the run. Returns the file size.
pub async fn backup(settings: &DatabaseSettings, file: &Path) -> anyhow::Result<u64> {
    if file.exists() {
        bail!("{} already exists; backups never overwrite", file.display());
    }
    let store = Store::connect(settings)
        .await
        .with_context(|| format!("connecting to {}", settings.redacted_url()))?;
    if settings.is_sqlite() {
        store
            .vacuum_into(&file.to_string_lossy())
            .await
            .context("VACUUM INTO")?;
    } else {
        let (url, password) = split_password(settings.url.expose_secret())?;
        let mut command = Command::new("pg_dump");
        command
            .arg("--format=custom")
            .arg("--no-owner")
            .arg("--file")
            .arg(file)
            .arg("--dbname")
            .arg(url);
        run(command, password.as_deref(), "pg_dump")?;
    }
    let bytes = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    store
        .record_backup(&BackupRun {
            finished_at: chrono::Utc::now(),
            file: file.to_string_lossy().into_owned(),
            bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
        })
        .await?;
    store.close().await;
    Ok(bytes)
}

/// Restores `file` into the configured database, replacing its contents.
pub async fn restore(settings: &DatabaseSettings, file: &Path) -> anyhow::Result<()> {
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    if settings.is_sqlite() {
        let target = sqlite_path(settings.url.expose_secret())?;
        std::fs::copy(file, &target)
            .with_context(|| format!("copying {} to {}", file.display(), target.display()))?;
        for suffix in ["-wal", "-shm"] {
            let mut side = target.clone().into_os_string();
            side.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(side));
        }
    } else {
        let (url, password) = split_password(settings.url.expose_secret())?;
        let mut command = Command::new("pg_restore");
        command
            .arg("--clean")
            .arg("--if-exists")
            .arg("--no-owner")
            .arg("--exit-on-error")
            .arg("--dbname")
            .arg(url)
            .arg(file);
        run(command, password.as_deref(), "pg_restore")?;
    }
    // The restored database may predate later migrations.
    let store = Store::connect(settings).await?;
    store.migrate().await?;
    store.close().await;
    Ok(())
}

fn run(mut command: Command, password: Option<&str>, name: &str) -> anyhow::Result<()> {
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command
        .output()
        .with_context(|| format!("running {name} (install the PostgreSQL client tools)"))?;
    if !output.status.success() {
        bail!(
            "{name} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The URL without its password, and the password.
fn split_password(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("the database URL does not parse")?;
    let password = parsed.password().map(|p| {
        url::form_urlencoded::parse(format!("p={p}").as_bytes())
            .next()
            .map_or_else(|| p.to_string(), |(_, v)| v.into_owned())
    });
    let _ = parsed.set_password(None);
    Ok((parsed.to_string(), password))
}

/// The file of a `sqlite://PATH?…` URL.
fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .context("not an SQLite URL")?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" {
        bail!("an in-memory SQLite database cannot be restored");
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url() {
        let (url, password) = split_password("postgres://ts:s%40cret@db:5432/tradesphere").unwrap();
        assert_eq!(url, "postgres://ts@db:5432/tradesphere");
        assert_eq!(password.as_deref(), Some("s@cret"));
        let (url, password) = split_password("postgres://ts@db/tradesphere").unwrap();
        assert_eq!(url, "postgres://ts@db/tradesphere");
        assert_eq!(password, None);
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/ts/ts.db?mode=rwc").unwrap(),
            PathBuf::from("/var/lib/ts/ts.db")
        );
        assert_eq!(
            sqlite_path("sqlite://tradesphere.db?mode=rwc").unwrap(),
            PathBuf::from("tradesphere.db")
        );
        assert!(sqlite_path("sqlite::memory:").is_err());
    }
}
