//! The entities the bot looks up (phone numbers, bank accounts, domains) and their log-safe form.
//!
//! The keys an entity is looked up under follow the extraction rules, so `Entity::lookup_keys` is defined
//! beside them, in `extract`.

use std::fmt;
use std::ops::Range;

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
    /// Byte range in the text the entity was found in.
    pub span: Range<usize>,
    /// NAPAS BIN of the bank named next to an account (or in its VietQR payload).
    pub bank_bin: Option<String>,
    /// The bank or wallet named next to an account.
    pub bank_name: Option<&'static str>,
    /// Mobile operator of a phone number, from its prefix.
    pub carrier: Option<&'static str>,
}

impl Entity {
    /// An entity whose normalised value is exactly what was written, for unit tests.
    #[cfg(test)]
    pub(crate) fn written_as(kind: EntityKind, value: &str) -> Entity {
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

/// Prefix of an E.164 Vietnamese number.
pub(crate) const VN_COUNTRY_PREFIX: &str = "+84";
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
        Entity::written_as(kind, value)
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
}
