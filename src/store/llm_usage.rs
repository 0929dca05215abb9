//! LLM usage per user and day, for cost control.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::entities::llm_usage;
use super::{LlmUsageRow, Store, StoreResult};
use crate::domain::UserId;

impl Store {
    /// Adds usage to each (day, user) row in one transaction: the LLM actor saves what it counted in
    /// memory about once a second, not one write per completion (a write awaited per completion made the
    /// actor, and with it every model call, wait on the database).
    ///
    /// One multi-row upsert per chunk of rows, not one statement per row: with a thousand users a second a
    /// statement each was a thousand round trips per save. Rows for the same (day, user) are merged first,
    /// since PostgreSQL refuses a statement that updates one row twice, and sorted, so two saves that
    /// overlap lock the rows they share in the same order.
    pub async fn record_llm_usage(
        &self,
        rows: &[(NaiveDate, UserId, LlmUsageRow)],
    ) -> StoreResult<()> {
        // 500 rows of 5 values: 2,500 bound parameters a statement, far below SQLite's (32,766) and
        // PostgreSQL's (65,535) limits.
        const ROWS_PER_STATEMENT: usize = 500;
        let mut merged: std::collections::BTreeMap<(NaiveDate, &str), LlmUsageRow> =
            std::collections::BTreeMap::new();
        for (day, user, usage) in rows {
            let total = merged.entry((*day, user.as_str())).or_default();
            total.requests = total.requests.saturating_add(usage.requests);
            total.prompt_tokens = total.prompt_tokens.saturating_add(usage.prompt_tokens);
            total.completion_tokens = total
                .completion_tokens
                .saturating_add(usage.completion_tokens);
        }
        if merged.is_empty() {
            return Ok(());
        }
        let merged: Vec<_> = merged.into_iter().collect();
        let txn = self.begin_write().await?;
        for chunk in merged.chunks(ROWS_PER_STATEMENT) {
            let models = chunk
                .iter()
                .map(|((day, user), usage)| llm_usage::ActiveModel {
                    day: Set(day.to_string()),
                    zalo_user_id: Set(user.to_string()),
                    requests: Set(i64::try_from(usage.requests).unwrap_or(i64::MAX)),
                    prompt_tokens: Set(i64::try_from(usage.prompt_tokens).unwrap_or(i64::MAX)),
                    completion_tokens: Set(
                        i64::try_from(usage.completion_tokens).unwrap_or(i64::MAX)
                    ),
                });
            llm_usage::Entity::insert_many(models)
                .on_conflict(Self::add_usage_on_conflict())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// `ON CONFLICT (day, zalo_user_id) DO UPDATE SET n = "llm_usage".n + "excluded".n` for each counter:
    /// adds the inserted row's counts to the stored row's. Both sides are qualified, which SQLite and
    /// PostgreSQL both accept (PostgreSQL rejects a bare `n` on the right as ambiguous).
    fn add_usage_on_conflict() -> OnConflict {
        let excluded = sea_orm::sea_query::Alias::new("excluded");
        let mut on_conflict =
            OnConflict::columns([llm_usage::Column::Day, llm_usage::Column::ZaloUserId]);
        for column in [
            llm_usage::Column::Requests,
            llm_usage::Column::PromptTokens,
            llm_usage::Column::CompletionTokens,
        ] {
            on_conflict.value(
                column,
                Expr::col((llm_usage::Entity, column)).add(Expr::col((excluded.clone(), column))),
            );
        }
        on_conflict
    }

    /// Tokens used on `day` by all users together (prompt + completion): what the LLM actor needs at start.
    /// One aggregate row however many users wrote that day (loading every user's row took 300 ms and 80 MB
    /// of resident memory with 100,000 users).
    pub async fn llm_tokens_for_day(&self, day: NaiveDate) -> StoreResult<u64> {
        let total: Option<Option<i64>> = llm_usage::Entity::find()
            .select_only()
            // The cast: PostgreSQL sums BIGINTs as NUMERIC.
            .column_as(
                Expr::cust("CAST(SUM(prompt_tokens + completion_tokens) AS BIGINT)"),
                "total",
            )
            .filter(llm_usage::Column::Day.eq(day.to_string()))
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(u64::try_from(total.flatten().unwrap_or(0)).unwrap_or(0))
    }

    /// Tokens one user used on `day` (prompt + completion); 0 when there is no row.
    pub async fn llm_tokens_of(&self, user: &str, day: NaiveDate) -> StoreResult<u64> {
        let row = llm_usage::Entity::find_by_id((day.to_string(), user.to_string()))
            .one(&self.db)
            .await?;
        Ok(row.map_or(0, |r| {
            u64::try_from(r.prompt_tokens + r.completion_tokens).unwrap_or(0)
        }))
    }

    /// Tokens each of `users` used on `day` (prompt + completion), by user; users without a row are absent.
    /// One query per 500 users.
    pub async fn llm_tokens_of_users(
        &self,
        day: NaiveDate,
        users: &[String],
    ) -> StoreResult<std::collections::HashMap<String, u64>> {
        let mut totals = std::collections::HashMap::with_capacity(users.len());
        for chunk in users.chunks(500) {
            let rows = llm_usage::Entity::find()
                .filter(llm_usage::Column::Day.eq(day.to_string()))
                .filter(llm_usage::Column::ZaloUserId.is_in(chunk.iter().cloned()))
                .all(&self.db)
                .await?;
            for r in rows {
                let spent = u64::try_from(r.prompt_tokens + r.completion_tokens).unwrap_or(0);
                totals.insert(r.zalo_user_id, spent);
            }
        }
        Ok(totals)
    }

    /// Tokens used on `day` by each user (prompt + completion).
    pub async fn llm_usage_for_day(
        &self,
        day: NaiveDate,
    ) -> StoreResult<Vec<(String, LlmUsageRow)>> {
        let rows = llm_usage::Entity::find()
            .filter(llm_usage::Column::Day.eq(day.to_string()))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.zalo_user_id,
                    LlmUsageRow {
                        requests: r.requests as u64,
                        prompt_tokens: r.prompt_tokens as u64,
                        completion_tokens: r.completion_tokens as u64,
                    },
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::store::group_commit::inbox::tests::stores;

    fn usage(requests: u64, prompt_tokens: u64, completion_tokens: u64) -> LlmUsageRow {
        LlmUsageRow {
            requests,
            prompt_tokens,
            completion_tokens,
        }
    }

    /// Two saves over overlapping users, more rows than one statement takes, and a (day, user) twice in one
    /// call: every row ends up with the sum of what was recorded for it, on each backend.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn record_llm_usage_adds_up_across_calls_chunks_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let day = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let other_day = day.succ_opt().unwrap();
        let user = |i: usize| UserId::parse(format!("{}", 1_000_000 + i)).unwrap();
        for store in stores(&dir).await {
            store.record_llm_usage(&[]).await.unwrap();
            // Users 0..1200 (three statements), with user 7 twice and one row on another day.
            let mut first: Vec<_> = (0..1_200)
                .map(|i| (day, user(i), usage(1, 10, 5)))
                .collect();
            first.push((day, user(7), usage(2, 100, 50)));
            first.push((other_day, user(7), usage(1, 1, 1)));
            store.record_llm_usage(&first).await.unwrap();
            // Users 600..1800: half already stored, half new; user 1_000 twice again.
            let mut second: Vec<_> = (600..1_800)
                .map(|i| (day, user(i), usage(1, 20, 7)))
                .collect();
            second.push((day, user(1_000), usage(3, 300, 30)));
            store.record_llm_usage(&second).await.unwrap();

            let rows: HashMap<String, LlmUsageRow> = store
                .llm_usage_for_day(day)
                .await
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(rows.len(), 1_800);
            assert_eq!(rows[user(0).as_str()], usage(1, 10, 5));
            assert_eq!(rows[user(7).as_str()], usage(3, 110, 55));
            assert_eq!(rows[user(600).as_str()], usage(2, 30, 12));
            assert_eq!(rows[user(1_000).as_str()], usage(5, 330, 42));
            assert_eq!(rows[user(1_799).as_str()], usage(1, 20, 7));
            assert_eq!(
                store.llm_tokens_of(user(7).as_str(), day).await.unwrap(),
                165
            );
            assert_eq!(
                store
                    .llm_tokens_of(user(7).as_str(), other_day)
                    .await
                    .unwrap(),
                2
            );
            // Many users' totals in one call (chunked past 500): those without a row are absent.
            let asked: Vec<String> = (0..1_300).map(|n| user(n).as_str().to_string()).collect();
            let totals = store.llm_tokens_of_users(day, &asked).await.unwrap();
            assert_eq!(totals.len(), rows.len().min(1_300));
            assert_eq!(totals[user(7).as_str()], 165);
            for (name, row) in &rows {
                if let Some(found) = totals.get(name) {
                    assert_eq!(*found, row.prompt_tokens + row.completion_tokens);
                }
            }
            let on_other_day = store.llm_tokens_of_users(other_day, &asked).await.unwrap();
            assert_eq!(on_other_day.get(user(7).as_str()), Some(&2));
            let total: u64 = rows
                .values()
                .map(|r| r.prompt_tokens + r.completion_tokens)
                .sum();
            assert_eq!(total, 1_200 * 15 + 150 + 1_200 * 27 + 330);
            assert_eq!(store.llm_tokens_for_day(day).await.unwrap(), total);
        }
    }
}
