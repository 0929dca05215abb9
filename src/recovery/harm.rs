//! Has the user already been harmed? "tôi lỡ chuyển khoản rồi", "bị lừa mất 20 triệu", "đọc mã OTP cho
//! họ rồi". Pure: reads the matchable words of one message.
//!
//! A harm is an act (a payment, or a secret handed over) that is done: a marker of completion before it
//! ("đã", "lỡ", "vừa", "trót", a time past) or "rồi" shortly after it, and no hedge right before it
//! ("chưa", "không", "định", "có nên", someone's demand). A loss stated outright ("bị lừa mất", "mất hết
//! tiền", "bị rút tiền") counts by itself.
//!
//! People also forward messages to be checked, and those often say "đã chuyển khoản" about someone else.
//! So an act counts only when the message is the user's own story: regret ("lỡ", "nhầm"), words of fraud
//! or distress ("lừa", "chặn", "làm sao", "lấy lại"), or a short message not telling someone the money is
//! on its way ("chuyển rồi nhé"). An act whose subject is a notice's reader ("Quý khách đã chuyển khoản",
//! "Bạn vừa chuyển nhầm") is never the user's. Everyday payments ("thanh toán", "nạp", "đóng phí") and
//! installing an app need regret or fraud words.

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

/// Markers that the act is done: "đã", "lỡ", "vừa", "trót", "lại" ("lại chuyển thêm").
const DONE: &[&str] = &["da", "lo", "vua", "trot", "lai"];

/// Markers that count only right before the verb: "mới chuyển" (and not "mọi người", "mời bạn").
const DONE_ADJACENT: &[&str] = &["moi", "co"];

/// "rồi", as typed: "rồi", "r", "xong".
const ROI: &[&str] = &["roi", "r", "xong"];

/// Markers of regret ("lỡ", "trót"; "nhầm" after the verb): the act was done and was a mistake, so even an
/// everyday payment counts.
const REGRET: &[&str] = &["lo", "trot"];

/// What follows "lỡ" when it means a mistake: a verb ("lỡ chuyển", "lỡ bấm", "lỡ tin", "lỡ tay").
const REGRET_BEFORE: &[&str] = &[
    "chuyen", "ck", "bam", "nhan", "quet", "click", "truy", "dang", "nhap", "doc", "gui", "dua",
    "cho", "cung", "bao", "noi", "khai", "chup", "cai", "tai", "nap", "nop", "dong", "tra",
    "thanh", "dat", "ban", "tay", "tin", "nghe", "lam", "vao", "mo",
];

/// Times in the past before an act: "hôm qua tôi có chuyển 5 triệu".
const PAST: &[&[&str]] = &[
    &["hom", "qua"],
    &["hom", "kia"],
    &["hom", "truoc"],
    &["tuan", "truoc"],
    &["thang", "truoc"],
    &["sang", "nay"],
    &["trua", "nay"],
    &["chieu", "nay"],
    &["toi", "qua"],
    &["dem", "qua"],
    &["luc", "nay"],
    &["vua", "nay"],
    &["hoi", "nay"],
];

/// Words right before an act that say it has not happened: "chưa", "không", "đừng", "định", "sắp",
/// "muốn", "nên", "cần", "phải" (someone demands it).
const HEDGES: &[&str] = &[
    "chua", "khong", "ko", "k", "kg", "hok", "dung", "chang", "dinh", "sap", "muon", "nen", "can",
    "phai", "bat", "yeu", "doi", "bao", "keu", "nho", "du", "ep", "dan",
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
    &["cccd"],
    &["can", "cuoc"],
    &["cmnd"],
];

/// A remote-control or fake app installed: the phone may be in the scammer's hands.
const INSTALL: &[&[&str]] = &[&["cai"], &["cai", "dat"], &["tai"]];
const APPS: &[&[&str]] = &[&["app"], &["ung", "dung"], &["phan", "mem"], &["apk"]];

/// Opening a scammer's link or logging in through it: credentials or the phone may be in their hands.
const CLICKS: &[&[&str]] = &[
    &["bam", "vao", "link"],
    &["bam", "vao", "duong", "link"],
    &["bam", "link"],
    &["nhan", "vao", "link"],
    &["click", "vao", "link"],
    &["click", "link"],
    &["truy", "cap", "link"],
    &["quet", "ma", "qr"],
    &["quet", "qr"],
    &["dang", "nhap", "tai", "khoan"],
    &["dang", "nhap", "vao"],
];

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
    &["bi", "chuyen", "het"],
    &["tai", "khoan", "bi", "rut"],
    &["tai", "khoan", "bi", "tru"],
    &["bi", "tru", "het"],
    &["rut", "het", "tien"],
    &["rut", "sach", "tien"],
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

