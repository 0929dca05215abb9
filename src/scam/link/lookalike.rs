//! How a domain label reads to the eye: letters of other scripts that pass for Latin ones, accents
//! folded away, and the digit and letter pairs that pass for one another (`0`/`o`, `1`/`l`/`i`,
//! `rn`/`m`, `vv`/`w`). Plus a bounded edit distance. Pure.

use crate::scam::text::fold_code_to_letter;

/// The scripts whose letters can pass for Latin ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
    Armenian,
}

impl Script {
    fn bit(self) -> u8 {
        match self {
            Script::Latin => 1,
            Script::Cyrillic => 2,
            Script::Greek => 4,
            Script::Armenian => 8,
        }
    }
}

fn script_of(c: char) -> Option<Script> {
    match u32::from(c) {
        0x41..=0x5A | 0x61..=0x7A => Some(Script::Latin),
        // Latin-1 letters, Latin Extended A and B, IPA, and Latin Extended Additional (Vietnamese).
        0xC0..=0x24F | 0x250..=0x2AF | 0x1E00..=0x1EFF => Some(Script::Latin),
        0x370..=0x3FF | 0x1F00..=0x1FFF => Some(Script::Greek),
        0x400..=0x52F => Some(Script::Cyrillic),
        0x530..=0x58F => Some(Script::Armenian),
        _ => None,
    }
}

/// The Latin letter a letter of another script (or an unusual Latin one) passes for.
fn lookalike_of(c: char) -> Option<u8> {
    Some(match c {
        // Cyrillic
        'а' | 'А' => b'a',
        'е' | 'Е' | 'ё' | 'ҽ' => b'e',
        'о' | 'О' => b'o',
        'р' | 'Р' => b'p',
        'с' | 'С' => b'c',
        'у' | 'ү' => b'y',
        'х' | 'Х' => b'x',
        'і' | 'ї' | 'І' => b'i',
        'ј' => b'j',
        'ѕ' => b's',
        'һ' | 'н' => b'h',
        'ԁ' => b'd',
        'ԛ' => b'q',
        'ԝ' => b'w',
        'ӏ' => b'l',
        'к' => b'k',
        'м' => b'm',
        'т' => b't',
        'п' => b'n',
        'г' => b'r',
        'ь' => b'b',
        // Greek
        'α' => b'a',
        'β' => b'b',
        'γ' => b'y',
        'ε' => b'e',
        'η' => b'n',
        'ι' => b'i',
        'κ' => b'k',
        'μ' | 'υ' => b'u',
        'ν' => b'v',
        'ο' | 'Ο' => b'o',
        'ρ' => b'p',
        'τ' => b't',
        'χ' => b'x',
        'ω' => b'w',
        // Armenian
        'օ' => b'o',
        'ս' => b'u',
        'հ' => b'h',
        'ո' => b'n',
        'ց' => b'g',
        'զ' => b'q',
        // Latin letters without a decomposition
        'ı' | 'ɩ' => b'i',
        'ȷ' => b'j',
        'ɑ' => b'a',
        'ɡ' => b'g',
        'ø' => b'o',
        'ł' => b'l',
        'ħ' => b'h',
        _ => return None,
    })
}

/// Stands for a character that reads as no Latin letter, so no keyword can match across it.
pub(super) const UNREADABLE: char = '~';

/// One label as the eye reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LabelForm {
    /// Lowercase ASCII letters, digits and `-`: accents folded, letters of other scripts replaced by
    /// the Latin letter they pass for, [`UNREADABLE`] for anything else.
    pub plain: String,
    /// A letter of another script passes for a Latin one.
    pub foreign_lookalike: bool,
    /// Letters of more than one of Latin, Cyrillic, Greek and Armenian.
    pub mixed_scripts: bool,
}

impl LabelForm {
    /// The label reads as Latin letters only, but is not written in them.
    pub fn is_homoglyph(&self) -> bool {
        self.mixed_scripts || (self.foreign_lookalike && !self.plain.contains(UNREADABLE))
    }
}

/// `label` (lowercase, as decoded from punycode) as the eye reads it.
pub(super) fn label_form(label: &str) -> LabelForm {
    if label.is_ascii() {
        return LabelForm {
            plain: label.to_ascii_lowercase(),
            foreign_lookalike: false,
            mixed_scripts: false,
        };
    }
    let mut plain = String::with_capacity(label.len());
    let mut scripts = 0u8;
    let mut foreign_lookalike = false;
    for c in label.chars() {
        let script = script_of(c);
        if let Some(script) = script {
            scripts |= script.bit();
        }
        if c.is_ascii() {
            plain.push(c.to_ascii_lowercase());
        } else if let Some(letter) = lookalike_of(c) {
            foreign_lookalike |= script != Some(Script::Latin);
            plain.push(char::from(letter));
        } else if let Some(letter) = fold_code_to_letter(u32::from(c)) {
            plain.push(char::from(letter));
        } else if !('\u{300}'..='\u{36F}').contains(&c) {
            plain.push(UNREADABLE);
        }
    }
    LabelForm {
        plain,
        foreign_lookalike,
        mixed_scripts: scripts.count_ones() > 1,
    }
}

