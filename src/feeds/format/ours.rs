//! Our own import CSV as a feed: every row is stored under the feed's name, whatever its `source` says, so
//! the feed's next snapshot can replace it.

use std::io::BufRead;

use super::super::entries::{FeedDefaults, FeedEntries};
use super::FormatError;
use crate::scam::import::parse_csv;

pub(super) fn parse(
    reader: &mut impl BufRead,
    defaults: &FeedDefaults,
    entries: &mut FeedEntries,
) -> Result<(), FormatError> {
    let parsed = parse_csv(reader).map_err(FormatError)?;
    for bad in parsed.bad_lines {
        entries.bad(bad.line, bad.reason);
    }
    for mut record in parsed.records {
        record.source.clone_from(&defaults.source);
        if record.category.is_empty() {
            record.category.clone_from(&defaults.category);
        }
        record.verified |= defaults.verified;
        entries.push(record);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use super::*;
    use crate::scam::EntityKind;

    #[test]
    fn rows_are_stored_under_the_feed() {
        let text = "kind,value,category,report_count,source\n\
phone,0912.345.678,,3,someone\n\
domain,evil.example,giả danh,1,x\n\
fax,1,x,1,y\n";
        let defaults = FeedDefaults {
            source: "local".into(),
            category: "lừa đảo".into(),
            verified: true,
        };
        let mut entries = FeedEntries::new();
        parse(
            &mut BufReader::new(text.as_bytes()),
            &defaults,
            &mut entries,
        )
        .unwrap();
        assert_eq!(entries.records.len(), 2);
        assert!(
            entries
                .records
                .iter()
                .all(|r| r.source == "local" && r.verified)
        );
        assert_eq!(entries.records[0].kind, EntityKind::Phone);
        assert_eq!(entries.records[0].category, "lừa đảo");
        assert_eq!(entries.records[1].category, "giả danh");
        assert_eq!(entries.bad_line_numbers(), [4]);
    }
}
