//! Scam-lookup domain types and entity normalisation.
//!
//! Everything here is pure: no IO, no logging. Entity values are personal data
//! (phone numbers, account numbers), so callers must log [`Entity::masked`],
//! never [`Entity::value`].

mod ascii_link;
pub mod banks;
pub mod check;
mod cues;
pub mod extract;
pub mod import;
pub mod index;
mod numbers;
mod scan;
pub mod signals;
pub mod text;
pub mod user_report;
pub mod verdict;
pub mod vietqr;

use std::fmt;
use std::ops::Range;

use chrono::{DateTime, Utc};

/// The kinds of entity the bot can look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    Phone,
    BankAccount,
    Domain,
}

impl EntityKind {
    /// Every kind, in the order used when sorting entities that share a span.
    pub const ALL: [EntityKind; 3] = [
        EntityKind::Phone,
        EntityKind::BankAccount,
        EntityKind::Domain,
    ];

    /// Stable identifier used in the database and on the CLI.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            EntityKind::Phone => "phone",
            EntityKind::BankAccount => "bank_account",
            EntityKind::Domain => "domain",
        }
    }

    /// Inverse of [`EntityKind::as_str`]; ASCII case and surrounding whitespace are ignored.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entity found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub kind: EntityKind,
    /// Normalised value:
    /// - phone: E.164, e.g. `+84912345678`;
    /// - bank account: digits only, e.g. `190366888888`;
    /// - domain: lowercase ASCII host without scheme, path, port or leading `www.`;
    ///   Unicode (IDN) hosts are converted to punycode (`xn--…`).
    pub value: String,
    /// The entity exactly as the user wrote it: `&input[span]`.
    pub raw: String,
    /// Byte range in the text given to [`extract::extract`].
    pub span: Range<usize>,
    /// NAPAS BIN of the bank named next to an account (or in its VietQR payload).
    pub bank_bin: Option<String>,
    /// The bank or wallet named next to an account.
    pub bank_name: Option<&'static str>,
    /// Mobile operator of a phone number, from its prefix.
    pub carrier: Option<&'static str>,
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
                    && extract::mobile_carrier(national).is_some()
                {
                    keys.push((EntityKind::BankAccount, format!("0{national}")));
                }
            }
            EntityKind::BankAccount => {
                if let Some(phone) = extract::normalize_phone(&self.value)
                    && self.value.len() == 10
                    && self.value.starts_with('0')
                    && phone.len() == VN_COUNTRY_PREFIX.len() + 9
                {
                    keys.push((EntityKind::Phone, phone));
                }
            }
            EntityKind::Domain => {
                keys.extend(
                    extract::domain_and_parents(&self.value)
                        .into_iter()
                        .skip(1)
                        .map(|parent| (EntityKind::Domain, parent)),
                );
            }
        }
        keys
    }
}

impl Entity {
    /// A form that is safe for logs and public replies.
    ///
    /// - phone: country code, first 2 and last 3 national digits: `+8491****678`;
    /// - bank account: last 4 digits only, with a fixed-width prefix so the
    ///   length is not leaked either: `••••8888`;
    /// - domain: unchanged (domains are not personal data).
    #[must_use]
    pub fn masked(&self) -> String {
        match self.kind {
            EntityKind::Phone => mask_phone(&self.value),
            EntityKind::BankAccount => mask_account(&self.value),
            EntityKind::Domain => self.value.clone(),
        }
    }
}

/// Reports about one `(kind, value)`, aggregated over every source that lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSummary {
    pub report_count: i64,
    /// Category of the strongest source (verified first, then most reports).
    pub category: String,
    /// True when any source is moderated or official.
    pub verified: bool,
    pub first_reported: Option<DateTime<Utc>>,
    pub last_reported: Option<DateTime<Utc>>,
    /// The sources that list it, strongest first.
    pub sources: Vec<String>,
    /// NAPAS BIN recorded with an account report, when known.
    pub bank_bin: Option<String>,
}

/// An extracted entity together with what the store knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub entity: Entity,
    pub verdict: verdict::Verdict,
    /// The reports behind the verdict (of the lookup key that decided it).
    pub report: Option<ReportSummary>,
    /// The key the reports are filed under when it is not the entity itself: a parent domain, or the
    /// phone/account twin of a mobile number.
    pub matched: Option<(EntityKind, String)>,
}

impl Finding {
    /// The report when it is worth warning about (any verdict above "no reports").
    pub fn warning_report(&self) -> Option<&ReportSummary> {
        self.report
            .as_ref()
            .filter(|_| self.verdict != verdict::Verdict::NoReports)
    }
}

impl EntityKind {
    /// How the kind is named in Vietnamese text (replies and model facts).
    pub fn label_vi(self) -> &'static str {
        match self {
            EntityKind::Phone => "Số điện thoại",
            EntityKind::BankAccount => "Số tài khoản",
            EntityKind::Domain => "Trang web",
        }
    }
}

