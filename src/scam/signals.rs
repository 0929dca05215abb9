//! Scam phrases by scenario, matched on the accent-free form of a message.
//!
//! A hit is a warning signal: it is shown in the reply and given to the model as a fact. It never
//! decides a verdict on its own (that needs a report in the database). Phrases are folded
//! (no accents, `đ` → `d`, lowercase) and matched as whole words with Aho–Corasick, so "Việc nhẹ,
//! lương cao!" and "viec nhe luong cao" both hit.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use serde::Serialize;

use super::text::folded_words;

/// A scam scenario, from a 29-class taxonomy of scams in Vietnam (merged where the advice is the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    PoliceImpersonation,
    TaxImpersonation,
    UtilityImpersonation,
    BankImpersonation,
    IdVerification,
    EasyJob,
    OtpRequest,
    BookingDeposit,
    Prize,
    Loan,
    MaliciousApp,
    RecoveryScam,
    Delivery,
    Investment,
    RomanceGift,
}

impl Scenario {
    pub const ALL: [Scenario; 15] = [
        Scenario::PoliceImpersonation,
        Scenario::TaxImpersonation,
        Scenario::UtilityImpersonation,
        Scenario::BankImpersonation,
        Scenario::IdVerification,
        Scenario::EasyJob,
        Scenario::OtpRequest,
        Scenario::BookingDeposit,
        Scenario::Prize,
        Scenario::Loan,
        Scenario::MaliciousApp,
        Scenario::RecoveryScam,
        Scenario::Delivery,
        Scenario::Investment,
        Scenario::RomanceGift,
    ];

    /// Stable identifier (JSON, metrics).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::PoliceImpersonation => "police_impersonation",
            Scenario::TaxImpersonation => "tax_impersonation",
            Scenario::UtilityImpersonation => "utility_impersonation",
            Scenario::BankImpersonation => "bank_impersonation",
            Scenario::IdVerification => "id_verification",
            Scenario::EasyJob => "easy_job",
            Scenario::OtpRequest => "otp_request",
            Scenario::BookingDeposit => "booking_deposit",
            Scenario::Prize => "prize",
            Scenario::Loan => "loan",
            Scenario::MaliciousApp => "malicious_app",
            Scenario::RecoveryScam => "recovery_scam",
            Scenario::Delivery => "delivery",
            Scenario::Investment => "investment",
            Scenario::RomanceGift => "romance_gift",
        }
    }

    /// How the scenario is named to users and to the model.
    #[must_use]
    pub fn label_vi(self) -> &'static str {
        match self {
            Scenario::PoliceImpersonation => "giả danh công an, viện kiểm sát hoặc tòa án",
            Scenario::TaxImpersonation => "giả danh cơ quan thuế",
            Scenario::UtilityImpersonation => "giả danh điện lực hoặc công ty nước",
            Scenario::BankImpersonation => "giả danh nhân viên ngân hàng",
            Scenario::IdVerification => "mời định danh, cập nhật CCCD hoặc VNeID",
            Scenario::EasyJob => "tuyển cộng tác viên “việc nhẹ lương cao”, làm nhiệm vụ",
            Scenario::OtpRequest => "đòi mã OTP",
            Scenario::BookingDeposit => "đòi đặt cọc trước (đặt phòng, đặt bàn, mua hàng)",
            Scenario::Prize => "báo trúng thưởng, nhận quà",
            Scenario::Loan => "cho vay nhanh, đòi phí giải ngân",
            Scenario::MaliciousApp => "dụ cài ứng dụng hoặc tải tệp lạ",
            Scenario::RecoveryScam => "hứa lấy lại tiền đã bị lừa",
            Scenario::Delivery => "giả danh shipper, đòi phí giao hàng",
            Scenario::Investment => "mời đầu tư, tiền ảo, lợi nhuận cao",
            Scenario::RomanceGift => "gửi quà từ nước ngoài, đòi phí hải quan",
        }
    }
}

/// A phrase that hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signal {
    pub scenario: Scenario,
    /// The table phrase that matched (accent-free).
    pub phrase: &'static str,
}

