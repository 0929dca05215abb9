//! Aho–Corasick DFAs walked byte by byte. The crate's own iterators keep their position in memory between
//! bytes (and step through a trait object behind `AhoCorasick`); these loops give the same matches in the
//! same order with the state in a register. Pure.

use aho_corasick::Anchored;
use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;

/// One match: the pattern's index and its byte range in the haystack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub pattern: usize,
    pub start: usize,
    pub end: usize,
}

/// Every match, overlapping ones included, in the order `try_find_overlapping_iter` gives them: by end,
/// then as the automaton lists them. For a DFA with standard match semantics.
pub(crate) fn each_overlapping(dfa: &DFA, haystack: &[u8], mut found: impl FnMut(Found)) {
    let Ok(mut state) = dfa.start_state(Anchored::No) else {
        return;
    };
    for (at, &byte) in haystack.iter().enumerate() {
        state = dfa.next_state(Anchored::No, state, byte);
        if dfa.is_special(state) {
            if dfa.is_dead(state) {
                return;
            }
            if dfa.is_match(state) {
                for i in 0..dfa.match_len(state) {
                    found(found_at(dfa, state, i, at + 1));
                }
            }
        }
    }
}

/// The leftmost matches, each search starting where the last match ended: what `try_find_iter` gives. For
/// a DFA with a leftmost match kind, built without a prefilter (its start state is then no special state),
/// and no empty pattern.
pub(crate) fn each_leftmost(dfa: &DFA, haystack: &[u8], mut found: impl FnMut(Found)) {
    let Ok(start) = dfa.start_state(Anchored::No) else {
        return;
    };
    let mut from = 0;
    while from < haystack.len() {
        let mut state = start;
        let mut last: Option<Found> = None;
        for (offset, &byte) in haystack[from..].iter().enumerate() {
            state = dfa.next_state(Anchored::No, state, byte);
            if dfa.is_special(state) {
                if dfa.is_dead(state) {
                    break;
                }
                if dfa.is_match(state) {
                    last = Some(found_at(dfa, state, 0, from + offset + 1));
                }
            }
        }
        let Some(hit) = last else {
            return;
        };
        // Not empty, so the next search starts further on.
        from = hit.end.max(from + 1);
        found(hit);
    }
}

fn found_at(dfa: &DFA, state: StateID, index: usize, end: usize) -> Found {
    let pattern = dfa.match_pattern(state, index);
    Found {
        pattern: pattern.as_usize(),
        start: end - dfa.pattern_len(pattern),
        end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{Input, MatchKind};

    fn dfa(kind: MatchKind, patterns: &[&str]) -> DFA {
        DFA::builder()
            .match_kind(kind)
            .prefilter(false)
            .build(patterns)
            .unwrap()
    }

    proptest::proptest! {
        /// The walks give what the crate's iterators give.
        #[test]
        fn same_matches_as_the_crates_iterators(hay in "[ abc]{0,40}") {
            let patterns = [" a ", "ab", "abc", "b", " ab c", "c c", "bca"];
            let standard = dfa(MatchKind::Standard, &patterns);
            let mut walked = Vec::new();
            each_overlapping(&standard, hay.as_bytes(), |f| walked.push(f));
            let expected: Vec<Found> = standard
                .try_find_overlapping_iter(Input::new(&hay))
                .unwrap()
                .map(|m| Found { pattern: m.pattern().as_usize(), start: m.start(), end: m.end() })
                .collect();
            proptest::prop_assert_eq!(walked, expected);
            let leftmost = dfa(MatchKind::LeftmostLongest, &patterns);
            let mut walked = Vec::new();
            each_leftmost(&leftmost, hay.as_bytes(), |f| walked.push(f));
            let expected: Vec<Found> = leftmost
                .try_find_iter(Input::new(&hay))
                .unwrap()
                .map(|m| Found { pattern: m.pattern().as_usize(), start: m.start(), end: m.end() })
                .collect();
            proptest::prop_assert_eq!(walked, expected);
        }
    }
}
