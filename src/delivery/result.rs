//! How a send ends, and what to do after Zalo refuses one.

use crate::domain::OutboundState;
use crate::zalo::api::ErrorClass;

/// How an attempted send ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum SendResult {
    /// Delivered; Zalo's `message_id` when it gave one.
    Sent(Option<String>),
    /// Not delivered: `failed` or `ambiguous`.
    Unsent {
        state: OutboundState,
        code: Option<i64>,
        message: String,
    },
}

impl SendResult {
    pub(super) fn unsent(state: OutboundState, code: Option<i64>, message: &str) -> Self {
        SendResult::Unsent {
            state,
            code,
            message: message.to_string(),
        }
    }
}

/// A send not attempted (no token right now): the part goes back to `queued` for the periodic resume.
#[derive(Debug)]
pub(super) struct Requeue(pub(super) String);

/// What to do after Zalo refused a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NextStep {
    /// Wait a backoff and send again.
    Retry,
    /// Ask for a newer token and send again with it.
    RefreshToken,
    /// Record the part in this state; never resend it.
    GiveUp(OutboundState),
}

/// Transient errors are retried up to `max_retries` times, a rejected token is replaced once, an ambiguous
/// send is never repeated, and anything else fails.
pub(super) fn next_step(
    class: ErrorClass,
    retries: u32,
    max_retries: u32,
    token_replaced: bool,
) -> NextStep {
    match class {
        ErrorClass::Transient if retries < max_retries => NextStep::Retry,
        ErrorClass::TokenInvalid if !token_replaced => NextStep::RefreshToken,
        ErrorClass::Ambiguous => NextStep::GiveUp(OutboundState::Ambiguous),
        _ => NextStep::GiveUp(OutboundState::Failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILED: NextStep = NextStep::GiveUp(OutboundState::Failed);

    #[test]
    fn transient_errors_are_retried_up_to_the_limit_then_fail() {
        assert_eq!(
            next_step(ErrorClass::Transient, 0, 3, false),
            NextStep::Retry
        );
        assert_eq!(
            next_step(ErrorClass::Transient, 2, 3, true),
            NextStep::Retry
        );
        assert_eq!(next_step(ErrorClass::Transient, 3, 3, false), FAILED);
        assert_eq!(next_step(ErrorClass::Transient, 0, 0, false), FAILED);
    }

    #[test]
    fn a_rejected_token_is_replaced_once() {
        assert_eq!(
            next_step(ErrorClass::TokenInvalid, 0, 3, false),
            NextStep::RefreshToken
        );
        assert_eq!(next_step(ErrorClass::TokenInvalid, 0, 3, true), FAILED);
    }

    #[test]
    fn an_ambiguous_send_is_never_repeated() {
        for retries in [0, 5] {
            assert_eq!(
                next_step(ErrorClass::Ambiguous, retries, 3, false),
                NextStep::GiveUp(OutboundState::Ambiguous)
            );
        }
    }

    #[test]
    fn unreachable_users_and_permanent_errors_fail_at_once() {
        assert_eq!(next_step(ErrorClass::UserUnreachable, 0, 3, false), FAILED);
        assert_eq!(next_step(ErrorClass::Permanent, 0, 3, false), FAILED);
    }
}
