//! Cue words around numbers ("STK", "chuyển khoản", bank names, "OTP", "mã đơn"…), found once per message
//! with one Aho–Corasick pass over its accent-folded form, so deciding what each number is costs a
//! binary search instead of a regex scan per number. Pure.

use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::banks::{self, Bank};
use super::text::push_folded;

/// What a cue word says about a number near it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CueClass {
    /// Names an account number outright ("số tài khoản").
    AccountNumber,
    /// About paying ("chuyển khoản", "ngân hàng"), without naming a bank.
    Payment,
    /// A bank or wallet: a payment cue that also says which bank.
    Bank(&'static Bank),
    /// Says the number is something else (a code, an ID, a phone).
    NotAccount,
}

/// One cue word, as a byte range of the text searched.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CueHit {
    pub span: (usize, usize),
    pub class: CueClass,
}

/// Every cue word of a message, in order.
pub(crate) struct Cues {
    hits: Vec<CueHit>,
}

struct Matcher {
    automaton: AhoCorasick,
    classes: Vec<CueClass>,
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let mut patterns: Vec<String> = Vec::new();
    let mut classes = Vec::new();
    let mut add = |word: &str, class: CueClass| {
        if !patterns.iter().any(|p| p == word) {
            patterns.push(word.to_string());
            classes.push(class);
        }
    };
    // Banks first: a word that is both a bank and a payment word ("vcb") names the bank.
    for bank in banks::BANKS {
        for alias in bank.aliases {
            add(alias, CueClass::Bank(bank));
        }
    }
    for word in super::extract::ACCOUNT_NUMBER_CUES {
        add(word, CueClass::AccountNumber);
    }
    for word in super::extract::PAYMENT_CUES {
        add(word, CueClass::Payment);
    }
    for word in super::extract::NON_ACCOUNT_CUES {
        add(word, CueClass::NotAccount);
    }
    // A full DFA: a few hundred patterns make a small one, and it scans several times faster than the NFA.
    let automaton = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&patterns)
        .expect("cue words build an automaton");
    Matcher { automaton, classes }
});

impl Cues {
    /// Finds the cue words of `text` (whole words, accents and case ignored, any whitespace between words).
    pub(crate) fn find(text: &str) -> Self {
        // Folded text with single spaces, and for each folded byte the offset of the char it came from.
        let mut folded = String::with_capacity(text.len());
        let mut origin: Vec<usize> = Vec::with_capacity(text.len() + 1);
        let mut scratch = String::new();
        for (at, c) in text.char_indices() {
            if c.is_whitespace() {
                if !folded.ends_with(' ') {
                    folded.push(' ');
                    origin.push(at);
                }
                continue;
            }
            scratch.clear();
            push_folded(c, &mut scratch);
            for _ in 0..scratch.len() {
                origin.push(at);
            }
            folded.push_str(&scratch);
        }
        origin.push(text.len());
        let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let matcher = &*MATCHER;
        let hits = matcher
            .automaton
            .find_iter(&folded)
            .filter(|m| {
                // A digit may follow directly: "STK0071000123456".
                !is_word(folded[..m.start()].chars().next_back())
                    && !folded[m.end()..]
                        .chars()
                        .next()
                        .is_some_and(char::is_alphabetic)
            })
            .map(|m| {
                let end_char = origin[m.end() - 1];
                let end = end_char + text[end_char..].chars().next().map_or(0, char::len_utf8);
                CueHit {
                    span: (origin[m.start()], end),
                    class: matcher.classes[m.pattern().as_usize()],
                }
            })
            .collect();
        Self { hits }
    }

    /// Hits lying entirely inside `window`, in order.
    pub(crate) fn within(&self, window: Range<usize>) -> &[CueHit] {
        let from = self.hits.partition_point(|h| h.span.0 < window.start);
        let to = self.hits.partition_point(|h| h.span.0 < window.end);
        let slice = &self.hits[from..to.max(from)];
        let keep = slice.partition_point(|h| h.span.1 <= window.end);
        // Hits are ordered by start and do not overlap, so ends are ordered too.
        &slice[..keep]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str) -> Vec<(String, CueClass)> {
        Cues::find(text)
            .hits
            .iter()
            .map(|h| (text[h.span.0..h.span.1].to_string(), h.class))
            .collect()
    }

    #[test]
    fn finds_whole_words_across_accents_case_and_spacing() {
        let found = classes("Số  Tài\nKhoản Vietcombank, mã OTP, stkx");
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(
            found[0],
            ("Số  Tài\nKhoản".to_string(), CueClass::AccountNumber)
        );
        assert!(matches!(found[1].1, CueClass::Bank(b) if b.short_name == "Vietcombank"));
        assert_eq!(found[2].0, "mã");
        assert_eq!(found[3].0, "OTP");
    }

    #[test]
    fn longest_phrase_wins() {
        let found = classes("mã đơn hàng 123");
        assert_eq!(
            found,
            vec![("mã đơn hàng".to_string(), CueClass::NotAccount)]
        );
    }
}
