//! What the service left in its database, read with plain SQL on a connection of its own, and the
//! exactly-once check over it: every accepted event handled and answered once, every reply sent once.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

use crate::zalo::ZaloSend;

/// Rows of `sql`, read on a connection of its own: what the ops queries see.
pub async fn sql_rows(database_url: &str, sql: &str) -> Vec<sea_orm::QueryResult> {
    let db = Database::connect(database_url).await.unwrap();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap();
    db.close().await.ok();
    rows
}

/// The inbox and the outbound queue, as the exactly-once check reads them.
#[derive(Debug, Default)]
pub struct Ledger {
    /// event_key → (user, handled, outcome)
    pub inbox: HashMap<String, (String, bool, String)>,
    /// source_event_key → parts (user, state, text)
    pub parts: HashMap<String, Vec<(String, String, String)>>,
}

impl Ledger {
    /// Reads both tables now.
    pub async fn read(database_url: &str) -> Ledger {
        let mut ledger = Ledger::default();
        for row in sql_rows(
            database_url,
            "SELECT event_key, zalo_user_id, outcome, \
             CASE WHEN handled_at IS NULL THEN 0 ELSE 1 END AS handled FROM inbox_events",
        )
        .await
        {
            let key: String = row.try_get("", "event_key").unwrap();
            let user: Option<String> = row.try_get("", "zalo_user_id").unwrap();
            let outcome: Option<String> = row.try_get("", "outcome").unwrap();
            let handled: i32 = row.try_get("", "handled").unwrap();
            ledger.inbox.insert(
                key,
                (
                    user.unwrap_or_default(),
                    handled == 1,
                    outcome.unwrap_or_default(),
                ),
            );
        }
        for row in sql_rows(
            database_url,
            "SELECT source_event_key, zalo_user_id, state, text FROM outbound_messages ORDER BY id",
        )
        .await
        {
            let key: Option<String> = row.try_get("", "source_event_key").unwrap();
            let user: String = row.try_get("", "zalo_user_id").unwrap();
            let state: String = row.try_get("", "state").unwrap();
            let text: String = row.try_get("", "text").unwrap();
            ledger
                .parts
                .entry(key.unwrap_or_default())
                .or_default()
                .push((user, state, text));
        }
        ledger
    }

    /// Events not yet handled plus parts still queued or being sent.
    pub fn pending(&self) -> usize {
        self.inbox
            .values()
            .filter(|(_, handled, _)| !handled)
            .count()
            + self
                .parts
                .values()
                .flatten()
                .filter(|(_, state, _)| state == "queued" || state == "sending")
                .count()
    }

    /// Reply parts per state.
    pub fn states(&self) -> BTreeMap<String, usize> {
        let mut states = BTreeMap::new();
        for (_, state, _) in self.parts.values().flatten() {
            *states.entry(state.clone()).or_default() += 1;
        }
        states
    }
}

/// Waits until nothing is pending (every event handled, no part queued or sending) and returns the ledger.
pub async fn quiet_ledger(database_url: &str, within: Duration) -> Ledger {
    let deadline = Instant::now() + within;
    loop {
        let ledger = Ledger::read(database_url).await;
        if ledger.pending() == 0 {
            return ledger;
        }
        assert!(
            Instant::now() < deadline,
            "still pending after {within:?}: {} (states {:?})",
            ledger.pending(),
            ledger.states()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every accepted event (`(event_key, user)`) was handled and answered exactly once: one reply part per
/// message (none for a message merged into its burst's reply), every part delivered (`sent`) or, when the
/// answer was lost in a crash, `ambiguous` and not resent. Zalo received each sent part exactly once: per (user, text), the requests it saw number at least the parts `sent` and at most
/// those plus the `ambiguous` ones (templated answers repeat, so texts are compared by count). Returns the
/// count of ambiguous parts.
pub fn assert_exactly_once(
    ledger: &Ledger,
    accepted: &[(String, String)],
    sends: &[ZaloSend],
) -> usize {
    let mut received: HashMap<(&str, &str), usize> = HashMap::new();
    for send in sends {
        *received.entry((&send.user, &send.text)).or_default() += 1;
    }
    // (sent, ambiguous) parts per (user, text)
    let mut expected: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
    let mut ambiguous = 0;
    for (event_key, user) in accepted {
        let (stored_user, handled, outcome) = ledger
            .inbox
            .get(event_key)
            .unwrap_or_else(|| panic!("accepted event {event_key} is not in the inbox"));
        assert_eq!(stored_user, user);
        assert!(*handled, "{event_key} never handled");
        assert_ne!(outcome, "dead_letter", "{event_key} dead-lettered");
        let parts = ledger.parts.get(event_key).map_or(&[][..], Vec::as_slice);
        if outcome == "llm_merged" {
            // Answered together with later messages of its burst, by the last one's reply.
            assert!(
                parts.is_empty(),
                "{event_key}: merged, yet has parts {parts:?}"
            );
            continue;
        }
        assert_eq!(
            parts.len(),
            1,
            "{event_key} ({outcome}) must have exactly one reply part: {parts:?}"
        );
        let (part_user, state, text) = &parts[0];
        assert_eq!(part_user, user);
        let slot = expected
            .entry((part_user.as_str(), text.as_str()))
            .or_default();
        match state.as_str() {
            "sent" => slot.0 += 1,
            // Unknown whether Zalo got it (0 or 1 requests): counted, never resent.
            "ambiguous" => {
                slot.1 += 1;
                ambiguous += 1;
            }
            other => panic!("{event_key}: part in state {other}"),
        }
    }
    for (key, (sent, unsure)) in &expected {
        let got = received.get(key).copied().unwrap_or(0);
        assert!(
            got >= *sent && got <= sent + unsure,
            "{key:?}: {sent} sent and {unsure} ambiguous part(s), but Zalo received {got} request(s)"
        );
    }
    let unexpected: Vec<_> = received
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        unexpected.is_empty(),
        "sends no accepted event explains: {unexpected:?}"
    );
    ambiguous
}
