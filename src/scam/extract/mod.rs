//! Finds phone numbers, bank account numbers, domains and VietQR payloads in free Vietnamese text.
//!
//! The input is first prepared by [`PreparedText`] (NFC, full-width digits to ASCII, zero-width
//! characters removed); matching runs on that form and every [`Entity::span`] is mapped back to a byte
//! range of the caller's text, so `&input[entity.span]` is the entity exactly as written.
//!
//! One file per kind (`phone`, `account`, `domain`, `qr`, and `premium` for 1900/1800 service numbers),
//! each driven by the tables at its top (the cue words are in `cues`), so the heuristics can be tuned
//! without touching the matching code.

mod account;
mod domain;
mod phone;
mod premium;
mod qr;

use std::ops::Range;

use crate::scam::cues::LazyCues;
use crate::scam::entity::{Entity, EntityKind, VN_COUNTRY_PREFIX};
use crate::scam::numbers::{self, NumberRun};
use crate::scam::text::PreparedText;
pub use crate::scam::text::normalize_text;
use account::{
    MIN_ACCOUNT_DIGITS, find_accounts, normalize_account, overlaps_any, phone_or_account,
};
pub use domain::domain_and_parents;
use domain::{TldPolicy, find_domains, may_hold_a_domain, normalize_domain};
pub use phone::mobile_carrier;
use phone::{find_phones, normalize_phone};
use premium::{find_service_numbers, may_hold_a_service_number, normalize_service_number};
pub use premium::{is_service_number, number_reasons};
use qr::{find_qr_transfers, may_hold_a_qr_payload};

/// Finds every phone number, bank account number, domain and VietQR transfer in `text`.
///
/// Entities are deduplicated by (kind, value) and returned in order of first appearance; spans are
/// byte ranges of `text` itself. A mobile number is a phone, or an account when an account or payment
/// word introduces it ("STK 0912345678"); either way [`Entity::lookup_keys`] looks it up both ways,
/// because many banks let the account number equal the phone number. Named with a wallet ("MoMo
/// 0358 123 456") it is both entities, on the same span: a wallet account is its owner's phone number.
/// `1900`/`1800` service numbers are phones too; [`number_reasons`] flags the premium-rate ones.
#[must_use]
pub fn extract(text: &str) -> Vec<Entity> {
    let prepared = PreparedText::new(text);
    let mut entities = extract_normalized(prepared.normalized());
    for entity in &mut entities {
        entity.span = prepared.to_original(entity.span.clone());
        entity.raw = text[entity.span.clone()].to_string();
    }
    entities
}

/// [`extract`] on text that is already normalised; spans index `text`.
fn extract_normalized(text: &str) -> Vec<Entity> {
    // One pass finds every number; phones need 6+ digits in one grouped run (`(028) 3822 5678`; most
    // need 9+), service numbers 8+, accounts and QR payloads ("000201…") 6+, and most chat numbers
    // (prices, times) have fewer.
    let runs = numbers::number_runs(text);
    let longest_run = longest_digit_run(&runs);
    let qr = if runs
        .iter()
        .any(|run| may_hold_a_qr_payload(&text[run.span.clone()]))
    {
        find_qr_transfers(text)
    } else {
        Vec::new()
    };
    let qr_spans: Vec<Range<usize>> = qr.iter().map(|e| e.span.clone()).collect();
    let domains: Vec<Entity> = if may_hold_a_domain(text) {
        find_domains(text, TldPolicy::InText)
            .into_iter()
            .filter(|d| !overlaps_any(&d.span, &qr_spans))
            .collect()
    } else {
        Vec::new()
    };
    let mut blocked: Vec<Range<usize>> = domains.iter().map(|d| d.span.clone()).collect();
    blocked.extend(qr_spans.iter().cloned());

    let mut entities = qr;
    if longest_run >= MIN_ACCOUNT_DIGITS {
        // A phone in a link ("zalo.me/0912345678") still names that phone; only QR payloads hide digits.
        // Found on first need: messages whose numbers are all prices or dates never pay for it.
        let cues = LazyCues::new(text);
        let mut phones = Vec::new();
        for phone in find_phones(text, &runs) {
            if overlaps_any(&phone.span, &qr_spans) {
                continue;
            }
            let (entity, wallet_phone) = phone_or_account(text, &cues, phone);
            phones.push(entity);
            phones.extend(wallet_phone);
        }
        let service = if may_hold_a_service_number(text, &runs) {
            let mut taken: Vec<Range<usize>> = phones.iter().map(|p| p.span.clone()).collect();
            taken.extend(blocked.iter().cloned());
            find_service_numbers(text, &runs, &taken)
        } else {
            Vec::new()
        };
        let mut phone_spans: Vec<Range<usize>> = phones.iter().map(|p| p.span.clone()).collect();
        phone_spans.extend(service.iter().map(|p| p.span.clone()));
        let accounts = find_accounts(text, &runs, &cues, &phone_spans, &blocked);
        entities.extend(phones);
        entities.extend(service);
        entities.extend(accounts);
    }
    entities.extend(domains);
    entities.sort_by_key(|e| (e.span.start, kind_rank(e.kind)));
    dedup_by_kind_and_value(entities)
}

