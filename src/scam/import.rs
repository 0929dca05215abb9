//! Parsing report lists for import: a domain list (one per line, `#` comments, or chongluadao's JSON
//! `[{"url": …}]`) and a CSV with header `kind,value,category,report_count,source`. Values may be written in any
//! shape; they are normalised exactly as the extractor normalises text. Bad rows are reported with their line
//! number and skipped; nothing else is lost. Pure: the caller does the reading and the writing.

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};

use super::entity::EntityKind;
use super::extract::normalize_value;

/// One report to insert or refresh, keyed by (kind, value, source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    pub kind: EntityKind,
    pub value: String,
    pub category: String,
    pub source: String,
    pub report_count: i64,
    pub verified: bool,
    pub bank_bin: Option<String>,
    /// When the source first and last saw it; the import time when the source does not say.
    pub first_reported: Option<DateTime<Utc>>,
    pub last_reported: Option<DateTime<Utc>>,
}

/// A line that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub reason: String,
}

/// Parsed records (deduplicated by kind, value and source; the last row wins) and the rejected lines.
#[derive(Debug, Default)]
pub struct Parsed {
    pub records: Vec<NewReport>,
    pub bad_lines: Vec<BadLine>,
}

impl Parsed {
    fn push(&mut self, record: NewReport, seen: &mut HashMap<(EntityKind, String, String), usize>) {
        let key = (record.kind, record.value.clone(), record.source.clone());
        match seen.get(&key) {
            Some(&at) => self.records[at] = record,
            None => {
                seen.insert(key, self.records.len());
                self.records.push(record);
            }
        }
    }
}

/// What every entry of a domain list is stored as.
#[derive(Debug, Clone)]
pub struct ListDefaults {
    pub source: String,
    pub category: String,
    /// The list is moderated (chongluadao's is), so its entries count as verified.
    pub verified: bool,
}

/// A domain list: one domain or URL per line (`#` comments, blank lines and `*.`/`/*` wildcards allowed),
/// or a JSON array of `{"url": …}` objects or strings.
#[must_use]
pub fn parse_domain_list(text: &str, defaults: &ListDefaults) -> Parsed {
    let mut parsed = Parsed::default();
    let mut seen = HashMap::new();
    let record = |value: String| NewReport {
        kind: EntityKind::Domain,
        value,
        category: defaults.category.clone(),
        source: defaults.source.clone(),
        report_count: 1,
        verified: defaults.verified,
        bank_bin: None,
        first_reported: None,
        last_reported: None,
    };
    if text.trim_start().starts_with('[') {
        match serde_json::from_str::<Vec<serde_json::Value>>(text) {
            Ok(items) => {
                for (index, item) in items.iter().enumerate() {
                    let raw = item
                        .get("url")
                        .and_then(serde_json::Value::as_str)
                        .or_else(|| item.as_str());
                    match raw.and_then(|raw| normalize_value(EntityKind::Domain, raw)) {
                        Some(value) => parsed.push(record(value), &mut seen),
                        None => parsed.bad_lines.push(BadLine {
                            line: index as u64 + 1,
                            reason: format!("item {} is not a domain", index + 1),
                        }),
                    }
                }
            }
            Err(e) => parsed.bad_lines.push(BadLine {
                line: e.line() as u64,
                reason: format!("invalid JSON: {e}"),
            }),
        }
        return parsed;
    }
    for (index, line) in text.lines().enumerate() {
        let line_no = index as u64 + 1;
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        match normalize_value(EntityKind::Domain, entry) {
            Some(value) => parsed.push(record(value), &mut seen),
            None => parsed.bad_lines.push(BadLine {
                line: line_no,
                reason: format!("not a domain: {}", printable(entry)),
            }),
        }
    }
    parsed
}

/// Required CSV columns, in any order; `verified`, `bank_bin`, `first_reported` and `last_reported`
/// (`YYYY-MM-DD` or RFC 3339) are optional.
pub const CSV_COLUMNS: [&str; 5] = ["kind", "value", "category", "report_count", "source"];

