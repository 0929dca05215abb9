//! Text signals: scam scenarios, pressure to act and calls to action, found in a message's words (with
//! obfuscation undone by [`Words`]) by one Aho–Corasick pass over the weighted tables of `lexicon`. Pure.
//!
//! Each hit becomes a [`Reason`] quoting the words as written. Whether those reasons warn, and how much,
//! is decided with the message's entities in `assess`.

use std::sync::LazyLock;

use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Serialize;

use super::lexicon::{
    ADVISORY_PHRASES, CALL_TO_ACTION_PHRASES, NEGATIONS, NOT_SCENARIOS, PERSON_PHRASES, PRONOUNS,
    SCENARIO_PHRASES, URGENCY_PHRASES,
};
use super::reason::{Reason, ReasonKind, Weight};
pub use super::scenario::Scenario;
use super::walk::{Found, each_overlapping};
use super::words::Words;

/// The phrase that hit for a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signal {
    pub scenario: Scenario,
    /// The table phrase that matched (folded).
    pub phrase: &'static str,
}

/// What a phrase is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Scenario(Scenario),
    Urgency,
    CallToAction,
    Advisory,
    /// A longer phrase that cancels the scenario hits inside it.
    NotScenario,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    class: Class,
    phrase: &'static str,
    weight: u8,
}

struct Matcher {
    /// Every phrase as `" phrase "`, matched on [`Words::line`] (walked by [`each_overlapping`]).
    automaton: DFA,
    entries: Vec<Entry>,
    /// Scenario phrases of six letters or more without their spaces, searched inside obfuscated words
    /// (`trungthuong`).
    compact: AhoCorasick,
    compact_entries: Vec<Entry>,
}

/// Every scenario phrase with its weight: the tables' own, and each person phrase once per pronoun.
fn scenario_phrases() -> Vec<(Scenario, &'static str, u8)> {
    let mut phrases = Vec::new();
    for (scenario, table) in SCENARIO_PHRASES {
        for &(phrase, weight) in *table {
            phrases.push((*scenario, phrase, weight));
        }
    }
    for (scenario, table) in PERSON_PHRASES {
        for &(template, weight) in *table {
            for pronoun in PRONOUNS {
                let phrase = template.replace("{p}", pronoun);
                if !phrases.iter().any(|(_, p, _)| *p == phrase) {
                    // Built once per process, for the matcher's lifetime.
                    let phrase: &'static str = Box::leak(phrase.into_boxed_str());
                    phrases.push((*scenario, phrase, weight));
                }
            }
        }
    }
    phrases
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let mut entries = Vec::new();
    for (scenario, phrase, weight) in scenario_phrases() {
        entries.push(Entry {
            class: Class::Scenario(scenario),
            phrase,
            weight,
        });
    }
    for &(phrase, weight) in URGENCY_PHRASES {
        entries.push(Entry {
            class: Class::Urgency,
            phrase,
            weight,
        });
    }
    for &(phrase, weight) in CALL_TO_ACTION_PHRASES {
        entries.push(Entry {
            class: Class::CallToAction,
            phrase,
            weight,
        });
    }
    for &phrase in NOT_SCENARIOS {
        entries.push(Entry {
            class: Class::NotScenario,
            phrase,
            weight: 0,
        });
    }
    for &phrase in ADVISORY_PHRASES {
        entries.push(Entry {
            class: Class::Advisory,
            phrase,
            weight: 0,
        });
    }
    let patterns: Vec<String> = entries.iter().map(|e| format!(" {} ", e.phrase)).collect();
    let automaton = DFA::builder()
        // Every pattern starts with a space: a prefilter would stop at each one.
        .prefilter(false)
        .build(&patterns)
        .expect("text signal phrases build an automaton");
    let compact_entries: Vec<Entry> = entries
        .iter()
        .filter(|e| matches!(e.class, Class::Scenario(_)) && e.phrase.contains(' '))
        .filter(|e| e.phrase.len() - e.phrase.matches(' ').count() >= 6)
        .copied()
        .collect();
    let compact_patterns: Vec<String> = compact_entries
        .iter()
        .map(|e| e.phrase.replace(' ', ""))
        .collect();
    let compact = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&compact_patterns)
        .expect("compact phrases build an automaton");
    Matcher {
        automaton,
        entries,
        compact,
        compact_entries,
    }
});

