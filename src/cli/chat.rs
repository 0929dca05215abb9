//! `tradesphere chat`: talk to the bot in this terminal through a side instance of the real pipeline; replies
//! are printed, never sent to Zalo.

use std::io::Write;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::io::AsyncBufReadExt;

use crate::config::Settings;
use crate::delivery::Delivery;
use crate::domain::UserId;
use crate::startup::{Application, BuildOptions};
use crate::zalo;

pub(super) async fn run(mut settings: Settings, user: &str) -> anyhow::Result<()> {
    let user = UserId::parse(user).map_err(anyhow::Error::msg)?;
    settings.server.listen = "127.0.0.1:0".parse()?;
    let reply_timeout = settings.llm.deadline() + Duration::from_secs(15);
    let app = Application::build(
        settings,
        BuildOptions {
            delivery: Some(Delivery::Console { print: false }),
            side_instance: true,
            ..Default::default()
        },
    )
    .await?;
    let mut replies = app.subscribe_outbound();
    let url = format!("http://{}/api/v1/zalo/webhook", app.address());
    let http = reqwest::Client::new();
    let app_id = app.settings().zalo.app_id.clone();
    let secret = app.settings().zalo.oa_secret_key.clone();

    println!(
        "TradeSphere — trò chuyện thử trong terminal. Gõ /help để xem hướng dẫn, /quit để thoát."
    );
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        print!("Bạn: ");
        std::io::stdout().flush()?;
        let Some(line) = lines.next_line().await? else {
            break;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if matches!(line, "/quit" | "/exit" | "/thoat") {
            break;
        }
        let msg_id = format!("chat-{}", uuid::Uuid::new_v4().simple());
        let now_ms = chrono::Utc::now().timestamp_millis();
        let body =
            zalo::events::user_text_event(&app_id, user.as_str(), "oa", &msg_id, line, now_ms);
        let mut request = http.post(&url).header("content-type", "application/json");
        if let Some(secret) = &secret {
            let mac = zalo::signature::header_value(
                &app_id,
                body.as_bytes(),
                &now_ms.to_string(),
                secret.expose_secret(),
            );
            request = request.header(zalo::signature::HEADER, mac);
        }
        let response = request.body(body).send().await?;
        if !response.status().is_success() {
            println!(
                "(webhook answered {}: {})",
                response.status(),
                response.text().await.unwrap_or_default()
            );
            continue;
        }
        let key = format!("user_send_text:{msg_id}");
        let wait = async {
            loop {
                match replies.recv().await {
                    Ok(event) if event.source_event_key.as_deref() == Some(key.as_str()) => {
                        println!("Bot: {}", event.text);
                        if event.part_index + 1 >= event.part_count {
                            break;
                        }
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        };
        if tokio::time::timeout(reply_timeout, wait).await.is_err() {
            println!("(chưa có trả lời — xem log)");
        }
    }
    app.shutdown().await;
    Ok(())
}
