//! Vietnamese phone numbers: shapes found by `numbers`, kept when libphonenumber's metadata and the
//! operator table say they are valid, written as E.164.

use std::ops::Range;
use std::sync::LazyLock;

use super::account::{followed_by_money_unit, follows_reference_label, starts_with_date};
use crate::scam::entity::{Entity, EntityKind, VN_COUNTRY_PREFIX};
use crate::scam::numbers::{self, NumberRun};
use crate::scam::text::{fold, normalize_text};

/// Mobile operators by the two digits after the trunk `0` (the prefixes in use since the 2018 renumbering;
/// 052 and 059 follow libphonenumber's metadata; 055 (Reddi, unconfirmed) is not valid there, so it is left out).
#[rustfmt::skip]
const MOBILE_CARRIERS: &[(&str, &str)] = &[
    ("32", "Viettel"), ("33", "Viettel"), ("34", "Viettel"), ("35", "Viettel"), ("36", "Viettel"),
    ("37", "Viettel"), ("38", "Viettel"), ("39", "Viettel"), ("86", "Viettel"), ("96", "Viettel"),
    ("97", "Viettel"), ("98", "Viettel"),
    ("81", "Vinaphone"), ("82", "Vinaphone"), ("83", "Vinaphone"), ("84", "Vinaphone"),
    ("85", "Vinaphone"), ("88", "Vinaphone"), ("91", "Vinaphone"), ("94", "Vinaphone"),
    ("70", "MobiFone"), ("76", "MobiFone"), ("77", "MobiFone"), ("78", "MobiFone"), ("79", "MobiFone"),
    ("89", "MobiFone"), ("90", "MobiFone"), ("93", "MobiFone"),
    ("52", "Vietnamobile"), ("56", "Vietnamobile"), ("58", "Vietnamobile"), ("92", "Vietnamobile"),
    ("59", "Gmobile"), ("99", "Gmobile"),
    ("87", "iTel"),
];

/// The mobile operator of a 9-digit national number (without the trunk `0`).
#[must_use]
pub fn mobile_carrier(national: &str) -> Option<&'static str> {
    let prefix = national.get(..2)?;
    MOBILE_CARRIERS
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, carrier)| *carrier)
}

pub(super) fn find_phones(text: &str, runs: &[NumberRun]) -> Vec<Entity> {
    let mut phones = Vec::new();
    let mut from = 0;
    for window in numbers::phone_search_windows(text, runs) {
        from = from.max(window.start);
        while let Some(shape) = numbers::next_phone_shape(text, from, window.end) {
            let national = shape.national.as_str();
            if is_valid_national_number(national) && is_phone_in_context(text, &shape.span) {
                let mut value = String::with_capacity(VN_COUNTRY_PREFIX.len() + national.len());
                value.push_str(VN_COUNTRY_PREFIX);
                value.push_str(national);
                phones.push(Entity {
                    kind: EntityKind::Phone,
                    carrier: mobile_carrier(national).filter(|_| national.len() == 9),
                    value,
                    raw: String::new(),
                    span: shape.span.clone(),
                    bank_bin: None,
                    bank_name: None,
                });
                from = shape.span.end;
            } else {
                // A rejected candidate may still hide a valid one starting later inside it (candidates
                // start with an ASCII byte, so the next byte is a char boundary).
                from = shape.span.start + 1;
            }
        }
    }
    phones
}

/// What is around a valid-looking number says it is one: not part of a longer number, an amount, a date
/// and time (`09-12-2026 12:30` holds `0912202612`), a code glued to letters (`SPXVN0912345678`), a
/// labelled reference (`Ref 0912345678`) or an IP address.
fn is_phone_in_context(text: &str, span: &Range<usize>) -> bool {
    is_standalone_number(text, span.clone())
        && !joined_to_a_time(text, span)
        && !starts_with_date(&text[span.clone()])
        && !is_glued_to_a_code(text, span.start)
        && !is_in_an_ipv4_literal(text, span)
        && !follows_reference_label(text, span)
        && !followed_by_money_unit(text, span.end)
}

/// Inside `103.21.44.9`-like digits and dots.
fn is_in_an_ipv4_literal(text: &str, span: &Range<usize>) -> bool {
    let dotted = dotted_run_around(text, span);
    dotted.contains('.') && numbers::is_ipv4_literal(dotted)
}

/// Digits joined to this number by `:` make a time (`… 2026 12:30`).
pub(super) fn joined_to_a_time(text: &str, span: &Range<usize>) -> bool {
    let bytes = text.as_bytes();
    let digit_at = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_digit);
    let after = bytes.get(span.end) == Some(&b':') && digit_at(span.end + 1);
    let before = span.start >= 2 && bytes[span.start - 1] == b':' && digit_at(span.start - 2);
    after || before
}

