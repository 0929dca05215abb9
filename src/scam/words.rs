//! A message as matchable words, with the tricks scammers use to slip past keyword filters undone, and
//! each word's byte range in the text as written. Pure.
//!
//! Undone: accents and case (`Nhận` → `nhan`), look-alike letters of other scripts (Cyrillic `а`),
//! symbols and digits standing for letters inside a word (`d!eu k!en`, `H0 TR0`), punctuation breaking a
//! word up (`N'ha'n T,ien`, `B.H.X.H`), invisible characters, and letters spaced out one by one
//! (`t r u n g  t h u o n g`). A word changed by anything but accents and case is marked obfuscated, so
//! a phrase found only thanks to the undoing can say so.

use std::ops::Range;

use super::text::push_folded;

/// One matchable word.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    /// Start of the word in [`Words::line`].
    at: usize,
    /// Length of the word in [`Words::line`].
    len: usize,
    /// Byte range in the text as written.
    span: Range<usize>,
    /// Changed by more than accent and case folding.
    obfuscated: bool,
}

/// The matchable words of a text.
#[derive(Debug, Clone)]
pub struct Words {
    /// The words, lowercase ASCII letters and digits, each with one space before and after:
    /// `" nhan tien ngay "`.
    line: String,
    words: Vec<Word>,
}

/// Invisible characters used to break words up; dropped inside a word.
const INVISIBLE: &[char] = &[
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{AD}',
];

/// Letters of other scripts that look like Latin ones, mapped to the letter they imitate.
const LOOK_ALIKES: &[(char, char)] = &[
    // Cyrillic.
    ('а', 'a'),
    ('в', 'b'),
    ('е', 'e'),
    ('ё', 'e'),
    ('к', 'k'),
    ('м', 'm'),
    ('н', 'h'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('т', 't'),
    ('у', 'y'),
    ('х', 'x'),
    ('і', 'i'),
    ('ј', 'j'),
    ('ѕ', 's'),
    ('ԁ', 'd'),
    ('ԛ', 'q'),
    ('ԝ', 'w'),
    ('ո', 'n'),
    ('А', 'a'),
    ('В', 'b'),
    ('Е', 'e'),
    ('К', 'k'),
    ('М', 'm'),
    ('Н', 'h'),
    ('О', 'o'),
    ('Р', 'p'),
    ('С', 'c'),
    ('Т', 't'),
    ('У', 'y'),
    ('Х', 'x'),
    ('І', 'i'),
    ('Ј', 'j'),
    ('Ѕ', 's'),
    // Greek.
    ('α', 'a'),
    ('β', 'b'),
    ('ε', 'e'),
    ('ι', 'i'),
    ('κ', 'k'),
    ('ν', 'v'),
    ('ο', 'o'),
    ('ρ', 'p'),
    ('τ', 't'),
    ('υ', 'u'),
    ('χ', 'x'),
    ('Α', 'a'),
    ('Β', 'b'),
    ('Ε', 'e'),
    ('Η', 'h'),
    ('Ι', 'i'),
    ('Κ', 'k'),
    ('Μ', 'm'),
    ('Ν', 'n'),
    ('Ο', 'o'),
    ('Ρ', 'p'),
    ('Τ', 't'),
    ('Υ', 'y'),
    ('Χ', 'x'),
    ('Ζ', 'z'),
    // Latin small capitals and other stand-ins.
    ('ı', 'i'),
    ('ł', 'l'),
    ('ø', 'o'),
    ('ß', 's'),
];

/// Symbols and digits that stand for a letter when letters surround them.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        _ => return None,
    })
}

/// One char of a chunk, classified.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// A folded ASCII letter; `true` when it came from another script.
    Letter(char, bool),
    Digit(char),
    /// A symbol that may stand for a letter (`!`, `@`, `$`, `|`).
    Symbol(char),
    /// Punctuation or anything else: a break inside the chunk.
    Break,
    /// Nothing to match (a combining mark, an invisible char).
    Nothing(bool),
}

