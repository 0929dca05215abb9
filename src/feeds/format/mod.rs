//! One parser per feed format, each reading the body as it streams in (any `Read`: the download, or a
//! gzip decoder over it) into [`FeedEntries`]. Pure: no IO of their own.

mod json;
mod lines;
mod ours;
mod phishtank;
mod urlhaus;

use std::io::{BufRead, BufReader, Read};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::entries::{FeedDefaults, FeedEntries};
use crate::config::FeedFormat;

/// A body that cannot be read as its format at all (rows that cannot be read are only counted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

/// Parses a whole feed body of `format`.
pub fn parse(
    format: FeedFormat,
    reader: impl Read,
    defaults: &FeedDefaults,
) -> Result<FeedEntries, FormatError> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut entries = FeedEntries::new();
    match format {
        FeedFormat::Domains => lines::domains(&mut reader, defaults, &mut entries)?,
        FeedFormat::Hosts => lines::hosts(&mut reader, defaults, &mut entries)?,
        FeedFormat::OpenphishTxt => lines::urls(&mut reader, defaults, &mut entries)?,
        FeedFormat::UrlhausCsv => urlhaus::parse(&mut reader, defaults, &mut entries)?,
        FeedFormat::PhishtankCsv => phishtank::csv(&mut reader, defaults, &mut entries)?,
        FeedFormat::PhishtankJson => phishtank::json(&mut reader, defaults, &mut entries)?,
        FeedFormat::Csv => ours::parse(&mut reader, defaults, &mut entries)?,
    }
    Ok(entries)
}

/// Reads one line (without its end) into `line`, replacing invalid UTF-8; `false` at the end.
fn next_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    line: &mut String,
) -> Result<bool, FormatError> {
    buf.clear();
    line.clear();
    let n = reader
        .read_until(b'\n', buf)
        .map_err(|e| FormatError(format!("reading the body: {e}")))?;
    if n == 0 {
        return Ok(false);
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    line.push_str(&String::from_utf8_lossy(buf));
    Ok(true)
}

/// The first byte that is not white space (or a byte-order mark), without consuming it.
fn first_byte(reader: &mut impl BufRead) -> Result<Option<u8>, FormatError> {
    loop {
        let buf = reader
            .fill_buf()
            .map_err(|e| FormatError(format!("reading the body: {e}")))?;
        if buf.is_empty() {
            return Ok(None);
        }
        let skip = buf
            .iter()
            .take_while(|b| b.is_ascii_whitespace() || matches!(b, 0xEF | 0xBB | 0xBF))
            .count();
        if skip < buf.len() {
            let first = buf[skip];
            reader.consume(skip);
            return Ok(Some(first));
        }
        let n = buf.len();
        reader.consume(n);
    }
}

/// A feed's date: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or `YYYY-MM-DD`.
fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|d| d.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_feeds_shapes() {
        for text in [
            "2026-12-07T10:00:00+00:00",
            "2026-12-07 10:00:00",
            "2026-12-07T17:00:00+07:00",
        ] {
            assert_eq!(
                parse_date(text).unwrap().to_rfc3339(),
                "2026-12-07T10:00:00+00:00",
                "{text}"
            );
        }
        assert!(parse_date("yesterday").is_none());
    }

    #[test]
    fn the_first_byte_skips_space_and_a_byte_order_mark() {
        let mut reader = BufReader::new("\u{FEFF}  \n[1]".as_bytes());
        assert_eq!(first_byte(&mut reader).unwrap(), Some(b'['));
        let mut empty = BufReader::new("  \n".as_bytes());
        assert_eq!(first_byte(&mut empty).unwrap(), None);
    }
}
