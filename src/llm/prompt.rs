//! Prompt assembly and answer cleaning. Pure: no IO.

use serde::Serialize;

use crate::domain::HistoryTurn;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: &'static str,
    pub content: String,
}

/// System prompt, then the user's recent history in order, then the new message.
pub fn build_messages(
    system_prompt: &str,
    history: &[HistoryTurn],
    user_text: &str,
) -> Vec<ChatMessage> {
    let mut messages = Vec::with_capacity(history.len() + 2);
    messages.push(ChatMessage {
        role: "system",
        content: system_prompt.to_string(),
    });
    messages.extend(history.iter().map(|turn| ChatMessage {
        role: if turn.from_user { "user" } else { "assistant" },
        content: turn.content.clone(),
    }));
    messages.push(ChatMessage {
        role: "user",
        content: user_text.to_string(),
    });
    messages
}

/// Zalo shows plain text: drop Markdown emphasis, heading marks and code fences, and trim.
/// Returns None when nothing readable is left.
pub fn clean_answer(raw: &str) -> Option<String> {
    let mut lines = Vec::new();
    for line in raw.lines() {
        let trimmed = line.trim_end();
        if trimmed.trim_start().starts_with("```") {
            continue;
        }
        let without_heading = trimmed.trim_start_matches('#').trim_start();
        let line = if trimmed.starts_with('#') {
            without_heading
        } else {
            trimmed
        };
        lines.push(line.replace("**", "").replace("__", "").replace('`', ""));
    }
    let text = lines.join("\n").trim().to_string();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_sits_between_system_and_new_message() {
        let history = vec![
            HistoryTurn {
                from_user: true,
                content: "chào".into(),
            },
            HistoryTurn {
                from_user: false,
                content: "Chào bạn!".into(),
            },
        ];
        let messages = build_messages("SYS", &history, "số này có lừa đảo không?");
        let roles: Vec<_> = messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert_eq!(messages[3].content, "số này có lừa đảo không?");
    }

    #[test]
    fn markdown_is_stripped() {
        assert_eq!(
            clean_answer("## Lưu ý\n**Không** chuyển tiền.\n```\ncode\n```").as_deref(),
            Some("Lưu ý\nKhông chuyển tiền.\ncode")
        );
        assert_eq!(clean_answer("  \n ``` \n"), None);
    }
}
