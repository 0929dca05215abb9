//! Operating commands: `serve`, `migrate`, `backup`, `restore` and `handoff`.

use std::path::Path;

use super::HandoffCommand;
use crate::config::Settings;
use crate::domain::UserId;
use crate::startup::{Application, BuildOptions};
use crate::store::Store;

pub(super) async fn serve(settings: Settings) -> anyhow::Result<()> {
    let mut options = BuildOptions::default();
    // Chaos and soak runs only (docs/reliability.md): random panics inside the actors.
    if let Ok(spec) = std::env::var("TRADESPHERE_CHAOS") {
        options.faults = crate::faults::Faults::from_spec(&spec)
            .map_err(|e| anyhow::anyhow!("TRADESPHERE_CHAOS: {e}"))?;
        tracing::warn!(%spec, "chaos mode: actors will panic at random (testing only)");
    }
    // The cluster tests' mutation check: proves they fail without the fence (never in a deployment).
    if let Ok(spec) = std::env::var("TRADESPHERE_FAULTS") {
        options.cluster_no_fence = spec.split(',').any(|f| f.trim() == "cluster_no_fence");
        if options.cluster_no_fence {
            tracing::warn!("cluster fence removed (testing only)");
        }
    }
    let app = Application::build(settings, options).await?;
    app.run_until_stopped().await
}

pub(super) async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    println!("migrations applied ({})", settings.database.redacted_url());
    Ok(())
}

pub(super) async fn backup(settings: Settings, file: &Path) -> anyhow::Result<()> {
    let bytes = crate::backup::backup(&settings.database, file).await?;
    println!("backup written to {} ({bytes} bytes)", file.display());
    Ok(())
}

pub(super) async fn restore(settings: Settings, file: &Path) -> anyhow::Result<()> {
    crate::backup::restore(&settings.database, file).await?;
    println!(
        "restored {} into {}",
        file.display(),
        settings.database.redacted_url()
    );
    Ok(())
}

pub(super) async fn handoff(settings: Settings, command: HandoffCommand) -> anyhow::Result<()> {
    let store = super::open_store(&settings).await?;
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
