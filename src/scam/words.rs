//! A message as matchable words, with the tricks scammers use to slip past keyword filters undone, and
//! each word's byte range in the text as written. Pure.
//!
//! Undone: accents and case (`Nhận` → `nhan`), look-alike letters of other scripts (Cyrillic `а`),
//! symbols and digits standing for letters inside a word (`d!eu k!en`, `H0 TR0`), punctuation breaking a
//! word up (`N'ha'n T,ien`, `B.H.X.H`), invisible characters, and letters spaced out one by one
//! (`t r u n g  t h u o n g`). A word changed by anything but accents and case is marked obfuscated, so
//! a phrase found only thanks to the undoing can say so.

use std::ops::Range;

use super::text::{fold_code_to_letter, fold_table, push_folded};

/// One matchable word.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    /// Start of the word in [`Words::line`].
    at: usize,
    /// Length of the word in [`Words::line`].
    len: usize,
    /// Byte range in the text as written.
    span: Range<usize>,
    /// Changed by more than accent and case folding.
    obfuscated: bool,
}

/// The matchable words of a text.
#[derive(Debug, Clone)]
pub struct Words {
    /// The words, lowercase ASCII letters and digits, each with one space before and after:
    /// `" nhan tien ngay "`.
    line: String,
    words: Vec<Word>,
}

/// Invisible characters used to break words up; dropped inside a word.
const INVISIBLE: &[char] = &[
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{AD}',
];

/// Letters of other scripts that look like Latin ones, mapped to the letter they imitate.
const LOOK_ALIKES: &[(char, char)] = &[
    // Cyrillic.
    ('а', 'a'),
    ('в', 'b'),
    ('е', 'e'),
    ('ё', 'e'),
    ('к', 'k'),
    ('м', 'm'),
    ('н', 'h'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('т', 't'),
    ('у', 'y'),
    ('х', 'x'),
    ('і', 'i'),
    ('ј', 'j'),
    ('ѕ', 's'),
    ('ԁ', 'd'),
    ('ԛ', 'q'),
    ('ԝ', 'w'),
    ('ո', 'n'),
    ('А', 'a'),
    ('В', 'b'),
    ('Е', 'e'),
    ('К', 'k'),
    ('М', 'm'),
    ('Н', 'h'),
    ('О', 'o'),
    ('Р', 'p'),
    ('С', 'c'),
    ('Т', 't'),
    ('У', 'y'),
    ('Х', 'x'),
    ('І', 'i'),
    ('Ј', 'j'),
    ('Ѕ', 's'),
    // Greek.
    ('α', 'a'),
    ('β', 'b'),
    ('ε', 'e'),
    ('ι', 'i'),
    ('κ', 'k'),
    ('ν', 'v'),
    ('ο', 'o'),
    ('ρ', 'p'),
    ('τ', 't'),
    ('υ', 'u'),
    ('χ', 'x'),
    ('Α', 'a'),
    ('Β', 'b'),
    ('Ε', 'e'),
    ('Η', 'h'),
    ('Ι', 'i'),
    ('Κ', 'k'),
    ('Μ', 'm'),
    ('Ν', 'n'),
    ('Ο', 'o'),
    ('Ρ', 'p'),
    ('Τ', 't'),
    ('Υ', 'y'),
    ('Χ', 'x'),
    ('Ζ', 'z'),
    // Latin small capitals and other stand-ins.
    ('ı', 'i'),
    ('ł', 'l'),
    ('ø', 'o'),
    ('ß', 's'),
];

/// Symbols and digits that stand for a letter when letters surround them.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        _ => return None,
    })
}

/// One char of a chunk, classified.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// A folded ASCII letter; `true` when it came from another script.
    Letter(char, bool),
    Digit(char),
    /// A symbol that may stand for a letter (`!`, `@`, `$`, `|`).
    Symbol(char),
    /// Punctuation or anything else: a break inside the chunk.
    Break,
    /// Nothing to match (a combining mark, an invisible char).
    Nothing(bool),
}