fn classify(c: char, scratch: &mut String) -> Piece {
    if INVISIBLE.contains(&c) {
        return Piece::Nothing(true);
    }
    if c.is_ascii_digit() {
        return Piece::Digit(c);
    }
    if matches!(c, '!' | '@' | '$' | '|') {
        return Piece::Symbol(c);
    }
    if let Some(&(_, latin)) = LOOK_ALIKES.iter().find(|(from, _)| *from == c) {
        return Piece::Letter(latin, true);
    }
    if c.is_alphabetic() {
        scratch.clear();
        push_folded(c, scratch);
        let mut letters = scratch.chars().filter(char::is_ascii_alphanumeric);
        return match (letters.next(), letters.next()) {
            (Some(letter), None) => Piece::Letter(letter, false),
            // A letter outside Latin with no look-alike: not a word char for matching.
            (None, _) => Piece::Break,
            // A ligature ("ﬁ"): keep its first letter; rare enough not to matter.
            (Some(letter), Some(_)) => Piece::Letter(letter, false),
        };
    }
    if unicode_normalization::char::is_combining_mark(c) {
        return Piece::Nothing(false);
    }
    Piece::Break
}

/// A run of word chars between breaks inside one chunk: its letters and where it came from.
struct Part {
    text: String,
    span: Range<usize>,
    obfuscated: bool,
    has_letter: bool,
}

impl Words {
    #[must_use]
    pub fn new(text: &str) -> Words {
        let mut words: Vec<(String, Range<usize>, bool)> = Vec::new();
        let mut scratch = String::new();
        let mut chunk_start = None;
        // Single-letter chunks waiting to be joined ("t r u n g"): their words' indexes.
        for (at, c) in text
            .char_indices()
            .chain(std::iter::once((text.len(), ' ')))
        {
            if c.is_whitespace() {
                if let Some(start) = chunk_start.take() {
                    push_chunk(text, start..at, &mut words, &mut scratch);
                }
            } else if chunk_start.is_none() {
                chunk_start = Some(at);
            }
        }
        let words = join_spaced_letters(text, words);
        let mut line = String::with_capacity(text.len() + 2);
        line.push(' ');
        let words = words
            .into_iter()
            .map(|(word, span, obfuscated)| {
                let at = line.len();
                line.push_str(&word);
                line.push(' ');
                Word {
                    at,
                    len: word.len(),
                    span,
                    obfuscated,
                }
            })
            .collect();
        Words { line, words }
    }

    /// The words as one line, a space before and after each: match phrases as `" nhan tien "`.
    #[must_use]
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The byte range of the written text that the line's `range` came from (whole words).
    #[must_use]
    pub fn span_of(&self, range: Range<usize>) -> Range<usize> {
        let (first, last) = self.words_in(range);
        match (
            self.words.get(first),
            last.checked_sub(1).and_then(|l| self.words.get(l)),
        ) {
            (Some(a), Some(b)) if first < last => a.span.start..b.span.end,
            _ => 0..0,
        }
    }

    /// True when a word in the line's `range` was obfuscated.
    #[must_use]
    pub fn obfuscated_in(&self, range: Range<usize>) -> bool {
        let (first, last) = self.words_in(range);
        self.words
            .get(first..last)
            .is_some_and(|words| words.iter().any(|w| w.obfuscated))
    }

    /// The obfuscated words of four letters or more, as `(line range, word)`: a phrase may hide in one
    /// written without spaces (`trungthuong`).
    pub fn obfuscated_words(&self) -> impl Iterator<Item = (Range<usize>, &str)> {
        self.words
            .iter()
            .filter(|w| w.obfuscated && w.len >= 4)
            .map(|w| (w.at..w.at + w.len, &self.line[w.at..w.at + w.len]))
    }

    /// Indexes `first..last` of the words overlapping the line's `range`.
    fn words_in(&self, range: Range<usize>) -> (usize, usize) {
        let first = self.words.partition_point(|w| w.at + w.len <= range.start);
        let last = self.words.partition_point(|w| w.at < range.end);
        (first, last.max(first))
    }
}

