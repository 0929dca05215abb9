//! Appeals by the owners of reported numbers, waiting for a decision.

use maud::{Markup, html};

use super::super::appeals::Appeals;
use super::when;

pub fn render(appeals: &Appeals) -> Markup {
    html! {
        @if let Some(note) = appeals.note {
            p.empty { (note) }
        }
        @if appeals.rows.is_empty() {
            p.empty { "Không có kháng nghị nào đang chờ." }
        } @else {
            table {
                thead { tr { th { "#" } th { "Đối tượng" } th { "Người kháng nghị viết" } th { "Lúc" } } }
                tbody {
                    @for row in &appeals.rows {
                        tr {
                            td { (row.id) }
                            td.value { (row.entity) }
                            td.evidence { (row.statement) }
                            td { (when(row.created_at)) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::super::super::appeals::AppealRow;
    use super::*;

    #[test]
    fn an_empty_list_says_why_and_rows_are_escaped() {
        let empty = Appeals {
            rows: vec![],
            note: Some("chưa có nguồn"),
        };
        let html = render(&empty).into_string();
        assert!(html.contains("chưa có nguồn") && html.contains("Không có kháng nghị"));
        let one = Appeals {
            rows: vec![AppealRow {
                id: 1,
                entity: "09******78".into(),
                statement: "<i>số của tôi</i>".into(),
                created_at: Utc::now(),
            }],
            note: None,
        };
        assert!(render(&one).into_string().contains("&lt;i&gt;số của tôi"));
    }
}
