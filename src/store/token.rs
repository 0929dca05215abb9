//! The OA's OAuth token pair, its refresh lease, the PKCE states of a re-authorisation, and their sealing at
//! rest.
//!
//! The token row is written only by compare-and-set statements on `version` (and the refresh lease), so
//! several processes on one database never both spend a refresh token and never lose each other's writes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretString};

use super::entities::{oauth_states, zalo_tokens};
use super::{NewTokenPair, Store, StoreError, StoreResult, StoredToken};
use crate::token_cipher;

/// The token row is a singleton: one OA per deployment.
const TOKEN_ROW_ID: i32 = 1;

impl Store {
    pub async fn load_token(&self) -> StoreResult<Option<StoredToken>> {
        let Some(row) = zalo_tokens::Entity::find_by_id(TOKEN_ROW_ID)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let open = |v: &str| {
            token_cipher::open(self.cipher.as_ref(), v)
                .map(SecretString::from)
                .map_err(|e| StoreError(DbErr::Custom(format!("zalo_tokens: {e}"))))
        };
        Ok(Some(StoredToken {
            access_token: open(&row.access_token)?,
            refresh_token: row.refresh_token.as_deref().map(open).transpose()?,
            access_expires_at: row.access_expires_at,
            refresh_issued_at: row.refresh_issued_at,
            version: row.version,
            source: row.source,
            last_refresh_at: row.last_refresh_at,
            last_refresh_result: row.last_refresh_result,
            last_refresh_error: row.last_refresh_error,
            last_refresh_success_at: row.last_refresh_success_at,
            reauth_required: row.reauth_required,
            lease_owner: row.lease_owner,
            lease_until: row.lease_until,
        }))
    }

