//! LLM conversations: prompt contents, retries, circuit breaker, timeouts, cost limits, debounce,
//! token accounting and human handoff.

use std::time::Duration;

use serde_json::json;
use testkit::both_backends;
use testkit::openai;
use tradesphere::clock::{Clock, ManualClock};
use tradesphere::domain::UserId;
use tradesphere::domain::time::vietnam_day;
use tradesphere::reply::templates;
use wiremock::ResponseTemplate;

use crate::helpers::*;

fn llm_app(extra: Vec<(&'static str, String)>) -> TestOptions {
    TestOptions {
        extra_env: extra,
        ..TestOptions::with_model()
    }
}

/// Files four community reports ("giả danh công an") against `phone`.
async fn reported_four_times(app: &TestApp, phone: &str) {
    app.store()
        .upsert_reports(&[tradesphere::store::NewReport {
            kind: tradesphere::scam::EntityKind::Phone,
            value: phone.into(),
            category: "giả danh công an".into(),
            source: "test".into(),
            report_count: 4,
            verified: false,
            bank_bin: None,
            first_reported: None,
            last_reported: None,
        }])
        .await
        .unwrap();
}

async fn prompt_carries_history_and_facts_from_the_last_scam_check(backend: Backend) {
    let app = spawn_app_with(&backend, TestOptions::with_model()).await;
    reported_four_times(&app, "+84912345678").await;
    app.model_answers("Số này đã bị báo cáo 4 lần. Bạn nên chặn số và báo cho ngân hàng.")
        .await;
    let user = user_id();
    // A message with a number: the database decides, the model phrases from the facts.
    app.post_event(&text_event(&user, "số 0912345678 gọi bảo tôi chuyển tiền"))
        .await;
    let first = &app.replies_for(&user, 1).await[0].text;
    assert!(first.starts_with("🚨"), "the verdict comes first: {first}");
    assert!(
        first.contains("Số này đã bị báo cáo 4 lần. Bạn nên chặn số và báo cho ngân hàng."),
        "{first}"
    );
    let body = &app.model_requests().await[0];
    let last = body["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        last.contains("DỮ KIỆN TỪ CƠ SỞ DỮ LIỆU")
            && last.contains("+84912345678")
            && last.contains("4 báo cáo"),
        "{last}"
    );

    // A follow-up question still gets the latest check as facts, and the conversation as history.
    app.post_event(&text_event(&user, "vậy giờ tôi phải làm gì?"))
        .await;
    app.replies_for(&user, 2).await;
    let body = &app.model_requests().await[1];
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert!(
        messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("TradeSphere")
    );
    let history: Vec<&str> = messages[1..messages.len() - 1]
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(
        history
            .iter()
            .any(|c| c.contains("số 0912345678 gọi bảo tôi chuyển tiền")),
        "{history:?}"
    );
    let last = messages.last().unwrap()["content"].as_str().unwrap();
    assert!(last.contains("DỮ KIỆN TỪ CƠ SỞ DỮ LIỆU"), "{last}");
    assert!(
        last.contains("+84912345678") && last.contains("4 báo cáo"),
        "{last}"
    );
    assert!(
        last.contains("<<<TIN_NHAN_NGUOI_DUNG>>>\nvậy giờ tôi phải làm gì?\n<<<HET_TIN_NHAN>>>"),
        "{last}"
    );
    app.shutdown().await;
}

async fn a_failing_model_never_hides_a_scam_verdict(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        llm_app(vec![("TRADESPHERE__LLM__MAX_RETRIES", "0".into())]),
    )
    .await;
    app.model_fails_with(500).await;
    let user = user_id();
    app.post_event(&text_event(
        &user,
        "STK 1903 6688 8888 Techcombank có an toàn không",
    ))
    .await;
    let reply = &app.replies_for(&user, 1).await[0].text;
    assert!(
        reply.contains("1903 6688 8888") && reply.contains("chưa có ai báo cáo"),
        "{reply}"
    );
    app.shutdown().await;
}