/// Splits one whitespace-free chunk into words, undoing symbols and punctuation inside it.
fn push_chunk(
    text: &str,
    chunk: Range<usize>,
    words: &mut Vec<(String, Range<usize>, bool)>,
    scratch: &mut String,
) {
    let chars: Vec<(usize, char)> = text[chunk.clone()]
        .char_indices()
        .map(|(i, c)| (chunk.start + i, c))
        .collect();
    let pieces: Vec<Piece> = chars.iter().map(|&(_, c)| classify(c, scratch)).collect();
    let is_letter = |i: usize| matches!(pieces.get(i), Some(Piece::Letter(..)));
    let mut parts: Vec<Part> = Vec::new();
    let mut current: Option<Part> = None;
    for (i, piece) in pieces.iter().enumerate() {
        let (at, c) = chars[i];
        let end = at + c.len_utf8();
        // A digit or symbol between letters (or next to one, for digits) stands for a letter.
        let before = i.checked_sub(1).is_some_and(is_letter);
        let after = is_letter(i + 1);
        let (ch, changed) = match *piece {
            Piece::Letter(l, foreign) => (Some(l), foreign),
            Piece::Digit(d) => match leet(d) {
                // Between letters any look-alike digit; at a word's edge only `0`, so `4G` stays.
                Some(l)
                    if ((before && after) || ((before || after) && d == '0'))
                        && letters_around(&pieces, i) =>
                {
                    (Some(l), true)
                }
                _ => (Some(d), false),
            },
            Piece::Symbol(s) => match leet(s) {
                Some(l) if before && after => (Some(l), true),
                _ => (None, false),
            },
            Piece::Nothing(changed) => {
                if let Some(part) = current.as_mut() {
                    part.obfuscated |= changed;
                    part.span.end = end;
                }
                continue;
            }
            Piece::Break => (None, false),
        };
        match ch {
            Some(ch) => {
                let part = current.get_or_insert_with(|| Part {
                    text: String::new(),
                    span: at..end,
                    obfuscated: false,
                    has_letter: false,
                });
                part.text.push(ch);
                part.span.end = end;
                part.obfuscated |= changed;
                part.has_letter |= ch.is_ascii_alphabetic();
            }
            None => {
                if let Some(part) = current.take() {
                    parts.push(part);
                }
            }
        }
    }
    if let Some(part) = current.take() {
        parts.push(part);
    }
    // Punctuation inside a word breaks it into bits no word is made of ("N'ha'n", "T,ien", "B.H.X.H",
    // "HO.AN"): a lone letter, or nothing but one- and two-letter bits. Real joins ("viec,luong",
    // "sinh-trac-hoc") separate whole syllables and stay separate words.
    let broken_word = parts.len() > 1
        && parts.iter().all(|p| p.has_letter)
        && (parts.iter().any(|p| p.text.len() == 1) || parts.iter().all(|p| p.text.len() <= 2));
    if broken_word {
        let span = parts[0].span.start..parts[parts.len() - 1].span.end;
        let text: String = parts.iter().map(|p| p.text.as_str()).collect();
        words.push((text, span, true));
    } else {
        words.extend(parts.into_iter().map(|p| (p.text, p.span, p.obfuscated)));
    }
}

/// True when the digit at `i` sits inside letters: a letter on at least one side and no digit on either,
/// so `H0` and `kh0a` read as letters while `10tr`, `4G` and `0912` stay numbers.
fn letters_around(pieces: &[Piece], i: usize) -> bool {
    let digit =
        |j: Option<usize>| j.is_some_and(|j| matches!(pieces.get(j), Some(Piece::Digit(_))));
    let letters_in_chunk = pieces
        .iter()
        .filter(|p| matches!(p, Piece::Letter(..)))
        .count();
    !digit(i.checked_sub(1)) && !digit(Some(i + 1)) && letters_in_chunk >= 1
}

