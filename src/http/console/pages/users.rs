//! The users seen lately, and one user's conversation with every number masked: moderators read what
//! happened, not the digits (a victim's account, an OTP, a phone number).

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::reply::mask_numbers;
use crate::store::{SeenUser, StoredMessage};

use super::when;

pub fn render_list(users: &[SeenUser]) -> Markup {
    html! {
        @if users.is_empty() {
            p.empty { "Chưa có người dùng nào." }
        } @else {
            table {
                thead { tr { th { "Người dùng" } th { "Lần cuối" } th { "Quan tâm OA" } } }
                tbody {
                    @for user in users {
                        tr {
                            td { a href={ "/admin/users/" (user.user_id) } { (user.user_id) } }
                            td { (when(user.last_seen_at)) }
                            td { @if user.followed { "có" } @else { "không" } }
                        }
                    }
                }
            }
        }
    }
}

/// The conversation, oldest first; `shown` of `total` messages (the newest).
pub fn render_conversation(
    messages: &[StoredMessage],
    total: usize,
    paused_until: Option<DateTime<Utc>>,
) -> Markup {
    html! {
        p { "Các số từ 6 chữ số trở lên được che, chỉ còn 3 số cuối." }
        @if let Some(until) = paused_until {
            p.notice { "Bot đang tạm dừng với người này đến " (when(until)) "." }
        }
        @if messages.len() < total {
            p { "Hiển thị " (messages.len()) " tin mới nhất trong " (total) " tin." }
        }
        @if messages.is_empty() {
            p.empty { "Chưa có tin nhắn nào." }
        } @else {
            ol.chat {
                @for message in messages {
                    li class=(if message.is_from_user { "user" } else { "bot" }) {
                        span.meta {
                            (if message.is_from_user { "Người dùng" } else { "TradeSphere / OA" })
                            " · " (message.message_type) " · " (when(message.sent_at))
                        }
                        (mask_numbers(&message.content))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(content: &str, from_user: bool) -> StoredMessage {
        StoredMessage {
            content: content.into(),
            is_from_user: from_user,
            message_type: "text".into(),
            sent_at: Utc::now(),
        }
    }

    #[test]
    fn numbers_are_masked_and_text_is_escaped() {
        let html = render_conversation(
            &[
                message(
                    "tôi lỡ chuyển 5 triệu vào STK 190366888888 <b>rồi</b>",
                    true,
                ),
                message("Gọi ngay 0912345678", false),
            ],
            2,
            None,
        )
        .into_string();
        assert!(!html.contains("190366888888") && html.contains("*********888"));
        assert!(!html.contains("0912345678") && html.contains("*******678"));
        assert!(html.contains("&lt;b&gt;rồi&lt;/b&gt;"));
        assert!(html.contains(r#"class="user""#) && html.contains(r#"class="bot""#));
    }

    #[test]
    fn a_long_conversation_says_how_much_is_shown() {
        let html = render_conversation(&[message("a", true)], 500, None).into_string();
        assert!(html.contains("Hiển thị 1 tin mới nhất trong 500 tin."));
    }
}