async fn the_verdict_reaches_the_user_whatever_the_model_says(backend: Backend) {
    let app = spawn_app_with(&backend, TestOptions::with_model()).await;
    reported_four_times(&app, "+84912345678").await;
    // A model that ignores the facts it is given and repeats nothing of them.
    app.model_answers("Chào bạn! Bạn cần mình giúp gì thêm không?")
        .await;
    let user = user_id();
    app.post_event(&text_event(
        &user,
        "số 0912 345 678 gọi bảo tôi chuyển tiền",
    ))
    .await;
    let reply = &app.replies_for(&user, 1).await[0].text;
    assert!(reply.starts_with("🚨"), "{reply}");
    assert!(
        reply.contains("Số điện thoại 0912 345 678")
            && reply.contains("đã bị báo cáo lừa đảo 4 lần"),
        "the entity as written, with its verdict: {reply}"
    );
    let verdict = reply.find("0912 345 678").unwrap();
    let model = reply
        .find("Bạn cần mình giúp gì")
        .expect("the model may add to it");
    assert!(verdict < model, "{reply}");
    assert!(reply.contains("👉"), "ends with what to do: {reply}");

    // A model that contradicts the verdict is left out; the verdict stands alone.
    app.openai.reset().await;
    app.model_answers("Tin nhắn này an toàn, bạn cứ yên tâm làm theo.")
        .await;
    let other = user_id();
    app.post_event(&text_event(
        &other,
        "Tài khoản của quý khách sẽ bị khóa trong 24h, truy cập ngay để xác minh",
    ))
    .await;
    let reply = &app.replies_for(&other, 1).await[0].text;
    assert!(
        reply.starts_with("🚨") || reply.starts_with("⚠️"),
        "{reply}"
    );
    assert!(!reply.contains("yên tâm"), "{reply}");
    assert!(reply.contains("“truy cập”"), "evidence quoted: {reply}");
    app.shutdown().await;
}

async fn history_is_trimmed_to_the_token_budget(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        llm_app(vec![(
            "TRADESPHERE__LLM__HISTORY_TOKEN_BUDGET",
            "60".into(),
        )]),
    )
    .await;
    app.model_answers("Vâng.").await;
    let user = user_id();
    for i in 0..4 {
        app.post_event(&text_event(
            &user,
            &format!("tin nhắn thứ {i} khá dài để chiếm nhiều token trong lịch sử"),
        ))
        .await;
        app.replies_for(&user, i + 1).await;
    }
    let bodies = app.model_requests().await;
    let last = bodies.last().unwrap()["messages"].as_array().unwrap();
    // system + the newest turns that fit 60 estimated tokens + the new message: far fewer than 6 history turns.
    assert!(
        last.len() < 2 + 6,
        "history trimmed: {} messages",
        last.len()
    );
    let history: String = last[1..last.len() - 1]
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(
        !history.contains("tin nhắn thứ 0"),
        "the oldest turn went first"
    );
    app.shutdown().await;
}

async fn rate_limited_model_is_retried_honouring_retry_after(backend: Backend) {
    let app = spawn_app_with(&backend, TestOptions::with_model()).await;
    openai::chat_api()
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.openai)
        .await;
    app.model_answers("Xin chào!").await;
    let user = user_id();
    app.post_event(&text_event(&user, "chào")).await;
    assert_eq!(app.replies_for(&user, 1).await[0].text, "Xin chào!");
    let requests = app.openai.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    app.shutdown().await;
}

async fn failing_model_opens_the_breaker_and_users_still_get_answers(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        llm_app(vec![
            ("TRADESPHERE__LLM__MAX_RETRIES", "0".into()),
            ("TRADESPHERE__LLM__BREAKER_FAILURE_THRESHOLD", "3".into()),
            // Long enough for users 4 and 5 to be answered while it is open, even on a loaded machine.
            ("TRADESPHERE__LLM__BREAKER_COOLDOWN_SECS", "5".into()),
        ]),
    )
    .await;
    openai::fails_with(500)
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&app.openai)
        .await;
    app.model_answers("Mô hình đã hoạt động lại.").await;
    for _ in 0..5 {
        let user = user_id();
        app.post_event(&text_event(&user, "cho mình hỏi")).await;
        let reply = &app.replies_for(&user, 1).await[0];
        assert!(
            reply.text.contains("OTP"),
            "a templated answer: {}",
            reply.text
        );
    }
    assert_eq!(
        app.openai.received_requests().await.unwrap().len(),
        3,
        "open after 3 failures: no more calls"
    );
    // After the cool-down a single probe goes through and closes the breaker.
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let user = user_id();
    app.post_event(&text_event(&user, "còn đó không?")).await;
    assert_eq!(
        app.replies_for(&user, 1).await[0].text,
        "Mô hình đã hoạt động lại."
    );
    app.shutdown().await;
}

