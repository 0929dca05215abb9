//! `tradesphere scam`: import report lists, check a text, sync the configured list, moderate user reports
//! and appeals, and read the moderation audit log.

use std::path::PathBuf;

use anyhow::Context;

use super::{AppealVerdict, AppealsCommand, ImportFormat, ScamCommand};
use crate::config::{LinksSettings, Settings};
use crate::conversation::decide::{self, ImageStep};
use crate::feeds::next_run;
use crate::links::LinkFollower;
use crate::media::ImageReader;
use crate::reply::verdict;
use crate::reports::moderation::{
    AppealDecision, Deferred, Moderation, ModerationError, Moderator, decide_appeal, reject_report,
    verify_report,
};
use crate::reports::{IndexSync, sync_feeds};
use crate::scam::EntityKind;
use crate::scam::check::{CheckOutcome, CheckReport, check_followed};
use crate::scam::import::{ListDefaults, parse_csv, parse_domain_list};
use crate::scam::trust::AppealStatus;
use crate::store::Store;

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
        ScamCommand::Check {
            json,
            image: Some(image),
            text,
            expand,
        } => check_image(settings, &image, &text.join(" "), json, expand).await,
        ScamCommand::Check {
            json, text, expand, ..
        } => check_text(settings, &text.join(" "), json, expand).await,
        ScamCommand::Sync { feed, force } => sync(settings, feed.as_deref(), force).await,
        ScamCommand::Feeds => list_feeds(settings).await,
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
        ScamCommand::Verify { id, reason } => review(settings, id, true, &reason).await,
        ScamCommand::Reject { id, reason } => review(settings, id, false, &reason).await,
        ScamCommand::Appeals {
            command:
                Some(AppealsCommand::Decide {
                    id,
                    decision,
                    reason,
                }),
            ..
        } => decide(settings, id, decision, &reason).await,
        ScamCommand::Appeals {
            command: None,
            status,
            limit,
        } => list_appeals(settings, &status, limit).await,
        ScamCommand::Audit { limit } => audit(settings, limit).await,
    }
}

async fn sync(settings: Settings, only: Option<&str>, force: bool) -> anyhow::Result<()> {
    if let Some(name) = only
        && !settings.scam.feeds.iter().any(|f| f.name == name)
    {
        anyhow::bail!("no feed is named `{name}` (see `tradesphere scam feeds`)");
    }
    if only.is_none() && !settings.scam.feeds.iter().any(|f| f.enabled) {
        anyhow::bail!(
            "no feed is enabled: add [[scam.feeds]] (see config/feeds.toml) or set scam.sync_url (env SCAM_SYNC_URL)"
        );
    }
    let store = super::open_store(&settings).await?;
    let outcomes = sync_feeds(&store, &settings.net, &settings.scam.feeds, only, force).await;
    let mut failed = 0;
    for outcome in &outcomes {
        println!("{outcome}");
        for bad in &outcome.bad_lines {
            eprintln!("  {}:{}: skipped: {}", outcome.feed, bad.line, bad.reason);
        }
        if outcome.bad_rows > outcome.bad_lines.len() as u64 {
            eprintln!(
                "  … and {} more malformed row(s)",
                outcome.bad_rows - outcome.bad_lines.len() as u64
            );
        }
        failed += usize::from(!outcome.result.is_success());
    }
    if failed > 0 {
        anyhow::bail!("{failed} feed(s) not synced");
    }
    Ok(())
}

async fn list_feeds(settings: Settings) -> anyhow::Result<()> {
    let store = super::open_store(&settings).await?;
    let states = store.feed_states().await?;
    let now = chrono::Utc::now();
    let when = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map_or_else(
            || "never".to_string(),
            |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
    };
    if settings.scam.feeds.is_empty() {
        println!("no feeds configured (see config/feeds.toml)");
    }
    for feed in &settings.scam.feeds {
        let state = states.iter().find(|s| s.name == feed.name);
        let next = if feed.enabled {
            when(Some(next_run(state, feed.refresh, now).max(now)))
        } else {
            "disabled".to_string()
        };
        println!(
            "{} [{}] {} {}\n  last success: {}; last result: {}; entries: {}; malformed rows: {}; ETag: {}; next run: {}",
            feed.name,
            feed.format.as_str(),
            feed.title,
            feed.redacted_url(),
            when(state.and_then(|s| s.last_success)),
            state
                .and_then(|s| s.last_result)
                .map_or("none", |r| r.as_str()),
            state.map_or(0, |s| s.entries),
            state.map_or(0, |s| s.bad_rows),
            state.and_then(|s| s.etag.as_deref()).unwrap_or("none"),
            next,
        );
    }
    Ok(())
}

