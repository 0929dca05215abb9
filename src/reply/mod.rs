//! User-facing reply text: Vietnamese templates and splitting long replies
//! into messages that fit the platform's length limit.

pub mod split;
pub mod templates;

/// Masks every run of 6 or more digits except its last 3 (`+84912345678` → `+84******678`), for text that
/// may end up in logs. Pure.
pub fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 6 {
            let keep = digits.len() - 3;
            out.extend(std::iter::repeat_n('*', keep));
            out.push_str(&digits[keep..]);
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::mask_numbers;

    #[test]
    fn long_digit_runs_are_masked() {
        assert_eq!(mask_numbers("gọi +84912345678 nhé"), "gọi +********678 nhé");
        assert_eq!(mask_numbers("STK 190366888888."), "STK *********888.");
        assert_eq!(
            mask_numbers("lúc 10:30 ngày 12/05, mã 12345"),
            "lúc 10:30 ngày 12/05, mã 12345"
        );
    }
}
