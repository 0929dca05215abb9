//! `tradesphere send`: a proactive message sent now, through the same sender as the service (on the console
//! when no Zalo token is available).

use anyhow::bail;

use crate::config::{OutboundMode, Settings};
use crate::delivery::{Delivery, FixedToken, PartSender};
use crate::domain::{OutboundState, UserId};
use crate::reply::split::split_message;
use crate::token::bootstrap;

pub(super) async fn run(settings: Settings, user: &str, text: &str) -> anyhow::Result<()> {
    let user = UserId::parse(user).map_err(anyhow::Error::msg)?;
    let parts = split_message(text, settings.outbound.max_message_chars);
    if parts.is_empty() {
        bail!("the message is empty");
    }
    crate::startup::install_crypto_provider();
    let store = super::open_store(&settings).await?;
    let token = bootstrap(&store, &settings.zalo, chrono::Utc::now())
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
