//! `tradesphere scam`: import report lists, check a text, sync the configured list, and moderate user reports.

use std::path::PathBuf;

use anyhow::Context;

use super::{ImportFormat, ScamCommand};
use crate::config::Settings;
use crate::reply::verdict;
use crate::reports::{IndexSync, redacted_url, sync_once};
use crate::scam::EntityKind;
use crate::scam::check::CheckReport;
use crate::scam::import::{ListDefaults, parse_csv, parse_domain_list};

pub(super) async fn run(settings: Settings, command: ScamCommand) -> anyhow::Result<()> {
    match command {
        ScamCommand::Import {
            file,
            format,
            category,
            source,
            unverified,
        } => {
            let source = source.unwrap_or_else(|| {
                file.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "import".into())
            });
            let defaults = ListDefaults {
                source,
                category,
                verified: !unverified,
            };
            import_file(settings, &file, format, &defaults).await
        }
        ScamCommand::Check { json, text } => check_text(settings, &text.join(" "), json).await,
        ScamCommand::Sync => {
            let url = settings.scam.sync_url.clone().context(
                "no list to download: set scam.sync_url (env SCAM_SYNC_URL), e.g. to the chongluadao list",
            )?;
            let store = super::open_store(&settings).await?;
            let summary = sync_once(&store, &url, &settings.scam).await?;
            println!(
                "synced \"{}\" from {}: {summary}",
                settings.scam.sync_source,
                redacted_url(&url)
            );
            Ok(())
        }
        ScamCommand::Reports { status, limit } => {
            let store = super::open_store(&settings).await?;
            let status = (status != "all").then_some(status.as_str());
            let reports = store.user_reports(status, limit).await?;
            if reports.is_empty() {
                println!("no user reports");
            }
            for r in reports {
                println!(
                    "#{} {} {} {} [{}] {} — {}",
                    r.id,
                    r.created_at.format("%Y-%m-%d %H:%M"),
                    r.kind,
                    r.value,
                    r.status,
                    r.category,
                    r.note.replace('\n', " ")
                );
            }
            Ok(())
        }
        ScamCommand::Verify { id } => review(settings, id, true).await,
        ScamCommand::Reject { id } => review(settings, id, false).await,
    }
}

async fn review(settings: Settings, id: i64, approve: bool) -> anyhow::Result<()> {
    let store = super::open_store(&settings).await?;
    match store
        .review_user_report(id, approve, chrono::Utc::now())
        .await?
    {
        Some(report) => {
            println!("report #{} is now {}", report.id, report.status);
            Ok(())
        }
        None => anyhow::bail!("no user report #{id}"),
    }
}

async fn import_file(
    settings: Settings,
    file: &PathBuf,
    format: ImportFormat,
    defaults: &ListDefaults,
) -> anyhow::Result<()> {
    let opened =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let size = opened.metadata().map(|m| m.len()).unwrap_or(0);
    // Drawn on stderr only when it is a terminal.
    let progress = indicatif::ProgressBar::new(size).with_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    progress.set_message("reading");
    let mut reader = progress.wrap_read(std::io::BufReader::new(opened));
    let parsed = match format {
        ImportFormat::Domains => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut reader, &mut text)
                .with_context(|| format!("reading {} (UTF-8 expected)", file.display()))?;
            parse_domain_list(&text, defaults)
        }
        ImportFormat::Csv => parse_csv(reader).map_err(anyhow::Error::msg)?,
    };
    progress.finish_and_clear();
    for bad in parsed.bad_lines.iter().take(50) {
        eprintln!("{}:{}: skipped: {}", file.display(), bad.line, bad.reason);
    }
    if parsed.bad_lines.len() > 50 {
        eprintln!("… and {} more skipped line(s)", parsed.bad_lines.len() - 50);
    }
    let store = super::open_store(&settings).await?;
    let bar = indicatif::ProgressBar::new(parsed.records.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("writing [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut written = 0;
    for chunk in parsed.records.chunks(20_000) {
        written += store.upsert_reports(chunk).await?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let mut by_kind: Vec<String> = EntityKind::ALL
        .iter()
        .map(|kind| {
            let n = parsed.records.iter().filter(|r| r.kind == *kind).count();
            format!("{n} {kind}")
        })
        .collect();
    by_kind.retain(|s| !s.starts_with("0 "));
    println!(
        "read {} report(s) from {} ({}); {written} new or changed; skipped {} invalid line(s); {} active report(s) in the database",
        parsed.records.len(),
        file.display(),
        if by_kind.is_empty() {
            "none".to_string()
        } else {
            by_kind.join(", ")
        },
        parsed.bad_lines.len(),
        store.report_count().await?
    );
    Ok(())
}

async fn check_text(settings: Settings, text: &str, json: bool) -> anyhow::Result<()> {
    let store = super::open_store(&settings).await?;
    let mut index = IndexSync::new();
    index.sync(&store).await?;
    let outcome = index.check(text, chrono::Utc::now());
    if json {
        let report = CheckReport::from(&outcome);
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", verdict::scam_reply(&outcome));
    }
    Ok(())
}