/// How many of [`FRAUD`]'s first phrases are of distress (the user asks for help).
const DISTRESS: usize = 11;

/// Words of distress, then of fraud: the message is the user's own story.
const FRAUD: &[&[&str]] = &[
    &["cuu"],
    &["lam", "sao"],
    &["lam", "gi"],
    &["phai", "lam"],
    &["gio", "sao"],
    &["the", "nao", "bay", "gio"],
    &["so", "qua"],
    &["lo", "qua"],
    &["hoang"],
    &["giup", "voi"],
    &["giup", "toi"],
    &["lua"],
    &["khong", "rut", "duoc"],
    &["giai", "ngan"],
    &["bien", "mat"],
    &["khong", "nghe", "may"],
    &["mat", "lien", "lac"],
    &["khong", "giao", "hang"],
    &["khong", "thay", "giao"],
    &["nap", "them"],
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
    &["chan"],
    &["xung", "la"],
    &["tu", "xung"],
    &["nguoi", "la"],
];

/// Who is told "đã chuyển khoản thành công" in a notice: not the user. Matched as the last word (or two)
/// before the act, numbers skipped.
const NOTICE_SUBJECTS: &[&[&str]] = &[
    &["ban"],
    &["nguoi"],
    &["qk"],
    &["tk"],
    &["quy", "khach"],
    &["khach", "hang"],
    &["thue", "bao"],
];

/// A request to send money back: "chuyển lại giúp", "trả lại giúp", "hoàn lại".
const MONEY_BACK: &[&[&str]] = &[
    &["chuyen", "lai", "giup"],
    &["chuyen", "tra", "giup"],
    &["tra", "lai", "giup"],
    &["gui", "lai", "giup"],
    &["hoan", "lai", "giup"],
    &["chuyen", "lai", "cho"],
    &["tra", "lai", "cho"],
];

/// Particles that tell someone news ("chuyển rồi nhé"): a message to someone else, forwarded.
const TELLING: &[&str] = &["nhe", "nha", "nhen", "nhes", "a", "do", "day"];

/// A warning to others ("Cảnh báo", "mọi người cẩn thận", "ai nhận được … đừng mở"): news of others'
/// losses, not the user's own unless they say so with regret or distress.
const WARNING: &[&[&str]] = &[
    &["canh", "bao"],
    &["moi", "nguoi"],
    &["ca", "nha"],
    &["ai", "nhan", "duoc"],
    &["dung", "mo"],
    &["chia", "se"],
    &["luu", "y"],
];

/// Words (digits aside) a message may have and still be a bare statement to the bot: "tôi đã chuyển
/// tiền rồi".
const SHORT: usize = 12;

/// Amount units after a number: "5 triệu", "500k", "2tr", "50 nghìn", "3 củ".
const UNITS: &[&str] = &[
    "trieu", "tr", "k", "nghin", "ngan", "cu", "ty", "ti", "vnd", "d", "dong", "m", "lit",
];

