//! Text preparation for matching: the normalised form entities are found in, a map from it back to
//! the caller's text, and the accent-free form keywords are matched on.
//!
//! Pure: no IO.

use std::borrow::Cow;
use std::ops::Range;

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use super::scan::position_from;

/// Invisible characters used to break up numbers and links; removed before matching.
const ZERO_WIDTH: &[char] = &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// A message in the form the extractor reads (NFC, ASCII digits, no zero-width characters), with a
/// map back to the text as the user wrote it.
pub struct PreparedText<'a> {
    original: &'a str,
    normalized: Cow<'a, str>,
    /// `None` when `normalized` is `original` (the common case: already NFC, nothing to strip).
    /// Otherwise one entry per non-empty normalised segment, in order:
    /// `(normalised start, original range)`. A segment is a starter and the combining marks after it.
    segments: Option<Vec<(usize, Range<usize>)>>,
}

impl<'a> PreparedText<'a> {
    #[must_use]
    pub fn new(original: &'a str) -> Self {
        if !needs_rewrite(original) {
            return Self {
                original,
                normalized: Cow::Borrowed(original),
                segments: None,
            };
        }
        let mut normalized = String::with_capacity(original.len());
        let mut segments = Vec::new();
        let mut segment_start = 0;
        let mut scratch = String::new();
        let mut flush = |from: usize, to: usize, normalized: &mut String| {
            if from == to {
                return;
            }
            // A lone ASCII char is its own NFC form: most segments, and no normaliser to set up.
            if to - from == 1 && original.as_bytes()[from].is_ascii() {
                segments.push((normalized.len(), from..to));
                normalized.push_str(&original[from..to]);
                return;
            }
            scratch.clear();
            scratch.extend(
                original[from..to]
                    .chars()
                    .filter(|c| !ZERO_WIDTH.contains(c))
                    .map(fullwidth_digit_to_ascii)
                    .nfc(),
            );
            if !scratch.is_empty() {
                segments.push((normalized.len(), from..to));
                normalized.push_str(&scratch);
            }
        };
        for (index, c) in original.char_indices() {
            // Composition happens within a starter and its combining marks, so NFC per segment equals NFC of
            // the whole for everything but starter+starter compositions (Hangul jamo, a few Indic vowel
            // signs), which Vietnamese text does not use.
            if index > 0 && (c.is_ascii() || canonical_combining_class(c) == 0) {
                flush(segment_start, index, &mut normalized);
                segment_start = index;
            }
        }
        flush(segment_start, original.len(), &mut normalized);
        Self {
            original,
            normalized: Cow::Owned(normalized),
            segments: Some(segments),
        }
    }

    /// The normalised text that spans from matching refer to.
    #[must_use]
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The text as the caller gave it.
    #[must_use]
    pub fn original(&self) -> &'a str {
        self.original
    }

    /// Maps a byte range of [`Self::normalized`] to the smallest range of the original text that
    /// produced it. Always a valid char-boundary range of the original.
    #[must_use]
    pub fn to_original(&self, span: Range<usize>) -> Range<usize> {
        let Some(segments) = &self.segments else {
            return span;
        };
        if segments.is_empty() || span.start >= span.end {
            let at = self.original_start(span.start);
            return at..at;
        }
        let start = self.original_start(span.start);
        let end = match segments.partition_point(|(norm_start, _)| *norm_start < span.end) {
            0 => 0,
            n => segments[n - 1].1.end,
        };
        start..end.max(start)
    }

    fn original_start(&self, normalized_offset: usize) -> usize {
        let Some(segments) = &self.segments else {
            return normalized_offset;
        };
        match segments.partition_point(|(norm_start, _)| *norm_start <= normalized_offset) {
            0 => 0,
            n => segments[n - 1].1.start,
        }
        .min(self.original.len())
    }
}

/// The normalised text alone (NFC, ASCII digits, no zero-width characters).
#[must_use]
pub fn normalize_text(text: &str) -> String {
    PreparedText::new(text).normalized().to_string()
}

