//! RDAP read purely: which server the IANA bootstrap file names for a domain, the URL to ask it, and the
//! registration date in its answer.
//!
//! The bootstrap (RFC 9224) lists services as `[[entries…], [base URLs…]]`; a domain is served by the
//! entry that is its longest matching suffix of labels. An answer (RFC 9083) carries `events`, one of
//! which has `eventAction` "registration" and its `eventDate`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

/// The RDAP servers of each TLD (or longer suffix), read from the bootstrap file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bootstrap {
    services: Vec<(Vec<String>, Vec<Url>)>,
}

#[derive(Deserialize)]
struct BootstrapFile {
    services: Vec<Vec<Vec<String>>>,
}

/// Why an RDAP document could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RdapError {
    #[error("not RDAP JSON")]
    NotRdap,
}

impl Bootstrap {
    /// Reads the bootstrap file; services with no http(s) URL are left out.
    pub fn parse(body: &[u8]) -> Result<Bootstrap, RdapError> {
        let file: BootstrapFile = serde_json::from_slice(body).map_err(|_| RdapError::NotRdap)?;
        let services = file
            .services
            .into_iter()
            .filter_map(|service| {
                let [entries, urls] = <[Vec<String>; 2]>::try_from(service).ok()?;
                let entries = entries
                    .iter()
                    .map(|e| e.trim().trim_matches('.').to_ascii_lowercase())
                    .collect();
                let urls: Vec<Url> = urls
                    .iter()
                    .filter_map(|u| Url::parse(u).ok())
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .collect();
                (!urls.is_empty()).then_some((entries, urls))
            })
            .collect();
        Ok(Bootstrap { services })
    }

    /// The base URL to ask about `domain` (lowercase ASCII): the service whose entry is the longest suffix
    /// of its labels, https preferred.
    #[must_use]
    pub fn server_for(&self, domain: &str) -> Option<&Url> {
        let domain = domain.trim_end_matches('.');
        let matches = |entry: &str| {
            !entry.is_empty()
                && (domain == entry
                    || domain
                        .strip_suffix(entry)
                        .is_some_and(|head| head.ends_with('.')))
        };
        let (_, urls) = self
            .services
            .iter()
            .filter_map(|(entries, urls)| {
                let best = entries
                    .iter()
                    .filter(|e| matches(e))
                    .map(String::len)
                    .max()?;
                Some((best, urls))
            })
            .max_by_key(|(len, _)| *len)?;
        urls.iter().find(|u| u.scheme() == "https").or(urls.first())
    }
}

/// `{base}domain/{domain}`; the base URL may or may not end with a slash.
#[must_use]
pub fn domain_url(base: &Url, domain: &str) -> Option<Url> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join(&format!("domain/{domain}")).ok()
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "eventAction")]
    action: String,
    #[serde(rename = "eventDate", default)]
    date: Option<String>,
}

/// The registration date in an RDAP domain answer, `None` when it has none (or none that reads).
pub fn registration_date(body: &[u8]) -> Result<Option<DateTime<Utc>>, RdapError> {
    let answer: Answer = serde_json::from_slice(body).map_err(|_| RdapError::NotRdap)?;
    Ok(answer
        .events
        .iter()
        .filter(|e| e.action.eq_ignore_ascii_case("registration"))
        .filter_map(|e| DateTime::parse_from_rfc3339(e.date.as_deref()?).ok())
        .map(|d| d.with_timezone(&Utc))
        .min())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// The shape of IANA's `dns.json`, shortened.
    const BOOTSTRAP: &str = r#"{
      "description": "RDAP bootstrap file for Domain Name System registrations",
      "publication": "2026-11-30T17:00:02Z",
      "services": [
        [["com", "net"], ["https://rdap.verisign.com/com/v1/"]],
        [["top"], ["http://rdap.zdnsgtld.com/top/", "https://rdap.zdnsgtld.com/top/"]],
        [["example.top"], ["https://rdap.example/"]],
        [["broken"], ["ftp://nope/"]],
        [["odd"]]
      ],
      "version": "1.0"
    }"#;

    #[test]
    fn the_longest_suffix_names_the_server_https_first() {
        let bootstrap = Bootstrap::parse(BOOTSTRAP.as_bytes()).unwrap();
        let server = |d: &str| bootstrap.server_for(d).map(Url::to_string);
        assert_eq!(
            server("vcb-xacminh.com").unwrap(),
            "https://rdap.verisign.com/com/v1/"
        );
        assert_eq!(
            server("a.b.net.").unwrap(),
            "https://rdap.verisign.com/com/v1/"
        );
        assert_eq!(server("x.top").unwrap(), "https://rdap.zdnsgtld.com/top/");
        assert_eq!(server("a.example.top").unwrap(), "https://rdap.example/");
        assert_eq!(
            server("notexample.top").unwrap(),
            "https://rdap.zdnsgtld.com/top/"
        );
        assert_eq!(server("shop.vn"), None, "no RDAP service listed");
        assert_eq!(server("x.broken"), None);
        assert_eq!(server("x.odd"), None);
        assert_eq!(server("xcom"), None);
        assert_eq!(Bootstrap::parse(b"<html>"), Err(RdapError::NotRdap));
    }

    #[test]
    fn the_domain_url_joins_the_base() {
        let base = Url::parse("https://rdap.verisign.com/com/v1/").unwrap();
        assert_eq!(
            domain_url(&base, "example.com").unwrap().as_str(),
            "https://rdap.verisign.com/com/v1/domain/example.com"
        );
        let bare = Url::parse("http://127.0.0.1:9000/rdap").unwrap();
        assert_eq!(
            domain_url(&bare, "x.top").unwrap().as_str(),
            "http://127.0.0.1:9000/rdap/domain/x.top"
        );
    }

    #[test]
    fn the_registration_event_gives_the_date() {
        let answer = r#"{
          "objectClassName": "domain",
          "ldhName": "VCB-XACMINH.TOP",
          "events": [
            {"eventAction": "last changed", "eventDate": "2026-12-05T08:00:00Z"},
            {"eventAction": "registration", "eventDate": "2026-12-03T10:15:00+07:00"},
            {"eventAction": "expiration", "eventDate": "2027-12-03T03:15:00Z"},
            {"eventAction": "last update of RDAP database"}
          ]
        }"#;
        assert_eq!(
            registration_date(answer.as_bytes()).unwrap(),
            Some(Utc.with_ymd_and_hms(2026, 12, 3, 3, 15, 0).unwrap())
        );
        let none = r#"{"objectClassName": "domain", "events": [{"eventAction": "expiration", "eventDate": "2027-01-01T00:00:00Z"}]}"#;
        assert_eq!(registration_date(none.as_bytes()).unwrap(), None);
        assert_eq!(registration_date(br#"{"errorCode": 404}"#).unwrap(), None);
        let garbled = r#"{"events": [{"eventAction": "registration", "eventDate": "yesterday"}]}"#;
        assert_eq!(registration_date(garbled.as_bytes()).unwrap(), None);
        assert_eq!(registration_date(b"not json"), Err(RdapError::NotRdap));
    }
}
