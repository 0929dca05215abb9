//! The recovery playbook as a reply: ordered steps, the bank's hotline when it is known, and an offer to
//! report the scammer's numbers. Written for someone frightened, on a phone.

use std::fmt::Write as _;

use crate::recovery::Playbook;
use crate::recovery::hotlines::{
    AuthorityKey, BankHotline, authority, bank_hotline, short_contact,
};
use crate::reply::verdict::{has_verdict, verdict_block};
use crate::scam::banks::Bank;
use crate::scam::check::CheckOutcome;

const NUMBERS: [&str; 6] = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣"];

/// The reply for a harmed user: the steps, then the verdict on the numbers and links their message holds
/// (`check`), then the offer to report.
#[must_use]
pub fn recovery_reply(book: &Playbook, check: Option<&CheckOutcome>) -> String {
    let mut steps: Vec<String> = Vec::new();
    steps.push(call_the_bank(book));
    if book.harm.secret {
        steps.push(
            "Khóa thẻ và tài khoản ngay (trong ứng dụng ngân hàng hoặc nhờ tổng đài), rồi đổi mật khẩu \
             ngân hàng, Zalo, Facebook và email. Nếu đã cài ứng dụng lạ theo hướng dẫn của họ, hãy tắt \
             mạng (wifi, 4G) và gỡ ứng dụng đó. Không đọc thêm mã OTP cho bất kỳ ai."
                .to_string(),
        );
    }
    steps.push(report_it());
    steps.push(
        "Giữ lại bằng chứng, đừng xóa gì cả:\n\
         • ảnh chụp màn hình tin nhắn, cuộc gọi với kẻ lừa đảo;\n\
         • số điện thoại, tên Zalo, Facebook của họ;\n\
         • biên lai chuyển khoản: số tài khoản nhận, tên người nhận, số tiền, thời gian;\n\
         • đường link, ứng dụng họ bảo bạn mở hoặc cài."
            .to_string(),
    );
    steps.push(
        "Cẩn thận lần hai: ai nhắn hoặc gọi hứa \"lấy lại tiền\" giúp bạn, đòi phí trước, cũng là kẻ \
         lừa đảo. Công an và ngân hàng không thu phí để lấy lại tiền."
            .to_string(),
    );

    let mut reply = String::from(
        "🆘 Bình tĩnh, bạn làm ngay các bước sau. Gọi ngân hàng càng sớm thì càng có cơ hội giữ lại tiền.\n",
    );
    for (step, text) in steps.iter().enumerate() {
        let _ = write!(reply, "\n{} {text}\n", NUMBERS[step]);
    }
    reply.push('\n');
    if let Some(check) = check.filter(|check| has_verdict(check)) {
        reply.push_str("🔎 Kết quả kiểm tra trong tin nhắn của bạn:\n");
        reply.push_str(&verdict_block(check));
        reply.push_str("\n\n");
    }
    reply.push_str(&report_offer(book));
    reply
}

fn call_the_bank(book: &Playbook) -> String {
    let what = if book.harm.paid {
        "báo bạn bị lừa chuyển tiền và đề nghị phong tỏa (giữ lại) số tiền đó"
    } else {
        "báo bạn đã lộ mã OTP hoặc mật khẩu và đề nghị khóa ngay tài khoản, thẻ"
    };
    let mut text = match book.own_bank {
        Some(bank) => format!(
            "Gọi ngay tổng đài {}: {}. Hãy {what}.",
            bank.short_name,
            hotline_or_card(bank)
        ),
        None => format!(
            "Gọi ngay tổng đài ngân hàng của bạn (số in ở mặt sau thẻ, hoặc trong ứng dụng ngân hàng). \
             Hãy {what}."
        ),
    };
    if let Some(bank) = book.receiving_bank {
        let _ = write!(
            text,
            "\nTiền đã chuyển vào tài khoản ở {}: gọi cả tổng đài {} ({}) để báo tài khoản nhận tiền là lừa đảo.",
            bank.short_name,
            bank.short_name,
            hotline_or_card(bank)
        );
    }
    text
}

/// The bank's hotline from the directory, or where to find it.
fn hotline_or_card(bank: &Bank) -> String {
    bank_hotline(bank).map_or_else(
        || "số in trên thẻ hoặc trên trang web chính thức của ngân hàng".to_string(),
        numbers,
    )
}

fn numbers(hotline: &BankHotline) -> String {
    hotline.hotlines.join(" hoặc ")
}

fn report_it() -> String {
    let police = authority(AuthorityKey::Police).map_or_else(
        || "Trình báo công an xã, phường nơi bạn ở".to_string(),
        |police| {
            format!(
                "Trình báo công an: gọi {} hoặc đến công an xã, phường gần nhất",
                police.contact
            )
        },
    );
    let portals: Vec<&str> = [AuthorityKey::Tinnhiemmang, AuthorityKey::NcscReport]
        .into_iter()
        .filter_map(authority)
        .map(short_contact)
        .collect();
    let portal = if portals.is_empty() {
        String::new()
    } else {
        format!(
            ", báo cáo số và trang web lừa đảo trên {}",
            portals.join(" hoặc ")
        )
    };
    format!(
        "{police}{portal}, và báo cho ngân hàng của bạn. Mang theo giấy tờ tùy thân và bằng chứng."
    )
}

