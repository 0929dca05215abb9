//! The brand registry (`data/brands.toml`): the brands scam messages impersonate, the words that name
//! them inside a domain, and their official registrable domains. Parsed once.

use std::sync::LazyLock;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::host::registrable_domain;

/// What kind of organisation a brand is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrandCategory {
    Bank,
    Wallet,
    Shop,
    Carrier,
    Delivery,
    Utility,
    Government,
    Social,
    Other,
}

impl BrandCategory {
    pub const ALL: [BrandCategory; 9] = [
        BrandCategory::Bank,
        BrandCategory::Wallet,
        BrandCategory::Shop,
        BrandCategory::Carrier,
        BrandCategory::Delivery,
        BrandCategory::Utility,
        BrandCategory::Government,
        BrandCategory::Social,
        BrandCategory::Other,
    ];

    /// Stable identifier (the registry's spelling).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BrandCategory::Bank => "bank",
            BrandCategory::Wallet => "wallet",
            BrandCategory::Shop => "shop",
            BrandCategory::Carrier => "carrier",
            BrandCategory::Delivery => "delivery",
            BrandCategory::Utility => "utility",
            BrandCategory::Government => "government",
            BrandCategory::Social => "social",
            BrandCategory::Other => "other",
        }
    }
}

/// One brand of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Brand {
    /// Shown to users.
    pub name: String,
    pub category: BrandCategory,
    /// Lowercase ASCII strings that name the brand inside a domain. Those of [`SHORT_KEYWORD_MAX`]
    /// letters or fewer count only as a whole token of a label.
    pub keywords: Vec<String>,
    /// Longer names that are ordinary words too: matched only as a whole token.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Words that contain a keyword but name something else (`zalora` for `zalo`).
    #[serde(default, rename = "except")]
    pub not_the_brand: Vec<String>,
    /// Whether a keyword one or two edits away counts as a look-alike.
    #[serde(default = "fuzzy_by_default")]
    pub fuzzy: bool,
    /// The brand's own registrable domains, the main one first.
    pub domains: Vec<String>,
    /// A public page showing the official domain.
    pub source: String,
}

fn fuzzy_by_default() -> bool {
    true
}

impl Brand {
    /// The domain named to the user as "the official site".
    #[must_use]
    pub fn main_domain(&self) -> &str {
        self.domains.first().map_or("", String::as_str)
    }
}

/// Keywords this short or shorter are too common inside words to match anywhere but as a token.
pub(super) const SHORT_KEYWORD_MAX: usize = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registry {
    brand: Vec<Brand>,
}

static BRANDS: LazyLock<Vec<Brand>> = LazyLock::new(|| {
    toml::from_str::<Registry>(include_str!("../data/brands.toml"))
        .expect("src/scam/data/brands.toml is valid")
        .brand
});

/// Official registrable domain → index into [`BRANDS`].
static OFFICIAL: LazyLock<FxHashMap<&'static str, usize>> = LazyLock::new(|| {
    let mut map = FxHashMap::default();
    for (i, brand) in BRANDS.iter().enumerate() {
        for domain in &brand.domains {
            map.insert(domain.as_str(), i);
        }
    }
    map
});

/// Every brand of the registry.
#[must_use]
pub fn brands() -> &'static [Brand] {
    &BRANDS
}

/// The brand whose official registrable domain `host` is under, if any (`online.mbbank.com.vn` → MB).
/// Any case, with or without a trailing dot.
#[must_use]
pub fn official_brand(host: &str) -> Option<&'static Brand> {
    let host = host.trim_end_matches('.');
    let lower;
    let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
        lower = host.to_ascii_lowercase();
        lower.as_str()
    } else {
        host
    };
    official_for(registrable_domain(host)?)
}