/// Keeps the first entity of each (kind, value), in order. Messages hold a handful, so a linear scan
/// beats hashing.
fn dedup_by_kind_and_value(mut entities: Vec<Entity>) -> Vec<Entity> {
    let mut kept = 0;
    for i in 0..entities.len() {
        let seen = entities[..kept]
            .iter()
            .any(|k| k.kind == entities[i].kind && k.value == entities[i].value);
        if !seen {
            // Everything between `kept` and `i` is a dropped duplicate.
            entities.swap(kept, i);
            kept += 1;
        }
    }
    entities.truncate(kept);
    entities
}

/// Digits in the longest number run.
fn longest_digit_run(runs: &[NumberRun]) -> usize {
    runs.iter().map(|run| run.digits).max().unwrap_or(0)
}

fn kind_rank(kind: EntityKind) -> usize {
    EntityKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(EntityKind::ALL.len())
}

/// Normalises one value of a known kind exactly as [`extract`] would,
/// for the CLI (`scam import`, `scam check`).
///
/// The whole input must be that one value (surrounding whitespace and trailing
/// punctuation aside); `None` when it is not valid for `kind`.
/// Domains accept full URLs, defanged forms and a leading `*.` wildcard, and,
/// unlike free text, any alphabetic TLD (the caller vouched that it is a domain).
#[must_use]
pub fn normalize_value(kind: EntityKind, raw: &str) -> Option<String> {
    match kind {
        EntityKind::Phone => normalize_phone(raw).or_else(|| normalize_service_number(raw)),
        EntityKind::BankAccount => normalize_account(raw),
        EntityKind::Domain => normalize_domain(raw),
    }
}

impl Entity {
    /// Every `(kind, value)` under which reports about this entity may be filed, the entity's own first:
    /// - a mobile number is also an account number ("số đẹp": many banks let the account equal the
    ///   phone number), and a 10-digit account shaped like a mobile number is also a phone;
    /// - a domain is also each parent domain down to the registrable one.
    #[must_use]
    pub fn lookup_keys(&self) -> Vec<(EntityKind, String)> {
        let mut keys = vec![(self.kind, self.value.clone())];
        match self.kind {
            EntityKind::Phone => {
                if let Some(national) = self.value.strip_prefix(VN_COUNTRY_PREFIX)
                    && national.len() == 9
                    && mobile_carrier(national).is_some()
                {
                    keys.push((EntityKind::BankAccount, format!("0{national}")));
                }
            }
            EntityKind::BankAccount => {
                if let Some(phone) = normalize_phone(&self.value)
                    && self.value.len() == 10
                    && self.value.starts_with('0')
                    && phone.len() == VN_COUNTRY_PREFIX.len() + 9
                {
                    keys.push((EntityKind::Phone, phone));
                }
            }
            EntityKind::Domain => {
                keys.extend(
                    domain_and_parents(&self.value)
                        .into_iter()
                        .skip(1)
                        .map(|parent| (EntityKind::Domain, parent)),
                );
            }
        }
        keys
    }
}

/// What `extract` finds of one kind, for the tests of every file here.
#[cfg(test)]
mod test_support {
    use super::extract;
    use crate::scam::entity::EntityKind;

