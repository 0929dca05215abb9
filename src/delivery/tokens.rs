//! Where a sender gets its Zalo access token.

use std::future::Future;

use secrecy::SecretString;

use crate::token::AccessToken;

/// A source of access tokens: the token keeper for the service, a fixed token for one-shot CLI sends.
pub trait TokenSource: Send + Sync + 'static {
    /// The current access token, if any.
    fn current(&self) -> impl Future<Output = Option<AccessToken>> + Send;

    /// Reports `rejected` (Zalo refused it) and returns a newer token, if one can be had.
    fn newer_than(
        &self,
        rejected: &AccessToken,
    ) -> impl Future<Output = Option<AccessToken>> + Send;
}

/// A token given once (or none); nothing refreshes it.
#[derive(Clone)]
pub struct FixedToken(pub Option<SecretString>);

impl TokenSource for FixedToken {
    async fn current(&self) -> Option<AccessToken> {
        self.0
            .clone()
            .map(|token| AccessToken { token, version: 0 })
    }

    async fn newer_than(&self, _rejected: &AccessToken) -> Option<AccessToken> {
        None
    }
}
