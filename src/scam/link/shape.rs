//! The shape of a link: a registrable label that looks machine-generated, and words that ask for a
//! login or a verification in its path or labels. Pure.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::scam::text::fold;

/// A digit and letter mix (`a8x3kq9`) needs this many characters, this many switches between digits
/// and letters, and no run of one kind longer than [`MAX_MIXED_RUN`] (so `tour2n1d` or `vn88bet`,
/// which hold words, are not taken for one).
const MIN_MIXED_LEN: usize = 6;
const MIN_SWITCHES: usize = 3;
const MAX_MIXED_RUN: usize = 3;

/// Consonants in a row that no word or Vietnamese abbreviation has (`tphcm`, `kqxsmb` and `bhxhvn`
/// have up to six); six are enough when the run holds a letter Vietnamese does not use.
const CONSONANT_RUN: usize = 7;
const CONSONANT_RUN_WITH_FOREIGN: usize = 6;
const NOT_VIETNAMESE: &[u8] = b"fjwz";

/// Whether a registrable label (lowercase ASCII, not punycode) looks machine-generated.
#[must_use]
pub(super) fn looks_generated(label: &str) -> bool {
    label
        .split('-')
        .any(|part| is_digit_letter_mix(part) || is_unpronounceable(part))
}

fn is_digit_letter_mix(part: &str) -> bool {
    let bytes = part.as_bytes();
    if bytes.len() < MIN_MIXED_LEN || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let runs: Vec<usize> = bytes
        .chunk_by(|a, b| a.is_ascii_digit() == b.is_ascii_digit())
        .map(<[u8]>::len)
        .collect();
    runs.len() > MIN_SWITCHES && runs.iter().all(|&run| run <= MAX_MIXED_RUN)
}

fn is_unpronounceable(part: &str) -> bool {
    part.as_bytes()
        .split(|b| !b.is_ascii_alphabetic() || b"aeiouy".contains(b))
        .any(|run| {
            run.len() >= CONSONANT_RUN
                || (run.len() >= CONSONANT_RUN_WITH_FOREIGN
                    && run.iter().any(|b| NOT_VIETNAMESE.contains(b)))
        })
}

/// Whether labels outside `gov.vn` dress up as a state domain: `gov-vn`, `govvn`, `gov.vn.` before
/// another suffix (`bo-taichinh.gov-vn.pro`, `dichvucong.gov.vn.abc.top`). `labels`: the labels left
/// of the public suffix, joined by dots.
#[must_use]
pub(super) fn imitates_gov_vn(labels: &str) -> bool {
    let tokens: Vec<&str> = labels.split(['.', '-']).collect();
    tokens.contains(&"govvn") || tokens.windows(2).any(|pair| pair == ["gov", "vn"])
}

/// Words of a login, verification or account-update page, accent-folded, without separators.
const LOGIN_WORDS: &[&str] = &[
    "login",
    "signin",
    "logon",
    "dangnhap",
    "verify",
    "verification",
    "xacminh",
    "xacthuc",
    "xacnhan",
    "capnhat",
    "sinhtrachoc",
    "taikhoan",
    "account",
    "secure",
    "security",
    "update",
    "ekyc",
    "unlock",
    "mokhoa",
    "kichhoat",
    "khoiphuc",
    "password",
    "matkhau",
    "baomat",
];

/// Short words of the same pages, matched only as a whole token.
const LOGIN_TOKENS: &[&str] = &["otp", "kyc", "auth", "pin"];

static LOGIN_AUTOMATON: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(LOGIN_WORDS)
        .expect("login words build an automaton")
});

/// Whether `written` (labels or a path as written, any case, perhaps with Vietnamese accents) asks
/// for a login or a verification: `/xac-minh`, `login.`, `sinh_trac_hoc`, `/otp`.
#[must_use]
pub(super) fn asks_for_login(written: &str) -> bool {
    let folded;
    let text = if written.is_ascii() {
        written
    } else {
        folded = fold(written);
        folded.as_str()
    };
    let mut compact = String::with_capacity(text.len());
    for token in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if LOGIN_TOKENS.iter().any(|t| token.eq_ignore_ascii_case(t)) {
            return true;
        }
        compact.push_str(token);
    }
    LOGIN_AUTOMATON.is_match(&compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_generated_labels() {
        for label in [
            "a8x3kq9",
            "x7k2mq9",
            "5f3a9c1e",
            "xkqzjw",
            "qwkdhs",
            "hdkslrmt",
            "abc-x9k2p7",
        ] {
            assert!(looks_generated(label), "{label}");
        }
    }

    #[test]
    fn names_and_abbreviations_are_not_machine_generated() {
        for label in [
            "thegioididong",
            "dienmayxanh",
            "baomoi",
            "vnexpress",
            "tuoitre",
            "vietcombank",
            "techcombank",
            "tphcm",
            "kqxsmb",
            "bhxhvn",
            "vnpt",
            "ghtk",
            "csgt",
            "24h",
            "k14",
            "kenh14",
            "vn88bet",
            "tour2n1d",
            "fptshop",
            "zingmp3",
            "strengths",
            "schwarzkopf",
            "nhaccuatui",
            "cellphones",
            "123abc",
            "2024",
            "mp3",
            "vieclam24h",
            "9pay",
        ] {
            assert!(!looks_generated(label), "{label}");
        }
    }

    #[test]
    fn state_domains_dressed_up() {
        for labels in [
            "bo-taichinh.gov-vn",
            "dichvucong.gov.vn.abc",
            "govvn-hotro",
            "thue.gov.vn",
        ] {
            assert!(imitates_gov_vn(labels), "{labels}");
        }
        for labels in ["govtech", "mygov", "gov", "vn-gov", "governor-vn"] {
            assert!(!imitates_gov_vn(labels), "{labels}");
        }
    }

    #[test]
    fn login_and_verification_words() {
        for written in [
            "/login-acb",
            "/xac-minh/tai-khoan",
            "/Xác_Thực",
            "login.secure-vcb",
            "/sinh-trac-hoc",
            "/otp?x=1",
            "/cap-nhat-thong-tin",
            "/account/verify",
        ] {
            assert!(asks_for_login(written), "{written}");
        }
        for written in [
            "/groups/abc",
            "/tin-tuc/2024",
            "/hotpot",
            "/p/12345",
            "/spin",
            "",
        ] {
            assert!(!asks_for_login(written), "{written}");
        }
    }
}