/// Words that may be glued to a phone number (`SĐT0912345678`, `Zalo0912345678`), accent-folded. Any
/// other word glued before the digits makes them a code: a tracking or reference number.
const CONTACT_WORDS_GLUED: &[&str] = &[
    "sdt",
    "dt",
    "dd",
    "lh",
    "hl",
    "zalo",
    "hotline",
    "tel",
    "phone",
    "mobile",
    "call",
    "goi",
    "so",
    "sms",
    "ib",
    "inbox",
    "lienhe",
    "sodienthoai",
    "dienthoai",
    "didong",
];

/// True when letters are glued before `start` (`SPXVN0912345678`), or an upper-case code is joined by a
/// `.` or `_` (`MBVCB.0912345678`), and they are not a contact word.
pub(super) fn is_glued_to_a_code(text: &str, start: usize) -> bool {
    let mut before = &text[..start];
    let joined = before.strip_suffix(['.', '_']);
    if let Some(rest) = joined {
        before = rest;
    }
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map_or(before.len(), |(i, _)| i);
    let word = &before[word_start..];
    if joined.is_none() && word.is_empty() && before.ends_with('#') {
        return true; // `#0912345678`: an order or ticket number
    }
    if word.is_empty() || CONTACT_WORDS_GLUED.contains(&fold(word).as_str()) {
        return false;
    }
    // After a dot, only a code: "… cho anh.0912345678" is a missing space.
    joined.is_none() || !word.chars().any(char::is_lowercase)
}

/// The digits and dots around `span`, for the IP-address check.
fn dotted_run_around<'t>(text: &'t str, span: &Range<usize>) -> &'t str {
    let bytes = text.as_bytes();
    let dotted = |b: &u8| b.is_ascii_digit() || *b == b'.';
    let start = span.start
        - bytes[..span.start]
            .iter()
            .rev()
            .take_while(|b| dotted(b))
            .count();
    let end = span.end + bytes[span.end..].iter().take_while(|b| dotted(b)).count();
    text[start..end].trim_matches('.')
}

/// Valid per libphonenumber's metadata (mobile: also an operator in our table; landline: `2x` area codes).
fn is_valid_national_number(national: &str) -> bool {
    let shape_ok = match national.len() {
        9 => mobile_carrier(national).is_some(),
        10 => national.starts_with('2'), // landline 02xx + 7 digits
        _ => false,
    };
    shape_ok && libphonenumber_valid(national)
}

/// libphonenumber's verdict, memoised per (length, first three national digits): Vietnam's metadata
/// decides validity by such prefixes (e.g. `89[6-9]\d{6}`, `9[0-8]\d{7}`), and parsing with the full
/// metadata costs microseconds per number. The unit test `memoised_validity_matches_libphonenumber`
/// checks the assumption over every prefix.
fn libphonenumber_valid(national: &str) -> bool {
    static MEMO: LazyLock<[[std::sync::OnceLock<bool>; 1000]; 2]> = LazyLock::new(|| {
        std::array::from_fn(|_| std::array::from_fn(|_| std::sync::OnceLock::new()))
    });
    let slot = match national.len() {
        9 => 0,
        10 => 1,
        _ => return libphonenumber_valid_uncached(national),
    };
    let Some(prefix) = national.get(..3).and_then(|p| p.parse::<usize>().ok()) else {
        return false;
    };
    *MEMO[slot][prefix].get_or_init(|| libphonenumber_valid_uncached(national))
}

fn libphonenumber_valid_uncached(national: &str) -> bool {
    phonenumber::parse(Some(phonenumber::country::Id::VN), format!("0{national}"))
        .is_ok_and(|number| phonenumber::is_valid(&number))
}

/// False when the candidate is only part of a longer number: glued to a digit
/// or joined to one by `.`/`-`.
fn is_standalone_number(text: &str, range: Range<usize>) -> bool {
    let mut before = text[..range.start].chars().rev();
    let continues_before = match before.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('.' | '-') => before.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    let mut after = text[range.end..].chars();
    let continues_after = match after.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('.' | '-') => after.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    !continues_before && !continues_after
}

