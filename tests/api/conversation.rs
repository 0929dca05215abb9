//! What users get back: usage guide, welcome, scam checks, LLM answers and fallbacks, media, echoes.

use serde_json::{Value, json};
use testkit::both_backends;
use testkit::openai;
use tradesphere::domain::{OutboundState, UserId};
use tradesphere::scam::EntityKind;
use tradesphere::store::NewReport;
use wiremock::ResponseTemplate;

use crate::helpers::*;

async fn help_variants_return_the_usage_guide(backend: Backend) {
    let app = spawn_app(&backend).await;
    let user = user_id();
    for text in ["/help", "help", "hướng dẫn", "  Hướng Dẫn "] {
        assert_eq!(app.post_event(&text_event(&user, text)).await.status(), 200);
    }
    let replies = app.replies_for(&user, 4).await;
    assert_eq!(replies.len(), 4);
    for reply in &replies {
        assert!(reply.text.contains("HƯỚNG DẪN SỬ DỤNG"), "{}", reply.text);
        assert_eq!(reply.state, OutboundState::Sent);
    }
    app.shutdown().await;
}

async fn follow_gets_a_welcome_and_unfollow_marks_the_user(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            zalo: true,
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    let follow = json!({"app_id": APP_ID, "oa_id": OA_ID, "event_name": "follow", "follower": {"id": user},
        "user_id_by_app": "1", "source": "oa_profile", "timestamp": now_ms()});
    assert_eq!(app.post_event(&follow).await.status(), 200);
    let replies = app.replies_for(&user, 1).await;
    assert!(
        replies[0].text.contains("/help"),
        "welcome points to the guide: {}",
        replies[0].text
    );
    let uid = UserId::parse(&user).unwrap();
    assert_eq!(app.store().user_followed(&uid).await.unwrap(), Some(true));
    // The welcome went to Zalo with the access token header and the v3 body shape.
    let sent = app.zalo_sends().await;
    let body = sent
        .iter()
        .find(|b| b["recipient"]["user_id"] == user.as_str())
        .expect("sent to Zalo");
    assert!(body["message"]["text"].as_str().unwrap().contains("/help"));

    let unfollow = json!({"app_id": APP_ID, "oa_id": OA_ID, "event_name": "unfollow", "follower": {"id": user},
        "timestamp": now_ms()});
    assert_eq!(app.post_event(&unfollow).await.status(), 200);
    wait_until("user marked unfollowed", || async {
        (app.store().user_followed(&uid).await.ok()? == Some(false)).then_some(())
    })
    .await;
    assert_eq!(
        app.store().outbound_for(&uid).await.unwrap().len(),
        1,
        "no reply to an unfollow"
    );
    app.shutdown().await;
}

async fn scam_hit_and_miss(backend: Backend) {
    let app = spawn_app(&backend).await;
    app.store()
        .upsert_reports(&[
            NewReport {
                kind: EntityKind::Phone,
                value: "+84912345678".into(),
                category: "giả danh công an".into(),
                source: "test".into(),
                report_count: 7,
                verified: false,
                bank_bin: None,
                first_reported: None,
                last_reported: None,
            },
            NewReport {
                kind: EntityKind::Domain,
                value: "vietcombank-xacminh.com".into(),
                category: "phishing".into(),
                source: "chongluadao".into(),
                report_count: 1,
                verified: true,
                bank_bin: None,
                first_reported: None,
                last_reported: None,
            },
        ])
        .await
        .unwrap();
    let user = user_id();
    let pasted = "chị ơi chuyển khoản vào STK 1903 6688 8888 Techcombank, gọi 0912.345.678 hoặc vào vietcombank-xacminh[.]com";
    app.post_event(&text_event(&user, pasted)).await;
    let reply = &app.replies_for(&user, 1).await[0].text;
    assert!(reply.contains("0912.345.678"), "shown as written: {reply}");
    assert!(reply.contains('7'), "report count shown: {reply}");
    assert!(reply.contains("vietcombank-xacminh[.]com"), "{reply}");
    assert!(reply.starts_with("🚨"), "danger: {reply}");
    assert!(
        reply.contains("đã được xác minh là lừa đảo"),
        "verified source: {reply}"
    );
    assert!(reply.contains("Techcombank"), "bank named: {reply}");
    assert!(reply.contains("1903 6688 8888"), "account found: {reply}");

    let other = user_id();
    app.post_event(&text_event(
        &other,
        "số 0987 654 321 này có phải lừa đảo không?",
    ))
    .await;
    let reply = &app.replies_for(&other, 1).await[0].text;
    assert!(reply.contains("0987 654 321"), "{reply}");
    assert!(reply.contains("tinnhiemmang.vn"), "{reply}");
    assert!(reply.starts_with("ℹ️"), "no signs: {reply}");
    assert!(reply.contains("chưa có ai báo cáo"), "{reply}");
    assert!(!reply.contains("🚨") && !reply.contains("⚠"), "{reply}");
    app.shutdown().await;
}

