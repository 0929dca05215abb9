//! Where the appeals page gets its rows: the appeals owners of a wrongly reported number filed from the chat
//! (`reports::moderation`), waiting for a moderator.

use chrono::{DateTime, Utc};

use crate::reply::mask_numbers;
use crate::scam::trust::AppealStatus;
use crate::store::StoreError;

use super::super::HttpState;

/// An appeal as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealRow {
    pub id: i64,
    /// The appealed entity, already masked for display.
    pub entity: String,
    /// What the appellant wrote.
    pub statement: String,
    pub created_at: DateTime<Utc>,
}

/// The page's content: the rows, and a note when the list is empty for a reason worth telling.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Appeals {
    pub rows: Vec<AppealRow>,
    pub note: Option<&'static str>,
}

/// The most appeals the page lists, oldest first.
const LISTED: u64 = 200;

/// The appeals waiting for a decision, numbers masked.
pub async fn pending_appeals(state: &HttpState) -> Result<Appeals, StoreError> {
    let appeals = state
        .store
        .appeals(Some(AppealStatus::Pending), LISTED)
        .await?;
    Ok(Appeals {
        rows: appeals
            .into_iter()
            .map(|appeal| AppealRow {
                id: appeal.id,
                entity: format!("{}: {}", appeal.kind, mask_numbers(&appeal.value)),
                statement: appeal.note,
                created_at: appeal.created_at,
            })
            .collect(),
        note: None,
    })
}