/// One mobile or landline number as E.164, or `None` unless the whole input is one valid number.
pub(super) fn normalize_phone(raw: &str) -> Option<String> {
    let text = normalize_text(raw);
    let text = text.trim();
    match find_phones(text, &numbers::number_runs(text)).as_slice() {
        [only] if only.span == (0..text.len()) => Some(only.value.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::extract::test_support::{accounts, phones};

    #[test]
    fn every_common_phone_shape_is_normalised_to_e164() {
        for shape in [
            "0912345678",
            "0912 345 678",
            "0912.345.678",
            "091-234-5678",
            "+84 912 345 678",
            "+84912345678",
            "84912345678",
            "(+84) 912345678",
            "(84) 912 345 678",
            "0084912345678",
            "+84 0912345678",
            "+84 (0) 912 345 678",
        ] {
            let text = format!("liên hệ {shape} nhé");
            assert_eq!(phones(&text), vec!["+84912345678"], "shape {shape:?}");
        }
    }

    #[test]
    fn phone_at_text_edges_and_glued_to_punctuation() {
        assert_eq!(phones("0912345678"), vec!["+84912345678"]);
        assert_eq!(phones("SĐT:0912345678."), vec!["+84912345678"]);
        assert_eq!(phones("(0912345678)"), vec!["+84912345678"]);
        // A stray '+' before the domestic form is a typo, not a foreign number.
        assert_eq!(phones("+0912345678"), vec!["+84912345678"]);
    }

    #[test]
    fn all_mobile_ranges_are_accepted() {
        for number in [
            "0321234567",
            "0561234567",
            "0761234567",
            "0871234567",
            "0991234567",
        ] {
            assert_eq!(phones(number).len(), 1, "{number}");
        }
    }

    #[test]
    fn landline_numbers_have_eleven_digits() {
        assert_eq!(phones("tổng đài 024 3825 1234"), vec!["+842438251234"]);
        assert_eq!(phones("02838251234"), vec!["+842838251234"]);
        assert_eq!(phones("+84 28 3825 1234"), vec!["+842838251234"]);
        // Ten digits starting 02 is not a valid number.
        assert!(phones("0243825123").is_empty());
    }

    #[test]
    fn unallocated_or_old_prefixes_are_not_phones() {
        for number in [
            "0951234567",
            "0121234567",
            "0123456789",
            "0411234567",
            "0611234567",
            "0301234567",
        ] {
            assert!(phones(number).is_empty(), "{number}");
        }
    }

    #[test]
    fn digits_inside_longer_runs_are_not_phones() {
        for text in [
            "09123456789",
            "10912345678",
            "190366888888880912345678",
            "0912.345.678.9",
            "1.0912.345.678",
            "+84 912 345 6789",
            "0084 912 345 6789",
            "98491234567",
            "0912-345-678-123",
        ] {
            assert!(phones(text).is_empty(), "{text:?} gave {:?}", phones(text));
        }
    }

    #[test]
    fn wrong_digit_counts_are_not_phones() {
        assert!(phones("091234567").is_empty());
        assert!(phones("8491234567").is_empty());
    }

    #[test]
    fn large_amounts_shaped_like_phones_are_not_phones() {
        assert!(phones("hoàn tiền 84.900.000.000 đồng").is_empty());
        assert!(accounts("hoàn tiền 84.900.000.000 đồng").is_empty());
    }

    #[test]
    fn several_phones_keep_order() {
        assert_eq!(
            phones("gọi 0987654321 hoặc +84 912 345 678, hoặc 0339 999 999"),
            vec!["+84987654321", "+84912345678", "+84339999999"]
        );
    }

    #[test]
    fn phones_as_people_write_them() {
        for (text, expected) in [
            ("LH 0912.345.678", "+84912345678"),
            ("Zalo: 0912 345 678", "+84912345678"),
            ("goi 0912345678 ngay", "+84912345678"),
            ("+84 912 345 678", "+84912345678"),
            ("84912345678", "+84912345678"),
            ("0912-345-678", "+84912345678"),
            ("SĐT:0987654321", "+84987654321"),
            ("sdt0987654321", "+84987654321"),
            ("Zalo0987654321 nhé", "+84987654321"),
            ("LH.0987654321", "+84987654321"),
            ("đt 098 765 4321", "+84987654321"),
            ("Liên hệ (+84) 98 765 43 21", "+84987654321"),
            ("0987 65 43 21", "+84987654321"),
            ("09.8765.4321", "+84987654321"),
            ("098.765.43.21", "+84987654321"),
            ("Hotline/Zalo: 0359.888.999!", "+84359888999"),
            ("chị Lan-0359888999", "+84359888999"),
            ("gọi cho anh.0359888999 nha", "+84359888999"),
            ("(0359 888 999)", "+84359888999"),
            ("goi 0 9 1 2 3 4 5 6 7 8 ngay", "+84912345678"),
            ("Z.a.l.o 0.9.1.2.3.4.5.6.7.8", "+84912345678"),
        ] {
            assert_eq!(phones(text), vec![expected], "{text:?}");
        }
        // A phone bill is paid by the phone's number.
        assert_eq!(
            phones("ND: TT hoa don Viettel 0912345678"),
            vec!["+84912345678"]
        );
        assert_eq!(
            phones("LH 0912345678/0987654321 hoặc 0359-888-999"),
            vec!["+84912345678", "+84987654321", "+84359888999"]
        );
    }

    #[test]
    fn numbers_written_with_00() {
        for text in [
            "0084 912 345 678",
            "0084912345678",
            "(0084) 91 234 5678",
            "(0084)912345678",
            "số lạ 0084-912-345-678 gọi tới",
            "0084 (0) 912 345 678",
        ] {
            assert_eq!(phones(text), vec!["+84912345678"], "{text:?}");
        }
    }

    #[test]
    fn landlines_with_spaces_dots_and_parentheses() {
        for (text, expected) in [
            ("024 3825 1234", "+842438251234"),
            ("028 3822 5678", "+842838225678"),
            ("(028) 3822 5678", "+842838225678"),
            ("ĐT: (024) 3825-1234", "+842438251234"),
            ("(024)38251234", "+842438251234"),
            ("0236 3822 567", "+842363822567"),
            ("(0236) 3822 567", "+842363822567"),
            ("024.3825.1234", "+842438251234"),
            ("+84 24 3825 1234", "+842438251234"),
            ("+84-24-3825-1234", "+842438251234"),
            ("(+84) 24 3825 1234", "+842438251234"),
            ("Tel: 0283 822 5678", "+842838225678"),
        ] {
            assert_eq!(phones(text), vec![expected], "{text:?}");
            assert!(accounts(text).is_empty(), "{text:?}");
        }
        // A mobile with its prefix in parentheses, as some signatures write it.
        assert_eq!(phones("(091) 234 5678"), vec!["+84912345678"]);
        // An area code needs its subscriber number: no shorter, no longer.
        assert!(phones("(028) 3822 567").is_empty());
        assert!(phones("(028) 3822 56789").is_empty());
    }

    #[test]
    fn sms_numbers_that_are_not_phones() {
        for text in [
            "VCB: TK 0071000123456 +5,000,000VND luc 09-12-2026 12:30:45. SD 12,345,678VND.",
            "GD luc 08.12.2026 12:30 tai ATM",
            "ngay 09-05-2024 10:30 quy khach",
            "09-12-2026 1230",
            "SD 12,345,678VND. Ref MBVCB.0912345678.054321",
            "Ma OTP cua ban la 091234. Khong chia se ma nay.",
            "Mã xác thực: 09123456",
            "Don hang SPXVN0912345678 dang giao",
            "Mã vận đơn GHN0912345678VN",
            "đơn #0912345678 đã giao",
            "CCCD 001099012345",
            "CCCD: 079203001234",
            "ngày 07/12/2026",
            "Gói 5G tốc độ cao, giá 1.290.000đ",
            "hoàn tiền 84.900.000.000 đồng",
            "Soan DK V90 gui 9029, goi 191 hoac 1544",
            "server 103.21.44.9",
            "192.168.1.1",
            "ban v2.4.0 ngay 12/05",
            "TK x1234 -200,000VND. SD 3,456,789VND",
            "VIB: GD -1,234,000VND TK 123456789. Ref 0912345678",
            "HĐ số 0912345678/2026/HĐLĐ ký ngày 08/12/2026",
            "Mã GD: 0912345678",
        ] {
            assert!(phones(text).is_empty(), "{text:?} gave {:?}", phones(text));
        }
    }

    #[test]
    fn memoised_validity_matches_libphonenumber() {
        // Every 3-digit prefix, with varied tails: validity must depend on the prefix only.
        for len in [9usize, 10] {
            for prefix in 0..1000 {
                let digits = format!("{prefix:03}");
                let shape_ok = if len == 9 {
                    mobile_carrier(&digits).is_some()
                } else {
                    digits.starts_with('2')
                };
                if !shape_ok {
                    continue; // never asked: the shape check rejects it first
                }
                let answers: Vec<bool> = ["0000000", "5555555", "9876543"]
                    .iter()
                    .map(|tail| format!("{prefix:03}{tail}")[..len].to_string())
                    .map(|n| libphonenumber_valid_uncached(&n))
                    .collect();
                assert!(
                    answers.iter().all(|a| *a == answers[0]),
                    "validity of {prefix:03}… (length {len}) depends on more than the prefix"
                );
            }
        }
    }
}
