//! Token keeper: owns the Zalo OAuth token pair and makes sure it never lapses.
//!
//! - The pair lives in `zalo_tokens`; every write is a compare-and-set on its `version`, so the database, not
//!   this actor's memory, is the truth. A pair written by another process, `token import` or re-authorisation
//!   is picked up at the next tick, with no restart.
//! - A refresh is due `token.refresh_margin` (plus jitter) before expiry; at start it runs at once when inside
//!   the margin. Many "token rejected" reports cause one refresh (single flight); callers holding an older
//!   version just get the current token.
//! - Across processes, only the holder of the refresh lease (`claim_refresh_lease`) may spend the refresh
//!   token; the new pair is committed in the same statement that moves the version on, before anyone uses it.
//! - Network errors and 5xx back off (never faster than `token.retry_min`); a refused grant raises the
//!   "re-authorisation required" alarm and stops refreshing until a human re-consents.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::{Deps, Directory, ask};
use crate::clock::SharedClock;
use crate::config::TokenSettings;
use crate::delivery::TokenSource;
use crate::pipeline::Role;
use crate::store::StoredToken;
use crate::telemetry;
use crate::token::{
    AccessToken, RefreshJob, RefreshOutcome, TokenStatus, bootstrap, export, oauth_client,
    status_of,
};
use crate::zalo::oauth::ZaloOAuth;

pub struct TokenKeeperActor;

pub enum TokenKeeperMsg {
    /// The current access token, if any.
    Get(RpcReplyPort<Option<AccessToken>>),
    /// Zalo rejected the token of `version` (-216/-220): answer with a newer one, refreshing at most once.
    Rejected {
        version: i64,
        reply: RpcReplyPort<Option<AccessToken>>,
    },
    Status(RpcReplyPort<TokenStatus>),
    /// Refresh now, whatever the schedule (CLI/admin); answers with the outcome.
    RefreshNow(RpcReplyPort<Result<TokenStatus, String>>),
    /// Check the schedule and the database.
    Tick,
    /// A refresh attempt ended.
    RefreshDone(RefreshOutcome),
    /// Re-read the database now (a pair was installed by re-authorisation or import).
    Reload,
}

impl Directory {
    pub fn token_keeper(&self) -> Option<ActorRef<TokenKeeperMsg>> {
        self.lookup(Role::TokenKeeper)
    }
}

pub struct TokenKeeperState {
    deps: Deps,
    oauth: ZaloOAuth,
    clock: SharedClock,
    /// Lease owner id of this process (its actor directory prefix).
    owner: String,
    current: Option<StoredToken>,
    /// The refresh time of the current version (expiry − margin − jitter), drawn once per version.
    due_at: Option<(i64, DateTime<Utc>)>,
    refreshing: bool,
    waiters: Vec<RpcReplyPort<Option<AccessToken>>>,
    manual_waiters: Vec<RpcReplyPort<Result<TokenStatus, String>>>,
    consecutive_failures: u32,
    not_before: Option<DateTime<Utc>>,
    /// When the refresh in flight began: backoffs count from there, not from when its outcome was handled
    /// (which a busy mailbox can delay).
    attempt_started_at: Option<DateTime<Utc>>,
    /// Lease evidence already reported, so one interruption is counted once.
    reported_interruption: Option<(String, i64)>,
}