fn classify(c: char, scratch: &mut String) -> Piece {
    if c.is_ascii() {
        return match c {
            'a'..='z' => Piece::Letter(c, false),
            'A'..='Z' => Piece::Letter(c.to_ascii_lowercase(), false),
            '0'..='9' => Piece::Digit(c),
            '!' | '@' | '$' | '|' => Piece::Symbol(c),
            _ => Piece::Break,
        };
    }
    if let Some(letter) = fold_code_to_letter(u32::from(c)) {
        return Piece::Letter(char::from(letter), false);
    }
    if INVISIBLE.contains(&c) {
        return Piece::Nothing(true);
    }
    if let Some(&(_, latin)) = LOOK_ALIKES.iter().find(|(from, _)| *from == c) {
        return Piece::Letter(latin, true);
    }
    if c.is_alphabetic() {
        scratch.clear();
        push_folded(c, scratch);
        // A letter outside Latin with no look-alike is no word char for matching.
        return scratch
            .chars()
            .find(char::is_ascii_alphanumeric)
            .map_or(Piece::Break, |letter| Piece::Letter(letter, false));
    }
    if unicode_normalization::char::is_combining_mark(c) {
        return Piece::Nothing(false);
    }
    Piece::Break
}

/// A run of word chars between breaks inside one chunk: where its letters are in the builder's buffer,
/// and where it came from.
struct Part {
    text: Range<usize>,
    span: Range<usize>,
    obfuscated: bool,
    has_letter: bool,
}

/// One word of a chunk undone by [`Builder::push_chunk`]: its letters in the builder's buffer.
struct Pending {
    text: Range<usize>,
    span: Range<usize>,
    obfuscated: bool,
}

/// What an ASCII byte is to the chunk scanner; letters and digits map to their folded byte instead.
const WHITESPACE: u8 = 0;
/// Punctuation that cannot stand for a letter.
const PUNCTUATION: u8 = 1;
/// A symbol that may stand for a letter, or a control char: the chunk needs [`Builder::push_chunk`].
const SPECIAL: u8 = 2;

/// [`WHITESPACE`], [`PUNCTUATION`], [`SPECIAL`] or the folded letter or digit, per ASCII byte.
static ASCII_CLASS: [u8; 128] = ascii_classes();

const fn ascii_classes() -> [u8; 128] {
    let mut table = [SPECIAL; 128];
    let mut b = 0u8;
    while b < 128 {
        table[b as usize] = if matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') {
            WHITESPACE
        } else if b.is_ascii_alphabetic() {
            b.to_ascii_lowercase()
        } else if b.is_ascii_digit() {
            b
        } else if b.is_ascii_punctuation() && !matches!(b, b'!' | b'@' | b'$' | b'|') {
            PUNCTUATION
        } else {
            SPECIAL
        };
        b += 1;
    }
    table
}

/// The code point at `at` (a char boundary of valid UTF-8) and its length in bytes.
#[inline(always)]
fn decode(bytes: &[u8], at: usize) -> (u32, usize) {
    let lead = u32::from(bytes[at]);
    let next = |i: usize| u32::from(bytes[at + i] & 0x3F);
    if lead < 0x80 {
        (lead, 1)
    } else if lead < 0xE0 {
        (((lead & 0x1F) << 6) | next(1), 2)
    } else if lead < 0xF0 {
        (((lead & 0x0F) << 12) | (next(1) << 6) | next(2), 3)
    } else {
        (
            ((lead & 0x07) << 18) | (next(1) << 12) | (next(2) << 6) | next(3),
            4,
        )
    }
}

fn is_whitespace_code(code: u32) -> bool {
    char::from_u32(code).is_some_and(char::is_whitespace)
}

