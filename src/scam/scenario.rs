//! The scam scenarios the text signals name: a stable identifier each, and how it is named to users.

use serde::Serialize;

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
    Gambling,
    TrafficFine,
    InsurancePayout,
    UnwantedService,
    AdvanceFee,
    ChannelSwitch,
    FakeRefund,
    FamilyEmergency,
}

impl Scenario {
    pub const ALL: [Scenario; 23] = [
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
        Scenario::Gambling,
        Scenario::TrafficFine,
        Scenario::InsurancePayout,
        Scenario::UnwantedService,
        Scenario::AdvanceFee,
        Scenario::ChannelSwitch,
        Scenario::FakeRefund,
        Scenario::FamilyEmergency,
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
            Scenario::Gambling => "gambling",
            Scenario::TrafficFine => "traffic_fine",
            Scenario::InsurancePayout => "insurance_payout",
            Scenario::UnwantedService => "unwanted_service",
            Scenario::AdvanceFee => "advance_fee",
            Scenario::ChannelSwitch => "channel_switch",
            Scenario::FakeRefund => "fake_refund",
            Scenario::FamilyEmergency => "family_emergency",
        }
    }

    /// How the scenario is named to users and to the model.
    #[must_use]
    pub fn label_vi(self) -> &'static str {
        match self {
            Scenario::PoliceImpersonation => "giả danh công an, viện kiểm sát hoặc tòa án",
            Scenario::TaxImpersonation => "giả danh cơ quan thuế",
            Scenario::UtilityImpersonation => "giả danh điện lực hoặc công ty nước",
            Scenario::BankImpersonation => {
                "giả danh ngân hàng, ví điện tử hoặc mạng xã hội, dọa khóa tài khoản"
            }
            Scenario::IdVerification => "mời định danh, cập nhật CCCD hoặc VNeID",
            Scenario::EasyJob => "tuyển cộng tác viên “việc nhẹ lương cao”, làm nhiệm vụ",
            Scenario::OtpRequest => "đòi mã OTP, mật khẩu hoặc thông tin thẻ",
            Scenario::BookingDeposit => "đòi đặt cọc trước (đặt phòng, đặt bàn, mua hàng)",
            Scenario::Prize => "báo trúng thưởng, nhận quà",
            Scenario::Loan => "cho vay nhanh, đòi phí giải ngân",
            Scenario::MaliciousApp => "dụ cài ứng dụng hoặc tải tệp lạ",
            Scenario::RecoveryScam => "hứa lấy lại tiền đã bị lừa",
            Scenario::Delivery => "giả danh shipper, đòi phí giao hàng",
            Scenario::Investment => "mời đầu tư, tiền ảo, lợi nhuận cao",
            Scenario::RomanceGift => "làm quen, hẹn hò rồi gửi quà từ nước ngoài, đòi phí hải quan",
            Scenario::Gambling => "mời chơi cờ bạc, cá cược, nạp tiền nhận thưởng",
            Scenario::TrafficFine => "báo phạt nguội, vi phạm giao thông",
            Scenario::InsurancePayout => "mời nhận tiền bảo hiểm xã hội, trợ cấp, tiền hỗ trợ",
            Scenario::UnwantedService => "báo sắp trừ tiền cho dịch vụ bạn không đăng ký",
            Scenario::AdvanceFee => "đòi nộp phí, chuyển tiền trước",
            Scenario::ChannelSwitch => "rủ chuyển sang Zalo, Telegram, Viber riêng để nói chuyện",
            Scenario::FakeRefund => {
                "báo hoàn tiền hoặc chuyển nhầm tiền để lấy thông tin, lấy tiền"
            }
            Scenario::FamilyEmergency => "giả người thân gặp nạn, cần tiền gấp",
        }
    }
}
