//! The owner of a reported number, account or site says it is theirs and was reported by mistake ("số này
//! của tôi, bị báo cáo nhầm"). Pure: the words decide, accents or not; the caller finds the entities.
//!
//! Both halves must be there: the thing is theirs ("số này của tôi", "tài khoản 0123… là của em", "tôi là
//! chủ số này") and the report is wrong ("báo cáo nhầm", "cảnh báo sai", "tôi không lừa đảo ai"). Either
//! alone is an everyday sentence ("con của tôi nhận tin nhắn này, không phải lừa đảo chứ?").

use super::Entity;
use super::text::folded_words;

/// Words naming the thing owned ("số", "tài khoản", "trang web"), accent-folded.
const SUBJECTS: &[&str] = &[
    "so", "sdt", "khoan", "stk", "web", "website", "mien", "link", "thoai", "zalo",
];
/// Who owns it, after "của".
const OWNERS: &[&str] = &[
    "toi", "minh", "em", "chau", "con", "tao", "chung", "cong", "shop", "nha", "gia",
];
/// How many words before "của" the subject may stand: "số 0912 345 678 này là của tôi".
const SUBJECT_REACH: usize = 7;
/// Owning without "của".
const OWNERSHIP_PHRASES: &[&str] = &[
    " chinh chu ",
    " toi la chu ",
    " minh la chu ",
    " em la chu ",
];
/// The report is wrong.
const MISTAKE_PHRASES: &[&str] = &[
    " bao cao nham ",
    " bao nham ",
    " canh bao nham ",
    " danh dau nham ",
    " bao cao sai ",
    " bao sai ",
    " canh bao sai ",
    " danh dau sai ",
    " nham lan ",
    " bi nham ",
    " bi oan ",
    " oan uong ",
    " khong phai lua dao ",
    " khong phai la lua dao ",
    " khong he lua dao ",
    " khong lua dao ",
    " khong lua ai ",
    " go canh bao ",
    " go bao cao ",
    " xoa canh bao ",
    " xoa bao cao ",
    " khieu nai ",
];
/// Entities one appeal may name.
pub const MAX_APPEAL_ENTITIES: usize = 3;

/// True when `text` says something reported is the writer's own and was reported by mistake.
#[must_use]
pub fn is_appeal(text: &str) -> bool {
    let words = folded_words(text);
    MISTAKE_PHRASES.iter().any(|p| words.contains(p)) && owns(&words)
}

fn owns(words: &str) -> bool {
    if OWNERSHIP_PHRASES.iter().any(|p| words.contains(p)) {
        return true;
    }
    let tokens: Vec<&str> = words.split_whitespace().collect();
    tokens.windows(2).enumerate().any(|(at, pair)| {
        pair[0] == "cua"
            && OWNERS.contains(&pair[1])
            && tokens[at.saturating_sub(SUBJECT_REACH)..at]
                .iter()
                .any(|t| SUBJECTS.contains(t))
    })
}

/// What an appeal is about: the entities it names, else those of the check the user just had.
#[must_use]
pub fn appeal_entities(named: Vec<Entity>, just_checked: &[Entity]) -> Vec<Entity> {
    let mut entities = if named.is_empty() {
        just_checked.to_vec()
    } else {
        named
    };
    entities.dedup_by(|a, b| a.kind == b.kind && a.value == b.value);
    entities.truncate(MAX_APPEAL_ENTITIES);
    entities
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::EntityKind;
    use crate::scam::extract::extract;

    #[test]
    fn the_owner_saying_it_was_reported_by_mistake_appeals() {
        for text in [
            "số này của tôi, bị báo cáo nhầm",
            "So nay cua toi, bi bao cao nham",
            "Đây là số điện thoại của tôi, sao lại bị cảnh báo? Tôi không lừa đảo ai cả",
            "sdt cua minh bi bao nham roi ad oi",
            "tài khoản 0123456789 là của em, bị đánh dấu nhầm",
            "Số 0912345678 của em bị báo cáo sai, em muốn khiếu nại",
            "trang web của công ty tôi bị cảnh báo sai",
            "tôi là chủ số 0912345678, bị báo cáo nhầm rồi",
            "báo cáo nhầm rồi, số 0912.345.678 này là của tôi",
        ] {
            assert!(is_appeal(text), "{text}");
        }
    }

    #[test]
    fn either_half_alone_is_not_an_appeal() {
        for text in [
            "con của tôi nhận tin nhắn trúng thưởng, không phải lừa đảo chứ?",
            "báo cáo nhầm số 0912345678",
            "số này của tôi",
            "số 0912345678 lừa của tôi 5 triệu",
            "tài khoản của tôi bị trừ tiền",
            "kiểm tra giúp số 0912345678",
        ] {
            assert!(!is_appeal(text), "{text}");
        }
    }

    #[test]
    fn the_entities_are_those_named_else_those_just_checked() {
        let named = extract("số 0912345678 của tôi bị báo nhầm");
        let checked = extract("0987654321");
        let chosen = appeal_entities(named, &checked);
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].value, "+84912345678");
        let chosen = appeal_entities(Vec::new(), &checked);
        assert_eq!(chosen[0].value, "+84987654321");
        assert_eq!(chosen[0].kind, EntityKind::Phone);
        assert!(appeal_entities(Vec::new(), &[]).is_empty());
    }
}
