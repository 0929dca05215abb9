//! Which brand a domain label names: a keyword anywhere in it (one automaton over every keyword),
//! a short keyword as a whole token, or a look-alike of a keyword (equal once the pairs that pass for
//! one another are made equal, or one or two edits away). Built once from the registry.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;

use super::brands::{Brand, SHORT_KEYWORD_MAX, brands};
use super::lookalike::{
    LetterCounts, MAX_WORD, counts_allow, distance_within, letter_counts, skeleton, skeleton_into,
};

/// Keywords at least this long may be one edit off; at [`TWO_EDITS_FROM`], two.
const ONE_EDIT_FROM: usize = 6;
const TWO_EDITS_FROM: usize = 10;
const MOST_EDITS: usize = 2;

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

/// A keyword a look-alike may be near.
struct Near {
    skeleton: String,
    counts: LetterCounts,
    brand: usize,
    edits: usize,
}

struct Matcher {
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
    /// Skeleton of a token keyword → (brand, letters).
    tokens: FxHashMap<String, (usize, usize)>,
    /// The keywords a look-alike may be near.
    near: Vec<Near>,
    /// Each of those keywords cut into one piece more than the edits it may be off: a word that many
    /// edits away still holds one of the pieces whole, so only keywords with a piece in the label
    /// are compared letter by letter.
    pieces: AhoCorasick,
    /// Piece pattern → index into `near`.
    piece_owner: Vec<usize>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

/// `word` cut into `count` pieces of nearly equal length.
fn pieces_of(word: &str, count: usize) -> impl Iterator<Item = &str> {
    let len = word.len();
    (0..count).map(move |i| &word[i * len / count..(i + 1) * len / count])
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let mut keywords = Vec::new();
    let mut patterns = Vec::new();
    let mut tokens = FxHashMap::default();
    let mut near: Vec<Near> = Vec::new();
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
            if brand.fuzzy && keyword.len() >= ONE_EDIT_FROM && skel.len() <= MAX_WORD {
                let edits = if keyword.len() >= TWO_EDITS_FROM {
                    2
                } else {
                    1
                };
                near.push(Near {
                    counts: letter_counts(&skel),
                    skeleton: skel.clone(),
                    brand: i,
                    edits,
                });
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
    let mut pieces = Vec::new();
    let mut piece_owner = Vec::new();
    for (i, keyword) in near.iter().enumerate() {
        for piece in pieces_of(&keyword.skeleton, keyword.edits + 1) {
            pieces.push(piece.to_string());
            piece_owner.push(i);
        }
    }
    Matcher {
        automaton: AhoCorasick::new(&keywords).expect("brand keywords build an automaton"),
        patterns,
        tokens,
        pieces: AhoCorasick::new(&pieces).expect("keyword pieces build an automaton"),
        piece_owner,
        near,
        prefixes: TOKEN_PREFIXES.iter().map(|a| skeleton(a)).collect(),
        suffixes: TOKEN_SUFFIXES.iter().map(|a| skeleton(a)).collect(),
    }
});

/// The brand named in one label (`plain`: lowercase ASCII as read, see `lookalike::label_form`), if
/// any: the longest keyword found wins, then a look-alike of a keyword.
pub(super) fn brand_in_label(plain: &str) -> Option<&'static Brand> {
    let matcher = &*MATCHER;
    let mut buffer = String::with_capacity(plain.len());
    let keyword = matcher.keyword_in(plain, &mut buffer);
    let token = matcher.token_in(plain, &mut buffer);
    let found = match (keyword, token) {
        (Some(keyword), Some(token)) => better(Some(keyword), token),
        (keyword, token) => keyword.or(token),
    }
    .map(|(_, brand)| brand)
    .or_else(|| matcher.near_keyword(plain, &mut buffer))?;
    Some(&brands()[found])
}

/// Of two (letters, brand) finds, the longer keyword; on a tie, the brand listed first.
fn better(a: Option<(usize, usize)>, b: (usize, usize)) -> Option<(usize, usize)> {
    match a {
        Some(a) if a.0 > b.0 || (a.0 == b.0 && a.1 <= b.1) => Some(a),
        _ => Some(b),
    }
}

impl Matcher {
    /// (letters, brand) of the longest keyword inside the label, dashes ignored.
    fn keyword_in(&self, plain: &str, compact: &mut String) -> Option<(usize, usize)> {
        skeleton_into(plain, compact);
        let mut best = None;
        for hit in self.automaton.find_overlapping_iter(compact.as_str()) {
            let pattern = &self.patterns[hit.pattern().as_usize()];
            let excepted = pattern.excepts.iter().any(|(word, offset)| {
                hit.start()
                    .checked_sub(*offset)
                    .is_some_and(|from| compact[from..].starts_with(word.as_str()))
            });
            if !excepted {
                best = better(best, (pattern.len, pattern.brand));
            }
        }
        best
    }