/// A CSV report list. `Err` only when the header lacks a required column.
pub fn parse_csv(reader: impl Read) -> Result<Parsed, String> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{FEFF}').eq_ignore_ascii_case(name))
    };
    let mut required = [0usize; 5];
    for (slot, name) in required.iter_mut().zip(CSV_COLUMNS) {
        *slot = column(name).ok_or_else(|| {
            format!(
                "the CSV header must have the columns {}; `{name}` is missing",
                CSV_COLUMNS.join(",")
            )
        })?;
    }
    let [kind_at, value_at, category_at, count_at, source_at] = required;
    let verified_at = column("verified");
    let bin_at = column("bank_bin");
    let first_at = column("first_reported");
    let last_at = column("last_reported");

    let mut parsed = Parsed::default();
    let mut seen = HashMap::new();
    for (index, row) in csv.records().enumerate() {
        // Line numbers count the header as line 1.
        let fallback_line = index as u64 + 2;
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                parsed.bad_lines.push(BadLine {
                    line: e.position().map_or(fallback_line, |p| p.line()),
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = row.position().map_or(fallback_line, |p| p.line());
        match csv_record(
            &row,
            [kind_at, value_at, category_at, count_at, source_at],
            verified_at,
            bin_at,
            first_at,
            last_at,
        ) {
            Ok(record) => parsed.push(record, &mut seen),
            Err(reason) => parsed.bad_lines.push(BadLine { line, reason }),
        }
    }
    Ok(parsed)
}

fn csv_record(
    row: &csv::StringRecord,
    [kind_at, value_at, category_at, count_at, source_at]: [usize; 5],
    verified_at: Option<usize>,
    bin_at: Option<usize>,
    first_at: Option<usize>,
    last_at: Option<usize>,
) -> Result<NewReport, String> {
    let field = |at: usize| row.get(at).unwrap_or("").trim();
    let optional = |at: Option<usize>| at.map(field).filter(|v| !v.is_empty());
    let kind_text = field(kind_at);
    let kind = EntityKind::parse(kind_text).ok_or_else(|| {
        format!(
            "unknown kind `{}` (phone, bank_account or domain)",
            printable(kind_text)
        )
    })?;
    let raw_value = field(value_at);
    let value = normalize_value(kind, raw_value)
        .ok_or_else(|| format!("not a valid {kind}: `{}`", printable(raw_value)))?;
    let source = field(source_at);
    if source.is_empty() {
        return Err("empty source".into());
    }
    let count_text = field(count_at);
    let report_count = if count_text.is_empty() {
        1
    } else {
        count_text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                format!(
                    "report_count `{}` is not a whole number ≥ 0",
                    printable(count_text)
                )
            })?
    };
    let verified = match optional(verified_at) {
        None => false,
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            other => return Err(format!("verified `{}` is not true/false", printable(other))),
        },
    };
    let bank_bin = match optional(bin_at) {
        None => None,
        Some(bin) if bin.len() == 6 && bin.bytes().all(|b| b.is_ascii_digit()) => {
            Some(bin.to_string())
        }
        Some(bin) => return Err(format!("bank_bin `{}` is not 6 digits", printable(bin))),
    };
    let date = |at: Option<usize>, name: &str| -> Result<Option<DateTime<Utc>>, String> {
        optional(at)
            .map(|text| {
                parse_date(text)
                    .ok_or_else(|| format!("{name} `{}` is not a date", printable(text)))
            })
            .transpose()
    };
    Ok(NewReport {
        kind,
        value,
        category: field(category_at).to_string(),
        source: source.to_string(),
        report_count,
        verified,
        bank_bin,
        first_reported: date(first_at, "first_reported")?,
        last_reported: date(last_at, "last_reported")?,
    })
}

fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

/// A value quoted in an error message: one line, at most 60 characters.
fn printable(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ListDefaults {
        ListDefaults {
            source: "chongluadao".into(),
            category: "trang web lừa đảo".into(),
            verified: true,
        }
    }

    #[test]
    fn domain_list_lines_comments_wildcards_and_bad_lines() {
        let text = "# header\n\nexample.com\n*.evil.xyz\nhttps://WWW.Phish.vn/login  # trailing\nnot a domain\nexample.com\n";
        let parsed = parse_domain_list(text, &defaults());
        let values: Vec<&str> = parsed.records.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(values, vec!["example.com", "evil.xyz", "phish.vn"]);
        assert!(
            parsed
                .records
                .iter()
                .all(|r| r.verified && r.source == "chongluadao")
        );
        assert_eq!(parsed.bad_lines.len(), 1);
        assert_eq!(parsed.bad_lines[0].line, 6);
    }

    #[test]
    fn chongluadao_json_is_accepted() {
        let parsed = parse_domain_list(
            r#"[{"url":"*.bad.com/*"},{"url":"good-luck.vn"},{"x":1}]"#,
            &defaults(),
        );
        let values: Vec<&str> = parsed.records.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(values, vec!["bad.com", "good-luck.vn"]);
        assert_eq!(parsed.bad_lines.len(), 1);
    }

    #[test]
    fn csv_values_are_normalised_and_bad_rows_named_by_line() {
        let csv = "kind,value,category,report_count,source\n\
                   phone,0912.345.678,lừa đảo,3,community\n\
                   bank_account,1903 6688 8888,lừa đảo,2,community\n\
                   domain,HTTPS://Evil.COM/x,phishing,1,feed\n\
                   phone,12345,x,1,community\n\
                   fax,1,x,1,community\n\
                   phone,0987654321,x,-4,community\n\
                   phone,0987654321,x,1,\n";
        let parsed = parse_csv(csv.as_bytes()).unwrap();
        let values: Vec<(EntityKind, &str)> = parsed
            .records
            .iter()
            .map(|r| (r.kind, r.value.as_str()))
            .collect();
        assert_eq!(
            values,
            vec![
                (EntityKind::Phone, "+84912345678"),
                (EntityKind::BankAccount, "190366888888"),
                (EntityKind::Domain, "evil.com"),
            ]
        );
        let lines: Vec<u64> = parsed.bad_lines.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![5, 6, 7, 8], "{:?}", parsed.bad_lines);
    }

    #[test]
    fn csv_optional_columns() {
        let csv = "value,kind,source,report_count,category,verified,bank_bin,first_reported,last_reported\n\
                   190366888888,bank_account,police,1,lừa đảo,true,970407,2026-01-02,2026-03-04T05:06:07Z\n";
        let parsed = parse_csv(csv.as_bytes()).unwrap();
        let record = &parsed.records[0];
        assert!(record.verified);
        assert_eq!(record.bank_bin.as_deref(), Some("970407"));
        assert_eq!(
            record.first_reported.unwrap().to_rfc3339(),
            "2026-01-02T00:00:00+00:00"
        );
        assert_eq!(
            record.last_reported.unwrap().to_rfc3339(),
            "2026-03-04T05:06:07+00:00"
        );
    }

    #[test]
    fn csv_without_required_columns_is_refused() {
        let error = parse_csv("kind,value\nphone,0912345678\n".as_bytes()).unwrap_err();
        assert!(error.contains("category"), "{error}");
    }
}
