//! PostgreSQL: a batch of completions in one statement.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, Value};

use super::completion::CompletionPlan;
use crate::store::{Completed, Completion, StoreResult};

/// The whole of [`complete`](super::completion::complete) in one statement, on PostgreSQL: its data-modifying CTEs lock and mark the
/// events, insert the chat lines and queue the reply parts, so one round trip to the database's process
/// replaces its five (BEGIN, mark, lines, parts, COMMIT): 12-18 % less service CPU per answered
/// message. It writes only if every event is still unhandled (`go`): then every
/// reply stays where it is, and no orphan moves. Otherwise it writes nothing and answers None, and
/// the transaction sorts them out.
///
/// `open` locks the events by primary key (`FOR UPDATE` waits for a concurrent handler and returns the row
/// it committed, so `handled_at` is current; a filter on `handled_at` there would let a generic plan scan
/// the pending index instead); the sub-statements all see the statement's snapshot, so `newest` is read
/// before the lines. `lines` inserts in `WITH ORDINALITY` order, so ids follow the history's order.
const COMPLETE_AT_ONCE: &str = "\
WITH open AS (
    SELECT id, handled_at FROM inbox_events WHERE id = ANY($1) FOR UPDATE
), go AS (
    SELECT count(*) FILTER (WHERE handled_at IS NULL) = cardinality($1) AS ok FROM open
), marked AS (
    UPDATE inbox_events SET handled_at = $3, outcome = ($2::text[])[array_position($1, inbox_events.id)]
    WHERE inbox_events.id = ANY($1) AND (SELECT ok FROM go)
    RETURNING id, (SELECT MAX(zalo_messages.id) FROM zalo_messages \
        WHERE zalo_messages.zalo_user_id = inbox_events.zalo_user_id) AS newest
), lines AS (
    INSERT INTO zalo_messages (zalo_user_id, message_content, is_from_user, sent_at, message_type, event_key)
    SELECT l.u, l.c, l.f, $3, l.t, l.k
    FROM unnest($4::text[], $5::text[], $6::bool[], $7::text[], $8::text[]) WITH ORDINALITY AS l(u, c, f, t, k, n)
    WHERE (SELECT ok FROM go)
    ORDER BY l.n
    RETURNING id, event_key, is_from_user
), parts AS (
    INSERT INTO outbound_messages
        (zalo_user_id, text, state, source_event_key, part_index, attempts, created_at, updated_at)
    SELECT p.u, p.x, p.s, p.k, p.i, p.a, $3, $3
    FROM unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::int4[], $14::int4[])
        AS p(u, x, s, k, i, a)
    WHERE (SELECT ok FROM go)
    RETURNING id, source_event_key, part_index
)
SELECT 0 AS kind, id, newest, NULL::text AS key, NULL::int4 AS number FROM marked
UNION ALL SELECT 1, id, NULL, event_key, is_from_user::int4 FROM lines
UNION ALL SELECT 2, id, NULL, source_event_key, part_index FROM parts";

