//! The webhook MAC: `X-ZEvent-Signature: mac=<hex>`, hex = SHA-256(app_id + raw body + timestamp + OA secret key).
//! A plain SHA-256 of the concatenation (not HMAC), computed over the exact bytes received. Pure, no IO.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const HEADER: &str = "x-zevent-signature";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-ZEvent-Signature header")]
    Missing,
    #[error("malformed X-ZEvent-Signature header")]
    Malformed,
    #[error("the event has no timestamp to verify against")]
    NoTimestamp,
    #[error("signature does not match")]
    Mismatch,
}

/// The 32-byte digest Zalo signs with.
pub fn digest(app_id: &str, body: &[u8], timestamp: &str, oa_secret_key: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(app_id.as_bytes());
    hasher.update(body);
    hasher.update(timestamp.as_bytes());
    hasher.update(oa_secret_key.as_bytes());
    hasher.finalize().into()
}

/// The header value Zalo would send for this body (used by the `chat` command and tests).
pub fn header_value(app_id: &str, body: &[u8], timestamp: &str, oa_secret_key: &str) -> String {
    format!(
        "mac={}",
        hex::encode(digest(app_id, body, timestamp, oa_secret_key))
    )
}

/// Verifies a header value in constant time. Accepts the value with or without the `mac=` prefix and in
/// either hex case.
pub fn verify(
    header: Option<&str>,
    app_id: &str,
    body: &[u8],
    timestamp: Option<&str>,
    oa_secret_key: &str,
) -> Result<(), SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)?;
    let hex_part = header.strip_prefix("mac=").unwrap_or(header);
    let mut given = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut given).map_err(|_| SignatureError::Malformed)?;
    let timestamp = timestamp.ok_or(SignatureError::NoTimestamp)?;
    let expected = digest(app_id, body, timestamp, oa_secret_key);
    if bool::from(expected.ct_eq(&given)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] =
        br#"{"app_id":"1","event_name":"user_send_text","timestamp":"1699003881354"}"#;

    #[test]
    fn known_vector() {
        // sha256("1" + BODY + "1699003881354" + "key"), computed independently with `sha256sum`.
        let mut input = b"1".to_vec();
        input.extend_from_slice(BODY);
        input.extend_from_slice(b"1699003881354key");
        let expected = hex::encode(Sha256::digest(&input));
        assert_eq!(
            header_value("1", BODY, "1699003881354", "key"),
            format!("mac={expected}")
        );
    }

    #[test]
    fn verifies_good_and_rejects_bad() {
        let good = header_value("1", BODY, "1699003881354", "key");
        assert_eq!(
            verify(Some(&good), "1", BODY, Some("1699003881354"), "key"),
            Ok(())
        );
        let bare = good.trim_start_matches("mac=").to_uppercase();
        assert_eq!(
            verify(Some(&bare), "1", BODY, Some("1699003881354"), "key"),
            Ok(())
        );
        assert_eq!(
            verify(None, "1", BODY, Some("1"), "key"),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(Some("mac=abc"), "1", BODY, Some("1"), "key"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&good), "1", BODY, Some("1699003881355"), "key"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&good), "1", BODY, Some("1699003881354"), "other"),
            Err(SignatureError::Mismatch)
        );
        let mut tampered = BODY.to_vec();
        tampered[3] = b'x';
        assert_eq!(
            verify(Some(&good), "1", &tampered, Some("1699003881354"), "key"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&good), "1", BODY, None, "key"),
            Err(SignatureError::NoTimestamp)
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// The verdict the rule in [`verify`]'s doc gives for `header` (timestamp present).
    fn expected(header: &str, mac: &[u8; 32]) -> Result<(), SignatureError> {
        let trimmed = header.trim();
        if trimmed.is_empty() {
            return Err(SignatureError::Missing);
        }
        match hex::decode(trimmed.strip_prefix("mac=").unwrap_or(trimmed)) {
            Ok(bytes) if bytes.len() == 32 && bytes == mac => Ok(()),
            Ok(bytes) if bytes.len() == 32 => Err(SignatureError::Mismatch),
            _ => Err(SignatureError::Malformed),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn what_is_signed_verifies_in_every_accepted_spelling(
            app_id in "\\PC{0,12}",
            body in proptest::collection::vec(any::<u8>(), 0..200),
            timestamp in "[0-9]{0,13}|\\PC{0,8}",
            key in "\\PC{0,16}",
            pad in "[ \t\r\n]{0,3}",
        ) {
            let header = header_value(&app_id, &body, &timestamp, &key);
            let bare = header.strip_prefix("mac=").unwrap();
            prop_assert_eq!(bare, hex::encode(digest(&app_id, &body, &timestamp, &key)));
            for good in [
                header.clone(),
                bare.to_uppercase(),
                format!("{pad}mac={}{pad}", bare.to_uppercase()),
            ] {
                prop_assert_eq!(verify(Some(&good), &app_id, &body, Some(&timestamp), &key), Ok(()));
            }
            prop_assert_eq!(
                verify(Some(&header), &app_id, &body, None, &key),
                Err(SignatureError::NoTimestamp)
            );
        }

        #[test]
        fn any_one_byte_change_to_body_or_mac_is_refused(
            body in proptest::collection::vec(any::<u8>(), 1..200),
            at in any::<proptest::sample::Index>(),
            flip in 1u8..,
            mac_at in 0usize..64,
            mac_to in any::<char>(),
        ) {
            let header = header_value("1", &body, "1699003881354", "key");
            let mut tampered = body.clone();
            tampered[at.index(body.len())] ^= flip;
            prop_assert_eq!(
                verify(Some(&header), "1", &tampered, Some("1699003881354"), "key"),
                Err(SignatureError::Mismatch)
            );
            let original = header.as_bytes()["mac=".len() + mac_at] as char;
            let changed: String = header
                .chars()
                .enumerate()
                .map(|(i, c)| if i == "mac=".len() + mac_at { mac_to } else { c })
                .collect();
            let want = match (mac_to.is_ascii_hexdigit(), mac_to.to_digit(16) == original.to_digit(16)) {
                (true, true) => Ok(()),
                (true, false) => Err(SignatureError::Mismatch),
                (false, _) => Err(SignatureError::Malformed),
            };
            prop_assert_eq!(verify(Some(&changed), "1", &body, Some("1699003881354"), "key"), want);
        }

        #[test]
        fn garbage_headers_get_the_documented_verdict(
            header in "(mac=)?[0-9a-fA-F]{0,70}|[ \t]*(mac=)?[0-9a-f]{64}[ \tx]*|\\PC{0,80}",
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mac = digest("1", &body, "2", "key");
            prop_assert_eq!(verify(Some(&header), "1", &body, Some("2"), "key"), expected(&header, &mac));
            let right = header_value("1", &body, "2", "key");
            prop_assert_eq!(verify(Some(&right), "1", &body, Some("2"), "key"), expected(&right, &mac));
            let no_timestamp = verify(Some(&header), "1", &body, None, "key");
            prop_assert!(no_timestamp.is_err() && no_timestamp != Err(SignatureError::Mismatch));
        }
    }
}