/// The harm `words` state, if any.
#[must_use]
pub fn harm_in(words: &Words) -> Option<Harm> {
    let tokens: Vec<&str> = words.line().split_ascii_whitespace().collect();
    let fraud = (0..tokens.len()).any(|i| starts_any(&tokens, i, FRAUD).is_some());
    let regret = tokens.iter().any(|t| REGRET.contains(t)) || tokens.contains(&"nham");
    let distress = (0..tokens.len()).any(|i| starts_any(&tokens, i, &FRAUD[..DISTRESS]).is_some());
    if (0..tokens.len()).any(|i| starts_any(&tokens, i, WARNING).is_some()) && !regret && !distress
    {
        return None;
    }
    // "Cháu gửi nhầm 2 triệu vào tài khoản chú, chú chuyển lại giúp cháu": the sender asks the reader for
    // money back (a scam of its own); whatever "nhầm" says, the loss is not the user's.
    if (0..tokens.len()).any(|i| starts_any(&tokens, i, MONEY_BACK).is_some()) && !distress {
        return None;
    }
    let short = tokens
        .iter()
        .filter(|t| !t.bytes().all(|b| b.is_ascii_digit()))
        .count()
        <= SHORT;
    // Whether a done act is the user's own story (see the module's doc).
    let story =
        |marker: Marker, telling: bool| marker == Marker::Regret || fraud || (short && !telling);
    let everyday = |marker: Marker| marker == Marker::Regret || fraud;
    let mut harm = Harm::default();
    for i in 0..tokens.len() {
        let suffered = !hedged(&tokens, i) && !gossip(&tokens, i) && !notice_subject(&tokens, i);
        if starts_any(&tokens, i, LOSSES).is_some() && suffered {
            harm.paid = true;
        }
        if starts_any(&tokens, i, TAKEOVERS).is_some() && suffered {
            harm.secret = true;
        }
        let pay = if let Some(len) = starts_any(&tokens, i, STRONG_PAY) {
            Some(len)
        } else if tokens[i] == "chuyen" && money_follows(&tokens, i + 1) {
            // "đã chuyển cho nó 5 triệu": a bare "chuyển" is a payment only with an amount after it.
            Some(1)
        } else if tokens[i] == "chuyen"
            && (tokens.get(i + 1).is_some_and(|t| ROI.contains(t))
                || (i > 0
                    && DONE.contains(&tokens[i - 1])
                    && tokens
                        .get(i + 1)
                        .is_some_and(|t| ROI.contains(t) || ["cho", "vao", "qua"].contains(t))))
        {
            // "chuyển rồi", "tôi đã chuyển cho họ": said to this bot, a transfer.
            Some(1)
        } else {
            None
        };
        if let Some(len) = pay {
            harm.paid |= done(&tokens, i, i + len).is_some_and(|(m, t)| story(m, t));
        } else if let Some(len) = starts_any(&tokens, i, WEAK_PAY).or_else(|| {
            // "đã nộp 5 triệu phí hồ sơ": a paying verb with an amount right after it.
            (["nop", "nap", "dong"].contains(&tokens[i])
                && (i + 1..tokens.len().min(i + 3))
                    .any(|j| is_amount(&tokens, j) && tokens[j] != "tien"))
            .then_some(1)
        }) {
            harm.paid |= done(&tokens, i, i + len).is_some_and(|(m, _)| everyday(m));
        }
        if let Some(len) = starts_any(&tokens, i, GIVE) {
            let object = (i + len..tokens.len().min(i + len + 4))
                .find_map(|j| starts_any(&tokens, j, SECRETS).map(|l| j + l));
            if let Some(end) = object {
                harm.secret |= done(&tokens, i, end).is_some_and(|(m, t)| story(m, t));
            }
        }
        if let Some(len) = starts_any(&tokens, i, CLICKS) {
            harm.secret |= done(&tokens, i, i + len).is_some_and(|(m, _)| everyday(m));
        }
        if let Some(len) = starts_any(&tokens, i, INSTALL) {
            let app = (i + len..tokens.len().min(i + len + 3))
                .find_map(|j| starts_any(&tokens, j, APPS).map(|l| j + l));
            if let Some(end) = app {
                harm.secret |= done(&tokens, i, end).is_some_and(|(m, _)| everyday(m));
            }
        }
    }
    // "tôi bị lừa rồi", "bị lừa 15tr": a fraud already suffered, whatever it took.
    if !harm.any() && scammed(&tokens) {
        harm.paid = true;
    }
    harm.any().then_some(harm)
}

/// How an act is known to be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Done,
    Regret,
}

/// Whether a hedge ("chưa", "không", "sợ", "sẽ", "nếu", …) stands right before `at`.
fn hedged(tokens: &[&str], at: usize) -> bool {
    tokens[at.saturating_sub(2)..at]
        .iter()
        .any(|t| HEDGES.contains(t) || ["so", "se", "neu"].contains(t))
}

