//! Has the user already been harmed? "tôi lỡ chuyển khoản rồi", "bị lừa mất 20 triệu", "đọc mã OTP cho
//! họ rồi". Pure: reads the matchable words of one message.
//!
//! A harm is an act (a payment, or a secret handed over) that is done: a marker of completion before it
//! ("đã", "lỡ", "vừa", "trót") or "rồi" shortly after it, and no hedge right before it ("chưa", "không",
//! "định", "có nên"). A loss stated outright ("bị lừa mất", "mất hết tiền", "bị rút tiền") counts by
//! itself. Weak payment verbs ("thanh toán", "nạp", "đóng phí") count only next to words of fraud, so an
//! everyday "đã thanh toán hóa đơn" is not taken for a loss. An act whose subject is the reader of a
//! notice ("Quý khách đã chuyển khoản thành công") is not the user's.

use crate::scam::words::Words;

/// What the user says has already happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Harm {
    /// Money has left: transferred, paid, topped up, or taken.
    pub paid: bool,
    /// A one-time code, password or card details were given away, or a remote-control app installed.
    pub secret: bool,
}

impl Harm {
    fn any(self) -> bool {
        self.paid || self.secret
    }
}

/// Markers that the act is done: "đã", "lỡ", "vừa", "mới", "trót", "lại" ("lại chuyển thêm").
const DONE: &[&str] = &["da", "lo", "vua", "moi", "trot", "lai"];

/// Words right before an act that say it has not happened: "chưa", "không", "đừng", "định", "sắp",
/// "muốn", "nên", "cần", "phải" (someone demands it).
const HEDGES: &[&str] = &[
    "chua", "khong", "ko", "k", "kg", "hok", "dung", "chang", "dinh", "sap", "muon", "nen", "can",
    "phai", "bat", "yeu", "doi",
];

/// Payments that are about money by themselves.
const STRONG_PAY: &[&[&str]] = &[
    &["chuyen", "khoan"],
    &["chuyen", "tien"],
    &["ck"],
    &["ban", "tien"],
    &["gui", "tien"],
    &["nap", "tien"],
    &["nop", "tien"],
];

/// Payments that are often everyday ones: they count only in a message that speaks of fraud.
const WEAK_PAY: &[&[&str]] = &[
    &["thanh", "toan"],
    &["nap"],
    &["nop", "phi"],
    &["dong", "phi"],
    &["dong", "tien"],
    &["tra", "phi"],
    &["tra", "tien"],
    &["dat", "coc"],
];

/// Handing over a secret: a verb, then (within three words) what was handed over.
const GIVE: &[&[&str]] = &[
    &["doc"],
    &["gui"],
    &["dua"],
    &["cho"],
    &["cung", "cap"],
    &["nhap"],
    &["bao"],
    &["noi"],
    &["khai"],
    &["chup"],
];
const SECRETS: &[&[&str]] = &[
    &["otp"],
    &["ma", "xac", "thuc"],
    &["ma", "xac", "nhan"],
    &["mat", "khau"],
    &["pass"],
    &["password"],
    &["ma", "pin"],
    &["pin"],
    &["thong", "tin", "the"],
    &["so", "the"],
    &["ma", "cvv"],
    &["cvv"],
];

/// A remote-control or fake app installed: the phone may be in the scammer's hands.
const INSTALL: &[&[&str]] = &[&["cai"], &["cai", "dat"], &["tai"]];
const APPS: &[&[&str]] = &[&["app"], &["ung", "dung"], &["phan", "mem"], &["apk"]];

/// A loss said outright, done by itself.
const LOSSES: &[&[&str]] = &[
    &["bi", "lua", "mat"],
    &["bi", "lua", "het"],
    &["bi", "lua", "dao", "mat"],
    &["bi", "lua", "dao", "het"],
    &["lua", "mat", "cua"],
    &["mat", "het", "tien"],
    &["mat", "sach", "tien"],
    &["bi", "rut", "tien"],
    &["bi", "rut", "het"],
    &["bi", "rut", "sach"],
    &["bi", "chiem", "doat"],
    &["bi", "chuyen", "het"],
    &["tai", "khoan", "bi", "rut"],
    &["tai", "khoan", "bi", "tru"],
    &["bi", "tru", "het"],
];

/// Losses of an account to a scammer: a secret is out.
const TAKEOVERS: &[&[&str]] = &[
    &["bi", "hack"],
    &["bi", "chiem", "tai", "khoan"],
    &["bi", "chiem", "zalo"],
    &["bi", "chiem", "facebook"],
    &["mat", "quyen", "kiem", "soat"],
    &["bi", "chiem", "quyen"],
];