fn report_offer(book: &Playbook) -> String {
    match book.suspects.first() {
        Some(first) => {
            let listed: Vec<&str> = book.suspects.iter().map(|e| e.raw.as_str()).collect();
            format!(
                "📣 Để cảnh báo người khác, bạn có thể báo cáo số của kẻ lừa đảo ({}). Gõ ví dụ:\nbáo cáo {} lừa chuyển tiền",
                listed.join(", "),
                first.raw
            )
        }
        None => "📣 Để cảnh báo người khác, hãy báo cáo số điện thoại hoặc số tài khoản của kẻ lừa đảo. \
                 Gõ ví dụ:\nbáo cáo 0912345678 lừa chuyển tiền"
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::hotlines::banks_with_hotlines;
    use crate::recovery::{harm_in, playbook};
    use crate::scam::extract::extract;
    use crate::scam::words::Words;
    use unicode_normalization::{UnicodeNormalization, is_nfc};

    fn reply(text: &str) -> String {
        let words = Words::new(text);
        let harm = harm_in(&words).expect("a harm");
        recovery_reply(&playbook(harm, &words, &extract(text), None), None)
    }

    /// Where each step starts, by its number.
    fn step_at(reply: &str, step: usize) -> usize {
        reply.find(NUMBERS[step - 1]).unwrap_or(usize::MAX)
    }

    #[test]
    fn the_steps_come_in_order_bank_first_and_end_with_the_report_offer() {
        let r = reply("tôi lỡ chuyển khoản cho kẻ lừa đảo rồi");
        assert!(r.starts_with("🆘"));
        let bank = r
            .find("Gọi ngay tổng đài ngân hàng")
            .expect("call the bank");
        let police = r.find("Trình báo công an").expect("police");
        let evidence = r.find("Giữ lại bằng chứng").expect("evidence");
        let beware = r.find("lấy lại tiền").expect("recovery scammers");
        let offer = r.find("📣").expect("report offer");
        assert!(
            bank < police && police < evidence && evidence < beware && beware < offer,
            "{r}"
        );
        assert!(step_at(&r, 1) < bank && step_at(&r, 4) < beware && step_at(&r, 5) == usize::MAX);
        assert!(!r.contains("Khóa thẻ"), "no OTP step for a transfer: {r}");
        assert!(is_nfc(&r) && r.nfc().collect::<String>() == r);
        assert!(!r.to_lowercase().contains("an toàn"));
    }

    #[test]
    fn a_code_given_away_adds_the_lock_step_second() {
        let r = reply("tôi đọc mã OTP cho họ rồi");
        let lock = r.find("Khóa thẻ và tài khoản").expect("lock step");
        assert!(
            step_at(&r, 2) < lock && lock < r.find("Trình báo").unwrap_or(0),
            "{r}"
        );
        assert!(r.contains("lộ mã OTP"));
    }

    #[test]
    fn every_bank_in_the_directory_gets_its_own_hotline() {
        let mut checked = 0;
        for (bank, hotline) in banks_with_hotlines() {
            let alias = bank.aliases[0];
            let r = reply(&format!("tôi lỡ chuyển khoản từ {alias} rồi"));
            for number in &hotline.hotlines {
                assert!(
                    r.contains(number.as_str()),
                    "{}: {number} missing from {r}",
                    bank.short_name
                );
            }
            assert!(r.contains(&format!("tổng đài {}", bank.short_name)), "{r}");
            checked += 1;
        }
        assert!(checked >= 1);
    }

    #[test]
    fn the_scammers_numbers_are_offered_for_a_report() {
        let r = reply("đã chuyển 5 triệu vào stk 0123456789 ACB rồi");
        assert!(r.contains("báo cáo 0123456789"), "{r}");
        assert!(r.contains("tài khoản ở ACB"), "{r}");
    }

    #[test]
    fn the_verdict_on_the_numbers_comes_after_the_steps() {
        let text = "tôi lỡ chuyển khoản vào stk 0123456789 ACB rồi, sdt 0912345678";
        let words = Words::new(text);
        let book = playbook(harm_in(&words).expect("harm"), &words, &extract(text), None);
        let check = crate::scam::check::check(
            &crate::scam::index::ReportIndex::new(),
            text,
            chrono::Utc::now(),
        );
        let r = recovery_reply(&book, Some(&check));
        let verdict = r.find("🔎").expect("the verdict");
        assert!(
            r.find("Giữ lại bằng chứng").unwrap_or(usize::MAX) < verdict,
            "{r}"
        );
        assert!(verdict < r.find("📣").unwrap_or(0), "{r}");
        assert!(r[verdict..].contains("0123456789"), "{r}");
    }

    #[test]
    fn an_unknown_bank_gets_where_to_find_its_number() {
        let r = reply("tôi lỡ chuyển khoản rồi");
        assert!(r.contains("mặt sau thẻ"), "{r}");
    }
}
