//! Bank account numbers: a digit run is an account unless its context says it is a date, a year, an
//! amount, a code or a service number; the cue words around it (`cues`) and the bank named near it decide
//! the rest.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::scam::banks::Bank;
use crate::scam::cues::{CueClass, CueHit, LazyCues};
use crate::scam::entity::{Entity, EntityKind};
use crate::scam::numbers::{self, NumberRun};
use crate::scam::text::{fold_code_to_letter, normalize_text};

/// `VietQR` allows accounts of 6–19 characters.
pub(super) const MIN_ACCOUNT_DIGITS: usize = 6;
const MAX_ACCOUNT_DIGITS: usize = 19;
/// Without a cue word short numbers are too often codes or amounts.
const MIN_UNCUED_ACCOUNT_DIGITS: usize = 8;
/// Up to this many digits, a number ending in `000` is taken for an amount
/// written without unit ("CK 500000") unless an account-number cue precedes it.
const MAX_ROUND_AMOUNT_DIGITS: usize = 9;
/// How far (in chars) cue words are looked for around a number.
const CUE_WINDOW_BEFORE: usize = 40;
const CUE_WINDOW_AFTER: usize = 30;
/// A bank named within this many bytes after a number belongs to that number.
const BANK_OF_PREVIOUS_NUMBER: usize = 3;
/// A bank is often named once, earlier in the sentence ("nhân viên ngân hàng BIDV … số tài khoản 1261…").
const BANK_WINDOW_BEFORE: usize = 80;

/// Amount units right after a number: `500.000đ`, `50.000 VND`, `100k`, `2tr`.
/// Units that are also chat words must be glued to the number: "k" (không),
/// unaccented "ngan"/"dong" ("ngan hang" = ngân hàng, "Dong A" bank).
static MONEY_SUFFIX_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)^(?:
            [\x20\xA0]? (?: đồng | vnđ | vnd | usd | đ | triệu | trieu | nghìn | ngàn | tỷ | tỉ ) \b
          | [\x20\xA0]? [₫$%]
          | (?: k | tr | củ | cu | ty | ti | dong | ngan | nghin ) \b
        )",
    )
    .expect("money suffix pattern is valid")
});

/// True when an amount unit follows the number ending at `end`. Only a short slice is searched: the pattern
/// is anchored, and a whole-message haystack would make the regex engine size its work to the message.
pub(super) fn followed_by_money_unit(text: &str, end: usize) -> bool {
    MONEY_SUFFIX_RE.is_match(chars_after(text, end, MONEY_UNIT_LOOKAHEAD))
}

/// Longest unit (" triệu") plus the character that must end it.
const MONEY_UNIT_LOOKAHEAD: usize = 10;

/// A mobile number introduced by an account or payment word is taken for an account number. A wallet's
/// account number is its owner's phone number, so one named with a wallet (`MoMo 0358 123 456`) is both:
/// the account, and the phone as a second entity on the same span.
pub(super) fn phone_or_account(
    text: &str,
    cues: &LazyCues<'_>,
    phone: Entity,
) -> (Entity, Option<Entity>) {
    let written = &text[phone.span.clone()];
    let domestic_mobile = written.starts_with('0')
        && !written.starts_with("00")
        && phone.value.len() == "+84".len() + 9;
    if !domestic_mobile {
        return (phone, None);
    }
    if !matches!(
        cue_before(text, cues, &phone.span),
        Some(Cue::AccountNumber | Cue::Payment)
    ) {
        return (phone, None);
    }
    let bank = bank_near(text, cues, &phone.span);
    let account = Entity {
        kind: EntityKind::BankAccount,
        value: digits_of(written),
        raw: String::new(),
        span: phone.span.clone(),
        bank_bin: bank.and_then(|b| b.bin.map(str::to_string)),
        bank_name: bank.map(|b| b.short_name),
        carrier: None,
    };
    let is_wallet = bank.is_some_and(|b| b.bin.is_none());
    (account, is_wallet.then_some(phone))
}

/// One account number as digits, or `None` unless the input is 6–19 digits
/// (grouping spaces, dots and dashes allowed).
pub(super) fn normalize_account(raw: &str) -> Option<String> {
    let text = normalize_text(raw);
    let mut digits = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '.' | '-' => {}
            c if c.is_whitespace() => {}
            _ => return None,
        }
    }
    (MIN_ACCOUNT_DIGITS..=MAX_ACCOUNT_DIGITS)
        .contains(&digits.len())
        .then_some(digits)
}

