//! Which brand a domain label names: a keyword anywhere in it (one automaton over every keyword),
//! a short keyword as a whole token, or a look-alike of a keyword (equal once the pairs that pass for
//! one another are made equal, or one or two edits away). Built once from the registry.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;

use super::brands::{Brand, SHORT_KEYWORD_MAX, brands};
use super::lookalike::{skeleton, within_edits};

/// Keywords at least this long may be one edit off; at [`TWO_EDITS_FROM`], two.
const ONE_EDIT_FROM: usize = 6;
const TWO_EDITS_FROM: usize = 10;

/// What is put around a short brand token in look-alike domains: `myacb`, `ivib`, `vcbonline`,
/// `acbbank`.
const TOKEN_PREFIXES: [&str; 3] = ["my", "e", "i"];
const TOKEN_SUFFIXES: [&str; 4] = ["vn", "online", "bank", "app"];

/// A token keyword of this many letters or fewer must stand between dots or dashes: a digit next to
/// it is not enough (`mb` in `mb-login`, not in `5mb`).
const TWO_LETTERS: usize = 2;

struct Pattern {
    brand: usize,
    len: usize,
    /// Skeletons of the brand's `except` words that contain this keyword, with the keyword's offset.
    excepts: Vec<(String, usize)>,
}

struct Matcher {
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
    /// Skeleton of a token keyword → (brand, letters).
    tokens: FxHashMap<String, (usize, usize)>,
    /// (skeleton, brand, most edits) of the keywords a look-alike may be near.
    fuzzy: Vec<(String, usize, usize)>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let mut keywords = Vec::new();
    let mut patterns = Vec::new();
    let mut tokens = FxHashMap::default();
    let mut fuzzy = Vec::new();
    for (i, brand) in brands().iter().enumerate() {
        for keyword in &brand.keywords {
            let skel = skeleton(keyword);
            if keyword.len() <= SHORT_KEYWORD_MAX {
                tokens.insert(skel, (i, keyword.len()));
                continue;
            }
            let excepts = brand
                .not_the_brand
                .iter()
                .filter_map(|word| word.find(keyword.as_str()).map(|at| (skeleton(word), at)))
                .collect();
            if brand.fuzzy && keyword.len() >= ONE_EDIT_FROM {
                let edits = if keyword.len() >= TWO_EDITS_FROM {
                    2
                } else {
                    1
                };
                fuzzy.push((skel.clone(), i, edits));
            }
            keywords.push(skel);
            patterns.push(Pattern {
                brand: i,
                len: keyword.len(),
                excepts,
            });
        }
        for token in &brand.tokens {
            tokens.insert(skeleton(token), (i, token.len()));
        }
    }
    Matcher {
        automaton: AhoCorasick::new(&keywords).expect("brand keywords build an automaton"),
        patterns,
        tokens,
        fuzzy,
        prefixes: TOKEN_PREFIXES.iter().map(|a| skeleton(a)).collect(),
        suffixes: TOKEN_SUFFIXES.iter().map(|a| skeleton(a)).collect(),
    }
});

/// The brand named in one label (`plain`: lowercase ASCII as read, see `lookalike::label_form`), if
/// any: the longest keyword found wins, then a look-alike of a keyword.
pub(super) fn brand_in_label(plain: &str) -> Option<&'static Brand> {
    let matcher = &*MATCHER;
    let found = matcher
        .keyword_in(plain)
        .into_iter()
        .chain(matcher.token_in(plain))
        // Longest keyword first; on a tie, the brand listed first.
        .max_by_key(|&(brand, len)| (len, std::cmp::Reverse(brand)))
        .map(|(brand, _)| brand)
        .or_else(|| matcher.near_keyword(plain))?;
    Some(&brands()[found])
}

impl Matcher {
    /// (brand, keyword letters) of every keyword inside the label, dashes ignored.
    fn keyword_in(&self, plain: &str) -> Vec<(usize, usize)> {
        let compact: String = plain.chars().filter(|&c| c != '-').collect();
        let compact = skeleton(&compact);
        let mut found = Vec::new();
        for hit in self.automaton.find_overlapping_iter(&compact) {
            let pattern = &self.patterns[hit.pattern().as_usize()];
            let excepted = pattern.excepts.iter().any(|(word, offset)| {
                hit.start()
                    .checked_sub(*offset)
                    .is_some_and(|from| compact[from..].starts_with(word.as_str()))
            });
            if !excepted {
                found.push((pattern.brand, pattern.len));
            }
        }
        found
    }