async fn a_slow_model_times_out_into_a_templated_answer(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        llm_app(vec![
            ("TRADESPHERE__LLM__TIMEOUT_SECS", "1".into()),
            ("TRADESPHERE__LLM__MAX_RETRIES", "0".into()),
        ]),
    )
    .await;
    openai::answers_after(Duration::from_secs(3), "quá muộn")
        .mount(&app.openai)
        .await;
    let user = user_id();
    app.post_event(&text_event(&user, "chào")).await;
    let reply = &app.replies_for(&user, 1).await[0];
    assert_ne!(reply.text, "quá muộn");
    assert!(reply.text.contains("OTP"));
    app.shutdown().await;
}

async fn per_user_rate_and_global_budget_are_enforced(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        llm_app(vec![
            ("TRADESPHERE__LLM__USER_REQUESTS_PER_MINUTE", "2".into()),
            // Each fake completion uses 70 tokens: the third call of the day is over a 100-token budget.
            ("TRADESPHERE__LLM__GLOBAL_TOKENS_PER_DAY", "100".into()),
        ]),
    )
    .await;
    app.model_answers("Trả lời từ mô hình.").await;
    let chatty = user_id();
    for i in 0..3 {
        app.post_event(&text_event(&chatty, &format!("câu hỏi {i}")))
            .await;
        app.replies_for(&chatty, i + 1).await;
    }
    let replies = app.replies_for(&chatty, 3).await;
    assert_eq!(replies[0].text, "Trả lời từ mô hình.");
    assert_eq!(replies[1].text, "Trả lời từ mô hình.");
    assert_eq!(
        replies[2].text,
        templates::LIMITED_ANSWER,
        "a third request in a minute is refused politely"
    );

    // 140 tokens are spent now: the global budget stops everyone, but scam checks still run.
    let other = user_id();
    app.post_event(&text_event(&other, "xin chào")).await;
    assert_eq!(
        app.replies_for(&other, 1).await[0].text,
        templates::LIMITED_ANSWER
    );
    app.post_event(&text_event(&other, "số 0912 345 678 này là ai"))
        .await;
    assert!(
        app.replies_for(&other, 2).await[1]
            .text
            .contains("0912 345 678")
    );
    assert_eq!(app.openai.received_requests().await.unwrap().len(), 2);
    app.shutdown().await;
}

async fn a_burst_is_answered_with_one_call(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        // Each post restarts the window; 2 s covers three posts on a loaded machine.
        llm_app(vec![("TRADESPHERE__LLM__DEBOUNCE_MS", "2000".into())]),
    )
    .await;
    app.model_answers("Mình đã đọc cả ba tin.").await;
    let user = user_id();
    for text in ["chào bạn", "mình có chuyện muốn hỏi", "về một cuộc gọi lạ"] {
        assert_eq!(app.post_event(&text_event(&user, text)).await.status(), 200);
    }
    app.replies_for(&user, 1).await;
    // Nothing else comes after the window that answered the burst.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let bodies = app.model_requests().await;
    assert_eq!(bodies.len(), 1, "one model call for the burst");
    let last = bodies[0]["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        last.contains("chào bạn\nmình có chuyện muốn hỏi\nvề một cuộc gọi lạ"),
        "{last}"
    );
    let uid = UserId::parse(&user).unwrap();
    assert_eq!(app.store().outbound_for(&uid).await.unwrap().len(), 1);
    let history = app.store().messages_for(&uid).await.unwrap();
    assert_eq!(
        history.iter().filter(|m| m.is_from_user).count(),
        3,
        "every message is recorded"
    );
    assert_eq!(
        app.store().pending_event_count().await.unwrap(),
        0,
        "every event is handled"
    );
    app.shutdown().await;
}