/// The brand whose official domain `registrable` (a lowercase registrable domain) is.
#[must_use]
pub(super) fn official_for(registrable: &str) -> Option<&'static Brand> {
    OFFICIAL.get(registrable).map(|&i| &BRANDS[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::banks::BANKS;
    use std::collections::HashSet;

    #[test]
    fn the_registry_is_large_and_every_entry_cites_a_source() {
        assert!(brands().len() >= 60, "{} brands", brands().len());
        for brand in brands() {
            assert!(
                brand.source.starts_with("https://") || brand.source.starts_with("http://"),
                "{}: source {:?}",
                brand.name,
                brand.source
            );
            assert!(!brand.domains.is_empty(), "{}: no domain", brand.name);
            assert!(
                !brand.keywords.is_empty() || !brand.tokens.is_empty(),
                "{}: nothing names it",
                brand.name
            );
        }
    }

    #[test]
    fn every_bank_and_wallet_of_the_bank_table_has_an_entry() {
        for bank in BANKS {
            assert!(
                brands()
                    .iter()
                    .any(|b| b.name.eq_ignore_ascii_case(bank.short_name)),
                "{} has no registry entry",
                bank.short_name
            );
        }
    }

    #[test]
    fn no_official_domain_is_shared_and_each_is_registrable() {
        let mut seen = HashSet::new();
        for brand in brands() {
            for domain in &brand.domains {
                assert!(seen.insert(domain.as_str()), "{domain} listed twice");
                assert_eq!(
                    registrable_domain(domain),
                    Some(domain.as_str()),
                    "{}: {domain} is not a registrable domain",
                    brand.name
                );
            }
        }
    }

    #[test]
    fn keywords_are_lowercase_ascii_and_name_one_brand() {
        let mut seen = HashSet::new();
        for brand in brands() {
            for word in brand.keywords.iter().chain(&brand.tokens) {
                assert!(
                    word.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                    "{}: {word:?}",
                    brand.name
                );
                assert!(seen.insert(word.as_str()), "{word} names two brands");
            }
            for word in &brand.not_the_brand {
                assert!(
                    brand.keywords.iter().any(|k| word.contains(k.as_str())),
                    "{}: except {word:?} contains no keyword",
                    brand.name
                );
            }
        }
    }

    #[test]
    fn the_required_brands_and_categories_are_there() {
        for name in [
            "Shopee",
            "Lazada",
            "Tiki",
            "TikTok Shop",
            "Viettel",
            "VinaPhone",
            "MobiFone",
            "Vietnamobile",
            "VNPost",
            "Viettel Post",
            "EVN",
            "Zalo",
            "Facebook",
        ] {
            assert!(brands().iter().any(|b| b.name == name), "{name}");
        }
        for category in BrandCategory::ALL {
            assert!(
                brands().iter().any(|b| b.category == category),
                "{}",
                category.as_str()
            );
        }
    }

    #[test]
    fn official_domains_and_their_subdomains() {
        let name = |host: &str| official_brand(host).map(|b| b.name.as_str());
        assert_eq!(name("vietcombank.com.vn"), Some("Vietcombank"));
        assert_eq!(name("vcbdigibank.vietcombank.com.vn"), Some("Vietcombank"));
        assert_eq!(name("Online.MBBank.com.vn."), Some("MB"));
        assert_eq!(name("s.shopee.vn"), Some("Shopee"));
        assert_eq!(name("shp.ee"), Some("Shopee"));
        assert_eq!(name("my.viettel.vn"), Some("Viettel"));
        assert_eq!(name("cskh.evnhcmc.vn"), Some("EVN"));
        assert_eq!(
            name("dichvucong.gov.vn"),
            Some("Cổng Dịch vụ công quốc gia")
        );
        assert_eq!(name("vietcombank.com.vn-xacthuc.top"), None);
        assert_eq!(name("vietcombank.com.vn.abc.xyz"), None);
        assert_eq!(name("evil-vietcombank.com.vn"), None);
        assert_eq!(name("103.21.44.9"), None);
        assert_eq!(name(""), None);
    }
}
