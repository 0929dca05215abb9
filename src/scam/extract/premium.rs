//! Service numbers: `1900` lines, where the caller pays a premium rate, and toll-free `1800` lines. Each is
//! `1900`/`1800` and 4 or 6 more digits (`1900 1234`, `1900 545 413`, `1900.1234`), written as `+84` and
//! its digits like any other phone. Banks and shops publish 1900 hotlines, so the premium rate is a mild
//! reason on its own; a 1800 number carries none.

use std::ops::Range;

use super::account::{
    followed_by_money_unit, follows_reference_label, subtract_spans, trim_to_digits,
};
use super::phone::{is_glued_to_a_code, joined_to_a_time};
use crate::scam::entity::{Entity, EntityKind, VN_COUNTRY_PREFIX};
use crate::scam::numbers::{self, NumberRun};
use crate::scam::reason::{Reason, ReasonKind, Weight};
use crate::scam::text::normalize_text;

/// The kinds of service line, by their first four digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServiceLine {
    /// `1900`: the caller pays more than a normal call.
    PremiumRate,
    /// `1800`: free for the caller.
    TollFree,
}

impl ServiceLine {
    const ALL: [ServiceLine; 2] = [ServiceLine::PremiumRate, ServiceLine::TollFree];

    fn prefix(self) -> &'static str {
        match self {
            ServiceLine::PremiumRate => "1900",
            ServiceLine::TollFree => "1800",
        }
    }

    /// The line whose prefix `digits` start with.
    fn of(digits: &str) -> Option<ServiceLine> {
        Self::ALL
            .into_iter()
            .find(|line| digits.starts_with(line.prefix()))
    }
}

/// A service number has 8 or 10 digits, its prefix included.
const SERVICE_NUMBER_DIGITS: [usize; 2] = [8, 10];

/// What the user is told about a 1900 number.
const PREMIUM_RATE_LABEL: &str = "đầu số 1900 tính cước cao khi gọi";

/// True for a 1900 or 1800 number as extracted (`+841900…`): a published hotline, not somebody's phone.
#[must_use]
pub fn is_service_number(entity: &Entity) -> bool {
    entity.kind == EntityKind::Phone
        && entity
            .value
            .strip_prefix(VN_COUNTRY_PREFIX)
            .and_then(ServiceLine::of)
            .is_some()
}

/// The 1900 and 1800 numbers among `runs`: whole runs, or what is left of one around the spans in `taken`
/// (phones, links, QR payloads).
pub(super) fn find_service_numbers(
    text: &str,
    runs: &[NumberRun],
    taken: &[Range<usize>],
) -> Vec<Entity> {
    let mut found = Vec::new();
    for run in runs.iter().filter(|run| may_be_a_service_number(text, run)) {
        for piece in subtract_spans(run.span.clone(), taken) {
            if let Some(entity) =
                trim_to_digits(text, piece).and_then(|p| service_number_at(text, p))
            {
                found.push(entity);
            }
        }
    }
    found
}

/// True when some number run may hold a service number: the fast path for every other message.
pub(super) fn may_hold_a_service_number(text: &str, runs: &[NumberRun]) -> bool {
    runs.iter().any(|run| may_be_a_service_number(text, run))
}

/// Enough digits, and a `1900` or `1800` written in it (the prefixes of [`ServiceLine`]).
fn may_be_a_service_number(text: &str, run: &NumberRun) -> bool {
    run.digits >= SERVICE_NUMBER_DIGITS[0]
        && text.as_bytes()[run.span.clone()]
            .windows(4)
            .any(|four| matches!(four, [b'1', b'8' | b'9', b'0', b'0']))
}

