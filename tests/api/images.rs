//! Images users send: fetched from a loopback CDN (allow-listed, as an on-prem CDN would be), read, and
//! answered; or refused politely, counted, and never fetched from a forbidden address.

use serde_json::json;
use testkit::both_backends;
use testkit::pictures::{png_declaring, png_truncated};
use tradesphere::domain::UserId;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

/// A CDN on loopback serving `body` at `/img`, and the app allowed to fetch from it.
async fn app_with_cdn(backend: &Backend, body: Vec<u8>, budget: u32) -> (TestApp, MockServer) {
    app_with_cdn_answering(
        backend,
        ResponseTemplate::new(200).set_body_bytes(body),
        budget,
    )
    .await
}

async fn app_with_cdn_answering(
    backend: &Backend,
    answer: ResponseTemplate,
    budget: u32,
) -> (TestApp, MockServer) {
    let cdn = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/img"))
        .respond_with(answer)
        .mount(&cdn)
        .await;
    let host = cdn.address().to_string();
    let app = spawn_app_with(
        backend,
        TestOptions {
            extra_env: vec![
                ("TRADESPHERE__NET__ALLOW_HOSTS", host),
                (
                    "TRADESPHERE__IMAGE__DAILY_BUDGET_PER_USER",
                    budget.to_string(),
                ),
            ],
            ..Default::default()
        },
    )
    .await;
    (app, cdn)
}

fn image_event(user: &str, url: &str) -> serde_json::Value {
    attachment_event(user, "image", json!({"url": url, "thumbnail": url}))
}

/// Fetches counted under `results` (`|`-separated labels, any of which is the right refusal).
async fn fetch_count(app: &TestApp, results: &str) -> f64 {
    let mut total = 0.0;
    for result in results.split('|') {
        let name = format!("tradesphere_media_fetch_total{{result=\"{result}\"}}");
        total += metric_value(app, &name).await;
    }
    total
}

async fn a_file_that_is_not_an_image_gets_a_polite_reply_and_is_counted(backend: Backend) {
    let (app, cdn) = app_with_cdn(&backend, b"%PDF-1.7 not a picture".to_vec(), 5).await;
    let before = fetch_count(&app, "not_image").await;
    let user = user_id();
    app.post_event(&image_event(&user, &format!("{}/img", cdn.uri())))
        .await;
    let replies = app.replies_for(&user, 1).await;
    assert!(
        replies[0].text.contains("không mở được tệp này"),
        "{}",
        replies[0].text
    );
    assert!(fetch_count(&app, "not_image").await > before);
    app.shutdown().await;
}

/// Each hostile picture ends in a polite reply that says what to do, and is counted by why.
async fn hostile_pictures_end_in_a_polite_reply_and_are_counted(backend: Backend) {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let cases = [
        (
            ResponseTemplate::new(200).set_body_bytes(png_truncated()),
            "bad_image",
            "không mở được",
        ),
        (
            ResponseTemplate::new(200).set_body_bytes(png_declaring(50_000, 50_000)),
            "too_many_pixels",
            "quá lớn",
        ),
        (
            ResponseTemplate::new(302)
                .insert_header("Location", "http://169.254.169.254/latest/meta-data"),
            // Plain http to a host not allow-listed, and the metadata address: refused either way.
            "forbidden_scheme|forbidden_address",
            "vì lý do bảo mật",
        ),
        (
            ResponseTemplate::new(302)
                .insert_header("Location", format!("https://{closed}/img").as_str()),
            // https, but to loopback on a port not allow-listed.
            "forbidden_address",
            "vì lý do bảo mật",
        ),
        (ResponseTemplate::new(404), "http_status", "chưa tải được"),
    ];
    for (answer, result, says) in cases {
        let (app, cdn) = app_with_cdn_answering(&backend, answer, 5).await;
        let before = fetch_count(&app, result).await;
        let user = user_id();
        app.post_event(&image_event(&user, &format!("{}/img", cdn.uri())))
            .await;
        let replies = app.replies_for(&user, 1).await;
        assert!(
            replies[0].text.contains(says),
            "{result}: {}",
            replies[0].text
        );
        assert!(
            replies[0].text.contains("nhé"),
            "{result}: {}",
            replies[0].text
        );
        assert!(fetch_count(&app, result).await > before, "{result} counted");
        app.shutdown().await;
    }
    // A CDN that does not answer at all.
    let app = spawn_app_with(
        &backend,
        TestOptions {
            extra_env: vec![("TRADESPHERE__NET__ALLOW_HOSTS", closed.to_string())],
            ..Default::default()
        },
    )
    .await;
    let before = fetch_count(&app, "unreachable").await;
    let user = user_id();
    app.post_event(&image_event(&user, &format!("http://{closed}/img")))
        .await;
    let replies = app.replies_for(&user, 1).await;
    assert!(
        replies[0].text.contains("chưa tải được"),
        "{}",
        replies[0].text
    );
    assert!(fetch_count(&app, "unreachable").await > before);
    app.shutdown().await;
}

