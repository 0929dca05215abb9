//! Campaigns: scam alerts an admin sends to the users who follow the OA.
//!
//! An admin creates one ([`create`]: `POST /api/v1/campaigns`, or the console). Its audience is decided at
//! once ([`audience`]): every known user gets a recipient row, targeted or skipped and why. The campaigns
//! actor then feeds the targeted ones to the sender a batch at a time ([`feed`]), never between 22:00 and
//! 06:00 Vietnam time (`domain::time::is_quiet_hour`), re-deciding each just before its message is queued. Each recipient gets
//! exactly one outbound part, created with its recipient's `pending → queued` claim in one transaction; the
//! part is claimed and sent like a reply, under the same rate limit, and the sender also holds a campaign
//! part back at night. [`stats`] counts what became of them. Users opt out and back in by chat
//! ([`subscription`]).
//!
//! Pure: `audience`, `subscription`, [`validate`]. The rest is thin IO over the store.

pub mod audience;
pub mod subscription;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::campaign::{CampaignSend, SkipReason};
use crate::domain::time::{is_quiet_hour, quiet_hours_end};
use crate::domain::{OutboundState, nfc};
use crate::reply::templates::CAMPAIGN_FOOTER;
use crate::store::{Campaign, QueuedOutbound, Store, StoreError, UserStanding};
use crate::telemetry;

pub use subscription::{Subscription, subscription_command};

/// Longest image URL accepted.
const MAX_IMAGE_URL: usize = 2000;

/// A campaign as an admin writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub text: String,
    /// An https image sent with the text as its caption.
    pub image_url: Option<String>,
}

/// Why a campaign cannot be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the text is empty")]
    EmptyText,
    #[error("the text has {chars} characters; at most {max} fit in one message")]
    TextTooLong { chars: usize, max: usize },
    #[error("the image URL must be an https URL of at most {MAX_IMAGE_URL} characters")]
    BadImageUrl,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CreateError {
    /// A short code for an API answer.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyText => "empty_text",
            Self::TextTooLong { .. } => "text_too_long",
            Self::BadImageUrl => "bad_image_url",
            Self::Store(_) => "unavailable",
        }
    }
}

/// A campaign just created: its id and who it will reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub id: i64,
    pub targeted: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
}

/// What became of a campaign's recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignStats {
    pub campaign: Campaign,
    pub targeted: u64,
    /// Targeted and not sent yet: waiting for the morning or for their turn, or with the sender.
    pub waiting: u64,
    pub sent: u64,
    /// Refused by Zalo (or not sendable), by Zalo's error code (None: no code, e.g. no access token).
    pub failed: BTreeMap<Option<i64>, u64>,
    /// Sent, but no answer came back: never resent.
    pub ambiguous: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    /// When waiting messages may go: now, or 06:00 Vietnam time during the night. None when finished.
    pub next_send_at: Option<DateTime<Utc>>,
}

/// The message a recipient gets: the admin's text (NFC), then how to stop such messages.
#[must_use]
pub fn message_text(text: &str) -> String {
    format!("{}{CAMPAIGN_FOOTER}", nfc(text.trim()))
}

/// Checks a new campaign: a text that fits one message with its footer, and an https image URL if any.
pub fn validate(campaign: &NewCampaign, max_message_chars: usize) -> Result<(), CreateError> {
    if campaign.text.trim().is_empty() {
        return Err(CreateError::EmptyText);
    }
    let max = max_message_chars.saturating_sub(CAMPAIGN_FOOTER.chars().count());
    let chars = nfc(campaign.text.trim()).chars().count();
    if chars > max {
        return Err(CreateError::TextTooLong { chars, max });
    }
    if let Some(url) = &campaign.image_url {
        let parsed = url::Url::parse(url).map_err(|_| CreateError::BadImageUrl)?;
        if parsed.scheme() != "https" || parsed.host_str().is_none() || url.len() > MAX_IMAGE_URL {
            return Err(CreateError::BadImageUrl);
        }
    }
    Ok(())
}

fn window(settings: &Settings) -> chrono::Duration {
    chrono::Duration::from_std(settings.campaigns.window).unwrap_or(chrono::Duration::days(7))
}

fn standing(s: &UserStanding) -> audience::Standing {
    audience::Standing {
        last_interaction: s.last_interaction,
        opted_out: s.opted_out,
        unfollowed: s.unfollowed,
    }
}

fn count_skip(reason: SkipReason) {
    metrics::counter!(telemetry::CAMPAIGN_SENDS, "result" => CampaignSend::Skipped(reason).as_str())
        .increment(1);
}

/// Creates a campaign and decides its audience as of `now`. The campaigns actor sends it from its next
/// look at the queue (`http` nudges it at once).
pub async fn create(
    store: &Store,
    settings: &Settings,
    campaign: NewCampaign,
    now: DateTime<Utc>,
) -> Result<Created, CreateError> {
    validate(&campaign, settings.outbound.max_message_chars)?;
    let window = window(settings);
    let recipients: Vec<_> = store
        .user_standings()
        .await?
        .into_iter()
        .map(|s| {
            let skip = audience::skip_reason(&standing(&s), now, window);
            (s.user, skip)
        })
        .collect();
    let id = store
        .create_campaign(
            campaign.text.trim(),
            campaign.image_url.as_deref(),
            &recipients,
            now,
        )
        .await?;
    let mut created = Created {
        id,
        targeted: 0,
        skipped: BTreeMap::new(),
    };
    for (_, skip) in &recipients {
        match skip {
            None => created.targeted += 1,
            Some(reason) => {
                count_skip(*reason);
                *created.skipped.entry(*reason).or_default() += 1;
            }
        }
    }
    tracing::info!(
        campaign = id,
        targeted = created.targeted,
        skipped = recipients.len() as u64 - created.targeted,
        "campaign created"
    );
    Ok(created)
}

