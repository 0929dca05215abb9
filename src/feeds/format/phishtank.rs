//! PhishTank's `online-valid` dumps: CSV (`phish_id,url,phish_detail_url,submission_time,verified,
//! verification_time,online,target`) and JSON (an array of objects with the same names).

use std::io::BufRead;

use super::super::entries::{FeedDefaults, FeedEntries};
use super::{FormatError, json, parse_date};

pub(super) fn csv(
    reader: &mut impl BufRead,
    defaults: &FeedDefaults,
    entries: &mut FeedEntries,
) -> Result<(), FormatError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| FormatError(format!("cannot read the CSV header: {e}")))?
        .clone();
    let at = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let url_at =
        at("url").ok_or_else(|| FormatError("the CSV header has no `url` column".into()))?;
    let (submitted_at, verified_at, verification_at) = (
        at("submission_time"),
        at("verified"),
        at("verification_time"),
    );
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let field = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim);
                if field(verified_at).is_some_and(|v| v.eq_ignore_ascii_case("no")) {
                    continue;
                }
                let at = field(verification_at)
                    .and_then(parse_date)
                    .or_else(|| field(submitted_at).and_then(parse_date));
                let url = record.get(url_at).unwrap_or("").to_string();
                entries.push_link(defaults, line, &url, at, None);
            }
            Err(e) if e.is_io_error() => {
                return Err(FormatError(format!("reading the body: {e}")));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                entries.bad(line, format!("unreadable row: {e}"));
            }
        }
    }
}

pub(super) fn json(
    reader: &mut impl BufRead,
    defaults: &FeedDefaults,
    entries: &mut FeedEntries,
) -> Result<(), FormatError> {
    json::each_item(reader, |index, item| {
        let text = |name: &str| item.get(name).and_then(serde_json::Value::as_str);
        if text("verified").is_some_and(|v| v.eq_ignore_ascii_case("no")) {
            return;
        }
        let Some(url) = text("url") else {
            entries.bad(index, format!("item {index} has no url"));
            return;
        };
        let at = text("verification_time")
            .and_then(parse_date)
            .or_else(|| text("submission_time").and_then(parse_date));
        entries.push_link(defaults, index, url, at, None);
    })
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use super::*;

    fn defaults() -> FeedDefaults {
        FeedDefaults {
            source: "phishtank".into(),
            category: "c".into(),
            verified: true,
        }
    }

    #[test]
    fn the_csv_dump() {
        let text = "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n\
8000001,https://vcb-login.example/x,http://www.phishtank.com/phish_detail.php?phish_id=8000001,2026-12-06T01:00:00+00:00,yes,2026-12-06T02:00:00+00:00,yes,Other\n\
8000002,%%%,u,2026-12-06T01:00:00+00:00,yes,,yes,Other\n\
8000003,https://no.example/,u,2026-12-06T01:00:00+00:00,no,,yes,Other\n";
        let mut entries = FeedEntries::new();
        csv(
            &mut BufReader::new(text.as_bytes()),
            &defaults(),
            &mut entries,
        )
        .unwrap();
        assert_eq!(entries.records.len(), 1, "{:?}", entries.bad_lines);
        assert_eq!(entries.records[0].value, "vcb-login.example");
        assert_eq!(
            entries.records[0].last_reported.unwrap().to_rfc3339(),
            "2026-12-06T02:00:00+00:00"
        );
        assert_eq!(entries.bad_rows, 1);
        let err = csv(
            &mut BufReader::new("a,b\n1,2\n".as_bytes()),
            &defaults(),
            &mut FeedEntries::new(),
        );
        assert!(err.is_err());
    }

    #[test]
    fn the_json_dump() {
        let text = r#"[{"phish_id":"1","url":"https://acb-verify.example/","submission_time":"2026-12-05T00:00:00+00:00","verified":"yes"},{"phish_id":"2"},{"url":"https://n.example/","verified":"no"}]"#;
        let mut entries = FeedEntries::new();
        json(
            &mut BufReader::new(text.as_bytes()),
            &defaults(),
            &mut entries,
        )
        .unwrap();
        assert_eq!(entries.records.len(), 1);
        assert_eq!(entries.records[0].value, "acb-verify.example");
        assert_eq!(entries.bad_line_numbers(), [2]);
    }
}
