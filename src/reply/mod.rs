//! User-facing reply text: Vietnamese templates and splitting long replies
//! into messages that fit the platform's length limit.

pub mod chain;
pub mod image;
pub mod moderation;
pub mod recovery;
pub mod split;
pub mod templates;
pub mod verdict;

/// Masks every number of 6 or more digits except its last 3 (`+84912345678` → `+84******678`), for text
/// that may end up in logs. Digits grouped by single spaces, dots or dashes count as one number
/// (`0912 345 678` → `**** *** 678`), since replies quote numbers as the user wrote them. Pure.
pub fn mask_numbers(text: &str) -> String {
    static NUMBER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[0-9](?:[ .\-]?[0-9])*").expect("number pattern is valid")
    });
    NUMBER
        .replace_all(text, |caps: &regex::Captures<'_>| {
            let number = &caps[0];
            let digits = number.bytes().filter(u8::is_ascii_digit).count();
            if digits < 6 {
                return number.to_string();
            }
            let mut hidden = digits - 3;
            number
                .chars()
                .map(|c| {
                    if c.is_ascii_digit() && hidden > 0 {
                        hidden -= 1;
                        '*'
                    } else {
                        c
                    }
                })
                .collect()
        })
        .into_owned()
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

    #[test]
    fn grouped_numbers_are_masked_keeping_their_shape() {
        assert_eq!(mask_numbers("gọi 0912 345 678 nhé"), "gọi **** *** 678 nhé");
        assert_eq!(mask_numbers("0912.345.678"), "****.***.678");
        assert_eq!(mask_numbers("STK 1903 6688 8888"), "STK **** **** *888");
        assert_eq!(mask_numbers("giá 50.000đ"), "giá 50.000đ");
    }
}