/// `dd/mm/yyyy` in Vietnam time (UTC+7, no daylight saving): how dates are shown to users and the model.
pub fn vietnam_date(date: DateTime<Utc>) -> String {
    const VIETNAM_UTC_OFFSET_SECONDS: i32 = 7 * 3600;
    match chrono::FixedOffset::east_opt(VIETNAM_UTC_OFFSET_SECONDS) {
        Some(offset) => date.with_timezone(&offset).format("%d/%m/%Y").to_string(),
        None => date.format("%d/%m/%Y").to_string(),
    }
}

/// Normalises one value of a known kind exactly as [`extract::extract`] would,
/// for the CLI (`scam import`, `scam check`).
///
/// The whole input must be that one value (surrounding whitespace and trailing
/// punctuation aside); `None` when it is not valid for `kind`.
/// Domains accept full URLs, defanged forms and a leading `*.` wildcard, and,
/// unlike free text, any alphabetic TLD (the caller vouched that it is a domain).
#[must_use]
pub fn normalize_value(kind: EntityKind, raw: &str) -> Option<String> {
    match kind {
        EntityKind::Phone => extract::normalize_phone(raw),
        EntityKind::BankAccount => extract::normalize_account(raw),
        EntityKind::Domain => extract::normalize_domain(raw),
    }
}

/// Prefix of an E.164 Vietnamese number.
const VN_COUNTRY_PREFIX: &str = "+84";
/// National digits kept at the start and the end of a masked phone number.
const PHONE_KEEP_HEAD: usize = 2;
const PHONE_KEEP_TAIL: usize = 3;
/// Account digits kept at the end of a masked account number.
const ACCOUNT_KEEP_TAIL: usize = 4;

fn mask_phone(value: &str) -> String {
    let (country, national) = match value.strip_prefix(VN_COUNTRY_PREFIX) {
        Some(national) => (VN_COUNTRY_PREFIX, national),
        None => ("", value),
    };
    let digits: Vec<char> = national.chars().collect();
    if digits.len() <= PHONE_KEEP_HEAD + PHONE_KEEP_TAIL {
        // Too short to show anything safely.
        return format!("{country}{}", "*".repeat(digits.len()));
    }
    let head: String = digits[..PHONE_KEEP_HEAD].iter().collect();
    let tail: String = digits[digits.len() - PHONE_KEEP_TAIL..].iter().collect();
    let hidden = "*".repeat(digits.len() - PHONE_KEEP_HEAD - PHONE_KEEP_TAIL);
    format!("{country}{head}{hidden}{tail}")
}

fn mask_account(value: &str) -> String {
    let digits: Vec<char> = value.chars().collect();
    let tail: String = if digits.len() > ACCOUNT_KEEP_TAIL {
        digits[digits.len() - ACCOUNT_KEEP_TAIL..].iter().collect()
    } else {
        // Never reveal a whole (invalidly short) account number.
        String::new()
    };
    format!("••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(kind: EntityKind, value: &str) -> Entity {
        Entity {
            kind,
            value: value.to_string(),
            raw: value.to_string(),
            span: 0..value.len(),
            bank_bin: None,
            bank_name: None,
            carrier: None,
        }
    }

    #[test]
    fn kind_round_trips_through_str() {
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(EntityKind::Phone.as_str(), "phone");
        assert_eq!(EntityKind::BankAccount.as_str(), "bank_account");
        assert_eq!(EntityKind::Domain.as_str(), "domain");
    }

    #[test]
    fn kind_parse_is_lenient_on_case_and_whitespace_only() {
        assert_eq!(EntityKind::parse(" Phone "), Some(EntityKind::Phone));
        assert_eq!(
            EntityKind::parse("BANK_ACCOUNT"),
            Some(EntityKind::BankAccount)
        );
        assert_eq!(EntityKind::parse("account"), None);
        assert_eq!(EntityKind::parse("url"), None);
        assert_eq!(EntityKind::parse(""), None);
    }

    #[test]
    fn masks_mobile_phone() {
        let masked = entity(EntityKind::Phone, "+84912345678").masked();
        assert_eq!(masked, "+8491****678");
        assert!(!masked.contains("2345"));
    }

    #[test]
    fn masks_landline_phone() {
        assert_eq!(
            entity(EntityKind::Phone, "+842438251234").masked(),
            "+8424*****234"
        );
    }

    #[test]
    fn masks_account_keeping_last_four() {
        assert_eq!(
            entity(EntityKind::BankAccount, "190366888888").masked(),
            "••••8888"
        );
        assert_eq!(
            entity(EntityKind::BankAccount, "0912345678").masked(),
            "••••5678"
        );
        assert_eq!(entity(EntityKind::BankAccount, "1234").masked(), "••••");
    }

    #[test]
    fn domain_is_not_masked() {
        assert_eq!(
            entity(EntityKind::Domain, "vietcombank-xacminh.com").masked(),
            "vietcombank-xacminh.com"
        );
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
}
