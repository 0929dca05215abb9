//! Where a followed link led, told under the link's own line: "↪ bit.ly/… dẫn tới …". Pure.
//!
//! The hosts the bot met are shown defanged (`vcb-xacminh[.]top`): Zalo turns a plain host into a link to
//! tap, and the bot must never hand out a tappable scam link. The user's own link is quoted as written.

use url::{Host, Url};

use crate::scam::Reason;
use crate::scam::followed::{ChainEnd, LinkChain};

/// A path longer than this is cut: the host is what a reader needs.
const MAX_PATH_CHARS: usize = 30;

/// The chain's line, or `None` when the link answered itself with no redirect (nothing to tell).
#[must_use]
pub fn chain_line(chain: &LinkChain) -> Option<String> {
    let raw = chain.raw.trim();
    let [_, between @ .., last] = chain.hops.as_slice() else {
        let note = match chain.end {
            ChainEnd::Throttled => "hãy hỏi lại sau ít phút",
            end => end_note(end),
        };
        return (chain.end != ChainEnd::Reached)
            .then(|| format!("↪ Mình chưa xem được {raw} dẫn tới đâu ({note})."));
    };
    let mut notes: Vec<String> = Vec::new();
    if !between.is_empty() {
        let via: Vec<String> = between.iter().map(shown_host).collect();
        notes.push(format!("qua {}", via.join(", ")));
    }
    if chain.end != ChainEnd::Reached {
        notes.push(end_note(chain.end).to_string());
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    Some(format!("↪ {raw} dẫn tới {}{notes}.", shown(last)))
}

/// What a reason quotes, as the reply shows it: a host met while following a link (it quotes no part of
/// the text) is defanged; anything else is as written.
#[must_use]
pub fn shown_evidence(reason: &Reason) -> String {
    let evidence = reason.evidence.trim();
    if reason.span.is_empty() && !evidence.is_empty() {
        defanged(evidence)
    } else {
        evidence.to_string()
    }
}

/// Why the walk stopped, in plain words.
fn end_note(end: ChainEnd) -> &'static str {
    match end {
        ChainEnd::Reached => "đã mở được",
        ChainEnd::Unreachable | ChainEnd::Timeout => "không mở được trang này",
        ChainEnd::Throttled => "mình chưa mở trang này, hãy hỏi lại sau ít phút",
        ChainEnd::TooManyHops => "còn chuyển tiếp nữa, mình dừng ở đây",
        ChainEnd::Loop => "chuyển vòng quanh, mình dừng ở đây",
        ChainEnd::ForbiddenAddress => "trỏ vào địa chỉ nội bộ, mình không mở",
        ChainEnd::NotHttps => "trang không dùng kết nối bảo mật, mình không mở",
        ChainEnd::BadUrl => "địa chỉ bị hỏng",
    }
}

/// `host[.]tld/path…`: no scheme, no query, the host defanged and the path cut short.
fn shown(url: &Url) -> String {
    let mut shown = shown_host(url);
    let path = url.path();
    if path != "/" {
        let mut chars = path.chars();
        let cut: String = chars.by_ref().take(MAX_PATH_CHARS).collect();
        shown.push_str(&cut);
        if chars.next().is_some() {
            shown.push('…');
        }
    }
    shown
}

fn shown_host(url: &Url) -> String {
    let host = match url.host() {
        Some(Host::Domain(name)) => defanged(name),
        Some(Host::Ipv4(ip)) => defanged(&ip.to_string()),
        Some(Host::Ipv6(ip)) => format!("[{ip}]"),
        None => String::new(),
    };
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// Dots as `[.]`, the way warnings quote a link that must not be opened.
fn defanged(host: &str) -> String {
    host.replace('.', "[.]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::{ReasonKind, Weight};

    fn chain(hops: &[&str], end: ChainEnd) -> LinkChain {
        LinkChain {
            span: 0..11,
            raw: "bit.ly/3abc".into(),
            hops: hops.iter().map(|h| Url::parse(h).unwrap()).collect(),
            end,
        }
    }

    #[test]
    fn the_chain_names_where_the_link_leads_defanged() {
        let line = chain_line(&chain(
            &[
                "https://bit.ly/3abc",
                "https://vcb-xacminh.top/dang-nhap?u=1",
            ],
            ChainEnd::Reached,
        ));
        assert_eq!(
            line.unwrap(),
            "↪ bit.ly/3abc dẫn tới vcb-xacminh[.]top/dang-nhap."
        );
        let line = chain_line(&chain(
            &[
                "https://bit.ly/3abc",
                "https://t.co/x",
                "https://tinyurl.com:8443/y",
                "http://vcb-xacminh.top/",
            ],
            ChainEnd::NotHttps,
        ));
        assert_eq!(
            line.unwrap(),
            "↪ bit.ly/3abc dẫn tới vcb-xacminh[.]top (qua t[.]co, tinyurl[.]com:8443; trang không dùng kết nối bảo mật, mình không mở)."
        );
    }

    #[test]
    fn a_link_that_answers_itself_tells_nothing_and_one_not_opened_says_so() {
        assert_eq!(
            chain_line(&chain(&["https://bit.ly/3abc"], ChainEnd::Reached)),
            None
        );
        assert_eq!(
            chain_line(&chain(&["https://bit.ly/3abc"], ChainEnd::Unreachable)).unwrap(),
            "↪ Mình chưa xem được bit.ly/3abc dẫn tới đâu (không mở được trang này)."
        );
        assert_eq!(
            chain_line(&chain(&["https://bit.ly/3abc"], ChainEnd::Throttled)).unwrap(),
            "↪ Mình chưa xem được bit.ly/3abc dẫn tới đâu (hãy hỏi lại sau ít phút)."
        );
    }

    #[test]
    fn a_long_path_is_cut_and_every_end_has_words() {
        let long = format!("https://a.example/{}", "x".repeat(60));
        let line = chain_line(&chain(
            &["https://bit.ly/3abc", &long],
            ChainEnd::TooManyHops,
        ))
        .unwrap();
        assert!(
            line.contains(&format!("a[.]example/{}…", "x".repeat(29))),
            "{line}"
        );
        for end in ChainEnd::ALL {
            assert!(!end_note(end).is_empty());
            assert!(!end_note(end).contains("an toàn"));
        }
    }

    #[test]
    fn only_evidence_outside_the_text_is_defanged() {
        let mut met = Reason::new(ReasonKind::RiskyTld, "x", "", 0..0, Weight::Points(3));
        met.evidence = "vcb-xacminh.top".into();
        assert_eq!(shown_evidence(&met), "vcb-xacminh[.]top");
        let written = Reason::new(
            ReasonKind::RiskyTld,
            "x",
            "vào vcb.top nhé",
            5..12,
            Weight::Points(3),
        );
        assert_eq!(shown_evidence(&written), "vcb.top");
    }
}
