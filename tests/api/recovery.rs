//! A user who has already paid or given a code away gets the recovery steps at once, with their bank's
//! hotline, whether or not a model is configured.

use testkit::both_backends;

use crate::helpers::*;

async fn a_victim_gets_the_steps_with_the_banks_hotline_and_no_model_call(backend: Backend) {
    let app = spawn_app_with(&backend, TestOptions::with_model()).await;
    app.model_answers("Bạn cứ yên tâm, không sao đâu.").await;
    let user = user_id();
    app.post_event(&text_event(
        &user,
        "Cứu tôi với, tôi lỡ chuyển khoản 20 triệu từ Vietcombank cho người xưng công an rồi",
    ))
    .await;
    let reply = &app.replies_for(&user, 1).await[0].text;
    assert!(reply.starts_with("🆘"), "{reply}");
    assert!(
        reply.contains("1900 545413"),
        "Vietcombank's hotline: {reply}"
    );
    let police = reply.find("113").expect("the police number");
    let bank = reply.find("1900 545413").unwrap_or(usize::MAX);
    assert!(bank < police, "the bank comes first: {reply}");
    assert!(
        !reply.contains("yên tâm"),
        "the model never replaces the steps: {reply}"
    );
    assert!(
        app.model_requests().await.is_empty(),
        "no model call for a victim"
    );
    app.shutdown().await;
}

async fn an_account_checked_before_the_transfer_names_the_receiving_bank(backend: Backend) {
    let app = spawn_app(&backend).await;
    let user = user_id();
    app.post_event(&text_event(
        &user,
        "stk 0123456789 Techcombank có phải lừa đảo không",
    ))
    .await;
    app.replies_for(&user, 1).await;
    app.post_event(&text_event(
        &user,
        "tôi đã chuyển tiền vào đó rồi, giờ làm sao",
    ))
    .await;
    let reply = &app.replies_for(&user, 2).await[1].text;
    assert!(reply.starts_with("🆘"), "{reply}");
    assert!(reply.contains("tài khoản ở Techcombank"), "{reply}");
    assert!(
        reply.contains("báo cáo 0123456789"),
        "report offer: {reply}"
    );
    app.shutdown().await;
}

both_backends!(
    a_victim_gets_the_steps_with_the_banks_hotline_and_no_model_call,
    an_account_checked_before_the_transfer_names_the_receiving_bank,
);
