//! Token keeper (first form): owns the Zalo access token, hands it to outbound, exports its expiry.
//! The token comes from the database; when the database has none, the bootstrap values from the
//! environment (`ZALO_ACCESS_TOKEN`, `ZALO_REFRESH_TOKEN`) are stored first, so the database is the one
//! source of truth from then on.

use chrono::{DateTime, Utc};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use secrecy::SecretString;

use super::Deps;
use crate::store::{Store, StoredToken};
use crate::telemetry;

pub struct TokenKeeperActor;

pub struct TokenKeeperState {
    deps: Deps,
    current: Option<StoredToken>,
}

/// What `token status` and `/readyz` may show: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenStatus {
    pub present: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub source: Option<String>,
}

pub enum TokenKeeperMsg {
    /// The current access token, if any.
    Get(RpcReplyPort<Option<SecretString>>),
    Status(RpcReplyPort<TokenStatus>),
    /// Re-read the database (another process or an operator may have stored a new token).
    Reload,
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
        let current = load_or_bootstrap(&deps).await?;
        export_expiry(current.as_ref());
        Ok(TokenKeeperState { deps, current })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            TokenKeeperMsg::Get(reply) => {
                let _ = reply.send(state.current.as_ref().map(|t| t.access_token.clone()));
            }
            TokenKeeperMsg::Status(reply) => {
                let _ = reply.send(status_of(state.current.as_ref()));
            }
            TokenKeeperMsg::Reload => {
                state.current = state.deps.store.load_token().await?;
                export_expiry(state.current.as_ref());
            }
        }
        Ok(())
    }
}

pub fn status_of(token: Option<&StoredToken>) -> TokenStatus {
    TokenStatus {
        present: token.is_some(),
        expires_at: token.and_then(|t| t.access_expires_at),
        version: token.map_or(0, |t| t.version),
        source: token.map(|t| t.source.clone()),
    }
}

/// The stored token, else the environment's bootstrap token (stored now), else none.
pub async fn load_or_bootstrap(deps: &Deps) -> Result<Option<StoredToken>, ActorProcessingErr> {
    bootstrap(&deps.store, &deps.settings.zalo).await
}

pub async fn bootstrap(
    store: &Store,
    zalo: &crate::config::ZaloSettings,
) -> Result<Option<StoredToken>, ActorProcessingErr> {
    if let Some(token) = store.load_token().await? {
        return Ok(Some(token));
    }
    let Some(access) = &zalo.access_token else {
        return Ok(None);
    };
    // The environment gives no expiry: assume a token issued now with Zalo's documented lifetime.
    let expires_at = Utc::now() + chrono::Duration::from_std(zalo.bootstrap_token_lifetime)?;
    let stored = store
        .save_token(
            access,
            zalo.refresh_token.as_ref(),
            Some(expires_at),
            "environment",
        )
        .await?;
    tracing::info!("stored the bootstrap Zalo token from the environment");
    Ok(Some(stored))
}

fn export_expiry(token: Option<&StoredToken>) {
    if let Some(expires_at) = token.and_then(|t| t.access_expires_at) {
        metrics::gauge!(telemetry::TOKEN_EXPIRY).set(expires_at.timestamp() as f64);
    }
}
