//! Webhook event decoding. Zalo sends ids and timestamps as strings in its docs, but integrators have seen
//! numbers, so every id is accepted as string or number and kept as a string. Unknown events decode to
//! [`EventKind::Other`] so they can be stored and acknowledged. Pure, no IO.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::UserId;

/// What the service does with an event, decided by `event_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A user wrote to the OA (text, image, sticker …).
    UserMessage(UserMessageKind),
    Follow,
    Unfollow,
    /// An echo of a message the OA sent (ours, or an admin's from the OA chat).
    OaEcho,
    /// Delivery/seen receipts, reactions, anything unknown: stored and acknowledged, no reply.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserMessageKind {
    Text,
    Image,
    Gif,
    Link,
    Sticker,
    File,
    Location,
    Audio,
    Video,
    BusinessCard,
    Other,
}

impl UserMessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Gif => "gif",
            Self::Link => "link",
            Self::Sticker => "sticker",
            Self::File => "file",
            Self::Location => "location",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::BusinessCard => "business_card",
            Self::Other => "other",
        }
    }
}

/// A decoded webhook event with the fields the service uses.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub event_name: String,
    pub kind: EventKind,
    pub app_id: Option<String>,
    /// The body's `timestamp`, as sent (epoch ms), which the signature covers.
    pub timestamp: Option<String>,
    /// The Zalo user the event is about: sender of user events, recipient of OA echoes, follower of follows.
    /// None when the body names none, or nothing [`UserId::parse`] accepts.
    pub user: Option<UserId>,
    pub msg_id: Option<String>,
    pub text: Option<String>,
    /// URLs of attachments (a link's url, an image's url …), for the message record.
    pub attachment_urls: Vec<String>,
    /// Set on `oa_send_*` echoes of messages an admin typed in the OA chat.
    pub from_admin: bool,
}

impl WebhookEvent {
    /// The event's metric label: its name when known, else [`OTHER_LABEL`].
    pub fn label(&self) -> &'static str {
        event_label(&self.event_name)
    }
}

/// The event names the service knows. They may appear as a metric label; any other name is labelled
/// [`OTHER_LABEL`], so the label set stays bounded whatever a sender puts in `event_name`.
pub const KNOWN_EVENTS: [&str; 24] = [
    "user_send_text",
    "user_send_image",
    "user_send_gif",
    "user_send_link",
    "user_send_sticker",
    "user_send_file",
    "user_send_location",
    "user_send_audio",
    "user_send_video",
    "user_send_business_card",
    "follow",
    "unfollow",
    "oa_send_text",
    "oa_send_image",
    "oa_send_gif",
    "oa_send_list",
    "oa_send_file",
    "oa_send_sticker",
    "user_received_message",
    "user_seen_message",
    "user_reacted_message",
    "oa_reacted_message",
    "user_submit_info",
    "user_click_chatnow",
];

/// The label of every event name not in [`KNOWN_EVENTS`].
pub const OTHER_LABEL: &str = "other";

/// The metric label for an event name: itself when known, else [`OTHER_LABEL`].
pub fn event_label(event_name: &str) -> &'static str {
    KNOWN_EVENTS
        .iter()
        .find(|known| **known == event_name)
        .copied()
        .unwrap_or(OTHER_LABEL)
}

/// Every label [`event_label`] can give.
pub fn labels() -> impl Iterator<Item = &'static str> {
    KNOWN_EVENTS.into_iter().chain([OTHER_LABEL])
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("body is not valid JSON: {0}")]
    Json(String),
    #[error("body is not a JSON object")]
    NotAnObject,
    #[error("missing or empty `event_name`")]
    NoEventName,
}

/// Parses a body into JSON, refusing anything that is not an object.
pub fn parse_json(body: &[u8]) -> Result<Value, DecodeError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| DecodeError::Json(e.to_string()))?;
    if !value.is_object() {
        return Err(DecodeError::NotAnObject);
    }
    Ok(value)
}

/// The `timestamp` the signature covers, as the string it was sent as (or the number's decimal form).
pub fn signed_timestamp(value: &Value) -> Option<String> {
    id_string(value.get("timestamp")?)
}

/// The body's `app_id`, as a string (used for the signature when no app id is configured).
pub fn body_app_id(value: &Value) -> Option<String> {
    id_string(value.get("app_id")?)
}

