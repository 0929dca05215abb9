//! What the generated chats say: scam messages in the shapes Vietnamese users forward (a bank's "lock", a
//! prize, a relative in trouble, a parcel fee, a tax refund, a job offer), each with the entities a check
//! needs (mobile numbers as people write them, accounts after "STK", look-alike domains), and the short
//! replies of the person who received them. Written for these tests: every name is a placeholder
//! ("Nguyễn Văn A") and every number and domain is made up.

/// Who wrote a message: the other side (left, the scammer) or the phone's owner (right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Incoming,
    Outgoing,
}

/// One chat as it appears in a screenshot: its title bar and its messages, top to bottom.
pub struct Chat {
    /// The contact or sender name in the title bar.
    pub title: &'static str,
    pub messages: &'static [(Side, &'static str)],
}

use Side::{Incoming, Outgoing};

/// The chats, in NFC.
pub const CHATS: &[Chat] = &[
    Chat {
        title: "Vietcombank",
        messages: &[
            (
                Incoming,
                "Vietcombank thông báo: tài khoản của quý khách đã bị tạm khóa do chưa cập nhật sinh trắc học. Vui lòng truy cập vietcombank-xacminh.top để xác thực trước 17h hôm nay.",
            ),
            (Outgoing, "Tôi phải làm gì để mở khóa?"),
            (
                Incoming,
                "Quý khách nhập số tài khoản, mật khẩu và mã OTP trên trang trên. Hỗ trợ gọi 0912 345 678.",
            ),
        ],
    },
    Chat {
        title: "Con trai",
        messages: &[
            (
                Incoming,
                "Mẹ ơi con bị tai nạn đang cấp cứu ở bệnh viện, điện thoại hỏng nên con mượn máy bạn nhắn.",
            ),
            (Outgoing, "Trời ơi, con có sao không?"),
            (
                Incoming,
                "Mẹ chuyển gấp 15 triệu vào STK 1903 6688 8888 Techcombank tên Nguyễn Văn A để đóng viện phí giúp con nhé. Đừng gọi cho bố kẻo bố lo.",
            ),
        ],
    },
    Chat {
        title: "Giao hàng nhanh",
        messages: &[
            (
                Incoming,
                "Đơn hàng của bạn bị giữ tại kho do sai địa chỉ. Thanh toán phí giao lại 18.000đ tại ghn-giaohang.info/xacnhan trong ngày.",
            ),
            (Outgoing, "Tôi có đặt hàng gì đâu?"),
            (
                Incoming,
                "Nếu không xác nhận đơn sẽ bị hủy và phạt 500.000đ. Chi tiết liên hệ tổng đài viên 0987.654.321.",
            ),
        ],
    },
    Chat {
        title: "Cục Thuế",
        messages: &[
            (
                Incoming,
                "Cục Thuế thông báo: ông bà được hoàn thuế thu nhập cá nhân 3.250.000đ. Vui lòng khai báo tại hoanthue-gdt.com.vn trong vòng 24 giờ.",
            ),
            (Outgoing, "Sao tôi chưa nghe nói bao giờ?"),
            (
                Incoming,
                "Để nhận tiền ông bà nộp phí hồ sơ 350.000đ vào STK: 0451000382716 Vietcombank, nội dung ghi số căn cước.",
            ),
        ],
    },
    Chat {
        title: "Tuyển dụng online",
        messages: &[
            (
                Incoming,
                "Bên em tuyển cộng tác viên làm việc tại nhà, mỗi ngày kiếm 300-500 nghìn, không cần kinh nghiệm.",
            ),
            (Outgoing, "Công việc cụ thể là gì vậy em?"),
            (
                Incoming,
                "Chị chỉ cần thả tim sản phẩm rồi nhận hoa hồng. Chị kết bạn Zalo 0868 112 233 để được hướng dẫn, nạp trước 200k làm nhiệm vụ đầu tiên nha.",
            ),
        ],
    },
    Chat {
        title: "Khuyến mãi tri ân",
        messages: &[
            (
                Incoming,
                "Chúc mừng quý khách đã trúng thưởng xe máy Honda SH trị giá 85 triệu đồng trong chương trình tri ân khách hàng.",
            ),
            (Outgoing, "Thật không? Tôi nhận ở đâu?"),
            (
                Incoming,
                "Quý khách đóng trước phí trước bạ 2.500.000đ qua STK 8801 2345 6789 MB Bank, rồi đăng ký nhận giải tại tritran-khachhang.xyz nhé.",
            ),
        ],
    },
];

/// The times shown under the messages.
pub const TIMES: &[&str] = &[
    "08:15", "09:42", "10:07", "13:30", "15:56", "19:21", "21:48",
];

/// The status bar's battery levels.
pub const BATTERY: &[&str] = &["85%", "62%", "47%", "91%"];

/// The greyed hint in the empty input box.
pub const INPUT_HINT: &str = "Nhắn tin";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_has_diacritics_and_every_chat_an_entity_shape() {
        for chat in CHATS {
            let text: String = chat.messages.iter().map(|(_, m)| *m).collect();
            assert!(!text.is_ascii(), "{}: no diacritics", chat.title);
            let digits = text.chars().filter(char::is_ascii_digit).count();
            assert!(
                digits >= 9 || text.contains(".top") || text.contains(".vn"),
                "{}",
                chat.title
            );
        }
    }
}
