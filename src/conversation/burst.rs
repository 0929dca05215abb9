//! A quick run of messages to the model is answered with one call: each message that goes to the model
//! joins the burst, which waits one debounce window past its newest message (capped), then is answered
//! together. Every message is recorded; the last carries the reply and the others close as merged. (If the
//! last was handled elsewhere meanwhile, the store's commit moves the reply to the burst's last event it
//! does close, so no burst goes unanswered.)

use std::time::{Duration, Instant};

use crate::domain::UserId;
use crate::llm::prompt::Facts;
use crate::pipeline::Outcome;
use crate::reply::verdict;
use crate::scam::check::CheckOutcome;
use crate::store::{ChatLine, Completion};

/// A burst is answered at the latest after this many messages or this many debounce windows.
pub const MAX_BURST: usize = 8;
pub const MAX_BURST_WINDOWS: u32 = 4;

/// A pause check this recent needs no repeat before answering (a burst answered at once after its check).
pub const PAUSE_CHECK_FRESH: Duration = Duration::from_millis(100);

/// One message waiting in the burst.
#[derive(Debug, Clone)]
pub struct BurstMessage {
    pub inbox_id: i64,
    pub event_key: String,
    pub line: ChatLine,
    pub text: String,
    /// This message's scam check: facts for the model, and the templated answer if the model fails.
    pub check: CheckOutcome,
}

/// The messages waiting for the debounce window to close.
#[derive(Debug, Default)]
pub struct Burst {
    messages: Vec<BurstMessage>,
    started: Option<Instant>,
    /// Numbers the scheduled flushes: only the newest fires, so each new message extends the window.
    seq: u64,
}

/// What follows a message joining the burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// Answer the burst now.
    Flush,
    /// Schedule the flush numbered so one debounce window from now.
    Wait(u64),
}

impl Burst {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Adds a message; the burst is answered at once with no debounce, or when it is full or old enough.
    pub fn join(&mut self, message: BurstMessage, debounce: Duration, now: Instant) -> Join {
        self.messages.push(message);
        let started = *self.started.get_or_insert(now);
        if debounce.is_zero()
            || self.messages.len() >= MAX_BURST
            || now.saturating_duration_since(started) >= debounce * MAX_BURST_WINDOWS
        {
            return Join::Flush;
        }
        self.seq += 1;
        Join::Wait(self.seq)
    }

    /// True when the flush numbered `seq` is the newest scheduled.
    #[must_use]
    pub fn is_due(&self, seq: u64) -> bool {
        seq == self.seq
    }

    /// Takes the waiting messages; the next message starts a new window.
    pub fn take(&mut self) -> Vec<BurstMessage> {
        self.started = None;
        std::mem::take(&mut self.messages)
    }
}

/// The burst's own checks merged: every finding and reason, each signal scenario once, the strongest level.
#[must_use]
pub fn merged_check(messages: &[BurstMessage]) -> CheckOutcome {
    CheckOutcome::merged(messages.iter().map(|m| &m.check))
}

/// The facts for the model: the burst's own checks, else the user's recent findings (a follow-up question).
#[must_use]
pub fn facts(merged: &CheckOutcome, recent: Option<&CheckOutcome>) -> Facts {
    let source = if merged.found_anything() {
        merged
    } else {
        match recent {
            Some(recent) => recent,
            None => return Facts::default(),
        }
    };
    Facts {
        findings: source.findings.clone(),
        signals: source
            .signals
            .iter()
            .map(|s| s.scenario.label_vi().to_string())
            .collect(),
        verdict: verdict::has_verdict(source).then_some(source.level),
        reasons: source
            .reasons
            .iter()
            .map(|r| format!("{}: “{}”", r.label, r.evidence.trim()))
            .collect(),
    }
}

/// The reply once the model path answered with `text` and `answered` (`Llm`, `LlmLimited` or
/// `LlmFallback`). A burst with a verdict always gets it, deterministic and first: the model's answer
/// may only follow it, and without the model's answer the templated verdict stands alone.
#[must_use]
pub fn reply(text: String, answered: Outcome, merged: &CheckOutcome) -> (String, Outcome) {
    if !verdict::has_verdict(merged) {
        return (text, answered);
    }
    if answered == Outcome::Llm {
        return (verdict::with_explanation(merged, &text), answered);
    }
    (verdict::scam_reply(merged), Outcome::ScamCheck)
}