/// The code points in U+2000..U+2BFF that NFC replaces (singleton decompositions: en/em quads, the Ohm, Kelvin
/// and Ångström signs, angle brackets, forking).
const NFC_SINGLETONS: [u32; 8] = [
    0x2000, 0x2001, 0x2126, 0x212A, 0x212B, 0x2329, 0x232A, 0x2ADC,
];

fn needs_rewrite(text: &str) -> bool {
    if text.is_ascii() {
        return false;
    }
    // Read from the UTF-8 lead bytes: this runs on every message, and decoding each char cost more than
    // the rest of the check.
    let bytes = text.as_bytes();
    let continuation = |at: usize| bytes.get(at).copied().unwrap_or(0);
    let mut all_plainly_composed = true;
    let mut from = 0;
    // Bytes up to 0xCB are ASCII, continuation bytes, or lead bytes of U+0080..U+02FF: plainly composed.
    while let Some(at) = position_from(bytes, from, |b| b > 0xCB) {
        from = at + 1;
        match bytes[at] {
            // U+1E00..U+1EFF (Latin Extended Additional: Vietnamese's precomposed letters).
            0xE1 if (0xB8..=0xBB).contains(&continuation(at + 1)) => {}
            0xE2 => {
                let (second, third) = (continuation(at + 1), continuation(at + 2));
                // U+200B..U+200D and U+2060: zero-width.
                if (second == 0x80 && (0x8B..=0x8D).contains(&third))
                    || (second == 0x81 && third == 0xA0)
                {
                    return true;
                }
                // U+2000..U+2BFF: punctuation, symbols, arrows, except the few that NFC replaces.
                let code = 0x2000 | (u32::from(second & 0x3F) << 6) | u32::from(third & 0x3F);
                all_plainly_composed &= second <= 0xAF && !NFC_SINGLETONS.contains(&code);
            }
            0xEF => {
                let (second, third) = (continuation(at + 1), continuation(at + 2));
                // U+FEFF (zero-width no-break space) and U+FF10..U+FF19 (full-width digits).
                if (second == 0xBB && third == 0xBF)
                    || (second == 0xBC && (0x90..=0x99).contains(&third))
                {
                    return true;
                }
                all_plainly_composed = false;
            }
            // U+1F000..U+1FAFF: emoji.
            0xF0 if continuation(at + 1) == 0x9F
                && (0x80..=0xAB).contains(&continuation(at + 2)) => {}
            _ => all_plainly_composed = false,
        }
    }
    // Latin (with Vietnamese's precomposed letters), punctuation and emoji never change under NFC;
    // only text with other characters pays for the full quick check.
    !all_plainly_composed && is_nfc_quick(text.chars()) != IsNormalized::Yes
}

fn fullwidth_digit_to_ascii(c: char) -> char {
    match c {
        '\u{FF10}'..='\u{FF19}' => {
            char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')).unwrap_or(c)
        }
        _ => c,
    }
}

/// `char::is_whitespace` for one ASCII byte (unlike `u8::is_ascii_whitespace`, true for U+000B too).
pub(crate) fn is_whitespace_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// One character accent-folded and lowercased: `Ệ` → `e`, `đ` → `d`, `ư` → `u`.
/// Pushes nothing for a lone combining mark.
pub(crate) fn push_folded(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if let Some(letter) = fold_to_letter(c) {
        out.push(letter);
        return;
    }
    fold_slow(c, out);
}

/// The one ASCII letter a non-ASCII char folds to, if it folds to exactly one: Latin letters with
/// diacritics (all of Vietnamese), by table lookup.
fn fold_to_letter(c: char) -> Option<char> {
    fold_code_to_letter(u32::from(c)).map(char::from)
}

/// [`fold_to_letter`] by code point (any value; those not in the table give `None`), as an ASCII byte.
pub(crate) fn fold_code_to_letter(code: u32) -> Option<u8> {
    FOLD_TABLE
        .get(usize::try_from(code).ok()?)
        .copied()
        .filter(|&folded| folded != 0)
}

