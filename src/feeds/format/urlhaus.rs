//! abuse.ch URLhaus CSV. The header is the last `#` comment before the data
//! (`# id,dateadded,url,url_status,…`; the country feeds: `# Dateadded (UTC),URL,URL_status,Threat,…`).

use std::io::{BufRead, Cursor, Read};

use super::super::entries::{FeedDefaults, FeedEntries};
use super::{FormatError, next_line, parse_date};

/// Where the URL and its date are, by the header's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    url: usize,
    date: Option<usize>,
}

/// `csv_recent` and `csv_online` without a readable header.
const DEFAULT_COLUMNS: Columns = Columns {
    url: 2,
    date: Some(1),
};

fn columns(header: &str) -> Option<Columns> {
    let names: Vec<String> = header
        .trim_start_matches('#')
        .split(',')
        .map(|n| {
            let n = n.trim().trim_matches('"').to_ascii_lowercase();
            n.split(" (").next().unwrap_or("").to_string()
        })
        .collect();
    let at = |name: &str| names.iter().position(|n| n == name);
    Some(Columns {
        url: at("url")?,
        date: at("dateadded"),
    })
}

pub(super) fn parse(
    reader: &mut impl BufRead,
    defaults: &FeedDefaults,
    entries: &mut FeedEntries,
) -> Result<(), FormatError> {
    let (mut buf, mut line) = (Vec::new(), String::new());
    let mut cols = DEFAULT_COLUMNS;
    let mut skipped = 0u64;
    let first_data = loop {
        if !next_line(reader, &mut buf, &mut line)? {
            return Ok(());
        }
        skipped += 1;
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            if let Some(found) = columns(trimmed).filter(|_| trimmed.contains(',')) {
                cols = found;
            }
            continue;
        }
        if !trimmed.is_empty() {
            break std::mem::take(&mut buf);
        }
    };
    let mut first = first_data;
    first.push(b'\n');
    let rest = Cursor::new(first).chain(reader);
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(rest);
    let mut record = csv::StringRecord::new();
    loop {
        let read = csv.read_record(&mut record);
        let line_no = skipped - 1 + record.position().map_or(1, |p| p.line());
        match read {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let Some(url) = record.get(cols.url).map(str::trim) else {
                    entries.bad(line_no, "no url column");
                    continue;
                };
                let at = cols.date.and_then(|d| record.get(d)).and_then(parse_date);
                entries.push_link(defaults, line_no, url, at, None);
            }
            Err(e) if e.is_io_error() => {
                return Err(FormatError(format!("reading the body: {e}")));
            }
            Err(e) => {
                let line = e.position().map_or(line_no, |p| skipped - 1 + p.line());
                entries.bad(line, format!("unreadable row: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use super::*;

    fn defaults() -> FeedDefaults {
        FeedDefaults {
            source: "urlhaus_recent".into(),
            category: "trang phát tán mã độc".into(),
            verified: true,
        }
    }

    #[test]
    fn the_recent_feed_with_its_comment_header() {
        let text = "################################################################\n\
# abuse.ch URLhaus Database Dump (CSV - recent URLs)             #\n\
################################################################\n\
#\n\
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n\
\"3412345\",\"2026-12-07 10:00:00\",\"http://evil-dl.example/a.exe\",\"online\",\"2026-12-07 10:00:00\",\"malware_download\",\"exe\",\"https://urlhaus.abuse.ch/url/3412345/\",\"anon\"\n\
\"3412346\",\"2026-12-06 09:00:00\",\"https://github.com/x/y/raw/b.exe\",\"online\",\"\",\"malware_download\",\"\",\"\",\"anon\"\n\
\"3412347\",\"2026-12-06 09:00:00\",\"%%%\",\"online\",\"\",\"malware_download\",\"\",\"\",\"anon\"\n\
\"3412348\",\"2026-12-05 08:00:00\",\"http://103.9.8.7:4000/i\",\"offline\",\"\",\"malware_download\",\"\",\"\",\"anon\"\n";
        let mut entries = FeedEntries::new();
        parse(
            &mut BufReader::new(text.as_bytes()),
            &defaults(),
            &mut entries,
        )
        .unwrap();
        let values: Vec<&str> = entries.records.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(values, ["evil-dl.example", "103.9.8.7"]);
        assert_eq!(
            entries.records[0].last_reported.unwrap().to_rfc3339(),
            "2026-12-07T10:00:00+00:00"
        );
        assert_eq!(entries.shared_host_rows, 1);
        assert_eq!(entries.bad_line_numbers(), [8]);
    }

    #[test]
    fn the_country_feed_names_its_columns_differently() {
        let text = "# URLhaus country feed VN\n\
# Dateadded (UTC),URL,URL_status,Threat,Host,IPaddress,ASnumber,Country\n\
\"2026-12-01 01:02:03\",\"http://vn-mal.example/x\",\"online\",\"malware_download\",\"vn-mal.example\",\"1.2.3.4\",\"7552\",\"VN\"\n";
        let mut entries = FeedEntries::new();
        parse(
            &mut BufReader::new(text.as_bytes()),
            &defaults(),
            &mut entries,
        )
        .unwrap();
        assert_eq!(entries.records[0].value, "vn-mal.example");
        assert_eq!(
            entries.records[0].first_reported.unwrap().to_rfc3339(),
            "2026-12-01T01:02:03+00:00"
        );
    }
}