/// One phrase found, at a range of [`Words::line`].
#[derive(Debug, Clone, Copy)]
struct Hit {
    entry: Entry,
    start: usize,
    end: usize,
}

/// The text signals of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextSignals {
    /// Scenario reasons (one per scenario), then urgency, call to action and obfuscation (one each).
    pub reasons: Vec<Reason>,
    /// The scenarios found, each with its heaviest phrase, in [`Scenario`] order.
    pub signals: Vec<Signal>,
    /// The heaviest scenario phrase's own weight (without the point a second phrase adds), or 3 for two
    /// distinct phrases of one scenario that each weigh 2 or more.
    pub strongest: u8,
    /// Distinct phrases of a warner's voice ("không bao giờ yêu cầu", "cảnh giác", "kẻ gian"…) or of a
    /// sender who asks nothing ("không cần thao tác").
    pub advisory: usize,
}

impl TextSignals {
    /// True when a scenario was found.
    #[must_use]
    pub fn has_scenario(&self) -> bool {
        !self.signals.is_empty()
    }
}

/// Every text signal of `text`.
#[must_use]
pub fn text_signals(text: &str) -> TextSignals {
    text_signals_in(text, &Words::new(text))
}

/// As [`text_signals`], with `text`'s words already made.
#[must_use]
pub fn text_signals_in(text: &str, words: &Words) -> TextSignals {
    let matcher = &*MATCHER;
    let line = words.line();
    let mut hits: Vec<Hit> = Vec::with_capacity(16);
    let mut advisory = 0;
    let mut masks: Vec<(usize, usize)> = Vec::new();
    // Overlapping search: the space between two adjacent phrases belongs to both.
    each_overlapping(&matcher.automaton, line.as_bytes(), |found| {
        let Found {
            pattern,
            start,
            end,
        } = found;
        let entry = matcher.entries[pattern];
        if entry.class == Class::Advisory {
            advisory += 1;
        } else if entry.class == Class::NotScenario {
            masks.push((start, end));
        } else if !is_negated(text, words, start) {
            // A negated one ("không cung cấp mã OTP cho ai", "đừng bấm vào link") is advice, not a request.
            hits.push(Hit {
                entry,
                start: start + 1,
                end: end - 1,
            });
        }
    });
    hits.retain(|h| {
        !matches!(h.entry.class, Class::Scenario(_))
            || !masks.iter().any(|&(s, e)| s <= h.start && h.end <= e)
    });
    // The line's words with their offsets, for the rules that read numbers.
    let tokens: Vec<(usize, &str)> = words.tokens().collect();
    if let Some((start, end, weight)) = deadline(&tokens) {
        hits.push(Hit {
            entry: Entry {
                class: Class::Urgency,
                phrase: "",
                weight,
            },
            start,
            end,
        });
    }
    if let Some((start, end, weight)) = pay_per_task(&tokens) {
        hits.push(Hit {
            entry: Entry {
                class: Class::Scenario(Scenario::EasyJob),
                phrase: "nhan tien moi luot",
                weight,
            },
            start,
            end,
        });
    }
    if let Some((start, end)) = fee_to_unlock(&tokens) {
        hits.push(Hit {
            entry: Entry {
                class: Class::Scenario(Scenario::AdvanceFee),
                phrase: "nop phi de rut tien",
                weight: FEE_TO_UNLOCK,
            },
            start,
            end,
        });
    }
    for (range, word) in words.obfuscated_words() {
        for found in matcher.compact.find_iter(word) {
            hits.push(Hit {
                entry: matcher.compact_entries[found.pattern().as_usize()],
                start: range.start,
                end: range.end,
            });
        }
    }
    raise_in_company(&mut hits);
    let mut reasons = Vec::new();
    let mut signals = Vec::new();
    let mut found: Vec<Scenario> = hits
        .iter()
        .filter_map(|h| match h.entry.class {
            Class::Scenario(scenario) => Some(scenario),
            _ => None,
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    for scenario in found {
        let of_scenario: Vec<&Hit> = hits
            .iter()
            .filter(|h| h.entry.class == Class::Scenario(scenario))
            .collect();
        if let Some((reason, phrase)) = scenario_reason(text, words, scenario, &of_scenario) {
            reasons.push(reason);
            signals.push(Signal { scenario, phrase });
        }
    }
    for (class, kind, label) in [
        (
            Class::Urgency,
            ReasonKind::Urgency,
            "hối thúc phải làm ngay",
        ),
        (
            Class::CallToAction,
            ReasonKind::CallToAction,
            "giục bấm vào đường link, gọi điện, kết bạn hoặc chuyển tiền",
        ),
    ] {
        if let Some(hit) = heaviest(hits.iter().filter(|h| h.entry.class == class)) {
            reasons.push(Reason::new(
                kind,
                label,
                text,
                words.span_of(hit.start..hit.end),
                Weight::Points(hit.entry.weight),
            ));
        }
    }
    let disguised = hits.iter().find(|h| {
        matches!(h.entry.class, Class::Scenario(_)) && words.obfuscated_in(h.start..h.end)
    });
    if let Some(hit) = disguised {
        reasons.push(Reason::new(
            ReasonKind::Obfuscation,
            "chữ bị viết lách, chèn ký hiệu để né bộ lọc, một mánh quen của kẻ gian",
            text,
            words.span_of(hit.start..hit.end),
            Weight::Points(2),
        ));
    }
    let strongest = hits
        .iter()
        .filter(|h| matches!(h.entry.class, Class::Scenario(_)))
        .map(|h| h.entry.weight)
        .max()
        .unwrap_or(0)
        .max(two_cues(&hits));
    TextSignals {
        reasons,
        signals,
        strongest,
        advisory,
    }
}

/// One reason for a scenario: its heaviest phrase, plus a point for a second phrase that does not
/// overlap it.
fn scenario_reason(
    text: &str,
    words: &Words,
    scenario: Scenario,
    hits: &[&Hit],
) -> Option<(Reason, &'static str)> {
    let top = heaviest(hits.iter().copied())?;
    let another = hits
        .iter()
        .any(|h| h.end <= top.start || h.start >= top.end);
    let points = top.entry.weight + u8::from(another);
    let mut reason = Reason::new(
        ReasonKind::Scenario,
        scenario_label(scenario),
        text,
        words.span_of(top.start..top.end),
        Weight::Points(points),
    );
    reason.scenario = Some(scenario);
    Some((reason, top.entry.phrase))
}

/// "giống kịch bản lừa đảo quen thuộc: …" for each scenario, written once rather than per message.
static SCENARIO_LABELS: LazyLock<Vec<(Scenario, String)>> = LazyLock::new(|| {
    Scenario::ALL
        .iter()
        .map(|&s| {
            (
                s,
                format!("giống kịch bản lừa đảo quen thuộc: {}", s.label_vi()),
            )
        })
        .collect()
});

fn scenario_label(scenario: Scenario) -> &'static str {
    SCENARIO_LABELS.iter().find(|(s, _)| *s == scenario).map_or(
        "giống kịch bản lừa đảo quen thuộc",
        |(_, label)| label.as_str(),
    )
}

/// Offices that deal with people through their own counters and portals, never a private chat.
const AUTHORITIES: &[Scenario] = &[
    Scenario::PoliceImpersonation,
    Scenario::TaxImpersonation,
    Scenario::UtilityImpersonation,
    Scenario::IdVerification,
    Scenario::InsurancePayout,
    Scenario::TrafficFine,
];

/// Weight of a move to a private chat asked for in an authority's name.
const AUTHORITY_MOVES_YOU: u8 = 3;

/// What a scam promises before it asks for a fee: a job, a prize, a loan, money back, a gift, a payout.
const PROMISES: &[Scenario] = &[
    Scenario::EasyJob,
    Scenario::Prize,
    Scenario::Loan,
    Scenario::RecoveryScam,
    Scenario::RomanceGift,
    Scenario::InsurancePayout,
    Scenario::FakeRefund,
    Scenario::Investment,
];

/// Asking for money up front.
const FEES: &[Scenario] = &[Scenario::AdvanceFee, Scenario::BookingDeposit];

/// Weight of a fee asked for before a promise is kept.
const FEE_FOR_A_PROMISE: u8 = 3;

/// Everyday words that are the scam next to another scenario's: (the company, the scenarios raised, the
/// weight they are raised to). An official who moves the talk to Zalo or Telegram ("điện lực" and "kết bạn
/// Zalo"), and a deposit or fee before a promised job, prize, loan or refund ("tuyển CTV" and "đặt cọc").
const IN_COMPANY: &[(&[Scenario], &[Scenario], u8)] = &[
    (AUTHORITIES, &[Scenario::ChannelSwitch], AUTHORITY_MOVES_YOU),
    (PROMISES, FEES, FEE_FOR_A_PROMISE),
];

/// Raises each hit of a scenario that [`IN_COMPANY`] lists when its company is found too.
fn raise_in_company(hits: &mut [Hit]) {
    for &(company, raised, weight) in IN_COMPANY {
        let present = hits
            .iter()
            .any(|h| matches!(h.entry.class, Class::Scenario(s) if company.contains(&s)));
        if !present {
            continue;
        }
        for hit in hits.iter_mut() {
            if matches!(hit.entry.class, Class::Scenario(s) if raised.contains(&s)) {
                hit.entry.weight = hit.entry.weight.max(weight);
            }
        }
    }
}

/// Weight of two distinct cues of one scenario that each need company ("cho mượn" and "không gọi được").
const TWO_CUES: u8 = 3;

/// [`TWO_CUES`] when one scenario has two different phrases of 2 points or more that do not overlap: two
/// parts of one story are as telling as one strong phrase. Else 0.
fn two_cues(hits: &[Hit]) -> u8 {
    let cue = |h: &&Hit| matches!(h.entry.class, Class::Scenario(_)) && h.entry.weight >= 2;
    let found = hits.iter().filter(cue).any(|a| {
        hits.iter().filter(cue).any(|b| {
            a.entry.class == b.entry.class
                && a.entry.phrase != b.entry.phrase
                && (a.end <= b.start || b.end <= a.start)
        })
    });
    if found { TWO_CUES } else { 0 }
}

/// The heaviest hit, the first of equals.
fn heaviest<'a>(hits: impl Iterator<Item = &'a Hit>) -> Option<&'a Hit> {
    hits.fold(None, |best: Option<&Hit>, hit| match best {
        Some(b) if b.entry.weight >= hit.entry.weight => Some(b),
        _ => Some(hit),
    })
}

