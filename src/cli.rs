//! Command line: `serve` (default), `migrate`, `chat`, `send`, `token status`, `scam import`, `scam check`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use secrecy::ExposeSecret;
use tokio::io::AsyncBufReadExt;

use crate::config::{LogFormat, OutboundMode, Settings};
use crate::delivery::{Delivery, FixedToken, PartSender};
use crate::domain::{OutboundState, UserId};
use crate::reply::{split::split_message, templates};
use crate::scam::EntityKind;
use crate::scam::check::CheckReport;
use crate::scam::import::{ListDefaults, parse_csv, parse_domain_list};
use crate::startup::{Application, BuildOptions};
use crate::store::Store;
use crate::{telemetry, zalo};

#[derive(Debug, Parser)]
#[command(name = "tradesphere", version, about = "Zalo OA anti-scam assistant")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: webhook, actors, admin API, health and metrics (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Talk to the bot in this terminal, through the real pipeline (replies are not sent to Zalo).
    Chat {
        /// The Zalo user id to chat as.
        #[arg(long, default_value = "local-chat-user")]
        user: String,
    },
    /// Send a proactive message to a Zalo user now (console when no Zalo token is available).
    Send {
        /// The Zalo user id.
        user: String,
        /// The message text; longer than 2000 characters is split.
        text: String,
    },
    /// Zalo OAuth token commands.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Human handoff: users the bot stays silent for because an OA admin answered them.
    Handoff {
        #[command(subcommand)]
        command: HandoffCommand,
    },
    /// Back the database up into FILE (SQLite: VACUUM INTO; PostgreSQL: pg_dump custom format). Safe while
    /// the service runs; logs the run for the stale-backup alert.
    Backup { file: PathBuf },
    /// Restore FILE (made by `backup`) into the configured database, replacing its contents. Stop the service
    /// first.
    Restore { file: PathBuf },
    /// Scam-report database commands.
    Scam {
        #[command(subcommand)]
        command: ScamCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Show the stored token's state: expiry and time left, last refresh and its result, re-authorisation
    /// alarm (never the token itself).
    Status,
    /// Refresh the access token now (safe while `serve` runs: processes share one refresh lease).
    Refresh,
    /// Store an existing token pair (to move a deployment over); the running service picks it up.
    Import {
        #[arg(long, env = "ZALO_ACCESS_TOKEN", hide_env_values = true)]
        access_token: String,
        #[arg(long, env = "ZALO_REFRESH_TOKEN", hide_env_values = true)]
        refresh_token: String,
        /// Seconds the access token has left (Zalo issues 90000).
        #[arg(long, default_value_t = 90_000)]
        expires_in: u64,
    },
    /// Create a PKCE re-authorisation and print the permission URL for an OA admin to open (valid 10 min).
    AuthorizeUrl,
}

#[derive(Debug, Subcommand)]
pub enum HandoffCommand {
    /// List active pauses.
    List,
    /// End a user's pause now: the bot answers them again.
    Clear { user: String },
}

