//! What a harmed user is told to do, decided from the message and the conversation. Pure; the words are
//! in `reply::recovery`.

use super::harm::Harm;
use crate::scam::banks::{self, Bank};
use crate::scam::check::CheckOutcome;
use crate::scam::words::Words;
use crate::scam::{Entity, EntityKind};

/// The steps for one harmed user, before they are written out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playbook {
    pub harm: Harm,
    /// The user's own bank, when they named one that no account in the conversation belongs to.
    pub own_bank: Option<&'static Bank>,
    /// The bank the money went to: the bank of an account in this message or in the user's recent check.
    pub receiving_bank: Option<&'static Bank>,
    /// The scammer's numbers (phones and accounts) to offer for a report, as the user wrote them.
    pub suspects: Vec<Entity>,
}

/// The playbook for `harm`, with the banks and numbers this message and the user's recent check hold.
#[must_use]
pub fn playbook(
    harm: Harm,
    words: &Words,
    entities: &[Entity],
    recent: Option<&CheckOutcome>,
) -> Playbook {
    let numbers = |list: &mut dyn Iterator<Item = &Entity>| -> Vec<Entity> {
        list.filter(|e| matches!(e.kind, EntityKind::Phone | EntityKind::BankAccount))
            .cloned()
            .collect()
    };
    let mut suspects = numbers(&mut entities.iter());
    if suspects.is_empty() {
        suspects = recent.map_or_else(Vec::new, |check| {
            numbers(&mut check.findings.iter().map(|f| &f.entity))
        });
    }
    let receiving_bank = suspects.iter().find_map(entity_bank);
    let own_bank = banks_named(words.line())
        .into_iter()
        .find(|bank| receiving_bank != Some(*bank));
    Playbook {
        harm,
        own_bank,
        receiving_bank,
        suspects,
    }
}

fn entity_bank(entity: &Entity) -> Option<&'static Bank> {
    entity
        .bank_bin
        .as_deref()
        .and_then(banks::by_bin)
        .or_else(|| {
            entity
                .bank_name
                .and_then(|name| banks::BANKS.iter().find(|b| b.short_name == name))
        })
}

/// Banks and wallets named in a matchable line (`" toi chuyen tu vietcombank "`), in the order named.
fn banks_named(line: &str) -> Vec<&'static Bank> {
    let mut found: Vec<(usize, &'static Bank)> = banks::BANKS
        .iter()
        .filter_map(|bank| {
            bank.aliases
                .iter()
                .filter_map(|alias| line.find(&format!(" {alias} ")))
                .min()
                .map(|at| (at, bank))
        })
        .collect();
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, bank)| bank).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::extract::extract;

    fn book(text: &str, recent: Option<&CheckOutcome>) -> Playbook {
        let words = Words::new(text);
        playbook(
            Harm {
                paid: true,
                secret: false,
            },
            &words,
            &extract(text),
            recent,
        )
    }

    #[test]
    fn the_users_own_bank_is_the_one_they_name() {
        let p = book("tôi lỡ chuyển khoản từ Vietcombank rồi", None);
        assert_eq!(p.own_bank.map(|b| b.short_name), Some("Vietcombank"));
        assert_eq!(p.receiving_bank, None);
        assert!(p.suspects.is_empty());
    }

    #[test]
    fn the_receiving_bank_and_the_numbers_come_from_the_accounts() {
        let p = book(
            "tôi đã chuyển 5 triệu vào stk 0123456789 ACB, chủ tk Nguyen Van A, sdt 0912 345 678",
            None,
        );
        assert_eq!(p.receiving_bank.map(|b| b.short_name), Some("ACB"));
        assert_eq!(p.own_bank, None);
        let kinds: Vec<_> = p.suspects.iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&EntityKind::BankAccount), "{kinds:?}");
        assert!(kinds.contains(&EntityKind::Phone), "{kinds:?}");
    }

    #[test]
    fn an_account_checked_just_before_is_remembered() {
        let earlier = crate::scam::check::check(
            &crate::scam::index::ReportIndex::new(),
            "stk 19036688888888 Techcombank",
            chrono::Utc::now(),
        );
        let p = book("tôi lỡ chuyển khoản rồi, từ MB bank", Some(&earlier));
        assert_eq!(p.receiving_bank.map(|b| b.short_name), Some("Techcombank"));
        assert_eq!(p.own_bank.map(|b| b.short_name), Some("MB"));
        assert_eq!(p.suspects.len(), 1);
    }
}