/// Where a whitespace-free chunk was when the plain scan gave up on it.
enum Chunk {
    /// Letters only or digits only, with plain punctuation around them: the word's span.
    Plain(Range<usize>),
    /// Plain punctuation only.
    Empty,
    /// Anything else: undone by [`Builder::push_chunk`].
    Tricky,
}

/// Buffers for undoing tricky chunks, kept per thread between texts: most messages have such a chunk, and
/// allocating the buffers anew for each cost more than the undoing itself.
#[derive(Default)]
struct Scratch {
    buf: Vec<u8>,
    pending: Vec<Pending>,
    chars: Vec<(usize, char)>,
    pieces: Vec<Piece>,
    parts: Vec<Part>,
    scratch: String,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// The line and words being written, and buffers reused across the chunks of one text.
struct Builder {
    /// The line so far (`" "`, then each word and a space) in `line[..len]`. Sized for the most a text
    /// can give: a letter and a space per byte.
    line: Vec<u8>,
    len: usize,
    words: Vec<Word>,
    /// Consecutive one-letter words at the end of `words`.
    singles: usize,
    /// Three one-letter words in a row were seen: spaced-out letters may need joining.
    spaced: bool,
    /// A tricky chunk's letters, back to back: ASCII only.
    buf: Vec<u8>,
    pending: Vec<Pending>,
    chars: Vec<(usize, char)>,
    pieces: Vec<Piece>,
    parts: Vec<Part>,
    scratch: String,
}

impl Words {
    #[must_use]
    pub fn new(text: &str) -> Words {
        let Scratch {
            buf,
            pending,
            chars,
            pieces,
            parts,
            scratch,
        } = SCRATCH.with_borrow_mut(std::mem::take);
        let mut line = vec![0u8; 2 * text.len() + 2];
        line[0] = b' ';
        let mut builder = Builder {
            line,
            len: 1,
            // A word takes a byte and a separator at least: never grown.
            words: Vec::with_capacity(text.len() / 2 + 1),
            singles: 0,
            spaced: false,
            buf,
            pending,
            chars,
            pieces,
            parts,
            scratch,
        };
        let fold = fold_table();
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let b = bytes[at];
            if b < 0x80 {
                if ASCII_CLASS[usize::from(b)] == WHITESPACE {
                    at += 1;
                    continue;
                }
            } else {
                let (code, len) = decode(bytes, at);
                if fold.get(code as usize).is_none_or(|&l| l == 0) && is_whitespace_code(code) {
                    at += len;
                    continue;
                }
            }
            // One pass over a whitespace-free chunk folds it straight into the line when it is plain;
            // anything else is undone by `push_chunk`.
            let start = at;
            let mark = builder.len;
            let (chunk, end, len) = plain_chunk(bytes, fold, start, &mut builder.line, mark);
            at = end;
            match chunk {
                Chunk::Plain(span) => {
                    builder.len = len;
                    builder.push_word(mark, span, false);
                }
                Chunk::Empty => {}
                Chunk::Tricky => builder.push_chunk(text, start..at),
            }
        }
        let Builder {
            mut line,
            len,
            words,
            spaced,
            buf,
            pending,
            chars,
            pieces,
            parts,
            scratch,
            ..
        } = builder;
        SCRATCH.with_borrow_mut(|kept| {
            *kept = Scratch {
                buf,
                pending,
                chars,
                pieces,
                parts,
                scratch,
            };
        });
        line.truncate(len);
        let line = String::from_utf8(line).unwrap_or_default();
        if spaced {
            join_spaced_letters(text, &line, &words)
        } else {
            Words { line, words }
        }
    }

    /// The words as one line, a space before and after each: match phrases as `" nhan tien "`.
    #[must_use]
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The byte range of the written text that the line's `range` came from (whole words).
    #[must_use]
    pub fn span_of(&self, range: Range<usize>) -> Range<usize> {
        let (first, last) = self.words_in(range);
        match (
            self.words.get(first),
            last.checked_sub(1).and_then(|l| self.words.get(l)),
        ) {
            (Some(a), Some(b)) if first < last => a.span.start..b.span.end,
            _ => 0..0,
        }
    }