/// Every scenario whose phrases in `text` weigh 2 points or more, once each, in [`Scenario`] order, with the
/// heaviest phrase.
#[must_use]
pub fn find_signals(text: &str) -> Vec<Signal> {
    let found = text_signals(text);
    found
        .signals
        .into_iter()
        .filter(|s| {
            found
                .reasons
                .iter()
                .any(|r| r.scenario == Some(s.scenario) && r.weight.points() >= NAMED_SCENARIO)
        })
        .collect()
}

/// Points at which a scenario found in the words is named: one weak word ("tải app", "đầu tư") is not.
pub(crate) const NAMED_SCENARIO: u32 = 2;

/// Words before a time that make it a deadline ("trong 24h", "sau 2 giờ", "trước 17h").
const DEADLINE_WORDS: &[&str] = &["trong", "sau", "truoc", "han", "vong"];
/// Units of a time written apart from its number ("2 giờ", "30 phút").
const TIME_UNITS: &[&str] = &["h", "gio", "tieng", "phut", "p", "ngay"];
/// Words before "ngay" that make it "day" rather than "now" ("hằng ngày", "trong ngày", "mỗi ngày").
const DAY_WORDS: &[&str] = &[
    "hang", "moi", "trong", "cac", "nhung", "cung", "mot", "hai", "ba", "tu", "den", "sau",
    "truoc", "tung", "nua", "vai", "nhieu", "bao", "ket", "trang", "theo",
];