/// Whether the act at `tokens[start..end]` is done, and whether a telling particle follows it ("chuyển
/// rồi nhé"). Done: a completion marker or a past time shortly before it (and no hedge in between), or
/// "rồi", "xong" or "nhầm" shortly after it; never with a hedge or a conditional right before it, nor with
/// a notice's reader as its subject.
fn done(tokens: &[&str], start: usize, end: usize) -> Option<(Marker, bool)> {
    if hedged(tokens, start) {
        return None;
    }
    let after = &tokens[end..tokens.len().min(end + 4)];
    let roi = after.iter().position(|t| ROI.contains(t));
    let telling = roi.is_some_and(|r| after.get(r + 1).is_some_and(|t| TELLING.contains(t)));
    let from = start.saturating_sub(3);
    // Regret reaches further, over a whole clause: "lỡ quét mã QR và nhập mật khẩu".
    let regret_from = start.saturating_sub(6);
    // "lo" is also "lô" (the lottery) and "lo" (to worry): as "lỡ" it comes before a verb.
    let marks = |at: usize| {
        !REGRET.contains(&tokens[at])
            || tokens
                .get(at + 1)
                .is_some_and(|next| REGRET_BEFORE.contains(next) || at + 1 == start)
    };
    let marker = (from..start)
        .rev()
        .find(|&at| DONE.contains(&tokens[at]) && marks(at))
        .or_else(|| {
            (regret_from..start)
                .rev()
                .find(|&at| REGRET.contains(&tokens[at]) && marks(at))
        })
        .or_else(|| (start > 0 && DONE_ADJACENT.contains(&tokens[start - 1])).then(|| start - 1));
    if let Some(marker) = marker {
        let conditional = tokens[marker.saturating_sub(3)..marker].contains(&"neu");
        if tokens[marker + 1..start].iter().any(|t| HEDGES.contains(t))
            || conditional
            || notice_subject(tokens, marker)
        {
            return None;
        }
        let kind = if REGRET.contains(&tokens[marker]) {
            Marker::Regret
        } else {
            Marker::Done
        };
        return Some((kind, telling));
    }
    if notice_subject(tokens, start) {
        return None;
    }
    if tokens.get(end) == Some(&"nham") {
        return Some((Marker::Regret, false));
    }
    let past = (start.saturating_sub(6)..start).any(|i| starts_any(tokens, i, PAST).is_some());
    (past || roi.is_some()).then_some((Marker::Done, telling))
}