async fn llm_answers_with_history(backend: Backend) {
    let app = spawn_app_with(&backend, TestOptions::with_model()).await;
    app.model_answers("**Chào bạn!** Mình có thể giúp gì?")
        .await;
    let user = user_id();
    app.post_event(&text_event(&user, "chào bot")).await;
    let first = app.replies_for(&user, 1).await;
    assert_eq!(
        first[0].text, "Chào bạn! Mình có thể giúp gì?",
        "markdown stripped"
    );
    app.post_event(&text_event(&user, "mình bị gọi điện xưng là công an"))
        .await;
    app.replies_for(&user, 2).await;

    let requests = app.openai.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].headers.get("authorization").unwrap(),
        "Bearer sk-test"
    );
    let body: Value = serde_json::from_slice(&requests[1].body).unwrap();
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert!(messages[0]["content"].as_str().unwrap().contains("lừa đảo"));
    let contents: Vec<&str> = messages
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(
        contents.iter().any(|c| c.contains("chào bot")),
        "history carries the first turn: {contents:?}"
    );
    assert!(contents.contains(&"Chào bạn! Mình có thể giúp gì?"));
    let last = messages.last().unwrap()["content"].as_str().unwrap();
    assert!(
        last.contains(
            "<<<TIN_NHAN_NGUOI_DUNG>>>\nmình bị gọi điện xưng là công an\n<<<HET_TIN_NHAN>>>"
        ),
        "the new message is delimited as data: {last}"
    );
    assert_eq!(body["model"], "gpt-4o-mini");
    app.shutdown().await;
}

async fn llm_failure_falls_back_to_a_template(backend: Backend) {
    let app = spawn_app_with(&backend, TestOptions::with_model()).await;
    openai::chat_api()
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .mount(&app.openai)
        .await;
    let user = user_id();
    app.post_event(&text_event(&user, "cho mình hỏi về lừa đảo việc làm"))
        .await;
    let reply = &app.replies_for(&user, 1).await[0];
    assert_eq!(reply.state, OutboundState::Sent);
    assert!(
        reply.text.contains("OTP"),
        "a useful templated answer: {}",
        reply.text
    );
    app.shutdown().await;
}

async fn no_llm_key_uses_templates(backend: Backend) {
    let app = spawn_app(&backend).await;
    let user = user_id();
    app.post_event(&text_event(&user, "bạn là ai?")).await;
    let reply = &app.replies_for(&user, 1).await[0];
    assert!(!reply.text.is_empty());
    assert!(app.openai.received_requests().await.unwrap().is_empty());
    app.shutdown().await;
}