/// [`COMPLETE_AT_ONCE`]: the completions, or None when one of their events was handled already (nothing
/// was written).
pub(super) async fn complete_at_once(
    db: &DatabaseConnection,
    completions: &[&Completion],
    groups: &[usize],
    now: DateTime<Utc>,
) -> StoreResult<Option<Vec<Completed>>> {
    let plan = CompletionPlan::new(completions, groups, vec![true; completions.len()]);
    let (lines, parts): (Vec<_>, Vec<_>) = (plan.lines().collect(), plan.parts().collect());
    let text =
        |values: Vec<&str>| Value::from(values.into_iter().map(str::to_string).collect::<Vec<_>>());
    let values = vec![
        Value::from(completions.iter().map(|c| c.inbox_id).collect::<Vec<_>>()),
        text(completions.iter().map(|c| c.outcome.as_str()).collect()),
        Value::from(now),
        text(lines.iter().map(|l| l.completion.user.as_str()).collect()),
        text(lines.iter().map(|l| l.content.as_str()).collect()),
        Value::from(lines.iter().map(|l| l.from_user).collect::<Vec<_>>()),
        text(lines.iter().map(|l| l.message_type).collect()),
        text(
            lines
                .iter()
                .map(|l| l.completion.event_key.as_str())
                .collect(),
        ),
        text(parts.iter().map(|p| p.completion.user.as_str()).collect()),
        text(parts.iter().map(|p| p.text).collect()),
        text(parts.iter().map(|p| p.state().0.as_str()).collect()),
        text(
            parts
                .iter()
                .map(|p| p.completion.event_key.as_str())
                .collect(),
        ),
        Value::from(parts.iter().map(|p| p.index).collect::<Vec<_>>()),
        Value::from(parts.iter().map(|p| p.state().1).collect::<Vec<_>>()),
    ];
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, COMPLETE_AT_ONCE, values);
    let mut newest_before = HashMap::with_capacity(completions.len());
    let mut line_ids = HashMap::with_capacity(lines.len());
    let mut part_ids = HashMap::with_capacity(parts.len());
    for row in db.query_all_raw(statement).await? {
        let id: i64 = row.try_get("", "id")?;
        match row.try_get::<i32>("", "kind")? {
            0 => {
                newest_before.insert(id, row.try_get("", "newest")?);
            }
            1 => {
                let from_user = row.try_get::<i32>("", "number")? != 0;
                line_ids.insert((row.try_get("", "key")?, from_user), id);
            }
            _ => {
                part_ids.insert((row.try_get("", "key")?, row.try_get("", "number")?), id);
            }
        }
    }
    if newest_before.is_empty() {
        return Ok(None);
    }
    if newest_before.len() != completions.len() {
        return Err(DbErr::Custom("a completion marked only some of its events".into()).into());
    }
    plan.completed(&newest_before, &line_ids, &part_ids)
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::super::inbox::tests::stores;
    use super::super::pipeline::tests::{completion, user_inbox_id};
    use super::super::pipeline::{Done, Op, write_together};
    use super::*;
    use crate::domain::{OutboundState, UserId};
    use crate::pipeline::Outcome;

    /// On PostgreSQL a batch of completions is one statement: it writes every group as the transactional path
    /// would (lines in history order, first parts claimed) when all its events are open, and nothing at all
    /// when one was handled already, leaving that batch to the transactional path, which moves the orphaned
    /// reply. Two statements racing for one event: exactly one writes it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_completes_a_batch_in_one_statement_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await.into_iter().filter(|s| !s.sqlite) {
            let db = &store.writer;
            let user = "7000000000000000401";
            let uid = UserId::parse(user).unwrap();
            let earlier = user_inbox_id(&store, "o-earlier", &uid).await;
            store
                .complete_event(completion(earlier, "o-earlier", user))
                .await
                .unwrap()
                .unwrap();
            let before = store.recent_history(&uid, 1).await.unwrap().newest;
            let a = user_inbox_id(&store, "o-a", &uid).await;
            let b = user_inbox_id(&store, "o-b", &uid).await;
            let other = UserId::parse("7000000000000000402").unwrap();
            let c = user_inbox_id(&store, "o-c", &other).await;
            let mut first = completion(a, "o-a", user);
            first.reply_parts = vec!["a0".into(), "a1".into()];
            let mut second = completion(b, "o-b", user);
            second.user_message = None;
            second.outcome = Outcome::Ignored;
            second.reply_parts.clear();
            let third = completion(c, "o-c", other.as_str());
            let all = [&first, &second, &third];
            let done = complete_at_once(db, &all, &[2, 1], Utc::now())
                .await
                .unwrap()
                .expect("every event open: written");
            assert_eq!(done.len(), 2);
            let mine = done[0].history.as_ref().unwrap();
            assert_eq!(mine.newest_before, before);
            assert_eq!(
                mine.turns
                    .iter()
                    .map(|t| (t.from_user, t.content.as_str()))
                    .collect::<Vec<_>>(),
                [(true, "question o-a"), (false, "a0\na1")]
            );
            let history = store.recent_history(&uid, 10).await.unwrap();
            assert_eq!(history.newest, mine.newest_after);
            assert_eq!(
                store
                    .messages_for(&uid)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| m.content)
                    .collect::<Vec<_>>(),
                [
                    "question o-earlier",
                    "answer o-earlier",
                    "question o-a",
                    "a0\na1"
                ]
            );
            let parts = done[0].parts[0].as_ref().unwrap();
            assert_eq!(
                parts
                    .iter()
                    .map(|p| (p.text.as_str(), p.part_index, p.part_count))
                    .collect::<Vec<_>>(),
                [("a0", 0, 2), ("a1", 1, 2)]
            );
            assert_eq!(
                done[0].parts[1].as_deref(),
                Some(&[][..]),
                "handled, no reply"
            );
            let outbound = store.outbound_for(&uid).await.unwrap();
            let state = |text: &str| {
                let row = outbound.iter().find(|r| r.text == text).unwrap();
                (row.id, row.state, row.attempts)
            };
            assert_eq!(state("a0"), (parts[0].id, OutboundState::Sending, 1));
            assert_eq!(state("a1"), (parts[1].id, OutboundState::Queued, 0));
            assert_eq!(done[1].history.as_ref().unwrap().newest_before, None);
            assert_eq!(store.pending_event_count().await.unwrap(), 0);

            // One event of the batch handled already: nothing written, then the transactional path.
            let d = user_inbox_id(&store, "o-d", &uid).await;
            let e = user_inbox_id(&store, "o-e", &uid).await;
            assert!(store.finish_event(d, Outcome::Ignored).await.unwrap());
            let mut skipped = completion(d, "o-d", user);
            skipped.reply_parts = vec!["moved".into()];
            let mut last = completion(e, "o-e", user);
            last.reply_parts.clear();
            let lines_before = store.messages_for(&uid).await.unwrap().len();
            let group = [&skipped, &last];
            let nothing = complete_at_once(db, &group, &[2], Utc::now())
                .await
                .unwrap();
            assert!(nothing.is_none());
            assert_eq!(store.messages_for(&uid).await.unwrap().len(), lines_before);
            assert_eq!(
                store.pending_event_count().await.unwrap(),
                1,
                "o-e still open"
            );
            let answers = write_together(db, false, vec![Op::Complete(vec![skipped, last])])
                .await
                .unwrap();
            let Done::Completed(done) = &answers[0] else {
                panic!("a completion")
            };
            assert!(done.parts[0].is_none());
            assert_eq!(done.parts[1].as_ref().unwrap()[0].text, "moved");
            assert_eq!(store.pending_event_count().await.unwrap(), 0);

            // Racing statements for one event.
            for round in 0..10 {
                let key = format!("o-race-{round}");
                let id = user_inbox_id(&store, &key, &uid).await;
                let racers: Vec<_> = (0..4)
                    .map(|n| {
                        let db = db.clone();
                        let mut racer = completion(id, &key, user);
                        racer.reply_parts = vec![format!("racer {n}")];
                        tokio::spawn(async move {
                            complete_at_once(&db, &[&racer], &[1], Utc::now()).await
                        })
                    })
                    .collect();
                let mut written = 0;
                for racer in racers {
                    if racer.await.unwrap().unwrap().is_some() {
                        written += 1;
                    }
                }
                assert_eq!(written, 1, "round {round}");
                let racers_written = store
                    .outbound_for(&uid)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|r| r.text.starts_with("racer "))
                    .count();
                assert_eq!(racers_written, round + 1, "one reply per round");
            }
        }
    }
}
