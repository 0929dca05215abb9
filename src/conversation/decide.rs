//! The decision table for one user message, in order: handoff pause, inbound rate limit, nothing to read,
//! help, an owner's appeal, report command, a harm already done (the recovery steps), entities to look up, scam phrases, and
//! otherwise the model. Entities are extracted
//! here, once, and only for a message that gets this far: a paused or flooding user costs no extraction.

use sha2::{Digest, Sha256};

use super::{Now, Policy, UserView};
use crate::campaigns::{Subscription, subscription_command};
use crate::domain::{Admission, UserId};
use crate::media::ImageReading;
use crate::net::FetchError;
use crate::pipeline::Outcome;
use crate::recovery::{Playbook, harm_in, playbook};
use crate::reply::{image, recovery, templates, verdict};
use crate::scam::Entity;
use crate::scam::appeal::{appeal_entities, is_appeal};
use crate::scam::check::{CheckOutcome, check_text};
use crate::scam::extract::extract;
use crate::scam::signals::find_signals;
use crate::scam::user_report::{ReportCommand, parse_report_command};
use crate::scam::words::Words;
use crate::store::{ChatLine, NewUserReport};
use crate::zalo::events::UserMessageKind;

/// A user's message as the decision reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: UserMessageKind,
    /// What is checked: the text, plus attached URLs for a text or link message.
    pub text: String,
    /// An image message's picture, to be read (its caption is `text`).
    pub image: Option<String>,
}

impl Message {
    /// Text and links are checked with any attached URL (a shared link); media only by its caption.
    #[must_use]
    pub fn new(kind: UserMessageKind, text: Option<&str>, attachment_urls: &[String]) -> Self {
        let mut checked = text.unwrap_or_default().to_string();
        if matches!(kind, UserMessageKind::Text | UserMessageKind::Link) {
            for url in attachment_urls {
                if !checked.contains(url.as_str()) {
                    if !checked.is_empty() {
                        checked.push('\n');
                    }
                    checked.push_str(url);
                }
            }
        }
        let image = (kind == UserMessageKind::Image)
            .then(|| attachment_urls.first().cloned())
            .flatten();
        Self {
            kind,
            text: checked,
            image,
        }
    }

    /// The chat line recorded for it: its text, or `[kind]` when it has none.
    #[must_use]
    pub fn line(&self) -> ChatLine {
        ChatLine {
            content: if self.text.trim().is_empty() {
                format!("[{}]", self.kind.as_str())
            } else {
                self.text.clone()
            },
            message_type: self.kind.as_str().to_string(),
        }
    }
}

/// What to do with a user message. Every message is recorded, whatever the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// An OA admin is talking to this user: stay silent.
    Paused,
    /// Over the inbound rate limit: no check, no model; only the first of a flood is told.
    RateLimited {
        first: bool,
    },
    /// Nothing to read (a sticker, a file, an image without a picture or a caption).
    Unsupported(UserMessageKind),
    /// Read the picture at this URL, then check what it holds with the caption.
    ReadImage(String),
    Help,
    /// The user stops or restarts campaigns: recorded, then answered ([`subscribed`]).
    Subscription(Subscription),
    /// The user reports entities as scams.
    Report(ReportCommand),
    /// The owner says these entities are theirs and were reported by mistake (none named and none just
    /// checked: they are asked which).
    Appeal(Vec<Entity>),
    /// The user has already paid or given a code away: the recovery steps, at once and without the model;
    /// the entities of the message, if any, are looked up first and their verdict follows the steps
    /// ([`recovered`]).
    Recovery {
        book: Playbook,
        entities: Vec<Entity>,
    },
    /// Look these up in the report index, then call [`checked`].
    Check(Vec<Entity>),
    /// Scam phrases and no model to talk them through: the templated warning.
    Signals(CheckOutcome),
    /// The index's verdict and no model: the templated verdict.
    Verdict(CheckOutcome),
    /// To the model, with the rest of a quick burst; the check goes along as facts.
    Converse(CheckOutcome),
}

/// A reply decided without any IO, and the outcome the event is closed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub reply: Option<String>,
    pub outcome: Outcome,
}