fn service_number_at(text: &str, range: Range<usize>) -> Option<Entity> {
    let written = &text[range.clone()];
    // The prefix is always written unbroken; `19.000.000` and `1 900 000` are amounts.
    ServiceLine::of(written)?;
    let mut digits = String::with_capacity(SERVICE_NUMBER_DIGITS[1]);
    digits.extend(written.chars().filter(char::is_ascii_digit));
    let plausible = SERVICE_NUMBER_DIGITS.contains(&digits.len())
        && !is_round_amount(written)
        && !is_year_range(written)
        && !followed_by_money_unit(text, range.end)
        && !joined_to_a_time(text, &range)
        && !is_glued_to_a_code(text, range.start)
        && !follows_reference_label(text, &range)
        && !glued_to_letters_after(text, range.end);
    if !plausible {
        return None;
    }
    let mut value = String::with_capacity(VN_COUNTRY_PREFIX.len() + digits.len());
    value.push_str(VN_COUNTRY_PREFIX);
    value.push_str(&digits);
    Some(Entity {
        kind: EntityKind::Phone,
        value,
        raw: String::new(),
        span: range,
        bank_bin: None,
        bank_name: None,
        carrier: None,
    })
}

/// One service number as E.164, or `None` unless the whole input is one.
pub(super) fn normalize_service_number(raw: &str) -> Option<String> {
    let text = normalize_text(raw);
    let text = text.trim();
    match find_service_numbers(text, &numbers::number_runs(text), &[]).as_slice() {
        [only] if only.span == (0..text.len()) => Some(only.value.clone()),
        _ => None,
    }
}

/// `19000000`, `1.900.000.000`: an amount (19 million, 1.9 billion) written without a unit.
fn is_round_amount(written: &str) -> bool {
    let unseparated = written.bytes().all(|b| b.is_ascii_digit());
    (unseparated && written.ends_with("000")) || numbers::is_dot_grouped_thousands(written)
}

/// `1900-1945`: two years joined by a dash, a period of history. (`1900.1909` and `1900 1909` are
/// how numbers are grouped; periods are not written so.)
fn is_year_range(written: &str) -> bool {
    let Some((from, to)) = written.split_once('-') else {
        return false;
    };
    let year = |g: &str| {
        (g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit()))
            .then(|| g.parse::<u32>().ok())
            .flatten()
    };
    matches!((year(from), year(to)), (Some(a), Some(b)) if a < b && b <= LATEST_YEAR)
}

/// The latest year a written period is taken to end in.
const LATEST_YEAR: u32 = 2100;

/// `19001234abc`: a code, unless what follows is a unit the money check already judged.
fn glued_to_letters_after(text: &str, end: usize) -> bool {
    text[end..].chars().next().is_some_and(char::is_alphabetic)
}

/// Reasons a number entity carries by its shape alone (no database): a premium-rate 1900 number, a number
/// written digit by digit.
///
/// `text` is the text `entity` was extracted from, so the evidence is the number as written there.
#[must_use]
pub fn number_reasons(text: &str, entity: &Entity) -> Vec<Reason> {
    let national = match entity.kind {
        EntityKind::Phone => entity.value.strip_prefix(VN_COUNTRY_PREFIX),
        EntityKind::BankAccount | EntityKind::Domain => None,
    };
    let mut reasons = match national.and_then(ServiceLine::of) {
        Some(ServiceLine::PremiumRate) => vec![Reason::new(
            ReasonKind::PremiumRate,
            PREMIUM_RATE_LABEL,
            text,
            entity.span.clone(),
            Weight::Points(1),
        )],
        Some(ServiceLine::TollFree) | None => Vec::new(),
    };
    let written = text.get(entity.span.clone()).unwrap_or_default();
    if entity.kind != EntityKind::Domain && numbers::written_digit_by_digit(written) {
        reasons.push(Reason::new(
            ReasonKind::Obfuscation,
            SCATTERED_DIGITS_LABEL,
            text,
            entity.span.clone(),
            Weight::Points(SCATTERED_DIGITS_POINTS),
        ));
    }
    reasons
}

const SCATTERED_DIGITS_LABEL: &str =
    "số được viết tách rời từng chữ số, một mánh né bộ lọc quen của kẻ gian";