/// Decisions from the CLI: notices whose user's window is open are queued here and sent by the running
/// service's outbound resume; the others wait as they would anyway.
fn moderation<'a>(store: &'a Store, settings: &Settings) -> Moderation<'a, Deferred> {
    Moderation {
        store,
        dispatch: &Deferred,
        now: chrono::Utc::now(),
        max_message_chars: settings.outbound.max_message_chars,
    }
}

async fn review(settings: Settings, id: i64, approve: bool, reason: &str) -> anyhow::Result<()> {
    let store = super::open_store(&settings).await?;
    let cx = moderation(&store, &settings);
    let decided = if approve {
        verify_report(&cx, id, Moderator::Cli, reason).await
    } else {
        reject_report(&cx, id, Moderator::Cli, reason).await
    };
    match decided {
        Ok(report) => {
            println!("report #{} is now {}", report.id, report.status);
            Ok(())
        }
        Err(ModerationError::NotFound) => anyhow::bail!("no user report #{id}"),
        Err(e) => Err(e.into()),
    }
}

async fn decide(
    settings: Settings,
    id: i64,
    decision: AppealVerdict,
    reason: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(!reason.trim().is_empty(), "say why with --reason");
    let store = super::open_store(&settings).await?;
    let cx = moderation(&store, &settings);
    let decision = match decision {
        AppealVerdict::Accept => AppealDecision::Accept,
        AppealVerdict::Reject => AppealDecision::Reject,
    };
    match decide_appeal(&cx, id, decision, Moderator::Cli, reason.trim()).await {
        Ok(appeal) => {
            println!("appeal #{} is now {}", appeal.id, appeal.status.as_str());
            Ok(())
        }
        Err(ModerationError::NotFound) => anyhow::bail!("no appeal #{id}"),
        Err(e) => Err(e.into()),
    }
}

async fn list_appeals(settings: Settings, status: &str, limit: u64) -> anyhow::Result<()> {
    let status = match status {
        "all" => None,
        text => Some(
            AppealStatus::parse(text)
                .context("--status must be pending, accepted, rejected or all")?,
        ),
    };
    let store = super::open_store(&settings).await?;
    let appeals = store.appeals(status, limit).await?;
    if appeals.is_empty() {
        println!("no appeals");
    }
    for a in appeals {
        let decided = match (&a.decided_by, a.decided_at) {
            (Some(by), Some(at)) => format!(
                " by {by} {} ({})",
                at.format("%Y-%m-%d %H:%M"),
                a.reason.as_deref().unwrap_or_default()
            ),
            _ => String::new(),
        };
        println!(
            "#{} {} {} {} [{}]{decided} — {}",
            a.id,
            a.created_at.format("%Y-%m-%d %H:%M"),
            a.kind,
            a.value,
            a.status.as_str(),
            a.note.replace('\n', " ")
        );
    }
    Ok(())
}