#[derive(Debug, Subcommand)]
pub enum ScamCommand {
    /// Import reports: a domain list (one domain or URL per line, `#` comments, or chongluadao's JSON),
    /// e.g. the CC0 chongluadao list, or a CSV with header `kind,value,category,report_count,source`
    /// (optional columns: verified, bank_bin, first_reported, last_reported). Values are normalised; bad rows
    /// are reported with their line number and skipped. Importing the same file twice changes nothing.
    Import {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = ImportFormat::Domains)]
        format: ImportFormat,
        /// Category stored with each domain of a domain list.
        #[arg(long, default_value = "trang web lừa đảo")]
        category: String,
        /// Source name for a domain list (defaults to the file name).
        #[arg(long)]
        source: Option<String>,
        /// A domain list is taken for a moderated blocklist (its entries count as verified); say this for
        /// a list of unmoderated community reports instead.
        #[arg(long)]
        unverified: bool,
    },
    /// Check a text (a number, an account, a link or a whole pasted message) and print the verdicts.
    Check {
        /// Print JSON: {"entities":[{kind,value,raw,start,end,bank?,verdict,reports,…}],"signals":[…]}.
        #[arg(long)]
        json: bool,
        /// The text to check; several arguments are joined with spaces.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Download the configured scam-domain list (`scam.sync_url` / SCAM_SYNC_URL) once and import it.
    Sync,
    /// User reports awaiting moderation (or with another status).
    Reports {
        /// pending, verified, rejected or all.
        #[arg(long, default_value = "pending")]
        status: String,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Verify a user report: it is published as a moderated report and counts in verdicts.
    Verify { id: i64 },
    /// Reject a user report (withdrawn from verdicts if it had been verified).
    Reject { id: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    Domains,
    Csv,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let command = cli.command.unwrap_or(Command::Serve);
    init_logging(&settings, &command);
    match command {
        Command::Serve => {
            let mut options = BuildOptions::default();
            // Chaos and soak runs only (docs/reliability.md): random panics inside the actors.
            if let Ok(spec) = std::env::var("TRADESPHERE_CHAOS") {
                options.faults = crate::faults::Faults::from_spec(&spec)
                    .map_err(|e| anyhow::anyhow!("TRADESPHERE_CHAOS: {e}"))?;
                tracing::warn!(%spec, "chaos mode: actors will panic at random (testing only)");
            }
            let app = Application::build(settings, options).await?;
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let store = Store::connect(&settings.database).await?;
            store.migrate().await?;
            println!("migrations applied ({})", settings.database.redacted_url());
            Ok(())
        }
        Command::Chat { user } => chat(settings, &user).await,
        Command::Send { user, text } => send(settings, &user, &text).await,
        Command::Token { command } => token_command(settings, command).await,
        Command::Handoff { command } => handoff_command(settings, command).await,
        Command::Scam { command } => scam_command(settings, command).await,
        Command::Backup { file } => {
            let bytes = crate::backup::backup(&settings.database, &file).await?;
            println!("backup written to {} ({bytes} bytes)", file.display());
            Ok(())
        }
        Command::Restore { file } => {
            crate::backup::restore(&settings.database, &file).await?;
            println!(
                "restored {} into {}",
                file.display(),
                settings.database.redacted_url()
            );
            Ok(())
        }
    }
}

/// Interactive commands keep the terminal for the conversation: only warnings are logged unless
/// `RUST_LOG` asks for more.
fn init_logging(settings: &Settings, command: &Command) {
    if !matches!(command, Command::Serve) && std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: called before any other thread of ours reads the environment.
        unsafe { std::env::set_var("RUST_LOG", "warn") };
    }
    let format = if matches!(command, Command::Serve) {
        settings.log.format
    } else {
        LogFormat::Text
    };
    telemetry::init_tracing(format);
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect(&settings.database)
        .await
        .with_context(|| format!("connecting to {}", settings.database.redacted_url()))?;
    store.migrate().await?;
    Ok(store)
}

async fn chat(mut settings: Settings, user: &str) -> anyhow::Result<()> {
    let user = UserId::parse(user).map_err(anyhow::Error::msg)?;
    settings.server.listen = "127.0.0.1:0".parse()?;
    let reply_timeout = settings.llm.deadline() + Duration::from_secs(15);
    let app = Application::build(
        settings,
        BuildOptions {
            delivery: Some(Delivery::Console { print: false }),
            side_instance: true,
            ..Default::default()
        },
    )
    .await?;
    let mut replies = app.subscribe_outbound();
    let url = format!("http://{}/api/v1/zalo/webhook", app.address());
    let http = reqwest::Client::new();
    let app_id = app.settings().zalo.app_id.clone();
    let secret = app.settings().zalo.oa_secret_key.clone();

    println!(
        "TradeSphere — trò chuyện thử trong terminal. Gõ /help để xem hướng dẫn, /quit để thoát."
    );
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        print!("Bạn: ");
        std::io::stdout().flush()?;
        let Some(line) = lines.next_line().await? else {
            break;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if matches!(line, "/quit" | "/exit" | "/thoat") {
            break;
        }
        let msg_id = format!("chat-{}", uuid::Uuid::new_v4().simple());
        let now_ms = chrono::Utc::now().timestamp_millis();
        let body =
            zalo::events::user_text_event(&app_id, user.as_str(), "oa", &msg_id, line, now_ms);
        let mut request = http.post(&url).header("content-type", "application/json");
        if let Some(secret) = &secret {
            let mac = zalo::signature::header_value(
                &app_id,
                body.as_bytes(),
                &now_ms.to_string(),
                secret.expose_secret(),
            );
            request = request.header(zalo::signature::HEADER, mac);
        }
        let response = request.body(body).send().await?;
        if !response.status().is_success() {
            println!(
                "(webhook answered {}: {})",
                response.status(),
                response.text().await.unwrap_or_default()
            );
            continue;
        }
        let key = format!("user_send_text:{msg_id}");
        let wait = async {
            loop {
                match replies.recv().await {
                    Ok(event) if event.source_event_key.as_deref() == Some(key.as_str()) => {
                        println!("Bot: {}", event.text);
                        if event.part_index + 1 >= event.part_count {
                            break;
                        }
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        };
        if tokio::time::timeout(reply_timeout, wait).await.is_err() {
            println!("(chưa có trả lời — xem log)");
        }
    }
    app.shutdown().await;
    Ok(())
}

async fn send(settings: Settings, user: &str, text: &str) -> anyhow::Result<()> {
    let user = UserId::parse(user).map_err(anyhow::Error::msg)?;
    let parts = split_message(text, settings.outbound.max_message_chars);
    if parts.is_empty() {
        bail!("the message is empty");
    }
    crate::startup::install_crypto_provider();
    let store = open_store(&settings).await?;
    let token = crate::token::bootstrap(&store, &settings.zalo, chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map(|t| t.access_token);
    let delivery = match (settings.outbound.mode, &token) {
        (OutboundMode::Console, _) | (OutboundMode::Auto, None) => {
            Delivery::Console { print: true }
        }
        _ => Delivery::Zalo,
    };
    let (events, _) = tokio::sync::broadcast::channel(16);
    let sender = PartSender::new(
        store.clone(),
        reqwest::Client::new(),
        &settings,
        delivery,
        events,
        FixedToken(token),
    );
    let queued = store.enqueue_proactive(&user, &parts).await?;
    let mut failed = 0;
    for part in queued {
        let id = part.id;
        match sender.deliver(part).await {
            Some(OutboundState::Sent) => println!("part {id}: sent"),
            other => {
                failed += 1;
                println!("part {id}: {}", other.map_or("not sent", |s| s.as_str()));
            }
        }
    }
    if failed > 0 {
        bail!("{failed} part(s) were not delivered; see the log and the outbound_messages table");
    }
    Ok(())
}

async fn token_command(settings: Settings, command: TokenCommand) -> anyhow::Result<()> {
    use crate::token::{self, RefreshJob, RefreshOutcome};
    crate::startup::install_crypto_provider();
    let store = open_store(&settings).await?;
    let now = chrono::Utc::now();
    match command {
        TokenCommand::Status => {
            let stored = store.load_token().await?;
            print_status(
                &token::status_of(stored.as_ref(), &settings.token),
                stored.is_none() && settings.zalo.access_token.is_some(),
            );
        }
        TokenCommand::Refresh => {
            let stored = token::bootstrap(&store, &settings.zalo, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no token is stored: use `token import` or `token authorize-url`"
                    )
                })?;
            let job = RefreshJob {
                store: store.clone(),
                oauth: token::oauth_client(&reqwest::Client::new(), &settings.zalo),
                clock: crate::clock::system(),
                faults: Default::default(),
                owner: format!("cli@{}", std::process::id()),
                lease: settings.token.lease,
            };
            match job.run(&stored).await {
                RefreshOutcome::Refreshed(token) => {
                    println!("refreshed: version {}", token.version);
                    print_status(&token::status_of(Some(&token), &settings.token), false);
                }
                RefreshOutcome::LostRace => println!(
                    "another process is refreshing right now (or just did); see `token status`"
                ),
                RefreshOutcome::Transient(e) => bail!("temporary failure, try again later: {e}"),
                RefreshOutcome::Rejected(e) => bail!(
                    "{e}. The OA must be re-authorised: run `tradesphere token authorize-url`"
                ),
                RefreshOutcome::NoRefreshToken => {
                    bail!("no refresh token is stored; run `tradesphere token authorize-url`")
                }
                RefreshOutcome::Interrupted(e) => {
                    bail!("the refresh was interrupted before its commit: {e}")
                }
            }
        }
        TokenCommand::Import {
            access_token,
            refresh_token,
            expires_in,
        } => {
            let pair = crate::store::NewTokenPair {
                access_token: secrecy::SecretString::from(access_token),
                refresh_token: Some(secrecy::SecretString::from(refresh_token)),
                access_expires_at: Some(now + chrono::Duration::seconds(expires_in as i64)),
            };
            let stored = store.save_token(&pair, "import", now).await?;
            println!(
                "imported: version {} (a running service picks it up within token.check_interval_ms)",
                stored.version
            );
        }
        TokenCommand::AuthorizeUrl => {
            let auth =
                token::begin_authorization(&store, &settings.zalo, &settings.token, now).await?;
            println!(
                "Open this URL as an OA admin (valid until {}):\n{}",
                auth.expires_at, auth.url
            );
        }
    }
    Ok(())
}

fn print_status(status: &crate::token::TokenStatus, env_pending: bool) {
    if !status.present {
        if env_pending {
            println!(
                "token: none stored; ZALO_ACCESS_TOKEN is set and will be stored when the service starts"
            );
        } else {
            println!(
                "token: none (outbound falls back to the console); run `tradesphere token authorize-url` or `token import`"
            );
        }
        return;
    }
    let now = chrono::Utc::now();
    let left = |at: chrono::DateTime<chrono::Utc>| {
        let d = at - now;
        if d < chrono::Duration::zero() {
            "expired".to_string()
        } else {
            format!("{}h {}m left", d.num_hours(), d.num_minutes() % 60)
        }
    };
    println!(
        "token: present (version {}, source {})",
        status.version,
        status.source.as_deref().unwrap_or("?")
    );
    match status.expires_at {
        Some(at) => println!("access token expires: {at} ({})", left(at)),
        None => println!("access token expires: unknown"),
    }
    match (status.refresh_token_present, status.refresh_expires_at) {
        (true, Some(at)) => println!("refresh token: present, expires {at} ({})", left(at)),
        (true, None) => println!("refresh token: present"),
        (false, _) => println!("refresh token: absent"),
    }
    match (&status.last_refresh_at, &status.last_refresh_result) {
        (Some(at), Some(result)) => println!(
            "last refresh: {at} ({result}{})",
            status
                .last_refresh_error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
        _ => println!("last refresh: never"),
    }
    if let Some(at) = status.last_refresh_success_at {
        println!("last successful refresh: {at}");
    }
    println!(
        "state: {}",
        if status.reauth_required {
            "RE-AUTHORISATION REQUIRED (run `tradesphere token authorize-url`)"
        } else {
            "ok"
        }
    );
}

async fn handoff_command(settings: Settings, command: HandoffCommand) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    match command {
        HandoffCommand::List => {
            let pauses = store.active_pauses(chrono::Utc::now()).await?;
            if pauses.is_empty() {
                println!("no active pauses");
            }
            for (user, until, reason) in pauses {
                println!("{user}\tuntil {until}\t{reason}");
            }
        }
        HandoffCommand::Clear { user } => {
            let user = UserId::parse(user).map_err(anyhow::Error::msg)?;
            if store.clear_pause(&user).await? {
                println!("pause cleared: the bot answers this user again");
            } else {
                println!("this user had no pause");
            }
        }
    }
    Ok(())
}

async fn scam_command(settings: Settings, command: ScamCommand) -> anyhow::Result<()> {
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
            scam_import(settings, &file, format, &defaults).await
        }
        ScamCommand::Check { json, text } => scam_check(settings, &text.join(" "), json).await,
        ScamCommand::Sync => {
            let url = settings.scam.sync_url.clone().context(
                "no list to download: set scam.sync_url (env SCAM_SYNC_URL), e.g. to the chongluadao list",
            )?;
            let store = open_store(&settings).await?;
            let summary = crate::reports::sync_once(&store, &url, &settings.scam).await?;
            println!(
                "synced \"{}\" from {}: {summary}",
                settings.scam.sync_source,
                crate::reports::redacted_url(&url)
            );
            Ok(())
        }
        ScamCommand::Reports { status, limit } => {
            let store = open_store(&settings).await?;
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
    let store = open_store(&settings).await?;
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

async fn scam_import(
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
    let store = open_store(&settings).await?;
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

async fn scam_check(settings: Settings, text: &str, json: bool) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    let mut index = crate::reports::IndexSync::new();
    index.sync(&store).await?;
    let outcome = index.check(text, chrono::Utc::now());
    if json {
        let report = CheckReport::from(&outcome);
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if outcome.findings.is_empty() && outcome.signals.is_empty() {
        println!("{}", templates::NOTHING_FOUND);
    } else {
        println!("{}", templates::scam_reply(&outcome));
    }
    Ok(())
}