fn digits_of(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// True when `range` shares a byte with any of `others`.
pub(super) fn overlaps_any(range: &Range<usize>, others: &[Range<usize>]) -> bool {
    others
        .iter()
        .any(|other| range.start < other.end && other.start < range.end)
}

/// The account numbers in `runs`, outside phones and links: whole runs, or the pieces of a long run
/// that are not phones.
pub(super) fn find_accounts(
    text: &str,
    runs: &[NumberRun],
    cues: &LazyCues<'_>,
    phone_spans: &[Range<usize>],
    url_spans: &[Range<usize>],
) -> Vec<Entity> {
    let mut accounts = Vec::new();
    for run in runs {
        if run.digits < MIN_ACCOUNT_DIGITS {
            continue; // no piece of it can be an account
        }
        if overlaps_any(&run.span, url_spans) {
            continue; // digits in a link path or query are not accounts
        }
        if numbers::is_ipv4_literal(&text[run.span.clone()]) {
            continue; // a server address, even without a scheme or with a bank named nearby
        }
        if run.digits <= MAX_ACCOUNT_DIGITS && !overlaps_any(&run.span, phone_spans) {
            // The common case, without the cutting below: a run starts and ends on a digit, and one
            // this short is not split.
            accounts.extend(account_at(text, cues, run.span.clone()));
            continue;
        }
        for piece in subtract_spans(run.span.clone(), phone_spans) {
            let Some(piece) = trim_to_digits(text, piece) else {
                continue;
            };
            for candidate in split_overlong(text, piece) {
                accounts.extend(account_at(text, cues, candidate));
            }
        }
    }
    accounts
}

/// `range` minus every span in `spans`, as the remaining sub-ranges in order.
pub(super) fn subtract_spans(range: Range<usize>, spans: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut overlapping: Vec<&Range<usize>> = spans
        .iter()
        .filter(|s| s.start < range.end && range.start < s.end)
        .collect();
    overlapping.sort_by_key(|s| s.start);
    let mut pieces = Vec::new();
    let mut cursor = range.start;
    for span in overlapping {
        if span.start > cursor {
            pieces.push(cursor..span.start);
        }
        cursor = cursor.max(span.end);
    }
    if cursor < range.end {
        pieces.push(cursor..range.end);
    }
    pieces
}

/// Shrinks `range` to start and end on a digit (pieces cut around a phone keep separators).
pub(super) fn trim_to_digits(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let slice = &text[range.clone()];
    let start = slice.find(|c: char| c.is_ascii_digit())?;
    let end = slice.rfind(|c: char| c.is_ascii_digit())? + 1;
    Some(range.start + start..range.start + end)
}

/// A run longer than any account is usually several numbers separated by
/// spaces; then each space-free group is considered on its own.
fn split_overlong(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let slice = &text[range.clone()];
    if digits_of(slice).len() <= MAX_ACCOUNT_DIGITS {
        return vec![range];
    }
    let mut groups = Vec::new();
    let mut group_start = 0;
    for (i, c) in slice.char_indices() {
        if c == ' ' || c == '\u{A0}' {
            groups.push(range.start + group_start..range.start + i);
            group_start = i + c.len_utf8();
        }
    }
    groups.push(range.start + group_start..range.end);
    groups
}

fn account_at(text: &str, cues: &LazyCues<'_>, range: Range<usize>) -> Option<Entity> {
    let written = &text[range.clone()];
    // The digits, on the stack: most candidates are rejected, and they should not cost an allocation.
    let mut digit_buffer = [0u8; MAX_ACCOUNT_DIGITS];
    let mut count = 0;
    for digit in written.bytes().filter(u8::is_ascii_digit) {
        if let Some(slot) = digit_buffer.get_mut(count) {
            *slot = digit;
        }
        count += 1;
    }
    if !(MIN_ACCOUNT_DIGITS..=MAX_ACCOUNT_DIGITS).contains(&count) {
        return None;
    }
    let digits = std::str::from_utf8(&digit_buffer[..count]).ok()?;
    if is_inside_word(text, &range)
        || is_part_of_date_or_time(text, &range)
        || numbers::is_dot_grouped_thousands(written)
        || looks_like_date(written)
        || is_list_of_years(written)
        || followed_by_money_unit(text, range.end)
        || follows_reference_label(text, &range)
    {
        return None;
    }
    let cue = cue_near(text, cues, &range);
    if cue != Cue::AccountNumber
        && (is_service_number(digits) || is_old_mobile(digits) || is_compact_date(digits))
    {
        return None;
    }
    // `TK2024-0915`: a code glued to its letters, even though they spell an account cue.
    if is_compact_date(digits) && has_code_prefix(text, &range) {
        return None;
    }
    let round_amount = digits.len() <= MAX_ROUND_AMOUNT_DIGITS && digits.ends_with("000");
    if cue == Cue::NotAccount
        || (round_amount && cue != Cue::AccountNumber)
        || (has_code_prefix(text, &range) && cue == Cue::Nothing)
    {
        return None;
    }
    let min_digits = if cue == Cue::Nothing {
        MIN_UNCUED_ACCOUNT_DIGITS
    } else {
        MIN_ACCOUNT_DIGITS
    };
    if digits.len() < min_digits {
        return None;
    }
    let bank = bank_near(text, cues, &range);
    Some(Entity {
        kind: EntityKind::BankAccount,
        value: digits.to_string(),
        raw: String::new(),
        bank_bin: bank.and_then(|b| b.bin.map(str::to_string)),
        bank_name: bank.map(|b| b.short_name),
        carrier: None,
        span: range,
    })
}

/// `0168 823 4571`: an 11-digit mobile number from before the 2018 renumbering.
fn is_old_mobile(digits: &str) -> bool {
    digits.len() == 11 && digits.starts_with("01")
}

/// `20240915`: a date written as YYYYMMDD (builds, versions, codes).
fn is_compact_date(digits: &str) -> bool {
    digits.len() == 8
        && is_year(&digits[..4])
        && parse_in(&digits[4..6], 2, 1..13)
        && parse_in(&digits[6..], 2, 1..32)
}

/// `1900 xxxx`, `1800 xxxx` (and their 10-digit forms): paid and free service lines, not accounts.
fn is_service_number(digits: &str) -> bool {
    (digits.starts_with("1900") || digits.starts_with("1800")) && matches!(digits.len(), 8 | 10)
}

/// The bank or wallet named nearest to the number: before it within the cue window, or after it.
fn bank_near(text: &str, cues: &LazyCues<'_>, range: &Range<usize>) -> Option<&'static Bank> {
    let cues = cues.get();
    let bank_of = |hit: &CueHit| match hit.class {
        CueClass::Bank(bank) => Some(bank),
        _ => None,
    };
    let before_start = range.start - chars_before(text, range.start, BANK_WINDOW_BEFORE).len();
    let after_end = range.end + chars_after(text, range.end, CUE_WINDOW_AFTER).len();
    let before = cues
        .within(before_start..range.start)
        .iter()
        .rev()
        .find_map(|hit| bank_of(hit).map(|bank| (range.start - hit.span.1, bank)));
    let after = cues
        .within(range.end..after_end)
        .iter()
        .find_map(|hit| bank_of(hit).map(|bank| (hit.span.0 - range.end, bank)));
    match (before, after) {
        (Some(b), Some(a)) => Some(if a.0 < b.0 { a.1 } else { b.1 }),
        (Some((_, bank)), None) | (None, Some((_, bank))) => Some(bank),
        (None, None) => None,
    }
}

/// Digits with letters on both sides are part of a code such as `FT2314567890AB`.
fn is_inside_word(text: &str, range: &Range<usize>) -> bool {
    let letter_before = text[..range.start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphabetic);
    let letter_after = text[range.end..]
        .chars()
        .next()
        .is_some_and(char::is_alphabetic);
    letter_before && letter_after
}

/// `DH20240512001`, `#12345678`, `MBVCB.1234567890`: order, reference or ticket codes, unless a
/// cue says otherwise (`STK0071000123456`).
fn has_code_prefix(text: &str, range: &Range<usize>) -> bool {
    let mut before = text[..range.start].chars().rev();
    match before.next() {
        Some(c) if c.is_alphabetic() || c == '#' => true,
        Some('.' | '-' | '_') => before.next().is_some_and(char::is_alphabetic),
        _ => false,
    }
}

/// Labels of transaction references and document numbers in bank and shop messages, accent-folded: the
/// number right after one (or after one and "số") is not an account or a phone (`Ref 1234567890`,
/// `Số tham chiếu: 5123…`, `HĐ số 0912345678/2026`). Not "hóa đơn": a phone bill is paid by its number.
const REFERENCE_LABELS: &[&str] = &[
    "ref",
    "ref no",
    "trace",
    "tham chieu",
    "chung tu",
    "so ct",
    "gd",
    "giao dich",
    "hop dong",
    "hd",
];

/// True when a [`REFERENCE_LABELS`] word ends right before the number (`:`, `#`, `.` between allowed).
pub(super) fn follows_reference_label(text: &str, range: &Range<usize>) -> bool {
    let is_gap = |c: char| c.is_whitespace() || matches!(c, ':' | '#' | '.');
    let before = &text[..range.start];
    let label_end = before.trim_end_matches(is_gap);
    if label_end.len() == before.len() {
        return false; // glued to what precedes it: not after a label
    }
    let is_label_before = |end: &str| {
        // The last two letters first, folded once: this runs for every candidate number.
        let mut last_two = [0u8; 2];
        for (slot, c) in last_two.iter_mut().rev().zip(end.chars().rev()) {
            *slot = folded_byte(c);
        }
        REFERENCE_LABELS.iter().any(|label| {
            label.as_bytes().ends_with(&last_two)
                && folded_suffix(end, label).is_some_and(|head| {
                    head.is_empty() || head.ends_with(|c: char| !c.is_alphanumeric())
                })
        })
    };
    if is_label_before(label_end) {
        return true;
    }
    // "HĐ số 0912…": the label, then "số".
    folded_suffix(label_end, "so").is_some_and(|head| {
        let trimmed = head.trim_end_matches(is_gap);
        trimmed.len() < head.len() && is_label_before(trimmed)
    })
}

/// `text` without its last chars when they fold to `suffix` (lowercase ASCII, a space standing for any
/// whitespace char). Compared from the end, char by char: most candidates differ at the first.
fn folded_suffix<'t>(text: &'t str, suffix: &str) -> Option<&'t str> {
    let mut chars = text.char_indices().rev();
    let mut start = text.len();
    for want in suffix.bytes().rev() {
        let (at, c) = chars.next()?;
        let same = if want == b' ' {
            c.is_whitespace()
        } else {
            folded_byte(c) == want
        };
        if !same {
            return None;
        }
        start = at;
    }
    Some(&text[..start])
}

