//! Detection quality on the SMS evaluation corpus (`tests/corpus/sms.jsonl`, see `tests/corpus/SMS.md`),
//! with an empty report database: what the bot catches before anybody has reported anything.
//!
//! Floors: scams warned (danger or caution) ≥ 95 %, legitimate messages alarmed ≤ 1 %, the link and text
//! signal classes at precision ≥ 0.95 among the messages they warn, phones and domains extracted at
//! precision and recall ≥ 0.98. Run with `-- --nocapture` for the confusion table, the
//! precision and recall per signal class, and every miss.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use serde::Deserialize;
use tradesphere::scam::check::{CheckOutcome, check};
use tradesphere::scam::index::ReportIndex;
use tradesphere::scam::{EntityKind, ReasonKind};

const CORPUS: &str = include_str!("corpus/sms.jsonl");

#[derive(Debug, Deserialize)]
struct Line {
    id: String,
    scam: bool,
    shape: String,
    text: String,
    entities: Vec<Expected>,
}

#[derive(Debug, Deserialize)]
struct Expected {
    kind: String,
    value: String,
}

/// Groups of reason kinds whose precision and recall are reported together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SignalClass {
    Link,
    Number,
    Text,
}

fn class_of(kind: ReasonKind) -> Option<SignalClass> {
    match kind {
        ReasonKind::BrandImpersonation
        | ReasonKind::Homoglyph
        | ReasonKind::Punycode
        | ReasonKind::RiskyTld
        | ReasonKind::IpLiteral
        | ReasonKind::Shortener
        | ReasonKind::ChatLink
        | ReasonKind::RandomLabel
        | ReasonKind::LoginPath
        | ReasonKind::NewDomain => Some(SignalClass::Link),
        ReasonKind::PremiumRate => Some(SignalClass::Number),
        ReasonKind::Scenario
        | ReasonKind::Urgency
        | ReasonKind::CallToAction
        | ReasonKind::Obfuscation => Some(SignalClass::Text),
        ReasonKind::Reported | ReasonKind::OfficialDomain => None,
    }
}

struct Checked {
    line: Line,
    outcome: CheckOutcome,
}

fn corpus() -> Vec<Checked> {
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    let index = ReportIndex::new();
    CORPUS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let line: Line = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let outcome = check(&index, &line.text, now);
            Checked { line, outcome }
        })
        .collect()
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

#[test]
fn scams_are_warned_and_legitimate_messages_left_alone() {
    let checked = corpus();
    let scams: Vec<&Checked> = checked.iter().filter(|c| c.line.scam).collect();
    let legit: Vec<&Checked> = checked.iter().filter(|c| !c.line.scam).collect();
    assert!(scams.len() >= 200 && legit.len() >= 300, "corpus too small");

    let warned = scams.iter().filter(|c| c.outcome.level.warns()).count();
    let alarmed = legit.iter().filter(|c| c.outcome.level.warns()).count();
    let table: BTreeMap<(bool, &str), usize> =
        checked.iter().fold(BTreeMap::new(), |mut table, c| {
            *table
                .entry((c.line.scam, c.outcome.level.as_str()))
                .or_default() += 1;
            table
        });
    println!("\nconfusion (scam?, level) -> messages: {table:?}");
    println!(
        "scams warned {warned}/{} = {:.3}; legitimate alarmed {alarmed}/{} = {:.3}",
        scams.len(),
        ratio(warned, scams.len()),
        legit.len(),
        ratio(alarmed, legit.len())
    );
    // A class "warns" on a message when the message is warned and one of the class's reasons counted.
    let mut floors_missed = Vec::new();
    for (class, floor) in [
        (SignalClass::Link, Some(0.95)),
        (SignalClass::Number, None),
        (SignalClass::Text, Some(0.95)),
    ] {
        let warns = |c: &Checked| {
            c.outcome.level.warns()
                && c.outcome
                    .reasons
                    .iter()
                    .any(|r| class_of(r.kind) == Some(class))
        };
        let on_scams = scams.iter().filter(|c| warns(c)).count();
        let on_legit = legit.iter().filter(|c| warns(c)).count();
        let precision = ratio(on_scams, on_scams + on_legit);
        println!(
            "{class:?}: warned {on_scams} scams and {on_legit} legitimate messages; precision {precision:.3}, recall {:.3}",
            ratio(on_scams, scams.len())
        );
        if floor.is_some_and(|floor| precision < floor) {
            floors_missed.push(format!("{class:?} precision {precision:.3}"));
        }
    }
    for c in scams.iter().filter(|c| !c.outcome.level.warns()) {
        println!("MISSED {} [{}] {}", c.line.id, c.line.shape, c.line.text);
    }
    for c in legit.iter().filter(|c| c.outcome.level.warns()) {
        let why: Vec<String> = c
            .outcome
            .reasons
            .iter()
            .map(|r| format!("{}:{:?}", r.kind.as_str(), r.evidence))
            .collect();
        println!(
            "ALARMED {} [{}] {} ← {}",
            c.line.id,
            c.line.shape,
            c.line.text,
            why.join(", ")
        );
    }
    assert!(
        ratio(warned, scams.len()) >= 0.95,
        "scams warned {warned}/{}",
        scams.len()
    );
    assert!(
        ratio(alarmed, legit.len()) <= 0.01,
        "legitimate alarmed {alarmed}/{}",
        legit.len()
    );
    assert!(floors_missed.is_empty(), "{floors_missed:?}");
}

#[test]
fn phones_and_domains_are_extracted_at_high_precision_and_recall() {
    let checked = corpus();
    for kind in [EntityKind::Phone, EntityKind::Domain] {
        let (mut found, mut expected, mut right) = (0, 0, 0);
        for c in &checked {
            let want: Vec<&str> = c
                .line
                .entities
                .iter()
                .filter(|e| e.kind == kind.as_str())
                .map(|e| e.value.as_str())
                .collect();
            let got: Vec<&str> = c
                .outcome
                .findings
                .iter()
                .filter(|f| f.entity.kind == kind)
                .map(|f| f.entity.value.as_str())
                .collect();
            found += got.len();
            expected += want.len();
            right += got.iter().filter(|g| want.contains(g)).count();
            for g in got.iter().filter(|g| !want.contains(g)) {
                println!("EXTRA {kind} {} {g:?}: {}", c.line.id, c.line.text);
            }
            for w in want.iter().filter(|w| !got.contains(w)) {
                println!("MISSING {kind} {} {w:?}: {}", c.line.id, c.line.text);
            }
        }
        let (precision, recall) = (ratio(right, found), ratio(right, expected));
        println!(
            "{kind}: precision {precision:.3}, recall {recall:.3} ({right} right of {found} found, {expected} expected)"
        );
        assert!(
            precision >= 0.98 && recall >= 0.98,
            "{kind}: precision {precision:.3}, recall {recall:.3}"
        );
    }
}
