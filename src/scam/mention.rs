//! Brands named in a message's words, and what that says about the numbers and links beside them. Pure.
//!
//! A bank, wallet, carrier, power company or state body that texts its customers points them to its own
//! site or its hotline. A message that names one and gives a personal mobile number, an account to pay
//! into or someone else's link is how impersonation looks when the domain itself does not give it away
//! (`[Vietcombank] … bit.ly/…`, `Vietjet: … liên hệ 0869…`). A number counts only when it is a mobile
//! offered as the one to contact; shops, delivery firms and social networks are left out for numbers (their
//! shippers and sellers do call from mobiles), and a domain only when it is written as a link.
//!
//! Chat links (`t.me/…`, `zalo.me/g/…`) are a signal of their own: moving the talk into a private group
//! or chat is how job, investment and romance scams go on.

use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::MatchKind;
use aho_corasick::dfa::DFA;

use super::entity::{Entity, EntityKind};
use super::link::{Brand, BrandCategory, brands, official_brand};
use super::reason::{Reason, ReasonKind, Weight};
use super::text::last_words;
use super::walk::each_leftmost;
use super::words::Words;

/// Hosts whose links open a private chat or a group.
const CHAT_HOSTS: &[&str] = &[
    "t.me",
    "telegram.me",
    "telegram.dog",
    "wa.me",
    "chat.whatsapp.com",
    "m.me",
    "line.me",
    "discord.gg",
];
/// Zalo's own host, a chat link only with a group (`/g/`) or a person's number after it.
const ZALO_HOST: &str = "zalo.me";

/// Brand names folded as words, each with its brand.
struct Names {
    /// Walked by [`each_leftmost`].
    automaton: DFA,
    brands: Vec<&'static Brand>,
}

static NAMES: LazyLock<Names> = LazyLock::new(|| {
    let mut patterns = Vec::new();
    let mut owners = Vec::new();
    for brand in brands() {
        let name = Words::new(&brand.name).line().to_string();
        let keywords = brand
            .keywords
            .iter()
            .chain(&brand.tokens)
            .map(|k| format!(" {k} "));
        // Two-letter keywords ("mb") are everyday syllables.
        for pattern in std::iter::once(name).chain(keywords) {
            if pattern.trim().len() >= 3 && !patterns.contains(&pattern) {
                patterns.push(pattern);
                owners.push(brand);
            }
        }
    }
    let automaton = DFA::builder()
        .match_kind(MatchKind::LeftmostLongest)
        // Every pattern starts with a space: a prefilter would stop at each one.
        .prefilter(false)
        .build(&patterns)
        .expect("brand names build an automaton");
    Names {
        automaton,
        brands: owners,
    }
});