async fn token_usage_is_recorded_per_user_and_day(backend: Backend) {
    let app = spawn_app_with(&backend, TestOptions::with_model()).await;
    app.model_answers("Vâng.").await;
    let user = user_id();
    app.post_event(&text_event(&user, "chào")).await;
    app.replies_for(&user, 1).await;
    let day = vietnam_day(chrono::Utc::now());
    let row = wait_until("usage recorded", || async {
        let usage = app.store().llm_usage_for_day(day).await.ok()?;
        usage.into_iter().find(|(u, _)| *u == user).map(|(_, r)| r)
    })
    .await;
    assert_eq!(
        (row.requests, row.prompt_tokens, row.completion_tokens),
        (1, 50, 20)
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("tradesphere_llm_tokens_total{kind=\"prompt\"}"));
    assert!(metrics.contains("tradesphere_llm_global_budget_remaining_tokens"));
    app.shutdown().await;
}

async fn a_restart_keeps_todays_spending(backend: Backend) {
    // Each fake completion uses 70 tokens: one call puts a user over a 60-token daily budget.
    let budget = || vec![("TRADESPHERE__LLM__USER_TOKENS_PER_DAY", "60".to_string())];
    let app = spawn_app_with(&backend, llm_app(budget())).await;
    app.model_answers("Vâng.").await;
    let (spender, other) = (user_id(), user_id());
    app.post_event(&text_event(&spender, "chào")).await;
    assert_eq!(app.replies_for(&spender, 1).await[0].text, "Vâng.");
    let day = vietnam_day(chrono::Utc::now());
    wait_until("usage recorded", || async {
        let spent = app.store().llm_tokens_of(&spender, day).await.ok()?;
        (spent == 70).then_some(())
    })
    .await;
    assert_eq!(app.store().llm_tokens_for_day(day).await.unwrap(), 70);
    assert_eq!(app.store().llm_tokens_of(&other, day).await.unwrap(), 0);
    // Stopped, but kept: its temporary directory holds the SQLite file.
    let mut first = app;
    first.stop().await;

    // The new process reads the spender's total when the spender first asks, not at start.
    let mut options = llm_app(budget());
    options.database_url = Some(first.database_url.clone());
    let app = spawn_app_with(&backend, options).await;
    app.model_answers("Vâng.").await;
    app.post_event(&text_event(&spender, "lại là mình")).await;
    assert_eq!(
        app.replies_for(&spender, 2).await[1].text,
        templates::LIMITED_ANSWER,
        "yesterday's process spent the budget; today's process knows it"
    );
    app.post_event(&text_event(&other, "chào")).await;
    assert_eq!(app.replies_for(&other, 1).await[0].text, "Vâng.");
    assert_eq!(app.openai.received_requests().await.unwrap().len(), 1);
    app.shutdown().await;
    drop(first);
}

async fn an_admin_reply_pauses_the_bot_until_it_expires(backend: Backend) {
    let clock = ManualClock::starting_now();
    let app = spawn_app_with(
        &backend,
        TestOptions {
            clock: Some(clock.clone()),
            ..Default::default()
        },
    )
    .await;
    let user = user_id();
    let admin_echo = json!({"app_id": APP_ID, "event_name": "oa_send_text",
        "sender": {"id": OA_ID, "admin_id": "9"}, "recipient": {"id": user},
        "message": {"msg_id": msg_id(), "text": "Chào anh, em là nhân viên hỗ trợ."}, "timestamp": now_ms()});
    assert_eq!(app.post_event(&admin_echo).await.status(), 200);
    let uid = UserId::parse(&user).unwrap();
    wait_until("the echo is handled", || async {
        (app.store().pending_event_count().await.ok()? == 0).then_some(())
    })
    .await;
    let history = app.store().messages_for(&uid).await.unwrap();
    assert_eq!(
        history.len(),
        1,
        "the admin's message is in the history: {history:?}"
    );
    wait_until("the pause is set", || async {
        app.store()
            .paused_until(&uid, clock.now())
            .await
            .ok()?
            .map(|_| ())
    })
    .await;
    app.post_event(&text_event(&user, "/help")).await;
    wait_until("handled in silence", || async {
        (app.store().pending_event_count().await.ok()? == 0).then_some(())
    })
    .await;
    assert!(
        app.store().outbound_for(&uid).await.unwrap().is_empty(),
        "the bot does not talk over the human"
    );
    let history = app.store().messages_for(&uid).await.unwrap();
    assert!(
        history
            .iter()
            .any(|m| m.is_from_user && m.content == "/help"),
        "the message is still recorded"
    );

    clock.advance(chrono::Duration::minutes(31));
    app.post_event(&text_event(&user, "/help")).await;
    assert!(
        app.replies_for(&user, 1).await[0]
            .text
            .contains("HƯỚNG DẪN"),
        "answered again after the pause"
    );
    app.shutdown().await;
}

