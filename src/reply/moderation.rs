//! What people hear about moderation: the reporter told the outcome of their report, the owner told the
//! outcome of their appeal, the daily report cap, an appeal received, and the note that a checked entity
//! is under review. Pure.

use std::fmt::Write as _;

use crate::scam::EntityKind;
use crate::scam::trust::{MAX_REPORTS_PER_DAY, ModerationAction};

/// Sent when a reporter has filed the day's reports already; nothing more is filed.
#[must_use]
pub fn report_cap_reached() -> String {
    format!(
        "🙏 Cảm ơn bạn đã nhiệt tình báo cáo! Mỗi người gửi được tối đa {MAX_REPORTS_PER_DAY} báo cáo một ngày, và hôm nay bạn đã gửi đủ. Mình chưa ghi nhận thêm báo cáo này; bạn vui lòng gửi lại vào ngày mai nhé."
    )
}

/// Appended to the report answer when some of a message's entities were over the day's cap.
#[must_use]
pub fn report_cap_note(refused: &[String]) -> String {
    format!(
        "Mỗi người gửi được tối đa {MAX_REPORTS_PER_DAY} báo cáo một ngày, nên mình chưa ghi nhận: {}. Bạn vui lòng gửi lại vào ngày mai nhé.",
        refused
            .iter()
            .map(|raw| raw.trim())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Appended to the report answer: the reporter will hear the outcome.
pub const OUTCOME_PROMISE: &str = "Khi quản trị viên xem xong, mình sẽ nhắn cho bạn kết quả.";

/// The answer to a report by chat: what was filed, what the day's cap refused, and the promise of news.
#[must_use]
pub fn report_answer(filed: &[(String, bool)], refused: &[String]) -> String {
    if filed.is_empty() && !refused.is_empty() {
        return report_cap_reached();
    }
    let mut answer = super::templates::report_received(filed);
    if !refused.is_empty() {
        answer.push_str("\n\n");
        answer.push_str(&report_cap_note(refused));
    }
    if filed.iter().any(|(_, new)| *new) {
        answer.push_str("\n\n");
        answer.push_str(OUTCOME_PROMISE);
    }
    answer
}

/// The answer to an appeal: those filed (or already waiting), then those nobody reported.
#[must_use]
pub fn appeal_answer(
    appealed: &[(EntityKind, String)],
    unreported: &[(EntityKind, String)],
) -> String {
    match (appealed.is_empty(), unreported.is_empty()) {
        (false, true) => appeal_received(appealed),
        (false, false) => format!(
            "{}\n\n{}",
            appeal_received(appealed),
            appeal_nothing_reported(unreported)
        ),
        (true, _) => appeal_nothing_reported(unreported),
    }
}

/// The answer to an appeal that was filed (or was already waiting).
#[must_use]
pub fn appeal_received(entities: &[(EntityKind, String)]) -> String {
    format!(
        "📝 Mình đã ghi nhận khiếu nại của bạn về {}. Quản trị viên sẽ xem lại các báo cáo. Trong lúc chờ, ai hỏi mình về {} sẽ được báo là đang được xem xét lại. Khi có kết quả, mình sẽ nhắn cho bạn.",
        subjects(entities),
        if entities.len() == 1 {
            "thông tin này"
        } else {
            "những thông tin này"
        }
    )
}

/// The answer to an appeal about entities nobody reported.
#[must_use]
pub fn appeal_nothing_reported(entities: &[(EntityKind, String)]) -> String {
    format!(
        "Mình chưa có báo cáo nào của người dùng về {}, nên chưa có gì để khiếu nại. Nếu sau này bị cảnh báo nhầm, bạn cứ nhắn lại cho mình nhé.",
        subjects(entities)
    )
}

/// The answer to an appeal that names nothing, right after no check.
pub const APPEAL_NEEDS_ENTITY: &str = "Bạn cho mình biết số điện thoại, số tài khoản hoặc trang web bị báo cáo nhầm nhé. Ví dụ: “số 0912 345 678 của tôi bị báo cáo nhầm”.";

/// Told on a checked entity's line while its owner's appeal waits for a moderator.
pub const UNDER_REVIEW: &str = "đang được xem xét lại vì chủ sở hữu báo là bị báo cáo nhầm";

/// The notice that tells the person concerned what a moderator decided about `(kind, value)`.
#[must_use]
pub fn outcome_notice(action: ModerationAction, kind: EntityKind, value: &str) -> String {
    let subject = subject(kind, value);
    match action {
        ModerationAction::VerifyReport => format!(
            "📣 Kết quả báo cáo của bạn: {subject} đã được quản trị viên xác minh là lừa đảo. Từ nay, ai hỏi mình về {} sẽ được cảnh báo. Cảm ơn bạn đã giúp bảo vệ mọi người!",
            pronoun(kind)
        ),
        ModerationAction::RejectReport => format!(
            "📣 Kết quả báo cáo của bạn về {subject}: quản trị viên đã xem xét nhưng chưa đủ căn cứ để xác nhận là lừa đảo, nên mình chưa dùng báo cáo này để cảnh báo người khác. Cảm ơn bạn đã cẩn thận báo cho mình. Nếu có thêm bằng chứng (ảnh chụp tin nhắn, biên lai chuyển tiền), bạn cứ gửi lại nhé."
        ),
        ModerationAction::AcceptAppeal => format!(
            "📣 Khiếu nại của bạn về {subject} đã được chấp nhận. Mình đã gỡ các báo cáo của người dùng về {}. Xin lỗi bạn vì sự phiền toái này.",
            pronoun(kind)
        ),
        ModerationAction::RejectAppeal => format!(
            "📣 Khiếu nại của bạn về {subject} chưa được chấp nhận: quản trị viên đã xem lại và vẫn thấy có căn cứ để cảnh báo. Nếu bạn có giấy tờ chứng minh mình là chủ {}, hãy nhắn lại cho mình.",
            pronoun(kind)
        ),
    }
}

/// "số điện thoại 0912345678", as a person would write it.
fn subject(kind: EntityKind, value: &str) -> String {
    let shown = match (kind, value.strip_prefix("+84")) {
        (EntityKind::Phone, Some(national)) => format!("0{national}"),
        _ => value.to_string(),
    };
    format!("{} {shown}", kind.label_vi().to_lowercase())
}

fn pronoun(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Phone | EntityKind::BankAccount => "số này",
        EntityKind::Domain => "trang web này",
    }
}

fn subjects(entities: &[(EntityKind, String)]) -> String {
    let mut out = String::new();
    for (at, (kind, value)) in entities.iter().enumerate() {
        if at > 0 {
            out.push_str(if at + 1 == entities.len() {
                " và "
            } else {
                ", "
            });
        }
        let _ = write!(out, "{}", subject(*kind, value));
    }
    out
}

#[cfg(test)]
mod tests {
    use unicode_normalization::UnicodeNormalization;

    use super::*;

    fn all_texts() -> Vec<String> {
        let one = [(EntityKind::Phone, "+84912345678".to_string())];
        let mut texts: Vec<String> = ModerationAction::ALL
            .into_iter()
            .map(|a| outcome_notice(a, EntityKind::Phone, "+84912345678"))
            .collect();
        texts.extend([
            report_cap_reached(),
            report_cap_note(&["0912 345 678".into()]),
            appeal_received(&one),
            appeal_nothing_reported(&one),
            APPEAL_NEEDS_ENTITY.to_string(),
            UNDER_REVIEW.to_string(),
            OUTCOME_PROMISE.to_string(),
        ]);
        texts
    }

    #[test]
    fn notices_name_the_entity_as_people_write_it() {
        let notice = outcome_notice(
            ModerationAction::VerifyReport,
            EntityKind::Phone,
            "+84912345678",
        );
        assert!(notice.contains("số điện thoại 0912345678"), "{notice}");
        let notice = outcome_notice(ModerationAction::RejectAppeal, EntityKind::Domain, "lua.vn");
        assert!(notice.contains("trang web lua.vn"), "{notice}");
        let both = appeal_received(&[
            (EntityKind::Phone, "+84912345678".into()),
            (EntityKind::BankAccount, "0123456789".into()),
        ]);
        assert!(
            both.contains("số điện thoại 0912345678 và số tài khoản 0123456789"),
            "{both}"
        );
    }

    #[test]
    fn a_report_answer_tells_what_the_cap_refused() {
        let all_refused = report_answer(&[], &["0912 345 678".into()]);
        assert_eq!(all_refused, report_cap_reached());
        let some = report_answer(&[("0912 345 678".into(), true)], &["0987 654 321".into()]);
        assert!(some.contains("Cảm ơn bạn đã báo cáo"), "{some}");
        assert!(some.contains("chưa ghi nhận: 0987 654 321."), "{some}");
        assert!(some.ends_with(OUTCOME_PROMISE), "{some}");
        let duplicate = report_answer(&[("0912 345 678".into(), false)], &[]);
        assert!(!duplicate.contains(OUTCOME_PROMISE), "{duplicate}");
    }

    #[test]
    fn the_cap_is_told_with_its_number() {
        assert!(report_cap_reached().contains("tối đa 10 báo cáo"));
        assert!(
            report_cap_note(&[" 0912 345 678 ".into()]).contains("chưa ghi nhận: 0912 345 678.")
        );
    }

    #[test]
    fn texts_are_nfc_and_never_call_anything_safe() {
        for text in all_texts() {
            assert_eq!(text.nfc().collect::<String>(), text);
            assert!(!text.to_lowercase().contains("an toàn"), "{text}");
        }
    }
}
