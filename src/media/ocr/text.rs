//! Turning Tesseract's words into text: icons left out, lines kept as read, and the lines a chat app
//! wrapped joined back into their message, so a phone number or an account broken over two lines is
//! whole again for the checks.

use unicode_normalization::UnicodeNormalization;

use super::tesseract::{LineBox, Word};

/// Words Tesseract is less sure of than this (out of 100) are left out: on the test set, what it reads
/// in icons and avatars scores below, and real words well above.
const MIN_CONFIDENCE: f32 = 60.0;

/// The text read from one image, NFC.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OcrText {
    /// The blocks, one a line: each block is the lines of one message (one bubble) joined by spaces.
    /// What the checks read.
    pub text: String,
    /// The lines as Tesseract read them, top to bottom, trimmed. What a reply quotes.
    pub lines: Vec<String>,
}

impl OcrText {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Assembles Tesseract's words into lines, leaving out what is not text: a word below
    /// [`MIN_CONFIDENCE`] (an icon, an avatar, a signal meter read as letters) or with no letter or
    /// digit (an arrow read as `<`). NFC, since Tesseract's Vietnamese may come decomposed.
    pub(super) fn from_words(words: &[Word]) -> OcrText {
        let mut lines: Vec<(String, LineBox)> = Vec::new();
        for word in words {
            if let Some(bounds) = word.line {
                lines.push((String::new(), bounds));
            }
            let Some((line, _)) = lines.last_mut() else {
                continue;
            };
            let text: String = word.text.nfc().collect();
            let text = text.trim();
            if word.confidence >= MIN_CONFIDENCE && text.chars().any(char::is_alphanumeric) {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(text);
            }
        }
        lines.retain(|(line, _)| !line.is_empty());
        let mut blocks: Vec<String> = Vec::new();
        let mut previous: Option<LineBox> = None;
        for (line, bounds) in &lines {
            match blocks.last_mut() {
                Some(block) if previous.is_some_and(|p| continues(&p, bounds)) => {
                    block.push(' ');
                    block.push_str(line);
                }
                _ => blocks.push(line.clone()),
            }
            previous = Some(*bounds);
        }
        OcrText {
            text: blocks.join("\n"),
            lines: lines.into_iter().map(|(line, _)| line).collect(),
        }
    }
}

/// Whether `next` continues the message of `line`: it starts right below it, at the same left edge,
/// in text of about the same size. A bubble's lines are at most a line apart; the next bubble is its
/// padding and the gap between bubbles away, a bubble's time is smaller, and bars and buttons stand
/// apart.
fn continues(line: &LineBox, next: &LineBox) -> bool {
    let height = line.bottom - line.top;
    let next_height = next.bottom - next.top;
    if height <= 0 || next_height <= 0 {
        return false;
    }
    let (small, large) = (height.min(next_height), height.max(next_height));
    let gap = next.top - line.bottom;
    // Diacritics, ascenders and descenders change a line's box by about half.
    let similar_size = 2 * large <= 3 * small;
    // Tesseract's line boxes leave out most diacritics, so a line and its gap come out about equal.
    let close_below = gap >= -small / 4 && gap <= small;
    let aligned = (line.left - next.left).abs() <= small;
    similar_size && close_below && aligned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_box(left: i32, top: i32, right: i32, bottom: i32) -> LineBox {
        LineBox {
            left,
            top,
            right,
            bottom,
        }
    }

    fn word(text: &str, confidence: f32, line: Option<LineBox>) -> Word {
        Word {
            text: text.to_string(),
            confidence,
            line,
        }
    }

    #[test]
    fn words_make_composed_lines_without_icons() {
        let words = [
            word("<", 78.0, Some(line_box(40, 60, 70, 100))),
            // "Việt" with the dot below and the circumflex as combining marks.
            word("Vie\u{0323}\u{0302}t", 96.0, None),
            word("Nam", 95.0, None),
            word("Oo", 49.1, None),
            word("@®", 26.8, Some(line_box(40, 300, 90, 350))),
            word("STK", 90.5, Some(line_box(130, 400, 700, 440))),
            word("1903", 96.0, None),
            word(">", 92.4, None),
            word("wal", 34.5, Some(line_box(900, 10, 940, 30))),
        ];
        let text = OcrText::from_words(&words);
        assert_eq!(text.lines, ["Việt Nam", "STK 1903"]);
        assert_eq!(text.text, "Việt Nam\nSTK 1903");
        assert!(OcrText::from_words(&[]).is_empty());
        let icon = [word("©", 95.0, Some(line_box(0, 0, 10, 10)))];
        assert!(OcrText::from_words(&icon).is_empty());
    }

    #[test]
    fn a_wrapped_message_is_joined_and_the_next_bubble_is_not() {
        let words = [
            word("Chị", 96.0, Some(line_box(132, 1000, 840, 1040))),
            word("kết", 96.0, None),
            word("bạn", 96.0, None),
            word("Zalo", 96.0, None),
            word("0868", 96.0, None),
            // The next line of the bubble: 49 pixels on at 36-pixel text, 9 below the last.
            word("112", 96.0, Some(line_box(132, 1049, 700, 1083))),
            word("233", 96.0, None),
            word("nha.", 96.0, None),
            // The next bubble, a padding and a gap below.
            word("Thật", 96.0, Some(line_box(580, 1160, 1020, 1200))),
            word("không?", 96.0, None),
        ];
        let text = OcrText::from_words(&words);
        assert_eq!(text.lines.len(), 3);
        assert_eq!(text.text, "Chị kết bạn Zalo 0868 112 233 nha.\nThật không?");
    }

    #[test]
    fn lines_continue_only_close_below_aligned_and_alike() {
        let line = line_box(100, 100, 800, 140);
        assert!(continues(&line, &line_box(100, 150, 600, 190)));
        // Shorter for want of ascenders, still the same text size.
        assert!(continues(&line, &line_box(102, 152, 300, 180)));
        // A line's height below: still the same message.
        assert!(continues(&line, &line_box(100, 180, 600, 220)));
        // Further: another bubble.
        assert!(!continues(&line, &line_box(100, 190, 600, 230)));
        // Indented: an outgoing bubble on the right.
        assert!(!continues(&line, &line_box(400, 150, 900, 190)));
        // Twice the size: a title above a message.
        assert!(!continues(&line, &line_box(100, 150, 900, 230)));
        // Above, or without a box.
        assert!(!continues(&line, &line_box(100, 40, 600, 80)));
        assert!(!continues(&line, &line_box(0, 0, 0, 0)));
    }
}
