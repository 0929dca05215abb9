//! The scam extractor on arbitrary text: no panic, every span is a non-empty slice of the input on char
//! boundaries with `raw == &input[span]`, values have their documented shape, entities are unique by
//! (kind, value) and in order of appearance, and extraction is deterministic.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use tradesphere::scam::EntityKind;
use tradesphere::scam::extract::extract;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let entities = extract(&text);
    assert_eq!(entities, extract(&text), "extract is not deterministic");
    let mut seen = HashSet::new();
    let mut previous_start = 0;
    for entity in &entities {
        let span = entity.span.clone();
        assert!(
            span.start < span.end && span.end <= text.len(),
            "{entity:?}"
        );
        assert!(
            text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
            "{entity:?}"
        );
        assert_eq!(entity.raw, text[span.clone()], "{entity:?}");
        assert!(span.start >= previous_start, "out of order: {entities:?}");
        previous_start = span.start;
        assert!(
            seen.insert((entity.kind, entity.value.clone())),
            "duplicate: {entities:?}"
        );
        let value = entity.value.as_str();
        let shape_ok = match entity.kind {
            EntityKind::Phone => value
                .strip_prefix('+')
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())),
            EntityKind::BankAccount => {
                !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
            }
            EntityKind::Domain => {
                value.contains('.')
                    && value.bytes().all(|b| {
                        b.is_ascii_graphic() && !b.is_ascii_uppercase() && !b"/:?#@".contains(&b)
                    })
            }
        };
        assert!(shape_ok, "bad value: {entity:?}");
    }
});