/// The brands named in `words`, each once, with the first place it is named (a line range of `words`).
#[must_use]
pub fn brands_named(words: &Words) -> Vec<(&'static Brand, Range<usize>)> {
    let names = &*NAMES;
    let mut found: Vec<(&'static Brand, Range<usize>)> = Vec::new();
    each_leftmost(&names.automaton, words.line().as_bytes(), |hit| {
        let brand = names.brands[hit.pattern];
        if !found.iter().any(|(b, _)| std::ptr::eq(*b, brand)) {
            found.push((brand, hit.start + 1..hit.end - 1));
        }
    });
    found
}

/// A reason for `entity` when the message names a brand that would not give it: a personal number, an
/// account, or a link that is not the brand's (nor any brand's own).
#[must_use]
pub fn named_brand_reason(
    text: &str,
    words: &Words,
    named: &[(&'static Brand, Range<usize>)],
    entity: &Entity,
) -> Option<Reason> {
    if named.is_empty() {
        return None;
    }
    // Whether the entity is offered at all does not depend on the brand: read it once.
    let offered = match entity.kind {
        EntityKind::Domain => {
            official_brand(&entity.value).is_none() && written_as_link(text, entity)
        }
        // A mobile number offered as the one to call or message: receipts and statements name numbers too.
        EntityKind::Phone => entity.carrier.is_some() && offered_as_contact(text, entity),
        EntityKind::BankAccount => false,
    };
    if !offered {
        return None;
    }
    let (brand, at, points) = named.iter().find_map(|(brand, at)| {
        points_for(brand.category, entity.kind).map(|points| (brand, at, points))
    })?;
    let what = match entity.kind {
        EntityKind::Phone => "số điện thoại",
        EntityKind::BankAccount => "số tài khoản",
        EntityKind::Domain => "đường link",
    };
    Some(Reason::new(
        ReasonKind::BrandImpersonation,
        format!(
            "tin nhắn nhắc tên {} nhưng đưa {what} không phải của {}",
            brand.name, brand.name
        ),
        text,
        words.span_of(at.clone()),
        Weight::Points(points),
    ))
}

/// Points for a brand of `category` named next to an offered entity of `kind`; `None` when it says
/// nothing. A link that is no brand's own weighs more next to an institution; a mobile number counts
/// next to any brand but a shop, a delivery firm or a social network, whose staff do call.
fn points_for(category: BrandCategory, kind: EntityKind) -> Option<u8> {
    let institution = matches!(
        category,
        BrandCategory::Bank
            | BrandCategory::Wallet
            | BrandCategory::Carrier
            | BrandCategory::Utility
            | BrandCategory::Government
    );
    match kind {
        EntityKind::Domain => Some(if institution { 3 } else { 2 }),
        EntityKind::Phone
            if !matches!(
                category,
                BrandCategory::Shop | BrandCategory::Delivery | BrandCategory::Social
            ) =>
        {
            Some(2)
        }
        EntityKind::Phone | EntityKind::BankAccount => None,
    }
}

/// Words that offer the number right after them as the one to contact.
const CONTACT_CUES: &[&str] = &[
    "lh", "lien", "goi", "zalo", "hotline", "nhan", "ket", "add", "inbox", "ib", "sdt", "dt",
    "cskh", "vien",
];

/// True when one of the four words before the number is a contact word ("liên hệ", "gọi", "Zalo"…).
fn offered_as_contact(text: &str, entity: &Entity) -> bool {
    Words::new(last_words(text, entity.span.start, 4))
        .line()
        .split_whitespace()
        .any(|w| CONTACT_CUES.contains(&w))
}

/// True when the domain is written as a link (a scheme, `www.` or a path), not just named in prose
/// ("đừng bấm link bit.ly").
fn written_as_link(text: &str, entity: &Entity) -> bool {
    let raw = text.get(entity.span.clone()).unwrap_or_default();
    let after = text.get(entity.span.end..).unwrap_or_default();
    raw.contains("://") || raw.contains('/') || after.starts_with('/') || raw.starts_with("www.")
}

/// A chat or group link (`t.me/…`, `zalo.me/g/…`, `zalo.me/0912…`).
#[must_use]
pub fn chat_link_reason(text: &str, entity: &Entity) -> Option<Reason> {
    if entity.kind != EntityKind::Domain {
        return None;
    }
    let host = entity.value.as_str();
    // Most links are neither: no need to read their path.
    if host != ZALO_HOST && !CHAT_HOSTS.contains(&host) {
        return None;
    }
    // The link as written, up to the next space: the entity's span may end at the host or the path.
    let start = entity.span.start.min(text.len());
    let end = text[start..]
        .find(char::is_whitespace)
        .map_or(text.len(), |i| start + i)
        .max(entity.span.end.min(text.len()));
    let link = text
        .get(start..end)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let path = link.find(host).map_or("", |at| &link[at + host.len()..]);
    let chat = CHAT_HOSTS.contains(&host)
        || (host == ZALO_HOST
            && (path.starts_with("/g/") || path.as_bytes().get(1).is_some_and(u8::is_ascii_digit)));
    chat.then(|| {
        Reason::new(
            ReasonKind::ChatLink,
            "đường link mời vào nhóm hoặc nhắn riêng (Telegram, Zalo…), nơi kẻ gian hay kéo người ta vào",
            text,
            start..end,
            Weight::Points(2),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::extract::extract;

    fn reasons(text: &str) -> Vec<(ReasonKind, u32, String)> {
        let words = Words::new(text);
        let named = brands_named(&words);
        extract(text)
            .iter()
            .flat_map(|e| {
                named_brand_reason(text, &words, &named, e)
                    .into_iter()
                    .chain(chat_link_reason(text, e))
            })
            .map(|r| (r.kind, r.weight.points(), r.evidence))
            .collect()
    }

    #[test]
    fn a_bank_with_someone_elses_link_or_a_mobile_number() {
        assert_eq!(
            reasons("[Vietcombank] Thong bao quan trong. Xem tai bit.ly/vcb-tb"),
            vec![(ReasonKind::BrandImpersonation, 3, "Vietcombank".to_string())]
        );
        assert_eq!(
            reasons("Techcombank Rewards: điểm sắp hủy, liên hệ 0822 510 736"),
            vec![(ReasonKind::BrandImpersonation, 2, "Techcombank".to_string())]
        );
    }

    #[test]
    fn the_brands_own_site_and_hotlines_say_nothing() {
        assert!(reasons("Vietcombank: chi tiết tại https://www.vietcombank.com.vn").is_empty());
        assert!(reasons("Vietcombank: hotline 1900 545 413").is_empty());
        // Shippers call from mobiles.
        assert!(reasons("GHN: shipper 0912 345 678 sẽ giao hàng hôm nay").is_empty());
        // A receipt names the number topped up; an advisory names a shortener in prose.
        assert!(reasons("ZaloPay: Nạp tiền cho thuê bao 0336127584 thành công").is_empty());
        assert!(reasons("Techcombank không bao giờ gửi link rút gọn bit.ly qua SMS").is_empty());
    }

    #[test]
    fn chat_and_group_links_are_named() {
        let found = reasons("Tham gia nhóm: t.me/kiemtien_vn ngay");
        assert_eq!(
            found,
            vec![(ReasonKind::ChatLink, 2, "t.me/kiemtien_vn".to_string())]
        );
        let group = reasons("vào nhóm https://zalo.me/g/abc123");
        assert_eq!(group[0].0, ReasonKind::ChatLink);
        assert!(reasons("tải Zalo tại zalo.me").is_empty());
    }
}