impl Decision {
    /// The answer, when no IO is needed to give it (not for a report, a check or the model).
    #[must_use]
    pub fn answer(&self) -> Option<Answer> {
        let (reply, outcome) = match self {
            Decision::Paused => (None, Outcome::HandoffPaused),
            Decision::RateLimited { first } => (
                first.then(|| templates::RATE_LIMITED.to_string()),
                Outcome::RateLimited,
            ),
            Decision::Unsupported(_) => (
                Some(templates::UNSUPPORTED_MEDIA.to_string()),
                Outcome::Unsupported,
            ),
            Decision::Help => (Some(templates::HELP.to_string()), Outcome::Help),
            Decision::Recovery { book, entities } if entities.is_empty() => (
                Some(recovery::recovery_reply(book, None)),
                Outcome::Recovery,
            ),
            Decision::Signals(check) => (Some(verdict::scam_reply(check)), Outcome::ScamSignals),
            Decision::Verdict(check) => (Some(verdict::scam_reply(check)), Outcome::ScamCheck),
            Decision::Subscription(_)
            | Decision::Report(_)
            | Decision::Appeal(_)
            | Decision::Recovery { .. }
            | Decision::Check(_)
            | Decision::Converse(_)
            | Decision::ReadImage(_) => return None,
        };
        Some(Answer { reply, outcome })
    }
}

/// Decides a user message. The limiter is consulted only when the bot is not paused, so a paused user's
/// messages do not use up the limit.
pub fn decide(message: &Message, view: &mut UserView, policy: &Policy, now: Now) -> Decision {
    if view.paused_until.is_some_and(|until| until > now.at) {
        return Decision::Paused;
    }
    match view.limiter.admit(now.instant) {
        Admission::Allowed => {}
        Admission::LimitedFirst => return Decision::RateLimited { first: true },
        Admission::Limited => return Decision::RateLimited { first: false },
    }
    if let Some(url) = &message.image {
        return Decision::ReadImage(url.clone());
    }
    let text = &message.text;
    if text.trim().is_empty() {
        return Decision::Unsupported(message.kind);
    }
    if let Some(change) = subscription_command(text) {
        return Decision::Subscription(change);
    }
    if templates::is_help_command(text) {
        return Decision::Help;
    }
    // Before the report command: "báo cáo nhầm rồi, số này của tôi" is an appeal, not a report.
    if is_appeal(text) {
        let checked: Vec<Entity> = view
            .recent_findings(now.instant)
            .map(|check| check.findings.iter().map(|f| f.entity.clone()).collect())
            .unwrap_or_default();
        return Decision::Appeal(appeal_entities(extract(text), &checked));
    }
    if let Some(command) = parse_report_command(text) {
        return Decision::Report(command);
    }
    let entities = extract(text);
    let words = Words::new(text);
    if let Some(harm) = harm_in(&words) {
        let recent = view.recent_findings(now.instant);
        let book = playbook(harm, &words, &entities, recent);
        return Decision::Recovery { book, entities };
    }
    if !entities.is_empty() {
        return Decision::Check(entities);
    }
    let check = check_text(text);
    if check.level.warns() && !policy.has_model {
        return Decision::Signals(check);
    }
    Decision::Converse(check)
}

/// The answer to a campaign command, once it is recorded: "/start" also shows the help, as it always did.
#[must_use]
pub fn subscribed(change: Subscription) -> Answer {
    match change {
        Subscription::Stop => Answer {
            reply: Some(templates::ALERTS_STOPPED.to_string()),
            outcome: Outcome::AlertsOff,
        },
        Subscription::Start => Answer {
            reply: Some(format!(
                "{}\n\n{}",
                templates::ALERTS_STARTED,
                templates::HELP
            )),
            outcome: Outcome::AlertsOn,
        },
    }
}

/// A campaign command in a message left unanswered (a person is talking to the user, or they are over the
/// rate limit): it is still obeyed, silently, since a "stop" must never be lost.
#[must_use]
pub fn unanswered_subscription(decision: &Decision, text: &str) -> Option<Subscription> {
    match decision {
        Decision::Paused | Decision::RateLimited { .. } => subscription_command(text),
        _ => None,
    }
}

/// After the index lookup of a [`Decision::Check`]: findings are remembered for follow-up questions; with a
/// model it phrases the verdict (it never decides it), without one the template answers.
pub fn checked(check: CheckOutcome, view: &mut UserView, policy: &Policy, now: Now) -> Decision {
    if check.findings.is_empty() {
        return Decision::Converse(check);
    }
    view.last_findings = Some((now.instant, check.clone()));
    if policy.has_model {
        Decision::Converse(check)
    } else {
        Decision::Verdict(check)
    }
}