/// [`fold_code_to_letter`] as a table indexed by code point, for loops over many chars.
pub(crate) fn fold_table() -> &'static [u8] {
    &FOLD_TABLE
}

/// Folded ASCII letter for each code point below U+2000 that folds to exactly one (0 = not such a letter).
static FOLD_TABLE: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    (0u32..0x2000)
        .map(|code| {
            let Some(c) = char::from_u32(code) else {
                return 0;
            };
            if c.is_ascii() {
                return 0;
            }
            let mut folded = String::new();
            fold_slow(c, &mut folded);
            match folded.as_bytes() {
                [b] if b.is_ascii_alphabetic() => *b,
                _ => 0,
            }
        })
        .collect()
});

fn fold_slow(c: char, out: &mut String) {
    match c {
        // U+0111 has no decomposition; U+00D0 is a common look-alike of Đ.
        'đ' | 'Đ' | 'Ð' => out.push('d'),
        c => unicode_normalization::char::decompose_canonical(c, |part| {
            if !('\u{0300}'..='\u{036F}').contains(&part) {
                out.extend(part.to_lowercase());
            }
        }),
    }
}

/// The last `n` whitespace-separated words of `text` before byte `at` (with the whitespace between them): the
/// context a cue word must stand in, right before a number.
#[must_use]
pub(crate) fn last_words(text: &str, at: usize, n: usize) -> &str {
    let before = text.get(..at).unwrap_or_default();
    let start = before
        .char_indices()
        .rev()
        .filter(|(_, c)| c.is_whitespace())
        .nth(n)
        .map_or(0, |(i, _)| i);
    &before[start..]
}

/// Lowercase, accents removed, `đ` → `d`: users often type without a Vietnamese IME.
#[must_use]
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_folded(c, &mut out);
    }
    out
}

