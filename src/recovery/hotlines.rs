//! The hotline directory (`data/hotlines.toml`): each bank's and each authority's number with the public
//! page it was read on and the day it was read. An entry without both is never shown: a wrong number
//! given to a frightened user is worse than none.

use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::scam::banks::{BANKS, Bank};

/// A bank's or wallet's hotline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BankHotline {
    /// The bank table's `short_name`.
    pub name: String,
    /// As the source writes them, grouped for reading aloud.
    pub hotlines: Vec<String>,
    /// Opening hours or a remark, in English, when the source gives one.
    #[serde(default)]
    pub note: Option<String>,
    /// The public page the numbers were read on.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub retrieved: Option<NaiveDate>,
    /// The page's words holding the number, so a reviewer can check it without a browser.
    #[serde(default)]
    pub quote: Option<String>,
}

/// Whom else a victim contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorityKey {
    /// The police emergency number.
    Police,
    /// The national lookup of scam websites (tinnhiemmang.vn).
    Tinnhiemmang,
    /// The national cyber-security centre's portal for reporting fraud (canhbao.ncsc.gov.vn).
    NcscReport,
    /// Any other contact the file lists; not used by the playbook.
    #[serde(other)]
    Other,
}

/// An authority's contact.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Authority {
    pub key: AuthorityKey,
    /// Vietnamese, as shown.
    pub name: String,
    /// A number or an address.
    pub contact: String,
    /// A remark, in English.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub retrieved: Option<NaiveDate>,
    #[serde(default)]
    pub quote: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Directory {
    #[serde(default)]
    bank: Vec<BankHotline>,
    #[serde(default)]
    authority: Vec<Authority>,
}

static DIRECTORY: LazyLock<Directory> = LazyLock::new(|| {
    toml::from_str(include_str!("data/hotlines.toml"))
        .expect("src/recovery/data/hotlines.toml is valid")
});

/// A source that can be shown: an https page and the day it was read.
fn sourced(source: Option<&str>, retrieved: Option<NaiveDate>) -> bool {
    source.is_some_and(|s| s.starts_with("https://") && s.len() > "https://".len())
        && retrieved.is_some()
}

/// The hotline of `bank`, when the directory has one with its source.
#[must_use]
pub fn bank_hotline(bank: &Bank) -> Option<&'static BankHotline> {
    DIRECTORY.bank.iter().find(|entry| {
        entry.name == bank.short_name
            && !entry.hotlines.is_empty()
            && sourced(entry.source.as_deref(), entry.retrieved)
    })
}

/// The contact of `key`, when the directory has one with its source.
#[must_use]
pub fn authority(key: AuthorityKey) -> Option<&'static Authority> {
    DIRECTORY
        .authority
        .iter()
        .find(|entry| entry.key == key && sourced(entry.source.as_deref(), entry.retrieved))
}

/// An authority's web address as people type it: `tinnhiemmang.vn`, or the contact itself when it is a
/// number.
#[must_use]
pub fn short_contact(authority: &Authority) -> &str {
    let contact = authority.contact.as_str();
    let host = contact
        .strip_prefix("https://")
        .or_else(|| contact.strip_prefix("http://"))
        .unwrap_or(contact);
    host.split('/').next().unwrap_or(host)
}

/// The banks whose hotline can be shown.
pub fn banks_with_hotlines() -> impl Iterator<Item = (&'static Bank, &'static BankHotline)> {
    BANKS
        .iter()
        .filter_map(|bank| bank_hotline(bank).map(|hotline| (bank, hotline)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_names_a_known_bank_and_carries_a_source_and_a_date_or_is_never_shown() {
        assert!(!DIRECTORY.bank.is_empty());
        for entry in &DIRECTORY.bank {
            let bank = BANKS.iter().find(|b| b.short_name == entry.name);
            let bank = bank.unwrap_or_else(|| panic!("{} is not in the bank table", entry.name));
            let shown = bank_hotline(bank);
            if sourced(entry.source.as_deref(), entry.retrieved) {
                assert_eq!(shown, Some(entry), "{}", entry.name);
                let source = entry.source.as_deref().unwrap_or_default();
                assert!(url::Url::parse(source).is_ok(), "{}: {source}", entry.name);
                assert!(
                    entry.quote.is_some(),
                    "{}: no quote from the source",
                    entry.name
                );
                for number in &entry.hotlines {
                    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
                    assert!((3..=12).contains(&digits.len()), "{}: {number}", entry.name);
                    let quote: String = entry
                        .quote
                        .as_deref()
                        .unwrap_or_default()
                        .chars()
                        .filter(char::is_ascii_digit)
                        .collect();
                    assert!(
                        quote.contains(&digits),
                        "{}: {number} is not in the quote",
                        entry.name
                    );
                }
            } else {
                assert_eq!(
                    shown, None,
                    "{} has no source and must not be shown",
                    entry.name
                );
            }
            let retrieved = entry.retrieved.unwrap_or(NaiveDate::MIN);
            assert!(
                retrieved <= chrono::Utc::now().date_naive(),
                "{}",
                entry.name
            );
        }
    }

    #[test]
    fn authorities_carry_a_source_or_are_never_shown() {
        for entry in &DIRECTORY.authority {
            let shown = sourced(entry.source.as_deref(), entry.retrieved);
            if entry.key != AuthorityKey::Other {
                assert_eq!(
                    authority(entry.key).is_some_and(|a| a == entry),
                    shown,
                    "{}",
                    entry.name
                );
            }
        }
        assert!(
            authority(AuthorityKey::Police).is_some(),
            "the police number is listed"
        );
    }

    #[test]
    fn an_unsourced_entry_is_refused_whatever_else_it_has() {
        assert!(!sourced(None, NaiveDate::from_ymd_opt(2026, 12, 7)));
        assert!(!sourced(Some("https://example.vn/"), None));
        assert!(!sourced(
            Some("http://example.vn/"),
            NaiveDate::from_ymd_opt(2026, 12, 7)
        ));
        assert!(sourced(
            Some("https://example.vn/"),
            NaiveDate::from_ymd_opt(2026, 12, 7)
        ));
    }
}