/// The completions that record an answered burst: the last message carries the reply and `outcome`, the
/// others close as merged.
#[must_use]
pub fn answered(
    messages: Vec<BurstMessage>,
    user: &UserId,
    parts: &[String],
    outcome: Outcome,
) -> Vec<Completion> {
    let last = messages.len().saturating_sub(1);
    messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let (reply_parts, outcome) = if i == last {
                (parts.to_vec(), outcome)
            } else {
                (Vec::new(), Outcome::LlmMerged)
            };
            Completion {
                inbox_id: m.inbox_id,
                event_key: m.event_key,
                user: user.clone(),
                user_message: Some(m.line),
                reply_parts,
                outcome,
            }
        })
        .collect()
}

/// The completions that record a burst an OA admin took over while it waited: no reply.
#[must_use]
pub fn paused(messages: Vec<BurstMessage>, user: &UserId) -> Vec<Completion> {
    messages
        .into_iter()
        .map(|m| Completion {
            inbox_id: m.inbox_id,
            event_key: m.event_key,
            user: user.clone(),
            user_message: Some(m.line),
            reply_parts: Vec::new(),
            outcome: Outcome::HandoffPaused,
        })
        .collect()
}

/// Before answering a burst, the pause is read again unless it was found clear a moment ago: an OA admin
/// may have taken over while the burst waited.
#[must_use]
pub fn needs_pause_check(pause_clear_at: Option<Instant>, now: Instant) -> bool {
    pause_clear_at.is_none_or(|at| now.saturating_duration_since(at) >= PAUSE_CHECK_FRESH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::index::ReportIndex;
    use crate::scam::signals::Scenario;

    const DEBOUNCE: Duration = Duration::from_millis(500);

    fn message(inbox_id: i64, text: &str) -> BurstMessage {
        message_with(inbox_id, text, CheckOutcome::default())
    }

    fn message_with(inbox_id: i64, text: &str, check: CheckOutcome) -> BurstMessage {
        BurstMessage {
            inbox_id,
            event_key: format!("key-{inbox_id}"),
            line: ChatLine {
                content: text.to_string(),
                message_type: "text".to_string(),
            },
            text: text.to_string(),
            check,
        }
    }

    fn checked(text: &str) -> CheckOutcome {
        crate::scam::check::check(&ReportIndex::new(), text, chrono::Utc::now())
    }

    fn user() -> UserId {
        UserId::parse("1234567890").unwrap()
    }

    #[test]
    fn a_message_waits_one_debounce_window_for_the_next() {
        let mut burst = Burst::default();
        let t0 = Instant::now();
        assert_eq!(burst.join(message(1, "a"), DEBOUNCE, t0), Join::Wait(1));
        assert_eq!(burst.len(), 1);
        assert!(burst.is_due(1));
    }

    #[test]
    fn without_a_debounce_every_message_is_answered_at_once() {
        let mut burst = Burst::default();
        assert_eq!(
            burst.join(message(1, "a"), Duration::ZERO, Instant::now()),
            Join::Flush
        );
    }

    #[test]
    fn only_the_newest_scheduled_flush_fires() {
        let mut burst = Burst::default();
        let t0 = Instant::now();
        let Join::Wait(first) = burst.join(message(1, "a"), DEBOUNCE, t0) else {
            panic!("waits");
        };
        let Join::Wait(second) = burst.join(message(2, "b"), DEBOUNCE, t0 + DEBOUNCE / 2) else {
            panic!("waits");
        };
        assert!(!burst.is_due(first));
        assert!(burst.is_due(second));
    }

    #[test]
    fn the_eighth_message_closes_the_burst() {
        let mut burst = Burst::default();
        let t0 = Instant::now();
        for i in 1..MAX_BURST as i64 {
            assert!(matches!(
                burst.join(message(i, "x"), DEBOUNCE, t0),
                Join::Wait(_)
            ));
        }
        assert_eq!(burst.join(message(8, "x"), DEBOUNCE, t0), Join::Flush);
    }

    #[test]
    fn a_burst_that_keeps_growing_is_answered_after_four_windows() {
        let mut burst = Burst::default();
        let t0 = Instant::now();
        assert!(matches!(
            burst.join(message(1, "a"), DEBOUNCE, t0),
            Join::Wait(_)
        ));
        let almost = t0 + DEBOUNCE * MAX_BURST_WINDOWS - Duration::from_millis(1);
        assert!(matches!(
            burst.join(message(2, "b"), DEBOUNCE, almost),
            Join::Wait(_)
        ));
        assert_eq!(
            burst.join(message(3, "c"), DEBOUNCE, t0 + DEBOUNCE * MAX_BURST_WINDOWS),
            Join::Flush
        );
    }

    #[test]
    fn taking_the_burst_starts_a_new_window() {
        let mut burst = Burst::default();
        let t0 = Instant::now();
        burst.join(message(1, "a"), DEBOUNCE, t0);
        let taken = burst.take();
        assert_eq!(taken.len(), 1);
        assert!(burst.is_empty());
        let later = t0 + DEBOUNCE * MAX_BURST_WINDOWS * 2;
        assert!(matches!(
            burst.join(message(2, "b"), DEBOUNCE, later),
            Join::Wait(_)
        ));
    }

    #[test]
    fn merged_facts_keep_every_finding_and_each_scenario_once() {
        let messages = [
            message_with(1, "a", checked("gọi 0912345678, việc nhẹ lương cao")),
            message_with(2, "b", checked("stk 190366888888 việc nhẹ lương cao")),
        ];
        let merged = merged_check(&messages);
        assert_eq!(merged.findings.len(), 2);
        assert_eq!(merged.signals.len(), 1);
        assert_eq!(merged.signals[0].scenario, Scenario::EasyJob);
        let facts = facts(&merged, None);
        assert_eq!(facts.findings, merged.findings);
        assert_eq!(
            facts.signals,
            vec![Scenario::EasyJob.label_vi().to_string()]
        );
    }

    #[test]
    fn a_follow_up_question_gets_the_recent_findings_as_facts() {
        let recent = checked("0912345678");
        let merged = merged_check(&[message(1, "vậy giờ mình làm sao?")]);
        assert_eq!(facts(&merged, Some(&recent)).findings, recent.findings);
        assert_eq!(facts(&merged, None), Facts::default());
    }

    #[test]
    fn a_burst_with_its_own_findings_ignores_the_recent_ones() {
        let recent = checked("0912345678");
        let own = checked("vào vcb-xacthuc.com");
        let merged = merged_check(&[message_with(1, "x", own.clone())]);
        assert_eq!(facts(&merged, Some(&recent)).findings, own.findings);
    }

    #[test]
    fn the_model_answer_follows_the_verdict_and_is_alone_without_one() {
        let merged = checked("0912345678");
        let (text, outcome) = reply("trả lời".into(), Outcome::Llm, &merged);
        assert_eq!(outcome, Outcome::Llm);
        assert!(text.starts_with("ℹ️"), "{text}");
        let entity = text.find("0912345678").expect("the entity is listed");
        let model = text.find("trả lời").expect("the model's answer is kept");
        assert!(entity < model, "{text}");
        assert_eq!(
            reply("trả lời".into(), Outcome::Llm, &checked("chào bạn")),
            ("trả lời".to_string(), Outcome::Llm)
        );
    }

    #[test]
    fn a_failed_model_still_answers_a_checked_burst_with_its_verdict() {
        let merged = checked("0912345678");
        for answered in [Outcome::LlmFallback, Outcome::LlmLimited] {
            assert_eq!(
                reply("xin lỗi".into(), answered, &merged),
                (verdict::scam_reply(&merged), Outcome::ScamCheck)
            );
        }
    }

    #[test]
    fn a_failed_model_without_findings_keeps_its_templated_answer() {
        let nothing = CheckOutcome::default();
        assert_eq!(
            reply("hết lượt".into(), Outcome::LlmLimited, &nothing),
            ("hết lượt".to_string(), Outcome::LlmLimited)
        );
        assert_eq!(
            reply("xin lỗi".into(), Outcome::LlmFallback, &nothing),
            ("xin lỗi".to_string(), Outcome::LlmFallback)
        );
    }

    #[test]
    fn the_last_message_carries_the_reply_and_the_others_are_merged() {
        let parts = vec!["một".to_string(), "hai".to_string()];
        let completions = answered(
            vec![message(1, "a"), message(2, "b"), message(3, "c")],
            &user(),
            &parts,
            Outcome::Llm,
        );
        let outcomes: Vec<_> = completions.iter().map(|c| c.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::LlmMerged, Outcome::LlmMerged, Outcome::Llm]
        );
        assert!(completions[0].reply_parts.is_empty());
        assert!(completions[1].reply_parts.is_empty());
        assert_eq!(completions[2].reply_parts, parts);
        assert_eq!(completions[2].inbox_id, 3);
        assert_eq!(completions[0].event_key, "key-1");
        assert!(completions.iter().all(|c| c.user_message.is_some()));
    }

    #[test]
    fn a_burst_taken_over_by_an_admin_is_recorded_without_a_reply() {
        let completions = paused(vec![message(1, "a"), message(2, "b")], &user());
        assert!(completions.iter().all(|c| c.reply_parts.is_empty()
            && c.outcome == Outcome::HandoffPaused
            && c.user_message.is_some()));
    }

    #[test]
    fn a_pause_found_clear_a_moment_ago_is_not_read_again() {
        let t0 = Instant::now();
        assert!(needs_pause_check(None, t0));
        assert!(!needs_pause_check(Some(t0), t0 + PAUSE_CHECK_FRESH / 2));
        assert!(needs_pause_check(Some(t0), t0 + PAUSE_CHECK_FRESH));
    }
}