/// A message stored before an admin's message was handled, and queued behind it, is not answered: the pause
/// the admin's message wrote is newer than what the webhook's insert read for the message, so the conversation
/// reads the pause again rather than trusting the insert's.
async fn a_message_queued_behind_an_admin_reply_stays_unanswered(backend: Backend) {
    let app = spawn_app_with(
        &backend,
        llm_app(vec![
            ("TRADESPHERE__LLM__TIMEOUT_SECS", "10".into()),
            ("TRADESPHERE__LLM__MAX_RETRIES", "0".into()),
        ]),
    )
    .await;
    // The first answer is slow, so the admin's message (routed after intake's 2 s echo delay) and then the
    // user's second message queue behind it in the conversation.
    openai::answers_after(Duration::from_secs(8), "Mình đây.")
        .mount(&app.openai)
        .await;
    let user = user_id();
    let uid = UserId::parse(&user).unwrap();
    app.post_event(&text_event(&user, "câu hỏi một")).await;
    let admin_echo = json!({"app_id": APP_ID, "event_name": "oa_send_text",
        "sender": {"id": OA_ID, "admin_id": "9"}, "recipient": {"id": user},
        "message": {"msg_id": msg_id(), "text": "Em là nhân viên hỗ trợ."}, "timestamp": now_ms()});
    assert_eq!(app.post_event(&admin_echo).await.status(), 200);
    // Past the echo delay, well before the slow answer (slack for a loaded machine on both sides).
    tokio::time::sleep(Duration::from_millis(4000)).await;
    assert_eq!(
        app.store()
            .paused_until(&uid, chrono::Utc::now())
            .await
            .unwrap(),
        None,
        "the admin's message waits behind the slow answer"
    );
    app.post_event(&text_event(&user, "câu hỏi hai")).await;
    wait_until("every event handled", || async {
        (app.store().pending_event_count().await.ok()? == 0).then_some(())
    })
    .await;
    let parts = app.store().outbound_for(&uid).await.unwrap();
    assert_eq!(
        parts.len(),
        1,
        "only the first message is answered: {parts:?}"
    );
    assert_eq!(parts[0].text, "Mình đây.");
    assert_eq!(app.openai.received_requests().await.unwrap().len(), 1);
    let history = app.store().messages_for(&uid).await.unwrap();
    assert!(
        history
            .iter()
            .any(|m| m.is_from_user && m.content == "câu hỏi hai"),
        "the message is still recorded: {history:?}"
    );
    app.shutdown().await;
}

both_backends!(
    prompt_carries_history_and_facts_from_the_last_scam_check,
    a_failing_model_never_hides_a_scam_verdict,
    the_verdict_reaches_the_user_whatever_the_model_says,
    history_is_trimmed_to_the_token_budget,
    rate_limited_model_is_retried_honouring_retry_after,
    failing_model_opens_the_breaker_and_users_still_get_answers,
    a_slow_model_times_out_into_a_templated_answer,
    per_user_rate_and_global_budget_are_enforced,
    a_burst_is_answered_with_one_call,
    token_usage_is_recorded_per_user_and_day,
    a_restart_keeps_todays_spending,
    an_admin_reply_pauses_the_bot_until_it_expires,
    a_message_queued_behind_an_admin_reply_stays_unanswered,
);