/// The answer for a harmed user whose message held entities: the steps, then the verdict on them. The
/// findings are remembered, as for a check.
pub fn recovered(book: &Playbook, check: &CheckOutcome, view: &mut UserView, now: Now) -> Answer {
    if !check.findings.is_empty() {
        view.last_findings = Some((now.instant, check.clone()));
    }
    Answer {
        reply: Some(recovery::recovery_reply(book, Some(check))),
        outcome: Outcome::Recovery,
    }
}

/// The chat line recorded for an image: its caption, then the record of what the picture held.
#[must_use]
pub fn image_line(caption: &str, record: &str) -> String {
    if caption.trim().is_empty() {
        record.to_string()
    } else {
        format!("{}\n{record}", caption.trim())
    }
}

/// The next step for an image once it has been read (or failed to be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageStep {
    /// Nothing to check: answer now.
    Answer(Answer),
    /// Check this text (the caption and what was read) and its entities, then call [`image_checked`].
    Check { text: String, entities: Vec<Entity> },
}

/// What to do with a read image: check what it holds with the caption, or say why nothing could be read.
#[must_use]
pub fn image_read(
    caption: &str,
    reading: Result<&ImageReading, FetchError>,
    ocr_on: bool,
) -> ImageStep {
    let unread = |reply: &str| {
        ImageStep::Answer(Answer {
            reply: Some(reply.to_string()),
            outcome: Outcome::ImageUnread,
        })
    };
    let reading = match reading {
        Ok(reading) => reading,
        Err(error) => return unread(image::unreadable(error)),
    };
    if reading.is_empty() && caption.trim().is_empty() {
        return unread(image::nothing_read(ocr_on));
    }
    let text = [caption.trim(), reading.text().as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let entities = extract(&text);
    ImageStep::Check { text, entities }
}

/// The answer for a checked image: what was read, then the verdict. Findings are remembered for follow-up
/// questions, as for a typed message.
pub fn image_checked(
    reading: &ImageReading,
    check: &CheckOutcome,
    view: &mut UserView,
    now: Now,
) -> Answer {
    if !check.findings.is_empty() {
        view.last_findings = Some((now.instant, check.clone()));
    }
    Answer {
        reply: Some(image::image_reply(reading, check)),
        outcome: Outcome::ImageCheck,
    }
}

/// One pending report per entity the user named (none when they named none: they get the usage line).
/// The reporter is filed by a hash of their id; the category is the note's first scam scenario.
#[must_use]
pub fn user_reports(user: &UserId, command: &ReportCommand) -> Vec<NewUserReport> {
    if command.entities.is_empty() {
        return Vec::new();
    }
    let reporter_hash = hex::encode(Sha256::digest(user.as_str().as_bytes()));
    let category = find_signals(&command.note).first().map_or_else(
        || "người dùng báo cáo".to_string(),
        |s| s.scenario.label_vi().to_string(),
    );
    command
        .entities
        .iter()
        .map(|entity| NewUserReport {
            kind: entity.kind,
            value: entity.value.clone(),
            bank_bin: entity.bank_bin.clone(),
            category: category.clone(),
            note: command.note.clone(),
            reporter_hash: reporter_hash.clone(),
        })
        .collect()
}

/// An event that failed more than `max_attempts` times is left in the inbox for a person to look at.
#[must_use]
pub fn dead_lettered(attempt: i32, max_attempts: u32) -> bool {
    i64::from(attempt) > i64::from(max_attempts)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::InboundLimiter;
    use crate::scam::EntityKind;
    use crate::scam::index::ReportIndex;
    use crate::scam::signals::Scenario;

    fn now() -> Now {
        Now {
            at: Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap(),
            instant: Instant::now(),
        }
    }

    fn view() -> UserView {
        UserView::new(InboundLimiter::new(3, Duration::from_secs(60)))
    }

    const MODEL: Policy = Policy {
        has_model: true,
        debounce: Duration::from_millis(500),
    };
    const NO_MODEL: Policy = Policy {
        has_model: false,
        debounce: Duration::from_millis(500),
    };

    fn text(text: &str) -> Message {
        Message::new(UserMessageKind::Text, Some(text), &[])
    }

    fn finding(text: &str) -> CheckOutcome {
        crate::scam::check::check(&ReportIndex::new(), text, now().at)
    }

    #[test]
    fn an_images_line_is_its_caption_then_what_it_held() {
        assert_eq!(
            image_line("  xem giúp ", "[image sha256:ab]"),
            "xem giúp\n[image sha256:ab]"
        );
        assert_eq!(image_line(" ", "[image sha256:ab]"), "[image sha256:ab]");
    }

    #[test]
    fn a_harm_already_done_gets_the_recovery_steps_before_any_check_or_model() {
        let mut view = view();
        let now = now();
        view.last_findings = Some((now.instant, finding("stk 0123456789 ACB")));
        let decision = decide(
            &text("tôi lỡ chuyển khoản cho số 0912345678 rồi"),
            &mut view,
            &MODEL,
            now,
        );
        let Decision::Recovery { book, entities } = &decision else {
            panic!("{decision:?}");
        };
        assert!(book.harm.paid);
        assert_eq!(
            book.suspects[0].raw, "0912345678",
            "this message's number first"
        );
        assert_eq!(entities.len(), 1, "looked up before the answer");
        assert_eq!(decision.answer(), None);
        let check = finding("tôi lỡ chuyển khoản cho số 0912345678 rồi");
        let answer = recovered(book, &check, &mut view, now);
        assert_eq!(answer.outcome, Outcome::Recovery);
        assert!(
            answer
                .reply
                .is_some_and(|r| r.starts_with("🆘") && r.contains("🔎"))
        );
        // Without entities the steps are answered at once.
        let decision = decide(&text("tôi lỡ chuyển khoản rồi"), &mut view, &MODEL, now);
        let answer = decision.answer().expect("answered at once");
        assert_eq!(answer.outcome, Outcome::Recovery);
        // Asking before acting is a check, not a recovery.
        let decision = decide(
            &text("có nên chuyển khoản cho số 0912345678 không"),
            &mut view,
            &MODEL,
            now,
        );
        assert!(matches!(decision, Decision::Check(_)), "{decision:?}");
    }

    #[test]
    fn a_paused_user_is_recorded_without_a_reply() {
        let mut view = view();
        let now = now();
        view.paused_until = Some(now.at + chrono::Duration::minutes(5));
        let decision = decide(&text("chào bạn"), &mut view, &MODEL, now);
        assert_eq!(decision, Decision::Paused);
        assert_eq!(
            decision.answer(),
            Some(Answer {
                reply: None,
                outcome: Outcome::HandoffPaused
            })
        );
    }

    #[test]
    fn campaign_commands_are_recorded_then_answered_and_start_still_shows_the_help() {
        let mut view = view();
        let now = now();
        let stop = decide(&text("Dừng nhận tin"), &mut view, &MODEL, now);
        assert_eq!(stop, Decision::Subscription(Subscription::Stop));
        assert_eq!(stop.answer(), None, "the opt-out is written first");
        let answer = subscribed(Subscription::Stop);
        assert_eq!(answer.outcome, Outcome::AlertsOff);
        assert!(answer.reply.unwrap().contains("/start"));
        let start = decide(&text("/start"), &mut view, &MODEL, now);
        assert_eq!(start, Decision::Subscription(Subscription::Start));
        let answer = subscribed(Subscription::Start);
        assert_eq!(answer.outcome, Outcome::AlertsOn);
        let reply = answer.reply.unwrap();
        assert!(reply.contains("dừng nhận tin") && reply.ends_with(templates::HELP));
        assert_eq!(
            decide(&text("/help"), &mut view, &MODEL, now),
            Decision::Help
        );
        // Unanswered, but still obeyed.
        view.paused_until = Some(now.at + chrono::Duration::minutes(5));
        let paused = decide(&text("/stop"), &mut view, &MODEL, now);
        assert_eq!(paused, Decision::Paused);
        assert_eq!(
            unanswered_subscription(&paused, "/stop"),
            Some(Subscription::Stop)
        );
        assert_eq!(unanswered_subscription(&paused, "chào"), None);
        assert_eq!(
            unanswered_subscription(&stop, "dừng nhận tin"),
            None,
            "answered"
        );
    }

    #[test]
    fn a_pause_that_is_over_lets_the_message_through() {
        let mut view = view();
        let now = now();
        view.paused_until = Some(now.at);
        assert_eq!(
            decide(&text("/help"), &mut view, &MODEL, now),
            Decision::Help
        );
    }

    #[test]
    fn messages_while_paused_do_not_use_up_the_rate_limit() {
        let mut view = view();
        let now = now();
        view.paused_until = Some(now.at + chrono::Duration::minutes(5));
        for _ in 0..10 {
            assert_eq!(
                decide(&text("alo"), &mut view, &MODEL, now),
                Decision::Paused
            );
        }
        view.paused_until = None;
        assert_eq!(
            decide(&text("help"), &mut view, &MODEL, now),
            Decision::Help
        );
    }

    #[test]
    fn the_first_message_over_the_limit_is_told_once_and_the_rest_stay_silent() {
        let mut view = view();
        let now = now();
        for _ in 0..3 {
            assert_eq!(
                decide(&text("help"), &mut view, &MODEL, now),
                Decision::Help
            );
        }
        let first = decide(&text("help"), &mut view, &MODEL, now);
        assert_eq!(first, Decision::RateLimited { first: true });
        assert_eq!(
            first.answer(),
            Some(Answer {
                reply: Some(templates::RATE_LIMITED.to_string()),
                outcome: Outcome::RateLimited
            })
        );
        let next = decide(&text("help"), &mut view, &MODEL, now);
        assert_eq!(next, Decision::RateLimited { first: false });
        assert_eq!(next.answer().unwrap().reply, None);
    }

    #[test]
    fn a_rate_limited_message_is_not_checked_even_when_it_names_a_phone() {
        let mut view = view();
        let now = now();
        for _ in 0..3 {
            decide(&text("alo"), &mut view, &MODEL, now);
        }
        assert_eq!(
            decide(&text("0912345678 có lừa đảo không"), &mut view, &MODEL, now),
            Decision::RateLimited { first: true }
        );
    }

    #[test]
    fn the_rate_limit_window_admits_again_once_it_has_passed() {
        let mut view = view();
        let mut now = now();
        for _ in 0..4 {
            decide(&text("alo"), &mut view, &MODEL, now);
        }
        now.instant += Duration::from_secs(60);
        assert_eq!(
            decide(&text("help"), &mut view, &MODEL, now),
            Decision::Help
        );
    }

    #[test]
    fn a_sticker_without_text_is_unsupported_and_recorded_by_its_kind() {
        let message = Message::new(UserMessageKind::Sticker, None, &[]);
        let decision = decide(&message, &mut view(), &MODEL, now());
        assert_eq!(decision, Decision::Unsupported(UserMessageKind::Sticker));
        assert_eq!(
            decision.answer(),
            Some(Answer {
                reply: Some(templates::UNSUPPORTED_MEDIA.to_string()),
                outcome: Outcome::Unsupported
            })
        );
        let line = message.line();
        assert_eq!(line.content, "[sticker]");
        assert_eq!(line.message_type, "sticker");
    }

    #[test]
    fn an_image_is_read_and_its_url_is_never_checked_as_a_link() {
        let urls = ["https://photo.zdn.vn/abc.jpg".to_string()];
        let message = Message::new(UserMessageKind::Image, Some("gọi 0912345678"), &urls);
        // The caption is checked with what the picture holds; the CDN URL is not the user's link.
        assert_eq!(message.text, "gọi 0912345678");
        assert_eq!(
            decide(&message, &mut view(), &MODEL, now()),
            Decision::ReadImage(urls[0].clone())
        );
        let bare = Message::new(UserMessageKind::Image, None, &urls);
        assert_eq!(
            decide(&bare, &mut view(), &MODEL, now()),
            Decision::ReadImage(urls[0].clone())
        );
        // An image event without a picture is read by its caption, or is nothing to read.
        let captioned = Message::new(UserMessageKind::Image, Some("gọi 0912345678"), &[]);
        assert!(matches!(
            decide(&captioned, &mut view(), &MODEL, now()),
            Decision::Check(_)
        ));
        let empty = Message::new(UserMessageKind::Image, None, &[]);
        assert_eq!(
            decide(&empty, &mut view(), &MODEL, now()),
            Decision::Unsupported(UserMessageKind::Image)
        );
    }

    #[test]
    fn a_paused_or_flooding_user_s_image_is_not_read() {
        let urls = ["https://photo.zdn.vn/abc.jpg".to_string()];
        let image = Message::new(UserMessageKind::Image, None, &urls);
        let mut view = view();
        let now = now();
        view.paused_until = Some(now.at + chrono::Duration::minutes(5));
        assert_eq!(decide(&image, &mut view, &MODEL, now), Decision::Paused);
        view.paused_until = None;
        for _ in 0..3 {
            decide(&text("alo"), &mut view, &MODEL, now);
        }
        assert_eq!(
            decide(&image, &mut view, &MODEL, now),
            Decision::RateLimited { first: true }
        );
    }

    #[test]
    fn a_shared_link_is_checked_with_its_url_added_once() {
        let url = "https://vcb-xacthuc.com/otp".to_string();
        let shared = Message::new(
            UserMessageKind::Link,
            Some("xem cái này"),
            std::slice::from_ref(&url),
        );
        assert_eq!(shared.text, "xem cái này\nhttps://vcb-xacthuc.com/otp");
        let repeated = Message::new(
            UserMessageKind::Text,
            Some(&url),
            std::slice::from_ref(&url),
        );
        assert_eq!(repeated.text, url);
        let Decision::Check(entities) = decide(&shared, &mut view(), &MODEL, now()) else {
            panic!("the link's domain is looked up");
        };
        assert_eq!(entities[0].kind, EntityKind::Domain);
        assert_eq!(entities[0].value, "vcb-xacthuc.com");
    }

    #[test]
    fn help_gets_the_usage_guide() {
        let decision = decide(&text("  Hướng dẫn!  "), &mut view(), &NO_MODEL, now());
        assert_eq!(decision, Decision::Help);
        assert_eq!(
            decision.answer(),
            Some(Answer {
                reply: Some(templates::HELP.to_string()),
                outcome: Outcome::Help
            })
        );
    }

    #[test]
    fn a_report_command_is_filed_rather_than_looked_up() {
        let decision = decide(
            &text("báo cáo 0912.345.678 lừa đảo bán hàng online"),
            &mut view(),
            &MODEL,
            now(),
        );
        let Decision::Report(command) = &decision else {
            panic!("a report, not a check: {decision:?}");
        };
        assert_eq!(command.entities[0].value, "+84912345678");
        assert_eq!(decision.answer(), None);
    }

    #[test]
    fn an_owner_appeals_the_number_named_or_the_one_just_checked() {
        let decision = decide(
            &text("báo cáo nhầm rồi, số 0912.345.678 này của tôi"),
            &mut view(),
            &MODEL,
            now(),
        );
        let Decision::Appeal(entities) = &decision else {
            panic!("an appeal, not a report: {decision:?}");
        };
        assert_eq!(entities[0].value, "+84912345678");
        assert_eq!(decision.answer(), None);

        let mut view = view();
        let now = now();
        view.last_findings = Some((now.instant, finding("số 0987654321")));
        let decision = decide(
            &text("số này của tôi, bị báo cáo nhầm"),
            &mut view,
            &MODEL,
            now,
        );
        let Decision::Appeal(entities) = &decision else {
            panic!("an appeal: {decision:?}");
        };
        assert_eq!(entities[0].value, "+84987654321");
        let decision = decide(
            &text("số này của tôi, bị báo cáo nhầm"),
            &mut super::tests::view(),
            &MODEL,
            now,
        );
        assert_eq!(decision, Decision::Appeal(Vec::new()));
    }

    #[test]
    fn a_message_naming_a_phone_goes_to_the_index_with_its_entities() {
        let decision = decide(
            &text("gọi số 0912.345.678 có sao không"),
            &mut view(),
            &NO_MODEL,
            now(),
        );
        let Decision::Check(entities) = &decision else {
            panic!("a check: {decision:?}");
        };
        assert_eq!(entities.len(), 1);
        assert_eq!(entities[0].kind, EntityKind::Phone);
        assert_eq!(entities[0].raw, "0912.345.678");
        assert_eq!(decision.answer(), None);
    }

    #[test]
    fn scam_phrases_without_a_model_get_the_templated_warning() {
        let decision = decide(
            &text("Tuyển CTV việc nhẹ lương cao"),
            &mut view(),
            &NO_MODEL,
            now(),
        );
        let Decision::Signals(check) = &decision else {
            panic!("the templated warning: {decision:?}");
        };
        assert_eq!(check.signals[0].scenario, Scenario::EasyJob);
        let answer = decision.answer().unwrap();
        assert_eq!(answer.outcome, Outcome::ScamSignals);
        assert_eq!(answer.reply, Some(verdict::scam_reply(check)));
    }

    #[test]
    fn scam_phrases_with_a_model_go_to_the_model_as_facts() {
        let decision = decide(
            &text("Tuyển CTV việc nhẹ lương cao"),
            &mut view(),
            &MODEL,
            now(),
        );
        let Decision::Converse(check) = decision else {
            panic!("to the model");
        };
        assert!(check.findings.is_empty());
        assert_eq!(check.signals[0].scenario, Scenario::EasyJob);
    }

    #[test]
    fn a_plain_question_goes_to_the_model_without_facts() {
        for policy in [MODEL, NO_MODEL] {
            assert_eq!(
                decide(&text("hôm nay trời đẹp nhỉ"), &mut view(), &policy, now()),
                Decision::Converse(CheckOutcome::default())
            );
        }
    }

    #[test]
    fn a_verdict_without_a_model_is_answered_from_the_template_and_remembered() {
        let mut view = view();
        let now = now();
        let check = finding("0912345678");
        let decision = checked(check.clone(), &mut view, &NO_MODEL, now);
        assert_eq!(decision, Decision::Verdict(check.clone()));
        let answer = decision.answer().unwrap();
        assert_eq!(answer.outcome, Outcome::ScamCheck);
        assert_eq!(answer.reply, Some(verdict::scam_reply(&check)));
        assert_eq!(view.recent_findings(now.instant), Some(&check));
    }

    #[test]
    fn a_verdict_with_a_model_is_phrased_by_the_model_and_remembered() {
        let mut view = view();
        let now = now();
        let check = finding("0912345678");
        assert_eq!(
            checked(check.clone(), &mut view, &MODEL, now),
            Decision::Converse(check.clone())
        );
        assert_eq!(view.recent_findings(now.instant), Some(&check));
    }

    #[test]
    fn a_lookup_without_findings_keeps_the_earlier_findings() {
        let mut view = view();
        let now = now();
        let earlier = finding("0912345678");
        view.last_findings = Some((now.instant, earlier.clone()));
        assert_eq!(
            checked(CheckOutcome::default(), &mut view, &NO_MODEL, now),
            Decision::Converse(CheckOutcome::default())
        );
        assert_eq!(view.recent_findings(now.instant), Some(&earlier));
    }

    #[test]
    fn a_report_files_one_report_per_entity_under_a_hash_of_the_reporter() {
        let user = UserId::parse("1234567890").unwrap();
        let command =
            parse_report_command("báo cáo 0912345678 và 190366888888 việc nhẹ lương cao").unwrap();
        let reports = user_reports(&user, &command);
        assert_eq!(reports.len(), 2);
        assert_eq!(reports[0].value, "+84912345678");
        assert_eq!(reports[0].category, Scenario::EasyJob.label_vi());
        assert_eq!(reports[0].reporter_hash, reports[1].reporter_hash);
        assert_eq!(reports[0].reporter_hash.len(), 64);
        assert!(!reports[0].reporter_hash.contains("1234567890"));
    }

    #[test]
    fn a_report_without_a_scenario_is_filed_as_a_user_report() {
        let user = UserId::parse("1234567890").unwrap();
        let command = parse_report_command("báo cáo 0912345678").unwrap();
        assert_eq!(
            user_reports(&user, &command)[0].category,
            "người dùng báo cáo"
        );
    }

    #[test]
    fn a_report_naming_nothing_files_nothing() {
        let user = UserId::parse("1234567890").unwrap();
        let command = parse_report_command("báo cáo tài chính quý 3").unwrap();
        assert!(user_reports(&user, &command).is_empty());
    }

    #[test]
    fn an_event_is_dead_lettered_only_past_its_last_allowed_attempt() {
        assert!(!dead_lettered(1, 5));
        assert!(!dead_lettered(5, 5));
        assert!(dead_lettered(6, 5));
    }
}
