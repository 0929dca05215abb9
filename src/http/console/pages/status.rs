//! The Zalo token's state (never the token), with the feeds' view below it.

use maud::{Markup, html};

use crate::token::TokenStatus;

use super::when;

pub fn render_token(status: &TokenStatus) -> Markup {
    let at = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or_else(|| "—".to_string(), when);
    html! {
        h2 { "Token Zalo OA" }
        @if status.reauth_required {
            p.error role="alert" { "Cần ủy quyền lại OA: chạy tradesphere token authorize-url." }
        }
        dl.facts {
            dt { "Có token" } dd { @if status.present { "có" } @else { "không" } }
            dt { "Phiên bản" } dd { (status.version) }
            dt { "Nguồn" } dd { (status.source.as_deref().unwrap_or("—")) }
            dt { "Hết hạn" } dd { (at(status.expires_at)) }
            dt { "Có refresh token" } dd { @if status.refresh_token_present { "có" } @else { "không" } }
            dt { "Refresh token hết hạn" } dd { (at(status.refresh_expires_at)) }
            dt { "Lần gia hạn gần nhất" } dd { (at(status.last_refresh_at)) }
            dt { "Kết quả" } dd { (status.last_refresh_result.as_deref().unwrap_or("—")) }
            dt { "Lỗi" } dd { (status.last_refresh_error.as_deref().unwrap_or("—")) }
            dt { "Gia hạn thành công gần nhất" } dd { (at(status.last_refresh_success_at)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_needing_reauthorisation_is_flagged() {
        let status = TokenStatus {
            present: true,
            version: 3,
            source: Some("oauth".into()),
            expires_at: None,
            refresh_token_present: true,
            refresh_expires_at: None,
            last_refresh_at: None,
            last_refresh_result: Some("error".into()),
            last_refresh_error: Some("<bad>".into()),
            last_refresh_success_at: None,
            reauth_required: true,
        };
        let html = render_token(&status).into_string();
        assert!(html.contains("Cần ủy quyền lại OA"));
        assert!(html.contains("&lt;bad&gt;"));
    }
}