    /// True when a word in the line's `range` was obfuscated.
    #[must_use]
    pub fn obfuscated_in(&self, range: Range<usize>) -> bool {
        let (first, last) = self.words_in(range);
        self.words
            .get(first..last)
            .is_some_and(|words| words.iter().any(|w| w.obfuscated))
    }

    /// The obfuscated words of four letters or more, as `(line range, word)`: a phrase may hide in one
    /// written without spaces (`trungthuong`).
    pub fn obfuscated_words(&self) -> impl Iterator<Item = (Range<usize>, &str)> {
        self.words
            .iter()
            .filter(|w| w.obfuscated && w.len >= 4)
            .map(|w| (w.at..w.at + w.len, &self.line[w.at..w.at + w.len]))
    }

    /// Each word with its offset in [`Self::line`], in order: the line split at its spaces.
    pub fn tokens(&self) -> impl DoubleEndedIterator<Item = (usize, &str)> {
        self.words
            .iter()
            .map(|w| (w.at, &self.line[w.at..w.at + w.len]))
    }

    /// The words before the line's offset `at` (a space), nearest first, each with the text written between
    /// it and the word after it (`text` is the text the words were made from): the punctuation a word is
    /// followed by.
    pub fn words_before_with_gaps<'a>(
        &'a self,
        text: &'a str,
        at: usize,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let end = self.words.partition_point(|w| w.at < at);
        (0..end).rev().map(move |i| {
            let word = &self.words[i];
            let next = self.words.get(i + 1).map_or(text.len(), |w| w.span.start);
            let gap = text.get(word.span.end..next).unwrap_or_default();
            (&self.line[word.at..word.at + word.len], gap)
        })
    }

    /// Indexes `first..last` of the words overlapping the line's `range`.
    fn words_in(&self, range: Range<usize>) -> (usize, usize) {
        let first = self.words.partition_point(|w| w.at + w.len <= range.start);
        let last = self.words.partition_point(|w| w.at < range.end);
        (first, last.max(first))
    }
}

impl Builder {
    /// Writes a word whose letters are at `at..` of the line, and the space after it.
    fn push_word(&mut self, at: usize, span: Range<usize>, obfuscated: bool) {
        let len = self.len - at;
        if len == 1 && self.line[at].is_ascii_alphabetic() {
            self.singles += 1;
            self.spaced |= self.singles >= 3;
        } else {
            self.singles = 0;
        }
        self.words.push(Word {
            at,
            len,
            span,
            obfuscated,
        });
        self.line[self.len] = b' ';
        self.len += 1;
    }

