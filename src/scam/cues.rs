//! Cue words around numbers ("STK", "chuyển khoản", bank names, "OTP", "mã đơn"…), found once per message
//! with one Aho–Corasick pass over its accent-folded form, so deciding what each number is costs a
//! binary search instead of a regex scan per number. Pure.
//!
//! The word tables are below; bank and wallet names come from `banks`.

use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::MatchKind;
use aho_corasick::dfa::DFA;

use super::banks::{self, Bank};
use super::text::{fold_code_to_letter, is_whitespace_byte, push_folded};
use super::walk::each_leftmost;

/// Words that name an account number outright ("số tài khoản 1903…").
/// Written accent-folded and lowercase; matched against folded text on word
/// boundaries, a space standing for any run of whitespace.
const ACCOUNT_NUMBER_CUES: &[&str] = &[
    "stk",
    "so tk",
    "so tai khoan",
    "tai khoan",
    "tk",
    "ctk",
    "chu tk",
];

/// Words about paying: transfers, banks and wallets. A number near them is
/// likely an account, but may also be an amount ("CK 500000"). Same format as
/// [`ACCOUNT_NUMBER_CUES`].
const PAYMENT_CUES: &[&str] = &[
    "ngan hang",
    "nh",
    "chuyen khoan",
    "ck",
    "noi dung ck",
    "vietcombank",
    "vcb",
    "techcombank",
    "tcb",
    "mb",
    "mbbank",
    "mb bank",
    "bidv",
    "agribank",
    "acb",
    "vpbank",
    "vpb",
    "tpbank",
    "tpb",
    "sacombank",
    "stb",
    "vietinbank",
    "vietin",
    "ctg",
    "msb",
    "hdbank",
    "hdb",
    "shb",
    "vib",
    "eximbank",
    "eib",
    "lpbank",
    "momo",
    "zalopay",
    "zalo pay",
    "viettel money",
    "vnpay",
];

/// Words that, when they are the cue nearest before a number, say it is *not*
/// an account: one-time codes, order and ID numbers, amounts, other phone-like
/// numbers. Same format as [`ACCOUNT_NUMBER_CUES`].
const NON_ACCOUNT_CUES: &[&str] = &[
    "otp",
    "ma",
    "ma xac nhan",
    "ma xac thuc",
    "ma bao mat",
    "ma kich hoat",
    "ma don",
    "ma don hang",
    "don hang",
    "ma van don",
    "van don",
    "ma gd",
    "ma giao dich",
    "cccd",
    "cmnd",
    "cmt",
    "can cuoc",
    "ma so thue",
    "mst",
    "sdt",
    "dt",
    "so dien thoai",
    "dien thoai",
    "hotline",
    "lh",
    "lien lac",
    "so la",
    "goi",
    "goi dien",
    "lien he",
    "zalo",
    "sms",
    "nhan tin",
    "call",
    "imei",
    "serial",
    "seri",
];

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
    /// Walked by [`each_leftmost`].
    automaton: DFA,
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
    for word in ACCOUNT_NUMBER_CUES {
        add(word, CueClass::AccountNumber);
    }
    for word in PAYMENT_CUES {
        add(word, CueClass::Payment);
    }
    for word in NON_ACCOUNT_CUES {
        add(word, CueClass::NotAccount);
    }
    // A full DFA: a few hundred patterns make a small one, and it scans several times faster than the NFA.
    let automaton = DFA::builder()
        .match_kind(MatchKind::LeftmostLongest)
        // Many cue words are two letters ("tk", "ck", "ma"): a prefilter would stop nearly everywhere.
        .prefilter(false)
        .build(&patterns)
        .expect("cue words build an automaton");
    Matcher { automaton, classes }
});

impl Cues {
    /// Finds the cue words of `text` (whole words, accents and case ignored, any whitespace between words).
    pub(crate) fn find(text: &str) -> Self {
        let (folded, origin) = fold_with_origins(text);
        let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let matcher = &*MATCHER;
        let mut hits = Vec::new();
        each_leftmost(&matcher.automaton, folded.as_bytes(), |m| {
            // A digit may follow directly: "STK0071000123456".
            let whole_word = !is_word(folded[..m.start].chars().next_back())
                && !folded[m.end..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphabetic);
            if whole_word {
                let end_char = origin[m.end - 1];
                let end = end_char + text[end_char..].chars().next().map_or(0, char::len_utf8);
                hits.push(CueHit {
                    span: (origin[m.start], end),
                    class: matcher.classes[m.pattern],
                });
            }
        });
        Self { hits }
    }
}