/// Words of fraud that make a weak payment verb, or "bị lừa rồi", a harm.
const FRAUD: &[&[&str]] = &[
    &["lua"],
    &["lua", "dao"],
    &["ke", "gian"],
    &["gia", "mao"],
    &["mao", "danh"],
    &["gia", "danh"],
    &["chan", "so"],
    &["chan", "zalo"],
    &["block"],
    &["lay", "lai"],
    &["doi", "lai"],
    &["khong", "tra"],
    &["mat", "tien"],
    &["khong", "lien", "lac"],
    &["scam"],
];

/// Who is told "đã chuyển khoản thành công" in a notice: not the user.
const NOTICE_SUBJECTS: &[&[&str]] = &[&["quy", "khach"], &["khach", "hang"], &["tk"]];

/// Amount units after a number: "5 triệu", "500k", "2tr", "50 nghìn", "3 củ".
const UNITS: &[&str] = &[
    "trieu", "tr", "k", "nghin", "ngan", "cu", "ty", "ti", "vnd", "d", "dong", "m", "lit",
];

/// The harm `words` state, if any.
#[must_use]
pub fn harm_in(words: &Words) -> Option<Harm> {
    let tokens: Vec<&str> = words.line().split_ascii_whitespace().collect();
    let fraud = (0..tokens.len()).any(|i| starts_any(&tokens, i, FRAUD).is_some());
    let mut harm = Harm::default();
    for i in 0..tokens.len() {
        if starts_any(&tokens, i, LOSSES).is_some() {
            harm.paid = true;
        }
        if starts_any(&tokens, i, TAKEOVERS).is_some() {
            harm.secret = true;
        }
        if let Some(len) = starts_any(&tokens, i, STRONG_PAY) {
            harm.paid |= done(&tokens, i, i + len);
        } else if tokens[i] == "chuyen" && money_follows(&tokens, i + 1) {
            // "đã chuyển cho nó 5 triệu": a bare "chuyển" is a payment only with an amount after it.
            harm.paid |= done(&tokens, i, i + 1);
        } else if let Some(len) = starts_any(&tokens, i, WEAK_PAY) {
            harm.paid |= fraud && done(&tokens, i, i + len);
        }
        if let Some(len) = starts_any(&tokens, i, GIVE) {
            let object = (i + len..tokens.len().min(i + len + 4))
                .find_map(|j| starts_any(&tokens, j, SECRETS).map(|l| j + l));
            if let Some(end) = object {
                harm.secret |= done(&tokens, i, end);
            }
        }
        if let Some(len) = starts_any(&tokens, i, INSTALL) {
            let app = (i + len..tokens.len().min(i + len + 3))
                .find_map(|j| starts_any(&tokens, j, APPS).map(|l| j + l));
            if let Some(end) = app {
                harm.secret |= fraud && done(&tokens, i, end);
            }
        }
    }
    // "tôi bị lừa rồi": a fraud already suffered, whatever it took.
    if !harm.any() && bi_lua_roi(&tokens) {
        harm.paid = true;
    }
    harm.any().then_some(harm)
}

/// Whether the act at `tokens[start..end]` is done: a completion marker shortly before it (and no hedge
/// in between), or "rồi" shortly after it; never with a hedge right before it or a notice's subject.
fn done(tokens: &[&str], start: usize, end: usize) -> bool {
    let before = &tokens[start.saturating_sub(3)..start];
    if before.iter().rev().take(2).any(|t| HEDGES.contains(t)) {
        return false;
    }
    if let Some(marker) = before.iter().rposition(|t| DONE.contains(t)) {
        let marker = start.saturating_sub(3) + marker;
        if tokens[marker + 1..start].iter().any(|t| HEDGES.contains(t)) {
            return false;
        }
        return !notice_subject(tokens, marker);
    }
    let after = &tokens[end..tokens.len().min(end + 6)];
    after.contains(&"roi") && !notice_subject(tokens, start)
}

/// "Quý khách đã chuyển khoản", "TK 0123 đã chuyển tiền": the one who acted, just before `at`, is a
/// notice's reader.
fn notice_subject(tokens: &[&str], at: usize) -> bool {
    (at.saturating_sub(4)..at).any(|i| starts_any(tokens, i, NOTICE_SUBJECTS).is_some())
}

/// An amount within the next four words: a number with a unit ("5 triệu", "500k", "2tr").
fn money_follows(tokens: &[&str], from: usize) -> bool {
    (from..tokens.len().min(from + 4)).any(|j| is_amount(tokens, j))
}

fn is_amount(tokens: &[&str], at: usize) -> bool {
    let token = tokens[at];
    let digits = token.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return token == "tien";
    }
    let unit = &token[digits..];
    if unit.is_empty() {
        // "5 triệu", or a grouped number: "500000", "500 000".
        return tokens.get(at + 1).is_some_and(|next| UNITS.contains(next)) || digits >= 5;
    }
    UNITS.contains(&unit)
}