/// One char as one ASCII byte: lowercase, accents removed (Vietnamese letters), and anything else `?`,
/// which no label holds.
fn folded_byte(c: char) -> u8 {
    if c.is_ascii() {
        u8::try_from(c.to_ascii_lowercase()).unwrap_or(b'?')
    } else {
        fold_code_to_letter(u32::from(c)).unwrap_or(b'?')
    }
}

/// Digits joined to other digits by `/` or `:` belong to a date, time or ratio
/// (`12/05/2024 10:30` gives the run `2024 10`). `STK:1903…` is still fine.
fn is_part_of_date_or_time(text: &str, range: &Range<usize>) -> bool {
    let mut before = text[..range.start].chars().rev();
    let joined_before = matches!(before.next(), Some('/' | ':'))
        && before.next().is_some_and(|c| c.is_ascii_digit());
    let mut after = text[range.end..].chars();
    let joined_after =
        matches!(after.next(), Some('/' | ':')) && after.next().is_some_and(|c| c.is_ascii_digit());
    joined_before || joined_after
}

fn number_groups(written: &str) -> impl Iterator<Item = &str> {
    written
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
}

fn parse_in(group: &str, max_len: usize, valid: Range<u32>) -> bool {
    group.len() <= max_len && group.parse::<u32>().is_ok_and(|n| valid.contains(&n))
}