/// Phrases per scenario, folded. Each is specific enough to be worth a warning by itself; words that
/// are everyday chat on their own ("công an", "thuế", "ngân hàng") only count inside a longer phrase.
#[rustfmt::skip]
const PHRASES: &[(Scenario, &[&str])] = &[
    (Scenario::PoliceImpersonation, &[
        "cong an thong bao", "ben cong an", "can bo cong an", "phong canh sat", "canh sat dieu tra",
        "vien kiem sat", "toa an nhan dan", "lenh bat", "lenh truy na", "giay trieu tap", "trieu tap",
        "lien quan den duong day", "lien quan duong day", "duong day rua tien", "rua tien", "duong day ma tuy",
        "tai khoan tam giu", "tai khoan an toan", "chung minh trong sach", "phong toa tai khoan", "dieu tra vu an",
        "la cong an", "cong an phuong", "cong an quan", "bo cong an", "dieu tra vien", "vu an", "khoi to",
        "toa an", "phat nguoi", "gia danh cong an", "xung cong an", "xung la cong an",
    ]),
    (Scenario::TaxImpersonation, &[
        "cuc thue", "chi cuc thue", "co quan thue", "hoan thue", "quyet toan thue",
        "cuong che thue", "thue dien tu", "no tien thue",
    ]),
    (Scenario::UtilityImpersonation, &[
        "cat dien", "cap nuoc", "tien nuoc", "ngung cap dien", "no tien dien", "tien dien qua han",
        "cat nuoc", "ngung cap nuoc", "no tien nuoc",
    ]),
    (Scenario::BankImpersonation, &[
        "nhan vien ngan hang", "nang han muc", "nang cap the", "khoa tai khoan", "tai khoan bi khoa",
        "tai khoan se bi khoa", "xac minh tai khoan", "xac thuc tai khoan", "cap nhat thong tin tai khoan",
        "cap nhat sinh trac hoc", "tai khoan cua quy khach", "the cua quy khach", "mo khoa tai khoan",
        "diem thuong", "quy doi diem", "tri an khach hang",
    ]),
    (Scenario::IdVerification, &[
        "dinh danh dien tu", "dinh danh muc 2", "kich hoat dinh danh", "vneid", "cap nhat cccd",
        "tich hop cccd", "cap nhat can cuoc", "chuan hoa thong tin", "chuan hoa thue bao", "dinh danh",
    ]),
    (Scenario::EasyJob, &[
        "viec nhe luong cao", "tuyen ctv", "tuyen cong tac vien", "cong tac vien online",
        "lam nhiem vu", "nhan nhiem vu", "chot don", "tha tim", "like video", "xem video kiem tien",
        "kiem tien online", "hoa hong", "thu nhap hap dan", "lam tai nha", "khong can kinh nghiem",
        "ung luong", "hoan tien goc", "xem quang cao nhan tien", "nhap lieu tai nha", "lam ctv", "ctv",
    ]),
    (Scenario::OtpRequest, &[
        "gui otp", "doc otp", "doc ma otp", "ma otp ve may", "gui ma otp", "cung cap ma otp", "xin ma otp", "ma otp vua",
        "va ma otp", "ma otp de", "cung cap otp", "doc ma xac nhan", "gui ma xac nhan",
        "cung cap ma xac nhan", "ma xac thuc", "doc giup ma", "gui lai ma",
    ]),
    (Scenario::BookingDeposit, &[
        "dat coc", "coc truoc", "chuyen coc", "giu phong", "giu cho", "dat tour", "ve may bay gia re", "thanh toan truoc",
    ]),
    (Scenario::Prize, &[
        "trung thuong", "trung giai", "qua tang tri an", "qua tri an", "nhan qua tang", "phan thuong",
        "khach hang may man", "quay so trung", "giai dac biet", "phi nhan thuong", "nhan thuong",
    ]),
    (Scenario::Loan, &[
        "vay tien nhanh", "vay nhanh", "vay online", "vay tieu dung", "giai ngan", "ho tro vay",
        "phi ho so", "phi bao hiem khoan vay", "khong can the chap", "khong tham dinh", "duyet vay",
        "lai suat thap", "sai so tai khoan",
    ]),
    (Scenario::MaliciousApp, &[
        "tai app", "tai ung dung", "cai app", "cai dat ung dung", "cai ung dung", "file apk", "apk",
        "link cai dat", "tai ve va cai dat", "ung dung dich vu cong", "ban cap nhat moi",
    ]),
    (Scenario::RecoveryScam, &[
        "lay lai tien bi lua", "lay lai tien da bi lua", "lay lai tien", "thu hoi tien", "thu hoi so tien",
        "ho tro lay lai", "dich vu lay lai", "bi lua lay lai",
    ]),
    (Scenario::Delivery, &[
        "shipper", "phi giao hang", "don hang cod", "ship cod", "hang cod", "buu pham", "buu kien",
        "giao hang that bai", "phi van chuyen", "hang bi giu",
    ]),
    (Scenario::Investment, &[
        "dau tu", "tien ao", "san giao dich", "san forex", "forex", "bitcoin", "usdt", "lai 30",
        "loi nhuan cao", "loi nhuan", "nhom telegram", "qua telegram", "vao telegram", "cam ket loi nhuan",
        "nhan doi tai khoan", "x2 tai khoan",
        "san ao", "room vip", "keo lenh", "day chung khoan",
    ]),
    (Scenario::RomanceGift, &[
        "gui qua tu nuoc ngoai", "qua tu my", "phi hai quan", "thue hai quan", "kien hang quoc te",
        "phi thong quan",
    ]),
];