    /// Stores a token pair obtained outside a refresh (bootstrap, import, re-authorisation): a new version,
    /// the re-authorisation alarm cleared, any lease dropped.
    pub async fn save_token(
        &self,
        pair: &NewTokenPair,
        source: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<StoredToken> {
        let txn = self.begin_write().await?;
        let exists = zalo_tokens::Entity::find_by_id(TOKEN_ROW_ID)
            .one(&txn)
            .await?
            .is_some();
        if exists {
            // `version = version + 1` in the statement itself, so a concurrent commit can never leave two
            // different pairs under one version (PostgreSQL runs READ COMMITTED). A refresh in flight keeps
            // its lease but can no longer commit: its version is gone.
            self.writing_pair(pair, source, now)
                .col_expr(
                    zalo_tokens::Column::Version,
                    Expr::col(zalo_tokens::Column::Version).add(1),
                )
                .filter(zalo_tokens::Column::Id.eq(TOKEN_ROW_ID))
                .exec(&txn)
                .await?;
        } else {
            zalo_tokens::ActiveModel {
                id: Set(TOKEN_ROW_ID),
                access_token: Set(self.seal(&pair.access_token)),
                refresh_token: Set(pair.refresh_token.as_ref().map(|r| self.seal(r))),
                access_expires_at: Set(pair.access_expires_at),
                refresh_issued_at: Set(pair.refresh_token.as_ref().map(|_| now)),
                version: Set(1),
                source: Set(source.to_string()),
                updated_at: Set(now),
                last_refresh_at: Set(None),
                last_refresh_result: Set(None),
                last_refresh_error: Set(None),
                last_refresh_success_at: Set(None),
                reauth_required: Set(false),
                lease_owner: Set(None),
                lease_until: Set(None),
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        self.load_token()
            .await?
            .ok_or_else(|| StoreError(DbErr::RecordNotFound("zalo_tokens".into())))
    }

    /// Takes the refresh lease for `version`: succeeds only if that version is still current and nobody else
    /// holds an unexpired lease. The holder is the only process allowed to spend the refresh token.
    pub async fn claim_refresh_lease(
        &self,
        version: i64,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        use sea_orm::sea_query::Condition;
        // On PostgreSQL replicas on several hosts compare the lease on the database's clock, so a skewed host
        // clock cannot see a live lease as expired; SQLite (one process) keeps the injected clock.
        let (until, expired) = if self.sqlite {
            (Expr::value(until), zalo_tokens::Column::LeaseUntil.lt(now))
        } else {
            let span = Ord::max((until - now).num_milliseconds(), 0);
            (
                Expr::cust(format!(
                    "CURRENT_TIMESTAMP + make_interval(secs => {span} / 1000.0)"
                )),
                Expr::col(zalo_tokens::Column::LeaseUntil).lt(Expr::cust("CURRENT_TIMESTAMP")),
            )
        };
        let updated = zalo_tokens::Entity::update_many()
            .col_expr(
                zalo_tokens::Column::LeaseOwner,
                Expr::value(owner.to_string()),
            )
            .col_expr(zalo_tokens::Column::LeaseUntil, until)
            .filter(zalo_tokens::Column::Id.eq(TOKEN_ROW_ID))
            .filter(zalo_tokens::Column::Version.eq(version))
            .filter(
                Condition::any()
                    .add(zalo_tokens::Column::LeaseUntil.is_null())
                    .add(expired),
            )
            .exec(&self.writer)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Commits a refreshed pair in one statement: only the lease holder of `version` can, and the version
    /// moves on, so the old refresh token is forgotten in the same write that stores the new one.
    pub async fn commit_refresh(
        &self,
        version: i64,
        owner: &str,
        pair: &NewTokenPair,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let updated = self
            .writing_pair(pair, "refresh", now)
            .col_expr(zalo_tokens::Column::Version, Expr::value(version + 1))
            .col_expr(zalo_tokens::Column::LastRefreshAt, Expr::value(now))
            .col_expr(zalo_tokens::Column::LastRefreshResult, Expr::value("ok"))
            .col_expr(
                zalo_tokens::Column::LastRefreshError,
                Expr::value(Option::<String>::None),
            )
            .col_expr(zalo_tokens::Column::LastRefreshSuccessAt, Expr::value(now))
            .col_expr(zalo_tokens::Column::LeaseOwner, no_lease_owner())
            .col_expr(zalo_tokens::Column::LeaseUntil, no_lease_until())
            .filter(zalo_tokens::Column::Id.eq(TOKEN_ROW_ID))
            .filter(zalo_tokens::Column::Version.eq(version))
            .filter(zalo_tokens::Column::LeaseOwner.eq(owner))
            .exec(&self.writer)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Records a failed refresh and releases the lease (when `owner` holds it). `reauth_required` raises the
    /// alarm that only a human re-consent clears.
    pub async fn record_refresh_failure(
        &self,
        owner: &str,
        result: &str,
        error: &str,
        reauth_required: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut update = zalo_tokens::Entity::update_many()
            .col_expr(zalo_tokens::Column::LastRefreshAt, Expr::value(now))
            .col_expr(
                zalo_tokens::Column::LastRefreshResult,
                Expr::value(result.to_string()),
            )
            .col_expr(
                zalo_tokens::Column::LastRefreshError,
                Expr::value(error.to_string()),
            )
            .col_expr(zalo_tokens::Column::LeaseOwner, no_lease_owner())
            .col_expr(zalo_tokens::Column::LeaseUntil, no_lease_until());
        if reauth_required {
            update = update.col_expr(zalo_tokens::Column::ReauthRequired, Expr::value(true));
        }
        update
            .filter(zalo_tokens::Column::Id.eq(TOKEN_ROW_ID))
            .filter(zalo_tokens::Column::LeaseOwner.eq(owner))
            .exec(&self.writer)
            .await?;
        Ok(())
    }

    /// Drops a lease left by an interrupted refresh of `owner`.
    pub async fn release_lease(&self, owner: &str) -> StoreResult<()> {
        zalo_tokens::Entity::update_many()
            .col_expr(zalo_tokens::Column::LeaseOwner, no_lease_owner())
            .col_expr(zalo_tokens::Column::LeaseUntil, no_lease_until())
            .filter(zalo_tokens::Column::Id.eq(TOKEN_ROW_ID))
            .filter(zalo_tokens::Column::LeaseOwner.eq(owner))
            .exec(&self.writer)
            .await?;
        Ok(())
    }
}

/// OAuth re-authorisation states (PKCE).
impl Store {
    pub async fn create_oauth_state(
        &self,
        state: &str,
        code_verifier: &SecretString,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        oauth_states::ActiveModel {
            state: Set(state.to_string()),
            code_verifier: Set(self.seal(code_verifier)),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
        }
        .insert(&self.writer)
        .await?;
        Ok(())
    }

    /// Consumes a state once: returns its code verifier if it exists, is unused and has not expired.
    pub async fn take_oauth_state(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SecretString>> {
        let updated = oauth_states::Entity::update_many()
            .col_expr(oauth_states::Column::UsedAt, Expr::value(now))
            .filter(oauth_states::Column::State.eq(state))
            .filter(oauth_states::Column::UsedAt.is_null())
            .filter(oauth_states::Column::ExpiresAt.gt(now))
            .exec(&self.writer)
            .await?;
        if updated.rows_affected != 1 {
            return Ok(None);
        }
        let row = oauth_states::Entity::find_by_id(state.to_string())
            .one(&self.db)
            .await?;
        row.map(|r| {
            token_cipher::open(self.cipher.as_ref(), &r.code_verifier)
                .map(SecretString::from)
                .map_err(|e| StoreError(DbErr::Custom(format!("oauth_states: {e}"))))
        })
        .transpose()
    }

    /// An update that writes a new pair (sealed), its source and times, and clears the re-authorisation alarm;
    /// the caller adds the version and the conditions.
    fn writing_pair(
        &self,
        pair: &NewTokenPair,
        source: &str,
        now: DateTime<Utc>,
    ) -> sea_orm::UpdateMany<zalo_tokens::Entity> {
        zalo_tokens::Entity::update_many()
            .col_expr(
                zalo_tokens::Column::AccessToken,
                Expr::value(self.seal(&pair.access_token)),
            )
            .col_expr(
                zalo_tokens::Column::RefreshToken,
                Expr::value(pair.refresh_token.as_ref().map(|r| self.seal(r))),
            )
            .col_expr(
                zalo_tokens::Column::AccessExpiresAt,
                Expr::value(pair.access_expires_at),
            )
            .col_expr(
                zalo_tokens::Column::RefreshIssuedAt,
                Expr::value(pair.refresh_token.as_ref().map(|_| now)),
            )
            .col_expr(zalo_tokens::Column::Source, Expr::value(source.to_string()))
            .col_expr(zalo_tokens::Column::UpdatedAt, Expr::value(now))
            .col_expr(zalo_tokens::Column::ReauthRequired, Expr::value(false))
    }

    fn seal(&self, value: &SecretString) -> String {
        token_cipher::seal(self.cipher.as_ref(), value.expose_secret())
    }
}

/// The column values of "no refresh lease".
fn no_lease_owner() -> sea_orm::sea_query::SimpleExpr {
    Expr::value(Option::<String>::None)
}

fn no_lease_until() -> sea_orm::sea_query::SimpleExpr {
    Expr::value(Option::<DateTime<Utc>>::None)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::store::group_commit::inbox::tests::stores;

    fn pair(access: &str, refresh: &str) -> NewTokenPair {
        NewTokenPair {
            access_token: SecretString::from(access.to_string()),
            refresh_token: Some(SecretString::from(refresh.to_string())),
            access_expires_at: None,
        }
    }

    /// Only the lease holder of the current version commits a refresh, and the version moves on with it, so a
    /// refresh token is spent once however many processes share the database; a failure can raise the
    /// re-authorisation alarm, which a pair stored from outside a refresh clears.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refresh_commits_only_for_the_lease_holder_of_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
            let later = now + TimeDelta::seconds(60);
            assert!(store.load_token().await.unwrap().is_none());
            let saved = store
                .save_token(&pair("a1", "r1"), "bootstrap", now)
                .await
                .unwrap();
            assert_eq!(saved.version, 1);
            assert_eq!(saved.access_token.expose_secret(), "a1");

            assert!(
                store
                    .claim_refresh_lease(1, "p1", now, later)
                    .await
                    .unwrap()
            );
            assert!(
                !store
                    .claim_refresh_lease(1, "p2", now, later)
                    .await
                    .unwrap(),
                "leased"
            );
            assert!(
                !store
                    .commit_refresh(1, "p2", &pair("x", "y"), now)
                    .await
                    .unwrap(),
                "not the holder"
            );
            assert!(
                store
                    .commit_refresh(1, "p1", &pair("a2", "r2"), now)
                    .await
                    .unwrap()
            );
            let token = store.load_token().await.unwrap().unwrap();
            assert_eq!((token.version, token.lease_owner.as_deref()), (2, None));
            assert_eq!(token.refresh_token.unwrap().expose_secret(), "r2");
            assert_eq!(token.last_refresh_result.as_deref(), Some("ok"));
            assert!(
                !store
                    .claim_refresh_lease(1, "p2", now, later)
                    .await
                    .unwrap(),
                "an old version"
            );

            // A lease that ran out is taken over.
            assert!(store.claim_refresh_lease(2, "p1", now, now).await.unwrap());
            let after = later + TimeDelta::seconds(60);
            assert!(
                store
                    .claim_refresh_lease(2, "p2", later, after)
                    .await
                    .unwrap()
            );
            store
                .record_refresh_failure("p2", "invalid_grant", "expired", true, later)
                .await
                .unwrap();
            let failed = store.load_token().await.unwrap().unwrap();
            assert!(failed.reauth_required);
            assert_eq!(failed.lease_owner, None);
            assert_eq!(failed.version, 2);

            let saved = store
                .save_token(&pair("a3", "r3"), "import", later)
                .await
                .unwrap();
            assert_eq!(saved.version, 3);
            assert!(!saved.reauth_required);
            assert_eq!(saved.source, "import");
        }
    }

    /// A PKCE state gives its verifier back once, and never after it expired.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_oauth_state_is_taken_once_before_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(&dir).await {
            let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
            let later = now + TimeDelta::seconds(600);
            let verifier = SecretString::from("v".repeat(43));
            store
                .create_oauth_state("s-live", &verifier, now, later)
                .await
                .unwrap();
            store
                .create_oauth_state("s-old", &verifier, now, now)
                .await
                .unwrap();
            let taken = store.take_oauth_state("s-live", now).await.unwrap();
            assert_eq!(
                taken.unwrap().expose_secret(),
                verifier.expose_secret(),
                "its verifier"
            );
            assert!(
                store
                    .take_oauth_state("s-live", now)
                    .await
                    .unwrap()
                    .is_none(),
                "once"
            );
            assert!(
                store
                    .take_oauth_state("s-old", later)
                    .await
                    .unwrap()
                    .is_none(),
                "expired"
            );
            assert!(
                store
                    .take_oauth_state("unknown", now)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    }
}