fn is_year(group: &str) -> bool {
    group.len() == 4 && parse_in(group, 4, 1900..2100)
}

/// `12-05-2024`, `12.05.24`, `2024-05-12`, `05.2024`: dates written with separators.
fn looks_like_date(written: &str) -> bool {
    let is_day = |g: &str| parse_in(g, 2, 1..32);
    let is_month = |g: &str| parse_in(g, 2, 1..13);
    let is_short_or_full_year = |g: &str| g.len() == 2 || is_year(g);
    // Up to four groups: three are a date at most, four or more are not one.
    let mut groups = [""; 4];
    let mut count = 0;
    for (slot, group) in groups.iter_mut().zip(number_groups(written)) {
        *slot = group;
        count += 1;
    }
    match &groups[..count] {
        [d, m, y] => {
            (is_day(d) && is_month(m) && is_short_or_full_year(y))
                || (is_year(d) && is_month(m) && is_day(y))
        }
        [m, y] => (is_month(m) && is_year(y)) || (is_year(m) && is_month(y)),
        _ => false,
    }
}

/// `09-12-2026 12`, `08.12.2026 1230`: a written form that opens with a full date (day, month, year), as
/// a date followed by a time does; no phone number is grouped 2-2-4.
pub(super) fn starts_with_date(written: &str) -> bool {
    let bytes = written.as_bytes();
    let shaped = bytes.len() > 6
        && bytes[..2].iter().all(u8::is_ascii_digit)
        && !bytes[2].is_ascii_digit()
        && bytes[3..5].iter().all(u8::is_ascii_digit)
        && !bytes[5].is_ascii_digit();
    if !shaped {
        return false; // not `dd-mm-`: most numbers
    }
    let mut groups = number_groups(written);
    let (Some(d), Some(m), Some(y)) = (groups.next(), groups.next(), groups.next()) else {
        return false;
    };
    d.len() == 2 && m.len() == 2 && parse_in(d, 2, 1..32) && parse_in(m, 2, 1..13) && is_year(y)
}

