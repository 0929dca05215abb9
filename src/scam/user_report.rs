//! Users report scams by chat: "báo cáo 0912345678 lừa đảo bán hàng online". Pure parsing.

use super::entity::Entity;
use super::extract::extract;
use super::text::fold;

/// Words that start a report, accent-folded (users type "bao cao" as often as "báo cáo").
const REPORT_PREFIXES: &[&str] = &[
    "/baocao", "/report", "bao cao", "baocao", "to cao", "report",
];

/// A report the user asked to file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportCommand {
    /// The entities named; empty when the user named none (they get the usage line).
    pub entities: Vec<Entity>,
    /// What the user said about it (the text after the command word), trimmed, at most 500 characters.
    pub note: String,
}

/// The report command in `text`, if the message starts with one.
#[must_use]
pub fn parse_report_command(text: &str) -> Option<ReportCommand> {
    let normalized = super::text::normalize_text(text);
    let trimmed = normalized.trim_start();
    let head: String = trimmed.chars().take(12).collect();
    let folded_head = fold(&head);
    let prefix = REPORT_PREFIXES.iter().find(|p| {
        folded_head.starts_with(**p)
            && folded_head[p.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
    })?;
    // The prefix is folded ASCII of the same char count as the original head.
    let prefix_chars = prefix.chars().count();
    let rest_start = trimmed
        .char_indices()
        .nth(prefix_chars)
        .map_or(trimmed.len(), |(i, _)| i);
    let rest = trimmed[rest_start..].trim_start_matches([':', ' ', '-', '\n']);
    let entities = extract(rest);
    let note: String = rest.trim().chars().take(500).collect();
    Some(ReportCommand { entities, note })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::EntityKind;

    #[test]
    fn reports_with_and_without_accents() {
        let command = parse_report_command("Báo cáo 0912.345.678 lừa đảo bán hàng online").unwrap();
        assert_eq!(command.entities.len(), 1);
        assert_eq!(command.entities[0].kind, EntityKind::Phone);
        assert_eq!(command.note, "0912.345.678 lừa đảo bán hàng online");
        let command = parse_report_command("bao cao: stk 190366888888 vcb").unwrap();
        assert_eq!(command.entities[0].value, "190366888888");
        assert!(parse_report_command("/baocao lua-dao.vn").is_some());
    }

    #[test]
    fn only_at_the_start_and_as_a_word() {
        assert!(parse_report_command("mình muốn báo cáo 0912345678").is_none());
        assert!(parse_report_command("báo cáoxyz").is_none());
        assert!(
            parse_report_command("Báo cáo tài chính quý 3")
                .unwrap()
                .entities
                .is_empty()
        );
    }
}