    /// Splits one whitespace-free chunk into words, undoing symbols and punctuation inside it.
    fn push_chunk(&mut self, text: &str, chunk: Range<usize>) {
        self.buf.clear();
        self.pending.clear();
        self.chars.clear();
        self.pieces.clear();
        let slice = &text[chunk.clone()];
        // Sized once, not grown char by char.
        self.chars.reserve(slice.len().max(32));
        self.pieces.reserve(slice.len().max(32));
        self.buf.reserve(slice.len().max(32));
        self.pending.reserve(8);
        self.parts.reserve(8);
        self.chars
            .extend(slice.char_indices().map(|(i, c)| (chunk.start + i, c)));
        for &(_, c) in &self.chars {
            self.pieces.push(classify(c, &mut self.scratch));
        }
        self.parts.clear();
        let mut current: Option<Part> = None;
        for i in 0..self.pieces.len() {
            let is_letter = |j: usize| matches!(self.pieces.get(j), Some(Piece::Letter(..)));
            let (at, c) = self.chars[i];
            let end = at + c.len_utf8();
            // A digit or symbol between letters (or next to one, for digits) stands for a letter.
            let before = i.checked_sub(1).is_some_and(is_letter);
            let after = is_letter(i + 1);
            let (ch, changed) = match self.pieces[i] {
                Piece::Letter(l, foreign) => (Some(l), foreign),
                Piece::Digit(d) => match leet(d) {
                    // Between letters any look-alike digit; at a word's edge only `0`, so `4G` stays.
                    Some(l)
                        if ((before && after) || ((before || after) && d == '0'))
                            && letters_around(&self.pieces, i) =>
                    {
                        (Some(l), true)
                    }
                    _ => (Some(d), false),
                },
                Piece::Symbol(s) => match leet(s) {
                    Some(l) if before && after => (Some(l), true),
                    _ => (None, false),
                },
                Piece::Nothing(changed) => {
                    if let Some(part) = current.as_mut() {
                        part.obfuscated |= changed;
                        part.span.end = end;
                    }
                    continue;
                }
                Piece::Break => (None, false),
            };
            match ch {
                Some(ch) => {
                    let buf_len = self.buf.len();
                    let part = current.get_or_insert(Part {
                        text: buf_len..buf_len,
                        span: at..end,
                        obfuscated: false,
                        has_letter: false,
                    });
                    // Letters are folded to ASCII and digits are ASCII.
                    self.buf.push(u8::try_from(ch).unwrap_or(b'?'));
                    part.text.end = self.buf.len();
                    part.span.end = end;
                    part.obfuscated |= changed;
                    part.has_letter |= ch.is_ascii_alphabetic();
                }
                None => {
                    if let Some(part) = current.take() {
                        self.parts.push(part);
                    }
                }
            }
        }
        if let Some(part) = current.take() {
            self.parts.push(part);
        }
        let parts = &self.parts;
        // Punctuation inside a word breaks it into bits no word is made of ("N'ha'n", "T,ien", "B.H.X.H",
        // "HO.AN"): a lone letter, or nothing but one- and two-letter bits. Real joins ("viec,luong",
        // "sinh-trac-hoc") separate whole syllables and stay separate words.
        let broken_word = parts.len() > 1
            && parts.iter().all(|p| p.has_letter)
            && (parts.iter().any(|p| p.text.len() == 1) || parts.iter().all(|p| p.text.len() <= 2));
        if broken_word {
            // The parts' letters are back to back in the buffer: one word covers them all.
            let (first, last) = (&parts[0], &parts[parts.len() - 1]);
            self.pending.push(Pending {
                text: first.text.start..last.text.end,
                span: first.span.start..last.span.end,
                obfuscated: true,
            });
        } else {
            self.pending.extend(parts.iter().map(|p| Pending {
                text: p.text.clone(),
                span: p.span.clone(),
                obfuscated: p.obfuscated,
            }));
        }
        let pending = std::mem::take(&mut self.pending);
        for word in &pending {
            let at = self.len;
            self.len += word.text.len();
            self.line[at..self.len].copy_from_slice(&self.buf[word.text.clone()]);
            self.push_word(at, word.span.clone(), word.obfuscated);
        }
        self.pending = pending;
    }
}