/// Decodes a parsed body. Only a missing `event_name` is an error: everything else is optional.
pub fn decode(value: &Value) -> Result<WebhookEvent, DecodeError> {
    let event_name = value
        .get("event_name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or(DecodeError::NoEventName)?
        .to_string();
    let kind = classify(&event_name);
    let message = value.get("message");
    let user = match kind {
        EventKind::Follow | EventKind::Unfollow => {
            path_id(value, &["follower", "id"]).or_else(|| path_id(value, &["user_id"]))
        }
        EventKind::OaEcho => path_id(value, &["recipient", "id"]),
        // Receipts travel OA → user, so the user is the recipient there.
        EventKind::Other
            if event_name.starts_with("user_received") || event_name.starts_with("user_seen") =>
        {
            path_id(value, &["recipient", "id"])
        }
        _ => path_id(value, &["sender", "id"]).or_else(|| path_id(value, &["user_id"])),
    }
    .and_then(|id| UserId::parse(id).ok());
    let attachment_urls = message
        .and_then(|m| m.get("attachments"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|a| a.get("payload")?.get("url")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(WebhookEvent {
        kind,
        app_id: value.get("app_id").and_then(id_string),
        timestamp: signed_timestamp(value),
        user,
        msg_id: message.and_then(|m| m.get("msg_id")).and_then(id_string),
        text: message
            .and_then(|m| m.get("text"))
            .and_then(Value::as_str)
            .map(str::to_string),
        attachment_urls,
        from_admin: value
            .get("sender")
            .and_then(|s| s.get("admin_id"))
            .is_some_and(|a| !a.is_null()),
        event_name,
    })
}

/// Decodes an event payload as the inbox stored it (the body as received).
pub fn decode_stored(payload: &str) -> Result<WebhookEvent, DecodeError> {
    decode(&parse_json(payload.as_bytes())?)
}

/// The inbox key that makes redelivery idempotent: the event name plus `msg_id` (receipts reuse the msg_id of
/// the message they acknowledge, so the name is part of the key), else a hash of the exact body.
///
/// A body hash is led by the body's own `timestamp` (epoch ms, zero-padded to 13 digits): the body, and so its
/// timestamp, is the same on every delivery, so the key identifies the same deliveries as the bare hash, but
/// successive keys sort together and land at the end of the inbox's unique index instead of on a random leaf,
/// a page written and copied per event (receipts, which have no `msg_id`, were taken about half as fast on
/// SQLite). Without a numeric timestamp, the bare hash.
pub fn event_key(event: &WebhookEvent, body: &[u8]) -> String {
    match &event.msg_id {
        Some(id) => format!("{}:{id}", event.event_name),
        None => {
            let digest = hex::encode(Sha256::digest(body));
            match event
                .timestamp
                .as_deref()
                .and_then(|t| t.trim().parse::<u64>().ok())
            {
                Some(ms) => format!("sha256:{ms:013}:{digest}"),
                None => format!("sha256:{digest}"),
            }
        }
    }
}

fn classify(event_name: &str) -> EventKind {
    match event_name {
        "follow" => EventKind::Follow,
        "unfollow" => EventKind::Unfollow,
        name if name.starts_with("oa_send_") => EventKind::OaEcho,
        name => match name.strip_prefix("user_send_") {
            Some(rest) => EventKind::UserMessage(match rest {
                "text" => UserMessageKind::Text,
                "image" => UserMessageKind::Image,
                "gif" => UserMessageKind::Gif,
                "link" => UserMessageKind::Link,
                "sticker" => UserMessageKind::Sticker,
                "file" => UserMessageKind::File,
                "location" => UserMessageKind::Location,
                "audio" => UserMessageKind::Audio,
                "video" => UserMessageKind::Video,
                "business_card" => UserMessageKind::BusinessCard,
                _ => UserMessageKind::Other,
            }),
            None => EventKind::Other,
        },
    }
}

fn path_id(value: &Value, path: &[&str]) -> Option<String> {
    let mut current = value;
    for key in path {
        current = current.get(key)?;
    }
    id_string(current)
}

/// Ids arrive as strings (documented) or numbers (seen in the wild); both become strings.
fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Builds a `user_send_text` event as Zalo would send it (used by the `chat` command to drive the real
/// webhook, and by tests through their own copy of the format).
pub fn user_text_event(
    app_id: &str,
    user_id: &str,
    oa_id: &str,
    msg_id: &str,
    text: &str,
    timestamp_ms: i64,
) -> String {
    serde_json::json!({
        "app_id": app_id,
        "user_id_by_app": user_id,
        "event_name": "user_send_text",
        "sender": { "id": user_id },
        "recipient": { "id": oa_id },
        "message": { "msg_id": msg_id, "text": text },
        "timestamp": timestamp_ms.to_string(),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode_json(v: Value) -> WebhookEvent {
        decode(&v).unwrap()
    }

    #[test]
    fn text_event_with_string_ids() {
        let e = decode_json(
            json!({"app_id":"360846524940903967","event_name":"user_send_text",
            "sender":{"id":"552177279717587730"},"recipient":{"id":"1"},
            "message":{"msg_id":"96d3cdf3af150460909","text":"hi"},"timestamp":"1699003881354"}),
        );
        assert_eq!(e.kind, EventKind::UserMessage(UserMessageKind::Text));
        assert_eq!(
            e.user.as_ref().map(UserId::as_str),
            Some("552177279717587730")
        );
        assert_eq!(e.msg_id.as_deref(), Some("96d3cdf3af150460909"));
        assert_eq!(e.text.as_deref(), Some("hi"));
        assert_eq!(e.timestamp.as_deref(), Some("1699003881354"));
        assert_eq!(event_key(&e, b"{}"), "user_send_text:96d3cdf3af150460909");
    }

    #[test]
    fn numeric_ids_and_timestamp_become_strings() {
        let e = decode_json(
            json!({"app_id":360846524940903967u64,"event_name":"user_send_text",
            "sender":{"id":552177279717587730u64},"message":{"msg_id":12345,"text":"x"},"timestamp":1699003881354u64}),
        );
        assert_eq!(
            e.user.as_ref().map(UserId::as_str),
            Some("552177279717587730")
        );
        assert_eq!(e.app_id.as_deref(), Some("360846524940903967"));
        assert_eq!(e.msg_id.as_deref(), Some("12345"));
        assert_eq!(e.timestamp.as_deref(), Some("1699003881354"));
    }

    #[test]
    fn follow_unfollow_echo_and_unknown() {
        let f = decode_json(
            json!({"event_name":"follow","oa_id":"1","follower":{"id":"42"},"timestamp":"1"}),
        );
        assert_eq!(
            (f.kind, f.user.as_ref().map(UserId::as_str)),
            (EventKind::Follow, Some("42"))
        );
        let u = decode_json(json!({"event_name":"unfollow","follower":{"id":"42"}}));
        assert_eq!(u.kind, EventKind::Unfollow);
        let echo = decode_json(
            json!({"event_name":"oa_send_text","sender":{"id":"oa","admin_id":"7"},
            "recipient":{"id":"42"},"message":{"msg_id":"m1","text":"hello"}}),
        );
        assert_eq!(
            (
                echo.kind,
                echo.user.as_ref().map(UserId::as_str),
                echo.from_admin
            ),
            (EventKind::OaEcho, Some("42"), true)
        );
        let other = decode_json(json!({"event_name":"user_reacted_message","sender":{"id":"42"}}));
        assert_eq!(other.kind, EventKind::Other);
        let unknown = decode_json(json!({"event_name":"brand_new_event"}));
        assert_eq!(unknown.kind, EventKind::Other);
        assert!(event_key(&unknown, b"abc").starts_with("sha256:"));
    }

    #[test]
    fn a_hashed_key_is_led_by_the_padded_timestamp_so_keys_sort_by_time() {
        let seen = |ts: serde_json::Value| {
            let value = json!({"event_name":"user_seen_message","recipient":{"id":"42"},
                "message":{"msg_ids":["a","b"]},"timestamp":ts});
            let body = serde_json::to_vec(&value).unwrap();
            event_key(&decode(&value).unwrap(), &body)
        };
        let early = seen(json!("999999999999"));
        let later = seen(json!(1_000_000_000_000_u64));
        assert!(early.starts_with("sha256:0999999999999:"), "{early}");
        assert!(later.starts_with("sha256:1000000000000:"), "{later}");
        assert!(
            early < later,
            "a 12-digit timestamp sorts before a 13-digit one"
        );
        // The same body is the same key; a timestamp that is not a number leaves the bare hash.
        assert_eq!(seen(json!("1733450000000")), seen(json!("1733450000000")));
        let odd = seen(json!("soon"));
        assert_eq!(odd.len(), "sha256:".len() + 64, "{odd}");
    }

    #[test]
    fn attachments_are_collected() {
        let e = decode_json(json!({"event_name":"user_send_link","sender":{"id":"42"},
            "message":{"msg_id":"m","attachments":[{"type":"link","payload":{"url":"https://x.vn/a","description":"d"}}]}}));
        assert_eq!(e.kind, EventKind::UserMessage(UserMessageKind::Link));
        assert_eq!(e.attachment_urls, vec!["https://x.vn/a".to_string()]);
        let s = decode_json(
            json!({"event_name":"user_send_sticker","sender":{"id":"42"},"message":{"msg_id":"s"}}),
        );
        assert_eq!(s.kind, EventKind::UserMessage(UserMessageKind::Sticker));
    }

    #[test]
    fn known_names_are_their_own_label_and_anything_else_is_other() {
        for name in KNOWN_EVENTS {
            assert_eq!(event_label(name), name);
        }
        assert_eq!(event_label("brand_new_event"), OTHER_LABEL);
        assert_eq!(event_label(" user_send_text"), OTHER_LABEL);
        assert_eq!(labels().count(), KNOWN_EVENTS.len() + 1);
        let e = decode_json(json!({"event_name":"user_seen_message"}));
        assert_eq!(e.label(), "user_seen_message");
    }

    #[test]
    fn errors() {
        assert!(matches!(parse_json(b"{nope"), Err(DecodeError::Json(_))));
        assert_eq!(parse_json(b"[1,2]"), Err(DecodeError::NotAnObject));
        assert_eq!(decode(&json!({"x":1})), Err(DecodeError::NoEventName));
    }

    #[test]
    fn built_text_event_round_trips() {
        let body = user_text_event("1", "42", "9", "m-1", "xin chào", 1700000000000);
        let e = decode(&parse_json(body.as_bytes()).unwrap()).unwrap();
        assert_eq!(e.text.as_deref(), Some("xin chào"));
        assert_eq!(e.user.as_ref().map(UserId::as_str), Some("42"));
        assert_eq!(e.timestamp.as_deref(), Some("1700000000000"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::option::of;
    use proptest::prelude::*;
    use serde_json::{Map, json};

    const NAMES: &[&str] = &[
        "user_send_text",
        "user_send_image",
        "user_send_link",
        "user_send_sticker",
        "user_send_",
        "follow",
        "unfollow",
        "oa_send_text",
        "user_seen_message",
        "user_received_message",
        "user_reacted_message",
        " user_send_text ",
    ];

    /// Ids as Zalo sends them (strings of digits), as integrators have seen them (numbers), and wrong.
    fn id_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            "[0-9]{1,19}".prop_map(Value::from),
            "[ \t]{0,2}[0-9a-z]{0,6}[ \t]{0,2}".prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            Just(Value::Null),
            Just(json!({"id": "1"})),
        ]
    }

    fn event_name() -> impl Strategy<Value = Value> {
        prop_oneof![
            8 => proptest::sample::select(NAMES).prop_map(Value::from),
            2 => "\\PC{0,12}".prop_map(Value::from),
            1 => id_value(),
        ]
    }

    /// A webhook body with the envelope keys the decoder reads, each present or not.
    fn webhook_body() -> impl Strategy<Value = Value> {
        let envelope = (
            of(event_name()),
            of(id_value()),
            of(id_value()),
            of(id_value()),
        );
        let parties = (
            of(id_value()),
            of(id_value()),
            of(id_value()),
            of(id_value()),
        );
        let message = of((
            of(id_value()),
            of("\\PC{0,20}"),
            of(proptest::collection::vec(
                prop_oneof![
                    "\\PC{0,12}".prop_map(|url| json!({"type": "link", "payload": {"url": url}})),
                    id_value().prop_map(|url| json!({"payload": {"url": url}})),
                    id_value(),
                ],
                0..3,
            )),
        ));
        (envelope, parties, message).prop_map(
            |(
                (name, app_id, timestamp, user_id),
                (sender, admin, recipient, follower),
                message,
            )| {
                let mut root = Map::new();
                let put = |map: &mut Map<String, Value>, key: &str, v: Option<Value>| {
                    if let Some(v) = v {
                        map.insert(key.to_string(), v);
                    }
                };
                put(&mut root, "event_name", name);
                put(&mut root, "app_id", app_id);
                put(&mut root, "timestamp", timestamp);
                put(&mut root, "user_id", user_id);
                if sender.is_some() || admin.is_some() {
                    let mut s = Map::new();
                    put(&mut s, "id", sender);
                    put(&mut s, "admin_id", admin);
                    root.insert("sender".into(), Value::Object(s));
                }
                put(
                    &mut root,
                    "recipient",
                    recipient.map(|id| json!({ "id": id })),
                );
                put(
                    &mut root,
                    "follower",
                    follower.map(|id| json!({ "id": id })),
                );
                if let Some((msg_id, text, attachments)) = message {
                    let mut m = Map::new();
                    put(&mut m, "msg_id", msg_id);
                    put(&mut m, "text", text.map(Value::from));
                    put(&mut m, "attachments", attachments.map(Value::from));
                    root.insert("message".into(), Value::Object(m));
                }
                Value::Object(root)
            },
        )
    }

    fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
        path.iter().try_fold(value, |v, key| v.get(key))
    }

    /// The id rule stated independently: a non-blank string (trimmed), or a number's decimal form.
    fn oracle_id(value: Option<&Value>) -> Option<String> {
        match value? {
            Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_are_refused_or_decoded_without_panic(
            body in proptest::collection::vec(any::<u8>(), 0..200)
        ) {
            match parse_json(&body) {
                Ok(value) => {
                    prop_assert!(value.is_object());
                    let _ = decode(&value);
                }
                Err(error) => match serde_json::from_slice::<Value>(&body) {
                    Ok(v) => prop_assert!(!v.is_object() && error == DecodeError::NotAnObject),
                    Err(_) => prop_assert!(matches!(error, DecodeError::Json(_))),
                },
            }
        }

        #[test]
        fn decoded_fields_are_what_the_body_holds(value in webhook_body()) {
            let body = serde_json::to_vec(&value).unwrap();
            let parsed = parse_json(&body).unwrap();
            let name = parsed
                .get("event_name")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|n| !n.is_empty());
            let event = match (decode(&parsed), name) {
                (Ok(event), Some(name)) => {
                    prop_assert_eq!(&event.event_name, name);
                    event
                }
                (Err(error), None) => {
                    prop_assert_eq!(error, DecodeError::NoEventName);
                    return Ok(());
                }
                (result, name) => {
                    return Err(TestCaseError::fail(format!("{name:?} decoded as {result:?}")));
                }
            };
            prop_assert_eq!(decode(&parsed), Ok(event.clone()));
            let name = event.event_name.as_str();
            let kind_matches = match event.kind {
                EventKind::Follow => name == "follow",
                EventKind::Unfollow => name == "unfollow",
                EventKind::OaEcho => name.starts_with("oa_send_"),
                EventKind::UserMessage(_) => name.starts_with("user_send_"),
                EventKind::Other => {
                    !["follow", "unfollow"].contains(&name)
                        && !name.starts_with("oa_send_")
                        && !name.starts_with("user_send_")
                }
            };
            prop_assert!(kind_matches, "{:?} classified as {:?}", name, event.kind);
            prop_assert_eq!(&event.app_id, &oracle_id(parsed.get("app_id")));
            prop_assert_eq!(&event.timestamp, &oracle_id(parsed.get("timestamp")));
            prop_assert_eq!(&event.timestamp, &signed_timestamp(&parsed));
            prop_assert_eq!(&event.msg_id, &oracle_id(at(&parsed, &["message", "msg_id"])));
            prop_assert_eq!(
                event.text.as_deref(),
                at(&parsed, &["message", "text"]).and_then(Value::as_str)
            );
            if let Some(user) = &event.user {
                let paths: [&[&str]; 4] =
                    [&["sender", "id"], &["recipient", "id"], &["follower", "id"], &["user_id"]];
                prop_assert!(
                    paths.iter().any(|p| oracle_id(at(&parsed, p)).as_deref() == Some(user.as_str())),
                    "user id {:?} is not in the body", user
                );
            }
            let urls: Vec<&str> = at(&parsed, &["message", "attachments"])
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| at(a, &["payload", "url"]).and_then(Value::as_str))
                .collect();
            prop_assert_eq!(&event.attachment_urls, &urls);
            prop_assert_eq!(
                event.from_admin,
                at(&parsed, &["sender", "admin_id"]).is_some_and(|a| !a.is_null())
            );
        }

        #[test]
        fn event_key_is_stable_and_follows_the_msg_id(value in webhook_body()) {
            let body = serde_json::to_vec(&value).unwrap();
            let Ok(event) = decode(&value) else { return Ok(()) };
            let key = event_key(&event, &body);
            prop_assert_eq!(&key, &event_key(&event, &body));
            prop_assert!(!key.is_empty());
            let other_body = [body.as_slice(), b" "].concat();
            match &event.msg_id {
                Some(id) => {
                    prop_assert_eq!(&key, &format!("{}:{id}", event.event_name));
                    prop_assert_eq!(&key, &event_key(&event, &other_body));
                }
                None => {
                    let rest = key.strip_prefix("sha256:").unwrap_or_default();
                    // Led by the signed timestamp when it is a number, then the body's hash.
                    let hash = match event.timestamp.as_deref().map(|t| t.trim().parse::<u64>()) {
                        Some(Ok(ms)) => rest.strip_prefix(&format!("{ms:013}:")).unwrap_or_default(),
                        _ => rest,
                    };
                    prop_assert!(
                        hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                        "{}", key
                    );
                    prop_assert_ne!(&key, &event_key(&event, &other_body));
                }
            }
        }
    }
}
