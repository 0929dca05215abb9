//! The line formats: a domain list (or chongluadao's JSON), a hosts file, and a URL per line (OpenPhish).

use std::io::BufRead;

use super::super::entries::{FeedDefaults, FeedEntries, printable};
use super::{FormatError, first_byte, json, next_line};

/// One domain or URL per line, `#` comments, wildcards; or a JSON array of `{"url": …}` or strings.
pub(super) fn domains(
    reader: &mut impl BufRead,
    defaults: &FeedDefaults,
    entries: &mut FeedEntries,
) -> Result<(), FormatError> {
    if first_byte(reader)? == Some(b'[') {
        return json::each_item(reader, |index, item| {
            let raw = item
                .get("url")
                .and_then(serde_json::Value::as_str)
                .or_else(|| item.as_str());
            match raw {
                Some(raw) => entries.push_link(defaults, index, raw, None, None),
                None => entries.bad(index, format!("item {index} has no url")),
            }
        });
    }
    each_line(reader, |line_no, entry| {
        entries.push_link(defaults, line_no, entry, None, None);
    })
}

/// A URL per line (the OpenPhish community feed).
pub(super) fn urls(
    reader: &mut impl BufRead,
    defaults: &FeedDefaults,
    entries: &mut FeedEntries,
) -> Result<(), FormatError> {
    each_line(reader, |line_no, entry| {
        entries.push_link(defaults, line_no, entry, None, None);
    })
}

/// Names that every hosts file maps and that are nobody's scam.
const LOCAL_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "local",
    "broadcasthost",
    "ip6-localhost",
    "ip6-loopback",
    "0.0.0.0",
];

/// `ADDRESS NAME [NAME…]` per line, `#` comments.
pub(super) fn hosts(
    reader: &mut impl BufRead,
    defaults: &FeedDefaults,
    entries: &mut FeedEntries,
) -> Result<(), FormatError> {
    each_line(reader, |line_no, entry| {
        let mut fields = entry.split_whitespace();
        let address = fields.next().unwrap_or("");
        if address.parse::<std::net::IpAddr>().is_err() {
            entries.bad(line_no, format!("not `address name`: {}", printable(entry)));
            return;
        }
        for name in fields.filter(|n| !LOCAL_NAMES.contains(n)) {
            entries.push_link(defaults, line_no, name, None, None);
        }
    })
}

/// Calls `f` with each line's number and its text before any `#`, trimmed, skipping empty ones.
fn each_line(reader: &mut impl BufRead, mut f: impl FnMut(u64, &str)) -> Result<(), FormatError> {
    let (mut buf, mut line) = (Vec::new(), String::new());
    let mut line_no = 0;
    while next_line(reader, &mut buf, &mut line)? {
        line_no += 1;
        let entry = line.split('#').next().unwrap_or("").trim();
        if !entry.is_empty() {
            f(line_no, entry);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use super::*;

    fn defaults() -> FeedDefaults {
        FeedDefaults {
            source: "f".into(),
            category: "c".into(),
            verified: false,
        }
    }

    fn values(entries: &FeedEntries) -> Vec<&str> {
        entries.records.iter().map(|r| r.value.as_str()).collect()
    }

    #[test]
    fn a_domain_list_and_its_json_form() {
        let mut entries = FeedEntries::new();
        let text =
            "# list\n\nexample.com\n*.evil.xyz\nhttps://WWW.Phish.vn/login  # x\nnot a domain\n";
        domains(
            &mut BufReader::new(text.as_bytes()),
            &defaults(),
            &mut entries,
        )
        .unwrap();
        assert_eq!(values(&entries), ["example.com", "evil.xyz", "phish.vn"]);
        assert_eq!(entries.bad_line_numbers(), [6]);
        let mut entries = FeedEntries::new();
        let json = r#" [{"url":"*.bad.com/*"},"good-luck.vn",{"x":1}]"#;
        domains(
            &mut BufReader::new(json.as_bytes()),
            &defaults(),
            &mut entries,
        )
        .unwrap();
        assert_eq!(values(&entries), ["bad.com", "good-luck.vn"]);
        assert_eq!(entries.bad_line_numbers(), [3]);
    }

    #[test]
    fn a_hosts_file() {
        let mut entries = FeedEntries::new();
        let text = "127.0.0.1 localhost\n0.0.0.0 evil.example www.evil2.example # c\nevil3.example\n::1 ip6-localhost\n";
        hosts(
            &mut BufReader::new(text.as_bytes()),
            &defaults(),
            &mut entries,
        )
        .unwrap();
        assert_eq!(values(&entries), ["evil.example", "evil2.example"]);
        assert_eq!(entries.bad_line_numbers(), [3]);
    }

    #[test]
    fn a_url_per_line() {
        let mut entries = FeedEntries::new();
        let text = "https://login-vcb.example/a\r\nhttp://x.example.net/p?q=1\r\n\u{FFFD}\u{0}\r\n";
        urls(
            &mut BufReader::new(text.as_bytes()),
            &defaults(),
            &mut entries,
        )
        .unwrap();
        assert_eq!(values(&entries), ["login-vcb.example", "x.example.net"]);
        assert_eq!(entries.bad_rows, 1);
    }
}
