//! Scam alerts to followers: a form to send one, and each recent campaign with its counts.

use maud::{Markup, html};

use crate::campaigns::CampaignStats;
use crate::domain::campaign::SkipReason;

use super::{csrf_field, when};

pub fn render(campaigns: &[CampaignStats], csrf: &str) -> Markup {
    html! {
        h2 { "Gửi cảnh báo cho người theo dõi" }
        p { "Chỉ gửi cho người đã nhắn với OA gần đây và chưa từ chối nhận tin. Không gửi từ 22:00 đến 06:00; tin lúc đó chờ đến 06:00." }
        form method="post" action="/admin/campaigns" {
            (csrf_field(csrf))
            label { "Nội dung" textarea name="text" rows="5" required {} }
            label { "Ảnh (đường dẫn https, không bắt buộc)" input type="url" name="image_url"; }
            button type="submit" { "Gửi cảnh báo" }
        }
        h2 { "Các lần gửi gần đây" }
        @if campaigns.is_empty() {
            p.empty { "Chưa gửi cảnh báo nào." }
        } @else {
            table {
                thead { tr {
                    th { "Lúc tạo" } th { "Nội dung" } th { "Nhắm tới" } th { "Đã gửi" } th { "Đang chờ" }
                    th { "Lỗi (mã Zalo)" } th { "Bỏ qua" }
                } }
                tbody {
                    @for stats in campaigns {
                        tr {
                            td { (when(stats.campaign.created_at)) }
                            td { (stats.campaign.text) }
                            td { (stats.targeted) }
                            td { (stats.sent) }
                            td { (stats.waiting) }
                            td {
                                @for (code, n) in &stats.failed {
                                    (code.map_or_else(|| "không mã".to_string(), |c| c.to_string())) ": " (n) " "
                                }
                            }
                            td {
                                @for reason in SkipReason::ALL {
                                    (skip_label(reason)) ": " (stats.skipped.get(&reason).copied().unwrap_or(0)) " "
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn skip_label(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::OptedOut => "từ chối nhận tin",
        SkipReason::OutsideWindow => "ngoài thời hạn",
        SkipReason::Unfollowed => "bỏ theo dõi",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Utc;

    use super::*;
    use crate::store::Campaign;

    #[test]
    fn each_campaign_shows_its_counts_and_its_text_escaped() {
        let stats = CampaignStats {
            campaign: Campaign {
                id: 3,
                text: "<b>Cảnh báo</b> lừa đảo".into(),
                image_url: None,
                created_at: Utc::now(),
                finished_at: None,
            },
            targeted: 40,
            waiting: 5,
            sent: 33,
            failed: BTreeMap::from([(Some(-230), 2)]),
            ambiguous: 0,
            skipped: BTreeMap::from([(SkipReason::OptedOut, 4)]),
            next_send_at: None,
        };
        let html = render(&[stats], "tok").into_string();
        assert!(html.contains("&lt;b&gt;Cảnh báo&lt;/b&gt;"), "{html}");
        assert!(
            html.contains("<td>33</td>") && html.contains("-230: 2"),
            "{html}"
        );
        assert!(
            html.contains("từ chối nhận tin: 4") && html.contains("bỏ theo dõi: 0"),
            "{html}"
        );
        assert!(html.contains(r#"action="/admin/campaigns""#) && html.contains(r#"value="tok""#));
        assert!(
            render(&[], "t")
                .into_string()
                .contains("Chưa gửi cảnh báo nào")
        );
    }
}
