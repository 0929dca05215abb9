//! Hand-written scanners for the number shapes the extractor looks for: runs of grouped digits, phone
//! numbers as written in Vietnam, and dot-grouped thousands.
//!
//! They replace regexes that each took a whole pass over the message (and a backtracking pass for
//! captures); numbers are short and few, so looking only at the bytes that can start one is much
//! cheaper. The unit tests check each scanner against the regex it replaced. Pure: no IO.

use std::ops::Range;

use super::scan::position_from;

/// The byte length of one grouping separator between digits at `at` (space, no-break space, dot or
/// dash), or 0 when there is none.
pub(crate) fn separator_len(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at) {
        Some(b' ' | b'.' | b'-') => 1,
        Some(0xC2) if bytes.get(at + 1) == Some(&0xA0) => 2,
        _ => 0,
    }
}

fn is_digit_at(bytes: &[u8], at: usize) -> bool {
    bytes.get(at).is_some_and(u8::is_ascii_digit)
}

/// A maximal run of ASCII digits joined by single separators (`1903 6688.8888`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NumberRun {
    pub span: Range<usize>,
    /// How many digits it holds.
    pub digits: usize,
}

/// Every number run of `text`, in order.
pub(crate) fn number_runs(text: &str) -> Vec<NumberRun> {
    let bytes = text.as_bytes();
    let mut runs = Vec::with_capacity(8);
    let mut at = 0;
    while let Some(start) = position_from(bytes, at, |b| b.is_ascii_digit()) {
        let (mut end, mut digits) = (start + 1, 1);
        loop {
            if is_digit_at(bytes, end) {
                end += 1;
            } else {
                let separator = separator_len(bytes, end);
                if separator == 0 || !is_digit_at(bytes, end + separator) {
                    break;
                }
                end += separator + 1;
            }
            digits += 1;
        }
        runs.push(NumberRun {
            span: start..end,
            digits,
        });
        at = end;
    }
    runs
}

/// A phone number shape found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhoneShape {
    pub span: Range<usize>,
    pub national: NationalDigits,
}

/// The national number's digits (without trunk `0` or country code): 9 for a mobile, 10 for a landline.
/// Kept inline: most shapes are rejected, and they should not cost an allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NationalDigits {
    digits: [u8; MAX_NATIONAL_DIGITS],
    len: usize,
}

const MAX_NATIONAL_DIGITS: usize = 10;

impl NationalDigits {
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.digits[..self.len]).unwrap_or_default()
    }
}

/// Bytes a phone number can start with: `(+84)`, `(0084)`, `(028)`, `+84`, `0084`, `84…`, or a trunk `0`.
fn may_start_phone(b: u8) -> bool {
    matches!(b, b'(' | b'+' | b'0' | b'8')
}

/// The most bytes a phone shape can have before its national number: `(`, `00` and `84` with a
/// whitespace char (at most 3 bytes) around each, `)`, then a separator (at most 2), `(0)` and another
/// separator. (`(0236) ` is shorter.)
pub(crate) const MAX_PHONE_PREFIX_BYTES: usize = 1 + 3 + 2 + 3 + 2 + 3 + 1 + 2 + 3 + 2;

/// Where phone shapes can start: the national number is digits joined by single separators, so it lies in
/// a number run of 9 digits or more, at most [`MAX_PHONE_PREFIX_BYTES`] after the shape's start; or, with
/// the area code in parentheses (`(028) 3822 5678`), its subscriber part is a run of 6 digits or more right
/// after the `)`. Merged byte ranges, in order.
pub(crate) fn phone_search_windows(text: &str, runs: &[NumberRun]) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut windows: Vec<Range<usize>> = Vec::new();
    for run in runs
        .iter()
        .filter(|run| run.digits >= 9 || (run.digits >= 6 && after_paren(bytes, run.span.start)))
    {
        // One back-off for both kinds keeps the windows sorted by start, so merging stays a single pass.
        let start = run.span.start.saturating_sub(MAX_PHONE_PREFIX_BYTES);
        match windows.last_mut() {
            Some(last) if last.end >= start => last.end = run.span.end,
            _ => windows.push(start..run.span.end),
        }
    }
    windows
}

