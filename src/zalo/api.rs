//! The OA Open API send call (`POST /v3.0/oa/message/cs`) and the classification of its errors.
//! Zalo answers errors with HTTP 200 and a negative `error`, so the body decides, never the status alone.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

/// How the sender should react to a failed send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Rate limit (-32), "send failed, retry" (-200), 5xx, connection failures: retry with backoff.
    Transient,
    /// -216 invalid / -220 expired access token: get a fresh token, retry once.
    TokenInvalid,
    /// The user's 7-day interaction window is closed or they cannot receive: record, never retry.
    UserUnreachable,
    /// The request may have reached Zalo but no answer came back: never resend blindly.
    Ambiguous,
    /// Anything else (bad parameters, OA disabled, tier …): record and alert.
    Permanent,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("Zalo error {code}: {message}")]
    Api { code: i64, message: String },
    #[error("Zalo answered HTTP {status}")]
    Http { status: u16 },
    #[error("could not reach Zalo: {0}")]
    Connect(String),
    #[error("no answer from Zalo before the timeout")]
    Timeout,
    #[error("the connection failed after the request was sent: {0}")]
    Interrupted(String),
    #[error("unreadable answer from Zalo: {0}")]
    InvalidResponse(String),
}

impl SendError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Api { code, .. } => classify_code(*code),
            Self::Http { status } if *status >= 500 || *status == 429 => ErrorClass::Transient,
            Self::Http { .. } => ErrorClass::Permanent,
            Self::Connect(_) => ErrorClass::Transient,
            Self::Timeout | Self::Interrupted(_) | Self::InvalidResponse(_) => {
                ErrorClass::Ambiguous
            }
        }
    }

    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            Self::Http { status } => Some(i64::from(*status)),
            _ => None,
        }
    }

    /// A short, label-safe name for metrics.
    pub fn label(&self) -> &'static str {
        match self.class() {
            ErrorClass::Transient => "transient",
            ErrorClass::TokenInvalid => "token_invalid",
            ErrorClass::UserUnreachable => "user_unreachable",
            ErrorClass::Ambiguous => "ambiguous",
            ErrorClass::Permanent => "permanent",
        }
    }
}

/// Sorts a Zalo error code from the official table into what the sender does next.
pub fn classify_code(code: i64) -> ErrorClass {
    match code {
        -32 | -100 | -200 => ErrorClass::Transient,
        -216 | -220 | -124 => ErrorClass::TokenInvalid,
        -213 | -217 | -222 | -227 | -230 | -232 | -234 | -244 => ErrorClass::UserUnreachable,
        _ => ErrorClass::Permanent,
    }
}

/// A successful send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Zalo's `data.message_id`; the `oa_send_*` echo of this message carries it as `msg_id`.
    pub message_id: Option<String>,
}

#[derive(Deserialize)]
struct ApiResponse {
    #[serde(default)]
    error: serde_json::Value,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    data: Option<ApiData>,
}

#[derive(Deserialize)]
struct ApiData {
    #[serde(default)]
    message_id: Option<serde_json::Value>,
}

/// A thin client for the OA Open API.
#[derive(Debug, Clone)]
pub struct ZaloApi {
    http: reqwest::Client,
    api_url: url::Url,
    timeout: Duration,
}

impl ZaloApi {
    pub fn new(http: reqwest::Client, api_url: url::Url, timeout: Duration) -> Self {
        Self {
            http,
            api_url,
            timeout,
        }
    }

    /// Sends one text message (≤ 2000 characters; the caller splits) as a customer-service message.
    pub async fn send_text(
        &self,
        access_token: &SecretString,
        user_id: &str,
        text: &str,
    ) -> Result<Sent, SendError> {
        let body = json!({ "recipient": { "user_id": user_id }, "message": { "text": text } });
        self.send(access_token, &body).await
    }

    /// Sends an image by its URL with `caption` as a customer-service message (the `media` template).
    pub async fn send_image(
        &self,
        access_token: &SecretString,
        user_id: &str,
        image_url: &str,
        caption: &str,
    ) -> Result<Sent, SendError> {
        self.send(access_token, &image_body(user_id, image_url, caption))
            .await
    }

