//! The feeds' state: what each report source holds in the store, and the configured scam-list sync.
//! Kept apart from the token view so the feeds can grow their own rows here.

use std::time::Duration;

use maud::{Markup, html};

use crate::store::SourceSummary;

use super::when;

/// The configured list sync, as the page may show it (the URL's host only: a URL may carry a key).
pub struct ListSync {
    pub host: Option<String>,
    pub source: String,
    pub interval: Duration,
}

pub fn render(sync: &ListSync, sources: &[SourceSummary]) -> Markup {
    html! {
        h2 { "Nguồn dữ liệu lừa đảo" }
        dl.facts {
            dt { "Danh sách đồng bộ" }
            dd {
                @match &sync.host {
                    Some(host) => { (host) " → nguồn " span.value { (sync.source) } ", mỗi " (sync.interval.as_secs() / 60) " phút" },
                    None => "không cấu hình (scam.sync_url trống)",
                }
            }
        }
        @if sources.is_empty() {
            p.empty { "Chưa có báo cáo nào trong cơ sở dữ liệu." }
        } @else {
            table {
                thead { tr { th { "Nguồn" } th { "Đang dùng" } th { "Đã gỡ" } th { "Thay đổi gần nhất" } } }
                tbody {
                    @for source in sources {
                        tr {
                            td.value { (source.source) }
                            td { (source.active) }
                            td { (source.removed) }
                            td { (source.last_changed_at.map_or_else(|| "—".to_string(), when)) }
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
    fn sources_and_the_sync_are_listed() {
        let html = render(
            &ListSync {
                host: Some("example.org".into()),
                source: "chongluadao".into(),
                interval: Duration::from_secs(3600),
            },
            &[SourceSummary {
                source: "chongluadao".into(),
                active: 12,
                removed: 1,
                last_changed_at: None,
            }],
        )
        .into_string();
        assert!(html.contains("example.org") && html.contains("mỗi 60 phút"));
        assert!(html.contains("<td>12</td>"));
        let unset = ListSync {
            host: None,
            source: "x".into(),
            interval: Duration::from_secs(60),
        };
        assert!(render(&unset, &[]).into_string().contains("không cấu hình"));
    }
}