/// A cheap test passed by every [`DEADLINE_WORDS`] entry and "ngay" (and by few other words): the rest are
/// skipped without comparing them with each.
fn may_start_a_deadline(token: &str) -> bool {
    (3..=5).contains(&token.len())
        && matches!(token.as_bytes()[0], b't' | b's' | b'h' | b'v' | b'n')
}

/// A deadline or a demand to act at once, as a line range and weight: "trong 24h" (2), "trước 17h" (1),
/// "xác minh ngay" (1). "ngay" followed by a number is a date, not "now".
fn deadline(tokens: &[(usize, &str)]) -> Option<(usize, usize, u8)> {
    let is_number = |t: &str| t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty();
    let is_time = |t: &str| {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && digits <= 3 && TIME_UNITS.contains(&&t[digits..])
    };
    let mut best: Option<(usize, usize, u8)> = None;
    for (i, &(start, token)) in tokens.iter().enumerate() {
        if !may_start_a_deadline(token) {
            continue;
        }
        let next = tokens.get(i + 1).map(|&(_, t)| t);
        let found = if DEADLINE_WORDS.contains(&token) {
            match (next, tokens.get(i + 2)) {
                (Some(t), _) if is_time(t) => {
                    let (at, t) = tokens[i + 1];
                    Some((at + t.len(), t.ends_with('h') || t.ends_with("phut")))
                }
                (Some(t), Some(&(at, unit)))
                    if is_number(t) && TIME_UNITS.contains(&unit) && unit != "ngay" =>
                {
                    Some((
                        at + unit.len(),
                        matches!(unit, "h" | "gio" | "tieng" | "phut" | "p"),
                    ))
                }
                _ => None,
            }
            .map(|(end, hours)| (start, end, if hours && token != "truoc" { 2 } else { 1 }))
        } else if token == "ngay" && i > 0 {
            let before = tokens[i - 1].1;
            let dated = next.is_some_and(|t| t.bytes().next().is_some_and(|b| b.is_ascii_digit()));
            // "8GB/ngày", "300k/ngày": per day.
            let per_day = before.bytes().any(|b| b.is_ascii_digit());
            (!dated && !per_day && !DAY_WORDS.contains(&before))
                .then(|| (tokens[i - 1].0, start + token.len(), 1))
        } else {
            None
        };
        if let Some(hit) = found
            && best.is_none_or(|b| hit.2 > b.2)
        {
            best = Some(hit);
        }
    }
    best
}