/// A `)` ends right before `at`, or one separator before it.
fn after_paren(bytes: &[u8], at: usize) -> bool {
    let before = &bytes[..at];
    before.ends_with(b")")
        || [&b") "[..], b").", b")-", ")\u{A0}".as_bytes()]
            .iter()
            .any(|tail| before.ends_with(tail))
}

/// The leftmost phone shape starting in `from..to` (byte offsets; any, not only char boundaries).
pub(crate) fn next_phone_shape(text: &str, from: usize, to: usize) -> Option<PhoneShape> {
    let bytes = text.as_bytes();
    (from..to.min(bytes.len()))
        // Phone shapes start with an ASCII byte, which is always a char boundary.
        .filter(|&at| may_start_phone(bytes[at]))
        .find_map(|at| phone_shape_at(text, at))
}

/// The phone shape starting exactly at `start`, as the regex this replaces matched it (`AREA` is the
/// area code in parentheses, see [`national_number_after_paren_area`]):
///
/// ```text
/// (?: (?: \(\s?(?:\+|00)?\s?84\s?\) | \+\s?84 | 0084 ) SEP? (?: \(0\) | 0 )? SEP?   # (+84), (0084), +84, 0084
///   | 84 SEP?                                                           # 84… without '+'
///   | 0 SEP? )                                                          # trunk prefix
/// (?: [35789] (?: SEP? [0-9] ){8} | 2 (?: SEP? [0-9] ){9} )             # mobile | landline
/// | \(0 AREA                                                            # (028) 3822 5678
/// ```
///
/// Which alternative applies is decided by the first bytes, and because separators are not digits and a
/// national number never starts with `0`, every optional part can be taken greedily: there is at most
/// one way to match at a given start, so no backtracking is needed.
fn phone_shape_at(text: &str, start: usize) -> Option<PhoneShape> {
    let bytes = text.as_bytes();
    let (end, national) = match bytes[start] {
        b'(' => match country_code_in_parens(text, start) {
            Some(at) => national_number(bytes, skip_trunk(bytes, at))?,
            None => national_number_after_paren_area(bytes, expect(bytes, start, b"(0")?)?,
        },
        b'+' => {
            let at = skip_whitespace(text, start + 1);
            national_number(bytes, skip_trunk(bytes, expect(bytes, at, b"84")?))?
        }
        b'0' if bytes[start..].starts_with(b"0084") => {
            national_number(bytes, skip_trunk(bytes, start + 4))?
        }
        b'8' => {
            let at = expect(bytes, start, b"84")?;
            national_number(bytes, at + separator_len(bytes, at))?
        }
        // `0 9 1 2 …`: digits spaced out to slip past filters.
        b'0' => national_number(bytes, start + 1 + separator_len(bytes, start + 1))?,
        _ => return None,
    };
    Some(PhoneShape {
        span: start..end,
        national,
    })
}

/// `\(\s?(?:\+|00)?\s?84\s?\)` at `start`: the end of the closing parenthesis.
fn country_code_in_parens(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = skip_whitespace(text, start + 1);
    if bytes.get(at) == Some(&b'+') {
        at += 1;
    } else if bytes[at..].starts_with(b"00") {
        at += 2;
    }
    at = skip_whitespace(text, at);
    at = expect(bytes, at, b"84")?;
    at = skip_whitespace(text, at);
    expect(bytes, at, b")")
}

/// `SEP? (?: \(0\) | 0 )? SEP?` after a country code: "+84 (0) 912…", "+84 0912…".
fn skip_trunk(bytes: &[u8], at: usize) -> usize {
    let mut at = at + separator_len(bytes, at);
    if bytes[at..].starts_with(b"(0)") {
        at += 3;
    } else if bytes.get(at) == Some(&b'0') {
        at += 1;
    }
    at + separator_len(bytes, at)
}

/// The national number at `at`: `[35789]` and 8 more digits, or `2` and 9 more, each digit optionally
/// after one separator. Its end and its digits.
fn national_number(bytes: &[u8], at: usize) -> Option<(usize, NationalDigits)> {
    let (mut national, at) = first_national_digit(bytes, at)?;
    let end = more_national_digits(bytes, at, &mut national, 1)?;
    Some((end, national))
}

