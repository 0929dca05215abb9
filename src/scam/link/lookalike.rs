//! How a domain label reads to the eye: letters of other scripts that pass for Latin ones, accents
//! folded away, and the digit and letter pairs that pass for one another (`0`/`o`, `1`/`l`/`i`,
//! `rn`/`m`, `vv`/`w`). Plus a bounded edit distance. Pure.

use std::borrow::Cow;

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
pub(super) struct LabelForm<'a> {
    /// Lowercase ASCII letters, digits and `-`: accents folded, letters of other scripts replaced by
    /// the Latin letter they pass for, [`UNREADABLE`] for anything else.
    pub plain: Cow<'a, str>,
    /// A letter of another script passes for a Latin one.
    pub foreign_lookalike: bool,
    /// Letters of more than one of Latin, Cyrillic, Greek and Armenian.
    pub mixed_scripts: bool,
}

impl LabelForm<'_> {
    /// The label reads as Latin letters only, but is not written in them.
    pub fn is_homoglyph(&self) -> bool {
        self.mixed_scripts || (self.foreign_lookalike && !self.plain.contains(UNREADABLE))
    }
}

/// `label` (lowercase, as decoded from punycode) as the eye reads it.
pub(super) fn label_form(label: &str) -> LabelForm<'_> {
    if label.is_ascii() {
        let plain = if label.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(label.to_ascii_lowercase())
        } else {
            Cow::Borrowed(label)
        };
        return LabelForm {
            plain,
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
        plain: Cow::Owned(plain),
        foreign_lookalike,
        mixed_scripts: scripts.count_ones() > 1,
    }
}

/// `plain` with the pairs that pass for one another made equal: `l` and `1` read as `i`, `0` as `o`,
/// `rn` as `m`, `vv` as `w`. Keywords and labels are compared in this form.
pub(super) fn skeleton(plain: &str) -> String {
    let mut out = String::with_capacity(plain.len());
    skeleton_into(plain, &mut out);
    out
}

/// [`skeleton`] into `out` (cleared first), leaving out dashes.
pub(super) fn skeleton_into(plain: &str, out: &mut String) {
    out.clear();
    let bytes = plain.as_bytes();
    let kept_from = |mut at: usize| {
        while bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        at
    };
    let mut at = kept_from(0);
    while at < bytes.len() {
        let next = kept_from(at + 1);
        match (bytes[at], bytes.get(next)) {
            (b'r', Some(b'n')) => {
                out.push('m');
                at = kept_from(next + 1);
                continue;
            }
            (b'v', Some(b'v')) => {
                out.push('w');
                at = kept_from(next + 1);
                continue;
            }
            (b'l' | b'1', _) => out.push('i'),
            (b'0', _) => out.push('o'),
            (b, _) if b.is_ascii() => out.push(char::from(b)),
            // Forms are ASCII; anything else reads as nothing.
            _ => out.push(UNREADABLE),
        }
        at = next;
    }
}

/// Letters and digits counted, for a cheap lower bound on the edit distance of two words: each edit
/// changes the counts by at most two. With the set of letters present, cheaper still.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LetterCounts {
    present: u64,
    counts: [u8; 37],
}

pub(super) fn letter_counts(word: &str) -> LetterCounts {
    let mut counts = [0u8; 37];
    let mut present = 0u64;
    for b in word.bytes() {
        let slot = match b {
            b'a'..=b'z' => usize::from(b - b'a'),
            b'0'..=b'9' => 26 + usize::from(b - b'0'),
            _ => 36,
        };
        counts[slot] = counts[slot].saturating_add(1);
        present |= 1 << slot;
    }
    LetterCounts { present, counts }
}

/// Whether `a` and `b` may be `max` edits apart or closer, from their letter counts alone.
pub(super) fn counts_allow(a: &LetterCounts, b: &LetterCounts, max: usize) -> bool {
    // Each edit adds or removes at most two letters from the set present.
    if (a.present ^ b.present).count_ones() as usize > 2 * max {
        return false;
    }
    let spread: usize = a
        .counts
        .iter()
        .zip(&b.counts)
        .map(|(&x, &y)| usize::from(x.abs_diff(y)))
        .sum();
    spread <= 2 * max
}

/// The edit distance (inserts, deletes, replacements) of `a` and `b` if it is at most `max`. Bounded:
/// stops as soon as every path costs more. Words of up to [`MAX_WORD`] bytes.
pub(super) fn distance_within(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max || a.len() > MAX_WORD || b.len() > MAX_WORD {
        return None;
    }
    let mut previous = [0u8; MAX_WORD + 1];
    let mut current = [0u8; MAX_WORD + 1];
    for (j, cell) in previous.iter_mut().enumerate().take(b.len() + 1) {
        *cell = j as u8;
    }
    for (i, &ca) in a.iter().enumerate() {
        current[0] = (i + 1) as u8;
        let mut row_min = current[0];
        for (j, &cb) in b.iter().enumerate() {
            let replace = previous[j] + u8::from(ca != cb);
            current[j + 1] = replace.min(previous[j + 1] + 1).min(current[j] + 1);
            row_min = row_min.min(current[j + 1]);
        }
        if usize::from(row_min) > max {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = usize::from(previous[b.len()]);
    (distance <= max).then_some(distance)
}

/// Longest word [`distance_within`] compares (keywords are shorter; a label part is cut off there).
pub(super) const MAX_WORD: usize = 32;

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
        assert_eq!(distance_within(b"vietconbank", b"vietcombank", 1), Some(1));
        assert_eq!(distance_within(b"shoppe", b"shopee", 1), Some(1));
        assert_eq!(distance_within(b"vietcombankk", b"vietcombank", 2), Some(1));
        assert_eq!(distance_within(b"vietcbank", b"vietcombank", 1), None);
        assert_eq!(distance_within(b"vietcbank", b"vietcombank", 2), Some(2));
        assert_eq!(distance_within(b"techcombank", b"vietcombank", 2), None);
        assert_eq!(distance_within(b"", b"ab", 2), Some(2));
        assert_eq!(distance_within(b"", b"abc", 2), None);
        assert_eq!(
            distance_within(&[b'a'; 40], &[b'a'; 40], 2),
            None,
            "too long"
        );
    }

    #[test]
    fn letter_counts_bound_the_distance() {
        let (a, b) = (letter_counts("vietconbank"), letter_counts("vietcombank"));
        assert!(counts_allow(&a, &b, 1));
        let (a, b) = (letter_counts("finance"), letter_counts("vietcombank"));
        assert!(!counts_allow(&a, &b, 2));
    }

    #[test]
    fn skeleton_into_leaves_out_dashes() {
        let mut out = String::from("old");
        skeleton_into("viet-c0m-bank", &mut out);
        assert_eq!(out, "vietcombank");
        skeleton_into("r-n", &mut out);
        assert_eq!(out, "m", "dashes are gone before the pairs are read");
    }
}