/// Words that say money is earned ("nhận 15k/lượt", "kiếm 300k/ngày").
const EARN_WORDS: &[&str] = &[
    "nhan", "kiem", "duoc", "thuong", "luong", "hoa", "hong", "tra",
];
/// Tasks paid one by one: the shape of "like, review, watch for money" jobs.
const PER_TASK: &[&str] = &[
    "lan", "luot", "video", "like", "bai", "trang", "danh", "nhiem", "click", "view", "clip", "tim",
];
/// Time units a daily or hourly wage is quoted in.
const PER_TIME: &[&str] = &["ngay", "gio", "h"];

/// Money earned per task or per day ("nhận 50k/lần", "kiếm 300-500k/ngày"), as a line range and weight:
/// 3 per task, 2 per day or hour (real part-time jobs quote those too).
fn pay_per_task(tokens: &[(usize, &str)]) -> Option<(usize, usize, u8)> {
    let is_amount = |t: &str| money_unit(t).is_some_and(|unit| MONEY_UNITS.contains(&unit));
    for (i, &(_, token)) in tokens.iter().enumerate() {
        if !is_amount(token) {
            continue;
        }
        let earned = tokens[i.saturating_sub(3)..i]
            .iter()
            .any(|(_, t)| EARN_WORDS.contains(t));
        let Some(&(unit_at, unit)) = tokens.get(i + 1) else {
            continue;
        };
        let weight = if PER_TASK.contains(&unit) {
            3
        } else if PER_TIME.contains(&unit) {
            2
        } else {
            continue;
        };
        if earned {
            let start = tokens[i.saturating_sub(3)..i]
                .iter()
                .find(|(_, t)| EARN_WORDS.contains(t))
                .map_or(tokens[i].0, |(a, _)| *a);
            return Some((start, unit_at + unit.len(), weight));
        }
    }
    None
}

/// Words that ask for money up front.
const FEE_WORDS: &[&str] = &["phi", "coc", "nop", "dong", "nap", "thue", "chuyen", "ck"];
/// What paying is said to unlock: a withdrawal, a loan paid out, a prize. Two or three words each.
const UNLOCKS: &[&[&str]] = &[
    &["de", "rut"],
    &["moi", "rut"],
    &["roi", "rut"],
    &["duoc", "rut"],
    &["de", "giai", "ngan"],
    &["moi", "giai", "ngan"],
    &["thi", "giai", "ngan"],
    &["de", "nhan", "thuong"],
    &["de", "nhan", "giai"],
    &["de", "nhan", "qua"],
    &["thi", "moi", "duoc"],
    &["sau", "do", "rut"],
];
/// Tokens between the fee and what it unlocks.
const FEE_WINDOW: usize = 10;
/// Weight of money asked for to unlock a withdrawal, a payout or a prize.
const FEE_TO_UNLOCK: u8 = 3;

