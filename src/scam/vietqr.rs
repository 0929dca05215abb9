//! VietQR (EMVCo merchant-presented QR) payloads pasted as text: find them, check the CRC, and take the
//! beneficiary bank BIN and account.
//!
//! Layout: TLV fields `tag(2) len(2) value`; tag 38 holds `00=A000000727` (the NAPAS
//! GUID) and `01={00: BIN, 01: account}`; tag 63 is a CRC-16/CCITT-FALSE over everything before its value.

use std::ops::Range;

/// The NAPAS application id inside tag 38.
const NAPAS_GUID: &str = "A000000727";
/// Every EMV payload starts with the payload-format indicator `00 02 01`.
const PAYLOAD_START: &str = "000201";
/// Payloads longer than this are not QR codes (EMV caps them at 512 characters).
const MAX_PAYLOAD_CHARS: usize = 512;

/// The transfer target a valid payload names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrTransfer {
    pub bin: String,
    pub account: String,
    /// Byte range of the whole payload in the text searched.
    pub span: Range<usize>,
}

/// Every VietQR payload with a valid CRC and a NAPAS transfer target in `text`.
#[must_use]
pub fn find_payloads(text: &str) -> Vec<QrTransfer> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find(PAYLOAD_START) {
        let start = from + offset;
        match decode_at(text, start) {
            Some(transfer) => {
                from = transfer.span.end;
                found.push(transfer);
            }
            None => from = start + 1,
        }
    }
    found
}

/// Decodes the payload that starts at byte `start`, if it is a complete, CRC-valid VietQR transfer.
fn decode_at(text: &str, start: usize) -> Option<QrTransfer> {
    let payload = &text[start..];
    let mut cursor = 0;
    let mut merchant_account: Option<&str> = None;
    let mut consumed_chars = 0;
    loop {
        let (tag, value, next) = read_field(payload, cursor)?;
        consumed_chars += payload[cursor..next].chars().count();
        if consumed_chars > MAX_PAYLOAD_CHARS {
            return None;
        }
        match tag {
            "38" => merchant_account = Some(value),
            "63" => {
                // The CRC covers the payload up to and including "6304".
                let covered = &payload[..next - value.len()];
                if value.len() != 4 || !crc_matches(covered, value) {
                    return None;
                }
                let (bin, account) = napas_target(merchant_account?)?;
                return Some(QrTransfer {
                    bin,
                    account,
                    span: start..start + next,
                });
            }
            _ => {}
        }
        cursor = next;
    }
}

/// Reads one TLV field at byte `at`: `(tag, value, end)`. Lengths count characters.
fn read_field(payload: &str, at: usize) -> Option<(&str, &str, usize)> {
    let tag = payload.get(at..at + 2)?;
    let len = payload.get(at + 2..at + 4)?;
    if !tag.bytes().all(|b| b.is_ascii_digit()) || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: usize = len.parse().ok()?;
    let value_start = at + 4;
    let value_end = match payload[value_start..].char_indices().nth(len) {
        Some((offset, _)) => value_start + offset,
        None if payload[value_start..].chars().count() == len => payload.len(),
        None => return None,
    };
    Some((tag, &payload[value_start..value_end], value_end))
}

/// BIN and account from the value of tag 38.
fn napas_target(value: &str) -> Option<(String, String)> {
    let mut guid = None;
    let mut beneficiary = None;
    let mut cursor = 0;
    while cursor < value.len() {
        let (tag, field, next) = read_field(value, cursor)?;
        match tag {
            "00" => guid = Some(field),
            "01" => beneficiary = Some(field),
            _ => {}
        }
        cursor = next;
    }
    if !guid?.eq_ignore_ascii_case(NAPAS_GUID) {
        return None;
    }
    let beneficiary = beneficiary?;
    let (mut bin, mut account) = (None, None);
    let mut cursor = 0;
    while cursor < beneficiary.len() {
        let (tag, field, next) = read_field(beneficiary, cursor)?;
        match tag {
            "00" => bin = Some(field),
            "01" => account = Some(field),
            _ => {}
        }
        cursor = next;
    }
    let (bin, account) = (bin?, account?);
    let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (bin.len() == 6 && digits_only(bin) && digits_only(account) && account.len() <= 19)
        .then(|| (bin.to_string(), account.to_string()))
}

fn crc_matches(covered: &str, expected_hex: &str) -> bool {
    u16::from_str_radix(expected_hex, 16)
        .is_ok_and(|expected| crc16_ccitt_false(covered.as_bytes()) == expected)
}

/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR.
#[must_use]
pub fn crc16_ccitt_false(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From the subiz/vietqr README.
    const EXAMPLE: &str = "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN62170813ung ho lu lut6304C15C";

    #[test]
    fn crc_check_value() {
        // The standard check value of CRC-16/CCITT-FALSE.
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
    }

    #[test]
    fn decodes_the_reference_payload_inside_text() {
        let text = format!("QR của em nè: {EXAMPLE} chị quét giúp");
        let found = find_payloads(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].bin, "970415");
        assert_eq!(found[0].account, "0011001932418");
        assert_eq!(&text[found[0].span.clone()], EXAMPLE);
    }

    #[test]
    fn a_wrong_crc_or_truncated_payload_yields_nothing() {
        let corrupted = EXAMPLE.replace("C15C", "C15D");
        assert!(find_payloads(&corrupted).is_empty());
        assert!(find_payloads(&EXAMPLE[..EXAMPLE.len() - 3]).is_empty());
        assert!(find_payloads("000201").is_empty());
        assert!(find_payloads("0002019999").is_empty());
    }

    #[test]
    fn non_napas_payloads_are_ignored() {
        let body = "00020101021238280010A000000999011000069704150208QRIBFTTA6304";
        let payload = format!("{body}{:04X}", crc16_ccitt_false(body.as_bytes()));
        assert!(find_payloads(&payload).is_empty());
    }
}
