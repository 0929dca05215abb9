//! The reply splitter: parts are non-empty, trimmed, NFC and within the limit in chars; they keep all
//! non-whitespace content in order; text that fits stays one part; a part re-split is itself.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tradesphere::reply::split::split_message;
use unicode_normalization::UnicodeNormalization;

#[derive(Arbitrary, Debug)]
struct Input {
    max_chars: u8,
    text: String,
}

fuzz_target!(|input: Input| {
    let max = usize::from(input.max_chars);
    let limit = max.max(1);
    let parts = split_message(&input.text, max);
    assert_eq!(parts, split_message(&input.text, max), "not deterministic");
    let nfc: String = input.text.nfc().collect();
    for part in &parts {
        assert!(!part.is_empty(), "empty part: {parts:?}");
        assert_eq!(part.trim(), part, "untrimmed part: {parts:?}");
        assert!(part.chars().count() <= limit, "part over {limit}: {part:?}");
        assert!(part.nfc().eq(part.chars()), "part not NFC: {part:?}");
        assert_eq!(&split_message(part, max), std::slice::from_ref(part));
    }
    let non_whitespace = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    assert_eq!(
        non_whitespace(&parts.concat()),
        non_whitespace(&nfc),
        "content changed: {parts:?}"
    );
    let whole = nfc.trim();
    if whole.is_empty() {
        assert!(parts.is_empty());
    } else if whole.chars().count() <= limit {
        assert_eq!(parts, vec![whole.to_string()]);
    }
});
