//! A JSON array read one item at a time, so a large feed is never held as one document.

use std::fmt;
use std::io::Read;

use serde::de::{Deserializer, SeqAccess, Visitor};

use super::FormatError;

/// Calls `f` with each item's 1-based position and the item, reading the array as it streams.
pub(super) fn each_item(
    reader: impl Read,
    f: impl FnMut(u64, serde_json::Value),
) -> Result<(), FormatError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    de.deserialize_seq(Items(f))
        .map_err(|e| FormatError(format!("invalid JSON at line {}: {e}", e.line())))
}

struct Items<F>(F);

impl<'de, F: FnMut(u64, serde_json::Value)> Visitor<'de> for Items<F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while let Some(item) = seq.next_element::<serde_json::Value>()? {
            index += 1;
            (self.0)(index, item);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_arrive_in_order_and_a_broken_document_is_an_error() {
        let mut seen = Vec::new();
        each_item(r#"[1, "a", {"b": 2}]"#.as_bytes(), |i, v| seen.push((i, v))).unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2].0, 3);
        let err = each_item("[1, 2".as_bytes(), |_, _| {}).unwrap_err();
        assert!(err.0.contains("invalid JSON"), "{err}");
        assert!(each_item(r#"{"a":1}"#.as_bytes(), |_, _| {}).is_err());
    }
}
