//! The console's HTML, one file per page, all through maud: every `( … )` splice is escaped, so user text
//! (reports, messages, reasons) always renders as text. Nothing here wraps user text in `PreEscaped`, and the
//! pages carry no script. Pure: each page is a function of its data.

pub mod appeals;
pub mod campaigns;
pub mod feeds;
pub mod login;
pub mod pauses;
pub mod reports;
pub mod status;
pub mod users;

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

/// The console's only stylesheet, served from `/admin/static/console.css` (the CSP allows no inline style).
pub const STYLESHEET: &str = include_str!("console.css");

/// The navigation entries; the current one is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Reports,
    Appeals,
    Pauses,
    Users,
    Campaigns,
    Status,
}

impl Nav {
    const ALL: [Nav; 6] = [
        Nav::Reports,
        Nav::Appeals,
        Nav::Pauses,
        Nav::Users,
        Nav::Campaigns,
        Nav::Status,
    ];

    fn href(self) -> &'static str {
        match self {
            Self::Reports => "/admin/reports",
            Self::Appeals => "/admin/appeals",
            Self::Pauses => "/admin/pauses",
            Self::Users => "/admin/users",
            Self::Campaigns => "/admin/campaigns",
            Self::Status => "/admin/status",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Reports => "Báo cáo chờ duyệt",
            Self::Appeals => "Kháng nghị",
            Self::Pauses => "Tạm dừng bot",
            Self::Users => "Hội thoại",
            Self::Campaigns => "Gửi cảnh báo",
            Self::Status => "Token và nguồn dữ liệu",
        }
    }
}

/// What every logged-in page shares: its title, the current entry, the session's CSRF token (for the logout
/// form and the page's own forms) and a one-line notice after an action.
pub struct Frame<'a> {
    pub title: &'a str,
    pub nav: Nav,
    pub csrf: &'a str,
    pub notice: Option<&'a str>,
}

/// A logged-in page around `body`.
pub fn page(frame: &Frame<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · TradeSphere" }
                link rel="stylesheet" href="/admin/static/console.css";
            }
            body {
                header {
                    span.brand { "TradeSphere · kiểm duyệt" }
                    nav {
                        @for entry in Nav::ALL {
                            @if entry == frame.nav {
                                a.current href=(entry.href()) aria-current="page" { (entry.label()) }
                            } @else {
                                a href=(entry.href()) { (entry.label()) }
                            }
                        }
                    }
                    form.logout method="post" action="/admin/logout" {
                        (csrf_field(frame.csrf))
                        button type="submit" { "Đăng xuất" }
                    }
                }
                main {
                    h1 { (frame.title) }
                    @if let Some(notice) = frame.notice {
                        p.notice role="status" { (notice) }
                    }
                    (body)
                }
            }
        }
    }
}

/// The hidden field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(token); }
}

/// A time as moderators read it: UTC, to the minute.
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A bare page for errors (no navigation: the session may be gone).
pub fn message(title: &str, text: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                title { (title) " · TradeSphere" }
                link rel="stylesheet" href="/admin/static/console.css";
            }
            body {
                main {
                    h1 { (title) }
                    p { (text) }
                    p { a href="/admin/reports" { "Về trang báo cáo" } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_carries_the_csrf_token_and_marks_the_current_page() {
        let html = page(
            &Frame {
                title: "Kháng nghị",
                nav: Nav::Appeals,
                csrf: "abc123",
                notice: Some("<b>xong</b>"),
            },
            html! { p { "nội dung" } },
        )
        .into_string();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(r#"name="csrf_token" value="abc123""#));
        assert!(html.contains(r#"class="current" href="/admin/appeals""#));
        assert!(html.contains("&lt;b&gt;xong&lt;/b&gt;"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("style="));
    }
}
