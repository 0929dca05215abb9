//! A user's own say over campaigns: "dừng nhận tin", "/stop" or "hủy nhận tin" stop them, "/start" starts
//! them again. Only a message that is nothing but the command counts, so a question that mentions the words
//! ("làm sao để dừng nhận tin nhắn lạ?") is not taken as one.

/// A change a user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    Stop,
    Start,
}

impl Subscription {
    #[must_use]
    pub fn opts_out(self) -> bool {
        self == Subscription::Stop
    }
}

/// Compared after NFC, lowercasing, whitespace collapsing and trailing `!`, `?` or `.`; people type
/// without diacritics too, and write "huỷ" as often as "hủy".
const STOP: &[&str] = &[
    "/stop",
    "dừng nhận tin",
    "dừng nhận tin nhắn",
    "dung nhan tin",
    "hủy nhận tin",
    "huỷ nhận tin",
    "hủy nhận tin nhắn",
    "huỷ nhận tin nhắn",
    "huy nhan tin",
];
const START: &[&str] = &["/start"];

/// The change `text` asks for, if it is one of the commands.
#[must_use]
pub fn subscription_command(text: &str) -> Option<Subscription> {
    let lowered = text.to_lowercase();
    let lowered = crate::domain::nfc(&lowered);
    let collapsed = lowered.split_whitespace().collect::<Vec<_>>().join(" ");
    let command = collapsed.trim_end_matches(['!', '?', '.']).trim_end();
    if STOP.contains(&command) {
        Some(Subscription::Stop)
    } else if START.contains(&command) {
        Some(Subscription::Start)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stop_words_opt_out() {
        for text in [
            "dừng nhận tin",
            "Dừng nhận tin",
            "DỪNG NHẬN TIN",
            "  dừng   nhận tin. ",
            "du\u{031B}\u{0300}ng nha\u{0323}\u{0302}n tin",
            "dung nhan tin",
            "/stop",
            "/STOP",
            "hủy nhận tin",
            "huỷ nhận tin!",
            "huy nhan tin",
            "dừng nhận tin nhắn",
        ] {
            assert_eq!(
                subscription_command(text),
                Some(Subscription::Stop),
                "{text:?}"
            );
        }
    }

    #[test]
    fn start_opts_back_in() {
        for text in ["/start", "/Start", " /START "] {
            assert_eq!(
                subscription_command(text),
                Some(Subscription::Start),
                "{text:?}"
            );
        }
        assert!(!Subscription::Start.opts_out());
        assert!(Subscription::Stop.opts_out());
    }

    #[test]
    fn questions_and_other_texts_are_not_commands() {
        for text in [
            "",
            "stop",
            "start",
            "/help",
            "làm sao để dừng nhận tin nhắn lạ?",
            "tôi muốn hủy nhận tin",
            "dừng",
            "/ stop",
            "/stopp",
        ] {
            assert_eq!(subscription_command(text), None, "{text:?}");
        }
    }
}