    /// (letters, brand) of a token keyword that is a whole token of the label, perhaps with a
    /// common prefix or suffix around it.
    fn token_in(&self, plain: &str, buffer: &mut String) -> Option<(usize, usize)> {
        let mut best = None;
        for dash_token in plain.split('-').filter(|t| !t.is_empty()) {
            skeleton_into(dash_token, buffer);
            if let Some(found) = self.token(buffer, true) {
                best = better(best, found);
            }
            if dash_token.bytes().any(|b| b.is_ascii_digit()) {
                for part in dash_token
                    .split(|c: char| c.is_ascii_digit())
                    .filter(|t| !t.is_empty())
                {
                    skeleton_into(part, buffer);
                    if let Some(found) = self.token(buffer, false) {
                        best = better(best, found);
                    }
                }
            }
        }
        best
    }

    /// (letters, brand) of the token keyword `token` (a skeleton) is, alone or with an affix.
    /// `between_dashes`: no digit borders it.
    fn token(&self, token: &str, between_dashes: bool) -> Option<(usize, usize)> {
        if let Some(&(brand, len)) = self.tokens.get(token) {
            return (between_dashes || len > TWO_LETTERS).then_some((len, brand));
        }
        let with_affix = |rest: &str| {
            self.tokens
                .get(rest)
                .filter(|&&(_, len)| len > TWO_LETTERS)
                .map(|&(brand, len)| (len, brand))
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

    /// The brand whose keyword a token of the label is closest to, one or two edits away.
    fn near_keyword(&self, plain: &str, buffer: &mut String) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        let mut owners: Vec<usize> = Vec::new();
        for part in plain
            .split(|c: char| c == '-' || c.is_ascii_digit())
            .filter(|p| p.len() + 1 >= ONE_EDIT_FROM && p.len() <= MAX_WORD + MOST_EDITS)
        {
            skeleton_into(part, buffer);
            owners.clear();
            for hit in self.pieces.find_overlapping_iter(buffer.as_str()) {
                owners.push(self.piece_owner[hit.pattern().as_usize()]);
            }
            if owners.is_empty() {
                continue;
            }
            owners.sort_unstable();
            owners.dedup();
            // A one-letter prefix left out would make a look-alike of too much (`liobank`).
            let trimmed = self
                .prefixes
                .iter()
                .filter(|a| a.len() > 1)
                .filter_map(|a| buffer.strip_prefix(a.as_str()))
                .chain(
                    self.suffixes
                        .iter()
                        .filter_map(|a| buffer.strip_suffix(a.as_str())),
                );
            for candidate in std::iter::once(buffer.as_str()).chain(trimmed) {
                if let Some(found) = self.nearest(candidate, &owners)
                    && best.is_none_or(|b| found.0 < b.0)
                {
                    best = Some(found);
                }
            }
        }
        best.map(|(_, brand)| brand)
    }

    /// (edits, brand) of the keyword among `owners` that `candidate` is one or two edits from, the
    /// closest first.
    fn nearest(&self, candidate: &str, owners: &[usize]) -> Option<(usize, usize)> {
        let counts = letter_counts(candidate);
        let mut best: Option<(usize, usize)> = None;
        for near in owners.iter().map(|&i| &self.near[i]) {
            // A candidate holding the keyword itself is the exact search's to judge (an `except`
            // word may have kept it from matching).
            if near.skeleton.len().abs_diff(candidate.len()) > near.edits
                || !counts_allow(&counts, &near.counts, near.edits)
                || candidate.contains(near.skeleton.as_str())
            {
                continue;
            }
            let most = best.map_or(near.edits, |b| near.edits.min(b.0));
            let distance = distance_within(candidate.as_bytes(), near.skeleton.as_bytes(), most);
            if let Some(distance) = distance
                && best.is_none_or(|b| distance < b.0)
            {
                best = Some((distance, near.brand));
            }
        }
        best
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
        assert_eq!(named("sacombanh-2024"), Some("Sacombank"));
    }

    #[test]
    fn pieces_cover_the_word() {
        assert_eq!(
            pieces_of("vietcombank", 3).collect::<Vec<_>>(),
            ["vie", "tcom", "bank"]
        );
        assert_eq!(pieces_of("shopee", 2).collect::<Vec<_>>(), ["sho", "pee"]);
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
            "taichinh",
            "tapchitaichinh",
            "dichvucongchung",
            "dichvucongty",
            "chinhphuc",
            "giaohangnhat",
            "giaohangnhanh247",
            "vienkiemsoat",
            "meta",
            "vnexpress",
            "lalamove",
            "liobank",
            "hlbank",
            "cbbank",
            "vrbank",
            "pgbank",
            "ubank",
            "kbank",
        ] {
            assert_eq!(named(label), None, "{label}");
        }
    }
}