/// A campaign's counts, or None when there is no such campaign.
pub async fn stats(
    store: &Store,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<CampaignStats>, StoreError> {
    let Some(campaign) = store.campaign(id).await? else {
        return Ok(None);
    };
    let counts = store.campaign_counts(id).await?;
    let mut stats = CampaignStats {
        next_send_at: campaign.finished_at.is_none().then(|| quiet_hours_end(now)),
        campaign,
        targeted: counts.targeted,
        waiting: counts.pending,
        sent: 0,
        failed: BTreeMap::new(),
        ambiguous: 0,
        skipped: counts.skipped.into_iter().collect(),
    };
    for (state, code, n) in counts.parts {
        match state {
            OutboundState::Sent => stats.sent += n,
            OutboundState::Failed => *stats.failed.entry(code).or_default() += n,
            OutboundState::Ambiguous => stats.ambiguous += n,
            OutboundState::Queued | OutboundState::Sending => stats.waiting += n,
        }
    }
    Ok(Some(stats))
}

/// The newest `limit` campaigns with their counts, newest first (for the console's list).
pub async fn recent(
    store: &Store,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<CampaignStats>, StoreError> {
    let mut list = Vec::new();
    for campaign in store.recent_campaigns(limit).await? {
        if let Some(stats) = stats(store, campaign.id, now).await? {
            list.push(stats);
        }
    }
    Ok(list)
}

/// Hands the next recipients to the sender, unless it is night: as many as keep `campaigns.batch` parts in
/// flight, oldest campaign first, each re-decided as of `now` (a skipped one is recorded as such). Closes a
/// campaign with nothing left to send. The parts created, to be dispatched.
pub async fn feed(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<QueuedOutbound>, StoreError> {
    if is_quiet_hour(now) {
        return Ok(Vec::new());
    }
    let window = window(settings);
    let mut room = settings
        .campaigns
        .batch
        .saturating_sub(store.campaign_parts_in_flight().await?);
    let mut parts = Vec::new();
    for campaign in store.open_campaigns().await? {
        if room == 0 {
            break;
        }
        let pending = store.pending_recipients(campaign.id, room).await?;
        if pending.is_empty() {
            if store
                .campaign_counts(campaign.id)
                .await?
                .parts
                .iter()
                .all(|(state, _, _)| {
                    !matches!(state, OutboundState::Queued | OutboundState::Sending)
                })
            {
                store.finish_campaign(campaign.id, now).await?;
                tracing::info!(campaign = campaign.id, "campaign finished");
            }
            continue;
        }
        let settled: Vec<_> = pending
            .iter()
            .map(|p| {
                // A user whose row is gone has no known interaction: outside the window.
                let skip = p
                    .standing
                    .as_ref()
                    .map_or(Some(SkipReason::OutsideWindow), |s| {
                        audience::skip_reason(&standing(s), now, window)
                    });
                (p.id, p.user.clone(), skip)
            })
            .collect();
        let text = message_text(&campaign.text);
        let queued = store
            .settle_recipients(&campaign, &text, &settled, now)
            .await?;
        for reason in settled.iter().filter_map(|(_, _, skip)| *skip) {
            count_skip(reason);
        }
        room = room.saturating_sub(queued.len() as u64);
        parts.extend(queued);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(text: &str, image_url: Option<&str>) -> NewCampaign {
        NewCampaign {
            text: text.to_string(),
            image_url: image_url.map(str::to_string),
        }
    }

    #[test]
    fn a_campaign_needs_a_text_that_fits_one_message_with_its_footer() {
        assert!(matches!(
            validate(&campaign("  \n ", None), 2000),
            Err(CreateError::EmptyText)
        ));
        let footer = CAMPAIGN_FOOTER.chars().count();
        let fits = "à".repeat(2000 - footer);
        assert!(validate(&campaign(&fits, None), 2000).is_ok());
        let over = format!("{fits}a");
        assert!(matches!(
            validate(&campaign(&over, None), 2000),
            Err(CreateError::TextTooLong { max, .. }) if max == 2000 - footer
        ));
        assert!(message_text(&fits).chars().count() <= 2000);
    }

    #[test]
    fn an_image_must_be_an_https_url() {
        let text = "Cảnh báo: giả danh công an gọi điện.";
        assert!(validate(&campaign(text, Some("https://cdn.example.vn/a.jpg")), 2000).is_ok());
        for bad in [
            "http://cdn.example.vn/a.jpg",
            "cdn.example.vn/a.jpg",
            "javascript:alert(1)",
            "",
        ] {
            assert!(
                matches!(
                    validate(&campaign(text, Some(bad)), 2000),
                    Err(CreateError::BadImageUrl)
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_message_is_the_text_then_how_to_stop() {
        let text = message_text("  Cảnh báo lừa đảo mới  ");
        assert!(text.starts_with("Cảnh báo lừa đảo mới\n\n"));
        assert!(text.ends_with(CAMPAIGN_FOOTER));
        assert!(text.contains("dừng nhận tin"));
    }
}