/// The national number of `(028) 3822 5678` from after its `(0`: an area code (or mobile prefix) of 2
/// or 3 digits, `)`, then the rest of the digits, each optionally after one separator:
///
/// ```text
/// [35789][0-9]{1,2} \) (?: SEP? [0-9] ){7 or 6}  |  2[0-9]{1,2} \) (?: SEP? [0-9] ){8 or 7}
/// ```
fn national_number_after_paren_area(bytes: &[u8], at: usize) -> Option<(usize, NationalDigits)> {
    let (mut national, mut at) = first_national_digit(bytes, at)?;
    let mut area_digits = 1;
    while let Some(&digit) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
        if area_digits == MAX_PAREN_AREA_DIGITS {
            return None;
        }
        national.digits[area_digits] = digit;
        area_digits += 1;
        at += 1;
    }
    if area_digits < MIN_PAREN_AREA_DIGITS {
        return None;
    }
    let at = expect(bytes, at, b")")?;
    let end = more_national_digits(bytes, at, &mut national, area_digits)?;
    Some((end, national))
}

/// Digits in parentheses after `(0`: `(24)`, `(236)`, `(912)`.
const MIN_PAREN_AREA_DIGITS: usize = 2;
const MAX_PAREN_AREA_DIGITS: usize = 3;

/// The first national digit at `at`, which decides the length: `[35789]` a mobile (9), `2` a landline (10).
fn first_national_digit(bytes: &[u8], at: usize) -> Option<(NationalDigits, usize)> {
    let first = *bytes.get(at)?;
    let len = match first {
        b'3' | b'5' | b'7' | b'8' | b'9' => 9,
        b'2' => MAX_NATIONAL_DIGITS,
        _ => return None,
    };
    let mut national = NationalDigits {
        digits: [0; MAX_NATIONAL_DIGITS],
        len,
    };
    national.digits[0] = first;
    Some((national, at + 1))
}

/// Fills the national digits from index `filled` on, each optionally after one separator, from `at`: the end.
fn more_national_digits(
    bytes: &[u8],
    mut at: usize,
    national: &mut NationalDigits,
    filled: usize,
) -> Option<usize> {
    let len = national.len;
    for slot in &mut national.digits[filled..len] {
        let digit_at = at + separator_len(bytes, at);
        *slot = *bytes.get(digit_at).filter(|b| b.is_ascii_digit())?;
        at = digit_at + 1;
    }
    Some(at)
}

/// `literal` at `at`: the offset after it.
fn expect(bytes: &[u8], at: usize, literal: &[u8]) -> Option<usize> {
    bytes[at..]
        .starts_with(literal)
        .then_some(at + literal.len())
}

/// `\s?`: past one whitespace character at `at`, if there is one.
fn skip_whitespace(text: &str, at: usize) -> usize {
    match text[at..].chars().next() {
        Some(c) if c.is_whitespace() => at + c.len_utf8(),
        _ => at,
    }
}

/// `1.500.000`: one to three digits, then groups of three after dots (Vietnamese money notation).
pub(crate) fn is_dot_grouped_thousands(written: &str) -> bool {
    let mut groups = written.split('.');
    let head_ok = groups
        .next()
        .is_some_and(|head| (1..=3).contains(&head.len()) && is_all_digits(head));
    let mut tail_groups = 0;
    for group in groups {
        if group.len() != 3 || !is_all_digits(group) {
            return false;
        }
        tail_groups += 1;
    }
    head_ok && tail_groups > 0
}

/// `103.21.44.9`: an IPv4 address, four dot-separated numbers 0–255 without leading zeros (a phone
/// grouped with dots, `098.765.43.21`, keeps its trunk `0`).
pub(crate) fn is_ipv4_literal(written: &str) -> bool {
    // Checked for every long number run: most fail on the length or the dots, without splitting.
    let bytes = written.as_bytes();
    if bytes.len() > 15 || bytes.iter().filter(|&&b| b == b'.').count() != 3 {
        return false;
    }
    let mut groups = 0;
    for group in written.split('.') {
        groups += 1;
        let octet_ok = (1..=3).contains(&group.len())
            && is_all_digits(group)
            && !(group.len() > 1 && group.starts_with('0'))
            && group.parse::<u16>().is_ok_and(|n| n <= 255);
        if !octet_ok || groups > 4 {
            return false;
        }
    }
    groups == 4
}