/// `plain` with the pairs that pass for one another made equal: `l` and `1` read as `i`, `0` as `o`,
/// `rn` as `m`, `vv` as `w`. Keywords and labels are compared in this form.
pub(super) fn skeleton(plain: &str) -> String {
    let bytes = plain.as_bytes();
    let mut out = String::with_capacity(plain.len());
    let mut i = 0;
    while i < bytes.len() {
        let pair = bytes.get(i..i + 2);
        if pair == Some(b"rn") {
            out.push('m');
            i += 2;
            continue;
        }
        if pair == Some(b"vv") {
            out.push('w');
            i += 2;
            continue;
        }
        out.push(match bytes[i] {
            b'l' | b'1' => 'i',
            b'0' => 'o',
            b => char::from(b),
        });
        i += 1;
    }
    out
}

/// Whether `a` and `b` are at most `max` single-character edits (insert, delete, replace) apart.
/// Bounded: stops as soon as every path costs more.
pub(super) fn within_edits(a: &[u8], b: &[u8], max: usize) -> bool {
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    // A domain label is at most 63 bytes; longer input is no look-alike of a keyword.
    const MAX_LEN: usize = 64;
    if b.len() >= MAX_LEN {
        return false;
    }
    let mut previous = [0usize; MAX_LEN];
    let mut current = [0usize; MAX_LEN];
    for (j, cell) in previous.iter_mut().enumerate().take(b.len() + 1) {
        *cell = j;
    }
    for (i, &ca) in a.iter().enumerate() {
        current[0] = i + 1;
        let mut row_min = current[0];
        for (j, &cb) in b.iter().enumerate() {
            let replace = previous[j] + usize::from(ca != cb);
            current[j + 1] = replace.min(previous[j + 1] + 1).min(current[j] + 1);
            row_min = row_min.min(current[j + 1]);
        }
        if row_min > max {
            return false;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()] <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_and_greek_letters_read_as_latin() {
        let form = label_form("vietcombаnk");
        assert_eq!(form.plain, "vietcombank");
        assert!(form.foreign_lookalike && form.mixed_scripts && form.is_homoglyph());
        let form = label_form("аррӏе");
        assert_eq!(form.plain, "apple");
        assert!(
            !form.mixed_scripts && form.is_homoglyph(),
            "all look-alikes"
        );
        assert_eq!(label_form("shοpee").plain, "shopee");
    }

    #[test]
    fn vietnamese_letters_fold_and_are_not_homoglyphs() {
        let form = label_form("vietcombánk");
        assert_eq!(form.plain, "vietcombank");
        assert!(!form.is_homoglyph());
        let form = label_form("điệnmáyxanh");
        assert_eq!(form.plain, "dienmayxanh");
        assert!(!form.is_homoglyph());
    }

    #[test]
    fn other_scripts_are_not_read_as_latin() {
        let form = label_form("пример");
        assert!(form.plain.contains(UNREADABLE));
        assert!(!form.is_homoglyph(), "a Russian word is not a look-alike");
        let form = label_form("中文");
        assert_eq!(form.plain, "~~");
        assert!(!form.is_homoglyph());
        // Latin mixed with a Cyrillic letter that passes for nothing is still mixed.
        assert!(label_form("vietcomбank").is_homoglyph());
    }

    #[test]
    fn skeletons_equal_the_pairs_that_pass_for_one_another() {
        assert_eq!(skeleton("vietc0mbank"), skeleton("vietcombank"));
        assert_eq!(skeleton("vletcombank"), skeleton("vietcombank"));
        assert_eq!(skeleton("paypa1"), skeleton("paypal"));
        assert_eq!(skeleton("vietcornbank"), skeleton("vietcombank"));
        assert_eq!(skeleton("vvave"), "wave");
        assert_ne!(skeleton("vietabank"), skeleton("vietcombank"));
    }

    #[test]
    fn bounded_edit_distance() {
        assert!(within_edits(b"vietconbank", b"vietcombank", 1));
        assert!(within_edits(b"shoppe", b"shopee", 1));
        assert!(within_edits(b"vietcombankk", b"vietcombank", 1));
        assert!(!within_edits(b"vietcbank", b"vietcombank", 1));
        assert!(within_edits(b"vietcbank", b"vietcombank", 2));
        assert!(!within_edits(b"techcombank", b"vietcombank", 2));
        assert!(within_edits(b"", b"ab", 2));
        assert!(!within_edits(b"", b"abc", 2));
    }
}