impl Actor for TokenKeeperActor {
    type Msg = TokenKeeperMsg;
    type State = TokenKeeperState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::TokenKeeper);
        let clock = deps.clock.clone();
        let current = bootstrap(&deps.store, &deps.settings.zalo, clock.now()).await?;
        export(current.as_ref(), &deps.settings.token);
        Ok(TokenKeeperState {
            oauth: oauth_client(&deps.http, &deps.settings.zalo),
            // One owner per keeper incarnation: a restarted keeper never mistakes its predecessor's
            // in-flight refresh for its own.
            owner: format!(
                "{}#{}",
                deps.directory.owner_id(),
                uuid::Uuid::new_v4().simple()
            ),
            clock,
            current,
            due_at: None,
            refreshing: false,
            waiters: Vec::new(),
            manual_waiters: Vec::new(),
            consecutive_failures: 0,
            not_before: None,
            attempt_started_at: None,
            reported_interruption: None,
            deps,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        super::send_interval_counted(
            Role::TokenKeeper,
            &myself,
            state.deps.settings.token.check_interval,
            || TokenKeeperMsg::Tick,
        );
        super::tell(Role::TokenKeeper, &myself, TokenKeeperMsg::Tick)?;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::TokenKeeper);
        match msg {
            TokenKeeperMsg::Get(reply) => {
                let _ = reply.send(state.access());
            }
            TokenKeeperMsg::Status(reply) => {
                let _ = reply.send(status_of(
                    state.current.as_ref(),
                    &state.deps.settings.token,
                ));
            }
            TokenKeeperMsg::Rejected { version, reply } => {
                let newer = state.current.as_ref().is_some_and(|t| t.version > version);
                let reauth = state.current.as_ref().is_some_and(|t| t.reauth_required);
                if newer || reauth || state.current.is_none() {
                    let _ = reply.send(state.access());
                } else {
                    state.waiters.push(reply);
                    if !state.refreshing && state.backoff_allows() {
                        start_refresh(&myself, state);
                    }
                }
            }
            TokenKeeperMsg::RefreshNow(reply) => {
                if state.current.is_none() {
                    let _ = reply.send(Err(
                        "no token is stored: use `token import` or `token authorize-url`".into(),
                    ));
                } else if state.current.as_ref().is_some_and(|t| t.reauth_required) {
                    let _ = reply.send(Err(REAUTH_HELP.to_string()));
                } else {
                    state.manual_waiters.push(reply);
                    if !state.refreshing {
                        start_refresh(&myself, state);
                    }
                }
            }
            TokenKeeperMsg::Tick => tick(&myself, state).await,
            TokenKeeperMsg::RefreshDone(outcome) => refresh_done(state, outcome).await,
            TokenKeeperMsg::Reload => {
                if let Ok(stored) = state.deps.store.load_token().await {
                    adopt(state, stored);
                }
            }
        }
        Ok(())
    }
}

const REAUTH_HELP: &str = "Zalo refused the refresh token: the OA must be re-authorised. Run \
`tradesphere token authorize-url` (or POST /api/v1/zalo/token/authorize-url) and open the printed URL as an \
OA admin; the callback stores the new tokens and clears this alarm.";

impl TokenKeeperState {
    fn access(&self) -> Option<AccessToken> {
        self.current.as_ref().map(|t| AccessToken {
            token: t.access_token.clone(),
            version: t.version,
        })
    }

    fn backoff_allows(&self) -> bool {
        self.not_before.is_none_or(|t| self.clock.now() >= t)
    }

    /// When the current version should be refreshed (drawn once per version, with jitter).
    fn due(&mut self) -> Option<DateTime<Utc>> {
        let token = self.current.as_ref()?;
        let expires_at = token.access_expires_at?;
        match self.due_at {
            Some((version, at)) if version == token.version => Some(at),
            _ => {
                let settings = &self.deps.settings.token;
                let jitter_secs = settings.refresh_jitter.as_secs();
                let jitter = if jitter_secs == 0 {
                    0
                } else {
                    rand::random_range(0..=jitter_secs)
                };
                let lead = chrono::Duration::from_std(
                    settings.refresh_margin + Duration::from_secs(jitter),
                )
                .unwrap_or_default();
                let at = expires_at - lead;
                self.due_at = Some((token.version, at));
                Some(at)
            }
        }
    }
}

async fn tick(myself: &ActorRef<TokenKeeperMsg>, state: &mut TokenKeeperState) {
    // The database is the truth: adopt what another process, `token import` or a re-authorisation wrote.
    match state.deps.store.load_token().await {
        Ok(stored) => adopt(state, stored),
        Err(err) => {
            tracing::warn!(error = %err, "token keeper could not read the token; keeping the one in memory")
        }
    }
    let Some(token) = state.current.clone() else {
        return;
    };
    let now = state.clock.now();
    // A lease past its time that nobody cleared: a refresh died between spending the token and committing.
    // (The lease outlasts any OAuth request by configuration, so an expired one is never a refresh in flight.)
    if let (Some(owner), Some(until)) = (&token.lease_owner, token.lease_until)
        && until < now
        && !(*owner == state.owner && state.refreshing)
    {
        report_interruption(state, owner.clone(), token.version);
    }
    if token.reauth_required || state.refreshing || !state.backoff_allows() {
        return;
    }
    let refresh_due = state.due().is_some_and(|due| now >= due);
    if refresh_due || !state.waiters.is_empty() {
        start_refresh(myself, state);
    }
}