/// Digits standing alone in a number that make it written digit by digit.
const SCATTERED_DIGITS: usize = 6;

/// True when most of the number's digits stand alone between separators ("0.9.7.3 2.8.1 5.4.6",
/// "0 3 8 6 5 5 2 9 1 7"): nobody groups a number that way but to slip it past a filter.
pub(crate) fn written_digit_by_digit(written: &str) -> bool {
    written
        .split(|c: char| !c.is_ascii_digit())
        .filter(|group| group.len() == 1)
        .count()
        >= SCATTERED_DIGITS
}

fn is_all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex::Regex;

    const SEP: &str = r"[\x20\xA0.\-]";

    /// The phone pattern the scanner replaced.
    fn phone_re() -> Regex {
        Regex::new(&format!(
            r"(?x)
            (?:
                (?: \(\s?(?:\+|00)?\s?84\s?\) | \+\s?84 | 0084 ) {SEP}? (?: \(0\) | 0 )? {SEP}?
              | 84 {SEP}?
              | 0 {SEP}?
            )
            (?P<national> [35789] (?: {SEP}? [0-9] ){{8}} | 2 (?: {SEP}? [0-9] ){{9}} )
            | \(0 (?P<area>
                [35789][0-9] \) (?: {SEP}? [0-9] ){{7}}
              | [35789][0-9]{{2}} \) (?: {SEP}? [0-9] ){{6}}
              | 2[0-9] \) (?: {SEP}? [0-9] ){{8}}
              | 2[0-9]{{2}} \) (?: {SEP}? [0-9] ){{7}}
            )"
        ))
        .unwrap()
    }

    /// Every phone shape, searching again right after the start of each one (as the extractor does
    /// after a rejected candidate).
    fn all_shapes(text: &str) -> Vec<(Range<usize>, String)> {
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(shape) = next_phone_shape(text, from, text.len()) {
            from = shape.span.start + 1;
            found.push((shape.span, shape.national.as_str().to_string()));
        }
        found
    }

    /// [`all_shapes`], trying only the starts in [`phone_search_windows`].
    fn all_shapes_in_windows(text: &str) -> Vec<(Range<usize>, String)> {
        let mut found = Vec::new();
        let mut from = 0;
        for window in phone_search_windows(text, &number_runs(text)) {
            from = from.max(window.start);
            while let Some(shape) = next_phone_shape(text, from, window.end) {
                from = shape.span.start + 1;
                found.push((shape.span, shape.national.as_str().to_string()));
            }
        }
        found
    }

    fn all_shapes_by_regex(text: &str) -> Vec<(Range<usize>, String)> {
        let re = phone_re();
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(caps) = re.captures_at(text, from) {
            let whole = caps.get(0).unwrap();
            let national: String = caps
                .name("national")
                .or_else(|| caps.name("area"))
                .unwrap()
                .as_str()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            from = whole.start() + text[whole.start()..].chars().next().unwrap().len_utf8();
            found.push((whole.range(), national));
        }
        found
    }

    fn runs_by_regex(text: &str) -> Vec<NumberRun> {
        let re = Regex::new(&format!(r"[0-9](?:{SEP}?[0-9])*")).unwrap();
        re.find_iter(text)
            .map(|m| NumberRun {
                span: m.range(),
                digits: m.as_str().bytes().filter(u8::is_ascii_digit).count(),
            })
            .collect()
    }

    #[test]
    fn phone_shapes() {
        for (text, national) in [
            ("0912345678", "912345678"),
            ("(+84) 912345678", "912345678"),
            ("( + 84 ) 912 345 678", "912345678"),
            ("+84 (0) 912 345 678", "912345678"),
            ("+\u{A0}84\u{A0}0912\u{A0}345\u{A0}678", "912345678"),
            ("0084912345678", "912345678"),
            ("84-912-345-678", "912345678"),
            ("024 3825 1234", "2438251234"),
            ("(0084) 912 345 678", "912345678"),
            ("( 00 84 )912345678", "912345678"),
            ("(028) 3822 5678", "2838225678"),
            ("(028)38225678", "2838225678"),
            ("(0236) 3822 567", "2363822567"),
            ("(0236).382.2567", "2363822567"),
            ("(091) 234 5678", "912345678"),
            ("(0912) 345 678", "912345678"),
        ] {
            let shapes = all_shapes(text);
            assert_eq!(shapes[0], (0..text.len(), national.to_string()), "{text:?}");
        }
        assert!(all_shapes("0912 34 5").is_empty());
        for not_a_shape in [
            "(02) 3822 5678",
            "(02836) 3822 567",
            "(028 3822 5678",
            "(0 28) 38225678",
        ] {
            // Later starts inside may still be shapes; none at the parenthesis.
            assert!(
                all_shapes(not_a_shape)
                    .iter()
                    .all(|(span, _)| span.start > 0),
                "{not_a_shape:?}"
            );
        }
        // The longest prefix there is: windows must reach back this far.
        let longest = "(\u{3000}00\u{3000}84\u{3000})\u{A0}(0)\u{A0}912345678";
        assert_eq!(longest.find('9'), Some(MAX_PHONE_PREFIX_BYTES));
        assert_eq!(all_shapes_in_windows(longest), all_shapes(longest));
        assert_eq!(all_shapes(longest).len(), 1);
        assert!(all_shapes("+84 ..912345678").is_empty());
    }

    #[test]
    fn ipv4_literals() {
        for yes in [
            "103.21.44.9",
            "192.168.1.1",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.12.5",
        ] {
            assert!(is_ipv4_literal(yes), "{yes}");
        }
        for no in [
            "098.765.43.21",
            "0912.345.678",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.",
            "1..2.3",
            "1 2 3 4",
            "1.2.3.4444",
            "",
        ] {
            assert!(!is_ipv4_literal(no), "{no}");
        }
    }

    #[test]
    fn runs() {
        let runs = number_runs("gọi 0912 345 678, 1  2 và 3.-4");
        let digits: Vec<usize> = runs.iter().map(|r| r.digits).collect();
        assert_eq!(digits, vec![10, 1, 1, 1, 1]);
    }

    #[test]
    fn thousands() {
        for yes in ["1.500", "15.000.000", "999.999"] {
            assert!(is_dot_grouped_thousands(yes), "{yes}");
        }
        for no in [
            "1500",
            "1.50",
            "1234.567",
            ".500",
            "1.500.",
            "1.500 000",
            "",
            "1..500",
        ] {
            assert!(!is_dot_grouped_thousands(no), "{no}");
        }
    }

    /// Text made of the pieces the scanners react to.
    fn numbery_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[0-9]{1,10}",
            "[0-9]{1,3}(\\.[0-9]{3}){0,3}",
            Just(" ".to_string()),
            Just("  ".to_string()),
            Just("\u{A0}".to_string()),
            Just("\u{3000}".to_string()),
            Just(".".to_string()),
            Just("-".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("+".to_string()),
            Just("84".to_string()),
            Just("0084".to_string()),
            Just("(0)".to_string()),
            Just("(+84)".to_string()),
            Just("(0084)".to_string()),
            Just("(0".to_string()),
            Just("(028)".to_string()),
            Just("(0236) ".to_string()),
            Just("(091)".to_string()),
            Just("( +84 )".to_string()),
            Just("+84 ".to_string()),
            "[a-zđ]{1,3}",
            any::<char>().prop_map(|c| c.to_string()),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]

        #[test]
        fn phone_scanner_agrees_with_the_regex(text in numbery_text()) {
            prop_assert_eq!(all_shapes(&text), all_shapes_by_regex(&text));
        }

        #[test]
        fn phone_windows_miss_no_shape(text in numbery_text()) {
            prop_assert_eq!(all_shapes_in_windows(&text), all_shapes(&text));
        }

        #[test]
        fn run_scanner_agrees_with_the_regex(text in numbery_text()) {
            prop_assert_eq!(number_runs(&text), runs_by_regex(&text));
        }

        #[test]
        fn thousands_check_agrees_with_the_regex(text in numbery_text()) {
            let re = Regex::new(r"^[0-9]{1,3}(?:\.[0-9]{3})+$").unwrap();
            for run in number_runs(&text) {
                let written = &text[run.span];
                prop_assert_eq!(is_dot_grouped_thousands(written), re.is_match(written), "{:?}", written);
            }
            prop_assert_eq!(is_dot_grouped_thousands(&text), re.is_match(&text));
        }
    }
}
