//! Webhook decoding: `parse_json` → `decode` → `event_key`, on raw bytes and on Zalo-shaped JSON built from
//! the same bytes (so the fuzzer reaches `decode` beyond the JSON parser).

#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use tradesphere::zalo::events::{
    DecodeError, EventKind, KNOWN_EVENTS, OTHER_LABEL, WebhookEvent, body_app_id, decode,
    event_key, parse_json, signed_timestamp,
};

fuzz_target!(|data: &[u8]| {
    check_body(data);
    if let Ok(body) = zalo_shaped_body(&mut Unstructured::new(data)) {
        check_body(&body);
    }
});

fn check_body(body: &[u8]) {
    let value = match parse_json(body) {
        Ok(value) => value,
        Err(error) => {
            // A refusal agrees with serde_json: invalid JSON, or valid JSON that is not an object.
            match serde_json::from_slice::<Value>(body) {
                Ok(v) => assert!(!v.is_object() && error == DecodeError::NotAnObject),
                Err(_) => assert!(matches!(error, DecodeError::Json(_)), "{error:?}"),
            }
            return;
        }
    };
    assert!(value.is_object());
    let result = decode(&value);
    assert_eq!(result, decode(&value), "decode is not deterministic");
    let name = value
        .get("event_name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty());
    match result {
        Err(error) => {
            assert_eq!(error, DecodeError::NoEventName);
            assert!(name.is_none(), "refused an event named {name:?}");
        }
        Ok(event) => check_event(&value, body, &event, name.expect("decoded without a name")),
    }
}

fn check_event(value: &Value, body: &[u8], event: &WebhookEvent, name: &str) {
    assert_eq!(event.event_name, name);
    let kind_matches = match event.kind {
        EventKind::Follow => name == "follow",
        EventKind::Unfollow => name == "unfollow",
        EventKind::OaEcho => name.starts_with("oa_send_"),
        EventKind::UserMessage(_) => name.starts_with("user_send_"),
        EventKind::Other => {
            !matches!(name, "follow" | "unfollow")
                && !name.starts_with("oa_send_")
                && !name.starts_with("user_send_")
        }
    };
    assert!(kind_matches, "{name:?} classified as {:?}", event.kind);
    let label = event.label();
    assert!(
        label == OTHER_LABEL || (label == name && KNOWN_EVENTS.contains(&label)),
        "{name:?} labelled {label:?}"
    );

    // Ids: trimmed, non-empty, and exactly what the body holds at that path.
    let user = event.user.as_ref().map(|u| u.as_str().to_string());
    for id in [&event.app_id, &event.timestamp, &user, &event.msg_id]
        .into_iter()
        .flatten()
    {
        assert!(!id.is_empty() && id.trim() == id, "bad id {id:?}");
    }
    assert_eq!(event.app_id, oracle_id(value.get("app_id")));
    assert_eq!(event.app_id, body_app_id(value));
    assert_eq!(event.timestamp, oracle_id(value.get("timestamp")));
    assert_eq!(event.timestamp, signed_timestamp(value));
    let message = value.get("message");
    assert_eq!(
        event.msg_id,
        oracle_id(message.and_then(|m| m.get("msg_id")))
    );
    if let Some(user) = &user {
        let candidates = [
            at(value, &["sender", "id"]),
            at(value, &["recipient", "id"]),
            at(value, &["follower", "id"]),
            at(value, &["user_id"]),
        ];
        assert!(
            candidates
                .iter()
                .any(|c| oracle_id(*c).as_ref() == Some(user)),
            "user id {user:?} is not in the body"
        );
    }
    assert_eq!(
        event.text.as_deref(),
        message.and_then(|m| m.get("text")).and_then(Value::as_str)
    );
    let attachments = message
        .and_then(|m| m.get("attachments"))
        .and_then(Value::as_array);
    assert!(event.attachment_urls.len() <= attachments.map_or(0, Vec::len));
    for url in &event.attachment_urls {
        assert!(attachments.is_some_and(|items| {
            items
                .iter()
                .any(|a| at(a, &["payload", "url"]).and_then(Value::as_str) == Some(url))
        }));
    }
    assert_eq!(
        event.from_admin,
        at(value, &["sender", "admin_id"]).is_some_and(|a| !a.is_null())
    );

    // The inbox key: deterministic, non-empty, from the msg_id when there is one, else from the exact body.
    let key = event_key(event, body);
    assert_eq!(
        key,
        event_key(event, body),
        "event_key is not deterministic"
    );
    assert!(!key.is_empty());
    let other_body = [body, b" "].concat();
    match &event.msg_id {
        Some(id) => {
            assert_eq!(key, format!("{name}:{id}"));
            assert_eq!(key, event_key(event, &other_body), "key depends on body");
        }
        None => {
            let rest = key.strip_prefix("sha256:").expect("hash key");
            // Led by the signed timestamp, zero-padded to 13 digits, when it is a number.
            let hash = match event.timestamp.as_deref().map(|t| t.trim().parse::<u64>()) {
                Some(Ok(ms)) => rest
                    .strip_prefix(&format!("{ms:013}:"))
                    .expect("timestamp first"),
                _ => rest,
            };
            assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(!hash.bytes().any(|b| b.is_ascii_uppercase()));
            assert_ne!(
                key,
                event_key(event, &other_body),
                "body change kept the key"
            );
        }
    }
}

fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// Independent statement of the id rule: a non-blank string (trimmed), or a number's decimal form.
fn oracle_id(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Names beside the ones the service knows: a bare prefix, and a kind Zalo may add one day.
const ODD_EVENT_NAMES: &[&str] = &["user_send_", "anonymous_send_text"];

/// A known event name most of the time, else an odd one.
fn event_name(u: &mut Unstructured) -> Result<&'static str> {
    if u.ratio(1, 8)? {
        u.choose(ODD_EVENT_NAMES).copied()
    } else {
        u.choose(&KNOWN_EVENTS).copied()
    }
}

/// A body shaped like a Zalo webhook: the known envelope keys, each present or not, each id a string, a
/// number or something else.
fn zalo_shaped_body(u: &mut Unstructured) -> Result<Vec<u8>> {
    let mut root = Map::new();
    let name = match u.int_in_range(0..=9)? {
        0 => Value::String(String::arbitrary(u)?),
        1 => scalar(u)?,
        2 => Value::String(format!(" {} ", event_name(u)?)),
        _ => Value::String(event_name(u)?.to_string()),
    };
    if u.ratio(15, 16)? {
        root.insert("event_name".into(), name);
    }
    for key in ["app_id", "timestamp", "user_id", "oa_id"] {
        if u.arbitrary()? {
            root.insert(key.into(), id(u)?);
        }
    }
    for key in ["sender", "recipient", "follower"] {
        if u.arbitrary()? {
            let mut party = Map::new();
            if u.ratio(3, 4)? {
                party.insert("id".into(), id(u)?);
            }
            if key == "sender" && u.ratio(1, 4)? {
                party.insert("admin_id".into(), id(u)?);
            }
            root.insert(key.into(), Value::Object(party));
        }
    }
    if u.ratio(3, 4)? {
        let mut message = Map::new();
        if u.ratio(3, 4)? {
            message.insert("msg_id".into(), id(u)?);
        }
        if u.arbitrary()? {
            message.insert("text".into(), Value::String(String::arbitrary(u)?));
        }
        if u.arbitrary()? {
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let url = if u.ratio(3, 4)? {
                    Value::String(String::arbitrary(u)?)
                } else {
                    scalar(u)?
                };
                items.push(serde_json::json!({"type": "link", "payload": {"url": url}}));
            }
            if u.ratio(1, 8)? {
                items.push(scalar(u)?);
            }
            message.insert("attachments".into(), Value::Array(items));
        }
        root.insert("message".into(), Value::Object(message));
    }
    Ok(serde_json::to_vec(&Value::Object(root)).expect("a Value serializes"))
}

fn id(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=5)? {
        0 => Value::String(String::arbitrary(u)?),
        1 => Value::String(format!("{}", u64::arbitrary(u)?)),
        2 => Value::String(format!("  {}\t", u64::arbitrary(u)?)),
        3 => Value::from(u64::arbitrary(u)?),
        4 => Value::from(i64::arbitrary(u)?),
        _ => scalar(u)?,
    })
}

fn scalar(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=5)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(f64::arbitrary(u)?),
        3 => Value::String(" \n".into()),
        4 => Value::Array(vec![Value::from(1)]),
        _ => Value::Object(Map::new()),
    })
}