fn report_interruption(state: &mut TokenKeeperState, owner: String, version: i64) {
    if state.reported_interruption.as_ref() == Some(&(owner.clone(), version)) {
        return;
    }
    metrics::counter!(telemetry::TOKEN_REFRESH_INTERRUPTED).increment(1);
    tracing::error!(
        version,
        "a token refresh was interrupted after Zalo may have issued a new pair and before it was stored; \
         the stored refresh token may already be spent. The next refresh will tell: if Zalo refuses it, \
         re-authorise the OA"
    );
    state.reported_interruption = Some((owner, version));
}

/// Makes `stored` the current pair and answers waiters that now hold an older version.
fn adopt(state: &mut TokenKeeperState, stored: Option<StoredToken>) {
    let changed = match (&state.current, &stored) {
        (Some(old), Some(new)) => {
            old.version != new.version || old.reauth_required != new.reauth_required
        }
        (None, None) => false,
        _ => true,
    };
    state.current = stored;
    export(state.current.as_ref(), &state.deps.settings.token);
    if changed {
        if state.current.as_ref().is_some_and(|t| !t.reauth_required) {
            state.consecutive_failures = 0;
            state.not_before = None;
        }
        let access = state.access();
        for waiter in state.waiters.drain(..) {
            let _ = waiter.send(access.clone());
        }
    }
}

fn start_refresh(myself: &ActorRef<TokenKeeperMsg>, state: &mut TokenKeeperState) {
    let Some(token) = state.current.clone() else {
        return;
    };
    state.refreshing = true;
    state.attempt_started_at = Some(state.clock.now());
    let job = RefreshJob {
        store: state.deps.store.clone(),
        oauth: state.oauth.clone(),
        clock: state.clock.clone(),
        faults: state.deps.faults.clone(),
        owner: state.owner.clone(),
        lease: state.deps.settings.token.lease,
    };
    let myself = myself.clone();
    tokio::spawn(async move {
        // A panic inside the attempt (an injected fault, a bug) must still end the single flight.
        let outcome = match tokio::spawn(async move { job.run(&token).await }).await {
            Ok(outcome) => outcome,
            Err(err) => RefreshOutcome::Interrupted(format!("refresh task failed: {err}")),
        };
        let _ = super::tell(
            Role::TokenKeeper,
            &myself,
            TokenKeeperMsg::RefreshDone(outcome),
        );
    });
}