/// Joins runs of three or more one-letter words written with single spaces ("t r u n g") into one word;
/// a wider gap or a line break between letters ends a word.
fn join_spaced_letters(
    text: &str,
    words: Vec<(String, Range<usize>, bool)>,
) -> Vec<(String, Range<usize>, bool)> {
    let single = |w: &(String, Range<usize>, bool)| {
        w.0.len() == 1 && w.0.as_bytes()[0].is_ascii_alphabetic()
    };
    let mut out: Vec<(String, Range<usize>, bool)> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let mut j = i;
        while j < words.len() && single(&words[j]) {
            let next = j + 1;
            if next < words.len()
                && single(&words[next])
                && text[words[j].1.end..words[next].1.start] == *" "
            {
                j = next;
            } else {
                break;
            }
        }
        let run = j + 1 - i;
        if single(&words[i]) && run >= 3 {
            let text: String = words[i..=j].iter().map(|w| w.0.as_str()).collect();
            out.push((text, words[i].1.start..words[j].1.end, true));
            i = j + 1;
        } else {
            out.push(words[i].clone());
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> String {
        Words::new(text).line().trim().to_string()
    }

    #[test]
    fn folds_accents_case_and_punctuation_between_words() {
        assert_eq!(line("Việc nhẹ, LƯƠNG cao!"), "viec nhe luong cao");
        assert_eq!(
            line("Đăng ký-ngay: sinh-trắc-học"),
            "dang ky ngay sinh trac hoc"
        );
    }

    #[test]
    fn undoes_symbols_digits_and_broken_words() {
        assert_eq!(line("d!eu k!en"), "dieu kien");
        assert_eq!(line("H0 TR0 kh0a"), "ho tro khoa");
        assert_eq!(line("N'ha'n T,ien"), "nhan tien");
        assert_eq!(line("qu'y B.H.X.H"), "quy bhxh");
        assert_eq!(line("V.A.Y  T.I.E.N"), "vay tien");
        assert_eq!(line("HO.AN T.IEN"), "hoan tien");
        assert_eq!(line("nhận tiề\u{200B}n"), "nhan tien");
    }

    #[test]
    fn numbers_amounts_and_codes_stay_as_written() {
        assert_eq!(
            line("0912345678 500k 10tr 4G 07/12/2026"),
            "0912345678 500k 10tr 4g 07 12 2026"
        );
        assert_eq!(line("OTP: 123456."), "otp 123456");
    }

    #[test]
    fn look_alike_letters_of_other_scripts_read_as_latin() {
        // Cyrillic а and о.
        assert_eq!(
            line("vietcombаnk trúng thưởng cоn"),
            "vietcombank trung thuong con"
        );
        let words = Words::new("ngân hàng vietcombаnk");
        let at = words.line().find("vietcombank").unwrap();
        assert!(words.obfuscated_in(at..at + 11));
        assert!(!words.obfuscated_in(1..4));
    }

    #[test]
    fn spaced_out_letters_join_and_wide_gaps_split() {
        assert_eq!(line("t r u n g  t h u o n g ngay"), "trung thuong ngay");
        assert_eq!(line("T R U N G T H U O N G"), "trungthuong");
        // Two single letters are not a run.
        assert_eq!(line("a b test"), "a b test");
    }

    #[test]
    fn spans_point_back_to_the_text_as_written() {
        let text = "Quý khách N'ha'n T,ien ngay";
        let words = Words::new(text);
        let at = words.line().find("nhan tien").unwrap();
        let span = words.span_of(at..at + "nhan tien".len());
        assert_eq!(&text[span], "N'ha'n T,ien");
        assert!(words.obfuscated_in(at..at + 4));
        let first = words.span_of(1..4);
        assert_eq!(&text[first], "Quý");
    }

    #[test]
    fn obfuscated_words_are_listed_for_phrase_search_without_spaces() {
        let words = Words::new("t r u n g t h u o n g xe SH");
        let found: Vec<&str> = words.obfuscated_words().map(|(_, w)| w).collect();
        assert_eq!(found, vec!["trungthuong"]);
    }

    proptest::proptest! {
        #[test]
        fn any_text_gives_spans_inside_it(text in proptest::prelude::any::<String>()) {
            let words = Words::new(&text);
            for w in &words.words {
                proptest::prop_assert!(text.get(w.span.clone()).is_some());
                proptest::prop_assert!(w.len > 0);
            }
        }
    }
}
