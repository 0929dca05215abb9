//! Completing events: the handled marks, the chat lines and the queued reply parts of a batch's
//! completions, written together, and the pure plan of what they write.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IdenStatic, QueryFilter, QueryTrait, Set, TryGetable,
};

use super::fence::Fenced;
use super::ops::newest_message_of_event_user;
use crate::domain::{HistoryTurn, OutboundState};
use crate::pipeline::Outcome;
use crate::store::entities::{inbox_events, outbound_messages, zalo_messages};
use crate::store::{Completed, Completion, HistoryWrite, QueuedOutbound, StoreResult};

/// Completes events (see [`Store::complete_events`](crate::store::Store::complete_events)), the batch's groups together: one statement per
/// outcome marks them handled, one inserts every chat line, one queues every reply part. `groups`: the
/// lengths of the conversations' groups, in order; one [`Completed`] per group.
pub(super) async fn complete<C: ConnectionTrait>(
    conn: &C,
    completions: &[&Completion],
    groups: &[usize],
    now: DateTime<Utc>,
    fenced: &Fenced,
) -> StoreResult<Vec<Completed>> {
    // Mark first: only then is it known which events are still ours.
    let mut by_outcome: Vec<(Outcome, Vec<i64>)> = Vec::new();
    for c in completions {
        match by_outcome
            .iter_mut()
            .find(|(outcome, _)| *outcome == c.outcome)
        {
            Some((_, ids)) => ids.push(c.inbox_id),
            None => by_outcome.push((c.outcome, vec![c.inbox_id])),
        }
    }
    // Marked event → its user's newest chat line before this batch's lines.
    let mut newest_before: HashMap<i64, Option<i64>> = HashMap::with_capacity(completions.len());
    for (outcome, ids) in by_outcome {
        let mut update = inbox_events::Entity::update_many()
            .col_expr(inbox_events::Column::HandledAt, Expr::value(now))
            .col_expr(inbox_events::Column::Outcome, Expr::value(outcome.as_str()))
            .filter(inbox_events::Column::Id.is_in(ids))
            .filter(inbox_events::Column::HandledAt.is_null())
            .into_query();
        update.returning(Query::returning().exprs([
            Expr::col(inbox_events::Column::Id),
            newest_message_of_event_user(),
        ]));
        for row in conn.query_all(&update).await? {
            newest_before.insert(row.try_get("", "id")?, row.try_get("", "newest_message")?);
        }
    }
    let marked = completions
        .iter()
        .map(|c| newest_before.contains_key(&c.inbox_id))
        .collect();
    let plan = CompletionPlan::new(completions, groups, marked);

    // Lines by (event key, from the user), parts by (event key, part): unique in a batch, whose events are
    // distinct. The lines' ids follow their order here, which is the history's order.
    let lines = plan.lines().map(|line| line.row(now)).collect();
    let line_ids: HashMap<(String, bool), i64> = insert_returning_ids(
        conn,
        lines,
        zalo_messages::Column::Id,
        [
            zalo_messages::Column::EventKey,
            zalo_messages::Column::IsFromUser,
        ],
    )
    .await?;
    let parts = plan.parts().map(|part| part.row(now, fenced)).collect();
    let part_ids: HashMap<(String, i32), i64> = insert_returning_ids(
        conn,
        parts,
        outbound_messages::Column::Id,
        [
            outbound_messages::Column::SourceEventKey,
            outbound_messages::Column::PartIndex,
        ],
    )
    .await?;
    plan.completed(&newest_before, &line_ids, &part_ids)
}

/// A chat line a completion writes.
struct LineRow<'a> {
    completion: &'a Completion,
    content: String,
    from_user: bool,
    message_type: &'a str,
}

impl LineRow<'_> {
    fn row(&self, at: DateTime<Utc>) -> zalo_messages::ActiveModel {
        zalo_messages::ActiveModel {
            id: NotSet,
            zalo_user_id: Set(self.completion.user.as_str().to_string()),
            message_content: Set(self.content.clone()),
            is_from_user: Set(self.from_user),
            sent_at: Set(at),
            message_type: Set(self.message_type.to_string()),
            event_key: Set(Some(self.completion.event_key.clone())),
        }
    }
}

/// A reply part a completion queues.
struct PartRow<'a> {
    completion: &'a Completion,
    text: &'a str,
    index: i32,
}