/// The folded text with runs of whitespace as single spaces, and for each folded byte the offset of the
/// char of `text` it came from (plus one final entry, `text.len()`).
fn fold_with_origins(text: &str) -> (String, Vec<usize>) {
    let bytes = text.as_bytes();
    let mut folded: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut origin: Vec<usize> = Vec::with_capacity(bytes.len() + 1);
    let mut scratch = String::new();
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        // Nearly every char is ASCII or a Vietnamese letter: both fold to one byte, found here without
        // the general char machinery (this loop runs over every message with a long number).
        if b.is_ascii() {
            if !is_whitespace_byte(b) {
                folded.push(b.to_ascii_lowercase());
                origin.push(at);
            } else if folded.last() != Some(&b' ') {
                folded.push(b' ');
                origin.push(at);
            }
            at += 1;
            continue;
        }
        if let Some((code, len)) = decode_two_or_three_bytes(bytes, at)
            && let Some(letter) = fold_code_to_letter(code)
        {
            folded.push(letter);
            origin.push(at);
            at += len;
            continue;
        }
        let c = text[at..].chars().next().unwrap_or_default();
        if c.is_whitespace() {
            if folded.last() != Some(&b' ') {
                folded.push(b' ');
                origin.push(at);
            }
        } else {
            scratch.clear();
            push_folded(c, &mut scratch);
            origin.extend(std::iter::repeat_n(at, scratch.len()));
            folded.extend_from_slice(scratch.as_bytes());
        }
        at += c.len_utf8();
    }
    origin.push(text.len());
    // Only ASCII bytes and whole folded chars were written.
    let folded = String::from_utf8(folded).expect("folding writes whole chars");
    (folded, origin)
}

/// The code point of the two- or three-byte UTF-8 sequence at `at` (Vietnamese letters are such), with
/// its length.
fn decode_two_or_three_bytes(bytes: &[u8], at: usize) -> Option<(u32, usize)> {
    let payload = |i: usize| bytes.get(at + i).map(|&b| u32::from(b & 0x3F));
    match bytes[at] {
        lead @ 0xC0..=0xDF => Some(((u32::from(lead & 0x1F) << 6) | payload(1)?, 2)),
        lead @ 0xE0..=0xEF => Some((
            (u32::from(lead & 0x0F) << 12) | (payload(1)? << 6) | payload(2)?,
            3,
        )),
        _ => None,
    }
}

impl Cues {
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

/// The message's cue words, found the first time a number needs them.
pub(crate) struct LazyCues<'a> {
    text: &'a str,
    cues: std::cell::OnceCell<Cues>,
}

impl<'a> LazyCues<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            cues: std::cell::OnceCell::new(),
        }
    }

    pub(crate) fn get(&self) -> &Cues {
        self.cues.get_or_init(|| Cues::find(self.text))
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

    /// The fold char by char, as it was written before the ASCII fast path.
    fn fold_with_origins_by_char(text: &str) -> (String, Vec<usize>) {
        let mut folded = String::new();
        let mut origin = Vec::new();
        for (at, c) in text.char_indices() {
            if c.is_whitespace() {
                if !folded.ends_with(' ') {
                    folded.push(' ');
                    origin.push(at);
                }
                continue;
            }
            let mut scratch = String::new();
            push_folded(c, &mut scratch);
            origin.extend(std::iter::repeat_n(at, scratch.len()));
            folded.push_str(&scratch);
        }
        origin.push(text.len());
        (folded, origin)
    }

    proptest::proptest! {
        #[test]
        fn fast_fold_equals_fold_by_char(text in "[ a-zA-Z0-9.,\\t\\n\\x0B\\u{A0}\\u{3000}à-ỹĐđ\\u{300}-\\u{303}]{0,40}") {
            proptest::prop_assert_eq!(fold_with_origins(&text), fold_with_origins_by_char(&text));
        }

        #[test]
        fn fast_fold_equals_fold_by_char_on_any_text(text in proptest::prelude::any::<String>()) {
            proptest::prop_assert_eq!(fold_with_origins(&text), fold_with_origins_by_char(&text));
        }
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
