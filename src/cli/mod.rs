//! Command line: `serve` (default), `migrate`, `chat`, `send`, `token`, `handoff`, `backup`, `restore` and
//! `scam`. The clap types and the dispatch live here; each command group has a file of its own.

mod chat;
mod ops;
mod scam;
mod send;
mod token;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{LogFormat, Settings};
use crate::store::Store;
use crate::telemetry;

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
        /// Read this image file (a screenshot, a QR photo) the way the bot reads one sent to it, and check
        /// what it holds; any text given is checked with it, as a caption.
        #[arg(long, value_name = "FILE")]
        image: Option<PathBuf>,
        /// Follow short links (and, in a message with scam signs, unknown links) to see where they lead,
        /// as the bot does, through the guarded fetcher (`[links]`, `[net]`); with `links.rdap`, also
        /// date the domains. Without it, the check makes no outside request.
        #[arg(long)]
        expand: bool,
        /// The text to check; several arguments are joined with spaces.
        #[arg(required_unless_present = "image", num_args = 1..)]
        text: Vec<String>,
    },
    /// Sync the enabled scam feeds (`[[scam.feeds]]`, and `scam.sync_url`) once: a conditional download,
    /// the feed's entries replaced by its new snapshot. Exits non-zero when a feed was not synced.
    Sync {
        /// Only this feed (enabled or not).
        #[arg(long, value_name = "NAME")]
        feed: Option<String>,
        /// Download the whole feed again and store it even when it looks wrong (an HTML page, empty, or
        /// dropping more than half of its entries).
        #[arg(long)]
        force: bool,
    },
    /// List the configured scam feeds: enabled, last success, entries, ETag and next run.
    Feeds,
    /// User reports awaiting moderation (or with another status).
    Reports {
        /// pending, verified, rejected or all.
        #[arg(long, default_value = "pending")]
        status: String,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Verify a user report: it is published as a moderated report and counts in verdicts; the reporter
    /// is told.
    Verify {
        id: i64,
        /// Why (kept in the audit log).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Reject a user report (withdrawn from verdicts if it had been verified); the reporter's weight falls
    /// and they are told.
    Reject {
        id: i64,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Appeals by the owners of reported numbers, accounts and sites; `appeals decide` decides one.
    Appeals {
        #[command(subcommand)]
        command: Option<AppealsCommand>,
        /// pending, accepted, rejected or all.
        #[arg(long, default_value = "pending")]
        status: String,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// The moderation audit log (who decided what, when and why), newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppealsCommand {
    /// Accept an appeal (the entity's user reports are rejected) or reject it; the owner is told.
    Decide {
        id: i64,
        #[arg(value_enum)]
        decision: AppealVerdict,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AppealVerdict {
    Accept,
    Reject,
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
        Command::Serve => ops::serve(settings).await,
        Command::Migrate => ops::migrate(settings).await,
        Command::Chat { user } => chat::run(settings, &user).await,
        Command::Send { user, text } => send::run(settings, &user, &text).await,
        Command::Token { command } => token::run(settings, command).await,
        Command::Handoff { command } => ops::handoff(settings, command).await,
        Command::Scam { command } => scam::run(settings, command).await,
        Command::Backup { file } => ops::backup(settings, &file).await,
        Command::Restore { file } => ops::restore(settings, &file).await,
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
