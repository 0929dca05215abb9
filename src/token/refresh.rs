//! One refresh attempt: take the lease, spend the refresh token, commit the new pair in the statement that
//! moves the version on. Shared by the token keeper and `tradesphere token refresh`.

use std::time::Duration;

use crate::clock::SharedClock;
use crate::faults::{FaultPoint, Faults};
use crate::store::{NewTokenPair, Store, StoredToken};
use crate::zalo::oauth::{OAuthError, ZaloOAuth};

/// How one refresh attempt ended.
#[derive(Debug)]
pub enum RefreshOutcome {
    /// The new pair is committed.
    Refreshed(Box<StoredToken>),
    /// Another process holds the lease or already moved the version on.
    LostRace,
    /// Network error, 5xx, -32: try again after a backoff.
    Transient(String),
    /// The grant was refused: re-authorisation required.
    Rejected(String),
    /// There is nothing to refresh with.
    NoRefreshToken,
    /// The attempt died after it may have spent the refresh token, before the commit (crash, database
    /// error). The lease stays behind as evidence.
    Interrupted(String),
}

/// One refresh attempt and what it needs.
pub struct RefreshJob {
    pub store: Store,
    pub oauth: ZaloOAuth,
    pub clock: SharedClock,
    pub faults: Faults,
    /// Lease owner id: only its holder may spend the refresh token or record the outcome.
    pub owner: String,
    /// How long the lease is held; it outlasts any OAuth request.
    pub lease: Duration,
}

impl RefreshJob {
    pub async fn run(&self, token: &StoredToken) -> RefreshOutcome {
        let now = self.clock.now();
        // The lease first: only its holder may spend the refresh token or record the outcome.
        match self
            .store
            .claim_refresh_lease(
                token.version,
                &self.owner,
                now,
                now + lease_span(self.lease),
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => return RefreshOutcome::LostRace,
            Err(err) => {
                return RefreshOutcome::Transient(format!(
                    "could not take the refresh lease: {err}"
                ));
            }
        }
        let Some(refresh_token) = &token.refresh_token else {
            let _ = self
                .store
                .record_refresh_failure(
                    &self.owner,
                    "invalid_grant",
                    "no refresh token stored",
                    true,
                    now,
                )
                .await;
            return RefreshOutcome::NoRefreshToken;
        };
        let answer = self.oauth.refresh(refresh_token).await;
        let now = self.clock.now();
        match answer {
            Ok(issued) => {
                // From here the old refresh token is spent: the new pair must reach the database.
                self.faults.trip(FaultPoint::TokenCommit);
                let pair = NewTokenPair {
                    access_token: issued.access_token,
                    refresh_token: Some(issued.refresh_token),
                    access_expires_at: Some(
                        now + chrono::Duration::from_std(issued.expires_in).unwrap_or_default(),
                    ),
                };
                match self
                    .store
                    .commit_refresh(token.version, &self.owner, &pair, now)
                    .await
                {
                    Ok(true) => match self.store.load_token().await {
                        Ok(Some(stored)) => RefreshOutcome::Refreshed(Box::new(stored)),
                        // The pair is safely stored; the keeper re-reads it at its next tick.
                        Ok(None) | Err(_) => RefreshOutcome::LostRace,
                    },
                    Ok(false) => RefreshOutcome::Interrupted(
                        "the refresh lease was lost before the commit; the new pair was discarded"
                            .into(),
                    ),
                    Err(err) => RefreshOutcome::Interrupted(format!(
                        "the new pair could not be stored: {err}"
                    )),
                }
            }
            Err(OAuthError::Transient(error)) => {
                let _ = self
                    .store
                    .record_refresh_failure(&self.owner, "error", &error, false, now)
                    .await;
                RefreshOutcome::Transient(error)
            }
            Err(OAuthError::Indeterminate(error)) => {
                let _ = self
                    .store
                    .record_refresh_failure(&self.owner, "error", &error, false, now)
                    .await;
                RefreshOutcome::Interrupted(format!(
                    "{error}; Zalo may have rotated the refresh token without us receiving the new pair"
                ))
            }
            Err(err @ OAuthError::Rejected { .. }) => {
                let error = err.to_string();
                let _ = self
                    .store
                    .record_refresh_failure(&self.owner, "invalid_grant", &error, true, now)
                    .await;
                RefreshOutcome::Rejected(error)
            }
        }
    }
}

fn lease_span(lease: Duration) -> chrono::Duration {
    chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::seconds(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_too_long_for_chrono_falls_back_to_a_minute() {
        assert_eq!(
            lease_span(Duration::from_secs(90)),
            chrono::Duration::seconds(90)
        );
        assert_eq!(lease_span(Duration::MAX), chrono::Duration::seconds(60));
    }
}