/// `2023 2024`: several years in a row.
fn is_list_of_years(written: &str) -> bool {
    let mut count = 0;
    number_groups(written).all(|g| {
        count += 1;
        is_year(g)
    }) && count >= 2
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cue {
    AccountNumber,
    Payment,
    NotAccount,
    Nothing,
}

/// The cue word nearest before the number decides; failing that, a bank or
/// account word shortly after it ("1903… Techcombank") counts as a payment cue.
fn cue_near(text: &str, cues: &LazyCues<'_>, range: &Range<usize>) -> Cue {
    if let Some(cue) = cue_before(text, cues, range) {
        return cue;
    }
    let after_end = range.end + chars_after(text, range.end, CUE_WINDOW_AFTER).len();
    let payment_after = cues
        .get()
        .within(range.end..after_end)
        .iter()
        .any(|hit| !matches!(hit.class, CueClass::NotAccount));
    if payment_after {
        Cue::Payment
    } else {
        Cue::Nothing
    }
}

/// The kind of the cue word nearest before the number, if any is within the window.
fn cue_before(text: &str, cues: &LazyCues<'_>, range: &Range<usize>) -> Option<Cue> {
    let window_start = range.start - chars_before(text, range.start, CUE_WINDOW_BEFORE).len();
    // A cue belongs to the number right after it: one with another number in between is used up
    // ("STK 1010 5566 7788 Vietin. LH 0868 390 527").
    let (from, after_number) =
        match text[window_start..range.start].rfind(|c: char| c.is_ascii_digit()) {
            Some(at) => (window_start + at + 1, true),
            None => (window_start, false),
        };
    cues.get()
        .within(from..range.start)
        .iter()
        .rev()
        // A bank named right after the previous number is that number's bank ("… 2276 Vietcombank, bác sĩ
        // trực 0832…"), not a cue for this one.
        .find(|hit| {
            !(after_number
                && !matches!(hit.class, CueClass::AccountNumber | CueClass::NotAccount)
                && hit.span.0 - from <= BANK_OF_PREVIOUS_NUMBER)
        })
        .map(|hit| match hit.class {
            CueClass::AccountNumber => Cue::AccountNumber,
            CueClass::Payment | CueClass::Bank(_) => Cue::Payment,
            CueClass::NotAccount => Cue::NotAccount,
        })
}

fn chars_before(text: &str, end: usize, count: usize) -> &str {
    let start = match count.checked_sub(1) {
        Some(last) => text[..end]
            .char_indices()
            .rev()
            .nth(last)
            .map_or(0, |(i, _)| i),
        None => end,
    };
    &text[start..end]
}

fn chars_after(text: &str, start: usize, count: usize) -> &str {
    let end = text[start..]
        .char_indices()
        .nth(count)
        .map_or(text.len(), |(i, _)| start + i);
    &text[start..end]
}

#[cfg(test)]
mod tests {
    use crate::scam::entity::EntityKind;
    use crate::scam::extract::extract;
    use crate::scam::extract::test_support::{accounts, entity, phones};

    #[test]
    fn a_mobile_is_an_account_only_when_introduced_as_one_but_looked_up_both_ways() {
        assert!(accounts("gọi 0912 345 678").is_empty());
        let as_account = extract("STK 0912 345 678 MB nhé");
        assert_eq!(as_account.len(), 1);
        assert_eq!(as_account[0].kind, EntityKind::BankAccount);
        assert_eq!(as_account[0].value, "0912345678");
        assert_eq!(as_account[0].bank_bin.as_deref(), Some("970422"));
        assert_eq!(
            as_account[0].lookup_keys(),
            vec![
                entity(EntityKind::BankAccount, "0912345678"),
                entity(EntityKind::Phone, "+84912345678")
            ]
        );
        let as_phone = extract("gọi 0912 345 678");
        assert_eq!(as_phone[0].carrier, Some("Vinaphone"));
        assert_eq!(
            as_phone[0].lookup_keys(),
            vec![
                entity(EntityKind::Phone, "+84912345678"),
                entity(EntityKind::BankAccount, "0912345678")
            ]
        );
        // A number to call, even after a payment word, stays a phone.
        assert_eq!(
            phones("chuyển khoản xong thì gọi 0912345678"),
            vec!["+84912345678"]
        );
        assert!(accounts("gọi +84 912 345 678").is_empty());
        // Landlines are not vanity account numbers.
        assert_eq!(
            extract("gọi 024 3825 1234")[0].lookup_keys(),
            vec![entity(EntityKind::Phone, "+842438251234")]
        );
    }

    #[test]
    fn grouped_accounts_with_cue_words() {
        for text in [
            "STK 1903 6688 8888",
            "STK: 1903.6688.8888",
            "số TK 1903-6688-8888",
            "số tài khoản: 190366888888",
            "so tai khoan 190366888888",
            "tk 190366888888",
            "CTK Nguyễn Văn A - 190366888888",
            "NH Techcombank 190366888888",
            "1903 6688 8888 Techcombank",
            "190366888888 (VCB)",
        ] {
            assert_eq!(accounts(text), vec!["190366888888"], "{text:?}");
        }
    }

    #[test]
    fn short_accounts_need_a_cue() {
        assert_eq!(accounts("MB 123456"), vec!["123456"]);
        assert_eq!(accounts("chuyển khoản MoMo 1234567"), vec!["1234567"]);
        assert!(accounts("số 123456").is_empty());
        assert!(accounts("có 1234567 người").is_empty());
        assert_eq!(accounts("gửi vào 12345678 nhé"), vec!["12345678"]);
    }

    #[test]
    fn accounts_outside_length_limits_are_ignored() {
        assert!(accounts("STK 12345").is_empty());
        assert_eq!(
            accounts("STK 1234567890123456789"),
            vec!["1234567890123456789"]
        );
        assert!(accounts("STK 12345678901234567890").is_empty());
    }

    #[test]
    fn space_joined_numbers_are_split_when_too_long() {
        assert_eq!(
            accounts("STK 19036688888888 12345678901"),
            vec!["19036688888888", "12345678901"]
        );
    }

    #[test]
    fn phone_inside_a_space_joined_run_is_cut_out() {
        // The cue belongs to the first number; the mobile after it is a phone (looked up both ways).
        let text = "STK 190366888888 0912345678";
        assert_eq!(accounts(text), vec!["190366888888"]);
        assert_eq!(phones(text), vec!["+84912345678"]);
    }

    #[test]
    fn non_mobile_ten_digit_number_is_only_an_account() {
        assert!(phones("STK 0951234567").is_empty());
        assert_eq!(accounts("STK 0951234567"), vec!["0951234567"]);
    }

    #[test]
    fn prices_are_not_accounts() {
        for text in [
            "chuyển khoản 500.000đ",
            "CK 500.000 đồng vào STK",
            "giá 1,5tr thôi",
            "STK nhận 2 triệu",
            "nạp 100k",
            "phí 50.000 VND",
            "CK 15.000.000 VND",
            "chuyển khoản 2500000đ",
            "chuyển khoản 1500000 đồng",
            "STK: trả 12000000 vnđ",
            "ck 3000000dong",
            "trả 3000000 đồng",
            "ngân hàng cho vay 500000000 VND",
            "chuyển 25000000₫ vào tk",
            "lãi 12345678%",
            "tk 5000000k",
            "chuyển khoản số tiền 5000000 vào tk",
            "chuyển khoản 1.500.000 cho chị",
        ] {
            assert!(
                accounts(text).is_empty(),
                "{text:?} gave {:?}",
                accounts(text)
            );
        }
    }

    #[test]
    fn round_amounts_without_unit_are_not_accounts() {
        for text in [
            "ck 500000 cho anh",
            "chuyển khoản 12000000 nhé",
            "gửi 15000000 trước",
            "Vietcombank 2000000",
        ] {
            assert!(
                accounts(text).is_empty(),
                "{text:?} gave {:?}",
                accounts(text)
            );
        }
        // An explicit account cue, or ten digits and more, still count.
        assert_eq!(accounts("STK 123456000"), vec!["123456000"]);
        assert_eq!(accounts("ck vào 1234567000"), vec!["1234567000"]);
    }

    #[test]
    fn chat_words_after_an_account_are_not_units() {
        assert_eq!(
            accounts("STK 190366888888 k phải của em"),
            vec!["190366888888"]
        );
        assert_eq!(
            accounts("chuyen khoan vao so tai khoan 190 366 888 888 ngan hang techcombank"),
            vec!["190366888888"]
        );
        assert_eq!(accounts("stk 0101234567 dong a bank"), vec!["0101234567"]);
    }

    #[test]
    fn dates_times_and_years_are_not_accounts() {
        for text in [
            "CK ngày 12/05/2024",
            "năm 2024 chuyển khoản",
            "STK gửi lúc 10:30",
            "chuyển khoản 12-05-2024",
            "STK hết hạn 2024-05-12",
            "ngày 12.05.2024 lúc 10:30 chuyển khoản",
            "tk tháng 05.2024",
            "ck ngày 12.05.24",
            "ngân hàng từ 2023 2024",
            "12/05/2024 10:30:45",
            "STK hẹn 12/05/2024 10:30",
            "tỷ lệ 1/2024 55 CK",
        ] {
            assert!(
                accounts(text).is_empty(),
                "{text:?} gave {:?}",
                accounts(text)
            );
        }
    }

    #[test]
    fn codes_and_ids_are_not_accounts() {
        for text in [
            "mã OTP 12345678",
            "OTP của bạn là 987654321",
            "CCCD 001099012345",
            "số CMND 123456789",
            "mã đơn hàng 123456789",
            "mã GD FT2314567890AB",
            "hotline 19001234",
            "Techcombank: mã xác thực 12345678",
        ] {
            assert!(
                accounts(text).is_empty(),
                "{text:?} gave {:?}",
                accounts(text)
            );
        }
    }

    #[test]
    fn letter_or_hash_prefixed_codes_need_a_cue() {
        assert!(accounts("đơn #20240512001 đã giao").is_empty());
        assert!(accounts("mã tham chiếu FT23145678901").is_empty());
        assert!(accounts("ref DH20240512001 ok").is_empty());
        assert_eq!(accounts("STK0071000123456"), vec!["0071000123456"]);
        assert_eq!(accounts("VCB0071000123456"), vec!["0071000123456"]);
    }

    #[test]
    fn account_cue_after_a_non_account_cue_wins() {
        assert_eq!(
            accounts("mã đơn xong thì chuyển khoản STK 123456"),
            vec!["123456"]
        );
    }

    #[test]
    fn digits_in_links_are_not_accounts() {
        assert!(accounts("xem https://example.com/post/123456789012 nhé").is_empty());
        assert!(accounts("example.com/?stk=123456789012").is_empty());
    }

    #[test]
    fn banks_named_near_accounts_set_the_bin() {
        let found = extract("chuyển khoản vào STK 1903 6688 8888 Techcombank");
        assert_eq!(found[0].bank_bin.as_deref(), Some("970407"));
        let found = extract("ck qua vcb stk 0071000123456 nhé");
        assert_eq!(found[0].bank_bin.as_deref(), Some("970436"));
        let found = extract("momo 0987654321 chủ tk Lan");
        let wallet = found
            .iter()
            .find(|e| e.kind == EntityKind::BankAccount)
            .unwrap();
        assert_eq!(wallet.bank_name, Some("MoMo"));
        assert_eq!(wallet.bank_bin, None);
    }

    #[test]
    fn a_wallet_number_is_also_a_phone_on_the_same_span() {
        for (text, written, carrier) in [
            ("momo 0358 123 456", "0358 123 456", "Viettel"),
            (
                "CK qua Viettel Money 0367.255.914 (Bình)",
                "0367.255.914",
                "Viettel",
            ),
            ("chuyen ZaloPay 0889316470 nhe", "0889316470", "Vinaphone"),
            ("STK 0912 345 678 ví MoMo", "0912 345 678", "Vinaphone"),
        ] {
            let found = extract(text);
            assert_eq!(found.len(), 2, "{text:?}: {found:?}");
            let phone = found.iter().find(|e| e.kind == EntityKind::Phone).unwrap();
            let account = found
                .iter()
                .find(|e| e.kind == EntityKind::BankAccount)
                .unwrap();
            assert_eq!(phone.raw, written);
            assert_eq!(phone.span, account.span);
            assert_eq!(phone.carrier, Some(carrier));
            assert_eq!(phone.value, format!("+84{}", &account.value[1..]));
            assert!(account.bank_name.is_some() && account.bank_bin.is_none());
        }
    }

    #[test]
    fn a_bank_account_equal_to_a_phone_is_one_entity_looked_up_both_ways() {
        for text in [
            "STK 0912 345 678 MB",
            "Vietcombank 0912345678",
            "chuyển khoản vào 0912345678",
        ] {
            let found = extract(text);
            assert_eq!(found.len(), 1, "{text:?}: {found:?}");
            assert_eq!(found[0].kind, EntityKind::BankAccount);
            assert_eq!(
                found[0].lookup_keys()[1],
                entity(EntityKind::Phone, "+84912345678")
            );
        }
        // A wallet account that is not a mobile number stays an account only.
        assert_eq!(accounts("MoMo 1234567"), vec!["1234567"]);
        assert!(phones("MoMo 1234567").is_empty());
    }

    #[test]
    fn service_numbers_are_not_accounts() {
        let text = "gọi tổng đài 1900 1234 hoặc 1800 5678 để được hỗ trợ";
        assert!(accounts(text).is_empty());
        assert_eq!(phones(text), vec!["+8419001234", "+8418005678"]);
        assert!(accounts("STK 1900 1234").is_empty());
    }

    #[test]
    fn ip_addresses_are_not_accounts_even_next_to_a_bank() {
        for text in [
            "ACB 103.21.44.9",
            "http://103.21.44.9/login-acb",
            "103.21.44.9/login-acb",
            "đăng nhập Vietcombank tại 192.168.100.200 nhé",
            "STK 10.123.45.67",
        ] {
            assert!(
                accounts(text).is_empty(),
                "{text:?} gave {:?}",
                accounts(text)
            );
            assert!(phones(text).is_empty(), "{text:?} gave {:?}", phones(text));
        }
    }

    #[test]
    fn balance_change_sms_yield_only_the_account() {
        let text = "VCB: TK 0071000123456 +5,000,000VND luc 09-12-2026 12:30:45. SD 12,345,678VND. \
                    Ref MBVCB.1234567890.054321.NGUYEN VAN A chuyen tien";
        assert_eq!(accounts(text), vec!["0071000123456"]);
        assert!(phones(text).is_empty(), "{:?}", phones(text));
        for text in [
            "TK x1234 -200,000VND luc 08/12/2026 09:15. SD 3,456,789VND",
            "TK 0071xxx456 +1,500,000 VND 08-12-2026 09:15:00 SD: 9,876,543 VND",
            "MB: TK 0912xxx678 GD: +350,000VND 09/12/26 08:12 SD: 1,234,000VND",
        ] {
            assert!(extract(text).is_empty(), "{text:?}: {:?}", extract(text));
        }
    }

    #[test]
    fn reference_numbers_are_not_accounts() {
        for text in [
            "Ref 1234567890",
            "Ref: 5123456789012",
            "Trace 987654321",
            "Số tham chiếu: 123456789012",
            "so chung tu 20261208000123",
            "Số HĐ 1234567890",
            "Khoan vay HD 123456789 den han",
            "hợp đồng số 12345678",
            "GD: 3567 8910 1112",
            "Mã giao dịch: 260812102030",
            "MBVCB.3456789012",
            "FT_123456789012",
        ] {
            assert!(
                accounts(text).is_empty(),
                "{text:?} gave {:?}",
                accounts(text)
            );
        }
        // A label ending a longer word is not the label.
        assert_eq!(accounts("xref 1234567890"), vec!["1234567890"]);
    }

    #[test]
    fn decomposed_cue_words_still_count() {
        // "số tài khoản" typed in NFD.
        let text = "so\u{0302}\u{0301} ta\u{0300}i khoa\u{0309}n 123456";
        assert_eq!(accounts(text), vec!["123456"]);
    }
}