/// Scans the chunk at `start` up to the next whitespace, writing its letters or digits to `line` from
/// `len` while it stays plain; returns what it is, where it ends and where its letters end in `line`.
fn plain_chunk(
    bytes: &[u8],
    fold: &[u8],
    start: usize,
    line: &mut [u8],
    mut len: usize,
) -> (Chunk, usize, usize) {
    let tricky = |at: usize, len: usize| (Chunk::Tricky, chunk_end(bytes, at), len);
    // Punctuation before the word.
    let mut at = start;
    let (mut folded, mut width) = loop {
        if at >= bytes.len() {
            return (Chunk::Empty, at, len);
        }
        match char_at(bytes, fold, at) {
            (Char::Word(folded), width) => break (folded, width),
            (Char::Space, _) => return (Chunk::Empty, at, len),
            (Char::Punctuation, width) => at += width,
            (Char::Other, _) => return tricky(at, len),
        }
    };
    // The word: letters only or digits only.
    let core_start = at;
    let digits = folded <= b'9';
    loop {
        line[len] = folded;
        len += 1;
        at += width;
        if at >= bytes.len() {
            return (Chunk::Plain(core_start..at), at, len);
        }
        match char_at(bytes, fold, at) {
            (Char::Word(next), next_width) if (next <= b'9') == digits => {
                folded = next;
                width = next_width;
            }
            (Char::Space, _) => return (Chunk::Plain(core_start..at), at, len),
            (Char::Punctuation, _) => break,
            // Letters and digits mixed.
            _ => return tricky(at, len),
        }
    }
    // Punctuation after it; a letter after punctuation inside the chunk is a broken-up word.
    let core = core_start..at;
    loop {
        if at >= bytes.len() {
            return (Chunk::Plain(core), at, len);
        }
        match char_at(bytes, fold, at) {
            (Char::Space, _) => return (Chunk::Plain(core), at, len),
            (Char::Punctuation, width) => at += width,
            _ => return tricky(at, len),
        }
    }
}

/// What a char is to [`plain_chunk`].
enum Char {
    /// A letter or digit, folded.
    Word(u8),
    Space,
    /// Plain punctuation.
    Punctuation,
    Other,
}

/// The char at `at` and its width.
#[inline(always)]
fn char_at(bytes: &[u8], fold: &[u8], at: usize) -> (Char, usize) {
    let b = bytes[at];
    if b < 0x80 {
        let char = match ASCII_CLASS[usize::from(b)] {
            WHITESPACE => Char::Space,
            PUNCTUATION => Char::Punctuation,
            SPECIAL => Char::Other,
            folded => Char::Word(folded),
        };
        return (char, 1);
    }
    let (code, width) = decode(bytes, at);
    match fold.get(code as usize) {
        Some(&letter) if letter != 0 => (Char::Word(letter), width),
        _ if is_whitespace_code(code) => (Char::Space, width),
        _ => (Char::Other, width),
    }
}

/// The end of the chunk that `at` is inside: the next whitespace, or the end of the text.
fn chunk_end(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        let b = bytes[at];
        if b < 0x80 {
            if ASCII_CLASS[usize::from(b)] == WHITESPACE {
                break;
            }
            at += 1;
        } else {
            let (code, len) = decode(bytes, at);
            if is_whitespace_code(code) {
                break;
            }
            at += len;
        }
    }
    at
}

/// True when the digit at `i` sits inside letters: a letter on at least one side and no digit on either,
/// so `H0` and `kh0a` read as letters while `10tr`, `4G` and `0912` stay numbers.
fn letters_around(pieces: &[Piece], i: usize) -> bool {
    let digit =
        |j: Option<usize>| j.is_some_and(|j| matches!(pieces.get(j), Some(Piece::Digit(_))));
    !digit(i.checked_sub(1)) && !digit(Some(i + 1))
}