/// A sign of its own, worth reading the words for, but no warning alone.
const SCATTERED_DIGITS_POINTS: u8 = 2;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::extract::extract;
    use crate::scam::extract::test_support::{accounts, phones};

    #[test]
    fn a_number_written_digit_by_digit_is_obfuscated() {
        let reasons = |text: &str| {
            let entity = extract(text).remove(0);
            number_reasons(text, &entity)
                .into_iter()
                .map(|r| r.kind)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            reasons("GOI 0.9.7.3 2.8.1 5.4.6 DE DUOC HO TRO"),
            vec![ReasonKind::Obfuscation]
        );
        assert_eq!(
            reasons("zalo 0 3 8 6 5 5 2 9 1 7"),
            vec![ReasonKind::Obfuscation]
        );
        for grouped in ["gọi 0912 345 678", "gọi 0.386.552.917", "(028) 3822 5678"] {
            assert!(reasons(grouped).is_empty(), "{grouped}");
        }
    }

    #[test]
    fn premium_and_toll_free_numbers_in_every_grouping() {
        for (text, value) in [
            ("Hotline 1900 545 413", "+841900545413"),
            ("goi 1900545413 de duoc ho tro", "+841900545413"),
            ("tổng đài 1900.1234.", "+8419001234"),
            ("Tổng đài: 1900-6868 (1.000đ/phút)", "+8419006868"),
            ("LH 1900 6868 99", "+841900686899"),
            ("hotline 1900 54 54 13", "+841900545413"),
            ("CSKH 18008098 (mien phi)", "+8418008098"),
            ("gọi miễn phí 1800 588 822", "+841800588822"),
            ("(1800 1091)", "+8418001091"),
            ("SĐT1900 1234", "+8419001234"),
            ("Em nhớ là 1900.1909 mới đúng", "+8419001909"),
            ("gọi 1900 2045 nhé", "+8419002045"),
        ] {
            assert_eq!(phones(text), vec![value], "{text:?}");
            assert!(accounts(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn service_number_next_to_a_mobile_in_one_run() {
        assert_eq!(
            phones("LH 1900 1234 0912345678"),
            vec!["+8419001234", "+84912345678"]
        );
    }

    #[test]
    fn amounts_years_codes_and_short_codes_are_not_service_numbers() {
        for text in [
            "chuyển 19000000 cho chị",
            "giá 1.900.000.000 đồng",
            "nhận 18000000",
            "1900000000",
            "1900 1234đ",
            "18001234 VND",
            "giai đoạn 1900-1945",
            "từ 1800 đến 1900",
            "thế kỷ 1800-1900",
            "mã đơn DH19001234",
            "Ref MBVCB.19001234",
            "19001234ABC",
            "luc 1900 1234:56",
            "19001",
            "1900 123",
            "1900 12345",
            "1900 1234567",
            "1900 123 4567 89",
            "soạn DK gửi 191",
            "gửi 9029",
            "gọi 1544",
            "19.001.234",
            "hợp đồng số 1800123456",
            "Ref: 19001234",
        ] {
            assert!(phones(text).is_empty(), "{text:?} gave {:?}", phones(text));
        }
    }

    #[test]
    fn premium_rate_reason_quotes_the_number_as_written() {
        let text = "Quý khách gọi 1900 545 413 để nhận quà";
        let found = extract(text);
        assert_eq!(found.len(), 1);
        let reasons = number_reasons(text, &found[0]);
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].kind, ReasonKind::PremiumRate);
        assert_eq!(reasons[0].weight, Weight::Points(1));
        assert_eq!(reasons[0].evidence, "1900 545 413");
        assert_eq!(reasons[0].label, PREMIUM_RATE_LABEL);
    }

    #[test]
    fn no_shape_reason_for_toll_free_mobile_landline_or_other_kinds() {
        let text = "gọi 1800 1091, 0912 345 678, 024 3825 1234, STK 19001234567, vcb.com";
        let found = extract(text);
        assert!(found.len() >= 4, "{found:?}");
        for entity in &found {
            assert!(number_reasons(text, entity).is_empty(), "{entity:?}");
        }
    }

    #[test]
    fn normalize_value_takes_service_numbers() {
        use crate::scam::{EntityKind, normalize_value};
        assert_eq!(
            normalize_value(EntityKind::Phone, "1900 545 413").as_deref(),
            Some("+841900545413")
        );
        assert_eq!(
            normalize_value(EntityKind::Phone, "18001091").as_deref(),
            Some("+8418001091")
        );
        assert_eq!(normalize_value(EntityKind::Phone, "19001"), None);
    }
}