/// What follows the digits a token starts with ("k" of "850k", "" of "10"); `None` without digits.
fn money_unit(token: &str) -> Option<&str> {
    let digits = token.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then(|| &token[digits..])
}

/// Units an amount is written with, after its digits (none for a bare number).
const MONEY_UNITS: &[&str] = &["", "k", "d", "tr", "vnd", "dong", "nghin", "ngan"];

/// An amount of money: digits alone or with a money unit, millions written out or with more digits after
/// them ("4000000d", "850k", "10", "3trieu", "1tr9").
fn is_money(token: &str) -> bool {
    money_unit(token).is_some_and(|unit| MONEY_UNITS.contains(&unit) || unit.starts_with("tr"))
}

/// The first words of [`UNLOCKS`]: every other token is passed over without comparing it with each.
fn may_start_an_unlock(token: &str) -> bool {
    matches!(token, "de" | "moi" | "roi" | "duoc" | "thi" | "sau")
}

/// Money asked for so that something is released ("nộp thuế 10% … để rút", "đóng phí 1tr9 là giải ngân",
/// "phí vận chuyển 850k … để nhận quà"): the advance-fee scam's one shape, whatever the story. An unlock
/// with a fee word and an amount within [`FEE_WINDOW`] tokens on one side of it, as a line range.
fn fee_to_unlock(tokens: &[(usize, &str)]) -> Option<(usize, usize)> {
    for (i, &(_, token)) in tokens.iter().enumerate() {
        if !may_start_an_unlock(token) {
            continue;
        }
        let Some(unlock) = UNLOCKS.iter().find(|u| {
            u[0] == token
                && tokens
                    .get(i..i + u.len())
                    .is_some_and(|t| t.iter().map(|(_, w)| *w).eq(u.iter().copied()))
        }) else {
            continue;
        };
        // The fee is asked before or after what it unlocks ("để rút về cần nộp thuế 10%").
        let after = i + unlock.len();
        let before = &tokens[i.saturating_sub(FEE_WINDOW)..i];
        let later = &tokens[after.min(tokens.len())..(after + FEE_WINDOW).min(tokens.len())];
        for window in [before, later] {
            let fee = window.iter().find(|(_, t)| FEE_WORDS.contains(t));
            if let Some(&(fee_at, fee)) = fee
                && window.iter().any(|(_, t)| is_money(t))
            {
                let (last_at, last) = tokens[after - 1];
                let (start, end) = (tokens[i].0, last_at + last.len());
                return Some((start.min(fee_at), end.max(fee_at + fee.len())));
            }
        }
    }
    None
}

/// True when one of the four words before the line's offset `at` negates what follows.
/// A negation word followed by punctuation ends a question or stands alone ("rảnh không, cho mượn…",
/// "được ko?"): it negates nothing after it. Nor does one in an earlier sentence.
fn is_negated(text: &str, words: &Words, at: usize) -> bool {
    for (word, gap) in words.words_before_with_gaps(text, at).take(4) {
        if gap.contains(SENTENCE_END) {
            return false;
        }
        if NEGATIONS.contains(&word) && !gap.contains(CLAUSE_END) {
            return true;
        }
    }
    false
}

