//! The users the bot is silent for, because an OA admin is talking to them.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::{csrf_field, when};

pub struct Pause {
    pub user_id: String,
    pub until: DateTime<Utc>,
    pub reason: String,
}

pub fn render(pauses: &[Pause], csrf: &str) -> Markup {
    html! {
        @if pauses.is_empty() {
            p.empty { "Bot đang trả lời mọi người dùng: không có tạm dừng nào." }
        } @else {
            table {
                thead { tr { th { "Người dùng" } th { "Tạm dừng đến" } th { "Lý do" } th {} } }
                tbody {
                    @for pause in pauses {
                        tr {
                            td { a href={ "/admin/users/" (pause.user_id) } { (pause.user_id) } }
                            td { (when(pause.until)) }
                            td { (pause.reason) }
                            td {
                                form.inline method="post" action={ "/admin/pauses/" (pause.user_id) "/clear" } {
                                    (csrf_field(csrf))
                                    button type="submit" { "Cho bot trả lời lại" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pause_links_its_conversation_and_can_be_cleared() {
        let html = render(
            &[Pause {
                user_id: "123".into(),
                until: Utc::now(),
                reason: "admin_reply".into(),
            }],
            "tok",
        )
        .into_string();
        assert!(html.contains(r#"href="/admin/users/123""#));
        assert!(html.contains(r#"action="/admin/pauses/123/clear""#));
        assert!(html.contains(r#"value="tok""#));
        assert!(render(&[], "t").into_string().contains("không có tạm dừng"));
    }
}
