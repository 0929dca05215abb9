//! Where the appeals page gets its rows. Owners of a wrongly reported number appeal from the chat; until a
//! service stores them, there are none, and the page says so. Rewire [`pending_appeals`] to that service.

use chrono::{DateTime, Utc};

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

/// The appeals waiting for a decision.
pub async fn pending_appeals(state: &HttpState) -> Result<Appeals, StoreError> {
    let _ = state;
    Ok(Appeals {
        rows: Vec::new(),
        note: Some(
            "Chưa có kháng nghị nào được lưu: bản này chưa ghi nhận kháng nghị từ người dùng.",
        ),
    })
}