impl PartRow<'_> {
    /// The first part goes straight to the outbound actor, so it is stored claimed (`pre_claims`); the rest
    /// wait for it and are claimed as their turn comes. The state, and the attempts that implies.
    fn state(&self) -> (OutboundState, i32) {
        if self.index == 0 {
            (OutboundState::Sending, 1)
        } else {
            (OutboundState::Queued, 0)
        }
    }

    fn row(&self, at: DateTime<Utc>, fenced: &Fenced) -> outbound_messages::ActiveModel {
        let (state, attempts) = self.state();
        let partition = fenced.partition_of(self.completion);
        // A part stored claimed is claimed under the epoch this batch holds its partition at.
        let claim_epoch = match state {
            OutboundState::Sending => fenced.epoch(partition),
            _ => None,
        };
        outbound_messages::ActiveModel {
            id: NotSet,
            zalo_user_id: Set(self.completion.user.as_str().to_string()),
            text: Set(self.text.to_string()),
            state: Set(state.as_str().to_string()),
            source_event_key: Set(Some(self.completion.event_key.clone())),
            part_index: Set(self.index),
            attempts: Set(attempts),
            zalo_message_id: Set(None),
            error_code: Set(None),
            error_message: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
            campaign_id: Set(None),
            image_url: Set(None),
            partition: Set(Some(partition.as_i16())),
            claim_epoch: Set(claim_epoch),
        }
    }
}

/// What a batch of completions writes, once it is known which of their events are still unhandled
/// (`marked`, per completion). Pure.
struct CompletionPlan<'a> {
    completions: &'a [&'a Completion],
    groups: &'a [usize],
    marked: Vec<bool>,
    /// Per completion, the reply it writes.
    replies: Vec<Vec<String>>,
}