async fn audit(settings: Settings, limit: u64) -> anyhow::Result<()> {
    let store = super::open_store(&settings).await?;
    let entries = store.moderation_audit(limit).await?;
    if entries.is_empty() {
        println!("no moderation decisions yet");
    }
    for e in entries {
        println!(
            "{} {} {} #{} {} {} — {}",
            e.at.format("%Y-%m-%d %H:%M:%S"),
            e.moderator,
            e.action,
            e.subject_id,
            e.kind,
            e.value,
            e.reason.replace('\n', " ")
        );
    }
    Ok(())
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

/// An image file larger than the guarded fetcher would take is refused the same way.
const MAX_IMAGE_FILE: u64 = 10 * 1024 * 1024;

/// `scam check --image FILE`: the bot's own image path (decode, QR codes, OCR), then the check.
async fn check_image(
    settings: Settings,
    file: &std::path::Path,
    caption: &str,
    json: bool,
    expand: bool,
) -> anyhow::Result<()> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let bytes = if size > MAX_IMAGE_FILE {
        Err(crate::net::FetchError::TooLarge)
    } else {
        Ok(std::fs::read(file).with_context(|| format!("reading {}", file.display()))?)
    };
    let reader = ImageReader::new(&settings);
    let ocr = reader.ocr_status();
    if !ocr.enabled {
        eprintln!("OCR is off ({}): reading QR codes only", ocr.detail);
    }
    let reading = match bytes {
        Ok(bytes) => reader.read_bytes(bytes).await,
        Err(e) => Err(e),
    };
    let step = decide::image_read(caption, reading.as_ref().map_err(|e| *e), ocr.enabled);
    let outcome = match step {
        ImageStep::Answer(answer) => {
            let reply = answer.reply.unwrap_or_default();
            if json {
                let report = ImageCheckReport {
                    image: ImageReport::of(&reading, &ocr),
                    reply: Some(reply),
                    check: None,
                };
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{reply}");
            }
            anyhow::bail!("nothing could be read from {}", file.display());
        }
        ImageStep::Check { text, .. } => {
            let store = super::open_store(&settings).await?;
            let mut index = IndexSync::new();
            index.sync(&store).await?;
            checked(&settings, &index, &text, expand).await
        }
    };
    let reading = reading.as_ref().map_err(|e| *e)?;
    if json {
        let report = ImageCheckReport {
            image: ImageReport::of(&Ok(reading.clone()), &ocr),
            reply: None,
            check: Some(CheckReport::from(&outcome)),
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", crate::reply::image::image_reply(reading, &outcome));
    }
    Ok(())
}

/// `scam check --image --json`: what was read, then the check (or the reply when nothing could be read).
#[derive(serde::Serialize)]
struct ImageCheckReport {
    image: ImageReport,
    /// The reply when nothing could be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    check: Option<CheckReport>,
}

#[derive(serde::Serialize)]
struct ImageReport {
    /// `ok`, or why the image could not be read (`not_image`, `too_many_pixels`, …).
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    qr: Vec<String>,
    /// The text OCR read; null when OCR is off or failed.
    ocr_text: Option<String>,
    ocr: crate::media::OcrStatus,
}

impl ImageReport {
    fn of(
        reading: &Result<crate::media::ImageReading, crate::net::FetchError>,
        ocr: &crate::media::OcrStatus,
    ) -> Self {
        let ok = reading.as_ref().ok();
        ImageReport {
            result: crate::net::FetchError::result_label(reading),
            sha256: ok.map(|r| r.sha256.clone()),
            qr: ok.map(|r| r.qr.clone()).unwrap_or_default(),
            ocr_text: ok.and_then(|r| r.ocr_text().map(str::to_string)),
            ocr: ocr.clone(),
        }
    }
}

async fn check_text(
    settings: Settings,
    text: &str,
    json: bool,
    expand: bool,
) -> anyhow::Result<()> {
    let store = super::open_store(&settings).await?;
    let mut index = IndexSync::new();
    index.sync(&store).await?;
    let outcome = checked(&settings, &index, text, expand).await;
    if json {
        let report = CheckReport::from(&outcome);
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", verdict::scam_reply(&outcome));
    }
    Ok(())
}

/// The check, and with `expand` the bot's own link following (whatever `links.expand` says: the operator
/// asked for it) and, when `links.rdap` is on, domain ages.
async fn checked(settings: &Settings, index: &IndexSync, text: &str, expand: bool) -> CheckOutcome {
    let outcome = index.check(text, chrono::Utc::now());
    let links = LinksSettings {
        expand: true,
        ..settings.links.clone()
    };
    let follower = LinkFollower::new(&links, &settings.net).filter(|_| expand);
    let Some(follower) = follower.filter(|f| f.wants(text, &outcome)) else {
        return outcome;
    };
    let followed = follower.follow(text, &outcome).await;
    let entities = crate::scam::extract::extract(text);
    check_followed(index.index(), text, entities, &followed, chrono::Utc::now())
}