/// The line and its words, with runs of three or more one-letter words written with single spaces
/// ("t r u n g") joined into one word; a wider gap or a line break between letters ends a word.
fn join_spaced_letters(text: &str, buf: &str, words: &[Word]) -> Words {
    let single = |w: &Word| w.len == 1 && buf.as_bytes()[w.at].is_ascii_alphabetic();
    let mut line = String::with_capacity(buf.len() + words.len() + 2);
    line.push(' ');
    let mut out: Vec<Word> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let mut j = i;
        while j + 1 < words.len()
            && single(&words[j])
            && single(&words[j + 1])
            && text.get(words[j].span.end..words[j + 1].span.start) == Some(" ")
        {
            j += 1;
        }
        let (run, obfuscated) = if single(&words[i]) && j + 1 - i >= 3 {
            (&words[i..=j], true)
        } else {
            j = i;
            (&words[i..=i], words[i].obfuscated)
        };
        let at = line.len();
        for w in run {
            line.push_str(&buf[w.at..w.at + w.len]);
        }
        out.push(Word {
            at,
            len: line.len() - at,
            span: run[0].span.start..run[run.len() - 1].span.end,
            obfuscated,
        });
        line.push(' ');
        i = j + 1;
    }
    Words { line, words: out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> String {
        Words::new(text).line().trim().to_string()
    }

    #[test]
    fn folds_accents_case_and_punctuation_between_words() {
        assert_eq!(line("Việc nhẹ, LƯƠNG cao!"), "viec nhe luong cao");
        assert_eq!(
            line("Đăng ký-ngay: sinh-trắc-học"),
            "dang ky ngay sinh trac hoc"
        );
    }

    #[test]
    fn undoes_symbols_digits_and_broken_words() {
        assert_eq!(line("d!eu k!en"), "dieu kien");
        assert_eq!(line("H0 TR0 kh0a"), "ho tro khoa");
        assert_eq!(line("N'ha'n T,ien"), "nhan tien");
        assert_eq!(line("qu'y B.H.X.H"), "quy bhxh");
        assert_eq!(line("V.A.Y  T.I.E.N"), "vay tien");
        assert_eq!(line("HO.AN T.IEN"), "hoan tien");
        assert_eq!(line("nhận tiề\u{200B}n"), "nhan tien");
    }

    #[test]
    fn numbers_amounts_and_codes_stay_as_written() {
        assert_eq!(
            line("0912345678 500k 10tr 4G 07/12/2026"),
            "0912345678 500k 10tr 4g 07 12 2026"
        );
        assert_eq!(line("OTP: 123456."), "otp 123456");
    }

    #[test]
    fn look_alike_letters_of_other_scripts_read_as_latin() {
        // Cyrillic а and о.
        assert_eq!(
            line("vietcombаnk trúng thưởng cоn"),
            "vietcombank trung thuong con"
        );
        let words = Words::new("ngân hàng vietcombаnk");
        let at = words.line().find("vietcombank").unwrap();
        assert!(words.obfuscated_in(at..at + 11));
        assert!(!words.obfuscated_in(1..4));
    }

    #[test]
    fn spaced_out_letters_join_and_wide_gaps_split() {
        assert_eq!(line("t r u n g  t h u o n g ngay"), "trung thuong ngay");
        assert_eq!(line("T R U N G T H U O N G"), "trungthuong");
        // Two single letters are not a run.
        assert_eq!(line("a b test"), "a b test");
    }

    #[test]
    fn spans_point_back_to_the_text_as_written() {
        let text = "Quý khách N'ha'n T,ien ngay";
        let words = Words::new(text);
        let at = words.line().find("nhan tien").unwrap();
        let span = words.span_of(at..at + "nhan tien".len());
        assert_eq!(&text[span], "N'ha'n T,ien");
        assert!(words.obfuscated_in(at..at + 4));
        let first = words.span_of(1..4);
        assert_eq!(&text[first], "Quý");
    }

    #[test]
    fn words_before_come_nearest_first_with_what_follows_them() {
        let text = "Rảnh không, cho mượn";
        let words = Words::new(text);
        let at = words.line().find(" cho ").unwrap() + 1;
        let before: Vec<(&str, &str)> = words.words_before_with_gaps(text, at).collect();
        assert_eq!(before, vec![("khong", ", "), ("ranh", " ")]);
    }

    #[test]
    fn obfuscated_words_are_listed_for_phrase_search_without_spaces() {
        let words = Words::new("t r u n g t h u o n g xe SH");
        let found: Vec<&str> = words.obfuscated_words().map(|(_, w)| w).collect();
        assert_eq!(found, vec!["trungthuong"]);
    }

    proptest::proptest! {
        #[test]
        fn any_text_gives_spans_inside_it(text in proptest::prelude::any::<String>()) {
            let words = Words::new(&text);
            for w in &words.words {
                proptest::prop_assert!(text.get(w.span.clone()).is_some());
                proptest::prop_assert!(w.len > 0);
            }
        }
    }
}