impl<'a> CompletionPlan<'a> {
    /// The plan for `completions` (`groups`: the lengths of the conversations' groups, in order), of which
    /// this batch marked those in `marked`; their replies as [`move_orphaned_replies`] leaves them.
    fn new(completions: &'a [&'a Completion], groups: &'a [usize], marked: Vec<bool>) -> Self {
        let replies = move_orphaned_replies(
            completions.iter().map(|c| c.reply_parts.clone()).collect(),
            groups,
            &marked,
        );
        Self {
            completions,
            groups,
            marked,
            replies,
        }
    }

    /// The marked completions, with their replies.
    fn written(&self) -> impl Iterator<Item = (&'a Completion, &[String])> + '_ {
        self.completions
            .iter()
            .zip(&self.replies)
            .zip(&self.marked)
            .filter(|(_, marked)| **marked)
            .map(|((c, reply), _)| (*c, reply.as_slice()))
    }

    /// The chat lines, in the history's order: each user line, then its answer.
    fn lines(&self) -> impl Iterator<Item = LineRow<'a>> + '_ {
        self.written().flat_map(|(c, reply)| {
            let asked = c.user_message.as_ref().map(|line| LineRow {
                completion: c,
                content: line.content.clone(),
                from_user: true,
                message_type: &line.message_type,
            });
            let answered = (!reply.is_empty()).then(|| LineRow {
                completion: c,
                content: reply.join("\n"),
                from_user: false,
                message_type: "text",
            });
            asked.into_iter().chain(answered)
        })
    }

    /// The reply parts to queue.
    fn parts(&self) -> impl Iterator<Item = PartRow<'_>> + '_ {
        self.written().flat_map(|(c, reply)| {
            reply.iter().enumerate().map(move |(index, text)| PartRow {
                completion: c,
                text,
                index: index as i32,
            })
        })
    }

    /// One [`Completed`] per group, from the ids the writes returned: `newest_before`, per marked event, its
    /// user's newest chat line before this batch's lines.
    fn completed(
        self,
        newest_before: &HashMap<i64, Option<i64>>,
        line_ids: &HashMap<(String, bool), i64>,
        part_ids: &HashMap<(String, i32), i64>,
    ) -> StoreResult<Vec<Completed>> {
        let mut results = Vec::with_capacity(self.groups.len());
        let mut rest = self.completions.iter().zip(self.replies).zip(self.marked);
        for &len in self.groups {
            let mut parts = Vec::with_capacity(len);
            let mut history: Option<HistoryWrite> = None;
            for ((c, reply), marked) in rest.by_ref().take(len) {
                if !marked {
                    parts.push(None);
                    continue;
                }
                let written = history.get_or_insert_with(|| HistoryWrite {
                    newest_before: newest_before.get(&c.inbox_id).copied().flatten(),
                    turns: Vec::new(),
                    newest_after: None,
                });
                let mut line = |from_user: bool, content: String| -> StoreResult<()> {
                    let id = line_ids
                        .get(&(c.event_key.clone(), from_user))
                        .copied()
                        .ok_or_else(|| DbErr::Custom("a chat line was not returned".into()))?;
                    written.newest_after = Ord::max(written.newest_after, Some(id));
                    written.turns.push(HistoryTurn { from_user, content });
                    Ok(())
                };
                if let Some(user_line) = &c.user_message {
                    line(true, user_line.content.clone())?;
                }
                if !reply.is_empty() {
                    line(false, reply.join("\n"))?;
                }
                let count = reply.len() as i32;
                let queued = reply
                    .into_iter()
                    .enumerate()
                    .map(|(index, text)| {
                        let part_index = index as i32;
                        let id = part_ids
                            .get(&(c.event_key.clone(), part_index))
                            .copied()
                            .ok_or_else(|| {
                                DbErr::Custom("a queued part was not returned".into())
                            })?;
                        Ok(QueuedOutbound {
                            id,
                            user: c.user.clone(),
                            text,
                            source_event_key: Some(c.event_key.clone()),
                            part_index,
                            part_count: count,
                            campaign_id: None,
                            image_url: None,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                parts.push(Some(queued));
            }
            results.push(Completed { parts, history });
        }
        Ok(results)
    }
}

/// Who answers a burst. Within one conversation's group (`groups`: the lengths of the groups, in order), a
/// reply meant for an event someone else already handled (not `marked` by this batch) moves to the group's
/// last marked event, if that one has no reply of its own, so no burst is left unanswered. Per completion,
/// the reply it writes; an unmarked completion writes nothing, whatever is left with it.
fn move_orphaned_replies(
    mut replies: Vec<Vec<String>>,
    groups: &[usize],
    marked: &[bool],
) -> Vec<Vec<String>> {
    let mut start = 0;
    for len in groups {
        let end = start + len;
        if let Some(last_marked) = (start..end).rposition(|i| marked[i]) {
            let last_marked = start + last_marked;
            let orphaned: Vec<String> = (start..end)
                .filter(|&i| !marked[i])
                .flat_map(|i| std::mem::take(&mut replies[i]))
                .collect();
            if replies[last_marked].is_empty() {
                replies[last_marked] = orphaned;
            }
        }
        start = end;
    }
    replies
}

/// Inserts `rows` in one statement and maps each row's two `keys` columns to its `id`. RETURNING order is not
/// promised on SQLite, so rows are matched by key, never by position.
async fn insert_returning_ids<C, A, K1, K2>(
    conn: &C,
    rows: Vec<A>,
    id: <A::Entity as EntityTrait>::Column,
    keys: [<A::Entity as EntityTrait>::Column; 2],
) -> StoreResult<HashMap<(K1, K2), i64>>
where
    C: ConnectionTrait,
    A: ActiveModelTrait,
    K1: TryGetable + Eq + std::hash::Hash,
    K2: TryGetable + Eq + std::hash::Hash,
{
    let mut ids = HashMap::with_capacity(rows.len());
    if rows.is_empty() {
        return Ok(ids);
    }
    let mut insert = A::Entity::insert_many(rows).into_query();
    insert.returning(Query::returning().columns([id, keys[0], keys[1]]));
    for row in conn.query_all(&insert).await? {
        ids.insert(
            (
                row.try_get("", keys[0].as_str())?,
                row.try_get("", keys[1].as_str())?,
            ),
            row.try_get("", id.as_str())?,
        );
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replies(texts: &[&[&str]]) -> Vec<Vec<String>> {
        texts
            .iter()
            .map(|reply| reply.iter().map(|t| t.to_string()).collect())
            .collect()
    }

    #[test]
    fn every_event_marked_keeps_its_own_reply() {
        let before = replies(&[&["a"], &[], &["c1", "c2"]]);
        assert_eq!(
            move_orphaned_replies(before.clone(), &[3], &[true, true, true]),
            before
        );
    }

    #[test]
    fn replies_of_events_handled_elsewhere_move_in_order_to_the_last_marked_event() {
        let moved = move_orphaned_replies(
            replies(&[&["a"], &[], &["b1", "b2"], &[], &["d"]]),
            &[5],
            &[false, true, false, true, false],
        );
        assert_eq!(
            moved,
            replies(&[&[], &[], &[], &["a", "b1", "b2", "d"], &[]])
        );
    }

    #[test]
    fn a_last_marked_event_with_its_own_reply_keeps_it_and_the_orphans_are_dropped() {
        let moved = move_orphaned_replies(replies(&[&["orphan"], &["own"]]), &[2], &[false, true]);
        assert_eq!(moved, replies(&[&[], &["own"]]));
    }

    #[test]
    fn a_group_with_no_marked_event_is_left_as_it_is() {
        let before = replies(&[&["a"], &["b"]]);
        assert_eq!(
            move_orphaned_replies(before.clone(), &[2], &[false, false]),
            before
        );
    }

    #[test]
    fn a_reply_never_moves_to_another_conversations_group() {
        let moved = move_orphaned_replies(
            replies(&[&["first group"], &[], &["second group"]]),
            &[1, 2],
            &[false, true, true],
        );
        assert_eq!(moved, replies(&[&["first group"], &[], &["second group"]]));
    }
}
