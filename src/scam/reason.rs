//! Why a message, or one entity in it, looks like a scam: the reasons a check gives, their weight, and the
//! three-state level they add up to. Pure.
//!
//! A reason always quotes its `evidence`, the exact substring of the user's text it fired on, so the reply
//! can show the user what was meant. No level says "safe": `NoSigns` only means nothing was found.

use std::borrow::Cow;
use std::ops::Range;

use serde::Serialize;

use super::scenario::Scenario;

/// The three states of a verdict, weakest first so that `max()` picks the strongest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Nothing found. Never to be read or shown as "safe".
    #[default]
    NoSigns,
    /// Suspicious: worth a warning, not a certainty.
    Caution,
    /// Very likely a scam.
    Danger,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Danger, Level::Caution, Level::NoSigns];

    /// Stable identifier (JSON, metric label).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Danger => "danger",
            Level::Caution => "caution",
            Level::NoSigns => "no_signs",
        }
    }

    /// True for `Danger` and `Caution`: the reply warns.
    #[must_use]
    pub fn warns(self) -> bool {
        self != Level::NoSigns
    }

    /// The level a score reaches (see [`Weight`]).
    #[must_use]
    pub fn from_score(score: u32, decisive: bool) -> Level {
        if decisive || score >= DANGER_SCORE {
            Level::Danger
        } else if score >= CAUTION_SCORE {
            Level::Caution
        } else {
            Level::NoSigns
        }
    }
}

/// Points at which a message or an entity is worth a caution.
pub const CAUTION_SCORE: u32 = 3;
/// Points at which it is a danger.
pub const DANGER_SCORE: u32 = 6;

/// How much one reason counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weight {
    /// Said to the user, counts nothing (an official domain).
    Info,
    /// Points toward [`CAUTION_SCORE`] and [`DANGER_SCORE`].
    Points(u8),
    /// Danger by itself (a verified report, a brand look-alike domain).
    Decisive,
}

impl Weight {
    #[must_use]
    pub fn points(self) -> u32 {
        match self {
            Weight::Info => 0,
            Weight::Points(p) => u32::from(p),
            Weight::Decisive => DANGER_SCORE,
        }
    }
}

/// What kind of evidence a reason is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// The report database lists the entity (its verdict says how firmly).
    Reported,
    /// A domain that carries a brand's name, or a look-alike of it, and is not the brand's.
    BrandImpersonation,
    /// Characters from another script that look like Latin letters, or several scripts in one label.
    Homoglyph,
    /// An internationalised (`xn--`) domain.
    Punycode,
    /// A top-level domain that is mostly used for abuse.
    RiskyTld,
    /// A link to a bare IP address.
    IpLiteral,
    /// A link shortener that hides the destination.
    Shortener,
    /// A link into a private chat or group (Telegram, Zalo groups…).
    ChatLink,
    /// A domain label that looks machine-generated.
    RandomLabel,
    /// A login, verify or update path on a suspicious host.
    LoginPath,
    /// The registrable domain is a brand's official one. Information, never a "safe" claim.
    OfficialDomain,
    /// A premium-rate (1900) number.
    PremiumRate,
    /// Words of a known scam scenario.
    Scenario,
    /// Pressure to act now.
    Urgency,
    /// A push to click, call, add a contact or pay.
    CallToAction,
    /// Words broken up (symbols, digits for letters, spaced letters) to slip past filters.
    Obfuscation,
    /// A domain registered only days ago (by RDAP, when the lookup is on).
    NewDomain,
}

impl ReasonKind {
    pub const ALL: [ReasonKind; 17] = [
        ReasonKind::Reported,
        ReasonKind::BrandImpersonation,
        ReasonKind::Homoglyph,
        ReasonKind::Punycode,
        ReasonKind::RiskyTld,
        ReasonKind::IpLiteral,
        ReasonKind::Shortener,
        ReasonKind::ChatLink,
        ReasonKind::RandomLabel,
        ReasonKind::LoginPath,
        ReasonKind::OfficialDomain,
        ReasonKind::PremiumRate,
        ReasonKind::Scenario,
        ReasonKind::Urgency,
        ReasonKind::CallToAction,
        ReasonKind::Obfuscation,
        ReasonKind::NewDomain,
    ];