/// "Quý khách đã chuyển khoản", "TK 0123 đã chuyển tiền", "Bạn vừa chuyển nhầm": the last words before `at`
/// (numbers skipped) name a notice's reader.
fn notice_subject(tokens: &[&str], at: usize) -> bool {
    let words: Vec<&str> = tokens[..at]
        .iter()
        .rev()
        .filter(|t| !t.bytes().all(|b| b.is_ascii_digit()))
        .take(2)
        .copied()
        .collect();
    NOTICE_SUBJECTS.iter().any(|subject| {
        subject.len() <= words.len() && subject.iter().rev().zip(&words).all(|(a, b)| a == b)
    })
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

/// Who or what may stand between "bị" and "lừa": "bị người ta lừa", "bị nó lừa", "bị gọi điện lừa".
const AGENTS: &[&str] = &[
    "nguoi", "ta", "no", "ho", "ke", "gian", "chung", "bon", "goi", "dien", "thoai", "dan", "du",
];

/// "nghe nói chị Lan bị lừa", "đọc báo thấy …": news of someone else's case, before `at`.
fn gossip(tokens: &[&str], at: usize) -> bool {
    tokens[at.saturating_sub(5)..at].contains(&"nghe")
        || (0..at)
            .any(|j| ["doc", "tren"].contains(&tokens[j]) && tokens.get(j + 1) == Some(&"bao"))
}

/// A fraud suffered, with no act named as done: "bị lừa rồi", "đã bị lừa", "bị lừa 15 triệu", "bị lừa chuyển
/// tiền", "bị lừa mua hàng mất 3 triệu", "bị trừ 10 triệu".
fn scammed(tokens: &[&str]) -> bool {
    (0..tokens.len()).any(|i| {
        // "bị lừa", and "bị người ta lừa", "bị gọi điện lừa": the agent or the means between.
        let lua = tokens[i] == "bi"
            && (i + 1..tokens.len().min(i + 4))
                .take_while(|&j| tokens[j] == "lua" || AGENTS.contains(&tokens[j]))
                .any(|j| tokens[j] == "lua");
        let taken = ["tru", "rut", "mat"]
            .iter()
            .any(|t| tokens[i..].starts_with(&["bi", t]));
        if !lua && !taken {
            return false;
        }
        let hedged = i > 0
            && [
                "co", "khong", "chua", "so", "tranh", "de", "se", "neu", "bao",
            ]
            .contains(&tokens[i - 1]);
        let gossip = gossip(tokens, i);
        let mut rest = if lua {
            (i + 1..tokens.len())
                .find(|&j| tokens[j] == "lua")
                .map_or(i + 2, |j| j + 1)
        } else {
            i + 2
        };
        if tokens.get(rest) == Some(&"dao") {
            rest += 1;
        }
        let window = rest..tokens.len().min(rest + 5);
        let amount = window
            .clone()
            .any(|j| is_amount(tokens, j) && tokens[j] != "tien");
        if taken {
            // "bị trừ 10 triệu": only with the amount right after.
            return !hedged
                && !gossip
                && (rest..tokens.len().min(rest + 2))
                    .any(|j| is_amount(tokens, j) && tokens[j] != "tien");
        }
        let done_before = i > 0 && ["da", "vua", "lo", "moi"].contains(&tokens[i - 1]);
        let next = tokens.get(rest).copied();
        let act_after = next.is_some_and(|n| ROI.contains(&n))
            || amount
            || next.is_some_and(|n| ["chuyen", "mat", "het", "nap", "ck"].contains(&n))
            || tokens[window].contains(&"mat");
        !hedged && !gossip && (done_before || act_after)
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
    fn a_forwarded_message_about_someone_elses_payment_is_no_harm() {
        for text in [
            "Em chuyển khoản tiền điện tháng này rồi nhà anh, 640k.",
            "Mẹ ơi con chuyển 2tr rồi nhé, mẹ kiểm tra tài khoản xem nhận chưa.",
            "Con ơi bố gửi tiền học tháng này rồi, 3 triệu, con tiêu tiết kiệm nhé.",
            "Chị ơi em là shipper, đơn của chị cần thanh toán thêm 25k phí vận chuyển, chị chuyển khoản giúp em trước nhé rồi em giao.",
            "Bạn vừa chuyển nhầm 3.000.000đ vào tài khoản của chúng tôi. Vui lòng gọi lại để được hoàn trả.",
            "Viettel: Số thuê bao 0968 770 214 đã chuyển khoản cho QK 20.000đ qua dịch vụ I-share.",
            "Viettel Money: Bạn đã chuyển 500.000đ đến NGUYEN THI HUONG thành công.",
            "Kế toán công ty: Mọi người gửi lại bản chụp CCCD và MST cá nhân trước 15/12 nhé.",
            "Bên mình cần người đánh giá sản phẩm, hoa hồng mỗi đơn, nộp tiền ứng trước và nhận lại ngay.",
            "Mày có nghe vụ chị Lan bị lừa 200 triệu qua Zalo không, sợ thật.",
            "MSB: Nếu bạn lỡ cung cấp OTP hoặc mật khẩu, hãy khóa tài khoản ngay.",
            "Có người chuyển nhầm 5 triệu vào tài khoản em, sau đó một số lạ gọi đòi em chuyển trả",
            "ok m, ck 2000000 roi do, kiem tra di",
            "Ai nhận được file HoaDon.apk qua Zalo thì đừng mở nha, cài vào là bị chiếm quyền điều khiển điện thoại, mất sạch tiền trong tài khoản",
            "Zalo của bạn Hùng bị hack rồi, nó nhắn mình xin mã OTP. Mọi người cẩn thận.",
            "Trung tâm hỗ trợ nạn nhân lừa đảo: tiếp nhận hồ sơ thu hồi tiền bị chiếm đoạt, phí thẩm định 1.000.000đ",
            "CANH BAO lua dao dat phong Da Nang. Da co 4 nguoi bi lua tien coc truoc.",
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
        assert!(paid(
            "Ad ơi em vào nhóm làm nhiệm vụ được 3 ngày, đã nạp 12tr rồi giờ không rút được, họ bắt nạp thêm 8tr"
        ));
    }

    #[test]
    fn being_scammed_already_is_a_harm_even_without_an_act() {
        assert!(harm("tôi bị lừa rồi").is_some());
        assert!(harm("mẹ tôi đã bị lừa").is_some());
        assert!(harm("tôi có bị lừa không").is_none());
        assert!(harm("mình bị lừa 15tr rồi ad ơi").is_some());
        assert!(harm("con tôi bị lừa chuyển 50 triệu").is_some());
        assert!(harm("tôi vừa bị lừa đảo qua mạng").is_some());
        assert!(harm("làm sao biết mình sắp bị lừa").is_none());
    }

    #[test]
    fn a_past_time_a_mistake_or_a_regret_marks_the_act_done() {
        assert!(paid(
            "Hôm qua tôi có chuyển 5 triệu cho một người trên facebook, giờ họ chặn tôi"
        ));
        assert!(paid("Tôi chuyển nhầm tiền cho kẻ lừa đảo"));
        assert!(paid("lỡ thanh toán cho shop lạ"));
        assert!(paid("họ đã rút hết tiền trong tài khoản của tôi"));
        assert!(secret("Mẹ em lỡ bấm vào link và nhập thông tin thẻ rồi"));
        assert!(secret(
            "em lỡ cài app theo hướng dẫn của người xưng là điện lực"
        ));
        assert!(secret("tôi đã gửi ảnh CCCD cho họ"));
        assert!(!paid("họ sẽ rút hết tiền nếu tôi không làm theo"));
        assert!(harm("hôm qua có người gọi bảo tôi chuyển tiền").is_none());
        assert!(harm("hôm qua họ bảo tôi chuyển tiền").is_none());
        assert!(paid("họ bảo tôi chuyển tiền và tôi đã chuyển rồi"));
    }

    /// SMS are messages between other people and from services: forwarded to the bot, none of them is the
    /// user's own harm.
    #[test]
    fn no_sms_of_the_corpus_is_taken_for_a_harm() {
        let corpus = include_str!("../../tests/corpus/sms.jsonl");
        let mut read = 0;
        for line in corpus.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let text = value["text"].as_str().expect("a text");
            assert_eq!(harm(text), None, "{text}");
            read += 1;
        }
        assert!(read > 800, "{read}");
    }

    #[test]
    fn victims_say_it_in_many_ways() {
        for text in [
            "Tôi đã chuyển cho họ 3 lần tổng cộng 45tr",
            "E bị lừa r ad ơi, chuyển 2tr cho shop ảo",
            "tôi lỡ bấm vào đường link và đăng nhập tài khoản ngân hàng",
            "Tài khoản ngân hàng của tôi tự nhiên bị trừ 10 triệu",
            "làm nhiệm vụ tiktok bị lừa 30tr",
            "Chuyển rồi mà không thấy giao hàng, gọi không nghe máy",
            "bố em bị lừa mua hàng online mất 3 triệu",
            "tôi đã gửi tiền cho người yêu quen qua mạng, giờ họ biến mất",
            "đã ck cọc 500k thuê homestay mà bị chặn rồi",
            "mình vừa bị lừa mất 5 triệu qua zalo, giờ phải làm sao",
            "e da ck r",
            "mk bi lua mat 5tr r",
            "vừa bị người ta lừa lấy mất mấy chục triệu",
            "mẹ tôi bị gọi điện lừa chuyển tiền vào tài khoản an toàn",
            "em lỡ quét mã QR và nhập mật khẩu",
            "đã nộp 5 triệu phí hồ sơ vay vốn mà không được giải ngân",
            "Ck nhầm cho kẻ lừa đảo 2tr",
        ] {
            assert!(harm(text).is_some(), "{text}");
        }
        for text in [
            "Đã nhận được tiền chưa em? Anh chuyển rồi đó",
            "bên mình đã chuyển tiền hoàn cho bạn rồi nhé, bạn kiểm tra giúp",
            "tôi đang định chuyển tiền đặt cọc, link này có thật không",
            "chuyển khoản cho shop này có an toàn không",
            "đọc báo thấy nhiều người bị lừa mất tiền tỷ",
            "nếu bị trừ tiền thì báo ai",
            "tôi đã đăng nhập app ngân hàng để xem số dư",
            "có người nhắn tin bảo tôi đọc mã OTP",
            "Tôi không cung cấp mã OTP cho ai cả",
            "Mình chuyển khoản mua hàng shopee được không",
            "đã nộp 500k tiền điện tháng này",
            "bị người ta lừa thì phải làm sao để tránh",
            "Em chuyển nhầm 2tr vào tk anh, anh chuyển lại giúp em nhé",
        ] {
            assert_eq!(harm(text), None, "{text}");
        }
    }
}
