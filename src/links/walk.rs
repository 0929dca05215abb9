//! One step of a link's walk decided: visit the next hop, or stop, and why. Pure: the hops so far and
//! the answer of the last one in, a move out.

use url::Url;

use crate::net::{FetchError, Step};
use crate::scam::followed::ChainEnd;

/// What to do after the last hop answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Move {
    /// Visit this hop next.
    Visit(Url),
    /// Stop, naming a last hop that is not visited (too many redirects), or not.
    Stop(ChainEnd, Option<Url>),
}

/// The move after `answer`, the answer of the last of `hops` (the link first), when at most `max_hops`
/// redirects may be followed. A redirect back to a hop already met is a loop: nothing is visited twice.
#[must_use]
pub fn next_move(hops: &[Url], answer: Result<Step, FetchError>, max_hops: usize) -> Move {
    match answer {
        Ok(Step::Answer(_)) => Move::Stop(ChainEnd::Reached, None),
        Ok(Step::Redirect(next)) if hops.contains(&next) => Move::Stop(ChainEnd::Loop, None),
        Ok(Step::Redirect(next)) if hops.len() > max_hops => {
            Move::Stop(ChainEnd::TooManyHops, Some(next))
        }
        Ok(Step::Redirect(next)) => Move::Visit(next),
        Err(e) => Move::Stop(end_of(e), None),
    }
}

/// Why a walk ended, from why its last request failed.
#[must_use]
pub fn end_of(error: FetchError) -> ChainEnd {
    match error {
        FetchError::ForbiddenScheme => ChainEnd::NotHttps,
        FetchError::ForbiddenAddress => ChainEnd::ForbiddenAddress,
        FetchError::Timeout => ChainEnd::Timeout,
        FetchError::BadUrl => ChainEnd::BadUrl,
        FetchError::TooManyRedirects => ChainEnd::TooManyHops,
        FetchError::Unreachable
        | FetchError::HttpStatus
        | FetchError::TooLarge
        | FetchError::NotImage
        | FetchError::BadImage
        | FetchError::TooManyPixels => ChainEnd::Unreachable,
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn hops(n: usize) -> Vec<Url> {
        (0..n)
            .map(|i| url(&format!("https://h{i}.example/")))
            .collect()
    }

    #[test]
    fn an_answer_ends_the_walk_there() {
        for status in [StatusCode::OK, StatusCode::NOT_FOUND, StatusCode::FORBIDDEN] {
            assert_eq!(
                next_move(&hops(1), Ok(Step::Answer(status)), 5),
                Move::Stop(ChainEnd::Reached, None)
            );
        }
    }

    #[test]
    fn redirects_are_visited_up_to_the_limit_then_named_only() {
        let next = url("https://next.example/");
        for n in 1..=5 {
            assert_eq!(
                next_move(&hops(n), Ok(Step::Redirect(next.clone())), 5),
                Move::Visit(next.clone()),
                "{n} hops so far"
            );
        }
        assert_eq!(
            next_move(&hops(6), Ok(Step::Redirect(next.clone())), 5),
            Move::Stop(ChainEnd::TooManyHops, Some(next))
        );
    }

    #[test]
    fn a_redirect_to_a_hop_already_met_is_a_loop() {
        let so_far = hops(3);
        assert_eq!(
            next_move(&so_far, Ok(Step::Redirect(so_far[0].clone())), 5),
            Move::Stop(ChainEnd::Loop, None)
        );
        assert_eq!(
            next_move(&so_far, Ok(Step::Redirect(so_far[2].clone())), 5),
            Move::Stop(ChainEnd::Loop, None),
            "a page redirecting to itself"
        );
    }

    #[test]
    fn a_refused_or_failed_hop_ends_the_walk_with_its_reason() {
        for (error, end) in [
            (FetchError::ForbiddenScheme, ChainEnd::NotHttps),
            (FetchError::ForbiddenAddress, ChainEnd::ForbiddenAddress),
            (FetchError::Timeout, ChainEnd::Timeout),
            (FetchError::Unreachable, ChainEnd::Unreachable),
            (FetchError::BadUrl, ChainEnd::BadUrl),
        ] {
            assert_eq!(next_move(&hops(2), Err(error), 5), Move::Stop(end, None));
        }
    }
}