    /// Stable identifier (JSON, metric label).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonKind::Reported => "reported",
            ReasonKind::BrandImpersonation => "brand_impersonation",
            ReasonKind::Homoglyph => "homoglyph",
            ReasonKind::Punycode => "punycode",
            ReasonKind::RiskyTld => "risky_tld",
            ReasonKind::IpLiteral => "ip_literal",
            ReasonKind::Shortener => "shortener",
            ReasonKind::ChatLink => "chat_link",
            ReasonKind::RandomLabel => "random_label",
            ReasonKind::LoginPath => "login_path",
            ReasonKind::OfficialDomain => "official_domain",
            ReasonKind::PremiumRate => "premium_rate",
            ReasonKind::Scenario => "scenario",
            ReasonKind::Urgency => "urgency",
            ReasonKind::CallToAction => "call_to_action",
            ReasonKind::Obfuscation => "obfuscation",
            ReasonKind::NewDomain => "new_domain",
        }
    }
}

/// One reason, with the substring it fired on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub kind: ReasonKind,
    /// Set for [`ReasonKind::Scenario`]: which one.
    pub scenario: Option<Scenario>,
    /// What it means, in Vietnamese, for the user ("giả tên ngân hàng Vietcombank"); most labels are
    /// fixed text, borrowed rather than copied per message.
    pub label: Cow<'static, str>,
    /// Exactly as written in the checked text: `&text[span]`.
    pub evidence: String,
    /// Byte range of `evidence` in the checked text.
    pub span: Range<usize>,
    pub weight: Weight,
    /// The outside feed a [`ReasonKind::Reported`] reason comes from, by name.
    pub source: Option<String>,
}

impl Reason {
    /// A reason quoting `text[span]`.
    #[must_use]
    pub fn new(
        kind: ReasonKind,
        label: impl Into<Cow<'static, str>>,
        text: &str,
        span: Range<usize>,
        weight: Weight,
    ) -> Reason {
        Reason {
            kind,
            scenario: None,
            label: label.into(),
            evidence: text.get(span.clone()).unwrap_or_default().to_string(),
            span,
            weight,
            source: None,
        }
    }
}

/// The level a set of reasons adds up to. Each kind (and each scenario) counts once, at its heaviest, so
/// five risky-TLD links do not outweigh one look-alike bank domain.
#[must_use]
pub fn level_of(reasons: &[Reason]) -> Level {
    let (score, decisive) = score_of(reasons);
    Level::from_score(score, decisive)
}

/// The points of `reasons` (each kind and scenario once, at its heaviest) and whether one is decisive.
#[must_use]
pub fn score_of(reasons: &[Reason]) -> (u32, bool) {
    let mut best: Vec<((ReasonKind, Option<Scenario>), u32)> = Vec::with_capacity(reasons.len());
    let mut decisive = false;
    for reason in reasons {
        decisive |= reason.weight == Weight::Decisive;
        let key = (reason.kind, reason.scenario);
        let points = reason.weight.points();
        match best.iter_mut().find(|(k, _)| *k == key) {
            Some((_, p)) => *p = (*p).max(points),
            None => best.push((key, points)),
        }
    }
    (best.iter().map(|(_, p)| p).sum(), decisive)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(kind: ReasonKind, weight: Weight) -> Reason {
        Reason::new(kind, "x", "abc", 0..1, weight)
    }

    #[test]
    fn levels_order_strongest_last() {
        assert_eq!(
            [Level::Caution, Level::Danger, Level::NoSigns]
                .into_iter()
                .max(),
            Some(Level::Danger)
        );
        assert!(!Level::NoSigns.warns());
    }

    #[test]
    fn a_kind_counts_once_at_its_heaviest() {
        let reasons = [
            reason(ReasonKind::RiskyTld, Weight::Points(3)),
            reason(ReasonKind::RiskyTld, Weight::Points(3)),
        ];
        assert_eq!(level_of(&reasons), Level::Caution);
        let reasons = [
            reason(ReasonKind::RiskyTld, Weight::Points(3)),
            reason(ReasonKind::Shortener, Weight::Points(3)),
        ];
        assert_eq!(level_of(&reasons), Level::Danger);
    }

    #[test]
    fn information_alone_is_no_sign_and_decisive_is_danger() {
        assert_eq!(
            level_of(&[reason(ReasonKind::OfficialDomain, Weight::Info)]),
            Level::NoSigns
        );
        assert_eq!(
            level_of(&[reason(ReasonKind::BrandImpersonation, Weight::Decisive)]),
            Level::Danger
        );
        assert_eq!(level_of(&[]), Level::NoSigns);
    }

    #[test]
    fn evidence_is_the_quoted_substring() {
        let r = Reason::new(
            ReasonKind::Urgency,
            "gấp",
            "làm ngay nhé",
            5..9,
            Weight::Points(1),
        );
        assert_eq!(r.evidence, "ngay");
    }
}