struct Matcher {
    automaton: AhoCorasick,
    /// Pattern index → (scenario, phrase).
    entries: Vec<(Scenario, &'static str)>,
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let mut entries = Vec::new();
    let mut patterns = Vec::new();
    for (scenario, phrases) in PHRASES {
        for phrase in *phrases {
            entries.push((*scenario, *phrase));
            patterns.push(format!(" {phrase} "));
        }
    }
    let automaton = AhoCorasick::new(&patterns).expect("signal phrases build an automaton");
    Matcher { automaton, entries }
});

/// Every scenario whose phrases occur in `text`, once each, in table order, with the first phrase that hit.
#[must_use]
pub fn find_signals(text: &str) -> Vec<Signal> {
    find_signals_in_folded(&folded_words(text))
}

/// As [`find_signals`], on text already passed through [`folded_words`].
#[must_use]
pub fn find_signals_in_folded(words: &str) -> Vec<Signal> {
    let matcher = &*MATCHER;
    let mut hits: Vec<Signal> = Vec::new();
    // Overlapping search: the space between two adjacent phrases belongs to both.
    for found in matcher.automaton.find_overlapping_iter(words) {
        let (scenario, phrase) = matcher.entries[found.pattern().as_usize()];
        if is_negated(&words[..found.start()]) {
            // "không cung cấp mã OTP cho ai", "đừng đọc mã OTP": advice, not a request.
            continue;
        }
        if !hits.iter().any(|hit| hit.scenario == scenario) {
            hits.push(Signal { scenario, phrase });
        }
    }
    hits.sort_by_key(|hit| hit.scenario);
    hits
}

/// Words that, among the last three before a phrase, turn it into advice against it.
const NEGATIONS: &[&str] = &["khong", "ko", "k", "dung", "cam", "chang"];

fn is_negated(before: &str) -> bool {
    before
        .split_whitespace()
        .rev()
        .take(3)
        .any(|word| NEGATIONS.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenarios(text: &str) -> Vec<Scenario> {
        find_signals(text).into_iter().map(|s| s.scenario).collect()
    }

    #[test]
    fn matches_with_and_without_accents_across_punctuation() {
        assert_eq!(
            scenarios("Tuyển CTV việc nhẹ, lương cao!"),
            vec![Scenario::EasyJob]
        );
        assert_eq!(
            scenarios("tuyen ctv viec nhe luong cao"),
            vec![Scenario::EasyJob]
        );
        assert_eq!(
            scenarios(
                "Đây là Công an thông báo, anh liên quan đến đường dây rửa tiền. Đọc mã OTP cho tôi."
            ),
            vec![Scenario::PoliceImpersonation, Scenario::OtpRequest]
        );
    }

    #[test]
    fn advice_against_a_phrase_is_not_a_signal() {
        assert!(scenarios("Tuyệt đối không cung cấp mã OTP cho bất kỳ ai.").is_empty());
        assert!(scenarios("mẹ đừng đọc mã OTP cho ai nhé").is_empty());
        assert_eq!(
            scenarios("em đọc mã OTP cho anh nhé"),
            vec![Scenario::OtpRequest]
        );
    }

    #[test]
    fn whole_words_only() {
        // "apk" inside another word, "dat ban" inside "dat banh".
        assert!(scenarios("đặt bánh sinh nhật cho con").is_empty());
        assert!(scenarios("mapkey").is_empty());
        assert!(scenarios("Chiều nay đi ăn không em?").is_empty());
    }

    #[test]
    fn every_phrase_is_folded_and_matchable() {
        for (scenario, phrases) in PHRASES {
            for phrase in *phrases {
                assert_eq!(
                    folded_words(phrase).trim(),
                    *phrase,
                    "phrase {phrase:?} must be written folded"
                );
                assert!(scenarios(phrase).contains(scenario), "{phrase}");
            }
        }
    }
}