async fn an_image_on_a_private_address_is_never_fetched(backend: Backend) {
    // A listener on loopback that is not allow-listed: the address rule refuses it before connecting.
    let private = MockServer::start().await;
    let app = spawn_app(&backend).await;
    let before =
        fetch_count(&app, "forbidden_scheme").await + fetch_count(&app, "forbidden_address").await;
    let user = user_id();
    for url in [
        format!("{}/img", private.uri()),
        "https://169.254.169.254/latest/meta-data".to_string(),
    ] {
        app.post_event(&image_event(&user, &url)).await;
    }
    let replies = app.replies_for(&user, 2).await;
    for reply in &replies {
        assert!(reply.text.contains("vì lý do bảo mật"), "{}", reply.text);
    }
    assert!(
        private
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing reached the private address"
    );
    let after =
        fetch_count(&app, "forbidden_scheme").await + fetch_count(&app, "forbidden_address").await;
    assert!(after >= before + 2.0, "{before} -> {after}");
    app.shutdown().await;
}

async fn the_daily_image_budget_stops_reading_more(backend: Backend) {
    let (app, cdn) = app_with_cdn(&backend, b"not an image".to_vec(), 1).await;
    let user = user_id();
    let url = format!("{}/img", cdn.uri());
    app.post_event(&image_event(&user, &url)).await;
    app.replies_for(&user, 1).await;
    app.post_event(&image_event(&user, &url)).await;
    let replies = app.replies_for(&user, 2).await;
    assert!(
        replies[1].text.contains("tạm dừng đọc ảnh"),
        "{}",
        replies[1].text
    );
    assert_eq!(
        cdn.received_requests().await.unwrap_or_default().len(),
        1,
        "the image over the budget is not fetched"
    );
    // The history keeps a line per image, never the image.
    let history = app
        .store()
        .messages_for(&UserId::parse(&user).unwrap())
        .await
        .unwrap();
    let images = history
        .iter()
        .filter(|m| m.is_from_user && m.message_type == "image");
    assert_eq!(images.count(), 2);
    app.shutdown().await;
}

