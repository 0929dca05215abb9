//! `POST /api/v1/zalo/webhook`: verify, persist, acknowledge, hand off. The answer never waits for the LLM
//! or Zalo, only for the event's own insert into the inbox.
//!
//! Status codes: 200 accepted (or a duplicate, or an empty probe), 400 malformed JSON, 401 bad signature,
//! 408 body not received within `server.body_read_timeout`, 413 too large, 503 database unavailable or shutting
//! down (Zalo retries).
//!
//! Zalo documents no replay window, so a correctly signed event is accepted whatever its `timestamp`; replays
//! are absorbed by the inbox's unique `event_key` instead.

use std::time::Instant;

use secrecy::ExposeSecret;
use serde_json::json;
use warp::http::{HeaderMap, StatusCode};

use super::{BodyError, HttpState, error_reply, json_reply, read_body};
use crate::pipeline::classify;
use crate::store::{InboxInsert, NewInboxEvent};
use crate::telemetry;
use crate::zalo::{events, signature};

pub(super) async fn handle<S, B>(
    headers: HeaderMap,
    body: S,
    state: HttpState,
) -> warp::reply::Response
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    let started = Instant::now();
    let (response, event, outcome) = process(&headers, body, &state).await;
    metrics::counter!(telemetry::WEBHOOK_EVENTS, "event" => event, "outcome" => outcome)
        .increment(1);
    metrics::histogram!(telemetry::WEBHOOK_DURATION).record(started.elapsed().as_secs_f64());
    response
}

async fn process<S, B>(
    headers: &HeaderMap,
    body: S,
    state: &HttpState,
) -> (warp::reply::Response, &'static str, &'static str)
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    const UNKNOWN: &str = "unknown";
    let Some(_pass) = state.intake.enter() else {
        let reply = error_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the service is stopping; retry later",
        );
        return (reply, UNKNOWN, "unavailable");
    };
    let raw = match read_body(headers, body, &state.settings.server).await {
        Ok(raw) => raw,
        Err(err) => {
            if matches!(err, BodyError::TimedOut) {
                tracing::warn!("webhook body not received within the deadline");
            }
            return (err.reply(), UNKNOWN, err.outcome());
        }
    };
    let signature_header = headers
        .get(signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);

    // Zalo probes the URL with an empty POST when it is saved in the console.
    if raw.iter().all(u8::is_ascii_whitespace) && signature_header.is_none() {
        return (
            json_reply(StatusCode::OK, json!({"status": "ok"})),
            "other",
            "probe",
        );
    }

    // With a secret configured, an unsigned request is refused before its body is even parsed.
    if state.settings.zalo.oa_secret_key.is_some() && signature_header.is_none() {
        let reply = error_reply(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "missing X-ZEvent-Signature header",
        );
        return (reply, UNKNOWN, "unauthorized");
    }
    let value = match events::parse_json(&raw) {
        Ok(value) => value,
        Err(err) => {
            let reply = error_reply(StatusCode::BAD_REQUEST, "malformed_json", &err.to_string());
            return (reply, UNKNOWN, "malformed");
        }
    };
    if let Some(secret) = &state.settings.zalo.oa_secret_key {
        let timestamp = events::signed_timestamp(&value);
        // The configured app id; without one, the body's (the secret key is what authenticates).
        let app_id = if state.settings.zalo.app_id.is_empty() {
            events::body_app_id(&value).unwrap_or_default()
        } else {
            state.settings.zalo.app_id.clone()
        };
        if let Err(err) = signature::verify(
            signature_header.as_deref(),
            &app_id,
            &raw,
            timestamp.as_deref(),
            secret.expose_secret(),
        ) {
            tracing::warn!(reason = %err, "webhook signature rejected");
            let reply = error_reply(
                StatusCode::UNAUTHORIZED,
                "invalid_signature",
                &err.to_string(),
            );
            return (reply, UNKNOWN, "unauthorized");
        }
    }
    let event = match events::decode(&value) {
        Ok(event) => event,
        Err(err) => {
            let reply = error_reply(StatusCode::BAD_REQUEST, "malformed_event", &err.to_string());
            return (reply, UNKNOWN, "malformed");
        }
    };
    let label = event.label();
    let event_key = events::event_key(&event, &raw);
    // Nothing to answer: stored closed, in the same insert, and intake never hears of it.
    let handled_as = classify(&event).closed_as();
    let new = NewInboxEvent {
        handled_as,
        event_key: event_key.clone(),
        event_name: event.event_name.clone(),
        user_id: event.user.clone(),
        // Stored as received (lossy only for invalid UTF-8, which valid JSON cannot contain).
        payload: String::from_utf8_lossy(&raw).into_owned(),
    };
    match state.store.insert_inbox(new).await {
        Ok(InboxInsert::Inserted { .. }) if let Some(outcome) = handled_as => {
            metrics::counter!(telemetry::EVENTS_HANDLED, "outcome" => outcome.as_str())
                .increment(1);
            (
                json_reply(StatusCode::OK, json!({"status": "ok"})),
                label,
                "accepted",
            )
        }
        Ok(InboxInsert::Inserted {
            id: inbox_id,
            first_attempt,
        }) => {
            // If intake is down (restarting), the event is safe in the inbox: intake replays it on start.
            state
                .directory
                .accept(inbox_id, event_key, event, first_attempt);
            (
                json_reply(StatusCode::OK, json!({"status": "ok"})),
                label,
                "accepted",
            )
        }
        Ok(InboxInsert::Duplicate) => (
            json_reply(StatusCode::OK, json!({"status": "duplicate"})),
            label,
            "duplicate",
        ),
        Err(err) => {
            tracing::error!(error = %err, "could not persist a webhook event; answering 503 so Zalo retries");
            let reply = error_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "storage unavailable; retry later",
            );
            (reply, label, "unavailable")
        }
    }
}