    async fn send(
        &self,
        access_token: &SecretString,
        body: &serde_json::Value,
    ) -> Result<Sent, SendError> {
        let response = self
            .http
            .post(super::endpoint(&self.api_url, "/v3.0/oa/message/cs"))
            .header("access_token", access_token.expose_secret())
            .timeout(self.timeout)
            .json(body)
            .send()
            .await
            .map_err(map_transport_error)?;
        let status = response.status();
        if !status.is_success() {
            return Err(SendError::Http {
                status: status.as_u16(),
            });
        }
        let bytes = response.bytes().await.map_err(map_transport_error)?;
        parse_send_response(&bytes)
    }
}

/// The body of an image message: an image element by URL (never with an `attachment_id`), the text beside it.
fn image_body(user_id: &str, image_url: &str, caption: &str) -> serde_json::Value {
    json!({
        "recipient": { "user_id": user_id },
        "message": {
            "text": caption,
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "media",
                    "elements": [{ "media_type": "image", "url": image_url }]
                }
            }
        }
    })
}

/// Decodes a send answer: `{"error":0,"data":{"message_id":…}}` is success, any other `error` a failure.
pub fn parse_send_response(bytes: &[u8]) -> Result<Sent, SendError> {
    let parsed: ApiResponse =
        serde_json::from_slice(bytes).map_err(|e| SendError::InvalidResponse(e.to_string()))?;
    let code = match &parsed.error {
        serde_json::Value::Number(n) => n.as_i64().unwrap_or(-1),
        serde_json::Value::String(s) => s.trim().parse().unwrap_or(-1),
        serde_json::Value::Null => 0,
        _ => -1,
    };
    if code != 0 {
        return Err(SendError::Api {
            code,
            message: parsed.message.unwrap_or_default(),
        });
    }
    let message_id = parsed
        .data
        .and_then(|d| d.message_id)
        .and_then(|id| match id {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    Ok(Sent { message_id })
}

fn map_transport_error(err: reqwest::Error) -> SendError {
    // A connect failure means nothing left this host: safe to retry. A timeout after connecting may mean
    // Zalo got the message, so it is reported as a timeout (ambiguous).
    if err.is_connect() {
        SendError::Connect(err.to_string())
    } else if err.is_timeout() {
        SendError::Timeout
    } else if err.is_decode() {
        SendError::InvalidResponse(err.to_string())
    } else {
        // Anything else may have happened after the request was written: not safe to resend.
        SendError::Interrupted(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_with_message_id() {
        let sent = parse_send_response(
            br#"{"data":{"message_id":"63ecf43f0df7dba892e6","user_id":"1"},"error":0,"message":"Success"}"#,
        )
        .unwrap();
        assert_eq!(sent.message_id.as_deref(), Some("63ecf43f0df7dba892e6"));
    }

    #[test]
    fn error_in_a_200_is_a_failure() {
        let err = parse_send_response(br#"{"error":-230,"message":"User has not interacted"}"#)
            .unwrap_err();
        assert_eq!(err.code(), Some(-230));
        assert_eq!(err.class(), ErrorClass::UserUnreachable);
        let err = parse_send_response(br#"{"error":"-32","message":"limit"}"#).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Transient);
        let err = parse_send_response(br#"{"error":-216,"message":"Access token is invalid"}"#)
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::TokenInvalid);
        let err =
            parse_send_response(br#"{"error":-201,"message":"user_id is invalid"}"#).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Permanent);
        assert!(matches!(
            parse_send_response(b"<html>"),
            Err(SendError::InvalidResponse(_))
        ));
    }

    #[test]
    fn an_image_goes_in_the_media_template_with_its_caption() {
        let body = image_body("42", "https://cdn.example.vn/a.jpg", "Cảnh báo");
        assert_eq!(body["recipient"]["user_id"], "42");
        assert_eq!(body["message"]["text"], "Cảnh báo");
        let payload = &body["message"]["attachment"]["payload"];
        assert_eq!(body["message"]["attachment"]["type"], "template");
        assert_eq!(payload["template_type"], "media");
        assert_eq!(payload["elements"][0]["media_type"], "image");
        assert_eq!(
            payload["elements"][0]["url"],
            "https://cdn.example.vn/a.jpg"
        );
    }

    #[test]
    fn http_status_classes() {
        assert_eq!(
            SendError::Http { status: 502 }.class(),
            ErrorClass::Transient
        );
        assert_eq!(
            SendError::Http { status: 404 }.class(),
            ErrorClass::Permanent
        );
        assert_eq!(SendError::Timeout.class(), ErrorClass::Ambiguous);
    }
}