/// The accent-free form as space-separated words, with a space at each end, so a phrase written
/// as `" viec nhe luong cao "` matches whole words across punctuation and line breaks.
#[must_use]
pub fn folded_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut folded = String::new();
    for c in text.chars() {
        folded.clear();
        push_folded(c, &mut folded);
        for f in folded.chars() {
            if f.is_alphanumeric() {
                out.push(f);
            } else if !out.ends_with(' ') {
                out.push(' ');
            }
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn already_normal_text_is_borrowed_with_identity_spans() {
        let text = "Chuyển khoản vào STK 1903 6688 8888";
        let prepared = PreparedText::new(text);
        assert!(matches!(prepared.normalized, Cow::Borrowed(_)));
        assert_eq!(prepared.to_original(4..9), 4..9);
    }

    #[test]
    fn decomposed_text_is_composed_and_spans_map_back() {
        // "số" written as s + o + U+0302 + U+0301, then a number.
        let text = "so\u{302}\u{301} 0912";
        let prepared = PreparedText::new(text);
        assert_eq!(prepared.normalized(), "số 0912");
        let digits = prepared.normalized().find('0').unwrap();
        let span = prepared.to_original(digits..prepared.normalized().len());
        assert_eq!(&text[span], "0912");
        let word = prepared.to_original(0.."số".len());
        assert_eq!(&text[word], "so\u{302}\u{301}");
    }

    #[test]
    fn zero_width_and_fullwidth_are_cleaned_and_kept_in_raw() {
        let text = "gọi ０９１２\u{200B}345678 nhé";
        let prepared = PreparedText::new(text);
        assert_eq!(prepared.normalized(), "gọi 0912345678 nhé");
        let start = prepared.normalized().find('0').unwrap();
        let span = prepared.to_original(start..start + 10);
        assert_eq!(&text[span], "０９１２\u{200B}345678");
    }

    /// [`needs_rewrite`] as first written, char by char.
    fn needs_rewrite_by_char(text: &str) -> bool {
        let mut all_plainly_composed = true;
        for c in text.chars() {
            if ZERO_WIDTH.contains(&c) || ('\u{FF10}'..='\u{FF19}').contains(&c) {
                return true;
            }
            all_plainly_composed &= (c as u32) < 0x0300
                || ('\u{1E00}'..='\u{1EFF}').contains(&c)
                || (('\u{2000}'..='\u{2BFF}').contains(&c)
                    && !NFC_SINGLETONS.contains(&(c as u32)))
                || ('\u{1F000}'..='\u{1FAFF}').contains(&c);
        }
        !all_plainly_composed && is_nfc_quick(text.chars()) != IsNormalized::Yes
    }

    #[test]
    fn byte_check_equals_char_check_at_every_boundary() {
        let edges = [
            0x7F, 0x80, 0x2FF, 0x300, 0x301, 0x1DFF, 0x1E00, 0x1EFF, 0x1F00, 0x1FFF, 0x2000,
            0x200A, 0x200B, 0x200D, 0x200E, 0x205F, 0x2060, 0x2061, 0x2126, 0x2127, 0x2ADC, 0x2BFF,
            0x2C00, 0xFEFE, 0xFEFF, 0xFF0F, 0xFF10, 0xFF19, 0xFF1A, 0x1EFFF, 0x1F000, 0x1FAFF,
            0x1FB00, 0x10FFFF,
        ];
        for code in edges {
            let c = char::from_u32(code).unwrap();
            for text in [
                format!("{c}"),
                format!("a{c}"),
                format!("e\u{301}{c}"),
                format!("{c}ệ"),
            ] {
                assert_eq!(
                    needs_rewrite(&text),
                    needs_rewrite_by_char(&text),
                    "U+{code:04X}"
                );
            }
        }
    }

    /// The shortcut never skips a character NFC would change, in all the ranges it treats as composed.
    #[test]
    fn plainly_composed_ranges_are_really_nfc_stable() {
        let ranges = [
            0x80u32..0x300,
            0x1E00..0x1F00,
            0x2000..0x2C00,
            0x1F000..0x1FB00,
        ];
        for code in ranges.into_iter().flatten() {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let text = format!("a{c}");
            let changes = text.nfc().collect::<String>() != text;
            if changes {
                assert!(needs_rewrite(&text), "U+{code:04X} changes under NFC");
            }
        }
        // The Ohm sign is normalised to the Greek capital omega.
        assert_eq!(normalize_text("10 \u{2126}"), "10 \u{3A9}");
    }

    proptest::proptest! {
        #[test]
        fn byte_check_equals_char_check(text in proptest::prelude::any::<String>()) {
            proptest::prop_assert_eq!(needs_rewrite(&text), needs_rewrite_by_char(&text));
        }
    }

    #[test]
    fn table_folding_equals_decomposition() {
        for code in 0x80u32..0x2000 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let (mut fast, mut slow) = (String::new(), String::new());
            push_folded(c, &mut fast);
            fold_slow(c, &mut slow);
            assert_eq!(fast, slow, "U+{code:04X}");
        }
    }

    #[test]
    fn folding_strips_marks_and_maps_d() {
        assert_eq!(
            fold("Đường Lương CAO, việc nhẹ"),
            "duong luong cao, viec nhe"
        );
        assert_eq!(
            folded_words("Việc nhẹ,\nlương   cao!"),
            " viec nhe luong cao "
        );
    }

    #[test]
    fn normalize_text_removes_invisible_chars_and_maps_fullwidth_digits() {
        assert_eq!(
            normalize_text("０９１２\u{200B}345\u{FEFF}678"),
            "0912345678"
        );
        assert_eq!(normalize_text("a\u{200C}b\u{200D}c\u{2060}d"), "abcd");
        // NFD "ố" becomes the single precomposed code point.
        assert_eq!(normalize_text("so\u{0302}\u{0301}"), "số");
    }

    #[test]
    fn the_last_words_before_a_place() {
        let text = "vui lòng liên hệ 0912 345 678";
        let at = text.find('0').unwrap();
        assert_eq!(last_words(text, at, 2), " liên hệ ");
        assert_eq!(last_words(text, at, 9), "vui lòng liên hệ ");
    }

    #[test]
    fn fold_for_matching_strips_accents() {
        assert_eq!(fold("Số Tài Khoản ĐÔNG Ðà"), "so tai khoan dong da");
    }
}
