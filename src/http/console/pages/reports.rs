//! The pending report queue: each report with its evidence (what the reporter wrote), how many distinct
//! people reported the same entity, and the two decisions.

use maud::{Markup, html};

use crate::store::{ReporterCounts, UserReport};

use super::{csrf_field, when};

/// One queued report with the counts of its entity.
pub struct QueuedReport {
    pub report: UserReport,
    pub counts: ReporterCounts,
}

pub fn render(queue: &[QueuedReport], csrf: &str) -> Markup {
    html! {
        @if queue.is_empty() {
            p.empty { "Không có báo cáo nào đang chờ duyệt." }
        } @else {
            p { "Báo cáo mới nhất ở trên. Số người báo cáo tính theo từng người dùng Zalo khác nhau." }
            table {
                thead {
                    tr {
                        th { "#" }
                        th { "Đối tượng" }
                        th { "Bằng chứng" }
                        th { "Người báo cáo" }
                        th { "Quyết định" }
                    }
                }
                tbody {
                    @for item in queue {
                        (row(item, csrf))
                    }
                }
            }
        }
    }
}

fn row(item: &QueuedReport, csrf: &str) -> Markup {
    let report = &item.report;
    let counts = item.counts;
    html! {
        tr id={ "report-" (report.id) } {
            td { (report.id) }
            td {
                span.kind { (report.kind) } br;
                span.value { (report.value) }
                @if let Some(bin) = &report.bank_bin { br; "BIN " (bin) }
                br; small { (report.category) " · " (when(report.created_at)) }
            }
            td.evidence {
                @if report.note.trim().is_empty() { em { "(không có)" } } @else { (report.note) }
            }
            td.counts {
                span { "chờ duyệt: " (counts.pending) }
                span { "đã xác nhận: " (counts.verified) }
                span { "bị bác: " (counts.rejected) }
            }
            td {
                form.inline method="post" action={ "/admin/reports/" (report.id) "/verify" } {
                    (csrf_field(csrf))
                    button.verify type="submit" { "Xác nhận lừa đảo" }
                }
                form.inline method="post" action={ "/admin/reports/" (report.id) "/reject" } {
                    (csrf_field(csrf))
                    input type="text" name="reason" placeholder="Lý do (không bắt buộc)" maxlength="500";
                    button.reject type="submit" { "Bác bỏ" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn report(note: &str) -> QueuedReport {
        QueuedReport {
            report: UserReport {
                id: 7,
                kind: "phone".into(),
                value: "+84912345678".into(),
                bank_bin: None,
                category: "lừa đảo".into(),
                note: note.into(),
                status: "pending".into(),
                created_at: Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap(),
                reviewed_at: None,
                reporter: None,
            },
            counts: ReporterCounts {
                pending: 2,
                verified: 1,
                rejected: 0,
            },
        }
    }

    #[test]
    fn user_text_renders_as_text() {
        let html = render(
            &[report(
                r#"<script>alert(1)</script><img src=x onerror="alert(2)">"#,
            )],
            "c",
        )
        .into_string();
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;img src=x onerror=&quot;alert(2)&quot;&gt;"));
    }

    #[test]
    fn each_report_has_both_decisions_with_the_csrf_token_and_its_counts() {
        let html = render(&[report("gọi bảo trúng thưởng")], "tok").into_string();
        assert!(html.contains(r#"action="/admin/reports/7/verify""#));
        assert!(html.contains(r#"action="/admin/reports/7/reject""#));
        assert_eq!(html.matches(r#"name="csrf_token" value="tok""#).count(), 2);
        assert!(html.contains("chờ duyệt: 2"));
        assert!(html.contains("gọi bảo trúng thưởng"));
    }

    #[test]
    fn an_empty_queue_says_so() {
        assert!(render(&[], "c").into_string().contains("Không có báo cáo"));
    }
}