/// A chat screenshot is read by OCR and answered: what was read, then the verdict. Needs Tesseract and the
/// fonts (CI has both and sets `TRADESPHERE_REQUIRE_OCR=1`); elsewhere it says it skipped.
async fn a_screenshot_is_read_and_answered_with_what_it_says(backend: Backend) {
    let required = std::env::var("TRADESPHERE_REQUIRE_OCR").as_deref() == Ok("1");
    let skip = |why: String| {
        assert!(!required, "TRADESPHERE_REQUIRE_OCR=1 but {why}");
        eprintln!("skipped: {why}");
    };
    if let Err(why) = tradesphere::media::ocr::Ocr::load(&Default::default()) {
        return skip(format!("OCR is off: {why}"));
    }
    let fonts = match testkit::screens::fonts() {
        Ok(fonts) => fonts,
        Err(why) => return skip(why),
    };
    let shot = testkit::screens::render(
        &fonts,
        testkit::screens::Spec {
            font: 0,
            theme: testkit::screens::Theme::ALL[0],
            text_px: 36,
            scale_percent: 100,
            min_height: 0,
            seed: 11,
        },
    );
    let (app, cdn) = app_with_cdn(&backend, shot.jpeg.clone(), 5).await;
    let user = user_id();
    app.post_event(&image_event(&user, &format!("{}/img", cdn.uri())))
        .await;
    let replies = app.replies_for(&user, 1).await;
    let reply: String = replies.iter().map(|r| r.text.as_str()).collect();
    assert!(reply.starts_with("📷 Mình đọc được trong ảnh:"), "{reply}");
    assert!(reply.contains('“'), "a line read is quoted: {reply}");
    assert!(
        ["🚨", "⚠️", "ℹ️"].iter().any(|mark| reply.contains(mark)),
        "a verdict follows: {reply}"
    );
    // What the picture says is judged as the same words typed would be.
    let typed = tradesphere::scam::check::check_text(&shot.written());
    if typed.level.warns() {
        assert!(reply.contains("🚨") || reply.contains("⚠️"), "{reply}");
    }
    // Only the hash and the text read are kept.
    let history = app
        .store()
        .messages_for(&UserId::parse(&user).unwrap())
        .await
        .unwrap();
    let line = history.iter().find(|m| m.is_from_user).unwrap();
    assert!(
        line.content.starts_with("[image sha256:"),
        "{}",
        line.content
    );
    app.shutdown().await;
}

/// The app, and its reply to one user who sent `picture` (served by an allow-listed loopback CDN).
async fn reply_to_picture(backend: &Backend, picture: Vec<u8>) -> (TestApp, String) {
    let (app, cdn) = app_with_cdn(backend, picture, 5).await;
    let user = user_id();
    app.post_event(&image_event(&user, &format!("{}/img", cdn.uri())))
        .await;
    let reply = app
        .replies_for(&user, 1)
        .await
        .iter()
        .map(|r| r.text.clone())
        .collect();
    (app, reply)
}

/// A photo of a QR code: a link is checked as a link, a VietQR transfer as the bank account it names. QR
/// codes are read with or without Tesseract.
async fn qr_codes_in_a_picture_are_read_and_judged(backend: Backend) {
    use testkit::images::qr::{code_image, vietqr};
    let png = |image: image::GrayImage| {
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let link = png(code_image(
        "https://vietcombank-xacminh.top/dang-nhap",
        600,
        20,
        245,
    ));
    let (app, reply) = reply_to_picture(&backend, link).await;
    assert!(
        reply.contains("Một mã QR: “https://vietcombank-xacminh.top/dang-nhap”"),
        "{reply}"
    );
    assert!(reply.contains("🚨") || reply.contains("⚠️"), "{reply}");
    app.shutdown().await;

    // A transfer QR to Vietcombank (BIN 970436), account 0071000123456.
    let transfer = png(code_image(
        &vietqr("970436", "0071000123456", Some(500_000), None),
        600,
        20,
        245,
    ));
    let (app, reply) = reply_to_picture(&backend, transfer).await;
    assert!(reply.contains("Một mã QR chuyển khoản (VietQR)"), "{reply}");
    assert!(
        reply.contains("0071000123456"),
        "the account is checked: {reply}"
    );
    assert!(fetch_count(&app, "ok").await >= 1.0);
    assert!(metric_value(&app, "tradesphere_image_qr_codes_total").await >= 1.0);
    app.shutdown().await;
}

both_backends!(
    qr_codes_in_a_picture_are_read_and_judged,
    a_screenshot_is_read_and_answered_with_what_it_says,
    a_file_that_is_not_an_image_gets_a_polite_reply_and_is_counted,
    hostile_pictures_end_in_a_polite_reply_and_are_counted,
    an_image_on_a_private_address_is_never_fetched,
    the_daily_image_budget_stops_reading_more,
);