    /// (brand, letters) of a token keyword that is a whole token of the label, perhaps with a
    /// common prefix or suffix around it.
    fn token_in(&self, plain: &str) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        let mut consider = |found: Option<(usize, usize)>| {
            if let Some(found) = found
                && best.is_none_or(|b| found.1 > b.1)
            {
                best = Some(found);
            }
        };
        for dash_token in plain.split('-').filter(|t| !t.is_empty()) {
            consider(self.token(&skeleton(dash_token), true));
            if dash_token.bytes().any(|b| b.is_ascii_digit()) {
                for part in dash_token
                    .split(|c: char| c.is_ascii_digit())
                    .filter(|t| !t.is_empty())
                {
                    consider(self.token(&skeleton(part), false));
                }
            }
        }
        best
    }

    /// The token keyword `token` (a skeleton) is, alone or with an affix. `between_dashes`: no digit
    /// borders it.
    fn token(&self, token: &str, between_dashes: bool) -> Option<(usize, usize)> {
        if let Some(found) = self.tokens.get(token).copied() {
            return (between_dashes || found.1 > TWO_LETTERS).then_some(found);
        }
        let with_affix = |rest: &str| {
            self.tokens
                .get(rest)
                .copied()
                .filter(|&(_, len)| len > TWO_LETTERS)
        };
        self.prefixes
            .iter()
            .filter_map(|p| token.strip_prefix(p.as_str()))
            .chain(
                self.suffixes
                    .iter()
                    .filter_map(|s| token.strip_suffix(s.as_str())),
            )
            .find_map(with_affix)
    }

    /// The brand whose keyword a token of the label is one or two edits from.
    fn near_keyword(&self, plain: &str) -> Option<usize> {
        let mut candidates: Vec<String> = Vec::new();
        for dash_token in plain.split('-') {
            for part in dash_token.split(|c: char| c.is_ascii_digit()) {
                if part.len() + 1 < ONE_EDIT_FROM {
                    continue;
                }
                let part = skeleton(part);
                // A one-letter prefix left out would make a look-alike of too much (`liobank`).
                for affix in self.prefixes.iter().filter(|a| a.len() > 1) {
                    if let Some(rest) = part.strip_prefix(affix.as_str()) {
                        candidates.push(rest.to_string());
                    }
                }
                for affix in self.suffixes.iter() {
                    if let Some(rest) = part.strip_suffix(affix.as_str()) {
                        candidates.push(rest.to_string());
                    }
                }
                candidates.push(part);
            }
        }
        // The closest first: one edit before two.
        for most in 1..=2 {
            for candidate in &candidates {
                let found = self.fuzzy.iter().find(|(keyword, _, edits)| {
                    *edits >= most && within_edits(candidate.as_bytes(), keyword.as_bytes(), most)
                });
                if let Some((_, brand, _)) = found {
                    return Some(*brand);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(label: &str) -> Option<&'static str> {
        brand_in_label(label).map(|b| b.name.as_str())
    }

    #[test]
    fn keywords_anywhere_in_a_label() {
        assert_eq!(named("vietcombank"), Some("Vietcombank"));
        assert_eq!(named("vietcombank-xacthuc"), Some("Vietcombank"));
        assert_eq!(named("xacminh-vietcombank"), Some("Vietcombank"));
        assert_eq!(named("i-vpbank"), Some("VPBank"));
        assert_eq!(named("vietinbanks"), Some("VietinBank"));
        assert_eq!(named("shopee-khuyenmai"), Some("Shopee"));
        assert_eq!(named("hd-bank"), Some("HDBank"), "dashes are ignored");
    }

    #[test]
    fn the_longest_keyword_wins() {
        assert_eq!(named("viettelpost-giaohang"), Some("Viettel Post"));
        assert_eq!(named("viettel-khuyenmai"), Some("Viettel"));
        assert_eq!(named("baovietbank-online"), Some("BaoViet Bank"));
        assert_eq!(named("zalopay-hoantien"), Some("ZaloPay"));
        assert_eq!(named("shopeepay-vn"), Some("ShopeePay"));
    }

    #[test]
    fn short_keywords_only_as_whole_tokens() {
        assert_eq!(named("acb-sinhtrachoc"), Some("ACB"));
        assert_eq!(named("acb2024"), Some("ACB"));
        assert_eq!(named("myacb"), Some("ACB"));
        assert_eq!(named("vcbonline"), Some("Vietcombank"));
        assert_eq!(named("mb-xacthuc"), Some("MB"));
        assert_eq!(named("evn-hcm"), Some("EVN"));
        assert_eq!(named("macbook"), None);
        assert_eq!(named("vibe"), None);
        assert_eq!(named("scbx"), None);
        assert_eq!(
            named("free5mb"),
            None,
            "two letters need dashes or dots around them"
        );
        assert_eq!(named("tcbs"), None, "another company's name");
        assert_eq!(named("grabber"), None);
        assert_eq!(named("grab-thuong"), Some("Grab"));
    }

    #[test]
    fn look_alikes_of_keywords() {
        assert_eq!(named("vietc0mbank"), Some("Vietcombank"));
        assert_eq!(named("vletcombank"), Some("Vietcombank"));
        assert_eq!(named("vietcornbank"), Some("Vietcombank"));
        assert_eq!(named("paypa1"), Some("PayPal"));
        assert_eq!(named("vietconbank"), Some("Vietcombank"));
        assert_eq!(named("vietconbankvn"), Some("Vietcombank"));
        assert_eq!(named("techcombamk"), Some("Techcombank"));
        assert_eq!(named("shoppee"), Some("Shopee"));
        assert_eq!(named("agribankk"), Some("Agribank"));
        assert_eq!(named("v1b-login"), Some("VIB"));
    }

    #[test]
    fn ordinary_words_near_a_keyword_are_not_look_alikes() {
        for label in [
            "finance",
            "cloud",
            "mobile",
            "goggles",
            "netfix",
            "fastexpress",
            "zalora",
            "vnexpress",
            "vietnamnet",
            "baomoi",
            "tuoitre",
            "thanhnien",
            "onepay",
            "cafef",
            "genk",
            "24h",
            "kenh14",
            "cellphones",
            "vinmec",
            "vingroup",
            "bachhoaxanh",
            "hoanghamobile",
            "nguyenkim",
            "careerbuilder",
            "vieclam24h",
            "batdongsan",
            "chotot",
            "foody",
            "mytour",
            "ivivu",
            "voz",
            "tinhte",
            "nhaccuatui",
            "zingnews",
            "dantri",
            "topcv",
            "github",
            "wikipedia",
            "stackoverflow",
            "amazon",
            "spotify",
            "vietravel",
            "payoo",
            "nganluong",
            "baokim",
        ] {
            assert_eq!(named(label), None, "{label}");
        }
    }
}
