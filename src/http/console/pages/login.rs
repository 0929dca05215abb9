//! The login form: the admin token, posted with the anonymous session's CSRF token.

use maud::{DOCTYPE, Markup, html};

use super::csrf_field;

/// The form, with `error` above it after a refused attempt.
pub fn render(csrf: &str, error: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Đăng nhập · TradeSphere" }
                link rel="stylesheet" href="/admin/static/console.css";
            }
            body {
                main.login {
                    h1 { "Đăng nhập kiểm duyệt" }
                    @if let Some(error) = error {
                        p.error role="alert" { (error) }
                    }
                    form method="post" action="/admin/login" {
                        (csrf_field(csrf))
                        label for="token" { "Mã quản trị (ADMIN_TOKEN)" }
                        input #token type="password" name="token" autocomplete="current-password" required;
                        button type="submit" { "Đăng nhập" }
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
    fn the_form_posts_the_token_with_its_csrf_token() {
        let html = render("t0k", Some("Sai mã")).into_string();
        assert!(html.contains(r#"action="/admin/login""#));
        assert!(html.contains(r#"name="token""#));
        assert!(html.contains(r#"name="csrf_token" value="t0k""#));
        assert!(html.contains("Sai mã"));
    }
}
