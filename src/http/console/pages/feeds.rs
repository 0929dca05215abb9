//! The feeds' state: each configured feed with its last sync, and what each report source holds in the
//! store.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::config::FeedSettings;
use crate::feeds::{FeedState, next_run};
use crate::store::SourceSummary;

use super::when;

/// One configured feed as the page shows it (the URL's host only: a URL may carry a key).
pub struct FeedRow<'a> {
    pub feed: &'a FeedSettings,
    pub state: Option<&'a FeedState>,
}

pub fn render(feeds: &[FeedRow<'_>], sources: &[SourceSummary], now: DateTime<Utc>) -> Markup {
    html! {
        h2 { "Nguồn dữ liệu lừa đảo" }
        @if feeds.is_empty() {
            p.empty { "Chưa cấu hình nguồn nào (scam.feeds)." }
        } @else {
            table {
                thead { tr {
                    th { "Nguồn" } th { "Máy chủ" } th { "Lần thành công gần nhất" } th { "Kết quả" }
                    th { "Số mục" } th { "ETag" } th { "Lần chạy tới" }
                } }
                tbody {
                    @for row in feeds {
                        tr {
                            td { span.value { (row.feed.name) } " " (row.feed.title) }
                            td { (row.feed.url.host_str().unwrap_or_default()) }
                            td { (row.state.and_then(|s| s.last_success).map_or_else(|| "chưa có".to_string(), when)) }
                            td { (row.state.and_then(|s| s.last_result).map_or("—", |r| r.as_str())) }
                            td { (row.state.map_or(0, |s| s.entries)) }
                            td.value { (row.state.and_then(|s| s.etag.as_deref()).unwrap_or("—")) }
                            td {
                                @if row.feed.enabled {
                                    (when(next_run(row.state, row.feed.refresh, now).max(now)))
                                } @else {
                                    "tắt"
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 { "Báo cáo theo nguồn" }
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

    fn feed(name: &str, enabled: bool) -> FeedSettings {
        FeedSettings {
            name: name.into(),
            title: name.to_uppercase(),
            url: url::Url::parse(&format!("https://feeds.example.org/{name}.csv?key=secret"))
                .expect("a URL"),
            format: crate::config::FeedFormat::Domains,
            category: String::new(),
            refresh: std::time::Duration::from_secs(3600),
            enabled,
            api_key: None,
            verified: false,
            max_bytes: 1 << 20,
            timeout: std::time::Duration::from_secs(10),
        }
    }

    #[test]
    fn feeds_show_their_sync_and_never_their_url() {
        let on = feed("urlhaus", true);
        let off = feed("openphish", false);
        let state = FeedState {
            name: "urlhaus".into(),
            title: "URLhaus".into(),
            etag: Some("\"v7\"".into()),
            last_modified: None,
            last_attempt: None,
            last_success: None,
            last_result: None,
            entries: 1234,
            bad_rows: 0,
            failures: 0,
        };
        let rows = [
            FeedRow {
                feed: &on,
                state: Some(&state),
            },
            FeedRow {
                feed: &off,
                state: None,
            },
        ];
        let html = render(&rows, &[], Utc::now()).into_string();
        assert!(
            html.contains("feeds.example.org") && !html.contains("secret"),
            "{html}"
        );
        assert!(
            html.contains("<td>1234</td>") && html.contains("&quot;v7&quot;"),
            "{html}"
        );
        assert!(html.contains("tắt"), "{html}");
        assert!(
            render(&[], &[], Utc::now())
                .into_string()
                .contains("Chưa cấu hình")
        );
    }
}
