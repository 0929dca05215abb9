//! Finding the next interesting byte of a message. Several passes look for rare bytes (digits, dots,
//! brackets) in every message; testing a whole block at a time, with no branch per byte, lets the
//! compiler use vector instructions for the stretches in between. Pure.

/// Bytes tested per block.
const BLOCK: usize = 16;

/// The offset of the first byte at or after `from` for which `wanted` holds.
#[inline]
pub(crate) fn position_from(
    bytes: &[u8],
    from: usize,
    wanted: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut at = from;
    while let Some(block) = bytes.get(at..).and_then(<[u8]>::first_chunk::<BLOCK>) {
        // Or-ing bytes rather than bools keeps the test branch-free, so it compiles to vector compares.
        if block.iter().fold(0u8, |any, &b| any | u8::from(wanted(b))) != 0 {
            break;
        }
        at += BLOCK;
    }
    bytes
        .get(at..)?
        .iter()
        .position(|&b| wanted(b))
        .map(|offset| at + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_wanted_byte_in_and_after_whole_blocks() {
        let text = "a".repeat(40) + "1" + &"b".repeat(20) + "2";
        let bytes = text.as_bytes();
        let digit = |b: u8| b.is_ascii_digit();
        assert_eq!(position_from(bytes, 0, digit), Some(40));
        assert_eq!(position_from(bytes, 40, digit), Some(40));
        assert_eq!(position_from(bytes, 41, digit), Some(61));
        assert_eq!(position_from(bytes, 62, digit), None);
        assert_eq!(position_from(bytes, 100, digit), None);
        for from in 0..bytes.len() {
            let expected = bytes[from..]
                .iter()
                .position(|&b| digit(b))
                .map(|i| from + i);
            assert_eq!(position_from(bytes, from, digit), expected, "from {from}");
        }
    }
}
