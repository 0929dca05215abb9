//! `tradesphere token`: status, refresh now (under the same lease as a running service), import a pair, and a
//! re-authorisation URL.

use anyhow::bail;

use super::TokenCommand;
use crate::config::Settings;
use crate::token::{
    RefreshJob, RefreshOutcome, TokenStatus, begin_authorization, bootstrap, oauth_client,
    status_of,
};

pub(super) async fn run(settings: Settings, command: TokenCommand) -> anyhow::Result<()> {
    crate::startup::install_crypto_provider();
    let store = super::open_store(&settings).await?;
    let now = chrono::Utc::now();
    match command {
        TokenCommand::Status => {
            let stored = store.load_token().await?;
            print_status(
                &status_of(stored.as_ref(), &settings.token),
                stored.is_none() && settings.zalo.access_token.is_some(),
            );
        }
        TokenCommand::Refresh => {
            let stored = bootstrap(&store, &settings.zalo, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no token is stored: use `token import` or `token authorize-url`"
                    )
                })?;
            let job = RefreshJob {
                store: store.clone(),
                oauth: oauth_client(&reqwest::Client::new(), &settings.zalo),
                clock: crate::clock::system(),
                faults: Default::default(),
                owner: format!("cli@{}", std::process::id()),
                lease: settings.token.lease,
            };
            match job.run(&stored).await {
                RefreshOutcome::Refreshed(fresh) => {
                    println!("refreshed: version {}", fresh.version);
                    print_status(&status_of(Some(&fresh), &settings.token), false);
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
            let auth = begin_authorization(&store, &settings.zalo, &settings.token, now).await?;
            println!(
                "Open this URL as an OA admin (valid until {}):\n{}",
                auth.expires_at, auth.url
            );
        }
    }
    Ok(())
}

fn print_status(status: &TokenStatus, env_pending: bool) {
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