/// "bị lừa rồi", "bị lừa đảo rồi", "đã bị lừa": a harm with no act named.
fn bi_lua_roi(tokens: &[&str]) -> bool {
    (0..tokens.len()).any(|i| {
        if tokens[i..].starts_with(&["bi", "lua"]) {
            let hedged =
                i > 0 && ["co", "khong", "chua", "so", "tranh", "de"].contains(&tokens[i - 1]);
            let rest = &tokens[i + 2..tokens.len().min(i + 5)];
            let done_before = i > 0 && ["da", "vua", "lo"].contains(&tokens[i - 1]);
            !hedged
                && (done_before
                    || rest.first() == Some(&"roi")
                    || rest.starts_with(&["dao", "roi"]))
        } else {
            false
        }
    })
}

/// The length of the first of `phrases` that starts at `tokens[at]`.
fn starts_any(tokens: &[&str], at: usize, phrases: &[&[&str]]) -> Option<usize> {
    phrases
        .iter()
        .filter(|p| tokens[at..].starts_with(p))
        .map(|p| p.len())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn harm(text: &str) -> Option<Harm> {
        harm_in(&Words::new(text))
    }

    fn paid(text: &str) -> bool {
        harm(text).is_some_and(|h| h.paid)
    }

    #[allow(dead_code)]
    fn secret(text: &str) -> bool {
        harm(text).is_some_and(|h| h.secret)
    }

    #[test]
    fn a_transfer_already_made_is_a_payment() {
        for text in [
            "tôi lỡ chuyển khoản rồi",
            "Tôi đã chuyển tiền cho họ",
            "mẹ tôi vừa chuyển khoản 50 triệu cho người lạ",
            "em ck cho nó rồi",
            "đã chuyển cho nó 5tr",
            "Tôi đã chuyển 20.000.000 đồng vào tài khoản đó",
            "chuyển tiền rồi giờ phải làm sao",
            "lỡ CHUYỂN KHOẢN rồi ạ",
            "toi da chuyen tien roi",
            "Tôi bị lừa mất 30 triệu",
            "bị lừa hết tiền tiết kiệm rồi",
            "tài khoản của tôi bị rút hết tiền",
            "mất hết tiền trong tài khoản rồi",
        ] {
            assert!(paid(text), "{text}");
        }
    }

    #[test]
    fn a_secret_given_away_is_told_apart() {
        for text in [
            "tôi đọc mã OTP cho họ rồi",
            "Tôi đã đọc mã OTP cho nhân viên ngân hàng",
            "lỡ nhập mật khẩu vào trang web đó",
            "đã cung cấp mã xác thực",
            "tôi lỡ gửi OTP rồi",
            "zalo tôi bị hack",
            "đã cài ứng dụng họ gửi, giờ bị lừa",
        ] {
            let h = harm(text);
            assert!(h.is_some_and(|h| h.secret), "{text}: {h:?}");
        }
        assert!(!paid("tôi đọc mã OTP cho họ rồi"));
    }

    #[test]
    fn a_question_before_acting_is_no_harm() {
        for text in [
            "có nên chuyển khoản không",
            "tôi chưa chuyển tiền",
            "họ bảo tôi chuyển tiền, có phải lừa đảo không?",
            "Tôi định chuyển khoản cho shop này",
            "đừng chuyển tiền nhé",
            "không được cung cấp mã OTP cho ai",
            "số này có lừa đảo không",
            "sợ bị lừa quá",
            "Làm sao để không bị lừa?",
            "tôi đã thanh toán hóa đơn tiền điện",
            "đã nạp 100k vào điện thoại",
            "chuyển nhà rồi",
        ] {
            assert_eq!(harm(text), None, "{text}");
        }
    }

    #[test]
    fn a_notice_to_its_reader_is_not_the_users_act() {
        for text in [
            "Quý khách đã chuyển khoản thành công 500.000 VND",
            "TK 0123 đã chuyển tiền thành công",
            "Khách hàng đã chuyển tiền thành công",
        ] {
            assert_eq!(harm(text), None, "{text}");
        }
    }

    #[test]
    fn weak_payments_count_only_next_to_fraud() {
        assert!(paid(
            "tôi đã nạp 5 triệu làm nhiệm vụ, giờ họ chặn số, bị lừa rồi"
        ));
        assert!(paid(
            "đã đóng phí 2 triệu mà họ không trả lại, chắc là lừa đảo"
        ));
        assert!(!paid("đã đóng phí gửi xe tháng này"));
    }

    #[test]
    fn being_scammed_already_is_a_harm_even_without_an_act() {
        assert!(harm("tôi bị lừa rồi").is_some());
        assert!(harm("mẹ tôi đã bị lừa").is_some());
        assert!(harm("tôi có bị lừa không").is_none());
    }
}
