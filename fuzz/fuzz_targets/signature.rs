//! The webhook MAC: what `header_value` signs `verify` accepts (in every accepted spelling), any one-byte
//! change to the body or to the MAC is refused, and garbage headers are classified, never a panic.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tradesphere::zalo::signature::{SignatureError, digest, header_value, verify};

#[derive(Arbitrary, Debug)]
struct Input {
    app_id: String,
    body: Vec<u8>,
    timestamp: String,
    key: String,
    /// An arbitrary header value, checked against an independent statement of the rule.
    garbage: String,
    flip_at: usize,
    flip_xor: u8,
    mac_at: u8,
    mac_to: char,
    padding: u8,
}

fuzz_target!(|input: Input| {
    let Input {
        app_id,
        body,
        timestamp,
        key,
        garbage,
        flip_at,
        flip_xor,
        mac_at,
        mac_to,
        padding,
    } = input;
    let check =
        |header: &str, body: &[u8]| verify(Some(header), &app_id, body, Some(&timestamp), &key);

    let mac = digest(&app_id, &body, &timestamp, &key);
    assert_eq!(mac, digest(&app_id, &body, &timestamp, &key));
    let header = header_value(&app_id, &body, &timestamp, &key);
    assert_eq!(header, format!("mac={}", hex::encode(mac)));

    // Every accepted spelling of the right MAC verifies.
    let bare = &header["mac=".len()..];
    let pad: String = [" ", "\t", "\n", "\r\n"]
        .iter()
        .cycle()
        .skip(usize::from(padding % 4))
        .take(usize::from(padding % 3))
        .copied()
        .collect();
    for good in [
        header.clone(),
        bare.to_string(),
        bare.to_uppercase(),
        format!("mac={}", bare.to_uppercase()),
        format!("{pad}{header}{pad}"),
    ] {
        assert_eq!(check(&good, &body), Ok(()), "{good:?} refused");
    }
    assert_eq!(
        verify(Some(&header), &app_id, &body, None, &key),
        Err(SignatureError::NoTimestamp)
    );
    assert_eq!(
        verify(None, &app_id, &body, Some(&timestamp), &key),
        Err(SignatureError::Missing)
    );

    // One changed body byte: refused.
    if !body.is_empty() {
        let mut tampered = body.clone();
        tampered[flip_at % body.len()] ^= flip_xor.max(1);
        assert_eq!(check(&header, &tampered), Err(SignatureError::Mismatch));
    }

    // One changed MAC character: refused, as a mismatch (another hex digit) or as malformed (anything else).
    let at = usize::from(mac_at) % bare.len();
    let original = bare.as_bytes()[at] as char;
    let changed: String = bare
        .chars()
        .enumerate()
        .map(|(i, c)| if i == at { mac_to } else { c })
        .collect();
    let expected = match mac_to.to_digit(16) {
        Some(d) if mac_to.is_ascii() && Some(d) == original.to_digit(16) => Ok(()),
        Some(_) if mac_to.is_ascii() => Err(SignatureError::Mismatch),
        _ => Err(SignatureError::Malformed),
    };
    assert_eq!(check(&changed, &body), expected, "{changed:?}");
    assert_eq!(check(&format!("mac={changed}"), &body), expected);

    // Any header: the result follows the documented rule exactly.
    let trimmed = garbage.trim();
    let hex_part = trimmed.strip_prefix("mac=").unwrap_or(trimmed);
    let expected = if trimmed.is_empty() {
        Err(SignatureError::Missing)
    } else {
        match hex::decode(hex_part) {
            Ok(bytes) if bytes.len() == 32 && bytes == mac => Ok(()),
            Ok(bytes) if bytes.len() == 32 => Err(SignatureError::Mismatch),
            _ => Err(SignatureError::Malformed),
        }
    };
    assert_eq!(check(&garbage, &body), expected, "{garbage:?}");
    let without_timestamp = verify(Some(&garbage), &app_id, &body, None, &key);
    assert!(
        without_timestamp.is_err() && without_timestamp != Err(SignatureError::Mismatch),
        "{without_timestamp:?}"
    );
});