    fn values(text: &str, kind: EntityKind) -> Vec<String> {
        extract(text)
            .into_iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.value)
            .collect()
    }

    pub(super) fn phones(text: &str) -> Vec<String> {
        values(text, EntityKind::Phone)
    }

    pub(super) fn accounts(text: &str) -> Vec<String> {
        values(text, EntityKind::BankAccount)
    }

    pub(super) fn domains(text: &str) -> Vec<String> {
        values(text, EntityKind::Domain)
    }

    pub(super) fn entity(kind: EntityKind, value: &str) -> (EntityKind, String) {
        (kind, value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{accounts, domains, entity, phones};
    use super::*;
    use crate::scam::numbers::number_runs;
    use proptest::prelude::*;

    #[test]
    fn brief_example_yields_account_phone_and_domain() {
        let text = "chị ơi chuyển khoản vào STK 1903 6688 8888 Techcombank, gọi 0912.345.678 hoặc vào vietcombank-xacminh[.]com";
        let found: Vec<(EntityKind, String)> = extract(text)
            .into_iter()
            .map(|e| (e.kind, e.value))
            .collect();
        assert_eq!(
            found,
            vec![
                entity(EntityKind::BankAccount, "190366888888"),
                entity(EntityKind::Phone, "+84912345678"),
                entity(EntityKind::Domain, "vietcombank-xacminh.com"),
            ]
        );
    }

    #[test]
    fn spans_point_into_the_text_as_written() {
        let raw = "STK 1903 6688 8888, gọi 0912.345.678 hoặc vào vietcombank-xacminh[.]com nhé";
        let found = extract(raw);
        let written: Vec<&str> = found.iter().map(|e| &raw[e.span.clone()]).collect();
        assert!(found.iter().all(|e| e.raw == raw[e.span.clone()]));
        assert_eq!(
            written,
            vec![
                "1903 6688 8888",
                "0912.345.678",
                "vietcombank-xacminh[.]com"
            ]
        );
    }

    #[test]
    fn phone_in_a_zalo_link_is_kept() {
        let text = "zalo.me/0912345678";
        assert_eq!(domains(text), vec!["zalo.me"]);
        assert_eq!(phones(text), vec!["+84912345678"]);
        assert!(accounts(text).is_empty());
    }

    #[test]
    fn obfuscated_numbers_are_found() {
        assert_eq!(phones("gọi ０９１２３４５６７８"), vec!["+84912345678"]);
        assert_eq!(
            phones("gọi 0912\u{200B}345\u{200B}678"),
            vec!["+84912345678"]
        );
        assert_eq!(
            accounts("STK 1903\u{2060}6688\u{FEFF}8888"),
            vec!["190366888888"]
        );
    }

    #[test]
    fn duplicates_are_removed_keeping_first_appearance() {
        let found = extract("gọi 0912345678, nhắc lại: +84 912 345 678. Link evil.com và EVIL.com");
        let pairs: Vec<(EntityKind, String)> =
            found.iter().map(|e| (e.kind, e.value.clone())).collect();
        assert_eq!(
            pairs,
            vec![
                entity(EntityKind::Phone, "+84912345678"),
                entity(EntityKind::Domain, "evil.com"),
            ]
        );
        assert_eq!(found[0].span, "gọi ".len().."gọi 0912345678".len());
    }

    #[test]
    fn extracted_values_are_fixed_points_of_normalize_value() {
        let text = "STK 1903 6688 8888, gọi 0912.345.678 hoặc +84 24 3825 1234, \
                    vào hxxps://WWW.Vietcombank-XacMinh[.]com/x hoặc xn--vcb-abc.vn";
        let found = extract(text);
        assert_eq!(found.len(), 5, "{found:?}");
        for entity in found {
            assert_eq!(
                crate::scam::normalize_value(entity.kind, &entity.value).as_deref(),
                Some(entity.value.as_str()),
                "{entity:?}"
            );
        }
    }

    #[test]
    fn odd_input_never_panics_and_spans_stay_on_char_boundaries() {
        let inputs = [
            "+",
            "+84",
            "(+84)",
            "0",
            "84",
            "0084",
            "..--..",
            "[.]",
            "hxxp://",
            "https://.com",
            "a.b.c.d.e.f.g",
            "👍0912345678👍",
            "ế0912345678ế",
            "0912345678\u{0301}",
            "x\u{0323}.com",
            "１２３４５６７８９０１２",
            "٠٩١٢٣٤٥٦٧٨",
            "@@@.com",
            "www.",
            "đ.vn",
            "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2",
        ];
        for raw in inputs {
            for entity in extract(raw) {
                assert!(
                    raw.get(entity.span.clone()).is_some(),
                    "{raw:?}: {entity:?}"
                );
                assert!(!entity.value.is_empty());
            }
        }
        let long = "0912 345 678 STK 1903 6688 8888 ".repeat(500);
        assert_eq!(extract(&long).len(), 2);
    }

    #[test]
    fn plain_text_yields_nothing() {
        assert!(extract("").is_empty());
        assert!(extract("Chào bạn, hôm nay trời đẹp quá. Mình đi cafe nhé!").is_empty());
        assert!(extract("Giá 2 triệu, hẹn 10:30 ngày 12/05/2024, phòng 1203.").is_empty());
    }

    #[test]
    fn mask_never_reveals_middle_digits() {
        for entity in extract("STK 1903 6688 8888, gọi 0912.345.678") {
            let masked = entity.masked();
            assert!(!masked.contains("345"), "{masked}");
            assert!(!masked.contains("6688"), "{masked}");
        }
    }

    #[test]
    fn normalize_value_phone_shapes() {
        for raw in [
            "0912345678",
            "0912 345 678",
            "0912.345.678",
            "091-234-5678",
            "+84 912 345 678",
            "84912345678",
            "(+84) 912345678",
            "0084912345678",
            "  0912345678  ",
        ] {
            assert_eq!(
                normalize_value(EntityKind::Phone, raw).as_deref(),
                Some("+84912345678"),
                "{raw}"
            );
        }
        assert_eq!(
            normalize_value(EntityKind::Phone, "02438251234").as_deref(),
            Some("+842438251234")
        );
    }

    #[test]
    fn normalize_value_rejects_non_phones() {
        for raw in [
            "0951234567",
            "091234567",
            "09123456789",
            "call 0912345678",
            "",
            "abc",
        ] {
            assert_eq!(normalize_value(EntityKind::Phone, raw), None, "{raw}");
        }
    }

    #[test]
    fn normalize_value_account() {
        assert_eq!(
            normalize_value(EntityKind::BankAccount, "1903 6688 8888").as_deref(),
            Some("190366888888")
        );
        assert_eq!(
            normalize_value(EntityKind::BankAccount, "１９０３-６６８８-８８８８").as_deref(),
            Some("190366888888")
        );
        assert_eq!(normalize_value(EntityKind::BankAccount, "12345"), None);
        assert_eq!(
            normalize_value(EntityKind::BankAccount, "12345678901234567890"),
            None
        );
        assert_eq!(normalize_value(EntityKind::BankAccount, "12345a789"), None);
    }

    #[test]
    fn normalize_value_domain() {
        for (raw, expected) in [
            ("https://WWW.Example.COM/path?q=1", "example.com"),
            ("example[.]com", "example.com"),
            ("hxxps://evil(.)site/login", "evil.site"),
            ("*.bad-domain.xyz", "bad-domain.xyz"),
            ("bad-domain.xyz/*", "bad-domain.xyz"),
            ("xn--vietcombank-abc.com", "xn--vietcombank-abc.com"),
            ("sub.example.rarelyusedtld", "sub.example.rarelyusedtld"),
            ("example.com.", "example.com"),
        ] {
            assert_eq!(
                normalize_value(EntityKind::Domain, raw).as_deref(),
                Some(expected),
                "{raw}"
            );
        }
        for raw in [
            "not a domain",
            "a@b.com",
            "report.pdf",
            "localhost",
            "1.2.3.4",
            "see example.com",
        ] {
            assert_eq!(normalize_value(EntityKind::Domain, raw), None, "{raw}");
        }
    }

    fn longest_digit_run(text: &str) -> usize {
        super::longest_digit_run(&number_runs(text))
    }

    #[test]
    fn longest_grouped_run() {
        assert_eq!(longest_digit_run("gọi 0912 345 678 nhé"), 10);
        assert_eq!(longest_digit_run("0912.345.678"), 10);
        assert_eq!(longest_digit_run("(+84) 912\u{A0}345-678"), 9);
        assert_eq!(longest_digit_run("giá 500k, 10:30 ngày 12/05"), 3);
        assert_eq!(longest_digit_run("1  2"), 1, "a double space ends a run");
        assert_eq!(longest_digit_run(""), 0);
    }

    /// Text built from the pieces the extractor reacts to, so random inputs reach deep into it.
    fn chatty_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[0-9]{1,12}",
            Just(" ".to_string()),
            Just(".".to_string()),
            Just("-".to_string()),
            Just("+84".to_string()),
            Just("(+84)".to_string()),
            Just("[.]".to_string()),
            Just("hxxps://".to_string()),
            Just("STK ".to_string()),
            Just("chuyển khoản ".to_string()),
            Just("Vietcombank".to_string()),
            Just(".com".to_string()),
            Just("000201".to_string()),
            Just("\u{200B}".to_string()),
            Just("\u{0301}".to_string()),
            Just("１２".to_string()),
            Just("đ".to_string()),
            "[a-zA-Zà-ỹ]{1,8}",
            any::<char>().prop_map(|c| c.to_string()),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn never_panics_and_spans_stay_inside_the_text(text in chatty_text()) {
            for entity in extract(&text) {
                prop_assert!(entity.span.start < entity.span.end, "{entity:?}");
                prop_assert_eq!(text.get(entity.span.clone()), Some(entity.raw.as_str()));
                prop_assert!(!entity.value.is_empty());
            }
        }

        #[test]
        fn arbitrary_unicode_never_panics(text in any::<String>()) {
            for entity in extract(&text) {
                prop_assert_eq!(text.get(entity.span.clone()), Some(entity.raw.as_str()));
            }
        }
    }
}