async fn refresh_done(state: &mut TokenKeeperState, outcome: RefreshOutcome) {
    state.refreshing = false;
    let now = state.clock.now();
    let started = state.attempt_started_at.take().unwrap_or(now);
    // After a lost race the winner's pair is on its way: waiters keep waiting for it (adopted at a tick).
    let keep_waiting = matches!(outcome, RefreshOutcome::LostRace);
    let result = match outcome {
        RefreshOutcome::Refreshed(stored) => {
            metrics::counter!(telemetry::TOKEN_REFRESH, "result" => "ok").increment(1);
            tracing::info!(version = stored.version, expires_at = ?stored.access_expires_at, "Zalo token refreshed");
            adopt(state, Some(*stored));
            Ok(())
        }
        RefreshOutcome::LostRace => {
            // Someone else refreshes (or did): take what is stored; waiters are answered once it moves on.
            if let Ok(stored) = state.deps.store.load_token().await {
                adopt(state, stored);
            }
            Ok(())
        }
        RefreshOutcome::Transient(error) => {
            metrics::counter!(telemetry::TOKEN_REFRESH, "result" => "error").increment(1);
            state.consecutive_failures += 1;
            let delay = retry_delay(&state.deps.settings.token, state.consecutive_failures);
            state.not_before =
                Some(started + chrono::Duration::from_std(delay).unwrap_or_default());
            tracing::warn!(error = %error, retry_in_secs = delay.as_secs(), "Zalo token refresh failed; will retry");
            Err(error)
        }
        RefreshOutcome::Rejected(error) => {
            metrics::counter!(telemetry::TOKEN_REFRESH, "result" => "invalid_grant").increment(1);
            // Should the alarm fail to reach the database, do not retry the refused token every tick.
            state.not_before = Some(
                now + chrono::Duration::from_std(state.deps.settings.token.retry_max)
                    .unwrap_or_default(),
            );
            tracing::error!(error = %error, "{REAUTH_HELP}");
            if let Ok(stored) = state.deps.store.load_token().await {
                adopt(state, stored);
            }
            Err(format!("{error}. {REAUTH_HELP}"))
        }
        RefreshOutcome::NoRefreshToken => {
            metrics::counter!(telemetry::TOKEN_REFRESH, "result" => "invalid_grant").increment(1);
            tracing::error!(
                "no refresh token is stored, so the access token cannot be renewed. {REAUTH_HELP}"
            );
            if let Ok(stored) = state.deps.store.load_token().await {
                adopt(state, stored);
            }
            Err("no refresh token".to_string())
        }
        RefreshOutcome::Interrupted(error) => {
            metrics::counter!(telemetry::TOKEN_REFRESH, "result" => "error").increment(1);
            if let Some(token) = &state.current {
                let version = token.version;
                report_interruption(state, state.owner.clone(), version);
            }
            tracing::error!(error = %error, "token refresh interrupted before its commit");
            let _ = state.deps.store.release_lease(&state.owner).await;
            state.consecutive_failures += 1;
            let delay = retry_delay(&state.deps.settings.token, state.consecutive_failures);
            state.not_before =
                Some(started + chrono::Duration::from_std(delay).unwrap_or_default());
            Err(error)
        }
    };
    // Waiters still holding the current version get it (a failed refresh has nothing newer to give).
    if !keep_waiting {
        let access = state.access();
        for waiter in state.waiters.drain(..) {
            let _ = waiter.send(access.clone());
        }
    }
    let status = status_of(state.current.as_ref(), &state.deps.settings.token);
    for waiter in state.manual_waiters.drain(..) {
        let _ = waiter.send(result.clone().map(|()| status.clone()));
    }
}

/// `retry_min · 2^(n−1)`, capped at `retry_max`.
fn retry_delay(settings: &TokenSettings, failures: u32) -> Duration {
    let exp = settings
        .retry_min
        .saturating_mul(1 << failures.saturating_sub(1).min(16));
    exp.min(settings.retry_max).max(settings.retry_min)
}

/// Senders get their token from the keeper, found by name at each ask so a restarted keeper is reached at once.
impl TokenSource for Directory {
    async fn current(&self) -> Option<AccessToken> {
        ask(
            || self.token_keeper(),
            Role::TokenKeeper,
            TokenKeeperMsg::Get,
            Duration::from_secs(5),
        )
        .await
        .ok()
        .flatten()
    }

    /// The keeper refreshes at most once however many senders report the same version.
    async fn newer_than(&self, rejected: &AccessToken) -> Option<AccessToken> {
        let version = rejected.version;
        let fresh = ask(
            || self.token_keeper(),
            Role::TokenKeeper,
            |reply| TokenKeeperMsg::Rejected { version, reply },
            Duration::from_secs(60),
        )
        .await
        .ok()
        .flatten()?;
        (fresh.version > version).then_some(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::token::test_settings as settings;

    #[test]
    fn retry_delay_never_below_the_minimum_and_capped() {
        let s = settings();
        assert_eq!(retry_delay(&s, 0), Duration::from_secs(5));
        assert_eq!(retry_delay(&s, 1), Duration::from_secs(5));
        assert_eq!(retry_delay(&s, 2), Duration::from_secs(10));
        assert_eq!(retry_delay(&s, 4), Duration::from_secs(40));
        assert_eq!(retry_delay(&s, 30), Duration::from_secs(300));
    }
}