/// Punctuation that ends a sentence: no negation reaches across it.
const SENTENCE_END: [char; 4] = ['.', '?', '!', '\n'];
/// Punctuation right after a negation word that makes it a question's end or a word on its own.
const CLAUSE_END: [char; 6] = [',', ';', ':', '.', '?', '!'];

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
        for (scenario, phrase, _) in scenario_phrases() {
            assert_eq!(
                Words::new(phrase).line().trim(),
                phrase,
                "phrase {phrase:?} must be written folded"
            );
            let found = text_signals(phrase).signals;
            assert!(found.iter().any(|s| s.scenario == scenario), "{phrase}");
        }
    }

    #[test]
    fn reasons_quote_the_words_as_written_and_name_obfuscation() {
        let text = "Qu'y B.H.X.H thông báo: bạn đủ d!eu k!en nhận tr0 cấp thất nghiệp, bấm vào link ngay lập tức";
        let found = text_signals(text);
        let scenario = found
            .reasons
            .iter()
            .find(|r| r.scenario == Some(Scenario::InsurancePayout))
            .expect("insurance payout");
        assert_eq!(scenario.evidence, "Qu'y B.H.X.H");
        assert_eq!(&text[scenario.span.clone()], scenario.evidence);
        let kinds: Vec<ReasonKind> = found.reasons.iter().map(|r| r.kind).collect();
        assert!(kinds.contains(&ReasonKind::Urgency), "{kinds:?}");
        assert!(kinds.contains(&ReasonKind::CallToAction), "{kinds:?}");
        assert!(kinds.contains(&ReasonKind::Obfuscation), "{kinds:?}");
    }

    #[test]
    fn spaced_out_phrases_are_found_inside_the_joined_word() {
        let found = text_signals("T R U N G T H U O N G xe SH");
        assert_eq!(found.signals[0].scenario, Scenario::Prize);
        assert!(
            found
                .reasons
                .iter()
                .any(|r| r.kind == ReasonKind::Obfuscation)
        );
    }

    fn weight_of(found: &TextSignals, scenario: Scenario) -> Option<u32> {
        found
            .reasons
            .iter()
            .find(|r| r.scenario == Some(scenario))
            .map(|r| r.weight.points())
    }

    #[test]
    fn a_negation_ending_a_question_negates_nothing_after_it() {
        // "rảnh không," asks; "không chia sẻ, cung cấp" negates both verbs.
        let asked = text_signals("Ê rảnh không, cho em mượn tạm 5tr");
        assert!(weight_of(&asked, Scenario::FamilyEmergency).is_some());
        let advised = text_signals("Tuyệt đối không chia sẻ, cung cấp mã OTP cho ai");
        assert_eq!(weight_of(&advised, Scenario::OtpRequest), None);
        // Nor does a negation in an earlier sentence.
        let earlier = text_signals("Mình không đi được. Cho em mượn tạm 2 triệu");
        assert!(weight_of(&earlier, Scenario::FamilyEmergency).is_some());
    }

    #[test]
    fn person_phrases_match_every_way_a_chat_names_someone() {
        for text in ["tk e bị lỗi rồi", "tài khoản chị bị lỗi", "TK MINH BI LOI"] {
            let found = text_signals(text);
            assert_eq!(
                weight_of(&found, Scenario::FamilyEmergency),
                Some(3),
                "{text}"
            );
        }
    }

    #[test]
    fn an_authority_moving_the_talk_to_zalo_is_strong() {
        let plain = text_signals("Anh kết bạn Zalo với em nhé");
        assert_eq!(weight_of(&plain, Scenario::ChannelSwitch), Some(2));
        let official = text_signals("Em bên điện lực, anh kết bạn Zalo để em hướng dẫn");
        assert_eq!(weight_of(&official, Scenario::ChannelSwitch), Some(3));
        assert!(official.strongest >= 3);
    }

    #[test]
    fn a_fee_before_a_promise_is_strong() {
        let booking = text_signals("Đặt cọc giữ phòng 500k nhé");
        assert!(booking.strongest < 3);
        let job = text_signals("Tuyển CTV làm tại nhà, đặt cọc 500k để nhận hàng");
        assert!(weight_of(&job, Scenario::BookingDeposit).is_some_and(|w| w >= 3));
    }

    #[test]
    fn two_different_cues_of_one_story_are_strong() {
        let one = text_signals("cho em mượn 2 triệu nhé");
        assert!(one.strongest < 3);
        let two = text_signals("cho em mượn 2 triệu, em không gọi được");
        assert_eq!(two.strongest, 3);
        // One phrase said twice is one cue.
        let twice = text_signals("Telegram code 48217, sent by Telegram");
        assert!(twice.strongest < 3);
    }

    #[test]
    fn a_notice_that_says_if_it_was_not_you_is_no_unwanted_service() {
        let found = text_signals(
            "Mã OTP đăng nhập là 360917. Nếu không phải bạn thực hiện, vui lòng gọi tổng đài",
        );
        assert_eq!(weight_of(&found, Scenario::UnwantedService), None);
    }

    #[test]
    fn money_asked_to_release_a_withdrawal_a_loan_or_a_prize_is_an_advance_fee() {
        for text in [
            "Để rút 184 triệu anh cần nộp thuế 10% là 18.400.000đ trước, nộp xong để rút toàn bộ",
            "a đóng 1tr9 phí bảo hiểm thì giải ngân luôn ạ",
            "Phí vận chuyển 850k, bạn ck trước để nhận quà nhé",
            "Để rút về anh cần nộp thuế thu nhập 10% (18.400.000đ) trước",
        ] {
            let found = text_signals(text);
            assert!(
                weight_of(&found, Scenario::AdvanceFee).is_some_and(|w| w >= 3),
                "{text}"
            );
        }
        // A deposit that keeps a room, and a withdrawal with no fee, are no such thing.
        for text in [
            "Anh đặt cọc 500k để giữ phòng nhé",
            "Rút tiền 2.000.000đ tại ATM thành công",
        ] {
            let found = text_signals(text);
            assert_eq!(weight_of(&found, Scenario::AdvanceFee), None, "{text}");
        }
    }

    #[test]
    fn a_second_phrase_of_a_scenario_adds_a_point() {
        let one = text_signals("vay tiền nhanh");
        let two = text_signals("vay tiền nhanh, không cần thế chấp");
        let points = |t: &TextSignals| t.reasons[0].weight.points();
        assert_eq!(points(&two), points(&one) + 1);
    }

    #[test]
    fn every_unlock_passes_the_quick_test() {
        for unlock in UNLOCKS {
            assert!(may_start_an_unlock(unlock[0]), "{unlock:?}");
        }
    }

    #[test]
    fn every_deadline_word_passes_the_quick_test() {
        for word in DEADLINE_WORDS.iter().chain(&["ngay"]) {
            assert!(may_start_a_deadline(word), "{word}");
        }
    }

    #[test]
    fn deadlines_and_demands_to_act_now_are_pressure() {
        let urgency = |text: &str| {
            text_signals(text)
                .reasons
                .into_iter()
                .find(|r| r.kind == ReasonKind::Urgency)
                .map(|r| (r.evidence, r.weight.points()))
        };
        assert_eq!(
            urgency("bị khóa trong 24h nữa"),
            Some(("trong 24h".into(), 2))
        );
        assert_eq!(urgency("hủy sau 2 giờ"), Some(("sau 2 giờ".into(), 2)));
        assert_eq!(urgency("nộp trước 17h"), Some(("trước 17h".into(), 1)));
        assert_eq!(urgency("Xác minh ngay!"), Some(("minh ngay".into(), 1)));
        assert_eq!(urgency("họp ngày 12/12 lúc 9h"), None);
        assert_eq!(urgency("uống thuốc hằng ngày, trong ngày 3 lần"), None);
        assert_eq!(urgency("gói 8GB/ngày, 300k/ngày"), None);
    }

    #[test]
    fn money_per_task_is_an_easy_job() {
        let job = |text: &str| {
            text_signals(text)
                .reasons
                .into_iter()
                .find(|r| r.scenario == Some(Scenario::EasyJob))
                .map(|r| r.evidence)
        };
        assert_eq!(job("xem clip nhận 15k/lượt"), Some("nhận 15k/lượt".into()));
        assert!(job("kiếm 300-500k/ngày").is_some());
        assert_eq!(job("phí 1.100đ/lần rút tiền"), None);
        assert_eq!(job("Giảm 50k/đơn cho bạn"), None);
    }

    #[test]
    fn a_longer_phrase_can_cancel_a_scenario_inside_it() {
        assert!(scenarios("Nạp tiền điện thoại 100.000đ thành công").is_empty());
        assert!(scenarios("Mua 1 tặng 1 tất cả đồ uống").is_empty());
        assert_eq!(
            scenarios("Nợ tiền điện, sẽ bị cắt điện"),
            vec![Scenario::UtilityImpersonation]
        );
    }

    #[test]
    fn a_warning_voice_is_noticed() {
        assert!(
            text_signals("Vietcombank không bao giờ yêu cầu khách hàng cung cấp OTP").advisory > 0
        );
        assert_eq!(text_signals("Mẹ ơi con về muộn").advisory, 0);
    }
}
