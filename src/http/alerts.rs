//! `POST /api/v1/alerts`: an Alertmanager webhook receiver (bearer `ADMIN_TOKEN`). Firing and resolved alerts
//! are forwarded as one Vietnamese Zalo message per notification to `alerts.zalo_user_ids`, because the OA's
//! operators live in Zalo.

use serde::Deserialize;
use serde_json::json;
use warp::http::{HeaderMap, StatusCode};

use super::admin::admin_json;
use super::{HttpState, error_reply, json_reply};
use crate::actors::outbound::OutboundMsg;
use crate::domain::UserId;
use crate::pipeline::Role;
use crate::reply::split::split_message;
use crate::telemetry;

/// Alertmanager's webhook payload (version 4), the fields we use.
#[derive(Deserialize)]
struct Notification {
    status: String,
    #[serde(default)]
    alerts: Vec<Alert>,
}

#[derive(Deserialize)]
struct Alert {
    status: String,
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// The message: one line per alert, firing first, with its severity, name, summary and runbook.
fn render(notification: &Notification) -> String {
    let mut lines = vec![if notification.status == "resolved" {
        "✅ TradeSphere: cảnh báo đã hết".to_string()
    } else {
        "🚨 TradeSphere: có cảnh báo vận hành".to_string()
    }];
    let mut alerts: Vec<&Alert> = notification.alerts.iter().collect();
    alerts.sort_by_key(|a| a.status != "firing");
    for alert in alerts {
        let name = alert.labels.get("alertname").map_or("?", String::as_str);
        let severity = alert.labels.get("severity").map_or("", String::as_str);
        let state = if alert.status == "firing" {
            "ĐANG XẢY RA"
        } else {
            "đã hết"
        };
        let mut line = format!("\n• [{state}] {name}");
        if !severity.is_empty() {
            line.push_str(&format!(" ({severity})"));
        }
        if let Some(summary) = alert.annotations.get("summary") {
            line.push_str(&format!(": {summary}"));
        }
        if let Some(runbook) = alert.annotations.get("runbook") {
            line.push_str(&format!("\n  Cần làm: {runbook}"));
        }
        lines.push(line);
    }
    lines.concat()
}

pub(super) async fn receive<S, B>(
    headers: HeaderMap,
    body: S,
    state: HttpState,
) -> warp::reply::Response
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    let notification: Notification = match admin_json(&headers, body, &state).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let text = render(&notification);
    let parts = split_message(&text, state.settings.outbound.max_message_chars);
    let mut sent = 0;
    for id in &state.settings.alerts.zalo_user_ids {
        let Ok(user) = UserId::parse(id.clone()) else {
            metrics::counter!(telemetry::ALERTS_FORWARDED, "result" => "failed").increment(1);
            continue;
        };
        match state.store.enqueue_proactive(&user, &parts).await {
            Ok(queued) => {
                if let Some(outbound) = state.directory.outbound() {
                    let _ = crate::actors::tell(
                        Role::Outbound,
                        &outbound,
                        OutboundMsg::Enqueue(queued),
                    );
                }
                sent += 1;
                metrics::counter!(telemetry::ALERTS_FORWARDED, "result" => "sent").increment(1);
            }
            Err(err) => {
                tracing::error!(error = %err, "could not queue an alert message");
                metrics::counter!(telemetry::ALERTS_FORWARDED, "result" => "failed").increment(1);
                // Alertmanager retries a failed webhook.
                return error_reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "storage unavailable; retry later",
                );
            }
        }
    }
    json_reply(StatusCode::OK, json!({"status": "ok", "recipients": sent}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_firing_alerts_first_with_runbook() {
        let notification: Notification = serde_json::from_value(json!({
            "status": "firing",
            "alerts": [
                {"status": "resolved", "labels": {"alertname": "A"}, "annotations": {}},
                {"status": "firing", "labels": {"alertname": "ZaloAccessTokenExpiringSoon", "severity": "warning"},
                 "annotations": {"summary": "token expires in 2h", "runbook": "run tradesphere token refresh"}}
            ]
        }))
        .unwrap();
        let text = render(&notification);
        assert!(text.starts_with("🚨 TradeSphere"), "{text}");
        let firing = text.find("ZaloAccessTokenExpiringSoon").unwrap();
        assert!(firing < text.find("• [đã hết] A").unwrap(), "{text}");
        assert!(text.contains("(warning): token expires in 2h"));
        assert!(text.contains("Cần làm: run tradesphere token refresh"));
    }
}