async fn long_replies_are_split_in_order(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            llm: true,
            zalo: true,
            extra_env: vec![("TRADESPHERE__LLM__MAX_ANSWER_CHARS", "10000".into())],
            ..Default::default()
        },
    )
    .await;
    let sentence = "Đây là một câu trả lời dài để kiểm tra việc chia tin nhắn theo ranh giới câu. ";
    let long = sentence.repeat(60); // ~4,800 characters
    app.model_answers(&long).await;
    let user = user_id();
    app.post_event(&text_event(&user, "kể chuyện dài đi")).await;
    let parts = app.replies_for(&user, 3).await;
    assert_eq!(parts.len(), 3);
    for part in &parts {
        assert!(part.text.chars().count() <= 2000);
        assert!(part.text.ends_with('.'), "split on a sentence boundary");
        assert_eq!(part.state, OutboundState::Sent);
    }
    let joined: String = parts
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        joined.split_whitespace().collect::<Vec<_>>(),
        long.split_whitespace().collect::<Vec<_>>()
    );
    let sent: Vec<String> = app
        .zalo_sends()
        .await
        .iter()
        .filter(|b| b["recipient"]["user_id"] == user.as_str())
        .map(|b| b["message"]["text"].as_str().unwrap().to_string())
        .collect();
    // On a mismatch, what each row recorded (state, Zalo's message id, attempts) tells a part marked sent
    // without its request from a request the fake did not record.
    let rows: Vec<_> = parts
        .iter()
        .map(|p| {
            (
                p.id,
                p.state,
                p.zalo_message_id.clone(),
                p.attempts,
                p.text.len(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        parts.iter().map(|p| p.text.clone()).collect::<Vec<_>>(),
        "Zalo got the parts in order; rows (id, state, message id, attempts, bytes): {rows:?}"
    );
    app.shutdown().await;
}

async fn every_user_event_type_is_handled(backend: Backend) {
    let app = spawn_app(&backend).await;
    let user = user_id();
    let events = [
        attachment_event(
            &user,
            "image",
            json!({"url": "https://zalo.example/img.jpg", "thumbnail": "t"}),
        ),
        attachment_event(
            &user,
            "sticker",
            json!({"url": "https://zalo.example/s.png", "id": "s1"}),
        ),
        attachment_event(
            &user,
            "file",
            json!({"url": "https://zalo.example/f.pdf", "name": "a.pdf", "size": "1024", "checksum": "x", "type": "pdf"}),
        ),
        attachment_event(
            &user,
            "location",
            json!({"coordinates": {"latitude": "10.7", "longitude": "106.6"}}),
        ),
        attachment_event(
            &user,
            "link",
            json!({"url": "https://vietcombank-xacminh.com/login", "thumbnail": "t", "description": "d"}),
        ),
    ];
    for event in &events {
        assert_eq!(app.post_event(event).await.status(), 200);
    }
    let replies = app.replies_for(&user, 5).await;
    assert_eq!(replies.len(), 5, "one answer per event, in order");
    for media in &replies[..4] {
        assert!(
            media.text.contains("văn bản") || media.text.contains("dán"),
            "media answer: {}",
            media.text
        );
    }
    assert!(
        replies[4].text.contains("vietcombank-xacminh.com"),
        "a shared link is checked: {}",
        replies[4].text
    );
    let history = app
        .store()
        .messages_for(&UserId::parse(&user).unwrap())
        .await
        .unwrap();
    let kinds: Vec<&str> = history
        .iter()
        .filter(|m| m.is_from_user)
        .map(|m| m.message_type.as_str())
        .collect();
    assert_eq!(kinds, ["image", "sticker", "file", "location", "link"]);
    app.shutdown().await;
}

async fn own_echoes_are_ignored_and_admin_messages_recorded(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            zalo: true,
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    app.post_event(&text_event(&user, "/help")).await;
    let replies = app.replies_for(&user, 1).await;
    let our_id = replies[0]
        .zalo_message_id
        .clone()
        .expect("Zalo message id recorded");
    let echo = |msg_id: &str, text: &str, admin: bool| {
        let mut sender = json!({"id": OA_ID});
        if admin {
            sender["admin_id"] = json!("123");
        }
        json!({"app_id": APP_ID, "event_name": "oa_send_text", "sender": sender, "recipient": {"id": user},
            "message": {"msg_id": msg_id, "text": text}, "timestamp": now_ms()})
    };
    assert_eq!(
        app.post_event(&echo(&our_id, &replies[0].text, false))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_event(&echo(
            "admin-typed-1",
            "Chào anh, em là nhân viên hỗ trợ.",
            true
        ))
        .await
        .status(),
        200
    );
    wait_until("echoes handled", || async {
        (app.store().pending_event_count().await.ok()? == 0).then_some(())
    })
    .await;
    let uid = UserId::parse(&user).unwrap();
    assert_eq!(
        app.store().outbound_for(&uid).await.unwrap().len(),
        1,
        "echoes are never answered"
    );
    let history = app.store().messages_for(&uid).await.unwrap();
    let admin_lines: Vec<_> = history
        .iter()
        .filter(|m| m.message_type == "admin")
        .collect();
    assert_eq!(admin_lines.len(), 1);
    assert_eq!(admin_lines[0].content, "Chào anh, em là nhân viên hỗ trợ.");
    assert!(!admin_lines[0].is_from_user);
    app.shutdown().await;
}

async fn chat_history_keeps_the_ops_columns(backend: Backend) {
    let app = spawn_app(&backend).await;
    let user = user_id();
    app.post_event(&text_event(&user, "/help")).await;
    app.replies_for(&user, 1).await;
    // The ops queries read zalo_messages(zalo_user_id, message_content, is_from_user, sent_at) directly.
    let sql = format!(
        "SELECT zalo_user_id, message_content, is_from_user, sent_at FROM zalo_messages WHERE zalo_user_id = '{user}' ORDER BY id"
    );
    let rows = sql_rows(&app.database_url, &sql).await;
    assert_eq!(rows.len(), 2);
    let first: String = rows[0].try_get("", "message_content").unwrap();
    assert_eq!(first, "/help");
    let from_user: bool = rows[1].try_get("", "is_from_user").unwrap();
    assert!(!from_user);
    app.shutdown().await;
}

/// A flood from one user is recorded in full but answered only up to the per-user limit (plus one notice);
/// another user is answered as usual, and the model sees only the admitted messages.
async fn a_flooding_user_is_rate_limited_without_losing_messages(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        TestOptions {
            llm: true,
            extra_env: vec![
                (
                    "TRADESPHERE__CONVERSATION__MAX_MESSAGES_PER_WINDOW",
                    "3".into(),
                ),
                ("TRADESPHERE__CONVERSATION__RATE_WINDOW_SECS", "3600".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    app.model_answers("Mình đây.").await;
    let limited_before = metric_value(&app, "tradesphere_inbound_rate_limited_total").await;
    let flooder = user_id();
    for i in 0..8 {
        let response = app
            .post_event(&text_event(&flooder, &format!("tin nhắn số {i}")))
            .await;
        assert_eq!(response.status(), 200, "every message is accepted");
    }
    let other = user_id();
    app.post_event(&text_event(&other, "xin chào")).await;
    app.replies_for(&other, 1).await;

    // 3 answers and one notice; the other 4 messages are stored without a reply.
    app.replies_for(&flooder, 4).await;
    let store = app.store();
    wait_until("all 8 messages handled", || async {
        (store.pending_event_count().await.ok()? == 0).then_some(())
    })
    .await;
    let replies = store
        .outbound_for(&UserId::parse(&flooder).unwrap())
        .await
        .unwrap();
    assert_eq!(replies.len(), 4, "{replies:?}");
    assert_eq!(replies[3].text, tradesphere::reply::templates::RATE_LIMITED);
    let outcomes = outcomes_of(&app, &flooder).await;
    assert_eq!(
        outcomes.iter().filter(|o| *o == "rate_limited").count(),
        5,
        "{outcomes:?}"
    );
    assert_eq!(outcomes.len(), 8, "every message is in the inbox");
    let recorded = history_count(&app, &flooder).await;
    assert_eq!(
        recorded,
        8 + 4,
        "all 8 user messages and 4 replies are in the chat history"
    );
    let model_calls = app.openai.received_requests().await.unwrap().len();
    assert_eq!(model_calls, 3 + 1, "the model saw only admitted messages");
    let limited_after = metric_value(&app, "tradesphere_inbound_rate_limited_total").await;
    assert!(
        limited_after >= limited_before + 5.0,
        "{limited_before} -> {limited_after}"
    );
    app.shutdown().await;
}

async fn sql_strings(app: &TestApp, sql: String, column: &str) -> Vec<String> {
    sql_rows(&app.database_url, &sql)
        .await
        .iter()
        .map(|r| {
            r.try_get::<Option<String>>("", column)
                .unwrap()
                .unwrap_or_default()
        })
        .collect()
}

async fn outcomes_of(app: &TestApp, user: &str) -> Vec<String> {
    sql_strings(
        app,
        format!("SELECT outcome FROM inbox_events WHERE zalo_user_id = '{user}' ORDER BY id"),
        "outcome",
    )
    .await
}

async fn history_count(app: &TestApp, user: &str) -> usize {
    sql_strings(
        app,
        format!("SELECT message_content FROM zalo_messages WHERE zalo_user_id = '{user}'"),
        "message_content",
    )
    .await
    .len()
}

/// The contents of the messages of the `n`-th request the model fake received (its prompt).
async fn prompt_of(app: &TestApp, n: usize) -> Vec<String> {
    let body = &app.model_requests().await[n];
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect()
}

/// The conversation keeps its user's recent chat between model calls instead of reading it each time; a
/// line written elsewhere (here a proactive message straight into the database, as the CLI or another
/// process writes it) still reaches the next prompt, and so do the actor's own lines.
async fn history_written_elsewhere_reaches_the_next_prompt(backend: Backend) {
    let app = spawn_app_with(&backend, TestOptions::with_model()).await;
    app.model_answers("Mình đây.").await;
    let user = user_id();
    let uid = UserId::parse(&user).unwrap();
    app.post_event(&text_event(&user, "câu hỏi một")).await;
    app.replies_for(&user, 1).await;
    app.post_event(&text_event(&user, "câu hỏi hai")).await;
    app.replies_for(&user, 2).await;
    let second = prompt_of(&app, 1).await;
    assert!(
        second.iter().any(|c| c.contains("câu hỏi một")),
        "{second:?}"
    );
    assert!(second.iter().any(|c| c == "Mình đây."), "{second:?}");

    app.store()
        .enqueue_proactive(&uid, &["Thông báo từ quản trị viên.".to_string()])
        .await
        .unwrap();
    app.post_event(&text_event(&user, "câu hỏi ba")).await;
    app.replies_for(&user, 3).await;
    let third = prompt_of(&app, 2).await;
    for line in ["câu hỏi một", "câu hỏi hai", "Thông báo từ quản trị viên."] {
        assert!(third.iter().any(|c| c.contains(line)), "{line}: {third:?}");
    }
    app.shutdown().await;
}

/// A first message needs no history read (its attempt says the user has no chat line), but a line written
/// before it (a proactive message to a user who never wrote) is still in its prompt; and the user is recorded as
/// seen, though nothing waits for that write.
async fn a_first_message_sees_lines_written_before_it(backend: Backend) {
    let app = spawn_app_with(&backend, TestOptions::with_model()).await;
    app.model_answers("Mình đây.").await;
    let newcomer = user_id();
    app.post_event(&text_event(&newcomer, "lần đầu nhắn")).await;
    app.replies_for(&newcomer, 1).await;
    let first = prompt_of(&app, 0).await;
    assert_eq!(
        first.len(),
        2,
        "system prompt and the message only: {first:?}"
    );

    let told = user_id();
    let uid = UserId::parse(&told).unwrap();
    app.store()
        .enqueue_proactive(&uid, &["Cảnh báo: có kẻ giả danh ngân hàng.".to_string()])
        .await
        .unwrap();
    app.post_event(&text_event(&told, "cảnh báo gì vậy")).await;
    // The proactive part stays queued (nothing here sends it), so the answer is the one final part.
    app.replies_for(&told, 1).await;
    let second = prompt_of(&app, 1).await;
    assert!(
        second
            .iter()
            .any(|c| c.contains("Cảnh báo: có kẻ giả danh ngân hàng.")),
        "{second:?}"
    );
    for user in [&newcomer, &told] {
        let uid = UserId::parse(user).unwrap();
        assert_eq!(
            app.store().user_followed(&uid).await.unwrap(),
            Some(false),
            "{user} is recorded as seen"
        );
    }
    app.shutdown().await;
}

both_backends!(
    help_variants_return_the_usage_guide,
    follow_gets_a_welcome_and_unfollow_marks_the_user,
    scam_hit_and_miss,
    llm_answers_with_history,
    history_written_elsewhere_reaches_the_next_prompt,
    a_first_message_sees_lines_written_before_it,
    llm_failure_falls_back_to_a_template,
    no_llm_key_uses_templates,
    long_replies_are_split_in_order,
    every_user_event_type_is_handled,
    own_echoes_are_ignored_and_admin_messages_recorded,
    chat_history_keeps_the_ops_columns,
    a_flooding_user_is_rate_limited_without_losing_messages,
);
